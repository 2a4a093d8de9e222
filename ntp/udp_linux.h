// UDP sockets for NTP, with kernel receive timestamps and batched I/O.
//
// A UdpSocket is one bound datagram socket (IPv4 or IPv6). It asks the kernel
// for software receive timestamps (SO_TIMESTAMPING, falling back to
// SO_TIMESTAMPNS) so that a request's arrival is stamped when the packet
// reached the host, not when the daemon got round to reading it, and for the
// local destination address of each datagram (IP_PKTINFO / IPV6_PKTINFO) so
// that a reply leaves from the address the request was sent to, even on a
// socket bound to the wildcard address.
//
// Batches (recvmmsg/sendmmsg) own all their buffers: the receive and send
// paths allocate nothing. This file only wraps the kernel interface; it logs
// nothing and returns errors to the caller.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "core/address.h"
#include "core/result.h"
#include "core/time.h"
#include "core/unique_fd.h"

namespace strata::ntp {

struct SocketAddress {
	IpAddress ip;
	uint16_t port = 0;
	friend auto operator<=>(const SocketAddress &, const SocketAddress &) = default;
};

/// Where a receive timestamp came from: the kernel, or the daemon reading
/// CLOCK_REALTIME after the read because the kernel gave none.
enum class RxStampSource : uint8_t { Kernel, Daemon };

struct UdpOptions {
	IpAddress::Family family = IpAddress::Family::V4;
	/// Local address to bind; nullopt = the wildcard address of the family.
	std::optional<IpAddress> bind_address;
	uint16_t port = 0;            ///< 0 = an ephemeral port
	std::string bind_device;      ///< SO_BINDTODEVICE; empty = none
	bool reuse_port = false;      ///< SO_REUSEPORT, for several workers on one port
	int receive_buffer = 0;       ///< SO_RCVBUF bytes; 0 = kernel default
	/// Software transmit timestamps on the error queue (a client's requests).
	bool tx_timestamps = false;
	/// Send with Don't Fragment set, never fragmented by this host
	/// (IP_PMTUDISC_PROBE, IPV6_PMTUDISC_PROBE). For an unconnected IPv4
	/// socket the kernel then gives each datagram IP ID 0 (RFC 6864) rather
	/// than drawing one from its shared table of counters, work it would
	/// do for every reply of a server. For datagrams well below any path's
	/// MTU, as NTP's replies without extension fields are.
	bool dont_fragment = false;
};

/// A transmit timestamp read from the error queue: when the kernel handed
/// the datagram numbered `id` (0 for the socket's first send) to the device.
struct TxTimestamp {
	uint32_t id = 0;
	RealTime at;
};

/// One datagram and its metadata. `buffer` is storage owned elsewhere (a
/// DatagramBatch); `length` bytes of it hold the payload.
struct Datagram {
	std::span<std::byte> buffer;
	size_t length = 0;
	SocketAddress peer;                 ///< source (received) or destination (to send)
	std::optional<IpAddress> local;     ///< destination of a received datagram; source of a reply
	int ifindex = 0;                    ///< interface it arrived on (0 = unknown)
	RealTime rx_time;                   ///< receive timestamp (received datagrams)
	RxStampSource rx_source = RxStampSource::Daemon;
	bool truncated = false;             ///< longer than the buffer; payload() is cut

	std::span<const std::byte> payload() const { return buffer.first(length); }
};

/// Datagrams with their own storage, for receive() and send() without
/// allocation.
template <size_t kCapacity, size_t kMaxLen = 1024>
class DatagramBatch {
public:
	DatagramBatch()
	{
		for (size_t i = 0; i < kCapacity; i++) {
			slots_[i].buffer = std::span<std::byte>(storage_[i]);
		}
	}
	DatagramBatch(const DatagramBatch &) = delete;
	DatagramBatch &operator=(const DatagramBatch &) = delete;

	static constexpr size_t capacity() { return kCapacity; }
	/// All slots, to receive into.
	std::span<Datagram> slots() { return slots_; }
	/// The first n slots, e.g. the ones received or filled to send.
	std::span<Datagram> first(size_t n) { return std::span<Datagram>(slots_).first(n); }

private:
	/// Uninitialised: only the bytes a datagram's `length` covers are ever
	/// read, and untouched pages cost an idle daemon no memory.
	std::array<std::array<std::byte, kMaxLen>, kCapacity> storage_;
	std::array<Datagram, kCapacity> slots_{};
};

class UdpSocket {
public:
	UdpSocket(UdpSocket &&other) noexcept;
	UdpSocket &operator=(UdpSocket &&other) noexcept;
	UdpSocket(const UdpSocket &) = delete;
	UdpSocket &operator=(const UdpSocket &) = delete;
	~UdpSocket();

