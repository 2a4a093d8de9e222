// The system clock as strata would have steered it, without touching it:
// CLOCK_REALTIME plus a correction (phase and frequency) that the discipline
// sets through the ClockControl interface. Used with -x (and until clock
// control through clock_adjtime lands), so that the discipline's loop closes
// and its sources, selection and reference behave as they will when it does
// steer the clock — while the machine's clock is never changed.
#pragma once

#include "daemon/local_clock.h"

namespace strata::daemon {

class UnsteeredClock final : public LocalClock {
public:
	UnsteeredClock();

	/// CLOCK_REALTIME corrected as the discipline asked.
	RealTime now() const override;
	/// A raw CLOCK_REALTIME reading (e.g. a kernel receive timestamp) on the
	/// corrected timescale.
	RealTime correct(RealTime raw) const;
	RealTime from_system(RealTime raw) const override { return correct(raw); }

	Result<double> set_frequency_ppm(double ppm) override;
	double frequency_ppm() const override { return freq_ppm_; }
	double max_frequency_ppm() const override { return 500000; }
	Result<> step(Duration offset) override;
	Result<> set_leap(Leap) override { return {}; }
	Result<> set_sync_status(bool, double, double) override { return {}; }

	/// The correction now: corrected − raw, seconds.
	double correction_s() const;

private:
	MonoTime since_;       ///< when phase_s_ was last folded
	double phase_s_ = 0;   ///< correction at since_
	double freq_ppm_ = 0;
};

} // namespace strata::daemon
