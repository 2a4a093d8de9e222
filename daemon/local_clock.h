// The clocks the daemon's source engine steers (core/clock.h's LocalClock):
// the system clock itself (SystemClock, through clock_adjtime) and
// UnsteeredClock (-x, or when the kernel refuses: a corrected copy, the
// system clock untouched).
#pragma once

#include <functional>
#include <utility>

#include "core/clock.h"
#include "phc/posix_clock_linux.h"

namespace strata::daemon {

/// The system clock, steered for real.
class SystemClock final : public LocalClock {
public:
	explicit SystemClock(phc::PosixClock clock) : clock_(std::move(clock)) {}
	RealTime from_system(RealTime raw) const override { return raw; }
	RealTime now() const override { return clock_.now(); }
	Result<double> set_frequency_ppm(double ppm) override { return clock_.set_frequency_ppm(ppm); }
	double frequency_ppm() const override { return clock_.frequency_ppm(); }
	double max_frequency_ppm() const override { return clock_.max_frequency_ppm(); }
	Result<> step(Duration offset) override
	{
		auto stepped = clock_.step(offset);
		if (stepped && on_step) {
			on_step(to_seconds(offset));
		}
		return stepped;
	}
	/// Each step made through it (the poll loop's jump check: PollLoop::
	/// note_own_step).
	std::function<void(double step_s)> on_step;
	Result<> set_leap(Leap leap) override { return clock_.set_leap(leap); }
	Result<> set_sync_status(bool synced, double est_error_s, double max_error_s) override
	{
		return clock_.set_sync_status(synced, est_error_s, max_error_s);
	}
	/// CLOCK_MONOTONIC runs at CLOCK_REALTIME's adjusted rate.
	bool monotonic_follows_frequency() const override { return true; }

private:
	phc::PosixClock clock_;
};

} // namespace strata::daemon
