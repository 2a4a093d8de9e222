// The engine's clock side: start-up, the selection after each sample, the
// discipline's corrections, -q/-Q, initstepslew, leap seconds and
// fallbackdrift. NTP sources are in engine_ntp.cpp, refclocks in
// engine_refclock.cpp, the log files in engine_logs.cpp.
#include "sources/engine.h"

#include "sources/auth.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "core/md5.h"

namespace strata::sources {

namespace {

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
		.combinelimit = c.combinelimit,
		.auth_select = c.authselectmode == "require" ? AuthSelectMode::Require
			       : c.authselectmode == "prefer" ? AuthSelectMode::Prefer
			       : c.authselectmode == "ignore" ? AuthSelectMode::Ignore
							       : AuthSelectMode::Mix};
}

SourceStatsConfig stats_config(const conf::Config &c)
{
	return {.min_samples = static_cast<size_t>(std::max(c.minsamples, 3)),
		.max_samples = c.maxsamples > 0 ? static_cast<size_t>(c.maxsamples) : 64,
		.precision_s = kClockPrecisionS};
}

} // namespace

Engine::Engine(const conf::Config &config, const EngineSettings &settings, EngineEnv env)
	: settings_(settings),
	  env_(env),
	  max_clock_error_ppm_(config.maxclockerror_ppm),
	  leap_mode_(parse_leap_mode(config.leapsecmode).value_or(LeapMode::System)),
	  rng_(settings.seed),
	  set_(selection_config(config), stats_config(config)),
	  discipline_(discipline_config(config, settings.drift, env.clock.frequency_ppm()), env.clock, env.log),
	  self_(std::make_shared<Engine *>(this))
{
}

Engine::~Engine()
{
	for (auto &s : ntp_) {
		cancel(s->timer);
		env_.io.close_source(s->id);
	}
	for (auto &r : refclocks_) {
		cancel(r->timer);
		if (r->watched_fd >= 0) {
			env_.io.watch_refclock(r->position, -1);
		}
	}
	cancel(discipline_timer_);
	cancel(leap_timer_);
	cancel(fallback_timer_);
	cancel(deferred_timer_);
	cancel(removal_timer_);
}

void Engine::cancel(std::optional<TimerId> &timer)
{
	if (timer) {
		env_.scheduler.cancel(*timer);
		timer.reset();
	}
}

Result<std::unique_ptr<Engine>> Engine::start(const conf::Config &config, const EngineSettings &settings,
					      EngineEnv env)
{
	// Fail closed: a source that cannot be authenticated as configured
	// stops the start, before anything is polled.
	for (const auto &c : config.sources) {
		if (auto ok = check_source_auth(c); !ok) {
			return tl::unexpected(ok.error());
		}
	}
	std::unique_ptr<Engine> e(new Engine(config, settings, env));
	std::vector<conf::SourceConfig> now = config.sources;
	if (settings.print_once || settings.set_once) {
		e->mode_ = Mode::Once;
	} else if (config.initstepslew && !config.initstepslew->hosts.empty()) {
		// chronyd's initstepslew: its hosts first, as iburst servers of
		// their own; the configured sources once the clock is set.
		e->mode_ = Mode::InitStepSlew;
		e->init_step_threshold_s_ = config.initstepslew->threshold_s;
		e->deferred_sources_ = std::move(now);
		now.clear();
		for (const auto &host : config.initstepslew->hosts) {
			conf::SourceConfig c;
			c.host = host;
			c.iburst = true;
			now.push_back(c);
		}
	}
	if (config.fallbackdrift) {
		e->fallback_ = std::make_unique<FallbackDrift>(config.fallbackdrift->min_log2, config.fallbackdrift->max_log2);
	}
	e->start_refclocks(config);
	e->sourcedirs_ = config.sourcedirs;
	for (const auto &c : now) {
		if (auto configured = e->configure(c); !configured) {
			return tl::unexpected(configured.error());
		}
	}
	e->log_unsynchronised();  // as chronyd's tracking.log starts
	return e;
}

std::optional<DriftValues> Engine::drift() const
{
	if (discipline_.frequency_updates() == 0 || mode_ == Mode::Once) {
		return std::nullopt;
	}
	return DriftValues{.correction_ppm = discipline_.base_frequency_ppm(), .skew_ppm = discipline_.skew_ppm()};
}

const NtpSource *Engine::ntp_at(size_t index) const
{
	if (index >= entries_.size() || entries_[index].refclock) {
		return nullptr;
	}
	return ntp_[entries_[index].position].get();
}

const RefclockSource *Engine::refclock_at(size_t index) const
{
	if (index >= entries_.size() || !entries_[index].refclock) {
		return nullptr;
	}
	return refclocks_[entries_[index].position].get();
}

