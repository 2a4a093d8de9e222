#include "core/fallback_drift.h"

#include <algorithm>
#include <cmath>

namespace strata {

FallbackDrift::FallbackDrift(int min_log2, int max_log2)
	: min_(std::clamp(min_log2, 0, 30)), levels_(static_cast<size_t>(std::max(0, std::min(max_log2, 30) - min_ + 1)))
{
}

void FallbackDrift::on_update(double freq_ppm, double interval_s)
{
	active_ = -1;
	interval_s = std::max(interval_s, 0.0);
	for (size_t i = 0; i < levels_.size(); i++) {
		Level &l = levels_[i];
		double span = std::ldexp(1.0, min_ + static_cast<int>(i));
		if (l.seconds < span) {
			// Filling: a plain average over the half-intervals seen so far.
			double w = 0.5 * interval_s;
			if (w + l.seconds > 0) {
				l.freq_ppm = (l.freq_ppm * l.seconds + w * freq_ppm) / (w + l.seconds);
			}
			l.seconds += w;
		} else {
			// Full: an exponential average with a time constant of 2^level s.
			l.freq_ppm += (1 - std::exp(-interval_s / span)) * (freq_ppm - l.freq_ppm);
		}
	}
}

std::optional<FallbackDrift::Step> FallbackDrift::due(double silent_s)
{
	int best = -1;
	for (size_t i = 0; i < levels_.size(); i++) {
		double span = std::ldexp(1.0, min_ + static_cast<int>(i));
		if (levels_[i].seconds >= span && silent_s >= span) {
			best = static_cast<int>(i);
		}
	}
	if (best <= active_) {
		return std::nullopt;
	}
	active_ = best;
	return Step{min_ + best, levels_[static_cast<size_t>(best)].freq_ppm};
}

std::optional<double> FallbackDrift::next_due_s(double silent_s) const
{
	for (size_t i = static_cast<size_t>(active_ + 1); i < levels_.size(); i++) {
		double span = std::ldexp(1.0, min_ + static_cast<int>(i));
		if (levels_[i].seconds >= span && span > silent_s) {
			return span;
		}
	}
	return std::nullopt;
}

} // namespace strata
