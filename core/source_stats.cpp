#include "core/source_stats.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/regression.h"

namespace strata {

namespace {

/// Skew reported while the frequency is unknown (too few samples).
constexpr double kUnknownSkewPpm = 2000.0;
constexpr size_t kMaxWindow = 256;

/// chronyd's constants for the asymmetry estimate: a slope at least this
/// large, this many times running with one sign; at most ±0.5.
constexpr double kMinAsymmetry = 0.45;
constexpr int kMinAsymmetryRun = 10;
constexpr int kMaxAsymmetryRun = 1000;
constexpr double kMaxAsymmetry = 0.5;

/// The confidence of SourceEstimate::skew_bound_ppm.
constexpr double kSkewBoundProbability = 0.9995;

/// Student's t at kSkewBoundProbability for 1…kMaxWindow degrees of freedom,
/// computed once.
double skew_bound_factor(size_t dof)
{
	static const std::array<double, kMaxWindow + 1> factors = [] {
		std::array<double, kMaxWindow + 1> t{};
		for (size_t i = 1; i < t.size(); i++) {
			t[i] = student_t_quantile(kSkewBoundProbability, static_cast<double>(i));
		}
		t[0] = t[1];
		return t;
	}();
	return factors[std::min(dof, kMaxWindow)];
}

} // namespace

double SourceStats::corrected(const SourceSample &s, double min_delay) const
{
	return s.offset_s + asymmetry() * (s.delay_s - min_delay);
}

double SourceStats::effective_delay(double delay_s) const
{
	double fixed = config_.fixed_min_delay_s;
	return fixed > 0 && delay_s < fixed ? 2 * fixed - delay_s : delay_s;
}

void SourceStats::add(const SourceSample &sample)
{
	size_t limit = std::clamp<size_t>(config_.max_samples, 1, kMaxWindow);
	while (samples_.size() >= limit) {
		older_.push_back(samples_.front());
		samples_.pop_front();
	}
	while (older_.size() > limit) {
		older_.pop_front();
	}
	SourceSample s = sample;
	s.delay_s = effective_delay(s.delay_s);
	samples_.push_back(s);
	if (!config_.asymmetry) {
		estimate_asymmetry();
	}
	// The samples before the window the runs test chose leave it for good
	// (chronyd's way): a window cut at a change of frequency grows back one
	// sample at a time, instead of taking the older samples back in as soon
	// as noise lets one fit pass the test. They stay as older points.
	if (auto e = estimate(samples_.back().local); e && e->samples >= 3 && e->samples < samples_.size()) {
		while (samples_.size() > e->samples) {
			older_.push_back(samples_.front());
			samples_.pop_front();
		}
		while (older_.size() > limit) {
			older_.pop_front();
		}
	}
}

void SourceStats::estimate_asymmetry()
{
	// offset = a + b·time + c·(delay − min): least squares over the window,
	// on centred sums. In chrony.conf's sign the asymmetry is −c.
	size_t n = samples_.size();
	if (n < 4) {
		return;
	}
	double min_delay = samples_.front().delay_s;
	for (const auto &s : samples_) {
		min_delay = std::min(min_delay, s.delay_s);
	}
	const RealTime origin = samples_.back().local;
	double mx = 0, md = 0, my = 0;
	for (const auto &s : samples_) {
		mx += to_seconds(s.local - origin);
		md += s.delay_s - min_delay;
		my += s.offset_s;
	}
	auto count = static_cast<double>(n);
	mx /= count;
	md /= count;
	my /= count;
	double sxx = 0, sxd = 0, sdd = 0, sxy = 0, sdy = 0;
	for (const auto &s : samples_) {
		double x = to_seconds(s.local - origin) - mx, d = s.delay_s - min_delay - md, y = s.offset_s - my;
		sxx += x * x;
		sxd += x * d;
		sdd += d * d;
		sxy += x * y;
		sdy += d * y;
	}
	double det = sxx * sdd - sxd * sxd;
	if (!(det > 1e-12 * sxx * sdd) || !(sdd > 0)) {
		asymmetry_run_ = 0;
		estimated_asymmetry_ = 0;
		return;
	}
	double a = -(sxx * sdy - sxd * sxy) / det;
	if (a * asymmetry_run_ < 0) {  // the sign changed: start again
		asymmetry_run_ = 0;
		estimated_asymmetry_ = 0;
		return;
	}
	if (a <= -kMinAsymmetry && asymmetry_run_ > -kMaxAsymmetryRun) {
		asymmetry_run_--;
	} else if (a >= kMinAsymmetry && asymmetry_run_ < kMaxAsymmetryRun) {
		asymmetry_run_++;
	}
	if (std::abs(asymmetry_run_) >= kMinAsymmetryRun) {
		estimated_asymmetry_ = std::clamp(a, -kMaxAsymmetry, kMaxAsymmetry);
	}
}

std::optional<DelayTestData> SourceStats::delay_test_data(RealTime at) const
{
	if (samples_.size() < 6) {
		return std::nullopt;
	}
	auto e = estimate(samples_.back().local);
	if (!e) {
		return std::nullopt;
	}
	double since = to_seconds(at - samples_.back().local);
	return DelayTestData{.since_last_s = since,
			     .predicted_offset_s = e->offset_s + since * e->frequency_ppm * 1e-6,
			     .min_delay_s = e->min_delay_s,
			     .skew_ppm = e->skew_ppm,
			     .stddev_s = e->stddev_s};
}

void SourceStats::on_clock_change(RealTime at, double step_s, double dfreq_ppm, double freq_after_ppm)
{
	// A sample `since` local seconds before the change lies (since / (1 + r0))
	// true seconds before it; had the clock run at r1 over that time, it
	// would read (r1 − r0) × that much more. Samples already moved by earlier
	// changes lie on the r0 time line, so the changes compose exactly.
	double r1 = freq_after_ppm * 1e-6;
	double r0 = r1 - dfreq_ppm * 1e-6;
	double slope_change = (r1 - r0) / (1 + r0);
	for (auto *list : {&older_, &samples_}) {
		for (auto &s : *list) {
			double since = to_seconds(s.local - at);
			double shift = step_s + slope_change * since;
			s.offset_s -= shift;
			s.local += from_seconds(shift);
		}
	}
}

std::optional<SourceEstimate> SourceStats::estimate(RealTime now) const
{
	if (samples_.empty()) {
		return std::nullopt;
	}
	double min_delay = samples_.front().delay_s;
	for (const auto &s : samples_) {
		min_delay = std::min(min_delay, s.delay_s);
	}
	if (config_.fixed_min_delay_s > 0) {
		min_delay = config_.fixed_min_delay_s;
	}
	SourceEstimate e;
	e.at = now;
	e.min_delay_s = min_delay;

	const SourceSample &newest = samples_.back();
	if (samples_.size() < 3) {
		e.offset_s = corrected(newest, min_delay);
		e.offset_error_s = std::max(config_.precision_s, newest.dispersion_s + newest.delay_s / 2);
		e.skew_ppm = kUnknownSkewPpm;
		e.skew_bound_ppm = kUnknownSkewPpm;
		e.stddev_s = e.offset_error_s;
		e.samples = samples_.size();
		return e;
	}

	// x: seconds relative to the newest sample (small numbers, exact enough).
	// A sample's weight falls with its distance (half the delay plus the
	// dispersion) above the window's shortest, in units of the noise the
	// distances show (distance_weights, core/regression.h), or, when the
	// delays are all the same, with its dispersion (below). The samples that
	// left the window go first, for the runs test only (never fitted: their
	// weight does not matter).
	std::array<RegressionPoint, 2 * kMaxWindow> points{};
	size_t past = older_.size();
	size_t n = past + samples_.size();
	auto sample = [&](size_t i) -> const SourceSample & { return i < past ? older_[i] : samples_[i - past]; };
	for (size_t i = 0; i < n; i++) {
		const auto &s = sample(i);
		points[i] = {to_seconds(s.local - newest.local), corrected(s, min_delay), 1.0};
	}
	std::array<double, kMaxWindow> distances{};
	std::array<double, kMaxWindow> weights{};
	for (size_t i = 0; i < samples_.size(); i++) {
		distances[i] = samples_[i].delay_s / 2 + samples_[i].dispersion_s;
	}
	// With every delay in the window the same (a reference clock's
	// configured `delay`, or a network without jitter) the delays tell
	// nothing apart; what differs is each sample's own dispersion, which a
	// refclock's filter makes the standard error of its offset
	// (refclock/filter.h): inverse-variance weights are then the right
	// ones. (distance_weights() would treat a dispersion a little above the
	// window's smallest as a long round trip: in clknetsim with a 100 µs SHM
	// refclock, RMS 10.7 → 9.2 µs over 20 seeds.)
	double first_delay = samples_.front().delay_s;
	bool one_delay = std::all_of(samples_.begin(), samples_.end(),
				     [&](const SourceSample &x) {
					     return x.delay_s == first_delay;
				     });
	if (one_delay) {
		double floor = std::max(config_.precision_s, 1e-12);
		double smallest = samples_.front().dispersion_s;
		for (const auto &x : samples_) {
			smallest = std::min(smallest, x.dispersion_s);
		}
		smallest = std::max(smallest, floor);
		for (size_t i = 0; i < samples_.size(); i++) {
			double ratio = std::max(samples_[i].dispersion_s, floor) / smallest;
			weights[i] = 1.0 / (ratio * ratio);
		}
	} else {
		size_t count = samples_.size();
		distance_weights(std::span<const double>(distances.data(), count),
				 config_.precision_s, std::span<double>(weights.data(), count));
	}
	for (size_t i = 0; i < samples_.size(); i++) {
		points[past + i].weight = weights[i];
	}
	size_t min_points = std::min(samples_.size(), std::max<size_t>(config_.min_samples, 3));
	auto window = runs_test_window(std::span<const RegressionPoint>(points.data(), n), min_points, past);
	if (!window) {
		e.offset_s = corrected(newest, min_delay);
		e.offset_error_s = std::max(config_.precision_s, newest.dispersion_s + newest.delay_s / 2);
		e.skew_ppm = kUnknownSkewPpm;
		e.skew_bound_ppm = kUnknownSkewPpm;
		e.stddev_s = e.offset_error_s;
		e.samples = samples_.size();
		return e;
	}
	const RegressionFit &f = window->fit;
	double x_now = to_seconds(now - newest.local);
	e.offset_s = f.at(x_now);
	e.frequency_ppm = f.slope * 1e6;
	e.skew_ppm = f.slope_error * 1e6;
	e.samples = n - window->first;
	e.skew_bound_ppm = e.skew_ppm * skew_bound_factor(e.samples - 2);
	e.runs = count_runs(std::span<const RegressionPoint>(points.data() + window->first, e.samples), f);
	// The residual standard deviation of an average sample in the window.
	double sum_w = 0;
	for (size_t i = window->first; i < n; i++) {
		sum_w += points[i].weight;
	}
	e.stddev_s = std::max(config_.precision_s, std::sqrt(f.variance * static_cast<double>(e.samples) / sum_w));
	e.offset_error_s = std::max(config_.precision_s, f.error_at(x_now));
	return e;
}

} // namespace strata
