// The `refclock PHC` parameter: device, chrony's options, and what is refused.
#include "phc/phc_options.h"

#include <gtest/gtest.h>

namespace strata::phc {
namespace {

TEST(PhcOptions, PathAlone)
{
	auto o = parse_phc_parameter("/dev/ptp0");
	ASSERT_TRUE(o.has_value()) << o.error().message();
	EXPECT_EQ(o->device, "/dev/ptp0");
	EXPECT_FALSE(o->by_interface());
	EXPECT_FALSE(o->nocrossts);
	EXPECT_FALSE(o->extpps);
	EXPECT_FALSE(o->clear);
	EXPECT_EQ(o->pin, 0);
	EXPECT_EQ(o->channel, 0);
	EXPECT_EQ(o->readings, 10);
}

TEST(PhcOptions, InterfaceAndEveryOption)
{
	auto o = parse_phc_parameter("eth0:nocrossts:EXTPPS:pin=3:Channel=1:clear");
	ASSERT_TRUE(o.has_value()) << o.error().message();
	EXPECT_EQ(o->device, "eth0");
	EXPECT_TRUE(o->by_interface());
	EXPECT_TRUE(o->nocrossts);
	EXPECT_TRUE(o->extpps);
	EXPECT_TRUE(o->clear);
	EXPECT_EQ(o->pin, 3);
	EXPECT_EQ(o->channel, 1);
}

TEST(PhcOptions, Refused)
{
	struct Case {
		const char *parameter;
		const char *message;
	};
	for (auto c : {
		     Case{"", "refclock PHC: missing device in ''"},
		     Case{":extpps", "refclock PHC: missing device in ':extpps'"},
		     Case{"/dev/ptp0:extps", "refclock PHC: unknown option 'extps'"},
		     Case{"/dev/ptp0:", "refclock PHC: unknown option ''"},
		     Case{"/dev/ptp0:extpps=1", "refclock PHC: unknown option 'extpps=1'"},
		     Case{"/dev/ptp0:pin=", "refclock PHC: invalid value in 'pin='"},
		     Case{"/dev/ptp0:pin=-1", "refclock PHC: invalid value in 'pin=-1'"},
		     Case{"/dev/ptp0:channel=65536", "refclock PHC: invalid value in 'channel=65536'"},
		     Case{"/dev/ptp0:channel=1x", "refclock PHC: invalid value in 'channel=1x'"},
	     }) {
		auto o = parse_phc_parameter(c.parameter);
		ASSERT_FALSE(o.has_value()) << c.parameter;
		EXPECT_EQ(o.error().code, Errc::InvalidArgument);
		EXPECT_EQ(o.error().context, c.message);
	}
	EXPECT_EQ(parse_phc_parameter("/dev/ptp0:channel=65535")->channel, 65535);
}

} // namespace
} // namespace strata::phc
