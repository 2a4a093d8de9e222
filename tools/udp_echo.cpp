// udp_echo: the kernel's floor for any UDP responder. Receives datagrams in
// batches with recvmmsg and sends each back unchanged to its sender with
// sendmmsg, doing no other work. docs/benchmarks.md compares NTP servers'
// CPU time per response with this program's. Binds to loopback only.
//
// With --ntp-metadata it also asks the kernel for what any NTP server needs
// of each request and reply, and nothing more: a software receive timestamp
// (SO_TIMESTAMPING) and the destination address (IP_PKTINFO) of each request,
// the reply sent from that address (IP_PKTINFO on sendmmsg). That is the
// floor for an NTP responder that answers from a wildcard socket.
#include <arpa/inet.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ntp/cmsg_linux.h"

namespace {

volatile sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

constexpr unsigned kBatch = 64;

/// Replaces the received control messages of `h` with one IP_PKTINFO that
/// sends the reply from the request's destination address.
void reply_from_destination(msghdr &h)
{
	in_pktinfo received{};
	for (cmsghdr *c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			std::memcpy(&received, CMSG_DATA(c), sizeof(received));
		}
	}
	in_pktinfo send{};
	send.ipi_spec_dst = received.ipi_addr;
	strata::ntp::set_only_cmsg(h, h.msg_control, IPPROTO_IP, IP_PKTINFO, send);
}

} // namespace

int main(int argc, char **argv)
{
	const char *address = "127.0.0.1";
	long port = 0;
	bool metadata = false;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		if (a == "--ntp-metadata") {
			metadata = true;
		} else if (a == "--port" && i + 1 < argc) {
			port = std::strtol(argv[++i], nullptr, 10);
		} else if (a == "--address" && i + 1 < argc) {
			address = argv[++i];
		} else {
			port = 0;  // unknown argument: usage
			break;
		}
	}
	in_addr addr{};
	if (port < 1 || port > 65535 || inet_pton(AF_INET, address, &addr) != 1 ||
	    (ntohl(addr.s_addr) >> 24) != 127) {
		std::fprintf(stderr, "usage: udp_echo --port P [--address 127.A.B.C] [--ntp-metadata]\n");
		return 2;
	}

	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int size = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	sockaddr_in local{};
	local.sin_family = AF_INET;
	local.sin_addr = addr;
	local.sin_port = htons(static_cast<uint16_t>(port));
	if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&local), sizeof(local)) != 0) {
		std::fprintf(stderr, "udp_echo: bind %s:%ld: %s\n", address, port, std::strerror(errno));
		return 1;
	}

	if (metadata) {
		int stamping = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
		int one = 1;
		if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &stamping, sizeof(stamping)) != 0 ||
		    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) != 0) {
			std::fprintf(stderr, "udp_echo: setsockopt: %s\n", std::strerror(errno));
			return 1;
		}
	}

	struct sigaction sa {};
	sa.sa_handler = on_signal;  // no SA_RESTART: poll() returns EINTR
	sigaction(SIGTERM, &sa, nullptr);
	sigaction(SIGINT, &sa, nullptr);

	static unsigned char bufs[kBatch][2048];
	static sockaddr_in peers[kBatch];
	static iovec iov[kBatch];
	static mmsghdr msgs[kBatch];
	alignas(cmsghdr) static unsigned char control[kBatch][256];
	pollfd pfd{fd, POLLIN, 0};
	while (!g_stop) {
		if (poll(&pfd, 1, -1) < 0) {
			continue;
		}
		for (unsigned k = 0; k < kBatch; k++) {
			iov[k] = {bufs[k], sizeof(bufs[k])};
			msgs[k] = {};
			msgs[k].msg_hdr.msg_name = &peers[k];
			msgs[k].msg_hdr.msg_namelen = sizeof(peers[k]);
			msgs[k].msg_hdr.msg_iov = &iov[k];
			msgs[k].msg_hdr.msg_iovlen = 1;
			if (metadata) {
				msgs[k].msg_hdr.msg_control = control[k];
				msgs[k].msg_hdr.msg_controllen = sizeof(control[k]);
			}
		}
		int n = recvmmsg(fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
		if (n <= 0) {
			continue;
		}
		for (int k = 0; k < n; k++) {
			iov[k].iov_len = msgs[k].msg_len;  // send back what came in
			if (metadata) {
				reply_from_destination(msgs[k].msg_hdr);
			}
		}
		sendmmsg(fd, msgs, static_cast<unsigned>(n), 0);
	}
	close(fd);
	return 0;
}
