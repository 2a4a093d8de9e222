// ntpload: an NTP load generator. Sends NTPv4 client requests from many
// source addresses in 127.0.0.0/8 (from one socket, each request from its
// client's address with IP_PKTINFO, round-robin) to one server, at a fixed
// offered rate or closed-loop with a window of
// requests in flight, using sendmmsg/recvmmsg; then reports responses per
// second, loss and response-time percentiles, and, given the server's PID,
// its CPU time per response and memory. It is how docs/benchmarks.md measures
// NTP servers side by side. Only loopback targets are accepted.
//
// Response times are taken with CLOCK_MONOTONIC around the batched system
// calls, so they include up to one batch of queueing in this tool.
//
// The clock offset a client would compute from each response is reported
// too (p1, p50, p99): server and client share this host's clock, so the
// truth is zero and the spread is the error the server's timestamps give a
// client. The tool's own two timestamps are the kernel's, so that its
// batching and scheduling stay out of the figure: t1 is the software
// transmit timestamp of the request (SO_TIMESTAMPING, read back from the
// error queue right after each sendmmsg), t4 the software receive
// timestamp of the response. A response without both (the kernel drops a
// transmit stamp when the socket's receive buffer is full) is left out of
// the offsets, and counted. --no-offsets asks the kernel for neither, for
// the cheapest load.
//
// With --tick, --unwoken reads responses at the ticks only and sleeps in
// between on its own timer, not in poll() on its socket. On loopback a
// datagram is delivered to its receiver within the sender's system call,
// and waking a receiver that sleeps on its socket is work done on the
// sender's CPU (an inter-processor interrupt, a VM exit in a virtual
// machine): a server that sends its replies one by one would be charged
// for waking this tool once per reply, where on a real network that work
// is the clients' machines'. Offsets are unaffected (the kernel stamps
// each response as it arrives); response times are then read at ticks.
//
// At a fixed rate, --tick T sends what is due every T microseconds on a
// clock of its own, whatever the responses do: the server sees the same
// bursts whichever server it is. Without it, requests go out whenever the
// tool wakes, which is mostly when responses arrive, so a server that
// answers sooner is sent smaller bursts and woken more often.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "ntp/cmsg_linux.h"
#include "ntp/packet.h"
#include "tools/load_stats.h"

namespace {

using strata::Duration;
using strata::MonoTime;
using strata::RealTime;
using strata::tools::LatencyHistogram;
using strata::tools::Pacer;
using strata::tools::SignedSamples;

constexpr size_t kNtpLen = 48;
constexpr size_t kRingBits = 22;  // in-flight bookkeeping: 4 Mi requests
constexpr size_t kRingSize = size_t{1} << kRingBits;

struct Options {
	uint32_t server = 0x7f000001;  // 127.0.0.1
	uint16_t port = 123;
	double rate = 0;        // requests/s; 0 = closed loop with `window` in flight
	double duration_s = 5;
	uint32_t clients = 64;
	uint32_t first_client = 0;  // index of the first source address (tools/load_stats.h)
	unsigned batch = 32;
	unsigned window = 512;
	double drain_s = 0.5;   // wait for late responses after the last request
	double timeout_s = 0.1; // closed loop: a request unanswered this long is lost
	double tick_us = 0;     // fixed rate: send what is due every tick_us (0: whenever awake)
	int server_pid = 0;
	bool json = false;
	bool offsets = true;    // kernel timestamps, and the offset of each response
	bool unwoken = false;   // --tick: read responses at ticks only, never woken by one
};

[[noreturn]] void usage(int code)
{
	std::fprintf(code ? stderr : stdout,
		     "usage: ntpload [--server 127.A.B.C] [--port P] [--rate N | --window W]\n"
		     "               [--duration S] [--clients K] [--first-client I] [--batch B]\n"
		     "               [--drain S] [--timeout S] [--tick US] [--server-pid PID] [--json]\n"
		     "               [--no-offsets] [--unwoken]\n"
		     "Sends NTPv4 client requests from K addresses in 127.0.0.0/8 (127.1.0.1 and up,\n"
		     "starting from the I-th) to a server on loopback. --rate 0 (default) keeps W\n"
		     "requests in flight (closed loop). With --rate, --tick US sends what is due\n"
		     "every US microseconds, independently of the responses. Each response's clock\n"
		     "offset is computed from kernel timestamps; --no-offsets skips them. With\n"
		     "--tick, --unwoken reads responses at the ticks only, sleeping in between\n"
		     "without waiting on the socket, so that no response has to wake the tool.\n");
	std::exit(code);
}

double parse_number(const char *opt, const char *v)
{
	char *end = nullptr;
	errno = 0;
	double d = std::strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || d < 0) {
		std::fprintf(stderr, "ntpload: bad value '%s' for %s\n", v, opt);
		std::exit(2);
	}
	return d;
}

