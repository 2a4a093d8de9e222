#include "daemon/ntp_sources_linux.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/md5.h"
#include "core/poll_adapter.h"
#include "conf/file_reader.h"
#include "conf/parser.h"
#include "daemon/atomic_file_linux.h"
#include "daemon/log_files_linux.h"
#include "daemon/refclock_drivers_linux.h"
#include "daemon/resolver_linux.h"
#include "refclock/local_follow.h"

namespace strata::daemon {

namespace {

/// A pool member is replaced after this many requests in a row without an
/// answer (a full reachability register).
constexpr int kReplaceAfterUnanswered = 8;

/// Without a drift file the discipline starts from the frequency the clock
/// already has (set by a previous run, or by another daemon), as chronyd does.
DisciplineConfig discipline_config(const conf::Config &c, const std::optional<DriftValues> &drift,
				   double current_ppm)
{
	DisciplineConfig d;
	d.initial_frequency_ppm = current_ppm;
	if (drift) {
		d.initial_frequency_ppm = drift->correction_ppm;
		d.initial_skew_ppm = drift->skew_ppm;
	}
	d.makestep = c.makestep;
	d.maxchange = c.maxchange;
	d.maxslewrate_ppm = c.maxslewrate_ppm;
	d.corrtimeratio = c.corrtimeratio;
	d.maxdrift_ppm = c.maxdrift_ppm;
	d.maxupdateskew_ppm = c.maxupdateskew_ppm;
	d.maxclockerror_ppm = c.maxclockerror_ppm;
	d.logchange_s = c.logchange_s;
	return d;
}

SelectionConfig selection_config(const conf::Config &c)
{
	return {.minsources = c.minsources,
		.maxdistance_s = c.maxdistance_s,
		.maxjitter_s = c.maxjitter_s,
		.stratumweight_s = c.stratumweight_s,
		.reselectdist_s = c.reselectdist_s,
		.combinelimit = c.combinelimit};
}

SourceStatsConfig stats_config(const conf::Config &c)
{
	return {.min_samples = static_cast<size_t>(std::max(c.minsamples, 3)),
		.max_samples = c.maxsamples > 0 ? static_cast<size_t>(c.maxsamples) : 64,
		.precision_s = 1e-8};
}

} // namespace

struct NtpSources::Source {
	Source(const conf::SourceConfig &c, IpAddress a, ntp::UdpSocket s, Rng &rng)
		: config(c),
		  address(a),
		  socket(std::move(s)),
		  client({.minpoll = c.minpoll_log2,
			  .maxpoll = c.maxpoll_log2,
			  .iburst = c.iburst,
			  .burst = c.burst,
			  .presend_log2 = c.presend_log2,
			  .version = c.version,
			  .maxdelay_s = c.maxdelay_s,
			  .offset_s = c.offset_s},
			 rng),
		  adapter(c.minpoll_log2, c.maxpoll_log2, static_cast<size_t>(c.polltarget)),
		  online(!c.offline)
	{
	}

	conf::SourceConfig config;
	IpAddress address;
	ntp::UdpSocket socket;
	ntp::ClientSource client;
	PollAdapter adapter;
	std::string label;  ///< "address" or "address (name)", for the log
	size_t index = 0;
	WatchId watch = 0;
	TimerId timer = 0;
	ntp::DatagramBatch<8, 1024> batch;
	bool online = true;
	bool replacing = false;
	uint32_t sends = 0;  ///< on this socket: the kernel numbers transmit timestamps so
	std::string pool_name;  ///< the pool's name for a pool member: it may be replaced
	std::string name;       ///< the configured name it was resolved from; empty for an address
	uint64_t id = 0;        ///< unique for the daemon's life: resolver answers find it by this
	uint32_t conf_id = 0;   ///< its configuration (NtpSources::configs_)
	RealTime last_request;
	std::vector<SourceSample> filtered;  ///< `filter N`: samples waiting to be combined
	// For the ntpdata and sources reports.
	std::optional<ntp::Header> last_header;  ///< the last valid response
	std::optional<IpAddress> last_local;     ///< where it arrived
	double last_offset_s = 0;                ///< its offset as measured (before clock changes)
	double last_delay_s = 0;
	double last_dispersion_s = 0;
	double last_response_time_s = 0;         ///< the server's t3 − t2
	uint32_t total_tx = 0, total_rx = 0, total_valid = 0, total_good = 0;
};

struct NtpSources::RefSource {
	RefSource(const conf::RefclockConfig &c, refclock::RefclockSettings settings, std::unique_ptr<RefclockDriver> d)
		: config(c), clock(std::move(settings)), driver(std::move(d))
	{
	}

