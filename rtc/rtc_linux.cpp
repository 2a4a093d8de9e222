#include "rtc/rtc_linux.h"

#include <fcntl.h>
#include <linux/rtc.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace strata::rtc {

namespace {

void fill_defaults(RtcSyscalls &sys)
{
	if (!sys.open) {
		sys.open = [](const char *path, int flags) { return ::open(path, flags); };
	}
	if (!sys.ioctl) {
		sys.ioctl = [](int fd, unsigned long request, void *arg) {
			return ::ioctl(fd, request, arg);
		};
	}
	if (!sys.read) {
		sys.read = [](int fd, void *buf, size_t count) { return ::read(fd, buf, count); };
	}
	if (!sys.poll) {
		sys.poll = [](struct pollfd *fds, nfds_t nfds, int timeout_ms) {
			return ::poll(fds, nfds, timeout_ms);
		};
	}
	// sys.close stays as given: empty, UniqueFd closes with close(2).
}

// "Could not read the time of /dev/rtc0 (RTC_RD_TIME)": what failed, on
// which device, through which ioctl.
std::string could_not(std::string_view what, const std::string &path, std::string_view ioctl)
{
	return fmt::format("Could not {} {} ({})", what, path, ioctl);
}

// poll(2) takes whole milliseconds: round up, so that a wait never ends
// before the time asked for, and clamp to what an int holds.
int timeout_ms(Duration timeout)
{
	if (timeout <= Duration::zero()) {
		return 0;
	}
	int64_t ms = (timeout.count() + 999'999) / 1'000'000;
	return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

} // namespace

Result<RtcLinux> RtcLinux::open(std::string path, RtcSyscalls sys)
{
	fill_defaults(sys);
	UniqueFd fd(sys.open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC), sys.close);
	if (!fd.valid()) {
		int err = errno;  // before anything that allocates
		return fail_errno("Could not open " + path, err);
	}
	return RtcLinux(std::move(path), std::move(fd), std::move(sys));
}

RtcLinux &RtcLinux::operator=(RtcLinux &&other) noexcept
{
	if (this != &other) {
		close_fd();
		path_ = std::move(other.path_);
		fd_ = std::move(other.fd_);
		sys_ = std::move(other.sys_);
		uie_on_ = std::exchange(other.uie_on_, false);
	}
	return *this;
}

RtcLinux::~RtcLinux()
{
	close_fd();
}

void RtcLinux::close_fd()
{
	if (!fd_.valid()) {
		return;  // moved from
	}
	// Closing turns the interrupt off too, but a device shared with another
	// open descriptor would keep it: say so explicitly.
	if (uie_on_) {
		sys_.ioctl(fd_.get(), RTC_UIE_OFF, nullptr);
		uie_on_ = false;
	}
	fd_.reset();
}

Result<int64_t> RtcLinux::read_time()
{
	struct rtc_time tm {};
	if (sys_.ioctl(fd_.get(), RTC_RD_TIME, &tm) < 0) {
		int err = errno;
		return fail_errno(could_not("read the time of", path_, "RTC_RD_TIME"), err);
	}
	RtcDateTime t{.year = tm.tm_year + 1900,
		      .month = tm.tm_mon + 1,
		      .day = tm.tm_mday,
		      .hour = tm.tm_hour,
		      .minute = tm.tm_min,
		      .second = tm.tm_sec};
	if (!is_valid(t)) {
		// Printed field by field: an out-of-range month is still readable.
		return fail(Errc::Malformed,
			    fmt::format("{} holds an invalid time "
					"({}-{:02}-{:02} {:02}:{:02}:{:02})",
					path_, t.year, t.month, t.day, t.hour, t.minute, t.second));
	}
	return to_rtc_seconds(t);
}

Result<> RtcLinux::set_time(int64_t rtc_s)
{
	RtcDateTime t = from_rtc_seconds(rtc_s);
	if (!is_valid(t)) {
		return fail(Errc::InvalidArgument,
			    fmt::format("Could not set the time of {}: {} s is outside the years "
					"{}-{}",
					path_, rtc_s, kRtcMinYear, kRtcMaxYear));
	}
	struct rtc_time tm {};
	tm.tm_year = t.year - 1900;
	tm.tm_mon = t.month - 1;
	tm.tm_mday = t.day;
	tm.tm_hour = t.hour;
	tm.tm_min = t.minute;
	tm.tm_sec = t.second;
	// The kernel ignores these, but some drivers store the weekday in the
	// chip, and hwclock fills them: keep the struct consistent.
	tm.tm_wday = weekday(t);
	tm.tm_yday = yearday(t);
	tm.tm_isdst = 0;
	if (sys_.ioctl(fd_.get(), RTC_SET_TIME, &tm) < 0) {
		int err = errno;
		return fail_errno(could_not("set the time of", path_, "RTC_SET_TIME"), err);
	}
	return {};
}

Result<> RtcLinux::enable_update_interrupts()
{
	if (sys_.ioctl(fd_.get(), RTC_UIE_ON, nullptr) < 0) {
		int err = errno;
		return fail_errno(could_not("enable update interrupts of", path_, "RTC_UIE_ON"),
				  err);
	}
	uie_on_ = true;
	return {};
}

Result<> RtcLinux::disable_update_interrupts()
{
	if (sys_.ioctl(fd_.get(), RTC_UIE_OFF, nullptr) < 0) {
		int err = errno;
		return fail_errno(could_not("disable update interrupts of", path_, "RTC_UIE_OFF"),
				  err);
	}
	uie_on_ = false;
	return {};
}

Result<bool> RtcLinux::wait_update(Duration timeout)
{
	struct pollfd pfd {};
	pfd.fd = fd_.get();
	pfd.events = POLLIN;
	int n = sys_.poll(&pfd, 1, timeout_ms(timeout));
	if (n < 0) {
		int err = errno;
		if (err == EINTR) {
			return false;  // a signal: the caller's loop comes back
		}
		return fail_errno("Could not poll " + path_, err);
	}
	if (n == 0) {
		return false;
	}
	if ((pfd.revents & POLLNVAL) != 0) {
		return fail_errno("Could not poll " + path_, EBADF);
	}
	if ((pfd.revents & POLLIN) == 0) {
		// POLLERR or POLLHUP without data: the device went away (unbound driver).
		return fail_errno("Could not poll " + path_, EIO);
	}
	unsigned long data = 0;
	ssize_t got = sys_.read(fd_.get(), &data, sizeof data);
	if (got < 0) {
		int err = errno;
		if (err == EAGAIN || err == EINTR) {
			return false;  // readable a moment ago, drained since: nothing came
		}
		return fail_errno("Could not read " + path_, err);
	}
	if (static_cast<size_t>(got) != sizeof data) {
		return fail(Errc::Malformed,
			    fmt::format("Could not read {}: {} bytes instead of {}", path_, got,
					sizeof data));
	}
	return (data & RTC_UF) != 0;
}

int64_t system_utc_offset(int64_t utc_s)
{
	time_t t = static_cast<time_t>(utc_s);
	struct tm local {};
	if (::localtime_r(&t, &local) == nullptr) {
		return 0;  // out of the C library's range: take the zone as UTC
	}
	return local.tm_gmtoff;
}

} // namespace strata::rtc
