// chronyc's `add server|pool|peer NAME [OPTION]...` on the wire: the
// ADD_SOURCE request stratactl builds from the words, filled in as chronyc
// 4.3 fills it (the options given, chronyc's defaults for the others), and
// the source the daemon reads back from a received request. Both directions
// go through the one description of the options in conf/source_options.h,
// which the chrony.conf parser also reads: a word means the same, and is
// refused with the same message, in a `server` line, in `add server` and in
// the request the daemon receives. An option the request cannot carry
// (chrony 4.3's request has a fixed set of fields and flags) is refused by
// stratactl, never dropped on the way. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "conf/config.h"
#include "control/cmdmon.h"

namespace strata::control {

struct AddSourceCommand {
	AddSourceArgs request;
	/// What the configuration parser warns of in such a line (`maxsources`
	/// outside a pool, a minpoll above maxpoll).
	std::vector<std::string> warnings;
};

/// Parses the words after `add` (chronyc's process_cmd_add_source): the
/// kind (server, peer or pool, any case), the name, then the options with
/// the configuration parser's grammar. The error is the text to print, one
/// line per problem: chronyc's "Invalid syntax for add command" (followed,
/// for a bad option, by ": " and the parser's message, e.g. "minpoll 99 out
/// of range -7..24"), or, for an option the request has no field or flag
/// for, a line naming it ("Option ipv4 can't be set in an add command: …").
/// The name is not checked here (the caller resolves it, as chronyc does).
tl::expected<AddSourceCommand, std::string> parse_add_source(std::string_view args);

struct RequestedSource {
	conf::SourceConfig config;  ///< origin left empty: the caller says where it came from
	/// As AddSourceCommand::warnings, for the daemon's log.
	std::vector<std::string> warnings;
};

/// The source a received ADD_SOURCE request asks for: each field that is
/// not chronyc's "not given" value, and each flag, applied as the option
/// written in chrony.conf would be, with the same range checks. The error
/// names every value out of the range chrony.conf allows, joined by "; "
/// ("minpoll 30 out of range -7..24"), or a kind that is none of server,
/// peer and pool. Flag bits chronyd 4.3 does not know are ignored, as
/// chronyd ignores them.
tl::expected<RequestedSource, std::string> source_from_request(const AddSourceArgs &request);

} // namespace strata::control