	conf::RefclockConfig config;
	refclock::Refclock clock;
	std::unique_ptr<RefclockDriver> driver;
	std::string label;             ///< "GPS (SHM 0)", for the log
	size_t index = 0;              ///< in the SourceSet
	std::optional<size_t> lock;    ///< position in refclocks_ of the `lock` refclock
	TimerId timer = 0;
	WatchId watch = 0;
	int watched_fd = -1;
	int driver_polls = 0;          ///< since the last poll's end
	int log_sequence = 0;          ///< refclocks.log: samples in this poll interval
	uint8_t reach = 0;
	uint64_t missed_logged = 0;    ///< missed pulses already reported
	size_t min_samples = 6;        ///< its statistics' minsamples: `local` follows from then on
	refclock::BadSampleLog bad_log;
	std::vector<refclock::RawSample> batch;
};

NtpSources::NtpSources(const conf::Config &config, const Settings &settings, PollLoop &loop, Logger &log,
		       LocalClock &clock, ReferenceState &reference)
	: settings_(settings),
	  loop_(loop),
	  log_(log),
	  clock_(clock),
	  reference_(reference),
	  rng_(static_cast<uint64_t>(clock.now().since_epoch.count()) ^ static_cast<uint64_t>(::getpid())),
	  set_(selection_config(config), stats_config(config)),
	  discipline_(discipline_config(config, settings.drift, clock.frequency_ppm()), clock, log)
{
}

NtpSources::~NtpSources()
{
	for (auto &s : sources_) {
		loop_.unwatch(s->watch);
		loop_.cancel(s->timer);
	}
	for (auto &r : refclocks_) {
		if (r->watch != 0) {
			loop_.unwatch(r->watch);
		}
		loop_.cancel(r->timer);
	}
	if (discipline_timer_) {
		loop_.cancel(*discipline_timer_);
	}
	if (leap_timer_) {
		loop_.cancel(*leap_timer_);
	}
	if (fallback_timer_) {
		loop_.cancel(*fallback_timer_);
	}
}

Result<std::unique_ptr<NtpSources>> NtpSources::start(const conf::Config &config, const Settings &settings,
						      PollLoop &loop, Logger &log, LocalClock &clock,
						      ReferenceState &reference)
{
	std::unique_ptr<NtpSources> n(new NtpSources(config, settings, loop, log, clock, reference));
	// initstepslew's hosts are iburst servers like any other (chronyd adds
	// them so), unless the configuration already has them.
	std::vector<conf::SourceConfig> all = config.sources;
	if (config.initstepslew) {
		for (const auto &host : config.initstepslew->hosts) {
			bool configured = std::any_of(all.begin(), all.end(), [&](const conf::SourceConfig &c) {
				return c.host == host && c.kind == conf::SourceKind::Server;
			});
			if (!configured) {
				conf::SourceConfig c;
				c.host = host;
				c.iburst = true;
				all.push_back(c);
			}
		}
		n->init_step_threshold_ = config.initstepslew->threshold_s;
	}
	if (config.fallbackdrift) {
		n->fallback_ = std::make_unique<FallbackDrift>(config.fallbackdrift->min_log2, config.fallbackdrift->max_log2);
	}
	n->start_refclocks(config);
	n->sourcedirs_ = config.sourcedirs;
	for (const auto &c : all) {
		if (auto configured = n->configure(c); !configured) {
			return tl::unexpected(configured.error());
		}
	}
	n->log_unsynchronised();  // as chronyd's tracking.log starts
	return n;
}

Result<Resolver *> NtpSources::resolver()
{
	if (!resolver_) {
		auto resolver = Resolver::create(loop_);
		if (!resolver) {
			return tl::unexpected(resolver.error());
		}
		resolver_ = std::move(*resolver);
	}
	return resolver_.get();
}

Result<> NtpSources::configure(const conf::SourceConfig &c)
{
	if (c.kind == conf::SourceKind::Peer) {
		log_.warning("Source {}: peer is not supported by strata yet; ignored", c.host);
		return {};
	}
	// Options parsed but not acted on yet: said once, not silently dropped.
	const conf::SourceConfig defaults;
	std::pair<bool, const char *> unsupported[] = {
		{c.key.has_value(), "key"},
		{c.nts, "nts"},
		{c.xleave, "xleave"},
		{c.copy, "copy"},
		{!c.extfields.empty(), "extfield"},
		{c.maxdelayquant != defaults.maxdelayquant, "maxdelayquant"},
		{c.certset != defaults.certset, "certset"},
		{c.maxunreach != defaults.maxunreach, "maxunreach"},
	};
	for (const auto &[set, name] : unsupported) {
		if (set) {
			log_.warning("Source {}: option {} is not supported by strata yet; ignored", c.host, name);
		}
	}
	bool ipv4 = settings_.ipv4 && !c.ipv6_only, ipv6 = settings_.ipv6 && !c.ipv4_only;
	uint32_t conf_id = next_conf_id_++;
	if (auto address = IpAddress::parse(c.host); address && c.kind == conf::SourceKind::Server) {
		if (address->is_v4() ? !ipv4 : !ipv6) {
			log_.info("Source {}: address family disabled; ignored", c.host);
			return {};
		}
		configs_.emplace(conf_id, c);
		return add(c, *address, "", conf_id);
	}
	auto resolver = this->resolver();
	if (!resolver) {
		return tl::unexpected(resolver.error());
	}
	configs_.emplace(conf_id, c);
	(*resolver)->resolve(c.host, ipv4, ipv6, [this, conf_id](std::vector<IpAddress> addresses, std::string error) {
		auto it = configs_.find(conf_id);
		if (it == configs_.end()) {
			return;  // its line went away meanwhile (reload sources)
		}
		const conf::SourceConfig &line = it->second;
		if (addresses.empty()) {
			log_.warning("Could not resolve {}: {}", line.host, error);
			return;
		}
		size_t wanted = line.kind == conf::SourceKind::Pool ? static_cast<size_t>(line.maxsources) : 1;
		size_t added = 0;
		for (size_t k = 0; k < addresses.size() && added < wanted; k++) {
			if (find(addresses[k]) != nullptr) {
				if (line.kind != conf::SourceKind::Pool) {
					log_.warning("Source {}: {} is a source already; not added", line.host,
						     addresses[k].to_string());
				}
				continue;
			}
			if (auto ok = add(line, addresses[k], line.host, conf_id); !ok) {
				log_.error("{}", ok.error().message());
				break;
			}
			added++;
		}
	});
	return {};
}

Result<> NtpSources::add(const conf::SourceConfig &c, const IpAddress &address, const std::string &name,
			 uint32_t conf_id)
{
	if (sources_.size() >= kMaxSources) {
		return fail(Errc::Busy, fmt::format("Source {} not added: {} sources already", address.to_string(),
						    kMaxSources));
	}
	auto socket = ntp::UdpSocket::open({.family = address.family(), .tx_timestamps = true});
	if (!socket) {
		return fail_errno(fmt::format("Could not open NTP client socket for {}", address.to_string()),
				  socket.error().code.value());
	}
	auto source = std::make_unique<Source>(c, address, std::move(*socket), rng_);
	source->label = name.empty() ? address.to_string() : fmt::format("{} ({})", address.to_string(), name);
	source->name = name;
	source->id = next_source_id_++;
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
					 .noselect = c.noselect},
					stats);
	entries_.push_back({.refclock = false, .position = sources_.size()});
	Source *raw = source.get();
	source->watch = loop_.watch_fd(raw->socket.fd(), POLLIN, [this, raw](short revents) { on_socket(*raw, revents); });
	// Spread the first requests a little, as chronyd does.
	double start = 0.2 * static_cast<double>(sources_.size());
	if (source->online) {
		source->timer = loop_.add_timer(loop_.now() + from_seconds(start), [this, raw] { poll(*raw); });
	}
	log_.info("Added source {}{}{}", source->label, c.iburst ? " (iburst)" : "", c.offline ? " (offline)" : "");
	sources_.push_back(std::move(source));
	return {};
}

std::optional<DriftValues> NtpSources::drift() const
{
	if (discipline_.frequency_updates() == 0 || settings_.print_once || settings_.set_once) {
		return std::nullopt;
	}
	return DriftValues{.correction_ppm = discipline_.base_frequency_ppm(), .skew_ppm = discipline_.skew_ppm()};
}

void NtpSources::poll(Source &s)
{
	s.timer = 0;
	if (!s.pool_name.empty() && !s.replacing && s.client.unanswered() >= kReplaceAfterUnanswered) {
		replace(s);
	}
	if (s.client.reach() == 0 && set_.info(s.index).reachable && s.client.unanswered() >= 8) {
		set_.set_reachable(s.index, false);
		log_.info("Source {} is unreachable", s.label);
	}
	RealTime t1 = clock_.now();
	auto request = s.client.make_request(t1);
	s.last_request = t1;
	auto sent = s.socket.send_to(request, {s.address, static_cast<uint16_t>(s.config.port)});
	if (sent) {
		s.sends++;
		s.total_tx++;
	}
	if (!sent) {
		log_.debug("Could not send to {}: {}", s.label, sent.error().message());
		if (s.config.auto_offline) {
			log_.info("Source {} offline (auto_offline: {})", s.label, sent.error().message());
			set_online(s, false);
			return;
		}
	}
	s.timer = loop_.add_timer(loop_.now() + from_seconds(s.client.next_interval_s()), [this, &s] { poll(s); });
}

void NtpSources::set_online(Source &s, bool online)
{
	if (s.online == online) {
		return;
	}
	s.online = online;
	if (s.timer != 0) {
		loop_.cancel(s.timer);
		s.timer = 0;
	}
	if (online) {
		s.timer = loop_.add_timer(loop_.now(), [this, &s] { poll(s); });
	}
}

void NtpSources::replace(Source &s)
{
	if (!resolver_) {
		return;
	}
	s.replacing = true;
	bool ipv4 = settings_.ipv4 && !s.config.ipv6_only, ipv6 = settings_.ipv6 && !s.config.ipv4_only;
	uint64_t id = s.id;
	resolver_->resolve(s.pool_name, ipv4, ipv6, [this, id](std::vector<IpAddress> addresses, std::string error) {
		Source *member = find_id(id);
		if (member == nullptr) {
			return;  // removed meanwhile
		}
		member->replacing = false;
		if (!move_to_fresh(id, addresses)) {
			log_.debug("Could not replace unreachable source {}: {}", member->label,
				   addresses.empty() ? error : std::string("no other address in the pool"));
		}
	});
}

bool NtpSources::move_to_fresh(uint64_t id, const std::vector<IpAddress> &addresses)
{
	Source *s = find_id(id);
	if (s == nullptr) {
		return false;
	}
	auto fresh = std::find_if(addresses.begin(), addresses.end(), [&](const IpAddress &a) { return find(a) == nullptr; });
	if (fresh == addresses.end()) {
		return false;
	}
	std::string old = s->address.to_string();
	s->address = *fresh;
	s->label = fmt::format("{} ({})", s->address.to_string(), s->name);
	open_socket_for(*s);
	s->client.reset();
	s->filtered.clear();
	s->last_header.reset();
	s->last_local.reset();
	set_.reset_source(s->index);
	log_.info("Source {} replaced with {} ({})", old, s->address.to_string(), s->name);
	return true;
}

NtpSources::Source *NtpSources::find(const IpAddress &address)
{
	for (auto &s : sources_) {
		if (s->address == address) {
			return s.get();
		}
	}
	return nullptr;
}

NtpSources::Source *NtpSources::find_id(uint64_t id)
{
	for (auto &s : sources_) {
		if (s->id == id) {
			return s.get();
		}
	}
	return nullptr;
}

