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
// The segment is the writer's C struct, so its layout depends on the writer's
// time_t (ShmLayout below): a 64-bit-time_t reader taking a 32-bit-time_t
// writer's struct for its own would misread every sample, silently.
//
// This file is the pure half: the layouts, the parser of a copy of the
// segment, and the `refclock SHM` parameter. refclock/shm_linux.h attaches
// the segment and copies it. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
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

/// The C layouts of ntpd's struct shmTime on Linux. The segment holds the
/// writer's C struct with no size or version field, so its layout is the
/// writer's ABI: `int` fields and two `time_t` seconds as *the writer's*
/// compiler saw them. Which one a writer uses depends on its time_t, never on
/// this build's: strata is built with a 64-bit time_t everywhere, while the
/// gpsd of Debian 12 armhf writes 32-bit seconds. So the layouts are spelled
/// out below in fixed-width types with their padding, and nothing here uses
/// time_t.
enum class ShmLayout : uint8_t {
	/// A 64-bit time_t, 8-byte aligned: programs on x86-64 and arm64, and
	/// 32-bit ARM programs built with a 64-bit time_t (Debian 13's armhf).
	/// 96 bytes.
	Time64,
	/// A 32-bit time_t (and every field 4 bytes): 32-bit ARM and x86
	/// programs built with the traditional time_t, as Debian 12's armhf and
	/// i386 gpsd is. 80 bytes. Seconds past 2038-01-19 do not fit; such a
	/// writer's wrapped (negative) seconds are rejected as a bad time.
	Time32,
};

/// struct shmTime as a writer with a 64-bit time_t lays it out (ntpd's field
/// names in the comments).
struct ShmTime64 {
	static constexpr ShmLayout kLayout = ShmLayout::Time64;
	int32_t mode;           ///< mode: 0, or 1 for the count check
	int32_t count;          ///< count: bumped by the writer before and after an update
	int64_t clock_sec;      ///< clockTimeStampSec: the reference time
	int32_t clock_usec;     ///< clockTimeStampUSec
	int32_t pad_receive_;   ///< (the compiler's padding before an 8-byte time_t)
	int64_t receive_sec;    ///< receiveTimeStampSec: the local time it was taken at
	int32_t receive_usec;   ///< receiveTimeStampUSec
	int32_t leap;           ///< leap: RFC 5905 LI (3: the writer is not synchronised)
	int32_t precision;      ///< precision: log2 seconds
	int32_t nsamples;       ///< nsamples: ntpd's filter length; unused
	int32_t valid;          ///< valid: set by the writer, cleared by the reader
	uint32_t clock_nsec;    ///< clockTimeStampNSec (0 from writers before ntpd 4.2.8)
	uint32_t receive_nsec;  ///< receiveTimeStampNSec
	int32_t dummy[8];       ///< dummy: reserved
	int32_t pad_end_;       ///< (tail padding to the 8-byte alignment)
};

/// struct shmTime as a writer with a 32-bit time_t lays it out.
struct ShmTime32 {
	static constexpr ShmLayout kLayout = ShmLayout::Time32;
	int32_t mode;
	int32_t count;
	int32_t clock_sec;
	int32_t clock_usec;
	int32_t receive_sec;
	int32_t receive_usec;
	int32_t leap;
	int32_t precision;
	int32_t nsamples;
	int32_t valid;
	uint32_t clock_nsec;
	uint32_t receive_nsec;
	int32_t dummy[8];
};

// The offsets C compilers give these structs (gcc on x86-64, arm64, and
// armhf with -D_TIME_BITS=64; gcc on armhf and i386 without), so that a
// change to the structs above cannot silently move a field.
static_assert(std::is_standard_layout_v<ShmTime64> && std::is_trivially_copyable_v<ShmTime64>);
static_assert(offsetof(ShmTime64, count) == 4 && offsetof(ShmTime64, clock_sec) == 8 &&
	      offsetof(ShmTime64, clock_usec) == 16 && offsetof(ShmTime64, receive_sec) == 24 &&
	      offsetof(ShmTime64, receive_usec) == 32 && offsetof(ShmTime64, leap) == 36 &&
	      offsetof(ShmTime64, precision) == 40 && offsetof(ShmTime64, nsamples) == 44 &&
	      offsetof(ShmTime64, valid) == 48 && offsetof(ShmTime64, clock_nsec) == 52 &&
	      offsetof(ShmTime64, receive_nsec) == 56 && offsetof(ShmTime64, dummy) == 60 &&
	      sizeof(ShmTime64) == 96);
