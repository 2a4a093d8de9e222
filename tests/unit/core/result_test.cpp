#include "core/result.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

Result<int> parse_positive(int v)
{
	if (v <= 0) {
		return fail(Errc::InvalidArgument, "value " + std::to_string(v));
	}
	return v;
}

TEST(Result, CarriesValueOrError)
{
	auto ok = parse_positive(3);
	ASSERT_TRUE(ok);
	EXPECT_EQ(*ok, 3);

	auto bad = parse_positive(-1);
	ASSERT_FALSE(bad);
	EXPECT_EQ(bad.error().code, Errc::InvalidArgument);
	EXPECT_EQ(bad.error().message(), "value -1: invalid argument");
}

TEST(Result, ErrnoErrorsUseTheGenericCategory)
{
	Result<> r = fail_errno("open /dev/ptp0", ENOENT);
	ASSERT_FALSE(r);
	EXPECT_EQ(r.error().code, std::errc::no_such_file_or_directory);
	EXPECT_EQ(r.error().message(), "open /dev/ptp0: No such file or directory");
}

} // namespace
} // namespace strata
