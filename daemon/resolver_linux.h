// Name resolution that never blocks the event loop: getaddrinfo() runs on a
// short-lived thread per request and the answer comes back to the loop
// through a pipe, where the callback runs. (glibc's getaddrinfo_a would
// signal or spawn threads of its own; this keeps the daemon's one-thread
// model visible.)
//
// The pipe is watched only while a request is in flight (chronyd's rule for
// its resolver). Under an LD_PRELOAD clock and network simulator
// (clknetsim) poll() reports every descriptor it does not simulate as
// always readable: a pipe watched for good would wake the loop at once,
// forever, and simulated time would stop. There, a pipe reported readable
// while empty is the simulator's mark (the kernel never does it), and the
// loop waits for the answer instead, as chronyd's does (its handler joins
// the resolving thread).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/address.h"
#include "core/unique_fd.h"
#include "daemon/poll_loop_linux.h"

namespace strata::daemon {

class Resolver {
public:
	using Done = std::function<void(std::vector<IpAddress> addresses, std::string error)>;

	static Result<std::unique_ptr<Resolver>> create(PollLoop &loop);
	/// Waits for the lookups still running (getaddrinfo cannot be
	/// cancelled); their callbacks are not called.
	~Resolver();
	Resolver(const Resolver &) = delete;
	Resolver &operator=(const Resolver &) = delete;

	/// Resolves `name` (IPv4 and/or IPv6 as allowed) and calls `done` on the
	/// loop: the addresses in getaddrinfo's order without duplicates, or an
	/// empty list and gai_strerror's message. Call on the loop's thread.
	void resolve(const std::string &name, bool ipv4, bool ipv6, Done done);

	/// Requests whose callback has not run yet.
	size_t in_flight() const { return threads_.size(); }
	/// Whether the loop watches the pipe (only while requests are in flight).
	bool watching() const { return watch_ != 0; }

private:
	Resolver(PollLoop &loop, UniqueFd read_fd, UniqueFd write_fd);
	void deliver();

	struct Answer {
		uint64_t id = 0;
		Done done;
		std::vector<IpAddress> addresses;
		std::string error;
	};
	PollLoop &loop_;
	UniqueFd read_fd_;
	UniqueFd write_fd_;
	WatchId watch_ = 0;  ///< 0 while nothing is in flight
	uint64_t next_id_ = 1;
	std::mutex mutex_;
	std::condition_variable answered_;  ///< an answer was queued
	std::vector<Answer> answers_;       ///< guarded by mutex_
	/// One thread per request in flight, by request id; joined when its
	/// answer is delivered (it has only to return by then).
	std::map<uint64_t, std::thread> threads_;
};

} // namespace strata::daemon
