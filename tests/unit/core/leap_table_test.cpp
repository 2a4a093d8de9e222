#include "core/leap_table.h"

#include <vector>

#include <gtest/gtest.h>

namespace strata {
namespace {

// The tail of an IERS leap-seconds.list: 2012-07-01 (35), 2015-07-01 (36),
// 2017-01-01 (37); expires 2026-12-28.
constexpr std::string_view kList =
	"#\tleap-seconds.list (excerpt)\n"
	"#$\t 3676924800\n"
	"#@\t3975868800\n"
	"#\n"
	"3550089600\t35\t# 1 Jul 2012\n"
	"3644697600\t36\t# 1 Jul 2015\n"
	"3692217600\t37\t# 1 Jan 2017\n"
	"#h\t16edd0f0 3666784f 37db6bdd e74ced87 59af48f1\n";

RealTime at(int64_t posix_s) { return RealTime::from_parts(posix_s, 0); }

TEST(LeapTable, ParsesTheIersList)
{
	auto t = LeapTable::parse_list(kList);
	ASSERT_TRUE(t.has_value()) << t.error().message();
	ASSERT_EQ(t->changes().size(), 3u);
	EXPECT_EQ(t->changes()[2].at_s, 1483228800);  // 2017-01-01T00:00:00Z
	EXPECT_EQ(t->changes()[2].tai_offset, 37);
	EXPECT_EQ(t->expires_s(), 3975868800 - 2208988800);
	// 2016-12-31, any time of the day: a second is inserted at its end.
	EXPECT_EQ(t->leap_at_end_of_day(at(1483228800 - 86400)), Leap::Insert);
	EXPECT_EQ(t->leap_at_end_of_day(at(1483228800 - 1)), Leap::Insert);
	EXPECT_EQ(t->leap_at_end_of_day(at(1483228800)), Leap::None);
	EXPECT_EQ(t->leap_at_end_of_day(at(1483228800 - 86401)), Leap::None);
	EXPECT_EQ(t->tai_offset(at(1483228800 - 1)), 36);
	EXPECT_EQ(t->tai_offset(at(1483228800)), 37);
	EXPECT_EQ(t->tai_offset(at(1800000000)), 37);
}

TEST(LeapTable, ListErrorsNameTheLine)
{
	auto bad = LeapTable::parse_list("3550089600\t35\n3644697600\tx\n");
	ASSERT_FALSE(bad.has_value());
	EXPECT_EQ(bad.error().context, "line 2: expected NTP-SECONDS TAI-OFFSET");
	auto not_midnight = LeapTable::parse_list("3550089601\t35\n");
	ASSERT_FALSE(not_midnight.has_value());
	EXPECT_EQ(not_midnight.error().context, "line 1: not a leap second at midnight");
	auto jump = LeapTable::parse_list("3550089600\t35\n3644697600\t38\n");
	ASSERT_FALSE(jump.has_value());
	EXPECT_EQ(jump.error().context, "line 2: entries must grow in time by one second each");
	EXPECT_FALSE(LeapTable::parse_list("# nothing\n").has_value());
}

/// A TZif version 2 file with no transitions, one type ("UTC") and the
/// given leap records (occurrence on the right/ scale, total correction).
std::vector<std::byte> tzif(const std::vector<std::pair<int64_t, int32_t>> &leaps)
{
	std::vector<std::byte> out;
	auto put = [&](uint64_t v, int width) {
		for (int i = width - 1; i >= 0; i--) {
			out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xff));
		}
	};
	auto header = [&] {
		for (char ch : std::string_view("TZif2")) {
			out.push_back(static_cast<std::byte>(ch));
		}
		for (int i = 0; i < 15; i++) {
			out.push_back(std::byte{0});
		}
		put(0, 4);                    // isutcnt
		put(0, 4);                    // isstdcnt
		put(leaps.size(), 4);         // leapcnt
		put(0, 4);                    // timecnt
		put(1, 4);                    // typecnt
		put(4, 4);                    // charcnt
	};
	auto block = [&](int time_size) {
		put(0, 4);  // ttinfo: utoff
		out.push_back(std::byte{0});  // isdst
		out.push_back(std::byte{0});  // desigidx
		for (char ch : std::string_view("UTC\0", 4)) {
			out.push_back(static_cast<std::byte>(ch));
		}
		for (const auto &[occurs, correction] : leaps) {
			put(static_cast<uint64_t>(occurs), time_size);
			put(static_cast<uint32_t>(correction), 4);
		}
	};
	header();
	block(4);
	header();
	block(8);
	for (char ch : std::string_view("\nUTC0\n")) {
		out.push_back(static_cast<std::byte>(ch));
	}
	return out;
}

TEST(LeapTable, ParsesTheLeapRecordsOfARightZone)
{
	// As in tzdata's right/UTC: 1972-07-01 (78796800, no earlier leap),
	// 1973-01-01 (94694400 + 1 earlier leap).
	auto t = LeapTable::parse_tzif(tzif({{78796800, 1}, {94694401, 2}}));
	ASSERT_TRUE(t.has_value()) << t.error().message();
	ASSERT_EQ(t->changes().size(), 2u);
	EXPECT_EQ(t->changes()[0].at_s, 78796800);
	EXPECT_EQ(t->changes()[0].tai_offset, 11);
	EXPECT_EQ(t->changes()[1].at_s, 94694400);
	EXPECT_EQ(t->changes()[1].tai_offset, 12);
	EXPECT_EQ(t->leap_at_end_of_day(at(94694400 - 3600)), Leap::Insert);
}

TEST(LeapTable, TzifErrors)
{
	EXPECT_EQ(LeapTable::parse_tzif(std::vector<std::byte>(10)).error().context, "not a TZif file");
	EXPECT_EQ(LeapTable::parse_tzif(tzif({})).error().context, "TZif: no leap second records (not a right/ zone?)");
	auto bytes = tzif({{78796800, 1}});
	ASSERT_GT(bytes.size(), 20u);
	bytes.erase(bytes.end() - 20, bytes.end());
	EXPECT_EQ(LeapTable::parse_tzif(bytes).error().context, "TZif: truncated");
	EXPECT_EQ(LeapTable::parse_tzif(tzif({{78796801, 1}})).error().context,
		  "TZif: leap record 1 is not a leap second at midnight");
}

} // namespace
} // namespace strata
