// ClockControl over clock_adjtime(2): the system clock (CLOCK_REALTIME)
// today, a PHC (/dev/ptpN through FD_TO_CLOCKID) with the refclock issue.
// The same call steers both, as linuxptp's clockadj does.
//
// - frequency: ADJ_FREQUENCY, timex.freq in ppm × 2^16 (positive = faster),
//   which the kernel limits to ±500 ppm; the system clock's tick (ADJ_TICK,
//   microseconds per 1/USER_HZ s, ±10 %) takes the whole multiples of its
//   step (100 ppm at USER_HZ 100), as chronyd does, so that a fast slew can
//   run at up to 100000 ppm;
// - step: ADJ_SETOFFSET | ADJ_NANO, with the nanoseconds normalised into
//   [0, 1e9) as the kernel requires;
// - leap: STA_INS / STA_DEL in timex.status (ADJ_STATUS), keeping STA_PLL
//   off so the kernel's own PLL never fights the discipline;
// - sync status: ADJ_MAXERROR / ADJ_ESTERROR set at each update, and
//   STA_UNSYNC cleared when synchronised only with `rtcsync`
//   (set_rtc_sync): on Linux a clock without STA_UNSYNC is copied to the RTC
//   by the kernel every 11 minutes, which must not happen when the RTC is
//   left alone or tracked (`rtcfile`, hwclock). chronyd does the same; the
//   price, as with chronyd, is that timedatectl shows the clock as not
//   synchronised without `rtcsync`.
//
// The system call is reached through AdjtimeFn so that tests record the
// struct timex without touching any clock.
#pragma once

#include <sys/timex.h>
#include <time.h>

#include <functional>

#include "core/clock.h"

namespace strata::phc {

/// clock_adjtime(2)'s signature: returns the clock state or −1 with errno.
using AdjtimeFn = std::function<int(clockid_t, struct timex *)>;

class PosixClock final : public ClockControl<Realtime> {
public:
	/// The system clock. Reads its current frequency and status; errors are
	/// those of clock_adjtime (EPERM without CAP_SYS_TIME in the initial user
	/// namespace: the caller then leaves the clock alone).
	/// `user_hz` is the kernel's USER_HZ (sysconf(_SC_CLK_TCK) when 0).
	static Result<PosixClock> system(AdjtimeFn adjtime = nullptr, long user_hz = 0);

	RealTime now() const override;
	Result<double> set_frequency_ppm(double ppm) override;
	double frequency_ppm() const override { return freq_ppm_; }
	/// ±10 % of the tick, ±500 ppm of timex.freq without it.
	double max_frequency_ppm() const override { return nominal_tick_us_ > 0 ? 100000.0 : 500.0; }
	Result<> step(Duration offset) override;
	Result<> set_leap(Leap leap) override;
	Result<> set_sync_status(bool synchronized, double est_error_s, double max_error_s) override;
	/// `rtcsync`: whether a synchronised clock clears STA_UNSYNC (and so
	/// turns on the kernel's 11-minute copy to the RTC). Off by default.
	void set_rtc_sync(bool on) { rtc_sync_ = on; }

private:
	PosixClock(clockid_t id, AdjtimeFn adjtime, long nominal_tick_us, double freq_ppm, int status)
		: id_(id), adjtime_(std::move(adjtime)), nominal_tick_us_(nominal_tick_us), freq_ppm_(freq_ppm),
		  status_(status)
	{
	}
	Result<int> call(struct timex &tx, const char *what);

	clockid_t id_;
	AdjtimeFn adjtime_;
	long nominal_tick_us_;  ///< 1e6 / USER_HZ for the system clock; 0: no tick
	double freq_ppm_;
	int status_;  ///< the STA_ bits strata manages, as last set
	bool rtc_sync_ = false;
};

} // namespace strata::phc
