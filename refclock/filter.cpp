#include "refclock/filter.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace strata::refclock {

void MedianFilter::add(const RefSample &sample)
{
	if (samples_.size() == capacity_) {
		samples_.pop_front();
	}
	samples_.push_back(sample);
}

void MedianFilter::on_clock_change(RealTime at, double step_s, double dfreq_ppm, double freq_after_ppm)
{
	double r1 = freq_after_ppm * 1e-6;
	double r0 = r1 - dfreq_ppm * 1e-6;
	double slope_change = (r1 - r0) / (1 + r0);
	for (auto &s : samples_) {
		double shift = step_s + slope_change * to_seconds(s.local - at);
		s.offset_s -= shift;
		s.local += from_seconds(shift);
	}
}

std::optional<RefSample> MedianFilter::take(double precision_s)
{
	if (samples_.empty()) {
		return std::nullopt;
	}
	std::vector<RefSample> sorted(samples_.begin(), samples_.end());
	samples_.clear();
	std::sort(sorted.begin(), sorted.end(),
		  [](const RefSample &a, const RefSample &b) { return a.offset_s < b.offset_s; });
	size_t drop = sorted.size() / 5;
	auto first = sorted.begin() + static_cast<std::ptrdiff_t>(drop);
	auto last = sorted.end() - static_cast<std::ptrdiff_t>(drop);
	auto n = static_cast<double>(last - first);

	RealTime base = first->local;
	double sum_dt = 0, sum_offset = 0, max_dispersion = 0;
	for (auto it = first; it != last; ++it) {
		sum_dt += to_seconds(it->local - base);
		sum_offset += it->offset_s;
		max_dispersion = std::max(max_dispersion, it->dispersion_s);
	}
	double mean = sum_offset / n;
	double variance = 0;
	for (auto it = first; it != last; ++it) {
		variance += (it->offset_s - mean) * (it->offset_s - mean);
	}
	double stddev = n > 1 ? std::sqrt(variance / (n - 1)) : 0.0;
	return RefSample{.local = base + from_seconds(sum_dt / n),
			 .offset_s = mean,
			 .dispersion_s = std::max({precision_s, stddev, max_dispersion})};
}

} // namespace strata::refclock
