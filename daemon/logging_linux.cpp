#include "daemon/logging_linux.h"

#include <fcntl.h>
#include <syslog.h>
#include <time.h>

#include <memory>

#include <fmt/format.h>

#include "daemon/file_open_linux.h"

namespace strata::daemon {

namespace {

std::string line(LogLevel level, std::string_view message)
{
	std::string_view prefix = level == LogLevel::Fatal ? "Fatal error : " : "";
	return fmt::format("{} {}{}\n", log_timestamp(), prefix, message);
}

} // namespace

std::string log_timestamp()
{
	timespec ts{};
	::clock_gettime(CLOCK_REALTIME, &ts);
	tm utc{};
	::gmtime_r(&ts.tv_sec, &utc);
	return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
			   utc.tm_hour, utc.tm_min, utc.tm_sec);
}

void StreamLogger::write(LogLevel level, std::string_view message)
{
	std::string text = line(level, message);
	std::fwrite(text.data(), 1, text.size(), stream_);
	std::fflush(stream_);
}

namespace {

/// The -l file, appended to: never through a link planted in its place.
Result<std::FILE *> open_append(const std::string &path)
{
	auto fd = open_regular(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (!fd) {
		return tl::unexpected(Error{fd.error().code, "open log file " + fd.error().context});
	}
	std::FILE *f = ::fdopen(fd->get(), "a");
	if (f == nullptr) {
		return fail_errno("open log file " + path);
	}
	(void)fd->release();
	return f;
}

} // namespace

Result<std::unique_ptr<FileLogger>> FileLogger::open(const std::string &path)
{
	auto f = open_append(path);
	if (!f) {
		return tl::unexpected(f.error());
	}
	return std::unique_ptr<FileLogger>(new FileLogger(path, *f));
}

FileLogger::~FileLogger()
{
	std::fclose(file_);
}

Result<> FileLogger::reopen()
{
	auto f = open_append(path_);
	if (!f) {
		return tl::unexpected(f.error());
	}
	std::fclose(file_);
	file_ = *f;
	return {};
}

void FileLogger::write(LogLevel level, std::string_view message)
{
	std::string text = line(level, message);
	std::fwrite(text.data(), 1, text.size(), file_);
	std::fflush(file_);
}

SyslogLogger::SyslogLogger()
{
	::openlog("stratad", LOG_PID, LOG_DAEMON);
}

SyslogLogger::~SyslogLogger()
{
	::closelog();
}

void SyslogLogger::write(LogLevel level, std::string_view message)
{
	int priority = LOG_INFO;
	switch (level) {
	case LogLevel::Debug:
		priority = LOG_DEBUG;
		break;
	case LogLevel::Info:
		priority = LOG_INFO;
		break;
	case LogLevel::Warning:
		priority = LOG_WARNING;
		break;
	case LogLevel::Error:
		priority = LOG_ERR;
		break;
	case LogLevel::Fatal:
		priority = LOG_CRIT;
		break;
	}
	::syslog(priority, "%.*s", static_cast<int>(message.size()), message.data());
}

} // namespace strata::daemon
