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
//
// A `peer` (symmetric active mode) works the same way but for what a peer
// needs of our packets: each carries the peer's last transmit timestamp and
// when it arrived here, and our real transmit time, since the peer measures
// its offset from them as we measure ours from its packets. Every packet of
// the peer updates what the next of ours carries; the one that answers our
// latest (its origin is our transmit time) is a measurement.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "core/random.h"
#include "core/reference.h"
#include "core/source_set.h"
#include "core/source_stats.h"
#include "ntp/keys.h"
#include "ntp/packet.h"

namespace strata::ntp {

struct ClientConfig {
	int minpoll = 6;
	int maxpoll = 10;
	bool iburst = false;
	/// `burst`: after a regular request, up to min(2^(poll − minpoll), 4)
	/// more 2 s apart until one good response comes (chronyd's rule).
	bool burst = false;
	/// `presend`: at polls of 2^presend s or longer, one extra request 2 s
	/// before the measured one, to warm up ARP caches on the path (0: off).
	int presend_log2 = 0;
	int version = 4;
	double maxdelay_s = 3.0;
	double offset_s = 0;  ///< the `offset` option: added to every sample's offset
	double precision_s = 1e-8;  ///< the local clock's reading precision
	/// `peer`: symmetric active mode (RFC 5905 §9): requests are mode 1 and
	/// carry the peer's last transmit time and when it came; the transmit
	/// timestamp is the real time, as the peer measures with it.
	bool symmetric = false;
	/// `key N`: every request carries key N's id and MAC, and only
	/// responses with a valid MAC of it are accepted. Without it, no
	/// authentication, and responses with a MAC are refused, as chronyd
	/// refuses a mode of authentication other than the source's. Taken
	/// from `key` when only that is given.
	std::optional<uint32_t> key_id;
	/// Key N as the keyfile holds it; nullptr while the keyfile has no key
	/// N: then nothing is sent at all (never a request without its MAC)
	/// and nothing is accepted, until set_key() brings it. Must outlive the
	/// source (or be replaced first).
	const Key *key = nullptr;
};

/// chronyd's `maxdelayratio` and `maxdelaydevratio` tests of a new sample
/// against the source's statistics. `max_clock_error_ppm` is the local
/// oscillator's assumed stability (`maxclockerror`).
struct DelayLimits {
	double maxdelayratio = 0;      ///< 0 (or < 1): off
	double maxdelaydevratio = 10;
	double max_clock_error_ppm = 1;
	/// `maxdelayquant`: the estimate of the delay quantile; when set, the
	/// delay must not exceed it, in place of the maxdelaydevratio test.
	std::optional<double> max_delay_quantile_s;
};
/// Whether a sample of `delay_s` (and `offset_s`, reference − local) passes
/// both tests; each is true while the statistics are too short to judge
/// (the quantile test is not: it needs no statistics).
bool delay_acceptable(const DelayLimits &limits, const std::optional<DelayTestData> &data, double offset_s,
		      double delay_s);

/// Why a response was not used (for the log and the ntpdata report).
enum class Reject : uint8_t {
	None,
	Malformed,
	NotAResponse,   ///< wrong mode
	NoRequest,      ///< origin matches no outstanding request (late, duplicate, spoofed)
	KissOfDeath,    ///< stratum 0: RATE, DENY, RSTR…
	Unsynchronized, ///< leap 3 or stratum ≥ 16 from the server
	BadTimestamps,  ///< zero receive or transmit time
	TooFar,         ///< root distance or delay above the limits
	Presend,        ///< the answer to a presend request: not a measurement
	DelayRatio,     ///< the delay is too far above the minimum (maxdelayratio)
	DelayDeviation, ///< the delay rose more than the jitter explains (maxdelaydevratio)
	AuthFailed,     ///< no valid MAC of the source's key (or a MAC where none was asked for)
	/// A crypto-NAK answering our request: the server cannot check our MAC
	/// (it has no such key, or another secret under its id). Nothing in it
	/// is authentic, so nothing of it is used: the request still waits.
	CryptoNak,
};

/// A few words for the log: "bad timestamps", "kiss-o'-death"…
const char *to_string(Reject why);

struct ClientSample {
	SourceSample sample;
	SourceInfo info;  ///< stratum, ref id, root delay and dispersion, leap from the packet
};

/// The `filter N` option: the samples of N consecutive polls become one, as
/// chronyd's median filter makes it. With more than four samples, those
/// whose dispersion is within 1.5 times the smallest are preferred (when
/// four or more are); of them, sorted by offset, the median is kept (the
/// middle two for an even count), averaged in time, offset and delay. The
/// dispersion is the larger of the kept samples' mean own and, for two,
/// their spread. A clock that drifts across the polls moves the samples
/// along a line, which neither the median nor this dispersion mistakes for
/// noise. `samples` must not be empty.
SourceSample combine_filtered(std::span<const SourceSample> samples);

class ClientSource {
public:
	ClientSource(const ClientConfig &config, Rng &rng);

