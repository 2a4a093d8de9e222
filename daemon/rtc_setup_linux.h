// stratad's start-up of the RTC: how it keeps time (`rtconutc`,
// `hwclockfile`), setting the system clock from it (-s), and the tracking
// of `rtcfile` on /dev/rtc (`rtcdevice`). The policy lives in
// rtc/rtc_service.h and daemon/rtc_tracking.h; this file opens the device,
// reads the files and logs what happened. A missing or failing RTC is never
// fatal: the daemon runs on without it.
#pragma once

#include <functional>
#include <memory>

#include "conf/config.h"
#include "conf/file_reader.h"
#include "core/log.h"
#include "core/scheduler.h"
#include "daemon/local_clock.h"
#include "daemon/rtc_tracking.h"
#include "rtc/rtc_service.h"

namespace strata::daemon {

/// The RTC's timescale for `rtcfile` and -s: the third line of
/// `hwclockfile` when one is configured (a file that cannot be read or says
/// neither UTC nor LOCAL is logged, and `rtconutc` decides), else
/// `rtconutc` (without it, local time, as chronyd assumes).
rtc::RtcTimescale rtc_timescale(const conf::Config &config, conf::FileReader &files, Logger &log);

/// stratad -s, before the sources start: sets the clock from the RTC
/// (`rtcdevice`, corrected by `rtcfile`'s model when there is a valid one),
/// or, when the RTC cannot be read or reads earlier than the drift file's
/// last modification, to that modification time if it is ahead of the
/// clock (chronyd(8)). A reading at an update interrupt with a model is
/// applied whatever its size; otherwise (no model, or an RTC without
/// interrupts, ±0.5 s) only a step of a second or more, as chronyd.
/// `steer` false (-x, or the kernel refused): the step is logged, not made.
void set_clock_at_start(const conf::Config &config, const rtc::RtcTimescale &timescale, conf::FileReader &files,
			LocalClock &clock, bool steer, Logger &log);

/// `rtcfile`: opens `rtcdevice`, reads the rtcfile and starts measuring.
/// nullptr, with the reason logged, when the RTC cannot be tracked (no
/// device, no update interrupt). `now` is the steered clock at the current
/// wakeup; `synchronized` whether the clock is synchronised (rtcautotrim);
/// `on_measurement` sees every measurement (rtc.log).
std::unique_ptr<RtcTracking> start_rtc_tracking(const conf::Config &config, const rtc::RtcTimescale &timescale,
						conf::FileReader &files, Scheduler &scheduler,
						std::function<RealTime()> now, std::function<bool()> synchronized,
						std::function<void(const rtc::RtcMeasurement &)> on_measurement,
						Logger &log);

} // namespace strata::daemon
