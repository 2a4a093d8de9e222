// The pure half of the GPIO refclock, a strata extension: a PPS signal wired
// to a GPIO line, its edges stamped by the kernel's GPIO character device
// and read through libgpiod (refclock/gpio_linux.h), with no pps-gpio
// device-tree overlay and no /dev/ppsN. Its parameter names the chip, the
// line and the edge:
//
//   refclock GPIO gpiochip0:18
//   refclock GPIO /dev/gpiochip4:GPIO18:falling
//
// Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "core/result.h"

namespace strata::refclock {

/// Which edges are pulses. Both: every edge marks a second (a signal that
/// toggles once a second, a 0.5 Hz square wave), not a pulse and its end.
enum class GpioEdge : uint8_t { Rising, Falling, Both };

const char *to_string(GpioEdge edge);

/// The `refclock GPIO` parameter: "CHIP:LINE[:rising|:falling|:both]".
struct GpioOptions {
	/// The chip's character device: "/dev/gpiochip0".
	std::string chip_path;
	/// The line: its offset on the chip, or its name ("GPIO18" on a
	/// Raspberry Pi), looked up on that chip when the line is requested.
	std::variant<unsigned, std::string> line;
	GpioEdge edge = GpioEdge::Rising;
	/// The parameter as written, for log lines: "GPIO gpiochip0:18".
	std::string name;
};

/// Parses the parameter. CHIP is a path ("/dev/gpiochip0": anything with a
/// '/'), a device name ("gpiochip0", taken from /dev) or a chip number
/// ("0" for /dev/gpiochip0). LINE is an offset (decimal digits) or a line
/// name. The edge is case-insensitive and rising by default. Errors
/// (Errc::InvalidArgument): a missing chip or line, an unknown or repeated
/// option, and "hte" (hardware time stamps are not supported: the Tegra
/// engine stamps on its own counter, which neither CLOCK_REALTIME nor
/// CLOCK_MONOTONIC is, so they could not be turned into system time exactly).
Result<GpioOptions> parse_gpio_parameter(std::string_view parameter);

} // namespace strata::refclock