Options parse_options(int argc, char **argv)
{
	Options o;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		if (a == "-h" || a == "--help") {
			usage(0);
		}
		if (a == "--json") {
			o.json = true;
			continue;
		}
		if (a == "--no-offsets") {
			o.offsets = false;
			continue;
		}
		if (a == "--unwoken") {
			o.unwoken = true;
			continue;
		}
		if (i + 1 >= argc) {
			usage(2);
		}
		const char *v = argv[++i];
		if (a == "--server") {
			in_addr addr{};
			if (inet_pton(AF_INET, v, &addr) != 1 || (ntohl(addr.s_addr) >> 24) != 127) {
				std::fprintf(stderr, "ntpload: --server must be an IPv4 address in 127.0.0.0/8\n");
				std::exit(2);
			}
			o.server = ntohl(addr.s_addr);
		} else if (a == "--port") {
			double p = parse_number(argv[i - 1], v);
			if (p < 1 || p > 65535) {
				usage(2);
			}
			o.port = static_cast<uint16_t>(p);
		} else if (a == "--rate") {
			o.rate = parse_number(argv[i - 1], v);
		} else if (a == "--duration") {
			o.duration_s = parse_number(argv[i - 1], v);
		} else if (a == "--clients") {
			o.clients = std::clamp(static_cast<uint32_t>(parse_number(argv[i - 1], v)), 1u, 1'000'000u);
		} else if (a == "--first-client") {
			o.first_client = std::min(static_cast<uint32_t>(parse_number(argv[i - 1], v)), 16'000'000u);
		} else if (a == "--batch") {
			o.batch = std::clamp(static_cast<unsigned>(parse_number(argv[i - 1], v)), 1u, 1024u);
		} else if (a == "--window") {
			o.window = std::max(1u, static_cast<unsigned>(parse_number(argv[i - 1], v)));
		} else if (a == "--drain") {
			o.drain_s = parse_number(argv[i - 1], v);
		} else if (a == "--timeout") {
			o.timeout_s = parse_number(argv[i - 1], v);
		} else if (a == "--tick") {
			o.tick_us = parse_number(argv[i - 1], v);
		} else if (a == "--server-pid") {
			o.server_pid = static_cast<int>(parse_number(argv[i - 1], v));
		} else {
			usage(2);
		}
	}
	return o;
}

MonoTime mono_now()
{
	timespec ts{};
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return MonoTime::from_parts(ts.tv_sec, ts.tv_nsec);
}

/// The software timestamp of a SCM_TIMESTAMPING control message of `h`, if any.
std::optional<RealTime> software_stamp(msghdr &h)
{
	for (cmsghdr *c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
			scm_timestamping ts{};
			std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			if (ts.ts[0].tv_sec != 0 || ts.ts[0].tv_nsec != 0) {
				return RealTime::from_parts(ts.ts[0].tv_sec, ts.ts[0].tv_nsec);
			}
		}
	}
	return std::nullopt;
}

/// The OPT_ID of a transmit timestamp read from the error queue.
std::optional<uint32_t> tx_stamp_id(msghdr &h)
{
	for (cmsghdr *c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) {
			sock_extended_err err{};
			std::memcpy(&err, CMSG_DATA(c), sizeof(err));
			if (err.ee_errno == ENOMSG && err.ee_origin == SO_EE_ORIGIN_TIMESTAMPING) {
				return err.ee_data;
			}
		}
	}
	return std::nullopt;
}

