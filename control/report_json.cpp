#include "control/report_json.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <fmt/format.h>

namespace strata::control {

using nlohmann::json;

namespace {

json header(std::string_view report)
{
	return json{{"version", kJsonVersion}, {"report", report}};
}

/// A report's fields under its header.
template <class Report>
json report_json(std::string_view report, const Report &r)
{
	json out = header(report);
	put_fields_json(out, r);
	return out;
}

double unix_seconds(RealTime t)
{
	return static_cast<double>(t.seconds()) + static_cast<double>(t.subsec_ns()) * 1e-9;
}

/// What every per-source row shows of the source itself: its name and
/// numeric address, or, for a reference clock, its id instead. This is
/// chronyc's rule across fields (the mode, the address, the ref id), so it
/// is written here rather than in the descriptions.
void put_identity(json &row, std::string_view name, const Address &address,
		  std::optional<uint32_t> refclock)
{
	row["name"] = name;
	row["address"] = refclock ? json(nullptr) : address_json(address);
	row["reference_id"] = refclock ? json(hex_id(*refclock)) : json(nullptr);
}

/// A per-source report's row: the report's fields and the source's identity.
template <class Report>
json source_row(const Named<Report> &row)
{
	json out = fields_json(row.report);
	put_identity(out, row.name, row.report.address, refclock_id(row.report));
	return out;
}

/// A list of rows under its header: `row` makes each one.
template <class Row, class F>
json rows_json(std::string_view report, std::string_view list, std::span<const Row> rows, F &&row)
{
	json out = header(report);
	out[list] = json::array();
	for (const Row &r : rows) {
		out[list].push_back(row(r));
	}
	return out;
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the inverse of
/// utc_time()'s count).
int64_t days_from_civil(int64_t year, int64_t month, int64_t day)
{
	year -= month <= 2 ? 1 : 0;
	int64_t era = (year >= 0 ? year : year - 399) / 400;
	int64_t yoe = year - era * 400;                                // [0, 399]
	int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;  // [0, 365]
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           // [0, 146096]
	return era * 146097 + doe - 719468;
}

/// Digits [at, at + n) of `text` as a number; nullopt if any is not a digit.
std::optional<int64_t> digits(std::string_view text, size_t at, size_t n)
{
	int64_t v = 0;
	for (size_t i = at; i < at + n; i++) {
		if (text[i] < '0' || text[i] > '9') {
			return std::nullopt;
		}
		v = v * 10 + (text[i] - '0');
	}
	return v;
}

} // namespace

std::string_view leap_name(Leap leap)
{
	return kLeapNames.name(leap);
}

std::string_view mode_name(SourceMode mode)
{
	return kSourceModeNames.name(mode);
}

std::string_view state_name(SourceState state)
{
	return kSourceStateNames.name(state);
}

// --- The JSON forms' leaves (control/fields_json.h) ---------------------------

json address_json(const Address &address)
{
	return std::holds_alternative<NoAddress>(address) ? json(nullptr) : json(address_text(address));
}

std::optional<Address> address_from_json(const json &j)
{
	if (j.is_null()) {
		return Address{NoAddress{}};
	}
	if (!j.is_string()) {
		return std::nullopt;
	}
	std::string_view text = j.get_ref<const std::string &>();
	if (text.substr(0, 3) == "ID#") {
		uint32_t id = 0;
		auto [end, ec] = std::from_chars(text.data() + 3, text.data() + text.size(), id);
		if (ec != std::errc() || end != text.data() + text.size() || text.size() == 3) {
			return std::nullopt;
		}
		return Address{AddressId{id}};
	}
	if (auto ip = IpAddress::parse(text)) {
		return Address{*ip};
	}
	return std::nullopt;
}

std::string rfc3339(RealTime t)
{
	UtcTime u = utc_time(t.seconds());
	return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", u.year, u.month, u.day, u.hour, u.minute,
			   u.second, t.subsec_ns());
}

std::optional<RealTime> parse_rfc3339(std::string_view text)
{
	// "YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ", as rfc3339() writes it.
	constexpr std::string_view kShape = "0000-00-00T00:00:00.000000000Z";
	if (text.size() != kShape.size()) {
		return std::nullopt;
	}
	for (size_t i = 0; i < kShape.size(); i++) {
		if (kShape[i] != '0' && text[i] != kShape[i]) {
			return std::nullopt;
		}
	}
	auto year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2);
	auto hour = digits(text, 11, 2), minute = digits(text, 14, 2), second = digits(text, 17, 2);
	auto nanos = digits(text, 20, 9);
	if (!year || !month || !day || !hour || !minute || !second || !nanos) {
		return std::nullopt;
	}
	if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
	    *second > 59) {
		return std::nullopt;
	}
	int64_t s = days_from_civil(*year, *month, *day) * 86400 + *hour * 3600 + *minute * 60 +
		    *second;
	// The seconds RealTime (int64 ns) holds, with room for the nanoseconds.
	constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / 1'000'000'000 - 1;
	constexpr int64_t kMinSeconds = std::numeric_limits<int64_t>::min() / 1'000'000'000;
	if (s < kMinSeconds || s > kMaxSeconds) {
		return std::nullopt;
	}
	RealTime t = RealTime::from_parts(s, *nanos);
	// A day the month does not have (30 February) comes out as another date.
	if (rfc3339(t) != text) {
		return std::nullopt;
	}
	return t;
}

