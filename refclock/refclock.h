// One reference clock as the discipline sees it: what chrony.conf's
// `refclock` options do to the samples a driver delivers, between the driver
// and the source statistics.
//
// A driver (SHM, SOCK, PHC, PPS, GPIO) hands over RawSamples as they come.
// Each is checked (not from the future, not older than two polls, a leap
// status that is not "unsynchronised", a known TAI offset for `tai`), moved
// by the configured `offset`, and kept in the median filter. Once a poll
// (every 2^poll seconds) the filter's combined sample goes to the source
// statistics; the poll also feeds the reachability register.
//
// Pulses (PPS, GPIO, a SOCK sample with the pulse flag, a PHC's external
// PPS) only say where a second begins: the whole seconds come from the
// `lock`ed refclock's latest sample (the Raspberry Pi GPS + PPS setup) or,
// with no lock, from the system clock itself when it is synchronised well
// enough to know which second a pulse belongs to. A pulse that does not line
// up with its lock (out of phase) or whose edge is too far from the pulse
// `width`'s middle is counted and not used; so are pulses that never came.
//
// A `local` refclock is an unsynchronised clock more stable than the system
// clock (a TCXO, an OCXO, a free-running PHC or atomic clock), a local
// standard that steadies the clock while other sources say the time. Only
// its phase counts: every sample is a pulse locked to the refclock's own
// previous sample (the first one locks to itself), so the offset runs on
// continuously across whole seconds; a gap of `maxlockage` periods (at least
// 3) loses the lock and starts it again (Verdict::LostLock: the source's
// statistics go too). Its polls say Leap::Unsynchronized, which keeps it out
// of the source selection; the daemon makes the system clock follow the
// changes of its statistics (refclock/local_follow.h).
//
// The rules follow chronyd's refclock documentation: offsets as reference −
// local, the lock limit of 0.2 of a pulse period, the pulse kept only while
// the synchronised clock's distance is below half a period. Pure.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/reference.h"
#include "core/source_stats.h"
#include "core/time.h"
#include "refclock/filter.h"
#include "refclock/sample.h"

