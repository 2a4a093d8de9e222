#include "ntp/client.h"

#include <array>
#include <vector>

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
					 Duration server_ahead = 3ms, RealTime t1 = kT1)
{
	Drop why{};
	auto r = classify(request, false, why);
	EXPECT_TRUE(r.has_value());
	Xoshiro256 rng(1);
	std::array<std::byte, kHeaderSize> out{};
	RealTime t2 = t1 + 1ms + server_ahead;
	build_reply(*r, t2, ref, false, {.precision_log2 = -30}, rng, out);
	stamp_transmit(out, t2 + 100us, -30, rng);
	return out;
}

TEST(ClientSource, ExchangeGivesOffsetAndDelay)
{
	Xoshiro256 rng(7);
	ClientSource c({}, rng);
	auto request = *c.make_request(kT1);
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

// Exchanges whose four timestamps straddle the NTP era wrap
// (2036-02-07T06:28:16Z: the request leaves in era 0, the server's receive
// and transmit stamps are in era 1, seconds 0), 2^31 s (2038-01-19, where a
// 32-bit time_t wraps) and 2^32 s (2106-02-07, where an unsigned one does):
// the same offset, delay and local time as anywhere else.
TEST(ClientSource, ExchangesAcrossTheNtpEraWrap2038And2106)
{
	for (int64_t edge : {int64_t{2'085'978'496}, int64_t{2'147'483'648}, int64_t{4'294'967'296}}) {
		SCOPED_TRACE(edge);
		const RealTime t1 = RealTime::from_parts(edge - 1, 998'000'000);  // 2 ms before
		Xoshiro256 rng(7);
		ClientSource c({}, rng);
		auto request = *c.make_request(t1);
		auto response = serve(request, kGps, 3ms, t1);  // received 2 ms after the edge
		auto parsed = parse(response);
		ASSERT_TRUE(parsed.has_value());
		EXPECT_EQ(from_ntp(parsed->header.receive), t1 + 4ms);
		if (edge == 2'085'978'496) {
			EXPECT_EQ(parsed->header.receive.seconds, 0u);  // era 1
		}
		Reject why{};
		auto s = c.on_response(response, t1 + 2100us, why);
		ASSERT_TRUE(s.has_value()) << static_cast<int>(why);
		// Within the 2^-32 s rounding of the server's two stamps to the
		// nearest nanosecond.
		EXPECT_NEAR(s->sample.offset_s, 3e-3, 2e-9);
		EXPECT_NEAR(s->sample.delay_s, 2e-3, 2e-9);
		EXPECT_EQ(s->sample.local, t1 + 1050us);
	}
}

TEST(ClientSource, TheTransmitTimestampIsARandomCookie)
{
	Xoshiro256 rng(7);
	ClientSource c({}, rng);
	auto a = parse(*c.make_request(kT1))->header.transmit;
	auto b = parse(*c.make_request(kT1))->header.transmit;
	EXPECT_NE(a, b);
	EXPECT_NE(a, to_ntp(kT1));
}

TEST(ClientSource, DuplicateLateAndForeignResponsesAreRejected)
{
	Xoshiro256 rng(7);
	ClientSource c({}, rng);
	auto first = *c.make_request(kT1);
	auto late = serve(first);
	auto second = *c.make_request(kT1 + 64s);
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

TEST(ClientSource, UnsynchronisedServerAnswersButIsNotReachableAsASource)
{
	// chronyd's register counts only answers that could synchronise (its
	// synced_packet): an unsynchronised server or peer answers, but is no
	// time source yet (105-ntpauth's peers, until one of them is synchronised).
	Xoshiro256 rng(7);
	ClientSource c({}, rng);
	auto request = *c.make_request(kT1);
	Reject why{};
	EXPECT_FALSE(c.on_response(serve(request, Reference{}), kT1 + 2ms, why).has_value());
	EXPECT_EQ(why, Reject::Unsynchronized);
	EXPECT_EQ(c.reach(), 0);
	EXPECT_EQ(c.unanswered(), 0);  // answered all the same
	EXPECT_FALSE(c.awaiting_response());
	// A synchronised server whose measurement is too slow (maxdelay) is
	// reachable: the server is fine, the measurement is not.
	ClientSource slow({.maxdelay_s = 1e-3}, rng);
	request = *slow.make_request(kT1);
	EXPECT_FALSE(slow.on_response(serve(request), kT1 + 2100us, why).has_value());
	EXPECT_EQ(why, Reject::TooFar);
	EXPECT_EQ(slow.reach(), 1);
}

TEST(ClientSource, KissOfDeathRateSlowsDown)
{
	Xoshiro256 rng(7);
	ClientSource c({.minpoll = 4, .maxpoll = 10}, rng);
	auto request = *c.make_request(kT1);
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
	auto request = *c.make_request(kT1);
	EXPECT_FALSE(c.on_response(serve(request), kT1 + 2100us, why).has_value());
	EXPECT_EQ(why, Reject::TooFar);
	ClientSource d({.offset_s = 0.5}, rng);
	request = *d.make_request(kT1);
	auto s = d.on_response(serve(request), kT1 + 2100us, why);
	ASSERT_TRUE(s.has_value());
	EXPECT_NEAR(s->sample.offset_s, 0.503, 1e-9);
}

/// One exchange with the test server; the sample or nullopt.
std::optional<ClientSample> exchange(ClientSource &c, Reject &why)
{
	auto request = *c.make_request(kT1);
	return c.on_response(serve(request), kT1 + 2100us, why);
}

TEST(ClientSource, IburstEndsAfterFourGoodResponses)
{
	Xoshiro256 rng(7);
	ClientSource c({.minpoll = 6, .iburst = true}, rng);
	Reject why{};
	for (int i = 0; i < 3; i++) {
		auto request = *c.make_request(kT1);
		EXPECT_EQ(c.next_interval_s(), 2.0);
		ASSERT_TRUE(c.on_response(serve(request), kT1 + 2100us, why).has_value());
		c.sample_accepted();
		EXPECT_FALSE(c.take_burst_ended());
	}
	auto request = *c.make_request(kT1);
	EXPECT_EQ(c.next_interval_s(), 2.0);  // the timer is set before the answer comes
	ASSERT_TRUE(c.on_response(serve(request), kT1 + 2100us, why).has_value());
	// A response is not enough: the caller's delay tests must accept it.
	EXPECT_FALSE(c.take_burst_ended());
	c.sample_accepted();
	EXPECT_TRUE(c.take_burst_ended());
	EXPECT_FALSE(c.take_burst_ended());  // once
	EXPECT_EQ(c.next_interval_s(), 64.0);
	c.set_poll(12);
	EXPECT_EQ(c.poll(), 10);
	c.set_poll(2);
	EXPECT_EQ(c.poll(), 6);
}

TEST(ClientSource, IburstGivesUpAfterEightRequests)
{
	Xoshiro256 rng(7);
	ClientSource c({.minpoll = 6, .iburst = true}, rng);
	for (int i = 0; i < 7; i++) {
		c.make_request(kT1);  // no answers
		EXPECT_EQ(c.next_interval_s(), 2.0) << i;
	}
	c.make_request(kT1);
	EXPECT_EQ(c.next_interval_s(), 64.0);
	EXPECT_FALSE(c.take_burst_ended());
}

TEST(ClientSource, BurstAddsRequestsOnlyUntilAGoodResponse)
{
	Xoshiro256 rng(7);
	ClientSource c({.minpoll = 4, .burst = true}, rng);
	c.set_poll(6);
	Reject why{};
	// A good answer to the regular request: no extra request.
	ASSERT_TRUE(exchange(c, why).has_value());
	c.sample_accepted();
	EXPECT_TRUE(c.take_burst_ended());
	EXPECT_EQ(c.next_interval_s(), 64.0);
	// No answers: min(2^(6−4), 4) = 4 more requests 2 s apart, then the poll.
	c.make_request(kT1);
	for (int i = 0; i < 4; i++) {
		EXPECT_EQ(c.next_interval_s(), 2.0) << i;
		c.make_request(kT1);
	}
	EXPECT_EQ(c.next_interval_s(), 64.0);
	// At minpoll there is no burst: it would poll faster than minpoll.
	c.set_poll(4);
	c.make_request(kT1);
	EXPECT_EQ(c.next_interval_s(), 16.0);
}

TEST(ClientSource, PresendWarmsUpTwoSecondsBeforeTheMeasurement)
{
	Xoshiro256 rng(7);
	ClientSource c({.minpoll = 6, .presend_log2 = 6}, rng);
	Reject why{};
	EXPECT_FALSE(exchange(c, why).has_value());
	EXPECT_EQ(why, Reject::Presend);
	EXPECT_EQ(c.next_interval_s(), 2.0);
	EXPECT_TRUE(exchange(c, why).has_value());
	EXPECT_EQ(c.next_interval_s(), 64.0);
	EXPECT_EQ(c.reach(), 3);  // both answered
	// Below the presend poll, none.
	ClientSource d({.minpoll = 4, .presend_log2 = 6}, rng);
	EXPECT_TRUE(exchange(d, why).has_value());
	EXPECT_EQ(d.next_interval_s(), 16.0);
}

TEST(SampleFilter, KeepsTheMedianOfTheLeastDispersedSamples)
{
	std::vector<SourceSample> s;
	for (int i = 0; i < 10; i++) {
		double offset = i == 3 ? 0.5 : i == 7 ? -0.5 : 1e-3 * i;  // two wild ones
		// Sample 9 is poorly measured: left out when choosing.
		s.push_back({kT1 + std::chrono::seconds(16 * i), offset, 0.01 + 0.001 * i, i == 9 ? 1e-3 : 1e-6});
	}
	auto f = combine_filtered(s);
	// Nine well measured; by offset −0.5 0 0.001 0.002 0.004 0.005 0.006
	// 0.008 0.5: the median is 0.004 (sample 4), kept alone.
	EXPECT_DOUBLE_EQ(f.offset_s, 0.004);
	EXPECT_DOUBLE_EQ(f.delay_s, 0.014);
	EXPECT_EQ(f.local, kT1 + std::chrono::seconds(64));
	EXPECT_DOUBLE_EQ(f.dispersion_s, 1e-6);
	// An even count: the middle two, averaged; their spread is a dispersion.
	auto g = combine_filtered(std::span(s).first(4));  // 0 0.001 0.002 0.5
	EXPECT_NEAR(g.offset_s, 0.0015, 1e-12);
	EXPECT_NEAR(g.dispersion_s, 0.001 / std::sqrt(2.0), 1e-12);
	// A drifting clock (100 ppm over 15 polls of 16 s): the median sample,
	// not a dispersion of the whole 24 ms drift.
	std::vector<SourceSample> drift;
	for (int i = 0; i < 15; i++) {
		drift.push_back({kT1 + std::chrono::seconds(16 * i), 0.1 + 1e-4 * 16 * i, 2e-4, 1e-7});
	}
	auto d = combine_filtered(drift);
	EXPECT_NEAR(d.offset_s, 0.1 + 1e-4 * 16 * 7, 1e-12);
	EXPECT_EQ(d.local, kT1 + std::chrono::seconds(16 * 7));
	EXPECT_DOUBLE_EQ(d.dispersion_s, 1e-7);
}

TEST(DelayTests, RatioAndDeviationAsChronyd)
{
	DelayTestData data{.since_last_s = 0, .predicted_offset_s = 0, .min_delay_s = 1e-3, .skew_ppm = 0,
			   .stddev_s = 10e-6};
	// Off while the statistics are short.
	EXPECT_TRUE(delay_acceptable({.maxdelayratio = 2}, std::nullopt, 0, 1.0));
	// maxdelayratio 2: up to twice the minimum delay.
	EXPECT_TRUE(delay_acceptable({.maxdelayratio = 2, .maxdelaydevratio = 1e9}, data, 0, 2e-3));
	EXPECT_FALSE(delay_acceptable({.maxdelayratio = 2, .maxdelaydevratio = 1e9}, data, 0, 2.1e-3));
	// maxdelaydevratio 10: half the rise at most 10 σ = 100 µs, so 1.2 ms passes, 1.3 ms not…
	EXPECT_TRUE(delay_acceptable({}, data, 0, 1.2e-3));
	EXPECT_FALSE(delay_acceptable({}, data, 0, 1.3e-3));
	// …unless the offset moved from the prediction by more than that rise.
	EXPECT_TRUE(delay_acceptable({}, data, 400e-6, 1.3e-3));
	// Time since the newest sample widens the limits by (skew + maxclockerror).
	data.since_last_s = 1000;
	data.skew_ppm = 0.1;
	EXPECT_TRUE(delay_acceptable({}, data, 0, 1.3e-3));  // + 1000 s × 1.1 ppm = 1.1 ms
}

TEST(DelayTests, TheQuantileReplacesTheDeviationTest)
{
	DelayTestData data{.since_last_s = 0, .predicted_offset_s = 0, .min_delay_s = 1e-3, .skew_ppm = 0,
			   .stddev_s = 10e-6};
	DelayLimits limits{.max_delay_quantile_s = 1.1e-3};
	// At most the quantile, whatever the deviation test would say (1.3 ms
	// fails it above; 1.05 ms passes both)…
	EXPECT_TRUE(delay_acceptable(limits, data, 0, 1.05e-3));
	EXPECT_FALSE(delay_acceptable(limits, data, 0, 1.15e-3));
	limits.max_delay_quantile_s = 1.4e-3;
	EXPECT_TRUE(delay_acceptable(limits, data, 0, 1.3e-3));
	// …and with no statistics yet too (chronyd's first answer meets an
	// estimate of 0).
	limits.max_delay_quantile_s = 0.0;
	EXPECT_FALSE(delay_acceptable(limits, std::nullopt, 0, 1e-3));
	// maxdelayratio still applies beside it.
	limits = {.maxdelayratio = 2, .max_delay_quantile_s = 1.0};
	EXPECT_FALSE(delay_acceptable(limits, data, 0, 2.1e-3));
}

TEST(ClientSource, ReachabilityRegisterShifts)
{
	Xoshiro256 rng(7);
	ClientSource c({}, rng);
	for (int i = 0; i < 3; i++) {
		auto request = *c.make_request(kT1 + i * 64s);
		Reject why{};
		if (i != 1) {
			c.on_response(serve(request), kT1 + i * 64s + 2ms, why);
		}
	}
	EXPECT_EQ(c.reach(), 0b101);
}

} // namespace
} // namespace strata::ntp

namespace strata::ntp {
namespace {

/// The server side with keys: strata's responder, the reply signed with the
/// request's key (as the daemon's server does), or with `sign_with` instead.
std::vector<std::byte> serve_signed(std::span<const std::byte> request, const KeyStore &keys,
				    const Key *sign_with = nullptr)
{
	Drop why{};
	auto r = classify(request, false, why, nullptr, &keys);
	EXPECT_TRUE(r.has_value()) << static_cast<int>(why);
	if (!r) {
		return {};
	}
	Xoshiro256 rng(1);
	std::vector<std::byte> out(kHeaderSize + kMaxMacTrailer);
	RealTime t2 = kT1 + 1ms + 3ms;
	build_reply(*r, t2, kGps, false, {.precision_log2 = -30}, rng, std::span(out).first<kHeaderSize>());
	stamp_transmit(std::span(out).first<kHeaderSize>(), t2 + 100us, -30, rng);
	const Key *key = sign_with != nullptr ? sign_with : r->key;
	size_t n = key != nullptr ? append_mac(*key, out, kHeaderSize, r->header.version) : kHeaderSize;
	out.resize(n);
	return out;
}

const char *kKeys = "1 MD5 HEX:6B5D3C6A2E4A74775E4F6F3B7A35453E6E5C5F30\n"
		    "2 SHA256 HEX:00112233445566778899AABBCCDDEEFF\n"
		    "3 AES256 HEX:603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4\n";

TEST(ClientAuth, RequestsCarryTheKeyAndSignedResponsesAreUsed)
{
	auto keys = parse_keyfile(kKeys);
	ASSERT_TRUE(keys.ok());
	for (uint32_t id : {1u, 2u, 3u}) {
		for (int version : {3, 4}) {
			Xoshiro256 rng(7);
			const Key *key = keys.keys->find(id);
			ClientSource c({.version = version, .key = key}, rng);
			EXPECT_TRUE(c.authenticated());
			auto request = *c.make_request(kT1);
			auto parsed = parse(request);
			ASSERT_TRUE(parsed.has_value());
			EXPECT_TRUE(parsed->has_mac);
			EXPECT_EQ(parsed->key_id, id);
			EXPECT_EQ(request.length, kHeaderSize + 4 + key->mac_length(version));
			Reject why{};
			auto s = c.on_response(serve_signed(request, *keys.keys), kT1 + 2100us, why);
			ASSERT_TRUE(s.has_value()) << id << " v" << version << ": " << to_string(why);
			EXPECT_NEAR(s->sample.offset_s, 3e-3, 1e-9);
		}
	}
}

TEST(ClientAuth, EverythingButAValidMacOfItsKeyIsRefusedAndChangesNothing)
{
	auto keys = parse_keyfile(kKeys);
	ASSERT_TRUE(keys.ok());
	Xoshiro256 rng(7);
	ClientSource c({.key = keys.keys->find(1)}, rng);
	auto request = *c.make_request(kT1);
	auto good = serve_signed(request, *keys.keys);
	Reject why{};
	// Unsigned, signed with another key, a bit flipped, a crypto-NAK.
	auto unsigned_reply = good;
	unsigned_reply.resize(kHeaderSize);
	EXPECT_FALSE(c.on_response(unsigned_reply, kT1 + 2100us, why).has_value());
	EXPECT_EQ(why, Reject::AuthFailed);
	EXPECT_FALSE(c.on_response(serve_signed(request, *keys.keys, keys.keys->find(3)), kT1 + 2100us, why));
	EXPECT_EQ(why, Reject::AuthFailed);
	auto flipped = good;
	flipped[33] ^= std::byte{1};
	EXPECT_FALSE(c.on_response(flipped, kT1 + 2100us, why).has_value());
	EXPECT_EQ(why, Reject::AuthFailed);
	// A crypto-NAK that answers the request is told apart; one that does
	// not (another origin) is noise like the rest.
	auto nak = unsigned_reply;
	nak.resize(kHeaderSize + 4);
	EXPECT_FALSE(c.on_response(nak, kT1 + 2100us, why).has_value());
	EXPECT_EQ(why, Reject::CryptoNak);
	auto stray_nak = nak;
	stray_nak[31] ^= std::byte{1};
	EXPECT_FALSE(c.on_response(stray_nak, kT1 + 2100us, why).has_value());
	EXPECT_EQ(why, Reject::AuthFailed);
	// None of them took the request or counted as an answer.
	EXPECT_EQ(c.reach(), 0);
	EXPECT_EQ(c.unanswered(), 1);
	EXPECT_TRUE(c.on_response(good, kT1 + 2100us, why).has_value()) << to_string(why);
	EXPECT_EQ(c.reach(), 1);
}

TEST(ClientAuth, AnUnauthenticatedSourceRefusesSignedResponses)
{
	auto keys = parse_keyfile(kKeys);
	ASSERT_TRUE(keys.ok());
	Xoshiro256 rng(7);
	ClientSource c({}, rng);
	EXPECT_FALSE(c.authenticated());
	auto request = *c.make_request(kT1);
	EXPECT_EQ(request.length, kHeaderSize);
	Reject why{};
	auto signed_reply = serve_signed(request, *keys.keys, keys.keys->find(1));
	EXPECT_FALSE(c.on_response(signed_reply, kT1 + 2100us, why).has_value());
	EXPECT_EQ(why, Reject::AuthFailed);
	auto nak = signed_reply;
	nak.resize(kHeaderSize + 4);
	std::fill(nak.begin() + kHeaderSize, nak.end(), std::byte{0});
	EXPECT_FALSE(c.on_response(nak, kT1 + 2100us, why).has_value());
	EXPECT_EQ(why, Reject::AuthFailed);  // it never asked for authentication
	EXPECT_TRUE(c.on_response(serve(request), kT1 + 2100us, why).has_value());
}

TEST(ClientAuth, AMissingKeySendsNothingAndAcceptsNothingUntilSetKey)
{
	auto keys = parse_keyfile(kKeys);
	ASSERT_TRUE(keys.ok());
	Xoshiro256 rng(7);
	ClientSource c({.key_id = 2}, rng);
	EXPECT_TRUE(c.authenticated());
	EXPECT_TRUE(c.key_missing());
	// Each poll counts as a lost request: nothing to send.
	EXPECT_FALSE(c.make_request(kT1).has_value());
	EXPECT_FALSE(c.make_request(kT1 + 64s).has_value());
	EXPECT_EQ(c.unanswered(), 2);
	EXPECT_EQ(c.reach(), 0);
	// A key of another id is refused; key 2 is taken.
	EXPECT_FALSE(c.set_key(keys.keys->find(1)));
	EXPECT_TRUE(c.key_missing());
	EXPECT_TRUE(c.set_key(keys.keys->find(2)));
	EXPECT_FALSE(c.key_missing());
	auto request = c.make_request(kT1 + 128s);
	ASSERT_TRUE(request.has_value());
	auto parsed = parse(*request);
	ASSERT_TRUE(parsed.has_value());
	EXPECT_EQ(parsed->key_id, 2u);
	auto reply = serve_signed(*request, *keys.keys);
	// The key goes (a rekey without it): even its valid MAC is not accepted.
	EXPECT_TRUE(c.set_key(nullptr));
	Reject why{};
	EXPECT_FALSE(c.on_response(reply, kT1 + 128s + 2100us, why).has_value());
	EXPECT_EQ(why, Reject::AuthFailed);
	EXPECT_TRUE(c.set_key(keys.keys->find(2)));
	EXPECT_TRUE(c.on_response(reply, kT1 + 128s + 2100us, why).has_value()) << to_string(why);
	// A source without `key` takes no key.
	ClientSource plain({}, rng);
	EXPECT_FALSE(plain.set_key(keys.keys->find(1)));
	EXPECT_FALSE(plain.authenticated());
}

TEST(ClientAuth, AResponseOfAnotherVersionIsUsedAsByChronyd)
{
	// 105-ntpauth pairs an NTPv3 peer with an NTPv4 one: each takes the
	// other's packets, and checks their MACs at the packet's own version.
	auto keys = parse_keyfile(kKeys);
	ASSERT_TRUE(keys.ok());
	Xoshiro256 rng(7);
	ClientSource c({.version = 4, .key = keys.keys->find(2)}, rng);
	auto request = *c.make_request(kT1);
	auto reply = serve_signed(request, *keys.keys);
	// Rewritten as NTPv3 with its whole SHA256 MAC (32 bytes).
	reply[0] = static_cast<std::byte>((std::to_integer<unsigned>(reply[0]) & ~0x38u) | (3u << 3));
	reply.resize(kHeaderSize + kMaxMacTrailer);
	reply.resize(append_mac(*keys.keys->find(2), reply, kHeaderSize, 3));
	ASSERT_EQ(reply.size(), kHeaderSize + 4 + 32);
	Reject why{};
	EXPECT_TRUE(c.on_response(reply, kT1 + 2100us, why).has_value()) << to_string(why);
}

} // namespace
} // namespace strata::ntp
