#include "daemon/refclock_drivers_linux.h"

#include <time.h>

#include <algorithm>

#include <fmt/format.h>

#include "phc/phc_device_linux.h"
#include "phc/phc_options.h"
#include "refclock/gpio.h"
#include "refclock/gpio_linux.h"
#include "refclock/gpiod_linux.h"
#include "refclock/pps.h"
#include "refclock/pps_linux.h"
#include "refclock/shm_linux.h"
#include "refclock/sock_linux.h"
#include "rtc/rtc_linux.h"
#include "rtc/rtc_refclock.h"

namespace strata::daemon {

namespace {

class ShmDriver final : public refclock::Driver {
public:
	ShmDriver(refclock::ShmOptions options, Logger &log, refclock::ShmSyscalls sys) : shm_(options, log, std::move(sys))
	{
	}
	bool polled() const override { return true; }
	void poll(MonoTime now, std::vector<refclock::RawSample> &out) override
	{
		if (auto sample = shm_.poll(now)) {
			out.push_back(*sample);
		}
	}
	// gpsd and ntpd write microseconds at best, often with a serial line's
	// latency: chronyd's SHM default is the system's precision; the
	// filter's spread does the rest.
	double default_precision_s() const override { return 1e-6; }

private:
	refclock::ShmRefclock shm_;
};

class SockDriver final : public refclock::Driver {
public:
	SockDriver(refclock::SockRefclock sock, Logger &log) : sock_(std::move(sock)), log_(log) {}
	bool polled() const override { return false; }
	void poll(MonoTime, std::vector<refclock::RawSample> &) override {}
	int fd() const override { return sock_.fd(); }
	void receive(MonoTime now, std::vector<refclock::RawSample> &out) override
	{
		// A bounded number per wakeup: the socket stays readable when more wait.
		for (int i = 0; i < refclock::SockRefclock::kMaxDatagramsPerCall; i++) {
			auto got = sock_.receive(now);
			if (!got) {
				log_.debug("{}: {}", sock_.name(), got.error().message());
				return;
			}
			if (!*got) {
				return;
			}
			out.push_back(**got);
		}
	}

private:
	refclock::SockRefclock sock_;
	Logger &log_;
};

/// The kernel's PPS device, read (PPS_FETCH, no wait) every dpoll.
class PpsDriver final : public refclock::Driver {
public:
	explicit PpsDriver(refclock::PpsRefclock pps) : pps_(std::move(pps)) {}
	bool polled() const override { return true; }
	void poll(MonoTime now, std::vector<refclock::RawSample> &out) override
	{
		if (auto sample = pps_.poll(now)) {
			out.push_back(*sample);
		}
	}
	bool pulses() const override { return true; }
	// The kernel stamps the edge in its interrupt handler.
	double default_precision_s() const override { return 1e-7; }

private:
	refclock::PpsRefclock pps_;
};

/// A PPS on a GPIO line: edge events with the kernel's stamps. The line is
/// (re)opened at dpoll while it is not; its events wake the loop.
class GpioDriver final : public refclock::Driver {
public:
	explicit GpioDriver(refclock::GpioRefclock gpio) : gpio_(std::move(gpio)) {}
	bool polled() const override { return true; }
	void poll(MonoTime now, std::vector<refclock::RawSample> &) override { gpio_.retry(now); }
	int fd() const override { return gpio_.fd(); }
	void receive(MonoTime now, std::vector<refclock::RawSample> &out) override
	{
		auto samples = gpio_.receive(now);
		out.insert(out.end(), samples.begin(), samples.end());
	}
	bool pulses() const override { return true; }
	double default_precision_s() const override { return 1e-7; }

private:
	refclock::GpioRefclock gpio_;
};

/// A PTP hardware clock read every dpoll; with `:extpps`, the pulses it
/// time-stamps on its pin arrive as events.
class PhcDriver final : public refclock::Driver {
public:
	explicit PhcDriver(std::unique_ptr<phc::PhcRefclock> phc) : phc_(std::move(phc)) {}
	bool polled() const override { return true; }
	void poll(MonoTime now, std::vector<refclock::RawSample> &out) override
	{
		if (auto sample = phc_->poll(now)) {
			out.push_back(*sample);
		}
	}
	int fd() const override { return phc_->fd(); }
	void receive(MonoTime now, std::vector<refclock::RawSample> &out) override
	{
		for (int i = 0; i < 8; i++) {
			auto sample = phc_->receive(now);
			if (!sample) {
				return;
			}
			out.push_back(*sample);
		}
	}
	double default_precision_s() const override { return 1e-8; }

private:
	std::unique_ptr<phc::PhcRefclock> phc_;
};

/// The RTC (refclock RTC, rtc/rtc_refclock.h): samples at its update
/// interrupts, or read at every dpoll when it has none. Polled too, so that
/// a missing or failed device is reopened at dpoll.
class RtcDriver final : public refclock::Driver {
public:
	RtcDriver(std::unique_ptr<rtc::RtcRefclock> rtc, std::function<RealTime()> realtime)
		: rtc_(std::move(rtc)), realtime_(std::move(realtime))
	{
		if (!realtime_) {
			realtime_ = realtime_now;
		}
	}
	bool polled() const override { return true; }
	void poll(MonoTime, std::vector<refclock::RawSample> &out) override { rtc_->poll(realtime_(), out); }
	int fd() const override { return rtc_->fd(); }
	void receive(MonoTime, std::vector<refclock::RawSample> &out) override
	{
		rtc_->on_readable(realtime_(), out);
	}
	// chronyd's default for every refclock: the system's precision. The
	// interrupt's latency is tens of microseconds; the kernel's emulated
	// update interrupt is worse, which the filter's spread shows.
	double default_precision_s() const override { return 1e-6; }

private:
	/// Read before the device, so that its lateness is the sample's error.
	static RealTime realtime_now()
	{
		timespec ts{};
		::clock_gettime(CLOCK_REALTIME, &ts);
		return RealTime::from_parts(ts.tv_sec, ts.tv_nsec);
	}

