// -F LEVEL: a seccomp system call filter (libseccomp), chronyd's levels and
// meanings (chronyd(8)):
//   0   no filter;
//   1   only the system calls stratad makes are allowed (an allow-list, with
//       the arguments of socket, setsockopt, fcntl, ioctl, clone, tgkill and
//       prlimit64 checked too); any other kills the process;
//   2   a few calls are refused (exec, fork and clone of a new process,
//       ptrace, process_vm_*); everything else is allowed; a refused one kills
//       the process;
//  -1, -2  the same filters, but a refused call raises SIGSYS, whose handler
//       writes the call's number to stderr before the process dies of it
//       (for finding what a level-1 list lacks).
// The filter is installed once everything is open and the user switched,
// on every thread of the process (and those started later: the resolver's);
// it cannot be removed. Debian's /etc/default/chrony passes -F 1.
#pragma once

#include "core/result.h"

namespace strata::daemon {

/// Installs the filter of `level` (-2..2; 0 does nothing). Errors:
/// Errc::InvalidArgument for another level; the libseccomp call that failed
/// (with its errno). The process should not go on without the filter it was
/// asked for.
Result<> install_syscall_filter(int level);

} // namespace strata::daemon