strata::ntp::NtpTimestamp read_ntp(const uint8_t *p)
{
	strata::ntp::NtpTimestamp ts;
	for (int b = 0; b < 4; b++) {
		ts.seconds = (ts.seconds << 8) | p[b];
		ts.fraction = (ts.fraction << 8) | p[4 + b];
	}
	return ts;
}

/// CPU time (user + system) of a process and its resident memory, from /proc.
struct ProcUsage {
	double cpu_s = 0;
	long rss_kib = 0;
};

/// The run time of all threads of `pid`, seconds, from the nanoseconds in
/// /proc/PID/task/*/schedstat (the scheduler's own clock); nullopt where the
/// kernel keeps no schedstat. A thread that ends between two readings takes
/// its time with it: the responders measured keep theirs.
std::optional<double> scheduler_cpu_s(int pid)
{
	std::error_code ec;
	std::filesystem::directory_iterator tasks(fmt::format("/proc/{}/task", pid), ec);
	if (ec) {
		return std::nullopt;
	}
	double total_ns = 0;
	for (const auto &task : tasks) {
		std::ifstream schedstat(task.path() / "schedstat");
		double ns = 0;
		if (!(schedstat >> ns)) {
			return std::nullopt;
		}
		total_ns += ns;
	}
	return total_ns * 1e-9;
}

std::optional<ProcUsage> read_proc_usage(int pid)
{
	std::ifstream stat(fmt::format("/proc/{}/stat", pid));
	std::string line;
	if (!std::getline(stat, line)) {
		return std::nullopt;
	}
	// Fields after the parenthesised command name; utime and stime are 14 and 15.
	auto close = line.rfind(')');
	if (close == std::string::npos) {
		return std::nullopt;
	}
	std::istringstream rest(line.substr(close + 2));
	std::string field;
	std::vector<std::string> fields;
	while (rest >> field) {
		fields.push_back(field);
	}
	if (fields.size() < 13) {
		return std::nullopt;
	}
	ProcUsage u;
	// utime and stime come in clock ticks (10 ms): at 50,000 responses a
	// second for 3 s, one tick is 0.7 % of the figure. schedstat counts
	// nanoseconds; the ticks are the fallback.
	if (auto precise = scheduler_cpu_s(pid)) {
		u.cpu_s = *precise;
	} else {
		u.cpu_s = static_cast<double>(std::stoull(fields[11]) + std::stoull(fields[12])) /
			  static_cast<double>(sysconf(_SC_CLK_TCK));
	}
	std::ifstream status(fmt::format("/proc/{}/status", pid));
	while (std::getline(status, line)) {
		if (line.rfind("VmRSS:", 0) == 0) {
			u.rss_kib = std::strtol(line.c_str() + 6, nullptr, 10);
		}
	}
	return u;
}

struct Flight {
	uint64_t seq = UINT64_MAX;
	MonoTime sent;
	RealTime t1;             ///< when the request left (kernel stamp; zero: none)
};

class Load {
public:
	explicit Load(const Options &o) : o_(o), ring_(kRingSize)
	{
		for (size_t k = 0; k < kMaxBatch; k++) {
			rx_iov_[k] = {rx_buf_[k], sizeof(rx_buf_[k])};
			msghdr &h = rx_msgs_[k].msg_hdr;
			h.msg_iov = &rx_iov_[k];
			h.msg_iovlen = 1;
			h.msg_control = o_.offsets ? rx_control_[k] : nullptr;
		}
	}
	Load(const Load &) = delete;
	Load &operator=(const Load &) = delete;

