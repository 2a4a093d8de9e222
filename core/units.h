// Sign and unit conventions, written down once for the whole project.
//
//  - offset = reference − local (RFC 5905 θ): a positive offset means the
//    local clock is behind the reference.
//  - ClockControl::step(+d) moves the clock forward by d.
//  - set_frequency_ppm(+f) makes the clock run faster; the kernel's
//    timex.freq has the same sign, in units of ppm × 2^16 ("scaled ppm").
//  - Poll intervals are log2 seconds, as in chrony.conf (minpoll 6 = 64 s).
#pragma once

#include <cmath>
#include <cstdint>

#include "core/time.h"

namespace strata {

/// The kernel's timex.freq and timex.tolerance unit: ppm with 16 fractional bits.
inline constexpr double kScaledPpmPerPpm = 65536.0;

constexpr int64_t ppm_to_scaled(double ppm)
{
	double v = ppm * kScaledPpmPerPpm;
	return static_cast<int64_t>(v < 0 ? v - 0.5 : v + 0.5);
}

constexpr double scaled_to_ppm(int64_t scaled)
{
	return static_cast<double>(scaled) / kScaledPpmPerPpm;
}

/// The interval of a log2 poll exponent (chrony's minpoll/maxpoll, −7…24).
inline Duration poll_interval(int log2_seconds)
{
	return from_seconds(std::ldexp(1.0, log2_seconds));
}

} // namespace strata
