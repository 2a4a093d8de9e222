// The daemon's event loop: one thread, poll(), timers on CLOCK_MONOTONIC,
// callbacks for readable file descriptors, and signals turned into ordinary
// events through a self-pipe (the handler only writes a byte).
//
// poll(), clock_gettime() and nothing fancier, so that the daemon keeps
// running under LD_PRELOAD clock and network simulators. Time is read once per
// wakeup: every handler of one wakeup sees the same now() and real_now(),
// unless a handler that blocked reads them again (refresh_clocks).
#pragma once

#include <poll.h>

#include <csignal>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <queue>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "core/scheduler.h"
#include "core/unique_fd.h"

namespace strata::daemon {

using WatchId = uint64_t;

class PollLoop final : public Scheduler {
public:
	/// Creates the self-pipe. Fails only when the process is out of descriptors.
	static Result<std::unique_ptr<PollLoop>> create();
	~PollLoop() override;
	PollLoop(const PollLoop &) = delete;
	PollLoop &operator=(const PollLoop &) = delete;

	MonoTime now() const override { return now_; }
	/// CLOCK_REALTIME read at the same wakeup as now().
	RealTime real_now() const { return real_now_; }
	/// Reads both clocks again: for a handler that has blocked for a while
	/// (the NTP server's batch delay), so that later handlers of the same
	/// wakeup do not see a stale now().
	void refresh_clocks() { read_clocks(); }
	/// CLOCK_REALTIME moved against CLOCK_MONOTONIC by more than 10 s
	/// between two wakeups, and not by a step of the daemon's own: someone
	/// else stepped the system clock. `fn` gets the step (forward when
	/// positive) at the wakeup that notices it (chronyd's time jump check).
	void on_clock_jump(std::function<void(double step_s)> fn) { clock_jump_ = std::move(fn); }
	/// The daemon stepped the system clock by `step_s` itself: not a jump.
	void note_own_step(double step_s) { own_steps_s_ += step_s; }
	static constexpr double kJumpThreshold_s = 10;
	TimerId add_timer(MonoTime at, std::function<void()> fn) override;
	void cancel(TimerId id) override;

	/// Calls `fn(revents)` whenever poll() reports `events` on `fd`. The loop
	/// does not own the fd. Safe to call from callbacks.
	WatchId watch_fd(int fd, short events, std::function<void(short revents)> fn);
	/// Stops watching; safe from callbacks, including the watched fd's own.
	void unwatch(WatchId id);

	/// Runs `fn` on the loop when `signo` arrives (installs a handler; the
	/// destructor puts the previous disposition back).
	Result<> on_signal(int signo, std::function<void()> fn);

	/// Runs until stop(). Returns an error if poll() fails for a reason other than EINTR.
	Result<> run();
	/// One wakeup: waits at most until the next timer or `max_wait`, then
	/// dispatches. For tests.
	Result<> run_once(Duration max_wait);
	void stop() { stopped_ = true; }
	bool stopped() const { return stopped_; }

private:
	PollLoop(UniqueFd read_fd, UniqueFd write_fd);
	void read_clocks();
	void run_due_timers();
	/// Reads the self-pipe and runs the handlers; false if it was empty.
	bool drain_signals();

	struct Timer {
		MonoTime at;
		TimerId id;
		bool operator>(const Timer &o) const { return at != o.at ? at > o.at : id > o.id; }
	};
	struct Watch {
		int fd;
		short events;
		std::function<void(short)> fn;
		bool removed = false;  ///< unwatched while callbacks run; erased after them
	};

	UniqueFd signal_read_fd_;
	UniqueFd signal_write_fd_;
	MonoTime now_;
	RealTime real_now_;
	std::optional<double> real_minus_mono_s_;  ///< at the last reading
	double own_steps_s_ = 0;                   ///< since the last reading
	std::function<void(double)> clock_jump_;
	bool stopped_ = false;
	TimerId next_timer_id_ = 1;
	std::priority_queue<Timer, std::vector<Timer>, std::greater<>> heap_;
	std::unordered_map<TimerId, std::function<void()>> timers_;  ///< live timers; cancelled ones are erased
	WatchId next_watch_id_ = 1;
	std::map<WatchId, Watch> watches_;
	/// poll()'s array (self-pipe first) and the watch of each entry, rebuilt
	/// only when watches change, so that a wakeup allocates nothing.
	std::vector<struct pollfd> pollfds_;
	std::vector<Watch *> pollfd_watches_;
	bool pollfds_dirty_ = true;
	/// Whether poll() watches the self-pipe. Under an LD_PRELOAD clock and
	/// network simulator (clknetsim) poll() reports descriptors it does not
	/// simulate as always ready: an empty self-pipe reported readable is that
	/// simulator's mark (the kernel never does it), and from then on the pipe
	/// is only read after each poll(), which a signal interrupts (EINTR).
	bool poll_self_pipe_ = true;
	/// While fd callbacks run, unwatch() only marks the watch removed (the
	/// running callback, and the pointers above, must stay valid).
	bool dispatching_ = false;
	std::vector<WatchId> removed_;
	std::map<int, std::function<void()>> signal_handlers_;
	std::map<int, struct sigaction> previous_actions_;  ///< restored by the destructor
};

} // namespace strata::daemon
