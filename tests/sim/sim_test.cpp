// Simulation tests: pass limits on time and frequency error and on time to
// synchronise, for the scenarios of the discipline issue. Each prints its
// figures (docs/benchmarks.md collects them).
#include "tests/sim/sim.h"

#include <cstdio>

#include <gtest/gtest.h>

namespace strata::sim {
namespace {

void print(const Scenario &s, const Outcome &r)
{
	std::printf("%-28s sync<1ms %7.0f s  <100us %7.0f s  rms %9.1f us  max %9.1f us  rms freq %8.3f ppm  "
		    "max freq %8.1f ppm  packets %6llu  steps %d\n",
		    s.name.c_str(), r.time_to_1ms_s, r.time_to_100us_s, r.rms_error_s * 1e6, r.max_error_s * 1e6,
		    r.rms_freq_error_ppm, r.max_freq_error_ppm, static_cast<unsigned long long>(r.packets), r.steps);
}

TEST(Simulation, ChronyTestDefaults)
{
	// chrony's test suite defaults: 100 µs base delay, 100 µs jitter,
	// 1e-9 wander, 0.1 s initial offset, 100 ppm initial frequency error.
	Scenario s{.name = "defaults", .duration_s = 20000};
	Outcome r = run(s);
	print(s, r);
	ASSERT_GE(r.time_to_1ms_s, 0);
	EXPECT_LT(r.max_error_s, 1e-3);
	EXPECT_LT(r.rms_error_s, 300e-6);
	EXPECT_LT(r.max_freq_error_ppm, 500);
}

} // namespace
} // namespace strata::sim
