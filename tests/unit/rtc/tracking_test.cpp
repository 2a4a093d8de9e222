#include "rtc/tracking.h"

#include <gtest/gtest.h>

#include "core/random.h"

namespace strata::rtc {
namespace {

using namespace std::chrono_literals;

const RealTime kStart = RealTime::from_parts(1'800'000'000, 0);

TEST(RtcTracker, ConvergesToTheDrift)
{
	// An RTC 3 s ahead that gains 20 ppm, measured every 11 minutes with
	// 50 µs of noise (interrupt latency): within 1 ppm after a day.
	Xoshiro256 rng(3);
	RtcTracker t(64);
	RealTime at = kStart;
	for (int i = 0; i < 131; i++) {
		double noise = (rng.uniform() - 0.5) * 100e-6;
		t.add(at, 3.0 + 20e-6 * to_seconds(at - kStart) + noise);
		at += 11min;
	}
	auto m = t.model();
	ASSERT_TRUE(m.has_value());
	EXPECT_EQ(m->samples, 64u);
	EXPECT_NEAR(m->drift_ppm, 20.0, 1.0);
	EXPECT_NEAR(m->fast_at(m->ref), 3.0 + 20e-6 * to_seconds(m->ref - kStart), 1e-4);
}

TEST(RtcTracker, RunsOfResidualSigns)
{
	RtcTracker t;
	EXPECT_EQ(t.runs(), 0u);
	// Residuals alternating in sign about a line: one run each.
	const double wiggle[] = {1e-4, -1e-4, 1e-4, -1e-4, 1e-4, -1e-4};
	for (int i = 0; i < 6; i++) {
		t.add(kStart + std::chrono::minutes(11 * i), 2.0 + 1e-5 * 660 * i + wiggle[i]);
	}
	EXPECT_EQ(t.runs(), 6u);
	// A bend (a line, then another slope): long runs, few of them.
	t.reset();
	for (int i = 0; i < 20; i++) {
		double x = 660.0 * i;
		t.add(kStart + from_seconds(x), i < 10 ? 1e-5 * x : 1e-5 * 6600 + 3e-5 * (x - 6600));
	}
	EXPECT_GE(t.runs(), 2u);
	EXPECT_LE(t.runs(), 4u);
}

TEST(RtcTracker, NeedsTwoDistinctInstants)
{
	RtcTracker t;
	EXPECT_FALSE(t.model().has_value());
	t.add(kStart, 1.0);
	EXPECT_FALSE(t.model().has_value());
	t.add(kStart, 1.0);
	EXPECT_FALSE(t.model().has_value());
	t.add(kStart + 1000s, 1.001);
	EXPECT_NEAR(t.model()->drift_ppm, 1.0, 1e-9);
	t.reset();
	EXPECT_EQ(t.size(), 0u);
}

TEST(RtcTracker, ClockChangesMoveTheMeasurements)
{
	// An RTC gaining 20 ppm on true time, measured against a system clock
	// running 10 ppm fast: it seems to gain 10 ppm. When the clock is slowed
	// by 10 ppm (to 0), the measurements are moved as if it had always run
	// at the new rate, and the RTC's true drift appears.
	RtcTracker t;
	RealTime sys;
	for (int i = 0; i <= 10; i++) {
		double true_s = i * 600.0;
		sys = kStart + from_seconds(true_s * (1 + 10e-6));
		double rtc_s = 3.0 + true_s * (1 + 20e-6);
		t.add(sys, rtc_s - to_seconds(sys - kStart));
	}
	EXPECT_NEAR(t.model()->drift_ppm, 10.0 / (1 + 10e-6), 1e-6);
	t.on_clock_change(sys, 0.0, -10.0, 0.0);
	auto m = t.model();
	ASSERT_TRUE(m.has_value());
	EXPECT_NEAR(m->drift_ppm, 20.0, 1e-6);
	EXPECT_EQ(m->ref, sys);  // the change was at the newest measurement
	EXPECT_NEAR(m->offset_s, 3.0 + 6000 * 10e-6, 1e-9);

	// A step forward by 0.5 s: the same line, 0.5 s later and 0.5 s less fast.
	t.on_clock_change(sys, 0.5, 0.0, 0.0);
	auto stepped = t.model();
	ASSERT_TRUE(stepped.has_value());
	EXPECT_EQ(stepped->ref, sys + 500ms);
	EXPECT_NEAR(stepped->offset_s, m->offset_s - 0.5, 1e-9);
	EXPECT_NEAR(stepped->drift_ppm, 20.0, 1e-6);
}

TEST(RtcTracker, OffsetWithAKnownDrift)
{
	RtcTracker t;
	EXPECT_FALSE(t.model_with_drift(20).has_value());
	// One measurement is enough when the drift is known.
	t.add(kStart, 1.5);
	auto m = t.model_with_drift(20);
	ASSERT_TRUE(m.has_value());
	EXPECT_EQ(m->ref, kStart);
	EXPECT_DOUBLE_EQ(m->offset_s, 1.5);
	EXPECT_DOUBLE_EQ(m->drift_ppm, 20);
	// Noisy measurements along the line average to it at the newest.
	t.add(kStart + 1000s, 1.5 + 0.02 + 1e-4);
	t.add(kStart + 2000s, 1.5 + 0.04 - 1e-4);
	m = t.model_with_drift(20);
	EXPECT_EQ(m->ref, kStart + 2000s);
	EXPECT_NEAR(m->offset_s, 1.54, 1e-9);
	EXPECT_EQ(m->samples, 3u);
	EXPECT_EQ(t.span(), 2000s);
}

TEST(RtcModel, SystemTimeFromTheRtcAfterADayOff)
{
	// The model says: 3 s fast at kStart, gaining 20 ppm. The machine is off
	// for a day; at boot the RTC reads R. The system time is R corrected by
	// the error the drift predicts for that moment: 3 s + 1.728 s.
	RtcModel m{.ref = kStart, .offset_s = 3.0, .drift_ppm = 20.0};
	RealTime truth = kStart + 24h;
	RealTime rtc_reads = truth + from_seconds(3.0 + 20e-6 * 86400);
	EXPECT_LT(std::abs((m.system_time_for(rtc_reads) - truth).count()), 1000);  // 1 µs
}

TEST(RtcFile, RoundTrips)
{
	RtcModel m{.ref = kStart + 123456789ns, .offset_s = -2.5, .drift_ppm = 17.25};
	std::string text = save(m);
	EXPECT_EQ(text, "strata-rtc 1 1800000000123456789 -2.500000000 17.250000\n");
	auto back = load(text);
	ASSERT_TRUE(back.has_value());
	EXPECT_EQ(back->ref, m.ref);
	EXPECT_DOUBLE_EQ(back->offset_s, -2.5);
	EXPECT_DOUBLE_EQ(back->drift_ppm, 17.25);
}

TEST(RtcFile, CorruptFilesAreRejected)
{
	for (std::string_view bad : {"", "strata-rtc 1", "strata-rtc 1 1800000000 0.1", "strata-rtc 2 1 0 0\n",
				      "strata-rtc 1 1800000000 nan 0\n", "strata-rtc 1 1800000000 0 1e9\n",
				      "strata-rtc 1 1800000000 0 0 extra\n", "\x01\x02garbage", "strata-rtc 1 -5 0 0\n"}) {
		auto r = load(bad);
		EXPECT_FALSE(r.has_value()) << bad;
		if (!r) {
			EXPECT_EQ(r.error().code, make_error_code(Errc::Malformed));
		}
	}
}

} // namespace
} // namespace strata::rtc
