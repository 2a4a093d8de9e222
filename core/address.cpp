#include "core/address.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "core/text.h"

namespace strata {
namespace {

std::optional<uint32_t> parse_v4(std::string_view s)
{
	uint32_t out = 0;
	for (int i = 0; i < 4; i++) {
		if (i > 0) {
			if (s.empty() || s.front() != '.') {
				return std::nullopt;
			}
			s.remove_prefix(1);
		}
		size_t n = 0;
		while (n < s.size() && s[n] >= '0' && s[n] <= '9') {
			n++;
		}
		if (n == 0 || n > 3 || (n > 1 && s[0] == '0')) {
			return std::nullopt;  // empty, too long, or octal-looking
		}
		unsigned v = 0;
		std::from_chars(s.data(), s.data() + n, v);
		if (v > 255) {
			return std::nullopt;
		}
		out = (out << 8) | v;
		s.remove_prefix(n);
	}
	if (!s.empty()) {
		return std::nullopt;
	}
	return out;
}

std::optional<std::array<uint8_t, 16>> parse_v6(std::string_view s)
{
	std::array<uint16_t, 8> head{}, tail{};
	int nhead = 0, ntail = 0;
	bool gap = false;
	if (s.size() >= 2 && s.substr(0, 2) == "::") {
		gap = true;
		s.remove_prefix(2);
		if (s.empty()) {
			return std::array<uint8_t, 16>{};
		}
	} else if (!s.empty() && s.front() == ':') {
		return std::nullopt;
	}
	std::array<uint8_t, 4> v4tail{};
	bool has_v4 = false;
	while (!s.empty()) {
		// An embedded IPv4 address may only end the text.
		auto dot = s.find('.');
		auto colon = s.find(':');
		if (dot != std::string_view::npos && (colon == std::string_view::npos || dot < colon)) {
			auto v4 = parse_v4(s);
			if (!v4) {
				return std::nullopt;
			}
			for (int i = 0; i < 4; i++) {
				v4tail[static_cast<size_t>(i)] = static_cast<uint8_t>(*v4 >> (24 - 8 * i));
			}
			has_v4 = true;
			break;
		}
		size_t n = 0;
		unsigned v = 0;
		while (n < s.size() && n < 5 && hex_value(s[n]) >= 0) {
			v = v * 16 + static_cast<unsigned>(hex_value(s[n]));
			n++;
		}
		if (n == 0 || n > 4) {
			return std::nullopt;
		}
		auto &groups = gap ? tail : head;
		int &count = gap ? ntail : nhead;
		if (count >= 8) {
			return std::nullopt;
		}
		groups[static_cast<size_t>(count++)] = static_cast<uint16_t>(v);
		s.remove_prefix(n);
		if (s.empty()) {
			break;
		}
		if (s.front() != ':') {
			return std::nullopt;
		}
		s.remove_prefix(1);
		if (!s.empty() && s.front() == ':') {
			if (gap) {
				return std::nullopt;  // a second "::"
			}
			gap = true;
			s.remove_prefix(1);
			if (s.empty()) {
				break;
			}
		} else if (s.empty()) {
			return std::nullopt;  // trailing single ':'
		}
	}
	int groups_used = nhead + ntail + (has_v4 ? 2 : 0);
	if (gap ? groups_used > 7 : groups_used != 8) {
		return std::nullopt;
	}
	std::array<uint8_t, 16> out{};
	auto put = [&](int group, uint16_t v) {
		out[static_cast<size_t>(2 * group)] = static_cast<uint8_t>(v >> 8);
		out[static_cast<size_t>(2 * group + 1)] = static_cast<uint8_t>(v & 0xff);
	};
	for (int i = 0; i < nhead; i++) {
		put(i, head[static_cast<size_t>(i)]);
	}
	int first_tail = 8 - ntail - (has_v4 ? 2 : 0);
	for (int i = 0; i < ntail; i++) {
		put(first_tail + i, tail[static_cast<size_t>(i)]);
	}
	if (has_v4) {
		std::copy(v4tail.begin(), v4tail.end(), out.begin() + 12);
	}
	return out;
}

} // namespace

IpAddress IpAddress::v4(uint32_t host_order)
{
	IpAddress a;
	a.family_ = Family::V4;
	for (int i = 0; i < 4; i++) {
		a.bytes_[static_cast<size_t>(i)] = static_cast<uint8_t>(host_order >> (24 - 8 * i));
	}
	return a;
}

IpAddress IpAddress::v6(const std::array<uint8_t, 16> &bytes)
{
	IpAddress a;
	a.family_ = Family::V6;
	a.bytes_ = bytes;
	return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text)
{
	if (text.find(':') != std::string_view::npos) {
		auto b = parse_v6(text);
		return b ? std::optional(v6(*b)) : std::nullopt;
	}
	auto v = parse_v4(text);
	return v ? std::optional(v4(*v)) : std::nullopt;
}

uint32_t IpAddress::v4_host_order() const
{
	return (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) | (uint32_t{bytes_[2]} << 8) |
	       bytes_[3];
}

IpAddress IpAddress::unmapped() const
{
	if (is_v4()) {
		return *this;
	}
	for (size_t i = 0; i < 10; i++) {
		if (bytes_[i] != 0) {
			return *this;
		}
	}
	if (bytes_[10] != 0xff || bytes_[11] != 0xff) {
		return *this;
	}
	return v4((uint32_t{bytes_[12]} << 24) | (uint32_t{bytes_[13]} << 16) |
		  (uint32_t{bytes_[14]} << 8) | bytes_[15]);
}

std::string IpAddress::to_string() const
{
	if (is_v4()) {
		return fmt::format("{}.{}.{}.{}", bytes_[0], bytes_[1], bytes_[2], bytes_[3]);
	}
	std::array<unsigned, 8> g{};
	for (size_t i = 0; i < 8; i++) {
		g[i] = (unsigned{bytes_[2 * i]} << 8) | bytes_[2 * i + 1];
	}
	// RFC 5952 §4.2: compress the longest run of two or more zero groups
	// (the first one on a tie).
	int best = -1, best_len = 1;
	for (int i = 0; i < 8;) {
		if (g[static_cast<size_t>(i)] != 0) {
			i++;
			continue;
		}
		int j = i;
		while (j < 8 && g[static_cast<size_t>(j)] == 0) {
			j++;
		}
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j;
	}
	std::string out;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			out += "::";
			i += best_len - 1;
			continue;
		}
		if (!out.empty() && out.back() != ':') {
			out += ':';
		}
		out += fmt::format("{:x}", g[static_cast<size_t>(i)]);
	}
	return out;
}

