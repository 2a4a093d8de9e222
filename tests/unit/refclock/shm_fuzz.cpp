// Fuzz target for the SHM segment parser: any bytes a writer (or anyone who
// may write to the segment) leaves there must parse or be skipped without a
// crash or undefined behaviour, and a parsed sample must be one the rest of
// the daemon can take: times in range, a usable leap, a sane precision.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>

#include "refclock/shm.h"

namespace {

void check(const strata::refclock::RawSample &s)
{
	using namespace strata;
	auto in_range = [](RealTime t) {
		return t.since_epoch.count() >= 0 && t.seconds() < refclock::kMaxSampleSeconds;
	};
	if (!in_range(s.reference) || !in_range(s.local) || s.pulse) {
		std::abort();
	}
	if (s.leap != Leap::None && s.leap != Leap::Insert && s.leap != Leap::Delete) {
		std::abort();
	}
	if (s.precision_s && !(*s.precision_s >= std::ldexp(1.0, -30) && *s.precision_s <= 1.0)) {
		std::abort();
	}
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	using namespace strata::refclock;
	std::span<const std::byte> segment(reinterpret_cast<const std::byte *>(data), size);
	// The count read after the copy: the copy's own (a quiet writer) and
	// another one (a writer mid-update).
	// Both layouts: the same bytes from a 64-bit- and a 32-bit-time_t writer.
	for (ShmLayout layout : {ShmLayout::Time64, ShmLayout::Time32}) {
		size_t at = shm_layout_info(layout).count_offset;
		unsigned count = 0;
		if (size >= at + sizeof count) {
			std::memcpy(&count, data + at, sizeof count);
		}
		for (unsigned after : {count, count + 1}) {
			ShmSkip why = ShmSkip::None;
			std::string detail;
			auto sample = parse_shm(segment, layout, static_cast<int>(after), why, &detail);
			if (sample.has_value() != (why == ShmSkip::None)) {
				std::abort();
			}
			if (sample) {
				check(*sample);
			}
			(void)to_string(why);
			(void)shm_consumes(why);
		}
	}
	return 0;
}
