#include "refclock/pps.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "refclock/sample.h"
#include "core/text.h"

namespace strata::refclock {

const char *to_string(PpsEdge edge)
{
	return edge == PpsEdge::Clear ? "clear" : "assert";
}

Result<PpsOptions> parse_pps_parameter(std::string_view parameter)
{
	PpsOptions options;
	size_t colon = parameter.find(':');
	options.path = std::string(parameter.substr(0, colon));
	if (options.path.empty()) {
		return fail(Errc::InvalidArgument, "refclock PPS: no device path");
	}
	bool edge_given = false;
	while (colon != std::string_view::npos) {
		parameter.remove_prefix(colon + 1);
		colon = parameter.find(':');
		std::string_view option = parameter.substr(0, colon);
		PpsEdge edge{};
		if (iequals(option, "clear")) {
			edge = PpsEdge::Clear;
		} else if (iequals(option, "assert")) {
			edge = PpsEdge::Assert;
		} else {
			return fail(Errc::InvalidArgument,
				    fmt::format("refclock PPS: unknown option '{}'", option));
		}
		if (edge_given && edge != options.edge) {
			return fail(Errc::InvalidArgument,
				    "refclock PPS: give one edge, assert or clear");
		}
		options.edge = edge;
		edge_given = true;
	}
	return options;
}

std::optional<RealTime> pps_edge_time(int64_t sec, int32_t nsec)
{
	if (nsec < 0 || nsec >= 1'000'000'000) {
		return std::nullopt;
	}
	return sample_time(sec, nsec, 1'000'000'000);
}

} // namespace strata::refclock