	std::unique_ptr<rtc::RtcRefclock> rtc_;
	std::function<RealTime()> realtime_;
};

} // namespace

Result<std::unique_ptr<refclock::Driver>> make_refclock_driver(const conf::RefclockConfig &config, Logger &log,
							     const RefclockDevices &devices)
{
	if (config.driver == "SHM") {
		auto options = refclock::parse_shm_parameter(config.parameter);
		if (!options) {
			return tl::unexpected(options.error());
		}
		return std::make_unique<ShmDriver>(*options, log, devices.shm);
	}
	if (config.driver == "SOCK") {
		auto sock = refclock::SockRefclock::open(
			devices.sock_path ? devices.sock_path(config.parameter) : config.parameter, log);
		if (!sock) {
			return tl::unexpected(sock.error());
		}
		return std::make_unique<SockDriver>(std::move(*sock), log);
	}
	if (config.driver == "PPS") {
		auto options = refclock::parse_pps_parameter(config.parameter);
		if (!options) {
			return tl::unexpected(options.error());
		}
		auto pps = refclock::PpsRefclock::open(options->path, options->edge, log, devices.pps);
		if (!pps) {
			return tl::unexpected(pps.error());
		}
		return std::make_unique<PpsDriver>(std::move(*pps));
	}
	if (config.driver == "GPIO") {
		auto options = refclock::parse_gpio_parameter(config.parameter);
		if (!options) {
			return tl::unexpected(options.error());
		}
		auto lib = devices.gpio ? devices.gpio() : refclock::make_libgpiod();
		return std::make_unique<GpioDriver>(
			refclock::GpioRefclock(std::move(*options), log, std::move(lib), devices.gpio_clocks));
	}
	if (config.driver == "PHC") {
		auto options = phc::parse_phc_parameter(config.parameter);
		if (!options) {
			return tl::unexpected(options.error());
		}
		if (config.precision_s) {
			options->precision_s = *config.precision_s;
		}
		return std::make_unique<PhcDriver>(std::make_unique<phc::PhcRefclock>(std::move(*options), log, devices.phc));
	}
	if (config.driver == "RTC") {
		auto options = rtc::parse_rtc_refclock_parameter(config.parameter);
		if (!options) {
			return tl::unexpected(options.error());
		}
		rtc::RtcTimescale timescale{.on_utc = options->utc, .utc_offset = rtc::system_utc_offset};
		std::string path = options->path;
		auto opener = [path, open = devices.rtc]() -> Result<std::unique_ptr<rtc::RtcDevice>> {
			if (open) {
				return open(path);
			}
			auto device = rtc::RtcLinux::open(path);
			if (!device) {
				return tl::unexpected(device.error());
			}
			return std::make_unique<rtc::RtcLinux>(std::move(*device));
		};
		return std::make_unique<RtcDriver>(
			std::make_unique<rtc::RtcRefclock>(path, std::move(timescale), std::move(opener), log),
			devices.realtime);
	}
	return fail(Errc::Unsupported, fmt::format("refclock {} is not supported by strata yet", config.driver));
}

} // namespace strata::daemon
