// The engine's reference clocks: every `refclock` line's driver read at
// its dpoll (or when its descriptor is readable), each sample judged by the
// refclock framework, each poll's filtered sample into the selection, reach
// kept; a `local` refclock steadies the clock directly.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "refclock/local_follow.h"
#include "sources/engine.h"

namespace strata::sources {

refclock::RefclockSettings refclock_settings(const conf::RefclockConfig &c, size_t index, const refclock::Driver &driver)
{
	int poll = c.poll_log2;
	return refclock::RefclockSettings{
		.name = fmt::format("{} {}", c.driver, c.parameter),
		.ref_id = c.refid.empty() ? refclock::default_ref_id(c.driver, index) : refclock::ref_id_from_text(c.refid),
		.poll_log2 = poll,
		.dpoll_log2 = std::min(c.dpoll_log2, poll),
		.pps = c.pps || driver.pulses(),
		.rate = c.rate,
		.width_s = c.width_s,
		.maxlockage = c.maxlockage,
		.offset_s = c.offset_s,
		.delay_s = c.delay_s,
		.precision_s = c.precision_s.value_or(driver.default_precision_s()),
		.maxdispersion_s = c.maxdispersion_s,
		.filter_length = static_cast<size_t>(std::max(c.filter.value_or(64), 1)),
		.tai = c.tai,
		.local = c.local,
		.stratum = c.stratum};
}

SourceInfo refclock_source_info(const conf::RefclockConfig &c, const refclock::RefclockSettings &settings)
{
	return {.stratum = settings.stratum,
		.ref_id = settings.ref_id,
		.prefer = c.prefer,
		.trust = c.trust,
		.require = c.require,
		.noselect = c.noselect,
		.reachable = false};
}

void Engine::start_refclocks(const conf::Config &config)
{
	for (size_t i = 0; i < config.refclocks.size(); i++) {
		const conf::RefclockConfig &c = config.refclocks[i];
		std::string where = fmt::format("{}:{}", c.origin.file, c.origin.line);
		auto driver = env_.refclocks ? env_.refclocks(c)
					     : fail(Errc::Unsupported, "reference clocks are not available here");
		if (!driver) {
			env_.log.error("refclock {} {} ({}): {}; not used", c.driver, c.parameter, where,
				       driver.error().message());
			continue;
		}
		refclock::RefclockSettings rs = refclock_settings(c, i, **driver);
		if (rs.local) {
			// Two local standards would pull the clock against each other.
			bool have_local = std::any_of(refclocks_.begin(), refclocks_.end(),
						      [](const auto &o) { return o->clock.settings().local; });
			if (have_local) {
				env_.log.warning("refclock {} {} ({}): only one refclock can be local; used without the option",
						 c.driver, c.parameter, where);
				rs.local = false;
			}
		}
		auto r = std::make_unique<RefclockSource>(c, rs, std::move(*driver));
		r->label = fmt::format("{} ({} {})", refclock::ref_id_text(rs.ref_id), c.driver, c.parameter);
		r->position = refclocks_.size();
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
		env_.log.info("Added refclock {}{}", r->label,
			      rs.local ? " (local standard: steadies the clock, never selected)"
			      : rs.pps ? " (pulses)"
				       : "");
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
			env_.log.warning("refclock {}: invalid lock refid {}; its pulses need a synchronised clock",
					 r->label, r->config.lock);
		}
	}
	for (auto &r : refclocks_) {
		RefclockSource *raw = r.get();
		watch_refclock(*raw);
		raw->timer = env_.scheduler.add_timer(env_.scheduler.now(), [this, raw] {
			raw->timer.reset();
			refclock_tick(*raw);
		});
	}
}

void Engine::watch_refclock(RefclockSource &r)
{
	int fd = r.driver->fd();
	if (fd == r.watched_fd) {
		return;
	}
	r.watched_fd = fd;
	env_.io.watch_refclock(r.position, fd);
}

void Engine::on_refclock_readable(size_t position)
{
	if (position >= refclocks_.size()) {
		return;
	}
	RefclockSource &r = *refclocks_[position];
	r.batch.clear();
	r.driver->receive(env_.scheduler.now(), r.batch);
	refclock_samples(r, r.batch);
	watch_refclock(r);  // a device that failed is closed: its fd goes
}

