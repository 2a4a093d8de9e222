// The SHM segment parser and the `refclock SHM` parameter, on hand-built
// segments: ntpd's struct shmTime in both of its modes, torn reads, old
// writers without nanoseconds, leap indicators and garbage. Every parser test
// runs on both layouts (a writer with a 64-bit and with a 32-bit time_t);
// the segments written byte by byte at the end are what gpsd writes on each
// architecture, and the native layout is checked to be this architecture's.
#include "refclock/shm.h"

#include <cmath>
#include <cstddef>
#include <cstring>
#include <ctime>
#include <limits>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/unit/refclock/gpsd_shm_segments.h"

namespace strata::refclock {
namespace {

using namespace std::chrono_literals;

/// A segment as gpsd fills it: 2023-11-14 22:13:20.500000123 from the
/// receiver, taken when the system clock read ….400000456.
template <class T>
T gpsd_sample(int mode = 1)
{
	T t{};
	t.mode = mode;
	t.count = 8;
	t.clock_sec = 1'700'000'000;
	t.clock_usec = 500'000;
	t.clock_nsec = 500'000'123;
	t.receive_sec = 1'700'000'000;
	t.receive_usec = 400'000;
	t.receive_nsec = 400'000'456;
	t.leap = 0;
	t.precision = -20;
	t.valid = 1;
	return t;
}

template <class T>
std::vector<std::byte> bytes_of(const T &t)
{
	std::vector<std::byte> b(sizeof t);
	std::memcpy(b.data(), &t, sizeof t);
	return b;
}

template <class T>
std::optional<RawSample> parse(const T &t, int count_after, ShmSkip &why,
			       std::string *detail = nullptr)
{
	auto b = bytes_of(t);
	return parse_shm(b, T::kLayout, count_after, why, detail);
}

template <class T>
std::optional<RawSample> parse(const T &t, ShmSkip &why)
{
	return parse(t, t.count, why);
}

template <class T>
class ShmParser : public ::testing::Test {};
using Layouts = ::testing::Types<ShmTime64, ShmTime32>;
class LayoutNames {
public:
	template <class T>
	static std::string GetName(int)
	{
		return T::kLayout == ShmLayout::Time64 ? "Time64" : "Time32";
	}
};
TYPED_TEST_SUITE(ShmParser, Layouts, LayoutNames);

TYPED_TEST(ShmParser, Mode0SampleWithNanoseconds)
{
	TypeParam t = gpsd_sample<TypeParam>(0);
	ShmSkip why = ShmSkip::TooShort;
	auto s = parse(t, why);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(why, ShmSkip::None);
	EXPECT_EQ(s->reference, RealTime::from_parts(1'700'000'000, 500'000'123));
	EXPECT_EQ(s->local, RealTime::from_parts(1'700'000'000, 400'000'456));
	EXPECT_NEAR(s->offset_s(), 0.099999667, 1e-12);
	EXPECT_EQ(s->leap, Leap::None);
	EXPECT_FALSE(s->pulse);
	ASSERT_TRUE(s->precision_s.has_value());
	EXPECT_DOUBLE_EQ(*s->precision_s, std::ldexp(1.0, -20));
	EXPECT_TRUE(shm_consumes(why));
}

TYPED_TEST(ShmParser, Mode0HasNoCountCheck)
{
	// Mode 0 writers do not maintain count; a changing one means nothing.
	TypeParam t = gpsd_sample<TypeParam>(0);
	ShmSkip why{};
	EXPECT_TRUE(parse(t, t.count + 1, why).has_value());
	EXPECT_EQ(why, ShmSkip::None);
}

TYPED_TEST(ShmParser, Mode1TornReadIsDiscardedAndLeftValid)
{
	TypeParam t = gpsd_sample<TypeParam>(1);
	ShmSkip why{};
	std::string detail;
	// The writer bumped count (to 9, then 10) while the copy was made.
	EXPECT_FALSE(parse(t, 10, why, &detail).has_value());
	EXPECT_EQ(why, ShmSkip::Torn);
	EXPECT_EQ(detail, "count 8 then 10");
	EXPECT_FALSE(shm_consumes(why));  // the finished update is read at the next poll
	// The same copy with an unchanged count is good.
	EXPECT_TRUE(parse(t, 8, why).has_value());
	EXPECT_EQ(why, ShmSkip::None);
}

TYPED_TEST(ShmParser, NotValidIsNothingNew)
{
	TypeParam t = gpsd_sample<TypeParam>(1);
	t.valid = 0;
	ShmSkip why{};
	EXPECT_FALSE(parse(t, why).has_value());
	EXPECT_EQ(why, ShmSkip::NotValid);
	EXPECT_FALSE(shm_consumes(why));
	// A segment the daemon just created: all zeros.
	TypeParam zero{};
	EXPECT_FALSE(parse(zero, why).has_value());
	EXPECT_EQ(why, ShmSkip::NotValid);
	// Not even a torn read is reported when valid is clear.
	EXPECT_FALSE(parse(t, 99, why).has_value());
	EXPECT_EQ(why, ShmSkip::NotValid);
}

TYPED_TEST(ShmParser, UnknownModeIsRejectedAndConsumed)
{
	for (int mode : {2, -1, 0x7fffffff}) {
		TypeParam t = gpsd_sample<TypeParam>(mode);
		ShmSkip why{};
		std::string detail;
		EXPECT_FALSE(parse(t, t.count, why, &detail).has_value());
		EXPECT_EQ(why, ShmSkip::BadMode);
		EXPECT_EQ(detail, "mode " + std::to_string(mode));
		EXPECT_TRUE(shm_consumes(why));  // cleared, so it is complained about once
	}
}

TYPED_TEST(ShmParser, MicrosecondsWhenNanosecondsDisagree)
{
	// A writer older than ntpd 4.2.8 leaves the nanosecond fields 0.
	TypeParam t = gpsd_sample<TypeParam>();
	t.clock_nsec = 0;
	t.receive_nsec = 0;
	ShmSkip why{};
	auto s = parse(t, why);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->reference, RealTime::from_parts(1'700'000'000, 500'000'000));
	EXPECT_EQ(s->local, RealTime::from_parts(1'700'000'000, 400'000'000));

	// One pair consistent is not enough: both stamps come from the same
	// resolution, or the offset would mix them.
	t = gpsd_sample<TypeParam>();
	t.receive_nsec = 123;
	s = parse(t, why);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->reference, RealTime::from_parts(1'700'000'000, 500'000'000));
	EXPECT_EQ(s->local, RealTime::from_parts(1'700'000'000, 400'000'000));

	// Both zero below the microsecond: the nanoseconds are used (and equal).
	t = gpsd_sample<TypeParam>();
	t.clock_usec = 0;
	t.clock_nsec = 999;
	s = parse(t, why);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->reference, RealTime::from_parts(1'700'000'000, 999));
	EXPECT_EQ(s->local, RealTime::from_parts(1'700'000'000, 400'000'456));
}

TYPED_TEST(ShmParser, LeapIndicator)
{
	TypeParam t = gpsd_sample<TypeParam>();
	ShmSkip why{};
	t.leap = 1;
	EXPECT_EQ(parse(t, why)->leap, Leap::Insert);
	t.leap = 2;
	EXPECT_EQ(parse(t, why)->leap, Leap::Delete);

	t.leap = 3;  // the writer has no fix: not a time to follow
	EXPECT_FALSE(parse(t, why).has_value());
	EXPECT_EQ(why, ShmSkip::Unsynchronized);
	EXPECT_TRUE(shm_consumes(why));

	for (int leap : {4, -1, 1000}) {
		t.leap = leap;
		std::string detail;
		EXPECT_FALSE(parse(t, t.count, why, &detail).has_value());
		EXPECT_EQ(why, ShmSkip::BadLeap);
		EXPECT_EQ(detail, "leap " + std::to_string(leap));
	}
}

TYPED_TEST(ShmParser, TimeStampsOutsideTheSaneRangeAreRejected)
{
	using Seconds = decltype(TypeParam::clock_sec);
	ShmSkip why{};
	TypeParam t = gpsd_sample<TypeParam>();
	t.clock_sec = -5;
	EXPECT_FALSE(parse(t, why).has_value());
	EXPECT_EQ(why, ShmSkip::BadTime);
	EXPECT_TRUE(shm_consumes(why));

	if constexpr (sizeof(Seconds) == 8) {
		t = gpsd_sample<TypeParam>();
		t.receive_sec = kMaxSampleSeconds;
		EXPECT_FALSE(parse(t, why).has_value());
		EXPECT_EQ(why, ShmSkip::BadTime);

		t = gpsd_sample<TypeParam>();
		t.receive_sec = std::numeric_limits<Seconds>::max();
		EXPECT_FALSE(parse(t, why).has_value());
		EXPECT_EQ(why, ShmSkip::BadTime);

		// Just below the limit is still a time.
		t = gpsd_sample<TypeParam>();
		t.clock_sec = kMaxSampleSeconds - 1;
		EXPECT_TRUE(parse(t, why).has_value());
	} else {
		// 32-bit seconds reach 2038-01-19T03:14:07Z, a time like any other.
		t = gpsd_sample<TypeParam>();
		t.clock_sec = std::numeric_limits<Seconds>::max();
		t.receive_sec = std::numeric_limits<Seconds>::max();
		auto s = parse(t, why);
		ASSERT_TRUE(s.has_value());
		EXPECT_EQ(s->reference, RealTime::from_parts(2'147'483'647, 500'000'123));
		EXPECT_EQ(s->local, RealTime::from_parts(2'147'483'647, 400'000'456));
		// A second later such a writer's time_t has wrapped to 1901: a bad
		// time stamp, never a sample 136 years off.
		t.clock_sec = std::numeric_limits<Seconds>::min();
		EXPECT_FALSE(parse(t, why).has_value());
		EXPECT_EQ(why, ShmSkip::BadTime);
	}
}

TYPED_TEST(ShmParser, MicrosecondsOutOfRangeAreCarriedAsChronydDoes)
{
	TypeParam t = gpsd_sample<TypeParam>();
	t.clock_nsec = 0;  // use the microseconds
	t.clock_usec = 1'500'000;
	t.receive_usec = -1;
	ShmSkip why{};
	auto s = parse(t, why);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->reference, RealTime::from_parts(1'700'000'001, 500'000'000));
	EXPECT_EQ(s->local, RealTime::from_parts(1'699'999'999, 999'999'000));
}

TYPED_TEST(ShmParser, PrecisionIsBelievedFromANanosecondToASecond)
{
	TypeParam t = gpsd_sample<TypeParam>();
	ShmSkip why{};
	t.precision = 0;
	EXPECT_DOUBLE_EQ(*parse(t, why)->precision_s, 1.0);
	t.precision = -1;  // gpsd's serial-time segments
	EXPECT_DOUBLE_EQ(*parse(t, why)->precision_s, 0.5);
	t.precision = -30;
	EXPECT_DOUBLE_EQ(*parse(t, why)->precision_s, std::ldexp(1.0, -30));
	for (int p : {-31, 1, 1000, -1000}) {
		t.precision = p;
		auto s = parse(t, why);
		ASSERT_TRUE(s.has_value());
		EXPECT_FALSE(s->precision_s.has_value()) << p;
	}
}

TYPED_TEST(ShmParser, ShortCopiesAreRejectedLongerSegmentsRead)
{
	constexpr size_t kSize = sizeof(TypeParam);
	constexpr ShmLayout kLayout = TypeParam::kLayout;
	auto b = bytes_of(gpsd_sample<TypeParam>());
	ShmSkip why{};
	std::string detail;
	EXPECT_FALSE(parse_shm(std::span(b).first(kSize - 1), kLayout, 8, why, &detail).has_value());
	EXPECT_EQ(why, ShmSkip::TooShort);
	EXPECT_EQ(detail, fmt::format("{} bytes, expected {} ({})", kSize - 1, kSize,
				      shm_layout_info(kLayout).name));
	EXPECT_FALSE(shm_consumes(why));
	EXPECT_FALSE(parse_shm({}, kLayout, 0, why).has_value());
	EXPECT_EQ(why, ShmSkip::TooShort);
	// A segment a writer created larger than the struct.
	b.resize(kSize + 64);
	EXPECT_TRUE(parse_shm(b, kLayout, 8, why).has_value());
}

// The segments gpsd writes on each architecture (gpsd_shm_segments.h),
// read in their layouts, in the other layout, and in the native one.
using gpsd::expect_gpsd_sample;
using gpsd::Segment;

TEST(ShmLayouts, HandBuiltTime64Segment)
{
	Segment seg = gpsd::time64_segment();
	ShmSkip why{};
	expect_gpsd_sample(parse_shm(seg.bytes, ShmLayout::Time64, 42, why), why);
	EXPECT_FALSE(parse_shm(seg.bytes, ShmLayout::Time64, 43, why).has_value());
	EXPECT_EQ(why, ShmSkip::Torn);
}

TEST(ShmLayouts, HandBuiltTime32SegmentOfDebian12ArmhfGpsd)
{
	Segment seg = gpsd::time32_segment();
	ShmSkip why{};
	expect_gpsd_sample(parse_shm(seg.bytes, ShmLayout::Time32, 42, why), why);
	EXPECT_FALSE(parse_shm(seg.bytes, ShmLayout::Time32, 43, why).has_value());
	EXPECT_EQ(why, ShmSkip::Torn);
}

TEST(ShmLayouts, EitherSegmentReadInTheOtherLayoutIsNoSample)
{
	// What a reader that took the writer's struct for its own would do. The
	// 32-bit writer's segment is too short for the 64-bit layout, and in a
	// larger one the 64-bit layout's `valid` is in the 32-bit one's dummy
	// words; the 64-bit writer's segment read as 32-bit has the low half of
	// receiveTimeStampSec where `leap` would be. Neither yields a sample.
	ShmSkip why{};
	Segment small = gpsd::time32_segment();
	EXPECT_FALSE(parse_shm(small.bytes, ShmLayout::Time64, 42, why).has_value());
	EXPECT_EQ(why, ShmSkip::TooShort);
	small.bytes.resize(96);  // as the larger segment of a writer that made one
	auto misread = parse_shm(small.bytes, ShmLayout::Time64, 42, why);
	EXPECT_FALSE(misread.has_value()) << misread->offset_s();
	Segment big = gpsd::time64_segment();
	misread = parse_shm(big.bytes, ShmLayout::Time32, 42, why);
	EXPECT_FALSE(misread.has_value()) << misread->offset_s();
}

TEST(ShmLayouts, OffsetsOfTheAdaptersWords)
{
	EXPECT_EQ(shm_layout_info(ShmLayout::Time64).size, 96u);
	EXPECT_EQ(shm_layout_info(ShmLayout::Time64).count_offset, 4u);
	EXPECT_EQ(shm_layout_info(ShmLayout::Time64).valid_offset, 48u);
	EXPECT_EQ(shm_layout_info(ShmLayout::Time32).size, 80u);
	EXPECT_EQ(shm_layout_info(ShmLayout::Time32).count_offset, 4u);
	EXPECT_EQ(shm_layout_info(ShmLayout::Time32).valid_offset, 36u);
	EXPECT_EQ(kShmMaxSize, 96u);
	EXPECT_EQ(kShmSize, sizeof(NativeShmTime));
}

// The acceptance test of the native layout: on each architecture, the segment
// that architecture's gpsd writes, read in kNativeShmLayout, is the right
// time. Built for armhf this runs under qemu-arm; there strata's own time_t
// is 64 bits (the build's -D_TIME_BITS=64) while the segment's is 32.
TEST(ShmLayouts, NativeLayoutReadsThisArchitecturesGpsd)
{
#if defined(STRATA_SHM_TIME_BITS)
	GTEST_SKIP() << "the layout is set by the build (STRATA_SHM_TIME_BITS)";
#elif defined(__x86_64__) || defined(__aarch64__)
	EXPECT_EQ(kNativeShmLayout, ShmLayout::Time64);
	Segment seg = gpsd::time64_segment();
#elif defined(__arm__) || defined(__i386__)
	EXPECT_EQ(kNativeShmLayout, ShmLayout::Time32);
	Segment seg = gpsd::time32_segment();
#if defined(__arm__) && !defined(__aarch64__)
	EXPECT_EQ(sizeof(std::time_t), 8u) << "the armhf build has a 64-bit time_t";
#endif
#else
	GTEST_SKIP() << "no known gpsd layout for this architecture";
	Segment seg(0);
#endif
	ShmSkip why{};
	expect_gpsd_sample(parse_shm(seg.bytes, kNativeShmLayout, 42, why), why);
}

TEST(ShmSkipReasons, HaveNames)
{
	EXPECT_STREQ(to_string(ShmSkip::Torn), "sample changed while it was read");
	EXPECT_STREQ(to_string(ShmSkip::BadMode), "unknown mode");
	EXPECT_STREQ(to_string(ShmSkip::Unsynchronized), "writer not synchronised");
}

TEST(ShmParameter, UnitAndPerm)
{
	auto o = parse_shm_parameter("0");
	ASSERT_TRUE(o.has_value());
	EXPECT_EQ(o->unit, 0);
	EXPECT_EQ(o->perm, 0600);  // chronyd's default: owner only
	EXPECT_EQ(o->key(), 0x4E545030);

	o = parse_shm_parameter("2:perm=0666");
	ASSERT_TRUE(o.has_value());
	EXPECT_EQ(o->unit, 2);
	EXPECT_EQ(o->perm, 0666);
	EXPECT_EQ(o->key(), 0x4E545032);

	o = parse_shm_parameter("1:PERM=644");
	ASSERT_TRUE(o.has_value());
	EXPECT_EQ(o->perm, 0644);

	o = parse_shm_parameter("3:perm=1777");  // chronyd masks the mode to 0777
	ASSERT_TRUE(o.has_value());
	EXPECT_EQ(o->perm, 0777);

	o = parse_shm_parameter("255");
	ASSERT_TRUE(o.has_value());
	EXPECT_EQ(o->key(), 0x4E54512F);
}

TEST(ShmParameter, Errors)
{
	for (const char *bad : {"", "x", "256", "-1", "1x", "1:perm=9", "1:perm=", "1:foo=1",
				"1:perm", "1:perm=0600:", "99999999999"}) {
		auto o = parse_shm_parameter(bad);
		ASSERT_FALSE(o.has_value()) << bad;
		EXPECT_EQ(o.error().code, Errc::InvalidArgument) << bad;
	}
	EXPECT_EQ(parse_shm_parameter("256").error().message(),
		  "refclock SHM: '256' is not a segment number (0-255): invalid argument");
	EXPECT_EQ(parse_shm_parameter("0:foo=1").error().context,
		  "refclock SHM: unknown option 'foo=1'");
}

} // namespace
} // namespace strata::refclock
