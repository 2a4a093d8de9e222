#include "refclock/filter.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/random.h"

namespace strata::refclock {
namespace {

using namespace std::chrono_literals;

const RealTime kStart = RealTime::from_parts(1'800'000'000, 0);

TEST(MedianFilter, EmptyGivesNothing)
{
	MedianFilter f(16);
	EXPECT_FALSE(f.take(1e-6).has_value());
}

TEST(MedianFilter, OutliersAreDropped)
{
	// 16 PPS samples at +1 µs ± 100 ns, with a late pulse (+800 µs) and an
	// early one (-500 µs): the outer fifth (3 per side) goes, the outliers with it.
	MedianFilter f(16);
	for (int i = 0; i < 16; i++) {
		double offset = 1e-6 + ((i % 3) - 1) * 1e-7;
		if (i == 4) {
			offset = 800e-6;
		} else if (i == 11) {
			offset = -500e-6;
		}
		f.add({kStart + i * 1s, offset, 1e-9});
	}
	auto s = f.take(1e-9);
	ASSERT_TRUE(s.has_value());
	EXPECT_NEAR(s->sample.offset_s, 1e-6, 1e-7);
	EXPECT_LT(s->sample.dispersion_s, 1e-7);
	EXPECT_EQ(f.size(), 0u);
	EXPECT_FALSE(f.take(1e-9).has_value());
}

TEST(MedianFilter, LinearDriftGivesTheOffsetAtTheMeanTime)
{
	// The local clock gains 10 ppm on the reference: offset falls 10 µs/s.
	MedianFilter f(64);
	for (int i = 0; i < 4; i++) {
		f.add({kStart + i * 1s, 1e-3 - 10e-6 * i, 0});
	}
	auto s = f.take(1e-9);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->sample.local, kStart + 1500ms);
	EXPECT_NEAR(s->sample.offset_s, 1e-3 - 15e-6, 1e-12);
	// The spread is about the line the samples drift along: none here.
	EXPECT_LT(s->spread_s, 1e-12);
}

TEST(MedianFilter, DispersionIsAtLeastThePrecisionAndTheSamples)
{
	MedianFilter f(4);
	f.add({kStart, 0.0, 2e-3});
	EXPECT_DOUBLE_EQ(f.take(1e-6)->sample.dispersion_s, 2e-3);
	f.add({kStart, 0.0, 0});
	EXPECT_DOUBLE_EQ(f.take(1e-6)->sample.dispersion_s, 1e-6);
}

TEST(MedianFilter, OldestSamplesLeaveFirstWhenFull)
{
	MedianFilter f(2);
	f.add({kStart, 5.0, 0});
	f.add({kStart + 1s, 1.0, 0});
	f.add({kStart + 2s, 1.0, 0});
	EXPECT_EQ(f.size(), 2u);
	EXPECT_DOUBLE_EQ(f.take(0)->sample.offset_s, 1.0);
}

double gaussian(Rng &rng)
{
	double u1 = std::max(rng.uniform(), 1e-300), u2 = rng.uniform();
	return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
}

/// One poll of a GPS's SHM samples: 16, a second apart, `sigma` of noise.
MedianFilter::Combined poll(MedianFilter &f, Rng &rng, int k, double sigma)
{
	for (int i = 0; i < 16; i++) {
		f.add({kStart + std::chrono::seconds(16 * k + i), sigma * gaussian(rng), 1e-6});
	}
	auto c = f.take(1e-9);
	EXPECT_TRUE(c.has_value());
	return c.value_or(MedianFilter::Combined{});
}

double relative_spread(const std::vector<double> &v)
{
	double mean = 0, sq = 0;
	for (double x : v) {
		mean += x;
	}
	mean /= static_cast<double>(v.size());
	for (double x : v) {
		sq += (x - mean) * (x - mean);
	}
	return std::sqrt(sq / static_cast<double>(v.size() - 1)) / mean;
}

TEST(MedianFilter, DispersionIsTheStandardErrorOfARunningAverageSpread)
{
	// 100 µs of noise: each poll keeps 10 of its 16 samples. Their spread,
	// from 8 degrees of freedom, varies from poll to poll by a third. The
	// dispersion is the standard error of the mean offset, from the running
	// average of the variance unless a poll's own is clearly larger (a tenth
	// of polls or so, by chance): the source statistics weigh the samples
	// by it, and noise in the weights is noise in the fit.
	Xoshiro256 rng(11);
	MedianFilter f(64);
	std::vector<double> spreads, dispersions;
	int own = 0;
	for (int k = 0; k < 80; k++) {
		auto c = poll(f, rng, k, 100e-6);
		if (k >= 20) {
			spreads.push_back(c.spread_s);
			dispersions.push_back(c.sample.dispersion_s);
			double from_own = c.spread_s / std::sqrt(10.0);
			bool is_own = std::abs(c.sample.dispersion_s - from_own) < 1e-6 * c.spread_s;
			own += is_own ? 1 : 0;
		}
	}
	EXPECT_GT(relative_spread(spreads), 0.25);
	EXPECT_LT(relative_spread(dispersions), 0.7 * relative_spread(spreads));
	EXPECT_GE(own, 1);
	EXPECT_LE(own, 15);
	double mean_spread = 0, mean_dispersion = 0;
	for (size_t i = 0; i < spreads.size(); i++) {
		mean_spread += spreads[i] / static_cast<double>(spreads.size());
		mean_dispersion += dispersions[i] / static_cast<double>(spreads.size());
	}
	EXPECT_NEAR(mean_dispersion, mean_spread / std::sqrt(10.0), 0.15 * mean_dispersion);
	// The reference gets five times worse: that poll's own spread counts at
	// once, not the average's.
	auto worse = poll(f, rng, 80, 500e-6);
	EXPECT_NEAR(worse.sample.dispersion_s, worse.spread_s / std::sqrt(10.0),
		    1e-6 * worse.spread_s);
	EXPECT_GT(worse.sample.dispersion_s, 3 * mean_dispersion);
}

} // namespace
} // namespace strata::refclock
