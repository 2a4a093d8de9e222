// The engine's NTP sources: configured lines (by address, by name, pools),
// polling, responses and their tests, and chronyc's commands on sources.
#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "conf/parser.h"
#include "sources/auth.h"
#include "sources/engine.h"

namespace strata::sources {

namespace {

/// A pool member is replaced after this many requests in a row without an
/// answer (a full reachability register).
constexpr int kReplaceAfterUnanswered = 8;

/// Two sourcedir lines are the same when they say the same.
std::string line_key(const conf::SourceConfig &c)
{
	conf::Config one;
	one.sources = {c};
	return conf::dump(one);
}

/// `maxdelayquant`: chronyd's estimator of the asked delay quantile (in
/// hundredths, 0.05 to 0.95), 7 estimates, steps of half the precision.
std::optional<QuantileEstimator> quantile_of(const conf::SourceConfig &c)
{
	if (c.maxdelayquant <= 0) {
		return std::nullopt;
	}
	double p = std::round(std::clamp(c.maxdelayquant, 0.05, 0.95) * 100) / 100;
	return QuantileEstimator(p, 7, kClockPrecisionS / 2);
}

} // namespace

NtpSource::NtpSource(const conf::SourceConfig &c, IpAddress a, Rng &rng, const ntp::Key *key)
	: config(c),
	  address(a),
	  client({.minpoll = c.minpoll_log2,
		  .maxpoll = c.maxpoll_log2,
		  .iburst = c.iburst,
		  .burst = c.burst,
		  .presend_log2 = c.presend_log2,
		  // chronyd's choice when `version` is not given: NTPv3 for a key
		  // whose MAC NTPv4 would truncate (older chronyd servers check it
		  // whole), else NTPv4.
		  .version = c.version.value_or(key != nullptr && key->digest_length() > ntp::kMaxV4MacLength ? 3 : 4),
		  .maxdelay_s = c.maxdelay_s,
		  .offset_s = c.offset_s,
		  .symmetric = c.kind == conf::SourceKind::Peer,
		  .key_id = c.key,
		  .key = key},
		 rng),
	  adapter(c.minpoll_log2, c.maxpoll_log2, static_cast<size_t>(c.polltarget)),
	  delay_quantile(quantile_of(c)),
	  online(!c.offline)
{
}

Result<> Engine::configure(const conf::SourceConfig &c)
{
	// Options parsed but not acted on yet: said once, not silently dropped.
	const conf::SourceConfig defaults;
	std::pair<bool, const char *> unsupported[] = {
		{c.xleave, "xleave"},
		{c.copy, "copy"},
		{!c.extfields.empty(), "extfield"},
		{c.certset != defaults.certset, "certset"},
		{c.maxunreach != defaults.maxunreach, "maxunreach"},
	};
	for (const auto &[set, name] : unsupported) {
		if (set) {
			env_.log.warning("Source {}: option {} is not supported by strata yet; ignored", c.host, name);
		}
	}
	// `key` and `nts` are never ignored: a source that cannot be
	// authenticated as configured is refused.
	if (auto ok = check_source_auth(c); !ok) {
		return ok;
	}
	bool ipv4 = settings_.ipv4 && !c.ipv6_only, ipv6 = settings_.ipv6 && !c.ipv4_only;
	uint32_t conf_id = next_conf_id_++;
	if (auto address = IpAddress::parse(c.host); address && c.kind != conf::SourceKind::Pool) {
		if (address->is_v4() ? !ipv4 : !ipv6) {
			env_.log.info("Source {}: address family disabled; ignored", c.host);
			return {};
		}
		configs_.emplace(conf_id, c);
		return add_source(c, *address, "", conf_id);
	}
	if (env_.resolver == nullptr) {
		return fail(Errc::Unsupported, fmt::format("Source {}: names cannot be resolved here", c.host));
	}
	configs_.emplace(conf_id, c);
	std::weak_ptr<Engine *> alive = self_;
	env_.resolver->resolve(c.host, ipv4, ipv6, [this, alive, conf_id](std::vector<IpAddress> addresses,
									  std::string error) {
		if (alive.expired()) {
			return;
		}
		auto it = configs_.find(conf_id);
		if (it == configs_.end()) {
			return;  // its line went away meanwhile (reload sources)
		}
		const conf::SourceConfig &line = it->second;
		if (addresses.empty()) {
			env_.log.warning("Could not resolve {}: {}", line.host, error);
			return;
		}
		size_t wanted = line.kind == conf::SourceKind::Pool ? static_cast<size_t>(line.maxsources) : 1;
		size_t added = 0;
		for (size_t k = 0; k < addresses.size() && added < wanted; k++) {
			if (find(addresses[k]) != nullptr) {
				if (line.kind != conf::SourceKind::Pool) {
					env_.log.warning("Source {}: {} is a source already; not added", line.host,
							 addresses[k].to_string());
				}
				continue;
			}
			if (auto ok = add_source(line, addresses[k], line.host, conf_id); !ok) {
				env_.log.error("{}", ok.error().message());
				break;
			}
			added++;
		}
	});
	return {};
}

Result<> Engine::add_source(const conf::SourceConfig &c, const IpAddress &address, const std::string &name,
			    uint32_t conf_id)
{
	if (ntp_.size() >= kMaxSources) {
		return fail(Errc::Busy, fmt::format("Source {} not added: {} sources already", address.to_string(),
						    kMaxSources));
	}
	// A key the keyfile lacks leaves the source silent until `rekey`
	// brings it (its first poll says so in the log).
	const ntp::Key *key = c.key && settings_.keys ? settings_.keys->find(*c.key) : nullptr;
	auto source = std::make_unique<NtpSource>(c, address, rng_, key);
	source->id = next_source_id_++;
	auto io = env_.io.open_source(source->id, address, c.kind == conf::SourceKind::Peer);
	if (!io) {
		return tl::unexpected(Error{io.error().code, fmt::format("Could not open NTP client socket for {}",
									 address.to_string())});
	}
	source->io = *io;
	source->label = name.empty() ? address.to_string() : fmt::format("{} ({})", address.to_string(), name);
	source->name = name;
	source->conf_id = conf_id;
	if (c.kind == conf::SourceKind::Pool) {
		source->pool_name = c.host;
	}
	SourceStatsConfig stats = set_.stats_config();
	if (c.minsamples) {
		stats.min_samples = static_cast<size_t>(std::max(*c.minsamples, 3));
	}
	if (c.maxsamples && *c.maxsamples > 0) {
		stats.max_samples = static_cast<size_t>(*c.maxsamples);
	}
	stats.fixed_min_delay_s = c.mindelay_s;
	stats.asymmetry = c.asymmetry;
	source->index = set_.add_source({.prefer = c.prefer, .trust = c.trust, .require = c.require,
					 .noselect = c.noselect, .ntp = true, .authenticated = c.key.has_value()},
					stats);
	entries_.push_back({.refclock = false, .position = ntp_.size()});
	env_.log.info("Added source {}{}{}", source->label, c.iburst ? " (iburst)" : "",
		      c.offline ? " (offline)" : "");
	adapt_poll(*source);  // sub-second polling waits until it is known to be near (chronyd)
	ntp_.push_back(std::move(source));
	// The first request after a short delay; the separation of polls keeps
	// several sources' first requests apart (chronyd's INITIAL_DELAY).
	if (ntp_.back()->online) {
		schedule_poll(*ntp_.back(), kInitialDelay_s);
	}
	return {};
}

void Engine::schedule_poll(NtpSource &s, double in_s)
{
	cancel(s.timer);
	MonoTime now = env_.scheduler.now();
	// As chronyd: each interval up to 2 % longer at random, so that many
	// clients of one server do not stay in step, and the requests of all
	// sources at least a separation apart (2^(poll − 3) s, within 2 ms and
	// 0.2 s), from the last one sent and from each one due.
	double r = 1.0 + kPollRandomness * rng_.uniform();
	double delay = std::max(in_s, 0.0) * r;
	double separation = std::clamp(std::ldexp(1.0, s.client.poll() - 3), kMinSeparation_s, kMaxSeparation_s) * r;
	if (last_request_sent_) {
		double since = to_seconds(now - *last_request_sent_);
		if (since >= 0 && since < separation && since + delay < separation) {
			delay = separation - since;
		}
	}
	std::vector<double> due;
	for (const auto &o : ntp_) {
		if (o.get() != &s && o->timer) {
			due.push_back(to_seconds(o->next_poll - now));
		}
	}
	std::sort(due.begin(), due.end());
	for (double d : due) {
		if (delay > d ? delay - d < separation : d - delay < separation) {
			delay = d + separation;
		}
	}
	s.next_poll = now + from_seconds(delay);
	NtpSource *raw = &s;
	s.timer = env_.scheduler.add_timer(s.next_poll, [this, raw] {
		raw->timer.reset();
		poll(*raw);
	});
}

void Engine::poll(NtpSource &s)
{
	if (!s.online && !s.client.in_burst()) {
		return;  // taken offline during a burst that has ended since
	}
	if (!s.pool_name.empty() && !s.replacing && s.client.unanswered() >= kReplaceAfterUnanswered) {
		replace(s);
	}
	if (s.client.reach() == 0 && set_.info(s.index).reachable && s.client.unanswered() >= 8) {
		set_.set_reachable(s.index, false);
		env_.log.info("Source {} is unreachable", s.label);
	}
	if (s.client.unanswered() > 0) {
		// The last request got no answer: count it for the filter, and
		// from the second miss in a row poll a little slower (more slowly
		// so for the selected source). chronyd backs off from the first:
		// on a network that loses one packet in five that keeps the
		// interval above what the statistics ask for (tools/sim, 20 %
		// loss, 200 seeds: RMS 79.8 -> 74.5 µs); a server that is down
		// misses twice and is backed off from all the same.
		if (s.client.unanswered() >= 2) {
			s.adapter.adjust(tracking_.selected == s.index ? 0.1 : 0.25);
		}
		adapt_poll(s);
		if (auto filtered = filter(s, nullptr)) {
			use_sample(s, *filtered);
		}
		if (tracking_.selected == s.index) {
			update(env_.clock.now());  // the leader missed a poll: a better source may take over (chronyd)
		}
	}
	RealTime t1 = env_.clock.now();
	std::optional<Reference> self;
	if (s.config.kind == conf::SourceKind::Peer) {
		self = env_.reference.current(t1, env_.scheduler.now());
	}
	auto request = s.client.make_request(t1, self ? &*self : nullptr);
	s.last_request = env_.scheduler.now();
	last_request_sent_ = s.last_request;
	s.polls++;
	if (!request) {
		// Fail closed: `key N` and no key N, so nothing goes out; the
		// poll counts as one whose request was lost (chronyd's).
		if (!s.key_missing_logged) {
			s.key_missing_logged = true;
			env_.log.warning("Source {}: key {} is not in the keyfile; no request sent until rekey loads it",
					 s.label, s.client.key_id().value_or(0));
		}
		schedule_poll(s, s.client.next_interval_s());
		return;
	}
	auto sent = env_.io.send(s.id, s.address, static_cast<uint16_t>(s.config.port), *request);
	if (sent) {
		s.total_tx++;
	} else {
		env_.log.debug("Could not send to {}: {}", s.label, sent.error().message());
		if (s.config.auto_offline) {
			env_.log.info("Source {} offline (auto_offline: {})", s.label, sent.error().message());
			set_online(s, false);
			return;
		}
	}
	schedule_poll(s, s.client.next_interval_s());
	check_special_mode();
}

void Engine::set_online(NtpSource &s, bool online)
{
	if (s.online == online) {
		return;
	}
	s.online = online;
	if (!online && s.client.in_burst()) {
		return;  // the burst goes on, then the source rests (chronyd's "return to offline")
	}
	cancel(s.timer);
	if (online) {
		schedule_poll(s, 0);
	}
}

void Engine::on_tx_timestamp(SourceId id, RealTime tx_system)
{
	if (NtpSource *s = find_id(id)) {
		s->client.set_transmit_time(env_.clock.from_system(tx_system));
	}
}

bool Engine::on_symmetric_packet(const RxPacket &d)
{
	for (const auto &s : ntp_) {
		if (s->config.kind == conf::SourceKind::Peer && s->address == d.from && s->config.port == d.from_port) {
			on_packet(s->id, d);
			return true;
		}
	}
	return false;
}

void Engine::on_packet(SourceId id, const RxPacket &d)
{
	NtpSource *found = find_id(id);
	if (found == nullptr || once_done_) {
		return;
	}
	NtpSource &s = *found;
	if (d.from != s.address || d.from_port != s.config.port) {
		return;  // not from this source
	}
	s.total_rx++;
	Reject why{};
	RealTime rx = env_.clock.from_system(d.rx_system);
	auto sample = s.client.on_response(d.payload, rx, why);
	if (why == Reject::CryptoNak) {
		// The server says it cannot check our MAC. Unauthenticated like
		// any packet without our key's MAC: counted and logged, nothing
		// of it used, the request still waits (chronyd ignores it too).
		s.crypto_naks++;
		if (!std::exchange(s.crypto_nak_logged, true)) {
			env_.log.warning("Source {}: crypto-NAK received: the server does not know key {} (or holds "
					 "another secret under it)",
					 s.label, s.client.key_id().value_or(0));
		}
		env_.log.debug("Response from {} not used: crypto-NAK", s.label);
		return;
	}
	if (why == Reject::AuthFailed) {
		// Nothing of it is used, as for a packet that is not an answer.
		s.auth_failures++;
		if (!std::exchange(s.auth_failure_logged, true)) {
			env_.log.warning("Source {}: authentication failed{}", s.label,
					 s.config.key ? fmt::format(" (key {})", *s.config.key) : std::string(" (a MAC it did not ask for)"));
		}
		env_.log.debug("Response from {} not used: authentication failed", s.label);
		return;
	}
	if (!sample) {
		log_measurement(s, d.payload, rx, why, nullptr, std::nullopt, 0);
		env_.log.debug("Response from {} not used: {}", s.label, ntp::to_string(why));
		if (why != Reject::Malformed && why != Reject::NotAResponse && why != Reject::NoRequest) {
			requeue_poll(s);
		}
		if (why != Reject::Malformed && why != Reject::NotAResponse && why != Reject::NoRequest &&
		    why != Reject::Presend) {
			// An answer to the poll, but no measurement: poll slower.
			s.adapter.adjust(0.1);
			adapt_poll(s);
			if (auto filtered = filter(s, nullptr)) {
				use_sample(s, *filtered);
			}
		}
		return;
	}
	s.total_valid++;
	if (auto packet = ntp::parse(d.payload)) {
		s.last_header = packet->header;
		s.last_local = d.local;
		s.last_response_time_s = to_seconds(ntp::from_ntp(packet->header.transmit) -
						    ntp::from_ntp(packet->header.receive));
		// A round trip timed on a clock that a slew speeds up (or slows
		// down) lasted 1 / (1 + slew) as long as it read: chronyd measures
		// on the clock with the whole correction applied at once. At the
		// start-up slew's 83,333 ppm, 8 % of the delay, which the delay
		// weights and tests would otherwise take for a shorter path.
		if (double slew = discipline_.slew_ppm(env_.scheduler.now()) * 1e-6; slew != 0) {
			double round_trip = sample->sample.delay_s + s.last_response_time_s;
			sample->sample.delay_s = std::max(0.0, round_trip / (1 + slew) - s.last_response_time_s);
		}
	}
	auto delay_data = set_.stats(s.index).delay_test_data(sample->sample.local);
	double delay = set_.stats(s.index).effective_delay(sample->sample.delay_s);
	log_measurement(s, d.payload, rx, why, &*sample, delay_data, delay);
	bool acceptable = ntp::delay_acceptable(delay_limits(s), delay_data, sample->sample.offset_s, delay);
	if (s.delay_quantile) {
		s.delay_quantile->add(delay, rng_);  // every synchronised answer, after its test (chronyd)
	}
	if (!acceptable) {
		env_.log.debug("Response from {} not used: delay {:.6f} s too far above the minimum", s.label,
			       sample->sample.delay_s);
		requeue_poll(s);
		s.adapter.adjust(0.02);
		adapt_poll(s);
		if (auto filtered = filter(s, nullptr)) {
			use_sample(s, *filtered);
		}
		return;
	}
	s.client.sample_accepted();
	SourceInfo info = sample->info;
	info.stratum = std::max(info.stratum, s.config.minstratum);
	info.prefer = s.config.prefer;
	info.trust = s.config.trust;
	info.require = s.config.require;
	info.noselect = s.config.noselect;
	info.ntp = true;
	info.authenticated = s.client.authenticated();
	set_.set_info(s.index, info);
	if (auto filtered = filter(s, &sample->sample)) {
		use_sample(s, *filtered);
	}
	requeue_poll(s);
}

ntp::DelayLimits Engine::delay_limits(const NtpSource &s) const
{
	ntp::DelayLimits limits{.maxdelayratio = s.config.maxdelayratio,
				.maxdelaydevratio = s.config.maxdelaydevratio,
				.max_clock_error_ppm = max_clock_error_ppm_};
	if (s.delay_quantile) {
		limits.max_delay_quantile_s = s.delay_quantile->quantile();
	}
	return limits;
}

void Engine::use_sample(NtpSource &s, const SourceSample &sample)
{
	s.total_good++;
	s.last_offset_s = sample.offset_s;
	s.last_delay_s = sample.delay_s;
	s.last_dispersion_s = sample.dispersion_s;
	// How far the sample lands from where the statistics expected it,
	// against its own distance: the poll adapter's measure of tracking.
	// With no sample yet the prediction is 0 (chronyd's): a first sample
	// far off sends the interval back to minpoll.
	double predicted = 0;
	if (auto e = set_.stats(s.index).estimate(sample.local)) {
		predicted = e->offset_s;
	}
	double error = sample.offset_s - predicted;
	double distance = sample.dispersion_s + sample.delay_s / 2;
	set_.add_sample(s.index, sample);
	RealTime now = env_.clock.now();
	log_statistics(s.index, now);
	if (auto e = set_.stats(s.index).estimate(now)) {
		s.adapter.on_sample(e->samples, error, distance);
		adapt_poll(s);
	}
	update(now);
}

void Engine::requeue_poll(NtpSource &s)
{
	(void)s.client.take_burst_ended();
	if (!s.online && !s.client.in_burst()) {
		cancel(s.timer);  // offline, and the burst it was left to finish is over
		return;
	}
	if (!s.timer || s.config.kind == conf::SourceKind::Peer) {
		return;  // offline; a peer keeps its own rhythm
	}
	// The answer is in: the next request a poll interval (as it stands
	// now: the adapter, a burst or a presend may have changed it) after
	// the last one, as chronyd requeues its timer on each response.
	schedule_poll(s, s.client.next_interval_s() - to_seconds(env_.scheduler.now() - s.last_request));
}

void Engine::adapt_poll(NtpSource &s)
{
	// Sub-second polling only of a reachable source on the local network.
	const SourceStats &stats = set_.stats(s.index);
	double min_delay = 1e9;
	for (const auto &sample : stats.samples()) {
		min_delay = std::min(min_delay, sample.delay_s);
	}
	if (stats.config().fixed_min_delay_s > 0) {
		min_delay = stats.config().fixed_min_delay_s;
	}
	s.client.set_poll(s.adapter.limit_subsecond(s.client.reach() != 0, min_delay));
}

std::optional<SourceSample> Engine::filter(NtpSource &s, const SourceSample *sample)
{
	if (s.config.filter <= 1) {
		return sample != nullptr ? std::optional(*sample) : std::nullopt;
	}
	if (sample != nullptr) {
		s.filtered.push_back(*sample);
	}
	if (++s.filter_polls < s.config.filter || s.filtered.empty()) {
		return std::nullopt;  // not yet; or nothing to combine (the next sample is)
	}
	SourceSample combined = ntp::combine_filtered(s.filtered);
	s.filtered.clear();
	s.filter_polls = 0;
	return combined;
}

void Engine::replace(NtpSource &s)
{
	if (env_.resolver == nullptr) {
		return;
	}
	s.replacing = true;
	bool ipv4 = settings_.ipv4 && !s.config.ipv6_only, ipv6 = settings_.ipv6 && !s.config.ipv4_only;
	SourceId id = s.id;
	std::weak_ptr<Engine *> alive = self_;
	env_.resolver->resolve(s.pool_name, ipv4, ipv6, [this, alive, id](std::vector<IpAddress> addresses,
									    std::string error) {
		if (alive.expired()) {
			return;
		}
		NtpSource *member = find_id(id);
		if (member == nullptr) {
			return;  // removed meanwhile
		}
		member->replacing = false;
		if (!move_to_fresh(id, addresses)) {
			env_.log.debug("Could not replace unreachable source {}: {}", member->label,
				       addresses.empty() ? error : std::string("no other address in the pool"));
		}
	});
}

bool Engine::move_to_fresh(SourceId id, const std::vector<IpAddress> &addresses)
{
	NtpSource *s = find_id(id);
	if (s == nullptr) {
		return false;
	}
	auto fresh = std::find_if(addresses.begin(), addresses.end(),
				  [&](const IpAddress &a) { return find(a) == nullptr; });
	if (fresh == addresses.end()) {
		return false;
	}
	auto io = env_.io.open_source(id, *fresh, s->config.kind == conf::SourceKind::Peer);
	if (!io) {
		env_.log.error("Could not open NTP client socket for {}: {}", fresh->to_string(), io.error().message());
		return false;
	}
	std::string old = s->address.to_string();
	s->address = *fresh;
	s->io = *io;
	s->label = fmt::format("{} ({})", s->address.to_string(), s->name);
	s->client.reset();
	s->polls = 0;
	s->filtered.clear();
	s->filter_polls = 0;
	if (s->delay_quantile) {
		s->delay_quantile->reset();  // a new server, a new path
	}
	s->last_header.reset();
	s->last_local.reset();
	set_.reset_source(s->index);
	s->adapter = PollAdapter(s->config.minpoll_log2, s->config.maxpoll_log2, static_cast<size_t>(s->config.polltarget));
	adapt_poll(*s);
	env_.log.info("Source {} replaced with {} ({})", old, s->address.to_string(), s->name);
	return true;
}

const NtpSource *Engine::find(const IpAddress &address) const
{
	for (const auto &s : ntp_) {
		if (s->address == address) {
			return s.get();
		}
	}
	return nullptr;
}

NtpSource *Engine::find_mutable(const IpAddress &address)
{
	return const_cast<NtpSource *>(find(address));
}

NtpSource *Engine::find_id(SourceId id)
{
	for (auto &s : ntp_) {
		if (s->id == id) {
			return s.get();
		}
	}
	return nullptr;
}

AddResult Engine::add(const conf::SourceConfig &c)
{
	if (ntp_.size() >= kMaxSources) {
		return AddResult::TooMany;
	}
	if (auto address = IpAddress::parse(c.host)) {
		if (find(*address) != nullptr) {
			return AddResult::AlreadyKnown;
		}
		bool ipv4 = settings_.ipv4 && !c.ipv6_only, ipv6 = settings_.ipv6 && !c.ipv4_only;
		if (address->is_v4() ? !ipv4 : !ipv6) {
			return AddResult::FamilyDisabled;
		}
	}
	env_.log.info("Adding source {} (chronyc)", c.host);
	if (auto configured = configure(c); !configured) {
		env_.log.error("{}", configured.error().message());
		return AddResult::Failed;
	}
	return AddResult::Added;
}

bool Engine::remove(const IpAddress &address)
{
	for (size_t pos = 0; pos < ntp_.size(); pos++) {
		if (ntp_[pos]->address != address) {
			continue;
		}
		uint32_t conf_id = ntp_[pos]->conf_id;
		remove_at(pos);
		// A line of chrony.conf or chronyc's without sources left is
		// forgotten; a sourcedir line is kept, so that `reload sources`
		// adds it again only when it changes (chronyd's rule).
		auto it = configs_.find(conf_id);
		bool others = std::any_of(ntp_.begin(), ntp_.end(), [&](const auto &o) { return o->conf_id == conf_id; });
		if (it != configs_.end() && !others && !it->second.from_sourcedir) {
			configs_.erase(it);
		}
		return true;
	}
	return false;
}

void Engine::remove_at(size_t position)
{
	NtpSource &s = *ntp_[position];
	size_t index = s.index;
	cancel(s.timer);
	env_.io.close_source(s.id);
	env_.log.info("Removed source {}", s.label);
	ntp_.erase(ntp_.begin() + static_cast<std::ptrdiff_t>(position));
	set_.remove_source(index);
	entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(index));
	auto &states = last_decision_.source_states;
	if (index < states.size()) {
		states.erase(states.begin() + static_cast<std::ptrdiff_t>(index));
	}
	for (auto &e : entries_) {
		if (!e.refclock && e.position > position) {
			e.position--;
		}
	}
	for (auto &o : ntp_) {
		if (o->index > index) {
			o->index--;
		}
	}
	for (auto &r : refclocks_) {
		if (r->index > index) {
			r->index--;
		}
	}
	bool was_selected = tracking_.selected == index;
	if (tracking_.selected && *tracking_.selected > index) {
		--*tracking_.selected;
	}
	if (was_selected) {
		// Another source may take over at once, as chronyd reselects.
		tracking_.selected.reset();
		update(env_.clock.now());
		if (!tracking_.selected) {
			env_.log.info("Can't synchronise: no selectable sources");
			lose_sync();
		}
	}
}