std::string Engine::label_of(size_t index) const
{
	const Entry &e = entries_[index];
	return e.refclock ? refclocks_[e.position]->label : ntp_[e.position]->label;
}

uint32_t Engine::ref_id_of(size_t index) const
{
	const Entry &e = entries_[index];
	return e.refclock ? refclocks_[e.position]->clock.settings().ref_id : address_ref_id(ntp_[e.position]->address);
}

std::string Engine::log_name(size_t index) const
{
	const Entry &e = entries_[index];
	return e.refclock ? refclock::ref_id_text(refclocks_[e.position]->clock.settings().ref_id)
			  : ntp_[e.position]->address.to_string();
}

void Engine::update(RealTime now)
{
	if (once_done_) {
		return;
	}
	for (const auto &s : ntp_) {
		// As chronyd counts it: a poll enters the register when its
		// response comes (or the next poll finds none), not when it is
		// sent, so a source whose request is on its way is not one poll
		// behind the sources already answered (the start-up wait).
		bool pending = s->client.awaiting_response() && s->polls > 0;
		set_.set_reach(s->index, pending ? static_cast<uint8_t>(s->client.reach() >> 1) : s->client.reach(),
			       pending ? s->polls - 1 : s->polls);
	}
	for (const auto &r : refclocks_) {
		set_.set_reach(r->index, r->reach, r->polls);
	}
	last_decision_ = set_.decide(now);
	SourceSetDecision &decision = last_decision_;
	log_selection(now);
	std::optional<size_t> leader = decision.selection.selected;
	if (leader != tracking_.selected) {
		if (leader) {
			env_.log.info("Selected source {}", label_of(*leader));
		} else {
			env_.log.info("Can't synchronise: no selectable sources");
			lose_sync();
		}
		tracking_.selected = leader;
	}
	if (!decision.estimate) {
		return;
	}
	if (mode_ == Mode::Once) {
		finish_once(decision.estimate->offset_s);
		return;
	}
	if (mode_ == Mode::InitStepSlew) {
		initial_correction(decision.estimate->offset_s);
		return;
	}
	MonoTime mono = env_.scheduler.now();
	double remaining = discipline_.remaining_correction_s(mono);
	apply(discipline_.update(*decision.estimate, mono));
	tracking_.last_offset_s = decision.estimate->offset_s;
	tracking_.last_estimate = *decision.estimate;
	double avg2 = tracking_.rms_offset_s * tracking_.rms_offset_s;
	avg2 += 0.1 * (tracking_.last_offset_s * tracking_.last_offset_s - avg2);
	tracking_.rms_offset_s = std::sqrt(avg2);
	if (last_clock_update_) {
		tracking_.last_update_interval_s = to_seconds(mono - *last_clock_update_);
	}
	last_clock_update_ = mono;
	if (auto e = set_.stats(*leader).estimate(now)) {
		tracking_.resid_freq_ppm = e->frequency_ppm;
	}
	if (fallback_) {
		double interval = last_update_ ? to_seconds(mono - *last_update_) : 0.0;
		fallback_->on_update(discipline_.base_frequency_ppm(), interval);
		last_update_ = mono;
		schedule_fallback();
	}
	if (settings_.leap_table) {
		decision.reference.leap = settings_.leap_table->leap_at_end_of_day(env_.clock.now());
	}
	if (decision.reference.leap != leap_) {
		announce_leap(decision.reference.leap);
	}
	if (auto synced = env_.clock.set_sync_status(true, std::abs(decision.estimate->offset_s),
						     decision.root_distance_s);
	    !synced) {
		env_.log.debug("Could not set the kernel's sync status: {}", synced.error().message());
	}
	env_.reference.set_synchronized({.leap = decision.reference.leap,
					 .stratum = decision.reference.stratum,
					 .ref_id = ref_id_of(*leader),
					 .ref_time = env_.clock.now(),
					 .root_delay_s = decision.reference.root_delay_s,
					 .root_dispersion_s = decision.reference.root_dispersion_s,
					 .dispersion_rate = (decision.estimate->skew_ppm + 1.0) * 1e-6});
	size_t combined = static_cast<size_t>(std::count(decision.selection.states.begin(),
							 decision.selection.states.end(), CandidateState::Combined));
	tracking_.synced_distance_s = decision.root_distance_s;
	env_.log.debug("Clock update from {} (+{} combined): offset {:+.9f} s, frequency {:+.3f} ppm",
		       label_of(*leader), combined, decision.estimate->offset_s, discipline_.base_frequency_ppm());
	log_tracking(decision, remaining);
}

