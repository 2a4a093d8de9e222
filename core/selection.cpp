#include "core/selection.h"

#include <algorithm>
#include <cmath>

namespace strata {

namespace {

/// Marzullo's sweep as chronyd runs it (sources.c): the depth of trusted
/// intervals first, then the depth of all. `low`/`high`: the deepest
/// interval (within the deepest trusted one); `trust_low`/`trust_high`:
/// the deepest trusted one.
struct Intersection {
	double low = 0, high = 0;
	double trust_low = 0, trust_high = 0;
	size_t depth = 0;
	size_t trust_depth = 0;
};

Intersection intersection(const std::vector<SelectionCandidate> &c, const std::vector<size_t> &members)
{
	struct Edge {
		double at;
		int kind;  // +1 opens, -1 closes
		bool trust;
	};
	std::vector<Edge> edges;
	for (size_t i : members) {
		edges.push_back({c[i].offset_s - c[i].distance_s, +1, c[i].trust});
		edges.push_back({c[i].offset_s + c[i].distance_s, -1, c[i].trust});
	}
	std::sort(edges.begin(), edges.end(), [](const Edge &a, const Edge &b) {
		return a.at != b.at ? a.at < b.at : a.kind > b.kind;
	});
	Intersection best;
	size_t depth = 0, trust_depth = 0;
	size_t &best_depth = best.depth;
	for (const Edge &e : edges) {
		if (e.kind > 0) {
			depth++;
			trust_depth += e.trust ? 1 : 0;
			if (trust_depth > best.trust_depth || (trust_depth == best.trust_depth && depth > best_depth)) {
				if (trust_depth > best.trust_depth) {
					best.trust_depth = trust_depth;
					best.trust_low = e.at;
				}
				best_depth = depth;
				best.low = e.at;
			}
		} else {
			if (trust_depth == best.trust_depth) {
				if (depth == best_depth) {
					best.high = e.at;
				}
				best.trust_high = e.at;
			}
			trust_depth -= e.trust ? 1 : 0;
			depth--;
		}
	}
	return best;
}

} // namespace

SelectionResult select_sources(const std::vector<SelectionCandidate> &c, const SelectionConfig &config,
			       std::optional<size_t> previous, bool absent_require)
{
	SelectionResult r;
	r.states.assign(c.size(), CandidateState::NoMajority);
	std::vector<size_t> selectable;
	for (size_t i = 0; i < c.size(); i++) {
		if (c[i].noselect) {
			r.states[i] = CandidateState::NoSelect;
		} else if (c[i].distance_s > config.maxdistance_s) {
			r.states[i] = CandidateState::TooFar;
		} else if (c[i].jitter_s > config.maxjitter_s) {
			r.states[i] = CandidateState::TooJittery;
		} else {
			selectable.push_back(i);
		}
	}
	if (selectable.empty() || selectable.size() < static_cast<size_t>(std::max(1, config.minsources))) {
		return r;
	}

	// chronyd's sweep (sources.c): the depth of trusted intervals first,
	// then the depth of all. Its quirk is kept on purpose: the best
	// interval ends at the last close at the best depth, so of two equally
	// deep intersections the span from the first to the second counts, and
	// only a candidate that contains that span (or lies within it) is a
	// truechimer. chrony's 120-selectoptions depends on it.
	size_t trusted = static_cast<size_t>(
		std::count_if(selectable.begin(), selectable.end(), [&](size_t i) { return c[i].trust; }));
	Intersection best = intersection(c, selectable);
	// More than half must agree: of all, or of the trusted ones.
	if (trusted == 0 ? best.depth * 2 <= selectable.size() : best.trust_depth * 2 <= trusted) {
		return r;
	}
	std::vector<size_t> truechimers;
	for (size_t i : selectable) {
		double lo = c[i].offset_s - c[i].distance_s, hi = c[i].offset_s + c[i].distance_s;
		bool in_best = (lo <= best.low && hi >= best.high) || (lo >= best.low && hi <= best.high);
		// With trusted candidates, the others may not pull the estimate
		// out of the trusted interval (chronyd's SRC_UNTRUSTED).
		bool within_trusted = trusted == 0 || c[i].trust || (lo >= best.trust_low && hi <= best.trust_high);
		if (in_best && within_trusted) {
			truechimers.push_back(i);
			r.states[i] = CandidateState::Truechimer;
		} else {
			r.states[i] = CandidateState::Falseticker;
		}
	}
	r.truechimers = truechimers.size();
	if (truechimers.size() < static_cast<size_t>(std::max(1, config.minsources))) {
		for (size_t i : truechimers) {
			r.states[i] = CandidateState::NoMajority;
		}
		r.truechimers = 0;
		return r;
	}
	bool any_require =
		absent_require || std::any_of(c.begin(), c.end(), [](const SelectionCandidate &x) { return x.require; });
	if (any_require && std::none_of(truechimers.begin(), truechimers.end(), [&](size_t i) { return c[i].require; })) {
		return r;
	}

	// The leader: prefer candidates first, then the smallest score.
	bool any_prefer = std::any_of(truechimers.begin(), truechimers.end(), [&](size_t i) { return c[i].prefer; });
	auto score = [&](size_t i) { return c[i].stratum * config.stratumweight_s + c[i].distance_s; };
	std::optional<size_t> leader;
	for (size_t i : truechimers) {
		if (any_prefer && !c[i].prefer) {
			continue;
		}
		if (!leader || score(i) < score(*leader)) {
			leader = i;
		}
	}
	// Keep the current leader unless the new one is better by reselectdist.
	if (previous) {
		for (size_t i : truechimers) {
			if (c[i].id == *previous && (!any_prefer || c[i].prefer) &&
			    score(i) <= score(*leader) + config.reselectdist_s) {
				leader = i;
			}
		}
	}
	r.selected = c[*leader].id;
	r.states[*leader] = CandidateState::Selected;

	// Combine: candidates within combinelimit × the leader's distance.
	double limit = config.combinelimit * c[*leader].distance_s;
	double weights = 0, sum = 0;
	for (size_t i : truechimers) {
		bool take = i == *leader || (config.combinelimit > 0 && c[i].distance_s <= limit &&
					     (!any_prefer || c[i].prefer));
		if (!take) {
			continue;
		}
		if (i != *leader) {
			r.states[i] = CandidateState::Combined;
		}
		double w = 1.0 / std::max(c[i].distance_s, 1e-12);
		weights += w;
		sum += w * c[i].offset_s;
	}
	r.offset_s = sum / weights;
	// The combined distance is taken as no better than the leader's alone:
	// the candidates' errors need not be independent.
	r.distance_s = c[*leader].distance_s;
	return r;
}

std::vector<SelectOptions> auth_select_options(AuthSelectMode mode, const std::vector<AuthSelectSource> &sources)
{
	size_t auth = 0, unauth = 0;
	for (const auto &s : sources) {
		if (s.configured.noselect || !s.ntp) {
			continue;
		}
		(s.authenticated ? auth : unauth)++;
	}
	SelectOptions auth_add, unauth_add, refclock_add;
	switch (mode) {
	case AuthSelectMode::Ignore:
		break;
	case AuthSelectMode::Mix:
		if (auth > 0 && unauth > 0) {
			auth_add.require = auth_add.trust = true;
			refclock_add = auth_add;
		}
		break;
	case AuthSelectMode::Prefer:
		unauth_add.noselect = auth > 0;
		break;
	case AuthSelectMode::Require:
		unauth_add.noselect = true;
		break;
	}
	std::vector<SelectOptions> out;
	out.reserve(sources.size());
	for (const auto &s : sources) {
		SelectOptions o = s.configured;
		if (!o.noselect) {
			const SelectOptions &add = !s.ntp ? refclock_add : (s.authenticated ? auth_add : unauth_add);
			o.prefer |= add.prefer;
			o.trust |= add.trust;
			o.require |= add.require;
			o.noselect |= add.noselect;
		}
		out.push_back(o);
	}
	return out;
}

} // namespace strata
