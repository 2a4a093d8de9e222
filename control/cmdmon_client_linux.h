// stratactl's Linux side: the cmdmon sockets (a Unix datagram socket or
// UDP), the resolver and the sleeping between waitsync attempts, behind the
// interfaces of control/client_session.h.
//
// As chronyc does, the client tries the servers of -h in order: a path
// (starting with '/') is the daemon's Unix socket, to which the client
// sends from its own socket bound next to it (DIR/stratactl.PID.sock, mode
// 0666 so that a daemon running as another user can answer; removed on
// exit); anything else is a host whose addresses are tried on the UDP
// command port. A server that does not answer a request after every retry
// is left for the next one.
#pragma once

#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include "control/client_session.h"

namespace strata::control {

/// One server to try.
struct ServerAddress {
	std::string path;          ///< a Unix socket; empty for UDP
	IpAddress ip;              ///< UDP
	uint16_t port = kDefaultPort;
};

/// The servers of a -h list, in order: paths as they are, host names
/// resolved (every address, restricted to `family` if given). Names that do
/// not resolve are left out, as chronyc leaves them out.
std::vector<ServerAddress> resolve_servers(std::string_view hosts, uint16_t port,
					   std::optional<IpAddress::Family> family);

/// Set by the SIGINT/SIGTERM handler that install_quit_handlers() installs.
extern volatile std::sig_atomic_t g_quit_requested;
void install_quit_handlers();

class SocketExchanger final : public Exchanger {
public:
	explicit SocketExchanger(std::vector<ServerAddress> servers);
	~SocketExchanger() override;
	SocketExchanger(const SocketExchanger &) = delete;
	SocketExchanger &operator=(const SocketExchanger &) = delete;

	/// Opens a socket to the next server that takes one (the first on the
	/// first call; stratactl calls it once before any request, and fails
	/// with "Could not open connection to daemon" when it returns false);
	/// false when none is left (the next call starts over).
	bool open_next();
	std::optional<Reply> exchange(const Request &request) override;

private:
	/// Every attempt at one request on the open socket; false when the
	/// server did not answer (or the socket failed).
	bool submit(const Request &request, Reply &reply);
	bool open(const ServerAddress &server);
	void close();

	std::vector<ServerAddress> servers_;
	size_t next_ = 0;
	int fd_ = -1;
	std::string local_path_;  ///< our Unix socket, removed on close
};

class SystemNameService final : public NameService {
public:
	std::optional<IpAddress> lookup(std::string_view name, std::optional<IpAddress::Family> family) override;
	std::string reverse(const IpAddress &address) override;
};

class SystemPause final : public Pause {
public:
	bool sleep(double seconds) override;
	bool interrupted() const override;
};

/// getrandom(2): the kernel's generator, blocking until it is seeded;
/// never a weaker stand-in.
class SystemRandom final : public RandomSource {
public:
	bool fill(std::span<uint8_t> out) override;
};

} // namespace strata::control
