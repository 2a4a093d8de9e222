// cmdmon replies: lengths per type, golden TRACKING and N_SOURCES replies,
// round trips of every report, and the checks chronyc makes on what it
// receives.
#include "control/cmdmon.h"

#include <gtest/gtest.h>

#include "cmdmon_test_util.h"

namespace strata::control {
namespace {

using testing::Bytes;
using testing::concat;
using testing::hex;
using testing::octets;
using testing::ip;
using testing::zeros;

Bytes header(uint16_t command, uint16_t type, uint16_t status, uint32_t sequence)
{
	auto octet = [sequence](int shift) { return static_cast<int>((sequence >> shift) & 0xff); };
	return concat({octets({{6, 2, 0, 0},
			       {command >> 8, command & 0xff},
			       {type >> 8, type & 0xff},
			       {status >> 8, status & 0xff},
			       {0, 0, 0, 0, 0, 0},
			       {octet(24), octet(16), octet(8), octet(0)}}),
		       zeros(8)});
}

TEST(CmdmonReply, LengthOfEveryTypeChronydSends)
{
	// The reply header (28) plus each report's layout.
	EXPECT_EQ(reply_length(ReplyType::Null), 28u);
	EXPECT_EQ(reply_length(ReplyType::NSources), 32u);
	EXPECT_EQ(reply_length(ReplyType::SourceData), 76u);
	EXPECT_EQ(reply_length(ReplyType::Tracking), 104u);
	EXPECT_EQ(reply_length(ReplyType::SourceStats), 84u);
	EXPECT_EQ(reply_length(ReplyType::Rtc), 56u);
	EXPECT_EQ(reply_length(ReplyType::Activity), 48u);
	EXPECT_EQ(reply_length(ReplyType::Smoothing), 52u);
	EXPECT_EQ(reply_length(ReplyType::NtpData), 152u);
	EXPECT_EQ(reply_length(ReplyType::ManualTimestamp2), 40u);
	EXPECT_EQ(reply_length(ReplyType::ManualList2), 416u);
	EXPECT_EQ(reply_length(ReplyType::NtpSourceName), 284u);
	EXPECT_EQ(reply_length(ReplyType::AuthData), 52u);
	EXPECT_EQ(reply_length(ReplyType::ClientAccessesByIndex3), 520u);
	EXPECT_EQ(reply_length(ReplyType::SelectData), 76u);
	EXPECT_EQ(reply_length(ReplyType::ServerStats3), 72u);
	for (int obsolete : {0, 4, 8, 9, 10, 11, 14, 15, 22, 25, 1000}) {
		EXPECT_EQ(reply_length(static_cast<ReplyType>(obsolete)), 0u) << obsolete;
	}
}

// --- Golden datagrams ---

TEST(CmdmonReply, GoldenTracking)
{
	TrackingReport t{.ref_id = 0xc0a80101,
			 .address = ip("192.168.1.1"),
			 .stratum = 3,
			 .leap = Leap::None,
			 .ref_time = RealTime::from_parts(1'700'000'000, 500'000'000),
			 .current_correction_s = 1e-6,
			 .last_offset_s = -0.5,
			 .rms_offset_s = 0,
			 .freq_ppm = -12.25,
			 .resid_freq_ppm = 0.5,
			 .skew_ppm = 2.0,
			 .root_delay_s = 0.25,
			 .root_dispersion_s = 1.0,
			 .last_update_interval_s = 64.0};
	Request request{.command = Command::Tracking, .sequence = 0x12345678};
	Bytes want = concat({header(33, 5, 0, 0x12345678),
			     octets({{0xc0, 0xa8, 0x01, 0x01},  // ref id
				     {0xc0, 0xa8, 0x01, 0x01},  // address
				     {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
				     {0x00, 0x01},              // IPv4
				     {0x00, 0x00},              // pad
				     {0x00, 0x03},              // stratum
				     {0x00, 0x00},              // leap
				     {0x00, 0x00, 0x00, 0x00},  // ref time: seconds high
				     {0x65, 0x53, 0xf1, 0x00},  // … low (1700000000)
				     {0x1d, 0xcd, 0x65, 0x00},  // … nanoseconds (500000000)
				     {0xdc, 0x86, 0x37, 0xbd},  // current correction 1e-6
				     {0x01, 0x00, 0x00, 0x00},  // last offset −0.5
				     {0x00, 0x00, 0x00, 0x00},  // rms offset 0
				     {0x0b, 0x3c, 0x00, 0x00},  // frequency −12.25 ppm
				     {0x02, 0x80, 0x00, 0x00},  // residual frequency 0.5
				     {0x06, 0x80, 0x00, 0x00},  // skew 2
				     {0x00, 0x80, 0x00, 0x00},  // root delay 0.25
				     {0x04, 0x80, 0x00, 0x00},  // root dispersion 1
				     {0x10, 0x80, 0x00, 0x00}})});  // update interval 64
	auto bytes = encode_reply(reply_to(request, t));
	ASSERT_TRUE(bytes.has_value());
	EXPECT_EQ(hex(*bytes), hex(want));

	auto parsed = parse_reply(want);
	ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
	EXPECT_TRUE(answers(*parsed, request));
	EXPECT_EQ(parsed->status, Status::Success);
	ASSERT_TRUE(std::holds_alternative<TrackingReport>(parsed->body));
	const auto &back = std::get<TrackingReport>(parsed->body);
	EXPECT_EQ(back.ref_id, 0xc0a80101u);
	EXPECT_EQ(back.address, Address{ip("192.168.1.1")});
	EXPECT_EQ(back.stratum, 3);
	EXPECT_EQ(back.ref_time, RealTime::from_parts(1'700'000'000, 500'000'000));
	EXPECT_NEAR(back.current_correction_s, 1e-6, 1e-13);
	EXPECT_EQ(back.freq_ppm, -12.25);
	EXPECT_EQ(back.last_update_interval_s, 64.0);
}

TEST(CmdmonReply, GoldenNSources)
{
	Request request{.command = Command::NSources, .sequence = 0xdeadbeef};
	Bytes want = concat({header(14, 2, 0, 0xdeadbeef), octets({{0, 0, 0, 5}})});
	auto bytes = encode_reply(reply_to(request, NSourcesReport{.n_sources = 5}));
	ASSERT_TRUE(bytes.has_value());
	EXPECT_EQ(hex(*bytes), hex(want));
	auto parsed = parse_reply(want);
	ASSERT_TRUE(parsed.has_value());
	EXPECT_EQ(parsed->body, ReplyBody{NSourcesReport{.n_sources = 5}});
}

TEST(CmdmonReply, GoldenStatusOnlyReplyToARefusedCommand)
{
	Request request{.command = Command::Shutdown, .sequence = 0x0badf00d};
	Bytes want = header(62, 1, 2, 0x0badf00d);  // RPY_NULL, STT_UNAUTH
	auto bytes = encode_reply(reply_to(request, NullReport{}, Status::Unauth));
	ASSERT_TRUE(bytes.has_value());
	EXPECT_EQ(hex(*bytes), hex(want));
}

// --- Round trips ---

std::vector<ReplyBody> every_body()
{
	ClientAccess client{.address = ip("192.0.2.9"),
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
			    .last_nke_hit_ago_s = 4294967295u,
			    .last_cmd_hit_ago_s = 30};
	ClientAccess v6_client = client;
	v6_client.address = ip("2001:db8::9");
	return {
		NullReport{},
		NSourcesReport{.n_sources = 42},
		SourceDataReport{.address = ip("192.0.2.1"),
				 .poll = -4,
				 .stratum = 2,
				 .state = SourceState::Selected,
				 .mode = SourceMode::Peer,
				 .reachability = 0377,
				 .since_sample_s = 33,
				 .orig_latest_meas_s = -0.001953125,
				 .latest_meas_s = -0.0009765625,
				 .latest_meas_err_s = 0.0078125},
		SourceDataReport{.address = NoAddress{}, .state = SourceState::Falseticker,
				 .mode = SourceMode::RefClock},
		TrackingReport{.ref_id = 0x50505300,
			       .address = NoAddress{},
			       .stratum = 1,
			       .leap = Leap::Insert,
			       .ref_time = RealTime::from_parts(4'102'444'800, 999'999'999),
			       .current_correction_s = -0.0001220703125,
			       .last_offset_s = 0.5,
			       .rms_offset_s = 0.25,
			       .freq_ppm = 123.5,
			       .resid_freq_ppm = -0.125,
			       .skew_ppm = 0.0625,
			       .root_delay_s = 0.0,
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
		RtcReport{.ref_time = RealTime::from_parts(1'600'000'000, 0),
			  .n_samples = 10,
			  .n_runs = 4,
			  .span_s = 3600,
			  .rtc_seconds_fast = -1.25,
			  .rtc_gain_rate_ppm = 3.75},
		ActivityReport{.online = 3,
			       .offline = 1,
			       .burst_online = 2,
			       .burst_offline = 0,
			       .unresolved = -1},
		SmoothingReport{.active = true,
				.leap_only = true,
				.offset_s = 0.125,
				.freq_ppm = -0.5,
				.wander_ppm = 0.001953125,
				.last_update_ago_s = 12.5,
				.remaining_time_s = 1024.0},
		SmoothingReport{.active = false, .leap_only = false},
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
				  .ntp_span_s = 4294967295u},
		ClientAccessesReport{
			.n_indices = 1024, .next_index = 10, .clients = {client, v6_client}},
		ClientAccessesReport{.n_indices = 0, .next_index = 0, .clients = {}},
		ClientAccessesReport{.n_indices = 8,
				     .next_index = 8,
				     .clients = std::vector<ClientAccess>(8, client)},
		NtpDataReport{.remote_address = ip("192.0.2.1"),
			      .local_address = ip("192.0.2.200"),
			      .remote_port = 123,
			      .leap = Leap::Delete,
			      .version = 4,
			      .mode = 4,
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
			      .tests = 0x3ff,
			      .interleaved = true,
			      .authenticated = false,
			      .tx_timestamping = 'K',
			      .rx_timestamping = 'H',
			      .total_tx_count = 1000,
			      .total_rx_count = 999,
			      .total_valid_count = 998,
			      .total_good_count = 997},
		ManualTimestampReport{.offset_s = 2.5, .dfreq_ppm = -0.75, .new_afreq_ppm = 10.0},
		ManualListReport{.samples = {{.when = RealTime::from_parts(1'000, 0),
					      .slewed_offset_s = 0.5,
					      .orig_offset_s = 0.75,
					      .residual_s = -0.25},
					     {.when = RealTime::from_parts(2'000, 500),
					      .slewed_offset_s = 1.0,
					      .orig_offset_s = 1.5,
					      .residual_s = 0.125}}},
		SourceNameReport{.name = "ntp1.example.net"},
		SourceNameReport{.name = std::string(255, 'n')},
		AuthDataReport{.mode = AuthMode::Nts,
			       .key_type = 15,
			       .key_id = 0,
			       .key_length = 256,
			       .ke_attempts = 1,
			       .last_ke_ago_s = 3600,
			       .cookies = 8,
			       .cookie_length = 100,
			       .nak = 0},
		SelectDataReport{.ref_id = 0xc0000201,
				 .address = ip("192.0.2.1"),
				 .state = '*',
				 .authenticated = true,
				 .leap = Leap::None,
				 .configured_options = kSelectPrefer | kSelectTrust,
				 .effective_options = kSelectPrefer | kSelectTrust | kSelectRequire,
				 .last_sample_ago_s = 17,
				 .score = 1.0,
				 .lo_limit_s = -0.0009765625,
				 .hi_limit_s = 0.001953125},
	};
}

TEST(CmdmonReply, EveryReportRoundTrips)
{
	std::vector<bool> covered(std::variant_size_v<ReplyBody>, false);
	uint32_t sequence = 0x10203040;
	for (const ReplyBody &body : every_body()) {
		covered[body.index()] = true;
		ReplyType type = reply_type(body);
		SCOPED_TRACE(static_cast<int>(type));
		Reply reply{.command = 33, .sequence = sequence++, .body = body};
		auto bytes = encode_reply(reply);
		ASSERT_TRUE(bytes.has_value()) << bytes.error().message();
		EXPECT_EQ(bytes->size(), reply_length(type));
		EXPECT_EQ(std::to_integer<int>((*bytes)[7]), static_cast<int>(type));
		auto parsed = parse_reply(*bytes);
		ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
		EXPECT_EQ(*parsed, reply);
	}
	for (size_t i = 0; i < covered.size(); i++) {
		EXPECT_TRUE(covered[i]) << "report alternative " << i << " has no round trip";
	}
}

TEST(CmdmonReply, EachReportFitsTheRequestThatAsksForIt)
{
	for (const ReplyBody &body : every_body()) {
		ReplyType type = reply_type(body);
		for (uint16_t code = 0; code < kCommandCount; code++) {
			auto command = static_cast<Command>(code);
			if (request_length(command) == 0 || expected_reply(command) != type) {
				continue;
			}
			auto bytes = encode_reply(reply_to(Request{.command = command}, body));
			ASSERT_TRUE(bytes.has_value());
			EXPECT_LE(bytes->size(), request_length(command)) << command_name(code);
		}
	}
}

TEST(CmdmonReply, ReplyTypesOfTheReports)
{
	EXPECT_EQ(reply_type(NullReport{}), ReplyType::Null);
	EXPECT_EQ(reply_type(ServerStatsReport{}), ReplyType::ServerStats3);
	EXPECT_EQ(reply_type(ClientAccessesReport{}), ReplyType::ClientAccessesByIndex3);
	EXPECT_EQ(reply_type(ManualListReport{}), ReplyType::ManualList2);
	EXPECT_EQ(reply_type(ManualTimestampReport{}), ReplyType::ManualTimestamp2);
	EXPECT_EQ(reply_type(SelectDataReport{}), ReplyType::SelectData);
}

TEST(CmdmonReply, PartialClientPageIsTheFullArrayWithZeros)
{
	ClientAccessesReport page{.n_indices = 3, .next_index = 3,
				  .clients = {{.address = ip("192.0.2.9"), .ntp_hits = 1}}};
	Request request{.command = Command::ClientAccessesByIndex3};
	auto bytes = encode_reply(reply_to(request, page));
	ASSERT_TRUE(bytes.has_value());
	ASSERT_EQ(bytes->size(), 520u);
	EXPECT_EQ(hex(std::span(*bytes).subspan(28, 12)),
		  hex(octets({{0, 0, 0, 3}, {0, 0, 0, 3}, {0, 0, 0, 1}})));
	// Record 0 starts at 40: address, then ntp_hits.
	EXPECT_EQ(hex(std::span(*bytes).subspan(40, 4)), hex(octets({{192, 0, 2, 9}})));
	EXPECT_EQ(hex(std::span(*bytes).subspan(60, 4)), hex(octets({{0, 0, 0, 1}})));
	EXPECT_EQ(hex(std::span(*bytes).subspan(100, 420)), hex(zeros(420)));
}

TEST(CmdmonReply, ClientCountBeyondTheArrayIsCapped)
{
	ClientAccessesReport page{.clients = std::vector<ClientAccess>(8)};
	Request request{.command = Command::ClientAccessesByIndex3};
	Bytes b = *encode_reply(reply_to(request, page));
	b[28 + 11] = std::byte{200};  // n_clients = 200
	auto parsed = parse_reply(b);
	ASSERT_TRUE(parsed.has_value());
	EXPECT_EQ(std::get<ClientAccessesReport>(parsed->body).clients.size(), kMaxClientsPerReply);
}

TEST(CmdmonReply, NtpDataFlagsAndReservedWords)
{
	NtpDataReport r{.tests = 0x2aa, .interleaved = false, .authenticated = true,
			.tx_timestamping = 'D', .rx_timestamping = 'K'};
	Bytes b = *encode_reply(reply_to(Request{.command = Command::NtpData}, r));
	ASSERT_EQ(b.size(), 152u);
	// flags at 28 + 92: authenticated (0x8000) | tests; then the two letters.
	EXPECT_EQ(hex(std::span(b).subspan(120, 4)), hex(octets({{0x82, 0xaa}, {'D', 'K'}})));
	// The reserved words at 28 + 112 are all ones, as chronyd sends them.
	EXPECT_EQ(hex(std::span(b).subspan(140, 12)), hex(Bytes(12, std::byte{0xff})));
}

TEST(CmdmonReply, SmoothingFlagsWord)
{
	Bytes b = *encode_reply(reply_to(Request{.command = Command::Smoothing},
					 SmoothingReport{.active = true, .leap_only = true}));
	EXPECT_EQ(hex(std::span(b).subspan(28, 4)), hex(octets({{0, 0, 0, 3}})));
	b = *encode_reply(reply_to(Request{.command = Command::Smoothing},
				   SmoothingReport{.active = false, .leap_only = true}));
	EXPECT_EQ(hex(std::span(b).subspan(28, 4)), hex(octets({{0, 0, 0, 2}})));
}

TEST(CmdmonReply, SelectDataLayout)
{
	SelectDataReport r{.ref_id = 0x01020304, .address = ip("192.0.2.1"), .state = 'x',
			   .authenticated = true, .leap = Leap::Unsynchronized,
			   .configured_options = kSelectNoselect,
			   .effective_options = kSelectRequire,
			   .last_sample_ago_s = 5, .score = 1.0};
	Bytes b = *encode_reply(reply_to(Request{.command = Command::SelectData}, r));
	EXPECT_EQ(hex(std::span(b).subspan(52, 16)),
		  hex(octets({{'x', 1, 3, 0}, {0, 1}, {0, 8}, {0, 0, 0, 5}, {0x04, 0x80, 0, 0}})));
}

// --- What chronyc refuses ---

TEST(CmdmonReply, ShortOrForeignDatagramsAreMalformed)
{
	Bytes good =
		*encode_reply(reply_to(Request{.command = Command::Tracking}, TrackingReport{}));
	for (size_t n : {0u, 27u}) {
		Bytes b(good.begin(), good.begin() + static_cast<long>(n));
		auto r = parse_reply(b);
		ASSERT_FALSE(r.has_value());
		EXPECT_EQ(r.error().code, make_error_code(Errc::Malformed));
	}
	// A header's worth is enough to read, but not a tracking report.
	Bytes b(good.begin(), good.begin() + 103);
	EXPECT_FALSE(parse_reply(b).has_value());

	b = good;
	b[1] = std::byte{1};  // a request
	EXPECT_FALSE(parse_reply(b).has_value());
	b = good;
	b[3] = std::byte{1};
	EXPECT_FALSE(parse_reply(b).has_value());
	b = good;
	b[7] = std::byte{4};  // RPY_MANUAL_TIMESTAMP: not sent any more
	EXPECT_FALSE(parse_reply(b).has_value());
	b[6] = std::byte{1};
	b[7] = std::byte{0};  // 256
	EXPECT_FALSE(parse_reply(b).has_value());
}

TEST(CmdmonReply, OtherVersionsOnlyToSayBadVersion)
{
	Reply mismatch{.version = 5, .command = 33, .status = Status::BadPktVersion, .sequence = 1};
	auto b = encode_reply(mismatch);
	ASSERT_TRUE(b.has_value());
	auto parsed = parse_reply(*b);
	ASSERT_TRUE(parsed.has_value());
	EXPECT_EQ(parsed->version, 5);
	EXPECT_EQ(parsed->status, Status::BadPktVersion);

	mismatch.version = 3;
	EXPECT_FALSE(parse_reply(*encode_reply(mismatch)).has_value());
	mismatch.version = 5;
	mismatch.status = Status::Success;
	EXPECT_FALSE(parse_reply(*encode_reply(mismatch)).has_value());
}

TEST(CmdmonReply, UnterminatedSourceNameIsMalformed)
{
	Bytes b = *encode_reply(reply_to(Request{.command = Command::NtpSourceName},
					 SourceNameReport{.name = "x"}));
	b[28 + 255] = std::byte{'y'};
	EXPECT_FALSE(parse_reply(b).has_value());
}

TEST(CmdmonReply, EncodeRefusesOverfullReports)
{
	auto nine = encode_reply(
		reply_to(Request{}, ClientAccessesReport{.clients = std::vector<ClientAccess>(9)}));
	ASSERT_FALSE(nine.has_value());
	EXPECT_EQ(nine.error().code, make_error_code(Errc::InvalidArgument));
	auto samples = [](size_t n) {
		ManualListReport list{.samples = std::vector<ManualSample>(n)};
		return reply_to(Request{}, list);
	};
	EXPECT_FALSE(encode_reply(samples(17)).has_value());
	EXPECT_TRUE(encode_reply(samples(16)).has_value());
	auto name = reply_to(Request{}, SourceNameReport{.name = std::string(256, 'n')});
	EXPECT_FALSE(encode_reply(name).has_value());
}

TEST(CmdmonReply, AnswersMatchesCommandAndSequence)
{
	Request request{
		.command = Command::SourceData, .sequence = 77, .args = IndexArgs{.index = 1}};
	Reply reply = reply_to(request, SourceDataReport{});
	EXPECT_EQ(reply.command, 15u);
	EXPECT_EQ(reply.sequence, 77u);
	EXPECT_TRUE(answers(reply, request));
	Reply stale = reply;
	stale.sequence = 76;
	EXPECT_FALSE(answers(stale, request));
	Reply other = reply;
	other.command = 34;
	EXPECT_FALSE(answers(other, request));
}

} // namespace
} // namespace strata::control
