#include "daemon/metrics_server_linux.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "core/unique_fd.h"

namespace strata::daemon {

namespace {

/// Pending connections the kernel keeps before libmicrohttpd accepts them.
constexpr int kListenBacklog = 16;
/// Memory per connection for the request head; a /metrics request needs
/// a few hundred bytes, anything longer is refused (431) by libmicrohttpd.
constexpr size_t kConnectionMemory = 16 * 1024;
/// What libmicrohttpd's per-request pointer marks: the head seen, or the
/// answer queued.
int head_mark;
int answered_mark;

bool is_read(std::string_view method) { return method == MHD_HTTP_METHOD_GET || method == MHD_HTTP_METHOD_HEAD; }

} // namespace

/// libmicrohttpd's functions, looked up when the first endpoint starts.
/// Linked in, the library would bring GnuTLS and its dependencies into
/// every stratad: 2.3 MB of resident pages, half of an idle daemon's, for
/// a feature that is off by default. Loaded here, only a daemon with
/// `metricsaddress` pays for it. The library stays loaded once it is.
struct MhdLibrary {
	decltype(&::MHD_start_daemon) start_daemon = nullptr;
	decltype(&::MHD_stop_daemon) stop_daemon = nullptr;
	decltype(&::MHD_get_daemon_info) get_daemon_info = nullptr;
	decltype(&::MHD_run) run = nullptr;
	decltype(&::MHD_get_timeout) get_timeout = nullptr;
	decltype(&::MHD_create_response_from_buffer) create_response_from_buffer = nullptr;
	decltype(&::MHD_add_response_header) add_response_header = nullptr;
	decltype(&::MHD_queue_response) queue_response = nullptr;
	decltype(&::MHD_destroy_response) destroy_response = nullptr;

	static Result<const MhdLibrary *> load()
	{
		static MhdLibrary library;
		static bool loaded = false;
		if (loaded) {
			return &library;
		}
		// The soname this build was made against, then the development link.
		void *handle = nullptr;
		std::string why;
		for (const char *name : {"libmicrohttpd.so.12", "libmicrohttpd.so"}) {
			handle = ::dlopen(name, RTLD_NOW | RTLD_LOCAL);
			if (handle != nullptr) {
				break;
			}
			const char *error = ::dlerror();
			why = error != nullptr ? error : name;
		}
		if (handle == nullptr) {
			return fail(Errc::Unsupported, fmt::format("libmicrohttpd is not installed ({})", why));
		}
		MhdLibrary l;
		bool found = true;
		auto symbol = [&](auto &fn, const char *name) {
			fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(handle, name));
			found = found && fn != nullptr;
		};
		symbol(l.start_daemon, "MHD_start_daemon");
		symbol(l.stop_daemon, "MHD_stop_daemon");
		symbol(l.get_daemon_info, "MHD_get_daemon_info");
		symbol(l.run, "MHD_run");
		symbol(l.get_timeout, "MHD_get_timeout");
		symbol(l.create_response_from_buffer, "MHD_create_response_from_buffer");
		symbol(l.add_response_header, "MHD_add_response_header");
		symbol(l.queue_response, "MHD_queue_response");
		symbol(l.destroy_response, "MHD_destroy_response");
		if (!found) {
			::dlclose(handle);
			return fail(Errc::Unsupported, "libmicrohttpd lacks a function stratad needs");
		}
		library = l;
		loaded = true;
		return &library;
	}
};

