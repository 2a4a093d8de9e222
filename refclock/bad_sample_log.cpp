#include "refclock/bad_sample_log.h"

namespace strata::refclock {

void BadSampleLog::report(Logger &log, MonoTime now, std::string_view source, std::string_view what)
{
	total_++;
	if (last_logged_ && now - *last_logged_ < interval_) {
		suppressed_++;
		return;
	}
	if (suppressed_ == 0) {
		log.warning("{}: bad sample ignored: {}", source, what);
	} else {
		log.warning("{}: bad sample ignored: {} ({} more in the last {:.0f} s)", source,
			    what, suppressed_, to_seconds(now - *last_logged_));
	}
	last_logged_ = now;
	suppressed_ = 0;
}

} // namespace strata::refclock
