#include "control/report_json.h"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace strata::control {

using nlohmann::json;

namespace {

json header(std::string_view report)
{
	return json{{"version", kJsonVersion}, {"report", report}};
}

/// A real number, or null when it is not finite (JSON has no NaN).
json real(double v)
{
	return std::isfinite(v) ? json(v) : json(nullptr);
}

/// An age in whole seconds; all ones means never.
json age(uint32_t s)
{
	return s == UINT32_MAX ? json(nullptr) : json(s);
}

std::string hex_id(uint32_t id)
{
	return fmt::format("{:08X}", id);
}

/// A client log interval: null when there is none (127).
json interval_log2(int8_t v)
{
	return v >= 127 ? json(nullptr) : json(v);
}

json options(uint16_t bits)
{
	json out = json::array();
	if (bits & kSelectNoselect) {
		out.push_back("noselect");
	}
	if (bits & kSelectPrefer) {
		out.push_back("prefer");
	}
	if (bits & kSelectTrust) {
		out.push_back("trust");
	}
	if (bits & kSelectRequire) {
		out.push_back("require");
	}
	return out;
}

std::string_view timestamping_name(char c)
{
	switch (c) {
	case 'D':
		return "daemon";
	case 'K':
		return "kernel";
	case 'H':
		return "hardware";
	default:
		return "invalid";
	}
}

std::string_view ntp_mode_name(uint8_t mode)
{
	switch (mode) {
	case 1:
		return "symmetric_active";
	case 2:
		return "symmetric_passive";
	case 4:
		return "server";
	default:
		return "invalid";
	}
}

double unix_seconds(RealTime t)
{
	return static_cast<double>(t.seconds()) + static_cast<double>(t.subsec_ns()) * 1e-9;
}

/// The fields every per-source row shares: its name, address and, for a
/// reference clock, its id.
json source_fields(std::string_view name, const Address &address, std::optional<uint32_t> refclock_id)
{
	json row{{"name", name}, {"address", refclock_id ? json(nullptr) : address_json(address)}};
	row["reference_id"] = refclock_id ? json(hex_id(*refclock_id)) : json(nullptr);
	return row;
}

} // namespace

std::string_view leap_name(Leap leap)
{
	switch (leap) {
	case Leap::None:
		return "normal";
	case Leap::Insert:
		return "insert_second";
	case Leap::Delete:
		return "delete_second";
	case Leap::Unsynchronized:
		return "unsynchronised";
	}
	return "invalid";
}

std::string_view mode_name(SourceMode mode)
{
	switch (mode) {
	case SourceMode::Client:
		return "server";
	case SourceMode::Peer:
		return "peer";
	case SourceMode::RefClock:
		return "refclock";
	}
	return "unknown";
}

std::string_view state_name(SourceState state)
{
	switch (state) {
	case SourceState::Selected:
		return "selected";
	case SourceState::NonSelectable:
		return "unusable";
	case SourceState::Falseticker:
		return "falseticker";
	case SourceState::Jittery:
		return "jittery";
	case SourceState::Unselected:
		return "combined";
	case SourceState::Selectable:
		return "not_combined";
	}
	return "unknown";
}

json address_json(const Address &address)
{
	return std::holds_alternative<NoAddress>(address) ? json(nullptr) : json(address_text(address));
}

std::string rfc3339(RealTime t)
{
	UtcTime u = utc_time(t.seconds());
	return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", u.year, u.month, u.day, u.hour, u.minute,
			   u.second, t.subsec_ns());
}

json tracking_json(const TrackingReport &r, std::string_view name)
{
	json out = header("tracking");
	out["reference_id"] = hex_id(r.ref_id);
	out["reference_name"] = name;
	out["reference_address"] = address_json(r.address);
	out["stratum"] = r.stratum;
	out["reference_time"] = rfc3339(r.ref_time);
	out["reference_time_unix_s"] = unix_seconds(r.ref_time);
	out["correction_s"] = real(r.current_correction_s);
	out["last_offset_s"] = real(r.last_offset_s);
	out["rms_offset_s"] = real(r.rms_offset_s);
	out["frequency_ppm"] = real(r.freq_ppm);
	out["residual_frequency_ppm"] = real(r.resid_freq_ppm);
	out["skew_ppm"] = real(r.skew_ppm);
	out["root_delay_s"] = real(r.root_delay_s);
	out["root_dispersion_s"] = real(r.root_dispersion_s);
	out["update_interval_s"] = real(r.last_update_interval_s);
	out["leap"] = leap_name(r.leap);
	return out;
}

