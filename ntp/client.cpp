#include "ntp/client.h"

#include <algorithm>
#include <cmath>

namespace strata::ntp {

namespace {

/// A server's root distance above this is not a time source (RFC 5905 MAXDIST is 1.5 s; chrony's maxdistance default 3 s).
constexpr double kMaxRootDistance_s = 16.0;

} // namespace

ClientSource::ClientSource(const ClientConfig &config, Rng &rng)
	: config_(config),
	  rng_(rng),
	  poll_(std::clamp(config.minpoll, -7, 24)),
	  burst_left_(config.iburst ? 4 : 0)
{
}

void ClientSource::set_poll(int poll)
{
	poll_ = std::clamp(poll, config_.minpoll, std::max(config_.minpoll, config_.maxpoll));
}

double ClientSource::next_interval_s()
{
	if (burst_left_ > 0) {
		burst_left_--;
		return 2.0;
	}
	return std::ldexp(1.0, poll_);
}

std::array<std::byte, kHeaderSize> ClientSource::make_request(RealTime local_now)
{
	reach_ = static_cast<uint8_t>(reach_ << 1);
	uint64_t random = rng_.next();
	NtpTimestamp cookie{static_cast<uint32_t>(random >> 32), static_cast<uint32_t>(random)};
	if (cookie.is_zero()) {
		cookie.fraction = 1;
	}
	cookie_ = cookie;
	t1_ = local_now;
	Header h{.leap = Leap::None,
		 .version = static_cast<uint8_t>(config_.version),
		 .mode = Mode::Client,
		 .poll = static_cast<int8_t>(poll_),
		 .transmit = cookie};
	std::array<std::byte, kHeaderSize> out{};
	serialize(h, out);
	return out;
}

std::optional<ClientSample> ClientSource::on_response(std::span<const std::byte> datagram, RealTime rx_local,
						      Reject &why)
{
	auto packet = parse(datagram);
	if (!packet) {
		why = Reject::Malformed;
		return std::nullopt;
	}
	const Header &h = packet->header;
	if (h.mode != Mode::Server || h.version != config_.version) {
		why = Reject::NotAResponse;
		return std::nullopt;
	}
	if (!cookie_ || h.origin != *cookie_) {
		why = Reject::NoRequest;
		return std::nullopt;
	}
	cookie_.reset();  // one response per request
	// Stratum 0 with a kiss code (four ASCII capitals, RFC 5905 §7.4) is a
	// kiss-o'-death; stratum 0 without one is a server with no time yet.
	char code[5] = {static_cast<char>(h.ref_id >> 24), static_cast<char>(h.ref_id >> 16),
			static_cast<char>(h.ref_id >> 8), static_cast<char>(h.ref_id), 0};
	bool kiss_code = std::all_of(code, code + 4, [](char ch) { return ch >= 'A' && ch <= 'Z'; });
	if (h.stratum == 0 && kiss_code) {
		kiss_ = code;
		if (kiss_ == "RATE") {
			set_poll(poll_ + 1);  // RFC 5905 §7.4: slow down
		}
		why = Reject::KissOfDeath;
		return std::nullopt;
	}
	reach_ |= 1;
	if (h.leap == Leap::Unsynchronized || h.stratum == 0 || h.stratum >= 16) {
		why = Reject::Unsynchronized;
		return std::nullopt;
	}
	if (h.receive.is_zero() || h.transmit.is_zero()) {
		why = Reject::BadTimestamps;
		return std::nullopt;
	}
	RealTime t2 = from_ntp(h.receive, t1_);
	RealTime t3 = from_ntp(h.transmit, t1_);
	double delay = to_seconds(rx_local - t1_) - to_seconds(t3 - t2);
	double offset = (to_seconds(t2 - t1_) + to_seconds(t3 - rx_local)) / 2 + config_.offset_s;
	if (delay < 0 || to_seconds(t3 - t2) < 0) {
		why = Reject::BadTimestamps;
		return std::nullopt;
	}
	double root_delay = from_short(h.root_delay), root_dispersion = from_short(h.root_dispersion);
	if (delay > config_.maxdelay_s || root_delay / 2 + root_dispersion > kMaxRootDistance_s) {
		why = Reject::TooFar;
		return std::nullopt;
	}
	why = Reject::None;
	ClientSample s;
	s.sample = {.local = t1_ + (rx_local - t1_) / 2,
		    .offset_s = offset,
		    .delay_s = delay,
		    .dispersion_s = std::ldexp(1.0, h.precision)};
	s.info = {.stratum = h.stratum,
		  .ref_id = h.ref_id,
		  .root_delay_s = root_delay,
		  .root_dispersion_s = root_dispersion,
		  .leap = h.leap};
	return s;
}

} // namespace strata::ntp
