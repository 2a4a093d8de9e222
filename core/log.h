// Logging. Modules that report events take a Logger& from their owner
// (no global logger); the daemon decides where lines go (stderr with -d,
// syslog otherwise, or a file with -l) and which levels pass (-L).
//
// Lines are short and say what happened to what, in chronyd's words where
// users grep for them: "Selected source 192.168.1.1".
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace strata {

/// Severities, numbered as chronyd's -L option numbers them (debug below 0).
enum class LogLevel { Debug = -1, Info = 0, Warning = 1, Error = 2, Fatal = 3 };

std::string_view to_string(LogLevel level);

class Logger {
public:
	virtual ~Logger() = default;

	/// Messages below this level are dropped before formatting.
	void set_min_level(LogLevel level) { min_level_ = level; }
	LogLevel min_level() const { return min_level_; }
	bool enabled(LogLevel level) const { return level >= min_level_; }

	void log(LogLevel level, std::string_view message)
	{
		if (enabled(level)) {
			write(level, message);
		}
	}

	template <class... Args>
	void debug(fmt::format_string<Args...> f, Args &&...args)
	{
		emit(LogLevel::Debug, f, std::forward<Args>(args)...);
	}
	template <class... Args>
	void info(fmt::format_string<Args...> f, Args &&...args)
	{
		emit(LogLevel::Info, f, std::forward<Args>(args)...);
	}
	template <class... Args>
	void warning(fmt::format_string<Args...> f, Args &&...args)
	{
		emit(LogLevel::Warning, f, std::forward<Args>(args)...);
	}
	template <class... Args>
	void error(fmt::format_string<Args...> f, Args &&...args)
	{
		emit(LogLevel::Error, f, std::forward<Args>(args)...);
	}
	template <class... Args>
	void fatal(fmt::format_string<Args...> f, Args &&...args)
	{
		emit(LogLevel::Fatal, f, std::forward<Args>(args)...);
	}

protected:
	/// Writes one line (no trailing newline in `message`). Must not block for
	/// long: it runs on the event loop.
	virtual void write(LogLevel level, std::string_view message) = 0;

private:
	template <class... Args>
	void emit(LogLevel level, fmt::format_string<Args...> f, Args &&...args)
	{
		if (enabled(level)) {
			write(level, fmt::format(f, std::forward<Args>(args)...));
		}
	}

	LogLevel min_level_ = LogLevel::Info;
};

/// A Logger that drops everything, for code paths where nobody listens.
class NullLogger final : public Logger {
protected:
	void write(LogLevel, std::string_view) override {}
};

} // namespace strata
