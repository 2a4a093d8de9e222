#include "core/regression.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace strata {

double RegressionFit::error_at(double x) const
{
	// Var(a + b·x) with the intercept and slope errors correlated through x_mean:
	// the error is smallest at the weighted mean x and grows away from it.
	double slope_part = slope_error * (x - x_mean);
	double mean_error2 = intercept_error * intercept_error - slope_error * slope_error * x_mean * x_mean;
	return std::sqrt(std::max(0.0, mean_error2) + slope_part * slope_part);
}

std::optional<RegressionFit> fit_line(std::span<const RegressionPoint> points)
{
	if (points.size() < 3) {
		return std::nullopt;
	}
	double sw = 0, swx = 0, swy = 0;
	for (const auto &p : points) {
		if (!(p.weight > 0) || !std::isfinite(p.weight)) {
			return std::nullopt;
		}
		sw += p.weight;
		swx += p.weight * p.x;
		swy += p.weight * p.y;
	}
	double xm = swx / sw, ym = swy / sw;
	double sxx = 0, sxy = 0;
	for (const auto &p : points) {
		double dx = p.x - xm;
		sxx += p.weight * dx * dx;
		sxy += p.weight * dx * (p.y - ym);
	}
	if (!(sxx > 0)) {
		return std::nullopt;
	}
	RegressionFit f;
	f.points = points.size();
	f.slope = sxy / sxx;
	f.intercept = ym - f.slope * xm;
	f.x_mean = xm;
	double ssr = 0;
	for (const auto &p : points) {
		double r = p.y - f.at(p.x);
		ssr += p.weight * r * r;
	}
	// Weights are relative: the residual variance is that of a unit-weight
	// point; an average point (weight sw/n) has variance·n/sw.
	auto n = static_cast<double>(points.size());
	f.variance = ssr / (n - 2);
	f.slope_error = std::sqrt(f.variance / sxx);
	f.intercept_error = std::sqrt(f.variance * (1.0 / sw + xm * xm / sxx));
	return f;
}

void distance_weights(std::span<const double> distances, double precision_s, std::span<double> weights)
{
	size_t n = std::min(distances.size(), weights.size());
	if (n == 0) {
		return;
	}
	// The median by selection, with `weights` as the scratch copy.
	auto scratch = weights.first(n);
	std::copy_n(distances.begin(), n, scratch.begin());
	auto middle = scratch.begin() + static_cast<std::ptrdiff_t>(n / 2);
	std::nth_element(scratch.begin(), middle, scratch.end());
	double median = *middle;
	double shortest = *std::min_element(scratch.begin(), scratch.end());
	precision_s = std::max(precision_s, 1e-12);
	double sigma = std::clamp((median - shortest) / 0.7, precision_s, std::max(shortest, precision_s));
	double floor = shortest + precision_s;
	for (size_t i = 0; i < n; i++) {
		double ratio = 1.0 + (distances[i] > floor ? (distances[i] - floor) / sigma : 0.0);
		weights[i] = 1.0 / (ratio * ratio);
	}
}

namespace {

/// The regularised incomplete beta function I_x(a, b), by its continued
/// fraction (modified Lentz), on the side where that converges fast.
double incomplete_beta(double x, double a, double b)
{
	if (x <= 0) {
		return 0;
	}
	if (x >= 1) {
		return 1;
	}
	if (x > (a + 1) / (a + b + 2)) {
		return 1 - incomplete_beta(1 - x, b, a);
	}
	double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) +
				b * std::log1p(-x)) /
		       a;
	constexpr double kTiny = 1e-300;
	double f = 1, c = 1, d = 0;
	for (int i = 0; i <= 400; i++) {
		int m = i / 2;
		double numerator;
		if (i == 0) {
			numerator = 1;
		} else if (i % 2 == 0) {
			numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
		} else {
			numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
		}
		d = 1 + numerator * d;
		d = std::abs(d) < kTiny ? kTiny : d;
		d = 1 / d;
		c = 1 + numerator / c;
		c = std::abs(c) < kTiny ? kTiny : c;
		double step = c * d;
		f *= step;
		if (std::abs(1 - step) < 1e-14) {
			break;
		}
	}
	return front * (f - 1);
}

/// P(T <= t) for t >= 0.
double student_t_cdf(double t, double dof)
{
	return 1 - 0.5 * incomplete_beta(dof / (dof + t * t), dof / 2, 0.5);
}

} // namespace

