// The cmdmon reports as JSON: strata's machine-readable form of what
// chronyc prints as text (control/report_format.h). Pure. stratactl -j
// prints these objects, one per line; the daemon's JSON request interface
// (to come) answers with the same objects, so a script written against one
// reads the other. docs/control.md documents every field.
//
// Every object starts with "version" (kJsonVersion; raised only when a field
// changes meaning or goes away, never for an added field) and "report" (the
// chronyc command it answers: "tracking", "sources"…). Field names spell
// out what they hold and end in their unit: _s seconds, _ppm parts per
// million (positive: faster or ahead, as each field says), _log2 a power of
// two in seconds; absolute times are RFC 3339 UTC strings with nanoseconds
// ("2026-11-25T10:40:46.378595907Z"). Reference ids are 8 hex digits as
// chronyc prints them. "Never" (chronyc's "-") is null. A NaN or infinite
// value (which chronyd never sends) is null too.
//
// Each report's fields, their keys and forms come from its description in
// control/cmdmon.h (written by control/fields_json.h); the functions here
// add what is not a field of one report: the "version" and "report" keys,
// a source's name, a reference clock's id in place of its address.
#pragma once

#include <span>
#include <string_view>

#include <nlohmann/json.hpp>

#include "control/cmdmon.h"
#include "control/fields_json.h"
#include "control/report_format.h"

namespace strata::control {

inline constexpr int kJsonVersion = 1;

/// The words the JSON reports (and the metrics' labels) use: leap status
/// "normal", "insert_second", "delete_second", "unsynchronised"; source
/// mode "server", "peer", "refclock"; selection state "selected",
/// "combined", "not_combined", "falseticker", "jittery", "unusable"
/// (chronyc's * + - x ~ ?).
std::string_view leap_name(Leap leap);
std::string_view mode_name(SourceMode mode);
std::string_view state_name(SourceState state);

nlohmann::json tracking_json(const TrackingReport &r, std::string_view name);
nlohmann::json sources_json(std::span<const Named<SourceDataReport>> rows);
nlohmann::json sourcestats_json(std::span<const Named<SourceStatsReport>> rows);
nlohmann::json selectdata_json(std::span<const Named<SelectDataReport>> rows);
nlohmann::json authdata_json(std::span<const Named<SourceAuth>> rows);
nlohmann::json clients_json(std::span<const Named<ClientAccess>> rows);
nlohmann::json ntpdata_json(std::span<const NtpDataReport> rows);
nlohmann::json serverstats_json(const ServerStatsReport &r);
nlohmann::json activity_json(const ActivityReport &r);
nlohmann::json rtcdata_json(const RtcReport &r);
nlohmann::json smoothing_json(const SmoothingReport &r);
nlohmann::json sourcename_json(const Address &address, const SourceNameReport &r);
/// One waitsync attempt; `synchronised` is whether it met the conditions.
nlohmann::json waitsync_json(int attempt, const TrackingReport &r, bool synchronised);
/// The outcome of a command that returns no report, or of any command that
/// failed: {"report":"status","command":"burst","code":200,"message":"OK",
/// "success":true}. `code` and `message` split chronyc's status line.
nlohmann::json status_json(std::string_view command, std::string_view status_line, bool success);

} // namespace strata::control
