#include "ntp/responder.h"

#include "ntp/keys.h"

#include <array>
#include <vector>

#include <gtest/gtest.h>

namespace strata::ntp {
namespace {

/// Returns zeros, so that fuzzed low bits are predictable.
class ZeroRng final : public Rng {
public:
	uint64_t next() override { return 0; }
};

std::vector<std::byte> request(int version, Mode mode, int8_t poll = 6)
{
	Header h{.leap = Leap::None, .version = static_cast<uint8_t>(version), .mode = mode,
		 .poll = poll,
		 .transmit = {0xdeadbeef, 0x01020304}};
	std::vector<std::byte> out(kHeaderSize);
	serialize(h, std::span<std::byte, kHeaderSize>(out.data(), kHeaderSize));
	return out;
}

const Reference kLocal{.synchronized = false, .leap = Leap::None, .stratum = 3,
		       .ref_id = kLocalRefId,
		       .ref_time = RealTime::from_parts(1'799'999'999, 0), .root_delay_s = 0.001,
		       .root_dispersion_s = 0.5};
const RealTime kReceive = RealTime::from_parts(1'800'000'000, 0);

Header reply_to(const std::vector<std::byte> &req, const Reference &ref = kLocal, bool kod = false,
		ServerParams params = {})
{
	Drop why{};
	auto r = classify(req, false, why);
	EXPECT_TRUE(r.has_value());
	ZeroRng rng;
	std::array<std::byte, kHeaderSize> out{};
	EXPECT_EQ(build_reply(*r, kReceive, ref, kod, params, rng, out), kHeaderSize);
	stamp_transmit(out, kReceive + std::chrono::microseconds(1), params.precision_log2, rng);
	auto parsed = parse(out);
	EXPECT_TRUE(parsed.has_value());
	return parsed->header;
}

TEST(Responder, ClientRequestGetsAServerReply)
{
	Header h = reply_to(request(4, Mode::Client), kLocal, false, {.precision_log2 = -20});
	EXPECT_EQ(h.mode, Mode::Server);
	EXPECT_EQ(h.version, 4);
	EXPECT_EQ(h.leap, Leap::None);
	EXPECT_EQ(h.stratum, 3);
	EXPECT_EQ(h.poll, 6);
	EXPECT_EQ(h.precision, -20);
	EXPECT_EQ(h.ref_id, kLocalRefId);
	EXPECT_EQ(h.root_delay, to_short(0.001));
	EXPECT_EQ(h.root_dispersion, to_short(0.5));
	EXPECT_EQ(h.origin, (NtpTimestamp{0xdeadbeef, 0x01020304}));
	EXPECT_EQ(h.reference.seconds, to_ntp(kLocal.ref_time).seconds);
	EXPECT_EQ(from_ntp(h.receive, kReceive), kReceive);
	// Transmit = what stamp_transmit got (1 µs later), bits below 2^-20 s zeroed by ZeroRng.
	EXPECT_EQ(h.transmit.seconds, to_ntp(kReceive).seconds);
	EXPECT_EQ(h.transmit.fraction,
		  to_ntp(kReceive + std::chrono::microseconds(1)).fraction & ~0xfffu);
}

TEST(Responder, TransmitIsZeroUntilStamped)
{
	Drop why{};
	auto r = classify(request(4, Mode::Client), false, why);
	ZeroRng rng;
	std::array<std::byte, kHeaderSize> out{};
	build_reply(*r, kReceive, kLocal, false, {}, rng, out);
	EXPECT_TRUE(parse(out)->header.transmit.is_zero());
	stamp_transmit(out, kReceive, -30, rng);
	auto h = parse(out)->header;
	EXPECT_EQ(h.transmit, to_ntp(kReceive));
	EXPECT_EQ(h.stratum, 3);  // the rest is untouched
}

TEST(Responder, FuzzFillsOnlyBitsBelowThePrecision)
{
	class OnesRng final : public Rng {
	public:
		uint64_t next() override { return ~uint64_t{0}; }
	} ones;
	Drop why{};
	auto r = classify(request(4, Mode::Client), false, why);
	std::array<std::byte, kHeaderSize> out{};
	build_reply(*r, kReceive, kLocal, false, {.precision_log2 = -20}, ones, out);
	Header h = parse(out)->header;
	EXPECT_EQ(h.receive.fraction, 0xfffu);  // kReceive has fraction 0
}

TEST(Responder, VersionIsEchoed)
{
	for (int v : {1, 2, 3, 4}) {
		EXPECT_EQ(reply_to(request(v, Mode::Client)).version, v);
	}
}

TEST(Responder, SymmetricActiveGetsPassive)
{
	EXPECT_EQ(reply_to(request(4, Mode::SymmetricActive)).mode, Mode::SymmetricPassive);
}

TEST(Responder, Version1ModeZeroIsAClientUnlessFromPort123)
{
	Drop why{};
	EXPECT_TRUE(classify(request(1, Mode::Reserved), false, why).has_value());
	EXPECT_FALSE(classify(request(1, Mode::Reserved), true, why).has_value());
	EXPECT_EQ(why, Drop::NotARequest);
	EXPECT_FALSE(classify(request(2, Mode::Reserved), false, why).has_value());
	EXPECT_EQ(reply_to(request(1, Mode::Reserved)).mode, Mode::Server);
}

TEST(Responder, OtherModesAreNeverAnswered)
{
	for (Mode m : {Mode::SymmetricPassive, Mode::Server, Mode::Broadcast, Mode::Control,
		       Mode::Private}) {
		Drop why{};
		EXPECT_FALSE(classify(request(4, m), false, why).has_value());
		EXPECT_EQ(why, Drop::NotARequest);
	}
}

TEST(Responder, MalformedIsDroppedAndAMacWithoutAKeyfileNaked)
{
	Drop why{};
	std::string detail;
	EXPECT_FALSE(classify(std::vector<std::byte>(30), false, why, &detail).has_value());
	EXPECT_EQ(why, Drop::Malformed);
	EXPECT_NE(detail.find("shorter than 48"), std::string::npos);
	auto with_mac = request(4, Mode::Client);
	with_mac.resize(kHeaderSize + 20);
	with_mac[kHeaderSize + 3] = std::byte{1};
	// No keyfile: any MAC is one of an unknown key, answered with a crypto-NAK.
	auto r = classify(with_mac, false, why);
	ASSERT_TRUE(r.has_value());
	EXPECT_TRUE(r->crypto_nak);
	EXPECT_EQ(why, Drop::AuthFailed);
}

/// A request signed with `key` (its id and MAC after the header).
std::vector<std::byte> signed_request(const Key &key, int version)
{
	auto req = request(version, Mode::Client);
	req.resize(kHeaderSize + kMaxMacTrailer);
	size_t n = append_mac(key, req, kHeaderSize, version);
	EXPECT_GT(n, kHeaderSize);
	req.resize(n);
	return req;
}

TEST(Responder, ValidMacOfAKnownKeyIsAnsweredWithOne)
{
	auto keys = parse_keyfile("1 MD5 HEX:6B5D3C6A2E4A74775E4F6F3B7A35453E\n"
				  "2 SHA512 ASCII:0123456789abcdef\n"
				  "3 AES128 HEX:2B7E151628AED2A6ABF7158809CF4F3C\n");
	ASSERT_TRUE(keys.ok());
	for (uint32_t id : {1u, 2u, 3u}) {
		for (int version : {3, 4}) {
			const Key &key = *keys.keys->find(id);
			auto req = signed_request(key, version);
			Drop why{};
			auto r = classify(req, false, why, nullptr, keys.keys.get());
			ASSERT_TRUE(r.has_value()) << id << " v" << version;
			EXPECT_EQ(r->key, &key);
			// The reply: header, transmit time, then key id and MAC.
			ZeroRng rng;
			std::array<std::byte, kHeaderSize + kMaxMacTrailer> out{};
			build_reply(*r, kReceive, kLocal, false, {}, rng, std::span(out).first<kHeaderSize>());
			stamp_transmit(std::span(out).first<kHeaderSize>(), kReceive, -20, rng);
			size_t n = append_mac(key, out, kHeaderSize, version);
			EXPECT_EQ(n, req.size()) << "a reply is never longer than its request";
			auto parsed = parse(std::span(out).first(n));
			ASSERT_TRUE(parsed.has_value());
			EXPECT_TRUE(has_valid_mac(key, std::span(out).first(n), *parsed));
			EXPECT_EQ(parsed->key_id, id);
		}
	}
}

TEST(Responder, UnknownKeyAndWrongMacGetACryptoNakACryptoNakNothing)
{
	auto keys = parse_keyfile("1 MD5 HEX:6B5D3C6A2E4A74775E4F6F3B7A35453E\n"
				  "2 MD5 HEX:00112233445566778899AABBCCDDEEFF\n");
	ASSERT_TRUE(keys.ok());
	auto other = parse_keyfile("7 MD5 HEX:6B5D3C6A2E4A74775E4F6F3B7A35453E\n"
				   "8 SHA512 HEX:6B5D3C6A2E4A74775E4F6F3B7A35453E\n");
	// The reply to a request whose MAC fails: the header and key id 0,
	// never longer than the request, in the request's version.
	auto expect_nak = [&](const std::vector<std::byte> &req, const KeyStore *store, const char *what) {
		Drop why{};
		auto r = classify(req, false, why, nullptr, store);
		ASSERT_TRUE(r.has_value()) << what;
		EXPECT_TRUE(r->crypto_nak) << what;
		EXPECT_EQ(r->key, nullptr) << what;
		EXPECT_EQ(why, Drop::AuthFailed) << what;
		ZeroRng rng;
		std::array<std::byte, kHeaderSize + kMaxMacTrailer> out{};
		out.fill(std::byte{0xaa});
		build_reply(*r, kReceive, kLocal, false, {}, rng, std::span(out).first<kHeaderSize>());
		stamp_transmit(std::span(out).first<kHeaderSize>(), kReceive, -20, rng);
		size_t n = append_auth(*r, out);
		EXPECT_EQ(n, kCryptoNakLength) << what;
		EXPECT_LT(n, req.size()) << what;
		auto parsed = parse(std::span(out).first(n));
		ASSERT_TRUE(parsed.has_value()) << what;
		EXPECT_TRUE(parsed->crypto_nak) << what;
		EXPECT_EQ(parsed->header.version, r->header.version) << what;
		EXPECT_EQ(parsed->header.origin, r->header.transmit) << what;  // it answers that request
		EXPECT_EQ(append_auth(*r, std::span(out).first(kCryptoNakLength - 1)), 0u) << "no room";
	};
	// A key the server does not have, at both versions (a SHA512 MAC whole
	// in NTPv3); with no keyfile at all, every key is unknown.
	expect_nak(signed_request(*other.keys->find(7), 4), keys.keys.get(), "unknown key v4");
	expect_nak(signed_request(*other.keys->find(8), 3), keys.keys.get(), "unknown key v3");
	expect_nak(signed_request(*keys.keys->find(1), 4), nullptr, "no keyfile");
	// Key 1's MAC under key 2's id.
	auto req = signed_request(*keys.keys->find(1), 4);
	req[kHeaderSize + 3] = std::byte{2};
	expect_nak(req, keys.keys.get(), "another key's MAC");
	// A flipped bit in the header.
	req = signed_request(*keys.keys->find(1), 4);
	req[40] ^= std::byte{1};
	expect_nak(req, keys.keys.get(), "flipped bit");
	// A crypto-NAK as a request gets nothing: no NAK for a NAK.
	Drop why{};
	for (int version : {3, 4}) {
		auto nak = request(version, Mode::Client);
		nak.resize(kHeaderSize + 4);
		EXPECT_FALSE(classify(nak, false, why, nullptr, keys.keys.get()));
		EXPECT_EQ(why, Drop::AuthFailed);
	}
	// Unauthenticated requests are still answered, with nothing appended.
	auto plain = classify(request(4, Mode::Client), false, why, nullptr, keys.keys.get());
	ASSERT_TRUE(plain.has_value());
	EXPECT_FALSE(plain->crypto_nak);
	EXPECT_EQ(why, Drop::None);
	std::array<std::byte, kHeaderSize + kMaxMacTrailer> out{};
	EXPECT_EQ(append_auth(*plain, out), kHeaderSize);
}

TEST(Responder, KissOfDeathRate)
{
	Header h = reply_to(request(4, Mode::Client), kLocal, true);
	EXPECT_EQ(h.leap, Leap::Unsynchronized);
	EXPECT_EQ(h.stratum, 0);
	EXPECT_EQ(h.ref_id, kKissRate);
	EXPECT_EQ(h.origin, (NtpTimestamp{0xdeadbeef, 0x01020304}));
}

TEST(Responder, UnsynchronisedAndStratum16)
{
	Reference unsync{};
	Header h = reply_to(request(4, Mode::Client), unsync);
	EXPECT_EQ(h.leap, Leap::Unsynchronized);
	EXPECT_EQ(h.stratum, 0);
	EXPECT_TRUE(h.reference.is_zero());
	Reference s16 = kLocal;
	s16.stratum = 16;
	EXPECT_EQ(reply_to(request(4, Mode::Client), s16).stratum, 0);
}

TEST(Responder, PollIsAtLeastTheRatelimitInterval)
{
	const ServerParams ratelimit{.ratelimit_interval_log2 = 4};
	EXPECT_EQ(reply_to(request(4, Mode::Client, 2), kLocal, false, ratelimit).poll, 4);
	EXPECT_EQ(reply_to(request(4, Mode::Client, 8), kLocal, false, ratelimit).poll, 8);
	EXPECT_EQ(reply_to(request(4, Mode::Client, 2)).poll, 2);
}

} // namespace
} // namespace strata::ntp
