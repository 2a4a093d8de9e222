#include "daemon/unsteered_clock_linux.h"

#include "daemon/clock_read_linux.h"


namespace strata::daemon {

UnsteeredClock::UnsteeredClock() : since_(read_clock<Monotonic>(CLOCK_MONOTONIC)) {}

double UnsteeredClock::correction_s() const
{
	double elapsed = to_seconds(read_clock<Monotonic>(CLOCK_MONOTONIC) - since_);
	return phase_s_ + freq_ppm_ * 1e-6 * elapsed;
}

RealTime UnsteeredClock::now() const
{
	return correct(read_clock<Realtime>(CLOCK_REALTIME));
}

RealTime UnsteeredClock::correct(RealTime raw) const
{
	return raw + from_seconds(correction_s());
}

Result<double> UnsteeredClock::set_frequency_ppm(double ppm)
{
	phase_s_ = correction_s();
	since_ = read_clock<Monotonic>(CLOCK_MONOTONIC);
	freq_ppm_ = std::clamp(ppm, -max_frequency_ppm(), max_frequency_ppm());
	return freq_ppm_;
}

Result<> UnsteeredClock::step(Duration offset)
{
	phase_s_ += to_seconds(offset);
	return {};
}

} // namespace strata::daemon
