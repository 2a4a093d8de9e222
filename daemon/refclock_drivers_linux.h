// The reference-clock drivers as the daemon drives them: one interface over
// the polled drivers (SHM, PHC, kernel PPS: read every dpoll) and the
// event-driven ones (SOCK, GPIO, a PHC's external pulses, an RTC's update
// interrupts: read when their descriptor is readable), built from a
// `refclock` line.
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
#include "core/source_set.h"
#include "core/time.h"
#include "phc/phc_device_linux.h"
#include "refclock/gpio_linux.h"
#include "refclock/pps_linux.h"
#include "refclock/refclock.h"
#include "refclock/sample.h"
#include "refclock/shm_linux.h"
#include "rtc/rtc_device.h"

namespace strata::daemon {

class RefclockDriver {
public:
	virtual ~RefclockDriver() = default;

	/// Read every dpoll (SHM, PHC, PPS). Event-driven drivers return false
	/// and are read through fd()/receive().
	virtual bool polled() const = 0;
	/// Called every dpoll when polled(): appends what the device has.
	virtual void poll(MonoTime now, std::vector<refclock::RawSample> &out) = 0;
	/// The descriptor to watch for event-driven drivers, −1 otherwise. It
	/// may change after a device is reopened: read it again after poll().
	virtual int fd() const { return -1; }
	/// The descriptor is readable: appends what came.
	virtual void receive(MonoTime /*now*/, std::vector<refclock::RawSample> & /*out*/) {}
	/// Whether every sample is a pulse (PPS, GPIO): such a refclock needs a
	/// `lock` or a synchronised clock.
	virtual bool pulses() const { return false; }
	/// The driver's own precision when the configuration gives none.
	virtual double default_precision_s() const { return 1e-6; }
};

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
Result<std::unique_ptr<RefclockDriver>> make_refclock_driver(const conf::RefclockConfig &config, Logger &log,
							     const RefclockDevices &devices = {});

/// What the refclock framework does with refclock number `index` (from 0,
/// in configuration order) of `config`: its name, refid (the configured
/// one, else chronyd's default: the driver's first three letters and the
/// index, "PHC0", "GPI1"), intervals (dpoll at most poll), pulses (`pps`,
/// or a pulse driver), precision (the configured one, else the driver's),
/// filter and stratum.
refclock::RefclockSettings refclock_settings(const conf::RefclockConfig &config, size_t index,
					     const RefclockDriver &driver);

/// The refclock's entry in the source selection: its stratum and refid,
/// and the selection options (prefer, trust, require, noselect).
SourceInfo refclock_source_info(const conf::RefclockConfig &config, const refclock::RefclockSettings &settings);

} // namespace strata::daemon
