#include "tools/load_stats.h"

#include <algorithm>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace strata::tools {
namespace {

using namespace std::chrono_literals;

TEST(LatencyHistogram, EmptyReportsZero)
{
	LatencyHistogram h;
	EXPECT_EQ(h.count(), 0u);
	EXPECT_EQ(h.percentile(0.5), Duration::zero());
	EXPECT_EQ(h.min(), Duration::zero());
}

TEST(LatencyHistogram, SingleValueIsExactThroughMax)
{
	LatencyHistogram h;
	h.add(37us);
	EXPECT_EQ(h.percentile(0.0), 37us);
	EXPECT_EQ(h.percentile(0.5), 37us);
	EXPECT_EQ(h.percentile(1.0), 37us);
	EXPECT_EQ(h.max(), 37us);
	EXPECT_EQ(h.min(), 37us);
}

TEST(LatencyHistogram, PercentilesWithinThreePercentOfExact)
{
	std::mt19937_64 rng(12345);
	std::lognormal_distribution<double> dist(std::log(50e3), 0.8);  // ~50 µs
	LatencyHistogram h;
	std::vector<int64_t> values;
	for (int i = 0; i < 100000; i++) {
		auto ns = static_cast<int64_t>(dist(rng)) + 1;
		values.push_back(ns);
		h.add(Duration(ns));
	}
	std::sort(values.begin(), values.end());
	for (double q : {0.5, 0.9, 0.99, 0.999}) {
		auto exact = static_cast<double>(values[static_cast<size_t>(q * 100000) - 1]);
		auto got = static_cast<double>(h.percentile(q).count());
		EXPECT_GE(got, exact) << "q=" << q;  // upper bucket edge: never under
		EXPECT_LE(got, exact * (1 + 1.0 / LatencyHistogram::kSubBuckets) + 1) << "q=" << q;
	}
	EXPECT_EQ(h.max().count(), values.back());
}

TEST(LatencyHistogram, HugeAndZeroValuesAreClamped)
{
	LatencyHistogram h;
	h.add(Duration::zero());
	h.add(100s);
	EXPECT_EQ(h.count(), 2u);
	EXPECT_EQ(h.percentile(1.0), 100s);  // clamped to max, which is exact
	EXPECT_LE(h.percentile(0.5), 1ns);
}

TEST(LatencyHistogram, MergeAddsCounts)
{
	LatencyHistogram a, b;
	a.add(1ms);
	b.add(3ms);
	b.add(2ms);
	a.merge(b);
	EXPECT_EQ(a.count(), 3u);
	EXPECT_EQ(a.max(), 3ms);
	EXPECT_EQ(a.min(), 1ms);
	EXPECT_GE(a.percentile(0.5), 2ms);
	EXPECT_LT(a.percentile(0.5), 3ms);
}

TEST(Pacer, CountsDueRequestsExactlyAtBoundaries)
{
	auto start = MonoTime::from_parts(100, 0);
	Pacer p(1000.0, start);
	EXPECT_EQ(p.due(start), 0u);
	EXPECT_EQ(p.due(start - 1ns), 0u);
	EXPECT_EQ(p.due(start + 999us), 0u);
	EXPECT_EQ(p.due(start + 1ms), 1u);
	EXPECT_EQ(p.due(start + 1s), 1000u);
	EXPECT_FALSE(p.unlimited());
}

TEST(Pacer, ZeroRateIsUnlimited)
{
	Pacer p(0, MonoTime{});
	EXPECT_TRUE(p.unlimited());
	EXPECT_EQ(p.due(MonoTime{}), UINT64_MAX);
}

TEST(SignedSamples, NearestRankPercentilesKeepTheSign)
{
	SignedSamples s;
	EXPECT_EQ(s.percentile(0.5), Duration::zero());
	// -50 µs … +49 µs in 1 µs steps, shuffled.
	std::vector<int> us;
	for (int v = -50; v < 50; v++) {
		us.push_back(v);
	}
	std::shuffle(us.begin(), us.end(), std::mt19937(7));
	for (int v : us) {
		s.add(std::chrono::microseconds(v));
	}
	EXPECT_EQ(s.count(), 100u);
	EXPECT_EQ(s.percentile(0.01), -50us);  // rank 1
	EXPECT_EQ(s.percentile(0.02), -49us);  // rank 2
	EXPECT_EQ(s.percentile(0.5), -1us);    // rank 50
	EXPECT_EQ(s.percentile(0.99), 48us);   // rank 99
	EXPECT_EQ(s.percentile(1.0), 49us);
	EXPECT_EQ(s.percentile(0.0), -50us);
}

TEST(SignedSamples, ClampsBeyondTwoSeconds)
{
	SignedSamples s;
	s.add(-10s);
	s.add(10s);
	EXPECT_EQ(s.percentile(0.0), Duration(-INT32_MAX));
	EXPECT_EQ(s.percentile(1.0), Duration(INT32_MAX));
}

TEST(NtpOffset, RfcFormulaWithItsSign)
{
	RealTime t1 = RealTime::from_parts(1'700'000'000, 0);
	// Symmetric 10 µs paths, the server 3 µs ahead, 200 µs in the server.
	RealTime t2 = t1 + 10us + 3us;
	RealTime t3 = t2 + 200us;
	RealTime t4 = t1 + 10us + 200us + 10us;
	EXPECT_EQ(ntp_offset(t1, t2, t3, t4), 3us);
	// The same exchange with t3 read 8 µs before the response really
	// left: the client sees the server 4 µs behind where it is.
	EXPECT_EQ(ntp_offset(t1, t2, t3 - 8us, t4), -1us);
}

TEST(ClientAddress, StaysInLoopbackAndSkipsZeroAndBroadcastHosts)
{
	EXPECT_EQ(format_ipv4(client_address(0)), "127.1.0.1");
	EXPECT_EQ(format_ipv4(client_address(253)), "127.1.0.254");
	EXPECT_EQ(format_ipv4(client_address(254)), "127.1.1.1");
	EXPECT_EQ(format_ipv4(client_address(254 * 256)), "127.2.0.1");
	std::vector<uint32_t> seen;
	for (uint32_t i = 0; i < 200000; i++) {
		uint32_t a = client_address(i);
		ASSERT_EQ(a >> 24, 127u);
		ASSERT_NE(a & 0xff, 0u);
		ASSERT_NE(a & 0xff, 255u);
		seen.push_back(a);
	}
	std::sort(seen.begin(), seen.end());
	EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end()) << "addresses repeat";
}

} // namespace
} // namespace strata::tools
