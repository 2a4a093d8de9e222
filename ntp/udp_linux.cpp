#include "ntp/udp_linux.h"

#include "ntp/cmsg_linux.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace strata::ntp {

namespace {

constexpr size_t kControlLen = 256;  // timestamps + pktinfo, with room to spare

RealTime from_timespec(const timespec &ts)
{
	return RealTime::from_parts(ts.tv_sec, ts.tv_nsec);
}

socklen_t to_sockaddr(const SocketAddress &a, sockaddr_storage &out)
{
	std::memset(&out, 0, sizeof(out));
	if (a.ip.is_v4()) {
		auto *sin = reinterpret_cast<sockaddr_in *>(&out);
		sin->sin_family = AF_INET;
		sin->sin_port = htons(a.port);
		std::memcpy(&sin->sin_addr, a.ip.bytes().data(), 4);
		return sizeof(sockaddr_in);
	}
	auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&out);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(a.port);
	std::memcpy(&sin6->sin6_addr, a.ip.bytes().data(), 16);
	return sizeof(sockaddr_in6);
}

std::optional<SocketAddress> from_sockaddr(const sockaddr_storage &in)
{
	if (in.ss_family == AF_INET) {
		const auto *sin = reinterpret_cast<const sockaddr_in *>(&in);
		return SocketAddress{IpAddress::v4(ntohl(sin->sin_addr.s_addr)), ntohs(sin->sin_port)};
	}
	if (in.ss_family == AF_INET6) {
		const auto *sin6 = reinterpret_cast<const sockaddr_in6 *>(&in);
		std::array<uint8_t, 16> b{};
		std::memcpy(b.data(), &sin6->sin6_addr, 16);
		return SocketAddress{IpAddress::v6(b), ntohs(sin6->sin6_port)};
	}
	return std::nullopt;
}

int set_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value));
}

} // namespace

struct UdpSocket::Scratch {
	/// Headers, buffers for addresses and control messages of one batch.
	/// Left uninitialised (60 KiB a socket that an idle server need not
	/// touch): receive() and prepare_send() set every field they hand the
	/// kernel.
	struct Headers {
		std::array<mmsghdr, kMaxBatch> msgs;
		std::array<iovec, kMaxBatch> iov;
		std::array<sockaddr_storage, kMaxBatch> addrs;
		alignas(cmsghdr) std::array<std::array<char, kControlLen>, kMaxBatch> control;
	};
	Headers rx;  ///< receive(): kept between calls
	Headers tx;  ///< prepare_send() and send_prepared()
	size_t tx_prepared = 0;                  ///< transmit headers prepare_send() set up
	const Datagram *tx_datagrams = nullptr;  ///< the datagrams they are for
	const Datagram *prepared_for = nullptr;  ///< the slots the receive headers point into
	size_t prepared_count = 0;
	size_t received_last = 0;                ///< headers the last recvmmsg filled
};

UdpSocket::UdpSocket(UniqueFd fd, IpAddress::Family family)
	: fd_(std::move(fd)), family_(family), scratch_(new Scratch)
{
}

// Defined here, where Scratch is complete.
UdpSocket::UdpSocket(UdpSocket &&other) noexcept = default;
UdpSocket &UdpSocket::operator=(UdpSocket &&other) noexcept = default;
UdpSocket::~UdpSocket() = default;

