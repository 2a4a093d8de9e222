// How the chrony.conf grammar reads the values of its words: integers and
// reals as whole words (an optional '+'; a real must be finite), the
// shortest text of a real that reads back the same, and the messages for a
// value that is not a number or is out of range. Shared by the directive
// table (conf/parser.cpp) and the source options (conf/source_options.h),
// so that a value is refused with the same words wherever it is written.
// Pure.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <tl/expected.hpp>

namespace strata::conf {

/// The whole word as an integer ("+5" too); nullopt for anything else.
std::optional<int64_t> to_int(std::string_view s);

/// The whole word as a finite real ("+0.5", "1e-3"); nullopt for anything
/// else (inf and nan included).
std::optional<double> to_real(std::string_view s);

/// Shortest text that reads back as the same double.
std::string real_text(double v);

/// `text` as an integer in [lo, hi], or the message: "WHAT: 'x' is not an
/// integer", "WHAT 99 out of range -7..24".
tl::expected<int64_t, std::string> read_integer(std::string_view what, std::string_view text, int64_t lo,
						int64_t hi);

/// `text` as a real in [lo, hi], or the message: "WHAT: 'x' is not a
/// number", "WHAT 0.7 out of range -0.5..0.5" (the value as written).
tl::expected<double, std::string> read_real(std::string_view what, std::string_view text, double lo, double hi);

/// Edits (insert, delete, replace, swap of neighbours) from a to b, ignoring case.
size_t edit_distance(std::string_view a, std::string_view b);

/// " (did you mean 'x'?)" for the closest candidate within a typo's reach,
/// else "".
template <class Range, class Name>
std::string did_you_mean(std::string_view word, const Range &candidates, Name name_of)
{
	std::string_view best;
	size_t best_distance = std::max<size_t>(1, word.size() / 3) + 1;
	if (word.size() > 64) {
		return {};  // no directive or option is that long
	}
	for (const auto &candidate : candidates) {
		std::string_view name = name_of(candidate);
		size_t length_gap = name.size() > word.size() ? name.size() - word.size() : word.size() - name.size();
		if (length_gap >= best_distance) {
			continue;  // cannot be closer than the best so far
		}
		size_t d = edit_distance(word, name);
		if (d < best_distance) {
			best_distance = d;
			best = name;
		}
	}
	return best.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", best);
}

} // namespace strata::conf
