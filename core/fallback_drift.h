// chrony.conf `fallbackdrift MIN MAX`: when the sources stay silent, the
// clock's frequency falls back, step by step, to averages of its past
// frequency over longer and longer times, instead of staying at the last
// estimate (which may have been made at a warmer or colder hour).
//
// Level i (2^i seconds, MIN ≤ i ≤ MAX) averages the frequency of the clock
// updates with a time constant of 2^i s; it becomes usable once it has
// averaged 2^i s of updates. After 2^i s without an update, the highest
// usable level i so reached gives the frequency. Any update ends the
// fallback. Pure: the caller passes the times.
#pragma once

#include <optional>
#include <vector>

namespace strata {

class FallbackDrift {
public:
	FallbackDrift(int min_log2, int max_log2);

	/// A clock update set the base frequency to `freq_ppm`, `interval_s`
	/// after the previous update.
	void on_update(double freq_ppm, double interval_s);

	struct Step {
		int level = 0;           ///< log2 of the seconds without an update
		double freq_ppm = 0;
	};
	/// `silent_s` seconds since the last update: the level to switch to
	/// now, if one is due and higher than the one in force.
	std::optional<Step> due(double silent_s);
	/// Seconds since the last update at which the next level falls due, if
	/// a higher level is usable.
	std::optional<double> next_due_s(double silent_s) const;

private:
	struct Level {
		double freq_ppm = 0;
		double seconds = 0;  ///< of updates averaged, up to 2^level
	};
	int min_;
	std::vector<Level> levels_;
	int active_ = -1;  ///< the level in force, −1 while synchronised
};

} // namespace strata
