#include "core/discipline.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/source_stats.h"

namespace strata {
namespace {

using namespace std::chrono_literals;

/// Records what the discipline asks of the clock; time is set by the test.
class RecordingClock final : public ClockControl<Realtime> {
public:
	RealTime now() const override { return now_; }
	Result<double> set_frequency_ppm(double ppm) override
	{
		frequencies.push_back(ppm);
		freq_ = std::clamp(ppm, -max_frequency_ppm(), max_frequency_ppm());
		return freq_;
	}
	double frequency_ppm() const override { return freq_; }
	double max_frequency_ppm() const override { return max_; }
	Result<> step(Duration offset) override
	{
		steps.push_back(to_seconds(offset));
		return {};
	}
	Result<> set_leap(Leap) override { return {}; }
	Result<> set_sync_status(bool, double, double) override { return {}; }
	bool monotonic_follows_frequency() const override { return follows; }

	RealTime now_ = RealTime::from_parts(1'800'000'000, 0);
	bool follows = false;
	double max_ = 500;
	double freq_ = 0;
	std::vector<double> frequencies;
	std::vector<double> steps;
};

MonoTime mono(double s)
{
	return MonoTime{from_seconds(s)};
}

TEST(Discipline, StartsAtTheDriftFileFrequency)
{
	RecordingClock clock;
	NullLogger log;
	Discipline d({.initial_frequency_ppm = -12.5}, clock, log);
	EXPECT_DOUBLE_EQ(clock.freq_, -12.5);
	EXPECT_DOUBLE_EQ(d.base_frequency_ppm(), -12.5);
}

TEST(Discipline, SlewDurationFallsAsTheOffsetGrows)
{
	RecordingClock clock;
	NullLogger log;
	Discipline d({}, clock, log);
	d.update({.offset_s = 0, .frequency_ppm = 0, .skew_ppm = 5000}, mono(0));
	// 64 s later, 1 ms behind with a standard error of 1 ms: the correction
	// "rate" is 3 × ½ × 1e-3 s × 64 s = 0.096 s², so 1 ms takes 96 s…
	auto r = d.update({.offset_s = 1e-3, .frequency_ppm = 0, .skew_ppm = 5000, .offset_sd_s = 1e-3}, mono(64));
	EXPECT_NEAR(clock.freq_, 1e-3 / 96 * 1e6, 1e-9);
	ASSERT_EQ(r.changes.size(), 1u);
	EXPECT_NEAR(r.changes[0].dfreq_ppm, 1e-3 / 96 * 1e6, 1e-9);
	EXPECT_NEAR(r.changes[0].freq_ppm, clock.freq_, 1e-12);
	ASSERT_TRUE(d.next_wakeup().has_value());
	EXPECT_NEAR(to_seconds(d.next_wakeup()->since_epoch), 64 + 96, 1e-6);
	// Not before its time…
	EXPECT_TRUE(d.on_timer(mono(64 + 95)).changes.empty());
	// …then the slew ends and the rate returns to the base frequency.
	auto end = d.on_timer(mono(64 + 96));
	ASSERT_EQ(end.changes.size(), 1u);
	EXPECT_NEAR(clock.freq_, 0.0, 1e-12);
	EXPECT_FALSE(d.next_wakeup().has_value());
	// 128 s later, 4 ms with a standard error of 0.5 ms: clearly no noise,
	// corrected four times as fast (the rate is again 0.096 s²), in 24 s.
	d.update({.offset_s = 4e-3, .frequency_ppm = 0, .skew_ppm = 5000, .offset_sd_s = 0.5e-3}, mono(64 + 128));
	EXPECT_NEAR(clock.freq_, 4e-3 / 24 * 1e6, 1e-9);
	EXPECT_NEAR(to_seconds(d.next_wakeup()->since_epoch), 64 + 128 + 24, 1e-6);
	// A first update (no interval yet) corrects in the shortest slew, 1 s.
	RecordingClock fresh;
	Discipline first({}, fresh, log);
	first.update({.offset_s = 2e-4, .skew_ppm = 5000, .offset_sd_s = 1e-3}, mono(0));
	EXPECT_NEAR(fresh.freq_, 200.0, 1e-9);
	EXPECT_NEAR(to_seconds(first.next_wakeup()->since_epoch), 1.0, 1e-9);
}

TEST(Discipline, AGivenIntervalPacesTheCorrectionOfUpdatesThatFollowClosely)
{
	RecordingClock clock;
	NullLogger log;
	Discipline d({}, clock, log);
	d.update({.offset_s = 0, .frequency_ppm = 0, .skew_ppm = 5000}, mono(0));
	// 8 s after the last update (another combined source's sample), but
	// paced as over 32 s: 3 × ½ × 1e-3 s × 32 s = 0.048 s², 1 ms in 48 s.
	d.update({.offset_s = 1e-3, .frequency_ppm = 0, .skew_ppm = 5000, .offset_sd_s = 1e-3, .interval_s = 32}, mono(8));
	EXPECT_NEAR(clock.freq_, 1e-3 / 48 * 1e6, 1e-9);
	// An interval shorter than the time since the last update: that time.
	d.update({.offset_s = 1e-3, .frequency_ppm = 0, .skew_ppm = 5000, .offset_sd_s = 1e-3, .interval_s = 4},
		 mono(8 + 64));
	EXPECT_NEAR(clock.freq_, 1e-3 / 96 * 1e6, 1e-9);
}

TEST(Discipline, SlewOffsetRunsAtTheMaximumRate)
{
	RecordingClock clock;
	NullLogger log;
	Discipline d({.maxslewrate_ppm = 400}, clock, log);
	// A leap second inserted: the clock is a second ahead; slewed back at
	// −400 ppm (this clock's limit is 500) for 2500 s.
	auto r = d.slew_offset(-1.0, mono(100));
	EXPECT_DOUBLE_EQ(clock.freq_, -400);
	ASSERT_EQ(r.changes.size(), 1u);
	EXPECT_DOUBLE_EQ(r.changes[0].dfreq_ppm, -400);
	EXPECT_NEAR(to_seconds(d.next_wakeup()->since_epoch), 100 + 2500, 1e-6);
	d.on_timer(mono(100 + 2500));
	EXPECT_DOUBLE_EQ(clock.freq_, 0);
	EXPECT_TRUE(d.slew_offset(0, mono(3000)).changes.empty());
}

TEST(Discipline, SlewTimedOnTheSlewedClockLastsAsLongInTrueTime)
{
	RecordingClock clock;
	clock.follows = true;  // the system clock: CLOCK_MONOTONIC runs at its rate
	NullLogger log;
	Discipline d({.maxslewrate_ppm = 400}, clock, log);
	// −1 s at −400 ppm takes 2500 true seconds, which the slowed monotonic
	// clock counts as 2499.
	d.slew_offset(-1.0, mono(100));
	EXPECT_NEAR(to_seconds(d.next_wakeup()->since_epoch), 100 + 2499, 1e-6);
	EXPECT_NEAR(d.remaining_correction_s(mono(100 + 2499.0 / 2)), -0.5, 1e-9);
	// The slew's own rate, on top of the base frequency, while it lasts
	// (the engine times round trips with it).
	EXPECT_DOUBLE_EQ(d.slew_ppm(mono(100 + 1000)), -400.0);
	EXPECT_DOUBLE_EQ(d.slew_ppm(mono(100 + 2499)), 0.0);
	EXPECT_TRUE(d.on_timer(mono(100 + 2498)).changes.empty());
	EXPECT_EQ(d.on_timer(mono(100 + 2499)).changes.size(), 1u);
	// A first update's slew of 0.5 s at 83,333 ppm: 6 true seconds, 6.5 on
	// the clock slewed 8.3 % faster.
	RecordingClock fast;
	fast.follows = true;
	fast.max_ = 100000;
	Discipline first({}, fast, log);
	first.update({.offset_s = 0.5, .skew_ppm = 5000, .offset_sd_s = 1e-3}, mono(0));
	EXPECT_NEAR(fast.freq_, 83333.333, 1e-3);
	EXPECT_NEAR(to_seconds(first.next_wakeup()->since_epoch), 6 * (1 + 0.083333333), 1e-6);
}

TEST(Discipline, StopSlewEndsItWhereItIsAndReportsWhatWasLeft)
{
	RecordingClock clock;
	NullLogger log;
	Discipline d({.maxslewrate_ppm = 100}, clock, log);
	d.slew_offset(0.01, mono(0));  // +100 ppm for 100 s
	EXPECT_NEAR(d.remaining_correction_s(mono(40)), 0.006, 1e-12);
	auto r = d.stop_slew();
	EXPECT_DOUBLE_EQ(clock.freq_, 0);
	ASSERT_EQ(r.changes.size(), 1u);
	EXPECT_DOUBLE_EQ(r.changes[0].dfreq_ppm, -100);
	EXPECT_FALSE(d.next_wakeup().has_value());
	EXPECT_EQ(d.remaining_correction_s(mono(40)), 0.0);
	EXPECT_TRUE(d.stop_slew().changes.empty());  // nothing under way
}

TEST(Discipline, SetBaseFrequencyKeepsASlewOnTop)
{
	RecordingClock clock;
	NullLogger log;
	Discipline d({.maxslewrate_ppm = 100}, clock, log);
	d.slew_offset(0.01, mono(0));  // +100 ppm for 100 s
	auto r = d.set_base_frequency(-5.0);
	EXPECT_DOUBLE_EQ(d.base_frequency_ppm(), -5.0);
	EXPECT_DOUBLE_EQ(clock.freq_, 95.0);
	ASSERT_EQ(r.changes.size(), 1u);
	EXPECT_DOUBLE_EQ(r.changes[0].dfreq_ppm, -5.0);
	d.on_timer(mono(100));
	EXPECT_DOUBLE_EQ(clock.freq_, -5.0);
}

TEST(Discipline, SlewRateIsCapped)
{
	RecordingClock clock;
	NullLogger log;
	Discipline d({.maxslewrate_ppm = 100}, clock, log);
	d.update({.offset_s = 1.0, .skew_ppm = 5000}, mono(0));
	EXPECT_DOUBLE_EQ(clock.freq_, 100);
	EXPECT_NEAR(to_seconds(d.next_wakeup()->since_epoch), 10000, 1e-6);  // 1 s at 100 ppm
}

TEST(Discipline, FrequencyIsWeighedBySkew)
{
	RecordingClock clock;
	NullLogger log;
	// The base frequency's uncertainty is 1 ppm; an estimate of +10 ppm with
	// a skew of 1 ppm moves it chronyd's 3 / (3 + 1) of the way…
	Discipline d({.maxclockerror_ppm = 0, .initial_skew_ppm = 1.0}, clock, log);
	d.update({.offset_s = 0, .frequency_ppm = 10, .skew_ppm = 1.0}, mono(0));
	EXPECT_NEAR(d.base_frequency_ppm(), 7.5, 1e-9);
	EXPECT_EQ(d.frequency_updates(), 1);
	// …and the skew grows by the spread of the two frequencies it stands
	// between: √(7.5² × 0.25 + 2.5² × 0.75).
	EXPECT_NEAR(d.skew_ppm(), 1.0 + std::sqrt(7.5 * 7.5 * 0.25 + 2.5 * 2.5 * 0.75), 1e-9);
	// Above maxupdateskew the frequency is left alone.
	d.update({.offset_s = 0, .frequency_ppm = 50, .skew_ppm = 2000}, mono(10));
	EXPECT_NEAR(d.base_frequency_ppm(), 7.5, 1e-9);
	EXPECT_EQ(d.frequency_updates(), 1);
	EXPECT_EQ(d.updates(), 2);
}

TEST(Discipline, NoiselessEstimatesWithAZeroSkewKeepTheFrequencyFinite)
{
	RecordingClock clock;
	NullLogger log;
	// A drift file whose skew reads 0.000 and a source without noise (a
	// perfect fit): 0 weighed against 0 once set the frequency to NaN.
	Discipline d({.maxclockerror_ppm = 0, .initial_skew_ppm = 0.0}, clock, log);
	d.update({.offset_s = 1e-6, .frequency_ppm = 2.0, .skew_ppm = 0.0}, mono(0));
	ASSERT_TRUE(std::isfinite(d.base_frequency_ppm()));
	ASSERT_TRUE(std::isfinite(d.skew_ppm()));
	// Equal (floored) skews: chronyd's 3 / (3 + 1) of the way.
	EXPECT_NEAR(d.base_frequency_ppm(), 1.5, 1e-9);
	d.update({.offset_s = 0, .frequency_ppm = 0.0, .skew_ppm = 0.0}, mono(16));
	EXPECT_TRUE(std::isfinite(d.base_frequency_ppm()));
	for (double f : clock.frequencies) {
		EXPECT_TRUE(std::isfinite(f)) << f;
	}
}

TEST(Discipline, FrequencyEstimateComposesWithTheRateApplied)
{
	RecordingClock clock;
	NullLogger log;
	Discipline d({.maxslewrate_ppm = 400, .maxclockerror_ppm = 0}, clock, log);
	d.update({.offset_s = 1.0, .skew_ppm = 5000}, mono(0));
	ASSERT_DOUBLE_EQ(clock.freq_, 400);  // slewing
	// Measured on the clock slewed at +400 ppm, it runs 300 ppm too fast:
	// it would run right at (1 + 400e-6)(1 − 300e-6) − 1 = 99.88 ppm, not
	// 400 − 300.
	d.update({.offset_s = 0.5, .frequency_ppm = -300, .skew_ppm = 1e-6, .skew_bound_ppm = 1e-6},
		 mono(10));
	EXPECT_NEAR(d.base_frequency_ppm(), 99.88, 1e-9);
}

TEST(Discipline, FrequencyWaitsForATrustworthyBound)
{
	RecordingClock clock;
	NullLogger log;
	Discipline d({.maxclockerror_ppm = 0}, clock, log);
	// A fit through three samples: skew 16 ppm, but its 99.95 % bound is
	// 10,000 ppm, above maxupdateskew (1000): the frequency stays.
	d.update({.offset_s = 0, .frequency_ppm = 1250, .skew_ppm = 16, .skew_bound_ppm = 10186}, mono(0));
	EXPECT_DOUBLE_EQ(d.base_frequency_ppm(), 0.0);
	EXPECT_EQ(d.frequency_updates(), 0);
	// Eight samples: skew 100 ppm, bound 596 ppm. The initial skew is
	// 1000 ppm: the estimate moves the frequency 3 × 1000² / (3 × 1000² +
	// 100²) of the way.
	d.update({.offset_s = 0, .frequency_ppm = 101, .skew_ppm = 100, .skew_bound_ppm = 596}, mono(64));
	EXPECT_NEAR(d.base_frequency_ppm(), 101 * 3e6 / (3e6 + 1e4), 1e-9);
	EXPECT_EQ(d.frequency_updates(), 1);
}

TEST(Discipline, MakestepStepsOnlyInTheFirstUpdatesAndAboveTheThreshold)
{
	RecordingClock clock;
	NullLogger log;
	Discipline d({.makestep = DisciplineConfig::MakeStep{1.0, 2}}, clock, log);
	auto r = d.update({.offset_s = 0.5, .skew_ppm = 5000}, mono(0));  // below the threshold: slew
	EXPECT_FALSE(r.stepped);
	r = d.update({.offset_s = 2.0, .skew_ppm = 5000}, mono(64));  // second update: step
	EXPECT_TRUE(r.stepped);
	ASSERT_EQ(clock.steps.size(), 1u);
	EXPECT_DOUBLE_EQ(clock.steps[0], 2.0);
	bool step_reported = false;
	for (const auto &c : r.changes) {
		step_reported |= c.step_s == 2.0;
	}
	EXPECT_TRUE(step_reported);
	r = d.update({.offset_s = 2.0, .skew_ppm = 5000}, mono(128));  // third: limit reached, slew
	EXPECT_FALSE(r.stepped);
	EXPECT_EQ(clock.steps.size(), 1u);
}

TEST(Discipline, MakestepWithNegativeLimitAlwaysSteps)
{
	RecordingClock clock;
	NullLogger log;
	Discipline d({.makestep = DisciplineConfig::MakeStep{0.1, -1}}, clock, log);
	for (int i = 0; i < 5; i++) {
		EXPECT_TRUE(d.update({.offset_s = -0.2, .skew_ppm = 5000}, mono(64.0 * i)).stepped);
	}
}

TEST(Discipline, MaxchangeIgnoresThenGivesUp)
{
	RecordingClock clock;
	NullLogger log;
	Discipline d({.maxchange = DisciplineConfig::MaxChange{0.5, 1, 2}}, clock, log);
	EXPECT_FALSE(d.update({.offset_s = 5, .skew_ppm = 5000}, mono(0)).ignored);  // within `start`
	auto r = d.update({.offset_s = 5, .skew_ppm = 5000}, mono(64));
	EXPECT_TRUE(r.ignored);
	EXPECT_FALSE(r.gave_up);
	r = d.update({.offset_s = -5, .skew_ppm = 5000}, mono(128));
	EXPECT_TRUE(r.ignored);
	EXPECT_FALSE(r.gave_up);  // `ignore` 2: two are ignored (chronyd's count)…
	r = d.update({.offset_s = 5, .skew_ppm = 5000}, mono(192));
	EXPECT_TRUE(r.gave_up);  // …and the third ends the daemon
}

TEST(Discipline, MaxchangeWithANegativeCountNeverGivesUp)
{
	RecordingClock clock;
	NullLogger log;
	Discipline d({.maxchange = DisciplineConfig::MaxChange{0.5, 0, -1}}, clock, log);
	for (int k = 0; k < 20; k++) {
		auto r = d.update({.offset_s = 5, .skew_ppm = 5000}, mono(64 * k));
		EXPECT_TRUE(r.ignored);
		EXPECT_FALSE(r.gave_up);
	}
}

TEST(Discipline, FrequencyIsClampedByMaxdrift)
{
	RecordingClock clock;
	NullLogger log;
	Discipline d({.maxdrift_ppm = 50, .initial_skew_ppm = 1e6}, clock, log);
	d.update({.offset_s = 0, .frequency_ppm = 80, .skew_ppm = 1}, mono(0));
	EXPECT_DOUBLE_EQ(d.base_frequency_ppm(), 50);
}

/// Keeps the warnings and errors.
class WarningLogger final : public Logger {
public:
	std::vector<std::string> lines;

protected:
	void write(LogLevel level, std::string_view message) override
	{
		if (level >= LogLevel::Warning) {
			lines.emplace_back(message);
		}
	}
};

TEST(Discipline, LogchangeWarnsOfCorrectionsAboveItsThreshold)
{
	RecordingClock clock;
	WarningLogger log;
	Discipline d({.logchange_s = 0.1}, clock, log);
	d.update({.offset_s = 0.05, .skew_ppm = 5000, .offset_sd_s = 1e-3}, mono(0));
	EXPECT_TRUE(log.lines.empty());
	d.update({.offset_s = -0.5, .skew_ppm = 5000, .offset_sd_s = 1e-3}, mono(16));
	ASSERT_EQ(log.lines.size(), 1u);
	EXPECT_EQ(log.lines[0], "System clock wrong by -0.500000 seconds, adjustment started");
	// A step above the threshold is a warning too.
	Discipline stepping({.makestep = DisciplineConfig::MakeStep{0.2, -1}, .logchange_s = 0.1}, clock, log);
	stepping.update({.offset_s = 0.25, .skew_ppm = 5000}, mono(32));
	ASSERT_EQ(log.lines.size(), 2u);
	EXPECT_EQ(log.lines[1], "System clock wrong by 0.250000 seconds (step)");
	// chronyd's default threshold: a second.
	WarningLogger quiet;
	Discipline plain({}, clock, quiet);
	plain.update({.offset_s = 0.5, .skew_ppm = 5000, .offset_sd_s = 1e-3}, mono(48));
	EXPECT_TRUE(quiet.lines.empty());
	plain.update({.offset_s = 1.5, .skew_ppm = 5000, .offset_sd_s = 1e-3}, mono(64));
	EXPECT_EQ(quiet.lines.size(), 1u);
}

TEST(Discipline, FollowMovesTheBaseFrequencyAndSlewsOnTopOfTheSlewUnderWay)
{
	RecordingClock clock;
	NullLogger log;
	Discipline d({}, clock, log);
	// The first follow: +0.2 ppm, and 10 µs forward in the shortest slew (1 s).
	auto r = d.follow(10e-6, 0.2, mono(0));
	EXPECT_DOUBLE_EQ(d.base_frequency_ppm(), 0.2);
	EXPECT_NEAR(clock.freq_, 0.2 + 10.0, 1e-9);
	ASSERT_EQ(r.changes.size(), 1u);
	EXPECT_NEAR(r.changes[0].dfreq_ppm, 10.2, 1e-9);
	ASSERT_TRUE(d.next_wakeup().has_value());
	EXPECT_NEAR(to_seconds(d.next_wakeup()->since_epoch), 1.0, 1e-9);
	EXPECT_EQ(d.on_timer(mono(1)).changes.size(), 1u);
	EXPECT_NEAR(clock.freq_, 0.2, 1e-12);
	// 16 s later: 3 × ½ × 16 s = 24 s for the next one; −0.1 ppm, 48 µs back.
	d.follow(-48e-6, -0.1, mono(16));
	EXPECT_NEAR(d.base_frequency_ppm(), 0.1, 1e-12);
	EXPECT_NEAR(clock.freq_, 0.1 - 2.0, 1e-9);
	EXPECT_NEAR(to_seconds(d.next_wakeup()->since_epoch), 16 + 24, 1e-6);
	// Half-way, another 24 µs back joins the 24 µs still to go: 48 µs over
	// the next 3 × ½ × 12 s = 18 s.
	d.follow(-24e-6, 0.0, mono(28));
	EXPECT_NEAR(d.remaining_correction_s(mono(28)), -48e-6, 1e-12);
	EXPECT_NEAR(to_seconds(d.next_wakeup()->since_epoch), 28 + 18, 1e-6);
	EXPECT_NEAR(clock.freq_, 0.1 - 48.0 / 18, 1e-9);
}

/// A clock as the kernel (and clknetsim) runs one: its rate is (1 + its own
/// error) × (1 + the frequency set), and the monotonic clock that times the
/// discipline's slews runs at that rate too. Time is moved on by the test.
class KernelClock final : public ClockControl<Realtime> {
public:
	/// `offset_s`: reference − local at the start; `error_ppm`: how fast it runs.
	KernelClock(double offset_s, double error_ppm)
		: local_s_(-offset_s), error_(error_ppm * 1e-6)
	{
	}

