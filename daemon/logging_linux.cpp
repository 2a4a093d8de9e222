#include "daemon/logging_linux.h"

#include <syslog.h>
#include <time.h>

#include <memory>

#include <fmt/format.h>

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

Result<std::unique_ptr<FileLogger>> FileLogger::open(const std::string &path)
{
	std::FILE *f = std::fopen(path.c_str(), "ae");
	if (f == nullptr) {
		return fail_errno("open log file " + path);
	}
	return std::unique_ptr<FileLogger>(new FileLogger(path, f));
}

FileLogger::~FileLogger()
{
	std::fclose(file_);
}

Result<> FileLogger::reopen()
{
	std::FILE *f = std::fopen(path_.c_str(), "ae");
	if (f == nullptr) {
		return fail_errno("open log file " + path_);
	}
	std::fclose(file_);
	file_ = f;
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
