#include "core/reference.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

using namespace std::chrono_literals;

const RealTime kNow = RealTime::from_parts(1'800'000'000, 0);
const MonoTime kStart = MonoTime::from_parts(100, 0);

SyncUpdate update(double delay, double disp, double rate = 0)
{
	return {.leap = Leap::None, .stratum = 2, .ref_id = 0xc0000201, .ref_time = kNow,
		.root_delay_s = delay, .root_dispersion_s = disp, .dispersion_rate = rate};
}

TEST(ReferenceState, UnsynchronizedWithoutLocalIsLeapAlarmStratumZero)
{
	ReferenceState s(std::nullopt, kStart);
	Reference r = s.current(kNow, kStart);
	EXPECT_FALSE(r.synchronized);
	EXPECT_EQ(r.leap, Leap::Unsynchronized);
	EXPECT_EQ(r.stratum, 0);
	EXPECT_EQ(r.ref_id, 0u);
}

TEST(ReferenceState, LocalReferenceServesItsStratumAtOnce)
{
	ReferenceState s(LocalReferenceConfig{.stratum = 3}, kStart);
	Reference r = s.current(kNow, kStart);
	EXPECT_FALSE(r.synchronized);
	EXPECT_EQ(r.leap, Leap::None);
	EXPECT_EQ(r.stratum, 3);
	EXPECT_EQ(r.ref_id, kLocalRefId);
	EXPECT_EQ(r.ref_time, kNow - 1s);
	EXPECT_EQ(r.root_delay_s, 0.0);
	EXPECT_EQ(r.root_dispersion_s, 0.0);
}

TEST(ReferenceState, LocalReferenceTimeTrailsTheClockAndMovesUp)
{
	ReferenceState s(LocalReferenceConfig{}, kStart);
	EXPECT_EQ(s.current(kNow, kStart).ref_time, kNow - 1s);
	EXPECT_EQ(s.current(kNow + 63s, kStart).ref_time, kNow - 1s);       // lag 64 s: kept
	EXPECT_EQ(s.current(kNow + 64s, kStart).ref_time, kNow + 63s);      // lag 65 s: moves up
	EXPECT_EQ(s.current(kNow + 64500ms, kStart).ref_time, kNow + 63s);  // lag 1.5 s: kept
	// After the clock went back, the reference time never lies ahead of it.
	EXPECT_EQ(s.current(kNow, kStart).ref_time, kNow - 1s);
}

TEST(ReferenceState, WaitUnsyncedDelaysTheLocalReference)
{
	ReferenceState s(LocalReferenceConfig{.stratum = 5, .wait_unsynced_s = 10}, kStart);
	EXPECT_EQ(s.current(kNow, kStart + 10s - 1ns).stratum, 0);
	EXPECT_EQ(s.current(kNow, kStart + 10s).stratum, 5);
}

TEST(ReferenceState, OrphanWaitsThreeHundredSecondsByDefault)
{
	LocalReferenceConfig cfg{.orphan = true};
	EXPECT_EQ(cfg.effective_wait_unsynced_s(), 300.0);
	ReferenceState s(cfg, kStart);
	EXPECT_EQ(s.current(kNow, kStart + 299s).stratum, 0);
	EXPECT_EQ(s.current(kNow, kStart + 300s).stratum, 10);
}

TEST(ReferenceState, SynchronizedWinsUntilDistanceExceedsThreshold)
{
	ReferenceState s(LocalReferenceConfig{.stratum = 8, .distance_s = 0.5}, kStart);
	// distance = delay/2 + dispersion + age·rate = 0.1 + 0.1 + age·0.01
	s.set_synchronized(update(0.2, 0.1, 0.01));
	Reference r = s.current(kNow + 10s, kStart + 10s);
	EXPECT_TRUE(r.synchronized);
	EXPECT_EQ(r.stratum, 2);
	EXPECT_EQ(r.ref_id, 0xc0000201u);
	EXPECT_DOUBLE_EQ(r.root_dispersion_s, 0.2);
	// At 30 s the distance is exactly 0.5: not yet over the threshold.
	EXPECT_TRUE(s.current(kNow + 30s, kStart + 30s).synchronized);
	Reference later = s.current(kNow + 31s, kStart + 31s);
	EXPECT_FALSE(later.synchronized);
	EXPECT_EQ(later.stratum, 8);
}

TEST(ReferenceState, ActivateRequiresHavingBeenCloseOnce)
{
	LocalReferenceConfig cfg{.stratum = 8, .distance_s = 0.5, .activate_s = 0.05};
	ReferenceState s(cfg, kStart);
	EXPECT_EQ(s.current(kNow, kStart).stratum, 0) << "never synchronised: no local reference";
	s.set_synchronized(update(0.2, 0.4));  // distance 0.5: never below 0.05
	s.set_unsynchronized(kStart + 1s);
	EXPECT_EQ(s.current(kNow, kStart + 2s).stratum, 0);
	s.set_synchronized(update(0.02, 0.01));  // distance 0.02 < 0.05
	EXPECT_TRUE(s.current(kNow, kStart + 3s).synchronized);
	s.set_unsynchronized(kStart + 4s);
	EXPECT_EQ(s.current(kNow, kStart + 5s).stratum, 8);
}

TEST(ReferenceState, WaitSyncedDelaysActivationAfterAnUpdate)
{
	LocalReferenceConfig cfg{.stratum = 8, .distance_s = 0.0, .wait_synced_s = 100};
	ReferenceState s(cfg, kStart);
	s.set_synchronized(update(0.0, 0.001));
	EXPECT_TRUE(s.current(kNow + 99s, kStart).synchronized);
	EXPECT_EQ(s.current(kNow + 100s, kStart).stratum, 8);
}

TEST(ReferenceState, LeapWarningPassesThroughWhenSynchronized)
{
	ReferenceState s(std::nullopt, kStart);
	SyncUpdate u = update(0.01, 0.01);
	u.leap = Leap::Insert;
	s.set_synchronized(u);
	EXPECT_EQ(s.current(kNow, kStart).leap, Leap::Insert);
	s.set_unsynchronized(kStart + 1s);
	EXPECT_EQ(s.current(kNow, kStart + 1s).leap, Leap::Unsynchronized);
}

} // namespace
} // namespace strata
