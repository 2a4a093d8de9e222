#include "ntp/packet.h"

#include <array>
#include <vector>

#include <gtest/gtest.h>

namespace strata::ntp {
namespace {

std::vector<std::byte> bytes(std::initializer_list<int> values)
{
	std::vector<std::byte> out;
	for (int v : values) {
		out.push_back(static_cast<std::byte>(v));
	}
	return out;
}

RealTime utc(int64_t unix_seconds, int64_t ns = 0)
{
	return RealTime::from_parts(unix_seconds, ns);
}

constexpr int64_t kEra1Start = 2'085'978'496;  // 2036-02-07T06:28:16Z, NTP seconds wrap to 0
constexpr int64_t k2038 = 2'147'483'648;       // 2038-01-19T03:14:08Z, 32-bit time_t wraps

TEST(NtpTimestamp, UnixEpochIsNtpSeconds2208988800)
{
	auto ts = to_ntp(utc(0));
	EXPECT_EQ(ts.seconds, 2'208'988'800u);
	EXPECT_EQ(ts.fraction, 0u);
	EXPECT_EQ(from_ntp(ts, utc(0)), utc(0));
}

TEST(NtpTimestamp, HalfSecondIsFractionTwoToThe31)
{
	EXPECT_EQ(to_ntp(utc(1, 500'000'000)).fraction, 0x80000000u);
}

TEST(NtpTimestamp, FractionRoundTripsWithinOneNanosecond)
{
	for (int64_t ns : {0L, 1L, 2L, 499'999'999L, 500'000'000L, 999'999'999L, 123'456'789L}) {
		RealTime t = utc(1'700'000'000, ns);
		RealTime back = from_ntp(to_ntp(t), t);
		EXPECT_LE(std::abs((back - t).count()), 1) << ns;
	}
}

TEST(NtpTimestamp, LastNanosecondStaysInItsSecond)
{
	auto ts = to_ntp(utc(10, 999'999'999));
	EXPECT_EQ(ts.seconds, 2'208'988'810u);
	EXPECT_EQ(ts.fraction, 0xfffffffcu);  // 0.999999999 * 2^32, rounded
}

TEST(NtpTimestamp, Era1BeginsIn2036AndIsResolvedFromEitherSide)
{
	auto last_of_era0 = to_ntp(utc(kEra1Start - 1));
	auto first_of_era1 = to_ntp(utc(kEra1Start));
	EXPECT_EQ(last_of_era0.seconds, 0xffffffffu);
	EXPECT_EQ(first_of_era1.seconds, 0u);
	for (RealTime pivot : {utc(kEra1Start - 1000), utc(kEra1Start), utc(kEra1Start + 1000)}) {
		EXPECT_EQ(from_ntp(last_of_era0, pivot), utc(kEra1Start - 1));
		EXPECT_EQ(from_ntp(first_of_era1, pivot), utc(kEra1Start));
	}
}

TEST(NtpTimestamp, Year2038IsAnOrdinaryDate)
{
	for (int64_t t : {k2038 - 1, k2038, k2038 + 1}) {
		EXPECT_EQ(from_ntp(to_ntp(utc(t, 250'000'000)), utc(k2038)), utc(t, 250'000'000));
	}
}

TEST(NtpTimestamp, ReceivedTimestampsAreReadInTheWindowFromTheEraSplit)
{
	// Whatever the local clock says: the window is 1976-01-01 to 2112.
	EXPECT_EQ(kNtpEraSplit, 189'302'400);
	const int64_t kWindowEnd = kNtpEraSplit + (int64_t{1} << 32);
	for (int64_t t : {kNtpEraSplit, kNtpEraSplit + 1, int64_t{1'800'000'000}, kEra1Start - 1, kEra1Start,
			  int64_t{2'147'483'648}, kWindowEnd - 1}) {
		EXPECT_EQ(from_ntp(to_ntp(utc(t, 123'000'000))), utc(t, 123'000'000)) << t;
	}
	// Before the split: read 136 years later (chronyd's rule; its test
	// 008-ntpera expects no synchronisation there), and at the window's
	// end, 136 years earlier.
	EXPECT_EQ(from_ntp(to_ntp(utc(kNtpEraSplit - 1))), utc(kWindowEnd - 1));
	EXPECT_EQ(from_ntp(to_ntp(utc(kWindowEnd))), utc(kNtpEraSplit));
}

TEST(NtpTimestamp, EraIsTheOneNearestThePivot)
{
	// 68 years either side of the pivot map back; a 1970 pivot reads a 2036+
	// timestamp as 2036+, not as 1900.
	EXPECT_EQ(from_ntp(to_ntp(utc(kEra1Start + 5)), utc(68L * 365 * 86400)),
		  utc(kEra1Start + 5));
	EXPECT_EQ(from_ntp(to_ntp(utc(1'000'000'000)), utc(kEra1Start + 86400)),
		  utc(1'000'000'000));
}

TEST(NtpShortFormat, ConvertsAndSaturates)
{
	EXPECT_EQ(to_short(1.5), 0x00018000u);
	EXPECT_EQ(to_short(-1.0), 0u);
	EXPECT_EQ(to_short(1e9), 0xffffffffu);
	// Above 2^31 units (32768 s), past what a 32-bit long holds (armhf).
	EXPECT_EQ(to_short(40000.25), 0x9c404000u);
	EXPECT_EQ(to_short(65535.5), 0xffff8000u);
	EXPECT_DOUBLE_EQ(from_short(0x00018000u), 1.5);
}

// A client request as ntpdig sends it: LI 0, VN 4, mode 3, poll 6,
// precision -20, transmit 0xE8F4A5B6.12345678.
const std::vector<std::byte> kClientRequest = bytes({
	0x23, 0x00, 0x06, 0xec, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0xe8, 0xf4, 0xa5, 0xb6, 0x12, 0x34, 0x56, 0x78,
});

TEST(NtpPacket, ParsesAClientRequest)
{
	auto p = parse(kClientRequest);
	ASSERT_TRUE(p.has_value()) << p.error().message();
	EXPECT_EQ(p->header.leap, Leap::None);
	EXPECT_EQ(p->header.version, 4);
	EXPECT_EQ(p->header.mode, Mode::Client);
	EXPECT_EQ(p->header.poll, 6);
	EXPECT_EQ(p->header.precision, -20);
	EXPECT_EQ(p->header.transmit, (NtpTimestamp{0xe8f4a5b6, 0x12345678}));
	EXPECT_EQ(p->extension_fields, 0u);
	EXPECT_FALSE(p->has_mac);
}

TEST(NtpPacket, SerializeWritesTheSameBytes)
{
	auto p = parse(kClientRequest);
	ASSERT_TRUE(p.has_value());
	std::array<std::byte, kHeaderSize> out{};
	serialize(p->header, out);
	EXPECT_TRUE(std::equal(out.begin(), out.end(), kClientRequest.begin()));
}

TEST(NtpPacket, AServerReplyRoundTrips)
{
	Header h{.leap = Leap::Insert, .version = 3, .mode = Mode::Server, .stratum = 2, .poll = -3,
		 .precision = -24,
		 .root_delay = 0x00012345, .root_dispersion = 0x0000abcd, .ref_id = 0xc0000201,
		 .reference = {1, 2}, .origin = {3, 4}, .receive = {5, 6}, .transmit = {7, 8}};
	std::array<std::byte, kHeaderSize> out{};
	serialize(h, out);
	EXPECT_EQ(std::to_integer<int>(out[0]), 0x5c);  // LI 1, VN 3, mode 4
	auto back = parse(out);
	ASSERT_TRUE(back.has_value());
	EXPECT_EQ(back->header, h);
}

// A server reply with every field non-zero, encoded by hand from the RFC 5905
// §7.3 layout: LI 0, VN 4, mode 4 (0x24); stratum 1; poll 10; precision -23
// (0xe9); root delay 0x0001.0010 (short format); root dispersion 0x0000.0020;
// refid "GPS\0"; reference 0xe8f4a5b0.0, origin 0xe8f4a5b6.12345678, receive
// 0xe8f4a5b6.80000000, transmit 0xe8f4a5b6.80010000.
const std::vector<std::byte> kServerReply = bytes({
	0x24, 0x01, 0x0a, 0xe9, 0x00, 0x01, 0x00, 0x10,  // LI VN mode, stratum, poll, prec., delay
	0x00, 0x00, 0x00, 0x20, 0x47, 0x50, 0x53, 0x00,  // root dispersion, reference id
	0xe8, 0xf4, 0xa5, 0xb0, 0x00, 0x00, 0x00, 0x00,  // reference timestamp
	0xe8, 0xf4, 0xa5, 0xb6, 0x12, 0x34, 0x56, 0x78,  // origin timestamp
	0xe8, 0xf4, 0xa5, 0xb6, 0x80, 0x00, 0x00, 0x00,  // receive timestamp
	0xe8, 0xf4, 0xa5, 0xb6, 0x80, 0x01, 0x00, 0x00,  // transmit timestamp
});

TEST(NtpPacket, GoldenServerReplyParsesAndSerializesByteForByte)
{
	const Header expected{.leap = Leap::None, .version = 4, .mode = Mode::Server, .stratum = 1,
			      .poll = 10, .precision = -23, .root_delay = 0x00010010,
			      .root_dispersion = 0x00000020, .ref_id = 0x47505300,
			      .reference = {0xe8f4a5b0, 0}, .origin = {0xe8f4a5b6, 0x12345678},
			      .receive = {0xe8f4a5b6, 0x80000000},
			      .transmit = {0xe8f4a5b6, 0x80010000}};
	auto p = parse(kServerReply);
	ASSERT_TRUE(p.has_value()) << p.error().message();
	EXPECT_EQ(p->header, expected);
	EXPECT_DOUBLE_EQ(from_short(p->header.root_delay), 1.0 + 16.0 / 65536.0);
	// 0xe8f4a5b6 = 3908347318 NTP seconds = 1699358518 Unix seconds (2023-11-07).
	EXPECT_EQ(from_ntp(p->header.receive, utc(1'699'358'518)), utc(1'699'358'518, 500'000'000));
	std::array<std::byte, kHeaderSize> out{};
	serialize(expected, out);
	EXPECT_TRUE(std::equal(out.begin(), out.end(), kServerReply.begin()));
}

std::vector<std::byte> with_trailer(std::vector<std::byte> packet, std::vector<std::byte> trailer)
{
	packet.insert(packet.end(), trailer.begin(), trailer.end());
	return packet;
}

std::vector<std::byte> extension(uint16_t type, uint16_t length)
{
	std::vector<std::byte> ef(length);
	ef[0] = static_cast<std::byte>(type >> 8);
	ef[1] = static_cast<std::byte>(type);
	ef[2] = static_cast<std::byte>(length >> 8);
	ef[3] = static_cast<std::byte>(length);
	return ef;
}

TEST(NtpPacket, ExtensionFieldsThenAMacAreWalked)
{
	auto mac = std::vector<std::byte>(24);
	mac[3] = std::byte{7};  // key id 7, 20-byte digest
	auto fields = with_trailer(with_trailer(kClientRequest, extension(0x0104, 16)),
				   extension(0x0204, 28));
	auto p = parse(with_trailer(fields, mac));
	ASSERT_TRUE(p.has_value()) << p.error().message();
	EXPECT_EQ(p->extension_fields, 2u);
	EXPECT_TRUE(p->has_mac);
	EXPECT_EQ(p->key_id, 7u);
	EXPECT_EQ(p->mac_offset, 48u + 16 + 28);
	EXPECT_EQ(p->mac_length, 20u);
}

TEST(NtpPacket, MacOnlyAndCryptoNak)
{
	auto p = parse(with_trailer(kClientRequest, std::vector<std::byte>(20)));
	ASSERT_TRUE(p.has_value());
	EXPECT_TRUE(p->has_mac);
	auto nak = parse(with_trailer(kClientRequest, std::vector<std::byte>(4)));
	ASSERT_TRUE(nak.has_value());
	EXPECT_TRUE(nak->crypto_nak);
}

TEST(NtpPacket, MalformedPacketsAreRejected)
{
	EXPECT_FALSE(parse(std::vector<std::byte>(47)).has_value());
	auto v0 = kClientRequest;
	v0[0] = std::byte{0x03};  // version 0
	EXPECT_FALSE(parse(v0).has_value());
	auto v5 = kClientRequest;
	v5[0] = std::byte{0x2b};  // version 5
	EXPECT_FALSE(parse(v5).has_value());
	EXPECT_FALSE(parse(with_trailer(kClientRequest, std::vector<std::byte>(7))).has_value());
	// Extension field length not a multiple of 4, then below the 16-byte minimum.
	EXPECT_FALSE(parse(with_trailer(kClientRequest, extension(1, 18))).has_value());
	EXPECT_FALSE(parse(with_trailer(kClientRequest, extension(1, 12))).has_value());
	auto overflowing = extension(1, 64);
	overflowing.resize(32);
	EXPECT_FALSE(parse(with_trailer(kClientRequest, overflowing)).has_value());  // past end
	auto nak = std::vector<std::byte>(4);
	nak[3] = std::byte{1};
	EXPECT_FALSE(parse(with_trailer(kClientRequest, nak)).has_value());  // NAK, key id not 0
	auto v3 = kClientRequest;
	v3[0] = std::byte{0x1b};
	// Before NTPv4 there are no extension fields, only a MAC or a crypto-NAK
	// (ntpd answers NTPv3 requests with one too). The MAC may be a whole
	// SHA-2 digest, up to 64 bytes after the key id.
	EXPECT_FALSE(parse(with_trailer(v3, extension(1, 72))).has_value());
	auto v3_nak = parse(with_trailer(v3, std::vector<std::byte>(4)));
	ASSERT_TRUE(v3_nak.has_value());
	EXPECT_TRUE(v3_nak->crypto_nak);
	EXPECT_FALSE(parse(with_trailer(v3, nak)).has_value());  // key id not 0
	EXPECT_FALSE(parse(with_trailer(v3, std::vector<std::byte>(16))).has_value());
	EXPECT_FALSE(parse(with_trailer(v3, std::vector<std::byte>(22))).has_value());
	EXPECT_TRUE(parse(with_trailer(v3, std::vector<std::byte>(20))).has_value());
	auto sha512 = parse(with_trailer(v3, std::vector<std::byte>(68)));
	ASSERT_TRUE(sha512.has_value());
	EXPECT_EQ(sha512->mac_offset, 48u);
	EXPECT_EQ(sha512->mac_length, 64u);
	// In NTPv4 a 36-byte trailer is no MAC (chronyd truncates them to 20).
	EXPECT_FALSE(parse(with_trailer(kClientRequest, std::vector<std::byte>(36))).has_value());
}

} // namespace
} // namespace strata::ntp
