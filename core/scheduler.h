// The scheduler interface: what wiring code sees of the event loop. The
// daemon's PollLoop implements it over poll() and CLOCK_MONOTONIC; the
// simulator implements it in virtual time. Everything runs on one thread.
#pragma once

#include <cstdint>
#include <functional>

#include "core/time.h"

namespace strata {

using TimerId = uint64_t;

class Scheduler {
public:
	virtual ~Scheduler() = default;
	/// The monotonic time of the current wakeup, read once per wakeup so that
	/// every handler of one wakeup sees the same "now".
	virtual MonoTime now() const = 0;
	/// Runs `fn` once, at or after `at`. Timers due at the same instant run in
	/// the order they were added. Returns an id for cancel().
	virtual TimerId add_timer(MonoTime at, std::function<void()> fn) = 0;
	/// Cancels a timer that has not run yet; unknown or spent ids are ignored.
	virtual void cancel(TimerId id) = 0;
};

} // namespace strata
