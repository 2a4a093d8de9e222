// The NTP server front end: sockets, the batched receive → access check →
// client log and rate limit → reply → send path, and its statistics.
//
// With one thread (the default) the sockets are watched by the daemon's
// PollLoop. With `serverthreads N` (strata only) each of N workers owns its
// own SO_REUSEPORT sockets, client log and poll() loop on its own thread;
// the kernel spreads clients over the sockets by address, so each client's
// rate limiting stays in one worker. Workers read the Reference the main
// loop publishes (publish_reference) and share nothing else but counters.
//
// Under load (`serverbatchdelay`, strata only) a worker lets requests gather
// for a while before it reads again, so that one wakeup answers more of them:
// only after a read that found two to 32 requests, all with kernel receive
// timestamps, and only while it spends less than four fifths of its time
// answering. Each reply's transmit timestamp is taken at its own send, after
// any such wait (Worker::send_replies), so the wait is in the timestamps and
// not in a client's error.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/address.h"
#include "core/log.h"
#include "core/reference.h"
#include "core/result.h"
#include "core/unique_fd.h"
#include "daemon/poll_loop_linux.h"
#include "ntp/access.h"
#include "ntp/client_log.h"
#include "ntp/keys.h"
#include "ntp/udp_linux.h"

namespace strata::daemon {

struct NtpServerSettings {
	uint16_t port = 123;
	bool ipv4 = true;
	bool ipv6 = true;
	std::optional<IpAddress> bind_v4;
	std::optional<IpAddress> bind_v6;
	std::string bind_device;
	ntp::AccessTable access;
	std::optional<ntp::RateLimitConfig> ratelimit;
	/// Which client addresses the client log (and ratelimit) takes as one
	/// (`ratelimit ipv4prefix ipv6prefix`, strata only).
	ntp::ClientGroups client_groups;
	size_t clientlog_bytes = 524288;
	bool noclientlog = false;
	int precision_log2 = -20;
	int threads = 1;
	/// Under load (a read found two requests or more, but at most half a
	/// batch), wait until this long after that read before reading again,
	/// so that the next read answers more requests at once. 0: read again
	/// at once.
	Duration batch_delay = std::chrono::microseconds(300);
	/// `peer` lines: the port is opened even where allow opens nothing (a
	/// peer talks from it), and symmetric packets (modes 1 and 2) go first
	/// to `symmetric`, which takes those of a configured peer (returns
	/// true; no access check, no reply). Called on the loop's thread, so
	/// peers need serverthreads 1.
	bool peers = false;
	std::function<bool(const ntp::Datagram &)> symmetric;
	/// The keyfile's keys (nullptr: none): requests with a valid MAC of
	/// one are answered with a MAC of the same key.
	std::shared_ptr<const ntp::KeyStore> keys;
};

/// Totals for the serverstats report.
struct NtpServerStats {
	std::atomic<uint64_t> received{0};     ///< NTP packets received
	std::atomic<uint64_t> responses{0};    ///< replies sent (including KoD)
	std::atomic<uint64_t> denied{0};       ///< dropped by allow/deny
	std::atomic<uint64_t> rate_limited{0}; ///< dropped by ratelimit
	std::atomic<uint64_t> kod_sent{0};     ///< RATE kiss-o'-death replies
	std::atomic<uint64_t> malformed{0};
	std::atomic<uint64_t> not_requests{0};
	std::atomic<uint64_t> authenticated{0};  ///< requests with a valid MAC (answered with one)
	/// Requests refused for their authentication, past the access rules and
	/// the rate limit: a MAC of no known key or a wrong one (answered with a
	/// crypto-NAK), or a crypto-NAK sent as a request (dropped).
	std::atomic<uint64_t> auth_failed{0};
	std::atomic<uint64_t> crypto_naks{0};    ///< crypto-NAK replies built (a RATE KoD among them)
	std::atomic<uint64_t> send_errors{0};
};

class NtpServer {
public:
	/// Opens the sockets (none when the port is 0 or nothing is allowed for a
	/// family) and starts serving. A socket that cannot be opened or bound
	/// (IPv6 disabled or missing, an address not on this host, a port in
	/// use) is logged as an error and left out, as chronyd does: the other
	/// family still serves (failed_sockets() counts them). Errors: only
	/// what stops the server as a whole (no pipe for the worker threads).
	static Result<std::unique_ptr<NtpServer>> start(NtpServerSettings settings, PollLoop &loop, Logger &log,
							 Reference initial);
	~NtpServer();
	NtpServer(const NtpServer &) = delete;
	NtpServer &operator=(const NtpServer &) = delete;

	/// Makes `reference` what replies carry from now on (called by the main
	/// loop whenever it changes, and at least once a second).
	void publish_reference(const Reference &reference);
	/// rekey: requests are checked against `keys` (nullptr: none) from the
	/// next batch on. Any thread.
	void set_keys(std::shared_ptr<const ntp::KeyStore> keys);
	/// Sends `packet` to `to` from the NTP port (a peer's packets), on the
	/// loop's thread. Errors: no socket of that family, or the send's.
	Result<> send_from_port(const ntp::SocketAddress &to, std::span<const std::byte> packet);
	const NtpServerStats &stats() const { return stats_; }
	/// The client log for `chronyc clients`: every worker's records (a
	/// client seen by two workers added up), sorted by address; nullopt with
	/// `noclientlog`. Workers pause for the copy (one lock per batch).
	std::optional<std::vector<ntp::ClientRecord>> clients() const;
	bool rate_limiting() const { return settings_.ratelimit.has_value() && !settings_.noclientlog; }
	/// `chronyc clients -r`: zeroes the client's counters in every worker.
	void reset_client(const IpAddress &client);
	/// The bound addresses, for the start-up log line.
	std::vector<std::string> listening() const { return listening_; }
	bool serving() const { return !listening_.empty(); }
	/// Sockets that could not be opened (logged at start).
	int failed_sockets() const { return failed_sockets_; }

	struct Worker;

private:
	NtpServer(NtpServerSettings settings, Logger &log);
	Reference reference() const;
	std::shared_ptr<const ntp::KeyStore> keys() const;

	NtpServerSettings settings_;
	Logger &log_;
	mutable std::mutex reference_mutex_;  ///< guards reference_ and settings_.keys
	Reference reference_;
	NtpServerStats stats_;
	std::vector<std::unique_ptr<Worker>> workers_;
	std::vector<std::thread> threads_;
	std::vector<WatchId> watches_;
	PollLoop *loop_ = nullptr;
	/// Tells the worker threads to stop (a byte written, or the write end closed).
	UniqueFd stop_read_;
	UniqueFd stop_write_;
	std::vector<std::string> listening_;
	int failed_sockets_ = 0;
	std::atomic<int64_t> last_malformed_log_s_{0};
};

/// log2 of the resolution of CLOCK_REALTIME readings, measured (chronyd's
/// precision), for the precision field of replies.
int measure_clock_precision_log2();

} // namespace strata::daemon
