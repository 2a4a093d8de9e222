// A running estimate of one quantile of a stream of values (a source's
// round-trip delays, for `maxdelayquant`), in constant memory: chronyd's
// stochastic estimator. Several estimates follow the stream side by side,
// each moved a step up when a value lands above it (with probability p) or
// down when one lands below (with probability 1 − p), so that each settles
// where a fraction p of the values lies below; the step grows while the
// moves keep one direction and falls back to the minimum when they turn.
// The median of the estimates is the answer. Pure: the random numbers come
// from the caller.
#pragma once

#include <cstddef>
#include <vector>

#include "core/random.h"

namespace strata {

class QuantileEstimator {
public:
	/// The quantile p (0 < p < 1); `repeat` estimates side by side; the
	/// smallest step (half the clock's precision, as chronyd takes it).
	QuantileEstimator(double p, size_t repeat, double min_step);

	/// The first value sets every estimate; the rest move them.
	void add(double value, Rng &rng);
	/// The estimate: 0 before the first value.
	double quantile() const;
	size_t values() const { return values_; }
	void reset();

private:
	struct Estimate {
		double value = 0;
		double step = 0;
		int direction = 1;
	};
	void move(Estimate &e, double value, double draw) const;

	double p_;
	double min_step_;
	std::vector<Estimate> estimates_;
	size_t values_ = 0;
};

} // namespace strata
