#include "refclock/refclock.h"

#include <algorithm>
#include <cmath>

namespace strata::refclock {

namespace {

/// A pulse must lie within this fraction of a period of its lock's offset
/// (with both dispersions added): the lock has to be good enough to say
/// which second the pulse starts.
constexpr double kLockLimit = 0.2;

/// Gaps between pulses longer than this are a restart (a device reopened,
/// a long outage), not missing pulses to count.
constexpr double kMaxCountedGap_s = 3600;

} // namespace

uint32_t ref_id_from_text(std::string_view text)
{
	uint32_t id = 0;
	for (size_t i = 0; i < 4; i++) {
		id <<= 8;
		if (i < text.size()) {
			id |= static_cast<uint8_t>(text[i]);
		}
	}
	return id;
}

uint32_t default_ref_id(std::string_view driver, size_t index)
{
	char ref[4] = {0, 0, 0, 0};
	for (size_t i = 0; i < 3 && i < driver.size(); i++) {
		ref[i] = driver[i];
	}
	ref[3] = static_cast<char>('0' + index % 10);
	if (index >= 10) {
		ref[2] = static_cast<char>('0' + (index / 10) % 10);
	}
	return ref_id_from_text(std::string_view(ref, 4));
}

std::string ref_id_text(uint32_t ref_id)
{
	std::string text;
	for (int shift = 24; shift >= 0; shift -= 8) {
		auto c = static_cast<char>((ref_id >> shift) & 0xff);
		if (c == 0) {
			break;
		}
		text.push_back(c);
	}
	return text;
}

LocalAdjustment local_adjustment(const SourceEstimate &before, const SourceEstimate &after)
{
	// Both at the same instant: the offset now expected, and the rate, moved
	// by the new sample alone. Corrections the clock got in between (from
	// the selected sources) have moved both estimates alike.
	double predicted = before.offset_s + before.frequency_ppm * 1e-6 * to_seconds(after.at - before.at);
	return {.offset_s = after.offset_s - predicted, .dfreq_ppm = after.frequency_ppm - before.frequency_ppm};
}

std::string_view to_string(Verdict verdict)
{
	switch (verdict) {
	case Verdict::Accepted:
		return "accepted";
	case Verdict::BadTime:
		return "sample time in the future or too old";
	case Verdict::Unsynchronized:
		return "reference not synchronised";
	case Verdict::NoTaiOffset:
		return "TAI-UTC offset unknown";
	case Verdict::NoLockSample:
		return "no recent sample of the locked refclock";
	case Verdict::OutOfPhase:
		return "pulse out of phase with the locked refclock";
	case Verdict::BadEdge:
		return "pulse edge outside its width";
	case Verdict::ClockNotSynced:
		return "system clock not synchronised well enough for a pulse";
	case Verdict::LostLock:
		return "local refclock lost its lock (no sample for too long)";
	}
	return "?";
}

Refclock::Refclock(RefclockSettings settings)
	: settings_(std::move(settings)), filter_(settings_.filter_length)
{
	settings_.rate = std::max(settings_.rate, 1);
	if (settings_.local) {
		// Phase only, locked to itself: a lock sample may be a little
		// older than the lock of a pulse to another refclock.
		settings_.pps = true;
		settings_.maxlockage = std::max(settings_.maxlockage, 3);
	}
}

Verdict Refclock::add(const RawSample &sample, RealTime local, const SampleContext &context)
{
	Verdict v = judge(sample, local, context);
	stats_.verdicts[static_cast<size_t>(v)]++;
	return v;
}

Verdict Refclock::judge(const RawSample &sample, RealTime local, const SampleContext &context)
{
	// Not from the future, and not older than two polls: a writer that
	// stopped leaves its last sample behind, which must not be taken again
	// and again.
	double age = to_seconds(context.now - local);
	if (age < 0 || age > std::ldexp(1.0, settings_.poll_log2 + 1)) {
		stats_.rejected++;
		return Verdict::BadTime;
	}
	if (sample.leap == Leap::Unsynchronized) {
		stats_.rejected++;
		return Verdict::Unsynchronized;
	}
	double dispersion = std::max(settings_.precision_s, sample.precision_s.value_or(0.0));
	double offset = sample.offset_s() + settings_.offset_s;
	if (sample.pulse || settings_.pps) {
		return add_pulse(local, offset, dispersion, context);
	}
	if (settings_.tai) {
		if (!context.tai_offset) {
			stats_.rejected++;
			return Verdict::NoTaiOffset;
		}
		offset -= *context.tai_offset;
	}
	return accumulate(local, offset, dispersion, sample.leap);
}

Verdict Refclock::add_pulse(RealTime local, double offset, double dispersion, const SampleContext &context)
{
	double rate = settings_.rate;
	double period = 1.0 / rate;
	// A local refclock's samples come at dpoll, not once a period.
	if (last_pulse_ && !settings_.local) {
		double gap = to_seconds(local - *last_pulse_);
		if (gap > 1.5 * period && gap < kMaxCountedGap_s) {
			stats_.missed_pulses += static_cast<uint64_t>(std::llround(gap * rate) - 1);
		}
	}
	last_pulse_ = local;

	// Only the phase counts: [−period/2, period/2).
	offset -= std::trunc(offset * rate) / rate;
	if (offset < -0.5 * period) {
		offset += period;
	} else if (offset >= 0.5 * period) {
		offset -= period;
	}

	Leap leap = Leap::None;
	if (settings_.local) {
		// Locked to itself: the first pulse after a start is its own lock.
		LockSample lock = last_.value_or(LockSample{.local = local, .offset_s = offset});
		if (std::abs(to_seconds(local - lock.local)) >= settings_.maxlockage * period) {
			(void)filter_.take(settings_.precision_s);
			last_.reset();
			stats_.rejected++;
			return Verdict::LostLock;
		}
		offset += std::round((lock.offset_s - offset) * rate) / rate;
		if (std::abs(lock.offset_s - offset) + lock.dispersion_s + dispersion > kLockLimit * period) {
			stats_.rejected++;
			stats_.out_of_phase++;
			return Verdict::OutOfPhase;
		}
	} else if (context.locked) {
		const auto &lock = context.lock_sample;
		if (!lock || std::abs(to_seconds(local - lock->local)) >= settings_.maxlockage * period) {
			stats_.rejected++;
			return Verdict::NoLockSample;
		}
		// The whole periods come from the lock.
		offset += std::round((lock->offset_s - offset) * rate) / rate;
		double difference = lock->offset_s - offset;
		if (std::abs(difference) + lock->dispersion_s + dispersion > kLockLimit * period) {
			stats_.rejected++;
			stats_.out_of_phase++;
			return Verdict::OutOfPhase;
		}
		if (!edge_ok(difference, 0.0)) {
			stats_.rejected++;
			return Verdict::BadEdge;
		}
		leap = lock->leap;
	} else {
		if (!context.clock_synchronized || context.clock_distance_s >= 0.5 * period) {
			// Not knowing the second, earlier pulses are no better.
			(void)filter_.take(settings_.precision_s);
			stats_.rejected++;
			return Verdict::ClockNotSynced;
		}
		if (!edge_ok(offset, context.clock_distance_s)) {
			stats_.rejected++;
			return Verdict::BadEdge;
		}
	}
	Verdict v = accumulate(local, offset, dispersion, leap);
	if (v == Verdict::Accepted) {
		stats_.pulses++;
	}
	return v;
}

bool Refclock::edge_ok(double offset_s, double distance_s) const
{
	if (settings_.width_s <= 0) {
		return true;
	}
	double period = 1.0 / settings_.rate;
	double max_error = 0.5 * std::min(settings_.width_s, period - settings_.width_s);
	return std::abs(offset_s) <= max_error && distance_s <= max_error;
}

Verdict Refclock::accumulate(RealTime local, double offset_s, double dispersion_s, Leap leap)
{
	reached_ = true;
	filter_.add({.local = local, .offset_s = offset_s, .dispersion_s = dispersion_s});
	last_ = LockSample{.local = local, .offset_s = offset_s, .dispersion_s = dispersion_s, .leap = leap};
	leap_ = leap;
	stats_.samples++;
	return Verdict::Accepted;
}

PollOutcome Refclock::poll()
{
	PollOutcome out;
	stats_.polls++;
	out.reached = reached_;
	reached_ = false;
	// A local standard is never synchronised: not a candidate in selection.
	out.leap = settings_.local ? Leap::Unsynchronized : leap_;
	auto combined = filter_.take(settings_.precision_s);
	if (!combined || combined->spread_s > settings_.maxdispersion_s) {
		stats_.empty_polls++;
		return out;
	}
	out.sample = SourceSample{.local = combined->sample.local,
				  .offset_s = combined->sample.offset_s,
				  .delay_s = settings_.delay_s,
				  .dispersion_s = combined->sample.dispersion_s};
	return out;
}

void Refclock::correct_offset(double delta_s)
{
	filter_.correct_offset(delta_s);
	if (last_) {
		last_->offset_s += delta_s;
	}
}

void Refclock::on_clock_change(const ClockChange &change)
{
	filter_.on_clock_change(change.at, change.step_s, change.dfreq_ppm, change.freq_ppm);
	double r1 = change.freq_ppm * 1e-6;
	double r0 = r1 - change.dfreq_ppm * 1e-6;
	auto shift_of = [&](RealTime t) { return change.step_s + (r1 - r0) / (1 + r0) * to_seconds(t - change.at); };
	if (last_) {
		double shift = shift_of(last_->local);
		last_->offset_s -= shift;
		last_->local += from_seconds(shift);
	}
	if (last_pulse_) {
		*last_pulse_ += from_seconds(shift_of(*last_pulse_));
	}
}

void Refclock::drop_samples()
{
	filter_.clear();
	last_.reset();
	last_pulse_.reset();
}

} // namespace strata::refclock