	/// Creates, configures and binds a non-blocking socket. Errors: socket(),
	/// bind() (EADDRINUSE, EACCES for ports below 1024 without the
	/// capability), SO_BINDTODEVICE (ENODEV). The caller logs and gives up on
	/// that address. Failing to enable timestamps is not an error: the
	/// socket then reports RxStampSource::Daemon.
	static Result<UdpSocket> open(const UdpOptions &options);

	int fd() const { return fd_.get(); }
	IpAddress::Family family() const { return family_; }
	/// The bound address and port (the port the kernel chose for port 0).
	Result<SocketAddress> local_address() const;
	/// Whether the kernel stamps received datagrams. The kernel enables
	/// stamping lazily, so the first datagrams after start may still come
	/// without a stamp (RxStampSource::Daemon).
	bool kernel_rx_timestamps() const { return kernel_stamps_; }

	/// Reads waiting datagrams into `slots` (at most kMaxBatch at a time)
	/// without blocking; returns how many (0 when none was waiting). Errors
	/// other than EAGAIN/EINTR are returned; the caller logs and continues.
	Result<size_t> receive(std::span<Datagram> slots);

	/// Sends datagrams in two steps, so that the last bytes of each can be
	/// written as late as possible (an NTP reply's transmit timestamp, and
	/// a MAC over it). prepare_send() sets up the kernel's headers for
	/// `datagrams` (at most kMaxBatch; returns how many): each goes to its
	/// `peer`, from `local` when set (so a reply leaves from the address its
	/// request came to), from its buffer. send_prepared(first, count) then
	/// sends [first, first + count) of them at once, each with its buffer
	/// and `length` as they are at that moment, and returns how many the
	/// kernel accepted, which may be fewer than given. One datagram goes
	/// out with sendmsg(), more with sendmmsg(); should sendmmsg() fail
	/// where sendmsg() works (clknetsim intercepts only the latter), the
	/// socket sends each datagram with sendmsg() from then on. The
	/// datagrams must stay where they are until their send_prepared(); the
	/// next prepare_send() replaces the headers. Errors: the first
	/// datagram's (sendmmsg), or every datagram's (sendmsg); EAGAIN is no
	/// error (0, or fewer, sent); InvalidArgument for a range not prepared.
	size_t prepare_send(std::span<const Datagram> datagrams);
	Result<size_t> send_prepared(size_t first, size_t count);
	/// Whether send_prepared() hands several datagrams to the kernel in one
	/// call (false once sendmmsg() failed where sendmsg() worked).
	bool sends_batches() const { return sendmmsg_works_; }

	/// The most datagrams one receive() or prepare_send() call handles.
	static constexpr size_t kMaxBatch = 64;

	/// Sends one datagram to `to`.
	Result<> send_to(std::span<const std::byte> data, const SocketAddress &to);

	/// Whether the kernel agreed to stamp sent datagrams (UdpOptions::tx_timestamps).
	bool kernel_tx_timestamps() const { return tx_stamps_; }
	/// The next transmit timestamp waiting on the error queue (poll() reports
	/// it as POLLERR), or nullopt when there is none; never blocks.
	Result<std::optional<TxTimestamp>> read_tx_timestamp();

private:
	struct Scratch;  // mmsghdr, iovec, address and control buffers for one batch
	UdpSocket(UniqueFd fd, IpAddress::Family family);
	/// sendmsg() for the prepared transmit headers [from, to).
	Result<size_t> send_each(size_t from, size_t to);

	UniqueFd fd_;
	IpAddress::Family family_ = IpAddress::Family::V4;
	bool kernel_stamps_ = false;
	bool tx_stamps_ = false;
	/// Bound to one address: replies leave from it without IP_PKTINFO.
	bool bound_to_address_ = false;
	/// Cleared when sendmmsg() failed where sendmsg() worked.
	bool sendmmsg_works_ = true;
	std::unique_ptr<Scratch> scratch_;
};

} // namespace strata::ntp
