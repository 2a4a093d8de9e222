// stratad's state as Prometheus metrics: the reports the control protocol
// already produces (tracking, sources, sourcestats, serverstats, activity;
// control/dispatch.h's ControlHandler) and the counters only the daemon
// keeps (refclock samples and pulses, KoD replies), rendered in the text
// exposition format 0.0.4, the one Prometheus scrapes by default and
// `promtool check metrics` checks. Pure: reports in, text out; the HTTP
// side is daemon/metrics_server_linux.h.
//
// Names follow Prometheus' conventions: a `strata_` prefix, base units in
// the name (`_seconds`; frequencies stay in `_ppm`, as every NTP tool shows
// them), counters ending `_total`, enumerations as one 0/1 gauge per value
// with the value in a label (`state="selected"`). Signs are chronyc's, so
// that a graph and `chronyc tracking` agree. Values a report does not have
// (a source with no sample yet) are left out rather than shown as 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/cmdmon.h"
#include "control/dispatch.h"

namespace strata::control {

/// The Content-Type of format_metrics()'s text.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

/// A reference clock's counters since the daemon started (the source engine keeps
/// them; the control protocol has no report for them).
struct RefclockCounters {
	uint32_t ref_id = 0;        ///< the name the sources report shows ("PPS", "GPS")
	std::string driver;         ///< "PPS", "SHM", "SOCK", "PHC", "GPIO"
	uint64_t samples = 0;       ///< samples accepted
	uint64_t rejected = 0;      ///< samples not used, for any reason
	uint64_t pulses = 0;        ///< pulses accepted
	uint64_t out_of_phase = 0;  ///< pulses that did not line up with their lock
	uint64_t missed_pulses = 0; ///< pulses that should have come and did not
	uint64_t polls = 0;         ///< poll intervals ended
	uint64_t empty_polls = 0;   ///< … with no usable sample
	friend bool operator==(const RefclockCounters &, const RefclockCounters &) = default;
};

/// The NTP server's counters that the serverstats report does not carry
/// (64-bit, where serverstats wraps at 2^32).
struct NtpServerCounters {
	uint64_t responses = 0;  ///< replies sent, KoD included
	uint64_t kod_sent = 0;   ///< RATE kiss-o'-death replies
	uint64_t auth_failed = 0;  ///< requests refused for their MAC (serverstats counts them as dropped)
	uint64_t crypto_naks = 0;  ///< crypto-NAK replies sent
	friend bool operator==(const NtpServerCounters &, const NtpServerCounters &) = default;
};

/// What the daemon adds to the ControlHandler's reports.
struct MetricsExtras {
	std::vector<RefclockCounters> refclocks;
	std::optional<NtpServerCounters> ntp_server;  ///< nullopt: not shown
};

/// One source, by the index the control protocol gives it.
struct SourceMetrics {
	std::optional<SourceDataReport> data;
	std::optional<SourceStatsReport> stats;
	/// The configured name (sourcename), for NTP sources that have one.
	std::optional<std::string> name;
};

/// Everything one scrape shows.
struct MetricsSnapshot {
	TrackingReport tracking;
	std::vector<SourceMetrics> sources;
	ServerStatsReport server;
	ActivityReport activity;
	MetricsExtras extras;
};

/// Asks `handler` for every report a scrape shows (at most `max_sources`
/// sources, so that a scrape stays bounded).
MetricsSnapshot collect_metrics(ControlHandler &handler, MetricsExtras extras, uint32_t max_sources = 1024);

/// The text exposition format of `snapshot`: HELP and TYPE lines, then the
/// samples of each metric, newline-terminated.
std::string format_metrics(const MetricsSnapshot &snapshot);

/// A label value as the text format quotes it: backslash, double quote
/// and newline escaped (\\ \" \n); everything else, UTF-8 included, as is.
std::string escape_label_value(std::string_view value);

} // namespace strata::control
