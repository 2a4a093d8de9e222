// RTC tracking (chrony.conf `rtcfile`): how far the real-time clock is from
// the disciplined system clock and how fast that distance changes. Each
// measurement pairs a system time with the RTC's error at that instant
// (taken at an RTC update interrupt, where the RTC's second begins, so the
// whole-second resolution of the RTC does not limit it). A least-squares line
// through the recent measurements gives the offset and the drift, which
// predict the RTC's error at any later time: to set the system clock from
// the RTC at boot (`-s`), or to decide when to trim it (`rtcautotrim`).
//
// The model and its file format (save/load) are pure; rtc/rtc_linux.cpp reads
// the device.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/time.h"

namespace strata::rtc {

/// The RTC's error as a line: rtc_fast(t) = offset_s + drift_ppm·1e-6·(t − ref).
struct RtcModel {
	RealTime ref;            ///< system time the offset refers to
	double offset_s = 0;     ///< RTC − system time at `ref` (positive: RTC ahead)
	double drift_ppm = 0;    ///< RTC gains this much on the system clock
	size_t samples = 0;      ///< measurements behind the fit (0 when loaded from a file)

	/// The RTC's error at system time `t`.
	double fast_at(RealTime t) const { return offset_s + drift_ppm * 1e-6 * to_seconds(t - ref); }
	/// The system time at which the RTC reads `rtc_time`.
	RealTime system_time_for(RealTime rtc_time) const;
};

class RtcTracker {
public:
	/// Keeps the last `max_samples` measurements.
	explicit RtcTracker(size_t max_samples = 64) : max_samples_(max_samples < 2 ? 2 : max_samples) {}

	/// A measurement: the RTC was `rtc_fast_s` ahead of the system clock at `sys`.
	void add(RealTime sys, double rtc_fast_s);
	/// Forgets the measurements (after the RTC was set or trimmed).
	void reset() { samples_.clear(); }
	size_t size() const { return samples_.size(); }
	/// Time from the oldest measurement to the newest (zero with fewer than 2).
	Duration span() const
	{
		if (samples_.size() < 2) {
			return Duration::zero();
		}
		return samples_.back().sys - samples_.front().sys;
	}

	/// The system clock was stepped by `step_s` and its frequency raised by
	/// `dfreq_ppm` to `freq_after_ppm` at `at` (core::ClockChange). Each
	/// measurement is moved to where it would lie had the clock always run at
	/// the new rate, as SourceStats::on_clock_change moves NTP samples: the
	/// RTC's readings did not change, the system clock's did.
	void on_clock_change(RealTime at, double step_s, double dfreq_ppm, double freq_after_ppm);

	/// The fitted line, referred to the newest measurement; nullopt with fewer
	/// than 2 measurements or all at the same instant.
	std::optional<RtcModel> model() const;
	/// Runs of residuals of one sign about the fitted line (chronyc rtcdata's
	/// "Number of runs"): few runs for many measurements mean the RTC's
	/// error is not a straight line (temperature, a step). 0 without a fit.
	size_t runs() const;
	/// The offset alone, for a drift known from elsewhere (an rtcfile, or the
	/// fit before a trim): the mean of the measurements carried to the newest
	/// one along `drift_ppm`. Needs one measurement only, which is what makes
	/// a trimmed RTC usable again at once. nullopt without measurements.
	std::optional<RtcModel> model_with_drift(double drift_ppm) const;

private:
	struct Measurement {
		RealTime sys;
		double fast_s;
	};
	size_t max_samples_;
	std::deque<Measurement> samples_;
};

/// The rtcfile: one line, "strata-rtc 1 REF_UNIX_NS OFFSET_S DRIFT_PPM\n".
std::string save(const RtcModel &model);
/// Parses an rtcfile. Anything else (truncated, garbage, non-finite values,
/// a drift beyond ±1e5 ppm) is Errc::Malformed, so that a corrupt file is
/// reported and never used.
Result<RtcModel> load(std::string_view text);

} // namespace strata::rtc
