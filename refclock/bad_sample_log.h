// Rate-limited reporting of bad samples. A writer that sends garbage (a
// gpsd built with another time_t, a stray program on the socket, a segment
// with an unknown mode) does so at its sample rate, forever: one warning per
// sample would flood the log, and none would hide the fault. So the first
// bad sample is logged at once, later ones at most once per interval, each
// line saying how many were swallowed since the previous one. Every bad
// sample is counted, for the control tool. Pure: time is an argument.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/log.h"
#include "core/time.h"

namespace strata::refclock {

class BadSampleLog {
public:
	explicit BadSampleLog(Duration interval = std::chrono::minutes(1)) : interval_(interval) {}

	/// Counts one bad sample from `source` ("SOCK /run/chrony.ttyS0.sock")
	/// and writes a warning saying `what` was wrong, unless a warning was
	/// written less than the interval before `now` (monotonic, the loop's
	/// time of the wakeup). Never blocks beyond the logger's write.
	void report(Logger &log, MonoTime now, std::string_view source, std::string_view what);

	/// Bad samples reported since construction.
	uint64_t total() const { return total_; }
	/// Bad samples counted but not logged yet (they are named in the next line).
	uint64_t suppressed() const { return suppressed_; }

private:
	Duration interval_;
	std::optional<MonoTime> last_logged_;
	uint64_t total_ = 0;
	uint64_t suppressed_ = 0;
};

} // namespace strata::refclock
