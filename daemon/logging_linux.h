// Where the daemon's log lines go: stderr with -d (each line stamped with the
// UTC time, as chronyd -d prints it), a file with -l (same format, appended),
// or syslog otherwise (facility daemon, ident "stratad").
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <memory>
#include <string>

#include "core/log.h"
#include "core/result.h"

namespace strata::daemon {

/// "2026-11-25T04:40:01Z message" for a CLOCK_REALTIME reading.
std::string log_timestamp();

/// Writes stamped lines to a stdio stream it does not own (stderr by default).
class StreamLogger final : public Logger {
public:
	explicit StreamLogger(std::FILE *stream = stderr) : stream_(stream) {}

protected:
	void write(LogLevel level, std::string_view message) override;

private:
	std::FILE *stream_;
};

/// Appends stamped lines to a file (chronyd -l); reopen() for log rotation.
class FileLogger final : public Logger {
public:
	static Result<std::unique_ptr<FileLogger>> open(const std::string &path);
	~FileLogger() override;
	/// Opens the path again (after logrotate moved the file away). On failure
	/// the logger keeps writing to the file it had.
	Result<> reopen();
	/// Before the switch to the daemon's user (-u): the file, if this
	/// process created it, is given to the user, who reopens it on SIGHUP.
	/// A file that was there before keeps its owner.
	Result<> give_to(uid_t uid, gid_t gid);
	FileLogger(const FileLogger &) = delete;
	FileLogger &operator=(const FileLogger &) = delete;

protected:
	void write(LogLevel level, std::string_view message) override;

private:
	FileLogger(std::string path, std::FILE *file) : path_(std::move(path)), file_(file) {}
	std::string path_;
	std::FILE *file_;
	bool created_ = false;
};

class SyslogLogger final : public Logger {
public:
	SyslogLogger();
	~SyslogLogger() override;
	SyslogLogger(const SyslogLogger &) = delete;
	SyslogLogger &operator=(const SyslogLogger &) = delete;

protected:
	void write(LogLevel level, std::string_view message) override;
};

} // namespace strata::daemon
