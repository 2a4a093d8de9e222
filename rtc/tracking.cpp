#include "rtc/tracking.h"

#include <charconv>
#include <cmath>
#include <vector>

#include <fmt/format.h>

namespace strata::rtc {

RealTime RtcModel::system_time_for(RealTime rtc_time) const
{
	// rtc = sys + offset + drift·(sys − ref)  ⇒  sys = (rtc − offset + drift·ref) / (1 + drift),
	// solved relative to ref to keep the numbers small.
	double d = drift_ppm * 1e-6;
	double rtc_since_ref = to_seconds(rtc_time - ref);
	double sys_since_ref = (rtc_since_ref - offset_s) / (1.0 + d);
	return ref + from_seconds(sys_since_ref);
}

void RtcTracker::add(RealTime sys, double rtc_fast_s)
{
	if (samples_.size() == max_samples_) {
		samples_.pop_front();
	}
	samples_.push_back({sys, rtc_fast_s});
}

std::optional<RtcModel> RtcTracker::model() const
{
	if (samples_.size() < 2) {
		return std::nullopt;
	}
	RealTime ref = samples_.back().sys;
	auto n = static_cast<double>(samples_.size());
	double sum_x = 0, sum_y = 0;
	for (const auto &m : samples_) {
		sum_x += to_seconds(m.sys - ref);
		sum_y += m.fast_s;
	}
	double mean_x = sum_x / n, mean_y = sum_y / n;
	double sxx = 0, sxy = 0;
	for (const auto &m : samples_) {
		double dx = to_seconds(m.sys - ref) - mean_x;
		sxx += dx * dx;
		sxy += dx * (m.fast_s - mean_y);
	}
	if (sxx <= 0) {
		return std::nullopt;
	}
	double slope = sxy / sxx;
	return RtcModel{.ref = ref,
			.offset_s = mean_y - slope * mean_x,
			.drift_ppm = slope * 1e6,
			.samples = samples_.size()};
}

size_t RtcTracker::runs() const
{
	auto fit = model();
	if (!fit) {
		return 0;
	}
	size_t runs = 0;
	int last_sign = 0;
	for (const auto &m : samples_) {
		double residual = m.fast_s - fit->fast_at(m.sys);
		int sign = residual >= 0 ? 1 : -1;
		if (sign != last_sign) {
			runs++;
			last_sign = sign;
		}
	}
	return runs;
}

void RtcTracker::on_clock_change(RealTime at, double step_s, double dfreq_ppm,
				 double freq_after_ppm)
{
	double r1 = freq_after_ppm * 1e-6;
	double r0 = r1 - dfreq_ppm * 1e-6;
	double slope_change = (r1 - r0) / (1 + r0);
	for (auto &m : samples_) {
		double shift = step_s + slope_change * to_seconds(m.sys - at);
		m.fast_s -= shift;
		m.sys += from_seconds(shift);
	}
}

std::optional<RtcModel> RtcTracker::model_with_drift(double drift_ppm) const
{
	if (samples_.empty()) {
		return std::nullopt;
	}
	RealTime ref = samples_.back().sys;
	double sum = 0;
	for (const auto &m : samples_) {
		sum += m.fast_s + drift_ppm * 1e-6 * to_seconds(ref - m.sys);
	}
	return RtcModel{.ref = ref,
			.offset_s = sum / static_cast<double>(samples_.size()),
			.drift_ppm = drift_ppm,
			.samples = samples_.size()};
}

std::string save(const RtcModel &model)
{
	return fmt::format("strata-rtc 1 {} {:.9f} {:.6f}\n", model.ref.since_epoch.count(), model.offset_s,
			   model.drift_ppm);
}

namespace {

template <class T>
bool parse_number(std::string_view &text, T &out)
{
	while (!text.empty() && text.front() == ' ') {
		text.remove_prefix(1);
	}
	auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
	if (ec != std::errc() || end == text.data()) {
		return false;
	}
	text.remove_prefix(static_cast<size_t>(end - text.data()));
	return true;
}

} // namespace

Result<RtcModel> load(std::string_view text)
{
	constexpr std::string_view kMagic = "strata-rtc 1 ";
	if (!text.starts_with(kMagic)) {
		return fail(Errc::Malformed, "rtcfile: not a strata rtcfile (version 1)");
	}
	text.remove_prefix(kMagic.size());
	int64_t ref_ns = 0;
	RtcModel m;
	if (!parse_number(text, ref_ns) || !parse_number(text, m.offset_s) || !parse_number(text, m.drift_ppm) ||
	    text != "\n") {
		return fail(Errc::Malformed, "rtcfile: malformed line");
	}
	if (!std::isfinite(m.offset_s) || !std::isfinite(m.drift_ppm) || std::abs(m.drift_ppm) > 1e5 ||
	    std::abs(m.offset_s) > 1e9 || ref_ns <= 0) {
		return fail(Errc::Malformed, "rtcfile: values out of range");
	}
	m.ref = RealTime{Duration(ref_ns)};
	return m;
}

} // namespace strata::rtc
