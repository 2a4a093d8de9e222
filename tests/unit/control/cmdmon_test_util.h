// Byte helpers shared by the cmdmon tests: golden datagrams are written as
// lists of octets, field by field.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/address.h"

namespace strata::control::testing {

using Bytes = std::vector<std::byte>;

/// Concatenates groups of octets (one group per field keeps goldens readable).
inline Bytes octets(std::initializer_list<std::initializer_list<int>> groups)
{
	Bytes out;
	for (const auto &group : groups) {
		for (int v : group) {
			out.push_back(static_cast<std::byte>(v));
		}
	}
	return out;
}

/// `n` zero octets.
inline Bytes zeros(size_t n)
{
	return Bytes(n, std::byte{0});
}

inline Bytes concat(std::initializer_list<Bytes> parts)
{
	Bytes out;
	for (const Bytes &p : parts) {
		out.insert(out.end(), p.begin(), p.end());
	}
	return out;
}

/// Hex dump for failure messages.
inline std::string hex(std::span<const std::byte> data)
{
	std::string out;
	for (size_t i = 0; i < data.size(); i++) {
		out += fmt::format("{}{:02x}", i == 0 ? "" : (i % 4 == 0 ? " | " : " "),
				   std::to_integer<unsigned>(data[i]));
	}
	return out;
}

/// A numeric address the test spells out (it must parse).
inline IpAddress ip(const char *text)
{
	return *IpAddress::parse(text);
}

} // namespace strata::control::testing