Result<UdpSocket> UdpSocket::open(const UdpOptions &o)
{
	bool v4 = o.family == IpAddress::Family::V4;
	// Flags set with fcntl() rather than in socket()'s type, as LD_PRELOAD
	// clock-and-network simulators (clknetsim) expect.
	int fd = socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0) {
		return fail_errno(v4 ? "socket(AF_INET)" : "socket(AF_INET6)");
	}
	UdpSocket sock(UniqueFd(fd), o.family);
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		return fail_errno("fcntl");
	}

	// IPv4 and IPv6 get separate sockets on the same port.
	if (!v4 && set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) != 0) {
		return fail_errno("setsockopt(IPV6_V6ONLY)");
	}
	// No SO_REUSEADDR: on UDP it would let a second daemon bind the same
	// port and silently take half the requests. Sharing is SO_REUSEPORT,
	// asked for explicitly.
	if (o.reuse_port && set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) != 0) {
		return fail_errno("setsockopt(SO_REUSEPORT)");
	}
	if (o.receive_buffer > 0 && set_int(fd, SOL_SOCKET, SO_RCVBUF, o.receive_buffer) != 0) {
		return fail_errno("setsockopt(SO_RCVBUF)");
	}
	if (!o.bind_device.empty() &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o.bind_device.c_str(),
		       static_cast<socklen_t>(o.bind_device.size() + 1)) != 0) {
		return fail_errno(fmt::format("setsockopt(SO_BINDTODEVICE) {}", o.bind_device));
	}
	if (o.dont_fragment && set_int(fd, v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_MTU_DISCOVER : IPV6_MTU_DISCOVER,
				       v4 ? IP_PMTUDISC_PROBE : IPV6_PMTUDISC_PROBE) != 0) {
		return fail_errno("setsockopt(MTU_DISCOVER)");
	}
	// Destination address of each request, to reply from it.
	if (set_int(fd, v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_PKTINFO : IPV6_RECVPKTINFO, 1) != 0) {
		return fail_errno("setsockopt(PKTINFO)");
	}
	// Kernel receive timestamps: SO_TIMESTAMPING, else SO_TIMESTAMPNS. With
	// transmit stamps too: only the stamp comes back (OPT_TSONLY), numbered
	// by send (OPT_ID).
	int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
	int tx_flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;
	if (o.tx_timestamps && set_int(fd, SOL_SOCKET, SO_TIMESTAMPING, flags | tx_flags) == 0) {
		sock.kernel_stamps_ = true;
		sock.tx_stamps_ = true;
	} else if (set_int(fd, SOL_SOCKET, SO_TIMESTAMPING, flags) == 0 ||
		   set_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1) == 0) {
		sock.kernel_stamps_ = true;
	}

	SocketAddress local{o.bind_address.value_or(v4 ? IpAddress::v4(0) : IpAddress::v6({})), o.port};
	if (local.ip.family() != o.family) {
		return fail(Errc::InvalidArgument,
			    fmt::format("bind address {} is of the other family", local.ip.to_string()));
	}
	sockaddr_storage sa{};
	socklen_t len = to_sockaddr(local, sa);
	if (bind(fd, reinterpret_cast<sockaddr *>(&sa), len) != 0) {
		// fmt rather than std::string operator+: g++ 12 at -O3 reports a
		// false -Wrestrict in the latter.
		return fail_errno(local.ip.is_v4()
					  ? fmt::format("bind {}:{}", local.ip.to_string(), local.port)
					  : fmt::format("bind [{}]:{}", local.ip.to_string(), local.port));
	}
	sock.bound_to_address_ = local.ip != (v4 ? IpAddress::v4(0) : IpAddress::v6({}));
	return sock;
}

Result<SocketAddress> UdpSocket::local_address() const
{
	sockaddr_storage sa{};
	socklen_t len = sizeof(sa);
	if (getsockname(fd_.get(), reinterpret_cast<sockaddr *>(&sa), &len) != 0) {
		return fail_errno("getsockname");
	}
	auto a = from_sockaddr(sa);
	if (!a) {
		return fail(Errc::Unsupported, "getsockname: unknown address family");
	}
	return *a;
}

