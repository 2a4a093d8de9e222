// Reading a clock as a typed instant: one clock_gettime() call.
#pragma once

#include <time.h>

#include "core/time.h"

namespace strata::daemon {

template <class Domain>
inline Instant<Domain> read_clock(clockid_t id)
{
	timespec ts{};
	::clock_gettime(id, &ts);
	return Instant<Domain>::from_parts(ts.tv_sec, ts.tv_nsec);
}

inline RealTime realtime_now()
{
	return read_clock<Realtime>(CLOCK_REALTIME);
}

inline MonoTime monotonic_now()
{
	return read_clock<Monotonic>(CLOCK_MONOTONIC);
}

} // namespace strata::daemon