control::Status NtpSources::add_command(const conf::SourceConfig &c)
{
	if (sources_.size() >= kMaxSources) {
		return control::Status::TooManySources;
	}
	if (auto address = IpAddress::parse(c.host)) {
		if (find(*address) != nullptr) {
			return control::Status::SourceAlreadyKnown;
		}
		bool ipv4 = settings_.ipv4 && !c.ipv6_only, ipv6 = settings_.ipv6 && !c.ipv4_only;
		if (address->is_v4() ? !ipv4 : !ipv6) {
			return control::Status::InvalidAf;
		}
	}
	log_.info("Adding source {} (chronyc)", c.host);
	if (auto configured = configure(c); !configured) {
		log_.error("{}", configured.error().message());
		return control::Status::Failed;
	}
	return control::Status::Success;
}

bool NtpSources::remove(const IpAddress &address)
{
	for (size_t pos = 0; pos < sources_.size(); pos++) {
		if (sources_[pos]->address != address) {
			continue;
		}
		uint32_t conf_id = sources_[pos]->conf_id;
		remove_at(pos);
		// A line of chrony.conf or chronyc's without sources left is
		// forgotten; a sourcedir line is kept, so that `reload sources`
		// adds it again only when it changes (chronyd's rule).
		auto it = configs_.find(conf_id);
		bool others = std::any_of(sources_.begin(), sources_.end(), [&](const auto &o) { return o->conf_id == conf_id; });
		if (it != configs_.end() && !others && !it->second.from_sourcedir) {
			configs_.erase(it);
		}
		return true;
	}
	return false;
}

void NtpSources::remove_at(size_t position)
{
	Source &s = *sources_[position];
	size_t index = s.index;
	loop_.unwatch(s.watch);
	if (s.timer != 0) {
		loop_.cancel(s.timer);
	}
	log_.info("Removed source {}", s.label);
	sources_.erase(sources_.begin() + static_cast<std::ptrdiff_t>(position));
	set_.remove_source(index);
	entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(index));
	if (index < states_.size()) {
		states_.erase(states_.begin() + static_cast<std::ptrdiff_t>(index));
	}
	for (auto &e : entries_) {
		if (!e.refclock && e.position > position) {
			e.position--;
		}
	}
	for (auto &o : sources_) {
		if (o->index > index) {
			o->index--;
		}
	}
	for (auto &r : refclocks_) {
		if (r->index > index) {
			r->index--;
		}
	}
	bool was_selected = selected_ == index;
	if (selected_ && *selected_ > index) {
		--*selected_;
	}
	if (was_selected) {
		// Another source may take over at once, as chronyd reselects.
		selected_.reset();
		update(clock_.now());
		if (!selected_) {
			log_.info("Can't synchronise: no selectable sources");
			lose_sync();
		}
	}
}

void NtpSources::refresh()
{
	for (const auto &s : sources_) {
		if (s->name.empty()) {
			continue;
		}
		auto resolver = this->resolver();
		if (!resolver) {
			log_.error("{}", resolver.error().message());
			return;
		}
		bool ipv4 = settings_.ipv4 && !s->config.ipv6_only, ipv6 = settings_.ipv6 && !s->config.ipv4_only;
		uint64_t id = s->id;
		(*resolver)->resolve(s->name, ipv4, ipv6, [this, id](std::vector<IpAddress> addresses, std::string error) {
			Source *source = find_id(id);
			if (source == nullptr) {
				return;
			}
			if (addresses.empty()) {
				log_.warning("Could not resolve {}: {}", source->name, error);
				return;
			}
			if (std::find(addresses.begin(), addresses.end(), source->address) != addresses.end()) {
				return;  // still one of the name's
			}
			if (!move_to_fresh(id, addresses)) {
				log_.info("Source {}: no longer an address of {}, and no other one free", source->label,
					  source->name);
			}
		});
	}
}

namespace {

/// Two sourcedir lines are the same when they say the same.
std::string line_key(const conf::SourceConfig &c)
{
	conf::Config one;
	one.sources = {c};
	return conf::dump(one);
}

} // namespace

