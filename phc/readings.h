// PHC readings → one offset sample. The kernel reads a PTP hardware clock in
// one of two ways: PTP_SYS_OFFSET_PRECISE gives a hardware cross-timestamp
// (system and PHC time at the same instant), and PTP_SYS_OFFSET(_EXTENDED)
// gives n "sandwiches": system time, PHC time, system time. A sandwich only
// bounds the PHC reading to its window; slow PHCs (a Raspberry Pi CM4/CM5's
// PHY clock takes tens of microseconds to read) have wide windows and
// occasional spikes hundreds of microseconds long.
//
// The windows that were shortest carry the truth: process_sandwiches() keeps
// the readings whose delay is within the shortest delay plus a margin, and
// averages their offsets at their midpoints. The margin follows the spread
// of the ordinary windows, not their length: a 30 µs read whose window grew
// by 20 µs on one side of the latch is 10 µs off, however short 50 µs may
// look next to a 500 µs spike.
//
// An external time stamp (a PPS edge the PHC latched) is on the PHC's
// timescale; phc_to_system() carries it to the system clock with the latest
// sample and the rate between two samples. Pure: phc/phc_device_linux.cpp
// fills the readings in.
#pragma once

#include <optional>
#include <span>

#include "core/time.h"

namespace strata::phc {

/// One PTP_SYS_OFFSET(_EXTENDED) triple.
struct Sandwich {
	RealTime sys_before;
	PhcInstant phc;
	RealTime sys_after;
};

/// One PTP_SYS_OFFSET_PRECISE cross-timestamp.
struct CrossTimestamp {
	RealTime sys;
	PhcInstant phc;
};

/// The PHC against the system clock at one instant.
struct PhcSample {
	RealTime sys;          ///< system time the sample refers to
	Duration offset;       ///< PHC time − system time at `sys` (includes any TAI−UTC offset)
	Duration delay;        ///< read window of the readings used (0 for a cross-timestamp)
	double dispersion_s;   ///< error bound: half the window, at least the precision
	size_t used = 1;       ///< readings averaged
};

/// Combines sandwiches: readings with a negative window (the system clock was
/// stepped during the read) are ignored; of the rest, those whose window is
/// at most the shortest window plus a margin are averaged. The margin is
/// kSpreadFactor times the spread of the short windows (the first quartile
/// minus the shortest), at most the shortest window itself and at least
/// `precision_s`. nullopt when no reading is usable.
std::optional<PhcSample> process_sandwiches(std::span<const Sandwich> readings, double precision_s);

/// How many times the spread of the short windows (first quartile −
/// shortest: a quarter of the ordinary spread when windows vary evenly) a
/// window may exceed the shortest and still be averaged.
inline constexpr int kSpreadFactor = 5;

PhcSample from_cross_timestamp(const CrossTimestamp &reading, double precision_s);

/// The system time at which the PHC read `phc`, from `latest` and, when
/// `earlier` is given, the rate of the PHC against the system clock
/// between the two (PHC − system offset change per system second). The
/// rate is used only when the samples are at least 0.1 s apart and it is
/// below 10 % (beyond that the system clock was stepped in between, and no
/// rate is better than a wrong one). The conversion is exact for a PHC
/// running at the estimated rate; its error grows with the distance of
/// `phc` from `latest`, so callers read the PHC shortly before converting.
RealTime phc_to_system(PhcInstant phc, const PhcSample &latest, const PhcSample *earlier = nullptr);

/// `t` rounded to the nearest whole second (halves away from the past).
PhcInstant nearest_second(PhcInstant t);

} // namespace strata::phc