json sources_json(std::span<const Named<SourceDataReport>> rows)
{
	json list = json::array();
	for (const auto &[r, name] : rows) {
		std::optional<uint32_t> refid;
		if (is_refclock(r)) {
			refid = std::get<IpAddress>(r.address).v4_host_order();
		}
		json row = source_fields(name, r.address, refid);
		row["mode"] = mode_name(r.mode);
		row["state"] = state_name(r.state);
		row["stratum"] = r.stratum;
		row["poll_log2"] = r.poll;
		row["reachability"] = r.reachability;
		row["last_sample_ago_s"] = age(r.since_sample_s);
		row["offset_s"] = real(r.latest_meas_s);
		row["measured_offset_s"] = real(r.orig_latest_meas_s);
		row["error_s"] = real(r.latest_meas_err_s);
		list.push_back(std::move(row));
	}
	json out = header("sources");
	out["sources"] = std::move(list);
	return out;
}

json sourcestats_json(std::span<const Named<SourceStatsReport>> rows)
{
	json list = json::array();
	for (const auto &[r, name] : rows) {
		json row = source_fields(name, r.address, is_refclock(r) ? std::optional(r.ref_id) : std::nullopt);
		row["samples"] = r.n_samples;
		row["runs"] = r.n_runs;
		row["span_s"] = r.span_s;
		row["frequency_ppm"] = real(r.resid_freq_ppm);
		row["frequency_skew_ppm"] = real(r.skew_ppm);
		row["offset_s"] = real(r.est_offset_s);
		row["std_dev_s"] = real(r.sd_s);
		list.push_back(std::move(row));
	}
	json out = header("sourcestats");
	out["sources"] = std::move(list);
	return out;
}

json selectdata_json(std::span<const Named<SelectDataReport>> rows)
{
	json list = json::array();
	for (const auto &[r, name] : rows) {
		json row = source_fields(name, r.address, is_refclock(r) ? std::optional(r.ref_id) : std::nullopt);
		row["state"] = std::string(1, r.state);
		row["authenticated"] = r.authenticated;
		row["configured_options"] = options(r.configured_options);
		row["effective_options"] = options(r.effective_options);
		row["last_sample_ago_s"] = age(r.last_sample_ago_s);
		row["score"] = real(r.score);
		row["offset_low_s"] = real(r.lo_limit_s);
		row["offset_high_s"] = real(r.hi_limit_s);
		row["leap"] = leap_name(r.leap);
		list.push_back(std::move(row));
	}
	json out = header("selectdata");
	out["sources"] = std::move(list);
	return out;
}

json authdata_json(std::span<const Named<SourceAuth>> rows)
{
	json list = json::array();
	for (const auto &[r, name] : rows) {
		const AuthDataReport &a = r.auth;
		json row = source_fields(name, r.address, std::nullopt);
		switch (a.mode) {
		case AuthMode::None:
			row["mode"] = "none";
			break;
		case AuthMode::Symmetric:
			row["mode"] = "symmetric";
			break;
		case AuthMode::Nts:
			row["mode"] = "nts";
			break;
		default:
			row["mode"] = "unknown";
			break;
		}
		row["key_id"] = a.key_id;
		row["key_type"] = a.key_type;
		row["key_length_bits"] = a.key_length;
		row["last_key_exchange_ago_s"] = age(a.last_ke_ago_s);
		row["key_exchange_attempts"] = a.ke_attempts;
		row["naks"] = a.nak;
		row["cookies"] = a.cookies;
		row["cookie_length_bytes"] = a.cookie_length;
		list.push_back(std::move(row));
	}
	json out = header("authdata");
	out["sources"] = std::move(list);
	return out;
}

json clients_json(std::span<const Named<ClientAccess>> rows)
{
	json list = json::array();
	for (const auto &[c, name] : rows) {
		json row{{"name", name}, {"address", address_json(c.address)}};
		row["ntp"] = {{"packets", c.ntp_hits},
			      {"dropped", c.ntp_drops},
			      {"interval_log2", interval_log2(c.ntp_interval)},
			      {"response_interval_log2", interval_log2(c.ntp_timeout_interval)},
			      {"last_ago_s", age(c.last_ntp_hit_ago_s)}};
		row["nts_ke"] = {{"connections", c.nke_hits},
				 {"dropped", c.nke_drops},
				 {"interval_log2", interval_log2(c.nke_interval)},
				 {"last_ago_s", age(c.last_nke_hit_ago_s)}};
		row["command"] = {{"packets", c.cmd_hits},
				  {"dropped", c.cmd_drops},
				  {"interval_log2", interval_log2(c.cmd_interval)},
				  {"last_ago_s", age(c.last_cmd_hit_ago_s)}};
		list.push_back(std::move(row));
	}
	json out = header("clients");
	out["clients"] = std::move(list);
	return out;
}