control::Status NtpSources::reload_sources()
{
	conf::SystemFileReader files;
	conf::LoadResult loaded = conf::load_sourcedirs(files, sourcedirs_);
	for (const auto &d : loaded.diagnostics) {
		log_.warning("reload sources: {}", d.to_string());
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
		for (size_t pos = sources_.size(); pos-- > 0;) {
			if (sources_[pos]->conf_id == id) {
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
			log_.error("reload sources: {}", configured.error().message());
			continue;
		}
		added++;
	}
	log_.info("Reloaded sources: {} line{} added, {} source{} removed", added, added == 1 ? "" : "s", removed,
		  removed == 1 ? "" : "s");
	return control::Status::Success;
}

std::optional<control::AuthDataReport> NtpSources::auth_data_report(const IpAddress &address) const
{
	for (const auto &s : sources_) {
		if (s->address == address) {
			// chronyd's report of a source without authentication: mode
			// none, no key exchange ever ("-").
			return control::AuthDataReport{.mode = control::AuthMode::None,
						       .last_ke_ago_s = std::numeric_limits<uint32_t>::max()};
		}
	}
	return std::nullopt;
}

Result<size_t> NtpSources::dump(const std::string &dir) const
{
	size_t written = 0;
	for (size_t i = 0; i < entries_.size(); i++) {
		std::string name = log_name(i);
		std::string text = fmt::format("# strata measurement history of {} (strata's format 1, not chronyd's)\n"
					       "# local time (s since 1970, UTC)  offset (s, reference - local)  "
					       "delay (s)  dispersion (s)\n",
					       name);
		for (const auto &sample : set_.stats(i).samples()) {
			text += fmt::format("{}.{:09} {:+.9e} {:.9e} {:.9e}\n", sample.local.seconds(),
					    sample.local.subsec_ns(), sample.offset_s, sample.delay_s, sample.dispersion_s);
		}
		std::string path = dir;
		if (!path.ends_with('/')) {
			path += '/';
		}
		path += name + ".dat";
		if (auto ok = write_file_atomically(path, text); !ok) {
			return tl::unexpected(ok.error());
		}
		written++;
	}
	return written;
}

void NtpSources::schedule_fallback()
{
	if (fallback_timer_) {
		loop_.cancel(*fallback_timer_);
		fallback_timer_.reset();
	}
	double silent = to_seconds(loop_.now() - *last_update_);
	auto next = fallback_->next_due_s(silent);
	if (!next) {
		return;
	}
	fallback_timer_ = loop_.add_timer(*last_update_ + from_seconds(*next), [this] {
		fallback_timer_.reset();
		if (auto step = fallback_->due(to_seconds(loop_.now() - *last_update_))) {
			log_.info("Fallback drift {} active: {:.3f} ppm", step->level, -step->freq_ppm);
			apply(discipline_.set_base_frequency(step->freq_ppm));
		}
		schedule_fallback();
	});
}

void NtpSources::schedule_leap_correction(Leap leap)
{
	if (leap_timer_) {
		loop_.cancel(*leap_timer_);
		leap_timer_.reset();
	}
	if (leap != Leap::Insert && leap != Leap::Delete) {
		return;
	}
	// After an inserted second the clock is a second ahead of UTC; after a
	// deleted one, a second behind.
	double correction = leap == Leap::Insert ? -1.0 : 1.0;
	RealTime now = clock_.now();
	int64_t midnight = (now.seconds() / 86400 + 1) * 86400;
	double wait = to_seconds(RealTime::from_parts(midnight, 0) - now);
	leap_timer_ = loop_.add_timer(loop_.now() + from_seconds(wait), [this, correction] {
		leap_timer_.reset();
		if (settings_.leap_mode == LeapMode::Step) {
			RealTime at = clock_.now();
			if (auto stepped = clock_.step(from_seconds(correction)); !stepped) {
				log_.error("Could not step the clock for the leap second: {}", stepped.error().message());
				return;
			}
			log_.info("System clock stepped by {:+.0f} second for the leap second", correction);
			clock_changed({at, correction, 0.0, clock_.frequency_ppm()});
		} else {
			log_.info("Slewing the system clock by {:+.0f} second for the leap second", correction);
			apply(discipline_.slew_offset(correction, loop_.now()));
		}
	});
}

void NtpSources::open_socket_for(Source &s)
{
	auto socket = ntp::UdpSocket::open({.family = s.address.family(), .tx_timestamps = true});
	if (!socket) {
		log_.error("Could not open NTP client socket for {}: {}", s.address.to_string(),
			   socket.error().message());
		return;
	}
	loop_.unwatch(s.watch);
	s.socket = std::move(*socket);
	Source *raw = &s;
	s.sends = 0;
	s.watch = loop_.watch_fd(s.socket.fd(), POLLIN, [this, raw](short revents) { on_socket(*raw, revents); });
}

size_t NtpSources::set_online(const std::optional<IpAddress> &address, bool online)
{
	size_t n = 0;
	for (auto &s : sources_) {
		if (!address || s->address == *address) {
			set_online(*s, online);
			n++;
		}
	}
	return n;
}

void NtpSources::on_socket(Source &s, short revents)
{
	if ((revents & POLLERR) != 0) {
		// Transmit timestamps (several, if polls were quick): the newest
		// request's replaces the time read before its send.
		for (;;) {
			auto stamp = s.socket.read_tx_timestamp();
			if (!stamp) {
				log_.debug("Could not read the transmit timestamp for {}: {}", s.label,
					   stamp.error().message());
				break;
			}
			if (!*stamp) {
				break;
			}
			if ((*stamp)->id + 1 == s.sends) {
				s.client.set_transmit_time(clock_.from_system((*stamp)->at));
			}
		}
	}
	if ((revents & POLLIN) != 0) {
		receive(s);
	}
}

void NtpSources::receive(Source &s)
{
	auto received = s.socket.receive(s.batch.slots());
	if (!received) {
		log_.debug("Could not receive from {}: {}", s.label, received.error().message());
		return;
	}
	for (const auto &d : s.batch.first(*received)) {
		if (d.peer.ip != s.address || d.peer.port != s.config.port) {
			continue;  // not from this source
		}
		s.total_rx++;
		ntp::Reject why{};
		RealTime rx = clock_.from_system(d.rx_time);
		auto sample = s.client.on_response(d.payload(), rx, why);
		if (sample) {
			s.total_valid++;
		}
		if (sample) {
			if (auto packet = ntp::parse(d.payload())) {
				s.last_header = packet->header;
				s.last_local = d.local;
				s.last_response_time_s = to_seconds(ntp::from_ntp(packet->header.transmit, d.rx_time) -
								    ntp::from_ntp(packet->header.receive, d.rx_time));
			}
		}
		if (!sample) {
			log_measurement(s, d.payload(), rx, why, nullptr, std::nullopt, 0);
			log_.debug("Response from {} not used: {}", s.label, ntp::to_string(why));
			continue;
		}
		if (s.client.take_burst_ended() && s.timer != 0) {
			// The burst is over early: the next request at the poll interval.
			loop_.cancel(s.timer);
			double wait = std::ldexp(1.0, s.client.poll()) - to_seconds(clock_.now() - s.last_request);
			s.timer = loop_.add_timer(loop_.now() + from_seconds(std::max(wait, 0.0)), [this, &s] { poll(s); });
		}
		auto delay_data = set_.stats(s.index).delay_test_data(sample->sample.local);
		double delay = set_.stats(s.index).effective_delay(sample->sample.delay_s);
		log_measurement(s, d.payload(), rx, why, &*sample, delay_data, delay);
		if (!ntp::delay_acceptable({.maxdelayratio = s.config.maxdelayratio,
					    .maxdelaydevratio = s.config.maxdelaydevratio,
					    .max_clock_error_ppm = settings_.max_clock_error_ppm},
					   delay_data, sample->sample.offset_s, delay)) {
			log_.debug("Response from {} not used: delay {:.6f} s too far above the minimum", s.label,
				   sample->sample.delay_s);
			continue;
		}
		if (s.config.filter > 1) {
			s.filtered.push_back(sample->sample);
			if (s.filtered.size() < static_cast<size_t>(s.config.filter)) {
				continue;
			}
			sample->sample = ntp::combine_filtered(s.filtered);
			s.filtered.clear();
		}
		s.total_good++;
		s.last_offset_s = sample->sample.offset_s;
		s.last_delay_s = sample->sample.delay_s;
		s.last_dispersion_s = sample->sample.dispersion_s;
		SourceInfo info = sample->info;
		info.stratum = std::max(info.stratum, s.config.minstratum);
		info.prefer = s.config.prefer;
		info.trust = s.config.trust;
		info.require = s.config.require;
		info.noselect = s.config.noselect;
		set_.set_info(s.index, info);
		// How far the sample lands from where the statistics expected it,
		// against its own distance: the poll adapter's measure of tracking.
		double error = 0;
		if (auto predicted = set_.stats(s.index).estimate(sample->sample.local)) {
			error = sample->sample.offset_s - predicted->offset_s;
		}
		double distance = sample->sample.dispersion_s + sample->sample.delay_s / 2;
		set_.add_sample(s.index, sample->sample);
		RealTime now = clock_.now();
		log_statistics(s.index, now);
		if (auto e = set_.stats(s.index).estimate(now)) {
			s.client.set_poll(s.adapter.on_sample(e->samples, error, distance));
		}

		update(now);
		if (once_done_) {
			return;
		}
	}
}

void NtpSources::update(RealTime now)
{
	if (once_done_) {
		return;
	}
	auto decision = set_.decide(now);
	states_ = decision.source_states;
	log_selection(now);
	std::optional<size_t> leader = decision.selection.selected;
	if (leader != selected_) {
		if (leader) {
			log_.info("Selected source {}", label_of(*leader));
		} else {
			log_.info("Can't synchronise: no selectable sources");
			lose_sync();
		}
		selected_ = leader;
	}
	if (!decision.estimate) {
		return;
	}
	if (settings_.print_once || settings_.set_once) {
		double offset = decision.estimate->offset_s;
		if (settings_.print_once) {
			log_.info("System clock wrong by {:.6f} seconds (ignored)", offset);
			printed_offset_ = offset;
		} else if (auto stepped = clock_.step(from_seconds(offset)); !stepped) {
			log_.error("Could not step the system clock by {:.6f} seconds: {}", offset,
				   stepped.error().message());
		} else {
			log_.info("System clock wrong by {:.6f} seconds (step)", offset);
			printed_offset_ = offset;
		}
		once_done_ = true;
		loop_.stop();
		return;
	}
	if (init_step_threshold_) {
		// initstepslew: the first update steps or slews the whole offset.
		double offset = decision.estimate->offset_s;
		bool step = std::abs(offset) >= *init_step_threshold_;
		init_step_threshold_.reset();
		log_.info("System's initial offset : {:.6f} seconds {} of true ({})", std::abs(offset),
			  offset <= 0 ? "fast" : "slow", step ? "step" : "slew");
		RealTime at = clock_.now();
		if (step) {
			if (auto stepped = clock_.step(from_seconds(offset)); !stepped) {
				log_.error("Could not step the clock: {}", stepped.error().message());
			} else {
				clock_changed({at, offset, 0.0, clock_.frequency_ppm()});
				decision.estimate->offset_s = 0;
			}
		}
	}
	double remaining = discipline_.remaining_correction_s(loop_.now());
	apply(discipline_.update(*decision.estimate, loop_.now()));
	last_offset_s_ = decision.estimate->offset_s;
	avg2_offset_ += 0.1 * (last_offset_s_ * last_offset_s_ - avg2_offset_);
	if (last_clock_update_) {
		last_update_interval_s_ = to_seconds(loop_.now() - *last_clock_update_);
	}
	last_clock_update_ = loop_.now();
	if (auto e = set_.stats(*leader).estimate(now)) {
		last_resid_freq_ppm_ = e->frequency_ppm;
	}
	if (fallback_) {
		double interval = last_update_ ? to_seconds(loop_.now() - *last_update_) : 0.0;
		fallback_->on_update(discipline_.base_frequency_ppm(), interval);
		last_update_ = loop_.now();
		schedule_fallback();
	}
	if (settings_.leap_table) {
		decision.reference.leap = settings_.leap_table->leap_at_end_of_day(clock_.now());
	}
	if (decision.reference.leap != leap_) {
		Leap leap = decision.reference.leap;
		if (settings_.leap_mode == LeapMode::System) {
			if (auto set = clock_.set_leap(leap); !set) {
				log_.warning("Could not set the leap second status: {}", set.error().message());
			}
		} else if (settings_.leap_mode != LeapMode::Ignore) {
			schedule_leap_correction(leap);
		}
		if (leap != Leap::None) {
			log_.info("Leap second announced: {} at the end of the UTC day",
				  leap == Leap::Insert ? "insertion" : "deletion");
		}
		leap_ = leap;
	}
	if (auto synced = clock_.set_sync_status(true, std::abs(decision.estimate->offset_s),
						 decision.root_distance_s);
	    !synced) {
		log_.debug("Could not set the kernel's sync status: {}", synced.error().message());
	}
	reference_.set_synchronized({.leap = decision.reference.leap,
				     .stratum = decision.reference.stratum,
				     .ref_id = ref_id_of(*leader),
				     .ref_time = clock_.now(),
				     .root_delay_s = decision.reference.root_delay_s,
				     .root_dispersion_s = decision.reference.root_dispersion_s,
				     .dispersion_rate = (decision.estimate->skew_ppm + 1.0) * 1e-6});
	size_t combined = static_cast<size_t>(std::count(decision.selection.states.begin(),
							 decision.selection.states.end(), CandidateState::Combined));
	synced_distance_s_ = decision.root_distance_s;
	log_.debug("Clock update from {} (+{} combined): offset {:+.9f} s, frequency {:+.3f} ppm",
		   label_of(*leader), combined, decision.estimate->offset_s, discipline_.base_frequency_ppm());
	log_tracking(decision, remaining);
}

void NtpSources::lose_sync()
{
	log_unsynchronised();
	reference_.set_unsynchronized(loop_.now());
	synced_distance_s_.reset();
	(void)clock_.set_sync_status(false, 0, 16);
}

void NtpSources::apply(const DisciplineResult &result)
{
	for (const auto &change : result.changes) {
		clock_changed(change);
	}
	if (result.gave_up) {
		log_.fatal("Too many large offsets (maxchange): exiting");
		loop_.stop();
	}
	if (discipline_timer_) {
		loop_.cancel(*discipline_timer_);
		discipline_timer_.reset();
	}
	if (auto wake = discipline_.next_wakeup()) {
		discipline_timer_ = loop_.add_timer(*wake, [this] {
			discipline_timer_.reset();
			apply(discipline_.on_timer(loop_.now()));
		});
	}
}

} // namespace strata::daemon

