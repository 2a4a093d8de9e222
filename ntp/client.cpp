#include "ntp/client.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace strata::ntp {

namespace {

/// A server's root distance above this is not a time source (RFC 5905 MAXDIST is 1.5 s; chrony's maxdistance default 3 s).
constexpr double kMaxRootDistance_s = 16.0;

} // namespace

/// iburst: until 4 good responses, at most 8 requests (chronyd's counts).
constexpr int kIburstGood = 4;
constexpr int kIburstTotal = 8;
constexpr int kBurstTotalMax = 4;
constexpr double kBurstInterval_s = 2.0;
constexpr double kPresendLead_s = 2.0;

ClientSource::ClientSource(const ClientConfig &config, Rng &rng)
	: config_(config), rng_(rng), poll_(std::clamp(config.minpoll, -7, 24))
{
	if (config_.key != nullptr && !config_.key_id) {
		config_.key_id = config_.key->id();
	}
	if (config_.key != nullptr && config_.key->id() != *config_.key_id) {
		config_.key = nullptr;  // never another key than the one asked for
	}
	if (config.iburst) {
		burst_good_ = kIburstGood;
		burst_total_ = kIburstTotal;
	}
}

bool delay_acceptable(const DelayLimits &limits, const std::optional<DelayTestData> &data, double offset_s,
		      double delay_s)
{
	if (limits.max_delay_quantile_s && delay_s > *limits.max_delay_quantile_s) {
		return false;
	}
	if (!data) {
		return true;
	}
	// What the oscillator and the frequency estimate may have drifted since
	// the newest sample widens both limits.
	double drift = data->since_last_s * (data->skew_ppm + limits.max_clock_error_ppm) * 1e-6;
	if (limits.maxdelayratio >= 1.0 && delay_s > data->min_delay_s * limits.maxdelayratio + drift) {
		return false;
	}
	if (limits.max_delay_quantile_s) {
		return true;  // the quantile replaces the deviation test
	}
	// The rise of the delay above the minimum, half of it on each way, may
	// be at most maxdelaydevratio standard deviations; unless the offset
	// moved even further from the prediction than the delay rose, which is
	// the clock (or the source) changing, not a delayed packet.
	double rise = (delay_s - data->min_delay_s) / 2;
	double allowed = data->stddev_s * limits.maxdelaydevratio + drift;
	if (rise <= allowed) {
		return true;
	}
	double error = offset_s - data->predicted_offset_s;
	return std::abs(error) - rise > allowed;
}

void ClientSource::reset()
{
	poll_ = std::clamp(config_.minpoll, -7, 24);
	reach_ = 0;
	unanswered_ = 0;
	cookie_.reset();
	kiss_.clear();
	burst_good_ = config_.iburst ? kIburstGood : 0;
	burst_total_ = config_.iburst ? kIburstTotal : 0;
	burst_ended_ = false;
	last_was_presend_ = false;
	presend_done_ = false;
	peer_transmit_ = {};
	peer_received_ = {};
}

void ClientSource::set_poll(int poll)
{
	// Up to maxpoll, or 1 s where maxpoll is shorter: a sub-second source
	// that is not on the local network is polled once a second (chronyd).
	poll_ = std::clamp(poll, config_.minpoll, std::max({config_.minpoll, config_.maxpoll, 0}));
}

const char *to_string(Reject why)
{
	switch (why) {
	case Reject::None:
		return "none";
	case Reject::Malformed:
		return "malformed";
	case Reject::NotAResponse:
		return "not a server response";
	case Reject::NoRequest:
		return "no matching request";
	case Reject::KissOfDeath:
		return "kiss-o'-death";
	case Reject::Unsynchronized:
		return "server unsynchronised";
	case Reject::BadTimestamps:
		return "bad timestamps";
	case Reject::TooFar:
		return "delay or root distance too large";
	case Reject::Presend:
		return "presend";
	case Reject::DelayRatio:
		return "maxdelayratio";
	case Reject::DelayDeviation:
		return "maxdelaydevratio";
	case Reject::AuthFailed:
		return "authentication failed";
	case Reject::CryptoNak:
		return "crypto-NAK";
	}
	return "?";
}

