// The interface of a reference clock driver: what the source engine
// (sources/engine.h) asks of a device, whatever it is. A driver only
// collects raw samples; judging, filtering and pulse locking are the
// refclock framework's (refclock/refclock.h), the scheduling is the
// engine's. The drivers that talk to devices live in daemon/
// (refclock_drivers_linux.cpp) over the seams of refclock/*_linux and
// phc/; the simulator and the tests have their own.
#pragma once

#include <vector>

#include "core/time.h"
#include "refclock/sample.h"

namespace strata::refclock {

class Driver {
public:
	virtual ~Driver() = default;

	/// Read every dpoll (SHM, PHC, PPS). Event-driven drivers return false
	/// and are read through fd()/receive().
	virtual bool polled() const = 0;
	/// Called every dpoll when polled(): appends what the device has. Never
	/// blocks.
	virtual void poll(MonoTime now, std::vector<RawSample> &out) = 0;
	/// The descriptor to watch for event-driven drivers, −1 otherwise. It
	/// may change after a device is reopened: read it again after poll()
	/// and receive().
	virtual int fd() const { return -1; }
	/// The descriptor is readable: appends what came. Never blocks.
	virtual void receive(MonoTime /*now*/, std::vector<RawSample> & /*out*/) {}
	/// Whether every sample is a pulse (PPS, GPIO): such a refclock needs a
	/// `lock` or a synchronised clock.
	virtual bool pulses() const { return false; }
	/// The driver's own precision when the configuration gives none.
	virtual double default_precision_s() const { return 1e-6; }
};

} // namespace strata::refclock