	/// The request to send now; `local_now` is the local time just before
	/// the send (t1). Each call replaces the outstanding request and shifts
	/// the reachability register. In symmetric mode the packet also tells
	/// the peer what we are as a source: `self` is the reference we serve
	/// (leap, stratum, ref id and time, root delay and dispersion).
	/// With a key, the packet ends with its id and MAC. nullopt when the
	/// source's key is missing (key_missing()): nothing may be sent, but the
	/// poll counts as one whose request was lost.
	std::optional<OutPacket> make_request(RealTime local_now, const Reference *self = nullptr);

	/// The kernel's transmit timestamp of the outstanding request: it
	/// replaces the time read before the send as t1 (ignored when no request
	/// is outstanding or it is more than a second from that time).
	void set_transmit_time(RealTime kernel_t1);

	/// A datagram from the server, received at local time `rx_local` (t4,
	/// from the kernel when it stamped it). A sample, or why there is none.
	/// A datagram that fails authentication (AuthFailed, CryptoNak) changes
	/// nothing: not the outstanding request, not reach, not what a peer
	/// echoes. CryptoNak is said only of a crypto-NAK whose origin is the
	/// outstanding request's cookie (one that answers it; any other is
	/// AuthFailed), and only to a source that signs its requests.
	std::optional<ClientSample> on_response(std::span<const std::byte> datagram, RealTime rx_local, Reject &why);

	/// Seconds from the request just made to the next: 2 s within a burst
	/// (iburst, burst) and after a presend request, else the poll interval.
	double next_interval_s();
	/// The caller's tests (the delay tests) accepted the sample of the last
	/// response: it counts towards ending a burst (`iburst`, `burst`); a
	/// sample they reject does not, as in chronyd, so a burst goes on until
	/// a good measurement comes.
	void sample_accepted();
	/// True once after a burst ended early on its good responses: the
	/// caller moves its pending 2 s timer out to the poll interval.
	bool take_burst_ended() { return std::exchange(burst_ended_, false); }
	bool in_burst() const { return burst_total_ > 0; }
	/// chronyc `burst GOOD/TOTAL`: the next requests at 2 s intervals until
	/// `good` good responses or `total` requests.
	void start_burst(int good, int total)
	{
		burst_good_ = good;
		burst_total_ = total;
	}
	int poll() const { return poll_; }
	/// t1 of the last request (the kernel's transmit timestamp when it came).
	RealTime transmit_time() const { return t1_; }
	/// Sets the poll interval, clamped to [minpoll, maxpoll] (maxpoll below
	/// 0 still allows 1 s, the engine's limit for a source off the LAN).
	void set_poll(int poll);
	/// Back to the state of a new source (a pool member was replaced by
	/// another address): no reach, minpoll, the iburst again if configured.
	void reset();
	/// Requests sent since the last response of any kind from the server.
	int unanswered() const { return unanswered_; }
	/// The reachability register: bit 0 is the last poll, 1 = answered.
	uint8_t reach() const { return reach_; }
	/// Whether the latest request still waits for its response.
	bool awaiting_response() const { return cookie_.has_value(); }
	/// The last kiss-o'-death code received (e.g. "RATE"), empty if none.
	const std::string &last_kiss() const { return kiss_; }
	/// Whether requests are authenticated (`key N`), whether or not key N
	/// is loaded.
	bool authenticated() const { return config_.key_id.has_value(); }
	/// The N of `key N`.
	std::optional<uint32_t> key_id() const { return config_.key_id; }
	/// Key N (nullptr: no `key N`, or the keyfile lacks it).
	const Key *key() const { return config_.key; }
	/// `key N` is configured but not loaded: nothing is sent.
	bool key_missing() const { return config_.key_id && config_.key == nullptr; }
	/// Key N as a reloaded keyfile holds it (`rekey`), or nullptr when it
	/// lacks it now. A key of another id is refused (false).
	bool set_key(const Key *key);

private:
	ClientConfig config_;
	Rng &rng_;
	int poll_;
	int burst_good_ = 0;   ///< good responses that end the burst
	int burst_total_ = 0;  ///< requests the burst may still send
	bool burst_ended_ = false;
	bool last_was_presend_ = false;  ///< the outstanding request is a presend
	bool presend_done_ = false;      ///< this poll's presend has gone
	uint8_t reach_ = 0;
	int unanswered_ = 0;
	std::optional<NtpTimestamp> cookie_;
	RealTime t1_;
	/// Symmetric mode: the peer's latest transmit timestamp, and our local
	/// time when that packet came (what our next packet echoes).
	NtpTimestamp peer_transmit_;
	RealTime peer_received_;
	std::string kiss_;
};

} // namespace strata::ntp
