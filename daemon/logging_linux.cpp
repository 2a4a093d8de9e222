#include "daemon/logging_linux.h"

#include <fcntl.h>
#include <unistd.h>
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
/// `created`: the file did not exist and this call made it.
Result<std::FILE *> open_append(const std::string &path, bool *created = nullptr)
{
	auto fd = open_regular(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL, 0644);
	if (created != nullptr) {
		*created = fd.has_value();
	}
	if (!fd && fd.error().code == std::errc::file_exists) {
		fd = open_regular(path, O_WRONLY | O_APPEND);
	}
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
	bool created = false;
	auto f = open_append(path, &created);
	if (!f) {
		return tl::unexpected(f.error());
	}
	auto logger = std::unique_ptr<FileLogger>(new FileLogger(path, *f));
	logger->created_ = created;
	return logger;
}

Result<> FileLogger::give_to(uid_t uid, gid_t gid)
{
	if (created_ && ::fchown(::fileno(file_), uid, gid) != 0) {
		return fail_errno("chown log file " + path_);
	}
	return {};
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
