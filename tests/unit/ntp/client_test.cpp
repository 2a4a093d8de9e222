#include "ntp/client.h"

#include <array>

#include <gtest/gtest.h>

#include "ntp/responder.h"

namespace strata::ntp {
namespace {

using namespace std::chrono_literals;

const RealTime kT1 = RealTime::from_parts(1'800'000'000, 0);

/// The server side of an exchange: strata's own responder, 3 ms ahead of
/// the client, 1 ms each way, 100 µs between receive and transmit.
const Reference kGps{.synchronized = true, .leap = Leap::None, .stratum = 1, .ref_id = 0x47505300,
		     .ref_time = kT1, .root_delay_s = 0, .root_dispersion_s = 1e-5};

std::array<std::byte, kHeaderSize> serve(std::span<const std::byte> request, const Reference &ref = kGps,
					 Duration server_ahead = 3ms)
{
	Drop why{};
	auto r = classify(request, false, why);
	EXPECT_TRUE(r.has_value());
	Xoshiro256 rng(1);
	std::array<std::byte, kHeaderSize> out{};
	RealTime t2 = kT1 + 1ms + server_ahead;
	build_reply(*r, t2, ref, false, {.precision_log2 = -30}, rng, out);
	stamp_transmit(out, t2 + 100us, -30, rng);
	return out;
}

TEST(ClientSource, ExchangeGivesOffsetAndDelay)
{
	Xoshiro256 rng(7);
	ClientSource c({}, rng);
	auto request = c.make_request(kT1);
	auto response = serve(request);
	Reject why{};
	auto s = c.on_response(response, kT1 + 2100us, why);  // 1 ms + 100 µs + 1 ms
	ASSERT_TRUE(s.has_value()) << static_cast<int>(why);
	EXPECT_NEAR(s->sample.offset_s, 3e-3, 1e-9);
	EXPECT_NEAR(s->sample.delay_s, 2e-3, 1e-9);
	EXPECT_EQ(s->sample.local, kT1 + 1050us);
	EXPECT_EQ(s->info.stratum, 1);
	EXPECT_EQ(s->info.ref_id, 0x47505300u);
	EXPECT_EQ(c.reach(), 1);
}

TEST(ClientSource, TheTransmitTimestampIsARandomCookie)
{
	Xoshiro256 rng(7);
	ClientSource c({}, rng);
	auto a = parse(c.make_request(kT1))->header.transmit;
	auto b = parse(c.make_request(kT1))->header.transmit;
	EXPECT_NE(a, b);
	EXPECT_NE(a, to_ntp(kT1));
}

TEST(ClientSource, DuplicateLateAndForeignResponsesAreRejected)
{
	Xoshiro256 rng(7);
	ClientSource c({}, rng);
	auto first = c.make_request(kT1);
	auto late = serve(first);
	auto second = c.make_request(kT1 + 64s);
	Reject why{};
	EXPECT_FALSE(c.on_response(late, kT1 + 64s + 2ms, why).has_value());  // answers the old request
	EXPECT_EQ(why, Reject::NoRequest);
	auto response = serve(second);
	EXPECT_TRUE(c.on_response(response, kT1 + 64s + 2ms, why).has_value());
	EXPECT_FALSE(c.on_response(response, kT1 + 64s + 3ms, why).has_value());  // duplicate
	EXPECT_EQ(why, Reject::NoRequest);
	EXPECT_FALSE(c.on_response(std::span(response).first(20), kT1, why).has_value());
	EXPECT_EQ(why, Reject::Malformed);
}

TEST(ClientSource, UnsynchronisedServerIsReachableButGivesNoSample)
{
	Xoshiro256 rng(7);
	ClientSource c({}, rng);
	auto request = c.make_request(kT1);
	Reject why{};
	EXPECT_FALSE(c.on_response(serve(request, Reference{}), kT1 + 2ms, why).has_value());
	EXPECT_EQ(why, Reject::Unsynchronized);
	EXPECT_EQ(c.reach(), 1);
}

TEST(ClientSource, KissOfDeathRateSlowsDown)
{
	Xoshiro256 rng(7);
	ClientSource c({.minpoll = 4, .maxpoll = 10}, rng);
	auto request = c.make_request(kT1);
	Drop drop{};
	auto r = classify(request, false, drop);
	std::array<std::byte, kHeaderSize> out{};
	build_reply(*r, kT1, Reference{}, true, {}, rng, out);
	stamp_transmit(out, kT1, -20, rng);
	Reject why{};
	EXPECT_FALSE(c.on_response(out, kT1 + 1ms, why).has_value());
	EXPECT_EQ(why, Reject::KissOfDeath);
	EXPECT_EQ(c.last_kiss(), "RATE");
	EXPECT_EQ(c.poll(), 5);
	EXPECT_EQ(c.reach(), 0);
}

TEST(ClientSource, MaxdelayAndOffsetOptions)
{
	Xoshiro256 rng(7);
	ClientSource c({.maxdelay_s = 1e-3, .offset_s = 0.5}, rng);
	Reject why{};
	auto request = c.make_request(kT1);
	EXPECT_FALSE(c.on_response(serve(request), kT1 + 2100us, why).has_value());
	EXPECT_EQ(why, Reject::TooFar);
	ClientSource d({.offset_s = 0.5}, rng);
	request = d.make_request(kT1);
	auto s = d.on_response(serve(request), kT1 + 2100us, why);
	ASSERT_TRUE(s.has_value());
	EXPECT_NEAR(s->sample.offset_s, 0.503, 1e-9);
}

TEST(ClientSource, IburstThenPollInterval)
{
	Xoshiro256 rng(7);
	ClientSource c({.minpoll = 6, .iburst = true}, rng);
	for (int i = 0; i < 4; i++) {
		EXPECT_EQ(c.next_interval_s(), 2.0);
	}
	EXPECT_EQ(c.next_interval_s(), 64.0);
	c.set_poll(12);
	EXPECT_EQ(c.poll(), 10);
	c.set_poll(2);
	EXPECT_EQ(c.poll(), 6);
}

TEST(ClientSource, ReachabilityRegisterShifts)
{
	Xoshiro256 rng(7);
	ClientSource c({}, rng);
	for (int i = 0; i < 3; i++) {
		auto request = c.make_request(kT1 + i * 64s);
		Reject why{};
		if (i != 1) {
			c.on_response(serve(request), kT1 + i * 64s + 2ms, why);
		}
	}
	EXPECT_EQ(c.reach(), 0b101);
}

} // namespace
} // namespace strata::ntp
