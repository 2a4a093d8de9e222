#include "rtc/rtc_device.h"

#include <algorithm>

#include <fmt/format.h>

namespace strata::rtc {

namespace {

constexpr int64_t kSecondsPerDay = 86400;

constexpr bool is_leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

constexpr int days_in_month(int64_t y, int m)
{
	constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return (m == 2 && is_leap_year(y)) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date. The year is counted
// from March so that the leap day is the last day of its year, which makes
// the month lengths a linear formula (the well-known civil-calendar method;
// 719468 is the day number of 1970-01-01 counted from 0000-03-01).
constexpr int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2 ? 1 : 0;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;                                  // [0, 399]
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;  // [0, 365]
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           // [0, 146096]
	return era * 146097 + doe - 719468;
}

struct Civil {
	int64_t year;
	int month;
	int day;
};

constexpr Civil civil_from_days(int64_t z)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	auto d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
	auto m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
	return {yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) == 11017);
static_assert(civil_from_days(11016).day == 29);  // 2000-02-29

int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

} // namespace

bool is_valid(const RtcDateTime &t)
{
	return t.year >= kRtcMinYear && t.year <= kRtcMaxYear && t.month >= 1 && t.month <= 12 &&
	       t.day >= 1 && t.day <= days_in_month(t.year, t.month) && t.hour >= 0 &&
	       t.hour <= 23 && t.minute >= 0 && t.minute <= 59 && t.second >= 0 && t.second <= 59;
}

int64_t to_rtc_seconds(const RtcDateTime &t)
{
	return days_from_civil(t.year, t.month, t.day) * kSecondsPerDay + t.hour * 3600 +
	       t.minute * 60 + t.second;
}

RtcDateTime from_rtc_seconds(int64_t s)
{
	int64_t days = floor_div(s, kSecondsPerDay);
	auto sod = static_cast<int>(s - days * kSecondsPerDay);
	Civil c = civil_from_days(days);
	// Years far outside an int are clamped to an invalid year, never wrapped
	// into a valid one.
	int year = static_cast<int>(std::clamp<int64_t>(c.year, kRtcMinYear - 1, kRtcMaxYear + 1));
	return {.year = year,
		.month = c.month,
		.day = c.day,
		.hour = sod / 3600,
		.minute = sod / 60 % 60,
		.second = sod % 60};
}

int weekday(const RtcDateTime &t)
{
	// 1970-01-01 was a Thursday (4).
	int64_t days = days_from_civil(t.year, t.month, t.day);
	return static_cast<int>(((days % 7) + 11) % 7);
}

int yearday(const RtcDateTime &t)
{
	int64_t first = days_from_civil(t.year, 1, 1);
	return static_cast<int>(days_from_civil(t.year, t.month, t.day) - first);
}

std::string to_string(const RtcDateTime &t)
{
	return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", t.year, t.month, t.day, t.hour,
			   t.minute, t.second);
}

} // namespace strata::rtc
