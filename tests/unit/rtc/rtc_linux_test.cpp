// RtcLinux against a fake kernel behind its system-call seam: the ioctl
// numbers, the struct rtc_time translation both ways, the poll/read of
// update interrupts, and every error path. No RTC is touched.
#include "rtc/rtc_linux.h"

#include <fcntl.h>
#include <linux/rtc.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "rtc/fake_rtc.h"
#include "rtc/rtc_service.h"

namespace strata::rtc {
namespace {

using namespace std::chrono_literals;

constexpr int kFd = 7;

// A kernel with one RTC at kFd. Each call is recorded; errors are injected
// per call kind. When `backing` is set, RTC_RD_TIME, RTC_SET_TIME, the
// interrupt ioctls, poll and read are answered by that simulated RTC.
struct FakeKernel {
	struct Ioctl {
		int fd;
		unsigned long request;
	};

	int open_errno = 0;
	std::string opened_path;
	int opened_flags = 0;
	std::vector<Ioctl> ioctls;
	std::map<unsigned long, int> ioctl_errno;
	struct rtc_time time {};                   // what RTC_RD_TIME returns
	std::optional<struct rtc_time> last_set;  // what RTC_SET_TIME got
	int poll_result = 1;
	int poll_errno = 0;
	short poll_revents = POLLIN;
	std::vector<int> poll_timeouts_ms;
	unsigned long read_data = (1ul << 8) | RTC_UF;  // one update interrupt
	ssize_t read_result = sizeof(unsigned long);
	int read_errno = 0;
	int reads = 0;
	std::vector<int> closed;
	FakeRtc *backing = nullptr;

	RtcSyscalls sys()
	{
		return RtcSyscalls{
			.open =
				[this](const char *path, int flags) {
					opened_path = path;
					opened_flags = flags;
					if (open_errno != 0) {
						errno = open_errno;
						return -1;
					}
					return kFd;
				},
			.ioctl = [this](int fd, unsigned long request,
					void *arg) { return ioctl(fd, request, arg); },
			.read =
				[this](int fd, void *buf, size_t count) -> ssize_t {
					EXPECT_EQ(fd, kFd);
					EXPECT_EQ(count, sizeof(unsigned long));
					reads++;
					if (backing != nullptr) {
						auto r = backing->wait_update(Duration::zero());
						if (!r || !*r) {
							errno = EAGAIN;
							return -1;
						}
					} else if (read_errno != 0) {
						errno = read_errno;
						return -1;
					}
					std::memcpy(buf, &read_data, std::min(count, sizeof read_data));
					return read_result;
				},
			.poll =
				[this](struct pollfd *fds, nfds_t nfds, int timeout_ms) {
					EXPECT_EQ(nfds, 1u);
					EXPECT_EQ(fds->fd, kFd);
					EXPECT_EQ(fds->events, POLLIN);
					poll_timeouts_ms.push_back(timeout_ms);
					if (backing != nullptr) {
						fds->revents = backing->pending() ? POLLIN : 0;
						return backing->pending() ? 1 : 0;
					}
					if (poll_errno != 0) {
						errno = poll_errno;
						return -1;
					}
					fds->revents = poll_result > 0 ? poll_revents : 0;
					return poll_result;
				},
			.close =
				[this](int fd) {
					closed.push_back(fd);
					return 0;
				},
		};
	}