SourceSample combine_filtered(std::span<const SourceSample> samples)
{
	std::vector<SourceSample> chosen;
	if (samples.size() > 4) {
		double least = samples.front().dispersion_s;
		for (const auto &s : samples) {
			least = std::min(least, s.dispersion_s);
		}
		for (const auto &s : samples) {
			if (s.dispersion_s <= 1.5 * least) {
				chosen.push_back(s);
			}
		}
	}
	if (chosen.size() < 4) {
		chosen.assign(samples.begin(), samples.end());
	}
	std::sort(chosen.begin(), chosen.end(),
		  [](const SourceSample &a, const SourceSample &b) { return a.offset_s < b.offset_s; });
	size_t n = chosen.size();
	size_t from = n > 2 ? (n - 1) / 2 : 0;
	std::span<const SourceSample> kept(chosen.data() + from, n - 2 * from);
	const RealTime origin = kept.front().local;
	double since = 0, offset = 0, delay = 0, dispersion = 0;
	for (const auto &s : kept) {
		since += to_seconds(s.local - origin);
		offset += s.offset_s;
		delay += s.delay_s;
		dispersion += s.dispersion_s;
	}
	auto k = static_cast<double>(kept.size());
	offset /= k;
	double spread = kept.size() == 2 ? std::abs(kept[1].offset_s - kept[0].offset_s) / std::sqrt(2.0) : 0.0;
	return {.local = origin + from_seconds(since / k),
		.offset_s = offset,
		.delay_s = delay / k,
		.dispersion_s = std::max(dispersion / k, spread)};
}

double ClientSource::next_interval_s()
{
	double interval = std::ldexp(1.0, poll_);
	if (last_was_presend_) {
		return kPresendLead_s;
	}
	if (burst_total_ > 0) {
		return std::min(kBurstInterval_s, interval / 4);
	}
	return interval;
}

bool ClientSource::set_key(const Key *key)
{
	if (!config_.key_id || (key != nullptr && key->id() != *config_.key_id)) {
		return false;
	}
	config_.key = key;
	return true;
}

std::optional<OutPacket> ClientSource::make_request(RealTime local_now, const Reference *self)
{
	reach_ = static_cast<uint8_t>(reach_ << 1);
	unanswered_++;
	bool bursting = burst_total_ > 0;
	if (bursting) {
		burst_total_--;
	}
	// A regular poll: first the presend (if due), then the measured request,
	// which may open a burst that ends at its first good response.
	last_was_presend_ = false;
	if (!bursting && config_.presend_log2 > 0 && poll_ >= config_.presend_log2 && !presend_done_) {
		last_was_presend_ = true;
		presend_done_ = true;
	} else if (!bursting) {
		presend_done_ = false;
		if (config_.burst && poll_ > config_.minpoll) {
			burst_good_ = 1;
			burst_total_ = std::min(1 << std::min(poll_ - config_.minpoll, 2), kBurstTotalMax);
		}
	}
	NtpTimestamp cookie;
	if (config_.symmetric) {
		cookie = to_ntp(local_now);
	} else {
		uint64_t random = rng_.next();
		cookie = {static_cast<uint32_t>(random >> 32), static_cast<uint32_t>(random)};
	}
	if (cookie.is_zero()) {
		cookie.fraction = 1;
	}
	cookie_ = cookie;
	t1_ = local_now;
	Header h{.leap = Leap::None,
		 .version = static_cast<uint8_t>(config_.version),
		 .mode = config_.symmetric ? Mode::SymmetricActive : Mode::Client,
		 .poll = static_cast<int8_t>(poll_),
		 .transmit = cookie};
	if (config_.symmetric && !peer_transmit_.is_zero()) {
		h.origin = peer_transmit_;
		h.receive = to_ntp(peer_received_);
	}
	if (config_.symmetric && self != nullptr) {
		// As a server would answer (ntp/responder.cpp): stratum 16 and up
		// goes out as 0, unsynchronised.
		h.leap = self->leap;
		h.stratum = static_cast<uint8_t>(self->stratum >= 16 || self->stratum < 0 ? 0 : self->stratum);
		h.precision = static_cast<int8_t>(std::clamp(static_cast<int>(std::floor(std::log2(config_.precision_s))),
							       -32, 0));
		h.ref_id = self->ref_id;
		h.root_delay = to_short(self->root_delay_s);
		h.root_dispersion = to_short(self->root_dispersion_s);
		if (self->ref_time.since_epoch != Duration::zero()) {
			h.reference = to_ntp(self->ref_time);
		}
	}
	if (key_missing()) {
		return std::nullopt;  // fail closed: no request without its MAC
	}
	OutPacket out;
	serialize(h, std::span(out.data).first<kHeaderSize>());
	if (config_.key != nullptr) {
		// Room for the longest MAC is there, so this cannot fail.
		out.length = append_mac(*config_.key, out.data, kHeaderSize, config_.version);
	}
	return out;
}

