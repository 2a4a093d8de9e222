#include "daemon/process_linux.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace strata::daemon {

void StartupPipe::report(bool ok)
{
	if (fd_.valid()) {
		char status = ok ? '0' : '1';
		ssize_t ignored = ::write(fd_.get(), &status, 1);
		(void)ignored;
		fd_.reset();
	}
}

Result<UniqueFd> daemonize()
{
	int fds[2];
	if (::pipe(fds) != 0) {
		return fail_errno("pipe");
	}
	UniqueFd status_read(fds[0]);
	UniqueFd status_write(fds[1]);
	pid_t pid = ::fork();
	if (pid < 0) {
		return fail_errno("fork");
	}
	if (pid > 0) {
		status_write.reset();  // so that a child dying early reads as end of file
		char status = '1';
		ssize_t n = ::read(status_read.get(), &status, 1);
		::_exit(n == 1 && status == '0' ? 0 : 1);
	}
	status_read.reset();
	::setsid();
	if (::chdir("/") != 0) {
		return fail_errno("chdir /");
	}
	return status_write;
}

void detach_stdio()
{
	UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
	if (null.valid()) {
		::dup2(null.get(), 0);
		::dup2(null.get(), 1);
		::dup2(null.get(), 2);
		if (null.get() <= 2) {
			(void)null.release();  // it is one of the three now
		}
	}
}

void lock_memory(Logger &log)
{
	rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
	if (::setrlimit(RLIMIT_MEMLOCK, &unlimited) != 0) {
		log.warning("Could not raise the locked memory limit: {}", std::strerror(errno));
	}
	if (::mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
		log.warning("Could not lock memory: {}", std::strerror(errno));
	}
}

void set_fifo_priority(int priority, Logger &log)
{
	sched_param param{};
	param.sched_priority = priority;
	if (::sched_setscheduler(0, SCHED_FIFO, &param) != 0) {
		log.warning("Could not set SCHED_FIFO priority {}: {}", priority, std::strerror(errno));
	}
}

} // namespace strata::daemon
