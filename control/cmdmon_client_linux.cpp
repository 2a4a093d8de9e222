#include "control/cmdmon_client_linux.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <chrono>
#include <cstring>

namespace strata::control {

volatile std::sig_atomic_t g_quit_requested = 0;

namespace {

extern "C" void on_quit_signal(int)
{
	g_quit_requested = 1;
}

/// A socket address for `ip`:`port`; returns its length.
socklen_t to_sockaddr(const IpAddress &ip, uint16_t port, sockaddr_storage &ss)
{
	std::memset(&ss, 0, sizeof ss);
	if (ip.is_v4()) {
		auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		std::memcpy(&sin->sin_addr, ip.bytes().data(), 4);
		return sizeof(sockaddr_in);
	}
	auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&ss);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	std::memcpy(&sin6->sin6_addr, ip.bytes().data(), 16);
	return sizeof(sockaddr_in6);
}

std::optional<IpAddress> from_sockaddr(const sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const auto *sin = reinterpret_cast<const sockaddr_in *>(sa);
		return IpAddress::v4(ntohl(sin->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		const auto *sin6 = reinterpret_cast<const sockaddr_in6 *>(sa);
		if (sin6->sin6_scope_id != 0) {
			return std::nullopt;  // chronyc skips addresses that would lose their scope
		}
		std::array<uint8_t, 16> b{};
		std::memcpy(b.data(), &sin6->sin6_addr, 16);
		return IpAddress::v6(b);
	}
	return std::nullopt;
}

std::vector<IpAddress> resolve(std::string_view name, std::optional<IpAddress::Family> family, size_t max)
{
	std::vector<IpAddress> out;
	if (auto ip = IpAddress::parse(name)) {
		if (!family || ip->family() == *family) {
			out.push_back(*ip);
		}
		return out;
	}
	addrinfo hints{};
	hints.ai_family = !family ? AF_UNSPEC : (*family == IpAddress::Family::V4 ? AF_INET : AF_INET6);
	hints.ai_socktype = SOCK_DGRAM;
	addrinfo *res = nullptr;
	std::string host(name);
	if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) {
		return out;
	}
	for (addrinfo *ai = res; ai != nullptr && out.size() < max; ai = ai->ai_next) {
		if (auto ip = from_sockaddr(ai->ai_addr)) {
			out.push_back(*ip);
		}
	}
	freeaddrinfo(res);
	return out;
}

double monotonic_s()
{
	timespec ts{};
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

uint32_t random_sequence()
{
	uint32_t v = 0;
	if (getrandom(&v, sizeof v, 0) != static_cast<ssize_t>(sizeof v)) {
		v = static_cast<uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count());
	}
	return v;
}

} // namespace

void install_quit_handlers()
{
	struct sigaction sa {};
	sa.sa_handler = on_quit_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, nullptr);
	sigaction(SIGTERM, &sa, nullptr);
}

std::vector<ServerAddress> resolve_servers(std::string_view hosts, uint16_t port,
					   std::optional<IpAddress::Family> family)
{
	std::vector<ServerAddress> out;
	while (!hosts.empty()) {
		size_t comma = hosts.find(',');
		std::string_view host = hosts.substr(0, comma);
		hosts = comma == std::string_view::npos ? std::string_view() : hosts.substr(comma + 1);
		if (host.empty()) {
			continue;
		}
		if (host.front() == '/') {
			out.push_back({.path = std::string(host)});
			continue;
		}
		for (const IpAddress &ip : resolve(host, family, 16)) {
			out.push_back({.ip = ip, .port = port});
		}
	}
	return out;
}

SocketExchanger::SocketExchanger(std::vector<ServerAddress> servers) : servers_(std::move(servers)) {}

SocketExchanger::~SocketExchanger()
{
	close();
}

void SocketExchanger::close()
{
	if (fd_ < 0) {
		return;
	}
	if (!local_path_.empty()) {
		unlink(local_path_.c_str());
		local_path_.clear();
	}
	::close(fd_);
	fd_ = -1;
}

