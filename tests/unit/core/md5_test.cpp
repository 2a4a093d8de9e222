#include "core/md5.h"

#include <string_view>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace strata {
namespace {

std::string hex_md5(std::string_view text)
{
	auto digest = md5({reinterpret_cast<const uint8_t *>(text.data()), text.size()});
	std::string out;
	for (uint8_t b : digest) {
		out += fmt::format("{:02x}", b);
	}
	return out;
}

// RFC 1321 appendix A.5's test suite.
TEST(Md5, Rfc1321Vectors)
{
	EXPECT_EQ(hex_md5(""), "d41d8cd98f00b204e9800998ecf8427e");
	EXPECT_EQ(hex_md5("a"), "0cc175b9c0f1b6a831c399e269772661");
	EXPECT_EQ(hex_md5("abc"), "900150983cd24fb0d6963f7d28e17f72");
	EXPECT_EQ(hex_md5("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
	EXPECT_EQ(hex_md5("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b");
	EXPECT_EQ(hex_md5("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
		  "d174ab98d277d9f5a5611c2c9f419d9f");
	EXPECT_EQ(hex_md5("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
		  "57edf4a22be3c955ac49da2e2107b67a");
}

// Lengths around the 56-byte padding boundary.
TEST(Md5, PaddingBoundaries)
{
	EXPECT_EQ(hex_md5(std::string(55, 'a')), "ef1772b6dff9a122358552954ad0df65");
	EXPECT_EQ(hex_md5(std::string(56, 'a')), "3b0c8ac703f828b04c6c197006d17218");
	EXPECT_EQ(hex_md5(std::string(64, 'a')), "014842d480b571495a4a0363793f7367");
}

// The ids chronyc 4.3 printed for these addresses (`ntpdata`, "::1 (CF404DC8)").
TEST(Md5, AddressRefId)
{
	EXPECT_EQ(address_ref_id(*IpAddress::parse("::1")), 0xCF404DC8u);
	EXPECT_EQ(address_ref_id(*IpAddress::parse("127.0.0.2")), 0x7F000002u);
}

} // namespace
} // namespace strata