void Engine::refclock_tick(RefclockSource &r)
{
	const auto &settings = r.clock.settings();
	int interval_log2 = settings.poll_log2;
	if (r.driver->polled()) {
		interval_log2 = settings.dpoll_log2;
		r.batch.clear();
		r.driver->poll(env_.scheduler.now(), r.batch);
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
	RefclockSource *raw = &r;
	r.timer = env_.scheduler.add_timer(env_.scheduler.now() + from_seconds(std::ldexp(1.0, interval_log2)),
					   [this, raw] {
						   raw->timer.reset();
						   refclock_tick(*raw);
					   });
}

void Engine::refclock_samples(RefclockSource &r, std::vector<refclock::RawSample> &samples)
{
	if (samples.empty()) {
		return;
	}
	RealTime now = env_.clock.now();
	refclock::SampleContext context{.now = now,
					.locked = r.lock.has_value(),
					.clock_synchronized = tracking_.synced_distance_s.has_value(),
					.clock_distance_s = tracking_.synced_distance_s.value_or(0.0)};
	if (settings_.leap_table) {
		context.tai_offset = settings_.leap_table->tai_offset(now);
	}
	if (r.lock) {
		context.lock_sample = refclocks_[*r.lock]->clock.last_sample();
	}
	MonoTime mono = env_.scheduler.now();
	for (const auto &raw : samples) {
		auto verdict = r.clock.add(raw, env_.clock.from_system(raw.local), context);
		switch (verdict) {
		case refclock::Verdict::Accepted:
			log_refclock_sample(r, raw);
			break;
		case refclock::Verdict::OutOfPhase:
		case refclock::Verdict::BadEdge:
		case refclock::Verdict::NoTaiOffset:
			r.bad_log.report(env_.log, mono, r.label, refclock::to_string(verdict));
			break;
		case refclock::Verdict::LostLock:
			// Its statistics describe a phase it no longer follows.
			env_.log.warning("refclock {}: local refclock lost its lock; starting again", r.label);
			set_.reset_source(r.index);
			break;
		default:
			env_.log.debug("refclock {}: sample not used: {}", r.label, refclock::to_string(verdict));
			break;
		}
	}
	uint64_t missed = r.clock.stats().missed_pulses;
	if (missed != r.missed_logged) {
		r.bad_log.report(env_.log, mono, r.label,
				 fmt::format("{} pulses missing ({} in all)", missed - r.missed_logged, missed));
		r.missed_logged = missed;
	}
}

void Engine::refclock_end_poll(RefclockSource &r)
{
	auto outcome = r.clock.poll();
	r.log_sequence = 0;
	r.polls++;
	bool was_reachable = r.reach != 0;
	r.reach = static_cast<uint8_t>((r.reach << 1) | (outcome.reached ? 1 : 0));
	if (was_reachable && r.reach == 0) {
		env_.log.info("refclock {} is unreachable", r.label);
	}
	set_.set_reachable(r.index, r.reach != 0);
	if (!outcome.sample) {
		if (tracking_.selected == r.index) {
			update(env_.clock.now());  // the leader missed a poll: a better source may take over (chronyd)
		}
		check_special_mode();
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
	RealTime now = env_.clock.now();
	if (!settings.local) {
		set_.add_sample(r.index, *outcome.sample);
		log_refclock_filtered(r, outcome);
		log_statistics(r.index, now);
		update(now);
		return;
	}
	log_refclock_filtered(r, outcome);
	// The local standard: the clock follows what its new sample changed in
	// its statistics (refclock/local_follow.h).
	if (auto adjustment = refclock::add_local_sample(set_, r.index, r.clock, *outcome.sample, r.min_samples, now)) {
		env_.log.debug("refclock {}: local adjustment {:+.9f} s, {:+.6f} ppm", r.label, adjustment->offset_s,
			       adjustment->dfreq_ppm);
		apply(discipline_.follow(adjustment->offset_s, adjustment->dfreq_ppm, env_.scheduler.now()));
	}
	update(env_.clock.now());
}

} // namespace strata::sources
