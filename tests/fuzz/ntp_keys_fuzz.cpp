// Fuzz target for the keyfile parser (ntp/keys.h) and the MACs of the keys
// it yields: any text parses or gives problems with line numbers, never a
// crash; every key it keeps signs and verifies its own MAC at NTPv3 and
// NTPv4; the same bytes, read as a datagram, are classified against those
// keys without a crash, and an authenticated request's reply is never
// longer than the request.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "ntp/keys.h"
#include "ntp/responder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::string_view text(reinterpret_cast<const char *>(data), size);
	auto result = strata::ntp::parse_keyfile(text);
	if (!result.keys) {
		std::abort();
	}
	int lines = 1;
	for (char c : text) {
		lines += c == '\n' ? 1 : 0;
	}
	for (const auto &p : result.problems) {
		if (p.line < 1 || p.line > lines || p.message.empty()) {
			std::abort();
		}
	}
	std::array<std::byte, strata::ntp::kHeaderSize> packet{};
	for (const auto &key : result.keys->keys()) {
		if (result.keys->find(key->id()) != key.get()) {
			std::abort();
		}
		for (int version : {3, 4}) {
			std::array<std::byte, strata::ntp::kMaxMacLength> mac{};
			size_t n = key->sign(packet, version, mac);
			if (n < strata::ntp::kMinMacLength || n != key->mac_length(version) ||
			    !key->verify(packet, version, std::span(mac).first(n))) {
				std::abort();
			}
		}
	}
	std::span<const std::byte> datagram(reinterpret_cast<const std::byte *>(data), size);
	strata::ntp::Drop why{};
	auto request = strata::ntp::classify(datagram, false, why, nullptr, result.keys.get());
	if (request) {
		// Whatever the reply carries (a MAC, a crypto-NAK or nothing), it
		// is never longer than the request: the server amplifies nothing.
		strata::Xoshiro256 rng(1);
		std::array<std::byte, strata::ntp::kHeaderSize + strata::ntp::kMaxMacTrailer> out{};
		strata::ntp::build_reply(*request, strata::RealTime{}, strata::Reference{}, false, {}, rng,
					 std::span(out).first<strata::ntp::kHeaderSize>());
		size_t n = strata::ntp::append_auth(*request, out);
		if (n == 0 || n > size || (request->crypto_nak && request->key != nullptr)) {
			std::abort();
		}
	}
	return 0;
}