/// libmicrohttpd's C callbacks, with the signatures it declares.
struct MhdCallbacks {
	/// libmicrohttpd's accept policy: the access rules (metricsallow).
	static MHD_Result on_accept(void *cls, const sockaddr *addr, socklen_t length)
	{
		auto *self = static_cast<MetricsServer *>(cls);
		std::optional<IpAddress> from;
		if (addr != nullptr && addr->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
			const auto *sin = reinterpret_cast<const sockaddr_in *>(addr);
			from = IpAddress::v4(ntohl(sin->sin_addr.s_addr));
		} else if (addr != nullptr && addr->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
			const auto *sin6 = reinterpret_cast<const sockaddr_in6 *>(addr);
			std::array<uint8_t, 16> bytes{};
			std::memcpy(bytes.data(), &sin6->sin6_addr, bytes.size());
			from = IpAddress::v6(bytes);
		}
		if (from && self->access_.allowed(*from)) {
			return MHD_YES;
		}
		self->refused_++;
		self->log_.debug("Metrics: connection from {} refused (metricsallow)",
				 from ? from->to_string() : std::string("an unknown address"));
		return MHD_NO;
	}

	static MHD_Result on_request(void *cls, MHD_Connection *connection, const char *url, const char *method,
				     const char * /*version*/, const char * /*upload_data*/, size_t *upload_data_size,
				     void **state)
	{
		auto *self = static_cast<MetricsServer *>(cls);
		if (*state == nullptr && is_read(method)) {
			// The head of a GET: answered at the next call, once the
			// request is complete, so that the connection stays open for
			// the next scrape.
			*state = &head_mark;
			return MHD_YES;
		}
		if (*state == &answered_mark || *upload_data_size != 0) {
			// A body: discarded (after a 405, libmicrohttpd closes the
			// connection instead of reading it).
			*upload_data_size = 0;
			return MHD_YES;
		}
		*state = &answered_mark;
		return self->answer(connection, url, method) ? MHD_YES : MHD_NO;
	}

	__attribute__((format(printf, 2, 0))) static void on_log(void *cls, const char *format, va_list args)
	{
		char line[512];
		std::vsnprintf(line, sizeof(line), format, args);
		std::string_view text(line);
		while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
			text.remove_suffix(1);
		}
		static_cast<MetricsServer *>(cls)->log_.debug("Metrics server: {}", text);
	}
};

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const IpAddress &address, uint16_t port, PollLoop &loop,
							    Logger &log, control::ControlHandler &handler,
							    ntp::AccessTable access, Extras extras)
{
	auto library = MhdLibrary::load();
	if (!library) {
		return tl::unexpected(library.error());
	}
	std::unique_ptr<MetricsServer> s(new MetricsServer(loop, log, handler, std::move(access), std::move(extras)));
	s->mhd_ = *library;
	std::string where = address.is_v4() ? fmt::format("{}:{}", address.to_string(), port)
					    : fmt::format("[{}]:{}", address.to_string(), port);
	s->url_ = fmt::format("http://{}/metrics", where);

	// Our own listening socket, so that a failure to bind says why (errno);
	// libmicrohttpd takes it over and closes it when stopped.
	sockaddr_storage storage{};
	socklen_t length = 0;
	if (address.is_v4()) {
		auto *sin = reinterpret_cast<sockaddr_in *>(&storage);
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		std::memcpy(&sin->sin_addr, address.bytes().data(), 4);
		length = sizeof(sockaddr_in);
	} else {
		auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&storage);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		std::memcpy(&sin6->sin6_addr, address.bytes().data(), 16);
		length = sizeof(sockaddr_in6);
	}
	UniqueFd fd(::socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	if (!fd.valid()) {
		return fail_errno(fmt::format("Could not open the metrics socket for {}", where));
	}
	int one = 1;
	::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!address.is_v4()) {
		::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if (::bind(fd.get(), reinterpret_cast<const sockaddr *>(&storage), length) != 0 ||
	    ::listen(fd.get(), kListenBacklog) != 0) {
		return fail_errno(fmt::format("Could not listen for metrics on {}", where));
	}

	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (address.is_v4() ? 0u : unsigned{MHD_USE_IPv6});
	s->daemon_ = s->mhd_->start_daemon(flags, 0, &MhdCallbacks::on_accept, s.get(), &MhdCallbacks::on_request, s.get(),
				      MHD_OPTION_EXTERNAL_LOGGER, &MhdCallbacks::on_log, s.get(),
				      MHD_OPTION_LISTEN_SOCKET, fd.get(),
				      MHD_OPTION_CONNECTION_LIMIT, kMaxConnections,
				      MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(kIdleTimeout.count()),
				      MHD_OPTION_CONNECTION_MEMORY_LIMIT, kConnectionMemory,
				      MHD_OPTION_END);
	if (s->daemon_ == nullptr) {
		if (::fcntl(fd.get(), F_GETFD) == -1) {
			(void)fd.release();  // libmicrohttpd closed it already
		}
		return fail(Errc::Unsupported, fmt::format("libmicrohttpd could not serve metrics on {}", where));
	}
	(void)fd.release();  // libmicrohttpd's now: stop_daemon() closes it
	const MHD_DaemonInfo *info = s->mhd_->get_daemon_info(s->daemon_, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == nullptr || info->epoll_fd < 0) {
		return fail(Errc::Unsupported, "libmicrohttpd has no epoll descriptor for the metrics server");
	}
	MetricsServer *raw = s.get();
	s->watch_ = loop.watch_fd(info->epoll_fd, POLLIN, [raw](short) { raw->run(); });
	return s;
}

