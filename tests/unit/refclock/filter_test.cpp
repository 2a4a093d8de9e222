#include "refclock/filter.h"

#include <gtest/gtest.h>

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
	EXPECT_NEAR(s->offset_s, 1e-6, 1e-7);
	EXPECT_LT(s->dispersion_s, 1e-7);
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
	EXPECT_EQ(s->local, kStart + 1500ms);
	EXPECT_NEAR(s->offset_s, 1e-3 - 15e-6, 1e-12);
}

TEST(MedianFilter, DispersionIsAtLeastThePrecisionAndTheSamples)
{
	MedianFilter f(4);
	f.add({kStart, 0.0, 2e-3});
	EXPECT_DOUBLE_EQ(f.take(1e-6)->dispersion_s, 2e-3);
	f.add({kStart, 0.0, 0});
	EXPECT_DOUBLE_EQ(f.take(1e-6)->dispersion_s, 1e-6);
}

TEST(MedianFilter, OldestSamplesLeaveFirstWhenFull)
{
	MedianFilter f(2);
	f.add({kStart, 5.0, 0});
	f.add({kStart + 1s, 1.0, 0});
	f.add({kStart + 2s, 1.0, 0});
	EXPECT_EQ(f.size(), 2u);
	EXPECT_DOUBLE_EQ(f.take(0)->offset_s, 1.0);
}

} // namespace
} // namespace strata::refclock
