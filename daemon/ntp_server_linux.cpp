#include "daemon/ntp_server_linux.h"

#include "daemon/clock_read_linux.h"
#include "daemon/random_seed_linux.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/select.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "core/random.h"
#include "ntp/responder.h"
#include "ntp/udp_linux.h"

namespace strata::daemon {

namespace {

/// Batches read per wakeup before the loop gets to run other work.
constexpr int kBatchesPerWakeup = 8;
/// serverbatchdelay: what is left of the delay after answering must be at
/// least this long to be worth a sleep (the kernel's default timer slack).
constexpr Duration kShortestBatchWait = std::chrono::microseconds(50);
/// The server sends at most this many replies a system call…
constexpr int64_t kMaxSendChunk = 4;
/// … and the transmit times it predicts in one call span at most this;
constexpr Duration kMaxPredictedSpan = std::chrono::microseconds(10);
/// near its capacity (answering four fifths of the time), these.
constexpr int64_t kMaxSendChunkNearCapacity = 16;
constexpr Duration kMaxPredictedSpanNearCapacity = std::chrono::microseconds(40);

} // namespace

struct NtpServer::Worker {
	Worker(NtpServer &s, uint64_t seed)
		: server(s),
		  clients(s.settings_.noclientlog ? 0 : s.settings_.clientlog_bytes,
			  s.settings_.noclientlog ? std::nullopt : s.settings_.ratelimit, seed, s.settings_.client_groups),
		  rng(seed ^ 0x5bd1e995)
	{
	}

	/// Reads and answers what is waiting on `socket`: at most
	/// kBatchesPerWakeup batches, then the loop gets to run other work.
	/// Returns whether it slept (batch_delay) on the way.
	bool serve(ntp::UdpSocket &socket)
	{
		const auto &settings = server.settings_;
		bool slept = false;
		for (int round = 0; round < kBatchesPerWakeup; round++) {
			MonoTime read_at = monotonic_now();
			auto received = socket.receive(in.slots());
			if (!received) {
				server.log_.warning("Could not receive NTP packets: {}", received.error().message());
				return slept;
			}
			if (*received == 0) {
				return slept;
			}
			answer(socket, *received, read_at);
			MonoTime answered_at = monotonic_now();
			busy.add(read_at, answered_at);
			if (*received == in.capacity()) {
				continue;  // more are waiting: read on at once
			}
			// Two requests or more came in since the last read: under load.
			// Waking costs more CPU than a request (on loopback ~20 us
			// against ~3 us), so let the next ones gather for a while and
			// answer them in one batch. The time a request waits is in
			// what its timestamps say, not an error in them: the receive
			// timestamps are the kernel's, taken on arrival, and each
			// transmit time is taken at that reply's send. One request
			// alone goes back to poll(); half a batch or more is big
			// enough already.
			if (*received < 2 || *received > in.capacity() / 2 ||
			    settings.batch_delay <= Duration::zero() || round + 1 == kBatchesPerWakeup) {
				return slept;
			}
			// Never when a request of the batch had no kernel receive
			// timestamp (none yet, or none on this system): its receive
			// time is read after the read, and waiting would go into
			// the error its client sees.
			if (!kernel_stamped(*received)) {
				return slept;
			}
			// Only while answering takes under four fifths of the time:
			// near its capacity the server must not idle, as a backlog
			// made by waiting would drain slowly, if at all. The line is
			// above the share a server that waits spends at a rate where
			// waiting pays: at two thirds, a server at 150,000/s on the
			// benchmark machine (about 4.5 us a reply when it waits, 5
			// when it does not) sat on the line and flipped between the
			// two from run to run, not waiting in half of them.
			if (!busy.has_room()) {
				return slept;
			}
			// Answering took most of the delay already: a short sleep
			// would cost a wakeup and gather little.
			Duration left = read_at + settings.batch_delay - answered_at;
			if (left >= kShortestBatchWait) {
				// select() with no descriptors: a wait that LD_PRELOAD
				// clock and network simulators (clknetsim) simulate, as
				// DESIGN.md asks (poll() counts only milliseconds).
				timeval tv{0, static_cast<suseconds_t>(left.count() / 1000)};
				::select(0, nullptr, nullptr, nullptr, &tv);
				slept = true;
			}
		}
		return slept;
	}

