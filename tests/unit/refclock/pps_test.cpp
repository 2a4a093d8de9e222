// The PPS refclock's parameter and its check of fetched time stamps.
#include "refclock/pps.h"

#include <cstdint>

#include <gtest/gtest.h>

#include "refclock/sample.h"

namespace strata::refclock {
namespace {

TEST(PpsParameter, PathAndEdge)
{
	auto o = parse_pps_parameter("/dev/pps0");
	ASSERT_TRUE(o.has_value());
	EXPECT_EQ(o->path, "/dev/pps0");
	EXPECT_EQ(o->edge, PpsEdge::Assert);

	o = parse_pps_parameter("/dev/pps1:clear");
	ASSERT_TRUE(o.has_value());
	EXPECT_EQ(o->path, "/dev/pps1");
	EXPECT_EQ(o->edge, PpsEdge::Clear);

	o = parse_pps_parameter("/dev/pps1:CLEAR:clear");
	ASSERT_TRUE(o.has_value());
	EXPECT_EQ(o->edge, PpsEdge::Clear);

	o = parse_pps_parameter("/dev/pps2:assert");
	ASSERT_TRUE(o.has_value());
	EXPECT_EQ(o->edge, PpsEdge::Assert);
}

TEST(PpsParameter, Errors)
{
	for (const char *bad : {"", ":clear", "/dev/pps0:", "/dev/pps0:falling",
				"/dev/pps0:clear:assert"}) {
		auto o = parse_pps_parameter(bad);
		ASSERT_FALSE(o.has_value()) << bad;
		EXPECT_EQ(o.error().code, Errc::InvalidArgument) << bad;
	}
	EXPECT_EQ(parse_pps_parameter("/dev/pps0:rising").error().context,
		  "refclock PPS: unknown option 'rising'");
}

TEST(PpsEdgeTime, AcceptsOnlyNormalisedTimesAfter1970)
{
	EXPECT_EQ(pps_edge_time(1'700'000'000, 999'999'999),
		  RealTime::from_parts(1'700'000'000, 999'999'999));
	EXPECT_EQ(pps_edge_time(0, 0), RealTime::from_parts(0, 0));
	EXPECT_FALSE(pps_edge_time(1'700'000'000, 1'000'000'000).has_value());
	EXPECT_FALSE(pps_edge_time(1'700'000'000, -1).has_value());
	EXPECT_FALSE(pps_edge_time(-1, 500).has_value());
	EXPECT_FALSE(pps_edge_time(kMaxSampleSeconds, 0).has_value());
	EXPECT_FALSE(pps_edge_time(INT64_MIN, 0).has_value());
	EXPECT_FALSE(pps_edge_time(INT64_MAX, 0).has_value());
}

} // namespace
} // namespace strata::refclock
