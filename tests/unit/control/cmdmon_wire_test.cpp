// The cmdmon building blocks: chrony's Float, timespecs and addresses, each
// against octets worked out by hand from the format's definition.
#include "control/cmdmon.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "cmdmon_test_util.h"

namespace strata::control {
namespace {

using testing::Bytes;
using testing::hex;
using testing::octets;

// --- Float: c · 2^(e − 25), e in the top 7 bits, c in the low 25 ---

TEST(CmdmonFloat, OneIsCoefficientTwoTo23WithExponent2)
{
	// 1.0 = 2^23 · 2^(2 − 25): e = 2 → 0x04000000, c = 0x800000.
	EXPECT_EQ(encode_float(1.0), 0x04800000u);
	EXPECT_EQ(decode_float(0x04800000u), 1.0);
}

TEST(CmdmonFloat, MinusHalfUsesTheNegativeOnlyCoefficient)
{
	// −0.5 = −2^24 · 2^(0 − 25): e = 0, c = −2^24 = 0x1000000 in 25 bits.
	// chronyd encodes it the same way.
	EXPECT_EQ(encode_float(-0.5), 0x01000000u);
	EXPECT_EQ(decode_float(0x01000000u), -0.5);
	// The normalised spelling (−2^23 · 2^(1 − 25)) reads the same.
	EXPECT_EQ(decode_float(0x03800000u), -0.5);
}

TEST(CmdmonFloat, OneMicrosecond)
{
	// 1e-6 · 2^43 = 8796093.022…: c = 8796093 = 0x8637bd, e = −18 = 0x6e
	// (7-bit two's complement) → 0xdc000000.
	EXPECT_EQ(encode_float(1e-6), 0xdc8637bdu);
	EXPECT_EQ(decode_float(0xdc8637bdu), 8796093.0 / 8796093022208.0);
	EXPECT_NEAR(decode_float(0xdc8637bdu), 1e-6, 1e-6 * std::ldexp(1.0, -24));
}

TEST(CmdmonFloat, ZeroNegativeZeroAndNanAreZero)
{
	EXPECT_EQ(encode_float(0.0), 0u);
	EXPECT_EQ(encode_float(-0.0), 0u);
	EXPECT_EQ(encode_float(std::numeric_limits<double>::quiet_NaN()), 0u);
	EXPECT_EQ(decode_float(0), 0.0);
}

TEST(CmdmonFloat, NegativeValueSpelledOut)
{
	// −12.25 = −(12.25 · 2^20) · 2^(5 − 25); 12.25 · 2^20 = 0xc40000, and
	// 2^25 − 0xc40000 = 0x13c0000; e = 5 → 0x0a000000.
	EXPECT_EQ(encode_float(-12.25), 0x0b3c0000u);
	EXPECT_EQ(decode_float(0x0b3c0000u), -12.25);
}

TEST(CmdmonFloat, LargeValueKeeps24SignificantBits)
{
	// 1e12 = 0.909… · 2^40: e = 41 = 0x29, c = round(1e12 / 2^16) =
	// round(15258789.0625) = 15258789 = 0xe8d4a5.
	EXPECT_EQ(encode_float(1e12), 0x52e8d4a5u);
	EXPECT_EQ(decode_float(0x52e8d4a5u), 15258789.0 * 65536.0);
}

TEST(CmdmonFloat, SaturatesBeyondTheLargestExponent)
{
	// Largest: (2^24 − 1) · 2^38; most negative: −2^24 · 2^38 = −2^62.
	EXPECT_EQ(encode_float(1e30), 0x7effffffu);
	EXPECT_EQ(encode_float(std::numeric_limits<double>::infinity()), 0x7effffffu);
	EXPECT_EQ(decode_float(0x7effffffu), 16777215.0 * std::ldexp(1.0, 38));
	EXPECT_EQ(encode_float(-1e30), 0x7f000000u);
	EXPECT_EQ(encode_float(-std::numeric_limits<double>::infinity()), 0x7f000000u);
	EXPECT_EQ(decode_float(0x7f000000u), -std::ldexp(1.0, 62));
	// −2^62 itself is exact, not saturated.
	EXPECT_EQ(encode_float(-std::ldexp(1.0, 62)), 0x7f000000u);
}

TEST(CmdmonFloat, TinyValuesLoseBitsThenBecomeZero)
{
	// The smallest step: c = 1 with e = −64 (0x40 → 0x80000000), 2^-89.
	EXPECT_EQ(decode_float(0x80000001u), std::ldexp(1.0, -89));
	EXPECT_EQ(encode_float(std::ldexp(1.0, -89)), 0x80000001u);
	EXPECT_EQ(encode_float(3 * std::ldexp(1.0, -89)), 0x80000003u);
	EXPECT_EQ(encode_float(std::ldexp(1.0, -91)), 0u);
	// Down to 2^-66 all 24 bits are kept; below, the exponent stops at −64.
	double full = std::ldexp(1.0 + std::ldexp(1.0, -23), -66);
	EXPECT_EQ(decode_float(encode_float(full)), full);
	double fewer = std::ldexp(1.0 + std::ldexp(1.0, -23), -67);
	EXPECT_EQ(encode_float(fewer), 0x80400001u);  // c = 2^22 + 1 (from 2^22 + ½)
	EXPECT_EQ(encode_float(1e-30), 0u);
}

TEST(CmdmonFloat, RoundsToNearestAndCarriesIntoTheExponent)
{
	// 2^24 − 0.25 needs 26 bits; it rounds up to 2^24, one exponent higher:
	// 2^24 = 2^23 · 2^(26 − 25) → e = 26 = 0x1a → 0x34000000.
	EXPECT_EQ(encode_float(16777215.75), 0x34800000u);
	EXPECT_EQ(decode_float(0x34800000u), 16777216.0);
	// 1 + 2^-24 is half a step above 1: ties round away from zero.
	EXPECT_EQ(encode_float(1.0 + std::ldexp(1.0, -24)), 0x04800001u);
	EXPECT_EQ(encode_float(-1.0 - std::ldexp(1.0, -24)), 0x057fffffu);  // c = −(2^23 + 1)
	EXPECT_EQ(encode_float(1.0 + 3 * std::ldexp(1.0, -24)), 0x04800002u);
}

TEST(CmdmonFloat, RelativeErrorWithinHalfAStepOverTheFullPrecisionRange)
{
	const uint64_t seed = 20240601;
	std::mt19937_64 rng(seed);
	// 2^-66 ≈ 1.4e-20 is the smallest magnitude with all 24 bits.
	std::uniform_real_distribution<double> log10_magnitude(-19.8, 18.6);
	for (int i = 0; i < 20000; i++) {
		double x = std::pow(10.0, log10_magnitude(rng)) * ((rng() & 1) ? -1 : 1);
		double back = decode_float(encode_float(x));
		ASSERT_LE(std::fabs(back - x), std::fabs(x) * std::ldexp(1.0, -24))
			<< "seed " << seed << " x " << x;
	}
}

TEST(CmdmonFloat, EveryDecodedValueEncodesBackExactly)
{
	// Any pattern (also chronyd's spellings) reads as a value that our
	// encoder reproduces: re-encoding never drifts.
	for (uint32_t exp = 0; exp < 128; exp++) {
		for (uint32_t coef : {0x0u, 0x1u, 0x2u, 0x3u, 0x7fffffu, 0x800000u, 0xabcdefu,
				      0xffffffu, 0x1000000u, 0x1000001u, 0x1800000u, 0x1ffffffu}) {
			uint32_t bits = exp << 25 | coef;
			double v = decode_float(bits);
			EXPECT_EQ(decode_float(encode_float(v)), v) << std::hex << bits;
		}
	}
}

// --- Timespec: seconds high, seconds low, nanoseconds ---

TEST(CmdmonTimespec, SecondsSplitIntoTwoWordsAndNanoseconds)
{
	std::array<std::byte, 12> out{};
	encode_timespec(RealTime::from_parts(1'700'000'000, 500'000'000), out);
	// 1700000000 = 0x6553f100, 500000000 = 0x1dcd6500.
	EXPECT_EQ(hex(out),
		  hex(octets({{0, 0, 0, 0}, {0x65, 0x53, 0xf1, 0x00}, {0x1d, 0xcd, 0x65, 0x00}})));
	EXPECT_EQ(decode_timespec(out), RealTime::from_parts(1'700'000'000, 500'000'000));
}

TEST(CmdmonTimespec, Year2038And2106AreOrdinary)
{
	std::array<std::byte, 12> out{};
	encode_timespec(RealTime::from_parts(int64_t{1} << 31, 0), out);
	EXPECT_EQ(hex(out), hex(octets({{0, 0, 0, 0}, {0x80, 0, 0, 0}, {0, 0, 0, 0}})));
	encode_timespec(RealTime::from_parts((int64_t{1} << 32) + 5, 7), out);
	EXPECT_EQ(hex(out), hex(octets({{0, 0, 0, 1}, {0, 0, 0, 5}, {0, 0, 0, 7}})));
	EXPECT_EQ(decode_timespec(out), RealTime::from_parts((int64_t{1} << 32) + 5, 7));
}

TEST(CmdmonTimespec, BeforeTheEpochIsTwosComplement)
{
	std::array<std::byte, 12> out{};
	// −1.5 s = −2 s + 0.5 s.
	encode_timespec(RealTime::from_parts(-2, 500'000'000), out);
	EXPECT_EQ(hex(out), hex(octets({{0xff, 0xff, 0xff, 0xff}, {0xff, 0xff, 0xff, 0xfe},
					{0x1d, 0xcd, 0x65, 0x00}})));
	EXPECT_EQ(decode_timespec(out), RealTime::from_parts(-2, 500'000'000));
}

TEST(CmdmonTimespec, ThirtyTwoBitSenderMarkerAndBadNanosecondsAreTolerated)
{
	auto in = octets(
		{{0x7f, 0xff, 0xff, 0xff}, {0x00, 0x00, 0x00, 0x10}, {0xff, 0xff, 0xff, 0xff}});
	EXPECT_EQ(decode_timespec(std::span<const std::byte, 12>(in.data(), 12)),
		  RealTime::from_parts(16, 999'999'999));
}

TEST(CmdmonTimespec, SecondsBeyondRealTimeSaturate)
{
	auto far = octets({{0x7f, 0xff, 0xff, 0xfe}, {0xff, 0xff, 0xff, 0xff}, {0, 0, 0, 0}});
	RealTime t = decode_timespec(std::span<const std::byte, 12>(far.data(), 12));
	EXPECT_GT(t, RealTime::from_parts(9'000'000'000, 0));
	auto past = octets({{0x80, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}});
	t = decode_timespec(std::span<const std::byte, 12>(past.data(), 12));
	EXPECT_LT(t, RealTime::from_parts(-9'000'000'000, 0));
}

// --- Address: 16 bytes, family, padding ---

Bytes encoded(const Address &a)
{
	std::array<std::byte, 20> out{};
	encode_address(a, out);
	return Bytes(out.begin(), out.end());
}

Address decoded(const Bytes &b)
{
	return decode_address(std::span<const std::byte, 20>(b.data(), 20));
}

TEST(CmdmonAddress, Ipv4InTheFirstFourBytesFamilyOne)
{
	Address a = *IpAddress::parse("192.0.2.1");
	auto want = octets({{192, 0, 2, 1}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 1}, {0, 0}});
	EXPECT_EQ(hex(encoded(a)), hex(want));
	EXPECT_EQ(decoded(want), a);
}

TEST(CmdmonAddress, Ipv6FamilyTwo)
{
	Address a = *IpAddress::parse("2001:db8::1");
	auto want = octets(
		{{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, {0, 2}, {0, 0}});
	EXPECT_EQ(hex(encoded(a)), hex(want));
	EXPECT_EQ(decoded(want), a);
}

TEST(CmdmonAddress, UnresolvedIdFamilyThree)
{
	Address a = AddressId{0x12345678};
	auto want = octets(
		{{0x12, 0x34, 0x56, 0x78}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 3}, {0, 0}});
	EXPECT_EQ(hex(encoded(a)), hex(want));
	EXPECT_EQ(decoded(want), a);
}

TEST(CmdmonAddress, NoAddressIsAllZerosAndUnknownFamiliesReadAsNone)
{
	EXPECT_EQ(hex(encoded(NoAddress{})), hex(Bytes(20, std::byte{0})));
	auto odd = octets({{10, 0, 0, 1}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 7}, {0, 0}});
	EXPECT_EQ(decoded(odd), Address{NoAddress{}});
}

} // namespace
} // namespace strata::control
