// Fuzz target for the NTP packet parser and the responder: any datagram must
// parse or be rejected without a crash; what parses serializes back to the
// same header; a reply is never longer than its request.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "ntp/responder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::span<const std::byte> datagram(reinterpret_cast<const std::byte *>(data), size);
	auto packet = strata::ntp::parse(datagram);
	if (packet) {
		std::array<std::byte, strata::ntp::kHeaderSize> out{};
		strata::ntp::serialize(packet->header, out);
		auto again = strata::ntp::parse(out);
		if (!again || !(again->header == packet->header)) {
			std::abort();
		}
	}
	for (bool from_123 : {false, true}) {
		strata::ntp::Drop why{};
		auto request = strata::ntp::classify(datagram, from_123, why);
		if (!request) {
			continue;
		}
		strata::Xoshiro256 rng(1);
		strata::Reference reference{.leap = strata::Leap::None, .stratum = 2, .ref_id = 1};
		std::array<std::byte, strata::ntp::kHeaderSize> out{};
		size_t n = strata::ntp::build_reply(*request, strata::RealTime{}, reference,
						    from_123, {}, rng, out);
		strata::ntp::stamp_transmit(out, strata::RealTime::from_parts(2'085'978'496, 1),
					    -20, rng);
		if (n > size) {
			std::abort();
		}
	}
	return 0;
}