	int ioctl(int fd, unsigned long request, void *arg)
	{
		EXPECT_EQ(fd, kFd);
		ioctls.push_back({fd, request});
		if (auto it = ioctl_errno.find(request); it != ioctl_errno.end()) {
			errno = it->second;
			return -1;
		}
		if (request == RTC_RD_TIME) {
			if (backing != nullptr) {
				auto s = backing->read_time();
				if (!s) {
					errno = s.error().code.value();
					return -1;
				}
				RtcDateTime t = from_rtc_seconds(*s);
				time = {};
				time.tm_year = t.year - 1900;
				time.tm_mon = t.month - 1;
				time.tm_mday = t.day;
				time.tm_hour = t.hour;
				time.tm_min = t.minute;
				time.tm_sec = t.second;
			}
			std::memcpy(arg, &time, sizeof time);
		} else if (request == RTC_SET_TIME) {
			struct rtc_time tm {};
			std::memcpy(&tm, arg, sizeof tm);
			last_set = tm;
			if (backing != nullptr) {
				RtcDateTime t{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
					      tm.tm_hour,        tm.tm_min,      tm.tm_sec};
				(void)backing->set_time(to_rtc_seconds(t));
			}
		} else if (request == RTC_UIE_ON || request == RTC_UIE_OFF) {
			EXPECT_EQ(arg, nullptr);
			if (backing != nullptr) {
				(void)(request == RTC_UIE_ON ? backing->enable_update_interrupts()
							     : backing->disable_update_interrupts());
			}
		} else {
			ADD_FAILURE() << "unexpected ioctl " << std::hex << request;
			errno = ENOTTY;
			return -1;
		}
		return 0;
	}

