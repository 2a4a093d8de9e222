// One NTP server as a time source (client mode, RFC 5905 §8–9): builds the
// requests, checks the responses, turns each good response into a sample,
// keeps the reachability register and says when to poll next. Pure: the
// caller sends the bytes, reads the clock and runs the timers.
//
// The transmit timestamp of a request is a random cookie, not the local
// time (as chronyd does): the server copies it into the origin field, so a
// response is accepted only if it carries the cookie of the outstanding
// request — an off-path attacker cannot guess it, and a duplicate or late
// response finds no request to match.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/random.h"
#include "core/source_set.h"
#include "core/source_stats.h"
#include "ntp/packet.h"

namespace strata::ntp {

struct ClientConfig {
	int minpoll = 6;
	int maxpoll = 10;
	bool iburst = false;
	int version = 4;
	double maxdelay_s = 3.0;
	double offset_s = 0;  ///< the `offset` option: added to every sample's offset
};

/// Why a response was not used (for the log and the ntpdata report).
enum class Reject : uint8_t {
	None,
	Malformed,
	NotAResponse,   ///< wrong mode or version
	NoRequest,      ///< origin matches no outstanding request (late, duplicate, spoofed)
	KissOfDeath,    ///< stratum 0: RATE, DENY, RSTR…
	Unsynchronized, ///< leap 3 or stratum ≥ 16 from the server
	BadTimestamps,  ///< zero receive or transmit time, or a negative delay
	TooFar,         ///< root distance or delay above the limits
};

struct ClientSample {
	SourceSample sample;
	SourceInfo info;  ///< stratum, ref id, root delay and dispersion, leap from the packet
};

class ClientSource {
public:
	ClientSource(const ClientConfig &config, Rng &rng);

	/// The request to send now; `local_now` is the local time just before
	/// the send (t1). Each call replaces the outstanding request and shifts
	/// the reachability register.
	std::array<std::byte, kHeaderSize> make_request(RealTime local_now);

	/// A datagram from the server, received at local time `rx_local` (t4,
	/// from the kernel when it stamped it). A sample, or why there is none.
	std::optional<ClientSample> on_response(std::span<const std::byte> datagram, RealTime rx_local, Reject &why);

	/// Seconds until the next request: 2 s for the iburst requests, else the
	/// poll interval (2^poll).
	double next_interval_s();
	int poll() const { return poll_; }
	/// Sets the poll interval, clamped to [minpoll, maxpoll].
	void set_poll(int poll);
	/// The reachability register: bit 0 is the last poll, 1 = answered.
	uint8_t reach() const { return reach_; }
	/// The last kiss-o'-death code received (e.g. "RATE"), empty if none.
	const std::string &last_kiss() const { return kiss_; }

private:
	ClientConfig config_;
	Rng &rng_;
	int poll_;
	int burst_left_;
	uint8_t reach_ = 0;
	std::optional<NtpTimestamp> cookie_;
	RealTime t1_;
	std::string kiss_;
};

} // namespace strata::ntp
