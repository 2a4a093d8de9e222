// Real-kernel tests of ntp/udp_linux on the loopback interface.
#include "ntp/udp_linux.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

namespace {
/// Calls of sendmmsg() by the code under test, and whether it fails.
std::atomic<int> g_sendmmsg_calls{0};
std::atomic<bool> g_sendmmsg_fails{false};
} // namespace

/// The test binary's own sendmmsg(), which the linker prefers to libc's:
/// counts the calls and, on demand, fails as sendmmsg() does under
/// clknetsim (which intercepts sendmsg() but not sendmmsg(), so that the
/// real call sees one of its descriptors: EBADF); else the system call.
extern "C" int sendmmsg(int fd, struct mmsghdr *msgs, unsigned int n, int flags)
{
	g_sendmmsg_calls++;
	if (g_sendmmsg_fails) {
		errno = EBADF;
		return -1;
	}
	return static_cast<int>(::syscall(SYS_sendmmsg, fd, msgs, n, flags));
}

namespace strata::ntp {
namespace {

RealTime real_now()
{
	timespec ts{};
	clock_gettime(CLOCK_REALTIME, &ts);
	return RealTime::from_parts(ts.tv_sec, ts.tv_nsec);
}

std::vector<std::byte> bytes(const char *s)
{
	std::vector<std::byte> v(std::strlen(s));
	std::memcpy(v.data(), s, v.size());
	return v;
}

UdpSocket open_or_die(UdpOptions o)
{
	auto s = UdpSocket::open(o);
	EXPECT_TRUE(s) << s.error().message();
	return std::move(*s);
}

/// prepare_send() and send_prepared() of all of `datagrams` at once.
Result<size_t> send_all(UdpSocket &sock, std::span<const Datagram> datagrams)
{
	return sock.send_prepared(0, sock.prepare_send(datagrams));
}

/// Receives until `want` datagrams arrived or ~2 s passed (loopback delivers
/// at once; the bound only keeps a broken build from hanging).
size_t receive_n(UdpSocket &sock, std::span<Datagram> slots, size_t want)
{
	size_t got = 0;
	for (int tries = 0; got < want && tries < 2000; tries++) {
		auto r = sock.receive(slots.subspan(got));
		EXPECT_TRUE(r);
		got += r ? *r : 0;
		if (got < want) {
			timespec ms{0, 1'000'000};
			nanosleep(&ms, nullptr);
		}
	}
	return got;
}

/// The kernel turns receive timestamping on lazily (a deferred static key),
/// so the first datagrams after the first socket asks for it may arrive
/// unstamped. Exchanges probes until one is stamped (or gives up after ~1 s).
bool warm_up_timestamps(UdpSocket &server, UdpSocket &client)
{
	auto to = server.local_address();
	DatagramBatch<4, 64> batch;
	auto probe = bytes("warm-up");
	for (int i = 0; i < 1000; i++) {
		EXPECT_TRUE(client.send_to(probe, *to));
		if (receive_n(server, batch.slots(), 1) == 1 &&
		    batch.slots()[0].rx_source == RxStampSource::Kernel) {
			return true;
		}
	}
	return false;
}

TEST(UdpSocket, ReceivesWithKernelTimestampsAndDestinationAddress)
{
	auto server = open_or_die({.bind_address = IpAddress::v4(0x7f000001)});
	auto client = open_or_die({.bind_address = IpAddress::v4(0x7f000002)});
	ASSERT_TRUE(server.kernel_rx_timestamps());
	ASSERT_TRUE(warm_up_timestamps(server, client));
	auto server_addr = server.local_address();
	auto client_addr = client.local_address();
	ASSERT_TRUE(server_addr && client_addr);
	EXPECT_NE(server_addr->port, 0);

	RealTime before = real_now();
	for (const char *m : {"one", "two", "three"}) {
		auto payload = bytes(m);
		ASSERT_TRUE(client.send_to(payload, *server_addr));
	}
	DatagramBatch<8, 64> batch;
	ASSERT_EQ(receive_n(server, batch.slots(), 3), 3u);
	RealTime after = real_now();

	const char *expect[] = {"one", "two", "three"};
	for (size_t i = 0; i < 3; i++) {
		const Datagram &d = batch.slots()[i];
		EXPECT_EQ(d.length, std::strlen(expect[i]));
		EXPECT_EQ(std::memcmp(d.payload().data(), expect[i], d.length), 0);
		EXPECT_EQ(d.peer, *client_addr);
		ASSERT_TRUE(d.local);
		EXPECT_EQ(*d.local, IpAddress::v4(0x7f000001));
		EXPECT_GT(d.ifindex, 0);
		EXPECT_EQ(d.rx_source, RxStampSource::Kernel);
		EXPECT_GE(d.rx_time, before);
		EXPECT_LE(d.rx_time, after);
		EXPECT_FALSE(d.truncated);
	}
	// Nothing else is waiting.
	auto none = server.receive(batch.slots());
	ASSERT_TRUE(none);
	EXPECT_EQ(*none, 0u);
}

TEST(UdpSocket, TransmitTimestampsComeBackNumberedOnTheErrorQueue)
{
	auto server = open_or_die({.bind_address = IpAddress::v4(0x7f000001)});
	auto client = open_or_die({.bind_address = IpAddress::v4(0x7f000002), .tx_timestamps = true});
	ASSERT_TRUE(client.kernel_tx_timestamps());
	auto to = server.local_address();
	ASSERT_TRUE(to);
	std::vector<RealTime> sent;
	for (int i = 0; i < 3; i++) {
		auto payload = bytes("request");
		sent.push_back(real_now());
		ASSERT_TRUE(client.send_to(payload, *to));
	}
	RealTime after = real_now();
	std::vector<TxTimestamp> stamps;
	for (int tries = 0; stamps.size() < 3 && tries < 2000; tries++) {
		pollfd p{client.fd(), 0, 0};  // POLLERR is always reported
		::poll(&p, 1, 1);
		auto s = client.read_tx_timestamp();
		ASSERT_TRUE(s) << s.error().message();
		if (*s) {
			stamps.push_back(**s);
		}
	}
	ASSERT_EQ(stamps.size(), 3u);
	for (uint32_t i = 0; i < 3; i++) {
		EXPECT_EQ(stamps[i].id, i);
		EXPECT_GE(stamps[i].at, sent[i]);
		EXPECT_LE(stamps[i].at, after);
	}
	auto none = client.read_tx_timestamp();
	ASSERT_TRUE(none);
	EXPECT_FALSE(*none);
	// A socket that did not ask has none.
	auto plain = open_or_die({.bind_address = IpAddress::v4(0x7f000002)});
	EXPECT_FALSE(plain.kernel_tx_timestamps());
}

TEST(UdpSocket, RepliesLeaveFromTheRequestsDestinationAddress)
{
	// Bound to the wildcard, the server must still answer from 127.0.0.3,
	// the address the client sent to.
	auto server = open_or_die({});
	auto client = open_or_die({.bind_address = IpAddress::v4(0x7f000002)});
	uint16_t port = server.local_address()->port;
	auto payload = bytes("ping");
	ASSERT_TRUE(client.send_to(payload, {IpAddress::v4(0x7f000003), port}));

	DatagramBatch<4, 64> in;
	ASSERT_EQ(receive_n(server, in.slots(), 1), 1u);
	Datagram &req = in.slots()[0];
	ASSERT_EQ(req.local, IpAddress::v4(0x7f000003));

	DatagramBatch<4, 64> out;
	Datagram &reply = out.slots()[0];
	std::memcpy(reply.buffer.data(), "pong", 4);
	reply.length = 4;
	reply.peer = req.peer;
	reply.local = req.local;
	auto sent = send_all(server, out.first(1));
	ASSERT_TRUE(sent);
	EXPECT_EQ(*sent, 1u);

	DatagramBatch<4, 64> back;
	ASSERT_EQ(receive_n(client, back.slots(), 1), 1u);
	EXPECT_EQ(back.slots()[0].peer, (SocketAddress{IpAddress::v4(0x7f000003), port}));
	EXPECT_EQ(std::memcmp(back.slots()[0].payload().data(), "pong", 4), 0);
}

/// `n` datagrams "0", "1", … from `out` to `to`.
std::span<Datagram> numbered(DatagramBatch<8, 64> &out, size_t n, SocketAddress to)
{
	for (size_t i = 0; i < n; i++) {
		Datagram &d = out.slots()[i];
		d.buffer[0] = static_cast<std::byte>('0' + i);
		d.length = 1;
		d.peer = to;
		d.local.reset();
	}
	return out.first(n);
}

TEST(UdpSocket, OneDatagramGoesOutWithSendmsgABatchWithSendmmsg)
{
	auto server = open_or_die({.bind_address = IpAddress::v4(0x7f000001)});
	auto client = open_or_die({.bind_address = IpAddress::v4(0x7f000001)});
	DatagramBatch<8, 64> out;
	DatagramBatch<8, 64> in;
	int calls = g_sendmmsg_calls;
	auto sent = send_all(server, numbered(out, 1, *client.local_address()));
	ASSERT_TRUE(sent) << sent.error().message();
	EXPECT_EQ(*sent, 1u);
	EXPECT_EQ(g_sendmmsg_calls, calls);  // sendmsg(): what clknetsim intercepts
	EXPECT_EQ(receive_n(client, in.slots(), 1), 1u);
	sent = send_all(server, numbered(out, 3, *client.local_address()));
	ASSERT_TRUE(sent) << sent.error().message();
	EXPECT_EQ(*sent, 3u);
	EXPECT_EQ(g_sendmmsg_calls, calls + 1);  // the batched path
	EXPECT_EQ(receive_n(client, in.slots(), 3), 3u);
}

TEST(UdpSocket, SendmmsgFailingWhereSendmsgWorksIsNotTriedAgain)
{
	auto server = open_or_die({.bind_address = IpAddress::v4(0x7f000001)});
	auto client = open_or_die({.bind_address = IpAddress::v4(0x7f000001)});
	DatagramBatch<8, 64> out;
	DatagramBatch<8, 64> in;
	int calls = g_sendmmsg_calls;
	EXPECT_TRUE(server.sends_batches());
	g_sendmmsg_fails = true;
	auto sent = send_all(server, numbered(out, 3, *client.local_address()));
	ASSERT_TRUE(sent) << sent.error().message();
	EXPECT_EQ(*sent, 3u);
	EXPECT_EQ(g_sendmmsg_calls, calls + 1);
	EXPECT_FALSE(server.sends_batches());  // what the NTP server stamps by
	ASSERT_EQ(receive_n(client, in.slots(), 3), 3u);
	for (size_t i = 0; i < 3; i++) {
		EXPECT_EQ(in.slots()[i].payload()[0], static_cast<std::byte>('0' + i));  // in order
	}
	// Remembered: the next batch goes out datagram by datagram at once.
	sent = send_all(server, numbered(out, 4, *client.local_address()));
	ASSERT_TRUE(sent);
	EXPECT_EQ(*sent, 4u);
	EXPECT_EQ(g_sendmmsg_calls, calls + 1);
	EXPECT_EQ(receive_n(client, in.slots(), 4), 4u);
	// Per socket: a new one tries the batched call again.
	g_sendmmsg_fails = false;
	auto other = open_or_die({.bind_address = IpAddress::v4(0x7f000001)});
	sent = send_all(other, numbered(out, 2, *client.local_address()));
	ASSERT_TRUE(sent);
	EXPECT_EQ(g_sendmmsg_calls, calls + 2);
	EXPECT_EQ(receive_n(client, in.slots(), 2), 2u);
}

TEST(UdpSocket, ADatagramSendmsgRefusesTooIsAnErrorAndSendmmsgStays)
{
	auto server = open_or_die({.bind_address = IpAddress::v4(0x7f000001)});
	auto client = open_or_die({.bind_address = IpAddress::v4(0x7f000001)});
	DatagramBatch<8, 64> out;
	DatagramBatch<8, 64> in;
	auto batch = numbered(out, 2, *client.local_address());
	batch[0].peer.port = 0;  // the kernel refuses to send to port 0 (EINVAL)
	int calls = g_sendmmsg_calls;
	g_sendmmsg_fails = true;
	auto sent = send_all(server, batch);
	g_sendmmsg_fails = false;
	ASSERT_FALSE(sent);
	EXPECT_EQ(sent.error().context, "sendmsg");
	// The datagram was at fault, not the call: the next batch is batched.
	EXPECT_TRUE(server.sends_batches());
	sent = send_all(server, numbered(out, 2, *client.local_address()));
	ASSERT_TRUE(sent);
	EXPECT_EQ(*sent, 2u);
	EXPECT_EQ(g_sendmmsg_calls, calls + 2);
	EXPECT_EQ(receive_n(client, in.slots(), 2), 2u);
}

TEST(UdpSocket, PreparedDatagramsGoOutAsTheirBuffersAreAtTheirSend)
{
	// A wildcard server replying from 127.0.0.3: the source address is
	// part of what prepare_send() sets up.
	auto server = open_or_die({});
	auto client = open_or_die({.bind_address = IpAddress::v4(0x7f000002)});
	uint16_t port = server.local_address()->port;
	SocketAddress to = *client.local_address();
	DatagramBatch<8, 64> out;
	DatagramBatch<8, 64> in;
	auto batch = numbered(out, 4, to);
	for (auto &d : batch) {
		d.local = IpAddress::v4(0x7f000003);
	}
	batch[1].peer.port = 0;  // the kernel refuses to send to port 0 (EINVAL)
	int calls = g_sendmmsg_calls;
	ASSERT_EQ(server.prepare_send(batch), 4u);
	// Written after prepare_send(), longer than the datagram was then.
	std::memcpy(batch[0].buffer.data(), "late", 4);
	batch[0].length = 4;
	auto sent = server.send_prepared(0, 1);
	ASSERT_TRUE(sent) << sent.error().message();
	EXPECT_EQ(*sent, 1u);
	EXPECT_EQ(g_sendmmsg_calls, calls);  // one datagram: sendmsg()
	ASSERT_EQ(receive_n(client, in.slots(), 1), 1u);
	EXPECT_EQ(in.slots()[0].length, 4u);
	EXPECT_EQ(std::memcmp(in.slots()[0].payload().data(), "late", 4), 0);
	EXPECT_EQ(in.slots()[0].peer, (SocketAddress{IpAddress::v4(0x7f000003), port}));
	// A datagram's error is its own: the next ones still go, together.
	sent = server.send_prepared(1, 1);
	ASSERT_FALSE(sent);
	EXPECT_EQ(sent.error().context, "sendmsg");
	batch[2].buffer[1] = std::byte{'!'};
	batch[2].length = 2;
	batch[3].buffer[1] = std::byte{'?'};
	batch[3].length = 2;
	sent = server.send_prepared(2, 2);
	ASSERT_TRUE(sent) << sent.error().message();
	EXPECT_EQ(*sent, 2u);
	EXPECT_EQ(g_sendmmsg_calls, calls + 1);  // two: one sendmmsg()
	ASSERT_EQ(receive_n(client, in.slots(), 2), 2u);
	EXPECT_EQ(std::memcmp(in.slots()[0].payload().data(), "2!", 2), 0);
	EXPECT_EQ(std::memcmp(in.slots()[1].payload().data(), "3?", 2), 0);
	EXPECT_EQ(in.slots()[1].peer, (SocketAddress{IpAddress::v4(0x7f000003), port}));
	// Only what was prepared can be sent.
	EXPECT_FALSE(server.send_prepared(3, 2));
	EXPECT_FALSE(server.send_prepared(5, 0));
}

TEST(UdpSocket, RepliesGoOutWithDontFragmentWhenAsked)
{
	// IP_PMTUDISC_PROBE: Don't Fragment set, so that the kernel numbers
	// replies with IP ID 0 instead of drawing from its shared counters.
	for (bool df : {false, true}) {
		auto s = open_or_die({.dont_fragment = df});
		int mode = -1;
		socklen_t len = sizeof(mode);
		ASSERT_EQ(getsockopt(s.fd(), IPPROTO_IP, IP_MTU_DISCOVER, &mode, &len), 0);
		EXPECT_EQ(mode == IP_PMTUDISC_PROBE, df);
	}
	auto v6 = UdpSocket::open({.family = IpAddress::Family::V6, .dont_fragment = true});
	if (v6) {  // IPv6 may be off in this kernel
		int mode = -1;
		socklen_t len = sizeof(mode);
		ASSERT_EQ(getsockopt(v6->fd(), IPPROTO_IPV6, IPV6_MTU_DISCOVER, &mode, &len), 0);
		EXPECT_EQ(mode, IPV6_PMTUDISC_PROBE);
	}
}

TEST(UdpSocket, MarksTruncatedDatagrams)
{
	auto server = open_or_die({.bind_address = IpAddress::v4(0x7f000001)});
	auto client = open_or_die({.bind_address = IpAddress::v4(0x7f000001)});
	std::vector<std::byte> big(100, std::byte{0x5a});
	ASSERT_TRUE(client.send_to(big, *server.local_address()));
	DatagramBatch<2, 48> batch;
	ASSERT_EQ(receive_n(server, batch.slots(), 1), 1u);
	EXPECT_TRUE(batch.slots()[0].truncated);
	EXPECT_EQ(batch.slots()[0].length, 48u);
}

TEST(UdpSocket, ReusePortLetsWorkersShareAPort)
{
	auto a = open_or_die({.bind_address = IpAddress::v4(0x7f000001), .reuse_port = true});
	uint16_t port = a.local_address()->port;
	auto b = UdpSocket::open({.bind_address = IpAddress::v4(0x7f000001), .port = port, .reuse_port = true});
	EXPECT_TRUE(b) << b.error().message();
}

TEST(UdpSocket, ReportsBindErrors)
{
	auto a = open_or_die({.bind_address = IpAddress::v4(0x7f000001)});
	uint16_t port = a.local_address()->port;
	auto clash = UdpSocket::open({.bind_address = IpAddress::v4(0x7f000001), .port = port});
	ASSERT_FALSE(clash);
	EXPECT_EQ(clash.error().code, std::errc::address_in_use);
	EXPECT_NE(clash.error().message().find("bind 127.0.0.1:"), std::string::npos);

	auto nodev = UdpSocket::open({.bind_device = "strata-no-such-if"});
	ASSERT_FALSE(nodev);
	EXPECT_NE(nodev.error().message().find("SO_BINDTODEVICE"), std::string::npos);

	auto wrong = UdpSocket::open({.family = IpAddress::Family::V6, .bind_address = IpAddress::v4(0x7f000001)});
	ASSERT_FALSE(wrong);
}

TEST(UdpSocket, Ipv6Loopback)
{
	auto loop6 = IpAddress::parse("::1");
	auto server = UdpSocket::open({.family = IpAddress::Family::V6, .bind_address = loop6});
	if (!server) {
		GTEST_SKIP() << "no IPv6 loopback: " << server.error().message();
	}
	auto client = open_or_die({.family = IpAddress::Family::V6, .bind_address = loop6});
	ASSERT_TRUE(warm_up_timestamps(*server, client));
	auto payload = bytes("six");
	ASSERT_TRUE(client.send_to(payload, *server->local_address()));
	DatagramBatch<2, 64> batch;
	ASSERT_EQ(receive_n(*server, batch.slots(), 1), 1u);
	EXPECT_EQ(batch.slots()[0].local, loop6);
	EXPECT_EQ(batch.slots()[0].peer, *client.local_address());
	EXPECT_EQ(batch.slots()[0].rx_source, RxStampSource::Kernel);
}

} // namespace
} // namespace strata::ntp
