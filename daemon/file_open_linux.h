// Opening the files the daemon writes (pid file, log files, drift and other
// state files) without following a symbolic link planted in their place and
// without writing through anything that is not a regular file: a daemon
// that runs as root must not be the tool that overwrites /etc/shadow.
#pragma once

#include <sys/types.h>

#include <string>

#include "core/result.h"
#include "core/unique_fd.h"

namespace strata::daemon {

/// open(2) of `path` with `flags` | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
/// O_NONBLOCK (`mode` when O_CREAT creates it), then refused unless it is a
/// regular file. The error names the path, with "(a symbolic link: not
/// followed)" for a link and "(not a regular file)" for a FIFO, device or
/// directory.
Result<UniqueFd> open_regular(const std::string &path, int flags, mode_t mode = 0644);

/// chronyd's UTI_CreateDirAndParents: every missing component of `dir` is
/// created, parents with mode 0755 (owned by the process), `dir` itself with
/// `mode` whatever the umask, owned by `uid`:`gid` (the daemon's user, who
/// writes there after the switch; it is removed again when it cannot be
/// given to them). Each component is stat()ed before anything is created,
/// so that LD_PRELOAD simulators work (clknetsim answers stat() of its
/// virtual /clknetsim/unix and creates nothing). An existing directory is
/// never changed; a component that is not a directory is an error. The
/// error's context is the whole log line ("Could not create directory /x:
/// Permission denied", "/x is not a directory").
Result<> create_directories(const std::string &dir, mode_t mode, uid_t uid, gid_t gid);

} // namespace strata::daemon