	/// One socket for every source address: bound to the wildcard address,
	/// it sends each request from its client's address (IP_PKTINFO), and
	/// the responses to any of them come back to it, so that one poll() and
	/// one recvmmsg() serve all clients however many there are.
	bool open_socket()
	{
		fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd_ < 0) {
			std::perror("ntpload: socket");
			return false;
		}
		// Room for a long burst of responses (SO_RCVBUFFORCE where the
		// namespace lets us pass net.core.rmem_max).
		int size = 16 << 20;
		if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0) {
			setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		}
		if (o_.offsets) {
			// Software stamps of requests (numbered, the stamp alone on
			// the error queue) and of responses.
			int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_TX_SOFTWARE |
				    SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;
			if (setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof(flags)) != 0) {
				std::perror("ntpload: setsockopt(SO_TIMESTAMPING)");
				return false;
			}
		}
		sockaddr_in local{};
		local.sin_family = AF_INET;
		if (bind(fd_, reinterpret_cast<sockaddr *>(&local), sizeof(local)) != 0) {
			std::perror("ntpload: bind");
			return false;
		}
		server_.sin_family = AF_INET;
		server_.sin_addr.s_addr = htonl(o_.server);
		server_.sin_port = htons(o_.port);
		// Every source address must be one of this host's: send one
		// datagram from each of the first and the last to a port of our
		// own (nothing is sent to the server before the run).
		for (uint32_t i : {uint32_t{0}, o_.clients - 1}) {
			uint32_t source = strata::tools::client_address(o_.first_client + i);
			sockaddr_in self{};
			socklen_t len = sizeof(self);
			getsockname(fd_, reinterpret_cast<sockaddr *>(&self), &len);
			self.sin_addr.s_addr = htonl(source);
			uint8_t byte = 0;
			iovec iov{&byte, 1};
			alignas(cmsghdr) uint8_t control[CMSG_SPACE(sizeof(in_pktinfo))]{};
			msghdr h{};
			h.msg_name = &self;
			h.msg_namelen = sizeof(self);
			h.msg_iov = &iov;
			h.msg_iovlen = 1;
			set_source(h, control, source);
			if (sendmsg(fd_, &h, 0) < 0) {
				std::fprintf(stderr, "ntpload: cannot send from %s: %s\n",
					     strata::tools::format_ipv4(source).c_str(), std::strerror(errno));
				return false;
			}
		}
		// Read back what those sends left (the datagrams, and their
		// transmit timestamps, which took the first stamp numbers).
		drain(fd_, 0);
		drain(fd_, MSG_ERRQUEUE);
		tx_id_ = 2;
		if (o_.offsets) {
			offsets_.reserve(1 << 20);
			server_times_.reserve(1 << 20);
		}
		return true;
	}

	~Load()
	{
		if (fd_ >= 0) {
			close(fd_);
		}
	}

	void run()
	{
		auto before = o_.server_pid ? read_proc_usage(o_.server_pid) : std::nullopt;
		start_ = mono_now();
		Pacer pacer(o_.rate, start_);
		MonoTime end = start_ + strata::from_seconds(o_.duration_s);
		if (o_.tick_us > 0 && !pacer.unlimited()) {
			run_ticked(pacer, end);
		} else {
			run_when_awake(pacer, end);
		}
		MonoTime now = mono_now();
		send_end_ = now;
		MonoTime drain_end = now + strata::from_seconds(o_.drain_s);
		while (received_ < sent_ && mono_now() < drain_end) {
			receive(10);
		}
		auto after = o_.server_pid ? read_proc_usage(o_.server_pid) : std::nullopt;
		report(before, after);
	}