namespace strata::daemon {

void NtpSources::clock_changed(const ClockChange &change)
{
	set_.on_clock_change(change);
	for (auto &r : refclocks_) {
		r->clock.on_clock_change(change);
	}
	if (clock_observer_) {
		clock_observer_(change);
	}
}

std::string NtpSources::label_of(size_t index) const
{
	const Entry &e = entries_[index];
	return e.refclock ? refclocks_[e.position]->label : sources_[e.position]->label;
}

uint32_t NtpSources::ref_id_of(size_t index) const
{
	const Entry &e = entries_[index];
	return e.refclock ? refclocks_[e.position]->clock.settings().ref_id
			  : address_ref_id(sources_[e.position]->address);
}

void NtpSources::start_refclocks(const conf::Config &config)
{
	for (size_t i = 0; i < config.refclocks.size(); i++) {
		const conf::RefclockConfig &c = config.refclocks[i];
		std::string where = fmt::format("{}:{}", c.origin.file, c.origin.line);
		auto driver = make_refclock_driver(c, log_);
		if (!driver) {
			log_.error("refclock {} {} ({}): {}; not used", c.driver, c.parameter, where,
				   driver.error().message());
			continue;
		}
		refclock::RefclockSettings rs = refclock_settings(c, i, **driver);
		if (rs.local) {
			// Two local standards would pull the clock against each other.
			bool have_local = std::any_of(refclocks_.begin(), refclocks_.end(),
						      [](const auto &o) { return o->clock.settings().local; });
			if (have_local) {
				log_.warning("refclock {} {} ({}): only one refclock can be local; used without the option",
					     c.driver, c.parameter, where);
				rs.local = false;
			}
		}
		auto r = std::make_unique<RefSource>(c, rs, std::move(*driver));
		r->label = fmt::format("{} ({} {})", refclock::ref_id_text(rs.ref_id), c.driver, c.parameter);
		SourceStatsConfig stats = set_.stats_config();
		if (c.minsamples) {
			stats.min_samples = static_cast<size_t>(std::max(*c.minsamples, 3));
		}
		if (c.maxsamples && *c.maxsamples > 0) {
			stats.max_samples = static_cast<size_t>(*c.maxsamples);
		}
		r->min_samples = stats.min_samples;
		r->index = set_.add_source(refclock_source_info(c, rs), stats);
		entries_.push_back({.refclock = true, .position = refclocks_.size()});
		log_.info("Added refclock {}{}", r->label,
			  rs.local ? " (local standard: steadies the clock, never selected)" : rs.pps ? " (pulses)" : "");
		refclocks_.push_back(std::move(r));
	}
	// `lock REFID`: the refclock whose samples give a pulse its seconds.
	for (auto &r : refclocks_) {
		if (r->config.lock.empty()) {
			continue;
		}
		uint32_t wanted = refclock::ref_id_from_text(r->config.lock);
		for (size_t k = 0; k < refclocks_.size(); k++) {
			if (refclocks_[k]->clock.settings().ref_id == wanted && refclocks_[k].get() != r.get()) {
				r->lock = k;
			}
		}
		if (!r->lock) {
			log_.warning("refclock {}: invalid lock refid {}; its pulses need a synchronised clock", r->label,
				     r->config.lock);
		}
	}
	for (auto &r : refclocks_) {
		RefSource *raw = r.get();
		watch_refclock(*raw);
		raw->timer = loop_.add_timer(loop_.now(), [this, raw] { refclock_tick(*raw); });
	}
}

void NtpSources::watch_refclock(RefSource &r)
{
	int fd = r.driver->fd();
	if (fd == r.watched_fd) {
		return;
	}
	if (r.watch != 0) {
		loop_.unwatch(r.watch);
		r.watch = 0;
	}
	r.watched_fd = fd;
	if (fd >= 0) {
		RefSource *raw = &r;
		r.watch = loop_.watch_fd(fd, POLLIN, [this, raw](short) {
			raw->batch.clear();
			raw->driver->receive(loop_.now(), raw->batch);
			refclock_samples(*raw, raw->batch);
			watch_refclock(*raw);  // a device that failed is closed: its fd goes
		});
	}
}

void NtpSources::refclock_tick(RefSource &r)
{
	r.timer = 0;
	const auto &settings = r.clock.settings();
	int interval_log2 = settings.poll_log2;
	if (r.driver->polled()) {
		interval_log2 = settings.dpoll_log2;
		r.batch.clear();
		r.driver->poll(loop_.now(), r.batch);
		refclock_samples(r, r.batch);
		watch_refclock(r);
		if (++r.driver_polls >= (1 << (settings.poll_log2 - settings.dpoll_log2))) {
			r.driver_polls = 0;
			refclock_end_poll(r);
		}
	} else {
		// The first tick starts the first poll interval; later ones end one.
		if (r.driver_polls++ > 0) {
			refclock_end_poll(r);
		}
		watch_refclock(r);
	}
	RefSource *raw = &r;
	r.timer = loop_.add_timer(loop_.now() + from_seconds(std::ldexp(1.0, interval_log2)),
				  [this, raw] { refclock_tick(*raw); });
}

void NtpSources::refclock_samples(RefSource &r, std::vector<refclock::RawSample> &samples)
{
	if (samples.empty()) {
		return;
	}
	RealTime now = clock_.now();
	refclock::SampleContext context{.now = now,
					.locked = r.lock.has_value(),
					.clock_synchronized = synced_distance_s_.has_value(),
					.clock_distance_s = synced_distance_s_.value_or(0.0)};
	if (settings_.leap_table) {
		context.tai_offset = settings_.leap_table->tai_offset(now);
	}
	if (r.lock) {
		context.lock_sample = refclocks_[*r.lock]->clock.last_sample();
	}
	for (const auto &raw : samples) {
		auto verdict = r.clock.add(raw, clock_.from_system(raw.local), context);
		switch (verdict) {
		case refclock::Verdict::Accepted:
			log_refclock_sample(r, raw);
			break;
		case refclock::Verdict::OutOfPhase:
		case refclock::Verdict::BadEdge:
		case refclock::Verdict::NoTaiOffset:
			r.bad_log.report(log_, loop_.now(), r.label, refclock::to_string(verdict));
			break;
		case refclock::Verdict::LostLock:
			// Its statistics describe a phase it no longer follows.
			log_.warning("refclock {}: local refclock lost its lock; starting again", r.label);
			set_.reset_source(r.index);
			break;
		default:
			log_.debug("refclock {}: sample not used: {}", r.label, refclock::to_string(verdict));
			break;
		}
	}
	uint64_t missed = r.clock.stats().missed_pulses;
	if (missed != r.missed_logged) {
		r.bad_log.report(log_, loop_.now(), r.label,
				 fmt::format("{} pulses missing ({} in all)", missed - r.missed_logged, missed));
		r.missed_logged = missed;
	}
}

void NtpSources::refclock_end_poll(RefSource &r)
{
	auto outcome = r.clock.poll();
	r.log_sequence = 0;
	bool was_reachable = r.reach != 0;
	r.reach = static_cast<uint8_t>((r.reach << 1) | (outcome.reached ? 1 : 0));
	if (was_reachable && r.reach == 0) {
		log_.info("refclock {} is unreachable", r.label);
	}
	set_.set_reachable(r.index, r.reach != 0);
	if (!outcome.sample) {
		return;
	}
	const auto &settings = r.clock.settings();
	set_.set_info(r.index, {.stratum = settings.stratum,
				.ref_id = settings.ref_id,
				.leap = outcome.leap,
				.prefer = r.config.prefer,
				.trust = r.config.trust,
				.require = r.config.require,
				.noselect = r.config.noselect,
				.reachable = true});
	if (!settings.local) {
		set_.add_sample(r.index, *outcome.sample);
		log_refclock_filtered(r, outcome);
		log_statistics(r.index, clock_.now());
		update(clock_.now());
		return;
	}
	log_refclock_filtered(r, outcome);
	// The local standard: the clock follows what its new sample changed in
	// its statistics (refclock/local_follow.h).
	if (auto adjustment = refclock::add_local_sample(set_, r.index, r.clock, *outcome.sample, r.min_samples,
							  clock_.now())) {
		log_.debug("refclock {}: local adjustment {:+.9f} s, {:+.6f} ppm", r.label, adjustment->offset_s,
			   adjustment->dfreq_ppm);
		apply(discipline_.follow(adjustment->offset_s, adjustment->dfreq_ppm, loop_.now()));
	}
	update(clock_.now());
}

} // namespace strata::daemon

