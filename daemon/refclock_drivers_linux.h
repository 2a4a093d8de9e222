// The reference-clock drivers over the real devices (refclock/driver.h's
// interface): the polled drivers (SHM, PHC, kernel PPS: read every dpoll)
// and the event-driven ones (SOCK, GPIO, a PHC's external pulses, an RTC's
// update interrupts: read when their descriptor is readable), built from a
// `refclock` line for the source engine (sources/engine.h).
//
// A driver only delivers RawSamples; refclock/refclock.h decides what they
// are worth. Drivers never throw and never end the daemon: a device that is
// missing or vanishes is their own to report and retry.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "conf/config.h"
#include "core/log.h"
#include "core/result.h"
#include "core/time.h"
#include "phc/phc_device_linux.h"
#include "refclock/driver.h"
#include "refclock/gpio_linux.h"
#include "refclock/pps_linux.h"
#include "refclock/refclock.h"
#include "refclock/sample.h"
#include "refclock/shm_linux.h"
#include "rtc/rtc_device.h"

namespace strata::daemon {

/// The lowest layer each driver talks to: the system calls, libgpiod, the
/// RTC device, the clock reads. Left empty (the default, what stratad
/// uses), a member means the real one. Tests fill them with the fakes under
/// tests/ (fake_shm.h, fake_pps.h, fake_gpio.h, fake_phc.h, rtc/fake_rtc.h)
/// to run the drivers' own code, built from configuration lines, against
/// simulated devices.
struct RefclockDevices {
	refclock::ShmSyscalls shm;
	refclock::PpsSyscalls pps;
	/// Makes the GpioLib of each GPIO refclock (refclock::make_libgpiod()).
	std::function<std::unique_ptr<refclock::GpioLib>()> gpio;
	refclock::GpioClocks gpio_clocks;
	phc::PhcSyscalls phc;
	/// Opens an RTC device by path (rtc::RtcLinux::open()).
	std::function<Result<std::unique_ptr<rtc::RtcDevice>>(const std::string &path)> rtc;
	/// The system clock as the RTC driver reads it (CLOCK_REALTIME).
	std::function<RealTime()> realtime;
	/// Where a SOCK refclock's socket is bound, given the configured path
	/// (the path itself). SOCK has no fake: its tests use real sockets in a
	/// directory of their own.
	std::function<std::string(const std::string &path)> sock_path;
};

/// The driver for a `refclock` line. Errors: a driver strata does not build,
/// a parameter the driver rejects, a device that cannot be used at all (a
/// SOCK path that is not a socket). A device that is merely
/// missing is not an error: the driver retries.
Result<std::unique_ptr<refclock::Driver>> make_refclock_driver(const conf::RefclockConfig &config, Logger &log,
							     const RefclockDevices &devices = {});

} // namespace strata::daemon
