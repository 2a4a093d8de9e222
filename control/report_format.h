// chronyc's text reports, rendered from the cmdmon report structs
// (control/cmdmon.h). Pure: a report and the names to show go in, the exact
// text chronyc 4.3 prints comes out, so that scripts that read chronyc's
// output read stratactl's unchanged.
//
// Every report has two styles:
// - Human: chronyc's columns, units picked per value ("-211ns", "4000ms",
//   "  3m"), "fast"/"slow" words, a header line underlined with '=' and, with
//   -v, the legend drawn above it;
// - Csv (chronyc -c): the same fields in the same order, comma-separated,
//   without labels, headers or legends: offsets in seconds with 9 decimals,
//   frequencies in ppm with 3, intervals as plain integers (4294967295 for
//   "never"), times as seconds.nanoseconds since 1970, leap status and
//   booleans as words.
//
// Names are the caller's business (it may resolve them, ask the daemon for
// the configured ones, or not): each row takes the text for its name column.
// numeric_name() gives what chronyc shows with -n, and truncate_name() the
// 25-column cut chronyc applies to names that came from DNS.
//
// Every string returned ends with a newline, as chronyc prints it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "control/cmdmon.h"
#include "core/time.h"

namespace strata::control {

enum class TextStyle { Human, Csv };

/// A report row and the text of its name column.
template <class Report>
struct Named {
	Report report;
	std::string name;
};

/// An `authdata` row: chronyc takes the address from the source's
/// SOURCE_DATA and the rest from AUTH_DATA.
struct SourceAuth {
	Address address;
	AuthDataReport auth;
};

// --- Pieces --------------------------------------------------------------

/// The printable characters of a reference id, as text: 0x47505300 "GPS",
/// 127.127.1.1 (nothing printable) "".
std::string refid_text(uint32_t ref_id);
/// An address as chronyc writes it: "192.0.2.1", "2001:db8::1",
/// "ID#0000000001" (unresolved source), "[UNSPEC]".
std::string address_text(const Address &address);
/// NTP's reference id of an address (IPv6: MD5, see core/md5.h); 0 for
/// anything that is not an IP address.
uint32_t address_ref_id(const Address &address);
/// A resolved name cut to `width` columns, its last one '>' ("a-very-long-
/// host-name.exa>"), as chronyc cuts DNS names in its tables.
std::string truncate_name(std::string_view name, size_t width = 25);
/// A UTC calendar time (proleptic Gregorian, POSIX seconds: no leap second).
struct UtcTime {
	int64_t year = 1970;
	unsigned month = 1;    ///< 1…12
	unsigned day = 1;      ///< 1…31
	unsigned hour = 0;
	unsigned minute = 0;
	unsigned second = 0;
	unsigned weekday = 4;  ///< 0 = Sunday
};
UtcTime utc_time(int64_t unix_s);
/// A UTC date as chronyc prints it: "Wed Nov 25 10:40:46 2026".
std::string date_text(RealTime t);

/// Whether a row is a reference clock, whose name column shows its ref id
/// instead of an address (SOURCE_DATA: mode RefClock and the id carried as
/// an IPv4 address; the others: no address).
bool is_refclock(const SourceDataReport &r);
bool is_refclock(const SourceStatsReport &r);
bool is_refclock(const SelectDataReport &r);
bool is_refclock(const TrackingReport &r);
/// A reference clock's id (SOURCE_DATA carries it as the IPv4 address),
/// or nullopt for an NTP source.
std::optional<uint32_t> refclock_id(const SourceDataReport &r);
std::optional<uint32_t> refclock_id(const SourceStatsReport &r);
std::optional<uint32_t> refclock_id(const SelectDataReport &r);
std::optional<uint32_t> refclock_id(const TrackingReport &r);

/// The name column without name resolution (chronyc -n, and always with -c):
/// a reference clock's ref id as text, otherwise the address.
std::string numeric_name(const SourceDataReport &r);
std::string numeric_name(const SourceStatsReport &r);
std::string numeric_name(const SelectDataReport &r);
std::string numeric_name(const TrackingReport &r);

/// chronyc's one-character symbols for the `sources` columns: '^' server,
/// '=' peer, '#' reference clock; '*' '?' 'x' '~' '+' '-'.
char mode_symbol(SourceMode mode);
char state_symbol(SourceState state);

// --- Reports ---------------------------------------------------------------

std::string format_tracking(const TrackingReport &r, std::string_view name, TextStyle style);

/// `sources`: the legend (with `verbose`, not in CSV), the header, and one
/// line per source.
std::string sources_header(bool verbose, TextStyle style);
std::string format_source(const SourceDataReport &r, std::string_view name, TextStyle style);
std::string format_sources(std::span<const Named<SourceDataReport>> rows, bool verbose,
			   TextStyle style);

std::string sourcestats_header(bool verbose, TextStyle style);
std::string format_sourcestats_row(const SourceStatsReport &r, std::string_view name,
				   TextStyle style);
std::string format_sourcestats(std::span<const Named<SourceStatsReport>> rows, bool verbose,
			       TextStyle style);

std::string selectdata_header(bool verbose, TextStyle style);
std::string format_selectdata_row(const SelectDataReport &r, std::string_view name,
				  TextStyle style);
std::string format_selectdata(std::span<const Named<SelectDataReport>> rows, bool verbose,
			      TextStyle style);

std::string authdata_header(bool verbose, TextStyle style);
std::string format_authdata_row(const AuthDataReport &r, std::string_view name, TextStyle style);
std::string format_authdata(std::span<const Named<SourceAuth>> rows, bool verbose,
			    TextStyle style);

/// `clients`: with `nke` (-k) the last four columns are NTS-KE's instead of
/// the command port's.
std::string clients_header(bool nke, TextStyle style);
std::string format_client(const ClientAccess &c, std::string_view name, bool nke,
			  TextStyle style);
std::string format_clients(std::span<const Named<ClientAccess>> rows, bool nke, TextStyle style);

/// One `ntpdata` block. chronyc puts an empty line before each block when it
/// lists every source (no address given) in the human style: `leading_blank`.
std::string format_ntpdata(const NtpDataReport &r, bool leading_blank, TextStyle style);

std::string format_serverstats(const ServerStatsReport &r, TextStyle style);
/// `activity`: chronyc prints "200 OK" first in the human style.
std::string format_activity(const ActivityReport &r, TextStyle style);
std::string format_rtcdata(const RtcReport &r, TextStyle style);
std::string format_smoothing(const SmoothingReport &r, TextStyle style);
/// `sourcename`: the name alone.
std::string format_sourcename(const SourceNameReport &r, TextStyle style);

/// One `waitsync` attempt: "try: 1, refid: 7F000001, correction:
/// 0.000001234, skew: 0.306" (`correction_s` is printed as given; chronyc
/// passes its magnitude).
std::string format_waitsync_try(int attempt, uint32_t ref_id, double correction_s,
				double skew_ppm, TextStyle style);

/// The line chronyc prints for a status: "200 OK", "501 Not authorised"…
std::string format_status(Status status);

} // namespace strata::control