namespace strata::daemon {

namespace {

control::SourceState report_state(const std::optional<CandidateState> &state)
{
	if (!state) {
		return control::SourceState::NonSelectable;
	}
	switch (*state) {
	case CandidateState::Selected:
		return control::SourceState::Selected;
	case CandidateState::Combined:
		return control::SourceState::Unselected;
	case CandidateState::Truechimer:
	case CandidateState::NoSelect:
		return control::SourceState::Selectable;
	case CandidateState::Falseticker:
		return control::SourceState::Falseticker;
	case CandidateState::TooFar:
	case CandidateState::TooJittery:
		return control::SourceState::Jittery;
	case CandidateState::NoMajority:
		return control::SourceState::NonSelectable;
	}
	return control::SourceState::NonSelectable;
}

/// chronyd's selectdata letters for what strata's selection knows.
char select_letter(const std::optional<CandidateState> &state, bool reachable, bool has_samples)
{
	if (!reachable) {
		return 'N';
	}
	if (!has_samples) {
		return 's';
	}
	if (!state) {
		return 'N';
	}
	switch (*state) {
	case CandidateState::Selected:
		return '*';
	case CandidateState::Combined:
		return '+';
	case CandidateState::Truechimer:
		return 'S';
	case CandidateState::NoSelect:
		return 'N';
	case CandidateState::Falseticker:
		return 'x';
	case CandidateState::TooFar:
		return 'D';
	case CandidateState::TooJittery:
		return '~';
	case CandidateState::NoMajority:
		return 'M';
	}
	return 'N';
}

} // namespace

std::optional<control::SourceDataReport> NtpSources::source_report(size_t index) const
{
	if (index >= entries_.size()) {
		return std::nullopt;
	}
	const Entry &e = entries_[index];
	const SourceStats &stats = set_.stats(index);
	control::SourceDataReport r;
	r.stratum = static_cast<uint16_t>(set_.info(index).stratum);
	r.state = report_state(index < states_.size() ? states_[index] : std::nullopt);
	if (e.refclock) {
		const RefSource &rc = *refclocks_[e.position];
		r.address = IpAddress::v4(rc.clock.settings().ref_id);
		r.mode = control::SourceMode::RefClock;
		r.poll = static_cast<int16_t>(rc.clock.settings().poll_log2);
		r.reachability = rc.reach;
	} else {
		const Source &s = *sources_[e.position];
		r.address = s.address;
		r.mode = control::SourceMode::Client;
		r.poll = static_cast<int16_t>(s.client.poll());
		r.reachability = s.client.reach();
	}
	if (stats.size() > 0) {
		const SourceSample &last = stats.samples().back();
		double ago = to_seconds(clock_.now() - last.local);
		r.since_sample_s = static_cast<uint32_t>(std::max(ago, 0.0));
		// chronyd reports local − source: positive when the local clock is ahead.
		r.latest_meas_s = -last.offset_s;
		r.orig_latest_meas_s = e.refclock ? -last.offset_s : -sources_[e.position]->last_offset_s;
		r.latest_meas_err_s = last.dispersion_s + last.delay_s / 2;
	} else {
		r.since_sample_s = UINT32_MAX;
		r.stratum = 0;
	}
	return r;
}

std::optional<control::SourceStatsReport> NtpSources::stats_report(size_t index) const
{
	if (index >= entries_.size()) {
		return std::nullopt;
	}
	const Entry &e = entries_[index];
	control::SourceStatsReport r;
	r.ref_id = ref_id_of(index);
	if (!e.refclock) {
		r.address = sources_[e.position]->address;
	}
	const SourceStats &stats = set_.stats(index);
	r.n_samples = static_cast<uint32_t>(stats.size());
	if (auto est = stats.estimate(clock_.now())) {
		r.n_runs = static_cast<uint32_t>(est->runs);
		r.span_s = stats.size() > 1 ? static_cast<uint32_t>(to_seconds(stats.samples().back().local -
									      stats.samples().front().local))
					    : 0;
		r.sd_s = est->stddev_s;
		r.resid_freq_ppm = -est->frequency_ppm;
		r.skew_ppm = est->skew_ppm;
		r.est_offset_s = -est->offset_s;
		r.est_offset_err_s = est->offset_error_s;
	}
	return r;
}

std::optional<control::SelectDataReport> NtpSources::select_report(size_t index) const
{
	if (index >= entries_.size()) {
		return std::nullopt;
	}
	const Entry &e = entries_[index];
	const SourceInfo &info = set_.info(index);
	control::SelectDataReport r;
	r.ref_id = ref_id_of(index);
	if (!e.refclock) {
		r.address = sources_[e.position]->address;
	}
	r.state = select_letter(index < states_.size() ? states_[index] : std::nullopt, info.reachable,
				set_.stats(index).size() > 0);
	r.leap = info.leap;
	uint16_t options = (info.noselect ? control::kSelectNoselect : 0) | (info.prefer ? control::kSelectPrefer : 0) |
			   (info.trust ? control::kSelectTrust : 0) | (info.require ? control::kSelectRequire : 0);
	if (e.refclock) {
		const auto &c = refclocks_[e.position]->config;
		options = static_cast<uint16_t>((c.noselect ? control::kSelectNoselect : 0) |
						(c.prefer ? control::kSelectPrefer : 0) | (c.trust ? control::kSelectTrust : 0) |
						(c.require ? control::kSelectRequire : 0));
	}
	r.configured_options = options;
	r.effective_options = options;
	const SourceStats &stats = set_.stats(index);
	if (stats.size() > 0) {
		r.last_sample_ago_s =
			static_cast<uint32_t>(std::max(to_seconds(clock_.now() - stats.samples().back().local), 0.0));
	}
	if (auto est = stats.estimate(clock_.now())) {
		double distance = (info.root_delay_s + est->min_delay_s) / 2 + info.root_dispersion_s + est->stddev_s +
				  est->offset_error_s;
		r.score = distance;
		r.lo_limit_s = est->offset_s - distance;
		r.hi_limit_s = est->offset_s + distance;
	}
	return r;
}

std::optional<control::NtpDataReport> NtpSources::ntp_data_report(const IpAddress &address) const
{
	for (size_t i = 0; i < entries_.size(); i++) {
		const Entry &e = entries_[i];
		if (e.refclock || sources_[e.position]->address != address) {
			continue;
		}
		const Source &s = *sources_[e.position];
		control::NtpDataReport r;
		r.remote_address = s.address;
		if (s.last_local) {
			r.local_address = *s.last_local;
		}
		r.remote_port = static_cast<uint16_t>(s.config.port);
		r.mode = 4;
		if (s.last_header) {
			const ntp::Header &h = *s.last_header;
			r.leap = h.leap;
			r.version = h.version;
			r.mode = static_cast<uint8_t>(h.mode);
			r.stratum = h.stratum;
			r.poll = h.poll;
			r.precision = h.precision;
			r.root_delay_s = ntp::from_short(h.root_delay);
			r.root_dispersion_s = ntp::from_short(h.root_dispersion);
			r.ref_id = h.ref_id;
			r.ref_time = ntp::from_ntp(h.reference, clock_.now());
		}
		r.offset_s = s.last_offset_s;
		r.peer_delay_s = s.last_delay_s;
		r.peer_dispersion_s = s.last_dispersion_s;
		r.response_time_s = s.last_response_time_s;
		r.tests = s.last_header ? 0x3ff : 0;
		r.tx_timestamping = s.socket.kernel_tx_timestamps() ? 'K' : 'D';
		r.rx_timestamping = s.socket.kernel_rx_timestamps() ? 'K' : 'D';
		r.total_tx_count = s.total_tx;
		r.total_rx_count = s.total_rx;
		r.total_valid_count = s.total_valid;
		r.total_good_count = s.total_good;
		return r;
	}
	return std::nullopt;
}

std::optional<std::string> NtpSources::source_name(const IpAddress &address) const
{
	for (const auto &s : sources_) {
		if (s->address == address) {
			return s->pool_name.empty() ? s->config.host : s->pool_name;
		}
	}
	return std::nullopt;
}

control::TrackingReport NtpSources::tracking_report() const
{
	Reference ref = reference_.current(clock_.now(), loop_.now());
	control::TrackingReport r;
	r.ref_id = ref.ref_id;
	r.stratum = static_cast<uint16_t>(ref.stratum >= 16 && !ref.synchronized ? 0 : ref.stratum);
	r.leap = ref.leap;
	r.ref_time = ref.ref_time;
	r.root_delay_s = ref.root_delay_s;
	r.root_dispersion_s = ref.root_dispersion_s;
	if (selected_ && ref.synchronized && !entries_[*selected_].refclock) {
		r.address = sources_[entries_[*selected_].position]->address;
	}
	r.current_correction_s = discipline_.remaining_correction_s(loop_.now());
	// chronyd's sign: positive when the clock was ahead of the sources.
	r.last_offset_s = -last_offset_s_;
	r.rms_offset_s = std::sqrt(avg2_offset_);
	// chronyd's sign: the clock's own error, positive when it runs fast.
	r.freq_ppm = 0.0 - discipline_.base_frequency_ppm();  // never −0: "0.000 ppm fast" as chronyc prints it
	r.resid_freq_ppm = selected_ ? -last_resid_freq_ppm_ : 0.0;
	r.skew_ppm = discipline_.skew_ppm();
	r.last_update_interval_s = last_update_interval_s_;
	return r;
}

control::ActivityReport NtpSources::activity_report() const
{
	control::ActivityReport r;
	for (const auto &s : sources_) {
		bool bursting = s->client.in_burst();
		if (s->online) {
			(bursting ? r.burst_online : r.online)++;
		} else {
			(bursting ? r.burst_offline : r.offline)++;
		}
	}
	r.online += static_cast<int32_t>(refclocks_.size());
	return r;
}

std::vector<control::RefclockCounters> NtpSources::refclock_counters() const
{
	std::vector<control::RefclockCounters> out;
	for (const auto &r : refclocks_) {
		const refclock::RefclockStats &s = r->clock.stats();
		out.push_back({.ref_id = r->clock.settings().ref_id,
			       .driver = r->config.driver,
			       .samples = s.samples,
			       .rejected = s.rejected,
			       .pulses = s.pulses,
			       .out_of_phase = s.out_of_phase,
			       .missed_pulses = s.missed_pulses,
			       .polls = s.polls,
			       .empty_polls = s.empty_polls});
	}
	return out;
}

uint32_t NtpSources::set_online(const control::Address &mask, const control::Address &address, bool online)
{
	uint32_t n = 0;
	for (auto &s : sources_) {
		if (control::address_matches(mask, address, s->address)) {
			set_online(*s, online);
			n++;
		}
	}
	if (n > 0) {
		log_.info("{} source{} {}", n, n == 1 ? "" : "s", online ? "online" : "offline");
	}
	return n;
}

uint32_t NtpSources::burst(const control::Address &mask, const control::Address &address, int good, int total)
{
	uint32_t n = 0;
	for (auto &s : sources_) {
		if (!control::address_matches(mask, address, s->address) || !s->online) {
			continue;
		}
		s->client.start_burst(good, total);
		if (s->timer != 0) {
			loop_.cancel(s->timer);
		}
		Source *raw = s.get();
		s->timer = loop_.add_timer(loop_.now(), [this, raw] { poll(*raw); });
		n++;
	}
	return n;
}

bool NtpSources::make_step()
{
	auto decision = set_.decide(clock_.now());
	if (!decision.selection.selected) {
		return false;
	}
	auto e = set_.stats(*decision.selection.selected).estimate(clock_.now());
	if (!e) {
		return false;
	}
	// The whole offset now; the slew under way, which was to correct it
	// gradually, ends.
	double offset = e->offset_s;
	apply(discipline_.stop_slew());
	RealTime at = clock_.now();
	if (auto stepped = clock_.step(from_seconds(offset)); !stepped) {
		log_.error("Could not step the system clock: {}", stepped.error().message());
		return false;
	}
	log_.info("System clock wrong by {:.6f} seconds (step, makestep command)", offset);
	clock_changed({at, offset, 0.0, clock_.frequency_ppm()});
	return true;
}

} // namespace strata::daemon

