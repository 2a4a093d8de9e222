// The descriptions of control/cmdmon.h and what is generic over them: every
// request's arguments and every report, filled in field by field, go
// through the wire and through JSON and come back the same; the JSON
// reports read back into their structs; a JSON value that is not of its
// field's form is refused, naming the field.
#include "control/fields_json.h"

#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <tuple>
#include <typeinfo>
#include <vector>

#include <gtest/gtest.h>

#include "cmdmon_test_util.h"
#include "control/report_json.h"

namespace strata::control {
namespace {

using nlohmann::json;
using testing::ip;

ClientAccess sample_client()
{
	return {.address = ip("2001:db8::9"),
		.ntp_hits = 100,
		.nke_hits = 2,
		.cmd_hits = 3,
		.ntp_drops = 4,
		.nke_drops = 5,
		.cmd_drops = 6,
		.ntp_interval = -3,
		.nke_interval = 127,
		.cmd_interval = 6,
		.ntp_timeout_interval = 4,
		.last_ntp_hit_ago_s = 10,
		.last_nke_hit_ago_s = UINT32_MAX,
		.last_cmd_hit_ago_s = 30};
}

ManualSample sample_manual(int64_t s)
{
	return {.when = RealTime::from_parts(s, 500),
		.slewed_offset_s = 0.5,
		.orig_offset_s = 0.75,
		.residual_s = -0.25};
}

/// Every described struct with every field set to something other than its
/// default (reals exactly representable in chrony's Float, words in their
/// tables), so that a field the description misses cannot come back equal.
auto samples()
{
	return std::tuple{
		// Request arguments.
		IndexArgs{.index = 3},
		MaskArgs{.mask = ip("255.255.255.0"), .address = ip("192.0.2.0")},
		BurstArgs{.mask = ip("255.255.0.0"),
			  .address = ip("10.1.0.0"),
			  .n_good = 4,
			  .n_total = 8},
		AddressIntArgs{.address = ip("2001:db8::123"), .value = -3},
		AddressFloatArgs{.address = AddressId{7}, .value = 0.03125},
		FloatArgs{.value = -2.5},
		IntArgs{.value = -1},
		MakestepArgs{.limit = -1, .threshold_s = 0.1015625},
		TimeArgs{.time = RealTime::from_parts(1'700'000'000, 999'999'999)},
		LocalArgs{.on = true, .stratum = 8, .distance_s = 0.5, .orphan = true},
		SubnetArgs{.address = ip("::ffff:192.0.2.1"), .prefix_bits = 120},
		AddressArgs{.address = ip("::192.0.2.7")},
		ClientAccessesArgs{.first_index = 16, .n_clients = 8, .min_hits = 2, .reset = true},
		AddSourceArgs{.kind = SourceKind::Pool,
			      .name = "pool.ntp.example",
			      .port = 123,
			      .minpoll = -2,
			      .maxpoll = 10,
			      .presend_minpoll = 100,
			      .min_stratum = 1,
			      .poll_target = 8,
			      .version = 4,
			      .max_sources = 4,
			      .min_samples = 6,
			      .max_samples = 64,
			      .authkey = 42,
			      .nts_port = 4460,
			      .max_delay_s = 3.0,
			      .max_delay_ratio = 2.0,
			      .max_delay_dev_ratio = 10.0,
			      .min_delay_s = 0.0009765625,
			      .asymmetry = -0.5,
			      .offset_s = 0.125,
			      .flags = kAddOnline | kAddIburst | kAddNts,
			      .filter_length = 3,
			      .cert_set = 1,
			      .max_delay_quant_s = 0.25},
		// Reports and their records.
		NSourcesReport{.n_sources = 42},
		SourceDataReport{.address = ip("192.0.2.1"),
				 .poll = -4,
				 .stratum = 2,
				 .state = SourceState::Selectable,
				 .mode = SourceMode::Peer,
				 .flags = 1,
				 .reachability = 0377,
				 .since_sample_s = 33,
				 .orig_latest_meas_s = -0.001953125,
				 .latest_meas_s = -0.0009765625,
				 .latest_meas_err_s = 0.0078125},
		TrackingReport{.ref_id = 0x50505300,
			       .address = ip("192.0.2.1"),
			       .stratum = 1,
			       .leap = Leap::Insert,
			       .ref_time = RealTime::from_parts(4'102'444'800, 999'999'999),
			       .current_correction_s = -0.0001220703125,
			       .last_offset_s = 0.5,
			       .rms_offset_s = 0.25,
			       .freq_ppm = 123.5,
			       .resid_freq_ppm = -0.125,
			       .skew_ppm = 0.0625,
			       .root_delay_s = 0.125,
			       .root_dispersion_s = 0.00048828125,
			       .last_update_interval_s = 16.0},
		SourceStatsReport{.ref_id = 1,
				  .address = AddressId{3},
				  .n_samples = 64,
				  .n_runs = 30,
				  .span_s = 4000,
				  .sd_s = 0.000030517578125,
				  .resid_freq_ppm = -1.75,
				  .skew_ppm = 0.5,
				  .est_offset_s = 0.00006103515625,
				  .est_offset_err_s = 0.0001220703125},
		RtcReport{.ref_time = RealTime::from_parts(-86'400, 1),
			  .n_samples = 10,
			  .n_runs = 4,
			  .span_s = 3600,
			  .rtc_seconds_fast = -1.25,
			  .rtc_gain_rate_ppm = 3.75},
		ActivityReport{.online = 3,
			       .offline = 1,
			       .burst_online = 2,
			       .burst_offline = 5,
			       .unresolved = -1},
		SmoothingReport{.active = true,
				.leap_only = true,
				.offset_s = 0.125,
				.freq_ppm = -0.5,
				.wander_ppm = 0.001953125,
				.last_update_ago_s = 12.5,
				.remaining_time_s = 1024.0},
		ServerStatsReport{.ntp_hits = 1,
				  .nke_hits = 2,
				  .cmd_hits = 3,
				  .ntp_drops = 4,
				  .nke_drops = 5,
				  .cmd_drops = 6,
				  .log_drops = 7,
				  .ntp_auth_hits = 8,
				  .ntp_interleaved_hits = 9,
				  .ntp_timestamps = 10,
				  .ntp_span_s = UINT32_MAX},
		sample_client(),
		ClientAccessesReport{.n_indices = 1024,
				     .next_index = 10,
				     .clients = {sample_client(), sample_client()}},
		NtpDataReport{.remote_address = ip("192.0.2.1"),
			      .local_address = ip("2001:db8::200"),
			      .remote_port = 123,
			      .leap = Leap::Delete,
			      .version = 4,
			      .mode = 1,
			      .stratum = 2,
			      .poll = 6,
			      .precision = -24,
			      .root_delay_s = 0.015625,
			      .root_dispersion_s = 0.03125,
			      .ref_id = 0xc0000201,
			      .ref_time = RealTime::from_parts(1'700'000'000, 123'456'789),
			      .offset_s = -0.000244140625,
			      .peer_delay_s = 0.001953125,
			      .peer_dispersion_s = 0.0000152587890625,
			      .response_time_s = 0.0000305175781250,
			      .jitter_asymmetry = -0.25,
			      .tests = 0x2a5,
			      .interleaved = true,
			      .authenticated = true,
			      .tx_timestamping = 'K',
			      .rx_timestamping = 'H',
			      .total_tx_count = 1000,
			      .total_rx_count = 999,
			      .total_valid_count = 998,
			      .total_good_count = 997},
		ManualTimestampReport{.offset_s = 2.5, .dfreq_ppm = -0.75, .new_afreq_ppm = 10.0},
		sample_manual(1'000),
		ManualListReport{.samples = {sample_manual(1'000), sample_manual(2'000)}},
		SourceNameReport{.name = "ntp1.example.net"},
		AuthDataReport{.mode = AuthMode::Nts,
			       .key_type = 15,
			       .key_id = 9,
			       .key_length = 256,
			       .ke_attempts = 1,
			       .last_ke_ago_s = 3600,
			       .cookies = 8,
			       .cookie_length = 100,
			       .nak = 2},
		SelectDataReport{.ref_id = 0xc0000201,
				 .address = ip("192.0.2.1"),
				 .state = '*',
				 .authenticated = true,
				 .leap = Leap::Unsynchronized,
				 .configured_options = kSelectPrefer | kSelectTrust,
				 .effective_options = kSelectNoselect | kSelectRequire,
				 .last_sample_ago_s = 17,
				 .score = 1.5,
				 .lo_limit_s = -0.0009765625,
				 .hi_limit_s = 0.001953125},
	};
}

/// Calls `f` with each sample.
template <class F>
void for_each_sample(F &&f)
{
	std::apply([&](const auto &...s) { (f(s), ...); }, samples());
}

/// A description's fields: each one's key, and whether the sample's value
/// differs from a default-constructed struct's.
template <class T>
class Survey {
public:
	explicit Survey(const T &sample) : sample_(sample) {}

	template <class M, class W, class... X>
	void operator()(M T::*m, W, std::string_view key, const X &...)
	{
		keys.emplace_back(key);
		if (sample_.*m == T{}.*m) {
			unset.emplace_back(key.empty() ? "(no key)" : key);
		}
	}
	template <class W, class F>
	void word(W, F &&fn)
	{
		fn(*this);
	}
	void fill(size_t, uint8_t = 0) {}

	std::vector<std::string> keys;
	std::vector<std::string> unset;

private:
	const T &sample_;
};

/// `r` with the fields its JSON form leaves out back at their defaults.
template <class T>
class WithoutKeyless {
public:
	explicit WithoutKeyless(T &r) : r_(r) {}

	template <class M, class W, class... X>
	void operator()(M T::*m, W, std::string_view key, const X &...)
	{
		if (key.empty()) {
			r_.*m = T{}.*m;
		}
	}
	template <class W, class F>
	void word(W, F &&fn)
	{
		fn(*this);
	}
	void fill(size_t, uint8_t = 0) {}

private:
	T &r_;
};

template <class T>
T json_projection(T r)
{
	WithoutKeyless<T> v(r);
	fields(v, Of<T>{});
	return r;
}

template <class T>
std::string type_name()
{
	return typeid(T).name();
}

TEST(Fields, SamplesSetEveryFieldAndKeysAreUnique)
{
	for_each_sample([](const auto &sample) {
		using T = std::decay_t<decltype(sample)>;
		SCOPED_TRACE(type_name<T>());
		Survey<T> survey(sample);
		fields(survey, Of<T>{});
		EXPECT_EQ(survey.unset, std::vector<std::string>{})
			<< "fields the sample leaves at their default";
		std::set<std::string> seen;
		for (const std::string &key : survey.keys) {
			EXPECT_TRUE(key.empty() || seen.insert(key).second)
				<< "key \"" << key << "\" twice";
		}
	});
}

TEST(Fields, EveryRequestRoundTripsOnTheWire)
{
	std::set<size_t> covered;
	auto check = [&](const RequestArgs &args) {
		covered.insert(args.index());
		for (uint16_t code = 0; code < kCommandCount; code++) {
			auto command = static_cast<Command>(code);
			if (request_length(command) == 0 || args_of(command) != args.index()) {
				continue;
			}
			SCOPED_TRACE(command_name(code));
			Request request{.command = command,
					.attempt = 2,
					.sequence = 0xa0b0c0d0u + code,
					.args = args};
			auto bytes = encode_request(request);
			ASSERT_TRUE(bytes.has_value()) << bytes.error().message();
			EXPECT_EQ(bytes->size(), request_length(command));
			auto parsed = parse_request(*bytes);
			ASSERT_TRUE(std::holds_alternative<Request>(parsed))
				<< std::get<Rejection>(parsed).reason;
			EXPECT_EQ(std::get<Request>(parsed), request);
		}
	};
	check(NoArgs{});
	for_each_sample([&](const auto &sample) {
		using T = std::decay_t<decltype(sample)>;
		if constexpr (std::is_constructible_v<RequestArgs, T>) {
			check(sample);
		}
	});
	EXPECT_EQ(covered.size(), std::variant_size_v<RequestArgs>);
}

TEST(Fields, EveryReplyRoundTripsOnTheWire)
{
	std::set<size_t> covered;
	auto check = [&](const ReplyBody &body) {
		covered.insert(body.index());
		SCOPED_TRACE(static_cast<int>(reply_type(body)));
		Reply reply{.command = 33, .sequence = 0x01020304, .body = body};
		auto bytes = encode_reply(reply);
		ASSERT_TRUE(bytes.has_value()) << bytes.error().message();
		EXPECT_EQ(bytes->size(), reply_length(reply_type(body)));
		auto parsed = parse_reply(*bytes);
		ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
		EXPECT_EQ(*parsed, reply);
	};
	check(NullReport{});
	for_each_sample([&](const auto &sample) {
		using T = std::decay_t<decltype(sample)>;
		if constexpr (std::is_constructible_v<ReplyBody, T>) {
			check(sample);
		}
	});
	EXPECT_EQ(covered.size(), std::variant_size_v<ReplyBody>);
}

TEST(Fields, EveryStructRoundTripsThroughJson)
{
	for_each_sample([](const auto &sample) {
		using T = std::decay_t<decltype(sample)>;
		SCOPED_TRACE(type_name<T>());
		json j = fields_json(sample);
		// Through its text, as a client reads it.
		auto back = fields_from_json<T>(json::parse(j.dump()));
		ASSERT_TRUE(back.has_value()) << back.error().message() << "\n" << j.dump();
		EXPECT_EQ(*back, json_projection(sample));
		EXPECT_EQ(fields_json(*back), j);
	});
}

TEST(Fields, WhatTheJsonFormLeavesOut)
{
	// Only chronyd's always-zero flags and the estimated offset's error,
	// which chronyc does not show either.
	EXPECT_FALSE(fields_json(SourceDataReport{.flags = 1}).contains("flags"));
	SourceStatsReport stats{.est_offset_err_s = 1.0};
	EXPECT_EQ(json_projection(stats), SourceStatsReport{});

	// A real that is not finite is null, and null reads as NaN.
	auto back = fields_from_json<FloatArgs>(fields_json(FloatArgs{.value = INFINITY}));
	ASSERT_TRUE(back.has_value());
	EXPECT_TRUE(std::isnan(back->value));

	// A value outside its words' table is written as the table's other
	// word, which does not read back.
	json j = fields_json(SourceDataReport{.state = static_cast<SourceState>(9)});
	EXPECT_EQ(j["state"], "unknown");
	EXPECT_FALSE(fields_from_json<SourceDataReport>(j).has_value());
}

/// A JSON report (or one of its rows) read into T.
template <class T>
T read(const json &j)
{
	auto r = fields_from_json<T>(j);
	EXPECT_TRUE(r.has_value()) << (r ? std::string() : r.error().message());
	return r.value_or(T{});
}

TEST(Fields, JsonReportsReadBackIntoTheirStructs)
{
	const auto s = samples();
	auto first = [](const json &report, const char *list) { return report[list][0]; };

	const auto &tracking = std::get<TrackingReport>(s);
	EXPECT_EQ(read<TrackingReport>(tracking_json(tracking, "name")), tracking);

	// An NTP source's row: its name and a null reference id beside the fields.
	SourceDataReport source = std::get<SourceDataReport>(s);
	source.flags = 0;
	std::vector<Named<SourceDataReport>> sources{{source, "ntp.example"}};
	EXPECT_EQ(read<SourceDataReport>(first(sources_json(sources), "sources")), source);

	// Reference clocks' rows: no address, the id kept.
	SourceStatsReport stats = std::get<SourceStatsReport>(s);
	stats.address = NoAddress{};
	stats.est_offset_err_s = 0;
	std::vector<Named<SourceStatsReport>> stat_rows{{stats, "GPS"}};
	EXPECT_EQ(read<SourceStatsReport>(first(sourcestats_json(stat_rows), "sources")), stats);
	SelectDataReport select = std::get<SelectDataReport>(s);
	select.address = NoAddress{};
	std::vector<Named<SelectDataReport>> select_rows{{select, "GPS"}};
	EXPECT_EQ(read<SelectDataReport>(first(selectdata_json(select_rows), "sources")), select);

	const auto &auth = std::get<AuthDataReport>(s);
	std::vector<Named<SourceAuth>> auth_rows{{{ip("192.0.2.1"), auth}, "ntp.example"}};
	EXPECT_EQ(read<AuthDataReport>(first(authdata_json(auth_rows), "sources")), auth);

	const auto &client = std::get<ClientAccess>(s);
	std::vector<Named<ClientAccess>> client_rows{{client, "host.example"}};
	EXPECT_EQ(read<ClientAccess>(first(clients_json(client_rows), "clients")), client);

	const auto &ntp = std::get<NtpDataReport>(s);
	std::vector<NtpDataReport> ntp_rows{ntp};
	EXPECT_EQ(read<NtpDataReport>(first(ntpdata_json(ntp_rows), "sources")), ntp);

	const auto &server = std::get<ServerStatsReport>(s);
	EXPECT_EQ(read<ServerStatsReport>(serverstats_json(server)), server);
	const auto &activity = std::get<ActivityReport>(s);
	EXPECT_EQ(read<ActivityReport>(activity_json(activity)), activity);
	const auto &rtc = std::get<RtcReport>(s);
	EXPECT_EQ(read<RtcReport>(rtcdata_json(rtc)), rtc);
	const auto &smoothing = std::get<SmoothingReport>(s);
	EXPECT_EQ(read<SmoothingReport>(smoothing_json(smoothing)), smoothing);
	const auto &name = std::get<SourceNameReport>(s);
	EXPECT_EQ(read<SourceNameReport>(sourcename_json(ip("192.0.2.1"), name)), name);
}

TEST(Fields, JsonValuesNotOfTheirFormAreRefusedByName)
{
	json good = fields_json(std::get<NtpDataReport>(samples()));
	auto error = [&](const char *key, json value) {
		json j = good;
		if (value.is_discarded()) {
			j.erase(key);
		} else {
			j[key] = value;
		}
		auto r = fields_from_json<NtpDataReport>(j);
		EXPECT_FALSE(r.has_value()) << key << " = " << value.dump();
		return r ? std::string() : r.error().message();
	};
	EXPECT_NE(error("stratum", json::value_t::discarded).find("\"stratum\" is missing"),
		  std::string::npos);
	EXPECT_NE(error("stratum", 256).find("\"stratum\""), std::string::npos);  // 8 bits
	error("stratum", -1);
	error("stratum", "2");
	error("poll_log2", 128);
	error("leap", "leap_second");
	error("mode", "client");
	error("tx_timestamping", "software");
	error("reference_id", "7F00001");     // 7 digits
	error("reference_id", "7F00001G");
	error("reference_time", "2026-02-30T00:00:00.000000000Z");
	error("reference_time", "2026-11-25 10:40:46.378595907Z");
	error("reference_time", "9999-12-31T23:59:59.000000000Z");  // beyond RealTime
	error("remote_address", "192.0.2.300");
	error("remote_address", "ID#");
	error("tests", "10101");
	error("tests", "101010010x");
	error("interleaved", 1);
	error("offset_s", "0.1");
	EXPECT_FALSE(fields_from_json<NtpDataReport>(json::array()).has_value());

	// Nested keys: "ntp/packets" is packets in the object ntp.
	json client = fields_json(sample_client());
	EXPECT_EQ(client["ntp"]["packets"], 100);
	client["ntp"].erase("packets");
	auto r = fields_from_json<ClientAccess>(client);
	ASSERT_FALSE(r.has_value());
	EXPECT_NE(r.error().message().find("ntp/packets"), std::string::npos);
	client["ntp"] = 5;
	EXPECT_FALSE(fields_from_json<ClientAccess>(client).has_value());

	json select = fields_json(std::get<SelectDataReport>(samples()));
	select["configured_options"] = json::array({"prefer", "often"});
	EXPECT_FALSE(fields_from_json<SelectDataReport>(select).has_value());
	select["configured_options"] = json::array({"require", "noselect"});
	EXPECT_EQ(fields_from_json<SelectDataReport>(select).value().configured_options,
		  kSelectRequire | kSelectNoselect);
}

TEST(Fields, WireSizesAreChronysLayouts)
{
	// candm.h's structures (see also CmdmonReply.LengthOfEveryTypeChronydSends).
	static_assert(wire_size<NullReport>() == 0);
	static_assert(wire_size<SourceDataReport>() == 48);
	static_assert(wire_size<TrackingReport>() == 76);
	static_assert(wire_size<ClientAccessesReport>() == 12 + 8 * 60);
	static_assert(wire_size<ManualListReport>() == 4 + 16 * 24);
	static_assert(wire_size<SelectDataReport>() == 48);
	static_assert(wire_size<LocalArgs>() == 16);
	EXPECT_EQ(reply_length(ReplyType::Tracking),
		  kReplyHeaderLength + wire_size<TrackingReport>());
}

} // namespace
} // namespace strata::control
