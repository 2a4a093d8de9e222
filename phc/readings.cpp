#include "phc/readings.h"

#include <algorithm>

namespace strata::phc {

std::optional<PhcSample> process_sandwiches(std::span<const Sandwich> readings, double precision_s)
{
	Duration shortest = Duration::max();
	for (const auto &r : readings) {
		Duration window = r.sys_after - r.sys_before;
		if (window >= Duration::zero()) {
			shortest = std::min(shortest, window);
		}
	}
	if (shortest == Duration::max()) {
		return std::nullopt;
	}
	Duration margin = std::max(shortest, from_seconds(precision_s));
	Duration limit = shortest + margin;

	// Sums relative to the first used reading keep the arithmetic in range
	// (absolute times are ~1.8e18 ns; a few of them would overflow int64).
	std::optional<RealTime> base_sys;
	Duration sum_sys{}, sum_offset{}, sum_window{};
	int64_t n = 0;
	for (const auto &r : readings) {
		Duration window = r.sys_after - r.sys_before;
		if (window < Duration::zero() || window > limit) {
			continue;
		}
		RealTime mid = r.sys_before + window / 2;
		if (!base_sys) {
			base_sys = mid;
		}
		sum_sys += mid - *base_sys;
		sum_offset += r.phc.since_epoch - mid.since_epoch;
		sum_window += window;
		n++;
	}
	PhcSample s;
	s.sys = *base_sys + sum_sys / n;
	s.offset = sum_offset / n;
	s.delay = sum_window / n;
	s.dispersion_s = std::max(precision_s, to_seconds(shortest) / 2);
	s.used = static_cast<size_t>(n);
	return s;
}

PhcSample from_cross_timestamp(const CrossTimestamp &reading, double precision_s)
{
	return {.sys = reading.sys,
		.offset = reading.phc.since_epoch - reading.sys.since_epoch,
		.delay = Duration::zero(),
		.dispersion_s = precision_s,
		.used = 1};
}

} // namespace strata::phc
