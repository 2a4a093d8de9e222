// Name resolution that never blocks the event loop: getaddrinfo() runs on a
// short-lived thread per request and the answer comes back to the loop
// through a pipe, where the callback runs. (glibc's getaddrinfo_a would
// signal or spawn threads of its own; this keeps the daemon's one-thread
// model visible.)
#pragma once

#include <functional>
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
	~Resolver();
	Resolver(const Resolver &) = delete;
	Resolver &operator=(const Resolver &) = delete;

	/// Resolves `name` (IPv4 and/or IPv6 as allowed) and calls `done` on the
	/// loop: the addresses in getaddrinfo's order without duplicates, or an
	/// empty list and gai_strerror's message.
	void resolve(const std::string &name, bool ipv4, bool ipv6, Done done);

private:
	Resolver(PollLoop &loop, UniqueFd read_fd, UniqueFd write_fd);
	void deliver();

	struct Answer {
		Done done;
		std::vector<IpAddress> addresses;
		std::string error;
	};
	PollLoop &loop_;
	UniqueFd read_fd_;
	UniqueFd write_fd_;
	WatchId watch_ = 0;
	std::mutex mutex_;
	std::vector<Answer> answers_;
	std::vector<std::thread> threads_;
};

} // namespace strata::daemon
