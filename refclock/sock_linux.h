// The SOCK refclock on Linux: the Unix datagram socket the daemon creates
// for gpsd (or any other writer) to send struct sock_sample messages to,
// parsed by refclock/sock.h.
//
// The daemon owns the path: it removes a socket file a killed daemon left
// behind before binding, and removes its own on close, so that a writer
// sees ECONNREFUSED/ENOENT (and keeps retrying) rather than sending into a
// dead socket. The socket is event-driven: the poll loop watches fd() and
// calls receive() when it is readable.
//
// Anyone who may write to the path can send samples, so a datagram is
// never trusted: bad ones are counted and logged at most once a minute.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "core/log.h"
#include "core/result.h"
#include "core/time.h"
#include "core/unique_fd.h"
#include "refclock/bad_sample_log.h"
#include "refclock/sample.h"

namespace strata::refclock {

struct SockStats {
	uint64_t samples = 0;  ///< good samples received
	uint64_t bad = 0;      ///< datagrams rejected by parse_sock()
	uint64_t errors = 0;   ///< recv() failures
};

class SockRefclock {
public:
	/// At most this many datagrams are read by one receive() call, so that a
	/// flood of bad ones cannot hold the loop; the socket stays readable and
	/// poll() reports it again.
	static constexpr int kMaxDatagramsPerCall = 8;

	/// Creates a datagram socket bound to `path`, non-blocking and
	/// close-on-exec. A socket file already at `path` (left by a daemon that
	/// was killed) is removed first; any other kind of file there is an error
	/// (EEXIST) and is left alone, so that a wrong path in the configuration
	/// never deletes a user's file. Errors: ENAMETOOLONG (longer than a
	/// sockaddr_un holds), EEXIST, and those of socket(), bind() and
	/// unlink() (ENOENT or EACCES: the directory is missing or not
	/// writable). The caller logs and runs without this refclock. `log` must
	/// outlive the object.
	static Result<SockRefclock> open(std::string path, Logger &log);

	/// The moved-from object owns nothing: it neither closes nor removes.
	SockRefclock(SockRefclock &&other) noexcept = default;
	/// Closes this one's socket and removes its file first.
	SockRefclock &operator=(SockRefclock &&other) noexcept;
	SockRefclock(const SockRefclock &) = delete;
	SockRefclock &operator=(const SockRefclock &) = delete;
	/// Closes the socket and removes the path, if it is still the socket
	/// bound here (not one another process has put there since).
	~SockRefclock();

	int fd() const { return fd_.get(); }
	const std::string &path() const { return path_; }
	/// "SOCK /run/chrony.ttyS0.sock": names the source in log lines.
	const std::string &name() const { return name_; }

	/// Reads waiting datagrams until one holds a good sample, and returns
	/// it; nullopt when none is waiting (or after kMaxDatagramsPerCall bad
	/// ones). Call it until it returns nullopt when fd() is readable. Bad
	/// datagrams are counted and logged at most once a minute (`now`: the
	/// loop's monotonic time). Never blocks. Errors: recv()'s other than
	/// EAGAIN (counted; the socket stays open and usable).
	Result<std::optional<RawSample>> receive(MonoTime now);

	const SockStats &stats() const { return stats_; }

private:
	SockRefclock(UniqueFd fd, std::string path, dev_t dev, ino_t ino, Logger &log)
		: fd_(std::move(fd)), path_(std::move(path)), name_("SOCK " + path_), dev_(dev), ino_(ino),
		  log_(&log)
	{
	}
	void close_and_unlink();

	UniqueFd fd_;  ///< invalid once moved from
	std::string path_;
	std::string name_;
	dev_t dev_ = 0;  ///< the bound socket file, to recognise it at close
	ino_t ino_ = 0;
	Logger *log_;
	BadSampleLog bad_log_;
	SockStats stats_;
};

} // namespace strata::refclock
