// The RTC logic of chrony.conf's `rtcfile`, `rtconutc`, `hwclockfile` and
// `rtcautotrim`, of the control commands `trimrtc` and `writertc`, and of
// stratad -s (set the system clock from the RTC at start).
//
// Measuring. The RTC is measured against the disciplined system clock in
// bursts: every `measurement_interval` the service turns the update
// interrupt on, ignores the first `skip_interrupts` interrupts (some RTCs,
// and the kernel's emulation, raise one at once that marks no second
// boundary), takes `burst` samples, and turns the interrupt off again, so
// that an idle machine is not woken every second. A sample pairs the system
// time read when the interrupt was seen with the RTC second that just began;
// the interrupt latency can only make the system time late, so the burst's
// measurement is its sample with the RTC furthest ahead (the least delayed
// one, as NTP keeps its shortest round trip). Each measurement feeds an
// RtcTracker, whose line gives the RTC's offset and drift.
//
// The rtcfile. Its text is handed in by the daemon at start (load_file) and
// handed out through an injected writer (the daemon's write-temp-and-rename),
// after every `write_every` measurements, after a trim, on `writertc` and
// at stop.
//   Policy: the service writes only a valid estimate — a fit over at least
//   `min_samples` measurements, or a drift known from a valid rtcfile or
//   from the fit before a trim together with an offset measured since — and
//   only text that load() reads back. In particular, when the file given at
//   start is corrupt, load_file() reports it and the file is left as it is
//   (for the administrator to look at) until the service has measured a
//   valid estimate of its own; nothing half-known ever replaces it.
//
// Trimming (`rtcautotrim THRESHOLD`, `trimrtc`). The RTC is set to the
// system time at an update interrupt, by whole seconds: the RTC's reading T
// began at the interrupt, so setting it to T + n there moves it by exactly n
// seconds whether the chip restarts its second on a write or keeps its
// phase, and the offset after the trim is the old one plus n (within ±0.5 s).
// The measurements refer to the old offset and are dropped; the drift is
// kept, so the offset is known again from the very next measurement.
// Automatic trimming happens when the offset is beyond the threshold now or
// would be by the next measurement (the drift predicts it), so that the RTC
// stays within the threshold rather than crossing it before each trim. An
// RTC within half a second is never set (there is no whole second to take
// off), so thresholds below 0.5 s act as 0.5 s.
//
// Time zones. An RTC on local time (no `rtconutc`, or LOCAL in /etc/adjtime)
// is mapped to UTC with an injected UTC-offset function; the daemon passes
// one reading the system's zone (localtime_r's tm_gmtoff).
//
// Pure: no OS calls. Times are injected; the device is an RtcDevice&.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/log.h"
#include "core/result.h"
#include "core/time.h"
#include "rtc/rtc_device.h"
#include "rtc/tracking.h"

namespace strata::rtc {

/// Local time − UTC, in seconds, at the UTC instant `utc_s` (positive east of
/// Greenwich; includes daylight saving time then).
using UtcOffsetFn = std::function<int64_t(int64_t utc_s)>;

/// Whether the RTC keeps UTC or local time, and the conversions between RTC
/// seconds (rtc/rtc_device.h) and UTC seconds since 1970.
struct RtcTimescale {
	bool on_utc = true;
	/// Used when !on_utc; empty means a zone at UTC+0.
	UtcOffsetFn utc_offset;

