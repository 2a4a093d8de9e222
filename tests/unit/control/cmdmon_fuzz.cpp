// Fuzz target for the cmdmon codec. Any datagram must be taken apart
// without a crash, both as a request (what the daemon reads from anyone who
// can reach port 323) and as a reply (what stratactl reads). What parses
// must encode back to something that parses to the same values, and the
// daemon's answers must never be longer than what they answer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <variant>

#include "control/cmdmon.h"

namespace {

using namespace strata::control;

void check_request(std::span<const std::byte> datagram)
{
	auto parsed = parse_request(datagram);
	if (const auto *rejection = std::get_if<Rejection>(&parsed)) {
		if (!rejection->status) {
			return;
		}
		auto reply = encode_reply(reply_to(*rejection));
		if (!reply || reply->size() > datagram.size()) {
			std::abort();
		}
		return;
	}
	const Request &request = std::get<Request>(parsed);
	// The reply this command expects fits within the request: no amplification.
	if (reply_length(expected_reply(request.command)) > datagram.size()) {
		std::abort();
	}
	auto again = encode_request(request);
	if (!again || again->size() != request_length(request.command) ||
	    again->size() > datagram.size()) {
		std::abort();
	}
	auto reparsed = parse_request(*again);
	const auto *same = std::get_if<Request>(&reparsed);
	if (!same || !(*same == request)) {
		std::abort();
	}
}

void check_reply(std::span<const std::byte> datagram)
{
	auto reply = parse_reply(datagram);
	if (!reply) {
		return;
	}
	auto again = encode_reply(*reply);
	if (!again || again->size() > datagram.size()) {
		std::abort();
	}
	auto reparsed = parse_reply(*again);
	if (!reparsed || !(*reparsed == *reply)) {
		std::abort();
	}
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::span<const std::byte> datagram(reinterpret_cast<const std::byte *>(data), size);
	check_request(datagram);
	check_reply(datagram);
	return 0;
}