// The log files (logdir, log): the lines chronyd writes, from what the
// sources, the selection and the discipline just did.
namespace strata::daemon {

std::string NtpSources::log_name(size_t index) const
{
	const Entry &e = entries_[index];
	return e.refclock ? refclock::ref_id_text(refclocks_[e.position]->clock.settings().ref_id)
			  : sources_[e.position]->address.to_string();
}

void NtpSources::log_measurement(const Source &s, std::span<const std::byte> payload, RealTime rx, ntp::Reject why,
				 const ntp::ClientSample *sample, const std::optional<DelayTestData> &delay_data,
				 double delay)
{
	LogFiles *files = settings_.log_files;
	if (files == nullptr || !files->enabled(LogFile::Measurements) ||
	    (!files->raw_measurements() && sample == nullptr)) {
		return;
	}
	if (why == ntp::Reject::Malformed || why == ntp::Reject::NotAResponse || why == ntp::Reject::Presend) {
		return;  // no measurement: not a response to a request of ours
	}
	auto packet = ntp::parse(payload);
	if (!packet) {
		return;
	}
	const ntp::Header &h = packet->header;
	MeasurementEntry e{.source = s.address.to_string(), .leap = h.leap, .stratum = h.stratum};
	if (sample != nullptr) {
		e.time = sample->sample.local;
		e.offset_s = sample->sample.offset_s;
		e.peer_delay_s = sample->sample.delay_s;
		e.peer_dispersion_s = sample->sample.dispersion_s;
	} else {
		// What the rejected response would have measured, from the request's t1.
		RealTime t1 = s.client.transmit_time();
		RealTime t2 = ntp::from_ntp(h.receive, t1), t3 = ntp::from_ntp(h.transmit, t1);
		e.time = t1 + (rx - t1) / 2;
		e.offset_s = (to_seconds(t2 - t1) + to_seconds(t3 - rx)) / 2;
		e.peer_delay_s = std::abs(to_seconds(rx - t1) - to_seconds(t3 - t2));
		e.peer_dispersion_s = std::ldexp(1.0, h.precision);
	}
	bool too_long = e.peer_delay_s > s.config.maxdelay_s;
	e.tests123 = {true, why != ntp::Reject::NoRequest, why != ntp::Reject::BadTimestamps};
	e.tests567 = {true, why != ntp::Reject::Unsynchronized && why != ntp::Reject::KissOfDeath,
		      !(why == ntp::Reject::TooFar && !too_long)};
	// maxdelay; maxdelayratio and maxdelaydevratio as receive() applies them
	// (ntp::delay_acceptable), told apart; no loop test in strata.
	e.testsABCD[0] = !(why == ntp::Reject::TooFar && too_long);
	if (sample != nullptr && delay_data) {
		double drift = delay_data->since_last_s * (delay_data->skew_ppm + settings_.max_clock_error_ppm) * 1e-6;
		e.testsABCD[1] = s.config.maxdelayratio < 1.0 ||
				 delay <= delay_data->min_delay_s * s.config.maxdelayratio + drift;
		e.testsABCD[2] = ntp::delay_acceptable({.maxdelayratio = 0,
							.maxdelaydevratio = s.config.maxdelaydevratio,
							.max_clock_error_ppm = settings_.max_clock_error_ppm},
						       delay_data, sample->sample.offset_s, delay);
	}
	e.local_poll = s.client.poll();
	e.remote_poll = h.poll;
	e.score = s.adapter.score();
	e.root_delay_s = ntp::from_short(h.root_delay);
	e.root_dispersion_s = ntp::from_short(h.root_dispersion);
	e.ref_id = h.ref_id;
	e.mode = static_cast<int>(h.mode);
	e.tx_source = s.socket.kernel_tx_timestamps() ? 'K' : 'D';
	e.rx_source = s.socket.kernel_rx_timestamps() ? 'K' : 'D';
	files->measurement(e);
}

void NtpSources::log_statistics(size_t index, RealTime now)
{
	LogFiles *files = settings_.log_files;
	if (files == nullptr || !files->enabled(LogFile::Statistics)) {
		return;
	}
	const SourceStats &stats = set_.stats(index);
	auto est = stats.estimate(now);
	if (!est || est->samples < 3) {
		return;  // no regression yet: chronyd logs from the third sample
	}
	files->statistics(now, log_name(index), *est, stats.size(), stats.asymmetry());
}

void NtpSources::log_selection(RealTime now)
{
	LogFiles *files = settings_.log_files;
	if (files == nullptr || !files->enabled(LogFile::Selection)) {
		return;
	}
	for (size_t i = 0; i < entries_.size(); i++) {
		const Entry &entry = entries_[i];
		const SourceInfo &info = set_.info(i);
		const SourceStats &stats = set_.stats(i);
		SelectionEntry e{.time = now,
				 .source = log_name(i),
				 .state = select_letter(i < states_.size() ? states_[i] : std::nullopt, info.reachable,
							stats.size() > 0),
				 .noselect = info.noselect,
				 .prefer = info.prefer,
				 .trust = info.trust,
				 .require = info.require,
				 .reach = entry.refclock ? refclocks_[entry.position]->reach
							 : sources_[entry.position]->client.reach()};
		if (stats.size() > 0) {
			e.last_sample_ago_s = std::max(to_seconds(now - stats.samples().back().local), 0.0);
		}
		if (auto est = stats.estimate(now)) {
			// The interval SourceSet::decide() gives the source, on the
			// local clock's side (local − reference).
			double distance = (info.root_delay_s + est->min_delay_s) / 2 + info.root_dispersion_s +
					  est->stddev_s + est->offset_error_s;
			e.lo_s = -est->offset_s - distance;
			e.hi_s = -est->offset_s + distance;
		}
		files->selection(e);
	}
}

void NtpSources::log_tracking(const SourceSetDecision &decision, double remaining_s)
{
	LogFiles *files = settings_.log_files;
	if (files == nullptr || !files->enabled(LogFile::Tracking) || !decision.estimate || !selected_) {
		return;
	}
	const ClockEstimate &est = *decision.estimate;
	int combined = static_cast<int>(std::count(decision.selection.states.begin(), decision.selection.states.end(),
						   CandidateState::Combined));
	double skew = discipline_.skew_ppm();
	TrackingEntry e{.time = clock_.now(),
			.reference = log_name(*selected_),
			.stratum = decision.reference.stratum,
			.freq_ppm = 0.0 - discipline_.base_frequency_ppm(),
			.skew_ppm = skew,
			.offset_s = 0.0 - est.offset_s,
			.leap = decision.reference.leap,
			.combined = 1 + combined,
			.offset_sd_s = est.offset_sd_s,
			.remaining_correction_s = remaining_s,
			.root_delay_s = decision.reference.root_delay_s,
			.root_dispersion_s = decision.reference.root_dispersion_s};
	// Since the last update: its bound, grown by the frequency's uncertainty.
	e.max_error_s = log_error_bound_s_ + last_update_interval_s_ * (skew + settings_.max_clock_error_ppm) * 1e-6;
	log_error_bound_s_ = std::abs(est.offset_s) + std::abs(remaining_s) + e.root_delay_s / 2 + e.root_dispersion_s;
	files->tracking(e);
}

void NtpSources::log_unsynchronised()
{
	log_error_bound_s_ = 1.5;
	LogFiles *files = settings_.log_files;
	if (files == nullptr || !files->enabled(LogFile::Tracking)) {
		return;
	}
	// chronyd's figures for "no reference": root delay and dispersion of a
	// second each.
	files->tracking({.time = clock_.now(),
			 .reference = "0.0.0.0",
			 .stratum = 0,
			 .freq_ppm = 0.0 - discipline_.base_frequency_ppm(),
			 .skew_ppm = discipline_.skew_ppm(),
			 .leap = Leap::Unsynchronized,
			 .root_delay_s = 1.0,
			 .root_dispersion_s = 1.0,
			 .max_error_s = log_error_bound_s_});
}

void NtpSources::log_refclock_sample(RefSource &r, const refclock::RawSample &raw)
{
	LogFiles *files = settings_.log_files;
	auto accepted = r.clock.last_sample();
	if (files == nullptr || !files->enabled(LogFile::Refclocks) || !accepted) {
		return;
	}
	const auto &settings = r.clock.settings();
	bool pulse = raw.pulse || settings.pps;
	double raw_offset = raw.offset_s();
	if (pulse) {
		// A pulse says only where its period starts.
		double period = 1.0 / std::max(settings.rate, 1);
		raw_offset -= period * std::round(raw_offset / period);
	}
	files->refclock({.time = accepted->local,
			 .ref_id = refclock::ref_id_text(settings.ref_id),
			 .raw = true,
			 .sequence = r.log_sequence++,
			 .leap = raw.leap,
			 .pulse = pulse,
			 .raw_offset_s = raw_offset,
			 .cooked_offset_s = accepted->offset_s,
			 .dispersion_s = accepted->dispersion_s});
}

void NtpSources::log_refclock_filtered(const RefSource &r, const refclock::PollOutcome &outcome)
{
	LogFiles *files = settings_.log_files;
	if (files == nullptr || !files->enabled(LogFile::Refclocks) || !outcome.sample) {
		return;
	}
	files->refclock({.time = outcome.sample->local,
			 .ref_id = refclock::ref_id_text(r.clock.settings().ref_id),
			 .raw = false,
			 .leap = outcome.leap,
			 .cooked_offset_s = outcome.sample->offset_s,
			 .dispersion_s = outcome.sample->dispersion_s});
}

} // namespace strata::daemon