uint32_t Engine::set_online(const std::function<bool(const IpAddress &)> &match, bool online)
{
	uint32_t n = 0;
	for (auto &s : ntp_) {
		if (match(s->address)) {
			set_online(*s, online);
			n++;
		}
	}
	if (n > 0) {
		env_.log.info("{} source{} {}", n, n == 1 ? "" : "s", online ? "online" : "offline");
	}
	return n;
}

uint32_t Engine::burst(const std::function<bool(const IpAddress &)> &match, int good, int total)
{
	uint32_t n = 0;
	for (auto &s : ntp_) {
		if (!match(s->address) || !s->online) {
			continue;
		}
		s->client.start_burst(good, total);
		schedule_poll(*s, 0);
		n++;
	}
	return n;
}

void Engine::refresh()
{
	if (env_.resolver == nullptr) {
		return;
	}
	for (const auto &s : ntp_) {
		if (s->name.empty()) {
			continue;
		}
		bool ipv4 = settings_.ipv4 && !s->config.ipv6_only, ipv6 = settings_.ipv6 && !s->config.ipv4_only;
		SourceId id = s->id;
		std::weak_ptr<Engine *> alive = self_;
		env_.resolver->resolve(s->name, ipv4, ipv6, [this, alive, id](std::vector<IpAddress> addresses,
									       std::string error) {
			if (alive.expired()) {
				return;
			}
			NtpSource *source = find_id(id);
			if (source == nullptr) {
				return;
			}
			if (addresses.empty()) {
				env_.log.warning("Could not resolve {}: {}", source->name, error);
				return;
			}
			if (std::find(addresses.begin(), addresses.end(), source->address) != addresses.end()) {
				return;  // still one of the name's
			}
			if (!move_to_fresh(id, addresses)) {
				env_.log.info("Source {}: no longer an address of {}, and no other one free", source->label,
					      source->name);
			}
		});
	}
}

