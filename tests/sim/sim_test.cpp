// Simulation tests: every scenario file in tests/sim/scenarios runs and must
// keep within its `limit` lines; the table rows are printed (they are what
// docs/benchmarks.md shows). Plus the scenario format and determinism.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tools/sim/scenario_file.h"

namespace strata::sim {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> scenario_files()
{
	std::vector<fs::path> out;
	for (const auto &e : fs::directory_iterator(fs::path(STRATA_SOURCE_DIR) / "tests/sim/scenarios")) {
		if (e.path().extension() == ".scn") {
			out.push_back(e.path());
		}
	}
	std::sort(out.begin(), out.end());
	return out;
}

TEST(Simulation, EveryScenarioKeepsItsLimits)
{
	auto files = scenario_files();
	ASSERT_GE(files.size(), 9u);
	std::fputs(table_header().c_str(), stdout);
	for (const auto &path : files) {
		SCOPED_TRACE(path.filename().string());
		std::ifstream in(path);
		std::stringstream text;
		text << in.rdbuf();
		auto parsed = parse_scenario(text.str());
		ASSERT_TRUE(parsed.has_value()) << parsed.error().context;
		Outcome outcome = run(parsed->scenario);
		std::fputs(table_row(parsed->scenario, outcome).c_str(), stdout);
		for (const auto &broken : check_limits(parsed->limits, outcome)) {
			ADD_FAILURE() << broken;
		}
	}
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

TEST(ScenarioFile, ParsesEveryKey)
{
	auto f = parse_scenario("name = x  # comment\nseed = 7\nduration = 100\noffset = -0.5\nfreq = 20\nwander = 0\n"
				"minpoll = 4\nmaxpoll = 8\niburst = yes\nmakestep = 0.1 -1\n"
				"server = delay=1e-3 jitter=exponential:2e-4 offset=0.5 asymmetry=0.1 out=2 back=0.5 "
				"loss=0.1 stratum=3 step_at=50 step=1 prefer noselect\n"
				"limit max_error = 1\nlimit rms_error = 2\nlimit steady_rms = 3\nlimit max_freq = 4\n"
				"limit first_update = 5\nlimit settled_1ms = 6\nlimit no_falseticker = yes\n");
	ASSERT_TRUE(f.has_value()) << f.error().context;
	const Scenario &s = f->scenario;
	EXPECT_EQ(s.name, "x");
	EXPECT_EQ(s.seed, 7u);
	EXPECT_EQ(s.minpoll, 4);
	EXPECT_TRUE(s.iburst);
	ASSERT_EQ(s.conf.size(), 1u);
	EXPECT_EQ(s.conf[0], "makestep 0.1 -1");
	ASSERT_EQ(s.servers.size(), 1u);
	EXPECT_EQ(s.servers[0].jitter, Jitter::Exponential);
	EXPECT_DOUBLE_EQ(s.servers[0].jitter_s, 2e-4);
	EXPECT_EQ(*s.servers[0].step_at_s, 50);
	EXPECT_TRUE(s.servers[0].prefer && s.servers[0].noselect);
	EXPECT_TRUE(f->limits.no_falseticker);
	EXPECT_EQ(*f->limits.settled_1ms_s, 6);
}

TEST(ScenarioFile, ErrorsNameTheLine)
{
	EXPECT_EQ(parse_scenario("name = a\nduration = long\n").error().context,
		  "line 2: duration: 'long' is not a number (or the key is unknown)");
	EXPECT_EQ(parse_scenario("colour = 3\n").error().context, "line 1: colour: unknown key");
	EXPECT_EQ(parse_scenario("server = delay\n").error().context,
		  "line 1: server: server option 'delay' needs a value");
	EXPECT_EQ(parse_scenario("just words\n").error().context, "line 1: expected KEY = VALUE");
}

TEST(ScenarioFile, StartIsWholeUnixSecondsWithoutALeap)
{
	auto f = parse_scenario("start = 2147478648\n");
	ASSERT_TRUE(f.has_value()) << f.error().context;
	EXPECT_EQ(f->scenario.start_unix_s, int64_t{2'147'478'648});
	EXPECT_FALSE(parse_scenario("name = x\n").value().scenario.start_unix_s.has_value());
	for (const char *bad : {"start = 1.5\n", "start = -1\n", "start = 1e12\n"}) {
		EXPECT_EQ(parse_scenario(bad).error().context,
			  "line 1: start: expected whole Unix seconds from 0 to 7258118400 (2200)")
			<< bad;
	}
	EXPECT_EQ(parse_scenario("start = 2147478648\nleap_insert_at = 100\n").error().context,
		  "start and leap_insert_at cannot be combined: a leap second sets the start to put it "
		  "at a midnight");
}

// The same run at the default epoch (2027) and straddling the NTP era wrap
// and 2^31 s gives the same result to the bit: the daemon's arithmetic does
// not depend on where the absolute time is (the scenario files 19 and 20 run
// longer versions with their limits).
TEST(Simulation, SameRunAcross2036And2038)
{
	Scenario s{.name = "epoch", .duration_s = 4000};
	Outcome at_2027 = run(s);
	ASSERT_GT(at_2027.packets, 10u);
	for (int64_t start : {int64_t{2'085'978'496} - 2000, int64_t{2'147'483'648} - 2000}) {
		SCOPED_TRACE(start);
		s.start_unix_s = start;
		Outcome moved = run(s);
		EXPECT_EQ(moved.packets, at_2027.packets);
		EXPECT_EQ(moved.steps, at_2027.steps);
		EXPECT_NEAR(moved.rms_error_s, at_2027.rms_error_s, 1e-9);
		EXPECT_NEAR(moved.max_error_s, at_2027.max_error_s, 1e-9);
		EXPECT_EQ(moved.time_to_1ms_s, at_2027.time_to_1ms_s);
	}
}

TEST(ScenarioFile, RefclockLines)
{
	auto f = parse_scenario("refclock = nmea jitter=0.1 latency=0.15 offset=0.15 precision=0.1 delay=0.2 poll=4 noselect\n"
				"refclock = pps jitter=1e-6 lock=0 prefer\n"
				"refclock = phc read=30e-6 readings=25 spike_probability=0.05 spike=5e-4 latch_spread=1 dpoll=-2\n");
	ASSERT_TRUE(f.has_value()) << f.error().context;
	const Scenario &s = f->scenario;
	EXPECT_TRUE(s.servers.empty());  // the refclocks are the sources
	ASSERT_EQ(s.refclocks.size(), 3u);
	EXPECT_EQ(s.refclocks[0].kind, RefclockKind::Nmea);
	EXPECT_DOUBLE_EQ(s.refclocks[0].latency_s, 0.15);
	EXPECT_TRUE(s.refclocks[0].noselect);
	EXPECT_EQ(s.refclocks[1].kind, RefclockKind::Pps);
	EXPECT_EQ(s.refclocks[1].lock, 0u);
	EXPECT_TRUE(s.refclocks[1].prefer);
	EXPECT_EQ(s.refclocks[2].readings, 25);
	EXPECT_EQ(s.refclocks[2].dpoll, -2);
	EXPECT_DOUBLE_EQ(s.refclocks[2].latch_spread, 1.0);

	EXPECT_EQ(parse_scenario("refclock = gps\n").error().context,
		  "line 1: refclock: unknown refclock kind 'gps' (nmea, pps, phc)");
	EXPECT_EQ(parse_scenario("refclock = pps lock=0\n").error().context,
		  "line 1: refclock: lock must name an earlier refclock (0 is the first)");
	EXPECT_EQ(parse_scenario("refclock = phc colour=3\n").error().context,
		  "line 1: refclock: unknown or invalid refclock option 'colour=3'");
}

TEST(ScenarioFile, LimitsAreChecked)
{
	Outcome o;
	o.time_to_1ms_s = 100;
	o.max_error_s = 2e-3;
	o.selected_falseticker = true;
	Limits l{.max_error_s = 1e-3, .no_falseticker = true};
	EXPECT_EQ(check_limits(l, o).size(), 2u);
	o.max_error_s = 5e-4;
	o.selected_falseticker = false;
	EXPECT_TRUE(check_limits(l, o).empty());
}

TEST(ScenarioFile, MedianOverSeeds)
{
	std::vector<Outcome> runs(3);
	runs[0].rms_error_s = 3e-6;
	runs[1].rms_error_s = 1e-6;
	runs[2].rms_error_s = 2e-6;
	runs[0].time_to_1ms_s = 100;
	runs[1].time_to_1ms_s = -1;  // never settled: later than any
	runs[2].time_to_1ms_s = 300;
	runs[0].time_to_100us_s = -1;
	runs[1].time_to_100us_s = -1;
	runs[2].time_to_100us_s = 50;
	runs[1].selected_falseticker = true;
	runs[2].packets = 9;
	Outcome m = median_outcome(runs);
	EXPECT_DOUBLE_EQ(m.rms_error_s, 2e-6);
	EXPECT_DOUBLE_EQ(m.time_to_1ms_s, 300);
	EXPECT_DOUBLE_EQ(m.time_to_100us_s, -1);
	EXPECT_TRUE(m.selected_falseticker);  // once is enough to say so
	EXPECT_EQ(m.packets, 0u);
}

} // namespace
} // namespace strata::sim
