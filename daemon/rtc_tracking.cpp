#include "daemon/rtc_tracking.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace strata::daemon {

RtcTracking::RtcTracking(rtc::RtcServiceConfig config, std::unique_ptr<rtc::RtcDevice> device,
			 rtc::RtcFileWriter writer, Scheduler &scheduler, std::function<RealTime()> now, Logger &log)
	: device_(std::move(device)), scheduler_(scheduler), now_(std::move(now)), log_(log),
	  service_(std::move(config), *device_, std::move(writer), log)
{
}

RtcTracking::~RtcTracking()
{
	if (timer_) {
		scheduler_.cancel(*timer_);
	}
}

bool RtcTracking::load_file(std::string_view text)
{
	if (auto r = service_.load_file(text); !r) {
		log_.warning("{}; it is left as it is until the RTC has been measured anew", r.error().context);
		return false;
	}
	return true;
}

bool RtcTracking::start()
{
	auto first = service_.start();
	if (!first) {
		log_.error("{}; not tracking the RTC", first.error().message());
		return false;
	}
	arm(*first);
	return true;
}

void RtcTracking::arm(Duration after)
{
	if (timer_) {
		scheduler_.cancel(*timer_);
	}
	timer_ = scheduler_.add_timer(scheduler_.now() + after, [this] {
		timer_.reset();
		arm(service_.on_timer(now_()));
	});
}

void RtcTracking::on_readable()
{
	if (stopped_) {
		return;
	}
	if (auto next = service_.on_readable(now_())) {
		arm(*next);
	}
}

void RtcTracking::on_clock_change(const ClockChange &change)
{
	service_.on_clock_change(change);
}

control::RtcReport RtcTracking::report() const
{
	rtc::RtcStatus s = service_.status();
	control::RtcReport r;
	r.n_samples = static_cast<uint16_t>(std::min<size_t>(s.samples, 0xffff));
	r.n_runs = static_cast<uint16_t>(std::min<size_t>(s.runs, 0xffff));
	// Clamped as a double: a long is 32 bits on armhf, too short for the
	// field's range (and for lround of a span past 68 years).
	double span = std::clamp(to_seconds(s.span), 0.0, 4294967295.0);
	r.span_s = static_cast<uint32_t>(std::llround(span));
	if (s.model) {
		r.ref_time = s.model->ref;
		r.rtc_seconds_fast = s.model->offset_s;
		r.rtc_gain_rate_ppm = s.model->drift_ppm;
	}
	return r;
}

control::Status RtcTracking::write_file()
{
	auto w = service_.write_file();
	if (w) {
		return control::Status::Success;
	}
	if (w.error().code == make_error_code(Errc::NotFound)) {
		log_.info("{}", w.error().context);
		return control::Status::Success;
	}
	log_.error("{}", w.error().message());
	return control::Status::BadRtcFile;
}

control::Status RtcTracking::trim()
{
	auto t = service_.trim();
	if (!t) {
		log_.error("Could not trim the RTC: {}", t.error().message());
		return control::Status::Failed;
	}
	arm(*t);
	return control::Status::Success;
}

void RtcTracking::stop()
{
	if (stopped_) {
		return;
	}
	stopped_ = true;
	if (timer_) {
		scheduler_.cancel(*timer_);
		timer_.reset();
	}
	if (auto r = service_.stop(); !r) {
		log_.error("{}", r.error().message());
	}
}

} // namespace strata::daemon
