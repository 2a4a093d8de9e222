// cmdmon requests: lengths and padding per command, golden datagrams,
// round trips of every command chronyd 4.3 accepts, and the rejections
// (which get an error status, which get nothing) in chronyd's order.
#include "control/cmdmon.h"

#include <map>
#include <set>

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

/// Lengths chronyc 4.3 sends, worked out from its layouts: the 20-byte
/// header, the arguments, then padding up to the expected reply's length.
const std::map<uint16_t, size_t> kExpectedLengths = {
	{0, 28},   {1, 60},   {2, 60},   {3, 68},   {4, 44},   {5, 44},   {6, 28},   {7, 44},
	{8, 44},   {9, 28},   {10, 32},  {11, 40},  {12, 0},   {13, 28},  {14, 32},  {15, 76},
	{16, 28},  {17, 44},  {18, 44},  {19, 44},  {20, 44},  {21, 44},  {22, 44},  {23, 44},
	{24, 44},  {25, 40},  {26, 40},  {27, 0},   {28, 0},   {29, 40},  {30, 28},  {31, 28},
	{32, 0},   {33, 104}, {34, 84},  {35, 56},  {36, 28},  {37, 28},  {38, 0},   {39, 0},
	{40, 0},   {41, 416}, {42, 28},  {43, 28},  {44, 48},  {45, 44},  {46, 44},  {47, 44},
	{48, 28},  {49, 28},  {50, 28},  {51, 52},  {52, 28},  {53, 28},  {54, 72},  {55, 0},
	{56, 36},  {57, 152}, {58, 0},   {59, 0},   {60, 0},   {61, 0},   {62, 28},  {63, 28},
	{64, 372}, {65, 284}, {66, 28},  {67, 52},  {68, 520}, {69, 76},  {70, 28},  {71, 28},
};

TEST(CmdmonRequest, LengthOfEveryCommandIncludingPadding)
{
	ASSERT_EQ(kExpectedLengths.size(), kCommandCount);
	for (auto [code, length] : kExpectedLengths) {
		EXPECT_EQ(request_length(static_cast<Command>(code)), length) << command_name(code);
	}
	EXPECT_EQ(request_length(static_cast<Command>(kCommandCount)), 0u);
}

TEST(CmdmonRequest, PaddedRequestIsNeverShorterThanItsReply)
{
	// The anti-amplification rule: whatever a command's answer, a server can
	// send it back within the request's own length.
	for (uint16_t code = 0; code < kCommandCount; code++) {
		auto command = static_cast<Command>(code);
		size_t length = request_length(command);
		if (length == 0) {
			continue;
		}
		EXPECT_GE(length, kMinRequestLength) << command_name(code);
		EXPECT_GE(length, reply_length(expected_reply(command))) << command_name(code);
		EXPECT_GE(length, reply_length(ReplyType::Null)) << command_name(code);
		EXPECT_LE(length, kMaxRequestLength) << command_name(code);
	}
}

TEST(CmdmonRequest, ExpectedRepliesOfTheReports)
{
	EXPECT_EQ(expected_reply(Command::NSources), ReplyType::NSources);
	EXPECT_EQ(expected_reply(Command::SourceData), ReplyType::SourceData);
	EXPECT_EQ(expected_reply(Command::Tracking), ReplyType::Tracking);
	EXPECT_EQ(expected_reply(Command::SourceStats), ReplyType::SourceStats);
	EXPECT_EQ(expected_reply(Command::RtcReport), ReplyType::Rtc);
	EXPECT_EQ(expected_reply(Command::Activity), ReplyType::Activity);
	EXPECT_EQ(expected_reply(Command::Smoothing), ReplyType::Smoothing);
	EXPECT_EQ(expected_reply(Command::ServerStats), ReplyType::ServerStats3);
	EXPECT_EQ(expected_reply(Command::ClientAccessesByIndex3),
		  ReplyType::ClientAccessesByIndex3);
	EXPECT_EQ(expected_reply(Command::NtpData), ReplyType::NtpData);
	EXPECT_EQ(expected_reply(Command::SelectData), ReplyType::SelectData);
	EXPECT_EQ(expected_reply(Command::AuthData), ReplyType::AuthData);
	EXPECT_EQ(expected_reply(Command::NtpSourceName), ReplyType::NtpSourceName);
	EXPECT_EQ(expected_reply(Command::ManualList), ReplyType::ManualList2);
	EXPECT_EQ(expected_reply(Command::Settime), ReplyType::ManualTimestamp2);
	EXPECT_EQ(expected_reply(Command::MakeStep), ReplyType::Null);
	EXPECT_EQ(expected_reply(Command::Shutdown), ReplyType::Null);
}

