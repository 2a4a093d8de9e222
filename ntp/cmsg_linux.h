// Message headers and control messages for one datagram: what the NTP
// socket (ntp/udp_linux.cpp) and the load tools (tools/ntpload.cpp,
// tools/udp_echo.cpp) set up for recvmsg()/sendmsg() and their batched
// forms.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstring>

namespace strata::ntp {

/// A header for one datagram in `iov`, with `control_len` bytes at `control`
/// (aligned for cmsghdr) for control messages.
inline msghdr one_datagram_header(iovec &iov, void *control, size_t control_len)
{
	msghdr h{};
	h.msg_iov = &iov;
	h.msg_iovlen = 1;
	h.msg_control = control;
	h.msg_controllen = control_len;
	return h;
}

/// Makes `h` carry one control message, `value` at (`level`, `type`), in
/// `control`: CMSG_SPACE(sizeof(T)) bytes or more, aligned for cmsghdr.
template <typename T>
void set_only_cmsg(msghdr &h, void *control, int level, int type, const T &value)
{
	h.msg_control = control;
	h.msg_controllen = CMSG_SPACE(sizeof(T));
	cmsghdr *c = CMSG_FIRSTHDR(&h);
	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(sizeof(T));
	std::memcpy(CMSG_DATA(c), &value, sizeof(T));
}

} // namespace strata::ntp
