#include "daemon/poll_loop_linux.h"

#include "daemon/clock_read_linux.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <cerrno>
#include <memory>

namespace strata::daemon {

namespace {

/// The longest single poll(); run() simply polls again.
constexpr Duration kMaxPollWait = std::chrono::seconds(1000);

/// The write end of the self-pipe, for the async-signal-safe handler. One
/// PollLoop per process owns it.
std::atomic<int> g_signal_pipe{-1};

extern "C" void on_signal_handler(int signo)
{
	int saved = errno;
	int fd = g_signal_pipe.load();
	if (fd >= 0) {
		auto byte = static_cast<unsigned char>(signo);
		ssize_t ignored = ::write(fd, &byte, 1);
		(void)ignored;
	}
	errno = saved;
}

} // namespace

Result<std::unique_ptr<PollLoop>> PollLoop::create()
{
	int fds[2];
	if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
		return fail_errno("pipe2");
	}
	return std::unique_ptr<PollLoop>(new PollLoop(UniqueFd(fds[0]), UniqueFd(fds[1])));
}

PollLoop::PollLoop(UniqueFd read_fd, UniqueFd write_fd)
	: signal_read_fd_(std::move(read_fd)), signal_write_fd_(std::move(write_fd))
{
	g_signal_pipe.store(signal_write_fd_.get());
	read_clocks();
}

PollLoop::~PollLoop()
{
	for (const auto &[signo, previous] : previous_actions_) {
		::sigaction(signo, &previous, nullptr);
	}
	// Another loop may have taken the pipe over since; leave it to that one.
	int ours = signal_write_fd_.get();
	g_signal_pipe.compare_exchange_strong(ours, -1);
}

void PollLoop::read_clocks()
{
	now_ = read_clock<Monotonic>(CLOCK_MONOTONIC);
	real_now_ = read_clock<Realtime>(CLOCK_REALTIME);
	// The kernel slews both clocks alike; only a step moves one against
	// the other.
	double gap = to_seconds(real_now_.since_epoch - now_.since_epoch);
	double jump = real_minus_mono_s_ ? gap - *real_minus_mono_s_ - own_steps_s_ : 0.0;
	real_minus_mono_s_ = gap;
	own_steps_s_ = 0;
	if (std::abs(jump) > kJumpThreshold_s && clock_jump_) {
		clock_jump_(jump);
	}
}

TimerId PollLoop::add_timer(MonoTime at, std::function<void()> fn)
{
	TimerId id = next_timer_id_++;
	heap_.push({at, id});
	timers_.emplace(id, std::move(fn));
	return id;
}

void PollLoop::cancel(TimerId id)
{
	timers_.erase(id);
	// Cancelled entries stay in the heap until they come up; keep the heap
	// from filling with them when timers are re-armed much more often than
	// they fire.
	if (heap_.size() > 64 && heap_.size() > 4 * timers_.size()) {
		decltype(heap_) live;
		while (!heap_.empty()) {
			if (timers_.count(heap_.top().id) != 0) {
				live.push(heap_.top());
			}
			heap_.pop();
		}
		heap_ = std::move(live);
	}
}

WatchId PollLoop::watch_fd(int fd, short events, std::function<void(short)> fn)
{
	WatchId id = next_watch_id_++;
	watches_.emplace(id, Watch{fd, events, std::move(fn)});
	pollfds_dirty_ = true;
	return id;
}

void PollLoop::unwatch(WatchId id)
{
	auto it = watches_.find(id);
	if (it == watches_.end() || it->second.removed) {
		return;
	}
	pollfds_dirty_ = true;
	if (dispatching_) {
		it->second.removed = true;
		removed_.push_back(id);
		return;
	}
	watches_.erase(it);
}

