// Fuzz target for the cmdmon codec. Any datagram must be taken apart
// without a crash, both as a request (what the daemon reads from anyone who
// can reach port 323) and as a reply (what stratactl reads). What parses
// must encode back to something that parses to the same values, and the
// daemon's answers must never be longer than what they answer. Whatever a
// reply carries is also shown as chronyc's text and as JSON (both generic
// over the same descriptions as the codec), and JSON that reads back must
// write the same again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <type_traits>
#include <variant>

#include "control/cmdmon.h"
#include "control/fields_json.h"
#include "control/report_format.h"

namespace {

using namespace strata::control;

/// The JSON form of a struct: written (with any bytes a name holds), and
/// where it reads back, the same when written again.
template <class T>
void check_json(const T &r)
{
	nlohmann::json j = fields_json(r);
	(void)j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
	auto back = fields_from_json<T>(j);
	if (back && fields_json(*back) != j) {
		std::abort();
	}
}

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
	std::visit([](const auto &args) { check_json(args); }, request.args);
}

/// chronyc's text of a report, in both styles.
void show(const ReplyBody &body)
{
	for (TextStyle style : {TextStyle::Human, TextStyle::Csv}) {
		std::string text;
		std::visit(
			[&](const auto &r) {
				using T = std::decay_t<decltype(r)>;
				if constexpr (std::is_same_v<T, TrackingReport>) {
					text = format_tracking(r, numeric_name(r), style);
				} else if constexpr (std::is_same_v<T, SourceDataReport>) {
					text = format_source(r, numeric_name(r), style);
				} else if constexpr (std::is_same_v<T, SourceStatsReport>) {
					text = format_sourcestats_row(r, numeric_name(r), style);
				} else if constexpr (std::is_same_v<T, SelectDataReport>) {
					text = format_selectdata_row(r, numeric_name(r), style);
				} else if constexpr (std::is_same_v<T, AuthDataReport>) {
					text = format_authdata_row(r, "name", style);
				} else if constexpr (std::is_same_v<T, ClientAccessesReport>) {
					for (const ClientAccess &c : r.clients) {
						std::string name = address_text(c.address);
						text += format_client(c, name, false, style);
						text += format_client(c, name, true, style);
					}
				} else if constexpr (std::is_same_v<T, NtpDataReport>) {
					text = format_ntpdata(r, true, style);
				} else if constexpr (std::is_same_v<T, ServerStatsReport>) {
					text = format_serverstats(r, style);
				} else if constexpr (std::is_same_v<T, ActivityReport>) {
					text = format_activity(r, style);
				} else if constexpr (std::is_same_v<T, RtcReport>) {
					text = format_rtcdata(r, style);
				} else if constexpr (std::is_same_v<T, SmoothingReport>) {
					text = format_smoothing(r, style);
				} else if constexpr (std::is_same_v<T, SourceNameReport>) {
					text = format_sourcename(r, style);
				}
			},
			body);
		if (!text.empty() && text.back() != '\n') {
			std::abort();
		}
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
	std::visit([](const auto &body) { check_json(body); }, reply->body);
	show(reply->body);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::span<const std::byte> datagram(reinterpret_cast<const std::byte *>(data), size);
	check_request(datagram);
	check_reply(datagram);
	return 0;
}
