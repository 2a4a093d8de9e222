// The source engine's I/O in the daemon (sources/io.h over Linux): one UDP
// socket per NTP source, watched on the poll loop, with the kernel's
// receive and transmit timestamps handed to the engine; refclock
// descriptors watched for the engine; names resolved off the loop. And the
// engine's start from the configuration and the command line.
#pragma once

#include <functional>
#include <map>
#include <span>
#include <memory>

#include "conf/config.h"
#include "conf/file_reader.h"
#include "core/log.h"
#include "core/log_files.h"
#include "core/reference.h"
#include "daemon/poll_loop_linux.h"
#include "daemon/resolver_linux.h"
#include "ntp/udp_linux.h"
#include "sources/engine.h"

namespace strata::daemon {

class SourcesIo final : public sources::EngineIo {
public:
	SourcesIo(PollLoop &loop, Logger &log) : loop_(loop), log_(log) {}
	~SourcesIo() override;
	SourcesIo(const SourcesIo &) = delete;
	SourcesIo &operator=(const SourcesIo &) = delete;

	/// The engine that packets and readable refclocks go to (set once it
	/// is built; nothing arrives before the loop runs).
	void attach(sources::Engine *engine) { engine_ = engine; }

	/// Sends a `peer`'s packets from the NTP port (NtpServer::send_from_port).
	using SymmetricSender = std::function<Result<>(const IpAddress &to, uint16_t port, std::span<const std::byte>)>;
	void set_symmetric_sender(SymmetricSender send) { symmetric_send_ = std::move(send); }

	Result<sources::SourceIoInfo> open_source(sources::SourceId id, const IpAddress &address,
						  bool symmetric) override;
	void close_source(sources::SourceId id) override;
	Result<> send(sources::SourceId id, const IpAddress &to, uint16_t port,
		      std::span<const std::byte> packet) override;
	void watch_refclock(size_t index, int fd) override;
	void stop() override { loop_.stop(); }

private:
	struct Socket {
		explicit Socket(ntp::UdpSocket s) : socket(std::move(s)) {}
		ntp::UdpSocket socket;
		WatchId watch = 0;
		uint32_t sends = 0;  ///< the kernel numbers transmit timestamps so
		ntp::DatagramBatch<8, 1152> batch;  ///< chronyd's longest packet fits; longer ones are dropped
	};
	void on_socket(sources::SourceId id, Socket &s, short revents);

	PollLoop &loop_;
	Logger &log_;
	sources::Engine *engine_ = nullptr;
	std::map<sources::SourceId, std::unique_ptr<Socket>> sockets_;
	std::map<size_t, WatchId> refclock_watches_;
	std::map<sources::SourceId, IpAddress> symmetric_;  ///< peers: no socket of their own
	SymmetricSender symmetric_send_;
};

/// Creates the resolver (a pipe and threads) at the first name, not before.
class LazyResolver final : public sources::NameResolver {
public:
	explicit LazyResolver(PollLoop &loop) : loop_(loop) {}
	void resolve(const std::string &name, bool ipv4, bool ipv6, Done done) override;

private:
	PollLoop &loop_;
	std::unique_ptr<Resolver> resolver_;
};

/// The engine with its I/O, as the daemon runs it.
struct DaemonSources {
	std::unique_ptr<SourcesIo> io;
	std::unique_ptr<LazyResolver> resolver;
	std::unique_ptr<conf::FileReader> files;
	std::unique_ptr<sources::Engine> engine;
};

/// Starts the engine on `config` (sources/engine.h's start; refclocks over
/// the real devices).
Result<DaemonSources> start_sources(const conf::Config &config, const sources::EngineSettings &settings, PollLoop &loop,
				    Logger &log, LocalClock &clock, ReferenceState &reference, LogSink *log_files);

} // namespace strata::daemon
