// The drift file (chrony.conf `driftfile`): the clock's frequency correction
// and its uncertainty, saved so that a restart begins with the right
// frequency. The format is chronyd's, so that a drift file chronyd wrote is
// read as it is and the other way round: one line, two numbers in ppm —
// the frequency in chronyd's sign (positive: the clock runs fast, i.e. the
// negative of the correction strata applies) and the skew. Pure; the daemon
// reads and writes the file (atomically: a temporary file, then rename).
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace strata {

struct DriftValues {
	double correction_ppm = 0;  ///< what to apply (positive: make the clock faster)
	double skew_ppm = 0;
};

std::string format_drift(const DriftValues &values);
/// Errc::Malformed for anything but two finite numbers with |frequency| ≤
/// 500000 ppm and 0 ≤ skew ≤ 1e6 ppm.
Result<DriftValues> parse_drift(std::string_view text);

} // namespace strata
