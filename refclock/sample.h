// The raw sample a reference-clock driver produces, before any filtering:
// what the reference said the time was, and what the local system clock
// read at that moment. SHM and SOCK hand over exactly this pair (ntpd's
// clock and receive time stamps; chrony's timeval and offset); a PPS or GPIO
// driver produces it from an edge, with only the sub-second part known.
//
// Offsets derived from it follow core/units.h: reference − local, positive
// when the local clock is behind. Pure.
#pragma once

#include <cstdint>
#include <optional>

#include "core/reference.h"
#include "core/time.h"

namespace strata::refclock {

struct RawSample {
	/// What the reference claims the time (UTC) was at `local`. For a pulse
	/// only its position within the second is meaningful: the whole seconds
	/// come from another source (the `lock` refclock, or the clock itself).
	RealTime reference;
	/// The local system clock (CLOCK_REALTIME) when the sample was taken.
	RealTime local;
	/// The leap second the reference announces for the end of the UTC day.
	/// Drivers never deliver Leap::Unsynchronized: such samples are dropped.
	Leap leap = Leap::None;
	/// A PPS edge (SOCK `pulse`): see `reference`.
	bool pulse = false;
	/// The precision the driver reports for itself (SHM's log2 `precision`
	/// field), in seconds; nullopt when it reports none and the configured
	/// or measured precision applies.
	std::optional<double> precision_s;

	/// reference − local, seconds.
	double offset_s() const { return to_seconds(reference - local); }

	friend bool operator==(const RawSample &, const RawSample &) = default;
};

/// The time stamps drivers accept: from 1970 (chronyd rejects earlier ones
/// too) to 2^33 s after it (year 2242), just inside what int64 nanoseconds
/// hold (2^33.1 s), whatever bytes a writer sends. Adding an offset to such
/// a time needs a range check first (parse_sock() does one).
inline constexpr int64_t kMaxSampleSeconds = int64_t{1} << 33;

/// `sec` + `frac` / `per_second` as a RealTime, or nullopt outside
/// [0, kMaxSampleSeconds). `frac` need not be in [0, per_second): it is
/// carried into the seconds, as chronyd normalises a timespec. `per_second`
/// is 1'000'000 (microseconds) or 1'000'000'000 (nanoseconds).
constexpr std::optional<RealTime> sample_time(int64_t sec, int64_t frac, int64_t per_second)
{
	if (sec < -kMaxSampleSeconds || sec > kMaxSampleSeconds) {
		return std::nullopt;  // also keeps sec + carry below from overflowing
	}
	int64_t carry = frac / per_second;
	int64_t rem = frac % per_second;
	if (rem < 0) {
		rem += per_second;
		carry -= 1;
	}
	int64_t total = sec + carry;
	if (total < 0 || total >= kMaxSampleSeconds) {
		return std::nullopt;
	}
	return RealTime::from_parts(total, rem * (1'000'000'000 / per_second));
}

} // namespace strata::refclock
