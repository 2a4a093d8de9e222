// What the source engine (sources/engine.h) is given to reach the world:
// sockets to send through, names to resolve, descriptors to watch, a way to
// stop. The daemon implements these over its sockets and poll loop
// (daemon/sources_io_linux.h), the simulator over its simulated network,
// the tests with fakes. Nothing here does I/O itself: the engine never
// sees a socket, a file or poll().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "conf/config.h"
#include "core/address.h"
#include "core/result.h"
#include "core/time.h"
#include "refclock/driver.h"

namespace strata::sources {

/// An NTP source's identity for its whole life (a replaced pool member
/// keeps it); never reused.
using SourceId = uint64_t;

/// How the I/O layer time-stamps a source's packets (the ntpdata report's
/// 'K' kernel or 'D' daemon).
struct SourceIoInfo {
	bool kernel_tx = false;
	bool kernel_rx = false;
};

/// A datagram that came for an NTP source.
struct RxPacket {
	IpAddress from;
	uint16_t from_port = 0;
	std::optional<IpAddress> local;  ///< where it arrived (our address)
	/// When it arrived, on the system clock (CLOCK_REALTIME): the kernel's
	/// receive timestamp where the socket gives one. The engine puts it on
	/// its clock's timescale (LocalClock::from_system).
	RealTime rx_system;
	std::span<const std::byte> payload;
};

class EngineIo {
public:
	virtual ~EngineIo() = default;
	/// NTP source `id` will talk to `address`: open what it needs (the
	/// daemon: a UDP socket of the address's family). A `symmetric` source
	/// (a `peer`) talks from the NTP port instead, and its packets come in
	/// there (Engine::on_symmetric_packet). Called again when a pool member
	/// moves to another address. Errors: the source is not added (or keeps
	/// its old address).
	virtual Result<SourceIoInfo> open_source(SourceId id, const IpAddress &address, bool symmetric) = 0;
	/// The source is gone: close what open_source() opened.
	virtual void close_source(SourceId id) = 0;
	/// Sends one request of source `id` to `to`:`port`. Never blocks.
	/// Errors are logged by the engine (and take an `auto_offline` source
	/// offline).
	virtual Result<> send(SourceId id, const IpAddress &to, uint16_t port, std::span<const std::byte> packet) = 0;
	/// Refclock `index` (configuration order) wants `fd` watched for input
	/// (−1: nothing to watch); when it is readable, the I/O layer calls
	/// Engine::on_refclock_readable(index).
	virtual void watch_refclock(size_t index, int fd) = 0;
	/// -q/-Q have measured, or `maxchange` gave up: the run should end.
	virtual void stop() = 0;
};

/// Name resolution that never blocks: `done` runs later, on the engine's
/// thread, with the addresses in the resolver's order (duplicates removed)
/// or an empty list and why.
class NameResolver {
public:
	using Done = std::function<void(std::vector<IpAddress> addresses, std::string error)>;
	virtual ~NameResolver() = default;
	virtual void resolve(const std::string &name, bool ipv4, bool ipv6, Done done) = 0;
};

/// Builds the driver of one `refclock` line (the daemon: over the real
/// devices; tests and the simulator: over fakes). Errors: the line is
/// logged and skipped.
using RefclockFactory =
	std::function<Result<std::unique_ptr<refclock::Driver>>(const conf::RefclockConfig &config)>;

} // namespace strata::sources
