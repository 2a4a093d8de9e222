#include "daemon/resolver_linux.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

namespace strata::daemon {

Result<std::unique_ptr<Resolver>> Resolver::create(PollLoop &loop)
{
	int fds[2];
	if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
		return fail_errno("pipe2");
	}
	return std::unique_ptr<Resolver>(new Resolver(loop, UniqueFd(fds[0]), UniqueFd(fds[1])));
}

Resolver::Resolver(PollLoop &loop, UniqueFd read_fd, UniqueFd write_fd)
	: loop_(loop), read_fd_(std::move(read_fd)), write_fd_(std::move(write_fd))
{
}

Resolver::~Resolver()
{
	// getaddrinfo cannot be cancelled: wait for the lookups still running
	// (bounded by the resolver's own timeouts).
	for (auto &[id, t] : threads_) {
		t.join();
	}
	if (watch_ != 0) {
		loop_.unwatch(watch_);
	}
}

void Resolver::resolve(const std::string &name, bool ipv4, bool ipv6, Done done)
{
	uint64_t id = next_id_++;
	if (watch_ == 0) {
		watch_ = loop_.watch_fd(read_fd_.get(), POLLIN, [this](short) { deliver(); });
	}
	threads_.emplace(id, std::thread([this, id, name, ipv4, ipv6, done = std::move(done)]() mutable {
		addrinfo hints{};
		hints.ai_family = ipv4 && !ipv6 ? AF_INET : (ipv6 && !ipv4 ? AF_INET6 : AF_UNSPEC);
		hints.ai_socktype = SOCK_DGRAM;
		addrinfo *result = nullptr;
		Answer answer{id, std::move(done), {}, {}};
		int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &result);
		if (rc != 0) {
			answer.error = ::gai_strerror(rc);
		} else {
			for (addrinfo *ai = result; ai != nullptr; ai = ai->ai_next) {
				std::optional<IpAddress> a;
				if (ai->ai_family == AF_INET) {
					sockaddr_in sin{};
					std::memcpy(&sin, ai->ai_addr, sizeof(sin));
					a = IpAddress::v4(ntohl(sin.sin_addr.s_addr));
				} else if (ai->ai_family == AF_INET6) {
					sockaddr_in6 sin6{};
					std::memcpy(&sin6, ai->ai_addr, sizeof(sin6));
					std::array<uint8_t, 16> bytes{};
					std::memcpy(bytes.data(), &sin6.sin6_addr, 16);
					a = IpAddress::v6(bytes);
				}
				if (a && std::find(answer.addresses.begin(), answer.addresses.end(), *a) ==
						 answer.addresses.end()) {
					answer.addresses.push_back(*a);
				}
			}
			::freeaddrinfo(result);
		}
		{
			std::lock_guard lock(mutex_);
			answers_.push_back(std::move(answer));
		}
		answered_.notify_one();
		char byte = 0;
		ssize_t ignored = ::write(write_fd_.get(), &byte, 1);
		(void)ignored;
	}));
}

void Resolver::deliver()
{
	char buffer[64];
	bool woken = false;  // the pipe held a byte
	while (::read(read_fd_.get(), buffer, sizeof(buffer)) > 0) {
		woken = true;
	}
	std::vector<Answer> ready;
	{
		std::unique_lock lock(mutex_);
		if (answers_.empty() && !woken && !threads_.empty()) {
			// Readable but empty: no kernel says that of a pipe, an
			// LD_PRELOAD simulator does of every descriptor it does not
			// simulate. Returning would have the loop spin on it while
			// simulated time stands still; wait for the answer instead.
			answered_.wait(lock, [this] { return !answers_.empty(); });
		}
		ready.swap(answers_);
	}
	for (auto &a : ready) {
		if (auto t = threads_.find(a.id); t != threads_.end()) {
			t->second.join();  // it has only to return
			threads_.erase(t);
		}
	}
	// Nothing in flight: stop watching until the next request, so that
	// nothing wakes the loop for a pipe no thread will write to.
	if (threads_.empty() && watch_ != 0) {
		loop_.unwatch(watch_);
		watch_ = 0;
	}
	for (auto &a : ready) {
		a.done(std::move(a.addresses), std::move(a.error));
	}
}

} // namespace strata::daemon
