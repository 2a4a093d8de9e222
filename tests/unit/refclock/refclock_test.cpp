#include "refclock/refclock.h"

#include <gtest/gtest.h>

#include <cmath>

namespace strata::refclock {
namespace {

using namespace std::chrono_literals;

const RealTime kStart = RealTime::from_parts(1'800'000'000, 0);

/// A sample whose reference − local is `offset_s`, at second `i`.
RawSample whole(int i, double offset_s, Leap leap = Leap::None)
{
	RealTime ref = kStart + i * 1s;
	return {.reference = ref, .local = ref - from_seconds(offset_s), .leap = leap};
}

/// A pulse delivered as PPS drivers do: local = the edge, reference = the
/// nearest whole second.
RawSample pulse_at(RealTime local)
{
	RealTime ref = RealTime::from_parts(local.seconds() + (local.subsec_ns() >= 500'000'000 ? 1 : 0), 0);
	return {.reference = ref, .local = local, .pulse = true};
}

TEST(RefclockIds, DefaultsAreChronyds)
{
	EXPECT_EQ(ref_id_text(default_ref_id("SHM", 0)), "SHM0");
	EXPECT_EQ(ref_id_text(default_ref_id("SOCK", 1)), "SOC1");
	EXPECT_EQ(ref_id_text(default_ref_id("PPS", 12)), "PP12");
	EXPECT_EQ(ref_id_from_text("GPS"), 0x47505300u);
	EXPECT_EQ(ref_id_text(ref_id_from_text("GPS")), "GPS");
	EXPECT_EQ(ref_id_from_text("TOOLONG"), ref_id_from_text("TOOL"));
}

TEST(Refclock, SamplesAreFilteredOncePerPoll)
{
	Refclock r({.name = "SHM0", .poll_log2 = 4, .offset_s = 0.0, .delay_s = 0.2, .precision_s = 0.1});
	for (int i = 0; i < 16; i++) {
		// 100 ms of NMEA latency, one wild sample.
		double late = i == 7 ? 0.9 : 0.1;
		RawSample s = whole(i, -late);
		ASSERT_EQ(r.add(s, s.local, {.now = s.local + 1ms}), Verdict::Accepted);
	}
	auto out = r.poll();
	EXPECT_TRUE(out.reached);
	ASSERT_TRUE(out.sample.has_value());
	// reference − local = −0.1: the sentence arrives 100 ms after its second.
	EXPECT_NEAR(out.sample->offset_s, -0.1, 1e-9);
	EXPECT_DOUBLE_EQ(out.sample->delay_s, 0.2);
	EXPECT_GE(out.sample->dispersion_s, 0.1);
	// Nothing new: reached once, then not.
	auto empty = r.poll();
	EXPECT_FALSE(empty.reached);
	EXPECT_FALSE(empty.sample.has_value());
	EXPECT_EQ(r.stats().empty_polls, 1u);
}

TEST(Refclock, OffsetOptionIsAdded)
{
	Refclock r({.name = "SHM0", .offset_s = 0.1});
	RawSample s = whole(0, -0.1);
	ASSERT_EQ(r.add(s, s.local, {.now = s.local}), Verdict::Accepted);
	EXPECT_NEAR(r.poll().sample->offset_s, 0.0, 1e-9);
}

TEST(Refclock, StaleFutureAndUnsynchronisedSamplesAreRejected)
{
	Refclock r({.name = "SHM0", .poll_log2 = 2});
	RawSample s = whole(0, 0.0);
	EXPECT_EQ(r.add(s, s.local, {.now = s.local - 1ms}), Verdict::BadTime);
	EXPECT_EQ(r.add(s, s.local, {.now = s.local + 9s}), Verdict::BadTime);  // > 2 polls of 4 s
	RawSample u = whole(0, 0.0, Leap::Unsynchronized);
	EXPECT_EQ(r.add(u, u.local, {.now = u.local}), Verdict::Unsynchronized);
	EXPECT_EQ(r.stats().rejected, 3u);
	EXPECT_FALSE(r.poll().reached);
}

TEST(Refclock, LeapFromTheLatestSample)
{
	Refclock r({.name = "SOCK"});
	RawSample s = whole(0, 0.0, Leap::Insert);
	ASSERT_EQ(r.add(s, s.local, {.now = s.local}), Verdict::Accepted);
	EXPECT_EQ(r.poll().leap, Leap::Insert);
}

TEST(Refclock, TaiNeedsTheOffset)
{
	Refclock r({.name = "PHC0", .tai = true});
	// A PHC running TAI, 37 s ahead of UTC, read at the same instant.
	RawSample s{.reference = kStart + 37s, .local = kStart};
	EXPECT_EQ(r.add(s, s.local, {.now = s.local}), Verdict::NoTaiOffset);
	ASSERT_EQ(r.add(s, s.local, {.now = s.local, .tai_offset = 37}), Verdict::Accepted);
	EXPECT_NEAR(r.poll().sample->offset_s, 0.0, 1e-9);
}

TEST(Refclock, UnlockedPulsesNeedASynchronisedClock)
{
	Refclock r({.name = "PPS0", .pps = true, .precision_s = 1e-7});
	RealTime edge = kStart + 3us;  // the clock is 3 µs ahead of the pulse
	EXPECT_EQ(r.add(pulse_at(edge), edge, {.now = edge}), Verdict::ClockNotSynced);
	EXPECT_EQ(r.add(pulse_at(edge), edge, {.now = edge, .clock_synchronized = true, .clock_distance_s = 0.6}),
		  Verdict::ClockNotSynced);
	ASSERT_EQ(r.add(pulse_at(edge), edge, {.now = edge, .clock_synchronized = true, .clock_distance_s = 1e-3}),
		  Verdict::Accepted);
	auto out = r.poll();
	ASSERT_TRUE(out.sample.has_value());
	EXPECT_NEAR(out.sample->offset_s, -3e-6, 1e-12);
}

TEST(Refclock, PulsesTakeTheirSecondsFromTheLock)
{
	// The Raspberry Pi stratum-1 setup: NMEA (whole seconds, 150 ms late,
	// ±20 ms) with PPS locked to it. The system clock is 2.3 s behind: the
	// pulse alone cannot say that, the lock does.
	RefclockSettings nmea{.name = "NMEA", .offset_s = 0.15, .precision_s = 0.02};
	Refclock gps(nmea);
	Refclock pps({.name = "PPS0", .pps = true, .precision_s = 1e-7});
	double true_offset = 2.3;  // reference − local
	for (int i = 0; i < 16; i++) {
		RealTime ref_second = kStart + i * 1s;
		RealTime local_edge = ref_second - from_seconds(true_offset) + std::chrono::nanoseconds((i % 3) * 100);
		// The NMEA sentence for this second, received 150 ms after the edge.
		RawSample sentence{.reference = ref_second, .local = local_edge + 150ms};
		RealTime received = sentence.local;
		ASSERT_EQ(gps.add(sentence, received, {.now = received}), Verdict::Accepted);
		SampleContext c{.now = local_edge + 1ms, .locked = true, .lock_sample = gps.last_sample()};
		ASSERT_EQ(pps.add(pulse_at(local_edge), local_edge, c), Verdict::Accepted) << i;
	}
	auto out = pps.poll();
	ASSERT_TRUE(out.sample.has_value());
	EXPECT_NEAR(out.sample->offset_s, true_offset, 200e-9);
	EXPECT_EQ(pps.stats().pulses, 16u);
	EXPECT_EQ(pps.stats().missed_pulses, 0u);
}

TEST(Refclock, OutOfPhaseAndStaleLockAreCounted)
{
	Refclock pps({.name = "PPS0", .pps = true, .precision_s = 1e-7});
	RealTime edge = kStart + 300ms;
	// The lock says the offset is 0, the pulse says 300 ms: a pulse from
	// another source, or a lock that is wrong: not used.
	LockSample lock{.local = edge - 100ms, .offset_s = 0.0, .dispersion_s = 1e-3};
	EXPECT_EQ(pps.add(pulse_at(edge), edge, {.now = edge, .locked = true, .lock_sample = lock}),
		  Verdict::OutOfPhase);
	EXPECT_EQ(pps.stats().out_of_phase, 1u);
	// No lock sample, or one older than maxlockage periods.
	EXPECT_EQ(pps.add(pulse_at(edge), edge, {.now = edge, .locked = true}), Verdict::NoLockSample);
	lock.local = edge - 3s;
	lock.offset_s = 0.3;
	EXPECT_EQ(pps.add(pulse_at(edge), edge, {.now = edge, .locked = true, .lock_sample = lock}),
		  Verdict::NoLockSample);
	EXPECT_FALSE(pps.poll().sample.has_value());
}

TEST(Refclock, MissingPulsesAreCounted)
{
	Refclock pps({.name = "PPS0", .pps = true});
	SampleContext c{.clock_synchronized = true, .clock_distance_s = 1e-4};
	for (int i : {0, 1, 2, 5, 6}) {  // 3 and 4 never came
		RealTime edge = kStart + i * 1s;
		c.now = edge;
		ASSERT_EQ(pps.add(pulse_at(edge), edge, c), Verdict::Accepted);
	}
	EXPECT_EQ(pps.stats().missed_pulses, 2u);
}

TEST(Refclock, WidthRejectsTheWrongEdge)
{
	// 200 ms pulses with the clock synced: an edge 200 ms off is the other
	// edge of the pulse.
	Refclock pps({.name = "PPS0", .pps = true, .width_s = 0.2});
	SampleContext c{.clock_synchronized = true, .clock_distance_s = 1e-4};
	RealTime wrong = kStart + 200ms;
	c.now = wrong;
	EXPECT_EQ(pps.add(pulse_at(wrong), wrong, c), Verdict::BadEdge);
	RealTime right = kStart + 1s + 20us;
	c.now = right;
	EXPECT_EQ(pps.add(pulse_at(right), right, c), Verdict::Accepted);
}

TEST(Refclock, RatesAbove1HzFoldTheOffsetIntoAPeriod)
{
	Refclock pps({.name = "PPS0", .pps = true, .rate = 10});
	SampleContext c{.clock_synchronized = true, .clock_distance_s = 1e-3};
	// Pulses every 100 ms; the clock is 1 ms behind them.
	for (int i = 0; i < 10; i++) {
		RealTime edge = kStart + i * 100ms - 1ms;
		c.now = edge;
		RawSample s{.reference = kStart + i * 100ms, .local = edge, .pulse = true};
		ASSERT_EQ(pps.add(s, edge, c), Verdict::Accepted);
	}
	EXPECT_NEAR(pps.poll().sample->offset_s, 1e-3, 1e-12);
	EXPECT_EQ(pps.stats().missed_pulses, 0u);
}

TEST(Refclock, ClockStepMovesTheFilteredSamples)
{
	Refclock r({.name = "SHM0"});
	RawSample s = whole(0, -0.5);  // the clock is 0.5 s ahead
	ASSERT_EQ(r.add(s, s.local, {.now = s.local}), Verdict::Accepted);
	// The clock is stepped back by 0.5 s: the same sample, seen after the
	// step, says the clock is right.
	r.on_clock_change({.at = s.local + 10ms, .step_s = -0.5});
	auto out = r.poll();
	ASSERT_TRUE(out.sample.has_value());
	EXPECT_NEAR(out.sample->offset_s, 0.0, 1e-9);
	EXPECT_EQ(out.sample->local, s.local - 500ms);
	EXPECT_NEAR(r.last_sample()->offset_s, 0.0, 1e-9);
}

TEST(RefclockLocal, APhcWithAnyTimeIsFollowedByItsPhaseAcrossWholeSeconds)
{
	// A free-running PHC read every second: 37.4 s ahead, gaining 20 ms a
	// second on the system clock, so its phase passes the ±0.5 s fold.
	Refclock r({.name = "PHC0", .poll_log2 = 2, .local = true});
	EXPECT_TRUE(r.settings().pps);
	EXPECT_EQ(r.settings().maxlockage, 3);
	double offset = 37.4;
	std::vector<double> accepted;
	for (int i = 0; i < 8; i++) {
		RawSample s = whole(i, offset);  // reference − local = offset
		ASSERT_EQ(r.add(s, s.local, {.now = s.local}), Verdict::Accepted) << i;
		accepted.push_back(r.last_sample()->offset_s);
		offset += 0.02;
	}
	// Locked to itself from the first sample: the phase (0.4) runs on
	// without the jump to −0.5 a fold would make, 20 ms a second.
	EXPECT_NEAR(accepted.front(), 0.4, 1e-9);
	for (size_t i = 1; i < accepted.size(); i++) {
		EXPECT_NEAR(accepted[i] - accepted[i - 1], 0.02, 1e-9) << i;
	}
	EXPECT_GT(accepted.back(), 0.5);  // past the fold, still continuous
	// Never a candidate for selection.
	auto out = r.poll();
	EXPECT_EQ(out.leap, Leap::Unsynchronized);
	ASSERT_TRUE(out.sample.has_value());
	// Whole seconds may be taken off (they mean nothing); the lock follows.
	r.correct_offset(1.0);
	RawSample next = whole(8, offset);
	ASSERT_EQ(r.add(next, next.local, {.now = next.local}), Verdict::Accepted);
	EXPECT_NEAR(r.last_sample()->offset_s, accepted.back() + 1.0 + 0.02, 1e-9);
}

TEST(RefclockLocal, AGapOfThreePeriodsLosesTheLockAndStartsAgain)
{
	Refclock r({.name = "PHC0", .poll_log2 = 4, .local = true});
	RawSample a = whole(0, 0.25);
	ASSERT_EQ(r.add(a, a.local, {.now = a.local}), Verdict::Accepted);
	RawSample b = whole(4, 0.26);  // 4 s later: maxlockage is 3 periods
	EXPECT_EQ(r.add(b, b.local, {.now = b.local}), Verdict::LostLock);
	EXPECT_FALSE(r.last_sample().has_value());
	EXPECT_FALSE(r.poll().sample.has_value());  // the filter went too
	RawSample c = whole(5, 0.27);
	EXPECT_EQ(r.add(c, c.local, {.now = c.local}), Verdict::Accepted);
	EXPECT_NEAR(r.last_sample()->offset_s, 0.27, 1e-9);
}

TEST(RefclockLocal, AJumpOfMoreThanTheLockLimitIsOutOfPhase)
{
	Refclock r({.name = "PHC0", .local = true});
	RawSample a = whole(0, 0.25);
	ASSERT_EQ(r.add(a, a.local, {.now = a.local}), Verdict::Accepted);
	RawSample b = whole(1, 0.55);  // 0.3 s of phase in a second: not the same oscillator
	EXPECT_EQ(r.add(b, b.local, {.now = b.local}), Verdict::OutOfPhase);
	EXPECT_EQ(r.stats().out_of_phase, 1u);
}

} // namespace
} // namespace strata::refclock
