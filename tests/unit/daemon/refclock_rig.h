// The daemon's refclock path on a simulated clock, for tests that go from
// configuration lines to the source selection: each `refclock` line parsed
// by the real parser (conf/parser.h), its driver built by the daemon's
// factory (daemon/refclock_drivers_linux.h) over the device fakes the test
// puts in `devices`, its samples judged by the refclock framework with the
// settings stratad gives it, and its polls fed to a SourceSet as
// NtpSources feeds them (refclock_tick, refclock_samples, refclock_end_poll
// in daemon/ntp_sources_linux.cpp, whose rules this follows: the driver
// read every dpoll, the descriptor of an event-driven driver read whenever
// the test says time has passed, the poll's end every 2^poll s).
//
// Time is the test's: `now` is the local (system) clock, which the fakes
// must agree with; run_to() moves it on, running every dpoll and poll end
// that falls due.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "conf/parser.h"
#include "core/source_set.h"
#include "daemon/refclock_drivers_linux.h"
#include "refclock/refclock.h"
#include "tests/fakes/fake_file_reader.h"
#include "tests/fakes/recording_logger.h"

namespace strata::daemon {

class RefclockRig {
public:
	struct Refclock {
		conf::RefclockConfig config;
		std::unique_ptr<RefclockDriver> driver;
		std::unique_ptr<refclock::Refclock> clock;
		size_t index = 0;              ///< in the SourceSet
		std::optional<size_t> lock;    ///< the `lock` refclock's position
		RealTime next_tick;
		int driver_polls = 0;
		uint8_t reach = 0;
		uint64_t polls_with_sample = 0;
		std::vector<refclock::Verdict> verdicts;  ///< of every sample, in order

		std::string refid() const { return refclock::ref_id_text(clock->settings().ref_id); }
		size_t count(refclock::Verdict v) const
		{
			return static_cast<size_t>(std::count(verdicts.begin(), verdicts.end(), v));
		}
	};

