// The RTC as a reference clock: chrony.conf `refclock RTC /dev/rtcN[:utc]`
// (chrony 4.7's driver), a time source of last resort for a machine with
// nothing better (an isolated box whose RTC is a temperature-compensated
// chip, such as a DS3231).
//
// A sample is taken at each update interrupt: the RTC's new second began
// then, so the sample pairs the system time read as the interrupt was seen
// with that second (a whole second in UTC), exact to the interrupt latency.
// The first interrupt after turning them on is skipped (some chips, and the
// kernel's emulation, raise one at once that marks no second boundary). An
// RTC without update interrupts is read at every driver poll instead, and
// its reading taken as the middle of its second; such a sample is only good
// to ±0.5 s, which it reports as its precision (chronyd reports the
// system's precision for it; strata makes the filter and the selection see
// the half second).
//
// The RTC keeps local time unless `:utc` says UTC (chronyd's default;
// `rtconutc` and `hwclockfile` do not apply to the refclock), mapped with
// RtcTimescale. The driver cannot be used with `rtcfile` or `rtcsync` (they
// use or set the same RTC; conf/parser.cpp refuses the combination).
//
// A device that is missing, or that fails (a read error on its descriptor:
// the device went away), is closed and reopened at the next poll; the first
// failure is logged as an error, repeats as debug messages until it works
// again. Nothing here ends the daemon.
//
// Pure: the device comes from an injected opener (rtc/rtc_linux.h in the
// daemon, rtc/fake_rtc.h in tests); times are passed in.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/result.h"
#include "core/time.h"
#include "refclock/sample.h"
#include "rtc/rtc_device.h"
#include "rtc/rtc_service.h"

namespace strata::rtc {

/// The parameter of `refclock RTC`: "PATH[:utc]".
struct RtcRefclockOptions {
	std::string path;
	bool utc = false;
};
/// Errors: an empty path, an unknown option (Errc::InvalidArgument).
Result<RtcRefclockOptions> parse_rtc_refclock_parameter(std::string_view parameter);

class RtcRefclock {
public:
	/// Opens the device, "Could not open PATH: …" on failure.
	using Opener = std::function<Result<std::unique_ptr<RtcDevice>>()>;

	/// `timescale` maps the RTC's readings to UTC (`:utc`, or local time).
	/// Nothing is opened until the first poll().
	RtcRefclock(std::string path, RtcTimescale timescale, Opener open, Logger &log);

	const std::string &path() const { return path_; }

	/// Every driver poll (dpoll). Opens the device when it is not open (and
	/// turns its update interrupt on, or falls back to reading it here); in
	/// the fallback, appends a sample read now. `now` is the system time
	/// (CLOCK_REALTIME) read just before.
	void poll(RealTime now, std::vector<refclock::RawSample> &out);

	/// The descriptor to watch for update interrupts; −1 while the device is
	/// closed or read by polling. Read it again after poll() and
	/// on_readable(): it changes when the device is opened or closed.
	int fd() const;

	/// The descriptor was readable. `now` is the system time read right
	/// after poll() returned (its lateness is the sample's error). Appends
	/// the sample of an update interrupt; closes the device on an error.
	void on_readable(RealTime now, std::vector<refclock::RawSample> &out);

	bool is_open() const { return device_ != nullptr; }
	/// Read at each poll because the RTC has no update interrupt.
	bool polling() const { return polling_; }

private:
	void open_device();
	void close_device(const std::string &why);
	std::optional<refclock::RawSample> sample_at(RealTime now, Duration into_second);
	/// An error: at error level the first time since the device last
	/// worked, at debug level after that.
	void report(const std::string &message);

	std::string path_;
	RtcTimescale timescale_;
	Opener open_;
	Logger &log_;
	std::unique_ptr<RtcDevice> device_;
	bool polling_ = false;
	bool skip_next_ = false;
	bool failing_ = false;  ///< an error was reported and nothing has worked since
};

} // namespace strata::rtc
