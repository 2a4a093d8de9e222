#include "control/report_json.h"

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace strata::control {
namespace {

using nlohmann::json;

IpAddress ip(const char *text)
{
	return *IpAddress::parse(text);
}

TEST(ReportJson, TrackingFieldsAndUnits)
{
	TrackingReport r{.ref_id = 0x7F000001, .address = ip("127.0.0.1"), .stratum = 2, .leap = Leap::None,
			 .ref_time = RealTime::from_parts(1795603246, 378595907), .current_correction_s = -1.353e-6,
			 .last_offset_s = 1.82e-7, .rms_offset_s = 9.3e-8, .freq_ppm = -0.095,
			 .resid_freq_ppm = 0.004, .skew_ppm = 0.306, .root_delay_s = 6.079e-6,
			 .root_dispersion_s = 1.033e-6, .last_update_interval_s = 1.0};
	json j = tracking_json(r, "localhost");
	EXPECT_EQ(j["version"], 1);
	EXPECT_EQ(j["report"], "tracking");
	EXPECT_EQ(j["reference_id"], "7F000001");
	EXPECT_EQ(j["reference_name"], "localhost");
	EXPECT_EQ(j["reference_address"], "127.0.0.1");
	EXPECT_EQ(j["stratum"], 2);
	EXPECT_EQ(j["reference_time"], "2026-11-25T10:40:46.378595907Z");
	EXPECT_NEAR(j["reference_time_unix_s"].get<double>(), 1795603246.378595907, 1e-6);
	EXPECT_DOUBLE_EQ(j["correction_s"].get<double>(), -1.353e-6);
	EXPECT_DOUBLE_EQ(j["frequency_ppm"].get<double>(), -0.095);
	EXPECT_DOUBLE_EQ(j["update_interval_s"].get<double>(), 1.0);
	EXPECT_EQ(j["leap"], "normal");
	// Parses back from its text.
	EXPECT_EQ(json::parse(j.dump()), j);

	r.address = NoAddress{};
	r.leap = Leap::Unsynchronized;
	r.skew_ppm = std::numeric_limits<double>::quiet_NaN();
	j = tracking_json(r, "");
	EXPECT_TRUE(j["reference_address"].is_null());
	EXPECT_EQ(j["leap"], "unsynchronised");
	EXPECT_TRUE(j["skew_ppm"].is_null());
}

TEST(ReportJson, SourcesRows)
{
	std::vector<Named<SourceDataReport>> rows = {
		{{.address = IpAddress::v4(0x47505300), .poll = 2, .state = SourceState::NonSelectable,
		  .mode = SourceMode::RefClock, .since_sample_s = UINT32_MAX},
		 "GPS"},
		{{.address = ip("::1"), .poll = -2, .stratum = 1, .state = SourceState::Selected,
		  .mode = SourceMode::Client, .reachability = 0377, .since_sample_s = 3, .orig_latest_meas_s = 2e-6,
		  .latest_meas_s = 1e-6, .latest_meas_err_s = 5e-6},
		 "localhost"},
	};
	json j = sources_json(rows);
	EXPECT_EQ(j["report"], "sources");
	ASSERT_EQ(j["sources"].size(), 2u);
	const json &gps = j["sources"][0];
	EXPECT_EQ(gps["name"], "GPS");
	EXPECT_TRUE(gps["address"].is_null());
	EXPECT_EQ(gps["reference_id"], "47505300");
	EXPECT_EQ(gps["mode"], "refclock");
	EXPECT_EQ(gps["state"], "unusable");
	EXPECT_TRUE(gps["last_sample_ago_s"].is_null());
	const json &lo = j["sources"][1];
	EXPECT_EQ(lo["address"], "::1");
	EXPECT_TRUE(lo["reference_id"].is_null());
	EXPECT_EQ(lo["mode"], "server");
	EXPECT_EQ(lo["state"], "selected");
	EXPECT_EQ(lo["poll_log2"], -2);
	EXPECT_EQ(lo["reachability"], 255);
	EXPECT_EQ(lo["last_sample_ago_s"], 3);
	EXPECT_DOUBLE_EQ(lo["offset_s"].get<double>(), 1e-6);
	EXPECT_DOUBLE_EQ(lo["measured_offset_s"].get<double>(), 2e-6);
	EXPECT_DOUBLE_EQ(lo["error_s"].get<double>(), 5e-6);
	EXPECT_EQ(sources_json({})["sources"], json::array());
}

TEST(ReportJson, TablesAndBlocks)
{
	std::vector<Named<SourceStatsReport>> stats = {
		{{.ref_id = 1, .address = ip("192.0.2.1"), .n_samples = 8, .n_runs = 4, .span_s = 5, .sd_s = 2e-7,
		  .resid_freq_ppm = -0.002, .skew_ppm = 0.3, .est_offset_s = -3e-7},
		 "192.0.2.1"}};
	json s = sourcestats_json(stats)["sources"][0];
	EXPECT_EQ(s["samples"], 8);
	EXPECT_EQ(s["runs"], 4);
	EXPECT_EQ(s["span_s"], 5);
	EXPECT_DOUBLE_EQ(s["std_dev_s"].get<double>(), 2e-7);

	std::vector<Named<SelectDataReport>> sel = {
		{{.ref_id = 1, .address = ip("192.0.2.1"), .state = '*', .authenticated = true, .leap = Leap::Insert,
		  .configured_options = kSelectPrefer | kSelectRequire, .effective_options = kSelectNoselect,
		  .last_sample_ago_s = 4, .score = 1.5, .lo_limit_s = -1e-6, .hi_limit_s = 2e-6},
		 "192.0.2.1"}};
	json d = selectdata_json(sel)["sources"][0];
	EXPECT_EQ(d["state"], "*");
	EXPECT_EQ(d["authenticated"], true);
	EXPECT_EQ(d["configured_options"], json({"prefer", "require"}));
	EXPECT_EQ(d["effective_options"], json({"noselect"}));
	EXPECT_EQ(d["leap"], "insert_second");
	EXPECT_DOUBLE_EQ(d["offset_high_s"].get<double>(), 2e-6);

	std::vector<Named<SourceAuth>> auth = {
		{{ip("192.0.2.1"), {.mode = AuthMode::Nts, .key_type = 15, .key_length = 256, .last_ke_ago_s = UINT32_MAX,
				    .cookies = 8, .cookie_length = 100}},
		 "ntp.example"}};
	json a = authdata_json(auth)["sources"][0];
	EXPECT_EQ(a["mode"], "nts");
	EXPECT_EQ(a["address"], "192.0.2.1");
	EXPECT_EQ(a["key_length_bits"], 256);
	EXPECT_TRUE(a["last_key_exchange_ago_s"].is_null());
	EXPECT_EQ(a["cookie_length_bytes"], 100);

	std::vector<Named<ClientAccess>> clients = {
		{{.address = ip("2001:db8::9"), .ntp_hits = 10, .cmd_hits = 2, .ntp_interval = -3, .nke_interval = 127,
		  .cmd_interval = 127, .ntp_timeout_interval = 127, .last_ntp_hit_ago_s = 1,
		  .last_nke_hit_ago_s = UINT32_MAX, .last_cmd_hit_ago_s = 7},
		 "2001:db8::9"}};
	json c = clients_json(clients)["clients"][0];
	EXPECT_EQ(c["ntp"]["packets"], 10);
	EXPECT_EQ(c["ntp"]["interval_log2"], -3);
	EXPECT_TRUE(c["ntp"]["response_interval_log2"].is_null());
	EXPECT_TRUE(c["nts_ke"]["last_ago_s"].is_null());
	EXPECT_EQ(c["command"]["packets"], 2);
	EXPECT_EQ(c["command"]["last_ago_s"], 7);

	std::vector<NtpDataReport> ntp = {{.remote_address = ip("::1"), .local_address = ip("::1"), .remote_port = 123,
					   .version = 4, .mode = 4, .stratum = 1, .poll = 6, .precision = -26,
					   .ref_id = 0x47505300, .tests = 0x2a5, .tx_timestamping = 'H',
					   .rx_timestamping = 'K', .total_tx_count = 3}};
	json n = ntpdata_json(ntp)["sources"][0];
	EXPECT_EQ(n["remote_reference_id"], "CF404DC8");
	EXPECT_EQ(n["mode"], "server");
	EXPECT_EQ(n["reference_id"], "47505300");
	EXPECT_EQ(n["tests"], "1010100101");
	EXPECT_EQ(n["tx_timestamping"], "hardware");
	EXPECT_EQ(n["rx_timestamping"], "kernel");
	EXPECT_EQ(n["reference_time"], "1970-01-01T00:00:00.000000000Z");

	EXPECT_EQ(serverstats_json({.ntp_hits = 5, .ntp_span_s = 9})["ntp_packets_received"], 5);
	EXPECT_EQ(activity_json({.online = 3, .unresolved = 1})["unresolved"], 1);
	EXPECT_EQ(rtcdata_json({.n_samples = 4, .rtc_seconds_fast = -1.5})["rtc_fast_s"], -1.5);
	EXPECT_EQ(smoothing_json({.active = true, .wander_ppm = 0.5})["wander_ppm_per_s"], 0.5);
	EXPECT_EQ(sourcename_json(ip("192.0.2.1"), {.name = "ntp.example"})["name"], "ntp.example");
}

TEST(ReportJson, StatusAndWaitsync)
{
	json ok = status_json("burst", "200 OK", true);
	EXPECT_EQ(ok, json::parse(R"({"version":1,"report":"status","command":"burst","code":200,"message":"OK","success":true})"));
	json bad = status_json("clients", "501 Not authorised", false);
	EXPECT_EQ(bad["code"], 501);
	EXPECT_EQ(bad["message"], "Not authorised");
	EXPECT_EQ(bad["success"], false);

	TrackingReport r{.ref_id = 0x7F000001, .current_correction_s = -2e-6, .skew_ppm = 0.5};
	json w = waitsync_json(3, r, true);
	EXPECT_EQ(w["try"], 3);
	EXPECT_EQ(w["reference_id"], "7F000001");
	EXPECT_DOUBLE_EQ(w["correction_s"].get<double>(), 2e-6);
	EXPECT_EQ(w["synchronised"], true);
}

TEST(ReportJson, Rfc3339)
{
	EXPECT_EQ(rfc3339(RealTime::from_parts(1709208000, 5)), "2024-02-29T12:00:00.000000005Z");
	EXPECT_EQ(rfc3339(RealTime::from_parts(-1, 0)), "1969-12-31T23:59:59.000000000Z");
}

} // namespace
} // namespace strata::control
