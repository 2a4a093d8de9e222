// The SOCK datagram parser, on hand-built struct sock_sample messages: what
// gpsd sends, the wrong sizes and magic numbers a mismatched writer sends,
// leap indicators, pulses, and offsets that cannot be right.
#include "refclock/sock.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace strata::refclock {
namespace {

/// gpsd's message for a PPS-disciplined fix: system time
/// 1700000000.123456, the true time 0.25 s ahead of it.
SockSample gpsd_sample()
{
	SockSample s{};
	s.tv_sec = 1'700'000'000;
	s.tv_usec = 123'456;
	s.offset = 0.25;
	s.pulse = 0;
	s.leap = 0;
	s.pad = 0;
	s.magic = kSockMagic;
	return s;
}

std::vector<std::byte> bytes_of(const SockSample &s)
{
	std::vector<std::byte> b(sizeof s);
	std::memcpy(b.data(), &s, sizeof s);
	return b;
}

std::optional<RawSample> parse(const SockSample &s, SockReject &why, std::string *detail = nullptr)
{
	auto b = bytes_of(s);
	return parse_sock(b, why, detail);
}

TEST(SockParser, GpsdSample)
{
	SockReject why = SockReject::WrongSize;
	auto s = parse(gpsd_sample(), why);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(why, SockReject::None);
	EXPECT_EQ(s->local, RealTime::from_parts(1'700'000'000, 123'456'000));
	EXPECT_EQ(s->reference, RealTime::from_parts(1'700'000'000, 373'456'000));
	EXPECT_DOUBLE_EQ(s->offset_s(), 0.25);
	EXPECT_EQ(s->leap, Leap::None);
	EXPECT_FALSE(s->pulse);
	EXPECT_FALSE(s->precision_s.has_value());
}

TEST(SockParser, OffsetKeepsItsNanoseconds)
{
	// The offset is where SOCK carries sub-microsecond resolution.
	SockSample m = gpsd_sample();
	m.offset = -0.000000789;
	SockReject why{};
	auto s = parse(m, why);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->reference - s->local, Duration(-789));
	// A receiver whose clock is a day behind the system clock's idea.
	m.offset = -86400.5;
	s = parse(m, why);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->reference, RealTime::from_parts(1'699'913'599, 623'456'000));
}

// The message written out byte by byte as on 64-bit Linux, independently
// of the SockSample struct: timeval (8 + 8), double, pulse, leap, _pad, magic.
TEST(SockParser, HandBuiltLp64Datagram)
{
	if (sizeof(long) != 8 || sizeof(std::time_t) != 8) {
		GTEST_SKIP() << "the hand-built datagram is the LP64 layout";
	}
	std::vector<std::byte> d(40);
	auto put32 = [&](size_t at, int32_t v) { std::memcpy(&d[at], &v, 4); };
	auto put64 = [&](size_t at, int64_t v) { std::memcpy(&d[at], &v, 8); };
	put64(0, 1'800'000'000);  // tv.tv_sec
	put64(8, 999'999);        // tv.tv_usec
	double offset = -0.5;
	std::memcpy(&d[16], &offset, 8);
	put32(24, 0);  // pulse
	put32(28, 1);  // leap: insert
	put32(32, 0x5a5a5a5a);  // _pad: ignored
	put32(36, 0x534f434b);  // magic
	SockReject why{};
	auto s = parse_sock(d, why);
	ASSERT_TRUE(s.has_value()) << to_string(why);
	EXPECT_EQ(s->local, RealTime::from_parts(1'800'000'000, 999'999'000));
	EXPECT_EQ(s->reference, RealTime::from_parts(1'800'000'000, 499'999'000));
	EXPECT_EQ(s->leap, Leap::Insert);
	EXPECT_EQ(kSockSampleSize, 40u);
	// The magic is "SOCK" in the sender's byte order; swapped is not it.
	put32(36, 0x4b434f53);
	EXPECT_FALSE(parse_sock(d, why).has_value());
	EXPECT_EQ(why, SockReject::BadMagic);
}

TEST(SockParser, WrongSizeIsRejected)
{
	auto b = bytes_of(gpsd_sample());
	SockReject why{};
	std::string detail;
	EXPECT_FALSE(parse_sock(std::span(b).first(b.size() - 1), why, &detail).has_value());
	EXPECT_EQ(why, SockReject::WrongSize);
	EXPECT_EQ(detail, fmt::format("{} bytes, expected {}", b.size() - 1, kSockSampleSize));
	b.push_back(std::byte{0});
	b.push_back(std::byte{0});
	EXPECT_FALSE(parse_sock(b, why).has_value());
	EXPECT_EQ(why, SockReject::WrongSize);
	EXPECT_FALSE(parse_sock({}, why).has_value());
	EXPECT_EQ(why, SockReject::WrongSize);
}

TEST(SockParser, BadMagicIsRejected)
{
	SockSample m = gpsd_sample();
	m.magic = 0;
	SockReject why{};
	std::string detail;
	EXPECT_FALSE(parse(m, why, &detail).has_value());
	EXPECT_EQ(why, SockReject::BadMagic);
	EXPECT_EQ(detail, "0x0, expected 0x534f434b");
}

TEST(SockParser, LeapIndicator)
{
	SockSample m = gpsd_sample();
	SockReject why{};
	m.leap = 1;
	EXPECT_EQ(parse(m, why)->leap, Leap::Insert);
	m.leap = 2;
	EXPECT_EQ(parse(m, why)->leap, Leap::Delete);
	for (int leap : {3, 4, -1, 0x7fffffff}) {
		m.leap = leap;
		std::string detail;
		EXPECT_FALSE(parse(m, why, &detail).has_value()) << leap;
		EXPECT_EQ(why, SockReject::BadLeap);
		EXPECT_EQ(detail, "leap " + std::to_string(leap));
	}
}

TEST(SockParser, PulseCarriesNoLeap)
{
	SockSample m = gpsd_sample();
	m.pulse = 1;
	m.leap = 7;  // meaningless in a pulse, and ignored as chronyd ignores it
	m.offset = -0.000002;
	SockReject why{};
	auto s = parse(m, why);
	ASSERT_TRUE(s.has_value());
	EXPECT_TRUE(s->pulse);
	EXPECT_EQ(s->leap, Leap::None);
	EXPECT_EQ(s->reference - s->local, Duration(-2000));
	m.pulse = -1;  // any non-zero value
	EXPECT_TRUE(parse(m, why)->pulse);
}

TEST(SockParser, TimevalIsNormalisedOrRejected)
{
	SockSample m = gpsd_sample();
	SockReject why{};
	m.tv_usec = 1'500'000;
	auto s = parse(m, why);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->local, RealTime::from_parts(1'700'000'001, 500'000'000));
	m.tv_usec = -1;
	s = parse(m, why);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->local, RealTime::from_parts(1'699'999'999, 999'999'000));

	m = gpsd_sample();
	m.tv_sec = -1;
	std::string detail;
	EXPECT_FALSE(parse(m, why, &detail).has_value());
	EXPECT_EQ(why, SockReject::BadTime);
	EXPECT_EQ(detail, "tv -1.123456");
	m.tv_sec = std::numeric_limits<std::time_t>::max();
	EXPECT_FALSE(parse(m, why).has_value());
	EXPECT_EQ(why, SockReject::BadTime);
	m = gpsd_sample();
	m.tv_usec = std::numeric_limits<long>::min();
	EXPECT_FALSE(parse(m, why).has_value());
	EXPECT_EQ(why, SockReject::BadTime);
}

TEST(SockParser, ImpossibleOffsetsAreRejected)
{
	SockReject why{};
	constexpr double kInf = std::numeric_limits<double>::infinity();
	for (double offset :
	     {std::nan(""), kInf, -kInf, kSockMaxOffset_s, -kSockMaxOffset_s, 1e300}) {
		SockSample m = gpsd_sample();
		m.offset = offset;
		EXPECT_FALSE(parse(m, why).has_value()) << offset;
		EXPECT_EQ(why, SockReject::BadOffset) << offset;
	}
	// A true time before 1970.
	SockSample m = gpsd_sample();
	m.tv_sec = 100;
	m.offset = -200;
	EXPECT_FALSE(parse(m, why).has_value());
	EXPECT_EQ(why, SockReject::BadOffset);
	// Or past the end of the range, from a time near it.
	m.tv_sec = static_cast<std::time_t>(kMaxSampleSeconds - 10);
	m.offset = 20;
	EXPECT_FALSE(parse(m, why).has_value());
	EXPECT_EQ(why, SockReject::BadOffset);
	// The largest offset allowed, far from both ends, is a sample.
	m = gpsd_sample();
	m.tv_sec = 5'000'000'000;
	m.offset = -(kSockMaxOffset_s - 1);
	EXPECT_TRUE(parse(m, why).has_value());
}

} // namespace
} // namespace strata::refclock
