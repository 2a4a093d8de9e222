#include "refclock/gpio.h"
#include "core/text.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include <fmt/format.h>

namespace strata::refclock {

namespace {

bool all_digits(std::string_view text)
{
	return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
		return c >= '0' && c <= '9';
	});
}

/// A decimal number of at most 9 digits (no line or chip has more).
std::optional<unsigned> parse_number(std::string_view text)
{
	if (!all_digits(text) || text.size() > 9) {
		return std::nullopt;
	}
	unsigned value = 0;
	for (char c : text) {
		value = value * 10 + static_cast<unsigned>(c - '0');
	}
	return value;
}

} // namespace

const char *to_string(GpioEdge edge)
{
	switch (edge) {
	case GpioEdge::Rising:
		return "rising";
	case GpioEdge::Falling:
		return "falling";
	case GpioEdge::Both:
		return "both";
	}
	return "?";
}

Result<GpioOptions> parse_gpio_parameter(std::string_view parameter)
{
	GpioOptions options;
	options.name = fmt::format("GPIO {}", parameter);

	size_t colon = parameter.find(':');
	std::string_view chip = parameter.substr(0, colon);
	if (chip.empty() || colon == std::string_view::npos) {
		return fail(Errc::InvalidArgument,
			    fmt::format("refclock GPIO: '{}' is not CHIP:LINE", parameter));
	}
	if (chip.find('/') != std::string_view::npos) {
		options.chip_path = std::string(chip);
	} else if (all_digits(chip)) {
		auto number = parse_number(chip);
		if (!number) {
			return fail(Errc::InvalidArgument,
				    fmt::format("refclock GPIO: '{}' is not a chip number", chip));
		}
		options.chip_path = fmt::format("/dev/gpiochip{}", *number);
	} else {
		options.chip_path = fmt::format("/dev/{}", chip);
	}

	parameter.remove_prefix(colon + 1);
	colon = parameter.find(':');
	std::string_view line = parameter.substr(0, colon);
	if (line.empty()) {
		return fail(Errc::InvalidArgument, "refclock GPIO: no line given after the chip");
	}
	if (all_digits(line)) {
		auto offset = parse_number(line);
		if (!offset) {
			return fail(Errc::InvalidArgument,
				    fmt::format("refclock GPIO: '{}' is not a line offset", line));
		}
		options.line = *offset;
	} else {
		options.line = std::string(line);
	}

	bool edge_given = false;
	while (colon != std::string_view::npos) {
		parameter.remove_prefix(colon + 1);
		colon = parameter.find(':');
		std::string_view option = parameter.substr(0, colon);
		GpioEdge edge{};
		if (iequals(option, "rising")) {
			edge = GpioEdge::Rising;
		} else if (iequals(option, "falling")) {
			edge = GpioEdge::Falling;
		} else if (iequals(option, "both")) {
			edge = GpioEdge::Both;
		} else if (iequals(option, "hte")) {
			return fail(Errc::InvalidArgument,
				    "refclock GPIO: hte is not supported (hardware time stamps are "
				    "on the engine's own counter, not on the system clock)");
		} else {
			return fail(Errc::InvalidArgument,
				    fmt::format("refclock GPIO: unknown option '{}'", option));
		}
		if (edge_given) {
			return fail(Errc::InvalidArgument,
				    "refclock GPIO: give one edge: rising, falling or both");
		}
		options.edge = edge;
		edge_given = true;
	}
	return options;
}

} // namespace strata::refclock
