#include "ntp/packet.h"

#include <cmath>
#include <string>

namespace strata::ntp {

namespace {

constexpr uint64_t kFractionScale = uint64_t{1} << 32;
constexpr int64_t kNsPerSecond = 1'000'000'000;

uint32_t get32(std::span<const std::byte> d, size_t at)
{
	return (std::to_integer<uint32_t>(d[at]) << 24) |
	       (std::to_integer<uint32_t>(d[at + 1]) << 16) |
	       (std::to_integer<uint32_t>(d[at + 2]) << 8) | std::to_integer<uint32_t>(d[at + 3]);
}

uint16_t get16(std::span<const std::byte> d, size_t at)
{
	return static_cast<uint16_t>((std::to_integer<uint32_t>(d[at]) << 8) |
				     std::to_integer<uint32_t>(d[at + 1]));
}

void put32(std::span<std::byte> d, size_t at, uint32_t v)
{
	d[at] = static_cast<std::byte>(v >> 24);
	d[at + 1] = static_cast<std::byte>(v >> 16);
	d[at + 2] = static_cast<std::byte>(v >> 8);
	d[at + 3] = static_cast<std::byte>(v);
}

NtpTimestamp get_ts(std::span<const std::byte> d, size_t at)
{
	return {get32(d, at), get32(d, at + 4)};
}

void put_ts(std::span<std::byte> d, size_t at, NtpTimestamp ts)
{
	put32(d, at, ts.seconds);
	put32(d, at + 4, ts.fraction);
}

/// A MAC trailer: in NTPv4 key id + 16 (MD5, AES-CMAC) or 20 bytes (SHA1,
/// or a longer digest truncated); in earlier versions key id + up to 64
/// bytes (a whole SHA512 digest); in any version the crypto-NAK (key id 0
/// alone), which servers send whatever version they answer (ntpd does).
bool is_mac_length(size_t n, uint8_t version)
{
	if (n == 4) {
		return true;
	}
	if (version == 4) {
		return n == 20 || n == 24;
	}
	return n >= 20 && n <= 68 && n % 4 == 0;
}

} // namespace

NtpTimestamp to_ntp(RealTime t)
{
	int64_t sec = t.seconds();
	auto ns = static_cast<uint64_t>(t.subsec_ns());
	// At most 0.999999999 * 2^32 + 0.5 < 2^32: never rounds into the next second.
	uint64_t fraction = (ns * kFractionScale + kNsPerSecond / 2) / kNsPerSecond;
	return {static_cast<uint32_t>(static_cast<uint64_t>(sec + kNtpUnixOffset)),
		static_cast<uint32_t>(fraction)};
}

RealTime from_ntp(NtpTimestamp ts, RealTime pivot)
{
	int64_t pivot_sec = pivot.seconds();
	auto pivot_ntp = static_cast<uint32_t>(static_cast<uint64_t>(pivot_sec + kNtpUnixOffset));
	// The signed difference modulo 2^32 picks the era nearest to the pivot.
	auto delta = static_cast<int32_t>(ts.seconds - pivot_ntp);
	int64_t sec = pivot_sec + delta;
	auto ns = static_cast<int64_t>(
		(uint64_t{ts.fraction} * kNsPerSecond + kFractionScale / 2) >> 32);
	return RealTime::from_parts(sec, ns);
}

RealTime from_ntp(NtpTimestamp ts)
{
	// Nearest to the middle of the window: within it.
	return from_ntp(ts, RealTime::from_parts(kNtpEraSplit + (int64_t{1} << 31), 0));
}

uint32_t to_short(double seconds)
{
	if (!(seconds > 0)) {
		return 0;
	}
	double v = seconds * 65536.0;
	if (v >= 4294967295.0) {
		return 0xffffffff;
	}
	// llround: lround's long is 32 bits on armhf, and v is up to 2^32.
	return static_cast<uint32_t>(std::llround(v));
}

double from_short(uint32_t value)
{
	return static_cast<double>(value) / 65536.0;
}

Result<Packet> parse(std::span<const std::byte> data)
{
	if (data.size() < kHeaderSize) {
		return fail(Errc::Malformed, "NTP packet shorter than 48 bytes (" +
						     std::to_string(data.size()) + ")");
	}
	Packet p;
	Header &h = p.header;
	auto first = std::to_integer<uint8_t>(data[0]);
	h.leap = static_cast<Leap>(first >> 6);
	h.version = static_cast<uint8_t>((first >> 3) & 7);
	h.mode = static_cast<Mode>(first & 7);
	if (h.version < 1 || h.version > 4) {
		return fail(Errc::Malformed, "NTP version " + std::to_string(h.version));
	}
	h.stratum = std::to_integer<uint8_t>(data[1]);
	h.poll = static_cast<int8_t>(std::to_integer<uint8_t>(data[2]));
	h.precision = static_cast<int8_t>(std::to_integer<uint8_t>(data[3]));
	h.root_delay = get32(data, 4);
	h.root_dispersion = get32(data, 8);
	h.ref_id = get32(data, 12);
	h.reference = get_ts(data, 16);
	h.origin = get_ts(data, 24);
	h.receive = get_ts(data, 32);
	h.transmit = get_ts(data, 40);

	size_t at = kHeaderSize;
	size_t left = data.size() - at;
	// RFC 7822 §7.5: after the header, NTPv4 may carry extension fields; what
	// cannot be a field (24 bytes or less) is a MAC.
	if (h.version == 4) {
		while (left > 24) {
			uint16_t length = get16(data, at + 2);
			if (length < 16 || length % 4 != 0 || length > left) {
				return fail(Errc::Malformed,
					    "bad extension field length " + std::to_string(length));
			}
			p.extension_fields++;
			at += length;
			left -= length;
		}
	}
	if (left == 0) {
		return p;
	}
	if (!is_mac_length(left, h.version)) {
		return fail(Errc::Malformed,
			    "trailer of " + std::to_string(left) +
				    " bytes is neither an extension field nor a MAC");
	}
	p.key_id = get32(data, at);
	p.mac_offset = at;
	if (left == 4) {
		if (p.key_id != 0) {
			return fail(Errc::Malformed, "4-byte trailer with a non-zero key id");
		}
		p.crypto_nak = true;
	} else {
		p.has_mac = true;
		p.mac_length = left - 4;
	}
	return p;
}

void serialize(const Header &h, std::span<std::byte, kHeaderSize> out)
{
	out[0] = static_cast<std::byte>((static_cast<unsigned>(h.leap) << 6) |
					((h.version & 7u) << 3) |
					(static_cast<unsigned>(h.mode) & 7u));
	out[1] = static_cast<std::byte>(h.stratum);
	out[2] = static_cast<std::byte>(h.poll);
	out[3] = static_cast<std::byte>(h.precision);
	put32(out, 4, h.root_delay);
	put32(out, 8, h.root_dispersion);
	put32(out, 12, h.ref_id);
	put_ts(out, 16, h.reference);
	put_ts(out, 24, h.origin);
	put_ts(out, 32, h.receive);
	put_ts(out, 40, h.transmit);
}

} // namespace strata::ntp
