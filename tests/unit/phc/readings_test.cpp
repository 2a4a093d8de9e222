#include "phc/readings.h"

#include <vector>

#include <gtest/gtest.h>

#include "core/random.h"

namespace strata::phc {
namespace {

using namespace std::chrono_literals;

// The PHC runs 37 s ahead (TAI) plus 1234 ns.
constexpr Duration kTrueOffset = 37s + 1234ns;
const RealTime kStart = RealTime::from_parts(1'800'000'000, 0);

/// A sandwich read at `at`, whose PHC read happens `phc_at` into a window of
/// `window` (a slow PHY: the latch point is not in the middle).
Sandwich sandwich(RealTime at, Duration window, Duration phc_at)
{
	return {at, PhcInstant{(at + phc_at).since_epoch + kTrueOffset}, at + window};
}

TEST(PhcReadings, ShortestWindowsWinOverSpikes)
{
	// A slow PHC: windows of 40 µs with the latch anywhere ±200 ns around the
	// middle, and two spikes of 400 µs whose latch is far off the middle.
	Xoshiro256 rng(7);
	std::vector<Sandwich> r;
	for (int i = 0; i < 10; i++) {
		auto jitter = Duration(static_cast<int64_t>(rng.uniform() * 400) - 200);
		r.push_back(sandwich(kStart + i * 50us, 40us + Duration(i * 10), 20us + jitter));
	}
	r[3] = sandwich(kStart + 150us, 400us, 390us);
	r[7] = sandwich(kStart + 350us, 380us, 5us);
	auto s = process_sandwiches(r, 1e-8);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->used, 8u);
	EXPECT_LT(std::abs((s->offset - kTrueOffset).count()), 300) << "error " << (s->offset - kTrueOffset).count() << " ns";
	EXPECT_NEAR(to_seconds(s->delay), 40.045e-6, 1e-7);
	EXPECT_NEAR(s->dispersion_s, 20e-6, 1e-9);
}

TEST(PhcReadings, AveragesTheSampleTime)
{
	std::vector<Sandwich> r = {sandwich(kStart, 10us, 5us), sandwich(kStart + 100us, 10us, 5us)};
	auto s = process_sandwiches(r, 1e-9);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->sys, kStart + 55us);
	EXPECT_EQ(s->offset, kTrueOffset);
}

TEST(PhcReadings, NegativeWindowsAreIgnored)
{
	// The system clock was stepped back during the second read.
	std::vector<Sandwich> r = {sandwich(kStart, 10us, 5us), {kStart + 1s, PhcInstant{}, kStart}};
	auto s = process_sandwiches(r, 1e-9);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->used, 1u);
	EXPECT_FALSE(process_sandwiches(std::span(r).subspan(1), 1e-9).has_value());
	EXPECT_FALSE(process_sandwiches({}, 1e-9).has_value());
}

TEST(PhcReadings, PrecisionWidensTheMarginOfFastClocks)
{
	// Windows of 10 ns and 25 ns: both used when the precision is 20 ns
	// (limit 10 + 20 = 30 ns), only the first when it is 1 ns (limit 20 ns).
	std::vector<Sandwich> r = {sandwich(kStart, 10ns, 5ns), sandwich(kStart + 1us, 25ns, 12ns)};
	EXPECT_EQ(process_sandwiches(r, 20e-9)->used, 2u);
	EXPECT_EQ(process_sandwiches(r, 1e-9)->used, 1u);
}

TEST(PhcReadings, CrossTimestampIsExact)
{
	auto s = from_cross_timestamp({kStart, PhcInstant{kStart.since_epoch + kTrueOffset}}, 1e-9);
	EXPECT_EQ(s.offset, kTrueOffset);
	EXPECT_EQ(s.delay, Duration::zero());
	EXPECT_EQ(s.sys, kStart);
}

} // namespace
} // namespace strata::phc