private:
	/// Sends whatever is due (or room in the window allows) each time the
	/// tool wakes: after a response, or after 1 ms without one.
	void run_when_awake(const Pacer &pacer, MonoTime end)
	{
		MonoTime now = start_;
		while (now < end) {
			expire(now);
			uint64_t want = pacer.unlimited() ? sent_ + in_flight_room() : pacer.due(now);
			if (want > sent_) {
				send_batch(std::min<uint64_t>(want - sent_, o_.batch), now);
			}
			int timeout_ms = (want > sent_ + o_.batch || pacer.unlimited()) ? 0 : 1;
			receive(timeout_ms);
			now = mono_now();
		}
	}

	/// Sends at tick boundaries on the tool's own clock: at each tick, every
	/// request due by then, in batches; between ticks only receives.
	void run_ticked(const Pacer &pacer, MonoTime end)
	{
		prctl(PR_SET_TIMERSLACK, 1UL);  // wake at the tick, not up to 50 us later
		Duration tick = strata::from_seconds(o_.tick_us * 1e-6);
		MonoTime next = start_;
		MonoTime now = start_;
		while (now < end) {
			expire(now);
			if (now >= next) {
				uint64_t want = pacer.due(now);
				while (want > sent_) {
					uint64_t before = sent_;
					send_batch(std::min<uint64_t>(want - sent_, o_.batch), now);
					if (sent_ == before) {
						break;  // send error, counted
					}
				}
				next = next + tick;
				if (next <= now) {
					next = now + tick;  // fell behind: the next tick sends the backlog
				}
			}
			receive_until(next);
			now = mono_now();
		}
	}

	uint64_t in_flight_room() const
	{
		return in_flight_ >= o_.window ? 0 : o_.window - in_flight_;
	}

	/// Requests are sent in sequence order, so the unanswered ones older than
	/// the timeout are found from the oldest end; they stop counting as in flight.
	void expire(MonoTime now)
	{
		Duration timeout = strata::from_seconds(o_.timeout_s);
		while (oldest_ < sent_) {
			Flight &f = ring_[oldest_ & (kRingSize - 1)];
			if (f.seq == oldest_) {
				if (now - f.sent < timeout) {
					break;
				}
				f.seq = UINT64_MAX;
				in_flight_--;
				timed_out_++;
			}
			oldest_++;
		}
	}

	void send_batch(uint64_t n, MonoTime now)
	{
		// Each request from the next client address, round-robin.
		n = std::min<uint64_t>(n, kMaxBatch);
		for (uint64_t k = 0; k < n; k++) {
			uint64_t seq = sent_ + k;
			uint8_t *p = tx_buf_[k];
			std::memset(p, 0, kNtpLen);
			p[0] = (0 << 6) | (4 << 3) | 3;  // no leap warning, version 4, mode 3 (client)
			p[2] = 6;                         // poll 2^6 s, as a chronyd client sends
			p[3] = 0xe9;                      // precision 2^-23 s
			for (int b = 0; b < 8; b++) {
				p[40 + b] = static_cast<uint8_t>(seq >> (56 - 8 * b));
			}
			tx_iov_[k] = {p, kNtpLen};
			tx_msgs_[k] = {};
			msghdr &h = tx_msgs_[k].msg_hdr;
			h.msg_name = &server_;
			h.msg_namelen = sizeof(server_);
			h.msg_iov = &tx_iov_[k];
			h.msg_iovlen = 1;
			set_source(h, tx_control_[k], strata::tools::client_address(o_.first_client + next_client_));
			next_client_ = next_client_ + 1 == o_.clients ? 0 : next_client_ + 1;
		}
		int r = sendmmsg(fd_, tx_msgs_, static_cast<unsigned>(n), 0);
		if (r < 0) {
			send_errors_++;
			return;
		}
		for (int k = 0; k < r; k++) {
			uint64_t seq = sent_ + static_cast<uint64_t>(k);
			Flight &f = ring_[seq & (kRingSize - 1)];
			if (f.seq != UINT64_MAX) {
				in_flight_--;  // never answered before its slot came round again
				timed_out_++;
			}
			f = {seq, now, RealTime{}};
		}
		if (o_.offsets) {
			read_tx_stamps(sent_, static_cast<unsigned>(r));
		}
		sent_ += static_cast<uint64_t>(r);
		in_flight_ += static_cast<uint64_t>(r);
	}

	/// Reads the transmit timestamps of the `n` requests just sent (the
	/// first of them numbered `first_seq`) from the error queue. Loopback
	/// stamps a datagram as it hands it on, inside the send call, so they
	/// are all there (unless the socket's buffer is full).
	void read_tx_stamps(uint64_t first_seq, unsigned n)
	{
		int fd = fd_;
		uint32_t first_id = tx_id_;
		tx_id_ += n;
		unsigned got = 0;
		while (got < n) {
			unsigned want = n - got;
			for (unsigned k = 0; k < want; k++) {
				err_iov_[k] = {err_buf_[k], sizeof(err_buf_[k])};
				err_msgs_[k] = {};
				err_msgs_[k].msg_hdr.msg_iov = &err_iov_[k];
				err_msgs_[k].msg_hdr.msg_iovlen = 1;
				err_msgs_[k].msg_hdr.msg_control = err_control_[k];
				err_msgs_[k].msg_hdr.msg_controllen = sizeof(err_control_[k]);
			}
			int r = recvmmsg(fd, err_msgs_, want, MSG_ERRQUEUE | MSG_DONTWAIT, nullptr);
			if (r <= 0) {
				break;
			}
			got += static_cast<unsigned>(r);
			for (int k = 0; k < r; k++) {
				auto id = tx_stamp_id(err_msgs_[k].msg_hdr);
				auto at = software_stamp(err_msgs_[k].msg_hdr);
				uint32_t index = id ? *id - first_id : UINT32_MAX;
				if (id) {
					// A datagram the kernel numbered but did not send
					// would shift the numbers: follow the kernel's.
					tx_id_ = std::max(tx_id_, *id + 1);
				}
				if (!at || index >= n) {
					continue;
				}
				uint64_t seq = first_seq + index;
				Flight &f = ring_[seq & (kRingSize - 1)];
				if (f.seq == seq) {
					f.t1 = *at;
					tx_stamped_++;
				}
			}
		}
	}

	/// Reads and drops whatever waits on the socket's queue (flags 0) or
	/// error queue (MSG_ERRQUEUE).
	static void drain(int fd, int flags)
	{
		unsigned char data[64];
		alignas(cmsghdr) unsigned char control[128];
		for (;;) {
			iovec iov{data, sizeof(data)};
			msghdr h = strata::ntp::one_datagram_header(iov, control, sizeof(control));
			if (recvmsg(fd, &h, flags | MSG_DONTWAIT) < 0) {
				return;
			}
		}
	}

	/// Makes `h` send from `source` (IP_PKTINFO in `control`).
	static void set_source(msghdr &h, uint8_t *control, uint32_t source)
	{
		in_pktinfo pi{};
		pi.ipi_spec_dst.s_addr = htonl(source);
		strata::ntp::set_only_cmsg(h, control, IPPROTO_IP, IP_PKTINFO, pi);
	}

	void receive(int timeout_ms)
	{
		pollfd p{fd_, POLLIN, 0};
		if (poll(&p, 1, timeout_ms) <= 0) {
			return;
		}
		read_ready(p.revents);
	}

	/// Receives what arrives until `deadline`, or once something has.
	void receive_until(MonoTime deadline)
	{
		if (o_.unwoken) {
			// Read what came, then sleep until the deadline, waiting on
			// nothing a response could wake.
			read_ready(POLLIN);
			timespec at{static_cast<time_t>(deadline.since_epoch.count() / 1'000'000'000),
				    static_cast<long>(deadline.since_epoch.count() % 1'000'000'000)};
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr);
			return;
		}
		int64_t ns = std::max<int64_t>(0, (deadline - mono_now()).count());
		timespec timeout{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
		pollfd p{fd_, POLLIN, 0};
		if (ppoll(&p, 1, &timeout, nullptr) <= 0) {
			return;
		}
		read_ready(p.revents);
	}

	void read_ready(short revents)
	{
		if (revents & POLLERR) {
			drain(fd_, MSG_ERRQUEUE);  // stamps left behind: poll() would not wait
		}
		if (!(revents & POLLIN)) {
			return;
		}
		for (;;) {
			for (size_t k = 0; k < rx_dirty_; k++) {
				rx_msgs_[k].msg_hdr.msg_controllen = o_.offsets ? sizeof(rx_control_[k]) : 0;
				rx_msgs_[k].msg_hdr.msg_flags = 0;
			}
			int r = recvmmsg(fd_, rx_msgs_, kMaxBatch, MSG_DONTWAIT, nullptr);
			rx_dirty_ = r > 0 ? static_cast<size_t>(r) : 0;
			if (r <= 0) {
				break;
			}
			MonoTime now = mono_now();
			for (int k = 0; k < r; k++) {
				std::optional<RealTime> t4;
				if (o_.offsets) {
					t4 = software_stamp(rx_msgs_[k].msg_hdr);
					if (t4) {
						rx_stamped_++;
					}
				}
				handle(rx_buf_[k], rx_msgs_[k].msg_len, now, t4);
			}
		}
	}

	void handle(const uint8_t *p, size_t len, MonoTime now, std::optional<RealTime> t4)
	{
		if (len < kNtpLen) {
			malformed_++;
			return;
		}
		int mode = p[0] & 7;
		// A server copies our transmit timestamp into the origin field; a
		// bare echo returns the request itself (mode 3) with it in place.
		const uint8_t *cookie = mode == 3 ? p + 40 : p + 24;
		uint64_t seq = 0;
		for (int b = 0; b < 8; b++) {
			seq = (seq << 8) | cookie[b];
		}
		Flight &f = ring_[seq & (kRingSize - 1)];
		if (f.seq != seq) {
			unmatched_++;  // late (after --timeout), duplicated or not ours
			return;
		}
		f.seq = UINT64_MAX;
		in_flight_--;
		received_++;
		latency_.add(now - f.sent);
		if (mode == 4 && p[1] == 0) {
			kod_++;  // stratum 0: kiss-o'-death (RATE, DENY…)
			if (std::memcmp(p + 12, "RATE", 4) == 0) {
				kod_rate_++;
			}
		} else if (mode == 4 && (p[0] >> 6) == 3) {
			unsynchronized_++;
		} else if (mode == 4 && o_.offsets) {
			// A server's time: the offset a client would compute.
			auto receive = read_ntp(p + 32), transmit = read_ntp(p + 40);
			if (receive.is_zero() || transmit.is_zero()) {
				return;
			}
			if (!t4 || f.t1 == RealTime{}) {
				unstamped_++;
				return;
			}
			RealTime t2 = strata::ntp::from_ntp(receive, *t4);
			RealTime t3 = strata::ntp::from_ntp(transmit, *t4);
			offsets_.add(strata::tools::ntp_offset(f.t1, t2, t3, *t4));
			server_times_.add(t3 - t2);
		}
	}

	void report(const std::optional<ProcUsage> &before, const std::optional<ProcUsage> &after)
	{
		double secs = strata::to_seconds(send_end_ - start_);
		uint64_t lost = sent_ - received_;
		double loss = sent_ ? 100.0 * static_cast<double>(lost) / static_cast<double>(sent_) : 0;
		double us = 1e-3;
		double cpu_us = -1;
		long rss = -1;
		if (before && after && received_ > 0) {
			cpu_us = (after->cpu_s - before->cpu_s) * 1e6 / static_cast<double>(received_);
			rss = after->rss_kib;
		}
		auto pct = [&](double q) { return static_cast<double>(latency_.percentile(q).count()) * us; };
		auto off = [&](double q) { return static_cast<double>(offsets_.percentile(q).count()) * us; };
		auto held = [&](double q) { return static_cast<double>(server_times_.percentile(q).count()) * us; };
		if (o_.json) {
			fmt::print("{{\"offered_rate\":{:.0f},\"duration_s\":{:.3f},\"sent\":{},\"received\":{},"
				   "\"responses_per_s\":{:.0f},\"loss_percent\":{:.3f},\"kod\":{},\"kod_rate\":{},"
				   "\"timed_out\":{},\"unsynchronized\":{},\"malformed\":{},\"unmatched\":{},\"send_errors\":{},"
				   "\"latency_us\":{{\"p50\":{:.1f},\"p90\":{:.1f},\"p99\":{:.1f},\"p999\":{:.1f},"
				   "\"max\":{:.1f}}},\"offset_us\":{{\"count\":{},\"p1\":{:.2f},\"p50\":{:.2f},"
				   "\"p99\":{:.2f}}},\"server_time_us\":{{\"p50\":{:.1f},\"p99\":{:.1f}}},"
				   "\"tx_stamped\":{},\"rx_stamped\":{},\"unstamped\":{},"
				   "\"server_cpu_us_per_response\":{:.3f},\"server_rss_kib\":{}}}\n",
				   o_.rate, secs, sent_, received_, static_cast<double>(received_) / secs, loss,
				   kod_, kod_rate_, timed_out_, unsynchronized_, malformed_, unmatched_, send_errors_,
				   pct(0.5), pct(0.9), pct(0.99), pct(0.999),
				   static_cast<double>(latency_.max().count()) * us, offsets_.count(), off(0.01),
				   off(0.5), off(0.99), held(0.5), held(0.99), tx_stamped_, rx_stamped_, unstamped_, cpu_us, rss);
			return;
		}
		fmt::print("offered        : {}\n", o_.rate > 0 ? fmt::format("{:.0f}/s", o_.rate)
							     : fmt::format("closed loop, {} in flight", o_.window));
		fmt::print("sent           : {} in {:.3f} s from {} address{}\n", sent_, secs, o_.clients,
			   o_.clients == 1 ? "" : "es");
		fmt::print("received       : {} ({:.0f}/s)\n", received_, static_cast<double>(received_) / secs);
		fmt::print("lost           : {} ({:.3f} %; {} unanswered within {} s)\n", lost, loss,
			   timed_out_, o_.timeout_s);
		fmt::print("kiss-o'-death  : {} (RATE {})\n", kod_, kod_rate_);
		fmt::print("unsynchronized : {}\n", unsynchronized_);
		fmt::print("bad responses  : {} malformed, {} unmatched; {} send errors\n", malformed_,
			   unmatched_, send_errors_);
		fmt::print("response time  : p50 {:.1f} us, p90 {:.1f} us, p99 {:.1f} us, p99.9 {:.1f} us, max {:.1f} us\n",
			   pct(0.5), pct(0.9), pct(0.99), pct(0.999),
			   static_cast<double>(latency_.max().count()) * us);
		if (offsets_.count() > 0) {
			fmt::print("offset         : p1 {:+.2f} us, p50 {:+.2f} us, p99 {:+.2f} us ({} responses; "
				   "{} left out for want of a kernel stamp)\n",
				   off(0.01), off(0.5), off(0.99), offsets_.count(), unstamped_);
			fmt::print("server time    : p50 {:.1f} us, p99 {:.1f} us (transmit - receive timestamp)\n",
				   held(0.5), held(0.99));
		}
		if (cpu_us >= 0) {
			fmt::print("server         : {:.3f} us CPU per response, RSS {} KiB\n", cpu_us, rss);
		}
	}

	static constexpr unsigned kMaxBatch = 1024;

	Options o_;
	int fd_ = -1;
	sockaddr_in server_{};
	std::vector<Flight> ring_;
	uint32_t next_client_ = 0;      ///< index of the next request's source address
	uint64_t sent_ = 0, received_ = 0, in_flight_ = 0, oldest_ = 0, timed_out_ = 0;
	uint64_t kod_ = 0, kod_rate_ = 0, unsynchronized_ = 0, malformed_ = 0, unmatched_ = 0;
	uint64_t send_errors_ = 0;
	uint64_t tx_stamped_ = 0, rx_stamped_ = 0;
	uint64_t unstamped_ = 0;  ///< server responses left out of the offsets: a kernel stamp missing
	uint32_t tx_id_ = 0;            ///< the OPT_ID the kernel gives the next datagram sent
	MonoTime start_, send_end_;
	LatencyHistogram latency_;
	SignedSamples offsets_;
	SignedSamples server_times_;
	uint8_t tx_buf_[kMaxBatch][kNtpLen]{};
	iovec tx_iov_[kMaxBatch]{};
	mmsghdr tx_msgs_[kMaxBatch]{};
	uint8_t rx_buf_[kMaxBatch][512]{};
	iovec rx_iov_[kMaxBatch]{};
	mmsghdr rx_msgs_[kMaxBatch]{};
	size_t rx_dirty_ = kMaxBatch;   ///< headers the last recvmmsg changed
	alignas(cmsghdr) uint8_t rx_control_[kMaxBatch][128]{};
	alignas(cmsghdr) uint8_t tx_control_[kMaxBatch][CMSG_SPACE(sizeof(in_pktinfo))]{};
	uint8_t err_buf_[kMaxBatch][64]{};
	iovec err_iov_[kMaxBatch]{};
	mmsghdr err_msgs_[kMaxBatch]{};
	alignas(cmsghdr) uint8_t err_control_[kMaxBatch][128]{};
};

} // namespace

int main(int argc, char **argv)
{
	Options o = parse_options(argc, argv);
	auto load = std::make_unique<Load>(o);
	if (!load->open_socket()) {
		return 1;
	}
	load->run();
	return 0;
}
