#include "rtc/rtc_service.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <utility>

#include <fmt/format.h>

namespace strata::rtc {

namespace {

RealTime at_second(int64_t utc_s)
{
	return RealTime::from_parts(utc_s, 0);
}

std::string utc_string(RealTime t)
{
	return to_string(from_rtc_seconds(t.seconds())) + " UTC";
}

// The line of a model moved as the system clock was (see
// RtcTracker::on_clock_change): its reference by the shift there, its drift
// by the change of rate.
void move_model(RtcModel &m, const ClockChange &c)
{
	double r1 = c.freq_ppm * 1e-6;
	double r0 = r1 - c.dfreq_ppm * 1e-6;
	double slope_change = (r1 - r0) / (1 + r0);
	double shift = c.step_s + slope_change * to_seconds(m.ref - c.at);
	m.ref += from_seconds(shift);
	m.offset_s -= shift;
	m.drift_ppm -= slope_change * 1e6;
}

} // namespace

int64_t RtcTimescale::rtc_from_utc(int64_t utc_s) const
{
	if (on_utc || !utc_offset) {
		return utc_s;
	}
	return utc_s + utc_offset(utc_s);
}

int64_t RtcTimescale::utc_from_rtc(int64_t rtc_s) const
{
	if (on_utc || !utc_offset) {
		return rtc_s;
	}
	// The offset depends on the UTC time we are looking for: guess with the
	// offset at the local time read as UTC, then correct once; the second
	// guess is right unless a daylight-saving change lies between them.
	int64_t guess = rtc_s - utc_offset(rtc_s);
	int64_t again = rtc_s - utc_offset(guess);
	return rtc_s - utc_offset(again) == again ? again : guess;
}

Result<bool> parse_hwclock_file(std::string_view text)
{
	for (int line = 0; line < 2; line++) {
		size_t nl = text.find('\n');
		if (nl == std::string_view::npos) {
			return fail(Errc::NotFound, "hwclockfile: no third line (UTC or LOCAL)");
		}
		text.remove_prefix(nl + 1);
	}
	text = text.substr(0, text.find('\n'));
	constexpr std::string_view kBlank = " \t\r";
	size_t first = text.find_first_not_of(kBlank);
	text = first == std::string_view::npos
		       ? std::string_view{}
		       : text.substr(first, text.find_last_not_of(kBlank) - first + 1);
	if (text.empty()) {
		return fail(Errc::NotFound, "hwclockfile: no third line (UTC or LOCAL)");
	}
	if (text == "UTC") {
		return true;
	}
	if (text == "LOCAL") {
		return false;
	}
	return fail(Errc::Malformed,
		    fmt::format("hwclockfile: third line is '{}', not UTC or LOCAL",
				text.substr(0, 40)));
}

RtcService::RtcService(RtcServiceConfig config, RtcDevice &device, RtcFileWriter writer,
		       Logger &log)
	: config_(std::move(config)), device_(device), writer_(std::move(writer)), log_(log),
	  tracker_(config_.max_samples)
{
	if (config_.burst < 1) {
		config_.burst = 1;
	}
	if (config_.skip_interrupts < 0) {
		config_.skip_interrupts = 0;
	}
	// The fit needs two measurements, and can never hold more than max_samples.
	size_t most = std::max<size_t>(config_.max_samples, 2);
	config_.min_samples = std::clamp<size_t>(config_.min_samples, 2, most);
}

Result<> RtcService::load_file(std::string_view text)
{
	auto m = load(text);
	if (!m) {
		base_.reset();
		base_drift_known_ = false;
		base_drift_usable_ = false;
		std::string why = m.error().context;
		if (why.starts_with("rtcfile: ")) {
			why.erase(0, 9);
		}
		return fail(Errc::Malformed,
			    fmt::format("Corrupt rtcfile {} ({})", config_.rtcfile, why));
	}
	base_ = *m;
	base_drift_known_ = true;
	base_drift_usable_ = true;
	log_.debug("RTC from {}: {:+.6f} s fast at {}, gaining {:+.3f} ppm", config_.rtcfile,
		   m->offset_s, utc_string(m->ref), m->drift_ppm);
	return {};
}

Result<Duration> RtcService::start()
{
	if (auto r = begin_measurement(); !r) {
		return tl::unexpected(r.error());
	}
	return config_.measurement_timeout;
}

Result<> RtcService::begin_measurement()
{
	if (auto r = device_.enable_update_interrupts(); !r) {
		return r;
	}
	measuring_ = true;
	skip_left_ = config_.skip_interrupts;
	burst_.clear();
	return {};
}

void RtcService::abandon_measurement()
{
	measuring_ = false;
	burst_.clear();
	if (auto r = device_.disable_update_interrupts(); !r) {
		log_.warning("{}", r.error().message());
	}
}

std::optional<Duration> RtcService::on_readable(RealTime now)
{
	auto update = device_.wait_update(Duration::zero());
	if (!update) {
		log_.warning("{}", update.error().message());
		if (measuring_) {
			abandon_measurement();
			return config_.measurement_interval;
		}
		return std::nullopt;
	}
	if (!*update || !measuring_) {
		return std::nullopt;  // nothing came, or a late one after the burst
	}
	if (skip_left_ > 0) {
		skip_left_--;
		return std::nullopt;
	}
	auto rtc_s = device_.read_time();
	if (!rtc_s) {
		log_.warning("{}", rtc_s.error().message());
		abandon_measurement();
		return config_.measurement_interval;
	}
	int64_t utc_s = config_.timescale.utc_from_rtc(*rtc_s);
	burst_.push_back({now, to_seconds(at_second(utc_s) - now), utc_s});
	if (burst_.size() < static_cast<size_t>(config_.burst)) {
		return std::nullopt;
	}
	return finish_measurement(now);
}

Duration RtcService::finish_measurement(RealTime now)
{
	// The sample whose system time was least delayed shows the RTC furthest
	// ahead, once the samples are carried to one instant along the drift.
	auto before = estimate();
	double drift = (before && before->drift_usable) ? before->model.drift_ppm * 1e-6 : 0.0;
	const Sample *best = &burst_.front();
	double best_fast = -INFINITY;
	for (const auto &s : burst_) {
		double fast = s.fast_s + drift * to_seconds(now - s.sys);
		if (fast > best_fast) {
			best_fast = fast;
			best = &s;
		}
	}
	tracker_.add(best->sys, best->fast_s);
	since_write_++;

	auto e = estimate();  // never empty: the tracker has a measurement
	if (config_.on_measurement) {
		config_.on_measurement(RtcMeasurement{
			.time = best->sys,
			.fast_s = best->fast_s,
			.model = model(),
			.samples = tracker_.size(),
			.runs = tracker_.runs(),
			.since_previous = last_measurement_ ? best->sys - *last_measurement_ : Duration::zero(),
		});
	}
	last_measurement_ = best->sys;
	log_.debug("RTC {:+.6f} s fast, gaining {:+.3f} ppm{} ({} measurements)",
		   e->model.fast_at(now), e->model.drift_ppm,
		   e->drift_known ? "" : " (not known yet)", tracker_.size());

	if (trim_requested_ || should_trim(*e, now)) {
		trim_requested_ = false;
		if (trim_at(now, burst_.back().rtc_utc_s, *e)) {
			// Measure the new offset at once, so that it is known (and
			// written) without waiting for the next interval.
			burst_.clear();
			skip_left_ = config_.skip_interrupts;
			return config_.measurement_timeout;
		}
	}

	if (write_due_ || (config_.write_every > 0 && since_write_ >= config_.write_every)) {
		if (auto m = model()) {
			if (auto r = write_model(*m); !r) {
				log_.warning("{}", r.error().message());
			}
		}
	}
	abandon_measurement();
	return config_.measurement_interval;
}

bool RtcService::should_trim(const Estimate &e, RealTime now) const
{
	double threshold = config_.autotrim_threshold_s;
	if (threshold <= 0) {
		return false;
	}
	if (config_.clock_synchronized && !config_.clock_synchronized()) {
		return false;
	}
	if (std::abs(e.model.fast_at(now)) > threshold) {
		return true;
	}
	// Trim before the offset crosses the threshold, not after: the next
	// measurement ends at most an interval and a timeout from now. A drift
	// from a fit of two measurements will do for that.
	RealTime next = now + config_.measurement_interval + config_.measurement_timeout;
	return e.drift_usable && std::abs(e.model.fast_at(next)) > threshold;
}

bool RtcService::trim_at(RealTime now, int64_t rtc_utc_s, const Estimate &e)
{
	double fast = e.model.fast_at(now);
	// Whole seconds only: the RTC can be moved by nothing finer (see the
	// header). Within half a second, there is nothing to do.
	double n = -std::round(fast);
	if (n == 0) {
		log_.debug("RTC within half a second ({:+.6f} s fast), not trimmed", fast);
		return false;
	}
	auto shift = static_cast<int64_t>(n);
	if (auto r = device_.set_time(config_.timescale.rtc_from_utc(rtc_utc_s + shift)); !r) {
		log_.warning("{}", r.error().message());
		return false;
	}
	base_ = RtcModel{
		.ref = now, .offset_s = fast + n, .drift_ppm = e.model.drift_ppm, .samples = 0};
	base_drift_known_ = e.drift_known;
	base_drift_usable_ = e.drift_usable;
	tracker_.reset();
	trims_++;
	write_due_ = true;
	log_.info("RTC trimmed by {:+} s (it was {:+.3f} s fast)", shift, fast);
	return true;
}

Duration RtcService::on_timer(RealTime)
{
	if (measuring_) {
		log_.warning("No update interrupt from {}, RTC measurement abandoned",
			     device_.path());
		abandon_measurement();
		return config_.measurement_interval;
	}
	if (auto r = begin_measurement(); !r) {
		log_.warning("{}", r.error().message());
		return config_.measurement_interval;
	}
	return config_.measurement_timeout;
}

void RtcService::on_clock_change(const ClockChange &change)
{
	tracker_.on_clock_change(change.at, change.step_s, change.dfreq_ppm, change.freq_ppm);
	if (base_) {
		move_model(*base_, change);
	}
	double r1 = change.freq_ppm * 1e-6;
	double r0 = r1 - change.dfreq_ppm * 1e-6;
	double slope_change = (r1 - r0) / (1 + r0);
	for (auto &s : burst_) {
		double shift = change.step_s + slope_change * to_seconds(s.sys - change.at);
		s.sys += from_seconds(shift);
		s.fast_s -= shift;
	}
}

Result<Duration> RtcService::trim()
{
	if (!measuring_) {
		if (auto r = begin_measurement(); !r) {
			return tl::unexpected(r.error());
		}
	}
	trim_requested_ = true;
	return config_.measurement_timeout;
}

Result<> RtcService::write_file()
{
	auto m = model();
	if (!m) {
		return fail(Errc::NotFound,
			    fmt::format("Not writing rtcfile {}: no valid RTC estimate yet",
					config_.rtcfile));
	}
	return write_model(*m);
}

Result<> RtcService::write_model(const RtcModel &m)
{
	std::string text = save(m);
	// A file we could not read back is garbage: keep the old one.
	if (!load(text)) {
		return fail(Errc::Malformed,
			    fmt::format("Not writing rtcfile {}: estimate out of range "
					"({} s fast, {} ppm)",
					config_.rtcfile, m.offset_s, m.drift_ppm));
	}
	if (auto r = writer_(text); !r) {
		return tl::unexpected(Error{r.error().code,
					    fmt::format("Could not write rtcfile {} ({})",
							config_.rtcfile, r.error().context)});
	}
	since_write_ = 0;
	write_due_ = false;
	return {};
}

Result<> RtcService::stop()
{
	if (measuring_) {
		abandon_measurement();
	}
	trim_requested_ = false;
	if (auto m = model()) {
		return write_model(*m);
	}
	return {};
}

std::optional<RtcService::Estimate> RtcService::estimate() const
{
	if (tracker_.size() >= config_.min_samples) {
		if (auto fit = tracker_.model()) {
			return Estimate{*fit, true, true};
		}
	}
	if (base_ && base_drift_known_) {
		if (auto m = tracker_.model_with_drift(base_->drift_ppm)) {
			return Estimate{*m, true, true};
		}
		return Estimate{*base_, true, true};
	}
	// No drift to trust yet. A short fit still predicts the next minutes
	// well enough for autotrim, and one measurement gives the offset.
	if (auto fit = tracker_.model()) {
		return Estimate{*fit, false, true};
	}
	bool usable = base_ && base_drift_usable_;
	if (auto m = tracker_.model_with_drift(usable ? base_->drift_ppm : 0.0)) {
		return Estimate{*m, false, usable};
	}
	if (base_) {
		return Estimate{*base_, false, usable};
	}
	return std::nullopt;
}

std::optional<RtcModel> RtcService::model() const
{
	auto e = estimate();
	if (!e || !e->drift_known) {
		return std::nullopt;
	}
	return e->model;
}

RtcStatus RtcService::status() const
{
	return RtcStatus{.model = model(),
			 .samples = tracker_.size(),
			 .runs = tracker_.runs(),
			 .span = tracker_.span(),
			 .trims = trims_,
			 .measuring = measuring_};
}

Result<RealTime> start_time(const std::optional<RtcModel> &model, RealTime rtc_utc)
{
	if (!model) {
		return rtc_utc;
	}
	// At the reference time the RTC read ref + offset; reading less now
	// means it went backwards: reset, or a flat battery.
	if (to_seconds(rtc_utc - model->ref) < model->offset_s - 1.0) {
		return fail(Errc::InvalidArgument,
			    fmt::format("RTC time {} is before the rtcfile's reference time {}: "
					"the RTC was reset",
					utc_string(rtc_utc), utc_string(model->ref)));
	}
	return model->system_time_for(rtc_utc);
}

Result<StartStep> start_step(RtcDevice &device, const RtcTimescale &timescale,
			     const std::optional<RtcModel> &model,
			     const std::function<RealTime()> &now, Duration timeout, int skip)
{
	StartStep out;
	RealTime sys;
	int64_t rtc_s = 0;
	if (auto on = device.enable_update_interrupts(); !on) {
		// No update interrupt: the reading is somewhere in its second.
		auto t = device.read_time();
		sys = now();
		if (!t) {
			return tl::unexpected(t.error());
		}
		rtc_s = *t;
		out.at_boundary = false;
	} else {
		std::string timed_out = fmt::format("No update interrupt from {} within {:.1f} s",
						    device.path(), to_seconds(timeout));
		RealTime deadline = now() + timeout;
		int skipped = 0;
		for (;;) {
			Duration left = deadline - now();
			if (left <= Duration::zero()) {
				(void)device.disable_update_interrupts();
				return fail_errno(timed_out, ETIME);
			}
			auto update = device.wait_update(left);
			if (!update) {
				(void)device.disable_update_interrupts();
				return tl::unexpected(update.error());
			}
			if (!*update) {
				continue;
			}
			sys = now();  // first: the interrupt's lateness is the error
			if (skipped < skip) {
				skipped++;
				continue;
			}
			auto t = device.read_time();
			(void)device.disable_update_interrupts();
			if (!t) {
				return tl::unexpected(t.error());
			}
			rtc_s = *t;
			break;
		}
	}
	out.rtc_utc = at_second(timescale.utc_from_rtc(rtc_s));
	if (!out.at_boundary) {
		out.rtc_utc += std::chrono::milliseconds(500);
	}
	auto target = start_time(model, out.rtc_utc);
	if (!target) {
		return tl::unexpected(target.error());
	}
	out.step_s = to_seconds(*target - sys);
	return out;
}

} // namespace strata::rtc
