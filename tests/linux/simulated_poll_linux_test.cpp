// The poll loop's pipes (the resolver's, the signal self-pipe) under a
// stand-in for clknetsim: this binary's own poll(), which on demand reports
// every descriptor readable, as clknetsim's does for those it does not
// simulate. There no pipe may be watched when nothing can come through it
// (the loop would wake at once, forever, and simulated time would stand
// still), nor make the loop spin while something can. The resolver runs
// real getaddrinfo() on names that need no network ("localhost", numeric
// addresses).
#include <poll.h>
#include <time.h>

#include <csignal>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "daemon/poll_loop_linux.h"
#include "daemon/resolver_linux.h"

namespace {
/// Whether poll() reports every descriptor readable at once, and how many
/// times it was called.
std::atomic<bool> g_all_readable{false};
std::atomic<int> g_polls{0};
} // namespace

/// This binary's poll(), which the linker prefers to libc's: ppoll()
/// unless g_all_readable, then what clknetsim's poll() answers for pipes:
/// readable, at once.
extern "C" int poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	g_polls++;
	if (g_all_readable) {
		int ready = 0;
		for (nfds_t i = 0; i < n; i++) {
			fds[i].revents = fds[i].fd >= 0 ? POLLIN : 0;
			ready += fds[i].fd >= 0 ? 1 : 0;
		}
		if (ready > 0) {
			return ready;
		}
	}
	timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1'000'000L};
	return ::ppoll(fds, n, timeout_ms < 0 ? nullptr : &ts, nullptr);
}

namespace strata::daemon {
namespace {

using namespace std::chrono_literals;

struct Rig {
	Rig()
	{
		auto l = PollLoop::create();
		EXPECT_TRUE(l.has_value());
		loop = std::move(*l);
		auto r = Resolver::create(*loop);
		EXPECT_TRUE(r.has_value());
		resolver = std::move(*r);
	}
	~Rig() { g_all_readable = false; }

	/// Runs the loop until `answers` callbacks ran (10 s at most).
	void run_until(const size_t &answers, size_t want)
	{
		auto deadline = std::chrono::steady_clock::now() + 10s;
		while (answers < want && std::chrono::steady_clock::now() < deadline) {
			ASSERT_TRUE(loop->run_once(100ms).has_value());
		}
	}

	std::unique_ptr<PollLoop> loop;
	std::unique_ptr<Resolver> resolver;
};

TEST(Resolver, ThePipeIsWatchedOnlyWhileARequestIsInFlight)
{
	Rig rig;
	EXPECT_FALSE(rig.resolver->watching());
	std::vector<std::vector<IpAddress>> got;
	size_t answers = 0;
	auto done = [&](std::vector<IpAddress> addresses, std::string error) {
		EXPECT_EQ(error, "");
		got.push_back(std::move(addresses));
		answers++;
	};
	rig.resolver->resolve("127.0.0.1", true, false, done);
	rig.resolver->resolve("::1", false, true, done);
	EXPECT_TRUE(rig.resolver->watching());
	EXPECT_EQ(rig.resolver->in_flight(), 2u);
	rig.run_until(answers, 2);
	ASSERT_EQ(answers, 2u);
	EXPECT_EQ(rig.resolver->in_flight(), 0u);
	EXPECT_FALSE(rig.resolver->watching());
	std::vector<std::vector<IpAddress>> want = {{*IpAddress::parse("127.0.0.1")}, {*IpAddress::parse("::1")}};
	std::sort(got.begin(), got.end());
	std::sort(want.begin(), want.end());
	EXPECT_EQ(got, want);
	// Watched again for the next request.
	rig.resolver->resolve("localhost", true, false, done);
	EXPECT_TRUE(rig.resolver->watching());
	rig.run_until(answers, 3);
	EXPECT_EQ(answers, 3u);
	EXPECT_FALSE(rig.resolver->watching());
}

TEST(Resolver, AnAnswerMayAskForAnother)
{
	Rig rig;
	size_t answers = 0;
	rig.resolver->resolve("127.0.0.1", true, false, [&](std::vector<IpAddress>, std::string) {
		answers++;
		rig.resolver->resolve("127.0.0.2", true, false, [&](std::vector<IpAddress> a, std::string) {
			EXPECT_EQ(a, std::vector<IpAddress>{*IpAddress::parse("127.0.0.2")});
			answers++;
		});
	});
	rig.run_until(answers, 2);
	EXPECT_EQ(answers, 2u);
	EXPECT_FALSE(rig.resolver->watching());
}

TEST(Resolver, UnderASimulatorThatCallsEveryPipeReadableTheLoopNeitherSpinsNorStops)
{
	Rig rig;
	g_all_readable = true;
	size_t answers = 0;
	std::vector<IpAddress> got;
	rig.resolver->resolve("127.0.0.3", true, false, [&](std::vector<IpAddress> a, std::string) {
		got = std::move(a);
		answers++;
	});
	// The first wakeup finds the pipe "readable" before the answer may be
	// there: it waits for it rather than returning to a loop that would
	// wake at once, again and again.
	int polls = g_polls;
	ASSERT_TRUE(rig.loop->run_once(1s).has_value());
	EXPECT_EQ(answers, 1u);
	EXPECT_EQ(got, std::vector<IpAddress>{*IpAddress::parse("127.0.0.3")});
	EXPECT_EQ(g_polls, polls + 1);
	EXPECT_FALSE(rig.resolver->watching());
	// Nothing in flight: no pipe is polled any more (the loop's signal pipe
	// follows its own rule), so each wakeup waits for its timeout.
	polls = g_polls;
	auto start = std::chrono::steady_clock::now();
	for (int i = 0; i < 3; i++) {
		ASSERT_TRUE(rig.loop->run_once(20ms).has_value());
	}
	EXPECT_GE(std::chrono::steady_clock::now() - start, 60ms);
	EXPECT_EQ(g_polls, polls + 3);
}

TEST(PollLoop, UnderASimulatorThatCallsEveryPipeReadableSignalsStillArriveAndTheLoopWaits)
{
	Rig rig;
	bool got = false;
	ASSERT_TRUE(rig.loop->on_signal(SIGUSR2, [&] { got = true; }).has_value());
	g_all_readable = true;
	// The empty self-pipe reported readable: from then on it is read after
	// each poll() instead of polled, and the loop waits its timeouts.
	ASSERT_TRUE(rig.loop->run_once(20ms).has_value());
	auto start = std::chrono::steady_clock::now();
	for (int i = 0; i < 3; i++) {
		ASSERT_TRUE(rig.loop->run_once(20ms).has_value());
	}
	EXPECT_GE(std::chrono::steady_clock::now() - start, 60ms);
	// A signal still reaches its handler (poll() returns EINTR, the pipe is
	// read after it).
	rig.loop->add_timer(rig.loop->now() + 1ms, [] { ::raise(SIGUSR2); });
	for (int i = 0; i < 10 && !got; i++) {
		ASSERT_TRUE(rig.loop->run_once(20ms).has_value());
	}
	EXPECT_TRUE(got);
}

} // namespace
} // namespace strata::daemon
