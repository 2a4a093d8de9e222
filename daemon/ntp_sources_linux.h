// Wiring of the time sources: one UDP socket and ClientSource per `server`,
// and one driver and Refclock per `refclock`, their polls on the PollLoop,
// their samples into the SourceSet, the combined estimate into the
// Discipline, and the result into the ReferenceState the server hands out.
// All on the loop's thread.
//
// Servers by address or name and pools (up to `maxsources` of the addresses
// the name resolves to) are supported; names are resolved off the loop
// (Resolver). `peer` (symmetric mode) is logged as not supported yet.
// Sources come and go at run time too (chronyc's add, delete, reload
// sources, refresh): every configured line has a conf id its sources carry,
// and resolver answers find their source by its id, never by a pointer, so
// that one removed meanwhile is simply not found.
// Refclocks: the drivers daemon/refclock_drivers_linux.h builds.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "conf/config.h"
#include "control/dispatch.h"
#include "control/metrics.h"
#include "core/discipline.h"
#include "core/drift_file.h"
#include "core/fallback_drift.h"
#include "core/leap_table.h"
#include "core/log.h"
#include "core/random.h"
#include "core/reference.h"
#include "core/source_set.h"
#include "daemon/poll_loop_linux.h"
#include "daemon/local_clock.h"
#include "ntp/client.h"
#include "ntp/udp_linux.h"
#include "refclock/bad_sample_log.h"
#include "refclock/refclock.h"

namespace strata::daemon {

class LogFiles;
class Resolver;

class NtpSources {
public:
	struct Settings {
		bool ipv4 = true;
		bool ipv6 = true;
		/// -Q: print the first estimate's offset and stop the loop.
		bool print_once = false;  ///< -Q
		bool set_once = false;    ///< -q
		/// From the drift file: where the discipline starts.
		std::optional<DriftValues> drift;
		double max_clock_error_ppm = 1.0;  ///< maxclockerror
		/// leapseclist / leapsectz: when set, it announces leap seconds
		/// instead of the sources.
		std::shared_ptr<const LeapTable> leap_table;
		LeapMode leap_mode = LeapMode::System;
		/// `log` and `logdir`: where measurements, statistics, tracking,
		/// refclock samples and selections are logged (nullptr: nowhere).
		LogFiles *log_files = nullptr;
	};

	/// Opens a socket per usable source and starts polling.
	static Result<std::unique_ptr<NtpSources>> start(const conf::Config &config, const Settings &settings,
							 PollLoop &loop, Logger &log, LocalClock &clock,
							 ReferenceState &reference);
	~NtpSources();
	NtpSources(const NtpSources &) = delete;
	NtpSources &operator=(const NtpSources &) = delete;

	/// NTP sources and refclocks.
	size_t size() const { return sources_.size() + refclocks_.size(); }
	/// The first -Q estimate, once printed.
	std::optional<double> printed_offset() const { return printed_offset_; }
	/// What the drift file should hold now: nullopt until the discipline has
	/// updated the frequency from a source.
	std::optional<DriftValues> drift() const;
	/// The `online` / `offline` commands: for the source at `address`, or
	/// for all when nullopt. Returns how many sources it applied to.
	size_t set_online(const std::optional<IpAddress> &address, bool online);

