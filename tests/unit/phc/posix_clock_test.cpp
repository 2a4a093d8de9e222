// PosixClock's translation to struct timex, against a recording fake of
// clock_adjtime: no clock is touched.
#include "phc/posix_clock_linux.h"

#include <cerrno>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace strata::phc {
namespace {

using namespace std::chrono_literals;

struct Recorder {
	std::vector<struct timex> calls;
	long initial_freq = 0;
	long initial_tick = 10000;
	int initial_status = STA_UNSYNC;
	int fail_with = 0;

	AdjtimeFn fn()
	{
		return [this](clockid_t id, struct timex *tx) {
			EXPECT_EQ(id, CLOCK_REALTIME);
			if (tx->modes == 0) {
				tx->freq = initial_freq;
				tx->tick = initial_tick;
				tx->status = initial_status;
				return TIME_OK;
			}
			calls.push_back(*tx);
			if (fail_with != 0) {
				errno = fail_with;
				return -1;
			}
			return TIME_OK;
		};
	}
};

TEST(PosixClock, ReadsTheCurrentFrequencyFromTickAndFreq)
{
	Recorder r;
	r.initial_freq = -12 * 65536;
	auto clock = PosixClock::system(r.fn(), 100);
	ASSERT_TRUE(clock.has_value());
	EXPECT_DOUBLE_EQ(clock->frequency_ppm(), -12.0);
	EXPECT_TRUE(r.calls.empty());
	// A tick left 3 µs long by another program: +300 ppm.
	r.initial_tick = 10003;
	clock = PosixClock::system(r.fn(), 100);
	ASSERT_TRUE(clock.has_value());
	EXPECT_DOUBLE_EQ(clock->frequency_ppm(), 288.0);
}

TEST(PosixClock, FrequencyIsTickStepsPlusFreqInPpmTimes65536)
{
	Recorder r;
	auto clock = PosixClock::system(r.fn(), 100);  // tick 10000 µs, a µs = 100 ppm
	ASSERT_TRUE(clock.has_value());
	EXPECT_DOUBLE_EQ(*clock->set_frequency_ppm(12.5), 12.5);
	ASSERT_EQ(r.calls.size(), 1u);
	EXPECT_EQ(r.calls[0].modes, static_cast<unsigned>(ADJ_FREQUENCY | ADJ_TICK));
	EXPECT_EQ(r.calls[0].tick, 10000);
	EXPECT_EQ(r.calls[0].freq, 12.5 * 65536);
	// A fast slew: the kernel's freq alone stops at ±500 ppm.
	EXPECT_DOUBLE_EQ(*clock->set_frequency_ppm(-83333), -83333.0);
	EXPECT_EQ(r.calls[1].tick, 10000 - 833);
	EXPECT_EQ(r.calls[1].freq, -33 * 65536);
	EXPECT_DOUBLE_EQ(*clock->set_frequency_ppm(170), 170.0);
	EXPECT_EQ(r.calls[2].tick, 10002);
	EXPECT_EQ(r.calls[2].freq, -30 * 65536);
	// Clamped at ±10 % of the tick.
	EXPECT_DOUBLE_EQ(*clock->set_frequency_ppm(250000), 100000.0);
	EXPECT_EQ(r.calls[3].tick, 11000);
	EXPECT_EQ(r.calls[3].freq, 0);
	// Another USER_HZ: 1000 µs ticks, a µs = 1000 ppm.
	Recorder r2;
	r2.initial_tick = 1000;
	auto fast = PosixClock::system(r2.fn(), 1000);
	ASSERT_TRUE(fast.has_value());
	EXPECT_DOUBLE_EQ(*fast->set_frequency_ppm(2400), 2400.0);
	EXPECT_EQ(r2.calls[0].tick, 1002);
	EXPECT_EQ(r2.calls[0].freq, 400 * 65536);
}

TEST(PosixClock, StepIsSetoffsetInNanosecondsNormalised)
{
	Recorder r;
	auto clock = PosixClock::system(r.fn());
	ASSERT_TRUE(clock->step(1500ms).has_value());
	ASSERT_TRUE(clock->step(-1500ms).has_value());
	ASSERT_TRUE(clock->step(-1ns).has_value());
	ASSERT_EQ(r.calls.size(), 3u);
	EXPECT_EQ(r.calls[0].modes, static_cast<unsigned>(ADJ_SETOFFSET | ADJ_NANO));
	EXPECT_EQ(r.calls[0].time.tv_sec, 1);
	EXPECT_EQ(r.calls[0].time.tv_usec, 500'000'000);
	EXPECT_EQ(r.calls[1].time.tv_sec, -2);  // -1.5 s = -2 s + 0.5 s
	EXPECT_EQ(r.calls[1].time.tv_usec, 500'000'000);
	EXPECT_EQ(r.calls[2].time.tv_sec, -1);
	EXPECT_EQ(r.calls[2].time.tv_usec, 999'999'999);
}

TEST(PosixClock, LeapBitsAndNoKernelPll)
{
	Recorder r;
	r.initial_status = STA_UNSYNC | STA_PLL;
	auto clock = PosixClock::system(r.fn());
	ASSERT_TRUE(clock->set_leap(Leap::Insert).has_value());
	ASSERT_TRUE(clock->set_leap(Leap::Delete).has_value());
	ASSERT_TRUE(clock->set_leap(Leap::None).has_value());
	ASSERT_EQ(r.calls.size(), 3u);
	EXPECT_EQ(r.calls[0].modes, static_cast<unsigned>(ADJ_STATUS));
	EXPECT_EQ(r.calls[0].status, STA_UNSYNC | STA_INS);
	EXPECT_EQ(r.calls[1].status, STA_UNSYNC | STA_DEL);
	EXPECT_EQ(r.calls[2].status, STA_UNSYNC);
}

TEST(PosixClock, RtcsyncClearsUnsyncWhenSynchronisedAndSetsErrors)
{
	// What timedatectl reads, and what enables the kernel's 11-minute RTC mode.
	Recorder r;
	auto clock = PosixClock::system(r.fn());
	clock->set_rtc_sync(true);
	ASSERT_TRUE(clock->set_sync_status(true, 25e-6, 0.0125).has_value());
	ASSERT_EQ(r.calls.size(), 1u);
	EXPECT_EQ(r.calls[0].modes, static_cast<unsigned>(ADJ_STATUS | ADJ_ESTERROR | ADJ_MAXERROR));
	EXPECT_EQ(r.calls[0].status & STA_UNSYNC, 0);
	EXPECT_EQ(r.calls[0].esterror, 25);
	EXPECT_EQ(r.calls[0].maxerror, 12500);
	ASSERT_TRUE(clock->set_sync_status(false, 1, 100).has_value());
	EXPECT_NE(r.calls[1].status & STA_UNSYNC, 0);
	EXPECT_EQ(r.calls[1].maxerror, 16'000'000);  // the kernel's cap
}

TEST(PosixClock, WithoutRtcsyncUnsyncStaysSetSoTheKernelLeavesTheRtcAlone)
{
	// chronyd on Linux: no rtcsync, no 11-minute mode; the errors are still
	// kept up to date. The leap bits and the status the kernel had otherwise
	// survive.
	Recorder r;
	r.initial_status = STA_NANO;
	auto clock = PosixClock::system(r.fn());
	ASSERT_TRUE(clock->set_sync_status(true, 25e-6, 0.0125).has_value());
	ASSERT_TRUE(clock->set_leap(Leap::Insert).has_value());
	ASSERT_TRUE(clock->set_sync_status(true, 30e-6, 0.02).has_value());
	ASSERT_EQ(r.calls.size(), 3u);
	EXPECT_EQ(r.calls[0].modes, static_cast<unsigned>(ADJ_STATUS | ADJ_ESTERROR | ADJ_MAXERROR));
	EXPECT_EQ(r.calls[0].status, STA_NANO | STA_UNSYNC);
	EXPECT_EQ(r.calls[0].esterror, 25);
	EXPECT_EQ(r.calls[0].maxerror, 12500);
	EXPECT_EQ(r.calls[1].status, STA_NANO | STA_UNSYNC | STA_INS);
	EXPECT_EQ(r.calls[2].status, STA_NANO | STA_UNSYNC | STA_INS);
	EXPECT_EQ(r.calls[2].maxerror, 20000);
	// Turning rtcsync on: the next synchronised update clears it.
	clock->set_rtc_sync(true);
	ASSERT_TRUE(clock->set_sync_status(true, 30e-6, 0.02).has_value());
	EXPECT_EQ(r.calls[3].status, STA_NANO | STA_INS);
}

TEST(PosixClock, ErrorsCarryErrnoAndContext)
{
	Recorder r;
	r.fail_with = EPERM;
	auto clock = PosixClock::system(r.fn());
	auto f = clock->set_frequency_ppm(1);
	ASSERT_FALSE(f.has_value());
	EXPECT_EQ(f.error().code, std::errc::operation_not_permitted);
	EXPECT_EQ(f.error().message(), "clock_adjtime ADJ_FREQUENCY: Operation not permitted");
	EXPECT_DOUBLE_EQ(clock->frequency_ppm(), 0.0);  // unchanged
}

TEST(PosixClock, ANonFiniteFrequencyIsRefusedAndTheClockLeftAlone)
{
	Recorder r;
	auto clock = PosixClock::system(r.fn(), 100);
	ASSERT_TRUE(clock.has_value());
	for (double bad : {std::nan(""), HUGE_VAL, -HUGE_VAL}) {
		auto f = clock->set_frequency_ppm(bad);
		ASSERT_FALSE(f.has_value());
		EXPECT_EQ(f.error().code, make_error_code(Errc::InvalidArgument));
	}
	EXPECT_TRUE(r.calls.empty());
	EXPECT_DOUBLE_EQ(clock->frequency_ppm(), 0.0);
}

} // namespace
} // namespace strata::phc
