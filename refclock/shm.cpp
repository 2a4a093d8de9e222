#include "refclock/shm.h"
#include "core/text.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace strata::refclock {

namespace {

/// Precisions worth believing: 2^-30 s (about 1 ns) to 1 s.
constexpr int kMinPrecisionLog2 = -30;
constexpr int kMaxPrecisionLog2 = 0;

void describe(std::string *detail, std::string text)
{
	if (detail != nullptr) {
		*detail = std::move(text);
	}
}

/// A non-negative number in `base` (10 or 8) of at most 9 digits, or nullopt.
std::optional<int> parse_digits(std::string_view text, int base)
{
	if (text.empty() || text.size() > 9) {
		return std::nullopt;
	}
	int value = 0;
	for (char ch : text) {
		int digit = ch - '0';
		if (digit < 0 || digit >= base) {
			return std::nullopt;
		}
		value = value * base + digit;
	}
	return value;
}

} // namespace

const char *to_string(ShmSkip why)
{
	switch (why) {
	case ShmSkip::None:
		return "sample";
	case ShmSkip::TooShort:
		return "segment too short";
	case ShmSkip::NotValid:
		return "no new sample";
	case ShmSkip::BadMode:
		return "unknown mode";
	case ShmSkip::Torn:
		return "sample changed while it was read";
	case ShmSkip::Unsynchronized:
		return "writer not synchronised";
	case ShmSkip::BadLeap:
		return "invalid leap indicator";
	case ShmSkip::BadTime:
		return "invalid time stamp";
	}
	return "unknown";
}

namespace {

/// The fields of either layout, widened: what the checks below look at.
struct ShmFields {
	int32_t mode;
	int32_t count;
	int64_t clock_sec;
	int32_t clock_usec;
	int64_t receive_sec;
	int32_t receive_usec;
	int32_t leap;
	int32_t precision;
	int32_t valid;
	uint32_t clock_nsec;
	uint32_t receive_nsec;
};

template <class Layout>
ShmFields load(std::span<const std::byte> segment)
{
	Layout t;
	std::memcpy(&t, segment.data(), sizeof t);
	return {.mode = t.mode,
		.count = t.count,
		.clock_sec = t.clock_sec,
		.clock_usec = t.clock_usec,
		.receive_sec = t.receive_sec,
		.receive_usec = t.receive_usec,
		.leap = t.leap,
		.precision = t.precision,
		.valid = t.valid,
		.clock_nsec = t.clock_nsec,
		.receive_nsec = t.receive_nsec};
}

} // namespace

std::optional<RawSample> parse_shm(std::span<const std::byte> segment, ShmLayout layout,
				   int count_after, ShmSkip &why, std::string *detail)
{
	size_t size = shm_layout_info(layout).size;
	if (segment.size() < size) {
		why = ShmSkip::TooShort;
		describe(detail, fmt::format("{} bytes, expected {} ({})", segment.size(), size,
					     shm_layout_info(layout).name));
		return std::nullopt;
	}
	ShmFields t = layout == ShmLayout::Time32 ? load<ShmTime32>(segment) : load<ShmTime64>(segment);

	// `valid` first: a segment nobody writes to (all zeros, as the daemon
	// creates it) is the normal idle case, whatever its mode says.
	if (t.valid == 0) {
		why = ShmSkip::NotValid;
		return std::nullopt;
	}
	if (t.mode != 0 && t.mode != 1) {
		why = ShmSkip::BadMode;
		describe(detail, fmt::format("mode {}", t.mode));
		return std::nullopt;
	}
	if (t.mode == 1 && t.count != count_after) {
		why = ShmSkip::Torn;
		describe(detail, fmt::format("count {} then {}", t.count, count_after));
		return std::nullopt;
	}
	if (t.leap == 3) {
		why = ShmSkip::Unsynchronized;
		return std::nullopt;
	}
	if (t.leap < 0 || t.leap > 3) {
		why = ShmSkip::BadLeap;
		describe(detail, fmt::format("leap {}", t.leap));
		return std::nullopt;
	}

	// Nanoseconds only when both agree with the microseconds: a pre-4.2.8
	// writer leaves them 0 (or, in a segment an older ntpd created, they are
	// its dummy words), and then the microseconds are the truth.
	bool use_ns = static_cast<int64_t>(t.clock_nsec / 1000) == t.clock_usec &&
		      static_cast<int64_t>(t.receive_nsec / 1000) == t.receive_usec;
	auto clock = use_ns ? sample_time(t.clock_sec, t.clock_nsec, 1'000'000'000)
			    : sample_time(t.clock_sec, t.clock_usec, 1'000'000);
	auto receive = use_ns ? sample_time(t.receive_sec, t.receive_nsec, 1'000'000'000)
			      : sample_time(t.receive_sec, t.receive_usec, 1'000'000);
	if (!clock || !receive) {
		why = ShmSkip::BadTime;
		describe(detail, fmt::format("clock {}.{:06} receive {}.{:06}",
					     t.clock_sec, t.clock_usec, t.receive_sec, t.receive_usec));
		return std::nullopt;
	}

	RawSample sample{.reference = *clock, .local = *receive, .leap = static_cast<Leap>(t.leap)};
	if (t.precision >= kMinPrecisionLog2 && t.precision <= kMaxPrecisionLog2) {
		sample.precision_s = std::ldexp(1.0, t.precision);
	}
	why = ShmSkip::None;
	return sample;
}

Result<ShmOptions> parse_shm_parameter(std::string_view parameter)
{
	ShmOptions options;
	size_t colon = parameter.find(':');
	std::string_view unit = parameter.substr(0, colon);
	auto number = parse_digits(unit, 10);
	if (!number || *number > kShmMaxUnit) {
		return fail(Errc::InvalidArgument,
			    fmt::format("refclock SHM: '{}' is not a segment number (0-{})", unit,
					kShmMaxUnit));
	}
	options.unit = *number;
	while (colon != std::string_view::npos) {
		parameter.remove_prefix(colon + 1);
		colon = parameter.find(':');
		std::string_view option = parameter.substr(0, colon);
		size_t eq = option.find('=');
		if (eq == std::string_view::npos || !iequals(option.substr(0, eq), "perm")) {
			return fail(Errc::InvalidArgument,
				    fmt::format("refclock SHM: unknown option '{}'", option));
		}
		auto mode = parse_digits(option.substr(eq + 1), 8);
		if (!mode) {
			return fail(Errc::InvalidArgument,
				    fmt::format("refclock SHM: '{}' is not an octal mode",
						option.substr(eq + 1)));
		}
		options.perm = *mode & 0777;
	}
	return options;
}

} // namespace strata::refclock