	// For the control protocol (chronyc's reports and commands). Indices
	// are the SourceSet's: refclocks first, then NTP sources as added.
	uint32_t report_count() const { return static_cast<uint32_t>(entries_.size()); }
	std::optional<control::SourceDataReport> source_report(size_t index) const;
	std::optional<control::SourceStatsReport> stats_report(size_t index) const;
	std::optional<control::SelectDataReport> select_report(size_t index) const;
	std::optional<control::NtpDataReport> ntp_data_report(const IpAddress &address) const;
	std::optional<std::string> source_name(const IpAddress &address) const;
	control::TrackingReport tracking_report() const;
	control::ActivityReport activity_report() const;
	/// Each refclock's sample and pulse counters, in `refclock` order (metrics).
	std::vector<control::RefclockCounters> refclock_counters() const;
	/// online/offline and burst for the sources control::address_matches() selects.
	uint32_t set_online(const control::Address &mask, const control::Address &address, bool online);
	uint32_t burst(const control::Address &mask, const control::Address &address, int good, int total);
	/// makestep: the clock stepped by the whole of the current estimate.
	bool make_step();
	/// chronyc's `add server|pool`: the source added as a configured one
	/// (a name resolved off the loop afterwards, as chronyd does). Success,
	/// SourceAlreadyKnown (a source has the address), TooManySources,
	/// InvalidAf (the address family is disabled) or Failed (no socket).
	control::Status add_command(const conf::SourceConfig &config);
	/// delete: the NTP source at `address` removed (a pool member only, not
	/// its pool). false when no NTP source has the address.
	bool remove(const IpAddress &address);
	/// refresh: the names of the sources configured by name resolved again;
	/// a source whose address is no longer among its name's takes one that
	/// is (chronyd's NSR_RefreshAddresses).
	void refresh();
	/// reload sources: the sourcedir files read again; sources of lines
	/// gone or changed are removed, those of new lines added. The others,
	/// from chrony.conf or chronyc, stay.
	control::Status reload_sources();
	/// authdata: strata has no NTP authentication, so mode none.
	std::optional<control::AuthDataReport> auth_data_report(const IpAddress &address) const;
	/// dump: each NTP source's and refclock's samples written to
	/// DIR/NAME.dat in strata's own text format (not chronyd's). Returns how
	/// many files were written.
	Result<size_t> dump(const std::string &dir) const;
	/// At most this many NTP sources (chronyd's "512 Too many sources").
	static constexpr size_t kMaxSources = 1024;
	/// Called after the sources with every step and frequency change of the
	/// clock (the RTC's measurements follow the clock as the sources' do).
	void set_clock_observer(std::function<void(const ClockChange &)> observer)
	{
		clock_observer_ = std::move(observer);
	}

private:
	struct Source;
	struct RefSource;
	/// What a SourceSet index is: an NTP source or a refclock, and which.
	struct Entry {
		bool refclock = false;
		size_t position = 0;
	};
	NtpSources(const conf::Config &config, const Settings &settings, PollLoop &loop, Logger &log,
		   LocalClock &clock, ReferenceState &reference);
	/// Takes a configured source on (as `conf_id`): an address is added at
	/// once, a name resolved first (a pool: up to maxsources addresses).
	Result<> configure(const conf::SourceConfig &config);
	/// Adds a source for `address`; `name` is the configured name when it
	/// had to be resolved (for the log).
	Result<> add(const conf::SourceConfig &config, const IpAddress &address, const std::string &name,
		     uint32_t conf_id);
	/// Removes sources_[position]: its timers and socket, its statistics,
	/// and every index after it moved down.
	void remove_at(size_t position);
	Source *find(const IpAddress &address);
	Source *find_id(uint64_t id);
	/// The source `id` (it may have gone meanwhile) moved to another of
	/// `addresses` not in use; false when there is none.
	bool move_to_fresh(uint64_t id, const std::vector<IpAddress> &addresses);
	void poll(Source &source);
	void set_online(Source &source, bool online);
	void on_socket(Source &source, short revents);
	void receive(Source &source);
	void apply(const DisciplineResult &result);
	/// A pool member that stopped answering: another address of the pool
	/// takes its place (chronyd replaces unreachable pool sources).
	void replace(Source &source);
	/// leapsecmode step or slew: the correction at the coming midnight.
	void schedule_leap_correction(Leap leap);
	void open_socket_for(Source &source);
	/// Every `refclock` line: its driver, its Refclock, its timer.
	void start_refclocks(const conf::Config &config);
	void refclock_tick(RefSource &r);
	void refclock_samples(RefSource &r, std::vector<refclock::RawSample> &samples);
	void refclock_end_poll(RefSource &r);
	void watch_refclock(RefSource &r);
	/// Selection and, when the leader has news, a clock update.
	void update(RealTime now);
	/// No source selected any more: the reference and the kernel told.
	void lose_sync();
	/// The clock was stepped or its frequency changed: every sample moves.
	void clock_changed(const ClockChange &change);
	std::string label_of(size_t index) const;
	uint32_t ref_id_of(size_t index) const;

	Settings settings_;
	PollLoop &loop_;
	Logger &log_;
	LocalClock &clock_;
	ReferenceState &reference_;
	Xoshiro256 rng_;
	SourceSet set_;
	Discipline discipline_;
	std::vector<std::unique_ptr<Source>> sources_;
	std::vector<std::unique_ptr<RefSource>> refclocks_;
	std::vector<Entry> entries_;  ///< by SourceSet index
	/// While synchronised: the root distance of the last update (pulses
	/// with no lock need it).
	std::optional<double> synced_distance_s_;
	bool once_done_ = false;  ///< -q/-Q: the offset was printed or set
	// What the tracking and sources reports show.
	std::vector<std::optional<CandidateState>> states_;  ///< by SourceSet index
	double last_offset_s_ = 0;
	double avg2_offset_ = 0;
	double last_update_interval_s_ = 0;
	std::optional<MonoTime> last_clock_update_;
	double last_resid_freq_ppm_ = 0;
	std::optional<size_t> selected_;
	std::optional<TimerId> discipline_timer_;
	std::optional<double> printed_offset_;
	Leap leap_ = Leap::None;  ///< as last announced
	std::optional<TimerId> leap_timer_;
	std::optional<double> init_step_threshold_;
	std::unique_ptr<FallbackDrift> fallback_;  ///< fallbackdrift
	std::optional<MonoTime> last_update_;
	std::optional<TimerId> fallback_timer_;
	void schedule_fallback();  ///< initstepslew, until the first update
	std::unique_ptr<Resolver> resolver_;
	Result<Resolver *> resolver();
	/// Every configured source (chrony.conf, sourcedir, chronyc) by its
	/// conf id; its sources carry the id. A source resolved after its
	/// line was removed is not added.
	std::map<uint32_t, conf::SourceConfig> configs_;
	uint32_t next_conf_id_ = 1;
	uint64_t next_source_id_ = 1;
	std::vector<std::vector<std::string>> sourcedirs_;
	std::function<void(const ClockChange &)> clock_observer_;

	// The log files (Settings::log_files); each does nothing without them.
	/// A response from `s` (a sample, or why there is none): measurements.log.
	void log_measurement(const Source &s, std::span<const std::byte> payload, RealTime rx, ntp::Reject why,
			     const ntp::ClientSample *sample, const std::optional<DelayTestData> &delay_data,
			     double delay);
	void log_statistics(size_t index, RealTime now);
	void log_selection(RealTime now);
	/// A clock update from `decision`; `remaining_s`: what the previous
	/// update's slew had left to correct.
	void log_tracking(const SourceSetDecision &decision, double remaining_s);
	void log_unsynchronised();
	void log_refclock_sample(RefSource &r, const refclock::RawSample &raw);
	void log_refclock_filtered(const RefSource &r, const refclock::PollOutcome &outcome);
	/// The address, or a refclock's ref id as text.
	std::string log_name(size_t index) const;
	/// tracking.log's maximum error: the bound at the last update.
	double log_error_bound_s_ = 1.5;
};

} // namespace strata::daemon
