// The kernel PPS adapter against a fake PPS subsystem (fake_pps.h): setting
// up capture of either edge, pulses, polls with no new pulse, missed and
// impossible pulses, and a device that is missing at start or goes away and
// comes back. No real device is touched.
#include "refclock/pps_linux.h"

#include <linux/pps.h>

#include <gtest/gtest.h>

#include "tests/unit/refclock/fake_pps.h"
#include "tests/fakes/recording_logger.h"

namespace strata::refclock {
namespace {

using namespace std::chrono_literals;

const std::string kPath = "/dev/pps0";
const MonoTime kT0 = MonoTime{} + 100s;
const RealTime kSecond = RealTime::from_parts(1'700'000'000, 0);

TEST(PpsRefclock, DeliversAssertEdgesAsPulses)
{
	FakePps fake;
	FakePps::Device &dev = fake.add(kPath);
	RecordingLogger log;
	fake.pulse(kPath, kSecond - 1s + 300ns);  // before open: old news
	auto pps = PpsRefclock::open(kPath, PpsEdge::Assert, log, fake.syscalls());
	ASSERT_TRUE(pps.has_value()) << pps.error().message();
	EXPECT_TRUE(pps->is_open());
	EXPECT_EQ(pps->name(), "PPS /dev/pps0");
	// pps-gpio captures assert already: no SETPARAMS, no CAP_SYS_TIME needed.
	EXPECT_EQ(dev.setparams_calls, 0);
	EXPECT_FALSE(pps->poll(kT0).has_value());

	fake.pulse(kPath, kSecond + 1200ns);  // 1.2 µs late
	auto s = pps->poll(kT0 + 1s);
	ASSERT_TRUE(s.has_value());
	EXPECT_TRUE(s->pulse);
	EXPECT_EQ(s->local, kSecond + 1200ns);
	EXPECT_EQ(s->reference, kSecond);
	EXPECT_DOUBLE_EQ(s->offset_s(), -1.2e-6);
	EXPECT_EQ(s->leap, Leap::None);

	fake.pulse(kPath, kSecond + 1s - 800ns);  // 0.8 µs early: the next second
	s = pps->poll(kT0 + 2s);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->reference, kSecond + 1s);
	EXPECT_DOUBLE_EQ(s->offset_s(), 0.8e-6);

	EXPECT_EQ(pps->stats().pulses, 2u);
	EXPECT_EQ(pps->stats().missed, 0u);
	EXPECT_EQ(pps->stats().errors, 0u);
	EXPECT_EQ(log.count(LogLevel::Warning), 0u);
}

TEST(PpsRefclock, RepeatedFetchWithoutNewPulseGivesNothing)
{
	FakePps fake;
	FakePps::Device &dev = fake.add(kPath);
	RecordingLogger log;
	auto pps = PpsRefclock::open(kPath, PpsEdge::Assert, log, fake.syscalls());
	ASSERT_TRUE(pps.has_value());
	fake.pulse(kPath, kSecond + 5us);
	ASSERT_TRUE(pps->poll(kT0).has_value());
	int fetches = dev.fetch_calls;
	for (int i = 1; i <= 5; i++) {
		EXPECT_FALSE(pps->poll(kT0 + i * 200ms).has_value()) << i;
	}
	EXPECT_EQ(dev.fetch_calls, fetches + 5);  // each poll asks, none waits
	EXPECT_EQ(pps->stats().pulses, 1u);
	EXPECT_EQ(pps->stats().missed, 0u);
}

TEST(PpsRefclock, ClearEdgeIsTurnedOnKeepingTheOtherBits)
{
	FakePps fake;
	FakePps::Device &dev = fake.add(kPath);
	RecordingLogger log;
	auto pps = PpsRefclock::open(kPath, PpsEdge::Clear, log, fake.syscalls());
	ASSERT_TRUE(pps.has_value()) << pps.error().message();
	EXPECT_EQ(pps->name(), "PPS /dev/pps0:clear");
	EXPECT_EQ(dev.setparams_calls, 1);
	EXPECT_EQ(dev.mode, PPS_CAPTUREASSERT | PPS_CAPTURECLEAR | PPS_OFFSETASSERT |
				    PPS_TSFMT_TSPEC);

	fake.pulse(kPath, kSecond + 100ms);               // assert: not ours
	fake.pulse(kPath, kSecond + 200ms + 40ns, true);  // the end of a 200 ms pulse
	auto s = pps->poll(kT0);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->local, kSecond + 200ms + 40ns);
	EXPECT_EQ(s->reference, kSecond);
	EXPECT_FALSE(pps->poll(kT0 + 500ms).has_value());
	fake.pulse(kPath, kSecond + 1s + 100ms);  // assert again: still nothing
	EXPECT_FALSE(pps->poll(kT0 + 1s).has_value());
	EXPECT_EQ(pps->stats().pulses, 1u);
}

TEST(PpsRefclock, UnsupportedEdgeFailsOpen)
{
	FakePps fake;
	FakePps::Device &dev = fake.add(kPath);
	dev.caps = PPS_CAPTUREASSERT | PPS_OFFSETASSERT | PPS_CANWAIT | PPS_TSFMT_TSPEC;
	RecordingLogger log;
	auto pps = PpsRefclock::open(kPath, PpsEdge::Clear, log, fake.syscalls());
	ASSERT_FALSE(pps.has_value());
	EXPECT_EQ(pps.error().code, Errc::Unsupported);
	EXPECT_EQ(pps.error().context, "/dev/pps0 cannot capture clear edges (it captures assert)");
	EXPECT_EQ(fake.open_fds(), 0);
	EXPECT_EQ(dev.setparams_calls, 0);
}

TEST(PpsRefclock, SetparamsWithoutPrivilegeFailsOpen)
{
	FakePps fake;
	fake.add(kPath);
	fake.cap_sys_time = false;
	RecordingLogger log;
	auto pps = PpsRefclock::open(kPath, PpsEdge::Clear, log, fake.syscalls());
	ASSERT_FALSE(pps.has_value());
	EXPECT_EQ(pps.error().code, std::errc::operation_not_permitted);
	EXPECT_NE(pps.error().context.find("CAP_SYS_TIME"), std::string::npos);
	EXPECT_EQ(fake.open_fds(), 0);

	// Assert needs no SETPARAMS on this device, so no privilege either.
	auto assert_pps = PpsRefclock::open(kPath, PpsEdge::Assert, log, fake.syscalls());
	EXPECT_TRUE(assert_pps.has_value());
}

TEST(PpsRefclock, NotAPpsDeviceFailsOpen)
{
	FakePps fake;
	fake.add(kPath);
	RecordingLogger log;
	PpsSyscalls sys = fake.syscalls();
	sys.ioctl = [](int, unsigned long, void *) {
		errno = ENOTTY;
		return -1;
	};
	auto pps = PpsRefclock::open(kPath, PpsEdge::Assert, log, sys);
	ASSERT_FALSE(pps.has_value());
	EXPECT_EQ(pps.error().message(), "PPS_GETCAP /dev/pps0: Inappropriate ioctl for device");
	EXPECT_EQ(fake.open_fds(), 0);
}

TEST(PpsRefclock, CountsMissedPulses)
{
	FakePps fake;
	fake.add(kPath);
	RecordingLogger log;
	auto pps = PpsRefclock::open(kPath, PpsEdge::Assert, log, fake.syscalls());
	ASSERT_TRUE(pps.has_value());
	fake.pulse(kPath, kSecond + 1us);
	ASSERT_TRUE(pps->poll(kT0).has_value());
	// The loop stalled for four seconds: three pulses were overwritten.
	for (int i = 1; i <= 4; i++) {
		fake.pulse(kPath, kSecond + i * 1s + 2us);
	}
	auto s = pps->poll(kT0 + 4s);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->local, kSecond + 4s + 2us);  // the last one
	EXPECT_EQ(pps->stats().missed, 3u);
	EXPECT_EQ(pps->stats().pulses, 2u);
}