	/// Answers the `count` datagrams just read into `in`.
	void answer(ntp::UdpSocket &socket, size_t count, MonoTime mono)
	{
		const auto &settings = server.settings_;
		Reference reference = server.reference();
		// The keys for this batch: a rekey meanwhile swaps them for the
		// next one, and these stay alive until the batch's MACs are in.
		std::shared_ptr<const ntp::KeyStore> keys = server.keys();
		ntp::ServerParams params{.precision_log2 = settings.precision_log2};
		if (settings.ratelimit && !settings.noclientlog) {
			params.ratelimit_interval_log2 = settings.ratelimit->interval_log2;
		}
		size_t replies = 0;
		{
			// Uncontended but for a `clients` report reading the log
			// from the main thread: one lock per batch.
			std::lock_guard lock(clients_mutex);
			for (const auto &d : in.first(count)) {
				handle(d, reference, keys.get(), mono, params, replies);
			}
		}
		if (replies > 0) {
			send_replies(socket, replies);
		}
	}

	/// Completes and sends the `count` replies built in `out`, each with a
	/// transmit timestamp taken at its send, after the whole batch was
	/// built and after any batch delay.
	///
	/// A system call per reply costs too much: on the benchmark machine a
	/// 48-byte datagram to a local socket takes 3.1 µs with a sendmsg() of
	/// its own, 2.5 µs in a sendmmsg() of four and 2.35 µs in one of 16 or
	/// more, where the whole cost of an echo's response is 4–6.5 µs. So
	/// replies go out a few to a call, and the k-th of a call is stamped
	/// with the time read before the call plus k times the time the kernel
	/// takes per datagram, measured over the calls before. The kernel hands
	/// the datagrams of a call on one after the other at a steady pace (on
	/// loopback about 2.5 µs each), so over a few datagrams the estimate
	/// errs by a small part of that, where one reading for a whole call of
	/// 64 would stamp its last reply some 150 µs early. A call holds at
	/// most kMaxSendChunk replies and spans at most kMaxPredictedSpan of
	/// prediction: that keeps a client's error within about 2 µs of what a
	/// sendmsg() per reply gives it (offset p1 −4.0 against −2.3 µs at
	/// 50,000 requests a second on the benchmark machine; chronyd's −2.3).
	/// Near its capacity the server trades a little more accuracy for
	/// rate: kMaxSendChunkNearCapacity replies a call, spanning
	/// kMaxPredictedSpanNearCapacity (p1 −5.6 µs saturated). A reply with
	/// a MAC or a crypto-NAK always goes alone: its MAC is computed over a
	/// transmit time read just before, then it is sent (the MAC's
	/// computation, a microsecond or two, lies between the stamp and the
	/// send).
	void send_replies(ntp::UdpSocket &socket, size_t count)
	{
		const auto &settings = server.settings_;
		size_t prepared = socket.prepare_send(out.first(count));
		bool near_capacity = !busy.has_room();
		Duration span = near_capacity ? kMaxPredictedSpanNearCapacity : kMaxPredictedSpan;
		int64_t chunk = near_capacity ? kMaxSendChunkNearCapacity : kMaxSendChunk;
		size_t most = per_datagram > Duration::zero()
				      ? static_cast<size_t>(std::clamp<int64_t>(1 + span / per_datagram, 1, chunk))
				      : 2;  // a first measurement
		if (!socket.sends_batches()) {
			most = 1;  // a sendmsg() each: each stamped just before its own
		}
		size_t sent = 0;
		for (size_t i = 0; i < prepared;) {
			size_t n = 1;
			while (n < most && i + n < prepared && !authenticated(i) && !authenticated(i + n)) {
				n++;
			}
			RealTime before = realtime_now();
			for (size_t k = 0; k < n; k++) {
				ntp::Datagram &reply = out.slots()[i + k];
				ntp::stamp_transmit(reply.buffer.first<ntp::kHeaderSize>(),
						    before + per_datagram * static_cast<int64_t>(k), settings.precision_log2,
						    rng);
				// A MAC covers the transmit time: it (or a crypto-NAK) comes last.
				reply.length = ntp::append_auth(reply_requests[i + k], reply.buffer);
			}
			auto ok = socket.send_prepared(i, n);
			if (n > 1) {
				// The pace of this call, into the average; one stretched
				// by an interrupt (or a clock step) counts at most
				// twice the average, one cut short at least half of it.
				Duration pace = (realtime_now() - before) / static_cast<int64_t>(n);
				if (per_datagram == Duration::zero()) {
					per_datagram = std::clamp(pace, Duration(1), kMaxPredictedSpan);
				} else {
					pace = std::clamp(pace, per_datagram / 2, per_datagram * 2);
					per_datagram += (pace - per_datagram) / 8;
				}
			}
			if (ok) {
				sent += *ok;
			}
			i += n;
		}
		server.stats_.responses += sent;
		server.stats_.send_errors += count - sent;
	}

