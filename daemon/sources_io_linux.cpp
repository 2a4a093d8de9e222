#include "daemon/sources_io_linux.h"

#include <poll.h>
#include <unistd.h>

#include <fmt/format.h>

#include "daemon/random_seed_linux.h"
#include "daemon/refclock_drivers_linux.h"

namespace strata::daemon {

SourcesIo::~SourcesIo()
{
	for (auto &[id, s] : sockets_) {
		loop_.unwatch(s->watch);
	}
	for (auto &[index, watch] : refclock_watches_) {
		loop_.unwatch(watch);
	}
}

Result<sources::SourceIoInfo> SourcesIo::open_source(sources::SourceId id, const IpAddress &address, bool symmetric)
{
	if (symmetric) {
		close_source(id);
		symmetric_[id] = address;
		return sources::SourceIoInfo{};  // the server's socket: no transmit timestamps
	}
	auto socket = ntp::UdpSocket::open({.family = address.family(), .tx_timestamps = true});
	if (!socket) {
		return tl::unexpected(socket.error());
	}
	close_source(id);  // a pool member moving to another address
	auto s = std::make_unique<Socket>(std::move(*socket));
	Socket *raw = s.get();
	s->watch = loop_.watch_fd(raw->socket.fd(), POLLIN, [this, id, raw](short revents) { on_socket(id, *raw, revents); });
	sources::SourceIoInfo info{.kernel_tx = raw->socket.kernel_tx_timestamps(),
				   .kernel_rx = raw->socket.kernel_rx_timestamps()};
	sockets_[id] = std::move(s);
	return info;
}

void SourcesIo::close_source(sources::SourceId id)
{
	symmetric_.erase(id);
	auto it = sockets_.find(id);
	if (it == sockets_.end()) {
		return;
	}
	loop_.unwatch(it->second->watch);
	sockets_.erase(it);
}

Result<> SourcesIo::send(sources::SourceId id, const IpAddress &to, uint16_t port, std::span<const std::byte> packet)
{
	if (symmetric_.count(id) > 0) {
		if (!symmetric_send_) {
			return fail(Errc::Unsupported, "no NTP port to send a peer's packets from");
		}
		return symmetric_send_(to, port, packet);
	}
	auto it = sockets_.find(id);
	if (it == sockets_.end()) {
		return fail(Errc::NotFound, "no socket for the source");
	}
	auto sent = it->second->socket.send_to(packet, {to, port});
	if (sent) {
		it->second->sends++;
	}
	return sent;
}

void SourcesIo::on_socket(sources::SourceId id, Socket &s, short revents)
{
	if (engine_ == nullptr) {
		return;
	}
	if ((revents & POLLERR) != 0) {
		// Transmit timestamps (several, if polls were quick): the newest
		// request's replaces the time read before its send.
		for (;;) {
			auto stamp = s.socket.read_tx_timestamp();
			if (!stamp) {
				log_.debug("Could not read a transmit timestamp: {}", stamp.error().message());
				break;
			}
			if (!*stamp) {
				break;
			}
			if ((*stamp)->id + 1 == s.sends) {
				engine_->on_tx_timestamp(id, (*stamp)->at);
			}
		}
	}
	if ((revents & POLLIN) == 0) {
		return;
	}
	auto received = s.socket.receive(s.batch.slots());
	if (!received) {
		log_.debug("Could not receive: {}", received.error().message());
		return;
	}
	for (const auto &d : s.batch.first(*received)) {
		if (d.truncated) {
			log_.debug("Dropped a datagram from {} longer than {} bytes", d.peer.ip.to_string(), d.buffer.size());
			continue;  // never parsed cut short
		}
		engine_->on_packet(id, {.from = d.peer.ip,
					.from_port = d.peer.port,
					.local = d.local,
					.rx_system = d.rx_time,
					.payload = d.payload()});
		auto it = sockets_.find(id);
		if (it == sockets_.end() || it->second.get() != &s) {
			return;  // the engine removed or moved the source meanwhile
		}
	}
}

void SourcesIo::watch_refclock(size_t index, int fd)
{
	if (auto it = refclock_watches_.find(index); it != refclock_watches_.end()) {
		loop_.unwatch(it->second);
		refclock_watches_.erase(it);
	}
	if (fd >= 0) {
		refclock_watches_[index] = loop_.watch_fd(fd, POLLIN, [this, index](short) {
			if (engine_ != nullptr) {
				engine_->on_refclock_readable(index);
			}
		});
	}
}

void LazyResolver::resolve(const std::string &name, bool ipv4, bool ipv6, Done done)
{
	if (!resolver_) {
		auto created = Resolver::create(loop_);
		if (!created) {
			done({}, created.error().message());
			return;
		}
		resolver_ = std::move(*created);
	}
	resolver_->resolve(name, ipv4, ipv6, std::move(done));
}

Result<DaemonSources> start_sources(const conf::Config &config, const sources::EngineSettings &settings, PollLoop &loop,
				    Logger &log, LocalClock &clock, ReferenceState &reference, LogSink *log_files)
{
	DaemonSources d;
	d.io = std::make_unique<SourcesIo>(loop, log);
	d.resolver = std::make_unique<LazyResolver>(loop);
	d.files = std::make_unique<conf::SystemFileReader>();
	sources::EngineSettings s = settings;
	s.seed = random_seed();  // request cookies: not to be guessed off-path
	auto engine = sources::Engine::start(
		config, s,
		{.scheduler = loop,
		 .clock = clock,
		 .io = *d.io,
		 .log = log,
		 .reference = reference,
		 .resolver = d.resolver.get(),
		 .refclocks = [&log](const conf::RefclockConfig &c) { return make_refclock_driver(c, log); },
		 .log_files = log_files,
		 .files = d.files.get()});
	if (!engine) {
		return tl::unexpected(engine.error());
	}
	d.engine = std::move(*engine);
	d.io->attach(d.engine.get());
	return d;
}

} // namespace strata::daemon