// --- Golden datagrams ---

TEST(CmdmonRequest, GoldenTracking)
{
	Request request{.command = Command::Tracking, .attempt = 1, .sequence = 0x12345678};
	Bytes want = concat({octets({{6, 1, 0, 0},                // version 6, request, reserved
				     {0x00, 0x21},                // command 33
				     {0x00, 0x01},                // attempt
				     {0x12, 0x34, 0x56, 0x78},    // sequence
				     {0, 0, 0, 0, 0, 0, 0, 0}}),  // pad1, pad2
			     zeros(84)});                         // padding to the 104-byte reply
	auto bytes = encode_request(request);
	ASSERT_TRUE(bytes.has_value());
	EXPECT_EQ(hex(*bytes), hex(want));
	auto parsed = parse_request(want);
	ASSERT_TRUE(std::holds_alternative<Request>(parsed));
	EXPECT_EQ(std::get<Request>(parsed), request);
}

TEST(CmdmonRequest, GoldenNSources)
{
	Request request{.command = Command::NSources, .sequence = 0xdeadbeef};
	Bytes want = concat({octets({{6, 1, 0, 0}, {0x00, 0x0e}, {0, 0}, {0xde, 0xad, 0xbe, 0xef},
				     {0, 0, 0, 0, 0, 0, 0, 0}}),
			     zeros(12)});  // padding to the 32-byte reply
	auto bytes = encode_request(request);
	ASSERT_TRUE(bytes.has_value());
	EXPECT_EQ(hex(*bytes), hex(want));
	auto parsed = parse_request(want);
	ASSERT_TRUE(std::holds_alternative<Request>(parsed));
	EXPECT_EQ(std::get<Request>(parsed), request);
}

TEST(CmdmonRequest, GoldenSourceData)
{
	Request request{
		.command = Command::SourceData, .sequence = 7, .args = IndexArgs{.index = 2}};
	Bytes want = concat({octets({{6, 1, 0, 0}, {0x00, 0x0f}, {0, 0}, {0, 0, 0, 7},
				     {0, 0, 0, 0, 0, 0, 0, 0},
				     {0, 0, 0, 2}}),  // index
			     zeros(52)});             // 24 + 52 = the 76-byte reply
	auto bytes = encode_request(request);
	ASSERT_TRUE(bytes.has_value());
	EXPECT_EQ(hex(*bytes), hex(want));
}

TEST(CmdmonRequest, GoldenLocal2HasNoPadding)
{
	// `local stratum 10 orphan`, distance 1 s: 36 bytes, longer than the
	// 28-byte status reply it gets.
	Request request{.command = Command::Local2,
			.sequence = 1,
			.args = LocalArgs{
				.on = true, .stratum = 10, .distance_s = 1.0, .orphan = true}};
	Bytes want = octets({{6, 1, 0, 0}, {0x00, 0x38}, {0, 0}, {0, 0, 0, 1},
			     {0, 0, 0, 0, 0, 0, 0, 0},
			     {0, 0, 0, 1},              // on
			     {0, 0, 0, 10},             // stratum
			     {0x04, 0x80, 0x00, 0x00},  // distance 1.0
			     {0, 0, 0, 1}});            // orphan
	auto bytes = encode_request(request);
	ASSERT_TRUE(bytes.has_value());
	EXPECT_EQ(hex(*bytes), hex(want));
}

