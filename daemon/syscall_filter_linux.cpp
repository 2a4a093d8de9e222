#include "daemon/syscall_filter_linux.h"

#include <fcntl.h>
#include <linux/gpio.h>
#include <linux/pps.h>
#include <linux/ptp_clock.h>
#include <linux/rtc.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace strata::daemon {

namespace {

/// Level 1: every system call stratad, glibc (its resolver too: files and
/// DNS; other NSS modules may need more), libcap, libgpiod, libnl,
/// libsystemd's sd_notify and libmicrohttpd make once the daemon runs. By
/// name, so that one list serves every architecture: a name the
/// architecture lacks (mmap2 on x86_64, newfstatat on armhf) is skipped.
/// socket, setsockopt, fcntl, ioctl, clone, tgkill and prlimit64 are
/// allowed further down, for some arguments only.
constexpr const char *kAllowed[] = {
	// Clocks and timers
	"adjtimex", "clock_adjtime", "clock_adjtime64", "clock_gettime", "clock_gettime64", "clock_getres",
	"clock_getres_time64", "clock_nanosleep", "clock_nanosleep_time64", "nanosleep", "gettimeofday", "time",
	// Process and threads
	"exit", "exit_group", "getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getuid32",
	"geteuid32", "getgid32", "getegid32", "getresuid", "getresgid", "getresuid32", "getresgid32", "getgroups",
	"getgroups32", "getrlimit", "ugetrlimit", "capget", "rseq", "set_tid_address", "set_robust_list",
	"get_robust_list", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigreturn", "sigaltstack",
	"restart_syscall", "futex", "futex_time64", "sched_yield", "sched_getaffinity", "membarrier", "getcpu",
	"uname", "sysinfo", "getrandom",
	// Memory (shm*: the SHM refclock re-attaches gpsd's segment)
	"brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "shmget", "shmat", "shmdt",
	// Files (drift, rtc, dumps, log files, sourcedir and keyfile reloads)
	"read", "write", "readv", "writev", "pread64", "pwrite64", "lseek", "_llseek", "open", "openat", "close",
	"fstat", "fstat64", "stat", "stat64", "lstat", "lstat64", "newfstatat", "fstatat64", "statx", "access",
	"faccessat", "faccessat2", "rename", "renameat", "renameat2", "unlink", "unlinkat", "mkdir", "mkdirat",
	"fsync", "fdatasync", "fchmod", "getdents", "getdents64", "readlink", "readlinkat", "statfs", "statfs64",
	"fstatfs", "fstatfs64", "pipe", "pipe2", "eventfd2", "dup", "dup2", "dup3",
	// Waiting (poll for the loop; epoll inside libmicrohttpd)
	"poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64", "epoll_create1",
	"epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
	// Sockets (socket() and setsockopt() by argument, below)
	"bind", "connect", "listen", "accept", "accept4", "getsockname", "getpeername", "getsockopt", "recv",
	"recvfrom", "recvmsg", "recvmmsg", "recvmmsg_time64", "send", "sendto", "sendmsg", "sendmmsg", "shutdown",
};

/// Level 2: what a compromised time daemon would want and stratad never
/// does once it runs (chronyd's list, and ptrace's sibling calls).
constexpr const char *kDenied[] = {"execve", "execveat", "fork", "vfork", "ptrace", "process_vm_readv",
				   "process_vm_writev"};

constexpr int kSocketDomains[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};

/// (level, option) pairs: stratad's sockets (NTP, command, metrics, SOCK
/// refclock), glibc's resolver (IP_RECVERR) and libmicrohttpd.
constexpr std::pair<int, int> kSocketOptions[] = {
	{SOL_SOCKET, SO_REUSEADDR},
	{SOL_SOCKET, SO_REUSEPORT},
	{SOL_SOCKET, SO_RCVBUF},
	{SOL_SOCKET, SO_SNDBUF},
	{SOL_SOCKET, SO_SNDBUFFORCE},  // sd_notify tries it (EPERM without CAP_NET_ADMIN)
	{SOL_SOCKET, SO_BINDTODEVICE},
	{SOL_SOCKET, SO_BROADCAST},
	{SOL_SOCKET, SO_PASSCRED},
	{SOL_SOCKET, SO_KEEPALIVE},
	{SOL_SOCKET, SO_LINGER},
	{SOL_SOCKET, SO_SELECT_ERR_QUEUE},
	{SOL_SOCKET, SO_TIMESTAMP_OLD},
	{SOL_SOCKET, SO_TIMESTAMPNS_OLD},
	{SOL_SOCKET, SO_TIMESTAMPING_OLD},
	{SOL_SOCKET, SO_TIMESTAMP_NEW},
	{SOL_SOCKET, SO_TIMESTAMPNS_NEW},
	{SOL_SOCKET, SO_TIMESTAMPING_NEW},
	{IPPROTO_IP, IP_PKTINFO},
	{IPPROTO_IP, IP_TOS},
	{IPPROTO_IP, IP_FREEBIND},
	{IPPROTO_IP, IP_RECVERR},
	{IPPROTO_IP, IP_MTU_DISCOVER},
	{IPPROTO_IPV6, IPV6_V6ONLY},
	{IPPROTO_IPV6, IPV6_RECVPKTINFO},
	{IPPROTO_IPV6, IPV6_TCLASS},
	{IPPROTO_IPV6, IPV6_RECVERR},
	{IPPROTO_IPV6, IPV6_MTU_DISCOVER},
	{IPPROTO_TCP, TCP_NODELAY},
	{IPPROTO_TCP, TCP_CORK},
};

constexpr int kFcntls[] = {F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC};

/// The ioctls of the devices stratad reads after start-up: PPS (a device
/// reopened), PHCs, the RTC, GPIO lines (requested again after an error),
/// a PHC found by interface (SIOCETHTOOL); FIONREAD and TCGETS for stdio.
constexpr unsigned long kIoctls[] = {
	FIONREAD, TCGETS,
	PPS_GETCAP, PPS_GETPARAMS, PPS_SETPARAMS, PPS_FETCH,
	PTP_CLOCK_GETCAPS, PTP_SYS_OFFSET, PTP_SYS_OFFSET_EXTENDED, PTP_SYS_OFFSET_PRECISE, PTP_EXTTS_REQUEST,
	PTP_PIN_SETFUNC,
	RTC_RD_TIME, RTC_SET_TIME, RTC_UIE_ON, RTC_UIE_OFF,
	GPIO_GET_CHIPINFO_IOCTL, GPIO_GET_LINEINFO_IOCTL, GPIO_GET_LINEEVENT_IOCTL, GPIO_GET_LINEHANDLE_IOCTL,
	GPIOHANDLE_GET_LINE_VALUES_IOCTL, GPIO_V2_GET_LINEINFO_IOCTL, GPIO_V2_GET_LINE_IOCTL,
	GPIO_V2_LINE_GET_VALUES_IOCTL,
	SIOCETHTOOL,
};

struct ReleaseFilter {
	void operator()(void *ctx) const { seccomp_release(ctx); }
};
using FilterContext = std::unique_ptr<void, ReleaseFilter>;

/// -1/-2: the call's number on stderr, then death by the SIGSYS it raised.
/// Only async-signal-safe calls, all of them on the allow-list.
void on_sigsys(int, siginfo_t *info, void *)
{
	char text[96] = "stratad: system call ";
	size_t n = 21;
	char digits[16];
	size_t d = 0;
	auto nr = static_cast<unsigned>(info->si_syscall);
	do {
		digits[d++] = static_cast<char>('0' + nr % 10);
		nr /= 10;
	} while (nr != 0 && d < sizeof(digits));
	while (d > 0) {
		text[n++] = digits[--d];
	}
	const char tail[] = " refused by the -F filter\n";
	for (char c : tail) {
		if (c != '\0') {
			text[n++] = c;
		}
	}
	ssize_t ignored = ::write(STDERR_FILENO, text, n);
	(void)ignored;
	::signal(SIGSYS, SIG_DFL);
	::raise(SIGSYS);  // delivered when this handler returns
}

/// Adds one rule; names the architecture lacks are skipped.
Result<> add(scmp_filter_ctx ctx, uint32_t action, const char *name, std::initializer_list<scmp_arg_cmp> args = {})
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR || nr < 0) {
		return {};
	}
	int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(args.size()), args.begin());
	if (rc < 0) {
		return fail_errno(fmt::format("seccomp_rule_add({})", name), -rc);
	}
	return {};
}

