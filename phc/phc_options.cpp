#include "phc/phc_options.h"
#include "core/text.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include <fmt/format.h>

namespace strata::phc {

namespace {

/// A decimal number in 0–65535 (pins and channels are small unsigned ints
/// in the kernel's structs; nobody has 65536 of them).
std::optional<int> small_number(std::string_view s)
{
	if (s.empty() || s.size() > 5) {
		return std::nullopt;
	}
	int value = 0;
	for (char c : s) {
		if (c < '0' || c > '9') {
			return std::nullopt;
		}
		value = value * 10 + (c - '0');
	}
	if (value > 65535) {
		return std::nullopt;
	}
	return value;
}

} // namespace

Result<PhcOptions> parse_phc_parameter(std::string_view parameter)
{
	PhcOptions options;
	size_t colon = parameter.find(':');
	options.device = std::string(parameter.substr(0, colon));
	if (options.device.empty()) {
		return fail(Errc::InvalidArgument,
			    fmt::format("refclock PHC: missing device in '{}'", parameter));
	}
	while (colon != std::string_view::npos) {
		parameter.remove_prefix(colon + 1);
		colon = parameter.find(':');
		std::string_view option = parameter.substr(0, colon);
		size_t eq = option.find('=');
		std::string_view key = option.substr(0, eq);
		if (eq == std::string_view::npos) {
			if (iequals(key, "nocrossts")) {
				options.nocrossts = true;
			} else if (iequals(key, "extpps")) {
				options.extpps = true;
			} else if (iequals(key, "clear")) {
				options.clear = true;
			} else {
				return fail(Errc::InvalidArgument,
					    fmt::format("refclock PHC: unknown option '{}'", option));
			}
			continue;
		}
		int *target = iequals(key, "pin")       ? &options.pin
			      : iequals(key, "channel") ? &options.channel
							: nullptr;
		if (target == nullptr) {
			return fail(Errc::InvalidArgument,
				    fmt::format("refclock PHC: unknown option '{}'", option));
		}
		auto value = small_number(option.substr(eq + 1));
		if (!value) {
			return fail(Errc::InvalidArgument,
				    fmt::format("refclock PHC: invalid value in '{}'", option));
		}
		*target = *value;
	}
	return options;
}

} // namespace strata::phc
