// The NTP server's and the command server's settings, from chrony.conf and
// the command line: the directives each server acts on, in one place.
#pragma once

#include "conf/config.h"
#include "core/result.h"
#include "daemon/control_server_linux.h"
#include "daemon/ntp_server_linux.h"
#include "daemon/options.h"

namespace strata::daemon {

/// port (0 for -q/-Q), -4/-6, bindaddress, binddevice, allow/deny,
/// ratelimit, clientloglimit, noclientlog, clockprecision (else measured),
/// serverthreads, serverbatchdelay, and whether `peer` lines need the NTP
/// port open whatever allow says.
NtpServerSettings ntp_server_settings(const conf::Config &config, const Options &options);

/// bindcmdaddress, cmdport, -4/-6, cmdsocketmode, cmdsocketgroup (by name
/// or number; an unknown group is an error), cmdratelimit, cmdallow and
/// cmddeny on top of localhost.
Result<ControlServer::Settings> control_server_settings(const conf::Config &config, const Options &options);

/// Who may use the command port or scrape the metrics: the host itself
/// (127.0.0.1 and ::1), then `rules` (cmdallow/cmddeny, metricsallow/
/// metricsdeny) in file order.
ntp::AccessTable localhost_and(const std::vector<conf::AccessRule> &rules);

} // namespace strata::daemon