Result<size_t> UdpSocket::receive(std::span<Datagram> slots)
{
	size_t n = std::min(slots.size(), kMaxBatch);
	Scratch &s = *scratch_;
	// The headers point at the same slots call after call (a DatagramBatch
	// is reused): set them up once, then reset only what the kernel changed.
	size_t reset = s.received_last;
	if (s.prepared_for != slots.data() || s.prepared_count != n) {
		for (size_t i = 0; i < n; i++) {
			s.rx.iov[i] = {slots[i].buffer.data(), slots[i].buffer.size()};
			msghdr &h = s.rx.msgs[i].msg_hdr;
			h = {};
			h.msg_name = &s.rx.addrs[i];
			h.msg_iov = &s.rx.iov[i];
			h.msg_iovlen = 1;
			h.msg_control = s.rx.control[i].data();
		}
		s.prepared_for = slots.data();
		s.prepared_count = n;
		reset = n;
	}
	for (size_t i = 0; i < reset; i++) {
		msghdr &h = s.rx.msgs[i].msg_hdr;
		h.msg_namelen = sizeof(s.rx.addrs[i]);
		h.msg_controllen = kControlLen;
		h.msg_flags = 0;
	}
	s.received_last = 0;
	int got = recvmmsg(fd_.get(), s.rx.msgs.data(), static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
	if (got < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			return size_t{0};
		}
		return fail_errno("recvmmsg");
	}
	s.received_last = static_cast<size_t>(got);
	// One daemon timestamp for the batch, used where the kernel gave none.
	timespec now{};
	clock_gettime(CLOCK_REALTIME, &now);
	size_t count = 0;
	for (size_t i = 0; i < static_cast<size_t>(got); i++) {
		msghdr &h = s.rx.msgs[i].msg_hdr;
		auto peer = from_sockaddr(s.rx.addrs[i]);
		if (!peer) {
			continue;
		}
		Datagram &d = slots[count++];
		d.length = std::min<size_t>(s.rx.msgs[i].msg_len, d.buffer.size());
		d.truncated = (h.msg_flags & MSG_TRUNC) != 0;
		d.peer = *peer;
		d.local.reset();
		d.ifindex = 0;
		d.rx_time = from_timespec(now);
		d.rx_source = RxStampSource::Daemon;
		for (cmsghdr *c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
				scm_timestamping ts{};
				std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
				if (ts.ts[0].tv_sec != 0 || ts.ts[0].tv_nsec != 0) {
					d.rx_time = from_timespec(ts.ts[0]);
					d.rx_source = RxStampSource::Kernel;
				}
			} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
				timespec ts{};
				std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
				d.rx_time = from_timespec(ts);
				d.rx_source = RxStampSource::Kernel;
			} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
				in_pktinfo pi{};
				std::memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				d.local = IpAddress::v4(ntohl(pi.ipi_addr.s_addr));
				d.ifindex = pi.ipi_ifindex;
			} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
				in6_pktinfo pi{};
				std::memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				std::array<uint8_t, 16> b{};
				std::memcpy(b.data(), &pi.ipi6_addr, 16);
				d.local = IpAddress::v6(b);
				d.ifindex = static_cast<int>(pi.ipi6_ifindex);
			}
		}
	}
	return count;
}

size_t UdpSocket::prepare_send(std::span<const Datagram> datagrams)
{
	size_t n = std::min(datagrams.size(), kMaxBatch);
	Scratch &s = *scratch_;
	for (size_t i = 0; i < n; i++) {
		const Datagram &d = datagrams[i];
		s.tx.iov[i] = {const_cast<std::byte *>(d.buffer.data()), d.length};
		msghdr &h = s.tx.msgs[i].msg_hdr;
		h = {};
		h.msg_name = &s.tx.addrs[i];
		h.msg_namelen = to_sockaddr(d.peer, s.tx.addrs[i]);
		h.msg_iov = &s.tx.iov[i];
		h.msg_iovlen = 1;
		if (!bound_to_address_ && d.local && d.local->family() == family_) {
			if (family_ == IpAddress::Family::V4) {
				in_pktinfo pi{};
				std::memcpy(&pi.ipi_spec_dst, d.local->bytes().data(), 4);
				set_only_cmsg(h, s.tx.control[i].data(), IPPROTO_IP, IP_PKTINFO, pi);
			} else {
				in6_pktinfo pi{};
				std::memcpy(&pi.ipi6_addr, d.local->bytes().data(), 16);
				set_only_cmsg(h, s.tx.control[i].data(), IPPROTO_IPV6, IPV6_PKTINFO, pi);
			}
		}
	}
	scratch_->tx_prepared = n;
	scratch_->tx_datagrams = datagrams.data();
	return n;
}