namespace strata::refclock {

struct RefclockSettings {
	std::string name;          ///< "SHM0", "PPS /dev/pps0": names the refclock in the log
	uint32_t ref_id = 0;
	int poll_log2 = 4;         ///< the filter's output interval
	int dpoll_log2 = 0;        ///< the driver's polling interval (polled drivers)
	bool pps = false;          ///< every sample is a pulse (the `pps` option, PPS/GPIO drivers)
	int rate = 1;              ///< pulses per second
	double width_s = 0;        ///< pulse width: 0 = not checked
	int maxlockage = 2;        ///< pulses: how many periods the lock's sample may be old
	double offset_s = 0;       ///< added to every sample's offset
	double delay_s = 1e-9;
	double precision_s = 1e-6;
	double maxdispersion_s = 1.0;
	size_t filter_length = 64;
	bool tai = false;          ///< the reference counts TAI, not UTC
	bool local = false;        ///< an unsynchronised local standard (see above)
	int stratum = 0;
};

/// chronyd's default reference id: the driver's name cut to three letters
/// and the refclock's position in the configuration ("SHM0", "PPS1", "SO12").
uint32_t default_ref_id(std::string_view driver, size_t index);
/// Up to four ASCII characters as a reference id ("GPS" → 'G','P','S',0).
uint32_t ref_id_from_text(std::string_view text);
/// A reference id as text, trailing NULs dropped ("GPS").
std::string ref_id_text(uint32_t ref_id);

/// What a `local` refclock's newest sample changed in its statistics, as a
/// correction of the system clock: `before` and `after` are the statistics'
/// estimates at one instant, without and with the sample. offset_s > 0:
/// the clock is to move forward; dfreq_ppm > 0: it is to run faster.
struct LocalAdjustment {
	double offset_s = 0;
	double dfreq_ppm = 0;
};
LocalAdjustment local_adjustment(const SourceEstimate &before, const SourceEstimate &after);

/// Why a sample or pulse was not used (or Accepted).
enum class Verdict {
	Accepted,
	BadTime,         ///< from the future, or older than two polls
	Unsynchronized,  ///< the driver's leap status said so
	NoTaiOffset,     ///< `tai` and the TAI−UTC offset is not known
	NoLockSample,    ///< a pulse with a lock, and the lock has no recent sample
	OutOfPhase,      ///< a pulse too far from its lock's second
	BadEdge,         ///< a pulse too far from the middle of its `width`
	ClockNotSynced,  ///< a pulse with no lock, and the clock is not synchronised well enough
	LostLock,        ///< `local`: too long since the previous sample; locking again
};
inline constexpr size_t kVerdictCount = static_cast<size_t>(Verdict::LostLock) + 1;
std::string_view to_string(Verdict verdict);

/// The latest sample of a refclock, for the refclocks `lock`ed to it.
struct LockSample {
	RealTime local;
	double offset_s = 0;
	double dispersion_s = 0;
	Leap leap = Leap::None;
};

/// What a sample needs from the rest of the daemon.
struct SampleContext {
	RealTime now;                      ///< the local clock now
	std::optional<int> tai_offset;     ///< TAI − UTC, seconds, when known (`tai`)
	/// Pulses with a `lock`: the lock's latest sample (nullopt: none yet).
	bool locked = false;
	std::optional<LockSample> lock_sample;
	/// Pulses with no lock: whether the system clock is synchronised, and
	/// its root distance.
	bool clock_synchronized = false;
	double clock_distance_s = 0;
};

struct RefclockStats {
	uint64_t samples = 0;        ///< accepted
	uint64_t rejected = 0;       ///< not used, for any reason
	uint64_t pulses = 0;         ///< pulses accepted
	uint64_t out_of_phase = 0;   ///< pulses that did not line up with their lock
	uint64_t missed_pulses = 0;  ///< pulses that should have come and did not
	uint64_t polls = 0;          ///< poll intervals ended
	uint64_t empty_polls = 0;    ///< … with no usable sample
	/// Every sample and pulse by what add() said of it.
	std::array<uint64_t, kVerdictCount> verdicts{};
	uint64_t count(Verdict v) const { return verdicts[static_cast<size_t>(v)]; }
};

/// A poll's outcome: whether the refclock was heard from (reachability) and
/// the filtered sample for the source statistics.
struct PollOutcome {
	bool reached = false;
	std::optional<SourceSample> sample;
	Leap leap = Leap::None;
};

class Refclock {
public:
	explicit Refclock(RefclockSettings settings);

	const RefclockSettings &settings() const { return settings_; }
	const RefclockStats &stats() const { return stats_; }

	/// A sample from the driver; `local` is its `local` on the daemon's
	/// timescale. A pulse (`sample.pulse`, or the `pps` option) counts only
	/// for where in the second (or 1/rate of one) it lies.
	Verdict add(const RawSample &sample, RealTime local, const SampleContext &context);

	/// The poll interval ended: the filtered sample, if any. Clears the
	/// filter for the next interval.
	PollOutcome poll();

	/// The latest accepted sample, for pulses locked to this refclock.
	std::optional<LockSample> last_sample() const { return last_; }

	/// The clock was stepped or its frequency changed: the samples in the
	/// filter and the lock sample move with it, as the source statistics'
	/// samples do.
	void on_clock_change(const ClockChange &change);
	/// The clock jumped by an amount nobody measured (stepped by someone
	/// else): the filter's samples and the lock sample are dropped.
	void drop_samples();

	/// Adds `delta_s` to the offsets kept (the filter's and the lock
	/// sample's): a `local` refclock's whole seconds mean nothing, and are
	/// taken off to keep the offsets small.
	void correct_offset(double delta_s);

private:
	Verdict judge(const RawSample &sample, RealTime local, const SampleContext &context);
	Verdict add_pulse(RealTime local, double offset_s, double dispersion_s, const SampleContext &context);
	Verdict accumulate(RealTime local, double offset_s, double dispersion_s, Leap leap);
	bool edge_ok(double offset_s, double distance_s) const;

	RefclockSettings settings_;
	MedianFilter filter_;
	RefclockStats stats_;
	std::optional<LockSample> last_;
	std::optional<RealTime> last_pulse_;
	bool reached_ = false;
	Leap leap_ = Leap::None;
};

} // namespace strata::refclock
