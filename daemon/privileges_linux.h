// Least privilege, the system calls: the user stratad switches to (getpwnam),
// the directories made for that user, and the switch itself (setgroups,
// setgid, setuid with PR_SET_KEEPCAPS, then libcap's cap_set_proc to the
// capabilities daemon/privileges.h decides). The system call filter (-F)
// is daemon/syscall_filter_linux.h.
#pragma once

#include <sys/types.h>

#include <string>

#include "core/result.h"

namespace strata::daemon {

struct UserIds {
	std::string name;
	uid_t uid = 0;
	gid_t gid = 0;  ///< the user's primary group
};

/// The user's IDs from the system's user database (getpwnam_r). Errors:
/// Errc::NotFound with chronyd's line "Could not get user/group ID of NAME"
/// for a user that does not exist; the lookup's errno otherwise.
Result<UserIds> look_up_user(const std::string &name);

/// Whether the process should switch to `user`: it runs as root (euid 0)
/// and the user is not root (UID or GID other than 0), chronyd's rule.
bool should_switch_to(const UserIds &user);

/// Switches the whole process (every thread: glibc applies set*id to all)
/// to `user`: no supplementary groups, the user's group, the user's UID for
/// real, effective and saved IDs, so there is no way back to root. The
/// calling thread then has exactly `keep` (libcap text, e.g.
/// "cap_sys_time=ep"; "" for none) as permitted and effective capabilities,
/// nothing inheritable; other threads keep none. Returns the capabilities
/// the process has now, as libcap text, for the log. Errors: the failing
/// call's errno with its name in the context; the process must not go on
/// (it may be half switched).
Result<std::string> switch_to_user(const UserIds &user, const std::string &keep);

/// Whether `user` may write in directory `dir` and enter it, asked of the
/// kernel after the switch (access(2) with the real IDs, which are the
/// user's then). Returns the errno text when not, "" when it may.
std::string cannot_write_in(const std::string &dir);

} // namespace strata::daemon
