// The source engine: everything between "a packet (or a refclock sample)
// arrived" and "the clock was corrected", with no I/O of its own (sans-IO).
// It keeps each NTP source (polling, bursts and iburst, presend, the delay
// tests, `filter`, reachability, pool members replaced) and each refclock
// (driver polls, the refclock framework, reach), hands their samples to the
// statistics and the selection (core/source_set.h), turns the combined
// estimate into clock corrections (core/discipline.h) and tells every
// source of each change of the clock; it runs the start-up rules
// (`iburst`, `initstepslew`, `makestep`), -q/-Q, leap seconds
// (`leapsecmode`, `leapseclist`), `fallbackdrift`, and publishes the
// reference the NTP server hands out.
//
// It is driven, never drives: time comes from the Scheduler it is given
// (timers) and the clock it steers (LocalClock); packets leave through
// EngineIo::send() and come back through on_packet(); names resolve
// through a NameResolver; refclock devices are read through the drivers a
// RefclockFactory builds. The daemon (daemon/sources_io_linux.h), the
// simulator (tools/sim) and the tests drive this same engine. chrony's
// roles are the model (ntp_core, sources, reference), sans-IO the boundary.
//
// All on one thread; no call blocks.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "conf/config.h"
#include "conf/file_reader.h"
#include "core/clock.h"
#include "core/discipline.h"
#include "core/drift_file.h"
#include "core/fallback_drift.h"
#include "core/leap_table.h"
#include "core/log.h"
#include "core/log_files.h"
#include "core/random.h"
#include "core/reference.h"
#include "core/scheduler.h"
#include "core/source_set.h"
#include "ntp/keys.h"
#include "sources/io.h"
#include "sources/source.h"

namespace strata::sources {

struct EngineSettings {
	bool ipv4 = true;
	bool ipv6 = true;
	bool print_once = false;  ///< -Q: print the first estimate's offset and stop
	bool set_once = false;    ///< -q: step the clock by the first estimate and stop
	/// From the drift file: where the discipline starts.
	std::optional<DriftValues> drift;
	/// leapseclist / leapsectz: when set, it announces leap seconds instead
	/// of the sources.
	std::shared_ptr<const LeapTable> leap_table;
	/// Seeds the engine's random numbers (request cookies, pool choices).
	uint64_t seed = 1;
	/// The keyfile's keys (nullptr: no keyfile). A source with `key N`
	/// is polled with key N; while key N is missing it sends nothing (and
	/// says so in the log) until set_keys() brings it; one with `nts` is
	/// refused (sources/auth.h).
	std::shared_ptr<const ntp::KeyStore> keys;
};

/// What the engine is given. Every reference must outlive the engine.
struct EngineEnv {
	Scheduler &scheduler;
	LocalClock &clock;
	EngineIo &io;
	Logger &log;
	ReferenceState &reference;
	/// Names of `server`/`pool` lines; nullptr: only addresses work.
	NameResolver *resolver = nullptr;
	/// Builds each refclock's driver; empty: `refclock` lines are refused.
	RefclockFactory refclocks;
	/// `log` + `logdir` (nullptr: no log files).
	LogSink *log_files = nullptr;
	/// `reload sources` reads the sourcedir files through it (nullptr:
	/// reload refused).
	conf::FileReader *files = nullptr;
};

/// What the control commands that change sources answer.
enum class AddResult { Added, AlreadyKnown, TooMany, FamilyDisabled, Failed };

/// The engine's state that the tracking report and the log files show.
struct TrackingState {
	std::optional<size_t> selected;  ///< the leader's index
	double last_offset_s = 0;        ///< the last update's estimate (reference − local)
	std::optional<ClockEstimate> last_estimate;  ///< what the last clock update was made from
	double rms_offset_s = 0;
	double last_update_interval_s = 0;
	double resid_freq_ppm = 0;       ///< the leader's regression at the last update
	std::optional<double> synced_distance_s;  ///< root distance while synchronised
};

class Engine {
public:
	/// At most this many NTP sources (chronyd's "512 Too many sources").
	static constexpr size_t kMaxSources = 1024;
	/// The first request of a source, this long after it is added.
	static constexpr double kInitialDelay_s = 0.2;
	/// Polls are up to this much longer at random (chronyd's 2 %).
	static constexpr double kPollRandomness = 0.02;
	/// Requests of different sources this far apart at least (scaled with
	/// the poll interval between the two).
	static constexpr double kMinSeparation_s = 0.002;
	static constexpr double kMaxSeparation_s = 0.2;

