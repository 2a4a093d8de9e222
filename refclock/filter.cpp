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

namespace {

/// The 90 % quantile of the chi-square distribution with `dof` degrees of
/// freedom (Wilson–Hilferty; within 3 % from one degree of freedom up).
double chi_square_90(double dof)
{
	double a = 2.0 / (9.0 * dof);
	double c = 1.0 - a + 1.2815516 * std::sqrt(a);
	return dof * c * c * c;
}

/// How many degrees of freedom the running average of the variance stands
/// for once it runs: a new poll's variance moves it by dof / (dof + this).
constexpr double kAverageDof = 50;

} // namespace

std::optional<MedianFilter::Combined> MedianFilter::take(double precision_s)
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
	double mean_dt = sum_dt / n, mean = sum_offset / n;
	double sxx = 0, sxy = 0;
	for (auto it = first; it != last; ++it) {
		double x = to_seconds(it->local - base) - mean_dt;
		sxx += x * x;
		sxy += x * (it->offset_s - mean);
	}
	// Four samples or more: about their line; two or three: about their mean.
	double slope = n >= 4 && sxx > 0 ? sxy / sxx : 0.0;
	double dof = n >= 4 ? n - 2 : n - 1;
	double sum_r2 = 0;
	for (auto it = first; it != last; ++it) {
		double r = it->offset_s - mean - slope * (to_seconds(it->local - base) - mean_dt);
		sum_r2 += r * r;
	}
	double variance = dof > 0 ? sum_r2 / dof : average_variance_;
	double used = variance;
	if (dof > 0) {
		double previous = average_dof_ > 0 ? average_variance_ : variance;
		if (average_dof_ >= kAverageDof) {
			average_variance_ +=
				dof / (dof + kAverageDof) * (variance - average_variance_);
		} else {
			average_variance_ = (average_variance_ * average_dof_ + variance * dof) /
					    (average_dof_ + dof);
			average_dof_ += dof;
		}
		// This poll's variance unless its 90 % lower bound is below the
		// average: most polls' spread is the average's, seen through few
		// samples.
		if (variance * dof / chi_square_90(dof) < previous) {
			used = average_variance_;
		}
	}
	double dispersion = std::max({precision_s, std::sqrt(used / n), max_dispersion});
	RefSample sample{
		.local = base + from_seconds(mean_dt), .offset_s = mean, .dispersion_s = dispersion};
	return Combined{.sample = sample, .spread_s = dof > 0 ? std::sqrt(variance) : 0.0};
}

} // namespace strata::refclock