	unsigned long last_request() const { return ioctls.empty() ? 0 : ioctls.back().request; }
};

struct rtc_time make_tm(int year, int mon1, int mday, int hour, int min, int sec)
{
	struct rtc_time tm {};
	tm.tm_year = year - 1900;
	tm.tm_mon = mon1 - 1;
	tm.tm_mday = mday;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	return tm;
}

TEST(RtcLinux, IoctlNumbersAreTheKernelAbi)
{
	// The request numbers are ABI: a wrong direction or size bit and the
	// kernel answers ENOTTY. These are their values on the common
	// architectures (_IOC: 2 direction bits, 14 size bits, type 'p').
	EXPECT_EQ(sizeof(struct rtc_time), 36u);
#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__) || defined(__arm__) || defined(__riscv)
	EXPECT_EQ(static_cast<unsigned long>(RTC_RD_TIME), 0x80247009ul);
	EXPECT_EQ(static_cast<unsigned long>(RTC_SET_TIME), 0x4024700aul);
	EXPECT_EQ(static_cast<unsigned long>(RTC_UIE_ON), 0x7003ul);
	EXPECT_EQ(static_cast<unsigned long>(RTC_UIE_OFF), 0x7004ul);
#endif
	EXPECT_EQ(RTC_UF, 0x10);
}

TEST(RtcLinux, OpensReadWriteNonBlockingCloseOnExec)
{
	FakeKernel k;
	{
		auto rtc = RtcLinux::open("/dev/rtc1", k.sys());
		ASSERT_TRUE(rtc.has_value()) << rtc.error().message();
		EXPECT_EQ(rtc->fd(), kFd);
		EXPECT_EQ(rtc->path(), "/dev/rtc1");
		EXPECT_EQ(k.opened_path, "/dev/rtc1");
		EXPECT_EQ(k.opened_flags, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		EXPECT_TRUE(k.closed.empty());
	}
	EXPECT_EQ(k.closed, std::vector<int>{kFd});
	EXPECT_TRUE(k.ioctls.empty());  // interrupts never turned on: nothing to turn off
}

TEST(RtcLinux, MissingDeviceGivesAClearError)
{
	FakeKernel k;
	k.open_errno = ENOENT;
	auto rtc = RtcLinux::open("/dev/rtc0", k.sys());
	ASSERT_FALSE(rtc.has_value());
	EXPECT_EQ(rtc.error().message(), "Could not open /dev/rtc0: No such file or directory");
	EXPECT_EQ(rtc.error().code, std::errc::no_such_file_or_directory);

	k.open_errno = EACCES;
	rtc = RtcLinux::open("/dev/rtc0", k.sys());
	ASSERT_FALSE(rtc.has_value());
	EXPECT_EQ(rtc.error().message(), "Could not open /dev/rtc0: Permission denied");
	EXPECT_TRUE(k.closed.empty());
}

TEST(RtcLinux, MissingDeviceThroughTheRealOpen)
{
	// The default seam is the real open(2); a path that cannot exist shows
	// that it is wired (no device is opened).
	auto rtc = RtcLinux::open("/nonexistent-strata-test/rtc9");
	ASSERT_FALSE(rtc.has_value());
	EXPECT_EQ(rtc.error().message(), "Could not open /nonexistent-strata-test/rtc9: No such file or directory");
}

TEST(RtcLinux, ReadTimeTranslatesStructRtcTime)
{
	FakeKernel k;
	auto rtc = RtcLinux::open("/dev/rtc0", k.sys());
	ASSERT_TRUE(rtc.has_value());
	k.time = make_tm(2024, 2, 29, 12, 34, 56);
	auto s = rtc->read_time();
	ASSERT_TRUE(s.has_value()) << s.error().message();
	EXPECT_EQ(*s, 1709210096);
	ASSERT_EQ(k.ioctls.size(), 1u);
	EXPECT_EQ(k.ioctls[0].request, static_cast<unsigned long>(RTC_RD_TIME));
	// Past 2038 and before 1970 (an RTC on local time west of Greenwich).
	k.time = make_tm(2038, 1, 19, 3, 14, 8);
	EXPECT_EQ(*rtc->read_time(), 2147483648);
	k.time = make_tm(1969, 12, 31, 23, 59, 59);
	EXPECT_EQ(*rtc->read_time(), -1);
}

TEST(RtcLinux, InvalidTimeFromTheDriverIsAnError)
{
	FakeKernel k;
	auto rtc = RtcLinux::open("/dev/rtc0", k.sys());
	ASSERT_TRUE(rtc.has_value());
	k.time = make_tm(2024, 13, 29, 12, 34, 56);
	auto s = rtc->read_time();
	ASSERT_FALSE(s.has_value());
	EXPECT_EQ(s.error().code, make_error_code(Errc::Malformed));
	EXPECT_EQ(s.error().message(), "/dev/rtc0 holds an invalid time (2024-13-29 12:34:56): malformed data");
	k.time = make_tm(2023, 2, 29, 0, 0, 0);
	EXPECT_FALSE(rtc->read_time().has_value());
	k.time = make_tm(2023, 2, 28, 0, 0, 60);
	EXPECT_FALSE(rtc->read_time().has_value());
	k.time = {};  // all zero: day 0 of January 1900
	EXPECT_FALSE(rtc->read_time().has_value());
}

TEST(RtcLinux, SetTimeFillsStructRtcTime)
{
	FakeKernel k;
	auto rtc = RtcLinux::open("/dev/rtc0", k.sys());
	ASSERT_TRUE(rtc.has_value());
	ASSERT_TRUE(rtc->set_time(1709210096).has_value());
	EXPECT_EQ(k.last_request(), static_cast<unsigned long>(RTC_SET_TIME));
	ASSERT_TRUE(k.last_set.has_value());
	EXPECT_EQ(k.last_set->tm_year, 124);
	EXPECT_EQ(k.last_set->tm_mon, 1);
	EXPECT_EQ(k.last_set->tm_mday, 29);
	EXPECT_EQ(k.last_set->tm_hour, 12);
	EXPECT_EQ(k.last_set->tm_min, 34);
	EXPECT_EQ(k.last_set->tm_sec, 56);
	EXPECT_EQ(k.last_set->tm_wday, 4);  // a Thursday
	EXPECT_EQ(k.last_set->tm_yday, 59);
	EXPECT_EQ(k.last_set->tm_isdst, 0);

	// A time no RTC holds is refused before the kernel sees it.
	k.ioctls.clear();
	auto r = rtc->set_time(253402300800);  // year 10000
	ASSERT_FALSE(r.has_value());
	EXPECT_EQ(r.error().code, make_error_code(Errc::InvalidArgument));
	EXPECT_EQ(r.error().message(),
		  "Could not set the time of /dev/rtc0: 253402300800 s is outside the years 1900-9999: invalid argument");
	EXPECT_TRUE(k.ioctls.empty());
}

TEST(RtcLinux, FailingIoctlsNameTheDeviceAndTheIoctl)
{
	FakeKernel k;
	auto rtc = RtcLinux::open("/dev/rtc0", k.sys());
	ASSERT_TRUE(rtc.has_value());
	k.ioctl_errno[RTC_RD_TIME] = EINVAL;
	k.ioctl_errno[RTC_SET_TIME] = EACCES;
	k.ioctl_errno[RTC_UIE_ON] = ENOTTY;
	k.ioctl_errno[RTC_UIE_OFF] = EIO;

	auto t = rtc->read_time();
	ASSERT_FALSE(t.has_value());
	EXPECT_EQ(t.error().message(), "Could not read the time of /dev/rtc0 (RTC_RD_TIME): Invalid argument");
	auto s = rtc->set_time(1709210096);
	ASSERT_FALSE(s.has_value());
	EXPECT_EQ(s.error().message(), "Could not set the time of /dev/rtc0 (RTC_SET_TIME): Permission denied");
	auto on = rtc->enable_update_interrupts();
	ASSERT_FALSE(on.has_value());
	EXPECT_EQ(on.error().message(),
		  "Could not enable update interrupts of /dev/rtc0 (RTC_UIE_ON): Inappropriate ioctl for device");
	auto off = rtc->disable_update_interrupts();
	ASSERT_FALSE(off.has_value());
	EXPECT_EQ(off.error().message(),
		  "Could not disable update interrupts of /dev/rtc0 (RTC_UIE_OFF): Input/output error");
}

TEST(RtcLinux, UpdateInterruptsOnOffAndOffAtClose)
{
	FakeKernel k;
	{
		auto rtc = RtcLinux::open("/dev/rtc0", k.sys());
		ASSERT_TRUE(rtc.has_value());
		ASSERT_TRUE(rtc->enable_update_interrupts().has_value());
		EXPECT_EQ(k.last_request(), static_cast<unsigned long>(RTC_UIE_ON));
		ASSERT_TRUE(rtc->disable_update_interrupts().has_value());
		EXPECT_EQ(k.last_request(), static_cast<unsigned long>(RTC_UIE_OFF));
		ASSERT_TRUE(rtc->enable_update_interrupts().has_value());
		// Moving keeps one owner: the moved-from object closes nothing.
		RtcLinux moved = std::move(*rtc);
		EXPECT_EQ(moved.fd(), kFd);
		EXPECT_EQ(rtc->fd(), -1);
		k.ioctls.clear();
	}
	// Left on: turned off before the close, once.
	ASSERT_EQ(k.ioctls.size(), 1u);
	EXPECT_EQ(k.ioctls[0].request, static_cast<unsigned long>(RTC_UIE_OFF));
	EXPECT_EQ(k.closed, std::vector<int>{kFd});
}

TEST(RtcLinux, WaitUpdatePollsThenReads)
{
	FakeKernel k;
	auto rtc = RtcLinux::open("/dev/rtc0", k.sys());
	ASSERT_TRUE(rtc.has_value());

	// An update interrupt.
	auto r = rtc->wait_update(Duration::zero());
	ASSERT_TRUE(r.has_value()) << r.error().message();
	EXPECT_TRUE(*r);
	EXPECT_EQ(k.reads, 1);
	// Timeouts in whole milliseconds, rounded up, never negative.
	ASSERT_TRUE(rtc->wait_update(1500us).has_value());
	ASSERT_TRUE(rtc->wait_update(2500ms).has_value());
	ASSERT_TRUE(rtc->wait_update(-1s).has_value());
	EXPECT_EQ(k.poll_timeouts_ms, (std::vector<int>{0, 2, 2500, 0}));

	// Only an alarm interrupt: not an update.
	k.read_data = (1ul << 8) | RTC_AF;
	EXPECT_FALSE(*rtc->wait_update(Duration::zero()));
	// Several updates counted in the high bytes: still one "update came".
	k.read_data = (3ul << 8) | RTC_UF | RTC_IRQF;
	EXPECT_TRUE(*rtc->wait_update(Duration::zero()));

	// Nothing within the timeout: no read at all.
	int reads = k.reads;
	k.poll_result = 0;
	EXPECT_FALSE(*rtc->wait_update(1s));
	EXPECT_EQ(k.reads, reads);

	// Readable, but drained meanwhile (O_NONBLOCK): no update, no error.
	k.poll_result = 1;
	k.read_errno = EAGAIN;
	r = rtc->wait_update(Duration::zero());
	ASSERT_TRUE(r.has_value());
	EXPECT_FALSE(*r);
	// A signal during poll: no update, no error.
	k.poll_errno = EINTR;
	r = rtc->wait_update(1s);
	ASSERT_TRUE(r.has_value());
	EXPECT_FALSE(*r);
}

TEST(RtcLinux, WaitUpdateErrors)
{
	FakeKernel k;
	auto rtc = RtcLinux::open("/dev/rtc0", k.sys());
	ASSERT_TRUE(rtc.has_value());

	k.read_errno = ENODEV;
	auto r = rtc->wait_update(Duration::zero());
	ASSERT_FALSE(r.has_value());
	EXPECT_EQ(r.error().message(), "Could not read /dev/rtc0: No such device");

	k.read_errno = 0;
	// A short read: fewer bytes than the unsigned long the kernel hands out
	// (8 bytes on amd64 and arm64, 4 on armhf, whose 4 are a whole word).
	k.read_result = sizeof(unsigned long) - 1;
	r = rtc->wait_update(Duration::zero());
	ASSERT_FALSE(r.has_value());
	EXPECT_EQ(r.error().code, make_error_code(Errc::Malformed));
	EXPECT_EQ(r.error().context, fmt::format("Could not read /dev/rtc0: {} bytes instead of {}",
						 sizeof(unsigned long) - 1, sizeof(unsigned long)));

	k.poll_revents = POLLERR | POLLHUP;
	r = rtc->wait_update(Duration::zero());
	ASSERT_FALSE(r.has_value());
	EXPECT_EQ(r.error().message(), "Could not poll /dev/rtc0: Input/output error");

	k.poll_errno = EFAULT;
	r = rtc->wait_update(Duration::zero());
	ASSERT_FALSE(r.has_value());
	EXPECT_EQ(r.error().message(), "Could not poll /dev/rtc0: Bad address");
}

TEST(RtcLinux, ServiceTracksASimulatedRtcThroughTheAdapter)
{
	// The whole path: RtcService → RtcLinux → fake kernel → simulated RTC
	// 2.25 s ahead and 20 ppm fast. The adapter's struct rtc_time
	// translation, both ways, decides whether the offset comes out right.
	const RealTime start = RealTime::from_parts(1'800'000'000, 0);
	FakeRtc sim({.start = start, .offset_s = 2.25, .drift_ppm = 20});
	FakeKernel k;
	k.backing = &sim;
	auto rtc = RtcLinux::open("/dev/rtc0", k.sys());
	ASSERT_TRUE(rtc.has_value());
	NullLogger log;
	std::vector<std::string> writes;
	RtcServiceConfig config{.rtcfile = "/var/lib/strata/rtc", .autotrim_threshold_s = 1, .min_samples = 4};
	RtcService svc(config, *rtc,
		       [&](std::string_view text) -> Result<> {
			       writes.emplace_back(text);
			       return {};
		       },
		       log);
	auto timer = svc.start();
	ASSERT_TRUE(timer.has_value()) << timer.error().message();
	RealTime timer_at = sim.now() + *timer;
	// Simulated time, event by event: each interrupt is seen 50 µs late.
	while (sim.now() < start + 6h) {
		bool flowing = sim.interrupts_flowing();
		RealTime irq = flowing ? sim.next_boundary_after(sim.now()) + 50us : timer_at;
		if (!flowing || timer_at < irq) {
			sim.advance_to(timer_at);
			timer_at = sim.now() + svc.on_timer(sim.now());
		} else {
			sim.advance_to(irq);
			if (auto d = svc.on_readable(sim.now())) {
				timer_at = sim.now() + *d;
			}
		}
	}
	// Trimmed through RTC_SET_TIME (2 s back, at a second boundary), then
	// tracked through RTC_RD_TIME.
	ASSERT_EQ(sim.set_values().size(), 1u);
	EXPECT_NEAR(sim.offset_now(), 0.25 + 20e-6 * to_seconds(sim.now() - start), 1e-3);
	auto m = svc.model();
	ASSERT_TRUE(m.has_value());
	EXPECT_NEAR(m->fast_at(sim.now()), sim.offset_now(), 1e-4);
	EXPECT_NEAR(m->drift_ppm, 20, 0.1);
	EXPECT_FALSE(writes.empty());
}

} // namespace
} // namespace strata::rtc
