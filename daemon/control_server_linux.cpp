#include "daemon/control_server_linux.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace strata::daemon {

namespace {

/// A request is at most this long (chronyd's largest, ADD_SOURCE, is 860
/// bytes with its padding); longer datagrams are cut and rejected.
constexpr size_t kMaxRequest = 1024;

} // namespace

Result<std::unique_ptr<ControlServer>> ControlServer::start(Settings settings, PollLoop &loop, Logger &log,
							    control::ControlHandler &handler)
{
	std::unique_ptr<ControlServer> s(new ControlServer(std::move(settings), loop, log, handler));
	if (!s->settings_.unix_path.empty()) {
		if (auto opened = s->open_unix(); !opened) {
			return tl::unexpected(opened.error());
		}
	}
	if (s->settings_.port != 0) {
		if (s->settings_.ipv4) {
			IpAddress a = s->settings_.bind_v4.value_or(IpAddress::v4(0x7f000001));
			if (auto opened = s->open_udp(a); !opened) {
				log.warning("Could not open command socket on {}: {}", a.to_string(), opened.error().message());
			}
		}
		if (s->settings_.ipv6) {
			std::array<uint8_t, 16> loopback{};
			loopback[15] = 1;
			IpAddress a = s->settings_.bind_v6.value_or(IpAddress::v6(loopback));
			if (auto opened = s->open_udp(a); !opened) {
				log.debug("Could not open command socket on {}: {}", a.to_string(), opened.error().message());
			}
		}
	}
	return s;
}

ControlServer::~ControlServer()
{
	if (unix_fd_ >= 0) {
		loop_.unwatch(unix_watch_);
		::close(unix_fd_);
		// Only our own socket: another daemon may have taken the path since.
		struct stat st {};
		if (::lstat(settings_.unix_path.c_str(), &st) == 0 && st.st_dev == unix_dev_ && st.st_ino == unix_ino_) {
			::unlink(settings_.unix_path.c_str());
		}
	}
	for (WatchId w : udp_watches_) {
		loop_.unwatch(w);
	}
}

Result<> ControlServer::open_unix()
{
	const std::string &path = settings_.unix_path;
	sockaddr_un addr{};
	if (path.size() >= sizeof(addr.sun_path)) {
		return fail_errno(fmt::format("Command socket path {} is too long", path), ENAMETOOLONG);
	}
	// The directory: made when missing, not world-accessible (chronyd's
	// rule for its own), so that who may send commands is who may enter it.
	if (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0) {
		std::string dir = path.substr(0, slash);
		if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) {
			return fail_errno(fmt::format("Could not create directory {} for the command socket", dir));
		}
	}
	addr.sun_family = AF_UNIX;
	std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
	int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return fail_errno("socket(AF_UNIX)");
	}
	struct stat st {};
	if (::lstat(path.c_str(), &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			::close(fd);
			return fail_errno(fmt::format("Command socket path {} exists and is not a socket", path), EEXIST);
		}
		// A socket someone still reads is another daemon's: leave it. One
		// nobody reads (connection refused) was left by a killed daemon.
		if (::connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) == 0) {
			::close(fd);
			return fail_errno(fmt::format("Command socket {} is in use by another process", path), EADDRINUSE);
		}
		::unlink(path.c_str());
	}
	if (::bind(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) != 0) {
		int err = errno;
		::close(fd);
		return fail_errno(fmt::format("Could not bind command socket {}", path), err);
	}
	// Anyone who may enter the directory may talk to the daemon.
	::chmod(path.c_str(), 0666);
	if (::lstat(path.c_str(), &st) == 0) {
		unix_dev_ = st.st_dev;
		unix_ino_ = st.st_ino;
	}
	unix_fd_ = fd;
	unix_watch_ = loop_.watch_fd(fd, POLLIN, [this](short) { on_unix(); });
	listening_.push_back(fmt::format("Unix socket {}", path));
	return {};
}

Result<> ControlServer::open_udp(IpAddress address)
{
	auto socket = ntp::UdpSocket::open({.family = address.family(), .bind_address = address, .port = settings_.port});
	if (!socket) {
		return tl::unexpected(socket.error());
	}
	auto owned = std::make_unique<ntp::UdpSocket>(std::move(*socket));
	ntp::UdpSocket *raw = owned.get();
	udp_watches_.push_back(loop_.watch_fd(raw->fd(), POLLIN, [this, raw](short) { on_udp(*raw); }));
	udp_.push_back(std::move(owned));
	listening_.push_back(fmt::format("UDP {} port {}", address.to_string(), settings_.port));
	return {};
}

std::vector<std::byte> ControlServer::answer(std::span<const std::byte> datagram, control::Transport transport,
					     const std::string &peer)
{
	auto parsed = control::parse_request(datagram);
	control::Reply reply;
	if (auto *rejected = std::get_if<control::Rejection>(&parsed)) {
		log_.debug("Command request from {} rejected: {}", peer, rejected->reason);
		if (!rejected->status) {
			stats_.drops++;
			return {};
		}
		reply = control::reply_to(*rejected);
	} else {
		const auto &request = std::get<control::Request>(parsed);
		reply = control::dispatch(request, transport, handler_);
		log_.debug("Command {} from {}: {}", control::command_name(static_cast<uint16_t>(request.command)), peer,
			   control::status_text(reply.status));
	}
	stats_.hits++;
	auto encoded = control::encode_reply(reply);
	if (!encoded) {
		log_.error("Could not encode the reply to {}: {}", peer, encoded.error().message());
		return {};
	}
	if (encoded->size() > datagram.size()) {
		// Never amplify: chronyc pads its requests to the reply's length.
		log_.debug("Reply to {} longer than its request; not sent", peer);
		return {};
	}
	return std::move(*encoded);
}

void ControlServer::on_unix()
{
	for (int i = 0; i < 16; i++) {
		std::byte buffer[kMaxRequest];
		sockaddr_un from{};
		socklen_t from_len = sizeof(from);
		ssize_t n = ::recvfrom(unix_fd_, buffer, sizeof(buffer), MSG_TRUNC, reinterpret_cast<sockaddr *>(&from),
				       &from_len);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				log_.debug("Command socket: recvfrom: {}", std::strerror(errno));
			}
			return;
		}
		size_t length = std::min(static_cast<size_t>(n), sizeof(buffer));
		if (from_len <= sizeof(sa_family_t)) {
			stats_.drops++;  // an unbound client cannot be answered
			continue;
		}
		auto reply = answer(std::span<const std::byte>(buffer, length), control::Transport::Unix, "Unix socket");
		if (!reply.empty() &&
		    ::sendto(unix_fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr *>(&from), from_len) < 0) {
			log_.debug("Command socket: sendto: {}", std::strerror(errno));
		}
	}
}

void ControlServer::on_udp(ntp::UdpSocket &socket)
{
	auto received = socket.receive(batch_.slots());
	if (!received) {
		log_.debug("Command socket: {}", received.error().message());
		return;
	}
	for (const auto &d : batch_.first(*received)) {
		IpAddress from = d.peer.ip.unmapped();
		if (!settings_.access.allowed(from)) {
			stats_.drops++;
			log_.debug("Command request from {} not allowed", from.to_string());
			continue;
		}
		if (d.truncated) {
			stats_.drops++;
			continue;
		}
		auto reply = answer(d.payload(), control::Transport::Network, from.to_string());
		if (!reply.empty()) {
			if (auto sent = socket.send_to(reply, d.peer); !sent) {
				log_.debug("Could not answer {}: {}", from.to_string(), sent.error().message());
			}
		}
	}
}

} // namespace strata::daemon
