#include "core/fallback_drift.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(FallbackDrift, LevelsFillThenFallDueInTurn)
{
	FallbackDrift f(4, 6);  // 16, 32 and 64 s
	// 10 ppm for 64 s of updates (half of each interval counts while filling).
	for (int i = 0; i < 16; i++) {
		f.on_update(10.0, 8.0);
	}
	// Level 16 s is full and long-averaged; so are 32 and 64.
	EXPECT_FALSE(f.due(15.0).has_value());
	auto first = f.due(16.0);
	ASSERT_TRUE(first.has_value());
	EXPECT_EQ(first->level, 4);
	EXPECT_NEAR(first->freq_ppm, 10.0, 1e-9);
	EXPECT_FALSE(f.due(20.0).has_value());  // in force already
	EXPECT_EQ(f.next_due_s(20.0), 32.0);
	EXPECT_EQ(f.due(40.0)->level, 5);
	EXPECT_EQ(f.due(100.0)->level, 6);
	EXPECT_FALSE(f.next_due_s(100.0).has_value());
	// An update ends the fallback: level 4 can fall due again.
	f.on_update(10.0, 8.0);
	EXPECT_EQ(f.due(16.0)->level, 4);
}

TEST(FallbackDrift, LongLevelsAverageLonger)
{
	FallbackDrift f(2, 8);  // 4 s … 256 s
	for (int i = 0; i < 100; i++) {
		f.on_update(0.0, 4.0);  // 200 s of 0 ppm: fills levels up to 128 s
	}
	for (int i = 0; i < 4; i++) {
		f.on_update(20.0, 4.0);  // then 16 s of 20 ppm
	}
	double short_level = f.due(4.0)->freq_ppm;
	double long_level = f.due(128.0)->freq_ppm;
	EXPECT_GT(short_level, 19.0);  // 4 s time constant: nearly the new value
	EXPECT_LT(long_level, 3.0);    // 128 s: still near the old one
	EXPECT_FALSE(f.due(300.0).has_value());  // 256 s never filled
}

TEST(FallbackDrift, NothingBeforeALevelIsFull)
{
	FallbackDrift f(4, 6);
	f.on_update(10.0, 8.0);  // 4 s of 16
	EXPECT_FALSE(f.due(1000.0).has_value());
	EXPECT_FALSE(f.next_due_s(0.0).has_value());
}

} // namespace
} // namespace strata
