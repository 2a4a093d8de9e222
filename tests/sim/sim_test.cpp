// Simulation tests: pass limits on time and frequency error and on time to
// synchronise, for the scenarios of the discipline issue. Each prints its
// figures (docs/benchmarks.md collects them).
#include "tests/sim/sim.h"

#include <cstdio>

#include <gtest/gtest.h>

namespace strata::sim {
namespace {

/// One row of the table in docs/benchmarks.md: scenario | first update s |
/// settled < 1 ms at s | < 100 µs at s | RMS µs | max µs | steady RMS µs |
/// RMS frequency error ppm | max frequency error ppm | packets | steps.
void print(const Scenario &s, const Outcome &r)
{
	std::printf("| %s | %.0f | %.0f | %.0f | %.1f | %.1f | %.1f | %.3f | %.1f | %llu | %d |\n", s.name.c_str(),
		    r.time_to_first_update_s, r.time_to_1ms_s, r.time_to_100us_s, r.rms_error_s * 1e6, r.max_error_s * 1e6,
		    r.steady_rms_error_s * 1e6,
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

TEST(Simulation, LargeOffsetIsSteppedWithMakestep)
{
	Scenario s{.name = "makestep 10 s", .duration_s = 5000, .initial_offset_s = 10.0,
		   .discipline = {.makestep = DisciplineConfig::MakeStep{1.0, 3}}};
	Outcome r = run(s);
	print(s, r);
	EXPECT_EQ(r.steps, 1);
	ASSERT_GE(r.time_to_1ms_s, 0);
	EXPECT_LT(r.time_to_1ms_s, 600);
	EXPECT_LT(r.max_error_s, 1e-3);
}

TEST(Simulation, IburstSynchronisesWithinTenSeconds)
{
	Scenario s{.name = "iburst + makestep", .duration_s = 3000, .iburst = true,
		   .discipline = {.makestep = DisciplineConfig::MakeStep{1e-3, 3}}};
	Outcome r = run(s);
	print(s, r);
	EXPECT_GE(r.steps, 1);
	EXPECT_GE(r.time_to_first_update_s, 0);
	EXPECT_LT(r.time_to_first_update_s, 10);
	ASSERT_GE(r.time_to_1ms_s, 0);
	EXPECT_LT(r.max_error_s, 1e-3);
}

TEST(Simulation, FalsetickerIsNeverSelected)
{
	Scenario s{.name = "3 servers, 1 falseticker", .duration_s = 10000};
	s.servers = {ServerParams{}, ServerParams{}, ServerParams{.offset_s = 1.0}};
	Outcome r = run(s);
	print(s, r);
	EXPECT_FALSE(r.selected_falseticker);
	ASSERT_GE(r.time_to_1ms_s, 0);
	EXPECT_LT(r.max_error_s, 1e-3);
	EXPECT_LT(r.rms_error_s, 300e-6);
}

TEST(Simulation, ServerStepOfOneSecondIsOutvoted)
{
	// One of three servers jumps by 1 s after 5000 s: it becomes a
	// falseticker and the clock does not follow it.
	Scenario s{.name = "server steps 1 s", .duration_s = 10000};
	s.servers = {ServerParams{}, ServerParams{}, ServerParams{.step_at_s = 5000.0, .step_s = 1.0}};
	Outcome r = run(s);
	print(s, r);
	ASSERT_GE(r.time_to_1ms_s, 0);
	EXPECT_LT(r.max_error_s, 1e-3);
}

TEST(Simulation, TwentyPercentLoss)
{
	Scenario s{.name = "20 % loss", .duration_s = 20000};
	s.servers[0].loss = 0.2;
	Outcome r = run(s);
	print(s, r);
	ASSERT_GE(r.time_to_1ms_s, 0);
	EXPECT_LT(r.max_error_s, 1e-3);
	EXPECT_LT(r.rms_error_s, 300e-6);
}

TEST(Simulation, AsymmetricWanJitter)
{
	// A WAN path: 20 ms base delay, 10 ms of exponential jitter one way and
	// 1 ms the other. The error is bounded by the asymmetry the minimum-delay
	// samples still carry.
	Scenario s{.name = "WAN jitter 10 ms / 1 ms", .duration_s = 20000};
	s.servers[0] = ServerParams{.base_delay_s = 0.020, .jitter_s = 1e-3, .jitter = Jitter::Exponential,
				    .jitter_out = 10, .jitter_back = 1};
	Outcome r = run(s);
	print(s, r);
	// Half the mean asymmetry of the jitter is 4.5 ms; the delay weighting
	// must do much better than that.
	EXPECT_LT(r.steady_rms_error_s, 2e-3);
}

TEST(Simulation, MaxpollTenWithHighWander)
{
	// Wander 10× the default: the runs test must keep cutting the window and
	// the poll interval must come down from maxpoll (steady RMS 453 µs at
	// seed 1; the bound is to be tightened with the discipline).
	Scenario s{.name = "maxpoll 10, wander 1e-8", .duration_s = 40000, .wander_ppm_per_s = 1e-2};
	Outcome r = run(s);
	print(s, r);
	ASSERT_GE(r.time_to_1ms_s, 0);
	EXPECT_LT(r.max_error_s, 1e-3);
	EXPECT_LT(r.steady_rms_error_s, 1e-3);
}

TEST(Simulation, NoNoiseConvergesExactly)
{
	// No jitter, no wander: what is left is the discipline's own dynamics.
	Scenario s{.name = "no noise", .duration_s = 6000, .wander_ppm_per_s = 0};
	s.servers[0].jitter_s = 0;
	Outcome r = run(s);
	print(s, r);
	EXPECT_LT(r.steady_rms_error_s, 5e-6);
	EXPECT_GE(r.time_to_100us_s, 0);
}

TEST(Simulation, DeterministicFromTheSeed)
{
	Scenario s{.name = "seed", .duration_s = 3000};
	Outcome a = run(s), b = run(s);
	EXPECT_EQ(a.rms_error_s, b.rms_error_s);
	EXPECT_EQ(a.packets, b.packets);
	s.seed = 2;
	EXPECT_NE(run(s).rms_error_s, a.rms_error_s);
}

} // namespace
} // namespace strata::sim
