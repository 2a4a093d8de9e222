#include "phc/posix_clock_linux.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <string>

#include <fmt/format.h>
#include <unistd.h>

namespace strata::phc {

namespace {

constexpr double kPpmScale = 65536.0;  ///< timex.freq units per ppm

int system_adjtime(clockid_t id, struct timex *tx)
{
	return ::clock_adjtime(id, tx);
}

} // namespace

Result<PosixClock> PosixClock::system(AdjtimeFn adjtime, long user_hz)
{
	if (!adjtime) {
		adjtime = system_adjtime;
	}
	if (user_hz <= 0) {
		user_hz = ::sysconf(_SC_CLK_TCK);
	}
	if (user_hz <= 0 || user_hz > 1'000'000) {
		return fail(Errc::Unsupported, fmt::format("USER_HZ of {} is not usable", user_hz));
	}
	struct timex tx {};
	tx.modes = 0;  // read only
	if (adjtime(CLOCK_REALTIME, &tx) < 0) {
		return fail_errno("clock_adjtime(CLOCK_REALTIME)");
	}
	long nominal = 1'000'000 / user_hz;
	double freq = static_cast<double>(tx.tick - nominal) * 1e6 / static_cast<double>(nominal) +
		      static_cast<double>(tx.freq) / kPpmScale;
	return PosixClock(CLOCK_REALTIME, std::move(adjtime), nominal, freq, tx.status);
}

RealTime PosixClock::now() const
{
	timespec ts{};
	::clock_gettime(id_, &ts);
	return RealTime::from_parts(ts.tv_sec, ts.tv_nsec);
}

Result<int> PosixClock::call(struct timex &tx, const char *what)
{
	int state = adjtime_(id_, &tx);
	if (state < 0) {
		return fail_errno(std::string("clock_adjtime ") + what);
	}
	return state;
}

Result<double> PosixClock::set_frequency_ppm(double ppm)
{
	// A NaN would reach the kernel as whatever lround makes of it; no
	// caller means to, and the clock is left as it is.
	if (!std::isfinite(ppm)) {
		return fail(Errc::InvalidArgument, fmt::format("clock_adjtime ADJ_FREQUENCY: refusing {} ppm", ppm));
	}
	double applied = std::clamp(ppm, -max_frequency_ppm(), max_frequency_ppm());
	struct timex tx {};
	tx.modes = ADJ_FREQUENCY;
	double tick_ppm = 0;
	if (nominal_tick_us_ > 0) {
		// Whole tick steps, the remainder (at most half a step) in freq.
		double step_ppm = 1e6 / static_cast<double>(nominal_tick_us_);
		long dtick = std::lround(applied / step_ppm);
		tx.modes |= ADJ_TICK;
		tx.tick = nominal_tick_us_ + dtick;
		tick_ppm = static_cast<double>(dtick) * step_ppm;
	}
	tx.freq = static_cast<long>(std::lround((applied - tick_ppm) * kPpmScale));
	if (auto r = call(tx, "ADJ_FREQUENCY"); !r) {
		return tl::unexpected(r.error());
	}
	freq_ppm_ = tick_ppm + static_cast<double>(tx.freq) / kPpmScale;
	return freq_ppm_;
}

Result<> PosixClock::step(Duration offset)
{
	struct timex tx {};
	tx.modes = ADJ_SETOFFSET | ADJ_NANO;
	int64_t ns = offset.count();
	int64_t sec = ns / 1'000'000'000;
	int64_t rem = ns % 1'000'000'000;
	if (rem < 0) {  // the kernel wants 0 <= tv_usec (ns with ADJ_NANO) < 1e9
		rem += 1'000'000'000;
		sec -= 1;
	}
	tx.time.tv_sec = sec;
	tx.time.tv_usec = rem;
	if (auto r = call(tx, "ADJ_SETOFFSET"); !r) {
		return tl::unexpected(r.error());
	}
	return {};
}

Result<> PosixClock::set_leap(Leap leap)
{
	int status = status_ & ~(STA_INS | STA_DEL | STA_PLL);
	if (leap == Leap::Insert) {
		status |= STA_INS;
	} else if (leap == Leap::Delete) {
		status |= STA_DEL;
	}
	struct timex tx {};
	tx.modes = ADJ_STATUS;
	tx.status = status;
	if (auto r = call(tx, "ADJ_STATUS"); !r) {
		return tl::unexpected(r.error());
	}
	status_ = status;
	return {};
}

Result<> PosixClock::set_sync_status(bool synchronized, double est_error_s, double max_error_s)
{
	int status = status_ & ~STA_PLL;
	// Without rtcsync the kernel must not copy the clock to the RTC: it
	// stays "unsynchronised" to the kernel whatever the sources say.
	status = synchronized && rtc_sync_ ? (status & ~STA_UNSYNC) : (status | STA_UNSYNC);
	struct timex tx {};
	tx.modes = ADJ_STATUS | ADJ_ESTERROR | ADJ_MAXERROR;
	tx.status = status;
	// The kernel keeps both in microseconds and caps maxerror at 16 s.
	tx.esterror = static_cast<long>(std::min(std::max(est_error_s, 0.0) * 1e6, 16e6));
	tx.maxerror = static_cast<long>(std::min(std::max(max_error_s, 0.0) * 1e6, 16e6));
	if (auto r = call(tx, "ADJ_STATUS"); !r) {
		return tl::unexpected(r.error());
	}
	status_ = status;
	return {};
}

} // namespace strata::phc
