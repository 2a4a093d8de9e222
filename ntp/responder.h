// The NTP server's answer to one request (RFC 5905 §9, with chronyd's
// behaviour where the RFC leaves room). Pure: the request bytes, the receive
// timestamp and the reference go in, the reply bytes come out; the caller
// stamps the transmit time last (stamp_transmit).
//
// - Client (mode 3) requests get a server (mode 4) reply; symmetric-active
//   (mode 1) requests from unknown peers get a symmetric-passive (mode 2)
//   reply; NTPv1 requests (mode 0) are answered as clients, unless they come
//   from port 123 (another server). Modes 2 and 4–7 are never answered, so
//   the server cannot be used to reflect or amplify traffic: a reply is
//   always 48 bytes and never longer than its request.
// - The reply has the request's version, its transmit timestamp as origin,
//   the reference's leap, stratum (16 and above sent as 0), reference id and
//   time, root delay and dispersion.
// - Timestamps are fuzzed below the clock's precision, as chronyd does, so
//   that replies don't leak the low bits of the local clock.
// - Symmetric keys: a request with a valid MAC of a key of the keyfile gets
//   a reply with a MAC of the same key (as chronyd's). A request whose MAC
//   fails (a key id the keyfile does not have, no keyfile at all, or a
//   wrong MAC) gets RFC 5905's crypto-NAK: the reply's header followed by
//   a key id of zero and no MAC, which tells the client that the server
//   cannot authenticate it, where silence would look like a lost packet.
//   chronyd 4.3 stays silent there (its only NAK is NTS's); ntpd sends one.
//   A crypto-NAK that arrives as a request is never answered, so two
//   servers cannot NAK each other in a loop. Both are appended after the
//   transmit time is stamped (append_auth). The caller applies the access
//   rules and the rate limit to a request that gets a crypto-NAK as to any
//   other. Neither ever makes a reply longer than its request: a MAC is
//   as long as the request's, and a crypto-NAK (52 bytes) answers a request
//   of 68 bytes or more.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "core/random.h"
#include "core/reference.h"
#include "ntp/keys.h"
#include "ntp/packet.h"

namespace strata::ntp {

/// Why a request gets no reply (counted in the server statistics).
enum class Drop : uint8_t {
	None,
	Malformed,      ///< not a parseable NTP packet
	NotARequest,    ///< a mode we never answer (2, 4, 5, 6, 7, or v1 mode 0 from port 123)
	AuthFailed,     ///< a MAC of no known key, or a wrong one
};

/// A request that will be answered.
struct Request {
	Header header;
	Mode reply_mode = Mode::Server;
	/// The key whose valid MAC the request carries: the reply gets one too
	/// (nullptr: an unauthenticated request).
	const Key *key = nullptr;
	/// The request's MAC failed (no such key, or a wrong MAC): the reply is
	/// a crypto-NAK, and nothing of the request but its header is trusted.
	bool crypto_nak = false;
};

/// Checks a datagram: returns the request, or why it gets no reply (and, for
/// a malformed one, what is wrong with it in `detail` when given). A request
/// whose MAC fails is returned with `crypto_nak` set (`why` is AuthFailed
/// for it too, for the counters); a crypto-NAK as a request is dropped
/// (AuthFailed). `from_port_123` is whether the source port was 123.
/// `keys`: the keyfile's keys (nullptr: none). Does not allocate.
std::optional<Request> classify(std::span<const std::byte> datagram, bool from_port_123, Drop &why,
				std::string *detail = nullptr, const KeyStore *keys = nullptr);

struct ServerParams {
	int precision_log2 = -20;
	/// The ratelimit interval when rate limiting is on: the reply's poll is
	/// at least this, telling clients how often they may ask.
	std::optional<int> ratelimit_interval_log2;
};

/// Writes the reply to `request` into `out` and returns its length (48).
/// `kod` sends a RATE kiss-o'-death instead (leap 3, stratum 0, refid RATE).
/// The transmit timestamp is left zero: stamp_transmit() sets it.
size_t build_reply(const Request &request, RealTime receive, const Reference &reference, bool kod,
		   const ServerParams &params, Rng &rng, std::span<std::byte, kHeaderSize> out);

/// Sets the transmit timestamp of a built reply. The server reads the clock
/// for each reply just before that reply's own send system call, after the
/// whole batch was built (and after any batch delay): the time a reply
/// spends in the server is in its timestamps, not in its client's error.
void stamp_transmit(std::span<std::byte, kHeaderSize> reply, RealTime transmit, int precision_log2,
		    Rng &rng);

/// Completes a reply built and stamped for `request` (the 48 bytes at the
/// start of `packet`): appends the MAC of the request's key, or the
/// crypto-NAK, or nothing. Returns the reply's length; 0 when `packet` has
/// no room (it needs kHeaderSize + kMaxMacTrailer bytes at most). Call it
/// after stamp_transmit(): a MAC covers the transmit time. Does not allocate.
size_t append_auth(const Request &request, std::span<std::byte> packet);

/// The length of a crypto-NAK reply: the header and a zero key id.
inline constexpr size_t kCryptoNakLength = kHeaderSize + 4;

/// "RATE" as a reference id.
inline constexpr uint32_t kKissRate = 0x52415445;

} // namespace strata::ntp
