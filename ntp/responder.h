// The NTP server's answer to one request (RFC 5905 §9, with chronyd's
// behaviour where the RFC leaves room). Pure: the request bytes, the receive
// timestamp, the reference and a clock to read the transmit time from go in;
// the reply bytes come out.
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
// - Requests with a MAC are dropped until symmetric keys are supported.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "core/random.h"
#include "core/reference.h"
#include "ntp/packet.h"

namespace strata::ntp {

/// Why a request gets no reply (counted in the server statistics).
enum class Drop : uint8_t {
	None,
	Malformed,      ///< not a parseable NTP packet
	NotARequest,    ///< a mode we never answer (2, 4, 5, 6, 7, or v1 mode 0 from port 123)
	Authenticated,  ///< carries a MAC; keys are not supported yet
};

/// A request that will be answered.
struct Request {
	Header header;
	Mode reply_mode = Mode::Server;
};

/// Checks a datagram: returns the request, or why it gets no reply (and, for
/// a malformed one, what is wrong with it in `detail` when given).
/// `from_port_123` is whether the source port was 123.
std::optional<Request> classify(std::span<const std::byte> datagram, bool from_port_123, Drop &why,
				std::string *detail = nullptr);

/// Reads the clock for the transmit timestamp, as late as possible.
class TransmitClock {
public:
	virtual ~TransmitClock() = default;
	virtual RealTime now() = 0;
};

struct ServerParams {
	int precision_log2 = -20;
	/// The ratelimit interval when rate limiting is on: the reply's poll is
	/// at least this, telling clients how often they may ask.
	std::optional<int> ratelimit_interval_log2;
};

/// Writes the reply to `request` into `out` and returns its length (48).
/// `kod` sends a RATE kiss-o'-death instead (leap 3, stratum 0, refid RATE).
size_t build_reply(const Request &request, RealTime receive, const Reference &reference, bool kod,
		   const ServerParams &params, Rng &rng, TransmitClock &clock, std::span<std::byte, kHeaderSize> out);

/// "RATE" as a reference id.
inline constexpr uint32_t kKissRate = 0x52415445;

} // namespace strata::ntp