TEST(CmdmonRequest, GoldenAddSourceFieldOffsets)
{
	AddSourceArgs add{.kind = SourceKind::Pool,
			  .name = "pool.ntp.org",
			  .port = 123,
			  .minpoll = 6,
			  .maxpoll = 10,
			  .flags = kAddOnline | kAddIburst,
			  .max_delay_quant_s = 0.5};
	auto bytes = encode_request({.command = Command::AddSource, .args = add});
	ASSERT_TRUE(bytes.has_value());
	ASSERT_EQ(bytes->size(), 372u);
	const Bytes &b = *bytes;
	auto at = [&b](size_t offset, size_t n) { return hex(std::span(b).subspan(offset, n)); };
	EXPECT_EQ(at(4, 2), hex(octets({{0x00, 0x40}})));        // command 64
	EXPECT_EQ(at(20, 4), hex(octets({{0, 0, 0, 3}})));        // pool
	EXPECT_EQ(at(24, 4), hex(octets({{'p', 'o', 'o', 'l'}})));  // name
	EXPECT_EQ(at(36, 244), hex(zeros(244)));                  // NUL-padded to 256
	EXPECT_EQ(at(280, 4), hex(octets({{0, 0, 0, 123}})));     // port
	EXPECT_EQ(at(284, 4), hex(octets({{0, 0, 0, 6}})));       // minpoll
	EXPECT_EQ(at(288, 4), hex(octets({{0, 0, 0, 10}})));      // maxpoll
	EXPECT_EQ(at(352, 4), hex(octets({{0, 0, 0, 5}})));       // flags: online | iburst
	EXPECT_EQ(at(364, 4), hex(octets({{0x02, 0x80, 0, 0}}))); // max_delay_quant 0.5
	EXPECT_EQ(at(368, 4), hex(zeros(4)));                     // reserved
}

// --- Round trips ---

