// The GPIO refclock's parameter: chip, line and edge.
#include "refclock/gpio.h"

#include <gtest/gtest.h>

namespace strata::refclock {
namespace {

TEST(GpioParameter, ChipByNamePathOrNumber)
{
	auto o = parse_gpio_parameter("gpiochip0:18");
	ASSERT_TRUE(o.has_value()) << o.error().message();
	EXPECT_EQ(o->chip_path, "/dev/gpiochip0");
	EXPECT_EQ(o->line, (std::variant<unsigned, std::string>(18u)));
	EXPECT_EQ(o->edge, GpioEdge::Rising);
	EXPECT_EQ(o->name, "GPIO gpiochip0:18");

	o = parse_gpio_parameter("/dev/gpiochip4:GPIO18:falling");
	ASSERT_TRUE(o.has_value());
	EXPECT_EQ(o->chip_path, "/dev/gpiochip4");
	EXPECT_EQ(o->line, (std::variant<unsigned, std::string>(std::string("GPIO18"))));
	EXPECT_EQ(o->edge, GpioEdge::Falling);

	o = parse_gpio_parameter("1:0:BOTH");
	ASSERT_TRUE(o.has_value());
	EXPECT_EQ(o->chip_path, "/dev/gpiochip1");
	EXPECT_EQ(o->line, (std::variant<unsigned, std::string>(0u)));
	EXPECT_EQ(o->edge, GpioEdge::Both);

	o = parse_gpio_parameter("gpiochip0:PPS_IN:rising");
	ASSERT_TRUE(o.has_value());
	EXPECT_EQ(o->line, (std::variant<unsigned, std::string>(std::string("PPS_IN"))));
	EXPECT_EQ(o->edge, GpioEdge::Rising);
}

TEST(GpioParameter, Errors)
{
	for (const char *bad : {"", "gpiochip0", "gpiochip0:", ":18", "gpiochip0:18:",
				"gpiochip0:18:up", "gpiochip0:18:rising:falling",
				"gpiochip0:18:both:both", "gpiochip0:1234567890",
				"1234567890:1", "gpiochip0:18:hte"}) {
		auto o = parse_gpio_parameter(bad);
		ASSERT_FALSE(o.has_value()) << bad;
		EXPECT_EQ(o.error().code, Errc::InvalidArgument) << bad;
	}
	EXPECT_EQ(parse_gpio_parameter("gpiochip0:18:up").error().context,
		  "refclock GPIO: unknown option 'up'");
	EXPECT_EQ(parse_gpio_parameter("gpiochip0").error().context,
		  "refclock GPIO: 'gpiochip0' is not CHIP:LINE");
}

} // namespace
} // namespace strata::refclock