void Engine::finish_once(double offset)
{
	if (settings_.print_once) {
		env_.log.info("System clock wrong by {:.6f} seconds (ignored)", offset);
		printed_offset_ = offset;
	} else if (auto stepped = env_.clock.step(from_seconds(offset)); !stepped) {
		env_.log.error("Could not step the system clock by {:.6f} seconds: {}", offset,
			       stepped.error().message());
	} else {
		env_.log.info("System clock wrong by {:.6f} seconds (step)", offset);
		printed_offset_ = offset;
	}
	once_done_ = true;
	env_.io.stop();
}

void Engine::initial_correction(double offset)
{
	bool step = std::abs(offset) >= init_step_threshold_s_;
	env_.log.info("System's initial offset : {:.6f} seconds {} of true ({})", std::abs(offset),
		      offset <= 0 ? "fast" : "slow", step ? "step" : "slew");
	if (step) {
		RealTime at = env_.clock.now();
		if (auto stepped = env_.clock.step(from_seconds(offset)); !stepped) {
			env_.log.error("Could not step the clock: {}", stepped.error().message());
		} else {
			clock_changed({at, offset, 0.0, env_.clock.frequency_ppm()});
		}
	} else {
		apply(discipline_.slew_offset(offset, env_.scheduler.now()));
	}
	end_special_mode(true);
}

bool Engine::special_mode_hopeless() const
{
	constexpr uint32_t kReachBits = 8;
	auto hopeful = [](uint32_t polls, size_t samples) {
		// No more updates than the first burst's; is there room for enough
		// samples in what is left of it?
		return polls < kReachBits - 1 && kReachBits - 1 - polls + samples >= SourceSet::kMinSamplesToSelect;
	};
	for (const auto &s : ntp_) {
		if (s->online && hopeful(s->polls, set_.stats(s->index).size())) {
			return false;
		}
	}
	for (const auto &r : refclocks_) {
		if (hopeful(r->polls, set_.stats(r->index).size())) {
			return false;
		}
	}
	return true;
}

void Engine::check_special_mode()
{
	if (mode_ != Mode::Normal && !once_done_ && special_mode_hopeless()) {
		end_special_mode(false);
	}
}

void Engine::end_special_mode(bool succeeded)
{
	if (mode_ == Mode::Once) {
		if (!succeeded) {
			env_.log.warning("No suitable source for synchronisation");
			once_done_ = true;
			env_.io.stop();
		}
		return;
	}
	if (mode_ != Mode::InitStepSlew) {
		return;
	}
	if (!succeeded) {
		env_.log.warning("No suitable source for initstepslew");
	}
	mode_ = Mode::Normal;
	// initstepslew's sources go; the configured ones come 2 s later (as
	// chronyd: a configured server that was also an initstepslew host does
	// not poll faster than its burst allowed).
	// They go on their own event: the sample that ended the mode may still
	// be in the hands of the caller (on_packet, poll).
	std::vector<SourceId> ending;
	for (const auto &s : ntp_) {
		ending.push_back(s->id);
	}
	configs_.clear();
	removal_timer_ = env_.scheduler.add_timer(env_.scheduler.now(), [this, ending] {
		removal_timer_.reset();
		for (SourceId id : ending) {
			for (size_t pos = 0; pos < ntp_.size(); pos++) {
				if (ntp_[pos]->id == id) {
					remove_at(pos);
					break;
				}
			}
		}
	});
	deferred_timer_ = env_.scheduler.add_timer(env_.scheduler.now() + std::chrono::seconds(2), [this] {
		deferred_timer_.reset();
		for (const auto &c : std::exchange(deferred_sources_, {})) {
			if (auto configured = configure(c); !configured) {
				env_.log.error("{}", configured.error().message());
			}
		}
	});
}

void Engine::announce_leap(Leap leap)
{
	if (leap_mode_ == LeapMode::System) {
		if (auto set = env_.clock.set_leap(leap); !set) {
			env_.log.warning("Could not set the leap second status: {}", set.error().message());
		}
	} else if (leap_mode_ != LeapMode::Ignore) {
		schedule_leap_correction(leap);
	}
	if (leap != Leap::None) {
		env_.log.info("Leap second announced: {} at the end of the UTC day",
			      leap == Leap::Insert ? "insertion" : "deletion");
	}
	leap_ = leap;
}

void Engine::lose_sync()
{
	log_unsynchronised();
	env_.reference.set_unsynchronized(env_.scheduler.now());
	tracking_.synced_distance_s.reset();
	(void)env_.clock.set_sync_status(false, 0, 16);
}

