#include "core/md5.h"

#include <cmath>
#include <vector>

namespace strata {

namespace {

constexpr uint32_t rotl(uint32_t x, uint32_t n)
{
	return (x << n) | (x >> (32 - n));
}

// Per-round shift amounts (RFC 1321 §3.4), four per round.
constexpr uint32_t kShift[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

// T[i] = floor(2^32 · |sin(i + 1)|), computed once rather than tabulated.
std::array<uint32_t, 64> sine_table()
{
	std::array<uint32_t, 64> t{};
	for (size_t i = 0; i < t.size(); i++) {
		t[i] = static_cast<uint32_t>(std::floor(std::fabs(std::sin(static_cast<double>(i + 1))) * 4294967296.0));
	}
	return t;
}

void compress(std::array<uint32_t, 4> &state, const uint8_t *block)
{
	static const std::array<uint32_t, 64> kT = sine_table();
	uint32_t m[16];
	for (size_t i = 0; i < 16; i++) {
		m[i] = uint32_t{block[4 * i]} | uint32_t{block[4 * i + 1]} << 8 |
		       uint32_t{block[4 * i + 2]} << 16 | uint32_t{block[4 * i + 3]} << 24;
	}
	uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
	for (uint32_t i = 0; i < 64; i++) {
		uint32_t f = 0;
		uint32_t g = 0;
		uint32_t round = i / 16;
		switch (round) {
		case 0:
			f = (b & c) | (~b & d);
			g = i;
			break;
		case 1:
			f = (d & b) | (~d & c);
			g = (5 * i + 1) % 16;
			break;
		case 2:
			f = b ^ c ^ d;
			g = (3 * i + 5) % 16;
			break;
		default:
			f = c ^ (b | ~d);
			g = (7 * i) % 16;
			break;
		}
		uint32_t next = b + rotl(a + f + kT[i] + m[g], kShift[round][i % 4]);
		a = d;
		d = c;
		c = b;
		b = next;
	}
	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
}

} // namespace

Md5Digest md5(std::span<const uint8_t> data)
{
	std::array<uint32_t, 4> state = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
	size_t whole = data.size() / 64 * 64;
	for (size_t at = 0; at < whole; at += 64) {
		compress(state, data.data() + at);
	}
	// The tail, a 0x80 byte, zeros to 56 mod 64, and the bit length (little-endian).
	std::vector<uint8_t> tail(data.begin() + static_cast<std::ptrdiff_t>(whole), data.end());
	tail.push_back(0x80);
	while (tail.size() % 64 != 56) {
		tail.push_back(0);
	}
	uint64_t bits = static_cast<uint64_t>(data.size()) * 8;
	for (int i = 0; i < 8; i++) {
		tail.push_back(static_cast<uint8_t>(bits >> (8 * i)));
	}
	for (size_t at = 0; at < tail.size(); at += 64) {
		compress(state, tail.data() + at);
	}
	Md5Digest out{};
	for (size_t i = 0; i < 16; i++) {
		out[i] = static_cast<uint8_t>(state[i / 4] >> (8 * (i % 4)));
	}
	return out;
}

uint32_t address_ref_id(const IpAddress &address)
{
	if (address.is_v4()) {
		return address.v4_host_order();
	}
	Md5Digest d = md5(address.bytes());
	return uint32_t{d[0]} << 24 | uint32_t{d[1]} << 16 | uint32_t{d[2]} << 8 | d[3];
}

} // namespace strata
