#include "refclock/mono_to_real.h"

#include <algorithm>

namespace strata::refclock {

std::optional<RealMonoOffset> real_mono_offset(std::span<const ClockBracket> brackets)
{
	if (brackets.empty()) {
		return std::nullopt;
	}
	std::optional<RealMonoOffset> result;
	for (const ClockBracket &b : brackets) {
		if (b.real_after < b.real_before) {
			return std::nullopt;
		}
		Duration low = b.real_before.since_epoch - b.mono.since_epoch;
		Duration high = b.real_after.since_epoch - b.mono.since_epoch;
		if (!result) {
			result = RealMonoOffset{low, high};
			continue;
		}
		result->low = std::max(result->low, low);
		result->high = std::min(result->high, high);
		if (result->high < result->low) {
			return std::nullopt;
		}
	}
	return result;
}

} // namespace strata::refclock