bool SocketExchanger::open(const ServerAddress &server)
{
	if (!server.path.empty()) {
		sockaddr_un remote{};
		sockaddr_un local{};
		// Our socket goes next to the daemon's, in a directory only its
		// users may enter; the PID keeps concurrent clients apart.
		std::string dir = server.path.substr(0, server.path.find_last_of('/'));
		if (dir.empty()) {
			dir = "/";
		}
		std::string path = dir + (dir.back() == '/' ? "" : "/") + "stratactl." + std::to_string(getpid()) + ".sock";
		if (server.path.size() >= sizeof remote.sun_path || path.size() >= sizeof local.sun_path) {
			return false;
		}
		fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd_ < 0) {
			return false;
		}
		local.sun_family = AF_UNIX;
		std::memcpy(local.sun_path, path.c_str(), path.size() + 1);
		unlink(path.c_str());
		if (bind(fd_, reinterpret_cast<sockaddr *>(&local), sizeof local) == 0) {
			local_path_ = path;
			if (chmod(path.c_str(), 0666) < 0) {
				close();
				return false;
			}
		} else {
			// Not allowed to write there (a member of the daemon's
			// monitoring group, not root): an abstract address the kernel
			// picks, which the daemon can answer all the same.
			sa_family_t family = AF_UNIX;
			if (bind(fd_, reinterpret_cast<sockaddr *>(&family), sizeof family) < 0) {
				::close(fd_);
				fd_ = -1;
				return false;
			}
		}
		remote.sun_family = AF_UNIX;
		std::memcpy(remote.sun_path, server.path.c_str(), server.path.size() + 1);
		if (connect(fd_, reinterpret_cast<sockaddr *>(&remote), sizeof remote) < 0) {
			close();
			return false;
		}
		return true;
	}
	sockaddr_storage ss{};
	socklen_t len = to_sockaddr(server.ip, server.port, ss);
	fd_ = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd_ < 0) {
		return false;
	}
	if (connect(fd_, reinterpret_cast<sockaddr *>(&ss), len) < 0) {
		close();
		return false;
	}
	return true;
}

bool SocketExchanger::open_next()
{
	if (fd_ >= 0) {
		close();
		next_++;
	}
	for (; next_ < servers_.size(); next_++) {
		if (open(servers_[next_])) {
			return true;
		}
	}
	next_ = 0;
	return false;
}

bool SocketExchanger::submit(const Request &request, Reply &reply)
{
	if (fd_ < 0) {
		return false;
	}
	Request req = request;
	std::array<std::byte, kMaxReplyLength + 64> buf{};
	for (int attempt = 0; attempt < kMaxAttempts; attempt++) {
		req.attempt = static_cast<uint16_t>(attempt);
		req.sequence = random_sequence();
		auto datagram = encode_request(req);
		if (!datagram) {
			return false;
		}
		if (send(fd_, datagram->data(), datagram->size(), 0) < 0) {
			return false;
		}
		double deadline = monotonic_s() + attempt_timeout_s(attempt);
		for (;;) {
			if (g_quit_requested) {
				return false;
			}
			double left = deadline - monotonic_s();
			if (left <= 0) {
				break;
			}
			pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
			int n = poll(&p, 1, static_cast<int>(std::ceil(left * 1000)));
			if (n < 0) {
				if (errno == EINTR) {
					continue;
				}
				return false;
			}
			if (n == 0) {
				break;
			}
			ssize_t got = recv(fd_, buf.data(), buf.size(), 0);
			if (got < 0) {
				break;  // ICMP unreachable and the like: try again at once
			}
			auto parsed = parse_reply(std::span(buf.data(), static_cast<size_t>(got)));
			if (parsed && answers(*parsed, req)) {
				reply = std::move(*parsed);
				return true;
			}
			// Stale, forged or malformed: keep waiting for ours.
		}
	}
	return false;
}

std::optional<Reply> SocketExchanger::exchange(const Request &request)
{
	Reply reply;
	while (!submit(request, reply)) {
		if (g_quit_requested || !open_next()) {
			return std::nullopt;
		}
	}
	return reply;
}

std::optional<IpAddress> SystemNameService::lookup(std::string_view name, std::optional<IpAddress::Family> family)
{
	auto all = resolve(name, family, 1);
	if (all.empty()) {
		return std::nullopt;
	}
	return all.front();
}

std::string SystemNameService::reverse(const IpAddress &address)
{
	sockaddr_storage ss{};
	socklen_t len = to_sockaddr(address, 0, ss);
	char host[NI_MAXHOST];
	if (getnameinfo(reinterpret_cast<sockaddr *>(&ss), len, host, sizeof host, nullptr, 0, 0) == 0) {
		return host;
	}
	return address_text(address);
}

bool SystemPause::sleep(double seconds)
{
	double deadline = monotonic_s() + seconds;
	for (;;) {
		if (g_quit_requested) {
			return false;
		}
		double left = deadline - monotonic_s();
		if (left <= 0) {
			return true;
		}
		poll(nullptr, 0, static_cast<int>(std::ceil(left * 1000)));
	}
}

bool SystemPause::interrupted() const
{
	return g_quit_requested != 0;
}

bool SystemRandom::fill(std::span<uint8_t> out)
{
	size_t done = 0;
	while (done < out.size()) {
		ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return false;
		}
		done += static_cast<size_t>(n);
	}
	return true;
}

} // namespace strata::control
