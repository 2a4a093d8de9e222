// The one owner of a file descriptor in strata (libcamera's UniqueFD): every
// class that holds a socket, a device or a pipe holds it as a UniqueFd, so
// that no class writes its own move constructor, move assignment and close
// code, and a descriptor can be closed only once. Move-only: the moved-from
// object owns nothing.
//
// This header is pure; closing is close(2) in unique_fd_linux.cpp (the
// strata_core_linux library), unless the descriptor came from a device seam
// whose tests run against a fake kernel (PpsSyscalls, PhcSyscalls,
// RtcSyscalls): then the seam's close is given as the closer, and the fake's
// descriptors never reach the real close().
#pragma once

#include <functional>
#include <utility>

namespace strata {

class UniqueFd {
public:
	/// Closes a descriptor, returning what close(2) would (0, or −1 and
	/// errno); empty means close(2) itself.
	using Closer = std::function<int(int fd)>;

	/// Owns nothing.
	UniqueFd() noexcept = default;
	/// Owns `fd` (a negative value: nothing), closed with close(2).
	explicit UniqueFd(int fd) noexcept : fd_(fd < 0 ? -1 : fd) {}
	/// Owns `fd`, closed with `closer` (a fake kernel's close in tests).
	UniqueFd(int fd, Closer closer) noexcept : fd_(fd < 0 ? -1 : fd), closer_(std::move(closer)) {}

	UniqueFd(UniqueFd &&other) noexcept : fd_(other.release()), closer_(std::move(other.closer_)) {}
	/// Closes what this owned, then takes `other`'s descriptor and closer.
	UniqueFd &operator=(UniqueFd &&other) noexcept
	{
		if (this != &other) {
			reset();
			fd_ = other.release();
			closer_ = std::move(other.closer_);
		}
		return *this;
	}
	UniqueFd(const UniqueFd &) = delete;
	UniqueFd &operator=(const UniqueFd &) = delete;
	~UniqueFd() { reset(); }

	/// Whether a descriptor is owned.
	bool valid() const noexcept { return fd_ >= 0; }
	/// The descriptor (−1 when none), still owned: do not close it.
	int get() const noexcept { return fd_; }
	/// Gives the descriptor up without closing it: the caller owns it now.
	/// Returns −1 when none was owned.
	[[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
	/// Closes the descriptor owned (if any; a failing close is ignored: the
	/// descriptor is gone either way on Linux), then owns `fd` with the same
	/// closer. Resetting to the descriptor already owned keeps it open.
	void reset(int fd = -1) noexcept;

private:
	int fd_ = -1;
	Closer closer_;
};

} // namespace strata
