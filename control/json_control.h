// strata's JSON control interface: one request, one reply, each a JSON
// object in one datagram on the daemon's Unix command socket, beside
// chrony's binary protocol (a datagram whose first byte is '{' is JSON; a
// chrony request starts with its version, 6). Documented in docs/control.md.
//
//   request:  {"version": 1, "command": "sources"}
//             {"version": 1, "command": "burst", "good": 4, "total": 8,
//              "address": "192.0.2.1"}
//   reply:    the report's object, as `stratactl -j` prints it
//             (control/report_json.h: "version", "report", fields), or a
//             status object ({"report": "status", "code": 200, …}) for
//             commands without a report and for every failure.
//
// Every request goes through dispatch() (control/dispatch.h), so the JSON
// interface answers exactly what the binary protocol answers: the same
// reports, the same refusals. A sender who is not privileged (not root, nor
// the daemon's own user: a member of the socket's monitoring group) gets the
// read-only reports only; anything that changes the daemon is refused with
// "501 Not authorised".
//
// Multi-source reports come whole in one reply (the daemon walks the
// sources itself); `clients` pages as chronyd does, up to kJsonClientsMax
// per reply, and says where the next page starts.
//
// Pure.
#pragma once

#include <string>
#include <string_view>

#include "control/dispatch.h"

namespace strata::control {

/// Clients in one JSON `clients` reply at most (a reply stays well inside a
/// Unix datagram's default buffer).
inline constexpr uint32_t kJsonClientsMax = 500;

/// Whether a datagram on the command socket is a JSON request.
bool is_json_request(std::string_view datagram);

/// The reply (one JSON object, serialised) to the JSON request `text`.
/// Malformed JSON, an unknown command, a missing or wrong argument and an
/// unsupported version each get a status object with code 502 or 503 and a
/// message naming the problem; nothing throws out of here.
std::string answer_json(std::string_view text, bool privileged, ControlHandler &handler);

} // namespace strata::control
