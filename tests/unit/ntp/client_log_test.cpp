#include "ntp/client_log.h"

#include <limits>
#include <set>

#include <gtest/gtest.h>

namespace strata::ntp {
namespace {

using namespace std::chrono_literals;

/// An Rng whose one_in_pow2() answers are scripted: next() returns all-ones
/// ("no") unless told to say "yes" (zero).
class ScriptedRng final : public Rng {
public:
	bool yes = false;
	int calls = 0;
	uint64_t next() override
	{
		calls++;
		return yes ? 0 : ~uint64_t{0};
	}
};

IpAddress ip(const char *s) { return *IpAddress::parse(s); }

const MonoTime t0 = MonoTime::from_parts(1000, 0);

TEST(ClientLog, CountsRequestsAndIntervalsWithoutLimiting)
{
	ClientLog log(512 * 1024, std::nullopt, 1);
	ScriptedRng rng;
	for (int i = 0; i < 5; i++) {
		EXPECT_EQ(log.on_ntp_request(ip("192.0.2.1"), t0 + i * 2s, rng), Verdict::Respond);
	}
	EXPECT_EQ(rng.calls, 0);
	auto r = log.find(ip("192.0.2.1"));
	ASSERT_TRUE(r);
	EXPECT_EQ(r->ntp_requests, 5u);
	EXPECT_EQ(r->ntp_drops, 0u);
	EXPECT_EQ(r->last_request, t0 + 8s);
	EXPECT_FLOAT_EQ(r->mean_request_interval_s, 2.0f);
	EXPECT_FLOAT_EQ(r->mean_response_interval_s, 2.0f);
	EXPECT_FALSE(log.find(ip("192.0.2.2")));
	EXPECT_EQ(log.size(), 1u);
}

TEST(ClientLog, ResetZeroesCountersAndIntervalsOfOneClient)
{
	ClientLog log(512 * 1024, std::nullopt, 1);
	ScriptedRng rng;
	for (int i = 0; i < 3; i++) {
		log.on_ntp_request(ip("192.0.2.1"), t0 + i * 4s, rng);
		log.on_ntp_request(ip("192.0.2.2"), t0 + i * 4s, rng);
	}
	EXPECT_TRUE(log.reset(ip("192.0.2.1")));
	EXPECT_FALSE(log.reset(ip("192.0.2.9")));
	auto r = log.find(ip("192.0.2.1"));
	ASSERT_TRUE(r);
	EXPECT_EQ(r->ntp_requests, 0u);
	EXPECT_LT(r->mean_request_interval_s, 0);
	EXPECT_LT(r->mean_response_interval_s, 0);
	EXPECT_EQ(log.find(ip("192.0.2.2"))->ntp_requests, 3u);
	// Counting starts again, and the first interval after it is a new one.
	log.on_ntp_request(ip("192.0.2.1"), t0 + 9s, rng);
	log.on_ntp_request(ip("192.0.2.1"), t0 + 10s, rng);
	r = log.find(ip("192.0.2.1"));
	EXPECT_EQ(r->ntp_requests, 2u);
	EXPECT_FLOAT_EQ(r->mean_request_interval_s, 1.0f);
}

TEST(ClientLog, AHugeLimitIsCappedAtTheMostRecords)
{
	// clientloglimit takes up to 2^40 bytes; the table stops at kMaxRecords
	// (the pages of an untouched calloc are not committed).
	ClientLog log(std::numeric_limits<size_t>::max(), std::nullopt, 1);
	EXPECT_EQ(log.capacity(), ClientLog::kMaxRecords);
	ScriptedRng rng;
	EXPECT_EQ(log.on_ntp_request(ip("192.0.2.1"), t0, rng), Verdict::Respond);
	EXPECT_EQ(log.size(), 1u);
}

TEST(ClientLog, BurstThenOneResponsePerInterval)
{
	RateLimitConfig cfg{.interval_log2 = 1, .burst = 4, .leak_log2 = 2, .kod_log2 = 0};
	ClientLog log(512 * 1024, cfg, 7);
	ScriptedRng rng;  // never leaks
	auto c = ip("198.51.100.9");
	// A fresh client may send `burst` requests at once.
	for (int i = 0; i < 4; i++) {
		EXPECT_EQ(log.on_ntp_request(c, t0, rng), Verdict::Respond) << i;
	}
	EXPECT_EQ(log.on_ntp_request(c, t0, rng), Verdict::Drop);
	// One token per 2 s: not yet at t0 + 2 s - 1 ns, then exactly one.
	EXPECT_EQ(log.on_ntp_request(c, t0 + 2s - 1ns, rng), Verdict::Drop);
	EXPECT_EQ(log.on_ntp_request(c, t0 + 2s, rng), Verdict::Respond);
	EXPECT_EQ(log.on_ntp_request(c, t0 + 2s, rng), Verdict::Drop);
	// Saved tokens never exceed the burst.
	for (int i = 0; i < 4; i++) {
		EXPECT_EQ(log.on_ntp_request(c, t0 + 1h, rng), Verdict::Respond) << i;
	}
	EXPECT_EQ(log.on_ntp_request(c, t0 + 1h, rng), Verdict::Drop);
	auto r = log.find(c);
	ASSERT_TRUE(r);
	EXPECT_EQ(r->ntp_requests, 13u);
	EXPECT_EQ(r->ntp_drops, 4u);
}

TEST(ClientLog, LeakAnswersSomeLimitedRequests)
{
	RateLimitConfig cfg{.interval_log2 = 3, .burst = 1, .leak_log2 = 2, .kod_log2 = 0};
	ClientLog log(64 * 1024, cfg, 7);
	Xoshiro256 rng(42);
	auto c = ip("203.0.113.5");
	int answered = 0;
	const int n = 40000;
	for (int i = 0; i < n; i++) {
		// 1000 requests per second: all but the first are over the limit.
		if (log.on_ntp_request(c, t0 + i * 1ms, rng) == Verdict::Respond) {
			answered++;
		}
	}
	// About one in four leaks (plus one token per 8 s): 10000 ± 5 sigma.
	EXPECT_NEAR(answered, n / 4, 5 * 87);
}

TEST(ClientLog, ALeakedResponseSpendsWhatWasSavedTowardTheNextToken)
{
	RateLimitConfig cfg{.interval_log2 = 3, .burst = 1, .leak_log2 = 4, .kod_log2 = 0};
	ClientLog log(64 * 1024, cfg, 3);
	ScriptedRng rng;
	auto c = ip("203.0.113.7");
	EXPECT_EQ(log.on_ntp_request(c, t0, rng), Verdict::Respond);  // the burst token
	rng.yes = true;  // half a token saved, then a leak
	EXPECT_EQ(log.on_ntp_request(c, t0 + 4s, rng), Verdict::Respond);
	rng.yes = false;
	// 8 s after the first answer, but only 4 s after the leak: no token yet
	// (chronyd's rule; chrony's 135-ratelimit counts the answers).
	EXPECT_EQ(log.on_ntp_request(c, t0 + 8s, rng), Verdict::Drop);
	EXPECT_EQ(log.on_ntp_request(c, t0 + 12s, rng), Verdict::Respond);
}

TEST(ClientLog, KissOfDeathOnlyWhenEnabledAndNotLeaked)
{
	RateLimitConfig with_kod{.interval_log2 = 3, .burst = 1, .leak_log2 = 1, .kod_log2 = 1};
	ClientLog log(64 * 1024, with_kod, 3);
	ScriptedRng rng;
	auto c = ip("203.0.113.6");
	EXPECT_EQ(log.on_ntp_request(c, t0, rng), Verdict::Respond);  // the burst token
	rng.yes = true;   // leak draw says yes first
	EXPECT_EQ(log.on_ntp_request(c, t0, rng), Verdict::Respond);
	rng.yes = false;  // neither leak nor KoD
	EXPECT_EQ(log.on_ntp_request(c, t0, rng), Verdict::Drop);

	// With kod 0 a limited request is never answered with a KoD.
	RateLimitConfig no_kod{.interval_log2 = 3, .burst = 1, .leak_log2 = 4, .kod_log2 = 0};
	ClientLog plain(64 * 1024, no_kod, 3);
	Xoshiro256 real(5);
	for (int i = 0; i < 1000; i++) {
		EXPECT_NE(plain.on_ntp_request(c, t0, real), Verdict::KissOfDeathRate);
	}
}

TEST(ClientLog, KissOfDeathRateIsSent)
{
	RateLimitConfig cfg{.interval_log2 = 3, .burst = 1, .leak_log2 = 4, .kod_log2 = 1};
	ClientLog log(64 * 1024, cfg, 3);
	Xoshiro256 rng(9);
	auto c = ip("203.0.113.7");
	int kod = 0;
	for (int i = 0; i < 1000; i++) {
		kod += log.on_ntp_request(c, t0, rng) == Verdict::KissOfDeathRate;
	}
	// (15/16) · (1/2) of ~999 limited requests.
	EXPECT_NEAR(kod, 468, 80);
}

TEST(ClientLog, BoundedMemoryReplacesTheOldestInABucket)
{
	ClientLog log(1, std::nullopt, 11);  // smallest table: one bucket
	ASSERT_GE(log.capacity(), 1u);
	ScriptedRng rng;
	size_t cap = log.capacity();
	for (uint32_t i = 0; i < cap + 3; i++) {
		log.on_ntp_request(IpAddress::v4(0x0a000000 + i), t0 + std::chrono::seconds(i), rng);
	}
	EXPECT_EQ(log.size(), cap);
	EXPECT_EQ(log.records_dropped(), 3u);
	// The three oldest went; the newest are there.
	EXPECT_FALSE(log.find(IpAddress::v4(0x0a000000)));
	EXPECT_TRUE(log.find(IpAddress::v4(0x0a000000 + static_cast<uint32_t>(cap) + 2)));
	// The report visits exactly the records held: the survivors, once each.
	std::set<uint32_t> visited;
	log.for_each([&](const ClientRecord &r) {
		EXPECT_TRUE(visited.insert(r.address.v4_host_order()).second);
	});
	EXPECT_EQ(visited.size(), cap);
	for (uint32_t i = 3; i < cap + 3; i++) {
		EXPECT_TRUE(visited.count(0x0a000000 + i)) << i;
	}
}

TEST(ClientLog, MappedIpv4IsTheSameClient)
{
	ClientLog log(64 * 1024, std::nullopt, 1);
	ScriptedRng rng;
	log.on_ntp_request(ip("::ffff:192.0.2.1"), t0, rng);
	log.on_ntp_request(ip("192.0.2.1"), t0 + 1s, rng);
	EXPECT_EQ(log.size(), 1u);
	EXPECT_EQ(log.find(ip("192.0.2.1"))->ntp_requests, 2u);
}

TEST(ClientLog, AnIpv6ClientRotatingThroughItsSlash64IsLimitedAsOne)
{
	RateLimitConfig cfg{.interval_log2 = 3, .burst = 4, .leak_log2 = 4, .kod_log2 = 0};
	ClientLog log(512 * 1024, cfg, 7);  // default groups: /32 and /64
	ScriptedRng rng;                      // never leaks
	// A new address of the same /64 for every request, all at once: four
	// answered (the burst), every other one dropped.
	int answered = 0;
	for (int i = 0; i < 100; i++) {
		auto a = IpAddress::v6({0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, static_cast<uint8_t>(i), 0, 0, 0, 0, 0,
					static_cast<uint8_t>(i * 7), static_cast<uint8_t>(i)});
		answered += log.on_ntp_request(a, t0, rng) == Verdict::Respond;
	}
	EXPECT_EQ(answered, 4);
	EXPECT_EQ(log.size(), 1u);  // one record: the rotation crowds nobody out
	auto r = log.find(ip("2001:db8:1:2:ffff::1"));
	ASSERT_TRUE(r);
	EXPECT_EQ(r->address, ip("2001:db8:1:2::"));
	EXPECT_EQ(r->ntp_requests, 100u);
	EXPECT_EQ(r->ntp_drops, 96u);
	// Another /64 (one bit away) is another client, with its own burst.
	EXPECT_EQ(log.on_ntp_request(ip("2001:db8:1:3::1"), t0, rng), Verdict::Respond);
	EXPECT_EQ(log.size(), 2u);
	// IPv4 addresses are their own clients by default.
	for (int i = 0; i < 4; i++) {
		EXPECT_EQ(log.on_ntp_request(ip("192.0.2.1"), t0, rng), Verdict::Respond);
		EXPECT_EQ(log.on_ntp_request(ip("192.0.2.2"), t0, rng), Verdict::Respond);
	}
	EXPECT_EQ(log.on_ntp_request(ip("192.0.2.1"), t0, rng), Verdict::Drop);
	// reset() takes any address of the group.
	EXPECT_TRUE(log.reset(ip("2001:db8:1:2:abcd::9")));
	EXPECT_EQ(log.find(ip("2001:db8:1:2::"))->ntp_requests, 0u);
}

TEST(ClientLog, PrefixLengthsAreConfigurable)
{
	ClientGroups groups{.ipv4_prefix = 24, .ipv6_prefix = 48};
	EXPECT_EQ(groups.group_of(ip("192.0.2.77")), ip("192.0.2.0"));
	EXPECT_EQ(groups.group_of(ip("::ffff:192.0.2.77")), ip("192.0.2.0"));
	EXPECT_EQ(groups.group_of(ip("2001:db8:1:2:3::4")), ip("2001:db8:1::"));
	ClientGroups odd{.ipv4_prefix = 31, .ipv6_prefix = 57};
	EXPECT_EQ(odd.group_of(ip("192.0.2.3")), ip("192.0.2.2"));
	EXPECT_EQ(odd.group_of(ip("2001:db8:1:ff:ffff::")), ip("2001:db8:1:80::"));
	ClientGroups exact{.ipv4_prefix = 32, .ipv6_prefix = 128};
	EXPECT_EQ(exact.group_of(ip("2001:db8::7")), ip("2001:db8::7"));

	ClientLog log(512 * 1024, RateLimitConfig{.interval_log2 = 3, .burst = 1, .leak_log2 = 4}, 7, groups);
	ScriptedRng rng;
	EXPECT_EQ(log.on_ntp_request(ip("192.0.2.1"), t0, rng), Verdict::Respond);
	EXPECT_EQ(log.on_ntp_request(ip("192.0.2.200"), t0, rng), Verdict::Drop);  // same /24
	EXPECT_EQ(log.on_ntp_request(ip("192.0.3.1"), t0, rng), Verdict::Respond);
	EXPECT_EQ(log.on_ntp_request(ip("2001:db8:1:2::1"), t0, rng), Verdict::Respond);
	EXPECT_EQ(log.on_ntp_request(ip("2001:db8:1:ffff::1"), t0, rng), Verdict::Drop);  // same /48
	EXPECT_EQ(log.on_ntp_request(ip("2001:db8:2::1"), t0, rng), Verdict::Respond);
}

} // namespace
} // namespace strata::ntp