Result<> allow_list(scmp_filter_ctx ctx)
{
	for (const char *name : kAllowed) {
		if (auto r = add(ctx, SCMP_ACT_ALLOW, name); !r) {
			return r;
		}
	}
	// Arguments compared as 32 bits (masked): int arguments reach the
	// kernel sign- or zero-extended depending on the caller.
	auto is = [](unsigned arg, uint64_t value) {
		return scmp_arg_cmp{arg, SCMP_CMP_MASKED_EQ, 0xffffffffu, value & 0xffffffffu};
	};
	for (int domain : kSocketDomains) {
		if (auto r = add(ctx, SCMP_ACT_ALLOW, "socket", {is(0, static_cast<uint64_t>(domain))}); !r) {
			return r;
		}
	}
	for (auto [level, option] : kSocketOptions) {
		if (auto r = add(ctx, SCMP_ACT_ALLOW, "setsockopt",
				 {is(1, static_cast<uint64_t>(level)), is(2, static_cast<uint64_t>(option))});
		    !r) {
			return r;
		}
	}
	for (int cmd : kFcntls) {
		for (const char *name : {"fcntl", "fcntl64"}) {
			if (auto r = add(ctx, SCMP_ACT_ALLOW, name, {is(1, static_cast<uint64_t>(cmd))}); !r) {
				return r;
			}
		}
	}
	for (unsigned long request : kIoctls) {
		if (auto r = add(ctx, SCMP_ACT_ALLOW, "ioctl", {is(1, request)}); !r) {
			return r;
		}
	}
	// Threads only (the resolver's): a clone without CLONE_THREAD is a new
	// process. clone3 passes its flags in memory, which a filter cannot
	// read: it fails with ENOSYS, and glibc falls back to clone.
	if (auto r = add(ctx, SCMP_ACT_ALLOW, "clone", {{0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD}}); !r) {
		return r;
	}
	if (auto r = add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3"); !r) {
		return r;
	}
	// Signals to this process only (raise, abort); rlimits read, never set.
	auto pid = static_cast<uint64_t>(::getpid());
	if (auto r = add(ctx, SCMP_ACT_ALLOW, "tgkill", {is(0, pid)}); !r) {
		return r;
	}
	return add(ctx, SCMP_ACT_ALLOW, "prlimit64", {{0, SCMP_CMP_EQ, 0, 0}, {2, SCMP_CMP_EQ, 0, 0}});
}

