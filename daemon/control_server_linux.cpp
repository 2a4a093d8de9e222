#include "daemon/control_server_linux.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "control/json_control.h"
#include "daemon/file_open_linux.h"
#include "daemon/random_seed_linux.h"

namespace strata::daemon {

namespace {

/// A request on the Unix socket is at most this long: chronyd's largest,
/// ADD_SOURCE, is 860 bytes with its padding, a JSON request may be
/// longer. A longer datagram is dropped (counted), never parsed cut.
constexpr size_t kMaxRequest = 4096;

std::string errno_text(int err)
{
	return std::generic_category().message(err);
}

/// An error whose context is the whole log line.
tl::unexpected<Error> refuse(int err, std::string line)
{
	return tl::unexpected<Error>(Error{std::error_code(err, std::generic_category()), std::move(line)});
}

} // namespace

std::string socket_directory(const std::string &socket_path)
{
	auto slash = socket_path.rfind('/');
	if (slash == std::string::npos) {
		return ".";
	}
	return slash == 0 ? "/" : socket_path.substr(0, slash);
}

Result<std::string> prepare_command_directory(const std::string &dir, uid_t uid, gid_t gid,
					      std::optional<gid_t> group)
{
	// Every missing component created, stat() first; the directory itself
	// with mode 0750 (the monitoring group may enter, not write).
	if (auto made = create_directories(dir, 0750, uid, group.value_or(gid)); !made) {
		return tl::unexpected(made.error());
	}
	// New or not, the directory decides who may reach the socket: no one
	// but its owner and group (chronyd's UTI_CheckDirPermissions with 0770).
	struct stat st {};
	if (::stat(dir.c_str(), &st) != 0) {
		int err = errno;
		return refuse(err, fmt::format("Could not access {}: {}", dir, errno_text(err)));
	}
	if (!S_ISDIR(st.st_mode)) {
		return refuse(ENOTDIR, fmt::format("{} is not a directory", dir));
	}
	if ((st.st_mode & 0007) != 0) {
		return refuse(EPERM, fmt::format("Wrong permissions on {} (mode {:04o}: others may enter it; the command "
						 "socket's directory must not be accessible by others)",
						 dir, st.st_mode & 07777));
	}
	if (st.st_uid != uid) {
		return refuse(EPERM, fmt::format("Wrong owner of {} (UID {}, not {})", dir, st.st_uid, uid));
	}
	// The group: the daemon's own (chronyd's rule), or the monitoring group,
	// which may enter but must not write (it could put its own socket there).
	bool monitoring = group && st.st_gid == *group && st.st_gid != gid;
	if (st.st_gid != gid && !monitoring) {
		return refuse(EPERM, group ? fmt::format("Wrong owner of {} (GID {}, not {} or {})", dir, st.st_gid, gid,
							 *group)
					   : fmt::format("Wrong owner of {} (GID {}, not {})", dir, st.st_gid, gid));
	}
	if (monitoring && (st.st_mode & 0020) != 0) {
		return refuse(EPERM, fmt::format("Wrong permissions on {} (mode {:04o}: the monitoring group {} may "
						 "write in it)",
						 dir, st.st_mode & 07777, *group));
	}
	if (group && st.st_gid != *group) {
		return fmt::format("The members of group {} cannot reach the command socket: its directory {} "
				   "belongs to group {}",
				   *group, dir, st.st_gid);
	}
	return std::string();
}

Result<std::unique_ptr<ControlServer>> ControlServer::start(Settings settings, PollLoop &loop, Logger &log,
							    control::ControlHandler &handler)
{
	// The client log's hash seed: not guessable from outside.
	uint64_t seed = random_seed();
	std::unique_ptr<ControlServer> s(new ControlServer(std::move(settings), loop, log, handler, seed));
	if (const std::string &path = s->settings_.unix_path; !path.empty()) {
		// Without the Unix socket the reports are still there over UDP.
		const auto &owner = s->settings_.owner;
		auto dir = prepare_command_directory(socket_directory(path), owner ? owner->uid : ::geteuid(),
						     owner ? owner->gid : ::getegid(), s->settings_.group);
		if (!dir) {
			log.error("{}", dir.error().context);
			log.warning("Disabled command socket {}", path);
		} else {
			if (!dir->empty()) {
				log.warning("{}", *dir);
			}
			if (auto opened = s->open_unix(); !opened) {
				log.error("Could not open command socket on {}: {}", path, opened.error().message());
			}
		}
	}
	if (s->settings_.port != 0) {
		// Each family on its own: one that cannot be opened (IPv6 disabled
		// in the kernel or absent under clknetsim, an address not on this
		// host, the port in use) is logged, and the other still serves, as
		// with chronyd.
		std::array<uint8_t, 16> loopback6{};
		loopback6[15] = 1;
		for (bool v4 : {true, false}) {
			if (!(v4 ? s->settings_.ipv4 : s->settings_.ipv6)) {
				continue;
			}
			IpAddress a = v4 ? s->settings_.bind_v4.value_or(IpAddress::v4(0x7f000001))
					 : s->settings_.bind_v6.value_or(IpAddress::v6(loopback6));
			if (auto opened = s->open_udp(a); !opened) {
				log.error("Could not open command socket on {} port {} ({}): {}", a.to_string(),
					  s->settings_.port, v4 ? "IPv4" : "IPv6", opened.error().message());
			}
		}
	}
	return s;
}

std::optional<std::vector<ntp::ClientRecord>> ControlServer::clients() const
{
	if (!settings_.log_clients) {
		return std::nullopt;
	}
	std::vector<ntp::ClientRecord> all;
	clients_.for_each([&](const ntp::ClientRecord &r) { all.push_back(r); });
	return all;
}

ControlServer::~ControlServer()
{
	if (unix_fd_.valid()) {
		loop_.unwatch(unix_watch_);
		unix_fd_.reset();
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
	addr.sun_family = AF_UNIX;
	std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
	// Flags set with fcntl() rather than in socket()'s type, for LD_PRELOAD
	// simulators (clknetsim) that take only the plain type.
	UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM, 0));
	if (!fd.valid()) {
		return fail_errno("socket(AF_UNIX)");
	}
	if (::fcntl(fd.get(), F_SETFD, FD_CLOEXEC) != 0 || ::fcntl(fd.get(), F_SETFL, O_NONBLOCK) != 0) {
		return fail_errno("fcntl");
	}
	struct stat st {};
	if (::lstat(path.c_str(), &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			return fail_errno(fmt::format("Command socket path {} exists and is not a socket", path), EEXIST);
		}
		// A socket someone still reads is another daemon's: leave it. One
		// nobody reads (connection refused) was left by a killed daemon.
		if (::connect(fd.get(), reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) == 0) {
			return fail_errno(fmt::format("Command socket {} is in use by another process", path), EADDRINUSE);
		}
		::unlink(path.c_str());
	}
	// Who may talk to the daemon: anyone who may enter the directory (mode
	// 0666 in a root-only directory, chronyd's way), or the socket's group.
	// The socket is made with its mode (the umask of the bind), not changed
	// by path afterwards: there is no moment it is open wider.
	auto mode = static_cast<mode_t>(settings_.mode.value_or(settings_.group ? 0660 : 0666));
	mode_t old_umask = ::umask(static_cast<mode_t>(~mode & 0777));
	int bound = ::bind(fd.get(), reinterpret_cast<const sockaddr *>(&addr), sizeof(addr));
	int bind_errno = errno;
	::umask(old_umask);
	if (bound != 0) {
		return fail_errno(fmt::format("Could not bind command socket {}", path), bind_errno);
	}
	// The group by path, as a socket's own inode is not the file's; lchown
	// does not follow a link put there in between.
	if (settings_.group && ::lchown(path.c_str(), static_cast<uid_t>(-1), *settings_.group) != 0) {
		int err = errno;
		::unlink(path.c_str());
		return fail_errno(fmt::format("Could not give command socket {} to group {}", path, *settings_.group), err);
	}
	// Every datagram then carries its sender's credentials: who may change
	// the daemon is decided per request. Without them (an LD_PRELOAD
	// simulator's socket), see on_unix().
	int on = 1;
	passcred_ = ::setsockopt(fd.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == 0;
	if (!passcred_) {
		log_.warning("Command socket {}: no sender credentials ({}); {}", path, std::strerror(errno),
			     settings_.group ? "every sender may read reports only"
					     : "every sender may send every command, as with chronyd");
	}
	if (::lstat(path.c_str(), &st) == 0) {
		unix_dev_ = st.st_dev;
		unix_ino_ = st.st_ino;
	}
	unix_fd_ = std::move(fd);
	unix_watch_ = loop_.watch_fd(unix_fd_.get(), POLLIN, [this](short) { on_unix(); });
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
					     const std::string &peer, bool privileged)
{
	if (transport == control::Transport::Unix) {
		std::string_view text(reinterpret_cast<const char *>(datagram.data()), datagram.size());
		if (control::is_json_request(text)) {
			stats_.hits++;
			std::string reply = control::answer_json(text, privileged, handler_);
			log_.debug("JSON command from {}: {} bytes answered", peer, reply.size());
			auto bytes = std::as_bytes(std::span(reply));
			return {bytes.begin(), bytes.end()};
		}
	}
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
		if (!privileged && !control::is_read_only(request)) {
			// A member of the monitoring group: reports only.
			reply = control::reply_to(request, control::NullReport{}, control::Status::Unauth);
		} else {
			reply = control::dispatch(request, transport, handler_);
		}
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
		iovec iov{buffer, sizeof(buffer)};
		alignas(cmsghdr) char credentials[CMSG_SPACE(sizeof(ucred))];
		msghdr msg{};
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = credentials;
		msg.msg_controllen = sizeof(credentials);
		ssize_t n = ::recvmsg(unix_fd_.get(), &msg, MSG_TRUNC);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				log_.debug("Command socket: recvmsg: {}", std::strerror(errno));
			}
			return;
		}
		if (static_cast<size_t>(n) > sizeof(buffer)) {
			// Longer than any request: never parsed cut.
			stats_.drops++;
			log_.info("Command socket: dropped a datagram of {} bytes (at most {})", n, sizeof(buffer));
			continue;
		}
		size_t length = static_cast<size_t>(n);
		if (msg.msg_namelen <= sizeof(sa_family_t)) {
			stats_.drops++;  // an unbound client cannot be answered
			continue;
		}
		// Root and the daemon's own user may do everything; anyone else who
		// could reach the socket (its group) may read reports.
		// Without credentials (SO_PASSCRED refused): chronyd's rule, whoever
		// can enter the directory may do everything, unless a monitoring
		// group shares the socket.
		bool privileged = !passcred_ && !settings_.group;
		uid_t uid = static_cast<uid_t>(-1);
		for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
			    c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
				ucred cred{};
				std::memcpy(&cred, CMSG_DATA(c), sizeof(cred));
				uid = cred.uid;
				privileged = cred.uid == 0 || cred.uid == ::geteuid();
			}
		}
		std::string peer = uid == static_cast<uid_t>(-1) ? std::string("Unix socket")
								 : fmt::format("Unix socket (uid {})", uid);
		auto reply = answer(std::span<const std::byte>(buffer, length), control::Transport::Unix, peer, privileged);
		if (!reply.empty() && ::sendto(unix_fd_.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr *>(&from),
					       msg.msg_namelen) < 0) {
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
		if (settings_.log_clients && clients_.on_ntp_request(from, loop_.now(), rng_) != ntp::Verdict::Respond) {
			stats_.drops++;  // cmdratelimit
			continue;
		}
		auto reply = answer(d.payload(), control::Transport::Network, from.to_string(), false);
		if (!reply.empty()) {
			if (auto sent = socket.send_to(reply, d.peer); !sent) {
				log_.debug("Could not answer {}: {}", from.to_string(), sent.error().message());
			}
		}
	}
}

} // namespace strata::daemon