Result<size_t> UdpSocket::send_prepared(size_t first, size_t count)
{
	Scratch &s = *scratch_;
	if (first > s.tx_prepared || count > s.tx_prepared - first) {
		return fail(Errc::InvalidArgument, "send_prepared: not prepared");
	}
	for (size_t i = first; i < first + count; i++) {
		s.tx.iov[i].iov_len = s.tx_datagrams[i].length;  // as it is now
	}
	if (count <= 1 || !sendmmsg_works_) {
		return send_each(first, first + count);
	}
	int sent = sendmmsg(fd_.get(), &s.tx.msgs[first], static_cast<unsigned>(count), 0);
	if (sent >= 0) {
		return static_cast<size_t>(sent);
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		return size_t{0};
	}
	// sendmmsg() failed on the first datagram. If sendmsg() takes that one,
	// the call itself is what fails (an LD_PRELOAD simulator such as
	// clknetsim intercepts sendmsg() only, or a kernel without it): use
	// sendmsg() from now on rather than failing again at every batch.
	if (sendmsg(fd_.get(), &s.tx.msgs[first].msg_hdr, 0) < 0) {
		return fail_errno("sendmsg");  // the datagram: sendmsg() refuses it too
	}
	sendmmsg_works_ = false;
	auto rest = send_each(first + 1, first + count);
	return 1 + (rest ? *rest : 0);
}

Result<size_t> UdpSocket::send_each(size_t from, size_t to)
{
	Scratch &s = *scratch_;
	size_t sent = 0;
	std::optional<Error> first_error;
	for (size_t i = from; i < to; i++) {
		if (sendmsg(fd_.get(), &s.tx.msgs[i].msg_hdr, 0) >= 0) {
			sent++;
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			break;  // the socket's buffer is full: so are the next ones
		}
		if (errno != EINTR && !first_error) {
			first_error = Error{std::error_code(errno, std::generic_category()), "sendmsg"};
		}
		// Another destination may well be reachable: go on.
	}
	if (sent == 0 && first_error) {
		return tl::unexpected(*first_error);
	}
	return sent;
}

Result<> UdpSocket::send_to(std::span<const std::byte> data, const SocketAddress &to)
{
	sockaddr_storage sa{};
	socklen_t len = to_sockaddr(to, sa);
	if (sendto(fd_.get(), data.data(), data.size(), 0, reinterpret_cast<sockaddr *>(&sa), len) < 0) {
		return fail_errno(fmt::format("sendto {}", to.ip.to_string()));
	}
	return {};
}

Result<std::optional<TxTimestamp>> UdpSocket::read_tx_timestamp()
{
	alignas(cmsghdr) unsigned char control[256];
	unsigned char data[64];
	iovec iov{data, sizeof(data)};
	msghdr h = one_datagram_header(iov, control, sizeof(control));
	if (recvmsg(fd_.get(), &h, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			return std::optional<TxTimestamp>{};
		}
		return fail_errno("recvmsg(MSG_ERRQUEUE)");
	}
	std::optional<RealTime> at;
	std::optional<uint32_t> id;
	for (cmsghdr *c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
			scm_timestamping ts{};
			std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			if (ts.ts[0].tv_sec != 0 || ts.ts[0].tv_nsec != 0) {
				at = from_timespec(ts.ts[0]);
			}
		} else if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
			   (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
			sock_extended_err err{};
			std::memcpy(&err, CMSG_DATA(c), sizeof(err));
			if (err.ee_errno == ENOMSG && err.ee_origin == SO_EE_ORIGIN_TIMESTAMPING) {
				id = err.ee_data;
			}
		}
	}
	if (!at || !id) {
		return std::optional<TxTimestamp>{};  // another error report: nothing for us
	}
	return std::optional<TxTimestamp>{TxTimestamp{*id, *at}};
}

} // namespace strata::ntp
