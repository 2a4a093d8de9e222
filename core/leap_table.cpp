#include "core/leap_table.h"

#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace strata {

namespace {

/// Seconds from the NTP epoch (1900) to the POSIX epoch (1970).
constexpr int64_t kNtpToPosix = 2'208'988'800;
constexpr int64_t kDay = 86'400;

std::string_view trim(std::string_view s)
{
	while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
		s.remove_prefix(1);
	}
	while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
		s.remove_suffix(1);
	}
	return s;
}

/// Reads a decimal integer at the front of `s` and what follows it.
template <class T>
bool take_number(std::string_view &s, T &out)
{
	s = trim(s);
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
	if (ec != std::errc{} || end == s.data()) {
		return false;
	}
	s.remove_prefix(static_cast<size_t>(end - s.data()));
	return s.empty() || s.front() == ' ' || s.front() == '\t' || s.front() == '#' || s.front() == '\r';
}

int64_t be(std::span<const std::byte> b, size_t at, size_t width)
{
	uint64_t v = 0;
	for (size_t i = 0; i < width; i++) {
		v = (v << 8) | static_cast<uint8_t>(b[at + i]);
	}
	// Sign-extend the 4- and 8-byte two's complement fields.
	if (width == 4) {
		return static_cast<int32_t>(static_cast<uint32_t>(v));
	}
	return static_cast<int64_t>(v);
}

} // namespace

std::optional<LeapMode> parse_leap_mode(std::string_view text)
{
	if (text == "system") {
		return LeapMode::System;
	}
	if (text == "slew") {
		return LeapMode::Slew;
	}
	if (text == "step") {
		return LeapMode::Step;
	}
	if (text == "ignore") {
		return LeapMode::Ignore;
	}
	return std::nullopt;
}

Result<LeapTable> LeapTable::parse_list(std::string_view text)
{
	LeapTable t;
	int line_no = 0;
	while (!text.empty()) {
		size_t nl = text.find('\n');
		std::string_view line = text.substr(0, nl);
		text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
		line_no++;
		line = trim(line);
		if (line.starts_with("#@")) {
			line.remove_prefix(2);
			int64_t expiry = 0;
			if (!take_number(line, expiry)) {
				return fail(Errc::Malformed, fmt::format("line {}: bad expiry", line_no));
			}
			t.expires_s_ = expiry - kNtpToPosix;
			continue;
		}
		if (line.empty() || line.front() == '#') {
			continue;
		}
		int64_t ntp_s = 0;
		int offset = 0;
		if (!take_number(line, ntp_s) || !take_number(line, offset)) {
			return fail(Errc::Malformed, fmt::format("line {}: expected NTP-SECONDS TAI-OFFSET", line_no));
		}
		int64_t at = ntp_s - kNtpToPosix;
		if (at % kDay != 0 || offset < 0 || offset > 1000) {
			return fail(Errc::Malformed, fmt::format("line {}: not a leap second at midnight", line_no));
		}
		if (!t.changes_.empty()) {
			const Change &last = t.changes_.back();
			if (at <= last.at_s || std::abs(offset - last.tai_offset) != 1) {
				return fail(Errc::Malformed,
					    fmt::format("line {}: entries must grow in time by one second each", line_no));
			}
		}
		t.changes_.push_back({at, offset});
	}
	if (t.changes_.empty()) {
		return fail(Errc::Malformed, "no leap second entries");
	}
	return t;
}

Result<LeapTable> LeapTable::parse_tzif(std::span<const std::byte> bytes)
{
	// RFC 8536: a 44-byte header ("TZif", version, 15 reserved bytes, six
	// 4-byte counts), the version 1 data block with 4-byte times, and for
	// versions 2+ a second header and data block with 8-byte times.
	auto header = [&](size_t at, int64_t counts[6]) -> bool {
		if (bytes.size() < at + 44 || std::memcmp(bytes.data() + at, "TZif", 4) != 0) {
			return false;
		}
		for (size_t i = 0; i < 6; i++) {
			counts[i] = be(bytes, at + 20 + 4 * i, 4);
			if (counts[i] < 0 || counts[i] > 1'000'000) {
				return false;
			}
		}
		return true;
	};
	int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
	if (!header(0, c)) {
		return fail(Errc::Malformed, "not a TZif file");
	}
	auto block_size = [&](const int64_t n[6], size_t time_size) {
		return static_cast<size_t>(n[3]) * time_size + static_cast<size_t>(n[3]) + static_cast<size_t>(n[4]) * 6 +
		       static_cast<size_t>(n[5]) + static_cast<size_t>(n[2]) * (time_size + 4) +
		       static_cast<size_t>(n[1]) + static_cast<size_t>(n[0]);
	};
	size_t at = 44;
	size_t time_size = 4;
	char version = static_cast<char>(bytes[4]);
	if (version >= '2') {
		at += block_size(c, 4);
		if (!header(at, c)) {
			return fail(Errc::Malformed, "TZif: truncated or bad second header");
		}
		at += 44;
		time_size = 8;
	}
	if (bytes.size() < at + block_size(c, time_size)) {
		return fail(Errc::Malformed, "TZif: truncated");
	}
	size_t leaps = at + static_cast<size_t>(c[3]) * (time_size + 1) + static_cast<size_t>(c[4]) * 6 +
		       static_cast<size_t>(c[5]);
	if (c[2] == 0) {
		return fail(Errc::Malformed, "TZif: no leap second records (not a right/ zone?)");
	}
	LeapTable t;
	int64_t correction_before = 0;
	for (int64_t i = 0; i < c[2]; i++) {
		size_t rec = leaps + static_cast<size_t>(i) * (time_size + 4);
		int64_t occurs = be(bytes, rec, time_size);
		int64_t correction = be(bytes, rec + time_size, 4);
		// The record's time counts the earlier leap seconds; without them it
		// is the POSIX midnight the new offset starts at.
		int64_t posix = occurs - correction_before;
		if (std::abs(correction - correction_before) != 1 || posix % kDay != 0) {
			return fail(Errc::Malformed, fmt::format("TZif: leap record {} is not a leap second at midnight", i + 1));
		}
		t.changes_.push_back({posix, static_cast<int>(10 + correction)});
		correction_before = correction;
	}
	return t;
}

Leap LeapTable::leap_at_end_of_day(RealTime now) const
{
	int64_t s = now.seconds();
	int64_t next_midnight = (s >= 0 ? s / kDay + 1 : -((-s) / kDay)) * kDay;
	int before = tai_offset(now);
	for (const auto &c : changes_) {
		if (c.at_s == next_midnight) {
			return c.tai_offset > before ? Leap::Insert : c.tai_offset < before ? Leap::Delete : Leap::None;
		}
		if (c.at_s > next_midnight) {
			break;
		}
	}
	return Leap::None;
}

int LeapTable::tai_offset(RealTime now) const
{
	int offset = 0;
	for (const auto &c : changes_) {
		if (c.at_s > now.seconds()) {
			break;
		}
		offset = c.tai_offset;
	}
	return offset;
}

} // namespace strata
