// The directive table's public face: every directive strata knows, its
// section in chrony.conf(5) and whether strata acts on it. docs/configuration.md
// lists the same table (a test keeps the two in step).
#pragma once

#include <span>
#include <string_view>

namespace strata::conf {

enum class Status {
	Supported,   ///< parsed and acted on
	NotYet,      ///< parsed and checked; a warning says strata ignores it for now
	Obsolete,    ///< an old chronyd name; a warning says it has no effect
	StrataOnly,  ///< strata's own extension (not in chrony)
};

std::string_view to_string(Status status);

struct DirectiveInfo {
	std::string_view name;
	std::string_view section;  ///< "Time sources", "NTP server", …
	Status status;
	std::string_view usage;    ///< "makestep THRESHOLD LIMIT"
};

/// All known directives, in the canonical (dump) order.
std::span<const DirectiveInfo> directive_infos();

} // namespace strata::conf
