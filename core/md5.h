// MD5 (RFC 1321), from nettle. Not for security: NTP and chrony use its first four
// bytes as the reference id of an IPv6 address (RFC 5905 §7.3, "refid"), and
// chronyc prints that id next to IPv6 addresses in `ntpdata`, so strata needs
// the same digest to show and serve the same ids.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "core/address.h"

namespace strata {

using Md5Digest = std::array<uint8_t, 16>;

/// The MD5 digest of `data`.
Md5Digest md5(std::span<const uint8_t> data);

/// The reference id NTP gives an address: an IPv4 address itself (host
/// order), an IPv6 address the first four bytes of the MD5 digest of its 16
/// bytes, big-endian (what chronyd and ntpd put in the refid field).
uint32_t address_ref_id(const IpAddress &address);

} // namespace strata
