// chronyc's `add server|pool NAME [options]` in the daemon: the received
// request read back into the source it stands for, through the same
// grammar as a `server`/`pool` line of chrony.conf
// (control/source_request.h over conf/source_options.h), so that a source
// added at run time is checked and built exactly as one in chrony.conf.
// Pure.
#pragma once

#include "control/cmdmon.h"
#include "control/source_request.h"
#include "core/result.h"

namespace strata::daemon {

/// The source the request adds (origin "chronyc"), with the warnings to
/// log. Errors: Errc::Unsupported for a peer (symmetric mode is not in
/// strata); Errc::InvalidArgument with the configuration parser's message
/// for a value out of the range chrony.conf allows ("minpoll 30 out of range
/// -7..24").
Result<control::RequestedSource> source_config_from(const control::AddSourceArgs &args);

} // namespace strata::daemon
