// Weighted linear regression of a source's offsets against time, and the runs
// test that sizes the window of samples it is fitted to.
//
// A source's offsets drift linearly while the local frequency is off, so a
// line through the recent samples gives the offset now (the intercept) and
// the frequency error (the slope), with standard errors for both. Old samples
// help against noise until the frequency wanders: then the residuals of the
// line stop alternating in sign and form long runs. runs_test_window() drops
// the oldest samples until the number of runs is what noise would give, so
// the window is long in a quiet network and short when the clock wanders.
// This is the idea chronyd's regress module is built on; the code is ours.
//
// Pure and allocation-free: callers pass spans of their own buffers.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

namespace strata {

struct RegressionPoint {
	double x = 0;       ///< time of the sample, seconds relative to any origin
	double y = 0;       ///< the measured value (offset, seconds)
	double weight = 1;  ///< relative weight (1 / variance, up to a common factor)
};

struct RegressionFit {
	double intercept = 0;        ///< y at x = 0
	double slope = 0;            ///< dy/dx
	double variance = 0;         ///< weighted residual variance (y units², for weight 1)
	double intercept_error = 0;  ///< standard error of the intercept
	double slope_error = 0;      ///< standard error of the slope
	double x_mean = 0;           ///< weighted mean x (where the intercept error is smallest)
	size_t points = 0;

	double at(double x) const { return intercept + slope * x; }
	/// Standard error of the fitted y at x.
	double error_at(double x) const;
};

/// Least-squares line through the points; nullopt with fewer than 3 points,
/// non-positive total weight, or all points at one x.
std::optional<RegressionFit> fit_line(std::span<const RegressionPoint> points);

/// Relative weights (1 / variance, as RegressionPoint::weight) of samples
/// whose offsets are the less certain the longer they took: `distances` are
/// each sample's distance (half its round trip plus its dispersion), the
/// result goes into `weights` (same size). A sample `extra` seconds farther
/// than the shortest counts as one whose error is (1 + extra / σ) times as
/// large, with σ the noise the distances themselves show: (median −
/// shortest) / 0.7, at least `precision_s` and at most the shortest distance
/// (chronyd's sourcestats weighting). Measuring σ from the distances, not
/// from the fit, keeps it honest when the fit is dominated by a few short
/// exchanges: a fit's own residuals shrink with the weights it is given, so
/// weights made from them sharpen until one sample is all the fit sees.
void distance_weights(std::span<const double> distances, double precision_s, std::span<double> weights);

/// The `probability` quantile (0.5…1) of Student's t distribution with `dof`
/// degrees of freedom: a fit's standard error times this bounds the error
/// with that confidence (for the slope of a line through n points, dof =
/// n − 2). Computed by bisection on the distribution function; NaN for dof
/// < 1 or a probability outside [0.5, 1).
double student_t_quantile(double probability, double dof);

/// Number of runs (maximal groups of consecutive residuals with the same
/// sign; zeros count as positive) of y − fit.at(x), in the order given.
size_t count_runs(std::span<const RegressionPoint> points, const RegressionFit &fit);

/// Whether `runs` runs among `positive` and `negative` residuals are as many
/// as random noise would give: at least the expected number minus z
/// standard deviations, z = 1 up to 48 residuals, rising to 2 at 96.
bool runs_plausible(size_t runs, size_t positive, size_t negative);

struct WindowFit {
	size_t first = 0;  ///< index of the oldest point kept
	RegressionFit fit;
};

/// Fits the line to points[first…] for the smallest `first` ≥ `first_candidate`
/// (the longest window, points oldest first) whose residuals pass the runs
/// test, keeping at least `min_points`. The runs are counted over the window
/// and as many older points again where there are any (chronyd's way): a
/// line that fits its own points but leaves the older ones all on one side
/// is a frequency that has moved. Points before `first_candidate` are such
/// older points only, never in a window. nullopt when even the shortest
/// window cannot be fitted.
std::optional<WindowFit> runs_test_window(std::span<const RegressionPoint> points, size_t min_points = 3,
					  size_t first_candidate = 0);

} // namespace strata
