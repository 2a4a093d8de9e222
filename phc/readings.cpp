#include "phc/readings.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace strata::phc {

std::optional<PhcSample> process_sandwiches(std::span<const Sandwich> readings, double precision_s)
{
	std::vector<Duration> windows;
	windows.reserve(readings.size());
	for (const auto &r : readings) {
		Duration window = r.sys_after - r.sys_before;
		if (window >= Duration::zero()) {
			windows.push_back(window);
		}
	}
	if (windows.empty()) {
		return std::nullopt;
	}
	// The first quartile is an ordinary window as long as fewer than three
	// in four are spikes (the median is not: five spikes in ten readings
	// happen); should more be, the margin is still at most the shortest.
	std::sort(windows.begin(), windows.end());
	Duration shortest = windows.front();
	Duration spread = windows[windows.size() / 4] - shortest;
	Duration margin =
		std::max(std::min(shortest, kSpreadFactor * spread), from_seconds(precision_s));
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

RealTime phc_to_system(PhcInstant phc, const PhcSample &latest, const PhcSample *earlier)
{
	// PHC time elapsed since the latest sample, then system time for it.
	Duration since = phc.since_epoch - (latest.sys.since_epoch + latest.offset);
	double rate = 0.0;
	if (earlier != nullptr) {
		Duration apart = latest.sys - earlier->sys;
		if (apart >= std::chrono::milliseconds(100)) {
			rate = to_seconds(latest.offset - earlier->offset) / to_seconds(apart);
			if (!(std::abs(rate) < 0.1)) {
				rate = 0.0;
			}
		}
	}
	return latest.sys + from_seconds(to_seconds(since) / (1.0 + rate));
}

PhcInstant nearest_second(PhcInstant t)
{
	constexpr int64_t kSecond = 1'000'000'000;
	int64_t whole = t.seconds();
	if (t.subsec_ns() >= kSecond / 2) {
		whole++;
	}
	return PhcInstant::from_parts(whole, 0);
}

} // namespace strata::phc
