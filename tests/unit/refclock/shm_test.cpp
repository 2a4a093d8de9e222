// The SHM segment parser and the `refclock SHM` parameter, on hand-built
// segments: ntpd's struct shmTime in both of its modes, torn reads, old
// writers without nanoseconds, leap indicators and garbage.
#include "refclock/shm.h"

#include <cmath>
#include <cstddef>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

namespace strata::refclock {
namespace {

using namespace std::chrono_literals;

/// A segment as gpsd fills it: 2023-11-14 22:13:20.500000123 from the
/// receiver, taken when the system clock read ….400000456.
ShmTime gpsd_sample(int mode = 1)
{
	ShmTime t{};
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

std::vector<std::byte> bytes_of(const ShmTime &t)
{
	std::vector<std::byte> b(sizeof t);
	std::memcpy(b.data(), &t, sizeof t);
	return b;
}

std::optional<RawSample> parse(const ShmTime &t, int count_after, ShmSkip &why,
			       std::string *detail = nullptr)
{
	auto b = bytes_of(t);
	return parse_shm(b, count_after, why, detail);
}

std::optional<RawSample> parse(const ShmTime &t, ShmSkip &why)
{
	return parse(t, t.count, why);
}

TEST(ShmParser, Mode0SampleWithNanoseconds)
{
	ShmTime t = gpsd_sample(0);
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

TEST(ShmParser, Mode0HasNoCountCheck)
{
	// Mode 0 writers do not maintain count; a changing one means nothing.
	ShmTime t = gpsd_sample(0);
	ShmSkip why{};
	EXPECT_TRUE(parse(t, t.count + 1, why).has_value());
	EXPECT_EQ(why, ShmSkip::None);
}

TEST(ShmParser, Mode1TornReadIsDiscardedAndLeftValid)
{
	ShmTime t = gpsd_sample(1);
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

TEST(ShmParser, NotValidIsNothingNew)
{
	ShmTime t = gpsd_sample(1);
	t.valid = 0;
	ShmSkip why{};
	EXPECT_FALSE(parse(t, why).has_value());
	EXPECT_EQ(why, ShmSkip::NotValid);
	EXPECT_FALSE(shm_consumes(why));
	// A segment the daemon just created: all zeros.
	ShmTime zero{};
	EXPECT_FALSE(parse(zero, why).has_value());
	EXPECT_EQ(why, ShmSkip::NotValid);
	// Not even a torn read is reported when valid is clear.
	EXPECT_FALSE(parse(t, 99, why).has_value());
	EXPECT_EQ(why, ShmSkip::NotValid);
}

TEST(ShmParser, UnknownModeIsRejectedAndConsumed)
{
	for (int mode : {2, -1, 0x7fffffff}) {
		ShmTime t = gpsd_sample(mode);
		ShmSkip why{};
		std::string detail;
		EXPECT_FALSE(parse(t, t.count, why, &detail).has_value());
		EXPECT_EQ(why, ShmSkip::BadMode);
		EXPECT_EQ(detail, "mode " + std::to_string(mode));
		EXPECT_TRUE(shm_consumes(why));  // cleared, so it is complained about once
	}
}

TEST(ShmParser, MicrosecondsWhenNanosecondsDisagree)
{
	// A writer older than ntpd 4.2.8 leaves the nanosecond fields 0.
	ShmTime t = gpsd_sample();
	t.clock_nsec = 0;
	t.receive_nsec = 0;
	ShmSkip why{};
	auto s = parse(t, why);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->reference, RealTime::from_parts(1'700'000'000, 500'000'000));
	EXPECT_EQ(s->local, RealTime::from_parts(1'700'000'000, 400'000'000));

	// One pair consistent is not enough: both stamps come from the same
	// resolution, or the offset would mix them.
	t = gpsd_sample();
	t.receive_nsec = 123;
	s = parse(t, why);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->reference, RealTime::from_parts(1'700'000'000, 500'000'000));
	EXPECT_EQ(s->local, RealTime::from_parts(1'700'000'000, 400'000'000));

	// Both zero below the microsecond: the nanoseconds are used (and equal).
	t = gpsd_sample();
	t.clock_usec = 0;
	t.clock_nsec = 999;
	s = parse(t, why);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->reference, RealTime::from_parts(1'700'000'000, 999));
	EXPECT_EQ(s->local, RealTime::from_parts(1'700'000'000, 400'000'456));
}

TEST(ShmParser, LeapIndicator)
{
	ShmTime t = gpsd_sample();
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

TEST(ShmParser, TimeStampsOutsideTheSaneRangeAreRejected)
{
	ShmSkip why{};
	ShmTime t = gpsd_sample();
	t.clock_sec = -5;
	EXPECT_FALSE(parse(t, why).has_value());
	EXPECT_EQ(why, ShmSkip::BadTime);
	EXPECT_TRUE(shm_consumes(why));

	t = gpsd_sample();
	t.receive_sec = static_cast<std::time_t>(kMaxSampleSeconds);
	EXPECT_FALSE(parse(t, why).has_value());
	EXPECT_EQ(why, ShmSkip::BadTime);

	t = gpsd_sample();
	t.receive_sec = std::numeric_limits<std::time_t>::max();
	EXPECT_FALSE(parse(t, why).has_value());
	EXPECT_EQ(why, ShmSkip::BadTime);

	// Just below the limit is still a time.
	t = gpsd_sample();
	t.clock_sec = static_cast<std::time_t>(kMaxSampleSeconds - 1);
	EXPECT_TRUE(parse(t, why).has_value());
}

TEST(ShmParser, MicrosecondsOutOfRangeAreCarriedAsChronydDoes)
{
	ShmTime t = gpsd_sample();
	t.clock_nsec = 0;  // use the microseconds
	t.clock_usec = 1'500'000;
	t.receive_usec = -1;
	ShmSkip why{};
	auto s = parse(t, why);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->reference, RealTime::from_parts(1'700'000'001, 500'000'000));
	EXPECT_EQ(s->local, RealTime::from_parts(1'699'999'999, 999'999'000));
}

TEST(ShmParser, PrecisionIsBelievedFromANanosecondToASecond)
{
	ShmTime t = gpsd_sample();
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

TEST(ShmParser, ShortCopiesAreRejectedLongerSegmentsRead)
{
	auto b = bytes_of(gpsd_sample());
	ShmSkip why{};
	std::string detail;
	EXPECT_FALSE(parse_shm(std::span(b).first(kShmSize - 1), 8, why, &detail).has_value());
	EXPECT_EQ(why, ShmSkip::TooShort);
	EXPECT_FALSE(shm_consumes(why));
	EXPECT_FALSE(parse_shm({}, 0, why).has_value());
	EXPECT_EQ(why, ShmSkip::TooShort);
	// A segment a writer created larger than the struct.
	b.resize(kShmSize + 64);
	EXPECT_TRUE(parse_shm(b, 8, why).has_value());
}

// The layout written out byte by byte as ntpd, gpsd and chronyd lay it out
// on 64-bit Linux (little-endian), independently of the ShmTime struct.
TEST(ShmParser, HandBuiltLp64Segment)
{
	if (sizeof(long) != 8 || sizeof(std::time_t) != 8) {
		GTEST_SKIP() << "the hand-built segment is the LP64 layout";
	}
	std::vector<std::byte> seg(96);
	auto put32 = [&](size_t at, uint32_t v) { std::memcpy(&seg[at], &v, 4); };
	auto put64 = [&](size_t at, int64_t v) { std::memcpy(&seg[at], &v, 8); };
	put32(0, 1);              // mode
	put32(4, 42);             // count
	put64(8, 1'800'000'000);  // clockTimeStampSec
	put32(16, 250'000);       // clockTimeStampUSec
	put64(24, 1'800'000'001); // receiveTimeStampSec
	put32(32, 1);             // receiveTimeStampUSec
	put32(36, 2);             // leap
	put32(40, static_cast<uint32_t>(-10));  // precision
	put32(44, 3);             // nsamples
	put32(48, 1);             // valid
	put32(52, 250'000'999);   // clockTimeStampNSec
	put32(56, 1'234);         // receiveTimeStampNSec
	ShmSkip why{};
	auto s = parse_shm(seg, 42, why);
	ASSERT_TRUE(s.has_value()) << to_string(why);
	EXPECT_EQ(s->reference, RealTime::from_parts(1'800'000'000, 250'000'999));
	EXPECT_EQ(s->local, RealTime::from_parts(1'800'000'001, 1'234));
	EXPECT_EQ(s->leap, Leap::Delete);
	EXPECT_DOUBLE_EQ(*s->precision_s, 1.0 / 1024);
	EXPECT_FALSE(parse_shm(seg, 43, why).has_value());
	EXPECT_EQ(why, ShmSkip::Torn);

	EXPECT_EQ(offsetof(ShmTime, count), 4u);
	EXPECT_EQ(offsetof(ShmTime, valid), 48u);
	EXPECT_EQ(offsetof(ShmTime, dummy), 60u);
	EXPECT_EQ(kShmSize, 96u);
}

TEST(ShmParser, SkipReasonsHaveNames)
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