	int64_t rtc_from_utc(int64_t utc_s) const;
	/// Exact except in the hour a daylight-saving change repeats (one of the
	/// two UTC times) or skips (a time an hour off): an RTC on local time is
	/// ambiguous there, which is why UTC is recommended.
	int64_t utc_from_rtc(int64_t rtc_s) const;
};

/// Parses hwclock's adjtime file (chrony.conf `hwclockfile`, usually
/// /etc/adjtime; adjtime_config(5)): its third line says whether the RTC
/// keeps "UTC" or "LOCAL" time. Returns true for UTC.
/// Errors: Errc::NotFound when there is no third line (hwclock's own default
/// is then UTC, but the caller should say that it fell back to `rtconutc`),
/// Errc::Malformed when the third line is anything else.
Result<bool> parse_hwclock_file(std::string_view text);

/// One measurement of the RTC, as rtc.log records it.
struct RtcMeasurement {
	RealTime time;                  ///< system time of the measurement
	double fast_s = 0;              ///< measured: positive when the RTC is ahead
	std::optional<RtcModel> model;  ///< the estimate after it (nullopt: not valid yet)
	size_t samples = 0;             ///< measurements in the fit
	size_t runs = 0;
	Duration since_previous{};      ///< zero for the first
};

/// The rtcfile's new content, to be stored atomically by the daemon.
using RtcFileWriter = std::function<Result<>(std::string_view content)>;

struct RtcServiceConfig {
	std::string rtcfile;  ///< its path, for messages (the writer knows where to write)
	RtcTimescale timescale;
	double autotrim_threshold_s = 0;  ///< rtcautotrim; 0: off
	/// Whether the system clock is synchronised (to a source or a `local`
	/// reference): rtcautotrim sets the RTC only then, as chronyd does, so
	/// that an RTC is never "corrected" to a clock that is itself wrong.
	/// Empty: always (trimrtc asks for a trim whatever this says).
	std::function<bool()> clock_synchronized;
	/// Between the end of one measurement burst and the start of the next.
	Duration measurement_interval = std::chrono::minutes(11);
	int skip_interrupts = 1;  ///< update interrupts ignored after turning them on
	int burst = 4;            ///< update interrupts sampled for one measurement
	/// A measurement that has not completed after this long (no interrupts
	/// come) is abandoned and retried after measurement_interval.
	Duration measurement_timeout = std::chrono::seconds(10);
	/// Measurements before the service trusts a drift fitted by itself
	/// (before that, a drift from the rtcfile or from before a trim is used).
	size_t min_samples = 8;
	size_t max_samples = 64;  ///< measurements in the fit
	/// Rewrite the rtcfile after this many new measurements; 0: only after a
	/// trim, on writertc and at stop.
	int write_every = 6;
	/// Called after each measurement (the daemon's rtc.log); may be empty.
	std::function<void(const RtcMeasurement &)> on_measurement;
};

/// chronyc rtcdata.
struct RtcStatus {
	std::optional<RtcModel> model;  ///< nullopt: no valid estimate yet
	size_t samples = 0;             ///< measurements since start or the last trim
	size_t runs = 0;                ///< runs of residual signs about the fit (RtcTracker::runs)
	Duration span{};                ///< time they cover
	uint64_t trims = 0;
	bool measuring = false;  ///< update interrupts are on
};

class RtcService {
public:
	/// `device`, `writer` and `log` must outlive the service.
	RtcService(RtcServiceConfig config, RtcDevice &device, RtcFileWriter writer, Logger &log);

	/// The rtcfile's content at start (the daemon calls it only when the file
	/// exists). A valid file gives the offset and drift until the service has
	/// measured its own. Errors: Errc::Malformed, "Corrupt rtcfile PATH
	/// (…)"; the service then starts from nothing and will not write the file
	/// until it has a valid estimate (see the policy above). The caller logs
	/// the error and carries on.
	Result<> load_file(std::string_view text);

	/// Begins the first measurement. Returns when to call on_timer().
	/// Errors: the RTC's update interrupt cannot be turned on; without it
	/// the RTC cannot be measured, so the caller gives the RTC up (and logs).
	Result<Duration> start();

	/// The device's fd was readable. `now` is the system time read right
	/// after poll() returned, before anything else: its lateness is the
	/// measurement's error. Returns when to call on_timer() (replacing the
	/// earlier timer), or nullopt to keep the timer as it is. Device errors
	/// are logged, and abandon the measurement until the next one.
	std::optional<Duration> on_readable(RealTime now);

	/// The timer armed by the last call expired: starts a measurement, or
	/// abandons one that got no interrupts. Returns when to call it again.
	Duration on_timer(RealTime now);

