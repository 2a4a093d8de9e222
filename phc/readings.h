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
// averages their offsets at their midpoints. Pure: phc/phc_device_linux.cpp
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
/// at most the shortest window plus `max(shortest, precision_s)` are averaged.
/// nullopt when no reading is usable.
std::optional<PhcSample> process_sandwiches(std::span<const Sandwich> readings, double precision_s);

PhcSample from_cross_timestamp(const CrossTimestamp &reading, double precision_s);

} // namespace strata::phc
