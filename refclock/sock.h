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
// struct, in the sender's ABI. Its size tells the two Linux layouts apart: 40
// bytes from a gpsd with a 64-bit time_t (x86-64, arm64, and 32-bit ARM built
// with a 64-bit time_t), 32 from one with a 32-bit time_t (Debian 12's armhf
// and i386 gpsd). Both are read on every architecture, whatever this build's
// time_t; any other size is rejected (chronyd accepts only its own struct's
// size). This file is the pure parser; refclock/sock_linux.h owns the
// socket. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
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

/// chronyd's struct sock_sample (its field names in the comments) as a
/// sender with a 64-bit time_t lays it out: struct timeval is two 8-byte
/// fields.
struct SockSample64 {
	int64_t tv_sec;  ///< tv.tv_sec: the system time of the measurement
	int64_t tv_usec; ///< tv.tv_usec
	double offset;   ///< offset: true time − system time, seconds
	int32_t pulse;   ///< pulse: non-zero for a PPS edge (the seconds come from elsewhere)
	int32_t leap;    ///< leap: 0 none, 1 insert, 2 delete a second at the end of the day
	int32_t pad;     ///< _pad: ignored
	int32_t magic;   ///< magic: kSockMagic
};

/// The same as a sender with a 32-bit time_t lays it out: struct timeval is
/// two 4-byte fields (time_t and a 32-bit long), and the double follows
/// at offset 8 on 32-bit ARM and x86 alike.
struct SockSample32 {
	int32_t tv_sec;
	int32_t tv_usec;
	double offset;
	int32_t pulse;
	int32_t leap;
	int32_t pad;
	int32_t magic;
};

static_assert(std::is_standard_layout_v<SockSample64> && std::is_trivially_copyable_v<SockSample64>);
static_assert(offsetof(SockSample64, tv_usec) == 8 && offsetof(SockSample64, offset) == 16 &&
	      offsetof(SockSample64, pulse) == 24 && offsetof(SockSample64, leap) == 28 &&
	      offsetof(SockSample64, pad) == 32 && offsetof(SockSample64, magic) == 36 &&
	      sizeof(SockSample64) == 40);
static_assert(std::is_standard_layout_v<SockSample32> && std::is_trivially_copyable_v<SockSample32>);
static_assert(offsetof(SockSample32, tv_usec) == 4 && offsetof(SockSample32, offset) == 8 &&
	      offsetof(SockSample32, pulse) == 16 && offsetof(SockSample32, leap) == 20 &&
	      offsetof(SockSample32, pad) == 24 && offsetof(SockSample32, magic) == 28 &&
	      sizeof(SockSample32) == 32);

/// The sizes of the two layouts: the only datagram lengths accepted.
inline constexpr size_t kSockSample64Size = sizeof(SockSample64);
inline constexpr size_t kSockSample32Size = sizeof(SockSample32);
/// The longest good datagram.
inline constexpr size_t kSockMaxSampleSize = kSockSample64Size;

/// Why a datagram yields no sample.
enum class SockReject : uint8_t {
	None,       ///< a sample was parsed
	WrongSize,  ///< neither layout's size (40 or 32 bytes)
	BadMagic,   ///< not kSockMagic
	BadLeap,    ///< leap outside 0–2 in a sample that is not a pulse
	BadTime,    ///< the system time is before 1970 or after kMaxSampleSeconds
	BadOffset,  ///< not finite, ±2^32 s or more, or a true time outside that range
};

const char *to_string(SockReject why);

/// "N bytes, expected 40 or 32": the detail of SockReject::WrongSize.
std::string sock_size_detail(size_t length);

/// Parses one datagram, in the layout its size says. Returns the sample (reference = tv + offset, local
/// = tv; tv_usec out of [0, 1e6) is carried into the seconds as chronyd
/// does), or nullopt and sets `why` (and, when given, a short description
/// of the fault in `detail`). `why` is SockReject::None with a sample.
///
/// A pulse's leap field is ignored (a pulse knows no date; chronyd ignores
/// it too) and its leap is Leap::None. SOCK reports no precision.
std::optional<RawSample> parse_sock(std::span<const std::byte> datagram, SockReject &why,
				    std::string *detail = nullptr);

} // namespace strata::refclock
