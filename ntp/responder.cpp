#include "ntp/responder.h"

#include <algorithm>

namespace strata::ntp {

namespace {

/// Replaces the fraction bits below the precision with random ones.
NtpTimestamp fuzz(NtpTimestamp ts, int precision_log2, Rng &rng)
{
	int random_bits = 32 + std::clamp(precision_log2, -32, 0);
	if (random_bits <= 0) {
		return ts;
	}
	uint32_t mask = random_bits >= 32 ? 0xffffffffu : (uint32_t{1} << random_bits) - 1;
	ts.fraction = (ts.fraction & ~mask) | (static_cast<uint32_t>(rng.next()) & mask);
	return ts;
}

} // namespace

std::optional<Request> classify(std::span<const std::byte> datagram, bool from_port_123, Drop &why,
				std::string *detail, const KeyStore *keys)
{
	auto packet = parse(datagram);
	if (!packet) {
		why = Drop::Malformed;
		if (detail != nullptr) {
			*detail = packet.error().context;
		}
		return std::nullopt;
	}
	const Header &h = packet->header;
	Request r{.header = h};
	switch (h.mode) {
	case Mode::Client:
		r.reply_mode = Mode::Server;
		break;
	case Mode::SymmetricActive:
		r.reply_mode = Mode::SymmetricPassive;
		break;
	case Mode::Reserved:
		// RFC 1059 clients send version 1 with mode 0; a server (port 123)
		// sending it is not a client.
		if (h.version != 1 || from_port_123) {
			why = Drop::NotARequest;
			return std::nullopt;
		}
		r.reply_mode = Mode::Server;
		break;
	default:
		why = Drop::NotARequest;
		return std::nullopt;
	}
	why = Drop::None;
	if (packet->crypto_nak) {
		why = Drop::AuthFailed;  // never a NAK for a NAK
		return std::nullopt;
	}
	if (packet->has_mac) {
		const Key *key = keys != nullptr ? keys->find(packet->key_id) : nullptr;
		if (key == nullptr || !has_valid_mac(*key, datagram, *packet)) {
			why = Drop::AuthFailed;
			r.crypto_nak = true;
		} else {
			r.key = key;
		}
	}
	return r;
}

size_t append_auth(const Request &request, std::span<std::byte> packet)
{
	int version = request.header.version;
	if (request.crypto_nak) {
		if (packet.size() < kCryptoNakLength) {
			return 0;
		}
		std::fill(packet.begin() + kHeaderSize, packet.begin() + kCryptoNakLength, std::byte{0});
		return kCryptoNakLength;
	}
	if (request.key != nullptr) {
		return append_mac(*request.key, packet, kHeaderSize, version);
	}
	return packet.size() < kHeaderSize ? 0 : kHeaderSize;
}

size_t build_reply(const Request &request, RealTime receive, const Reference &reference, bool kod,
		   const ServerParams &params, Rng &rng, std::span<std::byte, kHeaderSize> out)
{
	Header h;
	h.version = request.header.version;
	h.mode = request.reply_mode;
	int poll = request.header.poll;
	if (params.ratelimit_interval_log2) {
		poll = std::max(poll, *params.ratelimit_interval_log2);
	}
	h.poll = static_cast<int8_t>(std::clamp(poll, -128, 127));
	h.precision = static_cast<int8_t>(std::clamp(params.precision_log2, -32, 0));
	h.origin = request.header.transmit;
	h.receive = fuzz(to_ntp(receive), params.precision_log2, rng);
	if (kod) {
		h.leap = Leap::Unsynchronized;
		h.stratum = 0;
		h.ref_id = kKissRate;
	} else {
		h.leap = reference.leap;
		h.stratum = static_cast<uint8_t>(
			reference.stratum >= 16 || reference.stratum < 0 ? 0 : reference.stratum);
		h.ref_id = reference.ref_id;
		h.root_delay = to_short(reference.root_delay_s);
		h.root_dispersion = to_short(reference.root_dispersion_s);
		if (reference.ref_time.since_epoch != Duration::zero()) {
			h.reference = fuzz(to_ntp(reference.ref_time), params.precision_log2, rng);
		}
	}
	serialize(h, out);
	return kHeaderSize;
}

void stamp_transmit(std::span<std::byte, kHeaderSize> reply, RealTime transmit, int precision_log2,
		    Rng &rng)
{
	NtpTimestamp ts = fuzz(to_ntp(transmit), precision_log2, rng);
	for (size_t i = 0; i < 4; i++) {
		reply[40 + i] = static_cast<std::byte>(ts.seconds >> (24 - 8 * i));
		reply[44 + i] = static_cast<std::byte>(ts.fraction >> (24 - 8 * i));
	}
}

} // namespace strata::ntp
