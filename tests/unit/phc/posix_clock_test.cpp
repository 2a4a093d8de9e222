// PosixClock's translation to struct timex, against a recording fake of
// clock_adjtime: no clock is touched.
#include "phc/posix_clock_linux.h"

#include <cerrno>
#include <vector>

#include <gtest/gtest.h>

namespace strata::phc {
namespace {

using namespace std::chrono_literals;

struct Recorder {
	std::vector<struct timex> calls;
	long initial_freq = 0;
	int initial_status = STA_UNSYNC;
	int fail_with = 0;

	AdjtimeFn fn()
	{
		return [this](clockid_t id, struct timex *tx) {
			EXPECT_EQ(id, CLOCK_REALTIME);
			if (tx->modes == 0) {
				tx->freq = initial_freq;
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

TEST(PosixClock, ReadsTheCurrentFrequency)
{
	Recorder r;
	r.initial_freq = -12 * 65536;
	auto clock = PosixClock::system(r.fn());
	ASSERT_TRUE(clock.has_value());
	EXPECT_DOUBLE_EQ(clock->frequency_ppm(), -12.0);
	EXPECT_TRUE(r.calls.empty());
}

TEST(PosixClock, FrequencyIsPpmTimes65536AndClamped)
{
	Recorder r;
	auto clock = PosixClock::system(r.fn());
	ASSERT_TRUE(clock.has_value());
	EXPECT_DOUBLE_EQ(*clock->set_frequency_ppm(12.5), 12.5);
	ASSERT_EQ(r.calls.size(), 1u);
	EXPECT_EQ(r.calls[0].modes, static_cast<unsigned>(ADJ_FREQUENCY));
	EXPECT_EQ(r.calls[0].freq, 12.5 * 65536);
	EXPECT_DOUBLE_EQ(*clock->set_frequency_ppm(-900), -500.0);
	EXPECT_EQ(r.calls[1].freq, -500 * 65536);
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

TEST(PosixClock, SyncStatusClearsUnsyncAndSetsErrors)
{
	// What timedatectl reads, and what enables the kernel's 11-minute RTC mode.
	Recorder r;
	auto clock = PosixClock::system(r.fn());
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

} // namespace
} // namespace strata::phc
