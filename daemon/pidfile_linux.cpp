#include "daemon/pidfile_linux.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>

#include <fmt/format.h>

namespace strata::daemon {

Result<PidFile> PidFile::acquire(const std::string &path)
{
	if (path.empty()) {
		return PidFile();
	}
	int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		return fail_errno(fmt::format("Could not open pidfile {}", path));
	}
	if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int err = errno;
		char buffer[32] = {};
		ssize_t n = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
		::close(fd);
		if (err != EWOULDBLOCK) {
			return fail_errno(fmt::format("Could not lock pidfile {}", path), err);
		}
		long pid = 0;
		std::from_chars(buffer, buffer + (n > 0 ? n : 0), pid);
		return fail(Errc::Busy, fmt::format("Another stratad is already running (pid {}, pidfile {})", pid, path));
	}
	std::string text = fmt::format("{}\n", ::getpid());
	if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
		int err = errno;
		::close(fd);
		return fail_errno(fmt::format("Could not write pidfile {}", path), err);
	}
	return PidFile(path, fd);
}

PidFile::~PidFile()
{
	release();
}

PidFile::PidFile(PidFile &&other) noexcept : path_(std::move(other.path_)), fd_(other.fd_)
{
	other.fd_ = -1;
}

PidFile &PidFile::operator=(PidFile &&other) noexcept
{
	if (this != &other) {
		release();
		path_ = std::move(other.path_);
		fd_ = other.fd_;
		other.fd_ = -1;
	}
	return *this;
}

void PidFile::release()
{
	if (fd_ >= 0) {
		::unlink(path_.c_str());
		::close(fd_);
		fd_ = -1;
	}
}

} // namespace strata::daemon
