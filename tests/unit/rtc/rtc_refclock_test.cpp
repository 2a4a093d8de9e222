// The RTC refclock (refclock RTC) against the simulated RTC, through the
// refclock framework (refclock/refclock.h): its samples carry the RTC's
// offset from the system clock; without update interrupts it reads the RTC
// at each poll to ±0.5 s; a missing or failing device is logged and
// reopened, never a crash.
#include "rtc/rtc_refclock.h"

#include <cerrno>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "refclock/refclock.h"
#include "rtc/fake_rtc.h"
#include "tests/fakes/recording_logger.h"

namespace strata::rtc {
namespace {

using namespace std::chrono_literals;

const RealTime kStart = RealTime::from_parts(1'800'000'000, 400'000'000);

struct Sim {
	FakeRtc rtc;
	RecordingLogger log;
	int opens = 0;
	int open_failures = 0;  ///< the next opens that fail (ENOENT)
	Duration sys_error;     ///< system clock − true time
	RtcRefclock refclock;
	refclock::Refclock framework{{.name = "RTC /dev/rtc0", .poll_log2 = 4, .precision_s = 1e-6}};
	std::vector<refclock::RawSample> raw;

	Sim(FakeRtc::Config rc, Duration sys_err, RtcTimescale ts = {})
		: rtc(std::move(rc)), sys_error(sys_err),
		  refclock("/dev/rtc0", std::move(ts),
			   [this]() -> Result<std::unique_ptr<RtcDevice>> {
				   opens++;
				   if (open_failures > 0) {
					   open_failures--;
					   return fail_errno("Could not open /dev/rtc0", ENOENT);
				   }
				   return std::make_unique<BorrowedRtc>(rtc);
			   },
			   log)
	{
		log.set_min_level(LogLevel::Debug);
	}

	RealTime sys_now() const { return rtc.now() + sys_error; }

	/// Runs the daemon's side for `d`: a driver poll every second, the fd
	/// handled when an interrupt is pending (seen 40 µs late); every sample
	/// goes into the framework at once.
	void run_for(Duration d)
	{
		RealTime end = rtc.now() + d;
		RealTime next_poll = rtc.now();
		while (rtc.now() < end) {
			RealTime irq = end + 1s;
			if (refclock.fd() >= 0 && rtc.interrupts_flowing()) {
				irq = rtc.next_boundary_after(rtc.now()) + 40us;
			}
			if (next_poll <= irq) {
				rtc.advance_to(next_poll);
				refclock.poll(sys_now(), raw);
				next_poll += 1s;
			} else {
				rtc.advance_to(irq);
				if (rtc.pending()) {
					refclock.on_readable(sys_now(), raw);
				}
			}
			for (const auto &s : raw) {
				framework.add(s, s.local, {.now = sys_now()});
			}
			raw.clear();
		}
	}
};

TEST(RtcRefclock, ParameterIsPathAndUtc)
{
	auto o = parse_rtc_refclock_parameter("/dev/rtc1:utc");
	ASSERT_TRUE(o.has_value());
	EXPECT_EQ(o->path, "/dev/rtc1");
	EXPECT_TRUE(o->utc);
	o = parse_rtc_refclock_parameter("/dev/rtc0");
	ASSERT_TRUE(o.has_value());
	EXPECT_FALSE(o->utc);
	EXPECT_FALSE(parse_rtc_refclock_parameter(":utc").has_value());
	auto bad = parse_rtc_refclock_parameter("/dev/rtc0:local");
	ASSERT_FALSE(bad.has_value());
	EXPECT_EQ(bad.error().context, "refclock RTC: unknown option 'local' (known: utc)");
}

TEST(RtcRefclock, SamplesCarryTheRtcOffsetAtItsSecondBoundaries)
{
	// The RTC is 0.25 s ahead of true time and the system clock 1.377 s
	// behind it: reference − local = 1.627 s, to the 40 µs latency.
	Sim sim({.start = kStart, .offset_s = 0.25, .drift_ppm = 0}, -1377ms);
	sim.run_for(1s);  // opens, turns interrupts on
	EXPECT_TRUE(sim.refclock.is_open());
	EXPECT_FALSE(sim.refclock.polling());
	EXPECT_EQ(sim.refclock.fd(), sim.rtc.fd());
	EXPECT_TRUE(sim.rtc.interrupts_on());
	(void)sim.framework.poll();

	sim.run_for(16s);
	auto out = sim.framework.poll();
	ASSERT_TRUE(out.reached);
	ASSERT_TRUE(out.sample.has_value());
	EXPECT_NEAR(out.sample->offset_s, 1.627, 60e-6);
	EXPECT_GE(sim.framework.stats().samples, 15u);
	EXPECT_EQ(sim.log.count(LogLevel::Error, ""), 0);
}

TEST(RtcRefclock, FollowsADriftingRtcAndALocalTimeZone)
{
	// An RTC on local time (UTC+2) gaining 50 ppm: after 1000 s it is 50 ms
	// further ahead, and the zone is taken off.
	RtcTimescale local{.on_utc = false, .utc_offset = [](int64_t) { return int64_t{7200}; }};
	Sim sim({.start = kStart, .offset_s = 0.1, .drift_ppm = 50, .zone_s = 7200}, 0s, local);
	sim.run_for(1000s);
	(void)sim.framework.poll();
	sim.run_for(16s);
	auto out = sim.framework.poll();
	ASSERT_TRUE(out.sample.has_value());
	EXPECT_NEAR(out.sample->offset_s, sim.rtc.offset_at(sim.rtc.now() - 8s), 1e-3);
	EXPECT_NEAR(out.sample->offset_s, 0.1 + 50e-6 * 1008, 1e-3);
}

TEST(RtcRefclock, WithoutUpdateInterruptsItReadsAtEachPollToHalfASecond)
{
	Sim sim({.start = kStart, .offset_s = 0.3, .drift_ppm = 0}, 0s);
	sim.rtc.fail(FakeRtc::Op::EnableInterrupts, EINVAL);
	sim.run_for(1s);
	EXPECT_TRUE(sim.refclock.polling());
	EXPECT_EQ(sim.refclock.fd(), -1);
	EXPECT_EQ(sim.log.count(LogLevel::Info, "no update interrupts"), 1);
	(void)sim.framework.poll();
	sim.run_for(16s);
	auto out = sim.framework.poll();
	ASSERT_TRUE(out.sample.has_value());
	EXPECT_LE(std::abs(out.sample->offset_s - 0.3), 0.5 + 1e-6);
	EXPECT_GE(out.sample->dispersion_s, 0.5);  // it says how little it knows
}

TEST(RtcRefclock, MissingDeviceIsLoggedOnceAndRetried)
{
	Sim sim({.start = kStart, .offset_s = 0.25}, 0s);
	sim.open_failures = 5;
	sim.run_for(4s);
	EXPECT_FALSE(sim.refclock.is_open());
	EXPECT_EQ(sim.refclock.fd(), -1);
	EXPECT_EQ(sim.log.count(LogLevel::Error, "refclock RTC /dev/rtc0: Could not open /dev/rtc0: No such file or directory; retrying"), 1);
	EXPECT_EQ(sim.log.count(LogLevel::Debug, "Could not open /dev/rtc0"), 4);  // polls at 1…4 s
	(void)sim.framework.poll();
	sim.run_for(20s);  // it appears
	EXPECT_TRUE(sim.refclock.is_open());
	auto out = sim.framework.poll();
	ASSERT_TRUE(out.sample.has_value());
	EXPECT_NEAR(out.sample->offset_s, 0.25, 60e-6);
}

TEST(RtcRefclock, FailingDeviceIsClosedLoggedAndReopened)
{
	Sim sim({.start = kStart, .offset_s = 0.25}, 0s);
	sim.run_for(5s);
	ASSERT_TRUE(sim.refclock.is_open());
	// The device goes away: reading its fd fails (EIO) twice, then works.
	sim.rtc.fail(FakeRtc::Op::Wait, EIO, 2);
	sim.run_for(1s);
	EXPECT_EQ(sim.log.count(LogLevel::Error, "refclock RTC /dev/rtc0: Could not read /dev/rtc0: Input/output error; "
						 "closed, reopened at the next poll"),
		  1);
	sim.run_for(10s);
	EXPECT_TRUE(sim.refclock.is_open());
	EXPECT_GE(sim.opens, 2);
	// A failing read of the time drops that sample only.
	sim.rtc.fail(FakeRtc::Op::ReadTime, EINVAL, 1);
	(void)sim.framework.poll();
	sim.run_for(16s);
	auto out = sim.framework.poll();
	ASSERT_TRUE(out.sample.has_value());
	EXPECT_NEAR(out.sample->offset_s, 0.25, 60e-6);
	EXPECT_EQ(sim.log.count(LogLevel::Error, "RTC_RD_TIME"), 1);
}

} // namespace
} // namespace strata::rtc
