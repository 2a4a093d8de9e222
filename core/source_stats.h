// Per-source statistics: the recent samples of one source and what a line
// through them says — the source's offset now, the local clock's frequency
// error against it, how sure we are of both (skew, standard deviation).
// chronyc's `sourcestats` shows these figures.
//
// Samples that took longer on the network carry more of its asymmetry, so a
// sample's weight falls with its distance above the shortest in the window
// (distance_weights); a reference clock's samples, whose delays are all the
// configured one, are weighed by their dispersions (each the standard error
// of a filtered sample) as inverse variances. The window is sized by the
// runs test (core/regression.h), and the samples it leaves out are dropped
// from it for good, as chronyd prunes its register: after a change of
// frequency the window grows back a sample at a time. When the local clock
// is stepped or its frequency changed, the stored samples are moved as the
// clock was (on_clock_change), so the fit stays a line. Pure.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>

#include "core/time.h"

namespace strata {

struct SourceSample {
	RealTime local;            ///< local clock at the measurement
	double offset_s = 0;       ///< reference − local
	double delay_s = 0;        ///< round trip (0 for reference clocks)
	double dispersion_s = 0;   ///< the sample's own error bound (precision, read error)
};

struct SourceStatsConfig {
	size_t min_samples = 6;   ///< chrony.conf minsamples
	size_t max_samples = 64;  ///< chrony.conf maxsamples
	double precision_s = 1e-8;
	/// `mindelay`: the shortest round trip possible on the path. Delays are
	/// measured from it instead of from the window's shortest, and a delay
	/// below it is mirrored above it (chronyd's rule). 0: off.
	double fixed_min_delay_s = 0;
	/// `asymmetry` as chrony.conf has it (−0.5…0.5): negative when requests
	/// to the source are delayed more variably than the responses. A request
	/// held up by e makes reference − local read e/2 high, so offsets are
	/// corrected by +asymmetry × (delay − minimum delay). nullopt: estimated
	/// from the samples, as chronyd does when the option is absent.
	std::optional<double> asymmetry;
};

/// What chronyd's maxdelayratio and maxdelaydevratio tests need.
struct DelayTestData {
	double since_last_s = 0;     ///< from the newest sample to the new one
	double predicted_offset_s = 0;
	double min_delay_s = 0;
	double skew_ppm = 0;
	double stddev_s = 0;
};

struct SourceEstimate {
	RealTime at;                 ///< the instant the figures refer to
	double offset_s = 0;         ///< reference − local at `at`
	double offset_error_s = 0;   ///< standard error of offset_s
	double frequency_ppm = 0;    ///< rate of change of offset_s: the local clock runs this slow
	double skew_ppm = 0;         ///< standard error of frequency_ppm
	/// skew_ppm × Student's t at 99.95 % for the window's degrees of
	/// freedom: the frequency is surely within this. A fit through a few
	/// samples can pass close to all of them by chance and show a small
	/// skew; this bound stays large until there are enough samples to trust.
	double skew_bound_ppm = 0;
	double stddev_s = 0;         ///< residual standard deviation of the samples
	double min_delay_s = 0;
	size_t samples = 0;          ///< in the window used
	size_t runs = 0;
};

class SourceStats {
public:
	explicit SourceStats(SourceStatsConfig config = {}) : config_(config) {}

	void add(const SourceSample &sample);
	size_t size() const { return samples_.size(); }
	const SourceStatsConfig &config() const { return config_; }
	const std::deque<SourceSample> &samples() const { return samples_; }
	/// Drops everything (the source was replaced, or reset by the user).
	void clear()
	{
		samples_.clear();
		older_.clear();
		asymmetry_run_ = 0;
		estimated_asymmetry_ = 0;
	}

	/// The local clock was stepped by `step_s` (forward when positive) and its
	/// frequency raised by `dfreq_ppm` (faster when positive) at `at`, to
	/// `freq_after_ppm`. Each sample is moved to where it would lie had the
	/// clock always run at the new rate: a sample `since` local seconds before
	/// the change by (r1 − r0) × since / (1 + r0). The (1 + r0) matters for
	/// the large rates of a fast slew (83333 ppm at most).
	void on_clock_change(RealTime at, double step_s, double dfreq_ppm, double freq_after_ppm = 0);

	/// Adds `delta_s` to every sample's offset, their times unchanged: the
	/// reference's own timescale moved (a `local` refclock dropping whole
	/// seconds that mean nothing), not the clock.
	void correct_offset(double delta_s)
	{
		for (auto &s : samples_) {
			s.offset_s += delta_s;
		}
	}

	/// The fit, extrapolated to `now`. With fewer than 3 samples, the newest
	/// sample alone (frequency unknown, skew large). nullopt without samples.
	std::optional<SourceEstimate> estimate(RealTime now) const;

	/// The figures a new sample taken at `at` is tested against; nullopt
	/// with fewer than 6 samples (too few to judge, as chronyd).
	std::optional<DelayTestData> delay_test_data(RealTime at) const;

	/// The delay a sample counts with (mindelay's mirroring applied).
	double effective_delay(double delay_s) const;

	/// The asymmetry the offsets are corrected with: the configured one, or
	/// the estimate (0 until it is significant).
	double asymmetry() const { return config_.asymmetry.value_or(estimated_asymmetry_); }

private:
	double corrected(const SourceSample &s, double min_delay) const;
	void estimate_asymmetry();

	SourceStatsConfig config_;
	std::deque<SourceSample> samples_;
	/// Samples that left the window, by age (maxsamples) or cut by the runs
	/// test (up to maxsamples of them): no longer fitted, only the runs
	/// test's older points (core/regression.h).
	std::deque<SourceSample> older_;
	/// chronyd's rule: the slope of offset against delay (time held apart by
	/// a multiple regression) counts only when it is near ±0.5 for 10
	/// estimates in a row with one sign.
	int asymmetry_run_ = 0;
	double estimated_asymmetry_ = 0;
};

} // namespace strata
