// NTP packets on the wire (RFC 5905 §7.3): the 48-byte header, NTP
// timestamps and short-format values, extension fields (RFC 7822) and the
// MAC trailer. Pure: bytes in, values out, and back.
//
// NTP timestamps carry seconds modulo 2^32 (an "era" is 136 years; era 1
// begins 2036-02-07T06:28:16Z). A received timestamp is read within a fixed
// window of 2^32 s that starts at the era split (kNtpEraSplit, 1976), as
// chronyd reads them (its NTP_ERA_SPLIT): the same instant whatever the
// local clock says, so a box that boots at 1970 after 2036 (no RTC) still
// reads its servers' time right. Conversions stay right across 2036 and
// have nothing to do with the 2038 time_t limit: times are int64 ns here.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/reference.h"
#include "core/result.h"
#include "core/time.h"

namespace strata::ntp {

/// Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01).
inline constexpr int64_t kNtpUnixOffset = 2'208'988'800;
/// The fixed header (RFC 5905 §7.3): every packet has it, and a reply is
/// nothing more.
inline constexpr size_t kHeaderSize = 48;

/// The longest MAC trailer: key id + 64 bytes (an NTPv3 SHA512 MAC).
inline constexpr size_t kMaxMacTrailer = 4 + 64;

/// A packet to send: the header and, when authenticated, key id and MAC.
struct OutPacket {
	std::array<std::byte, kHeaderSize + kMaxMacTrailer> data{};
	size_t length = kHeaderSize;

	std::span<const std::byte> bytes() const { return std::span<const std::byte>(data).first(length); }
	operator std::span<const std::byte>() const { return bytes(); }  // NOLINT: a packet is its bytes
};

/// The 64-bit NTP timestamp format: seconds and 2^-32 s fractions.
struct NtpTimestamp {
	uint32_t seconds = 0;
	uint32_t fraction = 0;

	/// Zero means "not set" in NTP packets (e.g. a client's origin timestamp).
	bool is_zero() const { return seconds == 0 && fraction == 0; }
	friend bool operator==(const NtpTimestamp &, const NtpTimestamp &) = default;
};

/// Nearest NTP timestamp to `t` (fraction rounded to the nearest 2^-32 s).
NtpTimestamp to_ntp(RealTime t);
/// The first second (Unix time) of the 2^32 s window received NTP
/// timestamps are read in: 1976-01-01T00:00:00Z, so the window ends in
/// 2112. Set at build time with -DSTRATA_NTP_ERA_SPLIT=SECONDS;
/// `stratad -v` prints it.
#ifdef STRATA_NTP_ERA_SPLIT
inline constexpr int64_t kNtpEraSplit = STRATA_NTP_ERA_SPLIT;
#else
inline constexpr int64_t kNtpEraSplit = 189'302'400;
#endif
/// The instant within ±68 years of `pivot` that `ts` names (nearest 1 ns).
RealTime from_ntp(NtpTimestamp ts, RealTime pivot);
/// The instant in [kNtpEraSplit, kNtpEraSplit + 2^32 s) that `ts` names:
/// how every received timestamp is read.
RealTime from_ntp(NtpTimestamp ts);

/// The 32-bit short format (16.16 seconds) used for root delay and dispersion;
/// saturates at 0xffff.ffff and maps negative values to 0.
uint32_t to_short(double seconds);
/// Seconds in a short-format value.
double from_short(uint32_t value);

/// The association mode (RFC 5905 §7.3; 0 is NTPv1's "unspecified").
enum class Mode : uint8_t {
	Reserved = 0,
	SymmetricActive = 1,
	SymmetricPassive = 2,
	Client = 3,
	Server = 4,
	Broadcast = 5,
	Control = 6,
	Private = 7,
};

/// The 48-byte header, field by field. Leap, version and mode share the first
/// byte; values not representable there are truncated by serialize().
struct Header {
	Leap leap = Leap::None;
	uint8_t version = 4;
	Mode mode = Mode::Client;
	uint8_t stratum = 0;
	int8_t poll = 0;
	int8_t precision = 0;
	uint32_t root_delay = 0;       ///< short format
	uint32_t root_dispersion = 0;  ///< short format
	uint32_t ref_id = 0;
	NtpTimestamp reference;
	NtpTimestamp origin;
	NtpTimestamp receive;
	NtpTimestamp transmit;

	friend bool operator==(const Header &, const Header &) = default;
};

/// A parsed packet: the header and what follows it.
struct Packet {
	Header header;
	size_t extension_fields = 0;  ///< RFC 7822 fields walked (NTPv4 only)
	bool has_mac = false;         ///< a symmetric-key MAC (key id + MAC)
	bool crypto_nak = false;      ///< a 4-byte crypto-NAK (key id 0, no digest)
	uint32_t key_id = 0;
	/// Where the key id starts: the MAC covers the bytes before it.
	size_t mac_offset = 0;
	/// The MAC's bytes after the key id (0 for none or a crypto-NAK).
	size_t mac_length = 0;
};

/// Parses a packet of any NTP version 1–4 and any mode: which of those get a
/// reply is the responder's policy. Version 0 and 5–7 are errors here, because
/// their layout is unknown. After the header, NTPv4 may carry RFC 7822
/// extension fields (each at least 16 bytes, a multiple of 4, inside the
/// packet), walked while more than 24 bytes remain; then nothing, or a MAC:
/// in NTPv4 key id + 16 or 20 bytes; in earlier versions (which have no
/// extension fields) key id + 16 to 64 bytes, a multiple of 4 (chronyd's
/// NTPv3 MACs are whole SHA-2 digests); in any version a crypto-NAK (key id
/// 0 alone). Anything else returns Errc::Malformed with a context that
/// names the fault; the caller drops the datagram.
Result<Packet> parse(std::span<const std::byte> data);

/// Writes the 48-byte header.
void serialize(const Header &header, std::span<std::byte, kHeaderSize> out);

} // namespace strata::ntp