double student_t_quantile(double probability, double dof)
{
	if (!(dof >= 1) || !(probability >= 0.5 && probability < 1)) {
		return std::numeric_limits<double>::quiet_NaN();
	}
	double lo = 0, hi = 1;
	while (student_t_cdf(hi, dof) < probability && hi < 1e12) {
		lo = hi;
		hi *= 2;
	}
	for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
		double mid = (lo + hi) / 2;
		(student_t_cdf(mid, dof) < probability ? lo : hi) = mid;
	}
	return (lo + hi) / 2;
}

size_t count_runs(std::span<const RegressionPoint> points, const RegressionFit &fit)
{
	size_t runs = 0;
	int last = 0;
	for (const auto &p : points) {
		int sign = p.y - fit.at(p.x) >= 0 ? 1 : -1;
		if (sign != last) {
			runs++;
			last = sign;
		}
	}
	return runs;
}

bool runs_plausible(size_t runs, size_t positive, size_t negative)
{
	if (positive == 0 || negative == 0) {
		return runs >= 1 && positive + negative < 3;
	}
	// Wald–Wolfowitz: under randomness the number of runs has this mean and
	// variance. A window is cut when it has fewer runs than mean − z·σ.
	// Up to 48 points z is 1 (pure noise fails about 16 % of the time): in
	// the simulator this follows a wandering frequency much better than the
	// 5 % level (z = 1.645), e.g. steady RMS 453 µs vs 2150 µs with wander
	// 1e-8 s/s/√s at maxpoll 10; there the poll interval adapts until the
	// window holds some 8–16 samples. From 48 points z rises to 2 at 96 (a
	// 2.3 % level). So many points (a window of 48 and its older points)
	// come from a poll interval that does not adapt (a refclock, minpoll =
	// maxpoll), where the noise dominates the wander over the window and
	// nearly every cut is a false alarm, which takes a poll a sample to
	// regrow and whose shorter fit then fails the test more easily still (a
	// cascade down to minsamples). In clknetsim, a LAN polled every second:
	// RMS 11.1 → 9.8 µs over 20 seeds (chronyd 10.0); with that many points
	// the test keeps its power against a real change of frequency.
	auto np = static_cast<double>(positive), nn = static_cast<double>(negative);
	double n = np + nn;
	double z = 1.0 + std::clamp((n - 48.0) / 48.0, 0.0, 1.0);
	double mean = 2 * np * nn / n + 1;
	double variance = (mean - 1) * (mean - 2) / (n - 1);
	return static_cast<double>(runs) >= mean - z * std::sqrt(std::max(0.0, variance));
}

std::optional<WindowFit> runs_test_window(std::span<const RegressionPoint> points, size_t min_points,
					  size_t first_candidate)
{
	min_points = std::max<size_t>(min_points, 3);
	first_candidate = std::min(first_candidate, points.size());
	if (points.size() - first_candidate < min_points) {
		return std::nullopt;
	}
	std::optional<WindowFit> shortest;
	for (size_t first = first_candidate; first + min_points <= points.size(); first++) {
		auto window = points.subspan(first);
		auto fit = fit_line(window);
		if (!fit) {
			continue;
		}
		shortest = WindowFit{first, *fit};
		// Points on the line but for rounding: the residuals' signs are
		// the arithmetic's, not the data's, and tell nothing.
		double scale = 0;
		for (const auto &p : window) {
			scale = std::max(scale, std::abs(p.y));
		}
		if (!(fit->variance > 1e-24 * scale * scale)) {
			return shortest;
		}
		// The runs are counted over the window and as many older points
		// again (where there are any): a line that fits its own points but
		// misses the older ones, all on one side, is a frequency that has
		// moved, and the window is cut until the older points stop telling
		// so. This follows a wandering oscillator with short windows and
		// keeps long ones under white noise (in clknetsim with wander 1e-7
		// s/s/√s, RMS 246 → 155 µs; chronyd 140).
		size_t extend = std::min(first, window.size());
		auto tested = points.subspan(first - extend);
		size_t positive = 0;
		for (const auto &p : tested) {
			positive += p.y - fit->at(p.x) >= 0 ? 1u : 0u;
		}
		if (runs_plausible(count_runs(tested, *fit), positive, tested.size() - positive)) {
			return shortest;
		}
	}
	return shortest;
}

} // namespace strata