TEST(PpsRefclock, SequenceNumberWrapsWithoutMisses)
{
	FakePps fake;
	FakePps::Device &dev = fake.add(kPath);
	dev.info.assert_sequence = 0xffffffffu;
	RecordingLogger log;
	auto pps = PpsRefclock::open(kPath, PpsEdge::Assert, log, fake.syscalls());
	ASSERT_TRUE(pps.has_value());
	fake.pulse(kPath, kSecond + 1us);  // sequence 0
	ASSERT_TRUE(pps->poll(kT0).has_value());
	EXPECT_EQ(pps->stats().missed, 0u);
}

TEST(PpsRefclock, MissingAtStartThenAppearing)
{
	FakePps fake;
	RecordingLogger log;
	auto pps = PpsRefclock::open(kPath, PpsEdge::Assert, log, fake.syscalls());
	ASSERT_TRUE(pps.has_value()) << "a missing device is retried, not an error";
	EXPECT_FALSE(pps->is_open());
	ASSERT_EQ(log.count(LogLevel::Warning), 1u);
	EXPECT_EQ(log.last(LogLevel::Warning),
		  "PPS /dev/pps0: Could not open /dev/pps0: No such file or directory; trying "
		  "again at every poll");

	for (int i = 0; i < 5; i++) {
		EXPECT_FALSE(pps->poll(kT0 + i * 1s).has_value());
	}
	EXPECT_EQ(log.count(LogLevel::Warning), 1u);  // said once
	EXPECT_EQ(fake.open_calls, 6);

	fake.add(kPath);
	fake.pulse(kPath, kSecond + 1us);  // before the device was opened: skipped
	EXPECT_FALSE(pps->poll(kT0 + 5s).has_value());
	EXPECT_TRUE(pps->is_open());
	EXPECT_EQ(log.last(LogLevel::Info), "PPS /dev/pps0: device opened");
	EXPECT_EQ(pps->stats().reopened, 1u);
	fake.pulse(kPath, kSecond + 1s + 1us);
	auto s = pps->poll(kT0 + 6s);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->local, kSecond + 1s + 1us);
	EXPECT_EQ(log.count(LogLevel::Warning), 1u);
}

