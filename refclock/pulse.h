// The raw sample of a pulse edge (PPS, GPIO): the edge's time on the local
// system clock, and the whole second nearest to it as the reference time. A
// pulse carries no whole seconds of its own: the refclock framework decides
// which second an edge marks (from a `lock` refclock or from the clock
// itself), so the reference here only says "the edge marks the start of a
// second", and offset_s() is the edge's phase, in (−0.5, 0.5] s. Pure.
#pragma once

#include <cstdint>

#include "refclock/sample.h"

namespace strata::refclock {

/// The sample of an edge seen at `edge` (CLOCK_REALTIME): `reference` is
/// `edge` rounded to the nearest whole second, half a second rounding up,
/// so that reference − local is in (−0.5, 0.5] s. Leap::None, no precision.
constexpr RawSample pulse_sample(RealTime edge)
{
	int64_t second = edge.seconds();
	if (edge.subsec_ns() >= 500'000'000) {
		second += 1;
	}
	return RawSample{
		.reference = RealTime::from_parts(second, 0),
		.local = edge,
		.leap = Leap::None,
		.pulse = true,
	};
}

} // namespace strata::refclock
