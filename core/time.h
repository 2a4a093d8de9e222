// Time types. Absolute times are integer nanoseconds tagged with the clock
// they were read from, so that a CLOCK_MONOTONIC stamp can never be used
// where a CLOCK_REALTIME one is meant (the compiler refuses). Differences of
// times are Durations; statistics may turn differences (never absolute
// times) into double seconds.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>

namespace strata {

/// Signed nanoseconds; ±292 years.
using Duration = std::chrono::duration<int64_t, std::nano>;

struct Realtime {};   ///< CLOCK_REALTIME (UTC, with leap seconds applied by steps)
struct Monotonic {};  ///< CLOCK_MONOTONIC: timers, libgpiod v1 edge stamps
struct PhcTime {};    ///< a /dev/ptpN timescale (usually TAI)

/// A point on the timescale of Domain, as nanoseconds since that clock's epoch.
template <class Domain>
struct Instant {
	Duration since_epoch{};

	friend constexpr Duration operator-(Instant a, Instant b) { return a.since_epoch - b.since_epoch; }
	friend constexpr Instant operator+(Instant a, Duration d) { return {a.since_epoch + d}; }
	friend constexpr Instant operator-(Instant a, Duration d) { return {a.since_epoch - d}; }
	constexpr Instant &operator+=(Duration d)
	{
		since_epoch += d;
		return *this;
	}
	friend constexpr auto operator<=>(const Instant &, const Instant &) = default;

	/// Whole seconds since the epoch (floor), and the nanoseconds in [0, 1e9).
	constexpr int64_t seconds() const
	{
		int64_t ns = since_epoch.count();
		int64_t s = ns / 1'000'000'000;
		return (ns % 1'000'000'000 < 0) ? s - 1 : s;
	}
	constexpr int64_t subsec_ns() const { return since_epoch.count() - seconds() * 1'000'000'000; }

	static constexpr Instant from_parts(int64_t sec, int64_t nsec)
	{
		return {Duration(sec * 1'000'000'000 + nsec)};
	}
};

using RealTime = Instant<Realtime>;
using MonoTime = Instant<Monotonic>;
using PhcInstant = Instant<PhcTime>;

/// Seconds as a double, for differences only (offsets, delays, dispersions).
constexpr double to_seconds(Duration d)
{
	return static_cast<double>(d.count()) * 1e-9;
}

/// Nearest Duration to a number of seconds; saturates far outside ±292 years.
constexpr Duration from_seconds(double s)
{
	constexpr double kMax = 9.2e9;  // seconds that fit in int64 ns, with margin
	if (s > kMax) {
		s = kMax;
	} else if (s < -kMax) {
		s = -kMax;
	}
	double ns = s * 1e9;
	return Duration(static_cast<int64_t>(ns < 0 ? ns - 0.5 : ns + 0.5));
}

} // namespace strata
