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

TEST(PhcReadings, MarginFollowsTheSpreadOfOrdinaryWindows)
{
	// Windows of 30–32 µs latched in the middle, and one that grew by 25 µs
	// before its latch: short next to the 30 µs it adds to, but 12.5 µs
	// off. The margin (5 × the 0.5 µs of the first quartile) leaves it out.
	std::vector<Sandwich> r;
	for (int i = 0; i < 9; i++) {
		Duration window = 30us + Duration(i * 250);
		r.push_back(sandwich(kStart + i * 50us, window, window / 2));
	}
	r.push_back(sandwich(kStart + 500us, 55us, 40us));
	auto s = process_sandwiches(r, 1e-9);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->used, 9u);
	EXPECT_LT(std::abs((s->offset - kTrueOffset).count()), 2);

	// Equal windows: the margin is the precision.
	std::vector<Sandwich> equal = {sandwich(kStart, 1us, 500ns), sandwich(kStart + 2us, 1us, 500ns),
				       sandwich(kStart + 4us, 1010ns, 505ns)};
	EXPECT_EQ(process_sandwiches(equal, 5e-9)->used, 2u);
	EXPECT_EQ(process_sandwiches(equal, 20e-9)->used, 3u);
}

TEST(PhcReadings, MostlySpikesStillKeepTheShortest)
{
	// Eight spikes of 400–470 µs and two 30 µs readings: the first quartile
	// is a spike, and the margin stops at the shortest window.
	std::vector<Sandwich> r;
	for (int i = 0; i < 8; i++) {
		r.push_back(sandwich(kStart + i * 1ms, 400us + i * 10us, 10us));
	}
	for (int i = 0; i < 2; i++) {
		r.push_back(sandwich(kStart + 10ms + i * 50us, 30us, 15us));
	}
	auto s = process_sandwiches(r, 1e-9);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->used, 2u);
	EXPECT_EQ(s->offset, kTrueOffset);
}

TEST(PhcReadings, SlowPhcWithRandomSpikesStaysBelowAMicrosecond)
{
	// A CM4-like PHY: 30–32 µs windows latched within ±300 ns of the middle;
	// one reading in ten stalls for 1–500 µs, the stall falling at random
	// before and after the latch (so a short stall moves the latch off the
	// middle by up to half its length). Ten readings a poll, 5000 polls.
	Xoshiro256 rng(11);
	auto uniform = [&](Duration lo, Duration hi) {
		return lo + Duration(static_cast<int64_t>(rng.uniform() * static_cast<double>((hi - lo).count())));
	};
	int64_t worst = 0;
	for (int poll = 0; poll < 5000; poll++) {
		std::vector<Sandwich> r;
		RealTime at = kStart + poll * 1s;
		for (int i = 0; i < 10; i++) {
			Duration window = uniform(30us, 32us);
			Duration latch = window / 2 + uniform(-300ns, 300ns);
			if (rng.uniform() < 0.1) {
				Duration stall = uniform(1us, 500us);
				window += stall;
				latch += uniform(Duration::zero(), stall);
			}
			r.push_back(sandwich(at, window, latch));
			at += window + 1us;
		}
		auto s = process_sandwiches(r, 1e-9);
		ASSERT_TRUE(s.has_value());
		worst = std::max(worst, std::abs((s->offset - kTrueOffset).count()));
	}
	EXPECT_LT(worst, 1000) << "worst error " << worst << " ns";
}

TEST(PhcReadings, ToSystemTimeUsesTheRate)
{
	// The PHC gains 50 ppm on the system clock.
	PhcSample earlier{.sys = kStart, .offset = kTrueOffset, .delay = {}, .dispersion_s = 0};
	PhcSample latest{.sys = kStart + 2s, .offset = kTrueOffset + 100us, .delay = {}, .dispersion_s = 0};
	// An edge the PHC latched 0.5 s (of its time) after the latest reading.
	PhcInstant edge{(latest.sys + latest.offset).since_epoch + 500'025'000ns};
	RealTime expected = latest.sys + 500ms;  // 500.025 ms of PHC time at 1.00005
	EXPECT_LT(std::abs((phc_to_system(edge, latest, &earlier) - expected).count()), 2);
	// Without the rate: 25 µs off.
	EXPECT_EQ(phc_to_system(edge, latest) - expected, 25us);
	// Samples too close for a rate, or a rate no clock has (a step): none used.
	PhcSample close = earlier;
	close.sys = latest.sys - 50ms;
	EXPECT_EQ(phc_to_system(edge, latest, &close) - expected, 25us);
	PhcSample stepped = earlier;
	stepped.offset = kTrueOffset - 1s;
	EXPECT_EQ(phc_to_system(edge, latest, &stepped) - expected, 25us);
	// Before the latest reading too.
	PhcInstant before{(latest.sys + latest.offset).since_epoch - 1'000'050ns};
	EXPECT_LT(std::abs((phc_to_system(before, latest, &earlier) - (latest.sys - 1ms)).count()), 2);
}

TEST(PhcReadings, NearestSecond)
{
	EXPECT_EQ(nearest_second(PhcInstant::from_parts(100, 499'999'999)), PhcInstant::from_parts(100, 0));
	EXPECT_EQ(nearest_second(PhcInstant::from_parts(100, 500'000'000)), PhcInstant::from_parts(101, 0));
	EXPECT_EQ(nearest_second(PhcInstant::from_parts(100, 999'999'000)), PhcInstant::from_parts(101, 0));
	EXPECT_EQ(nearest_second(PhcInstant::from_parts(100, 0)), PhcInstant::from_parts(100, 0));
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
