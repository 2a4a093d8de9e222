// chronyc's `add server|pool NAME [options]` as a configuration line: the
// request's fields (every option filled in by chronyc, its defaults where
// the user gave none) written back as the `server`/`pool` directive they
// stand for and read by the configuration parser, so that a source added at
// run time is checked and built exactly as one in chrony.conf. Pure.
#pragma once

#include <string>

#include "conf/config.h"
#include "control/cmdmon.h"
#include "core/result.h"

namespace strata::daemon {

/// The directive, options only where they differ from chronyc's defaults
/// ("server ntp.example.org port 123 iburst maxpoll 8").
std::string source_line(const control::AddSourceArgs &args);

/// The source the request adds. Errors (Errc::InvalidArgument, with the
/// parser's message): an option out of the range chrony.conf allows, a
/// peer (not supported).
Result<conf::SourceConfig> source_config_from(const control::AddSourceArgs &args);

} // namespace strata::daemon