void ClientSource::sample_accepted()
{
	if (burst_good_ > 0 && --burst_good_ == 0 && burst_total_ > 0) {
		burst_total_ = 0;
		burst_ended_ = true;
	}
}

void ClientSource::set_transmit_time(RealTime kernel_t1)
{
	if (cookie_ && std::abs(to_seconds(kernel_t1 - t1_)) < 1.0) {
		t1_ = kernel_t1;
	}
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
	bool mode_ok = config_.symmetric ? h.mode == Mode::SymmetricActive || h.mode == Mode::SymmetricPassive
					 : h.mode == Mode::Server;
	// Any version 1–4 (parse() refuses the others), as chronyd: a peer
	// may speak another version than ours (105-ntpauth's NTPv3 and NTPv4
	// peers), and a server answers in the request's anyway.
	if (!mode_ok) {
		why = Reject::NotAResponse;
		return std::nullopt;
	}
	// Before anything is taken from it (chronyd's test5): with a key, only
	// a valid MAC of that key; without one, no MAC (nor crypto-NAK) at all.
	bool authentic = config_.key_id ? config_.key != nullptr && has_valid_mac(*config_.key, datagram, *packet)
					: !packet->has_mac && !packet->crypto_nak;
	if (!authentic) {
		// A crypto-NAK that answers our signed request says why the
		// server will not answer it; its origin is the only thing checked,
		// and only to tell it apart from noise.
		bool answers = config_.key_id && packet->crypto_nak && cookie_ && h.origin == *cookie_;
		why = answers ? Reject::CryptoNak : Reject::AuthFailed;
		return std::nullopt;
	}
	if (config_.symmetric && !h.transmit.is_zero() && h.transmit != peer_transmit_) {
		// Whatever it answers, our next packet echoes it.
		peer_transmit_ = h.transmit;
		peer_received_ = rx_local;
	}
	if (!cookie_ || h.origin != *cookie_) {
		why = Reject::NoRequest;
		return std::nullopt;
	}
	cookie_.reset();  // one response per request
	unanswered_ = 0;
	if (last_was_presend_) {
		reach_ |= 1;
		why = Reject::Presend;
		return std::nullopt;
	}
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
	// The reachability register counts the answers that could be used for
	// synchronisation, as chronyd's (SRC_UpdateReachability with its
	// synced_packet): an unsynchronised server or peer is not reachable as
	// a time source, so that it neither holds up the start-up selection as
	// if its samples were about to come, nor counts as a source at all.
	if (h.leap == Leap::Unsynchronized || h.stratum == 0 || h.stratum >= 16) {
		why = Reject::Unsynchronized;
		return std::nullopt;
	}
	if (h.receive.is_zero() || h.transmit.is_zero()) {
		why = Reject::BadTimestamps;
		return std::nullopt;
	}
	RealTime t2 = from_ntp(h.receive);
	RealTime t3 = from_ntp(h.transmit);
	// As chronyd: the delay's magnitude, at least the two clocks' precision.
	// A server that fuzzes its timestamps below its precision (as chronyd and
	// strata do) can answer with t3 a little before t2, which makes the
	// difference of a short exchange slightly negative; that is noise, not a
	// bad packet.
	double precision = config_.precision_s + std::ldexp(1.0, h.precision);
	double delay = std::max(std::abs(to_seconds(rx_local - t1_) - to_seconds(t3 - t2)), precision);
	double offset = (to_seconds(t2 - t1_) + to_seconds(t3 - rx_local)) / 2 + config_.offset_s;
	double root_delay = from_short(h.root_delay), root_dispersion = from_short(h.root_dispersion);
	if (root_delay / 2 + root_dispersion > kMaxRootDistance_s) {
		why = Reject::TooFar;  // not synchronised well enough to count (chronyd's test 7)
		return std::nullopt;
	}
	reach_ |= 1;
	if (delay > config_.maxdelay_s) {
		why = Reject::TooFar;  // a usable server, a bad measurement (chronyd's test A)
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
