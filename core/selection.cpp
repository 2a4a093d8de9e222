#include "core/selection.h"

#include <algorithm>
#include <cmath>

namespace strata {

namespace {

struct Interval {
	double low = 0;
	double high = 0;
	size_t count = 0;  ///< candidates whose interval contains it
};

/// Marzullo: the interval inside the most of `members`' intervals.
Interval best_intersection(const std::vector<SelectionCandidate> &c, const std::vector<size_t> &members)
{
	struct Edge {
		double at;
		int kind;  // +1 interval opens, -1 closes
	};
	std::vector<Edge> edges;
	for (size_t i : members) {
		edges.push_back({c[i].offset_s - c[i].distance_s, +1});
		edges.push_back({c[i].offset_s + c[i].distance_s, -1});
	}
	// At equal positions open before close, so touching intervals intersect.
	std::sort(edges.begin(), edges.end(), [](const Edge &a, const Edge &b) {
		return a.at != b.at ? a.at < b.at : a.kind > b.kind;
	});
	Interval best;
	size_t depth = 0;
	for (size_t k = 0; k < edges.size(); k++) {
		if (edges[k].kind > 0) {
			depth++;
			if (depth > best.count) {
				best.count = depth;
				best.low = edges[k].at;
				// The interval lasts until the next edge (a close, or an open
				// that would deepen it and be found next).
				best.high = k + 1 < edges.size() ? edges[k + 1].at : edges[k].at;
			}
		} else {
			depth--;
		}
	}
	return best;
}

bool contains(const SelectionCandidate &c, const Interval &i)
{
	return c.offset_s - c.distance_s <= i.high && c.offset_s + c.distance_s >= i.low;
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

	std::vector<size_t> trusted;
	for (size_t i : selectable) {
		if (c[i].trust) {
			trusted.push_back(i);
		}
	}
	const auto &judges = trusted.empty() ? selectable : trusted;
	Interval best = best_intersection(c, judges);
	// A majority of the judges must agree (more than half).
	if (best.count * 2 <= judges.size()) {
		return r;
	}
	std::vector<size_t> truechimers;
	for (size_t i : selectable) {
		if (contains(c[i], best)) {
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
