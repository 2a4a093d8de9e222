// RtcDevice on a Linux RTC character device (/dev/rtcN), through the
// linux/rtc.h ioctls:
//
// - RTC_RD_TIME / RTC_SET_TIME: struct rtc_time, years counted from 1900
//   and months from 0 (translated to and from RtcDateTime here, checked on
//   the way in, because an RTC whose battery ran flat can return nonsense);
// - RTC_UIE_ON / RTC_UIE_OFF: the update interrupt, one per RTC second; the
//   kernel emulates it on chips without one (CONFIG_RTC_INTF_DEV_UIE_EMUL)
//   and refuses it (EINVAL) otherwise;
// - read(2) of the fd: one unsigned long per wake-up, the interrupt kinds in
//   its low byte (RTC_UF for an update) and their count above it.
//
// The device is opened non-blocking, so that a read after a spurious poll()
// wake-up returns EAGAIN instead of stalling the event loop.
//
// Every system call goes through RtcSyscalls, so that tests run this code
// against a fake kernel and no RTC is ever touched. Errors name the device
// and the ioctl: "Could not open /dev/rtc0: No such file or directory". The
// adapter does no policy and logs nothing (STYLE.md §5).
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <functional>
#include <string>

#include "core/unique_fd.h"
#include "rtc/rtc_device.h"

namespace strata::rtc {

/// The system calls the adapter makes, with their libc signatures (−1 and
/// errno on failure). Left empty, a member means the real call.
struct RtcSyscalls {
	std::function<int(const char *path, int flags)> open;
	std::function<int(int fd, unsigned long request, void *arg)> ioctl;
	std::function<ssize_t(int fd, void *buf, size_t count)> read;
	std::function<int(struct pollfd *fds, nfds_t nfds, int timeout_ms)> poll;
	std::function<int(int fd)> close;
};

class RtcLinux final : public RtcDevice {
public:
	/// Opens `path` (O_RDWR | O_NONBLOCK | O_CLOEXEC). Errors: those of
	/// open(2), as "Could not open PATH" (ENOENT: no such RTC; EACCES: not
	/// root; EBUSY: another program, such as hwclock, holds it). The caller
	/// then runs without the RTC.
	static Result<RtcLinux> open(std::string path, RtcSyscalls sys = {});

	/// The moved-from object owns nothing and turns nothing off.
	RtcLinux(RtcLinux &&other) noexcept = default;
	/// Turns this one's update interrupt off and closes it first.
	RtcLinux &operator=(RtcLinux &&other) noexcept;
	RtcLinux(const RtcLinux &) = delete;
	RtcLinux &operator=(const RtcLinux &) = delete;
	/// Turns the update interrupt off if this object turned it on, and closes
	/// the device.
	~RtcLinux() override;

	const std::string &path() const override { return path_; }
	int fd() const override { return fd_.get(); }
	Result<int64_t> read_time() override;
	Result<> set_time(int64_t rtc_s) override;
	Result<> enable_update_interrupts() override;
	Result<> disable_update_interrupts() override;
	Result<bool> wait_update(Duration timeout) override;

private:
	RtcLinux(std::string path, UniqueFd fd, RtcSyscalls sys)
		: path_(std::move(path)), fd_(std::move(fd)), sys_(std::move(sys))
	{
	}
	void close_fd();

	std::string path_;
	UniqueFd fd_;  ///< closed with sys_.close; invalid once moved from
	RtcSyscalls sys_;
	bool uie_on_ = false;
};

/// The system's time zone as RtcTimescale wants it (localtime_r's
/// tm_gmtoff at the instant asked), for an RTC on local time.
int64_t system_utc_offset(int64_t utc_s);

} // namespace strata::rtc