Result<> PollLoop::on_signal(int signo, std::function<void()> fn)
{
	struct sigaction sa {};
	sa.sa_handler = on_signal_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	struct sigaction previous {};
	if (::sigaction(signo, &sa, &previous) != 0) {
		return fail_errno("sigaction");
	}
	// Keep the disposition from before the first on_signal(), for the destructor.
	previous_actions_.emplace(signo, previous);
	signal_handlers_[signo] = std::move(fn);
	return {};
}

void PollLoop::run_due_timers()
{
	// Timers added by these callbacks wait for the next wakeup (an immediate
	// one if they are due), so that a timer re-armed at now() cannot keep the
	// loop from polling its descriptors.
	TimerId first_new = next_timer_id_;
	while (!heap_.empty() && heap_.top().at <= now_ && heap_.top().id < first_new && !stopped_) {
		Timer t = heap_.top();
		heap_.pop();
		auto it = timers_.find(t.id);
		if (it == timers_.end()) {
			continue;  // cancelled
		}
		auto fn = std::move(it->second);
		timers_.erase(it);
		fn();
	}
}

bool PollLoop::drain_signals()
{
	unsigned char buffer[64];
	bool any = false;
	for (;;) {
		ssize_t n = ::read(signal_read_fd_.get(), buffer, sizeof(buffer));
		if (n <= 0) {
			return any;
		}
		any = true;
		for (ssize_t i = 0; i < n; i++) {
			auto it = signal_handlers_.find(buffer[i]);
			if (it != signal_handlers_.end()) {
				it->second();
			}
		}
	}
}

Result<> PollLoop::run_once(Duration max_wait)
{
	// Drop cancelled timers at the top so they do not shorten the wait.
	while (!heap_.empty() && timers_.count(heap_.top().id) == 0) {
		heap_.pop();
	}
	// Only the monotonic clock is needed to compute the wait; both clocks are
	// read again after poll() returns.
	now_ = read_clock<Monotonic>(CLOCK_MONOTONIC);
	Duration wait = max_wait;
	if (!heap_.empty()) {
		wait = std::min(wait, heap_.top().at - now_);
	}
	// Clamp before rounding (Duration::max() must not overflow), and round up
	// so that a timer never wakes the loop before its time.
	wait = std::clamp(wait, Duration::zero(), kMaxPollWait);
	int timeout = static_cast<int>((wait.count() + 999'999) / 1'000'000);

	if (pollfds_dirty_) {
		pollfds_.clear();
		pollfd_watches_.clear();
		pollfds_.push_back({poll_self_pipe_ ? signal_read_fd_.get() : -1, POLLIN, 0});
		pollfd_watches_.push_back(nullptr);
		for (auto &[id, w] : watches_) {
			pollfds_.push_back({w.fd, w.events, 0});
			pollfd_watches_.push_back(&w);
		}
		pollfds_dirty_ = false;
	}
	// Callbacks may add or remove watches: that only marks the array dirty,
	// it is rebuilt before the next poll(), so it stays valid here.
	auto &fds = pollfds_;
	int n = ::poll(fds.data(), fds.size(), timeout);
	if (n < 0 && errno != EINTR) {
		return fail_errno("poll");
	}
	read_clocks();
	if (!poll_self_pipe_) {
		drain_signals();
	}
	if (n > 0) {
		if (fds[0].revents != 0 && !drain_signals()) {
			poll_self_pipe_ = false;
			pollfds_dirty_ = true;
		}
		dispatching_ = true;
		for (size_t i = 1; i < fds.size() && !stopped_; i++) {
			Watch *w = pollfd_watches_[i];
			if (fds[i].revents == 0 || w->removed) {
				continue;  // idle, or unwatched by an earlier callback of this wakeup
			}
			w->fn(fds[i].revents);
		}
		dispatching_ = false;
		for (WatchId id : removed_) {
			watches_.erase(id);
		}
		removed_.clear();
	}
	run_due_timers();
	return {};
}

Result<> PollLoop::run()
{
	while (!stopped_) {
		if (auto r = run_once(std::chrono::seconds(3600)); !r) {
			return r;
		}
	}
	return {};
}

} // namespace strata::daemon