	/// Builds the engine and takes every configured source on: refclocks
	/// at once (their drivers from env.refclocks; a refused line is logged
	/// and skipped), NTP sources by address at once and by name once
	/// resolved; `initstepslew`'s hosts are added as iburst servers. Errors:
	/// a source could not be opened or its name not given to the resolver.
	static Result<std::unique_ptr<Engine>> start(const conf::Config &config, const EngineSettings &settings,
						     EngineEnv env);
	~Engine();
	Engine(const Engine &) = delete;
	Engine &operator=(const Engine &) = delete;

	// --- Events from the I/O layer.
	/// A datagram for NTP source `id` (unknown ids are ignored).
	void on_packet(SourceId id, const RxPacket &packet);
	/// A symmetric-mode packet (mode 1 or 2) that came to the NTP port:
	/// taken (true) when it is from a configured `peer` (address and port),
	/// else left to the server to answer.
	bool on_symmetric_packet(const RxPacket &packet);
	/// The kernel's transmit timestamp (system clock) of source `id`'s
	/// latest request.
	void on_tx_timestamp(SourceId id, RealTime tx_system);
	/// The descriptor refclock `index` asked to be watched is readable.
	void on_refclock_readable(size_t index);
	/// The clock was stepped by someone else, by about `step_s`: every
	/// sample is dropped, a slew under way ends, and the sources start
	/// again (chronyd's LCL_NotifyExternalTimeStep).
	void on_external_step(double step_s);

	// --- Commands (chronyc's).
	/// online/offline for the sources whose address `match` accepts;
	/// returns how many.
	uint32_t set_online(const std::function<bool(const IpAddress &)> &match, bool online);
	/// burst GOOD/TOTAL for the online sources `match` accepts.
	uint32_t burst(const std::function<bool(const IpAddress &)> &match, int good, int total);
	/// makestep: the clock stepped by the whole of the current estimate.
	bool make_step();
	/// add server|pool: the source added as a configured one (a name
	/// resolved afterwards, as chronyd does).
	AddResult add(const conf::SourceConfig &config);
	/// delete: the NTP source at `address` removed (a pool member only, not
	/// its pool). false when no NTP source has the address.
	bool remove(const IpAddress &address);
	/// refresh: the names of the sources configured by name resolved again;
	/// a source whose address is no longer among its name's takes one that
	/// is (chronyd's NSR_RefreshAddresses).
	void refresh();
	/// reload sources: the sourcedir files read again; sources of lines
	/// gone or changed are removed, those of new lines added. The others,
	/// from chrony.conf or chronyc, stay. false without a FileReader.
	bool reload_sources();
	/// rekey: the keys of a keyfile read again. Every source with `key N`
	/// takes key N from `keys` (a changed secret at once; a key no longer
	/// there stops its requests, one that came back starts them), and
	/// sources added later take theirs from it.
	void set_keys(std::shared_ptr<const ntp::KeyStore> keys);

	// --- State.
	/// NTP sources and refclocks.
	size_t size() const { return ntp_.size() + refclocks_.size(); }
	/// -q/-Q: the measured offset, once printed or set.
	std::optional<double> printed_offset() const { return printed_offset_; }
	/// What the drift file should hold now: nullopt until the discipline
	/// has updated the frequency from a source (and never under -q/-Q).
	std::optional<DriftValues> drift() const;
	/// Called after the sources with every step and frequency change of
	/// the clock (the RTC's measurements follow the clock as the sources').
	void set_clock_observer(std::function<void(const ClockChange &)> observer)
	{
		clock_observer_ = std::move(observer);
	}

