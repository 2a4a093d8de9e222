// Least privilege, the decisions: which user stratad runs as once it has
// opened what needs root, which capabilities it keeps, which directories it
// makes for that user and which ones that user must be able to write in.
// Pure: daemon/privileges_linux.h carries the decisions out (setuid,
// libcap, mkdir/chown), main() calls both.
//
// The order is chronyd's (its main.c): the daemon starts as root, creates
// the directories it writes (logdir, dumpdir, the command socket's) owned by
// the user, opens the NTP and command ports (< 1024), reference clock
// devices, PHCs, the RTC, the pid file and the log file, then switches to
// the user and keeps only CAP_SYS_TIME; files it creates afterwards (drift,
// rtc, dumps, log files) belong to the user.
#pragma once

#include <string>
#include <vector>

#include "conf/config.h"

namespace strata::daemon {

/// The user to switch to: -u (`option_user`) overrides the `user`
/// directive; with neither, "root": no switch (chronyd's default when built
/// with root as its default user).
std::string target_user(const std::string &option_user, const std::string &config_user);

/// The capabilities stratad keeps after the switch, as libcap's text
/// ("cap_sys_time=ep"; "" for none).
///
/// CAP_SYS_TIME when stratad steers the system clock (`steering`: not -x,
/// not -Q, and the kernel allowed a change at start): adjtimex and
/// clock_adjtime with modes set, and RTC_SET_TIME of rtcautotrim, need it.
/// Nothing else is kept, and that is the whole documented set:
/// - no CAP_NET_BIND_SERVICE: every socket bound to a fixed port (the NTP
///   port, cmdport, the metrics port) is opened at start, before the
///   switch, and stratad never binds one later (client sockets take
///   ephemeral ports; `acquisitionport` is not supported yet);
/// - no CAP_NET_RAW (chronyd keeps it for SO_BINDTODEVICE on kernels before
///   5.7): binddevice sockets are bound at start too;
/// - no CAP_SYS_NICE, CAP_IPC_LOCK: -P/sched_priority and -m/lock_all take
///   effect before the switch (the locked-memory limit is raised first, so
///   that memory locked later by MCL_FUTURE needs no capability);
/// - PHCs are steered through a descriptor opened for writing before the
///   switch, which needs no capability.
std::string capabilities_to_keep(bool steering);

/// A directory chronyd creates at start when it is missing, owned by the
/// daemon's user (its CNF_CreateDirs): `logdir` and `dumpdir`, mode 0750.
/// (The command socket's directory is the command server's own:
/// prepare_command_directory().) An existing directory is left as it is.
struct UserDirectory {
	std::string path;
	int mode = 0750;
	std::string what;  ///< "logdir", for the log line
};
std::vector<UserDirectory> directories_for_user(const conf::Config &config);

/// A directory the user must be able to write in after the switch, for a
/// file the daemon writes there later (driftfile, rtcfile: written through
/// a temporary file and a rename; logdir; dumpdir; the pid file's, to
/// remove it at exit). Checked after the switch; one that is not writable
/// is reported with what it costs.
struct WrittenDirectory {
	std::string path;
	std::string what;  ///< "driftfile /var/lib/strata/drift"
};
std::vector<WrittenDirectory> directories_written_after_switch(const conf::Config &config);

/// The directory part of a path: "/var/lib/strata" for
/// "/var/lib/strata/drift", "/" for "/drift", "." for "drift".
std::string directory_of(const std::string &path);

} // namespace strata::daemon
