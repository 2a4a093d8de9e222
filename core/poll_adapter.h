// The poll interval of a source, adapted to what its statistics need
// (chrony.conf `polltarget`): longer while the regression window holds
// `polltarget` samples or more, shorter when the runs test has cut it below
// that (the frequency wanders faster than the samples average out). One step
// up per `polltarget` samples at an interval, so each interval is tried on
// a full window before the next. Pure.
#pragma once

#include <cstddef>

namespace strata {

class PollAdapter {
public:
	PollAdapter(int minpoll, int maxpoll, size_t polltarget = 8)
		: minpoll_(minpoll), maxpoll_(maxpoll < minpoll ? minpoll : maxpoll), target_(polltarget == 0 ? 1 : polltarget),
		  poll_(minpoll)
	{
	}

	int poll() const { return poll_; }

	/// After a sample: `window` samples are in the regression window, out of
	/// `stored`. Returns the new poll interval (log2 s).
	int on_sample(size_t window, size_t stored)
	{
		since_change_++;
		if (window >= target_ && since_change_ >= target_ && poll_ < maxpoll_) {
			poll_++;
			since_change_ = 0;
		} else if (window < target_ && window < stored && poll_ > minpoll_) {
			poll_--;
			since_change_ = 0;
		}
		return poll_;
	}

private:
	int minpoll_;
	int maxpoll_;
	size_t target_;
	int poll_;
	size_t since_change_ = 0;
};

} // namespace strata
