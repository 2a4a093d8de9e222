// The NTP shared-memory reference clock protocol (ntpd's driver 28, the SHM
// refclock of chronyd), through which gpsd and other programs hand a time to
// the daemon: a System V segment holding one struct shmTime, written by the
// time source and polled by the daemon.
//
// The writer fills in a reference time ("clock") and the local system time
// at which it was valid ("receive"), then sets `valid`; the reader takes the
// sample and clears `valid`, so that each sample is used once. Mode 1 adds a
// consistency check: the writer bumps `count` before and after an update,
// and the reader throws away a copy during which `count` changed (a "torn"
// read, half old and half new). Writers since ntpd 4.2.8 also fill in
// nanosecond fields; older ones leave them 0, so they are used only when
// they agree with the microsecond fields (ns / 1000 == us), as chronyd does.
//
// This file is the pure half: the layout, the parser of a copy of the
// segment, and the `refclock SHM` parameter. refclock/shm_linux.h attaches
// the segment and copies it. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/result.h"
#include "refclock/sample.h"

namespace strata::refclock {

/// The segment of unit N has the System V IPC key kShmKeyBase + N ("NTP0").
inline constexpr int kShmKeyBase = 0x4E545030;
/// ntpd numbers SHM units 127.127.28.0–255; gpsd uses 0–1 (root only) and
/// 2 and up (any user) for its devices.
inline constexpr int kShmMaxUnit = 255;

/// ntpd's struct shmTime (ntpd's field names in the comments). The writer is
/// a C program on this machine, so the layout is this platform's C layout
/// (`int`, `unsigned` and `time_t` as its compiler sees them), not one of
/// fixed-width types: 96 bytes on 64-bit Linux.
struct ShmTime {
	int mode;                 ///< mode: 0, or 1 for the count check
	int count;                ///< count: bumped by the writer before and after an update
	std::time_t clock_sec;    ///< clockTimeStampSec: the reference time
	int clock_usec;           ///< clockTimeStampUSec
	std::time_t receive_sec;  ///< receiveTimeStampSec: the local time it was taken at
	int receive_usec;         ///< receiveTimeStampUSec
	int leap;                 ///< leap: RFC 5905 LI (3: the writer is not synchronised)
	int precision;            ///< precision: log2 seconds
	int nsamples;             ///< nsamples: ntpd's filter length; unused
	int valid;                ///< valid: set by the writer, cleared by the reader
	unsigned clock_nsec;      ///< clockTimeStampNSec (0 from writers before ntpd 4.2.8)
	unsigned receive_nsec;    ///< receiveTimeStampNSec
	int dummy[8];             ///< dummy: reserved
};
static_assert(std::is_standard_layout_v<ShmTime> && std::is_trivially_copyable_v<ShmTime>);
static_assert(sizeof(long) != 8 || sizeof(ShmTime) == 96, "ntpd's LP64 layout");

inline constexpr size_t kShmSize = sizeof(ShmTime);

/// Why a read of the segment yields no sample.
enum class ShmSkip : uint8_t {
	None,            ///< a sample was read
	TooShort,        ///< fewer bytes than a struct shmTime (never from a real segment)
	NotValid,        ///< `valid` clear: nothing new since the last read
	BadMode,         ///< `mode` is neither 0 nor 1: an unknown protocol
	Torn,            ///< mode 1: `count` changed during the read (the writer was mid-update)
	Unsynchronized,  ///< leap 3: the writer says it is not synchronised itself
	BadLeap,         ///< leap outside 0–3
	BadTime,         ///< a time stamp before 1970 or after kMaxSampleSeconds
};

const char *to_string(ShmSkip why);

/// Whether a read that ended with `why` used up the writer's sample, so that
/// the reader clears `valid` and does not read (or complain about) the same
/// sample again. Not after a torn read: the update under way sets `valid`
/// anew and will be read whole at the next poll.
constexpr bool shm_consumes(ShmSkip why)
{
	return why != ShmSkip::TooShort && why != ShmSkip::NotValid && why != ShmSkip::Torn;
}

/// Parses a copy of the segment. `segment` holds the struct shmTime as read,
/// its `count` field being the count read *before* the other fields;
/// `count_after` is the count read after them (the adapter reads them in that
/// order with the barriers in between). Returns the sample, or nullopt and
/// sets `why` (and, when given, a short description of the fault in
/// `detail`). `why` is ShmSkip::None with a sample.
///
/// The sample's reference time is the clock stamp, its local time the
/// receive stamp, both at nanosecond resolution when the nanosecond fields
/// agree with the microsecond ones. precision_s is 2^precision for
/// precisions from −30 to 0, nullopt otherwise.
std::optional<RawSample> parse_shm(std::span<const std::byte> segment, int count_after,
				   ShmSkip &why, std::string *detail = nullptr);

/// The `refclock SHM` parameter: "UNIT[:perm=MODE]".
struct ShmOptions {
	int unit = 0;
	/// Permissions of the segment when the daemon creates it (chronyd's
	/// default: read-write for the owner only). A segment a writer created
	/// first keeps the writer's owner and permissions.
	int perm = 0600;

	int key() const { return kShmKeyBase + unit; }
};

/// Parses "0", "2:perm=0666". The mode is octal, masked to 0777 as chronyd
/// masks it. Errors (Errc::InvalidArgument): a unit that is not a number in
/// 0–255, a mode that is not octal, an unknown option. conf/ has already
/// checked the syntax; this is where the values take effect.
Result<ShmOptions> parse_shm_parameter(std::string_view parameter);

} // namespace strata::refclock
