// The RTC device seam: what the RTC logic (rtc/rtc_service.h) needs from a
// real-time clock. rtc/rtc_linux.h implements it on /dev/rtcN with the
// linux/rtc.h ioctls; rtc/fake_rtc.h simulates one for tests.
//
// An RTC counts whole seconds in broken-down form (year … second), in UTC or
// in local time: the device does not know which (`rtconutc`, `hwclockfile`).
// The seam therefore speaks "RTC seconds": the broken-down reading counted
// as if it were UTC, seconds since 1970-01-01 00:00:00. Mapping them to UTC
// is the service's job (RtcTimescale), because only it knows the time zone.
//
// The RTC's one-second resolution would limit every measurement to ±0.5 s;
// its update interrupt (RTC_UIE_ON: one interrupt each time a new second
// begins) marks the instant the reading changes, so a reading taken just
// after an interrupt is exact to the interrupt latency. That is why the seam
// exposes the interrupt and an fd to poll for it.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"
#include "core/time.h"

namespace strata::rtc {

/// A broken-down RTC time, as the kernel's struct rtc_time holds it but with
/// a plain year and a month counted from 1.
struct RtcDateTime {
	int year = 1970;
	int month = 1;   ///< 1…12
	int day = 1;     ///< 1…31
	int hour = 0;    ///< 0…23
	int minute = 0;  ///< 0…59
	int second = 0;  ///< 0…59 (RTCs have no leap second)

	friend constexpr bool operator==(const RtcDateTime &, const RtcDateTime &) = default;
};

/// The years an RTC reading may have. The kernel's rtc_time counts years from
/// 1900; no RTC chip goes beyond 4 digits.
inline constexpr int kRtcMinYear = 1900;
inline constexpr int kRtcMaxYear = 9999;

/// True when every field is in range (including the day in that month, with
/// leap years) and the year within [kRtcMinYear, kRtcMaxYear].
bool is_valid(const RtcDateTime &t);
/// Seconds since 1970-01-01 00:00:00, counting `t` as UTC (no time zone, no
/// leap seconds: POSIX time). `t` must be valid.
int64_t to_rtc_seconds(const RtcDateTime &t);
/// The inverse of to_rtc_seconds, for any second of the years 1900…9999
/// (outside them the result is not is_valid()).
RtcDateTime from_rtc_seconds(int64_t s);
/// Day of the week of `t`, 0 = Sunday (struct rtc_time's tm_wday).
int weekday(const RtcDateTime &t);
/// Day of the year of `t`, 0 = 1 January (struct rtc_time's tm_yday).
int yearday(const RtcDateTime &t);
/// "2024-02-29 12:34:56", for messages.
std::string to_string(const RtcDateTime &t);

class RtcDevice {
public:
	virtual ~RtcDevice() = default;

	/// The device, "/dev/rtc0": every error message names it.
	virtual const std::string &path() const = 0;

	/// The descriptor the daemon's poll loop watches (POLLIN) for update
	/// interrupts; when it is readable, the owner calls wait_update(0).
	/// −1 when the device has none.
	virtual int fd() const = 0;

	/// The RTC's current reading, in RTC seconds (see above). It changes only
	/// at the RTC's second boundaries. Does not block.
	/// Errors: the ioctl failed (EINVAL: the RTC holds no valid time, for
	/// example after its battery ran flat), or the RTC returned an invalid
	/// date (Errc::Malformed). The caller drops the measurement.
	virtual Result<int64_t> read_time() = 0;

	/// Sets the RTC to `rtc_s` RTC seconds. Called right after an update
	/// interrupt, so that whether the chip restarts its second on a write or
	/// keeps its phase, its next second begins one second later (see
	/// RtcService::trim). Errors: the ioctl failed (EACCES, EINVAL for a date
	/// the chip cannot hold) or `rtc_s` is outside the years 1900…9999
	/// (Errc::InvalidArgument); the RTC keeps its old time then.
	virtual Result<> set_time(int64_t rtc_s) = 0;

	/// Turns the update interrupt (one per RTC second) on or off. Errors: the
	/// RTC has no update interrupt (EINVAL, ENOTTY) or the ioctl failed.
	virtual Result<> enable_update_interrupts() = 0;
	virtual Result<> disable_update_interrupts() = 0;

	/// Waits at most `timeout` (zero: not at all) for the fd to become
	/// readable, then reads it. True when an update interrupt came, false on
	/// a timeout, on an interrupted wait (EINTR) or when only another kind of
	/// interrupt came (alarm, periodic). Blocks up to `timeout`: the event
	/// loop calls it with zero once poll() reported the fd readable, and only
	/// start-up code (`-s`, before the loop runs) waits longer.
	/// Errors: poll or read failed (the device went away: EIO, ENODEV).
	virtual Result<bool> wait_update(Duration timeout) = 0;
};

} // namespace strata::rtc
