// Turning a CLOCK_MONOTONIC time stamp into CLOCK_REALTIME, exactly.
//
// libgpiod 1.6 (the kernel's v1 GPIO interface, Linux 5.7 and later) stamps
// edges with CLOCK_MONOTONIC. Linux keeps CLOCK_REALTIME as CLOCK_MONOTONIC
// plus an offset that changes only when the clock is stepped (settimeofday,
// ADJ_SETOFFSET, a leap second): frequency corrections and slews apply to
// both clocks alike. So between steps, realtime − monotonic is a constant,
// and it can be measured: read REALTIME, then MONOTONIC, then REALTIME again
// (a "bracket"); the REALTIME at the moment MONOTONIC was read lies between
// the two REALTIME readings, so the offset lies in [before − mono,
// after − mono]. Every bracket taken since the last step bounds the same
// constant, so the offset is in the intersection of their intervals, which
// is at least as narrow as the narrowest bracket. Converting with the
// middle of that interval is off by at most half its width: the error bound
// is ceil(width / 2), typically 20–100 ns with the vDSO clock_gettime (the
// time of one clock read), and it holds however old the edge is, as long as
// the clock was not stepped between the edge and the brackets.
//
// A step between two brackets shows as intervals that do not overlap, and
// a step backwards inside one as an interval of negative width; both make
// the conversion refuse (nullopt) rather than guess. A step between an edge
// and the first bracket cannot be seen here; the daemon tells every source
// about its own steps. Pure: the readings are arguments.
#pragma once

#include <chrono>
#include <optional>
#include <span>

#include "core/time.h"

namespace strata::refclock {

/// One REALTIME / MONOTONIC / REALTIME reading, in that order.
struct ClockBracket {
	RealTime real_before;
	MonoTime mono;
	RealTime real_after;
};

/// What the brackets say about realtime − monotonic: it is in [low, high].
struct RealMonoOffset {
	Duration low{};
	Duration high{};

	/// The middle of the interval (rounded down to a nanosecond).
	constexpr Duration offset() const { return low + (high - low) / 2; }
	/// The most to_real() can be off by: ceil((high − low) / 2).
	constexpr Duration error_bound() const { return (high - low + Duration(1)) / 2; }
	/// `t` on CLOCK_REALTIME.
	constexpr RealTime to_real(MonoTime t) const { return RealTime{t.since_epoch + offset()}; }
};

/// The offset interval of `brackets` (the intersection of their intervals).
/// nullopt when there are none, when one is reversed (the clock was stepped
/// back while it was read) or when they have no offset in common (stepped
/// between them).
std::optional<RealMonoOffset> real_mono_offset(std::span<const ClockBracket> brackets);

} // namespace strata::refclock
