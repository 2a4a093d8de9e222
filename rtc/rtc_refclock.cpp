#include "rtc/rtc_refclock.h"
#include "core/text.h"

#include <cctype>
#include <utility>

#include <fmt/format.h>

namespace strata::rtc {

Result<RtcRefclockOptions> parse_rtc_refclock_parameter(std::string_view parameter)
{
	RtcRefclockOptions o;
	size_t colon = parameter.find(':');
	o.path = std::string(parameter.substr(0, colon));
	if (o.path.empty()) {
		return fail(Errc::InvalidArgument, fmt::format("refclock RTC: missing device in '{}'", parameter));
	}
	while (colon != std::string_view::npos) {
		parameter.remove_prefix(colon + 1);
		colon = parameter.find(':');
		std::string_view option = parameter.substr(0, colon);
		if (iequals(option, "utc")) {
			o.utc = true;
		} else {
			return fail(Errc::InvalidArgument,
				    fmt::format("refclock RTC: unknown option '{}' (known: utc)", option));
		}
	}
	return o;
}

RtcRefclock::RtcRefclock(std::string path, RtcTimescale timescale, Opener open, Logger &log)
	: path_(std::move(path)), timescale_(std::move(timescale)), open_(std::move(open)), log_(log)
{
}

int RtcRefclock::fd() const
{
	return device_ && !polling_ ? device_->fd() : -1;
}

void RtcRefclock::report(const std::string &message)
{
	if (failing_) {
		log_.debug("refclock RTC {}: {}", path_, message);
	} else {
		log_.error("refclock RTC {}: {}", path_, message);
		failing_ = true;
	}
}

void RtcRefclock::open_device()
{
	auto device = open_();
	if (!device) {
		report(fmt::format("{}; retrying at every poll", device.error().message()));
		return;
	}
	device_ = std::move(*device);
	if (auto on = device_->enable_update_interrupts(); !on) {
		// chronyd does the same: an RTC is still a clock without interrupts.
		polling_ = true;
		log_.info("refclock RTC {}: no update interrupts ({}); reading it at every poll, to ±0.5 s", path_,
			  on.error().message());
	} else {
		polling_ = false;
		skip_next_ = true;
		log_.info("refclock RTC {}: sampling the RTC at its update interrupts", path_);
	}
}

void RtcRefclock::close_device(const std::string &why)
{
	report(fmt::format("{}; closed, reopened at the next poll", why));
	if (device_ && !polling_) {
		(void)device_->disable_update_interrupts();  // likely to fail too; the close turns them off
	}
	device_.reset();
	polling_ = false;
}

std::optional<refclock::RawSample> RtcRefclock::sample_at(RealTime now, Duration into_second)
{
	auto rtc_s = device_->read_time();
	if (!rtc_s) {
		report(rtc_s.error().message());
		return std::nullopt;
	}
	auto reference = refclock::sample_time(timescale_.utc_from_rtc(*rtc_s), into_second.count(), 1'000'000'000);
	if (!reference) {
		report(fmt::format("RTC time {} is out of range", to_string(from_rtc_seconds(*rtc_s))));
		return std::nullopt;
	}
	failing_ = false;
	refclock::RawSample s{.reference = *reference, .local = now};
	if (into_second != Duration::zero()) {
		s.precision_s = 0.5;  // somewhere in its second
	}
	return s;
}

void RtcRefclock::poll(RealTime now, std::vector<refclock::RawSample> &out)
{
	if (!device_) {
		open_device();
		return;  // the first sample comes from the next interrupt or poll
	}
	if (polling_) {
		if (auto s = sample_at(now, std::chrono::milliseconds(500))) {
			out.push_back(*s);
		}
	}
}

void RtcRefclock::on_readable(RealTime now, std::vector<refclock::RawSample> &out)
{
	if (!device_ || polling_) {
		return;
	}
	auto update = device_->wait_update(Duration::zero());
	if (!update) {
		close_device(update.error().message());
		return;
	}
	if (!*update) {
		return;  // another kind of interrupt, or nothing after all
	}
	if (skip_next_) {
		skip_next_ = false;
		return;
	}
	if (auto s = sample_at(now, Duration::zero())) {
		out.push_back(*s);
	}
}

} // namespace strata::rtc
