#include "ntp/access.h"

#include <gtest/gtest.h>

namespace strata::ntp {
namespace {

IpAddress ip(const char *s)
{
	auto a = IpAddress::parse(s);
	EXPECT_TRUE(a) << s;
	return a.value_or(IpAddress{});
}

Subnet net(const char *s)
{
	auto n = Subnet::parse(s);
	EXPECT_TRUE(n) << s;
	return n.value_or(Subnet{});
}

TEST(AccessTable, DeniesEverythingWithNoRules)
{
	AccessTable t;
	EXPECT_FALSE(t.allowed(ip("127.0.0.1")));
	EXPECT_FALSE(t.allowed(ip("::1")));
	EXPECT_FALSE(t.any_allowed(IpAddress::Family::V4));
	EXPECT_FALSE(t.any_allowed(IpAddress::Family::V6));
}

TEST(AccessTable, AllowsASubnetAtItsExactEdges)
{
	AccessTable t;
	t.allow(net("192.168.0.0/16"));
	EXPECT_TRUE(t.allowed(ip("192.168.0.0")));
	EXPECT_TRUE(t.allowed(ip("192.168.255.255")));
	EXPECT_FALSE(t.allowed(ip("192.169.0.0")));
	EXPECT_FALSE(t.allowed(ip("192.167.255.255")));
	EXPECT_TRUE(t.any_allowed(IpAddress::Family::V4));
	EXPECT_FALSE(t.any_allowed(IpAddress::Family::V6));
}

TEST(AccessTable, PrefixLengthsThatAreNotMultiplesOfFour)
{
	AccessTable t;
	t.allow(net("10.0.0.0/9"));  // 10.0.0.0 - 10.127.255.255
	EXPECT_TRUE(t.allowed(ip("10.127.255.255")));
	EXPECT_FALSE(t.allowed(ip("10.128.0.0")));
	t.allow(net("172.16.0.0/12"));
	EXPECT_TRUE(t.allowed(ip("172.31.255.255")));
	EXPECT_FALSE(t.allowed(ip("172.32.0.0")));
	t.allow(net("1.2.3.5/32"));
	EXPECT_TRUE(t.allowed(ip("1.2.3.5")));
	EXPECT_FALSE(t.allowed(ip("1.2.3.4")));
}

// chrony.conf(5)'s first example: order does not matter, the most specific wins.
TEST(AccessTable, MostSpecificRuleWinsWhateverTheOrder)
{
	const char *rules[3][2] = {{"allow", "1.2.3.4/32"}, {"deny", "1.2.3.0/24"}, {"allow", "1.2.0.0/16"}};
	int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	for (auto &order : orders) {
		AccessTable t;
		for (int i : order) {
			if (rules[i][0][0] == 'a') {
				t.allow(net(rules[i][1]));
			} else {
				t.deny(net(rules[i][1]));
			}
		}
		EXPECT_TRUE(t.allowed(ip("1.2.3.4")));
		EXPECT_FALSE(t.allowed(ip("1.2.3.5")));
		EXPECT_TRUE(t.allowed(ip("1.2.4.1")));
		EXPECT_FALSE(t.allowed(ip("1.3.0.1")));
	}
}

// chrony.conf(5)'s second example: `allow all` overrides earlier rules inside it.
TEST(AccessTable, AllowAllOverridesEarlierMoreSpecificRules)
{
	AccessTable t;
	t.allow(net("1.2.3.4/32"));
	t.deny(net("1.2.3.0/24"));
	t.allow(net("1.2.0.0/16"), /*all=*/true);
	EXPECT_TRUE(t.allowed(ip("1.2.3.5")));
	EXPECT_TRUE(t.allowed(ip("1.2.3.4")));
	// A later, more specific rule still applies.
	t.deny(net("1.2.9.0/24"));
	EXPECT_FALSE(t.allowed(ip("1.2.9.1")));
}

TEST(AccessTable, DenyAllOverridesEarlierAllows)
{
	AccessTable t;
	t.allow(net("10.1.1.1/32"));
	t.allow(net("10.0.0.0/8"));
	t.deny(net("10.0.0.0/8"), /*all=*/true);
	EXPECT_FALSE(t.allowed(ip("10.1.1.1")));
	EXPECT_FALSE(t.any_allowed(IpAddress::Family::V4));
}

// Rules in the same table level apply in order; in different levels the
// more specific one wins (chrony.conf(5): /25 and /28 share a table, /28 and
// /29 do not).
TEST(AccessTable, OrderMattersOnlyWithinOneTableLevel)
{
	AccessTable a;
	a.deny(net("1.2.3.0/28"));
	a.allow(net("1.2.3.0/25"));  // same level: overwrites the /28 entry
	EXPECT_TRUE(a.allowed(ip("1.2.3.1")));

	AccessTable b;
	b.allow(net("1.2.3.0/25"));
	b.deny(net("1.2.3.0/28"));
	EXPECT_FALSE(b.allowed(ip("1.2.3.1")));
	EXPECT_TRUE(b.allowed(ip("1.2.3.16")));

	AccessTable c;
	c.deny(net("1.2.3.0/29"));
	c.allow(net("1.2.3.0/28"));  // different level: the /29 stays more specific
	EXPECT_FALSE(c.allowed(ip("1.2.3.1")));
	EXPECT_TRUE(c.allowed(ip("1.2.3.9")));
}

TEST(AccessTable, BareAllowCoversBothFamilies)
{
	AccessTable t;
	t.allow_everything();
	EXPECT_TRUE(t.allowed(ip("203.0.113.7")));
	EXPECT_TRUE(t.allowed(ip("2001:db8::7")));
	t.deny(net("203.0.113.0/24"));
	EXPECT_FALSE(t.allowed(ip("203.0.113.7")));
	t.deny_everything(/*all=*/true);
	EXPECT_FALSE(t.allowed(ip("198.51.100.1")));
	EXPECT_FALSE(t.any_allowed(IpAddress::Family::V6));
}

TEST(AccessTable, ZeroPrefixIsOneFamilyOnly)
{
	AccessTable t;
	t.allow(net("0.0.0.0/0"));
	EXPECT_TRUE(t.allowed(ip("8.8.8.8")));
	EXPECT_FALSE(t.allowed(ip("2001:db8::1")));
	t.allow(net("::/0"));
	EXPECT_TRUE(t.allowed(ip("2001:db8::1")));
}

TEST(AccessTable, Ipv6HostsAndMappedIpv4)
{
	AccessTable t;
	t.allow(net("::1/128"));
	t.allow(net("127.0.0.0/8"));
	EXPECT_TRUE(t.allowed(ip("::1")));
	EXPECT_FALSE(t.allowed(ip("::2")));
	EXPECT_TRUE(t.allowed(ip("::ffff:127.0.0.1")));  // checked as IPv4
	t.allow(net("2001:db8::/33"));
	EXPECT_TRUE(t.allowed(ip("2001:db8:7fff:ffff::1")));
	EXPECT_FALSE(t.allowed(ip("2001:db8:8000::1")));
}

} // namespace
} // namespace strata::ntp
