// Leap seconds known in advance, from a file rather than from the sources'
// leap bits (chrony.conf `leapseclist` and `leapsectz`):
//
// - the IERS/IETF leap-seconds.list (tzdata ships it as
//   /usr/share/zoneinfo/leap-seconds.list): lines of "NTP-SECONDS OFFSET",
//   the TAI − UTC offset in force from that instant (1900 epoch), '#'
//   comments, "#@ NTP-SECONDS" the file's expiry;
// - a TZif file of a "right/" zone (e.g. /usr/share/zoneinfo/right/UTC),
//   whose leap-second records give, for each leap second, the instant it
//   occurs on the zone's own time scale (which counts the earlier leap
//   seconds) and the total correction after it.
//
// Either becomes a table of the POSIX instants (midnight UTC) at which the
// TAI − UTC offset changes. Pure: the caller reads the file.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/reference.h"
#include "core/result.h"
#include "core/time.h"

namespace strata {

/// chrony.conf `leapsecmode`: how the clock gets through a leap second.
enum class LeapMode { System, Slew, Step, Ignore };
/// "system", "slew", "step", "ignore"; nullopt for anything else.
std::optional<LeapMode> parse_leap_mode(std::string_view text);

class LeapTable {
public:
	struct Change {
		int64_t at_s = 0;      ///< POSIX seconds of the midnight the new offset starts
		int tai_offset = 0;    ///< TAI − UTC from then on
	};

	/// leap-seconds.list; an error names the line that is wrong.
	static Result<LeapTable> parse_list(std::string_view text);
	/// A TZif file (versions 1–4); an error says what is wrong with it.
	static Result<LeapTable> parse_tzif(std::span<const std::byte> bytes);

	const std::vector<Change> &changes() const { return changes_; }
	/// The list's expiry (POSIX seconds), when it has one.
	std::optional<int64_t> expires_s() const { return expires_s_; }

	/// Whether a leap second is inserted or deleted at the end of the UTC
	/// day that `now` is in.
	Leap leap_at_end_of_day(RealTime now) const;
	/// TAI − UTC at `now` (0 before the first entry; TZif tables give the
	/// leap seconds since 1972 only, counted from 10 s).
	int tai_offset(RealTime now) const;

private:
	std::vector<Change> changes_;
	std::optional<int64_t> expires_s_;
};

} // namespace strata
