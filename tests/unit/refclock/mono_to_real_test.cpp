// The exact monotonic-to-realtime conversion from bracketed clock readings.
#include "refclock/mono_to_real.h"

#include <array>
#include <cstdlib>

#include <gtest/gtest.h>

namespace strata::refclock {
namespace {

using namespace std::chrono_literals;

const RealTime kReal = RealTime::from_parts(1'700'000'000, 123'456'789);
const MonoTime kMono = MonoTime{} + 5000s;
const Duration kOffset = kReal.since_epoch - kMono.since_epoch;

/// A bracket taken at monotonic `mono`: realtime read `before` earlier and
/// `after` later (each read takes time).
ClockBracket bracket(MonoTime mono, Duration before, Duration after)
{
	RealTime real = RealTime{mono.since_epoch + kOffset};
	return {real - before, mono, real + after};
}

TEST(RealMonoOffset, OneBracketBoundsTheOffsetByHalfItsWindow)
{
	std::array b{bracket(kMono, 30ns, 50ns)};
	auto o = real_mono_offset(b);
	ASSERT_TRUE(o.has_value());
	EXPECT_EQ(o->low, kOffset - 30ns);
	EXPECT_EQ(o->high, kOffset + 50ns);
	EXPECT_EQ(o->offset(), kOffset + 10ns);
	EXPECT_EQ(o->error_bound(), 40ns);
	MonoTime edge = kMono - 700ms;
	RealTime real = o->to_real(edge);
	EXPECT_LE(std::abs((real - RealTime{edge.since_epoch + kOffset}).count()),
		  o->error_bound().count());
}

TEST(RealMonoOffset, TheIntersectionIsNoWiderThanTheNarrowestBracket)
{
	std::array b{bracket(kMono, 200ns, 10ns), bracket(kMono + 3us, 15ns, 300ns)};
	auto o = real_mono_offset(b);
	ASSERT_TRUE(o.has_value());
	EXPECT_EQ(o->low, kOffset - 15ns);
	EXPECT_EQ(o->high, kOffset + 10ns);
	EXPECT_EQ(o->error_bound(), 13ns);  // ceil(25 / 2)
	EXPECT_LE(std::abs((o->offset() - kOffset).count()), o->error_bound().count());
}

TEST(RealMonoOffset, OddWidthsRoundTheBoundUp)
{
	std::array b{bracket(kMono, 0ns, 1ns)};
	auto o = real_mono_offset(b);
	ASSERT_TRUE(o.has_value());
	EXPECT_EQ(o->offset(), kOffset);
	EXPECT_EQ(o->error_bound(), 1ns);
	std::array exact{bracket(kMono, 0ns, 0ns)};
	EXPECT_EQ(real_mono_offset(exact)->error_bound(), 0ns);
}

TEST(RealMonoOffset, RefusesWhenTheClockWasStepped)
{
	EXPECT_FALSE(real_mono_offset({}).has_value());

	// Stepped back 1 ms inside the bracket: after < before.
	ClockBracket back = bracket(kMono, 20ns, 20ns);
	back.real_after = back.real_after - 1ms;
	std::array reversed{back};
	EXPECT_FALSE(real_mono_offset(reversed).has_value());

	// Stepped forward by 2 µs between two brackets: no common offset.
	ClockBracket later = bracket(kMono + 10us, 20ns, 20ns);
	later.real_before = later.real_before + 2us;
	later.real_after = later.real_after + 2us;
	std::array stepped{bracket(kMono, 20ns, 20ns), later};
	EXPECT_FALSE(real_mono_offset(stepped).has_value());
}

} // namespace
} // namespace strata::refclock
