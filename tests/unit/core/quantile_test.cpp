#include "core/quantile.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(QuantileEstimator, ZeroUntilTheFirstValueWhichSetsItAll)
{
	Xoshiro256 rng(1);
	QuantileEstimator q(0.1, 7, 1e-9);
	EXPECT_EQ(q.quantile(), 0.0);
	q.add(5e-5, rng);
	EXPECT_EQ(q.quantile(), 5e-5);
	EXPECT_EQ(q.values(), 1u);
	q.reset();
	EXPECT_EQ(q.quantile(), 0.0);
}

// Delays spread uniformly over 10..30 µs: the estimates settle where the
// asked fraction lies below, whichever side they start from.
void expect_settles(double p, double first)
{
	Xoshiro256 rng(7);
	QuantileEstimator q(p, 7, 5e-9);
	q.add(first, rng);
	for (int i = 0; i < 20000; i++) {
		q.add(10e-6 + 20e-6 * rng.uniform(), rng);
	}
	double expected = 10e-6 + 20e-6 * p;
	EXPECT_NEAR(q.quantile(), expected, 1.5e-6) << "p " << p << " from " << first;
}

TEST(QuantileEstimator, SettlesOnTheQuantile)
{
	expect_settles(0.1, 30e-6);
	expect_settles(0.1, 10e-6);
	expect_settles(0.5, 10e-6);
	expect_settles(0.9, 10e-6);
}

TEST(QuantileEstimator, FollowsAChangeOfTheStream)
{
	Xoshiro256 rng(3);
	QuantileEstimator q(0.5, 7, 5e-9);
	for (int i = 0; i < 5000; i++) {
		q.add(1e-3 + 1e-5 * rng.uniform(), rng);
	}
	EXPECT_NEAR(q.quantile(), 1.005e-3, 2e-6);
	// The path gets 500 µs shorter: the growing step takes it there.
	for (int i = 0; i < 5000; i++) {
		q.add(0.5e-3 + 1e-5 * rng.uniform(), rng);
	}
	EXPECT_NEAR(q.quantile(), 0.505e-3, 2e-6);
}

} // namespace
} // namespace strata
