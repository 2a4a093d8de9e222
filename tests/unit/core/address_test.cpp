#include "core/address.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(IpAddress, ParsesAndFormatsIpv4)
{
	auto a = IpAddress::parse("192.168.163.131");
	ASSERT_TRUE(a);
	EXPECT_TRUE(a->is_v4());
	EXPECT_EQ(a->v4_host_order(), 0xc0a8a383u);
	EXPECT_EQ(a->to_string(), "192.168.163.131");
	EXPECT_EQ(IpAddress::parse("0.0.0.0")->to_string(), "0.0.0.0");
	EXPECT_EQ(IpAddress::parse("255.255.255.255")->v4_host_order(), 0xffffffffu);
}

TEST(IpAddress, RejectsMalformedIpv4)
{
	for (const char *bad : {"", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "300.1.1.1", "1.2.3.04",
				"1..2.3", "1.2.3.4 ", " 1.2.3.4", "a.b.c.d", "1.2.3.-4", "1.2.3.1000",
				"localhost"}) {
		EXPECT_FALSE(IpAddress::parse(bad)) << bad;
	}
}

TEST(IpAddress, ParsesIpv6Forms)
{
	struct Case {
		const char *in, *out;
	} cases[] = {
		{"::", "::"},
		{"::1", "::1"},
		{"2001:db8::1", "2001:db8::1"},
		{"2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
		{"fe80::", "fe80::"},
		{"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
		{"1:0:0:2:0:0:0:3", "1:0:0:2::3"},        // longest run wins
		{"1:0:0:2:0:0:3:4", "1::2:0:0:3:4"},      // first run wins a tie
		{"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},  // a single zero group stays
		{"::ffff:192.0.2.1", "::ffff:c000:201"},
		{"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
	};
	for (const auto &c : cases) {
		auto a = IpAddress::parse(c.in);
		ASSERT_TRUE(a) << c.in;
		EXPECT_FALSE(a->is_v4());
		EXPECT_EQ(a->to_string(), c.out) << c.in;
		EXPECT_EQ(IpAddress::parse(a->to_string()), a) << "round trip of " << c.in;
	}
}

TEST(IpAddress, RejectsMalformedIpv6)
{
	for (const char *bad : {":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::",
				"1:2:3:4:5:6:7:8::", ":1::", "1:", "g::1", "::1.2.3", "1.2.3.4::",
				"fe80::1%eth0", "::/64"}) {
		EXPECT_FALSE(IpAddress::parse(bad)) << bad;
	}
}

TEST(IpAddress, UnmapsIpv4MappedIpv6)
{
	auto mapped = IpAddress::parse("::ffff:127.0.0.1");
	ASSERT_TRUE(mapped);
	EXPECT_EQ(mapped->unmapped(), IpAddress::v4(0x7f000001));
	auto plain = IpAddress::parse("::1");
	EXPECT_EQ(plain->unmapped(), plain);
}

TEST(Subnet, ParsesPrefixesAndClearsHostBits)
{
	auto s = Subnet::parse("192.168.1.77/16");
	ASSERT_TRUE(s);
	EXPECT_EQ(s->to_string(), "192.168.0.0/16");
	EXPECT_EQ(Subnet::parse("10.0.0.1")->prefix_len, 32);
	EXPECT_EQ(Subnet::parse("2001:db8::1")->prefix_len, 128);
	EXPECT_EQ(Subnet::parse("2001:db8:ffff::/32")->to_string(), "2001:db8::/32");
	EXPECT_EQ(Subnet::parse("0.0.0.0/0")->to_string(), "0.0.0.0/0");
}

TEST(Subnet, RejectsBadPrefixes)
{
	for (const char *bad : {"300.1.1.1/8", "1.2.3.4/33", "1.2.3.4/-1", "1.2.3.4/", "1.2.3.4/8x",
				"::1/129", "/8", "1.2.3.4/ 8"}) {
		EXPECT_FALSE(Subnet::parse(bad)) << bad;
	}
	EXPECT_TRUE(Subnet::parse("1.2.3.4/32"));
	EXPECT_TRUE(Subnet::parse("::1/128"));
}

TEST(Subnet, ContainsAtExactPrefixBoundaries)
{
	auto s = *Subnet::parse("192.168.0.0/23");
	EXPECT_TRUE(s.contains(*IpAddress::parse("192.168.0.0")));
	EXPECT_TRUE(s.contains(*IpAddress::parse("192.168.1.255")));
	EXPECT_FALSE(s.contains(*IpAddress::parse("192.168.2.0")));
	EXPECT_FALSE(s.contains(*IpAddress::parse("192.167.255.255")));
	EXPECT_FALSE(s.contains(*IpAddress::parse("::ffff:192.168.0.1")));  // other family

	auto all4 = *Subnet::parse("0.0.0.0/0");
	EXPECT_TRUE(all4.contains(*IpAddress::parse("255.255.255.255")));
	auto v6 = *Subnet::parse("2001:db8::/33");
	EXPECT_TRUE(v6.contains(*IpAddress::parse("2001:db8:7fff::1")));
	EXPECT_FALSE(v6.contains(*IpAddress::parse("2001:db8:8000::1")));
}

} // namespace
} // namespace strata
