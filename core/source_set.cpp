#include "core/source_set.h"

#include <cmath>

namespace strata {

SourceSet::SourceSet(const SelectionConfig &selection, const SourceStatsConfig &stats)
	: selection_(selection), stats_config_(stats)
{
}

size_t SourceSet::add_source(const SourceInfo &info, std::optional<SourceStatsConfig> stats)
{
	sources_.push_back({info, SourceStats(stats.value_or(stats_config_)), false});
	return sources_.size() - 1;
}

void SourceSet::on_clock_change(const ClockChange &change)
{
	for (auto &s : sources_) {
		s.stats.on_clock_change(change.at, change.step_s, change.dfreq_ppm, change.freq_ppm);
	}
}

std::vector<SelectOptions> SourceSet::effective_options() const
{
	std::vector<AuthSelectSource> kinds;
	kinds.reserve(sources_.size());
	for (const auto &s : sources_) {
		kinds.push_back({.ntp = s.info.ntp,
				 .authenticated = s.info.authenticated,
				 .configured = {.prefer = s.info.prefer,
						.trust = s.info.trust,
						.require = s.info.require,
						.noselect = s.info.noselect}});
	}
	return auth_select_options(selection_.auth_select, kinds);
}

SourceSetDecision SourceSet::decide(RealTime now)
{
	SourceSetDecision d;
	const std::vector<SelectOptions> options = effective_options();
	std::vector<SelectionCandidate> candidates;
	std::vector<SourceEstimate> estimates;
	std::vector<size_t> index_of;
	bool absent_require = false;
	size_t waiting = 0;
	uint8_t waiting_reach = 0, candidate_reach = 0, candidate_reach_size = 0;
	for (size_t i = 0; i < sources_.size(); i++) {
		const auto &s = sources_[i];
		auto e = s.stats.estimate(now);
		// As chronyd: a source is a candidate once its samples make a
		// regression (three), unless it may never hold that many
		// (maxsamples 1 or 2: chronyd's special case for -q/-Q).
		size_t n = s.stats.size();
		bool enough = n >= kMinSamplesToSelect || n >= s.stats.config().max_samples;
		const SelectOptions &o = options[i];
		if (!o.noselect && s.info.leap != Leap::Unsynchronized && !enough) {
			waiting++;
			waiting_reach = std::max(waiting_reach, s.info.reach);
		}
		if (!e || !enough || s.info.leap == Leap::Unsynchronized || !s.info.reachable) {
			absent_require |= o.require;
			continue;
		}
		candidate_reach = std::max(candidate_reach, s.info.reach);
		candidate_reach_size = std::max(candidate_reach_size, s.info.reach_size);
		// The interval the true offset lies in: half the round trip to the
		// root, the root's dispersion, and our own uncertainty about the source.
		double distance = (s.info.root_delay_s + e->min_delay_s) / 2 + s.info.root_dispersion_s + e->stddev_s +
				  e->offset_error_s;
		candidates.push_back({.id = i,
				      .offset_s = e->offset_s,
				      .distance_s = distance,
				      .jitter_s = e->stddev_s,
				      .stratum = s.info.stratum,
				      .prefer = o.prefer,
				      .trust = o.trust,
				      .require = o.require,
				      .noselect = o.noselect});
		estimates.push_back(*e);
		index_of.push_back(i);
	}
	// At the start (nothing selected yet), a source that has answered as
	// often as the candidates but for their latest poll is about to have
	// its samples too: wait for it, so that servers polled in step are
	// selected among together, not the first to have three samples alone
	// (chronyd's SRC_WAITS_STATS).
	if (waiting > 0 && !candidates.empty() && !leader_ && candidate_reach_size < 8 &&
	    (candidate_reach >> 1) == waiting_reach) {
		d.source_states.assign(sources_.size(), std::nullopt);
		return d;
	}
	d.selection = select_sources(candidates, selection_, leader_, absent_require);
	d.source_states.assign(sources_.size(), std::nullopt);
	for (size_t k = 0; k < index_of.size() && k < d.selection.states.size(); k++) {
		d.source_states[index_of[k]] = d.selection.states[k];
	}
	leader_ = d.selection.selected;
	if (!d.selection.selected) {
		return d;
	}

	// Frequency and skew: the combined sources' estimates, weighted as their
	// offsets were (1/distance).
	double weights = 0, frequency = 0, skew = 0, skew_bound = 0, offset_sd = 0;
	size_t leader_pos = 0, combined = 0, voters = 0, inserts = 0, deletes = 0;
	for (size_t k = 0; k < candidates.size(); k++) {
		auto state = d.selection.states[k];
		if (state == CandidateState::Selected) {
			leader_pos = k;
		}
		if (state != CandidateState::Selected && state != CandidateState::Combined) {
			continue;
		}
		double w = 1.0 / std::max(candidates[k].distance_s, 1e-12);
		weights += w;
		frequency += w * estimates[k].frequency_ppm;
		skew += w * estimates[k].skew_ppm;
		skew_bound += w * estimates[k].skew_bound_ppm;
		offset_sd += w * estimates[k].offset_error_s;
		combined++;
	}
	// Leap seconds, as chronyd votes on them: each source the selection
	// kept (the leader, the combined and the other truechimers) has a
	// vote, or, when any of them is trusted, the trusted ones alone (a
	// reference clock that knows nothing of the leap must not outvote the
	// trusted server that announces it: chrony's 113-leapsecond); more
	// than half must agree.
	auto kept = [&](size_t k) {
		auto state = d.selection.states[k];
		return state == CandidateState::Selected || state == CandidateState::Combined ||
		       state == CandidateState::Truechimer;
	};
	bool trusted_vote = false;
	for (size_t k = 0; k < candidates.size(); k++) {
		trusted_vote |= kept(k) && candidates[k].trust;
	}
	for (size_t k = 0; k < candidates.size(); k++) {
		if (!kept(k) || (trusted_vote && !candidates[k].trust)) {
			continue;
		}
		Leap leap = sources_[index_of[k]].info.leap;
		voters++;
		inserts += leap == Leap::Insert ? 1 : 0;
		deletes += leap == Leap::Delete ? 1 : 0;
	}
	Source &leader_source = sources_[index_of[leader_pos]];
	bool any_fresh = false;
	for (size_t k = 0; k < candidates.size(); k++) {
		auto state = d.selection.states[k];
		if (state == CandidateState::Selected || state == CandidateState::Combined) {
			any_fresh |= sources_[index_of[k]].fresh;
			sources_[index_of[k]].fresh = false;
		}
	}
	if (!any_fresh) {
		return d;
	}
	d.estimate = ClockEstimate{.offset_s = d.selection.offset_s,
				   .frequency_ppm = frequency / weights,
				   .skew_ppm = skew / weights,
				   .skew_bound_ppm = skew_bound / weights,
				   .offset_sd_s = offset_sd / weights};
	// The correction's pace: the combined sources' samples come, together,
	// about as often as the leader's divided by their number, and each
	// update is corrected over that interval (chronyd's pace for the same
	// flow of samples; over the time since the last update alone, two
	// samples a second apart made 30 ppm slews in tools/sim).
	const auto &leader_samples = leader_source.stats.samples();
	if (leader_samples.size() >= 2) {
		double leader_interval = to_seconds(leader_samples.back().local - leader_samples[leader_samples.size() - 2].local);
		d.estimate->interval_s = leader_interval / static_cast<double>(combined);
	}
	const Source &leader = leader_source;
	d.reference = leader.info;
	d.reference.stratum = leader.info.stratum + 1;
	d.reference.leap = inserts * 2 > voters ? Leap::Insert : deletes * 2 > voters ? Leap::Delete : Leap::None;
	d.reference.root_delay_s = leader.info.root_delay_s + estimates[leader_pos].min_delay_s;
	d.reference.root_dispersion_s =
		leader.info.root_dispersion_s + estimates[leader_pos].stddev_s + estimates[leader_pos].offset_error_s;
	d.root_distance_s = d.reference.root_delay_s / 2 + d.reference.root_dispersion_s;
	return d;
}

} // namespace strata
