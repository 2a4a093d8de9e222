#include "conf/values.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <vector>

namespace strata::conf {

std::optional<int64_t> to_int(std::string_view s)
{
	if (!s.empty() && s[0] == '+') {
		s.remove_prefix(1);
	}
	int64_t value = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
	if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
		return std::nullopt;
	}
	return value;
}

std::optional<double> to_real(std::string_view s)
{
	if (!s.empty() && s[0] == '+') {
		s.remove_prefix(1);
	}
	double value = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
	if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(value)) {
		return std::nullopt;
	}
	return value;
}

std::string real_text(double v)
{
	return fmt::format("{}", v);
}

tl::expected<int64_t, std::string> read_integer(std::string_view what, std::string_view text, int64_t lo,
						int64_t hi)
{
	auto v = to_int(text);
	if (!v) {
		return tl::unexpected(fmt::format("{}: '{}' is not an integer", what, text));
	}
	if (*v < lo || *v > hi) {
		return tl::unexpected(fmt::format("{} {} out of range {}..{}", what, *v, lo, hi));
	}
	return *v;
}

tl::expected<double, std::string> read_real(std::string_view what, std::string_view text, double lo, double hi)
{
	auto v = to_real(text);
	if (!v) {
		return tl::unexpected(fmt::format("{}: '{}' is not a number", what, text));
	}
	if (*v < lo || *v > hi) {
		return tl::unexpected(
			fmt::format("{} {} out of range {}..{}", what, text, real_text(lo), real_text(hi)));
	}
	return *v;
}

size_t edit_distance(std::string_view a, std::string_view b)
{
	auto same = [](char x, char y) {
		return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
	};
	std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
	for (size_t i = 0; i <= a.size(); i++) {
		d[i][0] = i;
	}
	for (size_t j = 0; j <= b.size(); j++) {
		d[0][j] = j;
	}
	for (size_t i = 1; i <= a.size(); i++) {
		for (size_t j = 1; j <= b.size(); j++) {
			size_t cost = same(a[i - 1], b[j - 1]) ? 0 : 1;
			d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
			if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1])) {
				d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
			}
		}
	}
	return d[a.size()][b.size()];
}

} // namespace strata::conf
