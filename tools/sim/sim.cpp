#include "tools/sim/sim.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <queue>
#include <set>

#include <fmt/format.h>

#include "conf/parser.h"
#include "core/log.h"
#include "core/random.h"
#include "core/reference.h"
#include "ntp/packet.h"
#include "ntp/responder.h"
#include "phc/readings.h"
#include "refclock/driver.h"
#include "sources/engine.h"

namespace strata::sim {

namespace {

/// Local times are reported on a realistic epoch (2027, or the scenario's
/// `start`) so that absolute-time arithmetic is exercised as in the daemon;
/// with a leap second, the epoch is shifted so that the leap falls on a UTC
/// midnight, where the kernel and `leapsecmode` put it.
RealTime epoch_of(const Scenario &s)
{
	if (s.start_unix_s) {
		return RealTime::from_parts(*s.start_unix_s, 0);
	}
	if (s.leap_insert_at_s) {
		constexpr int64_t kMidnight = 1'800'057'600;  // 2027-01-15T00:00:00Z
		return RealTime::from_parts(kMidnight, 0) - from_seconds(*s.leap_insert_at_s);
	}
	return RealTime::from_parts(1'800'000'000, 0);
}

/// The servers' precision: fine enough that the transmit stamps' random low
/// bits (chronyd's) stay below the simulated jitter.
constexpr int kServerPrecision = -27;
constexpr uint16_t kNtpPort = 123;

IpAddress server_address(size_t i)
{
	return IpAddress::v4(0x0a000000u + static_cast<uint32_t>(i) + 1);
}

double gaussian(Rng &rng)
{
	double u1 = std::max(rng.uniform(), 1e-300), u2 = rng.uniform();
	return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
}

/// No files: the scenario's configuration is all text.
class NoFiles final : public conf::FileReader {
public:
	Result<std::string> read(const std::string &path) override
	{
		return fail(Errc::NotFound, "no files in the simulator: " + path);
	}
	Result<std::vector<std::string>> glob(const std::string &) override { return std::vector<std::string>{}; }
	Result<std::vector<std::string>> list_directory(const std::string &dir) override
	{
		return fail(Errc::NotFound, "no files in the simulator: " + dir);
	}
};

conf::LoadResult load(const Scenario &s)
{
	NoFiles files;
	return conf::load_text(files, conf_text(s), "scenario");
}

/// A free-running oscillator that the engine steers. True time is the
/// simulation's; the clock's phase is its offset from true time.
class SimClock final : public LocalClock {
public:
	SimClock(RealTime epoch, double offset_s, double freq_error_ppm)
		: epoch_(epoch), phase_s_(offset_s), freq_error_ppm_(freq_error_ppm)
	{
	}

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
	/// The local clock's reading `x` true seconds from now (x ≤ 0: before).
	RealTime local_in(double x) const { return now() + from_seconds(x * (1 + rate_ppm() * 1e-6)); }

	RealTime now() const override { return epoch_ + true_ + from_seconds(phase_s_); }
	RealTime from_system(RealTime raw) const override { return raw; }
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
	Result<> set_sync_status(bool synchronized, double, double) override
	{
		if (synchronized && on_update) {
			on_update();
		}
		return {};
	}
	/// Each clock update of the engine (its set_sync_status(true)).
	std::function<void()> on_update;

private:
	RealTime epoch_;
	Duration true_{};
	double phase_s_;
	double freq_error_ppm_;
	double setting_ppm_ = 0;
	int steps_ = 0;
	Leap leap_ = Leap::None;
	std::optional<RealTime> leap_instant_;
	int leaps_ = 0;
};

/// A simulated reference clock's device, read by the engine every dpoll:
/// NMEA and PPS keep their latest sample (gpsd's SHM segment, the kernel's
/// PPS assert), a PHC is read when polled.
class SimRefclock final : public refclock::Driver {
public:
	SimRefclock(RefclockParams params, std::function<std::optional<refclock::RawSample>()> read_phc)
		: params_(params), read_phc_(std::move(read_phc))
	{
	}
	bool polled() const override { return true; }
	void poll(MonoTime, std::vector<refclock::RawSample> &out) override
	{
		if (params_.kind == RefclockKind::Phc) {
			if (auto s = read_phc_()) {
				out.push_back(*s);
			}
		} else if (latest_) {
			out.push_back(*latest_);
			latest_.reset();
		}
	}
	bool pulses() const override { return params_.kind == RefclockKind::Pps; }
	double default_precision_s() const override { return params_.precision_s; }
	void deliver(const refclock::RawSample &sample) { latest_ = sample; }

private:
	RefclockParams params_;
	std::function<std::optional<refclock::RawSample>()> read_phc_;
	std::optional<refclock::RawSample> latest_;
};

class World final : public Scheduler, public sources::EngineIo {
public:
	explicit World(const Scenario &s)
		: s_(s),
		  epoch_(epoch_of(s)),
		  rng_(s.seed),
		  server_rng_(s.seed ^ 0x5eed5eed5eedull),
		  clock_(epoch_, s.initial_offset_s, s.initial_freq_error_ppm),
		  reference_(std::nullopt, MonoTime{})
	{
		if (s.leap_insert_at_s) {
			clock_.set_leap_instant(epoch_ + from_seconds(*s.leap_insert_at_s));
		}
		clock_.on_update = [this] { on_clock_update(); };
	}

	~World() override { engine_.reset(); }

	Outcome run()
	{
		auto loaded = load(s_);
		for (const auto &d : loaded.diagnostics) {
			if (d.severity == conf::Diagnostic::Severity::Error) {
				result_.error = d.to_string();
				return result_;
			}
		}
		sources::EngineSettings settings{.seed = s_.seed};
		auto engine = sources::Engine::start(loaded.config, settings,
						     {.scheduler = *this,
						      .clock = clock_,
						      .io = *this,
						      .log = log_,
						      .reference = reference_,
						      .refclocks = [this](const conf::RefclockConfig &) { return make_refclock(); }});
		if (!engine) {
			result_.error = engine.error().message();
			return result_;
		}
		engine_ = std::move(*engine);
		for (size_t j = 0; j < s_.refclocks.size(); j++) {
			if (s_.refclocks[j].kind != RefclockKind::Phc) {
				schedule_refclock_sample(j, 0);
			}
		}
		// Error samples at half seconds: clear of events on whole seconds
		// (a leap second, steps), whose exact instant 1 s sampling would hit.
		at(std::chrono::milliseconds(500), [this] { tick(); });
		Duration end = from_seconds(s_.duration_s);
		while (!events_.empty() && events_.top().at <= end && !stopped_) {
			Event e = events_.top();
			events_.pop();
			if (e.timer != 0 && cancelled_.erase(e.timer) > 0) {
				continue;
			}
			clock_.advance(e.at);
			now_ = e.at;
			e.fn();
		}
		finish();
		return result_;
	}

	// Scheduler: true time is the monotonic clock.
	MonoTime now() const override { return MonoTime{now_}; }
	TimerId add_timer(MonoTime when, std::function<void()> fn) override
	{
		TimerId id = next_timer_++;
		events_.push({std::max(when.since_epoch, now_), seq_++, id, std::move(fn)});
		return id;
	}
	void cancel(TimerId id) override { cancelled_.insert(id); }

	// EngineIo: the simulated network.
	Result<sources::SourceIoInfo> open_source(sources::SourceId id, const IpAddress &address, bool) override
	{
		for (size_t i = 0; i < s_.servers.size(); i++) {
			if (server_address(i) == address) {
				server_of_[id] = i;
				return sources::SourceIoInfo{.kernel_tx = true, .kernel_rx = true};
			}
		}
		return fail(Errc::NotFound, "no such server in the scenario: " + address.to_string());
	}
	void close_source(sources::SourceId id) override { server_of_.erase(id); }
	Result<> send(sources::SourceId id, const IpAddress &, uint16_t, std::span<const std::byte> packet) override
	{
		auto it = server_of_.find(id);
		if (it == server_of_.end()) {
			return fail(Errc::NotFound, "no socket");
		}
		exchange(id, it->second, std::vector<std::byte>(packet.begin(), packet.end()));
		return {};
	}
	void watch_refclock(size_t, int) override {}
	void stop() override { stopped_ = true; }

private:
	struct Event {
		Duration at;
		uint64_t seq;
		TimerId timer;  ///< 0: the simulation's own event
		std::function<void()> fn;
		bool operator>(const Event &o) const { return at != o.at ? at > o.at : seq > o.seq; }
	};

	void at(Duration t, std::function<void()> fn) { events_.push({t, seq_++, 0, std::move(fn)}); }

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

	void on_clock_update()
	{
		if (result_.time_to_first_update_s < 0) {
			result_.time_to_first_update_s = to_seconds(now_);
		}
		if (auto selected = engine_ ? engine_->tracking().selected : std::nullopt) {
			if (const sources::NtpSource *ntp = engine_->ntp_at(*selected)) {
				for (size_t i = 0; i < s_.servers.size(); i++) {
					if (server_address(i) == ntp->address && std::abs(s_.servers[i].offset_s) >= 0.1) {
						result_.selected_falseticker = true;
					}
				}
			}
		}
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

	/// A request to server `i`: out, answered, back (or lost).
	void exchange(sources::SourceId id, size_t i, std::vector<std::byte> request)
	{
		const ServerParams &p = s_.servers[i];
		result_.packets++;
		if (rng_.uniform() < p.loss || rng_.uniform() < p.loss) {
			return;  // the request or the reply was lost
		}
		double out = p.base_delay_s * (1 + p.asymmetry) / 2 + p.jitter_out * draw_jitter(p);
		double back = p.base_delay_s * (1 - p.asymmetry) / 2 + p.jitter_back * draw_jitter(p);
		constexpr double kProcessing = 10e-6;
		double true_rx = to_seconds(now_) + out;
		RealTime t2 = epoch_ + from_seconds(true_rx + server_offset(p, true_rx));
		RealTime t3 = t2 + from_seconds(kProcessing);
		ntp::Drop why{};
		auto req = ntp::classify(request, /*from_port_123=*/false, why);
		if (!req) {
			return;
		}
		bool leap_pending = s_.leap_insert_at_s && true_rx < *s_.leap_insert_at_s;
		Reference ref{.synchronized = true,
			      .leap = leap_pending ? Leap::Insert : Leap::None,
			      .stratum = p.stratum,
			      .ref_id = p.stratum == 1 ? 0x47505300u : 0x0a0000ffu,  // "GPS", or its upstream
			      .ref_time = t2 - std::chrono::seconds(16)};
		std::array<std::byte, ntp::kHeaderSize> reply{};
		ntp::build_reply(*req, t2, ref, false, {.precision_log2 = kServerPrecision}, server_rng_, reply);
		ntp::stamp_transmit(reply, t3, kServerPrecision, server_rng_);
		at(now_ + from_seconds(out + kProcessing + back), [this, id, i, reply] {
			if (!engine_) {
				return;
			}
			engine_->on_packet(id, {.from = server_address(i),
						.from_port = kNtpPort,
						.rx_system = clock_.now(),
						.payload = reply});
		});
	}

	std::unique_ptr<refclock::Driver> make_refclock()
	{
		size_t j = refclocks_.size();
		auto d = std::make_unique<SimRefclock>(s_.refclocks[j], [this, j] { return phc_sample(j); });
		refclocks_.push_back(d.get());
		return d;
	}

	/// The refclock's next sample: NMEA and PPS on true second k+1.
	void schedule_refclock_sample(size_t j, int64_t k)
	{
		const RefclockParams &p = s_.refclocks[j];
		double when = static_cast<double>(k + 1);
		if (p.kind == RefclockKind::Nmea) {
			when += std::max(p.latency_s + p.jitter_s * gaussian(rng_), 0.0);
		}
		at(from_seconds(when), [this, j, k] {
			const RefclockParams &q = s_.refclocks[j];
			RealTime second = epoch_ + std::chrono::seconds(k + 1);
			refclock::RawSample raw;
			if (q.kind == RefclockKind::Nmea) {
				raw = {.reference = second, .local = clock_.now()};
			} else {
				// The edge is on the second; its time stamp has the jitter.
				RealTime local = clock_.now() + from_seconds(q.jitter_s * gaussian(rng_));
				raw = {.reference = RealTime::from_parts(
					       local.seconds() + (local.subsec_ns() >= 500'000'000 ? 1 : 0), 0),
				       .local = local,
				       .pulse = true};
			}
			refclocks_[j]->deliver(raw);
			schedule_refclock_sample(j, k + 1);
		});
	}

	/// One PHC sample as the driver takes it: `readings` sandwiches, each a
	/// system time, the PHC's (exact but for the reading noise) time at the
	/// middle of the read, and a system time; a spike holds the read up
	/// before or after the PHC is latched.
	std::optional<refclock::RawSample> phc_sample(size_t j)
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
			return std::nullopt;
		}
		double total = reads.back().end;
		std::vector<phc::Sandwich> readings;
		for (const Read &r : reads) {
			double noise = p.jitter_s * gaussian(rng_);
			PhcInstant phc{(epoch_ + now_ + from_seconds(r.latch - total + noise)).since_epoch};
			readings.push_back({.sys_before = clock_.local_in(r.start - total),
					    .phc = phc,
					    .sys_after = clock_.local_in(r.end - total)});
		}
		auto sample = phc::process_sandwiches(readings, p.precision_s);
		if (!sample) {
			return std::nullopt;
		}
		return refclock::RawSample{.reference = sample->sys + sample->offset, .local = sample->sys};
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
		// Valid responses that never reached the statistics: the delay
		// tests' (and, with `filter`, those combined into another).
		for (const auto &n : engine_->ntp_sources()) {
			result_.rejected += n->total_valid - n->total_good;
		}
	}

	const Scenario &s_;
	RealTime epoch_;
	Xoshiro256 rng_;
	Xoshiro256 server_rng_;  ///< the servers' transmit-stamp fuzz
	SimClock clock_;
	NullLogger log_;
	ReferenceState reference_;
	std::unique_ptr<sources::Engine> engine_;
	std::vector<SimRefclock *> refclocks_;  ///< owned by the engine
	std::map<sources::SourceId, size_t> server_of_;
	std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
	std::set<TimerId> cancelled_;
	TimerId next_timer_ = 1;
	uint64_t seq_ = 0;
	Duration now_{};
	bool stopped_ = false;
	Outcome result_;
	std::vector<double> errors_;  ///< local − true, once a second
	std::vector<double> rates_;   ///< the clock's frequency error (ppm), once a second
};

} // namespace

std::string conf_text(const Scenario &s)
{
	std::string text;
	for (size_t i = 0; i < s.servers.size(); i++) {
		const ServerParams &p = s.servers[i];
		text += fmt::format("server {} minpoll {} maxpoll {}{}{}{}{}{}\n", server_address(i).to_string(), s.minpoll,
				    s.maxpoll, s.iburst ? " iburst" : "", p.prefer ? " prefer" : "",
				    p.noselect ? " noselect" : "", s.server_options.empty() ? "" : " ", s.server_options);
	}
	for (size_t j = 0; j < s.refclocks.size(); j++) {
		const RefclockParams &p = s.refclocks[j];
		const char *device = p.kind == RefclockKind::Nmea  ? "SHM"
				     : p.kind == RefclockKind::Pps ? "PPS /dev/pps"
								   : "PHC /dev/ptp";
		text += fmt::format("refclock {}{} refid SIM{} poll {} dpoll {} offset {} delay {} precision {}", device,
				    p.kind == RefclockKind::Nmea ? fmt::format(" {}", j) : fmt::format("{}", j), j, p.poll,
				    std::min(p.dpoll, p.poll), p.offset_s, p.delay_s, p.precision_s);
		if (p.lock) {
			text += fmt::format(" lock SIM{}", *p.lock);
		}
		text += fmt::format("{}{}\n", p.prefer ? " prefer" : "", p.noselect ? " noselect" : "");
	}
	for (const auto &line : s.conf) {
		text += line + "\n";
	}
	return text;
}

Result<> check_conf(const Scenario &s)
{
	auto loaded = load(s);
	for (const auto &d : loaded.diagnostics) {
		if (d.severity == conf::Diagnostic::Severity::Error) {
			return fail(Errc::Malformed, d.to_string());
		}
	}
	return {};
}

Outcome run(const Scenario &scenario)
{
	World world(scenario);
	return world.run();
}

} // namespace strata::sim
