// The pure half of the kernel PPS refclock (`refclock PPS /dev/pps0[:clear]`):
// its parameter, and the checks on what PPS_FETCH returns. The RFC 2783
// interface calls the two edges of the pulse "assert" (the line going to
// its active level, the edge that marks the second for nearly every GPS
// receiver) and "clear" (the line going back). refclock/pps_linux.h talks
// to the device. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/time.h"

namespace strata::refclock {

enum class PpsEdge : uint8_t { Assert, Clear };

const char *to_string(PpsEdge edge);

/// The `refclock PPS` parameter: "PATH[:clear]".
struct PpsOptions {
	std::string path;
	PpsEdge edge = PpsEdge::Assert;
};

/// Parses "/dev/pps0", "/dev/pps0:clear" (chronyd's syntax; "assert" is
/// accepted too, and options are case-insensitive). Errors
/// (Errc::InvalidArgument): an empty path, an unknown option, both edges.
Result<PpsOptions> parse_pps_parameter(std::string_view parameter);

/// A struct pps_ktime as PPS_FETCH returns it (seconds and nanoseconds of
/// CLOCK_REALTIME) as a RealTime, or nullopt when it is not a time a
/// device could have stamped: nanoseconds outside [0, 1e9) (never
/// normalised: a kernel that returns them has a bug, and its stamp is not
/// to be trusted), seconds before 1970 or past kMaxSampleSeconds.
std::optional<RealTime> pps_edge_time(int64_t sec, int32_t nsec);

} // namespace strata::refclock
