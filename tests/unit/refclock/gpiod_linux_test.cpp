// The real libgpiod backend, on what a test machine has: chips that do not
// exist. (Real edges need a GPIO chip; gpio-sim would give one, but needs
// root and configfs.)
#include "refclock/gpiod_linux.h"

#include <gtest/gtest.h>

#include "tests/fakes/recording_logger.h"

namespace strata::refclock {
namespace {

TEST(Libgpiod, VersionIsTheOneBuiltAgainst)
{
	EXPECT_TRUE(libgpiod_major() == 1 || libgpiod_major() == 2) << libgpiod_major();
}

TEST(Libgpiod, MissingChipIsAnErrorNotACrash)
{
	auto lib = make_libgpiod();
	auto chip = lib->open_chip("/nonexistent/gpiochip9");
	ASSERT_FALSE(chip.has_value());
	EXPECT_EQ(chip.error().code, std::errc::no_such_file_or_directory);
	EXPECT_EQ(chip.error().context, "Could not open /nonexistent/gpiochip9");

	RecordingLogger log;
	auto o = parse_gpio_parameter("/nonexistent/gpiochip9:18");
	ASSERT_TRUE(o.has_value());
	GpioRefclock gpio(*o, log, make_libgpiod());
	EXPECT_FALSE(gpio.retry(MonoTime{}));
	EXPECT_FALSE(gpio.retry(MonoTime{}));
	EXPECT_EQ(log.count(LogLevel::Warning), 1u);
	EXPECT_TRUE(gpio.receive(MonoTime{}).empty());
}

} // namespace
} // namespace strata::refclock
