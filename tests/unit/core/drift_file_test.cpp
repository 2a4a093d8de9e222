#include "core/drift_file.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(DriftFile, ChronydsFormatAndSign)
{
	// chronyd writes "%20.6f %20.6f\n" with its frequency (positive: the
	// clock is fast), the negative of the correction applied.
	EXPECT_EQ(format_drift({.correction_ppm = 12.5, .skew_ppm = 0.0625}),
		  "          -12.500000             0.062500\n");
	auto v = parse_drift("          -12.500000             0.062500\n");
	ASSERT_TRUE(v.has_value());
	EXPECT_DOUBLE_EQ(v->correction_ppm, 12.5);
	EXPECT_DOUBLE_EQ(v->skew_ppm, 0.0625);
}

TEST(DriftFile, ReadsWhatChronydWrote)
{
	auto v = parse_drift("           -3.827453             0.056102\n");
	ASSERT_TRUE(v.has_value());
	EXPECT_DOUBLE_EQ(v->correction_ppm, 3.827453);
}

TEST(DriftFile, CorruptContentIsRejected)
{
	for (std::string_view bad : {"", "12.5", "abc def", "1 2 3", "nan 0.1", "1e9 0.1", "1 -0.5", "\x01\x02"}) {
		auto r = parse_drift(bad);
		EXPECT_FALSE(r.has_value()) << bad;
	}
}

} // namespace
} // namespace strata