TEST(PpsRefclock, DeviceDisappearingIsClosedAndReopened)
{
	FakePps fake;
	fake.add(kPath);
	RecordingLogger log;
	auto pps = PpsRefclock::open(kPath, PpsEdge::Assert, log, fake.syscalls());
	ASSERT_TRUE(pps.has_value());
	fake.pulse(kPath, kSecond + 1us);
	ASSERT_TRUE(pps->poll(kT0).has_value());

	fake.remove(kPath);
	EXPECT_FALSE(pps->poll(kT0 + 1s).has_value());
	EXPECT_FALSE(pps->is_open());
	EXPECT_EQ(fake.open_fds(), 0) << "a vanished device's fd is closed";
	ASSERT_EQ(log.count(LogLevel::Warning), 1u);
	EXPECT_EQ(log.last(LogLevel::Warning),
		  "PPS /dev/pps0: device lost (PPS_FETCH: No such device); opening it again at "
		  "every poll");
	for (int i = 2; i < 10; i++) {
		EXPECT_FALSE(pps->poll(kT0 + i * 1s).has_value());
	}
	EXPECT_EQ(log.count(LogLevel::Warning), 1u);

	// Registered again: its sequence numbers start over at 0.
	fake.add(kPath);
	EXPECT_FALSE(pps->poll(kT0 + 10s).has_value());
	EXPECT_TRUE(pps->is_open());
	EXPECT_EQ(log.last(LogLevel::Info), "PPS /dev/pps0: device opened");
	fake.pulse(kPath, kSecond + 11s + 3us);
	auto s = pps->poll(kT0 + 11s);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->local, kSecond + 11s + 3us);
	EXPECT_EQ(pps->stats().reopened, 1u);
	EXPECT_EQ(pps->stats().missed, 0u);
	EXPECT_EQ(pps->stats().pulses, 2u);

	// Lost again: said again.
	fake.remove(kPath);
	EXPECT_FALSE(pps->poll(kT0 + 12s).has_value());
	EXPECT_EQ(log.count(LogLevel::Warning), 2u);
}

