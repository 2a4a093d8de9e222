// udp_echo: the kernel's floor for any UDP responder. Receives datagrams in
// batches with recvmmsg and sends each back unchanged to its sender with
// sendmmsg, doing no other work. docs/benchmarks.md compares NTP servers'
// CPU time per response with this program's. Binds to loopback only.
#include <arpa/inet.h>
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

namespace {

volatile sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

constexpr unsigned kBatch = 64;

} // namespace

int main(int argc, char **argv)
{
	const char *address = "127.0.0.1";
	long port = 0;
	for (int i = 1; i + 1 < argc; i += 2) {
		std::string a = argv[i];
		if (a == "--port") {
			port = std::strtol(argv[i + 1], nullptr, 10);
		} else if (a == "--address") {
			address = argv[i + 1];
		}
	}
	in_addr addr{};
	if (port < 1 || port > 65535 || inet_pton(AF_INET, address, &addr) != 1 ||
	    (ntohl(addr.s_addr) >> 24) != 127) {
		std::fprintf(stderr, "usage: udp_echo --port P [--address 127.A.B.C]\n");
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

	struct sigaction sa {};
	sa.sa_handler = on_signal;  // no SA_RESTART: poll() returns EINTR
	sigaction(SIGTERM, &sa, nullptr);
	sigaction(SIGINT, &sa, nullptr);

	static unsigned char bufs[kBatch][2048];
	static sockaddr_in peers[kBatch];
	static iovec iov[kBatch];
	static mmsghdr msgs[kBatch];
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
		}
		int n = recvmmsg(fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
		if (n <= 0) {
			continue;
		}
		for (int k = 0; k < n; k++) {
			iov[k].iov_len = msgs[k].msg_len;  // send back what came in
		}
		sendmmsg(fd, msgs, static_cast<unsigned>(n), 0);
	}
	close(fd);
	return 0;
}
