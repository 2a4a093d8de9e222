// The -F filter against the real kernel: each case forks a child that
// installs a level, makes one kind of system call and exits; the parent
// sees whether the kernel let it through, killed the child with SIGSYS
// (levels 1 and 2), or trapped it (levels -1, -2). Nothing here touches the
// clock or the network.
#include "daemon/syscall_filter_linux.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <functional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace strata::daemon {
namespace {

struct Outcome {
	bool exited = false;
	int code = -1;      ///< exit status, when exited
	int signal = 0;     ///< the signal that ended it, when not
	std::string stderr_text;
};

/// The child installs `level`, then returns probe()'s value as its exit
/// status (100: the filter could not be installed). _exit: nothing else
/// runs after the probe.
Outcome run_filtered(int level, const std::function<int()> &probe)
{
	int fds[2];
	EXPECT_EQ(::pipe(fds), 0);
	pid_t pid = ::fork();
	if (pid == 0) {
		::close(fds[0]);
		::dup2(fds[1], STDERR_FILENO);
		if (!install_syscall_filter(level)) {
			::_exit(100);
		}
		::_exit(probe());
	}
	::close(fds[1]);
	Outcome o;
	char buffer[256];
	ssize_t n;
	while ((n = ::read(fds[0], buffer, sizeof(buffer))) > 0) {
		o.stderr_text.append(buffer, static_cast<size_t>(n));
	}
	::close(fds[0]);
	int status = 0;
	EXPECT_EQ(::waitpid(pid, &status, 0), pid);
	o.exited = WIFEXITED(status);
	o.code = o.exited ? WEXITSTATUS(status) : -1;
	o.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	return o;
}

void expect_allowed(int level, const std::function<int()> &probe, const char *what)
{
	Outcome o = run_filtered(level, probe);
	EXPECT_TRUE(o.exited && o.code == 0) << what << " at level " << level << ": exit " << o.code << ", signal "
					     << o.signal << " " << o.stderr_text;
}

void expect_killed(int level, const std::function<int()> &probe, const char *what)
{
	Outcome o = run_filtered(level, probe);
	EXPECT_FALSE(o.exited) << what << " at level " << level << " exited " << o.code;
	EXPECT_EQ(o.signal, SIGSYS) << what << " at level " << level;
}

int raw_socket(int domain)
{
	long fd = ::syscall(SYS_socket, domain, SOCK_DGRAM, 0);
	return fd >= 0 || errno != 0 ? 0 : 1;
}

TEST(SyscallFilter, OtherLevelsAreRefused)
{
	for (int level : {3, -3, 42}) {
		auto r = install_syscall_filter(level);
		ASSERT_FALSE(r);
		EXPECT_EQ(r.error().message(), "Unsupported system call filter level " + std::to_string(level) +
						       ": invalid argument");
	}
	EXPECT_TRUE(install_syscall_filter(0));  // nothing installed
}

TEST(SyscallFilter, LevelOneAllowsWhatStratadDoes)
{
	expect_allowed(
		1,
		[] {
			timespec ts{};
			if (::clock_gettime(CLOCK_REALTIME, &ts) != 0 || ::getpid() <= 0) {
				return 1;
			}
			int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
			int one = 1;
			if (fd < 0 || ::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) != 0 ||
			    ::fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
				return 2;
			}
			int pending = 0;
			if (::ioctl(fd, FIONREAD, &pending) != 0) {
				return 3;
			}
			::close(fd);
			int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
			if (null < 0 || ::write(null, "x", 1) != 1) {
				return 4;
			}
			::close(null);
			// A thread: clone3 fails with ENOSYS, glibc falls back to
			// clone with CLONE_THREAD, which is allowed.
			int ran = 0;
			std::thread t([&ran] { ran = 1; });
			t.join();
			rlimit limit{};
			return ran == 1 && ::getrlimit(RLIMIT_NOFILE, &limit) == 0 ? 0 : 5;
		},
		"clocks, a UDP socket, fcntl, FIONREAD, a file, a thread");
}

TEST(SyscallFilter, LevelOneKillsTheRest)
{
	expect_killed(1, [] { return raw_socket(AF_PACKET); }, "socket(AF_PACKET)");
	expect_killed(
		1,
		[] {
			int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
			int one = 1;
			return ::setsockopt(fd, SOL_SOCKET, SO_DEBUG, &one, sizeof(one));
		},
		"setsockopt(SO_DEBUG)");
	expect_killed(1, [] { return ::ioctl(STDIN_FILENO, FIOCLEX); }, "ioctl(FIOCLEX)");
	expect_killed(1, [] { return static_cast<int>(::fork()); }, "fork");
	expect_killed(
		1,
		[] {
			char *argv[] = {nullptr};
			return ::execve("/bin/true", argv, argv);
		},
		"execve");
	expect_killed(
		1,
		[] {
			sched_param p{};
			return ::sched_setscheduler(0, SCHED_OTHER, &p);
		},
		"sched_setscheduler");
	expect_killed(
		1,
		[] {
			rlimit limit{1024, 1024};
			return ::setrlimit(RLIMIT_NOFILE, &limit);
		},
		"setrlimit");
	expect_killed(1, [] { return static_cast<int>(::syscall(SYS_tgkill, ::getppid(), ::getppid(), 0)); },
		      "tgkill of another process");
	expect_killed(1, [] { return static_cast<int>(::syscall(SYS_clock_settime, CLOCK_REALTIME, nullptr)); },
		      "clock_settime");
}

TEST(SyscallFilter, LevelTwoRefusesProcessesOnly)
{
	expect_allowed(
		2,
		[] {
			sched_param p{};
			return ::sched_setscheduler(0, SCHED_OTHER, &p);
		},
		"sched_setscheduler");
	expect_killed(2, [] { return static_cast<int>(::fork()); }, "fork");
	expect_killed(
		2,
		[] {
			char *argv[] = {nullptr};
			return ::execve("/bin/true", argv, argv);
		},
		"execve");
	expect_killed(2, [] { return static_cast<int>(::syscall(SYS_ptrace, 0, 0, 0, 0)); }, "ptrace");
}

TEST(SyscallFilter, Clone3FailsWithEnosysSoThatGlibcUsesClone)
{
	for (int level : {1, 2}) {
		expect_allowed(
			level,
			[] { return ::syscall(SYS_clone3, nullptr, 0) == -1 && errno == ENOSYS ? 0 : 1; },
			"clone3");
	}
}

TEST(SyscallFilter, NegativeLevelsTrapAndSayWhichCall)
{
	Outcome o = run_filtered(-1, [] { return raw_socket(AF_PACKET); });
	EXPECT_FALSE(o.exited);
	EXPECT_EQ(o.signal, SIGSYS);
	EXPECT_EQ(o.stderr_text, "stratad: system call " + std::to_string(SYS_socket) + " refused by the -F filter\n");
	o = run_filtered(-2, [] { return static_cast<int>(::syscall(SYS_ptrace, 0, 0, 0, 0)); });
	EXPECT_EQ(o.signal, SIGSYS);
	EXPECT_EQ(o.stderr_text, "stratad: system call " + std::to_string(SYS_ptrace) + " refused by the -F filter\n");
}

} // namespace
} // namespace strata::daemon