void Engine::apply(const DisciplineResult &result)
{
	for (const auto &change : result.changes) {
		clock_changed(change);
	}
	if (result.gave_up) {
		env_.log.fatal("Too many large offsets (maxchange): exiting");
		env_.io.stop();
	}
	cancel(discipline_timer_);
	if (auto wake = discipline_.next_wakeup()) {
		discipline_timer_ = env_.scheduler.add_timer(*wake, [this] {
			discipline_timer_.reset();
			apply(discipline_.on_timer(env_.scheduler.now()));
		});
	}
}

void Engine::clock_changed(const ClockChange &change)
{
	set_.on_clock_change(change);
	for (auto &r : refclocks_) {
		r->clock.on_clock_change(change);
	}
	if (clock_observer_) {
		clock_observer_(change);
	}
}

void Engine::on_external_step(double step_s)
{
	env_.log.warning("{} time jump detected! ({:+.3f} seconds)", step_s < 0 ? "Backward" : "Forward", step_s);
	apply(discipline_.stop_slew());
	for (size_t i = 0; i < set_.size(); i++) {
		set_.reset_source(i);
	}
	for (auto &r : refclocks_) {
		r->clock.drop_samples();
	}
	for (auto &s : ntp_) {
		s->filtered.clear();
		s->filter_polls = 0;
	}
	update(env_.clock.now());
}

bool Engine::make_step()
{
	RealTime now = env_.clock.now();
	auto decision = set_.decide(now);
	if (!decision.selection.selected) {
		return false;
	}
	auto e = set_.stats(*decision.selection.selected).estimate(now);
	if (!e) {
		return false;
	}
	// The whole offset now; the slew under way, which was to correct it
	// gradually, ends.
	double offset = e->offset_s;
	apply(discipline_.stop_slew());
	RealTime at = env_.clock.now();
	if (auto stepped = env_.clock.step(from_seconds(offset)); !stepped) {
		env_.log.error("Could not step the system clock: {}", stepped.error().message());
		return false;
	}
	env_.log.info("System clock wrong by {:.6f} seconds (step, makestep command)", offset);
	clock_changed({at, offset, 0.0, env_.clock.frequency_ppm()});
	return true;
}

void Engine::schedule_fallback()
{
	cancel(fallback_timer_);
	MonoTime now = env_.scheduler.now();
	auto next = fallback_->next_due_s(to_seconds(now - *last_update_));
	if (!next) {
		return;
	}
	fallback_timer_ = env_.scheduler.add_timer(*last_update_ + from_seconds(*next), [this] {
		fallback_timer_.reset();
		if (auto step = fallback_->due(to_seconds(env_.scheduler.now() - *last_update_))) {
			env_.log.info("Fallback drift {} active: {:.3f} ppm", step->level, -step->freq_ppm);
			apply(discipline_.set_base_frequency(step->freq_ppm));
		}
		schedule_fallback();
	});
}

void Engine::schedule_leap_correction(Leap leap)
{
	cancel(leap_timer_);
	if (leap != Leap::Insert && leap != Leap::Delete) {
		return;
	}
	// After an inserted second the clock is a second ahead of UTC; after a
	// deleted one, a second behind.
	double correction = leap == Leap::Insert ? -1.0 : 1.0;
	RealTime now = env_.clock.now();
	int64_t midnight = (now.seconds() / 86400 + 1) * 86400;
	double wait = to_seconds(RealTime::from_parts(midnight, 0) - now);
	leap_timer_ = env_.scheduler.add_timer(env_.scheduler.now() + from_seconds(wait), [this, correction] {
		leap_timer_.reset();
		// UTC itself repeated (or skipped) a second: every source's history
		// moves onto the new timescale, as if the clock had stepped the
		// other way (chronyd's LCL_NotifyLeap). Then the clock follows,
		// stepped or slewed; a step moves the history back again, so with
		// `step` the samples stay where they were.
		RealTime at = env_.clock.now();
		ClockChange utc{at, -correction, 0.0, env_.clock.frequency_ppm()};
		set_.on_clock_change(utc);
		for (auto &r : refclocks_) {
			r->clock.on_clock_change(utc);
		}
		if (leap_mode_ == LeapMode::Step) {
			if (auto stepped = env_.clock.step(from_seconds(correction)); !stepped) {
				env_.log.error("Could not step the clock for the leap second: {}", stepped.error().message());
				return;
			}
			env_.log.warning("System clock was stepped for leap second");
			clock_changed({at, correction, 0.0, env_.clock.frequency_ppm()});
		} else {
			env_.log.warning("Adjusting system clock for leap second");
			apply(discipline_.slew_offset(correction, env_.scheduler.now()));
		}
	});
}

} // namespace strata::sources
