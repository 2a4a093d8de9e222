// The process as chronyd sets it up: daemon mode (a fork whose parent waits
// for the child's start-up status and exits with it), stdio detached, memory
// locked (-m, lock_all), SCHED_FIFO priority (-P, sched_priority).
#pragma once

#include "core/log.h"
#include "core/result.h"
#include "core/unique_fd.h"

namespace strata::daemon {

/// Writes the start-up status to the waiting parent (daemon mode).
class StartupPipe {
public:
	void set(UniqueFd fd) { fd_ = std::move(fd); }
	/// Once: '0' when started, '1' when not; the parent exits with it.
	void report(bool ok);

private:
	UniqueFd fd_;
};

/// Forks; the parent waits for the child's start-up status and exits with it.
/// Returns in the child only: the pipe's end to report the status on.
Result<UniqueFd> daemonize();

/// stdin, stdout and stderr to /dev/null (daemon mode, once started).
void detach_stdio();

/// mlockall(MCL_CURRENT | MCL_FUTURE), after raising RLIMIT_MEMLOCK to
/// unlimited, so that memory locked later (MCL_FUTURE) needs no
/// CAP_IPC_LOCK once the user is switched (chronyd does the same). Failures
/// are logged as warnings: the daemon runs on unlocked.
void lock_memory(Logger &log);

/// SCHED_FIFO at `priority` (1..99); a failure is logged as a warning.
void set_fifo_priority(int priority, Logger &log);

} // namespace strata::daemon