MetricsServer::~MetricsServer()
{
	if (watch_ != 0) {
		loop_.unwatch(watch_);
	}
	if (timer_) {
		loop_.cancel(*timer_);
	}
	if (daemon_ != nullptr) {
		mhd_->stop_daemon(daemon_);
	}
}

unsigned MetricsServer::connections() const
{
	const MHD_DaemonInfo *info = mhd_->get_daemon_info(daemon_, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return info != nullptr ? info->num_connections : 0;
}

void MetricsServer::run()
{
	unsigned before = connections();
	mhd_->run(daemon_);
	if (connections() < before) {
		// At the connection limit libmicrohttpd takes its listening socket
		// out of its epoll set, and puts it back only at the start of a
		// run: once connections have closed, a second run does, or the
		// epoll descriptor would never wake us for new clients again.
		mhd_->run(daemon_);
	}
	if (timer_) {
		loop_.cancel(*timer_);
		timer_.reset();
	}
	// libmicrohttpd's own deadlines (idle connections) and work it has
	// left (0: data still to send or read): run again then.
	MHD_UNSIGNED_LONG_LONG ms = 0;
	if (mhd_->get_timeout(daemon_, &ms) == MHD_YES) {
		ms = std::min<MHD_UNSIGNED_LONG_LONG>(ms, 3'600'000);
		timer_ = loop_.add_timer(loop_.now() + std::chrono::milliseconds(ms), [this] {
			timer_.reset();
			run();
		});
	}
}

bool MetricsServer::answer(MHD_Connection *connection, const char *url, const char *method)
{
	requests_++;
	std::string_view m(method);
	unsigned status = MHD_HTTP_OK;
	std::string body;
	std::string_view type = control::kMetricsContentType;
	if (!is_read(m)) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		body = "Method not allowed: GET /metrics\n";
		type = "text/plain; charset=utf-8";
	} else if (std::string_view(url) != "/metrics") {
		status = MHD_HTTP_NOT_FOUND;
		body = "Not found: the metrics are at /metrics\n";
		type = "text/plain; charset=utf-8";
	} else {
		body = control::format_metrics(
			control::collect_metrics(handler_, extras_ ? extras_() : control::MetricsExtras{}));
	}
	MHD_Response *response = mhd_->create_response_from_buffer(body.size(), body.data(), MHD_RESPMEM_MUST_COPY);
	if (response == nullptr) {
		return false;
	}
	std::string content_type(type);
	mhd_->add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type.c_str());
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
		mhd_->add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	}
	MHD_Result queued = mhd_->queue_response(connection, status, response);
	mhd_->destroy_response(response);
	log_.debug("Metrics request {} {}: {}", method, url, status);
	return queued == MHD_YES;
}

} // namespace strata::daemon