	/// Whether the kernel stamped every one of the first `count` requests of `in`.
	bool kernel_stamped(size_t count)
	{
		for (const auto &d : in.first(count)) {
			if (d.rx_source != ntp::RxStampSource::Kernel) {
				return false;
			}
		}
		return true;
	}

	/// Whether reply `i` of `out` carries a MAC or a crypto-NAK.
	bool authenticated(size_t i) const
	{
		return reply_requests[i].key != nullptr || reply_requests[i].crypto_nak;
	}

	void handle(const ntp::Datagram &d, const Reference &reference, const ntp::KeyStore *keys, MonoTime mono,
		    const ntp::ServerParams &params, size_t &replies)
	{
		auto &stats = server.stats_;
		stats.received++;
		if (d.truncated) {
			// Longer than any NTP packet (and its tail is lost): not
			// parsed cut short, as if it ended where the buffer did.
			stats.malformed++;
			detail = "longer than " + std::to_string(d.buffer.size()) + " bytes";
			log_malformed(d);
			return;
		}
		if (server.settings_.symmetric && d.length > 0) {
			auto mode = static_cast<uint8_t>(d.payload()[0]) & 7;
			if ((mode == 1 || mode == 2) && server.settings_.symmetric(d)) {
				return;  // a configured peer's: the source engine's
			}
		}
		if (!server.settings_.access.allowed(d.peer.ip)) {
			stats.denied++;
			return;
		}
		ntp::Drop why = ntp::Drop::None;
		auto request = ntp::classify(d.payload(), d.peer.port == 123, why, &detail, keys);
		if (!request) {
			switch (why) {
			case ntp::Drop::Malformed:
				stats.malformed++;
				log_malformed(d);
				break;
			case ntp::Drop::AuthFailed:
				stats.auth_failed++;  // a crypto-NAK as a request: never answered
				break;
			default:
				stats.not_requests++;
				break;
			}
			return;
		}
		bool kod = false;
		if (!server.settings_.noclientlog) {
			switch (clients.on_ntp_request(d.peer.ip, mono, rng)) {
			case ntp::Verdict::Respond:
				break;
			case ntp::Verdict::Drop:
				stats.rate_limited++;
				return;
			case ntp::Verdict::KissOfDeathRate:
				kod = true;
				stats.kod_sent++;
				break;
			}
		}
		if (request->key != nullptr) {
			stats.authenticated++;
		}
		if (request->crypto_nak) {
			// A MAC the keyfile cannot check: a crypto-NAK, within the
			// rate limit as any reply.
			stats.auth_failed++;
			stats.crypto_naks++;
		}
		ntp::Datagram &reply = out.slots()[replies];
		ntp::build_reply(*request, d.rx_time, reference, kod, params, rng, reply.buffer.first<ntp::kHeaderSize>());
		reply.length = ntp::kHeaderSize;
		reply_requests[replies] = *request;
		reply.peer = d.peer;
		reply.local = d.local;
		reply.ifindex = d.ifindex;
		replies++;
	}

	/// One line a minute at most, so that a flood cannot flood the log.
	void log_malformed(const ntp::Datagram &d)
	{
		int64_t now_s = monotonic_now().seconds();
		int64_t last = server.last_malformed_log_s_.load();
		if (last != 0 && now_s - last < 60) {
			return;
		}
		if (!server.last_malformed_log_s_.compare_exchange_strong(last, now_s)) {
			return;
		}
		server.log_.info("Dropped malformed NTP packet from {} port {}: {} ({} malformed so far; next report in "
				 "a minute at the earliest)",
				 d.peer.ip.to_string(), d.peer.port, detail, server.stats_.malformed.load());
	}

	/// The share of time spent answering, over windows of 10 ms or more.
	struct BusyShare {
		void add(MonoTime from, MonoTime to)
		{
			if (window_start == MonoTime{}) {
				window_start = from;
			}
			busy += to - from;
			Duration elapsed = to - window_start;
			if (elapsed >= std::chrono::milliseconds(10)) {
				mostly_busy = busy * 5 >= elapsed * 4;
				window_start = to;
				busy = Duration::zero();
			}
		}
		/// Whether answering took under four fifths of the last window.
		bool has_room() const { return !mostly_busy; }