Subnet Subnet::of(const IpAddress &a, int len)
{
	len = std::clamp(len, 0, a.bit_length());
	auto bytes = a.bytes();
	for (int i = len; i < a.bit_length(); i++) {
		bytes[static_cast<size_t>(i / 8)] &= static_cast<uint8_t>(~(0x80u >> (i % 8)));
	}
	IpAddress masked = a.is_v4()
		? IpAddress::v4((uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) |
				(uint32_t{bytes[2]} << 8) | bytes[3])
		: IpAddress::v6(bytes);
	return {masked, len};
}

std::optional<Subnet> Subnet::parse(std::string_view text)
{
	auto slash = text.find('/');
	auto addr = IpAddress::parse(text.substr(0, slash));
	if (!addr) {
		return std::nullopt;
	}
	int len = addr->bit_length();
	if (slash != std::string_view::npos) {
		auto digits = text.substr(slash + 1);
		auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
		if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || len < 0 ||
		    len > addr->bit_length()) {
			return std::nullopt;
		}
	}
	return of(*addr, len);
}

bool Subnet::contains(const IpAddress &a) const
{
	if (a.family() != address.family()) {
		return false;
	}
	const auto &x = a.bytes();
	const auto &y = address.bytes();
	int full = prefix_len / 8;
	for (size_t i = 0; i < static_cast<size_t>(full); i++) {
		if (x[i] != y[i]) {
			return false;
		}
	}
	int rest = prefix_len % 8;
	if (rest == 0) {
		return true;
	}
	auto mask = static_cast<uint8_t>(0xff00u >> rest);
	return (x[static_cast<size_t>(full)] & mask) == (y[static_cast<size_t>(full)] & mask);
}

std::string Subnet::to_string() const
{
	return fmt::format("{}/{}", address.to_string(), prefix_len);
}

} // namespace strata