json ntpdata_json(std::span<const NtpDataReport> rows)
{
	json list = json::array();
	for (const NtpDataReport &r : rows) {
		json row;
		row["remote_address"] = address_json(r.remote_address);
		row["remote_reference_id"] = hex_id(address_ref_id(r.remote_address));
		row["remote_port"] = r.remote_port;
		row["local_address"] = address_json(r.local_address);
		row["leap"] = leap_name(r.leap);
		row["version"] = r.version;
		row["mode"] = ntp_mode_name(r.mode);
		row["stratum"] = r.stratum;
		row["poll_log2"] = r.poll;
		row["precision_log2"] = r.precision;
		row["root_delay_s"] = real(r.root_delay_s);
		row["root_dispersion_s"] = real(r.root_dispersion_s);
		row["reference_id"] = hex_id(r.ref_id);
		row["reference_time"] = rfc3339(r.ref_time);
		row["offset_s"] = real(r.offset_s);
		row["peer_delay_s"] = real(r.peer_delay_s);
		row["peer_dispersion_s"] = real(r.peer_dispersion_s);
		row["response_time_s"] = real(r.response_time_s);
		row["jitter_asymmetry"] = real(r.jitter_asymmetry);
		std::string tests;
		for (int bit = 9; bit >= 0; bit--) {
			tests += (r.tests >> bit) & 1 ? '1' : '0';
		}
		row["tests"] = tests;
		row["interleaved"] = r.interleaved;
		row["authenticated"] = r.authenticated;
		row["tx_timestamping"] = timestamping_name(r.tx_timestamping);
		row["rx_timestamping"] = timestamping_name(r.rx_timestamping);
		row["total_tx"] = r.total_tx_count;
		row["total_rx"] = r.total_rx_count;
		row["total_valid_rx"] = r.total_valid_count;
		row["total_good_rx"] = r.total_good_count;
		list.push_back(std::move(row));
	}
	json out = header("ntpdata");
	out["sources"] = std::move(list);
	return out;
}

json serverstats_json(const ServerStatsReport &r)
{
	json out = header("serverstats");
	out["ntp_packets_received"] = r.ntp_hits;
	out["ntp_packets_dropped"] = r.ntp_drops;
	out["command_packets_received"] = r.cmd_hits;
	out["command_packets_dropped"] = r.cmd_drops;
	out["client_log_records_dropped"] = r.log_drops;
	out["nts_ke_connections_accepted"] = r.nke_hits;
	out["nts_ke_connections_dropped"] = r.nke_drops;
	out["authenticated_ntp_packets"] = r.ntp_auth_hits;
	out["interleaved_ntp_packets"] = r.ntp_interleaved_hits;
	out["ntp_timestamps_held"] = r.ntp_timestamps;
	out["ntp_timestamp_span_s"] = r.ntp_span_s;
	return out;
}

json activity_json(const ActivityReport &r)
{
	json out = header("activity");
	out["online"] = r.online;
	out["offline"] = r.offline;
	out["burst_returning_online"] = r.burst_online;
	out["burst_returning_offline"] = r.burst_offline;
	out["unresolved"] = r.unresolved;
	return out;
}

json rtcdata_json(const RtcReport &r)
{
	json out = header("rtcdata");
	out["reference_time"] = rfc3339(r.ref_time);
	out["samples"] = r.n_samples;
	out["runs"] = r.n_runs;
	out["span_s"] = r.span_s;
	out["rtc_fast_s"] = real(r.rtc_seconds_fast);
	out["rtc_gain_rate_ppm"] = real(r.rtc_gain_rate_ppm);
	return out;
}

json smoothing_json(const SmoothingReport &r)
{
	json out = header("smoothing");
	out["active"] = r.active;
	out["leap_only"] = r.leap_only;
	out["offset_s"] = real(r.offset_s);
	out["frequency_ppm"] = real(r.freq_ppm);
	out["wander_ppm_per_s"] = real(r.wander_ppm);
	out["last_update_ago_s"] = real(r.last_update_ago_s);
	out["remaining_time_s"] = real(r.remaining_time_s);
	return out;
}

json sourcename_json(const Address &address, const SourceNameReport &r)
{
	json out = header("sourcename");
	out["address"] = address_json(address);
	out["name"] = r.name;
	return out;
}

json waitsync_json(int attempt, const TrackingReport &r, bool synchronised)
{
	json out = header("waitsync");
	out["try"] = attempt;
	out["reference_id"] = hex_id(r.ref_id);
	out["correction_s"] = real(std::fabs(r.current_correction_s));
	out["skew_ppm"] = real(r.skew_ppm);
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
