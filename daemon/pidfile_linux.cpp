#include "daemon/pidfile_linux.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>

#include <fmt/format.h>

#include "daemon/file_open_linux.h"

namespace strata::daemon {

Result<PidFile> PidFile::acquire(const std::string &path)
{
	if (path.empty()) {
		return PidFile();
	}
	auto opened = open_regular(path, O_RDWR | O_CREAT, 0644);
	if (!opened) {
		return tl::unexpected(Error{opened.error().code, "Could not open pidfile " + opened.error().context});
	}
	UniqueFd fd = std::move(*opened);
	if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
		int err = errno;
		char buffer[32] = {};
		ssize_t n = ::pread(fd.get(), buffer, sizeof(buffer) - 1, 0);
		if (err != EWOULDBLOCK) {
			return fail_errno(fmt::format("Could not lock pidfile {}", path), err);
		}
		long pid = 0;
		std::from_chars(buffer, buffer + (n > 0 ? n : 0), pid);
		return fail(Errc::Busy, fmt::format("Another stratad is already running (pid {}, pidfile {})", pid, path));
	}
	std::string text = fmt::format("{}\n", ::getpid());
	if (::ftruncate(fd.get(), 0) != 0 ||
	    ::pwrite(fd.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
		return fail_errno(fmt::format("Could not write pidfile {}", path));
	}
	return PidFile(path, std::move(fd));
}

PidFile::~PidFile()
{
	release();
}

PidFile &PidFile::operator=(PidFile &&other) noexcept
{
	if (this != &other) {
		release();
		path_ = std::move(other.path_);
		fd_ = std::move(other.fd_);
	}
	return *this;
}

void PidFile::release()
{
	if (fd_.valid()) {
		::unlink(path_.c_str());
		fd_.reset();
	}
}

} // namespace strata::daemon