	// --- Views, for the reports (sources/reports.h) and the log files.
	/// Sources by selection index: refclocks first, then NTP sources as
	/// added.
	size_t entry_count() const { return entries_.size(); }
	/// The NTP source or the refclock at selection index `index`.
	const NtpSource *ntp_at(size_t index) const;
	const RefclockSource *refclock_at(size_t index) const;
	const std::vector<std::unique_ptr<NtpSource>> &ntp_sources() const { return ntp_; }
	const std::vector<std::unique_ptr<RefclockSource>> &refclocks() const { return refclocks_; }
	const NtpSource *find(const IpAddress &address) const;
	const SourceSet &source_set() const { return set_; }
	/// Each source's state in the last selection (nullopt: no candidate).
	std::optional<CandidateState> state_of(size_t index) const
	{
		const auto &states = last_decision_.source_states;
		return index < states.size() ? states[index] : std::nullopt;
	}
	/// The last selection (and the estimate it gave, if any).
	const SourceSetDecision &last_decision() const { return last_decision_; }
	const Discipline &discipline() const { return discipline_; }
	const TrackingState &tracking() const { return tracking_; }
	/// The reference the NTP server serves (not the engine's own: it is
	/// given, and current() may move its local-reference state on).
	ReferenceState &reference() const { return env_.reference; }
	LocalClock &clock() const { return env_.clock; }
	Scheduler &scheduler() const { return env_.scheduler; }
	/// "192.0.2.1 (ntp.example)" or "GPS (SHM 0)": a source in log lines.
	std::string label_of(size_t index) const;
	uint32_t ref_id_of(size_t index) const;
	/// The address, or a refclock's ref id as text (the log files' name).
	std::string log_name(size_t index) const;

private:
	/// What a selection index is: an NTP source or a refclock, and which.
	struct Entry {
		bool refclock = false;
		size_t position = 0;
	};
	Engine(const conf::Config &config, const EngineSettings &settings, EngineEnv env);

	// NTP sources (sources/engine_ntp.cpp).
	/// Takes a configured source on: an address is added at once, a name
	/// resolved first (a pool: up to maxsources addresses).
	Result<> configure(const conf::SourceConfig &config);
	Result<> add_source(const conf::SourceConfig &config, const IpAddress &address, const std::string &name,
			    uint32_t conf_id);
	/// Removes ntp_[position]: its timers and I/O, its statistics, and every
	/// index after it moved down.
	void remove_at(size_t position);
	NtpSource *find_mutable(const IpAddress &address);
	NtpSource *find_id(SourceId id);
	/// The source `id` moved to another of `addresses` not in use; false
	/// when there is none.
	bool move_to_fresh(SourceId id, const std::vector<IpAddress> &addresses);
	void poll(NtpSource &source);
	void schedule_poll(NtpSource &source, double in_s);
	void set_online(NtpSource &source, bool online);
	/// A pool member that stopped answering: another address of the pool
	/// takes its place (chronyd replaces unreachable pool sources).
	void replace(NtpSource &source);
	/// `filter N` (chronyd's): each poll counts, answered with `sample`
	/// or not (nullptr: no answer, or one the tests refused); after N the
	/// samples gathered become one. Returns the sample to use now, if any.
	std::optional<SourceSample> filter(NtpSource &source, const SourceSample *sample);
	/// The poll adapter's interval to the client, with chronyd's rule:
	/// no sub-second polling of a source that is unreachable or more than
	/// 10 ms away.
	void adapt_poll(NtpSource &source);
	/// A response to the outstanding request came: the next request is
	/// rescheduled from the poll interval as it stands now.
	void requeue_poll(NtpSource &source);
	/// A sample (filtered when `filter N`) into the statistics; then the
	/// poll adapter and the selection.
	void use_sample(NtpSource &source, const SourceSample &sample);
	/// The delay tests' limits for a response from `source` (its options, its quantile).
	ntp::DelayLimits delay_limits(const NtpSource &source) const;

	// Refclocks (sources/engine_refclock.cpp).
	void start_refclocks(const conf::Config &config);
	void refclock_tick(RefclockSource &r);
	void refclock_samples(RefclockSource &r, std::vector<refclock::RawSample> &samples);
	void refclock_end_poll(RefclockSource &r);
	void watch_refclock(RefclockSource &r);

