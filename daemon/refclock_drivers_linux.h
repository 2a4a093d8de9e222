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

#include <memory>
#include <vector>

#include "conf/config.h"
#include "core/log.h"
#include "core/result.h"
#include "core/time.h"
#include "refclock/sample.h"

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

/// The driver for a `refclock` line. Errors: a driver strata does not build,
/// a parameter the driver rejects, a device that cannot be used at all (a
/// SOCK path that is not a socket). A device that is merely
/// missing is not an error: the driver retries.
Result<std::unique_ptr<RefclockDriver>> make_refclock_driver(const conf::RefclockConfig &config, Logger &log);

} // namespace strata::daemon
