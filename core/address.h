// IP addresses and subnets, pure: parsing and formatting without the C
// library's resolver functions, so that configuration, access control and
// the client log share one type and stay testable anywhere.
//
// Text forms: IPv4 dotted quads (four decimal octets, no leading-zero octal);
// IPv6 per RFC 4291 §2.2 (hex groups, one "::", an embedded dotted quad at
// the end); output per RFC 5952 (lower case, longest zero run compressed).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strata {

class IpAddress {
public:
	enum class Family : uint8_t { V4, V6 };

	IpAddress() = default;  ///< 0.0.0.0
	static IpAddress v4(uint32_t host_order);
	static IpAddress v6(const std::array<uint8_t, 16> &bytes);
	/// Parses a numeric IPv4 or IPv6 address; nullopt for anything else
	/// (names, prefixes, scope ids, whitespace).
	static std::optional<IpAddress> parse(std::string_view text);

	Family family() const { return family_; }
	bool is_v4() const { return family_ == Family::V4; }
	/// Network-order bytes: 4 significant for IPv4, 16 for IPv6.
	const std::array<uint8_t, 16> &bytes() const { return bytes_; }
	uint32_t v4_host_order() const;
	/// 32 for IPv4, 128 for IPv6.
	int bit_length() const { return is_v4() ? 32 : 128; }
	/// Bit `i` (0 = most significant) of the address.
	bool bit(int i) const { return (bytes_[static_cast<size_t>(i / 8)] >> (7 - i % 8)) & 1; }
	/// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as IPv4; others unchanged.
	IpAddress unmapped() const;
	std::string to_string() const;

	friend auto operator<=>(const IpAddress &, const IpAddress &) = default;

private:
	Family family_ = Family::V4;
	std::array<uint8_t, 16> bytes_{};
};

/// An address prefix: `address/prefix_len`, host bits zero.
struct Subnet {
	IpAddress address;
	int prefix_len = 0;

	/// Parses "ADDR" (a host: /32 or /128) or "ADDR/LEN". Host bits set in
	/// ADDR are cleared, as chronyd does. nullopt for malformed text or a
	/// length out of range.
	static std::optional<Subnet> parse(std::string_view text);
	/// Masks `a` to `len` bits (clamped to the family's length).
	static Subnet of(const IpAddress &a, int len);
	bool contains(const IpAddress &a) const;
	std::string to_string() const;

	friend auto operator<=>(const Subnet &, const Subnet &) = default;
};

} // namespace strata
