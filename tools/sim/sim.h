// The simulator: stratad's source engine (sources/engine.h) against a
// simulated oscillator, network, NTP servers and reference clocks, in
// simulated time. The engine is the daemon's own: its requests are real NTP
// packets, answered by simulated servers with the daemon's responder code,
// and its refclock drivers are simulated devices read at the engine's
// dpoll; the client's configuration is a chrony.conf built from the
// scenario (plus any `conf` lines), parsed by the daemon's parser.
//
// True time runs from 0; the local clock reads true time plus its offset,
// which grows with the oscillator's frequency error (a random walk: wander)
// plus the frequency the engine sets. Each NTP exchange draws its two
// one-way delays (base + jitter from a normal or exponential distribution,
// split by an asymmetry), may be lost, and may meet a server that is off
// (a falseticker) or steps mid-run. Reference clocks: NMEA (gpsd's SHM),
// PPS (locked to it or not), PHCs fast or slow. Deterministic from the
// seed; runs thousands of times faster than real time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace strata::sim {

enum class Jitter { Normal, Exponential };

struct ServerParams {
	double offset_s = 0;          ///< the server's own error (a falseticker if large)
	double base_delay_s = 100e-6; ///< round trip without jitter
	double jitter_s = 100e-6;     ///< standard deviation (normal) or mean (exponential) of each way's extra delay
	Jitter jitter = Jitter::Normal;
	double asymmetry = 0;         ///< share of the base delay on the way out minus the way back, −1…1
	double jitter_out = 1;        ///< jitter multiplier on the way out
	double jitter_back = 1;       ///< jitter multiplier on the way back
	double loss = 0;              ///< probability that a request or its reply is lost
	int stratum = 1;
	bool prefer = false;
	bool noselect = false;
	std::optional<double> step_at_s;  ///< the server's time jumps at this true time…
	double step_s = 0;                ///< …by this much
};

/// A simulated reference clock, driven through the daemon's refclock
/// framework (refclock/refclock.h) and, for a PHC, the daemon's reading
/// combiner (phc/readings.h).
enum class RefclockKind {
	Nmea,  ///< whole seconds, a sentence `latency` after each second, with `jitter`
	Pps,   ///< a pulse on each second, time-stamped with `jitter`
	Phc,   ///< an exact PHC read every dpoll: `readings` sandwiches of `read` seconds
};

struct RefclockParams {
	RefclockKind kind = RefclockKind::Nmea;
	double jitter_s = 0;       ///< NMEA, PPS: σ of a sample's time stamp; PHC: σ of a reading
	double latency_s = 0;      ///< NMEA: the sentence arrives this long after its second
	double offset_s = 0;       ///< the `offset` option
	double delay_s = 1e-9;     ///< the `delay` option
	double precision_s = 1e-6; ///< the `precision` option
	int poll = 4;
	int dpoll = 0;
	std::optional<size_t> lock;  ///< PPS: position (among the refclocks) of its `lock`
	double read_s = 1e-6;        ///< PHC: how long one reading takes
	int readings = 10;           ///< PHC: readings per sample (PTP_SYS_OFFSET's n)
	double spike_probability = 0;  ///< PHC: a reading delayed by `spike`
	double spike_s = 0;
	/// PHC: the latch lies uniformly in the middle `latch_spread` of a
	/// reading's window (0: exactly in the middle; 1: anywhere).
	double latch_spread = 0;
	bool prefer = false;
	bool noselect = false;
};

struct Scenario {
	std::string name;
	uint64_t seed = 1;
	double duration_s = 10000;
	double initial_offset_s = 0.1;      ///< local − true at start
	double initial_freq_error_ppm = 100;
	double wander_ppm_per_s = 1e-3;     ///< random walk of the frequency error, per √s (1e-9 s/s/√s = 1e-3 ppm)
	int minpoll = 6;
	int maxpoll = 10;
	/// The UTC time (Unix seconds) at which the run begins; by default
	/// 2027-01-15T08:00:00Z. Runs across 2036-02-07T06:28:16Z (NTP era 1)
	/// and 2038-01-19T03:14:08Z (2^31 s) test the daemon's time arithmetic
	/// there. Not with leap_insert_at, which sets the start itself.
	std::optional<int64_t> start_unix_s;
	/// A leap second inserted at this true time: the servers announce it
	/// from the start and repeat a second there; the error is measured
	/// against UTC.
	std::optional<double> leap_insert_at_s;
	bool iburst = false;
	/// More chrony.conf lines for the client (`makestep 1 3`, `filter`
	/// options go on server lines instead: see conf_text()).
	std::vector<std::string> conf;
	/// Options added to every `server` line (`filter 3`, `maxdelay 0.1`).
	std::string server_options;
	std::vector<ServerParams> servers = {ServerParams{}};
	std::vector<RefclockParams> refclocks;
};

struct Outcome {
	double time_to_1ms_s = -1;    ///< from then on |error| < 1 ms (−1: not at the end)
	double time_to_100us_s = -1;  ///< from then on |error| < 100 µs (−1: not at the end)
	double time_to_first_update_s = -1;  ///< the first clock update from a selected source
	double rms_error_s = 0;       ///< over the run from time_to_1ms (never settled: the second half)
	double max_error_s = 0;       ///< over the same part of the run
	double steady_rms_error_s = 0; ///< over the second half of the run
	double rms_freq_error_ppm = 0;
	double max_freq_error_ppm = 0;
	uint64_t packets = 0;
	uint64_t rejected = 0;  ///< responses the delay test (maxdelaydevratio) left out
	bool selected_falseticker = false;  ///< any server with |offset_s| ≥ 0.1 was ever selected
	int steps = 0;
	int leaps = 0;  ///< leap seconds the clock inserted
	std::string error;  ///< the client's configuration did not parse (nothing ran)
};

/// The client's chrony.conf for the scenario: a `server 10.0.0.N` line per
/// server (minpoll, maxpoll, iburst, prefer, noselect, server_options), a
/// `refclock` line per refclock (refid SIMn: NMEA as SHM, PPS, PHC), then
/// the `conf` lines.
std::string conf_text(const Scenario &scenario);
/// conf_text() parsed; errors name the line.
Result<> check_conf(const Scenario &scenario);

Outcome run(const Scenario &scenario);

} // namespace strata::sim