		MonoTime window_start{};
		Duration busy{};
		bool mostly_busy = false;
	};

	NtpServer &server;
	BusyShare busy;
	/// The kernel's time per datagram of a sendmmsg() call, averaged
	/// (zero until measured).
	Duration per_datagram{};
	mutable std::mutex clients_mutex;  ///< guards `clients` (workers on their own threads)
	ntp::ClientLog clients;
	Xoshiro256 rng;
	std::string detail;
	std::vector<ntp::UdpSocket> sockets;
	/// Room for chronyd's longest packet (header, 1024 bytes of extension
	/// fields, the longest MAC); a longer datagram is dropped, not cut.
	ntp::DatagramBatch<ntp::UdpSocket::kMaxBatch, 1152> in;
	ntp::DatagramBatch<ntp::UdpSocket::kMaxBatch, ntp::kHeaderSize + ntp::kMaxMacTrailer> out;
	/// Per reply in `out`: its request, whose MAC or crypto-NAK is appended
	/// once the transmit time is in.
	std::array<ntp::Request, ntp::UdpSocket::kMaxBatch> reply_requests{};
};

std::optional<std::vector<ntp::ClientRecord>> NtpServer::clients() const
{
	if (settings_.noclientlog) {
		return std::nullopt;
	}
	std::vector<ntp::ClientRecord> all;
	for (const auto &worker : workers_) {
		std::lock_guard lock(worker->clients_mutex);
		worker->clients.for_each([&](const ntp::ClientRecord &r) { all.push_back(r); });
	}
	std::sort(all.begin(), all.end(), [](const auto &a, const auto &b) { return a.address < b.address; });
	// SO_REUSEPORT keeps a client on one worker while the workers stay the
	// same; should it ever move, its records are added up.
	std::vector<ntp::ClientRecord> merged;
	for (const auto &r : all) {
		if (merged.empty() || !(merged.back().address == r.address)) {
			merged.push_back(r);
			continue;
		}
		ntp::ClientRecord &m = merged.back();
		m.ntp_requests += r.ntp_requests;
		m.ntp_drops += r.ntp_drops;
		if (r.last_request > m.last_request) {
			m.last_request = r.last_request;
			m.mean_request_interval_s = r.mean_request_interval_s;
			m.mean_response_interval_s = r.mean_response_interval_s;
		}
	}
	return merged;
}

void NtpServer::reset_client(const IpAddress &client)
{
	for (const auto &worker : workers_) {
		std::lock_guard lock(worker->clients_mutex);
		worker->clients.reset(client);
	}
}

NtpServer::NtpServer(NtpServerSettings settings, Logger &log) : settings_(std::move(settings)), log_(log) {}

NtpServer::~NtpServer()
{
	if (stop_write_.valid()) {
		char byte = 0;
		ssize_t ignored = ::write(stop_write_.get(), &byte, 1);
		(void)ignored;
	}
	for (auto &t : threads_) {
		t.join();
	}
	if (loop_ != nullptr) {
		for (auto id : watches_) {
			loop_->unwatch(id);
		}
	}
}

Result<std::unique_ptr<NtpServer>> NtpServer::start(NtpServerSettings settings, PollLoop &loop, Logger &log,
						     Reference initial)
{
	std::unique_ptr<NtpServer> server(new NtpServer(std::move(settings), log));
	server->reference_ = initial;
	const auto &s = server->settings_;
	if (s.port == 0) {
		return server;
	}
	int threads = std::max(1, s.threads);
	if (s.peers && threads > 1) {
		return fail(Errc::Unsupported, "peer needs serverthreads 1 (its packets are handled on the main thread)");
	}
	uint64_t seed = random_seed();
	// A family whose socket cannot be opened (IPv6 disabled in the kernel,
	// or absent as under clknetsim; an address not on this host; a port in
	// use) is logged and left out; the other one serves. As with chronyd,
	// this is never fatal: with no socket at all the daemon runs on as a
	// client, and says why it does not serve.
	bool family_failed[2] = {false, false};
	for (int i = 0; i < threads; i++) {
		auto worker = std::make_unique<Worker>(*server, seed + static_cast<uint64_t>(i) * uint64_t{0x9e3779b97f4a7c15});
		for (auto family : {IpAddress::Family::V4, IpAddress::Family::V6}) {
			bool v4 = family == IpAddress::Family::V4;
			if (!(v4 ? s.ipv4 : s.ipv6) || (!s.access.any_allowed(family) && !s.peers) ||
			    family_failed[v4 ? 0 : 1]) {
				continue;
			}
			ntp::UdpOptions options{.family = family,
						.bind_address = v4 ? s.bind_v4 : s.bind_v6,
						.port = s.port,
						.bind_device = s.bind_device,
						.reuse_port = threads > 1,
						// Room for a thousand requests or more: the
						// batch delay, and the host stalling us
						// (capped by net.core.rmem_max).
						.receive_buffer = threads > 1 ? 4 << 20 : 1 << 20,
						// Replies are never longer than their requests,
						// 48 to 68 bytes.
						.dont_fragment = true};
			auto socket = ntp::UdpSocket::open(options);
			std::string where = fmt::format("{} port {}",
							options.bind_address ? options.bind_address->to_string()
									     : (v4 ? std::string("0.0.0.0") : std::string("::")),
							s.port);
			if (!socket) {
				log.error("Could not open NTP socket on {} ({}): {}", where, v4 ? "IPv4" : "IPv6",
					  socket.error().message());
				server->failed_sockets_++;
				if (i == 0) {
					family_failed[v4 ? 0 : 1] = true;  // the other workers would fail alike
				}
				continue;
			}
			if (i == 0) {
				server->listening_.push_back(where);
			}
			worker->sockets.push_back(std::move(*socket));
		}
		server->workers_.push_back(std::move(worker));
	}

	if (threads == 1) {
		server->loop_ = &loop;
		auto *worker = server->workers_[0].get();
		for (auto &socket : worker->sockets) {
			server->watches_.push_back(loop.watch_fd(socket.fd(), POLLIN, [worker, &socket, &loop](short) {
				if (worker->serve(socket)) {
					loop.refresh_clocks();  // what runs next in this wakeup sees the time after the wait
				}
			}));
		}
		return server;
	}

	int stop_pipe[2];
	if (::pipe2(stop_pipe, O_CLOEXEC) != 0) {
		return fail_errno("pipe2");
	}
	server->stop_read_.reset(stop_pipe[0]);
	server->stop_write_.reset(stop_pipe[1]);
	int stop_fd = server->stop_read_.get();
	for (auto &w : server->workers_) {
		Worker *worker = w.get();
		server->threads_.emplace_back([worker, stop_fd] {
			std::vector<pollfd> fds;
			for (auto &socket : worker->sockets) {
				fds.push_back({socket.fd(), POLLIN, 0});
			}
			fds.push_back({stop_fd, POLLIN, 0});
			for (;;) {
				if (::poll(fds.data(), fds.size(), -1) < 0) {
					continue;  // EINTR
				}
				if (fds.back().revents != 0) {
					return;
				}
				for (size_t i = 0; i + 1 < fds.size(); i++) {
					if (fds[i].revents != 0) {
						worker->serve(worker->sockets[i]);
					}
				}
			}
		});
	}
	return server;
}

Result<> NtpServer::send_from_port(const ntp::SocketAddress &to, std::span<const std::byte> packet)
{
	if (workers_.empty() || threads_.size() > 0) {
		return fail(Errc::Unsupported, "no NTP socket on the loop's thread");
	}
	for (auto &socket : workers_[0]->sockets) {
		if (socket.family() == to.ip.family()) {
			return socket.send_to(packet, to);
		}
	}
	return fail(Errc::NotFound, fmt::format("no NTP socket for {}", to.ip.to_string()));
}

void NtpServer::publish_reference(const Reference &reference)
{
	std::lock_guard lock(reference_mutex_);
	reference_ = reference;
}

void NtpServer::set_keys(std::shared_ptr<const ntp::KeyStore> keys)
{
	std::lock_guard lock(reference_mutex_);
	settings_.keys = std::move(keys);
}

std::shared_ptr<const ntp::KeyStore> NtpServer::keys() const
{
	std::lock_guard lock(reference_mutex_);
	return settings_.keys;
}

Reference NtpServer::reference() const
{
	std::lock_guard lock(reference_mutex_);
	return reference_;
}

int measure_clock_precision_log2()
{
	// The smallest step between consecutive readings that differ.
	int64_t best = 1'000'000'000;
	for (int i = 0; i < 200; i++) {
		RealTime a = realtime_now();
		RealTime b = realtime_now();
		while (b == a) {
			b = realtime_now();
		}
		best = std::min(best, (b - a).count());
	}
	double seconds = static_cast<double>(best) * 1e-9;
	return static_cast<int>(std::ceil(std::log2(seconds)));
}

} // namespace strata::daemon
