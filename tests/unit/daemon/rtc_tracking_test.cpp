// stratad's RTC tracking glue (daemon/rtc_tracking.h) on a simulated event
// loop and RTC (rtc/fake_rtc.h): one timer at a time for the service, the
// steered clock's time at each wakeup, clock changes, chronyc's rtcdata,
// writertc and trimrtc, the rtcfile at stop, and the failure cases
// (corrupt rtcfile, no update interrupts, a file that cannot be written).
#include "daemon/rtc_tracking.h"

#include <cerrno>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rtc/fake_rtc.h"
#include "tests/fakes/recording_logger.h"

namespace strata::daemon {
namespace {

using namespace std::chrono_literals;
using rtc::FakeRtc;

const RealTime kStart = RealTime::from_parts(1'800'000'000, 250'000'000);
const std::string kFile = "/var/lib/strata/rtc";

/// Timers in simulated time: MonoTime is the fake RTC's true time since kStart.
class FakeScheduler final : public Scheduler {
public:
	explicit FakeScheduler(const FakeRtc &rtc) : rtc_(rtc) {}
	MonoTime now() const override { return MonoTime{rtc_.now() - kStart}; }
	TimerId add_timer(MonoTime at, std::function<void()> fn) override
	{
		timers_[next_] = {at, std::move(fn)};
		return next_++;
	}
	void cancel(TimerId id) override { timers_.erase(id); }
	size_t live() const { return timers_.size(); }
	std::optional<MonoTime> next_at() const
	{
		std::optional<MonoTime> at;
		for (const auto &[id, t] : timers_) {
			if (!at || t.at < *at) {
				at = t.at;
			}
		}
		return at;
	}
	/// Runs the earliest timer.
	void run_next()
	{
		auto it = timers_.begin();
		for (auto i = timers_.begin(); i != timers_.end(); ++i) {
			if (i->second.at < it->second.at) {
				it = i;
			}
		}
		auto fn = std::move(it->second.fn);
		timers_.erase(it);
		fn();
	}

private:
	struct Timer {
		MonoTime at;
		std::function<void()> fn;
	};
	const FakeRtc &rtc_;
	std::map<TimerId, Timer> timers_;
	TimerId next_ = 1;
};

struct Sim {
	FakeRtc rtc;
	FakeScheduler scheduler{rtc};
	RecordingLogger log;
	Duration sys_error{};  ///< the steered clock − true time
	std::vector<std::string> writes;
	std::optional<Error> writer_error;
	bool synchronized = true;
	size_t most_timers = 0;
	RtcTracking tracking;

	Sim(FakeRtc::Config rc, double autotrim_s = 0)
		: rtc(std::move(rc)),
		  tracking(
			  rtc::RtcServiceConfig{.rtcfile = kFile,
						.autotrim_threshold_s = autotrim_s,
						.clock_synchronized = [this] { return synchronized; }},
			  std::make_unique<rtc::BorrowedRtc>(rtc),
			  [this](std::string_view text) -> Result<> {
				  if (writer_error) {
					  return tl::unexpected(*writer_error);
				  }
				  writes.emplace_back(text);
				  return {};
			  },
			  scheduler, [this] { return rtc.now() + sys_error; }, log)
	{
		log.set_min_level(LogLevel::Debug);
	}

	/// The loop: interrupts seen 50 µs late, the fd handled when one is
	/// pending, timers when due.
	void run_for(Duration d)
	{
		RealTime end = rtc.now() + d;
		for (;;) {
			most_timers = std::max(most_timers, scheduler.live());
			RealTime irq = end + 1s;
			if (rtc.interrupts_flowing()) {
				irq = rtc.next_boundary_after(rtc.now()) + 50us;
			}
			RealTime timer = end + 1s;
			if (auto at = scheduler.next_at()) {
				timer = kStart + at->since_epoch;
			}
			if (std::min(irq, timer) > end) {
				rtc.advance_to(end);
				return;
			}
			if (timer <= irq) {
				rtc.advance_to(timer);
				scheduler.run_next();
			} else {
				rtc.advance_to(irq);
				if (rtc.pending()) {
					tracking.on_readable();
				}
			}
		}
	}
};

FakeRtc::Config rtc_20ppm()
{
	return FakeRtc::Config{.start = kStart, .offset_s = 3.0, .drift_ppm = 20};
}

TEST(RtcTracking, TracksADriftingRtcAndReportsItAsRtcdata)
{
	Sim sim(rtc_20ppm());
	ASSERT_TRUE(sim.tracking.start());
	sim.run_for(3h);
	auto r = sim.tracking.report();
	EXPECT_GE(r.n_samples, 15);
	EXPECT_GT(r.n_runs, 0);
	EXPECT_LE(r.n_runs, r.n_samples);
	EXPECT_GT(r.span_s, 2 * 3600u);
	EXPECT_NEAR(r.rtc_gain_rate_ppm, 20.0, 1.0);
	// The offset at the report's reference time is the RTC's there.
	EXPECT_NEAR(r.rtc_seconds_fast, sim.rtc.offset_at(r.ref_time), 1e-3);
	EXPECT_LE(r.ref_time, sim.rtc.now());
	EXPECT_EQ(sim.most_timers, 1u);  // never two timers for the service
	EXPECT_FALSE(sim.writes.empty());
	// Nothing was trimmed (no rtcautotrim).
	EXPECT_TRUE(sim.rtc.set_values().empty());
}

TEST(RtcTracking, StopWritesTheRtcfileAndTurnsInterruptsOff)
{
	Sim sim(rtc_20ppm());
	ASSERT_TRUE(sim.tracking.start());
	sim.run_for(2h);
	size_t writes = sim.writes.size();
	sim.tracking.stop();
	ASSERT_EQ(sim.writes.size(), writes + 1);
	auto saved = rtc::load(sim.writes.back());
	ASSERT_TRUE(saved.has_value());
	EXPECT_NEAR(saved->drift_ppm, 20.0, 1.0);
	EXPECT_FALSE(sim.rtc.interrupts_on());
	EXPECT_EQ(sim.scheduler.live(), 0u);
	sim.tracking.stop();  // once only
	EXPECT_EQ(sim.writes.size(), writes + 1);
}

TEST(RtcTracking, ClockChangesKeepTheEstimateOnTheSteeredClock)
{
	// The discipline steps the clock by +2.5 s and slows it by 30 ppm: the
	// RTC is measured against the clock, so its offset from the clock
	// changes with it, and the estimate must follow.
	Sim sim(rtc_20ppm());
	ASSERT_TRUE(sim.tracking.start());
	sim.run_for(3h);
	RealTime at = sim.rtc.now() + sim.sys_error;
	sim.sys_error += 2500ms;
	sim.tracking.on_clock_change({.at = at, .step_s = 2.5, .dfreq_ppm = 0, .freq_ppm = 0});
	auto m = sim.tracking.service().model();
	ASSERT_TRUE(m.has_value());
	RealTime sys = sim.rtc.now() + sim.sys_error;
	EXPECT_NEAR(m->fast_at(sys), sim.rtc.offset_now() - 2.5, 1e-3);
	sim.run_for(3h);
	auto r = sim.tracking.report();
	EXPECT_NEAR(r.rtc_gain_rate_ppm, 20.0, 1.0);  // not bent by the step
}

TEST(RtcTracking, CorruptRtcfileIsLoggedAndNotOverwrittenWithoutAnEstimate)
{
	Sim sim(rtc_20ppm());
	EXPECT_FALSE(sim.tracking.load_file("strata-rtc 1 garbage\n"));
	EXPECT_EQ(sim.log.count(LogLevel::Warning, "Corrupt rtcfile /var/lib/strata/rtc"), 1);
	ASSERT_TRUE(sim.tracking.start());
	sim.run_for(30min);  // three measurements: not a valid estimate yet
	// writertc leaves the file as it is and says why; stop does not write.
	EXPECT_EQ(sim.tracking.write_file(), control::Status::Success);
	EXPECT_EQ(sim.log.count(LogLevel::Info, "no valid RTC estimate yet"), 1);
	sim.tracking.stop();
	EXPECT_TRUE(sim.writes.empty());
}

TEST(RtcTracking, ValidRtcfileGivesRtcdataAtOnce)
{
	Sim sim(rtc_20ppm());
	rtc::RtcModel m{.ref = kStart - 24h, .offset_s = 3.0 - 20e-6 * 86400, .drift_ppm = 20};
	EXPECT_TRUE(sim.tracking.load_file(rtc::save(m)));
	ASSERT_TRUE(sim.tracking.start());
	auto r = sim.tracking.report();
	EXPECT_NEAR(r.rtc_gain_rate_ppm, 20.0, 1e-6);
	sim.run_for(5min);  // one measurement (at start): the offset, with the file's drift
	r = sim.tracking.report();
	EXPECT_EQ(r.n_samples, 1);
	EXPECT_NEAR(r.rtc_seconds_fast, sim.rtc.offset_at(r.ref_time), 1e-3);
}

TEST(RtcTracking, WritertcAndTrimrtcStatuses)
{
	Sim sim({.start = kStart, .offset_s = 3.2, .drift_ppm = 20});
	ASSERT_TRUE(sim.tracking.start());
	sim.run_for(2h);
	size_t writes = sim.writes.size();
	EXPECT_EQ(sim.tracking.write_file(), control::Status::Success);
	EXPECT_EQ(sim.writes.size(), writes + 1);

	sim.writer_error = Error{std::error_code(EACCES, std::generic_category()), "open /var/lib/strata/rtc.tmp"};
	EXPECT_EQ(sim.tracking.write_file(), control::Status::BadRtcFile);
	EXPECT_EQ(sim.log.count(LogLevel::Error, "Could not write rtcfile /var/lib/strata/rtc"), 1);
	sim.writer_error.reset();

	// trimrtc: the RTC is set within seconds, by whole seconds.
	EXPECT_EQ(sim.tracking.trim(), control::Status::Success);
	EXPECT_EQ(sim.scheduler.live(), 1u);
	sim.run_for(10s);
	ASSERT_EQ(sim.rtc.set_values().size(), 1u);
	EXPECT_LT(std::abs(sim.rtc.offset_now()), 0.5);

	// Between measurements, an RTC that refuses its interrupt cannot be trimmed.
	sim.run_for(1h);
	while (sim.rtc.interrupts_on()) {
		sim.run_for(1s);
	}
	sim.rtc.fail(FakeRtc::Op::EnableInterrupts, EIO);
	EXPECT_EQ(sim.tracking.trim(), control::Status::Failed);
	EXPECT_EQ(sim.log.count(LogLevel::Error, "Could not trim the RTC"), 1);
}

TEST(RtcTracking, AutotrimKeepsTheRtcWithinASecondWhileSynchronised)
{
	Sim sim({.start = kStart, .offset_s = 3.4, .drift_ppm = 150}, 1.0);
	ASSERT_TRUE(sim.tracking.start());
	sim.run_for(2h);
	ASSERT_FALSE(sim.rtc.set_values().empty());
	double worst = 0;
	for (int i = 0; i < 24 * 6; i++) {
		sim.run_for(10min);
		worst = std::max(worst, std::abs(sim.rtc.offset_now()));
	}
	EXPECT_LT(worst, 1.0);
	// Unsynchronised, the RTC is left to drift.
	sim.synchronized = false;
	size_t trims = sim.rtc.set_values().size();
	sim.run_for(5h);
	EXPECT_EQ(sim.rtc.set_values().size(), trims);
	EXPECT_GT(std::abs(sim.rtc.offset_now()), 1.0);
}

TEST(RtcTracking, NoUpdateInterruptMeansNoTracking)
{
	Sim sim(rtc_20ppm());
	sim.rtc.fail(FakeRtc::Op::EnableInterrupts, EINVAL);
	EXPECT_FALSE(sim.tracking.start());
	EXPECT_EQ(sim.log.count(LogLevel::Error, "(RTC_UIE_ON): Invalid argument; not tracking the RTC"), 1);
	EXPECT_EQ(sim.scheduler.live(), 0u);
}

TEST(RtcTracking, FailingDeviceIsLoggedAndMeasuringResumes)
{
	Sim sim(rtc_20ppm());
	ASSERT_TRUE(sim.tracking.start());
	sim.run_for(1h);
	sim.rtc.fail(FakeRtc::Op::Wait, EIO, 3);
	sim.run_for(1h);
	EXPECT_GE(sim.log.count(LogLevel::Warning, "Could not read /dev/rtc0: Input/output error"), 1);
	sim.run_for(2h);
	EXPECT_NEAR(sim.tracking.report().rtc_gain_rate_ppm, 20.0, 1.0);
	EXPECT_EQ(sim.most_timers, 1u);
}

} // namespace
} // namespace strata::daemon