	RealTime now() const override
	{
		return RealTime::from_parts(1'800'000'000, 0) + from_seconds(local_s_);
	}
	Result<double> set_frequency_ppm(double ppm) override
	{
		freq_ppm_ = std::clamp(ppm, -max_frequency_ppm(), max_frequency_ppm());
		return freq_ppm_;
	}
	double frequency_ppm() const override { return freq_ppm_; }
	double max_frequency_ppm() const override { return 100000; }
	Result<> step(Duration offset) override
	{
		local_s_ += to_seconds(offset);
		return {};
	}
	Result<> set_leap(Leap) override { return {}; }
	Result<> set_sync_status(bool, double, double) override { return {}; }
	bool monotonic_follows_frequency() const override { return true; }

	/// Runs until the monotonic clock reads `mono_s`.
	void run_to_mono(double mono_s)
	{
		double d = mono_s - mono_s_;
		true_s_ += d / ((1 + error_) * (1 + freq_ppm_ * 1e-6));
		local_s_ += d;
		mono_s_ = mono_s;
	}
	double offset_s() const { return true_s_ - local_s_; }  ///< reference − local

private:
	double true_s_ = 0, local_s_, mono_s_ = 0;
	double error_;
	double freq_ppm_ = 0;
};

TEST(DisciplineWithStatistics, AFastSlewLeavesNeitherOffsetNorFrequencyBehind)
{
	// chrony's start-up case: `server … iburst` and `makestep 1 3`, the clock
	// 0.5 s off and 100 ppm fast, an exact reference. The offset is slewed at
	// 83,333 ppm while the iburst's samples come in, 2 s apart on the
	// slewed clock; the fourth (at 6 s) still finds the slew under way, and
	// its fit measures the clock's rate against the slewed frequency. The
	// sum of the two as the new base frequency was 6,400 ppm off (the clock
	// then ran away by 6 ms a second until the next poll at 70 s), and a
	// slew timed as offset / rate on the slewed clock left 7.7 % of what it
	// had to do (1.2 ms here). Both directions: behind and ahead.
	for (double start : {0.5, -0.5}) {
		SCOPED_TRACE(start);
		KernelClock clock(start, 100);
		NullLogger log;
		SourceStats stats({.min_samples = 3, .max_samples = 64});
		DisciplineConfig config;
		config.makestep = DisciplineConfig::MakeStep{.threshold_s = 1.0, .limit = 3};
		Discipline d(config, clock, log);
		auto forward = [&](const DisciplineResult &r) {
			EXPECT_FALSE(r.stepped);
			for (const auto &c : r.changes) {
				stats.on_clock_change(c.at, c.step_s, c.dfreq_ppm, c.freq_ppm);
			}
		};
		double worst_after_10s = 0;
		// The offset is linear between events: its extremes are at them.
		auto look = [&](double mono_s) {
			if (mono_s >= 10) {
				worst_after_10s =
					std::max(worst_after_10s, std::abs(clock.offset_s()));
			}
		};
		std::vector<double> polls{0, 2, 4, 6};
		for (double p = 70; p < 1100; p += 64) {
			polls.push_back(p);
		}
		for (double p : polls) {
			while (d.next_wakeup() && to_seconds(d.next_wakeup()->since_epoch) <= p) {
				MonoTime wake = *d.next_wakeup();
				clock.run_to_mono(to_seconds(wake.since_epoch));
				look(to_seconds(wake.since_epoch));
				forward(d.on_timer(wake));
			}
			clock.run_to_mono(p);
			look(p);
			stats.add({clock.now(), clock.offset_s(), 200e-6, 1e-6});
			auto e = stats.estimate(clock.now());
			ASSERT_TRUE(e.has_value());
			forward(d.update({.offset_s = e->offset_s,
					  .frequency_ppm = e->frequency_ppm,
					  .skew_ppm = e->skew_ppm,
					  .skew_bound_ppm = e->skew_bound_ppm,
					  .offset_sd_s = e->offset_error_s},
					 mono(p)));
		}
		EXPECT_LT(worst_after_10s, 1e-6);
		// The clock runs 100 ppm fast: (1 + 1e-4)(1 + f) = 1.
		EXPECT_NEAR(d.base_frequency_ppm(), (1 / (1 + 100e-6) - 1) * 1e6, 1e-3);
	}
}

} // namespace
} // namespace strata
