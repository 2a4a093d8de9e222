#include "core/discipline.h"

#include <algorithm>
#include <cmath>

namespace strata {

namespace {

/// The shortest and longest slews.
constexpr double kMinSlewDuration_s = 1.0;
constexpr double kMaxSlewDuration_s = 1e4;
/// The smallest skew either side of the frequency weighing is given
/// (chronyd's MIN_SKEW, 1e-12 s/s): a noiseless source, or a drift file
/// whose skew reads 0.000, would otherwise weigh 0 against 0 and set the
/// frequency to NaN.
constexpr double kMinSkew_ppm = 1e-6;

} // namespace

Discipline::Discipline(const DisciplineConfig &config, ClockControl<Realtime> &clock, Logger &log)
	: config_(config),
	  clock_(clock),
	  log_(log),
	  base_freq_ppm_(std::clamp(config.initial_frequency_ppm, -config.maxdrift_ppm, config.maxdrift_ppm)),
	  skew_ppm_(config.initial_skew_ppm),
	  applied_ppm_(clock.frequency_ppm())
{
	DisciplineResult ignored;
	apply_frequency(0.0, ignored);
}

double Discipline::slew_duration_s(double offset_s, double slew_ppm) const
{
	double duration = offset_s / slew_ppm * 1e6;
	if (!clock_.monotonic_follows_frequency()) {
		return duration;
	}
	return duration * (1 + (base_freq_ppm_ + slew_ppm) * 1e-6);
}

void Discipline::apply_frequency(double slew_ppm, DisciplineResult &r)
{
	double target = base_freq_ppm_ + slew_ppm;
	auto applied = clock_.set_frequency_ppm(target);
	if (!applied) {
		log_.error("Could not set the clock frequency: {}", applied.error().message());
		return;
	}
	double dfreq = *applied - applied_ppm_;
	applied_ppm_ = *applied;
	if (dfreq != 0) {
		r.changes.push_back({clock_.now(), 0.0, dfreq, applied_ppm_});
	}
}

DisciplineResult Discipline::update(const ClockEstimate &e, MonoTime mono)
{
	DisciplineResult r;
	updates_++;
	double elapsed = last_update_ ? to_seconds(mono - *last_update_) : 0.0;
	last_update_ = mono;

	if (config_.maxchange && updates_ > config_.maxchange->start &&
	    std::abs(e.offset_s) > config_.maxchange->offset_s) {
		// chronyd's count: `ignore` of them are ignored, the next one ends
		// the daemon; a negative count never does.
		bool exiting = config_.maxchange->ignore >= 0 && ignored_ >= config_.maxchange->ignore;
		ignored_++;
		log_.warning("Adjustment of {:.3f} seconds exceeds the allowed maximum of {:.3f} seconds ({})", -e.offset_s,
			     config_.maxchange->offset_s, exiting ? "exiting" : "ignored");
		r.ignored = true;
		r.gave_up = exiting;
		return r;
	}

	// Frequency: weigh the new estimate against the base frequency, whose
	// uncertainty has grown since the last update.
	// The sources' samples follow every change of rate, slews included, so
	// the estimate is relative to the frequency applied now (base + slew).
	// Rates compose by multiplication (the clock runs at (1 + its own
	// error) × (1 + the setting), in the kernel as in clknetsim), so the
	// clock would run right at (1 + applied) × (1 + estimate) − 1. The sum
	// alone misses the product, applied × estimate: nothing at a few ppm,
	// but during a fast slew both are large and opposite (83,333 ppm
	// applied, about −77,000 ppm measured in the slewed clock's seconds),
	// and the sum set the frequency 6,400 ppm wrong: after an iburst slew of
	// 0.5 s the clock ran away by 6 ms a second until the next poll.
	// Whether to trust the estimate at all is decided on the bound, not the
	// standard error: a line through three or four samples can pass close
	// to all of them by chance (in clknetsim with 100 ms of jitter, a skew
	// of 16 ppm from 3 samples set the frequency 1,245 ppm wrong).
	if (std::max(e.skew_ppm, e.skew_bound_ppm) <= config_.maxupdateskew_ppm) {
		// chronyd's weighing: the new estimate's gain is 3 prior² / (3
		// prior² + skew²), the prior being the skew of the frequency in use;
		// the new skew moves as far toward the estimate's, plus the spread
		// of the two frequencies it stands between.
		double prior = std::max(skew_ppm_, kMinSkew_ppm);
		double skew = std::max(e.skew_ppm, kMinSkew_ppm);
		double gain = std::clamp(3 * prior * prior / (3 * prior * prior + skew * skew), 0.0, 1.0);
		double right = applied_ppm_ + e.frequency_ppm +
			       applied_ppm_ * e.frequency_ppm * 1e-6;
		double measured = right - base_freq_ppm_;
		double moved = gain * measured;
		double extra = std::sqrt(moved * moved * (1 - gain) + (measured - moved) * (measured - moved) * gain);
		base_freq_ppm_ = std::clamp(base_freq_ppm_ + moved, -config_.maxdrift_ppm, config_.maxdrift_ppm);
		skew_ppm_ = prior + gain * (skew - prior) + extra;
		frequency_updates_++;
	}

	// Offset: step, or slew over corrtimeratio × the update interval.
	bool may_step = config_.makestep && std::abs(e.offset_s) > config_.makestep->threshold_s &&
			(config_.makestep->limit < 0 || updates_ <= config_.makestep->limit);
	if (may_step) {
		RealTime at = clock_.now();
		auto stepped = clock_.step(from_seconds(e.offset_s));
		if (stepped) {
			log_.log(std::abs(e.offset_s) > config_.logchange_s ? LogLevel::Warning : LogLevel::Info,
				 fmt::format("System clock wrong by {:.6f} seconds (step)", e.offset_s));
			r.changes.push_back({at, e.offset_s, 0.0, applied_ppm_});
			r.stepped = true;
			slew_end_.reset();
			apply_frequency(0.0, r);
			return r;
		}
		log_.error("Could not step the clock: {}", stepped.error().message());
	}
	// The correction "rate" (offset × duration, constant): an offset of one
	// standard deviation is slewed over corrtimeratio × half the interval.
	double rate = config_.corrtimeratio * 0.5 * e.offset_sd_s * std::max(elapsed, e.interval_s);
	double duration = std::abs(e.offset_s) > 0
				  ? std::clamp(rate / std::abs(e.offset_s), kMinSlewDuration_s, kMaxSlewDuration_s)
				  : kMinSlewDuration_s;
	double slew_ppm = std::clamp(e.offset_s / duration * 1e6, -config_.maxslewrate_ppm, config_.maxslewrate_ppm);
	if (slew_ppm != 0) {
		slew_end_ = mono + from_seconds(slew_duration_s(e.offset_s, slew_ppm));
	} else {
		slew_end_.reset();
	}
	if (std::abs(e.offset_s) > config_.logchange_s) {
		log_.warning("System clock wrong by {:.6f} seconds, adjustment started", e.offset_s);
	}
	apply_frequency(slew_ppm, r);
	return r;
}

DisciplineResult Discipline::slew_offset(double offset_s, MonoTime mono)
{
	DisciplineResult r;
	double slew_ppm = offset_s >= 0 ? config_.maxslewrate_ppm : -config_.maxslewrate_ppm;
	if (offset_s == 0 || slew_ppm == 0) {
		return r;
	}
	slew_end_ = mono + from_seconds(slew_duration_s(offset_s, slew_ppm));
	apply_frequency(slew_ppm, r);
	return r;
}

DisciplineResult Discipline::follow(double offset_s, double dfreq_ppm, MonoTime mono)
{
	DisciplineResult r;
	double elapsed = last_follow_ ? to_seconds(mono - *last_follow_) : 0.0;
	last_follow_ = mono;
	double total = remaining_correction_s(mono) + offset_s;
	base_freq_ppm_ = std::clamp(base_freq_ppm_ + dfreq_ppm, -config_.maxdrift_ppm, config_.maxdrift_ppm);
	double duration = std::clamp(config_.corrtimeratio * 0.5 * elapsed, kMinSlewDuration_s, kMaxSlewDuration_s);
	double slew_ppm = std::clamp(total / duration * 1e6, -config_.maxslewrate_ppm, config_.maxslewrate_ppm);
	if (slew_ppm != 0) {
		slew_end_ = mono + from_seconds(slew_duration_s(total, slew_ppm));
	} else {
		slew_end_.reset();
	}
	apply_frequency(slew_ppm, r);
	return r;
}

DisciplineResult Discipline::stop_slew()
{
	DisciplineResult r;
	if (slew_end_) {
		slew_end_.reset();
		apply_frequency(0.0, r);
	}
	return r;
}

DisciplineResult Discipline::set_base_frequency(double ppm)
{
	DisciplineResult r;
	double slew = applied_ppm_ - base_freq_ppm_;
	base_freq_ppm_ = std::clamp(ppm, -config_.maxdrift_ppm, config_.maxdrift_ppm);
	apply_frequency(slew_end_ ? slew : 0.0, r);
	return r;
}

DisciplineResult Discipline::on_timer(MonoTime mono)
{
	DisciplineResult r;
	if (slew_end_ && mono >= *slew_end_) {
		slew_end_.reset();
		apply_frequency(0.0, r);
	}
	return r;
}

} // namespace strata
