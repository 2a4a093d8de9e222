// The statistics log files chronyd writes with `log` and `logdir`
// (chrony.conf(5), `log` directive): one line per event, in chronyd's file
// names, column layouts and banners, so that scripts written for chronyd's
// logs read strata's unchanged. Only the text: what to write where and when
// is daemon/log_files_linux.h's. Pure.
//
// Every time is printed in UTC. Signs follow chrony.conf(5) column by column,
// which does not use one convention throughout: the measurements log gives
// the offset as reference − local (positive: the local clock is slow), the
// statistics and tracking logs as local − reference (positive: fast). The
// entries below hold the values as they are printed; the *_entry() helpers
// convert from strata's own types and signs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/reference.h"
#include "core/source_stats.h"
#include "core/time.h"

namespace strata {

enum class LogFile { Measurements, Statistics, Tracking, Rtc, Refclocks, Selection };
inline constexpr std::array<LogFile, 6> kLogFiles = {LogFile::Measurements, LogFile::Statistics, LogFile::Tracking,
						     LogFile::Rtc,          LogFile::Refclocks,  LogFile::Selection};

/// "measurements.log", "statistics.log"…
std::string_view log_file_name(LogFile file);
/// The file a `log` directive word enables: "measurements" and
/// "rawmeasurements" both write measurements.log. nullopt for "tempcomp"
/// (not supported) and anything unknown.
std::optional<LogFile> log_file_for(std::string_view word);

/// The banner chronyd repeats in each file: a line of '=', the column
/// header, a line of '=' (as long as the header). Three lines, each ending
/// in '\n'.
std::string log_banner(LogFile file);
/// Whether a banner goes before the line after `lines` lines of a file
/// (since it was opened): before the first, then every `every` lines; never
/// with `every` 0 (`logbanner 0`).
bool banner_due(uint64_t lines, int every);

/// "2026-12-02 05:42:22", UTC.
std::string log_time(RealTime t);
/// 'N' normal, '+' insert, '-' delete, '?' unsynchronised.
char leap_char(Leap leap);

/// measurements.log: one NTP response. `rawmeasurements` logs every response
/// that matched the source; `measurements` those that passed tests 1 to 7.
struct MeasurementEntry {
	RealTime time;                 ///< local time of the measurement
	std::string source;            ///< the server's address
	Leap leap = Leap::None;        ///< from the packet
	int stratum = 0;               ///< from the packet
	std::array<bool, 3> tests123{true, true, true};   ///< not a duplicate, not bogus, valid timestamps
	std::array<bool, 3> tests567{true, true, true};   ///< authentic, synchronised, root distance
	std::array<bool, 4> testsABCD{true, true, true, true};  ///< maxdelay, maxdelayratio, maxdelaydevratio, no loop
	int local_poll = 0;
	int remote_poll = 0;
	double score = 0;              ///< the poll adapter's score
	double offset_s = 0;           ///< reference − local (theta): positive when the local clock is slow
	double peer_delay_s = 0;
	double peer_dispersion_s = 0;
	double root_delay_s = 0;
	double root_dispersion_s = 0;
	uint32_t ref_id = 0;
	int mode = 4;                  ///< NTP mode of the response
	bool interleaved = false;
	char tx_source = 'D';          ///< local transmit timestamp: D daemon, K kernel, H hardware
	char rx_source = 'D';
	/// Tests 1 to 7 all passed (what `measurements`, without raw, logs).
	bool synchronised() const
	{
		return tests123[0] && tests123[1] && tests123[2] && tests567[0] && tests567[1] && tests567[2];
	}
};
std::string format_measurement(const MeasurementEntry &e);

/// statistics.log: one regression of a source's samples.
struct StatisticsEntry {
	RealTime time;
	std::string source;         ///< address, or a refclock's ref id
	double stddev_s = 0;        ///< of the samples about the fit
	double offset_s = 0;        ///< local − source: positive when the local clock is fast
	double offset_sd_s = 0;
	double rate = 0;            ///< s/s, positive when the local clock gains on the source
	double skew = 0;            ///< s/s, the error of `rate`
	double stress = 0;          ///< |old rate − new rate| / old rate's error
	int samples = 0;            ///< in the regression
	int start_index = 0;        ///< samples left out at the old end by the runs test
	int runs = 0;
	double asymmetry = 0;
};
std::string format_statistics(const StatisticsEntry &e);
/// From a source's estimate (strata's signs: reference − local, frequency
/// in ppm, the local clock slow when positive). `total_samples`: all the
/// source holds, of which the estimate used the newest `e.samples`.
/// `previous`: the source's last (rate, skew) logged, for the stress.
StatisticsEntry statistics_entry(RealTime time, std::string source, const SourceEstimate &e, size_t total_samples,
				 double asymmetry, std::optional<std::pair<double, double>> previous);

/// tracking.log: one update of the clock (or the loss of synchronisation).
struct TrackingEntry {
	RealTime time;
	std::string reference;       ///< address or refclock ref id; "0.0.0.0" unsynchronised
	int stratum = 0;
	double freq_ppm = 0;         ///< positive when the local clock runs fast
	double skew_ppm = 0;
	double offset_s = 0;         ///< positive when the local clock is fast
	Leap leap = Leap::Unsynchronized;
	int combined = 0;            ///< sources in the estimate, the selected one included
	double offset_sd_s = 0;
	double remaining_correction_s = 0;  ///< of the previous update; positive: the clock was slow
	double root_delay_s = 0;
	double root_dispersion_s = 0;
	double max_error_s = 0;
};
std::string format_tracking(const TrackingEntry &e);

/// rtc.log: one measurement of the real-time clock against the system clock.
struct RtcEntry {
	RealTime time;
	double rtc_fast_s = 0;       ///< measured: positive when the RTC is ahead
	bool valid = false;          ///< the regression has coefficients
	double est_fast_s = 0;       ///< what the regression predicts for now
	double slope_ppm = 0;        ///< positive when the RTC gains
	int samples = 0;
	int runs = 0;
	int interval_s = 0;          ///< since the previous measurement
};
std::string format_rtc(const RtcEntry &e);

/// refclocks.log: a driver's sample as accepted (`raw`), or the poll's
/// filtered sample (raw = false: the columns of the raw reading are '-').
struct RefclockEntry {
	RealTime time;                ///< the sample's local time (printed to the microsecond)
	std::string ref_id;           ///< as text: "GPS", "PPS0"
	bool raw = true;
	int sequence = 0;             ///< the sample's number within the poll interval
	Leap leap = Leap::None;
	bool pulse = false;
	double raw_offset_s = 0;      ///< reference − local as the driver read it
	double cooked_offset_s = 0;   ///< with the corrections: positive when the local clock is slow
	double dispersion_s = 0;
};
std::string format_refclock(const RefclockEntry &e);

/// selection.log: one source in one selection.
struct SelectionEntry {
	RealTime time;
	std::string source;           ///< address or refclock ref id
	char state = 'N';             ///< chronyc selectdata's letter: '*', '+', 'x', 'M'…
	bool noselect = false, prefer = false, trust = false, require = false;
	int reach = 0;                ///< the reachability register (printed in octal)
	double score = 1.0;
	double last_sample_ago_s = 0;
	double lo_s = 0;              ///< the interval of the local clock's offset (local − reference)
	double hi_s = 0;
};
std::string format_selection(const SelectionEntry &e);

/// Where the source engine's log lines go: the daemon's log files
/// (daemon/log_files_linux.h), or a recording in tests. Each call queues a
/// line if its file is enabled; none blocks.
class LogSink {
public:
	virtual ~LogSink() = default;
	virtual bool enabled(LogFile file) const = 0;
	/// `log rawmeasurements`: every response, not only those that passed
	/// tests 1 to 7.
	virtual bool raw_measurements() const = 0;
	virtual void measurement(const MeasurementEntry &e) = 0;
	/// A source's regression; the stress column comes from the source's
	/// previous line.
	virtual void statistics(RealTime time, const std::string &source, const SourceEstimate &estimate,
				size_t total_samples, double asymmetry) = 0;
	virtual void tracking(const TrackingEntry &e) = 0;
	virtual void refclock(const RefclockEntry &e) = 0;
	virtual void selection(const SelectionEntry &e) = 0;
};

} // namespace strata
