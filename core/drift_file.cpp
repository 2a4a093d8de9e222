#include "core/drift_file.h"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace strata {

std::string format_drift(const DriftValues &v)
{
	return fmt::format("{:20.6f} {:20.6f}\n", -v.correction_ppm, v.skew_ppm);
}

Result<DriftValues> parse_drift(std::string_view text)
{
	double numbers[2] = {};
	for (double &n : numbers) {
		while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
			text.remove_prefix(1);
		}
		auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
		if (ec != std::errc() || end == text.data()) {
			return fail(Errc::Malformed, "not two numbers");
		}
		text.remove_prefix(static_cast<size_t>(end - text.data()));
	}
	while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n')) {
		text.remove_prefix(1);
	}
	if (!text.empty()) {
		return fail(Errc::Malformed, "trailing text");
	}
	if (!std::isfinite(numbers[0]) || !std::isfinite(numbers[1]) || std::abs(numbers[0]) > 500000 ||
	    numbers[1] < 0 || numbers[1] > 1e6) {
		return fail(Errc::Malformed, "values out of range");
	}
	return DriftValues{.correction_ppm = -numbers[0], .skew_ppm = numbers[1]};
}

} // namespace strata
