#include "refclock/local_follow.h"

#include <cmath>

namespace strata::refclock {

std::optional<LocalAdjustment> add_local_sample(SourceSet &set, size_t index, Refclock &clock,
						const SourceSample &sample, size_t min_samples, RealTime now)
{
	auto estimate = [&]() -> std::optional<SourceEstimate> {
		const SourceStats &stats = set.stats(index);
		return stats.size() >= min_samples ? stats.estimate(now) : std::nullopt;
	};
	auto before = estimate();
	set.add_sample(index, sample);
	auto after = estimate();
	if (after && std::abs(after->offset_s) >= 1.0) {
		double whole = -std::round(after->offset_s);
		set.correct_offset(index, whole);
		clock.correct_offset(whole);
		after->offset_s += whole;
		if (before) {
			before->offset_s += whole;
		}
	}
	if (!before || !after) {
		return std::nullopt;
	}
	return local_adjustment(*before, *after);
}

} // namespace strata::refclock
