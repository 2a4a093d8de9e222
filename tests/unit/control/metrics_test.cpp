#include "control/metrics.h"
#include "control/report_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

namespace strata::control {
namespace {

using ::testing::Contains;
using ::testing::ElementsAreArray;
using ::testing::Not;

std::vector<std::string> lines(const std::string &text)
{
	std::vector<std::string> out;
	std::istringstream in(text);
	for (std::string line; std::getline(in, line);) {
		out.push_back(line);
	}
	return out;
}

/// The sample lines (no HELP/TYPE comments).
std::vector<std::string> samples(const std::string &text)
{
	std::vector<std::string> out;
	for (auto &l : lines(text)) {
		if (!l.starts_with('#')) {
			out.push_back(l);
		}
	}
	return out;
}

constexpr uint32_t kPps = 0x50505300;  // "PPS"

/// A daemon synchronised to ntp1.example (127.0.0.1), with a PPS refclock
/// that has no sample yet.
MetricsSnapshot known_snapshot()
{
	MetricsSnapshot s;
	s.tracking = TrackingReport{
		.ref_id = 0x7f000001,
		.address = *IpAddress::parse("127.0.0.1"),
		.stratum = 2,
		.leap = Leap::None,
		.ref_time = RealTime{std::chrono::seconds(1764069321) + std::chrono::milliseconds(500)},
		.current_correction_s = 2.5e-07,
		.last_offset_s = -1.389e-06,
		.rms_offset_s = 5.342e-06,
		.freq_ppm = -0.205,
		.resid_freq_ppm = 1.064,
		.skew_ppm = 0.239,
		.root_delay_s = 8.521e-06,
		.root_dispersion_s = 2.0119e-05,
		.last_update_interval_s = 2,
	};
	SourceMetrics ntp;
	ntp.data = SourceDataReport{
		.address = *IpAddress::parse("127.0.0.1"),
		.poll = 6,
		.stratum = 1,
		.state = SourceState::Selected,
		.mode = SourceMode::Client,
		.reachability = 0377,
		.since_sample_s = 15,
		.orig_latest_meas_s = -1.474e-06,
		.latest_meas_s = -8.4e-08,
		.latest_meas_err_s = 4.275e-06,
	};
	ntp.stats = SourceStatsReport{
		.ref_id = 0x7f000001,
		.address = *IpAddress::parse("127.0.0.1"),
		.n_samples = 8,
		.n_runs = 5,
		.span_s = 14,
		.sd_s = 1.3e-06,
		.resid_freq_ppm = -0.5,
		.skew_ppm = 2.25,
		.est_offset_s = 1e-07,
	};
	ntp.name = "ntp1.example";
	SourceMetrics pps;
	pps.data = SourceDataReport{
		.address = IpAddress::v4(kPps),
		.poll = 4,
		.state = SourceState::NonSelectable,
		.mode = SourceMode::RefClock,
		.reachability = 0,
		.since_sample_s = UINT32_MAX,
	};
	pps.stats = SourceStatsReport{.ref_id = kPps};
	s.sources = {ntp, pps};
	s.server = ServerStatsReport{.ntp_hits = 1200, .cmd_hits = 7, .ntp_drops = 3, .cmd_drops = 1, .ntp_auth_hits = 2};
	s.activity = ActivityReport{.online = 2, .offline = 1, .unresolved = 1};
	s.extras.refclocks = {RefclockCounters{.ref_id = kPps,
					       .driver = "PPS",
					       .samples = 0,
					       .rejected = 4,
					       .pulses = 0,
					       .out_of_phase = 1,
					       .missed_pulses = 2,
					       .polls = 9,
					       .empty_polls = 9}};
	s.extras.ntp_server = NtpServerCounters{.responses = 1197, .kod_sent = 5, .auth_failed = 4, .crypto_naks = 3};
	return s;
}

TEST(Metrics, KnownReportGivesExactSamples)
{
	const std::string ntp = R"(name="ntp1.example",address="127.0.0.1",mode="server")";
	const std::string pps = R"(name="PPS",refid="PPS",mode="refclock")";
	std::vector<std::string> expected = {
		"strata_tracking_stratum 2",
		R"(strata_tracking_reference_info{refid="7F000001",name="127.0.0.1"} 1)",
		"strata_tracking_reference_time_seconds 1764069321.5",
		"strata_tracking_system_time_offset_seconds 2.5e-07",
		"strata_tracking_last_offset_seconds -1.389e-06",
		"strata_tracking_rms_offset_seconds 5.342e-06",
		"strata_tracking_frequency_ppm -0.205",
		"strata_tracking_residual_frequency_ppm 1.064",
		"strata_tracking_skew_ppm 0.239",
		"strata_tracking_root_delay_seconds 8.521e-06",
		"strata_tracking_root_dispersion_seconds 2.0119e-05",
		"strata_tracking_update_interval_seconds 2",
		R"(strata_tracking_leap_status{status="normal"} 1)",
		R"(strata_tracking_leap_status{status="insert_second"} 0)",
		R"(strata_tracking_leap_status{status="delete_second"} 0)",
		R"(strata_tracking_leap_status{status="unsynchronised"} 0)",
		"strata_sources 2",
		"strata_source_state{" + ntp + R"(,state="selected"} 1)",
		"strata_source_state{" + ntp + R"(,state="combined"} 0)",
		"strata_source_state{" + ntp + R"(,state="not_combined"} 0)",
		"strata_source_state{" + ntp + R"(,state="falseticker"} 0)",
		"strata_source_state{" + ntp + R"(,state="jittery"} 0)",
		"strata_source_state{" + ntp + R"(,state="unusable"} 0)",
		"strata_source_state{" + pps + R"(,state="selected"} 0)",
		"strata_source_state{" + pps + R"(,state="combined"} 0)",
		"strata_source_state{" + pps + R"(,state="not_combined"} 0)",
		"strata_source_state{" + pps + R"(,state="falseticker"} 0)",
		"strata_source_state{" + pps + R"(,state="jittery"} 0)",
		"strata_source_state{" + pps + R"(,state="unusable"} 1)",
		"strata_source_reach{" + ntp + "} 255",
		"strata_source_reach{" + pps + "} 0",
		"strata_source_stratum{" + ntp + "} 1",
		"strata_source_stratum{" + pps + "} 0",
		"strata_source_poll_interval_seconds{" + ntp + "} 64",
		"strata_source_poll_interval_seconds{" + pps + "} 16",
		// The refclock has no sample: none of the last-sample values.
		"strata_source_last_sample_age_seconds{" + ntp + "} 15",
		"strata_source_last_sample_offset_seconds{" + ntp + "} -8.4e-08",
		"strata_source_last_sample_measured_offset_seconds{" + ntp + "} -1.474e-06",
		"strata_source_last_sample_error_seconds{" + ntp + "} 4.275e-06",
		"strata_source_samples{" + ntp + "} 8",
		"strata_source_samples{" + pps + "} 0",
		"strata_source_runs{" + ntp + "} 5",
		"strata_source_runs{" + pps + "} 0",
		"strata_source_span_seconds{" + ntp + "} 14",
		"strata_source_span_seconds{" + pps + "} 0",
		// No samples, no estimates.
		"strata_source_frequency_ppm{" + ntp + "} -0.5",
		"strata_source_skew_ppm{" + ntp + "} 2.25",
		"strata_source_offset_seconds{" + ntp + "} 1e-07",
		"strata_source_std_dev_seconds{" + ntp + "} 1.3e-06",
		"strata_ntp_requests_total 1200",
		"strata_ntp_requests_dropped_total 3",
		"strata_ntp_authenticated_requests_total 2",
		"strata_ntp_interleaved_requests_total 0",
		"strata_ntp_responses_total 1197",
		"strata_ntp_kod_responses_total 5",
		"strata_ntp_auth_failures_total 4",
		"strata_ntp_crypto_nak_responses_total 3",
		"strata_command_requests_total 7",
		"strata_command_requests_dropped_total 1",
		R"(strata_activity_sources{status="online"} 2)",
		R"(strata_activity_sources{status="offline"} 1)",
		R"(strata_activity_sources{status="burst_online"} 0)",
		R"(strata_activity_sources{status="burst_offline"} 0)",
		R"(strata_activity_sources{status="unresolved"} 1)",
		R"(strata_refclock_samples_total{name="PPS",driver="PPS"} 0)",
		R"(strata_refclock_rejected_samples_total{name="PPS",driver="PPS"} 4)",
		R"(strata_refclock_pulses_total{name="PPS",driver="PPS"} 0)",
		R"(strata_refclock_out_of_phase_pulses_total{name="PPS",driver="PPS"} 1)",
		R"(strata_refclock_missed_pulses_total{name="PPS",driver="PPS"} 2)",
		R"(strata_refclock_polls_total{name="PPS",driver="PPS"} 9)",
		R"(strata_refclock_empty_polls_total{name="PPS",driver="PPS"} 9)",
	};
	EXPECT_THAT(samples(format_metrics(known_snapshot())), ElementsAreArray(expected));
}

TEST(Metrics, EveryFamilyHasOneHelpAndTypeBeforeItsSamples)
{
	std::string text = format_metrics(known_snapshot());
	ASSERT_TRUE(text.ends_with('\n'));
	std::map<std::string, std::string> types;  // family → type
	std::set<std::string> finished;
	std::string current;
	auto family_of = [](const std::string &sample) { return sample.substr(0, sample.find_first_of("{ ")); };
	for (const auto &l : lines(text)) {
		if (l.starts_with("# HELP ")) {
			std::string name = l.substr(7, l.find(' ', 7) - 7);
			EXPECT_FALSE(types.count(name)) << "second HELP for " << name;
			EXPECT_GT(l.size(), 7 + name.size() + 1) << "empty help for " << name;
			if (!current.empty()) {
				finished.insert(current);
			}
			current = name;
			types[name] = "";
		} else if (l.starts_with("# TYPE ")) {
			std::istringstream in(l.substr(7));
			std::string name, type;
			in >> name >> type;
			EXPECT_EQ(name, current) << l;
			EXPECT_TRUE(type == "gauge" || type == "counter") << l;
			types[name] = type;
		} else {
			std::string name = family_of(l);
			EXPECT_EQ(name, current) << "sample outside its family: " << l;
			EXPECT_FALSE(finished.count(name)) << "family split: " << l;
		}
	}
	for (const auto &[name, type] : types) {
		// Prometheus' conventions, as promtool checks them.
		EXPECT_EQ(type == "counter", name.ends_with("_total")) << name;
		EXPECT_TRUE(name.starts_with("strata_")) << name;
	}
	EXPECT_EQ(types.size(), 47u);
}

TEST(Metrics, LabelValuesAreEscaped)
{
	EXPECT_EQ(escape_label_value("plain name.example"), "plain name.example");
	EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
	EXPECT_EQ(escape_label_value("tab\tand ünïcode"), "tab\tand ünïcode");
	EXPECT_EQ(escape_label_value(""), "");

	MetricsSnapshot s;
	SourceMetrics src;
	src.data = SourceDataReport{.address = *IpAddress::parse("192.0.2.1"), .since_sample_s = UINT32_MAX};
	src.name = "evil\"} 1\nstrata_fake 2 \\";
	s.sources = {src};
	std::string text = format_metrics(s);
	EXPECT_THAT(samples(text), Contains(R"(strata_source_reach{name="evil\"} 1\nstrata_fake 2 \\",address="192.0.2.1",mode="server"} 0)"));
	// The name cannot start a line of its own.
	for (const auto &l : lines(text)) {
		EXPECT_FALSE(l.starts_with("strata_fake")) << l;
	}
}

TEST(Metrics, ASourceWithNoStatisticsOrSampleShowsOnlyWhatItHas)
{
	MetricsSnapshot s;
	SourceMetrics src;
	src.data = SourceDataReport{.address = *IpAddress::parse("2001:db8::1"),
				    .poll = -2,
				    .state = SourceState::Jittery,
				    .reachability = 1,
				    .since_sample_s = UINT32_MAX};
	s.sources = {src};  // no stats report, no sample
	std::string text = format_metrics(s);
	const std::string l = R"({name="2001:db8::1",address="2001:db8::1",mode="server")";
	auto got = samples(text);
	EXPECT_THAT(got, Contains("strata_source_reach" + l + "} 1"));
	EXPECT_THAT(got, Contains("strata_source_poll_interval_seconds" + l + "} 0.25"));
	EXPECT_THAT(got, Contains("strata_source_state" + l + R"(,state="jittery"} 1)"));
	for (const char *absent : {"strata_source_last_sample", "strata_source_samples", "strata_source_runs",
				   "strata_source_span", "strata_source_frequency", "strata_source_skew",
				   "strata_source_offset", "strata_source_std_dev"}) {
		// Neither samples nor the family's HELP and TYPE lines.
		EXPECT_EQ(text.find(absent), std::string::npos) << absent;
	}
}

TEST(Metrics, NoSourcesAndNoRefclocksLeaveTheirFamiliesOut)
{
	MetricsSnapshot s;
	s.tracking.leap = Leap::Unsynchronized;
	std::string text = format_metrics(s);
	auto got = samples(text);
	EXPECT_THAT(got, Contains("strata_sources 0"));
	EXPECT_THAT(got, Contains(R"(strata_tracking_leap_status{status="unsynchronised"} 1)"));
	EXPECT_THAT(got, Contains(R"(strata_tracking_reference_info{refid="00000000"} 1)"));
	EXPECT_EQ(text.find("strata_source_"), std::string::npos);
	EXPECT_EQ(text.find("strata_refclock_"), std::string::npos);
	// Without the daemon's own server counters, only serverstats'.
	EXPECT_EQ(text.find("strata_ntp_responses_total"), std::string::npos);
	EXPECT_THAT(got, Contains("strata_ntp_requests_total 0"));
}

TEST(Metrics, SpecialNumbersUsePrometheusSpellings)
{
	MetricsSnapshot s;
	s.tracking.rms_offset_s = std::numeric_limits<double>::quiet_NaN();
	s.tracking.skew_ppm = std::numeric_limits<double>::infinity();
	s.tracking.freq_ppm = -std::numeric_limits<double>::infinity();
	s.tracking.last_offset_s = -0.0;
	s.tracking.root_delay_s = 1e300;
	auto got = samples(format_metrics(s));
	EXPECT_THAT(got, Contains("strata_tracking_rms_offset_seconds NaN"));
	EXPECT_THAT(got, Contains("strata_tracking_skew_ppm +Inf"));
	EXPECT_THAT(got, Contains("strata_tracking_frequency_ppm -Inf"));
	EXPECT_THAT(got, Contains("strata_tracking_last_offset_seconds 0"));
	EXPECT_THAT(got, Contains("strata_tracking_root_delay_seconds 1e+300"));
}

TEST(Metrics, StateLabelsAreChronycsSymbolsInWords)
{
	EXPECT_EQ(state_name(SourceState::Selected), "selected");
	EXPECT_EQ(state_name(SourceState::Unselected), "combined");
	EXPECT_EQ(state_name(SourceState::Selectable), "not_combined");
	EXPECT_EQ(state_name(SourceState::Falseticker), "falseticker");
	EXPECT_EQ(state_name(SourceState::Jittery), "jittery");
	EXPECT_EQ(state_name(SourceState::NonSelectable), "unusable");
}

/// Reports for collect_metrics: two NTP sources (one named) and a refclock.
class FakeDaemon final : public ControlHandler {
public:
	std::vector<SourceDataReport> data{
		SourceDataReport{.address = *IpAddress::parse("192.0.2.1"), .reachability = 3, .since_sample_s = UINT32_MAX},
		SourceDataReport{.address = *IpAddress::parse("192.0.2.2"), .since_sample_s = UINT32_MAX},
		SourceDataReport{.address = IpAddress::v4(kPps), .mode = SourceMode::RefClock, .since_sample_s = UINT32_MAX},
	};
	std::vector<IpAddress> names_asked;

