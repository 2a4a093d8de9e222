// Source selection: which sources agree on the time, which one leads, and
// which are combined with it (chrony.conf(5) "Source selection"; RFC 5905 §11.2).
//
// Each candidate says "the true offset is within offset ± distance", where
// the distance is its root distance (half its root delay plus its root
// dispersion, plus its own dispersion). The intersection step finds the
// interval that the most candidates' intervals contain (Marzullo's
// algorithm); a candidate whose interval misses it is a falseticker. With no
// majority there is no selection at all, rather than a guess. Among the
// truechimers the one with the smallest score (stratum × stratumweight +
// distance) leads, `prefer` candidates first; the current leader is kept
// unless another scores better by `reselectdist`. Candidates within
// `combinelimit` × the leader's distance are combined, weighted by
// 1/distance.
//
// `trust` candidates are assumed right: when any are selectable, the
// intersection is taken among them alone and every other candidate is judged
// against it. `require`: if any candidate requires, no selection happens
// unless at least one requiring candidate is a truechimer. Pure.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace strata {

struct SelectionCandidate {
	size_t id = 0;
	double offset_s = 0;     ///< reference − local
	double distance_s = 0;   ///< root distance: the half-width of its interval
	double jitter_s = 0;     ///< standard deviation of its recent offsets
	int stratum = 1;
	bool prefer = false;
	bool trust = false;
	bool require = false;
	bool noselect = false;
};

/// `authselectmode` (chronyd 4.3's sources.c): how sources authenticated
/// (`key`, `nts`) and unauthenticated NTP sources are selected together.
enum class AuthSelectMode {
	Require,  ///< unauthenticated NTP sources are never selected (noselect)
	Prefer,   ///< unauthenticated NTP sources only while no authenticated one is configured
	Mix,      ///< with both kinds, authenticated NTP sources and refclocks get require + trust
	Ignore,   ///< authentication plays no part
};

/// The selection options of one source.
struct SelectOptions {
	bool prefer = false;
	bool trust = false;
	bool require = false;
	bool noselect = false;
	friend bool operator==(const SelectOptions &, const SelectOptions &) = default;
};

/// What kind of source it is, for authselectmode.
struct AuthSelectSource {
	bool ntp = false;            ///< an NTP source (else a refclock)
	bool authenticated = false;  ///< an NTP source with `key` or `nts`
	SelectOptions configured;
};

/// The options each source is selected with under `mode` (chronyd's
/// update_sel_options): the configured ones plus those the mode adds. The
/// counts are of NTP sources not configured noselect; a source configured
/// noselect keeps its options as they are. Same order as `sources`.
std::vector<SelectOptions> auth_select_options(AuthSelectMode mode, const std::vector<AuthSelectSource> &sources);

struct SelectionConfig {
	int minsources = 1;
	double maxdistance_s = 3.0;
	double maxjitter_s = 1.0;
	double stratumweight_s = 1e-3;
	double reselectdist_s = 1e-4;
	double combinelimit = 3.0;
	AuthSelectMode auth_select = AuthSelectMode::Mix;
};

enum class CandidateState {
	Selected,     ///< the leader ('*' in chronyc sources)
	Combined,     ///< combined with the leader ('+')
	Truechimer,   ///< agrees, not combined ('-')
	Falseticker,  ///< outside the intersection ('x')
	TooFar,       ///< distance above maxdistance ('~' in chronyc: too variable/far)
	TooJittery,   ///< jitter above maxjitter ('~')
	NoSelect,     ///< noselect ('-' and never selected)
	NoMajority,   ///< selectable, but no majority agreed ('?')
};

struct SelectionResult {
	std::optional<size_t> selected;            ///< id of the leader
	std::vector<CandidateState> states;        ///< per candidate, in input order
	double offset_s = 0;                       ///< combined offset (when selected)
	double distance_s = 0;                     ///< combined distance (when selected)
	size_t truechimers = 0;
};

/// `previous` is the id of the current leader, if any. `absent_require`: a
/// source with `require` has no estimate yet (it is not among the
/// candidates), which blocks selection like a required falseticker.
SelectionResult select_sources(const std::vector<SelectionCandidate> &candidates, const SelectionConfig &config,
			       std::optional<size_t> previous, bool absent_require = false);

} // namespace strata
