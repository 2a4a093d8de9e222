// The SOCK datagram parser, on hand-built struct sock_sample messages: what
// gpsd sends, the wrong sizes and magic numbers a mismatched writer sends,
// leap indicators, pulses, and offsets that cannot be right. Every parser test
// runs on both layouts (a sender with a 64-bit and with a 32-bit time_t), and
// each layout is also written out byte by byte.
#include "refclock/sock.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/fakes/le_bytes.h"

namespace strata::refclock {
namespace {

/// gpsd's message for a PPS-disciplined fix: system time
/// 1700000000.123456, the true time 0.25 s ahead of it.
template <class T>
T gpsd_sample()
{
	T s{};
	s.tv_sec = 1'700'000'000;
	s.tv_usec = 123'456;
	s.offset = 0.25;
	s.pulse = 0;
	s.leap = 0;
	s.pad = 0;
	s.magic = kSockMagic;
	return s;
}

template <class T>
std::vector<std::byte> bytes_of(const T &s)
{
	std::vector<std::byte> b(sizeof s);
	std::memcpy(b.data(), &s, sizeof s);
	return b;
}

template <class T>
std::optional<RawSample> parse(const T &s, SockReject &why, std::string *detail = nullptr)
{
	auto b = bytes_of(s);
	return parse_sock(b, why, detail);
}

template <class T>
class SockParser : public ::testing::Test {};
using Layouts = ::testing::Types<SockSample64, SockSample32>;
class LayoutNames {
public:
	template <class T>
	static std::string GetName(int)
	{
		return sizeof(T) == kSockSample64Size ? "Time64" : "Time32";
	}
};
TYPED_TEST_SUITE(SockParser, Layouts, LayoutNames);

TYPED_TEST(SockParser, GpsdSample)
{
	SockReject why = SockReject::WrongSize;
	auto s = parse(gpsd_sample<TypeParam>(), why);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(why, SockReject::None);
	EXPECT_EQ(s->local, RealTime::from_parts(1'700'000'000, 123'456'000));
	EXPECT_EQ(s->reference, RealTime::from_parts(1'700'000'000, 373'456'000));
	EXPECT_DOUBLE_EQ(s->offset_s(), 0.25);
	EXPECT_EQ(s->leap, Leap::None);
	EXPECT_FALSE(s->pulse);
	EXPECT_FALSE(s->precision_s.has_value());
}

TYPED_TEST(SockParser, OffsetKeepsItsNanoseconds)
{
	// The offset is where SOCK carries sub-microsecond resolution.
	TypeParam m = gpsd_sample<TypeParam>();
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

// The messages written out byte by byte as the senders lay them out
// (little-endian), independently of the SockSample64/SockSample32 structs.
using Datagram = test::LeBytes;

void expect_the_written_sample(std::vector<std::byte> d)
{
	SockReject why{};
	auto s = parse_sock(d, why);
	ASSERT_TRUE(s.has_value()) << to_string(why);
	EXPECT_EQ(s->local, RealTime::from_parts(1'800'000'000, 999'999'000));
	EXPECT_EQ(s->reference, RealTime::from_parts(1'800'000'000, 499'999'000));
	EXPECT_EQ(s->leap, Leap::Insert);
	// The magic is "SOCK" in the sender's byte order; swapped is not it.
	std::reverse(d.end() - 4, d.end());
	EXPECT_FALSE(parse_sock(d, why).has_value());
	EXPECT_EQ(why, SockReject::BadMagic);
}

// gpsd on x86-64 and arm64 (and a 64-bit-time_t armhf): timeval (8 + 8),
// double, pulse, leap, _pad, magic.
TEST(SockLayouts, HandBuiltTime64Datagram)
{
	Datagram d(40);
	d.put64(0, 1'800'000'000);  // tv.tv_sec
	d.put64(8, 999'999);        // tv.tv_usec
	d.put_double(16, -0.5);     // offset
	d.put32(24, 0);             // pulse
	d.put32(28, 1);             // leap: insert
	d.put32(32, 0x5a5a5a5a);    // _pad: ignored
	d.put32(36, 0x534f434b);    // magic
	expect_the_written_sample(d.bytes);
}

// gpsd on Debian 12 armhf: timeval (4 + 4), then the same.
TEST(SockLayouts, HandBuiltTime32DatagramOfDebian12ArmhfGpsd)
{
	Datagram d(32);
	d.put32(0, 1'800'000'000);  // tv.tv_sec
	d.put32(4, 999'999);        // tv.tv_usec
	d.put_double(8, -0.5);      // offset
	d.put32(16, 0);             // pulse
	d.put32(20, 1);             // leap: insert
	d.put32(24, 0x5a5a5a5a);    // _pad: ignored
	d.put32(28, 0x534f434b);    // magic
	expect_the_written_sample(d.bytes);
}

TYPED_TEST(SockParser, WrongSizeIsRejected)
{
	auto b = bytes_of(gpsd_sample<TypeParam>());
	SockReject why{};
	std::string detail;
	EXPECT_FALSE(parse_sock(std::span(b).first(b.size() - 1), why, &detail).has_value());
	EXPECT_EQ(why, SockReject::WrongSize);
	EXPECT_EQ(detail, fmt::format("{} bytes, expected 40 or 32", b.size() - 1));
	b.push_back(std::byte{0});
	b.push_back(std::byte{0});
	EXPECT_FALSE(parse_sock(b, why).has_value());
	EXPECT_EQ(why, SockReject::WrongSize);
	EXPECT_FALSE(parse_sock({}, why).has_value());
	EXPECT_EQ(why, SockReject::WrongSize);
}

TYPED_TEST(SockParser, BadMagicIsRejected)
{
	TypeParam m = gpsd_sample<TypeParam>();
	m.magic = 0;
	SockReject why{};
	std::string detail;
	EXPECT_FALSE(parse(m, why, &detail).has_value());
	EXPECT_EQ(why, SockReject::BadMagic);
	EXPECT_EQ(detail, "0x0, expected 0x534f434b");
}

TYPED_TEST(SockParser, LeapIndicator)
{
	TypeParam m = gpsd_sample<TypeParam>();
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

TYPED_TEST(SockParser, PulseCarriesNoLeap)
{
	TypeParam m = gpsd_sample<TypeParam>();
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

TYPED_TEST(SockParser, TimevalIsNormalisedOrRejected)
{
	TypeParam m = gpsd_sample<TypeParam>();
	SockReject why{};
	m.tv_usec = 1'500'000;
	auto s = parse(m, why);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->local, RealTime::from_parts(1'700'000'001, 500'000'000));
	m.tv_usec = -1;
	s = parse(m, why);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->local, RealTime::from_parts(1'699'999'999, 999'999'000));

	m = gpsd_sample<TypeParam>();
	m.tv_sec = -1;
	std::string detail;
	EXPECT_FALSE(parse(m, why, &detail).has_value());
	EXPECT_EQ(why, SockReject::BadTime);
	EXPECT_EQ(detail, "tv -1.123456");
	if constexpr (sizeof(m.tv_sec) == 8) {
		m.tv_sec = std::numeric_limits<decltype(m.tv_sec)>::max();
		EXPECT_FALSE(parse(m, why).has_value());
		EXPECT_EQ(why, SockReject::BadTime);
	} else {
		// A 32-bit sender's last second, and its time_t wrapped to 1901.
		m.tv_sec = std::numeric_limits<decltype(m.tv_sec)>::max();
		ASSERT_TRUE(parse(m, why).has_value());
		EXPECT_EQ(parse(m, why)->local, RealTime::from_parts(2'147'483'647, 123'456'000));
		m.tv_sec = std::numeric_limits<decltype(m.tv_sec)>::min();
		EXPECT_FALSE(parse(m, why).has_value());
		EXPECT_EQ(why, SockReject::BadTime);
	}
	m = gpsd_sample<TypeParam>();
	m.tv_usec = std::numeric_limits<decltype(m.tv_usec)>::min();
	if constexpr (sizeof(m.tv_usec) == 8) {
		EXPECT_FALSE(parse(m, why).has_value());
		EXPECT_EQ(why, SockReject::BadTime);
	} else {
		// −2147.483648 s: carried into the seconds like any other.
		ASSERT_TRUE(parse(m, why).has_value());
		EXPECT_EQ(parse(m, why)->local, RealTime::from_parts(1'699'997'852, 516'352'000));
	}
}

TYPED_TEST(SockParser, ImpossibleOffsetsAreRejected)
{
	SockReject why{};
	constexpr double kInf = std::numeric_limits<double>::infinity();
	for (double offset :
	     {std::nan(""), kInf, -kInf, kSockMaxOffset_s, -kSockMaxOffset_s, 1e300}) {
		TypeParam m = gpsd_sample<TypeParam>();
		m.offset = offset;
		EXPECT_FALSE(parse(m, why).has_value()) << offset;
		EXPECT_EQ(why, SockReject::BadOffset) << offset;
	}
	// A true time before 1970.
	TypeParam m = gpsd_sample<TypeParam>();
	m.tv_sec = 100;
	m.offset = -200;
	EXPECT_FALSE(parse(m, why).has_value());
	EXPECT_EQ(why, SockReject::BadOffset);
	if constexpr (sizeof(m.tv_sec) == 8) {
		// Or past the end of the range, from a time near it.
		m.tv_sec = kMaxSampleSeconds - 10;
		m.offset = 20;
		EXPECT_FALSE(parse(m, why).has_value());
		EXPECT_EQ(why, SockReject::BadOffset);
		// The largest offset allowed, far from both ends, is a sample.
		m = gpsd_sample<TypeParam>();
		m.tv_sec = 5'000'000'000;
		m.offset = -(kSockMaxOffset_s - 1);
		EXPECT_TRUE(parse(m, why).has_value());
	} else {
		// A 32-bit sender's offset reaches past 2038 (the true time is
		// not its time_t), up to the same limit.
		m = gpsd_sample<TypeParam>();
		m.tv_sec = 2'000'000'000;
		m.offset = kSockMaxOffset_s - 1;
		auto s = parse(m, why);
		ASSERT_TRUE(s.has_value());
		EXPECT_EQ(s->reference.seconds(), 2'000'000'000 + 4'294'967'295);
	}
}

} // namespace
} // namespace strata::refclock
