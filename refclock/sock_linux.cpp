#include "refclock/sock_linux.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <span>
#include <utility>

#include <fmt/format.h>

#include "refclock/sock.h"

namespace strata::refclock {

// strata itself has a 64-bit time_t on every architecture (on 32-bit ones
// through -D_TIME_BITS=64, cmake/StrataTargets.cmake): its own struct
// timeval is SockSample64's, while a sender may have either (refclock/sock.h).
static_assert(sizeof(timeval::tv_sec) == sizeof(SockSample64::tv_sec) &&
	      sizeof(timeval) == offsetof(SockSample64, offset));

namespace {

/// Larger than any good datagram, so that a long one is seen as long.
constexpr size_t kReceiveBuffer = 256;

} // namespace

Result<SockRefclock> SockRefclock::open(std::string path, Logger &log)
{
	sockaddr_un address{};
	address.sun_family = AF_UNIX;
	if (path.empty() || path.size() >= sizeof(address.sun_path)) {
		return fail_errno(fmt::format("SOCK path '{}'", path),
				  path.empty() ? ENOENT : ENAMETOOLONG);
	}
	std::memcpy(address.sun_path, path.c_str(), path.size() + 1);

	struct stat st {};
	if (::lstat(path.c_str(), &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			return fail_errno(fmt::format("{} exists and is not a socket", path),
					  EEXIST);
		}
		if (::unlink(path.c_str()) != 0) {
			return fail_errno(fmt::format("Could not remove stale socket {}", path));
		}
	}

	// Flags set with fcntl() rather than in socket()'s type, as for the NTP
	// sockets, for LD_PRELOAD simulators that intercept only the plain calls.
	UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM, 0));
	if (!fd.valid()) {
		return fail_errno("socket(AF_UNIX)");
	}
	if (::fcntl(fd.get(), F_SETFD, FD_CLOEXEC) != 0 || ::fcntl(fd.get(), F_SETFL, O_NONBLOCK) != 0) {
		return fail_errno("fcntl");
	}
	if (::bind(fd.get(), reinterpret_cast<const sockaddr *>(&address), sizeof(address)) != 0) {
		return fail_errno(fmt::format("Could not bind {}", path));
	}
	if (::lstat(path.c_str(), &st) != 0) {
		return fail_errno(fmt::format("stat {}", path));
	}
	return SockRefclock(std::move(fd), std::move(path), st.st_dev, st.st_ino, log);
}

SockRefclock &SockRefclock::operator=(SockRefclock &&other) noexcept
{
	if (this != &other) {
		close_and_unlink();
		fd_ = std::move(other.fd_);
		path_ = std::move(other.path_);
		name_ = std::move(other.name_);
		dev_ = other.dev_;
		ino_ = other.ino_;
		log_ = other.log_;
		bad_log_ = other.bad_log_;
		stats_ = other.stats_;
	}
	return *this;
}

SockRefclock::~SockRefclock()
{
	close_and_unlink();
}

void SockRefclock::close_and_unlink()
{
	if (!fd_.valid()) {
		return;  // moved from
	}
	struct stat st {};
	bool ours = ::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == dev_ &&
		    st.st_ino == ino_;
	if (ours) {
		::unlink(path_.c_str());
	}
	fd_.reset();
}

Result<std::optional<RawSample>> SockRefclock::receive(MonoTime now)
{
	std::array<std::byte, kReceiveBuffer> buffer;
	for (int i = 0; i < kMaxDatagramsPerCall; i++) {
		// MSG_TRUNC: the datagram's real length, even when it is longer
		// than the buffer (Linux 3.4 and later for Unix sockets).
		ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), MSG_TRUNC);
		if (n < 0) {
			int err = errno;
			if (err == EAGAIN || err == EWOULDBLOCK) {
				return std::nullopt;
			}
			if (err == EINTR) {
				continue;
			}
			stats_.errors++;
			return fail_errno(fmt::format("recv {}", path_), err);
		}
		auto length = static_cast<size_t>(n);
		SockReject why = SockReject::None;
		std::string detail;
		std::optional<RawSample> sample;
		if (length > buffer.size()) {
			why = SockReject::WrongSize;
			detail = sock_size_detail(length);
		} else {
			std::span<const std::byte> datagram(buffer.data(), length);
			sample = parse_sock(datagram, why, &detail);
		}
		if (sample) {
			stats_.samples++;
			return sample;
		}
		stats_.bad++;
		bad_log_.report(*log_, now, name_, fmt::format("{} ({})", to_string(why), detail));
	}
	return std::nullopt;
}

} // namespace strata::refclock