TEST(PpsRefclock, FailingFetchIsSaidOnceAndKeepsTheDevice)
{
	FakePps fake;
	fake.add(kPath);
	RecordingLogger log;
	auto pps = PpsRefclock::open(kPath, PpsEdge::Assert, log, fake.syscalls());
	ASSERT_TRUE(pps.has_value());
	fake.fail_fetch = EINVAL;
	for (int i = 0; i < 3; i++) {
		EXPECT_FALSE(pps->poll(kT0 + i * 1s).has_value());
	}
	EXPECT_TRUE(pps->is_open());
	EXPECT_EQ(pps->stats().errors, 3u);
	ASSERT_EQ(log.count(LogLevel::Warning), 1u);
	EXPECT_EQ(log.last(LogLevel::Warning), "PPS /dev/pps0: PPS_FETCH failed: Invalid argument");
	fake.fail_fetch = 0;
	fake.pulse(kPath, kSecond + 1us);
	EXPECT_TRUE(pps->poll(kT0 + 3s).has_value());
	EXPECT_EQ(log.last(LogLevel::Info), "PPS /dev/pps0: PPS_FETCH works again");

	fake.fail_fetch = EIO;  // the device is going away: closed
	EXPECT_FALSE(pps->poll(kT0 + 4s).has_value());
	EXPECT_FALSE(pps->is_open());
}

TEST(PpsRefclock, GarbageTimestampsAreCountedNotDelivered)
{
	FakePps fake;
	fake.add(kPath);
	RecordingLogger log;
	auto pps = PpsRefclock::open(kPath, PpsEdge::Assert, log, fake.syscalls());
	ASSERT_TRUE(pps.has_value());

	fake.raw_pulse(kPath, 1'700'000'001, 1'000'000'000);  // nsec = 1e9
	EXPECT_FALSE(pps->poll(kT0).has_value());
	fake.raw_pulse(kPath, 1'700'000'002, -5);  // negative nsec
	EXPECT_FALSE(pps->poll(kT0 + 1s).has_value());
	fake.raw_pulse(kPath, -3, 0);  // before 1970
	EXPECT_FALSE(pps->poll(kT0 + 2s).has_value());
	EXPECT_EQ(pps->stats().bad, 3u);
	EXPECT_EQ(pps->stats().pulses, 0u);
	ASSERT_EQ(log.count(LogLevel::Warning), 1u);  // at most once a minute
	EXPECT_EQ(log.last(LogLevel::Warning),
		  "PPS /dev/pps0: bad sample ignored: time stamp 1700000001.1000000000 "
		  "(sequence 1)");

	// A good pulse after them is delivered; the next minute logs again.
	fake.pulse(kPath, kSecond + 3s + 1us);
	EXPECT_TRUE(pps->poll(kT0 + 3s).has_value());
	fake.raw_pulse(kPath, 1'700'000'004, 2'000'000'000);
	EXPECT_FALSE(pps->poll(kT0 + 61s).has_value());
	EXPECT_EQ(log.count(LogLevel::Warning), 2u);
	EXPECT_EQ(pps->stats().bad, 4u);
}

TEST(PpsRefclock, MovesKeepOneOpenFd)
{
	FakePps fake;
	fake.add(kPath);
	RecordingLogger log;
	{
		auto pps = PpsRefclock::open(kPath, PpsEdge::Assert, log, fake.syscalls());
		ASSERT_TRUE(pps.has_value());
		PpsRefclock moved = std::move(*pps);
		EXPECT_TRUE(moved.is_open());
		EXPECT_EQ(fake.open_fds(), 1);
		PpsRefclock other = std::move(moved);
		EXPECT_EQ(fake.open_fds(), 1);
	}
	EXPECT_EQ(fake.open_fds(), 0);
	EXPECT_EQ(fake.close_calls, 1);
}

} // namespace
} // namespace strata::refclock
