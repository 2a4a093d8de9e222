// stratad's RTC tracking (`rtcfile`): rtc/rtc_service.h driven by the event
// loop. The service says when it wants its timer and reacts to the device's
// update interrupts; this class keeps exactly one timer armed for it, hands
// it the steered clock's time of each wakeup, tells it of every clock change
// the discipline makes, and answers chronyc's rtcdata, writertc and trimrtc.
//
// Who does what: daemon/main.cpp opens the device (rtc/rtc_linux.h), reads
// the rtcfile, builds this class, watches fd() on the PollLoop and calls
// on_readable(), and calls stop() at exit. Everything here is on the loop's
// thread.
//
// Pure (a Scheduler and an RtcDevice), so that tests run it with FakeRtc in
// simulated time.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "control/cmdmon.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/scheduler.h"
#include "rtc/rtc_device.h"
#include "rtc/rtc_service.h"

namespace strata::daemon {

class RtcTracking {
public:
	/// `now` gives the steered clock's time at the current wakeup (read as
	/// soon as poll() returned). `scheduler` and `log` must outlive this.
	RtcTracking(rtc::RtcServiceConfig config, std::unique_ptr<rtc::RtcDevice> device, rtc::RtcFileWriter writer,
		    Scheduler &scheduler, std::function<RealTime()> now, Logger &log);
	~RtcTracking();
	RtcTracking(const RtcTracking &) = delete;
	RtcTracking &operator=(const RtcTracking &) = delete;

	/// The rtcfile's content at start. A corrupt file is logged (a warning
	/// naming it and why) and left as it is until a valid estimate replaces
	/// it; returns whether the file was valid.
	bool load_file(std::string_view text);

	/// Begins measuring. False, with an error logged, when the RTC's update
	/// interrupt cannot be turned on: the caller then drops the RTC.
	bool start();

	/// The device's descriptor, for the loop to watch (POLLIN).
	int fd() const { return device_->fd(); }
	/// The descriptor was readable.
	void on_readable();
	/// The discipline stepped the clock or changed its frequency.
	void on_clock_change(const ClockChange &change);

	/// chronyc rtcdata.
	control::RtcReport report() const;
	/// chronyc writertc: Success (also when there is no valid estimate yet:
	/// the file is left as it is, as chronyd does), BadRtcFile when the
	/// file cannot be written.
	control::Status write_file();
	/// chronyc trimrtc: Success, or Failed when the update interrupt cannot
	/// be turned on (logged).
	control::Status trim();
	/// At exit: interrupts off, the rtcfile written if there is a valid
	/// estimate (a failure is logged).
	void stop();

	const rtc::RtcService &service() const { return service_; }

private:
	void arm(Duration after);

	std::unique_ptr<rtc::RtcDevice> device_;
	Scheduler &scheduler_;
	std::function<RealTime()> now_;
	Logger &log_;
	rtc::RtcService service_;
	std::optional<TimerId> timer_;
	bool stopped_ = false;
};

} // namespace strata::daemon
