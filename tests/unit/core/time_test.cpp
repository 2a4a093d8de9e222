#include "core/time.h"
#include "core/units.h"

#include <type_traits>

#include <gtest/gtest.h>

namespace strata {
namespace {

using namespace std::chrono_literals;

static_assert(!std::is_convertible_v<MonoTime, RealTime>, "clock domains must not mix");
static_assert(!std::is_convertible_v<RealTime, MonoTime>, "clock domains must not mix");

TEST(Instant, SecondsAndSubsecondFloorTowardsMinusInfinity)
{
	auto t = RealTime::from_parts(-1, 250'000'000);  // -0.75 s
	EXPECT_EQ(t.seconds(), -1);
	EXPECT_EQ(t.subsec_ns(), 250'000'000);
	auto u = RealTime::from_parts(1'700'000'000, 999'999'999);
	EXPECT_EQ(u.seconds(), 1'700'000'000);
	EXPECT_EQ(u.subsec_ns(), 999'999'999);
}

TEST(Instant, ArithmeticKeepsNanoseconds)
{
	auto t = MonoTime::from_parts(10, 0);
	auto u = t + 1500ms;
	EXPECT_EQ(u - t, 1500ms);
	EXPECT_EQ((u - 1ns).subsec_ns(), 499'999'999);
	EXPECT_LT(t, u);
}

TEST(Instant, After2038ThereIsNoOverflow)
{
	// 2038-01-19 03:14:08 UTC is 2^31 s; 64-bit ns reach year 2262.
	auto t = RealTime::from_parts(int64_t{1} << 31, 0);
	EXPECT_EQ(t.seconds(), int64_t{1} << 31);
	auto later = t + std::chrono::hours(24 * 365 * 100);
	EXPECT_GT(later.seconds(), t.seconds());
}

TEST(Seconds, RoundTripAndRounding)
{
	EXPECT_DOUBLE_EQ(to_seconds(1500us), 0.0015);
	EXPECT_EQ(from_seconds(1e-9), 1ns);
	EXPECT_EQ(from_seconds(-1.4e-9), -1ns);
	EXPECT_EQ(from_seconds(-1.6e-9), -2ns);
	EXPECT_EQ(from_seconds(0.1), 100ms);
}

TEST(Seconds, SaturatesInsteadOfOverflowing)
{
	EXPECT_GT(from_seconds(1e30), Duration::zero());
	EXPECT_LT(from_seconds(-1e30), Duration::zero());
}

TEST(Units, ScaledPpmMatchesKernelUnit)
{
	EXPECT_EQ(ppm_to_scaled(1.0), 65536);
	EXPECT_EQ(ppm_to_scaled(-500.0), -500 * 65536);
	EXPECT_DOUBLE_EQ(scaled_to_ppm(ppm_to_scaled(12.5)), 12.5);
}

TEST(Units, PollIntervalIsLog2Seconds)
{
	EXPECT_EQ(poll_interval(6), 64s);
	EXPECT_EQ(poll_interval(0), 1s);
	EXPECT_EQ(poll_interval(-7), 7812500ns);
}

} // namespace
} // namespace strata
