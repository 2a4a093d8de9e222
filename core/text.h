// Small text helpers shared by the parsers (chrony.conf, refclock
// parameters, stratactl's commands). Pure.
#pragma once

#include <cstddef>
#include <string_view>

namespace strata {

/// ASCII case-insensitive equality: chrony's keywords ("prefer", ":clear",
/// "UTC") are matched in any case, as chronyd matches them.
constexpr bool iequals(std::string_view a, std::string_view b)
{
	if (a.size() != b.size()) {
		return false;
	}
	auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
	for (size_t i = 0; i < a.size(); i++) {
		if (lower(a[i]) != lower(b[i])) {
			return false;
		}
	}
	return true;
}

/// The value of one hexadecimal digit (either case), or -1 for any other
/// character (IPv6 groups, keyfile HEX: keys).
constexpr int hex_value(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

} // namespace strata
