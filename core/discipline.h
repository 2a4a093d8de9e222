// The clock discipline: turns the selected sources' combined estimate into
// corrections of the local clock (chrony.conf(5) "System clock").
//
// - Frequency: the estimate's frequency error (measured against the rate
//   applied now, a slew included, and composed with it by multiplication)
//   moves the clock's base frequency, weighted by how sure each side is
//   (the new estimate's skew against the base frequency's own uncertainty,
//   which grows with time as the oscillator wanders); estimates with a skew
//   above `maxupdateskew` do not change it, nor do those whose 99.95 %
//   bound (Student's t times the skew, chronyd's) is above it: those of the
//   first few samples.
// - Offset: slewed out as a temporary frequency offset of at most
//   `maxslewrate`, ended by a timer; or stepped when `makestep` allows it.
//   The slew's duration is inversely proportional to the offset, as
//   chronyd's: an offset the size of the estimate's standard deviation takes
//   `corrtimeratio` × half the interval between updates, a larger one (which
//   is clearly real, not noise) proportionally less, at least a second. So an
//   initial error is gone in seconds while the noise barely moves the rate.
//   The timer runs on the monotonic clock, which for the system clock runs
//   at the slewed rate: the slew lasts that much longer.
// - `maxchange`: offsets above the limit are ignored after `start` updates,
//   and the discipline gives up (the daemon exits) after `ignore` of them.
//
// Every change of the clock's rate or phase is returned as a ClockChange for
// the sources. Pure: time comes in as arguments, the clock is injected.
#pragma once

#include <optional>
#include <vector>

#include "core/clock.h"
#include "core/log.h"

namespace strata {

struct DisciplineConfig {
	struct MakeStep {
		double threshold_s = 0;
		int limit = 0;  ///< updates that may step; negative: any
	};
	struct MaxChange {
		double offset_s = 0;
		int start = 0;
		int ignore = 0;
	};
	std::optional<MakeStep> makestep;
	std::optional<MaxChange> maxchange;
	double maxslewrate_ppm = 83333.333;
	double corrtimeratio = 3.0;
	double maxdrift_ppm = 100000.0;
	double maxupdateskew_ppm = 1000.0;
	double maxclockerror_ppm = 1.0;  ///< how fast the base frequency's uncertainty grows (ppm per 1000 s)
	double initial_frequency_ppm = 0.0;  ///< from the drift file
	double initial_skew_ppm = 1000.0;    ///< from the drift file; large = unknown
	/// `logchange`: a correction larger than this is logged as a warning.
	double logchange_s = 1.0;
};

/// The combined estimate of the selected sources.
struct ClockEstimate {
	double offset_s = 0;       ///< reference − local
	double frequency_ppm = 0;  ///< the local clock runs this slow against the reference
	double skew_ppm = 0;       ///< uncertainty of frequency_ppm
	/// A bound the frequency error surely lies within (the sources'
	/// SourceEstimate::skew_bound_ppm); `maxupdateskew` is compared with the
	/// larger of this and skew_ppm.
	double skew_bound_ppm = 0;
	double offset_sd_s = 0;    ///< standard error of offset_s
	/// The interval the offset is corrected over (chronyd: the time since
	/// the last update). Updates that come from several combined sources
	/// follow each other more closely than any one source's samples: the
	/// leader's sample interval is given here so that the correction keeps
	/// its pace. 0: the time since the last update alone.
	double interval_s = 0;
};

struct DisciplineResult {
	std::vector<ClockChange> changes;
	bool stepped = false;
	bool gave_up = false;  ///< maxchange: too many large offsets
	bool ignored = false;  ///< this estimate was not applied (maxchange)
};

class Discipline {
public:
	Discipline(const DisciplineConfig &config, ClockControl<Realtime> &clock, Logger &log);

	/// Applies an estimate made at (local) `now`; `mono` times the slew.
	DisciplineResult update(const ClockEstimate &estimate, MonoTime mono);
	/// Ends a slew when its time has come; call at next_wakeup().
	DisciplineResult on_timer(MonoTime mono);
	/// Slews `offset_s` (positive: the clock forward) out at `maxslewrate`,
	/// replacing any slew under way: `leapsecmode slew` at a leap second
	/// (−1 s after an insertion takes 12 s at 83333 ppm).
	DisciplineResult slew_offset(double offset_s, MonoTime mono);
	/// Follows a local standard (a `local` refclock): raises the base
	/// frequency by `dfreq_ppm` and slews `offset_s` (positive: the clock
	/// forward) on top of what the slew under way still has to do, over
	/// corrtimeratio × half the time since the previous call (1 s at
	/// least), at most at `maxslewrate`. The clock is told directly, not
	/// through the source selection: what the refclock's statistics learnt
	/// from its newest sample, chronyd's REF_AdjustReference.
	DisciplineResult follow(double offset_s, double dfreq_ppm, MonoTime mono);
	/// Ends a slew under way where it is (the makestep command: the clock
	/// was just stepped by the whole offset).
	DisciplineResult stop_slew();
	/// Sets the base frequency (fallbackdrift with the sources silent); a
	/// slew under way goes on on top of it.
	DisciplineResult set_base_frequency(double ppm);
	std::optional<MonoTime> next_wakeup() const { return slew_end_; }

	double base_frequency_ppm() const { return base_freq_ppm_; }
	/// What the slew under way has still to correct at `mono` (positive:
	/// the clock is still to move forward); 0 with no slew.
	double remaining_correction_s(MonoTime mono) const
	{
		if (!slew_end_ || mono >= *slew_end_) {
			return 0.0;
		}
		// The inverse of slew_duration_s().
		double slew = (applied_ppm_ - base_freq_ppm_) * 1e-6;
		double remaining = slew * to_seconds(*slew_end_ - mono);
		if (!clock_.monotonic_follows_frequency()) {
			return remaining;
		}
		return remaining / (1 + applied_ppm_ * 1e-6);
	}
	/// The rate of the slew under way at `mono` on top of the base
	/// frequency (ppm; positive: the clock runs fast to catch up); 0 with
	/// no slew.
	double slew_ppm(MonoTime mono) const
	{
		return slew_end_ && mono < *slew_end_ ? applied_ppm_ - base_freq_ppm_ : 0.0;
	}
	double skew_ppm() const { return skew_ppm_; }
	int updates() const { return updates_; }
	/// Updates that changed the frequency (skew within maxupdateskew): until
	/// there is one, the frequency is not known well enough to save.
	int frequency_updates() const { return frequency_updates_; }

private:
	/// Seconds of the monotonic clock that times the slew that `slew_ppm`
	/// on top of the base frequency takes to correct `offset_s`. When that
	/// clock runs at the slewed rate (the system clock's), then with the
	/// base right it gains slew / (1 + base + slew) on every second of its
	/// own: at 83,333 ppm, a slew timed as offset / rate alone ends with
	/// 7.7 % of the offset left (or overshot, slewing back).
	double slew_duration_s(double offset_s, double slew_ppm) const;
	/// Sets the clock to base + slew; appends the change of rate.
	void apply_frequency(double slew_ppm, DisciplineResult &r);

	DisciplineConfig config_;
	ClockControl<Realtime> &clock_;
	Logger &log_;
	double base_freq_ppm_;
	double skew_ppm_;
	double applied_ppm_;  ///< what the clock was last set to
	int updates_ = 0;
	int frequency_updates_ = 0;
	int ignored_ = 0;
	std::optional<MonoTime> last_update_;
	std::optional<MonoTime> last_follow_;
	std::optional<MonoTime> slew_end_;
};

} // namespace strata
