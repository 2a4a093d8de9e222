// Fuzz target for the SOCK datagram parser: any datagram a local process
// sends to the socket must parse or be rejected without a crash or undefined
// behaviour, and a parsed sample must be one the rest of the daemon can
// take: times in range, an offset below 2^32 s, a usable leap.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "refclock/sock.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	using namespace strata;
	using namespace strata::refclock;
	std::span<const std::byte> datagram(reinterpret_cast<const std::byte *>(data), size);
	SockReject why = SockReject::None;
	std::string detail;
	auto s = parse_sock(datagram, why, &detail);
	if (s.has_value() != (why == SockReject::None)) {
		std::abort();
	}
	(void)to_string(why);
	if (!s) {
		return 0;
	}
	auto in_range = [](RealTime t) {
		return t.since_epoch.count() >= 0 && t.seconds() < kMaxSampleSeconds;
	};
	if (!in_range(s->reference) || !in_range(s->local)) {
		std::abort();
	}
	if (!(std::fabs(s->offset_s()) < kSockMaxOffset_s + 1)) {
		std::abort();
	}
	if (s->leap != Leap::None && s->leap != Leap::Insert && s->leap != Leap::Delete) {
		std::abort();
	}
	if (s->pulse && s->leap != Leap::None) {
		std::abort();
	}
	return 0;
}
