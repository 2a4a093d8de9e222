// What the discipline needs from a clock it steers. phc/posix_clock_linux.cpp
// implements it with clock_adjtime() for the system clock (and, later, for a
// PHC); the simulator implements it with a simulated oscillator.
//
// Signs (core/units.h): a positive frequency makes the clock run faster; a
// positive step moves it forward. Slewing is done by the discipline itself,
// as a temporary frequency offset, so that every change of rate is a
// frequency change the sources are told about (ClockChange).
#pragma once

#include "core/reference.h"
#include "core/result.h"
#include "core/time.h"

namespace strata {

template <class Domain>
class ClockControl {
public:
	virtual ~ClockControl() = default;
	/// The clock being steered.
	virtual Instant<Domain> now() const = 0;
	/// Sets the frequency offset; returns the value applied (clamped to
	/// ±max_frequency_ppm()). Errors: the clock refused (EPERM under -x).
	virtual Result<double> set_frequency_ppm(double ppm) = 0;
	virtual double frequency_ppm() const = 0;
	virtual double max_frequency_ppm() const = 0;
	/// Steps the clock by `offset` (forward when positive).
	virtual Result<> step(Duration offset) = 0;
	/// The leap second to insert or delete at the end of the UTC day.
	virtual Result<> set_leap(Leap leap) = 0;
	/// The kernel's view: synchronised or not, estimated and maximum error.
	virtual Result<> set_sync_status(bool synchronized, double est_error_s, double max_error_s) = 0;
	/// Whether the monotonic clock, which times the discipline's slews, runs
	/// at the rate this clock is set to: true for the system clock (the
	/// kernel applies its frequency and tick to CLOCK_MONOTONIC as well, and
	/// clknetsim does the same), false for a clock steered apart from it (a
	/// PHC, the corrected copy of -x, a simulation timed in true time). A
	/// slew of 83,333 ppm timed on a clock that follows it must last 8.3 %
	/// longer to correct what it was meant to.
	virtual bool monotonic_follows_frequency() const { return false; }
};

/// The clock the source engine steers, as it sees it: a ClockControl that
/// can also put a raw CLOCK_REALTIME reading (a kernel receive timestamp)
/// on its own timescale. The daemon has two (daemon/local_clock.h): the
/// system clock itself, and a corrected copy of it when the system clock
/// must not be touched (-x); the simulator and the tests have theirs.
class LocalClock : public ClockControl<Realtime> {
public:
	/// A CLOCK_REALTIME reading on this clock's timescale.
	virtual RealTime from_system(RealTime raw) const = 0;
};

/// A step and/or frequency change applied to the local clock at `at`, which
/// every source's statistics must follow (SourceStats::on_clock_change).
struct ClockChange {
	RealTime at;
	double step_s = 0;     ///< forward when positive
	double dfreq_ppm = 0;  ///< faster when positive
	double freq_ppm = 0;   ///< the frequency offset applied after the change
};

} // namespace strata
