#include "core/quantile.h"

#include <algorithm>
#include <cmath>

namespace strata {

QuantileEstimator::QuantileEstimator(double p, size_t repeat, double min_step)
	: p_(p), min_step_(min_step), estimates_(std::max<size_t>(repeat, 1))
{
	reset();
}

void QuantileEstimator::reset()
{
	for (auto &e : estimates_) {
		e = {.value = 0, .step = min_step_, .direction = 1};
	}
	values_ = 0;
}

void QuantileEstimator::add(double value, Rng &rng)
{
	if (values_++ == 0) {
		for (auto &e : estimates_) {
			e.value = value;
		}
		return;
	}
	for (auto &e : estimates_) {
		move(e, value, rng.uniform());
	}
}

void QuantileEstimator::move(Estimate &e, double value, double draw) const
{
	// Up with probability p when the value is above, down with 1 − p when
	// below: in balance where a fraction p of the values is below. A move
	// in the same direction as the last lengthens the step by the minimum,
	// a turn starts it again from the minimum; it never overshoots the value.
	if (value > e.value && draw < p_) {
		e.step += e.direction > 0 ? min_step_ : -min_step_;
		e.value += e.step > 0 ? e.step : min_step_;
		if (e.value > value) {
			e.step -= e.value - value;
			e.value = value;
		}
		if (e.direction < 0 && e.step > min_step_) {
			e.step = min_step_;
		}
		e.direction = 1;
	} else if (value < e.value && draw < 1 - p_) {
		e.step += e.direction < 0 ? min_step_ : -min_step_;
		e.value -= e.step > 0 ? e.step : min_step_;
		if (e.value < value) {
			e.step -= value - e.value;
			e.value = value;
		}
		if (e.direction > 0 && e.step > min_step_) {
			e.step = min_step_;
		}
		e.direction = -1;
	}
}

double QuantileEstimator::quantile() const
{
	std::vector<double> v;
	v.reserve(estimates_.size());
	for (const auto &e : estimates_) {
		v.push_back(e.value);
	}
	auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
	std::nth_element(v.begin(), mid, v.end());
	if (v.size() % 2 == 1) {
		return *mid;
	}
	double upper = *mid;
	double lower = *std::max_element(v.begin(), mid);
	return (lower + upper) / 2;
}

} // namespace strata
