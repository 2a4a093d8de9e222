// What chronyc's reports and the log files show of the sources: pure
// functions of the engine's state (sources/engine.h's views), read at the
// engine's clock's current time. Indices are selection indices (refclocks
// first, then NTP sources as added), as chronyc's `sources` numbers them.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "control/dispatch.h"
#include "control/metrics.h"
#include "core/log_files.h"
#include "sources/engine.h"

namespace strata::sources {

std::optional<control::SourceDataReport> source_report(const Engine &engine, size_t index);
std::optional<control::SourceStatsReport> stats_report(const Engine &engine, size_t index);
std::optional<control::SelectDataReport> select_report(const Engine &engine, size_t index);
std::optional<control::NtpDataReport> ntp_data_report(const Engine &engine, const IpAddress &address);
/// The name the source at `address` was configured with (a pool's name for
/// its members; the address itself when configured by address).
std::optional<std::string> source_name(const Engine &engine, const IpAddress &address);
control::TrackingReport tracking_report(const Engine &engine);
control::ActivityReport activity_report(const Engine &engine);
/// Each refclock's sample and pulse counters, in `refclock` order (metrics).
std::vector<control::RefclockCounters> refclock_counters(const Engine &engine);
/// authdata: strata has no NTP authentication yet, so mode none.
std::optional<control::AuthDataReport> auth_data_report(const Engine &engine, const IpAddress &address);

/// chronyd's selectdata letter ('*', '+', 'x', 'M'…) of a source in the
/// last selection.
char select_letter(const Engine &engine, size_t index);
/// selection.log's line for the source at `index`, at local time `now`.
SelectionEntry selection_entry(const Engine &engine, size_t index, RealTime now);
/// `dump`: the source's samples in strata's own text format (not
/// chronyd's), for DIR/NAME.dat.
std::string dump_text(const Engine &engine, size_t index);

} // namespace strata::sources
