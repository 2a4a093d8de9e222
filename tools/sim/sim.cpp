#include "tools/sim/sim.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <queue>

#include <fmt/format.h>

#include "core/log.h"
#include "core/poll_adapter.h"
#include "core/source_set.h"
#include "ntp/client.h"
#include "phc/readings.h"
#include "refclock/refclock.h"

namespace strata::sim {

namespace {

/// Local times are reported on a realistic epoch (2027) so that absolute-time
/// arithmetic is exercised as in the daemon.
const RealTime kEpoch = RealTime::from_parts(1'800'000'000, 0);

double gaussian(Rng &rng)
{
	double u1 = std::max(rng.uniform(), 1e-300), u2 = rng.uniform();
	return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
}

/// A free-running oscillator that the discipline steers. True time is the
/// simulation's; the clock's phase is its offset from true time.
class SimClock final : public ClockControl<Realtime> {
public:
	SimClock(double offset_s, double freq_error_ppm) : phase_s_(offset_s), freq_error_ppm_(freq_error_ppm) {}

	/// Moves true time forward to `t`.
	void advance(Duration t)
	{
		RealTime before = now();
		phase_s_ += to_seconds(t - true_) * rate_ppm() * 1e-6;
		true_ = t;
		if (leap_ == Leap::Insert && leap_instant_ && before < *leap_instant_ && now() >= *leap_instant_) {
			phase_s_ -= 1.0;
			leap_ = Leap::None;
			leaps_++;
		}
	}
	void add_wander(double dppm) { freq_error_ppm_ += dppm; }
	double error_s() const { return phase_s_; }  ///< local − true
	double rate_ppm() const { return freq_error_ppm_ + setting_ppm_; }
	int steps() const { return steps_; }

	RealTime now() const override { return kEpoch + true_ + from_seconds(phase_s_); }
	Result<double> set_frequency_ppm(double ppm) override
	{
		setting_ppm_ = std::clamp(ppm, -max_frequency_ppm(), max_frequency_ppm());
		return setting_ppm_;
	}
	double frequency_ppm() const override { return setting_ppm_; }
	double max_frequency_ppm() const override { return 500000; }
	Result<> step(Duration offset) override
	{
		phase_s_ += to_seconds(offset);
		steps_++;
		return {};
	}
	/// The kernel's leap handling: with an insertion pending, the clock
	/// repeats a second when its own time reaches the leap instant.
	Result<> set_leap(Leap leap) override
	{
		leap_ = leap;
		return {};
	}
	void set_leap_instant(RealTime at) { leap_instant_ = at; }
	int leaps() const { return leaps_; }
	Result<> set_sync_status(bool, double, double) override { return {}; }

private:
	Duration true_{};
	double phase_s_;
	double freq_error_ppm_;
	double setting_ppm_ = 0;
	int steps_ = 0;
	Leap leap_ = Leap::None;
	std::optional<RealTime> leap_instant_;
	int leaps_ = 0;
};

struct Event {
	Duration at;
	uint64_t seq;
	std::function<void()> fn;
	bool operator>(const Event &o) const { return at != o.at ? at > o.at : seq > o.seq; }
};

class World {
public:
	explicit World(const Scenario &s)
		: s_(s),
		  rng_(s.seed),
		  clock_(s.initial_offset_s, s.initial_freq_error_ppm),
		  sources_(s.selection, SourceStatsConfig{}),
		  discipline_(s.discipline, clock_, log_)
	{
		if (s.leap_insert_at_s) {
			clock_.set_leap_instant(kEpoch + from_seconds(*s.leap_insert_at_s));
		}
		for (const auto &server : s.servers) {
			sources_.add_source({.stratum = server.stratum, .prefer = server.prefer, .noselect = server.noselect});
			poll_.push_back(s.minpoll);
			burst_left_.push_back(s.iburst ? 4 : 0);
			adapters_.emplace_back(s.minpoll, s.maxpoll);
		}
		for (size_t j = 0; j < s.refclocks.size(); j++) {
			const RefclockParams &p = s.refclocks[j];
			refclock::RefclockSettings settings{.name = fmt::format("refclock {}", j),
							    .ref_id = refclock::default_ref_id("SIM", j),
							    .poll_log2 = p.poll,
							    .dpoll_log2 = std::min(p.dpoll, p.poll),
							    .pps = p.kind == RefclockKind::Pps,
							    .offset_s = p.offset_s,
							    .delay_s = p.delay_s,
							    .precision_s = p.precision_s};
			refclocks_.emplace_back(settings);
			ref_index_.push_back(sources_.add_source({.stratum = 0, .prefer = p.prefer, .noselect = p.noselect,
								  .reachable = false}));
		}
	}

	Outcome run()
	{
		for (size_t i = 0; i < s_.servers.size(); i++) {
			at(from_seconds(0.1 * static_cast<double>(i)), [this, i] { send(i); });
		}
		for (size_t j = 0; j < s_.refclocks.size(); j++) {
			schedule_refclock_sample(j, 0);
			at(from_seconds(std::ldexp(1.0, s_.refclocks[j].poll)), [this, j] { refclock_poll(j); });
		}
		// Error samples at half seconds: clear of events on whole seconds
		// (a leap second, steps), whose exact instant 1 s sampling would hit.
		at(std::chrono::milliseconds(500), [this] { tick(); });
		Duration end = from_seconds(s_.duration_s);
		while (!events_.empty() && events_.top().at <= end) {
			Event e = events_.top();
			events_.pop();
			clock_.advance(e.at);
			now_ = e.at;
			e.fn();
		}
		finish();
		return result_;
	}

private:
	void at(Duration t, std::function<void()> fn) { events_.push({t, seq_++, std::move(fn)}); }

	/// Once a second: wander, and the error measurements.
	void tick()
	{
		clock_.add_wander(s_.wander_ppm_per_s * gaussian(rng_));
		// The error against UTC, which repeats a second at an inserted leap.
		bool after_leap = s_.leap_insert_at_s && to_seconds(now_) >= *s_.leap_insert_at_s;
		errors_.push_back(clock_.error_s() + (after_leap ? 1.0 : 0.0));
		rates_.push_back(clock_.rate_ppm());
		at(now_ + std::chrono::seconds(1), [this] { tick(); });
	}

	double draw_jitter(const ServerParams &p)
	{
		if (p.jitter_s <= 0) {
			return 0;
		}
		if (p.jitter == Jitter::Exponential) {
			return -p.jitter_s * std::log(std::max(rng_.uniform(), 1e-300));
		}
		return std::abs(gaussian(rng_)) * p.jitter_s;
	}

	double server_offset(const ServerParams &p, double true_s) const
	{
		double off = p.offset_s;
		if (s_.leap_insert_at_s && true_s >= *s_.leap_insert_at_s) {
			off -= 1.0;  // UTC repeated a second
		}
		if (p.step_at_s && true_s >= *p.step_at_s) {
			off += p.step_s;
		}
		return off;
	}

	void send(size_t i)
	{
		const ServerParams &p = s_.servers[i];
		result_.packets++;
		schedule_next_poll(i);
		if (rng_.uniform() < p.loss || rng_.uniform() < p.loss) {
			return;  // the request or the reply was lost
		}
		RealTime t1 = clock_.now();
		double out = p.base_delay_s * (1 + p.asymmetry) / 2 + p.jitter_out * draw_jitter(p);
		double back = p.base_delay_s * (1 - p.asymmetry) / 2 + p.jitter_back * draw_jitter(p);
		constexpr double kProcessing = 10e-6;
		double true_rx = to_seconds(now_) + out;
		RealTime t2 = kEpoch + from_seconds(true_rx + server_offset(p, true_rx));
		RealTime t3 = t2 + from_seconds(kProcessing);
		at(now_ + from_seconds(out + kProcessing + back), [this, i, t1, t2, t3] { receive(i, t1, t2, t3); });
	}

	void receive(size_t i, RealTime t1, RealTime t2, RealTime t3)
	{
		RealTime t4 = clock_.now();
		double offset = (to_seconds(t2 - t1) + to_seconds(t3 - t4)) / 2;
		double delay = to_seconds(t4 - t1) - to_seconds(t3 - t2);
		RealTime mid = t1 + (t4 - t1) / 2;
		if (s_.leap_insert_at_s) {
			SourceInfo info{.stratum = s_.servers[i].stratum,
					.leap = to_seconds(now_) < *s_.leap_insert_at_s ? Leap::Insert : Leap::None,
					.prefer = s_.servers[i].prefer,
					.noselect = s_.servers[i].noselect};
			sources_.set_info(i, info);
		}
		SourceSample sample{mid, offset, delay, 1e-8};
		// As the daemon: a delay too far above the minimum for the source's
		// jitter (maxdelaydevratio, default 10) is not used.
		if (!ntp::delay_acceptable({}, sources_.stats(i).delay_test_data(mid), offset, delay)) {
			result_.rejected++;
			return;
		}
		// As the daemon: the sample's distance from the prediction tells the
		// poll adapter how well the source is tracked.
		double error = 0;
		if (auto predicted = sources_.stats(i).estimate(mid)) {
			error = offset - predicted->offset_s;
		}
		sources_.add_sample(i, sample);
		adapt_poll(i, error, sample.dispersion_s + delay / 2);
		update(t4);
	}

	/// Selection and, when the leader has news, a clock update.
	void update(RealTime now)
	{
		auto d = sources_.decide(now);
		size_t servers = s_.servers.size();
		if (d.selection.selected && *d.selection.selected < servers &&
		    std::abs(s_.servers[*d.selection.selected].offset_s) >= 0.1) {
			result_.selected_falseticker = true;
		}
		if (!d.selection.selected) {
			synced_distance_s_.reset();
		}
		if (d.estimate) {
			clock_.set_leap(d.reference.leap);
			if (result_.time_to_first_update_s < 0) {
				result_.time_to_first_update_s = to_seconds(now_);
			}
			apply(discipline_.update(*d.estimate, MonoTime{now_}));
			synced_distance_s_ = d.root_distance_s;
		}
	}

	/// The local clock's reading `x` true seconds from now (x ≤ 0: before).
	RealTime local_in(double x) const { return clock_.now() + from_seconds(x * (1 + clock_.rate_ppm() * 1e-6)); }

	/// The refclock's next sample: NMEA and PPS on true second k+1, a PHC
	/// every dpoll.
	void schedule_refclock_sample(size_t j, int64_t k)
	{
		const RefclockParams &p = s_.refclocks[j];
		if (p.kind == RefclockKind::Phc) {
			double interval = std::ldexp(1.0, std::min(p.dpoll, p.poll));
			at(from_seconds(0.3 + interval * static_cast<double>(k)), [this, j, k] {
				phc_sample(j);
				schedule_refclock_sample(j, k + 1);
			});
			return;
		}
		double when = static_cast<double>(k + 1);
		if (p.kind == RefclockKind::Nmea) {
			when += std::max(p.latency_s + p.jitter_s * gaussian(rng_), 0.0);
		}
		at(from_seconds(when), [this, j, k] {
			const RefclockParams &q = s_.refclocks[j];
			RealTime second = kEpoch + std::chrono::seconds(k + 1);
			refclock::RawSample raw;
			if (q.kind == RefclockKind::Nmea) {
				raw = {.reference = second, .local = clock_.now()};
			} else {
				// The edge is on the second; its time stamp has the jitter.
				RealTime local = clock_.now() + from_seconds(q.jitter_s * gaussian(rng_));
				raw = {.reference = RealTime::from_parts(local.seconds() + (local.subsec_ns() >= 500'000'000 ? 1 : 0), 0),
				       .local = local,
				       .pulse = true};
			}
			add_refclock_sample(j, raw);
			schedule_refclock_sample(j, k + 1);
		});
	}

	/// One PHC sample as the driver takes it: `readings` sandwiches, each a
	/// system time, the PHC's (exact but for the reading noise) time at the
	/// middle of the read, and a system time; a spike holds the read up
	/// before or after the PHC is latched.
	void phc_sample(size_t j)
	{
		const RefclockParams &p = s_.refclocks[j];
		// Each reading's start, latch and end, in true seconds from the
		// first start; the last reading ends now.
		struct Read {
			double start, latch, end;
		};
		std::vector<Read> reads;
		double start = 0;
		for (int r = 0; r < p.readings; r++) {
			double before = 0, after = 0;
			if (p.spike_probability > 0 && rng_.uniform() < p.spike_probability) {
				(rng_.uniform() < 0.5 ? before : after) = p.spike_s;
			}
			double end = start + before + p.read_s + after;
			// Where in its window the PHC latches: the middle, or anywhere in
			// the middle `latch_spread` of it.
			double where = 0.5 + p.latch_spread * (rng_.uniform() - 0.5);
			reads.push_back({start, start + before + where * p.read_s, end});
			start = end + 1e-6;
		}
		if (reads.empty()) {
			return;
		}
		double total = reads.back().end;
		std::vector<phc::Sandwich> readings;
		for (const Read &r : reads) {
			double noise = p.jitter_s * gaussian(rng_);
			PhcInstant phc{(kEpoch + now_ + from_seconds(r.latch - total + noise)).since_epoch};
			readings.push_back({.sys_before = local_in(r.start - total), .phc = phc, .sys_after = local_in(r.end - total)});
		}
		auto sample = phc::process_sandwiches(readings, p.precision_s);
		if (!sample) {
			return;
		}
		add_refclock_sample(j, {.reference = sample->sys + sample->offset, .local = sample->sys});
	}

	void add_refclock_sample(size_t j, const refclock::RawSample &raw)
	{
		refclock::SampleContext context{.now = clock_.now(),
						.clock_synchronized = synced_distance_s_.has_value(),
						.clock_distance_s = synced_distance_s_.value_or(0.0)};
		if (auto lock = s_.refclocks[j].lock) {
			context.locked = true;
			context.lock_sample = refclocks_[*lock].last_sample();
		}
		(void)refclocks_[j].add(raw, raw.local, context);
	}

	void refclock_poll(size_t j)
	{
		auto outcome = refclocks_[j].poll();
		size_t index = ref_index_[j];
		sources_.set_reachable(index, outcome.reached);
		if (outcome.sample) {
			const RefclockParams &p = s_.refclocks[j];
			sources_.set_info(index, {.stratum = 0, .leap = outcome.leap, .prefer = p.prefer, .noselect = p.noselect});
			sources_.add_sample(index, *outcome.sample);
			update(clock_.now());
		}
		at(now_ + from_seconds(std::ldexp(1.0, s_.refclocks[j].poll)), [this, j] { refclock_poll(j); });
	}

	void apply(const DisciplineResult &r)
	{
		for (const auto &change : r.changes) {
			sources_.on_clock_change(change);
			for (auto &rc : refclocks_) {
				rc.on_clock_change(change);
			}
		}
		if (auto wake = discipline_.next_wakeup()) {
			Duration when = wake->since_epoch;
			at(std::max(when, now_), [this] { apply(discipline_.on_timer(MonoTime{now_})); });
		}
	}

	void adapt_poll(size_t i, double error, double distance)
	{
		auto e = sources_.stats(i).estimate(clock_.now());
		if (e) {
			poll_[i] = adapters_[i].on_sample(e->samples, error, distance);
		}
	}

	void schedule_next_poll(size_t i)
	{
		double interval = std::ldexp(1.0, poll_[i]);
		if (burst_left_[i] > 0) {
			burst_left_[i]--;
			interval = 2.0;
		}
		at(now_ + from_seconds(interval), [this, i] { send(i); });
	}

	/// Synchronised from the second after the last one with an error of
	/// 1 ms or more (100 µs for time_to_100us); the error figures cover the
	/// run from then on.
	void finish()
	{
		auto settled = [&](double limit) -> double {
			for (size_t k = errors_.size(); k-- > 0;) {
				if (std::abs(errors_[k]) >= limit) {
					return k + 1 < errors_.size() ? static_cast<double>(k + 1) : -1.0;
				}
			}
			return 0.0;
		};
		result_.time_to_1ms_s = settled(1e-3);
		result_.time_to_100us_s = settled(100e-6);
		if (!errors_.empty()) {
			double sum_err2 = 0, sum_freq2 = 0;
			size_t from = result_.time_to_1ms_s >= 0 ? static_cast<size_t>(result_.time_to_1ms_s) : errors_.size() / 2;
			for (size_t k = from; k < errors_.size(); k++) {
				sum_err2 += errors_[k] * errors_[k];
				sum_freq2 += rates_[k] * rates_[k];
				result_.max_error_s = std::max(result_.max_error_s, std::abs(errors_[k]));
				result_.max_freq_error_ppm = std::max(result_.max_freq_error_ppm, std::abs(rates_[k]));
			}
			auto n = static_cast<double>(errors_.size() - from);
			result_.rms_error_s = std::sqrt(sum_err2 / n);
			result_.rms_freq_error_ppm = std::sqrt(sum_freq2 / n);
		}
		double sum2 = 0;
		for (size_t k = errors_.size() / 2; k < errors_.size(); k++) {
			sum2 += errors_[k] * errors_[k];
		}
		if (errors_.size() >= 2) {
			result_.steady_rms_error_s = std::sqrt(sum2 / static_cast<double>(errors_.size() - errors_.size() / 2));
		}
		result_.steps = clock_.steps();
		result_.leaps = clock_.leaps();
	}

	const Scenario &s_;
	Xoshiro256 rng_;
	SimClock clock_;
	NullLogger log_;
	SourceSet sources_;
	Discipline discipline_;
	std::vector<int> poll_;
	std::vector<int> burst_left_;
	std::vector<PollAdapter> adapters_;
	std::vector<refclock::Refclock> refclocks_;
	std::vector<size_t> ref_index_;  ///< each refclock's index in sources_
	std::optional<double> synced_distance_s_;
	std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
	uint64_t seq_ = 0;
	Duration now_{};
	Outcome result_;
	std::vector<double> errors_;  ///< local − true, once a second
	std::vector<double> rates_;   ///< the clock's frequency error (ppm), once a second
};

} // namespace

Outcome run(const Scenario &scenario)
{
	World world(scenario);
	return world.run();
}

} // namespace strata::sim