	/// The system clock was stepped or its frequency changed (every change
	/// the discipline reports), so that measurements against the clock
	/// before the change stay on one line.
	void on_clock_change(const ClockChange &change);

	/// chronyc trimrtc: trims the RTC at the end of the current measurement,
	/// or of one started now (a few seconds), whatever the threshold. Returns
	/// when to call on_timer() (replacing the earlier timer). Errors: the
	/// update interrupt cannot be turned on.
	Result<Duration> trim();

	/// chronyc writertc: writes the rtcfile now. Errors: no valid estimate
	/// yet (Errc::NotFound; the file is left as it is), or the writer's error.
	Result<> write_file();

	/// At exit: turns the update interrupt off and writes the rtcfile if there
	/// is a valid estimate. Errors: the write failed.
	Result<> stop();

	/// The current estimate, nullopt when not valid (see the policy above).
	std::optional<RtcModel> model() const;
	RtcStatus status() const;

private:
	struct Sample {
		RealTime sys;
		double fast_s;
		int64_t rtc_utc_s;
	};
	/// An estimate of the offset, possibly without a known drift.
	struct Estimate {
		RtcModel model;
		bool drift_known;   ///< valid: worth writing to the rtcfile
		bool drift_usable;  ///< fitted, if briefly: good enough to predict the next minutes
	};

	std::optional<Estimate> estimate() const;
	Result<> begin_measurement();
	void abandon_measurement();
	Duration finish_measurement(RealTime now);
	bool should_trim(const Estimate &e, RealTime now) const;
	/// Trims at the update interrupt seen at `now`, at which the RTC began
	/// showing `rtc_utc_s`. Returns whether the RTC was set.
	bool trim_at(RealTime now, int64_t rtc_utc_s, const Estimate &e);
	Result<> write_model(const RtcModel &m);

	RtcServiceConfig config_;
	RtcDevice &device_;
	RtcFileWriter writer_;
	Logger &log_;

	RtcTracker tracker_;
	/// Offset and drift from the rtcfile or from before the last trim.
	std::optional<RtcModel> base_;
	bool base_drift_known_ = false;
	bool base_drift_usable_ = false;

	bool measuring_ = false;
	int skip_left_ = 0;
	std::vector<Sample> burst_;
	bool trim_requested_ = false;
	bool write_due_ = false;  ///< write as soon as the estimate is valid (after a trim)
	int since_write_ = 0;
	uint64_t trims_ = 0;
	std::optional<RealTime> last_measurement_;
};

/// stratad -s: the system time at which the RTC began showing `rtc_utc`
/// (a reading taken at an update interrupt, converted to UTC), by the model
/// from the rtcfile: the RTC's offset at the file's reference time plus its
/// drift over the time since — the time the machine was off. Without a
/// model the RTC is taken as exact.
/// Errors: the RTC reads earlier than the model's reference time by more
/// than the model's own offset can explain (Errc::InvalidArgument): it was
/// reset or its battery ran flat, and the clock must not be set from it.
Result<RealTime> start_time(const std::optional<RtcModel> &model, RealTime rtc_utc);

/// What -s does to the system clock.
struct StartStep {
	double step_s = 0;        ///< ClockControl::step by this much, as soon as possible
	RealTime rtc_utc;         ///< the RTC reading used, in UTC
	bool at_boundary = true;  ///< false: read without an interrupt (±0.5 s)
};

/// The measurement behind -s, before the event loop runs: turns the update
/// interrupt on, waits (blocking, up to `timeout`) for the first second
/// boundary after `skip` ignored interrupts, reads the RTC and `now()` at
/// once, and turns the interrupt off. An RTC without update interrupts is
/// read once, as being half-way through its second. The step is then
/// start_time() − the system time of the reading.
/// Errors: the RTC cannot be read, no interrupt came within `timeout`, or
/// those of start_time(); the caller leaves the clock alone.
Result<StartStep> start_step(RtcDevice &device, const RtcTimescale &timescale,
			     const std::optional<RtcModel> &model,
			     const std::function<RealTime()> &now,
			     Duration timeout = std::chrono::milliseconds(2500), int skip = 1);

} // namespace strata::rtc
