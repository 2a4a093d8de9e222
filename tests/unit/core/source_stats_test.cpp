#include "core/source_stats.h"

#include <cmath>

#include <gtest/gtest.h>

#include "core/random.h"

namespace strata {
namespace {

using namespace std::chrono_literals;

const RealTime kStart = RealTime::from_parts(1'800'000'000, 0);

double gaussian(Rng &rng)
{
	double u1 = std::max(rng.uniform(), 1e-300), u2 = rng.uniform();
	return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
}

/// A local clock 50 ppm slow and 10 ms behind at kStart, polled every 16 s
/// over a network of 100 µs delay with 10 µs of noise.
SourceStats slow_clock(int samples, Rng &rng, double spike_every = 0)
{
	SourceStats s;
	for (int i = 0; i < samples; i++) {
		RealTime t = kStart + i * 16s;
		double truth = 0.010 + 50e-6 * 16.0 * i;
		double delay = 100e-6, error = 5e-6 * gaussian(rng);
		if (spike_every > 0 && i % static_cast<int>(spike_every) == 3) {
			delay += 5e-3;   // a queue on the way out: the sample is 2.5 ms off
			error += 2.5e-3;
		}
		s.add({t, truth + error, delay, 1e-7});
	}
	return s;
}

TEST(SourceStats, EstimatesOffsetAndFrequency)
{
	Xoshiro256 rng(1);
	SourceStats s = slow_clock(32, rng);
	RealTime now = kStart + 31 * 16s + 8s;
	auto e = s.estimate(now);
	ASSERT_TRUE(e.has_value());
	EXPECT_NEAR(e->frequency_ppm, 50.0, 3 * e->skew_ppm + 0.01);
	EXPECT_LT(e->skew_ppm, 0.05);
	EXPECT_NEAR(e->offset_s, 0.010 + 50e-6 * (31 * 16 + 8), 5e-6);
	EXPECT_NEAR(e->stddev_s, 5e-6, 2e-6);
	EXPECT_NEAR(e->min_delay_s, 100e-6, 1e-12);
	EXPECT_EQ(e->samples, 32u);
}

TEST(SourceStats, DelaySpikesCarryLittleWeight)
{
	Xoshiro256 rng(2);
	SourceStats s = slow_clock(40, rng, 5);  // every 5th sample 2.5 ms off, with 5 ms more delay
	auto e = s.estimate(kStart + 39 * 16s);
	ASSERT_TRUE(e.has_value());
	EXPECT_NEAR(e->offset_s, 0.010 + 50e-6 * 39 * 16, 20e-6);
	EXPECT_NEAR(e->frequency_ppm, 50.0, 0.5);
}

TEST(SourceStats, ClockChangeMovesTheSamples)
{
	// Correct the clock by the estimate: step by the offset, speed up by the
	// frequency; the estimate then says 0 and 0.
	Xoshiro256 rng(3);
	SourceStats s = slow_clock(20, rng);
	RealTime now = kStart + 19 * 16s;
	auto before = s.estimate(now);
	ASSERT_TRUE(before.has_value());
	s.on_clock_change(now, before->offset_s, before->frequency_ppm, before->frequency_ppm);
	auto after = s.estimate(now + from_seconds(before->offset_s));
	ASSERT_TRUE(after.has_value());
	EXPECT_NEAR(after->offset_s, 0.0, 1e-7);
	// Left: the second-order term of a 50 ppm change, 50²·1e-6 ppm.
	EXPECT_NEAR(after->frequency_ppm, 0.0, 5e-3);
}

TEST(SourceStats, FastSlewsKeepTheSamplesOnALine)
{
	// A clock 100 ppm fast is read against a perfect reference every 64 s,
	// then slewed at 83333 ppm for 1.2 s, then set 100 ppm slower: after
	// each change the moved samples must still lie on one line whose slope
	// is the clock's rate error now. (Dividing the change by (1 + r0)(1 + r1)
	// instead of (1 + r0) left 0.18 s of residuals here.)
	const double e = 100e-6;
	double true_s = 0, local_s = 0.1, rate = 0;
	SourceStats s({.min_samples = 3, .max_samples = 64});
	auto local_at = [&](double s_) { return kStart + from_seconds(s_); };
	auto run_to = [&](double t) {
		local_s += (t - true_s) * (1 + e + rate);
		true_s = t;
	};
	auto sample = [&] { s.add({local_at(local_s), true_s - local_s, 0, 0}); };
	auto change = [&](double new_rate) {
		double dfreq_ppm = (new_rate - rate) * 1e6;
		rate = new_rate;
		s.on_clock_change(local_at(local_s), 0, dfreq_ppm, rate * 1e6);
	};
	for (int i = 0; i < 6; i++) {
		run_to(64.0 * i);
		sample();
	}
	change(0.083333);
	run_to(true_s + 1.2);
	change(0.0);
	run_to(true_s + 10);
	change(-100e-6);
	for (int i = 0; i < 3; i++) {
		run_to(true_s + 64);
		sample();
	}
	auto est = s.estimate(local_at(local_s));
	ASSERT_TRUE(est.has_value());
	EXPECT_NEAR(est->offset_s, true_s - local_s, 10e-6);
	EXPECT_NEAR(est->frequency_ppm, 0.0, 0.1);  // 100 ppm fast, 100 ppm slower: right
	EXPECT_LT(est->stddev_s, 10e-6);
}

TEST(SourceStats, OneDelayWeighsTheSamplesByTheirDispersions)
{
	// A reference clock's samples: one configured delay, each dispersion the
	// standard error of a filtered sample. Nine alternate ±2 µs about 0; the
	// newest is 10 µs off with twice their dispersion: as an inverse variance
	// it counts a quarter, and the fit ends at 1.36 µs. (Weighed as a
	// distance, a sample 1 µs farther than the nearest when all the others
	// are equally near counts nothing: 0.22 µs.)
	SourceStats s({.min_samples = 6, .max_samples = 64});
	for (int i = 0; i < 10; i++) {
		double noise = (i % 2 == 0 ? 1 : -1) * 2e-6;
		s.add({kStart + std::chrono::seconds(16 * i), i == 9 ? 10e-6 : noise, 1e-9,
		       i == 9 ? 2e-6 : 1e-6});
	}
	auto e = s.estimate(kStart + std::chrono::seconds(16 * 9));
	ASSERT_TRUE(e.has_value());
	EXPECT_EQ(e->samples, 10u);
	EXPECT_NEAR(e->offset_s, 1.362e-6, 0.01e-6);
	// Different delays: the distances decide, as before.
	SourceStats t({.min_samples = 6, .max_samples = 64});
	for (int i = 0; i < 10; i++) {
		double noise = (i % 2 == 0 ? 1 : -1) * 2e-6;
		t.add({kStart + std::chrono::seconds(16 * i), i == 9 ? 10e-6 : noise,
		       i == 9 ? 2e-3 : 1e-3, 1e-6});
	}
	auto d = t.estimate(kStart + std::chrono::seconds(16 * 9));
	ASSERT_TRUE(d.has_value());
	EXPECT_NEAR(d->offset_s, 0.2227e-6, 0.01e-6);
}

TEST(SourceStats, EstimatesTheAsymmetryOfTheJitter)
{
	// The responses wait up to several ms more on the way back (exponential,
	// 1 ms mean), the requests never: reference − local reads −e/2 low with
	// the delay e high. After 10 estimates the slope, near +0.5 (chrony.conf's
	// sign: responses the more variable), corrects the offsets to those of
	// the shortest exchange.
	Xoshiro256 rng(11);
	SourceStats s({.min_samples = 6, .max_samples = 64});
	SourceStats fixed({.min_samples = 6, .max_samples = 64, .asymmetry = 0.0});
	for (int i = 0; i < 40; i++) {
		double e = -1e-3 * std::log(1.0 - rng.uniform());
		SourceSample sample{kStart + i * 16s, -e / 2, 200e-6 + e, 0};
		s.add(sample);
		fixed.add(sample);
	}
	EXPECT_NEAR(s.asymmetry(), 0.5, 0.05);
	EXPECT_EQ(fixed.asymmetry(), 0.0);
	auto e = s.estimate(kStart + 39 * 16s);
	auto f = fixed.estimate(kStart + 39 * 16s);
	ASSERT_TRUE(e && f);
	EXPECT_LT(std::abs(e->offset_s), 30e-6);
	EXPECT_GT(std::abs(f->offset_s), 3 * std::abs(e->offset_s));  // the uncorrected fit is biased
}

TEST(SourceStats, FewSamplesGiveTheNewestWithLargeSkew)
{
	SourceStats s;
	EXPECT_FALSE(s.estimate(kStart).has_value());
	s.add({kStart, 0.5, 0.002, 0});
	s.add({kStart + 2s, 0.25, 0.001, 0});
	auto e = s.estimate(kStart + 2s);
	ASSERT_TRUE(e.has_value());
	EXPECT_DOUBLE_EQ(e->offset_s, 0.25);
	EXPECT_GT(e->skew_ppm, 1000.0);
	EXPECT_EQ(e->samples, 2u);
}

TEST(SourceStats, SkewBoundIsWideUntilThereAreEnoughSamples)
{
	// Three samples close to a line by chance: a small skew, but with one
	// degree of freedom the 99.95 % bound is 636.6 times as large.
	SourceStats s;
	s.add({kStart, 0.100, 0.2, 0});
	s.add({kStart + 64s, 0.101, 0.2, 0});
	s.add({kStart + 128s, 0.1019, 0.2, 0});
	auto e = s.estimate(kStart + 128s);
	ASSERT_TRUE(e.has_value());
	ASSERT_EQ(e->samples, 3u);
	EXPECT_NEAR(e->frequency_ppm, 0.0019 / 128 * 1e6, 1e-6);
	EXPECT_LT(e->skew_ppm, 1.0);
	EXPECT_NEAR(e->skew_bound_ppm / e->skew_ppm, 636.619, 1e-3);
	// 32 samples: 30 degrees of freedom, a factor of 3.646.
	Xoshiro256 rng(1);  // as EstimatesOffsetAndFrequency: all 32 in the window
	SourceStats many = slow_clock(32, rng);
	auto m = many.estimate(kStart + 31 * 16s);
	ASSERT_TRUE(m.has_value());
	ASSERT_EQ(m->samples, 32u);
	EXPECT_NEAR(m->skew_bound_ppm / m->skew_ppm, 3.646, 1e-3);
	// Too few samples for a fit: the bound is the unknown skew itself.
	SourceStats two;
	two.add({kStart, 0.1, 0.2, 0});
	two.add({kStart + 64s, 0.1, 0.2, 0});
	EXPECT_EQ(two.estimate(kStart + 64s)->skew_bound_ppm, two.estimate(kStart + 64s)->skew_ppm);
}

TEST(SourceStats, RunsTestCutsTheWindowForGood)
{
	// 40 samples of a clock 50 ppm slow, then its frequency moves by 2 ppm
	// (5 µs of noise; 2 ppm is 128 µs a poll). The runs test cuts the window
	// down to the samples after the change, and those before it stay out:
	// from one sample to the next the window grows by one at most.
	Xoshiro256 rng(5);
	SourceStats s;
	double truth = 0.010;
	RealTime t = kStart;
	for (int i = 0; i < 40; i++, t += 64s, truth += 50e-6 * 64) {
		s.add({t, truth + 5e-6 * gaussian(rng), 100e-6, 1e-7});
	}
	const RealTime change = t;
	size_t grown = 0;
	for (int i = 0; i < 20; i++, t += 64s, truth += 52e-6 * 64) {
		size_t before = s.size();
		s.add({t, truth + 5e-6 * gaussian(rng), 100e-6, 1e-7});
		EXPECT_LE(s.size(), before + 1);  // never takes pruned samples back
		grown += s.size() == before + 1 ? 1u : 0u;
	}
	EXPECT_GE(s.samples().front().local, change - 2 * 64s);  // at most two from before the change
	EXPECT_GE(grown, 10u);
	auto e = s.estimate(t - 64s);
	ASSERT_TRUE(e.has_value());
	EXPECT_NEAR(e->frequency_ppm, 52.0, 0.2);
	EXPECT_EQ(e->samples, s.size());
}

TEST(SourceStats, AnExactLineKeepsItsWindow)
{
	// Residuals all zero say nothing about a trend: no cut.
	SourceStats s;
	for (int i = 0; i < 30; i++) {
		s.add({kStart + i * 16s, 0.001 + 20e-6 * 16 * i, 100e-6, 0.0});
	}
	EXPECT_EQ(s.size(), 30u);
}

TEST(SourceStats, MaxSamplesBoundsTheWindow)
{
	SourceStats s({.max_samples = 8});
	for (int i = 0; i < 20; i++) {
		s.add({kStart + i * 1s, 0.0, 0.0, 0.0});
	}
	EXPECT_EQ(s.size(), 8u);
	EXPECT_EQ(s.samples().front().local, kStart + 12s);
}

} // namespace
} // namespace strata
