// Pulse samples: the reference is the nearest second, the offset the phase.
#include "refclock/pulse.h"

#include <gtest/gtest.h>

namespace strata::refclock {
namespace {

using namespace std::chrono_literals;

const RealTime kSecond = RealTime::from_parts(1'700'000'000, 0);

TEST(PulseSample, ReferenceIsTheNearestSecond)
{
	RawSample late = pulse_sample(kSecond + 1500ns);
	EXPECT_TRUE(late.pulse);
	EXPECT_EQ(late.local, kSecond + 1500ns);
	EXPECT_EQ(late.reference, kSecond);
	EXPECT_DOUBLE_EQ(late.offset_s(), -1.5e-6);
	EXPECT_EQ(late.leap, Leap::None);
	EXPECT_FALSE(late.precision_s.has_value());

	RawSample early = pulse_sample(kSecond - 2us);
	EXPECT_EQ(early.reference, kSecond);
	EXPECT_DOUBLE_EQ(early.offset_s(), 2e-6);

	EXPECT_EQ(pulse_sample(kSecond).reference, kSecond);
	EXPECT_EQ(pulse_sample(kSecond).offset_s(), 0.0);
}

TEST(PulseSample, OffsetIsInMinusHalfToHalf)
{
	// Half a second rounds up: +0.5 is in the range, −0.5 is not.
	RawSample half = pulse_sample(kSecond + 500ms);
	EXPECT_EQ(half.reference, kSecond + 1s);
	EXPECT_DOUBLE_EQ(half.offset_s(), 0.5);

	RawSample below = pulse_sample(kSecond + 500ms - 1ns);
	EXPECT_EQ(below.reference, kSecond);
	EXPECT_GT(below.offset_s(), -0.5);

	for (int64_t ns : {0, 1, 250'000'000, 499'999'999, 500'000'000, 500'000'001, 999'999'999}) {
		double offset = pulse_sample(kSecond + Duration(ns)).offset_s();
		EXPECT_GT(offset, -0.5) << ns;
		EXPECT_LE(offset, 0.5) << ns;
	}
}

} // namespace
} // namespace strata::refclock