	uint32_t n_sources() override { return static_cast<uint32_t>(data.size()); }
	std::optional<SourceDataReport> source_data(uint32_t i) override
	{
		return i < data.size() ? std::optional(data[i]) : std::nullopt;
	}
	std::optional<SourceStatsReport> source_stats(uint32_t i) override
	{
		if (i != 0) {
			return std::nullopt;
		}
		return SourceStatsReport{.address = data[0].address, .n_samples = 4};
	}
	std::optional<SelectDataReport> select_data(uint32_t) override { return std::nullopt; }
	std::optional<NtpDataReport> ntp_data(const IpAddress &) override { return std::nullopt; }
	std::optional<SourceNameReport> source_name(const IpAddress &a) override
	{
		names_asked.push_back(a);
		if (a == *IpAddress::parse("192.0.2.1")) {
			return SourceNameReport{"time.example"};
		}
		return std::nullopt;
	}
	TrackingReport tracking() override { return TrackingReport{.stratum = 4}; }
	ActivityReport activity() override { return ActivityReport{.online = 3}; }
	ServerStatsReport server_stats() override { return ServerStatsReport{.ntp_hits = 42}; }
	std::optional<ClientAccessesReport> client_accesses(uint32_t, uint32_t, uint32_t, bool) override
	{
		return std::nullopt;
	}
	std::optional<RtcReport> rtc() override { return std::nullopt; }
	uint32_t set_online(const Address &, const Address &, bool) override { return 0; }
	uint32_t on_offline() override { return 0; }
	uint32_t burst(const Address &, const Address &, int, int) override { return 0; }
	bool make_step() override { return false; }
	Status write_rtc() override { return Status::NoRtc; }
	Status trim_rtc() override { return Status::NoRtc; }
	Status cycle_logs() override { return Status::NotEnabled; }
	Status refresh() override { return Status::NotEnabled; }
	Status dump() override { return Status::NotEnabled; }
	Status add_source(const AddSourceArgs &) override { return Status::NotEnabled; }
	bool delete_source(const IpAddress &) override { return false; }
	Status reload_sources() override { return Status::Success; }
	std::optional<AuthDataReport> auth_data(const IpAddress &) override { return std::nullopt; }
	void shutdown() override {}
};

TEST(Metrics, CollectAsksTheHandlerForEveryReport)
{
	FakeDaemon daemon;
	MetricsExtras extras;
	extras.refclocks = {RefclockCounters{.ref_id = kPps, .driver = "PPS", .pulses = 17}};
	auto s = collect_metrics(daemon, extras);
	EXPECT_EQ(s.tracking.stratum, 4);
	EXPECT_EQ(s.server.ntp_hits, 42u);
	EXPECT_EQ(s.activity.online, 3);
	EXPECT_EQ(s.extras.refclocks, extras.refclocks);
	ASSERT_EQ(s.sources.size(), 3u);
	EXPECT_EQ(s.sources[0].name, "time.example");
	EXPECT_EQ(s.sources[1].name, std::nullopt);  // no configured name: the address is shown
	EXPECT_EQ(s.sources[2].name, std::nullopt);
	ASSERT_TRUE(s.sources[0].stats.has_value());
	EXPECT_FALSE(s.sources[1].stats.has_value());
	// The refclock's "address" is its ref id: never asked for as a name.
	EXPECT_EQ(daemon.names_asked,
		  (std::vector<IpAddress>{*IpAddress::parse("192.0.2.1"), *IpAddress::parse("192.0.2.2")}));

	auto got = samples(format_metrics(s));
	EXPECT_THAT(got, Contains(R"(strata_source_reach{name="time.example",address="192.0.2.1",mode="server"} 3)"));
	EXPECT_THAT(got, Contains(R"(strata_source_reach{name="192.0.2.2",address="192.0.2.2",mode="server"} 0)"));
	EXPECT_THAT(got, Contains(R"(strata_source_samples{name="time.example",address="192.0.2.1",mode="server"} 4)"));
	EXPECT_THAT(got, Contains(R"(strata_refclock_pulses_total{name="PPS",driver="PPS"} 17)"));
	EXPECT_THAT(got, Not(Contains(::testing::HasSubstr("name=\"\""))));

	// A bounded scrape.
	EXPECT_EQ(collect_metrics(daemon, {}, 2).sources.size(), 2u);
}

} // namespace
} // namespace strata::control