static_assert(std::is_standard_layout_v<ShmTime32> && std::is_trivially_copyable_v<ShmTime32>);
static_assert(offsetof(ShmTime32, count) == 4 && offsetof(ShmTime32, clock_sec) == 8 &&
	      offsetof(ShmTime32, clock_usec) == 12 && offsetof(ShmTime32, receive_sec) == 16 &&
	      offsetof(ShmTime32, receive_usec) == 20 && offsetof(ShmTime32, leap) == 24 &&
	      offsetof(ShmTime32, precision) == 28 && offsetof(ShmTime32, nsamples) == 32 &&
	      offsetof(ShmTime32, valid) == 36 && offsetof(ShmTime32, clock_nsec) == 40 &&
	      offsetof(ShmTime32, receive_nsec) == 44 && offsetof(ShmTime32, dummy) == 48 &&
	      sizeof(ShmTime32) == 80);

/// The layout the gpsd of the architecture strata runs on writes, which is
/// the layout of a segment the daemon creates itself: Time64 on 64-bit
/// systems, Time32 on 32-bit ones (Debian 12's armhf gpsd). A segment the
/// writer created is read in the layout its size says (refclock/shm_linux.h),
/// so a 64-bit-time_t gpsd on armhf works too when it starts first. A build
/// for a 32-bit system whose gpsd has a 64-bit time_t (Debian 13 armhf) sets
/// -DSTRATA_SHM_TIME_BITS=64 (CMake cache variable of the same name).
#if defined(STRATA_SHM_TIME_BITS)
static_assert(STRATA_SHM_TIME_BITS == 32 || STRATA_SHM_TIME_BITS == 64);
inline constexpr ShmLayout kNativeShmLayout =
	STRATA_SHM_TIME_BITS == 64 ? ShmLayout::Time64 : ShmLayout::Time32;
#else
inline constexpr ShmLayout kNativeShmLayout =
	sizeof(void *) == 8 ? ShmLayout::Time64 : ShmLayout::Time32;
#endif
/// The struct of kNativeShmLayout.
using NativeShmTime =
	std::conditional_t<kNativeShmLayout == ShmLayout::Time64, ShmTime64, ShmTime32>;

/// Where a layout keeps what the segment adapter touches in place.
struct ShmLayoutInfo {
	size_t size;          ///< sizeof(struct shmTime)
	size_t count_offset;  ///< `count`, read before and after the copy
	size_t valid_offset;  ///< `valid`, cleared once a sample is taken
	const char *name;     ///< "64-bit time_t", for log lines
};

constexpr ShmLayoutInfo shm_layout_info(ShmLayout layout)
{
	if (layout == ShmLayout::Time32) {
		return {sizeof(ShmTime32), offsetof(ShmTime32, count), offsetof(ShmTime32, valid),
			"32-bit time_t"};
	}
	return {sizeof(ShmTime64), offsetof(ShmTime64, count), offsetof(ShmTime64, valid),
		"64-bit time_t"};
}

/// Bytes in a segment the daemon creates.
inline constexpr size_t kShmSize = shm_layout_info(kNativeShmLayout).size;
/// The largest layout's size.
inline constexpr size_t kShmMaxSize = sizeof(ShmTime64);

/// Why a read of the segment yields no sample.
enum class ShmSkip : uint8_t {
	None,            ///< a sample was read
	TooShort,        ///< fewer bytes than the layout's struct shmTime (never from a real segment)
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

/// Parses a copy of the segment, laid out as `layout`. `segment` holds the
/// struct shmTime as read, its `count` field being the count read *before*
/// the other fields; `count_after` is the count read after them (the adapter
/// reads them in that order with the barriers in between). Returns the
/// sample, or nullopt and sets `why` (and, when given, a short description of
/// the fault in `detail`). `why` is ShmSkip::None with a sample.
///
/// The sample's reference time is the clock stamp, its local time the
/// receive stamp, both at nanosecond resolution when the nanosecond fields
/// agree with the microsecond ones. precision_s is 2^precision for
/// precisions from −30 to 0, nullopt otherwise.
std::optional<RawSample> parse_shm(std::span<const std::byte> segment, ShmLayout layout,
				   int count_after, ShmSkip &why, std::string *detail = nullptr);

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
