// The state the source engine (sources/engine.h) keeps of each source: an
// NTP server it polls, or a reference clock it reads. Plain data and the
// protocol objects; the engine changes them, the reports
// (sources/reports.h) and the log files read them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conf/config.h"
#include "core/address.h"
#include "core/poll_adapter.h"
#include "core/quantile.h"
#include "core/scheduler.h"
#include "core/source_stats.h"
#include "ntp/client.h"
#include "ntp/packet.h"
#include "refclock/bad_sample_log.h"
#include "refclock/driver.h"
#include "refclock/refclock.h"
#include "sources/io.h"

namespace strata::sources {

using ntp::Reject;

/// The local clock's precision as the engine counts it (sample dispersion,
/// the step of the delay quantile).
inline constexpr double kClockPrecisionS = 1e-8;

struct NtpSource {
	/// `key`: the key of `key N` (nullptr: unauthenticated); must outlive it.
	NtpSource(const conf::SourceConfig &c, IpAddress a, Rng &rng, const ntp::Key *key = nullptr);

	conf::SourceConfig config;
	IpAddress address;
	ntp::ClientSource client;
	PollAdapter adapter;
	std::optional<QuantileEstimator> delay_quantile;  ///< `maxdelayquant`
	SourceId id = 0;         ///< unique for the engine's life: resolver answers find it by this
	uint32_t conf_id = 0;    ///< its configuration line (Engine::configs_)
	std::string label;       ///< "address" or "address (name)", for the log
	std::string pool_name;   ///< the pool's name for a pool member: it may be replaced
	std::string name;        ///< the configured name it was resolved from; empty for an address
	size_t index = 0;        ///< in the selection
	SourceIoInfo io;         ///< how its packets are time-stamped
	std::optional<TimerId> timer;
	MonoTime next_poll;      ///< when the timer is due
	bool online = true;
	bool replacing = false;
	MonoTime last_request;  ///< when the last request went, on the scheduler's clock (steps do not move it)
	uint32_t polls = 0;      ///< requests sent (chronyd's reachability_size, up to 8)
	/// `filter N`: the samples of the polls since the last combined one,
	/// and how many polls (answered well, badly or not at all) they span.
	std::vector<SourceSample> filtered;
	int filter_polls = 0;
	// For the ntpdata and sources reports.
	std::optional<ntp::Header> last_header;  ///< the last valid response
	std::optional<IpAddress> last_local;     ///< where it arrived
	double last_offset_s = 0;                ///< its offset as measured (before clock changes)
	double last_delay_s = 0;
	double last_dispersion_s = 0;
	double last_response_time_s = 0;         ///< the server's t3 − t2
	uint32_t total_tx = 0, total_rx = 0, total_valid = 0, total_good = 0;
	uint32_t auth_failures = 0;  ///< responses without a valid MAC of its key (or with one it did not ask for)
	uint32_t crypto_naks = 0;    ///< crypto-NAKs answering its requests
	// Each said once in the log, and again after a rekey.
	bool key_missing_logged = false;   ///< "no request sent: key N not in the keyfile"
	bool auth_failure_logged = false;
	bool crypto_nak_logged = false;
};

struct RefclockSource {
	RefclockSource(const conf::RefclockConfig &c, refclock::RefclockSettings settings,
		       std::unique_ptr<refclock::Driver> d)
		: config(c), clock(std::move(settings)), driver(std::move(d))
	{
	}

	conf::RefclockConfig config;
	refclock::Refclock clock;
	std::unique_ptr<refclock::Driver> driver;
	std::string label;             ///< "GPS (SHM 0)", for the log
	size_t position = 0;           ///< in configuration order (EngineIo::watch_refclock)
	size_t index = 0;              ///< in the selection
	std::optional<size_t> lock;    ///< position of the `lock` refclock
	std::optional<TimerId> timer;
	int watched_fd = -1;
	int driver_polls = 0;          ///< since the last poll's end
	int log_sequence = 0;          ///< refclocks.log: samples in this poll interval
	uint8_t reach = 0;
	uint32_t polls = 0;            ///< poll intervals ended (chronyd's reachability_size)
	uint64_t missed_logged = 0;    ///< missed pulses already reported
	size_t min_samples = 6;        ///< its statistics' minsamples: `local` follows from then on
	refclock::BadSampleLog bad_log;
	std::vector<refclock::RawSample> batch;
};

/// What the refclock framework does with refclock number `index` (from 0,
/// in configuration order) of `config`: its name, refid (the configured
/// one, else chronyd's default: the driver's first three letters and the
/// index, "PHC0", "GPI1"), intervals (dpoll at most poll), pulses (`pps`,
/// or a pulse driver), precision (the configured one, else the driver's),
/// filter and stratum.
refclock::RefclockSettings refclock_settings(const conf::RefclockConfig &config, size_t index,
					     const refclock::Driver &driver);

/// The refclock's entry in the source selection: its stratum and refid,
/// and the selection options (prefer, trust, require, noselect).
SourceInfo refclock_source_info(const conf::RefclockConfig &config, const refclock::RefclockSettings &settings);

} // namespace strata::sources
