// The server's per-request work (parse and classify the request, check the
// client log and rate limit, build the reply) allocates nothing: this binary
// counts every operator new while it runs that path.
#include <array>
#include <atomic>
#include <cstdlib>
#include <new>

#include <gtest/gtest.h>

#include "core/random.h"
#include "ntp/client_log.h"
#include "ntp/keys.h"
#include "ntp/responder.h"

namespace {
std::atomic<long> g_allocations{0};
}

void *operator new(std::size_t size)
{
	g_allocations++;
	if (void *p = std::malloc(size == 0 ? 1 : size)) {
		return p;
	}
	throw std::bad_alloc();
}
// g++ 12 sees operator new and std::free meet once these are inlined and
// warns; here they are a matched pair (this new calls malloc).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void *p) noexcept
{
	std::free(p);
}
void operator delete(void *p, std::size_t) noexcept
{
	std::free(p);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace strata::ntp {
namespace {

TEST(ServerHotPath, ValidRequestsAllocateNothing)
{
	std::array<std::byte, kHeaderSize> request{};
	request[0] = std::byte{0x23};  // v4 client
	ClientLog clients(524288, RateLimitConfig{}, 1);
	Xoshiro256 rng(1);
	Reference reference{.leap = Leap::None, .stratum = 3, .ref_id = kLocalRefId};
	std::array<std::byte, kHeaderSize> out{};
	ServerParams params{.precision_log2 = -24, .ratelimit_interval_log2 = 3};
	long before = g_allocations.load();
	size_t replies = 0;
	for (uint32_t i = 0; i < 10000; i++) {
		Drop why{};
		auto r = classify(request, false, why);
		ASSERT_TRUE(r.has_value());
		auto client = IpAddress::v4(0x7f010000 + i % 500);
		auto verdict = clients.on_ntp_request(client, MonoTime::from_parts(i, 0), rng);
		if (verdict != Verdict::Drop) {
			replies += build_reply(*r, RealTime::from_parts(1'800'000'000, 0), reference,
					       verdict == Verdict::KissOfDeathRate, params, rng, out) > 0;
			stamp_transmit(out, RealTime::from_parts(1'800'000'000, 5), params.precision_log2, rng);
		}
	}
	EXPECT_EQ(g_allocations.load() - before, 0);
	EXPECT_EQ(replies, 10000u);  // 500 clients, each once every 500 s: never limited
}

TEST(ServerHotPath, AuthenticatedRequestsAllocateNothing)
{
	// The keys are loaded before the count starts; checking and signing
	// MACs of each kind then allocates nothing.
	auto keys = parse_keyfile("1 MD5 HEX:6B5D3C6A2E4A74775E4F6F3B7A35453E\n"
				  "2 SHA3-512 HEX:6B5D3C6A2E4A74775E4F6F3B7A35453E\n"
				  "3 AES256 HEX:603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4\n");
	ASSERT_TRUE(keys.ok());
	std::array<std::array<std::byte, kHeaderSize + kMaxMacTrailer>, 3> requests{};
	std::array<size_t, 3> lengths{};
	for (uint32_t k = 0; k < 3; k++) {
		requests[k][0] = std::byte{0x1b};  // v3 client: the longest MACs
		lengths[k] = append_mac(*keys.keys->find(k + 1), requests[k], kHeaderSize, 3);
		ASSERT_GT(lengths[k], kHeaderSize);
	}
	Xoshiro256 rng(1);
	Reference reference{.leap = Leap::None, .stratum = 3, .ref_id = kLocalRefId};
	std::array<std::byte, kHeaderSize + kMaxMacTrailer> out{};
	long before = g_allocations.load();
	size_t replies = 0;
	for (uint32_t i = 0; i < 3000; i++) {
		Drop why{};
		auto r = classify(std::span(requests[i % 3]).first(lengths[i % 3]), false, why, nullptr, keys.keys.get());
		ASSERT_TRUE(r.has_value());
		ASSERT_NE(r->key, nullptr);
		build_reply(*r, RealTime::from_parts(1'800'000'000, 0), reference, false, {}, rng,
			    std::span(out).first<kHeaderSize>());
		stamp_transmit(std::span(out).first<kHeaderSize>(), RealTime::from_parts(1'800'000'000, 5), -20, rng);
		replies += append_mac(*r->key, out, kHeaderSize, r->header.version) == lengths[i % 3];
	}
	EXPECT_EQ(g_allocations.load() - before, 0);
	EXPECT_EQ(replies, 3000u);
}

} // namespace
} // namespace strata::ntp
