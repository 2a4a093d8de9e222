// Simulator scenarios as files: one `key = value` per line, `#` comments.
//
//   name = 3 servers, 1 falseticker
//   duration = 10000          # simulated seconds
//   seed = 1
//   offset = 0.1              # initial local − true time, s
//   freq = 100                # initial frequency error, ppm
//   wander = 1e-3             # frequency random walk, ppm/√s
//   minpoll = 6
//   maxpoll = 10
//   iburst = yes
//   makestep = 1.0 3          # threshold limit (the chrony.conf line)
//   conf = initstepslew 1 10.0.0.1   # any chrony.conf line for the client
//   server_options = filter 3 maxdelay 0.01   # added to every server line
//   leap_insert_at = 5000     # a leap second inserted at this true time
//   start = 2147478648        # UTC Unix seconds at which the run begins (not with leap_insert_at)
//   server = delay=100e-6 jitter=100e-6          # one line per server
//   server = offset=1.0 jitter=exponential:1e-3 asymmetry=0.2 out=10 back=1
//            loss=0.2 stratum=2 step_at=5000 step=1 prefer noselect
//   refclock = nmea jitter=0.1 latency=0.15 offset=0.15 precision=0.1 poll=4
//   refclock = pps jitter=1e-6 lock=0 precision=1e-7   # lock: an earlier refclock
//   refclock = phc jitter=100e-9 read=30e-6 readings=10 spike_probability=0.05
//            spike=500e-6 latch_spread=1 dpoll=0 poll=2 delay=1e-9 prefer noselect
//   (with refclock lines and no server line, the refclocks are the only sources)
//   limit max_error = 1e-3    # pass limits checked by the tests
//   limit rms_error = 300e-6
//   limit steady_rms = 300e-6
//   limit max_freq = 500
//   limit first_update = 10   # s
//   limit settled_1ms = 600   # s
//   limit no_falseticker = yes
//
// Unknown keys and malformed values are errors with the line number.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "tools/sim/sim.h"

namespace strata::sim {

struct Limits {
	std::optional<double> max_error_s;
	std::optional<double> rms_error_s;
	std::optional<double> steady_rms_s;
	std::optional<double> max_freq_ppm;
	std::optional<double> first_update_s;
	std::optional<double> settled_1ms_s;
	bool no_falseticker = false;
};

struct ScenarioFile {
	Scenario scenario;
	Limits limits;
};

Result<ScenarioFile> parse_scenario(std::string_view text);

/// The limits the outcome breaks, as "max_error 1.2e-3 > 1e-3"; empty = pass.
std::vector<std::string> check_limits(const Limits &limits, const Outcome &outcome);

/// One Markdown table row (docs/benchmarks.md's columns) and its header.
std::string table_header();
/// The median of each figure over several runs of one scenario (other
/// seeds): a time that never settled (−1) counts as later than any other.
Outcome median_outcome(const std::vector<Outcome> &runs);

std::string table_row(const Scenario &scenario, const Outcome &outcome);

} // namespace strata::sim