std::string hex_id(uint32_t id)
{
	return fmt::format("{:08X}", id);
}

std::optional<uint32_t> parse_hex_id(std::string_view text)
{
	uint32_t id = 0;
	auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id, 16);
	if (text.size() != 8 || ec != std::errc() || end != text.data() + text.size()) {
		return std::nullopt;
	}
	return id;
}

// --- Reports ---------------------------------------------------------------------

json tracking_json(const TrackingReport &r, std::string_view name)
{
	json out = report_json("tracking", r);
	out["reference_name"] = name;
	out["reference_time_unix_s"] = unix_seconds(r.ref_time);
	return out;
}

json sources_json(std::span<const Named<SourceDataReport>> rows)
{
	return rows_json("sources", "sources", rows, source_row<SourceDataReport>);
}

json sourcestats_json(std::span<const Named<SourceStatsReport>> rows)
{
	return rows_json("sourcestats", "sources", rows, source_row<SourceStatsReport>);
}

json selectdata_json(std::span<const Named<SelectDataReport>> rows)
{
	return rows_json("selectdata", "sources", rows, source_row<SelectDataReport>);
}

json authdata_json(std::span<const Named<SourceAuth>> rows)
{
	return rows_json("authdata", "sources", rows, [](const Named<SourceAuth> &row) {
		json out = fields_json(row.report.auth);
		put_identity(out, row.name, row.report.address, std::nullopt);
		return out;
	});
}

json clients_json(std::span<const Named<ClientAccess>> rows)
{
	return rows_json("clients", "clients", rows, [](const Named<ClientAccess> &row) {
		json out = fields_json(row.report);
		out["name"] = row.name;
		return out;
	});
}

json ntpdata_json(std::span<const NtpDataReport> rows)
{
	return rows_json("ntpdata", "sources", rows, [](const NtpDataReport &r) {
		json out = fields_json(r);
		out["remote_reference_id"] = hex_id(address_ref_id(r.remote_address));
		return out;
	});
}

json serverstats_json(const ServerStatsReport &r)
{
	return report_json("serverstats", r);
}

json activity_json(const ActivityReport &r)
{
	return report_json("activity", r);
}

json rtcdata_json(const RtcReport &r)
{
	return report_json("rtcdata", r);
}

json smoothing_json(const SmoothingReport &r)
{
	return report_json("smoothing", r);
}

json sourcename_json(const Address &address, const SourceNameReport &r)
{
	json out = report_json("sourcename", r);
	out["address"] = address_json(address);
	return out;
}

json waitsync_json(int attempt, const TrackingReport &r, bool synchronised)
{
	json out = header("waitsync");
	out["try"] = attempt;
	out["reference_id"] = hex_id(r.ref_id);
	double correction = std::fabs(r.current_correction_s);
	out["correction_s"] = std::isfinite(correction) ? json(correction) : json(nullptr);
	out["skew_ppm"] = std::isfinite(r.skew_ppm) ? json(r.skew_ppm) : json(nullptr);
	out["synchronised"] = synchronised;
	return out;
}

json status_json(std::string_view command, std::string_view status_line, bool success)
{
	json out = header("status");
	out["command"] = command;
	size_t space = status_line.find(' ');
	int code = std::atoi(std::string(status_line.substr(0, space)).c_str());
	out["code"] = code;
	out["message"] = space == std::string_view::npos ? std::string() : std::string(status_line.substr(space + 1));
	out["success"] = success;
	return out;
}

} // namespace strata::control
