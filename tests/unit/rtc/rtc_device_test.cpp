// The broken-down time arithmetic of the RTC seam, checked against dates
// whose POSIX time is known (computed independently with Python's
// calendar.timegm) and by round trips over the whole range.
#include "rtc/rtc_device.h"

#include <gtest/gtest.h>

#include "core/random.h"

namespace strata::rtc {
namespace {

struct KnownDate {
	RtcDateTime t;
	int64_t seconds;
	int weekday;
	int yearday;
};

TEST(RtcDateTime, KnownDates)
{
	const KnownDate known[] = {
		{{2024, 2, 29, 12, 34, 56}, 1709210096, 4, 59},
		{{1970, 1, 1, 0, 0, 0}, 0, 4, 0},
		{{1969, 12, 31, 23, 59, 59}, -1, 3, 364},
		{{1900, 1, 1, 0, 0, 0}, -2208988800, 1, 0},
		{{2038, 1, 19, 3, 14, 8}, 2147483648, 2, 18},  // one past INT32_MAX
		{{2100, 3, 1, 0, 0, 0}, 4107542400, 1, 59},    // 2100 is no leap year
		{{9999, 12, 31, 23, 59, 59}, 253402300799, 5, 364},
	};
	for (const auto &k : known) {
		SCOPED_TRACE(to_string(k.t));
		EXPECT_TRUE(is_valid(k.t));
		EXPECT_EQ(to_rtc_seconds(k.t), k.seconds);
		EXPECT_EQ(from_rtc_seconds(k.seconds), k.t);
		EXPECT_EQ(weekday(k.t), k.weekday);
		EXPECT_EQ(yearday(k.t), k.yearday);
	}
	EXPECT_EQ(to_string(RtcDateTime{2024, 2, 29, 1, 2, 3}), "2024-02-29 01:02:03");
}

TEST(RtcDateTime, RoundTripsOverTheWholeRange)
{
	Xoshiro256 rng(11);
	const int64_t lo = -2208988800, hi = 253402300799;
	for (int i = 0; i < 100000; i++) {
		auto s = lo + static_cast<int64_t>(rng.uniform() * static_cast<double>(hi - lo));
		RtcDateTime t = from_rtc_seconds(s);
		ASSERT_TRUE(is_valid(t)) << s;
		ASSERT_EQ(to_rtc_seconds(t), s);
	}
	// Day by day, the date moves by one day and the weekday by one: no day
	// is lost or doubled at month, year and century ends.
	RtcDateTime prev = from_rtc_seconds(lo);
	for (int64_t s = lo + 86400; s <= hi; s += 86400) {
		RtcDateTime t = from_rtc_seconds(s);
		ASSERT_EQ(weekday(t), (weekday(prev) + 1) % 7) << to_string(t);
		bool same_month = t.year == prev.year && t.month == prev.month;
		bool next_day = same_month && t.day == prev.day + 1;
		bool month_ended = !is_valid({prev.year, prev.month, prev.day + 1, 0, 0, 0});
		bool next_month = t.year == prev.year && t.month == prev.month + 1 && t.day == 1 &&
				  month_ended;
		bool next_year = t.year == prev.year + 1 && t.month == 1 && t.day == 1 &&
				 prev.month == 12 && prev.day == 31;
		ASSERT_TRUE(next_day || next_month || next_year)
			<< to_string(prev) << " → " << to_string(t);
		ASSERT_EQ(yearday(t), next_year ? 0 : yearday(prev) + 1);
		prev = t;
	}
}

TEST(RtcDateTime, OutOfRangeFieldsAreInvalid)
{
	EXPECT_FALSE(is_valid({2023, 2, 29, 0, 0, 0}));  // not a leap year
	EXPECT_TRUE(is_valid({2000, 2, 29, 0, 0, 0}));   // a leap year (÷400)
	EXPECT_FALSE(is_valid({1900, 2, 29, 0, 0, 0}));  // not one (÷100)
	EXPECT_FALSE(is_valid({2024, 13, 1, 0, 0, 0}));
	EXPECT_FALSE(is_valid({2024, 0, 1, 0, 0, 0}));
	EXPECT_FALSE(is_valid({2024, 4, 31, 0, 0, 0}));
	EXPECT_FALSE(is_valid({2024, 1, 0, 0, 0, 0}));
	EXPECT_FALSE(is_valid({2024, 1, 1, 24, 0, 0}));
	EXPECT_FALSE(is_valid({2024, 1, 1, 0, 60, 0}));
	EXPECT_FALSE(is_valid({2024, 1, 1, 0, 0, 60}));
	EXPECT_FALSE(is_valid({2024, 1, 1, 0, 0, -1}));
	EXPECT_FALSE(is_valid({1899, 12, 31, 23, 59, 59}));
	EXPECT_FALSE(is_valid({10000, 1, 1, 0, 0, 0}));
	// Outside the years an RTC holds, the result says so instead of wrapping.
	EXPECT_FALSE(is_valid(from_rtc_seconds(253402300800)));
	EXPECT_FALSE(is_valid(from_rtc_seconds(-2208988801)));
	EXPECT_FALSE(is_valid(from_rtc_seconds(INT64_MAX / 2)));
}

} // namespace
} // namespace strata::rtc
