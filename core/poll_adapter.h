// The poll interval of a source, adapted to what its statistics need
// (chrony.conf `polltarget`), by chronyd's rule:
//
// - A sample that lands farther from the prediction than its own distance
//   (dispersion + half the delay) says the source is not being tracked: the
//   interval shortens at once, by log2(error / distance) steps.
// - Otherwise the interval drifts toward the length at which the regression
//   window holds `polltarget` samples: a score moves by
//   (window / polltarget − 1) / polltarget per sample (twice that when
//   shortening) and the interval changes a step each time the score crosses
//   a whole number. A wandering oscillator, whose runs test keeps short
//   windows, gets short intervals; a quiet one long ones. Pure.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace strata {

class PollAdapter {
public:
	PollAdapter(int minpoll, int maxpoll, size_t polltarget = 8)
		: minpoll_(minpoll), maxpoll_(maxpoll < minpoll ? minpoll : maxpoll), target_(polltarget == 0 ? 1 : polltarget),
		  poll_(minpoll)
	{
	}

	int poll() const { return poll_; }
	/// Where between two steps the interval is (measurements.log's Score).
	double score() const { return score_; }

	/// After a sample: `window` samples are in the regression window; the
	/// sample was `error_s` from the offset predicted for it (0 when there
	/// was no prediction) and its distance is `distance_s`. Returns the new
	/// poll interval (log2 s).
	int on_sample(size_t window, double error_s = 0, double distance_s = 0)
	{
		double adjust;
		if (distance_s > 0 && std::abs(error_s) > distance_s) {
			adjust = -std::log2(std::abs(error_s) / distance_s);
		} else {
			double target = static_cast<double>(target_);
			adjust = (static_cast<double>(window) / target - 1.0) / target;
			if (window < target_) {
				adjust *= 2;
			}
		}
		return this->adjust(adjust);
	}

	/// Moves the score by `adjust` (a poll that got no answer, or a bad
	/// one: chronyd's 0.25, or 0.1 for the selected source; 0.1 or 0.02
	/// for a response its tests refused). Returns the poll interval.
	int adjust(double by)
	{
		score_ += by;
		// chronyd's steps: whole steps up; down, one more than the whole
		// steps below zero (truncating toward zero).
		if (score_ >= 1.0) {
			int steps = static_cast<int>(score_);
			poll_ += steps;
			score_ -= steps;
		}
		if (score_ < 0.0) {
			int steps = static_cast<int>(score_ - 1.0);
			poll_ += steps;
			score_ -= steps;
		}
		// At the ends of the range the score starts over: from nothing at
		// minpoll (as chronyd), half a step at maxpoll (chronyd: a whole
		// one), so that statistics asking for a shorter interval get it
		// after half as many samples (tools/sim, defaults, 200 seeds: RMS
		// 67.2 -> 65.7 µs; chrony's 126-burst still passes).
		if (poll_ < minpoll_) {
			poll_ = minpoll_;
			score_ = 0.0;
		} else if (poll_ > maxpoll_) {
			poll_ = maxpoll_;
			score_ = 0.5;
		}
		return poll_;
	}

	/// No sub-second polling of a source that is unreachable or not on the
	/// local network (its shortest round trip above 10 ms): the interval
	/// is raised to 1 s (chronyd's MIN_NONLAN_POLL). Returns the poll.
	int limit_subsecond(bool reachable, double min_delay_s)
	{
		if (poll_ < 0 && (!reachable || min_delay_s > kMaxLanDelay_s)) {
			poll_ = 0;  // whatever maxpoll says, as chronyd
		}
		return poll_;
	}
	static constexpr double kMaxLanDelay_s = 0.01;

private:
	int minpoll_;
	int maxpoll_;
	size_t target_;
	int poll_;
	double score_ = 0.0;  ///< fraction of a step; a step up at 1, down below 0 (chronyd's poll_score)
};

} // namespace strata
