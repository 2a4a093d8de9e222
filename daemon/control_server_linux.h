// The command-and-monitoring server: chronyd's cmdmon protocol and strata's
// JSON requests on a Unix datagram socket (every command for root and the
// daemon's user, told by the credentials each datagram carries; the reports
// only for the members of `cmdsocketgroup`; who may connect at all is the
// socket's and its directory's business, as with chronyd) and on UDP (`cmdport`, default 323,
// bound to 127.0.0.1 and ::1 unless `bindcmdaddress` says otherwise;
// `cmdallow`/`cmddeny` on top of localhost; the read-only reports only).
// Requests are parsed and answered on the loop's thread; a reply is never
// longer than its request, so the server amplifies nothing.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/dispatch.h"
#include "core/address.h"
#include "core/log.h"
#include "core/result.h"
#include "core/unique_fd.h"
#include "daemon/poll_loop_linux.h"
#include "core/random.h"
#include "ntp/access.h"
#include "ntp/client_log.h"
#include "ntp/udp_linux.h"

namespace strata::daemon {

class ControlServer {
public:
	struct Settings {
		/// The Unix socket; empty = none. Its directory is created (mode
		/// 0750) when missing and must not be accessible by others, and
		/// belong to the daemon's user and group (or `group`): see
		/// prepare_command_directory(), else the socket is not opened. A
		/// socket file left by a killed daemon is replaced, one another
		/// daemon still reads or any other file is an error.
		std::string unix_path;
		/// The daemon's user once it has switched (-u, `user`): the
		/// socket's directory is made for them and must belong to them.
		/// Unset: the process's own user and group (no switch).
		struct Owner {
			uid_t uid;
			gid_t gid;
		};
		std::optional<Owner> owner;
		/// The monitoring group (cmdsocketgroup): the socket belongs to it,
		/// and so does its directory when the server creates it; members
		/// may read reports, only root and the daemon's user may change
		/// anything.
		std::optional<gid_t> group;
		/// The socket file's mode (cmdsocketmode); default 0660 with a
		/// group, 0666 without (the directory, 0750, then decides).
		std::optional<int> mode;
		uint16_t port = 323;  ///< 0 = no UDP
		std::optional<IpAddress> bind_v4;  ///< default 127.0.0.1
		std::optional<IpAddress> bind_v6;  ///< default ::1
		bool ipv4 = true;
		bool ipv6 = true;
		/// Who may send over UDP: localhost, then the cmdallow/cmddeny rules.
		ntp::AccessTable access;
		/// UDP clients are logged (the Cmd columns of `clients`) and their
		/// requests rate limited by `cmdratelimit`, as chronyd; the Unix
		/// socket is neither. Off with `noclientlog`.
		bool log_clients = true;
		size_t clientlog_bytes = 65536;
		ntp::RateLimitConfig ratelimit{.interval_log2 = -4, .burst = 8, .leak_log2 = 2, .kod_log2 = 0};
	};

	struct Stats {
		uint64_t hits = 0;     ///< requests answered (or refused with a status)
		uint64_t drops = 0;    ///< requests dropped: not allowed, malformed beyond an answer
	};

	static Result<std::unique_ptr<ControlServer>> start(Settings settings, PollLoop &loop, Logger &log,
							    control::ControlHandler &handler);
	~ControlServer();
	ControlServer(const ControlServer &) = delete;
	ControlServer &operator=(const ControlServer &) = delete;

	const Stats &stats() const { return stats_; }
	/// The UDP command clients (for the `clients` report); nullopt when
	/// not logged.
	std::optional<std::vector<ntp::ClientRecord>> clients() const;
	/// `clients -r`: zeroes the client's command counters.
	void reset_client(const IpAddress &client) { clients_.reset(client); }
	/// "Unix socket /run/strata/stratad.sock", "UDP 127.0.0.1 port 323".
	const std::vector<std::string> &listening() const { return listening_; }

private:
	ControlServer(Settings settings, PollLoop &loop, Logger &log, control::ControlHandler &handler, uint64_t seed)
		: settings_(std::move(settings)),
		  loop_(loop),
		  log_(log),
		  handler_(handler),
		  clients_(settings_.log_clients ? settings_.clientlog_bytes : 0,
			   settings_.log_clients ? std::optional(settings_.ratelimit) : std::nullopt, seed),
		  rng_(seed ^ 0x2545f4914f6cdd1d)
	{
	}
	Result<> open_unix();
	Result<> open_udp(IpAddress address);
	void on_unix();
	void on_udp(ntp::UdpSocket &socket);
	/// The reply datagram for `request` (empty: none is sent): chrony's
	/// binary protocol, or JSON (control/json_control.h) on the Unix socket.
	/// `privileged`: the sender may change the daemon.
	std::vector<std::byte> answer(std::span<const std::byte> request, control::Transport transport,
				      const std::string &peer, bool privileged);

	Settings settings_;
	PollLoop &loop_;
	Logger &log_;
	control::ControlHandler &handler_;
	UniqueFd unix_fd_;
	bool passcred_ = false;  ///< the kernel attaches each sender's credentials
	dev_t unix_dev_ = 0;  ///< the socket file we bound, to remove only ours
	ino_t unix_ino_ = 0;
	WatchId unix_watch_ = 0;
	std::vector<std::unique_ptr<ntp::UdpSocket>> udp_;
	std::vector<WatchId> udp_watches_;
	ntp::DatagramBatch<8, 1024> batch_;
	Stats stats_;
	ntp::ClientLog clients_;
	Xoshiro256 rng_;
	std::vector<std::string> listening_;
};

/// The directory of a Unix socket's path: "/run/strata" for
/// "/run/strata/stratad.sock", "/" for "/x", "." for a bare name.
std::string socket_directory(const std::string &socket_path);

/// chronyd's rule for the command socket's directory (its CNF_CreateDirs,
/// UTI_CreateDirAndParents and UTI_CheckDirPermissions): each missing
/// component of `dir` is created, parents with mode 0755, the directory
/// itself with mode 0750 and owner `uid`, group `group` (the
/// cmdsocketgroup) or else `gid`; then the directory, new or not, must be
/// a directory that others cannot enter (no permission bits for others),
/// owned by `uid`, and of group `gid` (the daemon's: it may write, as with
/// chronyd) or `group` (which then must not write: it could replace the
/// socket). Each component is stat()ed before anything is created, so that
/// LD_PRELOAD simulators work (clknetsim's /clknetsim/unix is virtual: it
/// answers stat() and creates nothing). An existing directory is never
/// changed. Returns a warning for the log (the monitoring group cannot
/// enter a directory of the daemon's group), empty when none. The error's
/// context is the log line ("Wrong permissions on /run/strata (mode 0755:
/// …)"); the caller then runs without the Unix socket and says so.
Result<std::string> prepare_command_directory(const std::string &dir, uid_t uid, gid_t gid,
					      std::optional<gid_t> group = std::nullopt);

} // namespace strata::daemon
