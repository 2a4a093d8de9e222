#include "core/regression.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/random.h"

namespace strata {
namespace {

double gaussian(Rng &rng)
{
	// Box–Muller.
	double u1 = std::max(rng.uniform(), 1e-300), u2 = rng.uniform();
	return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
}

TEST(Regression, ExactLine)
{
	std::vector<RegressionPoint> p;
	for (int i = 0; i < 5; i++) {
		p.push_back({double(i), 2.0 + 3.0 * i, 1});
	}
	auto f = fit_line(p);
	ASSERT_TRUE(f.has_value());
	EXPECT_NEAR(f->intercept, 2.0, 1e-12);
	EXPECT_NEAR(f->slope, 3.0, 1e-12);
	EXPECT_NEAR(f->variance, 0.0, 1e-20);
	EXPECT_NEAR(f->at(10), 32.0, 1e-9);
	EXPECT_DOUBLE_EQ(f->x_mean, 2.0);
}

TEST(Regression, DegenerateInputs)
{
	EXPECT_FALSE(fit_line(std::vector<RegressionPoint>{{0, 0, 1}, {1, 1, 1}}).has_value());
	EXPECT_FALSE(fit_line(std::vector<RegressionPoint>{{1, 0, 1}, {1, 1, 1}, {1, 2, 1}}).has_value());
	EXPECT_FALSE(fit_line(std::vector<RegressionPoint>{{0, 0, 1}, {1, 1, 0}, {2, 2, 1}}).has_value());
}

TEST(Regression, LowWeightOutlierBarelyMatters)
{
	std::vector<RegressionPoint> p;
	for (int i = 0; i < 10; i++) {
		p.push_back({double(i), 1e-3, 1.0});
	}
	p[5].y = 1.0;  // a 1 s spike, weighted 1e-9 of the others
	p[5].weight = 1e-9;
	auto f = fit_line(p);
	ASSERT_TRUE(f.has_value());
	EXPECT_NEAR(f->at(5), 1e-3, 1e-9);
}

TEST(Regression, ErrorsMatchTheNoise)
{
	// 1 µs of Gaussian noise on 64 samples 16 s apart: the slope's standard
	// error is σ/√Sxx and the fit recovers a 12.5 ppm frequency within 3 errors.
	Xoshiro256 rng(11);
	std::vector<RegressionPoint> p;
	for (int i = 0; i < 64; i++) {
		double x = 16.0 * i;
		p.push_back({x, 0.01 + 12.5e-6 * x + 1e-6 * gaussian(rng), 1});
	}
	auto f = fit_line(p);
	ASSERT_TRUE(f.has_value());
	double sxx = 0;
	for (const auto &q : p) {
		sxx += (q.x - f->x_mean) * (q.x - f->x_mean);
	}
	EXPECT_NEAR(f->slope_error, 1e-6 / std::sqrt(sxx), 0.3e-6 / std::sqrt(sxx));
	EXPECT_NEAR(f->slope, 12.5e-6, 3 * f->slope_error);
	EXPECT_NEAR(std::sqrt(f->variance), 1e-6, 0.25e-6);
	// The error of the fitted value is smallest at the mean time.
	EXPECT_LT(f->error_at(f->x_mean), f->error_at(0));
	EXPECT_NEAR(f->error_at(f->x_mean), 1e-6 / 8, 0.05e-6);
}

TEST(DistanceWeights, FallWithTheDistanceInUnitsOfItsSpread)
{
	// Shortest 100 µs, median 120 µs: σ = 20 µs / 0.7 = 28.6 µs; a sample
	// 70 µs farther counts as 1 + 69/28.6 = 3.42 times as uncertain.
	std::vector<double> d{170e-6, 100e-6, 500e-6, 110e-6, 120e-6};
	std::vector<double> w(d.size());
	distance_weights(d, 1e-6, w);
	EXPECT_DOUBLE_EQ(w[1], 1.0);
	EXPECT_NEAR(w[0], 0.0857469, 1e-6);
	EXPECT_NEAR(w[2], 0.0044653, 1e-6);
	EXPECT_NEAR(w[3], 0.5782937, 1e-6);
	EXPECT_NEAR(w[4], 0.3607211, 1e-6);
	EXPECT_EQ(d[0], 170e-6);  // the input is left alone
}

TEST(DistanceWeights, SpreadAtMostTheShortestDistance)
{
	// (10 ms − 1 ms) / 0.7 would be 12.9 ms; σ is held at the shortest
	// distance, 1 ms, so the long exchanges count for little.
	std::vector<double> d{1e-3, 20e-3, 10e-3};
	std::vector<double> w(d.size());
	distance_weights(d, 1e-6, w);
	EXPECT_DOUBLE_EQ(w[0], 1.0);
	EXPECT_NEAR(w[1], 1.0 / (19.999 * 19.999), 1e-9);
	EXPECT_NEAR(w[2], 1.0 / (9.999 * 9.999), 1e-9);
}

TEST(DistanceWeights, EqualDistancesWeighTheSame)
{
	std::vector<double> d(7, 250e-6);
	std::vector<double> w(d.size(), -1.0);
	distance_weights(d, 1e-6, w);
	for (double x : w) {
		EXPECT_DOUBLE_EQ(x, 1.0);
	}
	std::vector<double> none;
	distance_weights(none, 1e-6, none);  // nothing to do, no crash
}

TEST(StudentT, QuantilesMatchTheDistribution)
{
	// One and two degrees of freedom have closed forms: tan(π(p − ½)) and
	// (2p − 1) / √(2p(1 − p)).
	EXPECT_NEAR(student_t_quantile(0.9995, 1), std::tan(M_PI * 0.4995), 1e-6);
	EXPECT_NEAR(student_t_quantile(0.9995, 2), 0.999 / std::sqrt(2 * 0.9995 * 0.0005), 1e-8);
	EXPECT_NEAR(student_t_quantile(0.9995, 1), 636.619, 1e-3);
	EXPECT_NEAR(student_t_quantile(0.9995, 4), 8.6103, 1e-4);
	EXPECT_NEAR(student_t_quantile(0.975, 10), 2.2281, 1e-4);  // the usual 95 % two-sided figure
	EXPECT_NEAR(student_t_quantile(0.9995, 30), 3.6460, 1e-4);
	// Many degrees of freedom: the normal distribution's 3.2905.
	EXPECT_NEAR(student_t_quantile(0.9995, 1e6), 3.2905, 1e-3);
	EXPECT_NEAR(student_t_quantile(0.5, 3), 0.0, 1e-9);
	EXPECT_TRUE(std::isnan(student_t_quantile(0.9995, 0.5)));
	EXPECT_TRUE(std::isnan(student_t_quantile(1.0, 3)));
	EXPECT_TRUE(std::isnan(student_t_quantile(0.2, 3)));
}

TEST(RunsTest, Plausibility)
{
	// 10 positive and 10 negative residuals: mean 11 runs, σ 2.18.
	EXPECT_TRUE(runs_plausible(10, 10, 10));
	EXPECT_TRUE(runs_plausible(9, 10, 10));    // 9 ≥ 8.82
	EXPECT_FALSE(runs_plausible(8, 10, 10));   // 8 < 8.82
	EXPECT_FALSE(runs_plausible(2, 10, 10));   // two long runs: a trend
	// Up to 48 residuals the level is mean − σ: 24 and 24, mean 25, σ 3.43.
	EXPECT_TRUE(runs_plausible(22, 24, 24));   // 22 ≥ 21.57
	EXPECT_FALSE(runs_plausible(21, 24, 24));
	// From 48 on it falls to mean − 2σ at 96 (a window polled at a fixed
	// interval, where nearly every cut is a false alarm). 36 and 36: mean
	// 37, σ 4.21, z 1.5 → 30.68; 50 and 50: mean 51, σ 4.97, z 2 → 41.05.
	EXPECT_TRUE(runs_plausible(31, 36, 36));
	EXPECT_FALSE(runs_plausible(30, 36, 36));
	EXPECT_TRUE(runs_plausible(42, 50, 50));   // mean − σ (46.03) would cut
	EXPECT_FALSE(runs_plausible(41, 50, 50));
	EXPECT_FALSE(runs_plausible(41, 64, 64));  // z stays 2: 65 − 2 × 5.63 = 53.7
}

TEST(RunsTest, CountsSignChanges)
{
	RegressionFit zero{};
	std::vector<RegressionPoint> p = {{0, 1, 1}, {1, 2, 1}, {2, -1, 1}, {3, 1, 1}, {4, 0, 1}};
	EXPECT_EQ(count_runs(p, zero), 3u);
}

TEST(RunsTest, WindowShrinksWhenTheFrequencyChanged)
{
	// 40 samples: the frequency was +50 ppm for the first 24 and 0 since; the
	// window must drop the old part, and the fit must give the new frequency.
	Xoshiro256 rng(5);
	std::vector<RegressionPoint> p;
	double y = 0;
	for (int i = 0; i < 40; i++) {
		double x = 16.0 * i;
		if (i > 0) {
			y += (i <= 24 ? 50e-6 : 0.0) * 16.0;
		}
		p.push_back({x, y + 2e-6 * gaussian(rng), 1});
	}
	auto w = runs_test_window(p);
	ASSERT_TRUE(w.has_value());
	EXPECT_GE(w->first, 18u);
	EXPECT_NEAR(w->fit.slope, 0.0, 2e-6);

	// Pure noise keeps (nearly) the whole window.
	std::vector<RegressionPoint> quiet;
	for (int i = 0; i < 40; i++) {
		quiet.push_back({16.0 * i, 2e-6 * gaussian(rng), 1});
	}
	auto q = runs_test_window(quiet);
	ASSERT_TRUE(q.has_value());
	EXPECT_LE(q->first, 5u);
}

TEST(RunsTest, OlderPointsAllOnOneSideCutTheWindow)
{
	// 20 recent points whose own residuals pass (runs of two: + + − − …),
	// after 10 older ones (runs-test points only, first_candidate = 10).
	auto points = [](double older_level) {
		std::vector<RegressionPoint> p;
		for (int i = 0; i < 10; i++) {
			p.push_back({double(i), older_level + ((i / 2) % 2 == 0 ? 1.0 : -1.0), 1});
		}
		for (int i = 10; i < 30; i++) {
			p.push_back({double(i), (i / 2) % 2 == 0 ? 1.0 : -1.0, 1});
		}
		return p;
	};
	// The older points where the recent line says: the whole window stays.
	auto same = runs_test_window(points(0.0), 6, 10);
	ASSERT_TRUE(same.has_value());
	EXPECT_EQ(same->first, 10u);
	// The older points 5 above it, all on one side: the line has moved, and
	// the window shrinks until the points it is tested against are recent.
	auto moved = runs_test_window(points(5.0), 6, 10);
	ASSERT_TRUE(moved.has_value());
	EXPECT_GE(moved->first, 15u);
	// Without the older points the same 20 pass as they are.
	auto p = points(5.0);
	auto alone = runs_test_window(std::span<const RegressionPoint>(p).subspan(10), 6);
	ASSERT_TRUE(alone.has_value());
	EXPECT_EQ(alone->first, 0u);
}

TEST(RunsTest, TooFewPoints)
{
	std::vector<RegressionPoint> p = {{0, 0, 1}, {1, 0, 1}};
	EXPECT_FALSE(runs_test_window(p).has_value());
}

} // namespace
} // namespace strata