/// One request of every command chronyd 4.3 accepts, with arguments that
/// exercise every field (reals exactly representable in cmdmon's Float).
std::vector<Request> every_request()
{
	MaskArgs all{};
	MaskArgs subnet{.mask = ip("255.255.255.0"), .address = ip("192.0.2.0")};
	AddSourceArgs add{.kind = SourceKind::Server,
			  .name = "ntp.example.org",
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
			  .max_delay_ratio = 0.0,
			  .max_delay_dev_ratio = 10.0,
			  .min_delay_s = 0.0009765625,
			  .asymmetry = -0.5,
			  .offset_s = 0.125,
			  .flags = kAddOnline | kAddIburst | kAddPrefer | kAddNts | kAddExtField1,
			  .filter_length = 3,
			  .cert_set = 1,
			  .max_delay_quant_s = 0.25};
	Address v6 = ip("2001:db8::123");
	std::vector<Request> out = {
		{.command = Command::Null},
		{.command = Command::Online, .args = all},
		{.command = Command::Offline, .args = subnet},
		{.command = Command::Burst,
		 .args = BurstArgs{.mask = ip("255.255.0.0"),
				   .address = ip("10.1.0.0"),
				   .n_good = 4,
				   .n_total = 8}},
		{.command = Command::ModifyMinpoll,
		 .args = AddressIntArgs{.address = v6, .value = -3}},
		{.command = Command::ModifyMaxpoll,
		 .args = AddressIntArgs{.address = v6, .value = 12}},
		{.command = Command::Dump},
		{.command = Command::ModifyMaxdelay,
		 .args = AddressFloatArgs{.address = v6, .value = 0.03125}},
		{.command = Command::ModifyMaxdelayratio,
		 .args = AddressFloatArgs{.address = v6, .value = 1.5}},
		{.command = Command::ModifyMaxupdateskew, .args = FloatArgs{.value = 100.0}},
		{.command = Command::Logon,
		 .args = TimeArgs{.time = RealTime::from_parts(1'000'000'000, 1)}},
		{.command = Command::Settime,
		 .args = TimeArgs{.time = RealTime::from_parts(1'700'000'000, 0)}},
		{.command = Command::Manual, .args = IntArgs{.value = 2}},
		{.command = Command::NSources},
		{.command = Command::SourceData, .args = IndexArgs{.index = 3}},
		{.command = Command::Rekey},
		{.command = Command::Allow,
		 .args = SubnetArgs{.address = ip("192.0.2.0"), .prefix_bits = 24}},
		{.command = Command::AllowAll,
		 .args = SubnetArgs{.address = ip("10.0.0.0"), .prefix_bits = 8}},
		{.command = Command::Deny, .args = SubnetArgs{.address = v6, .prefix_bits = 128}},
		{.command = Command::DenyAll, .args = SubnetArgs{}},
		{.command = Command::CmdAllow,
		 .args = SubnetArgs{.address = ip("127.0.0.1"), .prefix_bits = 32}},
		{.command = Command::CmdAllowAll,
		 .args = SubnetArgs{.address = ip("::"), .prefix_bits = 0}},
		{.command = Command::CmdDeny,
		 .args = SubnetArgs{.address = ip("198.51.100.0"), .prefix_bits = 25}},
		{.command = Command::CmdDenyAll,
		 .args = SubnetArgs{.address = ip("203.0.113.0"), .prefix_bits = 24}},
		{.command = Command::AcCheck, .args = AddressArgs{.address = ip("192.0.2.7")}},
		{.command = Command::CmdAcCheck, .args = AddressArgs{.address = v6}},
		{.command = Command::DelSource, .args = AddressArgs{.address = AddressId{5}}},
		{.command = Command::WriteRtc},
		{.command = Command::Dfreq, .args = FloatArgs{.value = -2.5}},
		{.command = Command::Tracking},
		{.command = Command::SourceStats, .args = IndexArgs{.index = 0}},
		{.command = Command::RtcReport},
		{.command = Command::TrimRtc},
		{.command = Command::CycleLogs},
		{.command = Command::ManualList},
		{.command = Command::ManualDelete, .args = IntArgs{.value = -1}},
		{.command = Command::MakeStep},
		{.command = Command::Activity},
		{.command = Command::ModifyMinstratum,
		 .args = AddressIntArgs{.address = ip("192.0.2.1"), .value = 3}},
		{.command = Command::ModifyPolltarget,
		 .args = AddressIntArgs{.address = ip("192.0.2.1"), .value = 16}},
		{.command = Command::ModifyMaxdelaydevratio,
		 .args = AddressFloatArgs{.address = ip("192.0.2.1"), .value = 10.0}},
		{.command = Command::Reselect},
		{.command = Command::ReselectDistance, .args = FloatArgs{.value = 0.0001220703125}},
		{.command = Command::ModifyMakestep,
		 .args = MakestepArgs{.limit = -1, .threshold_s = 0.1015625}},
		{.command = Command::Smoothing},
		{.command = Command::SmoothTime, .args = IntArgs{.value = 1}},
		{.command = Command::Refresh},
		{.command = Command::ServerStats},
		{.command = Command::Local2,
		 .args = LocalArgs{.on = true, .stratum = 8, .distance_s = 0.5, .orphan = true}},
		{.command = Command::NtpData, .args = AddressArgs{.address = ip("192.0.2.123")}},
		{.command = Command::Shutdown},
		{.command = Command::OnOffline},
		{.command = Command::AddSource, .args = add},
		{.command = Command::NtpSourceName,
		 .args = AddressArgs{.address = ip("192.0.2.123")}},
		{.command = Command::ResetSources},
		{.command = Command::AuthData, .args = AddressArgs{.address = v6}},
		{.command = Command::ClientAccessesByIndex3,
		 .args = ClientAccessesArgs{
			 .first_index = 16, .n_clients = 8, .min_hits = 2, .reset = true}},
		{.command = Command::SelectData, .args = IndexArgs{.index = 1}},
		{.command = Command::ReloadSources},
		{.command = Command::Doffset2, .args = FloatArgs{.value = -0.001953125}},
	};
	uint32_t sequence = 0x01020304;
	for (Request &r : out) {
		r.sequence = sequence++;
		r.attempt = static_cast<uint16_t>(sequence % 3);
	}
	return out;
}

TEST(CmdmonRequest, EveryAcceptedCommandRoundTrips)
{
	std::set<uint16_t> covered;
	for (const Request &request : every_request()) {
		auto code = static_cast<uint16_t>(request.command);
		SCOPED_TRACE(command_name(code));
		covered.insert(code);
		auto bytes = encode_request(request);
		ASSERT_TRUE(bytes.has_value()) << bytes.error().message();
		EXPECT_EQ(bytes->size(), kExpectedLengths.at(code));
		auto parsed = parse_request(*bytes);
		ASSERT_TRUE(std::holds_alternative<Request>(parsed))
			<< std::get<Rejection>(parsed).reason;
		EXPECT_EQ(std::get<Request>(parsed), request);
	}
	for (auto [code, length] : kExpectedLengths) {
		if (length != 0) {
			EXPECT_TRUE(covered.count(code)) << command_name(code) << " not covered";
		}
	}
}

TEST(CmdmonRequest, AddSourceAsChronyc43SendsIt)
{
	// Captured from `chronyc add server 192.0.2.7 iburst minpoll 4`: every
	// option is sent, chronyc's defaults where none was given.
	Bytes captured = concat({octets({{6, 1, 0, 0},
					 {0x00, 0x40},
					 {0, 0},
					 {0xed, 0xc6, 0x8a, 0x71},
					 {0, 0, 0, 0, 0, 0, 0, 0},
					 {0, 0, 0, 1},  // server
					 {'1', '9', '2', '.', '0', '.', '2', '.', '7'}}),
				 zeros(256 - 9),
				 octets({{0, 0, 0, 123},              // port
					 {0, 0, 0, 4},                // minpoll
					 {0, 0, 0, 10},               // maxpoll
					 {0, 0, 0, 100},              // presend minpoll (off)
					 {0, 0, 0, 0},                // min stratum
					 {0, 0, 0, 8},                // poll target
					 {0, 0, 0, 0},                // version (default)
					 {0, 0, 0, 4},                // max sources
					 {0xff, 0xff, 0xff, 0xff},    // min samples (default)
					 {0xff, 0xff, 0xff, 0xff},    // max samples (default)
					 {0, 0, 0, 0},                // key
					 {0, 0, 0x11, 0x6c},          // NTS-KE port 4460
					 {0x06, 0xc0, 0x00, 0x00},    // max delay 3 s
					 {0, 0, 0, 0},                // max delay ratio
					 {0x0a, 0xa0, 0x00, 0x00},    // max delay dev ratio 10
					 {0, 0, 0, 0},                // min delay
					 {0x04, 0x80, 0x00, 0x00},    // asymmetry 1
					 {0, 0, 0, 0},                // offset
					 {0, 0, 0, 5}}),              // online | iburst
				 // filter length, cert set, delay quantum, reserved
				 zeros(4 * 4)});
	ASSERT_EQ(captured.size(), 372u);
	auto parsed = parse_request(captured);
	ASSERT_TRUE(std::holds_alternative<Request>(parsed));
	const Request &request = std::get<Request>(parsed);
	EXPECT_EQ(request.sequence, 0xedc68a71u);
	AddSourceArgs want{.kind = SourceKind::Server,
			   .name = "192.0.2.7",
			   .port = 123,
			   .minpoll = 4,
			   .maxpoll = 10,
			   .presend_minpoll = 100,
			   .poll_target = 8,
			   .max_sources = 4,
			   .min_samples = -1,
			   .max_samples = -1,
			   .nts_port = 4460,
			   .max_delay_s = 3.0,
			   .max_delay_dev_ratio = 10.0,
			   .asymmetry = 1.0,
			   .flags = kAddOnline | kAddIburst};
	EXPECT_EQ(std::get<AddSourceArgs>(request.args), want);
	auto again = encode_request(request);
	ASSERT_TRUE(again.has_value());
	EXPECT_EQ(hex(*again), hex(captured));
}

TEST(CmdmonRequest, LocalOnAndOrphanAreAnyNonZeroWord)
{
	auto bytes = encode_request({.command = Command::Local2, .args = LocalArgs{}});
	ASSERT_TRUE(bytes.has_value());
	Bytes b = *bytes;
	b[23] = std::byte{7};  // on_off = 7
	b[35] = std::byte{2};  // orphan = 2
	auto parsed = parse_request(b);
	ASSERT_TRUE(std::holds_alternative<Request>(parsed));
	const auto &local = std::get<LocalArgs>(std::get<Request>(parsed).args);
	EXPECT_TRUE(local.on);
	EXPECT_TRUE(local.orphan);
}

TEST(CmdmonRequest, LongerThanNeededIsAccepted)
{
	// chronyd reads up to its buffer's size and ignores the rest.
	auto bytes = encode_request({.command = Command::Tracking, .sequence = 9});
	ASSERT_TRUE(bytes.has_value());
	Bytes b = *bytes;
	b.resize(kMaxRequestLength, std::byte{0xaa});
	auto parsed = parse_request(b);
	ASSERT_TRUE(std::holds_alternative<Request>(parsed));
	EXPECT_EQ(std::get<Request>(parsed).sequence, 9u);
}

// --- Rejections ---

Rejection rejected(std::span<const std::byte> datagram)
{
	auto parsed = parse_request(datagram);
	if (!std::holds_alternative<Rejection>(parsed)) {
		ADD_FAILURE() << "accepted " << hex(datagram);
		return {};
	}
	return std::get<Rejection>(parsed);
}

Bytes tracking_request()
{
	return *encode_request({.command = Command::Tracking, .sequence = 0xa1b2c3d4});
}

TEST(CmdmonRequest, TruncatedRequestIsBadLengthWithCommandAndSequenceEchoed)
{
	Bytes b = tracking_request();
	b.resize(103);
	Rejection r = rejected(b);
	EXPECT_EQ(r.status, Status::BadPktLength);
	EXPECT_EQ(r.command, 33u);
	EXPECT_EQ(r.sequence, 0xa1b2c3d4u);

	// An unpadded request (what a protocol-5 client would send) too.
	b.resize(28);
	EXPECT_EQ(rejected(b).status, Status::BadPktLength);
}

TEST(CmdmonRequest, TruncatedArgumentsAreBadLength)
{
	Bytes b = *encode_request({.command = Command::AddSource,
				   .args = AddSourceArgs{.name = "192.0.2.1"}});
	b.resize(371);
	EXPECT_EQ(rejected(b).status, Status::BadPktLength);
}

TEST(CmdmonRequest, TooShortOrTooLongDatagramsGetNoReply)
{
	// Below 28 bytes even an error reply would be longer than the request.
	Bytes b = tracking_request();
	b.resize(27);
	Rejection r = rejected(b);
	EXPECT_FALSE(r.status.has_value());
	b.resize(20);
	EXPECT_FALSE(rejected(b).status.has_value());
	EXPECT_FALSE(rejected({}).status.has_value());

	b = tracking_request();
	b.resize(kMaxRequestLength + 1);
	EXPECT_FALSE(rejected(b).status.has_value());
}

TEST(CmdmonRequest, WrongVersionFromFiveUpIsBadVersionOlderGetsNothing)
{
	Bytes b = tracking_request();
	for (int version : {5, 7, 255}) {
		b[0] = static_cast<std::byte>(version);
		Rejection r = rejected(b);
		EXPECT_EQ(r.status, Status::BadPktVersion) << version;
		EXPECT_EQ(r.command, 33u);
		EXPECT_EQ(r.sequence, 0xa1b2c3d4u);
	}
	for (int version : {0, 1, 4}) {
		b[0] = static_cast<std::byte>(version);
		EXPECT_FALSE(rejected(b).status.has_value()) << version;
	}
	// A version-5 request is unpadded; its error reply still fits.
	b.resize(28);
	b[0] = std::byte{5};
	EXPECT_EQ(rejected(b).status, Status::BadPktVersion);
}

TEST(CmdmonRequest, NotARequestGetsNothing)
{
	Bytes b = tracking_request();
	b[1] = std::byte{2};  // a reply
	EXPECT_FALSE(rejected(b).status.has_value());
	b = tracking_request();
	b[2] = std::byte{1};  // res1
	EXPECT_FALSE(rejected(b).status.has_value());
	b = tracking_request();
	b[3] = std::byte{1};  // res2
	EXPECT_FALSE(rejected(b).status.has_value());
}

TEST(CmdmonRequest, UnknownAndObsoleteCommandsAreInvalid)
{
	Bytes b = tracking_request();
	for (int code : {72, 0xffff, 12 /* LOCAL */, 27 /* ADD_SERVER */, 32 /* DOFFSET */,
			      40 /* CLIENT_ACCESSES_BY_INDEX */, 55, 61}) {
		b[4] = static_cast<std::byte>(code >> 8);
		b[5] = static_cast<std::byte>(code);
		Rejection r = rejected(b);
		EXPECT_EQ(r.status, Status::Invalid) << code;
		EXPECT_EQ(r.command, static_cast<uint16_t>(code));
	}
}

TEST(CmdmonRequest, VersionIsCheckedBeforeTheCommandAndTheCommandBeforeTheLength)
{
	Bytes b = tracking_request();
	b.resize(30);
	b[0] = std::byte{5};
	b[5] = std::byte{99};
	EXPECT_EQ(rejected(b).status, Status::BadPktVersion);
	b[0] = std::byte{6};
	EXPECT_EQ(rejected(b).status, Status::Invalid);
	b[5] = std::byte{33};
	EXPECT_EQ(rejected(b).status, Status::BadPktLength);
}

TEST(CmdmonRequest, AddSourceWithUnknownKindIsInvalidUnterminatedNameIsInvalidName)
{
	Bytes good = *encode_request({.command = Command::AddSource,
				      .args = AddSourceArgs{.name = "192.0.2.1"}});
	Bytes b = good;
	b[23] = std::byte{4};  // kind 4
	EXPECT_EQ(rejected(b).status, Status::Invalid);
	b[23] = std::byte{0};
	EXPECT_EQ(rejected(b).status, Status::Invalid);

	b = good;
	b[20 + 4 + 255] = std::byte{'x'};  // the name's last byte
	Rejection r = rejected(b);
	EXPECT_EQ(r.status, Status::InvalidName);
	EXPECT_EQ(r.command, 64u);

	b[23] = std::byte{9};  // kind is checked first
	EXPECT_EQ(rejected(b).status, Status::Invalid);
}

TEST(CmdmonRequest, AddSourceNameEndsAtTheFirstNul)
{
	Bytes b = *encode_request({.command = Command::AddSource,
				   .args = AddSourceArgs{.name = "abc"}});
	b[24 + 5] = std::byte{'z'};  // after the terminator: ignored
	auto parsed = parse_request(b);
	ASSERT_TRUE(std::holds_alternative<Request>(parsed));
	EXPECT_EQ(std::get<AddSourceArgs>(std::get<Request>(parsed).args).name, "abc");
}

TEST(CmdmonRequest, ErrorReplyEchoesAndFitsTheRequest)
{
	Bytes b = tracking_request();
	b.resize(40);
	Rejection r = rejected(b);
	ASSERT_EQ(r.status, Status::BadPktLength);
	auto reply = encode_reply(reply_to(r));
	ASSERT_TRUE(reply.has_value());
	Bytes want = concat({octets({{6, 2, 0, 0},
				     {0x00, 0x21},  // command echoed
				     {0x00, 0x01},  // RPY_NULL
				     {0x00, 0x13},  // STT_BADPKTLENGTH
				     {0, 0, 0, 0, 0, 0},
				     {0xa1, 0xb2, 0xc3, 0xd4}}),
			     zeros(8)});
	EXPECT_EQ(hex(*reply), hex(want));
	EXPECT_LE(reply->size(), b.size());
}

// --- Encoding errors ---

TEST(CmdmonRequest, EncodeRefusesWhatChronydWouldNotRead)
{
	EXPECT_FALSE(encode_request({.command = Command::Local}).has_value());
	EXPECT_FALSE(encode_request({.command = static_cast<Command>(200)}).has_value());
	// SOURCE_DATA takes an index, not an address.
	auto wrong = encode_request({.command = Command::SourceData, .args = AddressArgs{}});
	ASSERT_FALSE(wrong.has_value());
	EXPECT_EQ(wrong.error().code, make_error_code(Errc::InvalidArgument));
	EXPECT_FALSE(
		encode_request({.command = Command::Tracking, .args = IndexArgs{}}).has_value());
	EXPECT_FALSE(encode_request({.command = Command::AddSource,
				     .args = AddSourceArgs{.name = std::string(256, 'a')}})
			     .has_value());
	EXPECT_TRUE(encode_request({.command = Command::AddSource,
				    .args = AddSourceArgs{.name = std::string(255, 'a')}})
			    .has_value());
	EXPECT_FALSE(encode_request({.command = Command::AddSource,
				     .args = AddSourceArgs{.name = std::string("a\0b", 3)}})
			     .has_value());
}

TEST(CmdmonRequest, ArgsOfNamesTheVariantAlternative)
{
	EXPECT_EQ(args_of(Command::Tracking), RequestArgs(NoArgs{}).index());
	EXPECT_EQ(args_of(Command::SourceData), RequestArgs(IndexArgs{}).index());
	EXPECT_EQ(args_of(Command::NtpData), RequestArgs(AddressArgs{}).index());
	EXPECT_EQ(args_of(Command::AddSource), RequestArgs(AddSourceArgs{}).index());
	EXPECT_EQ(args_of(Command::ClientAccessesByIndex3),
		  RequestArgs(ClientAccessesArgs{}).index());
}

// --- Policy ---

TEST(CmdmonPolicy, OverTheNetworkOnlyChronydsOpenReports)
{
	std::set<Command> open = {Command::Null,        Command::Logon,      Command::NSources,
				  Command::SourceData,  Command::Tracking,   Command::SourceStats,
				  Command::RtcReport,   Command::ManualList, Command::Activity,
				  Command::Smoothing,   Command::NtpSourceName};
	for (uint16_t code = 0; code < kCommandCount + 2; code++) {
		auto command = static_cast<Command>(code);
		EXPECT_EQ(is_permitted(command, Transport::Network), open.count(command) == 1)
			<< command_name(code);
		EXPECT_TRUE(is_permitted(command, Transport::Unix)) << command_name(code);
	}
}

TEST(CmdmonPolicy, ReadOnlyCommandsChangeNothing)
{
	auto name = [](Command c) { return command_name(static_cast<uint16_t>(c)); };
	for (Command c : {Command::Null, Command::Tracking, Command::NSources, Command::SourceData,
			  Command::SourceStats, Command::RtcReport, Command::Activity,
			  Command::Smoothing, Command::ServerStats, Command::NtpData,
			  Command::SelectData, Command::AuthData, Command::NtpSourceName,
			  Command::ManualList, Command::AcCheck}) {
		EXPECT_TRUE(is_read_only({.command = c})) << name(c);
	}
	for (Command c : {Command::MakeStep, Command::Shutdown, Command::Burst, Command::AddSource,
			  Command::DelSource, Command::Dump, Command::WriteRtc, Command::Settime,
			  Command::Local2, Command::Allow, Command::CycleLogs,
			  Command::ReloadSources, Command::Local, static_cast<Command>(500)}) {
		EXPECT_FALSE(is_read_only({.command = c})) << name(c);
	}
	EXPECT_TRUE(is_read_only({.command = Command::ClientAccessesByIndex3,
				  .args = ClientAccessesArgs{.n_clients = 8}}));
	EXPECT_FALSE(is_read_only({.command = Command::ClientAccessesByIndex3,
				   .args = ClientAccessesArgs{.n_clients = 8, .reset = true}}));
}

TEST(CmdmonPolicy, NamesAndStatusLinesAsChronycPrintsThem)
{
	EXPECT_EQ(command_name(33), "TRACKING");
	EXPECT_EQ(command_name(68), "CLIENT_ACCESSES_BY_INDEX3");
	EXPECT_EQ(command_name(72), "unknown");
	EXPECT_EQ(status_text(Status::Success), "200 OK");
	EXPECT_EQ(status_text(Status::Unauth), "501 Not authorised");
	EXPECT_EQ(status_text(Status::BadPktVersion), "517 Protocol version mismatch");
	EXPECT_EQ(status_text(Status::BadPktLength), "518 Packet length mismatch");
	EXPECT_EQ(status_text(static_cast<Status>(20)), "520 Got unexpected error from daemon");
}

} // namespace
} // namespace strata::control