	// The clock (sources/engine.cpp).
	/// Selection and, when the leader has news, a clock update.
	void update(RealTime now);
	/// The first estimate under -q/-Q: printed or stepped, then stop.
	void finish_once(double offset_s);
	/// initstepslew's estimate: the clock stepped or slewed by it once.
	void initial_correction(double offset_s);
	/// A special mode (initstepslew, -q/-Q) ends: its sources give way to
	/// the configured ones (initstepslew) or the run ends (-q/-Q).
	void end_special_mode(bool succeeded);
	/// Whether no source of a special mode can still become selectable
	/// (chronyd's special_mode_end): each has polled (nearly) a full
	/// reachability register, or has too few polls left to gather the
	/// samples a selection needs.
	bool special_mode_hopeless() const;
	/// After a poll: a special mode with no hope left ends.
	void check_special_mode();
	/// No source selected any more: the reference and the kernel told.
	void lose_sync();
	void apply(const DisciplineResult &result);
	/// The clock was stepped or its frequency changed: every sample moves.
	void clock_changed(const ClockChange &change);
	/// leapsecmode step or slew: the correction at the coming midnight.
	void schedule_leap_correction(Leap leap);
	void announce_leap(Leap leap);
	/// fallbackdrift, until the first update.
	void schedule_fallback();
	void cancel(std::optional<TimerId> &timer);

	// The log files (sources/engine_logs.cpp); each does nothing without them.
	void log_measurement(const NtpSource &s, std::span<const std::byte> payload, RealTime rx, Reject why,
			     const ntp::ClientSample *sample, const std::optional<DelayTestData> &delay_data,
			     double delay);
	void log_statistics(size_t index, RealTime now);
	void log_selection(RealTime now);
	/// A clock update from `decision`; `remaining_s`: what the previous
	/// update's slew had left to correct.
	void log_tracking(const SourceSetDecision &decision, double remaining_s);
	void log_unsynchronised();
	void log_refclock_sample(RefclockSource &r, const refclock::RawSample &raw);
	void log_refclock_filtered(const RefclockSource &r, const refclock::PollOutcome &outcome);

	EngineSettings settings_;
	EngineEnv env_;
	double max_clock_error_ppm_;
	LeapMode leap_mode_;  ///< leapsecmode
	Xoshiro256 rng_;
	SourceSet set_;
	Discipline discipline_;
	std::vector<std::unique_ptr<NtpSource>> ntp_;
	std::vector<std::unique_ptr<RefclockSource>> refclocks_;
	std::vector<Entry> entries_;  ///< by selection index
	SourceSetDecision last_decision_;
	TrackingState tracking_;
	std::optional<MonoTime> last_clock_update_;
	std::optional<MonoTime> last_request_sent_;  ///< of any NTP source (the separation)
	std::optional<TimerId> discipline_timer_;
	/// How the clock is corrected: normally, or once at the start
	/// (initstepslew), or once and then the run ends (-q/-Q).
	enum class Mode { Normal, InitStepSlew, Once };
	Mode mode_ = Mode::Normal;
	bool once_done_ = false;  ///< -q/-Q: the offset was printed or set, or no source was suitable
	std::optional<double> printed_offset_;
	/// initstepslew: the configured sources, added when its mode ends.
	std::vector<conf::SourceConfig> deferred_sources_;
	std::optional<TimerId> deferred_timer_;
	std::optional<TimerId> removal_timer_;  ///< initstepslew's sources, once it ends
	Leap leap_ = Leap::None;  ///< as last announced
	std::optional<TimerId> leap_timer_;
	double init_step_threshold_s_ = 0;  ///< initstepslew's threshold
	std::unique_ptr<FallbackDrift> fallback_;
	std::optional<MonoTime> last_update_;
	std::optional<TimerId> fallback_timer_;
	/// Every configured source line (chrony.conf, sourcedir, chronyc) by
	/// its conf id; its sources carry the id. A source resolved after its
	/// line was removed is not added.
	std::map<uint32_t, conf::SourceConfig> configs_;
	uint32_t next_conf_id_ = 1;
	SourceId next_source_id_ = 1;
	std::vector<std::vector<std::string>> sourcedirs_;
	std::function<void(const ClockChange &)> clock_observer_;
	/// tracking.log's maximum error: the bound at the last update.
	double log_error_bound_s_ = 1.5;
	/// Alive while the engine is: resolver answers that come after it is
	/// gone find it expired.
	std::shared_ptr<Engine *> self_;
};

} // namespace strata::sources
