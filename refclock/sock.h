// chronyd's SOCK reference clock protocol, the one gpsd uses to feed a time
// server: the daemon creates a Unix datagram socket (gpsd looks for
// /run/chrony.<device>.sock, or /run/chrony.clk.<device>.sock for its
// serial-timing samples) and gpsd sends one struct sock_sample per
// measurement: the system time of the measurement as a struct timeval, and
// the offset of the true time from it as a double (true − system, the sign
// of core/units.h), plus a leap indicator and, for a bare PPS edge whose
// seconds are unknown, a `pulse` flag.
//
// The message has no version field and no byte order: it is the sender's C
// struct, so it is parsed in this platform's layout, and anything of another
// size is rejected (as chronyd does; a 32-bit gpsd built with another time_t
// sends a different size and is told so in the log). This file is the pure
// parser; refclock/sock_linux.h owns the socket. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <type_traits>

#include "refclock/sample.h"

namespace strata::refclock {

/// "SOCK" read as a little-endian int: the protocol's only identifier.
inline constexpr int kSockMagic = 0x534f434b;

/// Offsets of this size or more are refused, as chronyd refuses them (2^32 s).
inline constexpr double kSockMaxOffset_s = 4294967296.0;

/// chronyd's struct sock_sample (its field names in the comments), with
/// struct timeval spelled out as Linux defines it: time_t seconds, then
/// suseconds_t (a long) microseconds. 40 bytes on 64-bit Linux.
struct SockSample {
	std::time_t tv_sec;  ///< tv.tv_sec: the system time of the measurement
	long tv_usec;        ///< tv.tv_usec
	double offset;       ///< offset: true time − system time, seconds
	int pulse;           ///< pulse: non-zero for a PPS edge (the seconds come from elsewhere)
	int leap;            ///< leap: 0 none, 1 insert, 2 delete a second at the end of the day
	int pad;             ///< _pad: ignored
	int magic;           ///< magic: kSockMagic
};
static_assert(std::is_standard_layout_v<SockSample> && std::is_trivially_copyable_v<SockSample>);
static_assert(sizeof(long) != 8 || sizeof(SockSample) == 40, "chronyd's LP64 layout");

inline constexpr size_t kSockSampleSize = sizeof(SockSample);

/// Why a datagram yields no sample.
enum class SockReject : uint8_t {
	None,       ///< a sample was parsed
	WrongSize,  ///< not sizeof(struct sock_sample) bytes
	BadMagic,   ///< not kSockMagic
	BadLeap,    ///< leap outside 0–2 in a sample that is not a pulse
	BadTime,    ///< the system time is before 1970 or after kMaxSampleSeconds
	BadOffset,  ///< not finite, ±2^32 s or more, or a true time outside that range
};

const char *to_string(SockReject why);

/// Parses one datagram. Returns the sample (reference = tv + offset, local
/// = tv; tv_usec out of [0, 1e6) is carried into the seconds as chronyd
/// does), or nullopt and sets `why` (and, when given, a short description
/// of the fault in `detail`). `why` is SockReject::None with a sample.
///
/// A pulse's leap field is ignored (a pulse knows no date; chronyd ignores
/// it too) and its leap is Leap::None. SOCK reports no precision.
std::optional<RawSample> parse_sock(std::span<const std::byte> datagram, SockReject &why,
				    std::string *detail = nullptr);

} // namespace strata::refclock