	RecordingLogger log;
	RefclockDevices devices;
	SourceSet set{{}, {}};
	std::vector<Refclock> refclocks;
	/// Lines whose driver the factory refused, with its error.
	std::vector<std::string> refused;
	SourceSetDecision decision;  ///< the latest
	RealTime now = RealTime::from_parts(1'700'000'000, 0);
	MonoTime mono = MonoTime{} + std::chrono::seconds(1000);
	/// Pulses with no lock: whether (and how well) the system clock is synchronised.
	std::optional<double> synced_distance_s;
	std::optional<int> tai_offset;
	/// The system clock as read after a driver's call, for the samples'
	/// age (NtpSources reads clock_.now()); `now` when empty. A fake that
	/// lets time run on while it is read (the PHC's readings, the GPIO
	/// clock brackets) is a little ahead of `now`.
	std::function<RealTime()> clock;

	/// Parses `text` as a chrony.conf and builds each of its refclocks;
	/// fails the test when the parser finds an error.
	conf::Config load(std::string_view text, const std::string &name = "test.conf")
	{
		strata::testing::FakeFileReader files;
		auto loaded = conf::load_text(files, text, name);
		for (const auto &d : loaded.diagnostics) {
			EXPECT_NE(d.severity, conf::Diagnostic::Severity::Error) << d.to_string();
		}
		build(loaded.config);
		return loaded.config;
	}

	/// Loads the configuration file at `path` with the real file system.
	conf::Config load_file(const std::string &path)
	{
		conf::SystemFileReader files;
		auto loaded = conf::load(files, path);
		for (const auto &d : loaded.diagnostics) {
			EXPECT_NE(d.severity, conf::Diagnostic::Severity::Error) << d.to_string();
		}
		build(loaded.config);
		return loaded.config;
	}

	/// Builds every refclock of `config` (those the factory refuses go to
	/// `refused`), and their locks.
	void build(const conf::Config &config)
	{
		for (size_t i = 0; i < config.refclocks.size(); i++) {
			const auto &c = config.refclocks[i];
			auto driver = make_refclock_driver(c, log, devices);
			if (!driver) {
				refused.push_back(fmt::format("refclock {} {}: {}", c.driver, c.parameter,
							      driver.error().message()));
				continue;
			}
			Refclock r;
			auto settings = refclock_settings(c, i, **driver);
			r.config = c;
			SourceStatsConfig stats = set.stats_config();
			if (c.minsamples) {
				stats.min_samples = static_cast<size_t>(std::max(*c.minsamples, 3));
			}
			if (c.maxsamples && *c.maxsamples > 0) {
				stats.max_samples = static_cast<size_t>(*c.maxsamples);
			}
			r.index = set.add_source(refclock_source_info(c, settings), stats);
			r.clock = std::make_unique<refclock::Refclock>(settings);
			r.driver = std::move(*driver);
			r.next_tick = now;
			refclocks.push_back(std::move(r));
		}
		for (auto &r : refclocks) {
			if (r.config.lock.empty()) {
				continue;
			}
			for (size_t k = 0; k < refclocks.size(); k++) {
				if (refclocks[k].refid() == r.config.lock && &refclocks[k] != &r) {
					r.lock = k;
				}
			}
		}
	}

	Refclock &by_refid(std::string_view refid)
	{
		for (auto &r : refclocks) {
			if (r.refid() == refid) {
				return r;
			}
		}
		ADD_FAILURE() << "no refclock " << refid;
		return refclocks.front();
	}

	/// Runs every dpoll and poll end due up to `t`, in time order, then
	/// moves to `t`; the event-driven descriptors are read after each tick
	/// and at `t` (the events the test made are read within a dpoll, and
	/// at `t` at the latest). `on_tick(time)` is called whenever time has
	/// moved, before anything is read, so that the fakes' clocks can follow.
	template <class OnTick>
	void run_to(RealTime t, OnTick &&on_tick)
	{
		for (;;) {
			Refclock *next = nullptr;
			for (auto &r : refclocks) {
				if (next == nullptr || r.next_tick < next->next_tick) {
					next = &r;
				}
			}
			if (next == nullptr || next->next_tick > t) {
				break;
			}
			advance_to(next->next_tick);
			on_tick(now);
			tick(*next);
			receive_all();
		}
		advance_to(t);
		on_tick(now);
		receive_all();
	}
	void run_to(RealTime t)
	{
		run_to(t, [](RealTime) {});
	}

	/// The event-driven drivers' descriptors are read (as the loop does
	/// when they are readable; reading one with nothing waiting is
	/// harmless for every driver).
	void receive_all()
	{
		for (auto &r : refclocks) {
			if (r.driver->fd() >= 0) {
				std::vector<refclock::RawSample> batch;
				r.driver->receive(mono, batch);
				add_samples(r, batch);
			}
		}
	}

private:
	void advance_to(RealTime t)
	{
		if (t > now) {
			mono += t - now;
			now = t;
		}
	}

	void tick(Refclock &r)
	{
		const auto &s = r.clock->settings();
		int interval_log2 = s.poll_log2;
		if (r.driver->polled()) {
			interval_log2 = s.dpoll_log2;
			std::vector<refclock::RawSample> batch;
			r.driver->poll(mono, batch);
			add_samples(r, batch);
			if (++r.driver_polls >= (1 << (s.poll_log2 - s.dpoll_log2))) {
				r.driver_polls = 0;
				end_poll(r);
			}
		} else if (r.driver_polls++ > 0) {
			end_poll(r);
		}
		r.next_tick = r.next_tick + from_seconds(std::ldexp(1.0, interval_log2));
	}

	void add_samples(Refclock &r, const std::vector<refclock::RawSample> &batch)
	{
		refclock::SampleContext context{.now = clock ? clock() : now,
						.tai_offset = tai_offset,
						.locked = r.lock.has_value(),
						.clock_synchronized = synced_distance_s.has_value(),
						.clock_distance_s = synced_distance_s.value_or(0.0)};
		if (r.lock) {
			context.lock_sample = refclocks[*r.lock].clock->last_sample();
		}
		for (const auto &raw : batch) {
			r.verdicts.push_back(r.clock->add(raw, raw.local, context));
		}
	}

	void end_poll(Refclock &r)
	{
		auto outcome = r.clock->poll();
		r.reach = static_cast<uint8_t>((r.reach << 1) | (outcome.reached ? 1 : 0));
		set.set_reachable(r.index, r.reach != 0);
		if (outcome.sample) {
			r.polls_with_sample++;
			SourceInfo info = refclock_source_info(r.config, r.clock->settings());
			info.leap = outcome.leap;
			info.reachable = true;
			set.set_info(r.index, info);
			set.add_sample(r.index, *outcome.sample);
		}
		decision = set.decide(now);
	}
};

} // namespace strata::daemon
