// The sources as the discipline sees them: each source's statistics, the
// selection among them, and the combined estimate for the clock. The daemon
// and the simulator drive the same SourceSet: they add samples as they
// arrive, pass on every clock change, and ask for an estimate after each
// sample. Pure.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/clock.h"
#include "core/discipline.h"
#include "core/selection.h"
#include "core/source_stats.h"

namespace strata {

/// What a source says about itself (from its packets or its configuration).
struct SourceInfo {
	int stratum = 1;                 ///< the source's own stratum
	uint32_t ref_id = 0;
	double root_delay_s = 0;         ///< the source's root delay (0 for a refclock)
	double root_dispersion_s = 0;
	Leap leap = Leap::None;
	bool prefer = false;
	bool trust = false;
	bool require = false;
	bool noselect = false;
	/// false while the reachability register is empty: an unreachable
	/// source is not a candidate, whatever its old samples say.
	bool reachable = true;
	/// The reachability register (bit 0: the last poll answered) and how
	/// many polls it has seen, up to 8: while no source is selected at the
	/// start, the selection waits for sources polled in step that have not
	/// yet gathered enough samples (chronyd's rule).
	uint8_t reach = 0;
	uint8_t reach_size = 0;
	/// An NTP source (else a refclock), and whether it is authenticated:
	/// `authselectmode` adds selection options from them.
	bool ntp = false;
	bool authenticated = false;
};

struct SourceSetDecision {
	SelectionResult selection;
	std::optional<ClockEstimate> estimate;  ///< set when a source is selected
	/// What to serve: the leader's stratum + 1, its ref id, and root figures
	/// including our own distance to it; the leap warning is the majority's
	/// of the selected and combined sources (one source cannot announce a
	/// leap second alone when others are combined with it).
	SourceInfo reference;
	double root_distance_s = 0;
	/// Each source's state in this selection, by source index; nullopt for
	/// a source that was no candidate (no samples, unreachable, leap 3).
	std::vector<std::optional<CandidateState>> source_states;
};

class SourceSet {
public:
	/// Samples a source needs before it can be selected.
	static constexpr size_t kMinSamplesToSelect = 3;

	SourceSet(const SelectionConfig &selection, const SourceStatsConfig &stats);

	/// Returns the new source's index. `stats`: the source's own statistics
	/// settings (its minsamples, maxsamples, mindelay, asymmetry), else the
	/// set's.
	size_t add_source(const SourceInfo &info, std::optional<SourceStatsConfig> stats = std::nullopt);
	const SourceStatsConfig &stats_config() const { return stats_config_; }
	size_t size() const { return sources_.size(); }
	void set_info(size_t index, const SourceInfo &info) { sources_[index].info = info; }
	const SourceInfo &info(size_t index) const { return sources_[index].info; }
	void set_reachable(size_t index, bool reachable) { sources_[index].info.reachable = reachable; }
	/// The source's reachability register and how many polls it has seen.
	void set_reach(size_t index, uint8_t reach, uint32_t polls)
	{
		sources_[index].info.reach = reach;
		sources_[index].info.reach_size = static_cast<uint8_t>(std::min<uint32_t>(polls, 8));
	}
	void add_sample(size_t index, const SourceSample &sample)
	{
		sources_[index].stats.add(sample);
		sources_[index].fresh = true;
	}
	const SourceStats &stats(size_t index) const { return sources_[index].stats; }
	/// The source at `index` is now another server: its samples are dropped.
	void reset_source(size_t index)
	{
		sources_[index].stats.clear();
		sources_[index].fresh = false;
		if (leader_ == index) {
			leader_.reset();
		}
	}

	/// The source at `index` is gone: those after it move down by one.
	void remove_source(size_t index)
	{
		if (index >= sources_.size()) {
			return;
		}
		sources_.erase(sources_.begin() + static_cast<std::ptrdiff_t>(index));
		if (leader_ == index) {
			leader_.reset();
		} else if (leader_ && *leader_ > index) {
			--*leader_;
		}
	}

	void on_clock_change(const ClockChange &change);
	/// SourceStats::correct_offset() of the source at `index`.
	void correct_offset(size_t index, double delta_s) { sources_[index].stats.correct_offset(delta_s); }

	/// Selection and the combined estimate at local time `now`. The estimate
	/// is given only when the leader or a source combined with it has a
	/// sample not used before (chronyd waits for the leader's: updating on
	/// each combined source's sample averages more often, measured in the
	/// simulator on the multi-server scenarios).
	SourceSetDecision decide(RealTime now);
	/// The options each source is selected with: its configured ones plus
	/// what `authselectmode` adds (by source index).
	std::vector<SelectOptions> effective_options() const;

private:
	struct Source {
		SourceInfo info;
		SourceStats stats;
		bool fresh = false;  ///< a sample since the last estimate it was combined in
	};
	SelectionConfig selection_;
	SourceStatsConfig stats_config_;
	std::vector<Source> sources_;
	std::optional<size_t> leader_;
};

} // namespace strata
