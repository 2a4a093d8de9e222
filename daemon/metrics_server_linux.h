// The Prometheus metrics endpoint (`metricsaddress`): HTTP on one TCP
// address, GET /metrics answered with control/metrics.h's text, 404 for
// other paths, 405 for methods other than GET and HEAD.
//
// libmicrohttpd does the HTTP, driven from the daemon's PollLoop rather
// than a thread of its own: its epoll descriptor is watched, MHD_run()
// called when it is readable and when MHD_get_timeout() says so. Every
// socket is non-blocking, so a client can only ever hold a connection
// slot, never the loop: at most kMaxConnections at once, each closed after
// kIdleTimeout without traffic. There is no access control: the endpoint
// belongs on localhost or a trusted network.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "control/dispatch.h"
#include "control/metrics.h"
#include "core/address.h"
#include "core/log.h"
#include "core/result.h"
#include "daemon/poll_loop_linux.h"
#include "ntp/access.h"

struct MHD_Daemon;
struct MHD_Connection;

namespace strata::daemon {

struct MhdLibrary;

class MetricsServer {
public:
	/// Connections served at once; more are refused until one closes.
	static constexpr unsigned kMaxConnections = 16;
	/// A connection idle this long (no request, or a stalled one) is closed.
	static constexpr std::chrono::seconds kIdleTimeout{5};

	/// What the daemon adds to the handler's reports at each scrape
	/// (refclock and NTP server counters); may be empty.
	using Extras = std::function<control::MetricsExtras()>;

	/// Binds `address`:`port` and serves until destroyed. Errors: the
	/// socket cannot be bound (in use, not a local address) or libmicrohttpd
	/// refuses to start; the caller logs them and runs on without metrics.
	/// Only clients `access` allows are served; others are closed at once.
	static Result<std::unique_ptr<MetricsServer>> start(const IpAddress &address, uint16_t port, PollLoop &loop,
							    Logger &log, control::ControlHandler &handler,
							    ntp::AccessTable access, Extras extras = {});
	~MetricsServer();
	MetricsServer(const MetricsServer &) = delete;
	MetricsServer &operator=(const MetricsServer &) = delete;

	/// "http://127.0.0.1:9123/metrics", for the start-up log line.
	const std::string &url() const { return url_; }
	/// Requests answered (any status), for tests and the log.
	uint64_t requests() const { return requests_; }
	/// Connections refused by the access rules.
	uint64_t refused() const { return refused_; }

private:
	MetricsServer(PollLoop &loop, Logger &log, control::ControlHandler &handler, ntp::AccessTable access,
		      Extras extras)
		: loop_(loop), log_(log), handler_(handler), access_(std::move(access)), extras_(std::move(extras))
	{
	}
	friend struct MhdCallbacks;  ///< libmicrohttpd's C callbacks, in the .cpp
	/// Lets libmicrohttpd do its work, then arms the timer it asks for.
	void run();
	unsigned connections() const;
	/// Queues the answer to one request; false if libmicrohttpd could not.
	bool answer(MHD_Connection *connection, const char *url, const char *method);

	PollLoop &loop_;
	Logger &log_;
	control::ControlHandler &handler_;
	ntp::AccessTable access_;
	Extras extras_;
	const MhdLibrary *mhd_ = nullptr;  ///< libmicrohttpd, loaded at start()
	MHD_Daemon *daemon_ = nullptr;
	WatchId watch_ = 0;
	std::optional<TimerId> timer_;
	std::string url_;
	uint64_t requests_ = 0;
	uint64_t refused_ = 0;
};

} // namespace strata::daemon