bool Engine::reload_sources()
{
	if (env_.files == nullptr) {
		return false;
	}
	conf::LoadResult loaded = conf::load_sourcedirs(*env_.files, sourcedirs_);
	for (const auto &d : loaded.diagnostics) {
		env_.log.warning("reload sources: {}", d.to_string());
	}
	std::map<std::string, int> wanted;
	for (const auto &c : loaded.config.sources) {
		wanted[line_key(c)]++;
	}
	// Lines still there stay as they are; the sources of the others go.
	std::vector<uint32_t> gone;
	for (const auto &[id, c] : configs_) {
		if (!c.from_sourcedir) {
			continue;
		}
		auto it = wanted.find(line_key(c));
		if (it != wanted.end() && it->second > 0) {
			it->second--;
		} else {
			gone.push_back(id);
		}
	}
	size_t removed = 0, added = 0;
	for (uint32_t id : gone) {
		configs_.erase(id);
		for (size_t pos = ntp_.size(); pos-- > 0;) {
			if (ntp_[pos]->conf_id == id) {
				remove_at(pos);
				removed++;
			}
		}
	}
	for (const auto &c : loaded.config.sources) {
		auto it = wanted.find(line_key(c));
		if (it == wanted.end() || it->second == 0) {
			continue;
		}
		it->second--;
		if (auto configured = configure(c); !configured) {
			env_.log.error("reload sources: {}", configured.error().message());
			continue;
		}
		added++;
	}
	env_.log.info("Reloaded sources: {} line{} added, {} source{} removed", added, added == 1 ? "" : "s", removed,
		      removed == 1 ? "" : "s");
	return true;
}

void Engine::set_keys(std::shared_ptr<const ntp::KeyStore> keys)
{
	for (const auto &s : ntp_) {
		std::optional<uint32_t> id = s->client.key_id();
		if (!id) {
			continue;
		}
		const ntp::Key *key = keys ? keys->find(*id) : nullptr;
		bool had = s->client.key() != nullptr;
		s->client.set_key(key);
		if (key == nullptr && had) {
			env_.log.warning("Source {}: key {} is no longer in the keyfile; no request sent until it is back",
					 s->label, *id);
			s->key_missing_logged = true;
		} else if (key != nullptr) {
			if (!had) {
				env_.log.info("Source {}: key {} loaded; requests resume", s->label, *id);
			}
			// With the new keys, the next failure or crypto-NAK is said again.
			s->key_missing_logged = false;
			s->auth_failure_logged = false;
			s->crypto_nak_logged = false;
		}
	}
	// Swapped after the sources: the old keys live until none points at them.
	settings_.keys = std::move(keys);
}

} // namespace strata::sources