Result<> deny_list(scmp_filter_ctx ctx, uint32_t deny)
{
	for (const char *name : kDenied) {
		if (auto r = add(ctx, deny, name); !r) {
			return r;
		}
	}
	if (auto r = add(ctx, deny, "clone", {{0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0}}); !r) {
		return r;
	}
	return add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3");
}

} // namespace

Result<> install_syscall_filter(int level)
{
	if (level == 0) {
		return {};
	}
	if (level < -2 || level > 2) {
		return fail(Errc::InvalidArgument, fmt::format("Unsupported system call filter level {}", level));
	}
	// Kill the whole process, not the one thread that made the call: a
	// daemon with a dead worker must not look alive.
	uint32_t deny = level > 0 ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_TRAP;
	bool allow_only = level == 1 || level == -1;
	FilterContext ctx(seccomp_init(allow_only ? deny : SCMP_ACT_ALLOW));
	if (!ctx) {
		return fail(Errc::Unsupported, "seccomp_init failed");
	}
	// Every thread already running (the NTP server's workers, the log
	// files' writer) gets the filter too.
	if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1); rc < 0) {
		return fail_errno("seccomp_attr_set(TSYNC)", -rc);
	}
	if (auto r = allow_only ? allow_list(ctx.get()) : deny_list(ctx.get(), deny); !r) {
		return r;
	}
	if (level < 0) {
		struct sigaction action {};
		action.sa_sigaction = on_sigsys;
		action.sa_flags = SA_SIGINFO;
		if (::sigaction(SIGSYS, &action, nullptr) != 0) {
			return fail_errno("sigaction(SIGSYS)");
		}
	}
	if (int rc = seccomp_load(ctx.get()); rc < 0) {
		return fail_errno("seccomp_load", -rc);
	}
	return {};
}

} // namespace strata::daemon
