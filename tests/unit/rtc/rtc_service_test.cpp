// RtcService against the simulated RTC (rtc/fake_rtc.h), in simulated time:
// drift tracking, the rtcfile and its write policy, automatic and manual
// trimming, local-time RTCs, clock steps, -s, and every failure path.
#include "rtc/rtc_service.h"

#include <cerrno>
#include <cmath>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/random.h"
#include "rtc/fake_rtc.h"

namespace strata::rtc {
namespace {

using namespace std::chrono_literals;

const RealTime kStart = RealTime::from_parts(1'800'000'000, 250'000'000);
const std::string kFile = "/var/lib/strata/rtc";

class CapturingLogger final : public Logger {
public:
	std::vector<std::string> lines;
	bool contains(std::string_view text) const
	{
		for (const auto &l : lines) {
			if (l.find(text) != std::string::npos) {
				return true;
			}
		}
		return false;
	}

protected:
	void write(LogLevel, std::string_view message) override { lines.emplace_back(message); }
};

RtcServiceConfig config(double autotrim_s = 0)
{
	return RtcServiceConfig{.rtcfile = kFile, .autotrim_threshold_s = autotrim_s};
}

// The daemon's event loop in simulated time. The system clock is true time
// plus `sys_error`; each update interrupt is seen 20–200 µs late (seeded).
// The device's fd counts as readable as soon as an interrupt is pending.
struct Sim {
	FakeRtc rtc;
	CapturingLogger log;
	std::vector<std::string> writes;
	std::vector<int> writes_at;  // `finished` at each write
	std::optional<Error> writer_error;
	RtcService svc;
	Xoshiro256 rng{1};
	RealTime timer_at;
	Duration sys_error{};
	int late_every = 0;  // every Nth interrupt is seen 30 ms late (a busy machine)
	int interrupts = 0;
	int finished = 0;  // measurements completed or abandoned

	Sim(FakeRtc::Config rc, RtcServiceConfig sc)
		: rtc(std::move(rc)),
		  svc(std::move(sc), rtc, [this](std::string_view text) { return write(text); }, log)
	{
		log.set_min_level(LogLevel::Debug);
	}

	Result<> write(std::string_view text)
	{
		if (writer_error) {
			return tl::unexpected(*writer_error);
		}
		writes.emplace_back(text);
		writes_at.push_back(finished + 1);  // the measurement being completed
		return {};
	}

	RealTime sys_now() const { return rtc.now() + sys_error; }

	void start()
	{
		auto t = svc.start();
		ASSERT_TRUE(t.has_value()) << t.error().message();
		timer_at = rtc.now() + *t;
	}

	void readable()
	{
		if (auto d = svc.on_readable(sys_now())) {
			timer_at = rtc.now() + *d;
			if (*d == RtcServiceConfig{}.measurement_interval) {
				finished++;
			}
		}
	}

	Duration latency()
	{
		interrupts++;
		bool is_late = late_every > 0 && interrupts % late_every == 0;
		Duration late = is_late ? Duration(30ms) : Duration::zero();
		return late + from_seconds(20e-6 + rng.uniform() * 180e-6);
	}

	/// Runs the loop for `d`, calling `check` after each event.
	void run_for(Duration d, const std::function<void()> &check = {})
	{
		RealTime end = rtc.now() + d;
		for (;;) {
			if (rtc.pending()) {
				readable();
			} else {
				RealTime irq = end + 1s;
				if (rtc.interrupts_flowing()) {
					irq = rtc.next_boundary_after(rtc.now()) + latency();
				}
				if (std::min(irq, timer_at) > end) {
					rtc.advance_to(end);
					return;
				}
				if (timer_at <= irq) {
					rtc.advance_to(timer_at);
					timer_at = rtc.now() + svc.on_timer(sys_now());
				} else {
					rtc.advance_to(irq);
					readable();
				}
			}
			if (check) {
				check();
			}
		}
	}
};

FakeRtc::Config rtc_20ppm_3s()
{
	return FakeRtc::Config{.start = kStart, .offset_s = 3.0, .drift_ppm = 20};
}

TEST(RtcService, TracksTheDriftWithin1Ppm)
{
	// An RTC 3 s ahead gaining 20 ppm, measured every 11 minutes.
	Sim sim(rtc_20ppm_3s(), config());
	sim.start();
	sim.run_for(2h);
	auto m = sim.svc.model();
	ASSERT_TRUE(m.has_value());
	EXPECT_NEAR(m->drift_ppm, 20.0, 1.0);
	EXPECT_NEAR(m->fast_at(sim.rtc.now()), sim.rtc.offset_now(), 1e-3);

	sim.run_for(22h);
	m = sim.svc.model();
	ASSERT_TRUE(m.has_value());
	EXPECT_NEAR(m->drift_ppm, 20.0, 0.05);
	EXPECT_NEAR(m->fast_at(sim.rtc.now()), sim.rtc.offset_now(), 3e-4);
	EXPECT_EQ(sim.svc.status().samples, 64u);
	EXPECT_GT(to_seconds(sim.svc.status().span), 11 * 3600);
	EXPECT_TRUE(sim.rtc.set_values().empty());  // no trimming asked for
	// Interrupts are on only for the bursts: a few seconds every 11 minutes.
	EXPECT_GE(sim.rtc.enables(), 130);
	EXPECT_LE(sim.rtc.enables() - sim.rtc.disables(), 1);
	EXPECT_LT(sim.rtc.reads(), 6 * 24 * 4 * 2);

	ASSERT_FALSE(sim.writes.empty());
	auto saved = load(sim.writes.back());
	ASSERT_TRUE(saved.has_value()) << sim.writes.back();
	EXPECT_NEAR(saved->drift_ppm, 20.0, 0.05);
}

TEST(RtcService, ReportsEachMeasurementForRtcLog)
{
	std::vector<RtcMeasurement> seen;
	auto c = config();
	c.on_measurement = [&](const RtcMeasurement &m) { seen.push_back(m); };
	Sim sim(rtc_20ppm_3s(), c);
	sim.start();
	sim.run_for(3h);
	ASSERT_GE(seen.size(), 15u);
	EXPECT_EQ(seen.front().since_previous, Duration::zero());
	EXPECT_FALSE(seen.front().model.has_value());  // one measurement: no drift yet
	for (size_t i = 1; i < seen.size(); i++) {
		EXPECT_NEAR(to_seconds(seen[i].since_previous), 11 * 60, 15) << i;
		EXPECT_NEAR(seen[i].fast_s, 3.0 + 20e-6 * to_seconds(seen[i].time - kStart), 1e-3) << i;
	}
	const RtcMeasurement &last = seen.back();
	ASSERT_TRUE(last.model.has_value());
	EXPECT_NEAR(last.model->drift_ppm, 20.0, 1.0);
	EXPECT_EQ(last.samples, seen.size());
	EXPECT_GE(last.runs, 1u);
}

TEST(RtcService, LateInterruptsDoNotBiasTheOffset)
{
	// Every third interrupt is seen 30 ms late. The burst keeps its least
	// delayed sample, so the late ones never reach the fit.
	Sim sim(rtc_20ppm_3s(), config());
	sim.late_every = 3;
	sim.start();
	sim.run_for(6h);
	auto m = sim.svc.model();
	ASSERT_TRUE(m.has_value());
	EXPECT_NEAR(m->fast_at(sim.rtc.now()), sim.rtc.offset_now(), 3e-4);
	EXPECT_NEAR(m->drift_ppm, 20.0, 0.1);
}

TEST(RtcService, WritesTheRtcfileAtMostEveryNMeasurements)
{
	RtcServiceConfig c = config();
	c.write_every = 6;
	Sim sim(rtc_20ppm_3s(), c);
	sim.start();
	sim.run_for(24h);
	ASSERT_GE(sim.finished, 120);
	// The first write waits for a valid estimate (min_samples), then one
	// write every 6 measurements, never more often.
	ASSERT_GE(sim.writes_at.size(), 2u);
	EXPECT_EQ(sim.writes_at.front(), 8);
	for (size_t i = 1; i < sim.writes_at.size(); i++) {
		EXPECT_EQ(sim.writes_at[i] - sim.writes_at[i - 1], 6) << i;
	}
	EXPECT_GE(sim.writes_at.back(), sim.finished - 6);
	for (const auto &w : sim.writes) {
		EXPECT_TRUE(load(w).has_value()) << w;
	}
}

TEST(RtcService, SetsTheSystemTimeAfterADayOff)
{
	// Tracked for a day, saved at shutdown, off for a day: at boot the
	// system clock is 3 hours wrong and the RTC 20 ppm × 2 days further off.
	FakeRtc::Config rc{.start = kStart, .offset_s = 3.0, .drift_ppm = 20, .wait_latency = 30us};
	Sim sim(rc, config());
	sim.start();
	sim.run_for(24h);
	size_t writes = sim.writes.size();
	ASSERT_TRUE(sim.svc.stop().has_value());
	ASSERT_EQ(sim.writes.size(), writes + 1);  // written at stop
	EXPECT_FALSE(sim.rtc.interrupts_on());
	auto model = load(sim.writes.back());
	ASSERT_TRUE(model.has_value());

	sim.rtc.advance(24h);  // powered off
	sim.sys_error = -3h + 123ms;
	auto step = start_step(sim.rtc, RtcTimescale{}, *model, [&] { return sim.sys_now(); });
	ASSERT_TRUE(step.has_value()) << step.error().message();
	EXPECT_TRUE(step->at_boundary);
	EXPECT_FALSE(sim.rtc.interrupts_on());

	// The clock after the step, against true time.
	double error = to_seconds(sim.sys_error) + step->step_s;
	// What the tracked line predicts: its drift error over the time since
	// its reference, its offset error there, and the interrupt latency.
	double since_ref = to_seconds(sim.rtc.now() - model->ref);
	double predicted = std::abs(model->drift_ppm - 20.0) * 1e-6 * since_ref +
			   std::abs(model->offset_s - sim.rtc.offset_at(model->ref)) + 50e-6;
	EXPECT_LE(std::abs(error), predicted);
	EXPECT_LT(std::abs(error), 5e-3);
	// Without the drift correction the clock would be off by the RTC's gain
	// over the day it was off (and since the reference): the correction
	// matters, and the test would see it missing.
	RtcModel no_drift = *model;
	no_drift.drift_ppm = 0;
	Duration naive_shift = *start_time(no_drift, step->rtc_utc) - *start_time(*model, step->rtc_utc);
	double naive_error = error + to_seconds(naive_shift);
	EXPECT_GT(std::abs(naive_error), 1.5);
}

TEST(RtcService, StartStepWithoutUpdateInterruptsReadsMidSecond)
{
	FakeRtc rtc({.start = kStart, .offset_s = 0.7, .drift_ppm = 0});
	rtc.fail(FakeRtc::Op::EnableInterrupts, EINVAL);
	RtcModel model{.ref = kStart, .offset_s = 0.7, .drift_ppm = 0};
	auto step = start_step(rtc, RtcTimescale{}, model, [&] { return rtc.now() - 10s; });
	ASSERT_TRUE(step.has_value()) << step.error().message();
	EXPECT_FALSE(step->at_boundary);
	EXPECT_LE(std::abs(step->step_s - 10.0), 0.5 + 1e-6);
	EXPECT_EQ(step->rtc_utc.subsec_ns(), 500'000'000);
}

TEST(RtcService, StartStepErrors)
{
	// Interrupts turn on but never come: a clear error, interrupts off again.
	FakeRtc dead({.start = kStart, .deliver_interrupts = false});
	auto step = start_step(dead, RtcTimescale{}, std::nullopt, [&] { return dead.now(); });
	ASSERT_FALSE(step.has_value());
	EXPECT_EQ(step.error().message(), "No update interrupt from /dev/rtc0 within 2.5 s: Timer expired");
	EXPECT_FALSE(dead.interrupts_on());

	// The RTC cannot be read.
	FakeRtc broken({.start = kStart});
	broken.fail(FakeRtc::Op::ReadTime, EINVAL);
	step = start_step(broken, RtcTimescale{}, std::nullopt, [&] { return broken.now(); });
	ASSERT_FALSE(step.has_value());
	EXPECT_EQ(step.error().message(), "Could not read the time of /dev/rtc0 (RTC_RD_TIME): Invalid argument");
	EXPECT_FALSE(broken.interrupts_on());

	// The RTC reads a day before the rtcfile's reference: it was reset.
	FakeRtc reset({.start = kStart, .offset_s = -86400});
	RtcModel model{.ref = kStart, .offset_s = 2, .drift_ppm = 10};
	step = start_step(reset, RtcTimescale{}, model, [&] { return reset.now(); });
	ASSERT_FALSE(step.has_value());
	EXPECT_EQ(step.error().code, make_error_code(Errc::InvalidArgument));
	EXPECT_NE(step.error().message().find("the RTC was reset"), std::string::npos) << step.error().message();

	// No rtcfile: the RTC is taken as exact.
	FakeRtc plain({.start = kStart, .offset_s = 0.5});
	step = start_step(plain, RtcTimescale{}, std::nullopt, [&] { return plain.now(); });
	ASSERT_TRUE(step.has_value());
	EXPECT_NEAR(step->step_s, 0.5, 1e-6);
}

struct AutotrimCase {
	double drift_ppm;
	bool restart_on_set;
};

void PrintTo(const AutotrimCase &c, std::ostream *os)
{
	*os << c.drift_ppm << " ppm, " << (c.restart_on_set ? "restarts on set" : "keeps phase");
}

class RtcAutotrim : public testing::TestWithParam<AutotrimCase> {};

TEST_P(RtcAutotrim, KeepsTheOffsetUnderTheThreshold)
{
	// rtcautotrim 1 over 20 simulated days: after the first trim (at the
	// first measurement: the RTC starts 3.4 s off), the RTC stays within 1 s
	// at every event, whether a write restarts its second or not.
	auto [drift, restart] = GetParam();
	FakeRtc::Config rc{
		.start = kStart, .offset_s = 3.4, .drift_ppm = drift, .restart_on_set = restart};
	Sim sim(rc, config(1.0));
	sim.start();
	double worst = 0;
	sim.run_for(20 * 24h, [&] {
		if (!sim.rtc.set_values().empty()) {
			worst = std::max(worst, std::abs(sim.rtc.offset_now()));
		}
	});
	ASSERT_FALSE(sim.rtc.set_values().empty());
	EXPECT_LT(worst, 1.0);
	// Each trim takes whole seconds off, so their number follows the drift.
	double drifted_s = std::abs(drift) * 1e-6 * 20 * 86400;
	EXPECT_GE(sim.svc.status().trims, static_cast<uint64_t>(drifted_s * 0.9));
	EXPECT_LE(sim.svc.status().trims, static_cast<uint64_t>(drifted_s * 2 + 2));
	// The drift survives the trims.
	auto m = sim.svc.model();
	ASSERT_TRUE(m.has_value());
	EXPECT_NEAR(m->drift_ppm, drift, 0.5);
	EXPECT_NEAR(m->fast_at(sim.rtc.now()), sim.rtc.offset_now(), 1e-3);
	ASSERT_FALSE(sim.writes.empty());
	EXPECT_TRUE(load(sim.writes.back()).has_value());
}

std::string autotrim_name(const testing::TestParamInfo<AutotrimCase> &param)
{
	const AutotrimCase &c = param.param;
	return fmt::format("{}{}ppm_{}", c.drift_ppm < 0 ? "minus" : "plus", std::abs(c.drift_ppm),
			   c.restart_on_set ? "RestartsOnSet" : "KeepsPhase");
}

INSTANTIATE_TEST_SUITE_P(DriftAndChip, RtcAutotrim,
			 testing::Values(AutotrimCase{20, true}, AutotrimCase{20, false},
					 AutotrimCase{-20, true}, AutotrimCase{-20, false},
					 AutotrimCase{150, true}),
			 autotrim_name);

TEST(RtcService, AutotrimWaitsForASynchronisedClock)
{
	// chronyd trims only while the system clock is synchronised: an RTC 3.4 s
	// off is left alone until the clock is, then trimmed at the next measurement.
	bool synced = false;
	RtcServiceConfig c = config(1.0);
	c.clock_synchronized = [&] { return synced; };
	Sim sim({.start = kStart, .offset_s = 3.4, .drift_ppm = 20}, c);
	sim.start();
	sim.run_for(3h);
	EXPECT_TRUE(sim.rtc.set_values().empty());
	EXPECT_GT(sim.finished, 10);
	synced = true;
	sim.run_for(12min);
	ASSERT_EQ(sim.rtc.set_values().size(), 1u);
	EXPECT_LT(std::abs(sim.rtc.offset_now()), 1.0);
	EXPECT_EQ(sim.svc.status().trims, 1u);
}

TEST(RtcService, TrimrtcOnDemand)
{
	// 3.2 s ahead, 3.344 s after two hours: trimmed by 3 s.
	Sim sim({.start = kStart, .offset_s = 3.2, .drift_ppm = 20}, config());
	sim.start();
	sim.run_for(2h);
	ASSERT_TRUE(sim.svc.model().has_value());
	size_t writes = sim.writes.size();
	auto t = sim.svc.trim();
	ASSERT_TRUE(t.has_value()) << t.error().message();
	sim.timer_at = sim.rtc.now() + *t;
	sim.run_for(30s);
	ASSERT_EQ(sim.rtc.set_values().size(), 1u);
	EXPECT_LT(std::abs(sim.rtc.offset_now()), 0.5);
	EXPECT_TRUE(sim.log.contains("RTC trimmed by -3 s"));
	// Written at once, with the offset measured after the trim and the drift
	// kept from before it.
	ASSERT_GT(sim.writes.size(), writes);
	auto saved = load(sim.writes.back());
	ASSERT_TRUE(saved.has_value());
	EXPECT_NEAR(saved->fast_at(sim.rtc.now()), sim.rtc.offset_now(), 1e-3);
	EXPECT_NEAR(saved->drift_ppm, 20, 0.5);
	EXPECT_LT(sim.svc.status().samples, 3u);

	// Already within half a second: nothing to set.
	t = sim.svc.trim();
	ASSERT_TRUE(t.has_value());
	sim.timer_at = sim.rtc.now() + *t;
	sim.run_for(30s);
	EXPECT_EQ(sim.rtc.set_values().size(), 1u);
}

TEST(RtcService, CorruptRtcfileIsReportedAndNotOverwrittenWithoutAnEstimate)
{
	Sim sim(rtc_20ppm_3s(), config());
	auto r = sim.svc.load_file("strata-rtc 1 garbage\n");
	ASSERT_FALSE(r.has_value());
	EXPECT_EQ(r.error().code, make_error_code(Errc::Malformed));
	EXPECT_EQ(r.error().message(), "Corrupt rtcfile /var/lib/strata/rtc (malformed line): malformed data");
	EXPECT_FALSE(sim.svc.model().has_value());

	// writertc with nothing valid: refused, file untouched.
	auto w = sim.svc.write_file();
	ASSERT_FALSE(w.has_value());
	EXPECT_EQ(w.error().code, make_error_code(Errc::NotFound));
	EXPECT_EQ(w.error().message(), "Not writing rtcfile /var/lib/strata/rtc: no valid RTC estimate yet: not found");

	// An hour of measurements (5 < min_samples) and a stop: still nothing.
	sim.start();
	sim.run_for(1h);
	EXPECT_FALSE(sim.svc.model().has_value());
	ASSERT_TRUE(sim.svc.stop().has_value());
	EXPECT_TRUE(sim.writes.empty());

	// Once the estimate is valid, the file is replaced with a good one.
	sim.start();
	sim.run_for(2h);
	ASSERT_FALSE(sim.writes.empty());
	for (const auto &text : sim.writes) {
		auto saved = load(text);
		ASSERT_TRUE(saved.has_value()) << text;
		EXPECT_NEAR(saved->drift_ppm, 20, 1);
	}
	size_t n = sim.writes.size();
	ASSERT_TRUE(sim.svc.write_file().has_value());
	EXPECT_EQ(sim.writes.size(), n + 1);
}

TEST(RtcService, ValidRtcfileIsUsedUntilMeasurementsReplaceIt)
{
	Sim sim(rtc_20ppm_3s(), config());
	RtcModel file{.ref = kStart - 24h, .offset_s = 3.0 - 20e-6 * 86400, .drift_ppm = 20};
	ASSERT_TRUE(sim.svc.load_file(save(file)).has_value());
	auto m = sim.svc.model();
	ASSERT_TRUE(m.has_value());
	EXPECT_NEAR(m->fast_at(kStart), 3.0, 1e-6);
	// One measurement: the offset comes from it, the drift from the file.
	sim.start();
	sim.run_for(30s);
	m = sim.svc.model();
	ASSERT_TRUE(m.has_value());
	EXPECT_EQ(m->samples, 1u);
	EXPECT_DOUBLE_EQ(m->drift_ppm, 20);
	EXPECT_NEAR(m->fast_at(sim.rtc.now()), sim.rtc.offset_now(), 3e-4);
	// writertc writes what it knows.
	ASSERT_TRUE(sim.svc.write_file().has_value());
	ASSERT_EQ(sim.writes.size(), 1u);
	EXPECT_TRUE(load(sim.writes[0]).has_value());
}

TEST(RtcService, FailingReadIsLoggedAndMeasuringResumes)
{
	Sim sim(rtc_20ppm_3s(), config());
	sim.rtc.fail(FakeRtc::Op::ReadTime, EIO);
	sim.start();
	sim.run_for(1h);
	EXPECT_TRUE(sim.log.contains("Could not read the time of /dev/rtc0 (RTC_RD_TIME): Input/output error"));
	EXPECT_EQ(sim.svc.status().samples, 0u);
	EXPECT_FALSE(sim.svc.model().has_value());
	EXPECT_TRUE(sim.writes.empty());
	EXPECT_FALSE(sim.rtc.interrupts_on());  // off between the attempts

	sim.rtc.clear_failures();
	sim.run_for(2h);
	EXPECT_GE(sim.svc.status().samples, 8u);
	EXPECT_TRUE(sim.svc.model().has_value());
}

TEST(RtcService, StartFailsClearlyWithoutUpdateInterrupts)
{
	Sim sim(rtc_20ppm_3s(), config());
	sim.rtc.fail(FakeRtc::Op::EnableInterrupts, EINVAL);
	auto r = sim.svc.start();
	ASSERT_FALSE(r.has_value());
	EXPECT_EQ(r.error().message(), "Could not enable update interrupts of /dev/rtc0 (RTC_UIE_ON): Invalid argument");
	auto t = sim.svc.trim();
	ASSERT_FALSE(t.has_value());
	EXPECT_FALSE(sim.svc.status().measuring);
}

TEST(RtcService, MeasurementWithoutInterruptsTimesOut)
{
	FakeRtc::Config rc{
		.start = kStart, .offset_s = 3.0, .drift_ppm = 20, .deliver_interrupts = false};
	Sim sim(rc, config());
	sim.start();
	sim.run_for(1h);
	EXPECT_TRUE(sim.log.contains("No update interrupt from /dev/rtc0, RTC measurement abandoned"));
	EXPECT_EQ(sim.svc.status().samples, 0u);
	EXPECT_GE(sim.rtc.enables(), 5);
	EXPECT_LE(sim.rtc.enables() - sim.rtc.disables(), 1);
}

TEST(RtcService, FailingSetTimeLeavesTheRtcAndIsRetried)
{
	Sim sim(rtc_20ppm_3s(), config(1.0));
	sim.rtc.fail(FakeRtc::Op::SetTime, EACCES);
	sim.start();
	sim.run_for(1h);
	EXPECT_TRUE(sim.log.contains("Could not set the time of /dev/rtc0 (RTC_SET_TIME): Permission denied"));
	EXPECT_TRUE(sim.rtc.set_values().empty());
	EXPECT_EQ(sim.svc.status().trims, 0u);
	EXPECT_GT(sim.rtc.offset_now(), 2.9);

	sim.rtc.clear_failures();
	sim.run_for(1h);
	EXPECT_EQ(sim.svc.status().trims, 1u);
	EXPECT_LT(std::abs(sim.rtc.offset_now()), 1.0);
}

TEST(RtcService, WriterErrorIsReported)
{
	Sim sim(rtc_20ppm_3s(), config());
	sim.start();
	sim.run_for(2h);
	sim.writer_error =
		Error{std::error_code(EROFS, std::generic_category()), "rename /var/lib/strata/rtc.tmp"};
	auto w = sim.svc.write_file();
	ASSERT_FALSE(w.has_value());
	EXPECT_EQ(w.error().message(),
		  "Could not write rtcfile /var/lib/strata/rtc (rename /var/lib/strata/rtc.tmp): Read-only file system");
	// Periodic writes log it and carry on.
	sim.run_for(2h);
	EXPECT_TRUE(sim.log.contains("Could not write rtcfile"));
	EXPECT_TRUE(sim.svc.model().has_value());
}

TEST(RtcService, ClockStepsKeepTheFitStraight)
{
	// The system clock is 0.5 s ahead for 6 hours, then stepped back. With
	// the step passed on, the measurements before it stay on the line.
	for (bool tell : {true, false}) {
		SCOPED_TRACE(tell ? "told" : "not told");
		Sim sim(rtc_20ppm_3s(), config());
		sim.sys_error = 500ms;
		sim.start();
		sim.run_for(6h);
		sim.sys_error = Duration::zero();
		if (tell) {
			sim.svc.on_clock_change({.at = sim.sys_now(), .step_s = -0.5});
		}
		sim.run_for(2h);
		auto m = sim.svc.model();
		ASSERT_TRUE(m.has_value());
		if (tell) {
			EXPECT_NEAR(m->drift_ppm, 20, 0.05);
			EXPECT_NEAR(m->fast_at(sim.rtc.now()), sim.rtc.offset_now(), 1e-3);
		} else {
			EXPECT_GT(std::abs(m->drift_ppm - 20), 1.0);  // what the test guards against
		}
	}
}

TEST(RtcService, RtcOnLocalTime)
{
	// The RTC keeps local time at UTC+1; trimming sets it in local time.
	const int64_t zone = 3600;
	RtcServiceConfig c = config(1.0);
	c.timescale = {.on_utc = false, .utc_offset = [](int64_t) { return int64_t{3600}; }};
	Sim sim({.start = kStart, .offset_s = 3.0, .drift_ppm = 20, .zone_s = zone}, c);
	sim.start();
	sim.run_for(2h);
	ASSERT_EQ(sim.rtc.set_values().size(), 1u);
	auto shown = sim.rtc.read_time();
	ASSERT_TRUE(shown.has_value());
	double shown_utc = static_cast<double>(*shown - zone);
	EXPECT_NEAR(shown_utc - to_seconds(sim.rtc.now().since_epoch), 0, 1.0);
	auto m = sim.svc.model();
	ASSERT_TRUE(m.has_value());
	EXPECT_NEAR(m->fast_at(sim.rtc.now()), sim.rtc.offset_now(), 1e-3);
}

TEST(RtcTimescale, UtcAndLocalConversions)
{
	RtcTimescale utc;
	EXPECT_EQ(utc.rtc_from_utc(1'800'000'000), 1'800'000'000);
	EXPECT_EQ(utc.utc_from_rtc(1'800'000'000), 1'800'000'000);

	// Daylight saving starts at C (+1 h → +2 h): every UTC second maps back.
	constexpr int64_t c = 1'800'000'000;
	auto plus_1_then_2 = [](int64_t u) { return u < c ? int64_t{3600} : int64_t{7200}; };
	RtcTimescale spring{.on_utc = false, .utc_offset = plus_1_then_2};
	for (int64_t u = c - 5 * 3600; u < c + 5 * 3600; u += 61) {
		ASSERT_EQ(spring.utc_from_rtc(spring.rtc_from_utc(u)), u) << u - c;
	}
	// It ends at C (+2 h → +1 h): an hour of local times is ambiguous; each
	// maps to a UTC time that shows it.
	auto plus_2_then_1 = [](int64_t u) { return u < c ? int64_t{7200} : int64_t{3600}; };
	RtcTimescale autumn{.on_utc = false, .utc_offset = plus_2_then_1};
	for (int64_t l = c - 5 * 3600; l < c + 5 * 3600; l += 61) {
		ASSERT_EQ(autumn.rtc_from_utc(autumn.utc_from_rtc(l)), l) << l - c;
	}
	// A local RTC without a zone function counts as UTC+0.
	RtcTimescale bare{.on_utc = false};
	EXPECT_EQ(bare.utc_from_rtc(42), 42);
}

TEST(RtcService, SpuriousInterruptAfterEnablingIsSkipped)
{
	// An RTC that raises one interrupt as soon as interrupts are turned on,
	// at no second boundary. One-sample bursts, so only the skip protects.
	for (int skip : {1, 0}) {
		SCOPED_TRACE(skip);
		RtcServiceConfig c = config();
		c.skip_interrupts = skip;
		c.burst = 1;
		FakeRtc::Config rc{.start = kStart,
				   .offset_s = 3.0,
				   .drift_ppm = 20,
				   .spurious_interrupt_on_enable = true};
		Sim sim(rc, c);
		sim.start();
		sim.run_for(3h);
		auto m = sim.svc.model();
		ASSERT_TRUE(m.has_value());
		double error = std::abs(m->fast_at(sim.rtc.now()) - sim.rtc.offset_now());
		if (skip == 1) {
			EXPECT_LT(error, 1e-3);
		} else {
			EXPECT_GT(error, 1e-3);
		}
	}
}

TEST(HwclockFile, ThirdLineSaysUtcOrLocal)
{
	EXPECT_EQ(parse_hwclock_file("0.000000 1700000000 0.000000\n1700000000\nUTC\n"), true);
	EXPECT_EQ(parse_hwclock_file("0.000000 1700000000 0.000000\n1700000000\nLOCAL\n"), false);
	EXPECT_EQ(parse_hwclock_file("0.0 0 0.0\r\n0\r\nLOCAL\r\n"), false);
	EXPECT_EQ(parse_hwclock_file("0.0 0 0.0\n0\nUTC"), true);

	auto r = parse_hwclock_file("0.0 0 0.0\n0\n");
	ASSERT_FALSE(r.has_value());
	EXPECT_EQ(r.error().code, make_error_code(Errc::NotFound));
	EXPECT_EQ(r.error().message(), "hwclockfile: no third line (UTC or LOCAL): not found");
	EXPECT_FALSE(parse_hwclock_file("").has_value());
	EXPECT_FALSE(parse_hwclock_file("0.0 0 0.0").has_value());

	r = parse_hwclock_file("0.0 0 0.0\n0\nGMT\n");
	ASSERT_FALSE(r.has_value());
	EXPECT_EQ(r.error().code, make_error_code(Errc::Malformed));
	EXPECT_EQ(r.error().message(), "hwclockfile: third line is 'GMT', not UTC or LOCAL: malformed data");
	EXPECT_FALSE(parse_hwclock_file("0.0 0 0.0\n0\nutc\n").has_value());  // hwclock writes upper case
}

} // namespace
} // namespace strata::rtc
