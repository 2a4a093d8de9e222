#include "core/poll_adapter.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(PollAdapter, FullWindowsLengthenTheIntervalOneStepAtATime)
{
	PollAdapter a(6, 10, 8);
	EXPECT_EQ(a.poll(), 6);
	// A window of 16 with polltarget 8: (16/8 − 1)/8 = 1/8 of a step per
	// sample; from nothing (chronyd's start), the eighth sample reaches 1.
	for (int i = 0; i < 7; i++) {
		EXPECT_EQ(a.on_sample(16), 6) << i;
	}
	EXPECT_EQ(a.on_sample(16), 7);
	for (int i = 0; i < 100; i++) {
		a.on_sample(16);
	}
	EXPECT_EQ(a.poll(), 10);  // never beyond maxpoll
}

TEST(PollAdapter, ShortWindowsShortenItTwiceAsFast)
{
	PollAdapter a(4, 10, 8);
	for (int i = 0; i < 200; i++) {
		a.on_sample(64);
	}
	ASSERT_EQ(a.poll(), 10);
	// A window of 4: 2 × (4/8 − 1)/8 = −1/8 a sample; at maxpoll the score
	// is half a step (chronyd: a whole one, nine samples), so the fifth
	// goes below zero.
	int samples = 0;
	while (a.poll() == 10 && samples < 100) {
		a.on_sample(4);
		samples++;
	}
	EXPECT_EQ(a.poll(), 9);
	EXPECT_EQ(samples, 5);
	// At the target the interval stays.
	for (int i = 0; i < 50; i++) {
		EXPECT_EQ(a.on_sample(8), 9);
	}
}

TEST(PollAdapter, ASampleFarOffThePredictionShortensAtOnce)
{
	PollAdapter a(4, 10, 8);
	for (int i = 0; i < 200; i++) {
		a.on_sample(64);
	}
	ASSERT_EQ(a.poll(), 10);
	// 8 times its own distance off: log2(8) = 3 steps down (from half a
	// step at maxpoll to −2.5: three steps, as chronyd truncates, leaving
	// half a step).
	EXPECT_EQ(a.on_sample(64, 8e-3, 1e-3), 7);
	EXPECT_DOUBLE_EQ(a.score(), 0.5);
	// Within its distance and at the target: the window rule leaves it.
	EXPECT_EQ(a.on_sample(8, 0.5e-3, 1e-3), 7);
	// A full window takes it back up: (64/8 − 1)/8 = 7/8 a sample.
	EXPECT_EQ(a.on_sample(64, 0.5e-3, 1e-3), 8);
	// Never below minpoll.
	EXPECT_EQ(a.on_sample(64, 1.0, 1e-6), 4);
}

} // namespace
} // namespace strata

namespace strata {
namespace {

TEST(PollAdapter, SubSecondPollingOnlyForAReachableSourceOnTheLan)
{
	PollAdapter a(-6, -6);
	EXPECT_EQ(a.limit_subsecond(true, 0.001), -6);   // reachable, 1 ms away
	EXPECT_EQ(a.limit_subsecond(true, 0.04), 0);     // 40 ms away: once a second, above maxpoll
	PollAdapter b(-4, 2);
	EXPECT_EQ(b.limit_subsecond(false, 0.001), 0);   // not reachable
	PollAdapter c(3, 6);
	EXPECT_EQ(c.limit_subsecond(false, 1.0), 3);     // not sub-second: untouched
}

TEST(PollAdapter, UnansweredPollsMoveTheScoreUp)
{
	PollAdapter a(4, 10);
	int poll = a.poll();
	for (int k = 0; k < 4; k++) {
		poll = a.adjust(0.25);
	}
	EXPECT_EQ(poll, 5);  // four misses (chronyd's 0.25 each) are one step
	for (int k = 0; k < 4; k++) {
		poll = a.adjust(0.25);
	}
	EXPECT_EQ(poll, 6);
}

} // namespace
} // namespace strata
