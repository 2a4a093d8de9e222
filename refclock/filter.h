// The refclock median filter (the `filter` option of `refclock`): a driver
// delivers a sample every dpoll; at each poll the filter drops the samples
// farthest from the median and combines the rest into the one sample the
// discipline sees. A PPS source's occasional late pulse or a GPS's NMEA
// glitch is removed here, before it can reach the clock.
//
// Combining averages offsets and sample times alike, which gives the offset
// at the mean time exactly when the local clock drifts linearly against the
// reference during the poll. Pure.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>

#include "core/time.h"

namespace strata::refclock {

struct RefSample {
	RealTime local;        ///< local clock when the sample was taken
	double offset_s = 0;   ///< reference − local
	double dispersion_s = 0;
};

class MedianFilter {
public:
	/// Keeps at most `capacity` samples (older ones are dropped first).
	explicit MedianFilter(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

	void add(const RefSample &sample);
	/// The clock was stepped by `step_s` at `at` and its frequency changed by
	/// `dfreq_ppm` to `freq_after_ppm`: the samples move as SourceStats'
	/// samples do, so that samples from before and after combine.
	void on_clock_change(RealTime at, double step_s, double dfreq_ppm, double freq_after_ppm);
	size_t size() const { return samples_.size(); }
	/// Forgets the samples (the clock jumped by an unknown amount).
	void clear() { samples_.clear(); }
	/// Adds `delta_s` to every sample's offset (a `local` refclock dropping
	/// whole seconds that mean nothing).
	void correct_offset(double delta_s)
	{
		for (auto &s : samples_) {
			s.offset_s += delta_s;
		}
	}

	struct Combined {
		/// The kept samples' mean offset at their mean time. Its dispersion
		/// is the largest of the precision, the kept samples' largest own
		/// dispersion, and the standard error of the mean offset.
		RefSample sample;
		/// The kept samples' standard deviation about the line through them
		/// (this poll's alone): what `maxdispersion` is compared with.
		double spread_s = 0;
	};

	/// Combines the samples collected since the last call and clears them:
	/// sorted by offset, the outer fifth on each side is dropped (none when
	/// fewer than 5 samples), the rest averaged. nullopt when nothing was
	/// added.
	///
	/// The standard error is √(variance / n), with the variance of the
	/// samples about a line through them (the clock drifts against the
	/// reference during a poll; the spread about the mean would count the
	/// drift as noise). A variance from ten or so samples is itself noisy
	/// (±25 %), and the source statistics weigh each combined sample by its
	/// dispersion: so the variance used is a running average over the polls
	/// (chronyd's idea), unless this poll's is clearly larger (its 90 %
	/// lower bound above the average: the reference got worse).
	std::optional<Combined> take(double precision_s);

private:
	size_t capacity_;
	std::deque<RefSample> samples_;
	double average_variance_ = 0;
	/// Degrees of freedom behind average_variance_ (counted up to 50).
	double average_dof_ = 0;
};

} // namespace strata::refclock
