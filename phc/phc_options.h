// The `refclock PHC` parameter: which PTP hardware clock to read, and how.
//
//   refclock PHC /dev/ptp0
//   refclock PHC eth0:nocrossts
//   refclock PHC /dev/ptp1:extpps:pin=1:channel=1:clear
//
// The device is a path (it starts with '/') or a network interface name,
// whose PHC the driver looks up through ethtool. The options are chronyd's:
// `nocrossts` never uses the hardware cross-timestamp (PTP_SYS_OFFSET_PRECISE),
// `extpps` takes a PPS signal time-stamped by the PHC on an external
// time-stamp channel, `pin` and `channel` choose the pin and channel (0 by
// default), and `clear` takes the falling edge instead of the rising one.
// conf/ has checked the syntax already; this is where the values take
// effect. Pure.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace strata::phc {

struct PhcOptions {
	/// "/dev/ptp0", or an interface name ("eth0") whose PHC is looked up.
	std::string device;
	/// Never use PTP_SYS_OFFSET_PRECISE (a cross-timestamp some drivers get
	/// wrong or take too long for), start with PTP_SYS_OFFSET_EXTENDED.
	bool nocrossts = false;
	/// Time-stamp an external PPS signal on the PHC: pulses come from
	/// receive(), and poll() only keeps the PHC−system reading fresh.
	bool extpps = false;
	int pin = 0;      ///< the programmable pin the signal is wired to (extpps)
	int channel = 0;  ///< the external time-stamp channel (extpps)
	bool clear = false;  ///< the falling edge (extpps); the rising one otherwise
	/// PHC readings per poll with PTP_SYS_OFFSET(_EXTENDED), 1–25 (the
	/// kernel's PTP_MAX_SAMPLES); not a chrony option.
	int readings = 10;
	/// The PHC's precision in seconds (the refclock's `precision` when one
	/// is configured): the least margin process_sandwiches() allows.
	double precision_s = 1e-9;

	/// Whether `device` names an interface rather than a path.
	bool by_interface() const { return device.empty() || device.front() != '/'; }
};

/// Parses "/dev/ptp0:extpps:pin=1" (options are case-insensitive, as conf/
/// matches them). Errors (Errc::InvalidArgument, naming the fault): an
/// empty device, an unknown option, a pin or channel that is not a number
/// in 0–65535 (a flag given a value is an unknown option).
Result<PhcOptions> parse_phc_parameter(std::string_view parameter);

} // namespace strata::phc
