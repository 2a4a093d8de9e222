// The daemon's refclock path on a simulated clock, for tests that go from
// configuration lines to the source selection: the configuration parsed by
// the real parser (conf/parser.h), each `refclock` line's driver built by
// the daemon's factory (daemon/refclock_drivers_linux.h) over the device
// fakes the test puts in `devices`, and the source engine itself
// (sources/engine.h) scheduling the drivers' reads, judging the samples
// with the refclock framework and selecting among the sources, as stratad
// does. The rig is the engine's scheduler (virtual time), its clock and its
// I/O.
//
// Time is the test's: `now` is the local (system) clock, which the fakes
// must agree with; run_to() moves it on, running every timer the engine set
// that falls due (the drivers' dpolls, the poll ends) and reading the
// descriptors the engine watches after each (the events the test made are
// read within a dpoll, and at `t` at the latest).
//
// The clock cannot be steered here (as for a daemon without CAP_SYS_TIME:
// the engine's corrections are refused and logged), so the offsets the
// sources measure stay what the test made them, and the selection's
// estimate shows them.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "conf/file_reader.h"
#include "conf/parser.h"
#include "core/leap_table.h"
#include "daemon/refclock_drivers_linux.h"
#include "sources/engine.h"
#include "tests/fakes/fake_file_reader.h"
#include "tests/fakes/recording_logger.h"

namespace strata::daemon {

class RefclockRig {
public:
	/// One refclock of the engine, by its configuration position.
	class Refclock {
	public:
		Refclock(const RefclockRig &rig, size_t position) : rig_(&rig), position_(position) {}
		const sources::RefclockSource &source() const { return *rig_->engine->refclocks()[position_]; }
		/// Its index in the selection.
		size_t index() const { return source().index; }
		uint8_t reach() const { return source().reach; }
		const refclock::RefclockStats &stats() const { return source().clock.stats(); }
		size_t count(refclock::Verdict v) const { return static_cast<size_t>(stats().count(v)); }
		std::string refid() const { return refclock::ref_id_text(source().clock.settings().ref_id); }
		int fd() const { return source().driver->fd(); }

	private:
		const RefclockRig *rig_;
		size_t position_;
	};

	RecordingLogger log;
	RefclockDevices devices;
	/// Lines whose driver the factory refused, with its error.
	std::vector<std::string> refused;
	RealTime now = RealTime::from_parts(1'700'000'000, 0);
	MonoTime mono = MonoTime{} + std::chrono::seconds(1000);
	/// TAI − UTC, given to the engine as a leap second list (`tai`).
	std::optional<int> tai_offset;
	/// The system clock as read after a driver's call, for the samples'
	/// age; `now` when empty. A fake that lets time run on while it is read
	/// (the PHC's readings, the GPIO clock brackets) is a little ahead of
	/// `now`.
	std::function<RealTime()> clock;
	ReferenceState reference{std::nullopt, MonoTime{}};
	std::unique_ptr<sources::Engine> engine;

	RefclockRig() = default;
	RefclockRig(const RefclockRig &) = delete;
	RefclockRig &operator=(const RefclockRig &) = delete;
	/// The engine goes first: it cancels its timers and unwatches.
	~RefclockRig() { engine.reset(); }

	/// Parses `text` as a chrony.conf and starts the engine on it; fails the
	/// test when the parser finds an error.
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

	/// Loads the configuration file at `path` with the real file system;
	/// `adjust` may change it before the engine starts.
	conf::Config load_file(const std::string &path, const std::function<void(conf::Config &)> &adjust = {})
	{
		conf::SystemFileReader files;
		auto loaded = conf::load(files, path);
		for (const auto &d : loaded.diagnostics) {
			EXPECT_NE(d.severity, conf::Diagnostic::Severity::Error) << d.to_string();
		}
		if (adjust) {
			adjust(loaded.config);
		}
		build(loaded.config);
		return loaded.config;
	}

	void build(const conf::Config &config)
	{
		sources::EngineSettings settings;
		if (tai_offset) {
			// One entry: TAI − UTC from 1900 on.
			auto table = LeapTable::parse_list(fmt::format("86400\t{}\n", *tai_offset));
			EXPECT_TRUE(table.has_value());
			settings.leap_table = std::make_shared<const LeapTable>(std::move(*table));
		}
		auto started = sources::Engine::start(
			config, settings,
			{.scheduler = timers_iface_,
			 .clock = clock_iface_,
			 .io = io_iface_,
			 .log = log,
			 .reference = reference,
			 .resolver = &names_,
			 .refclocks = [this](const conf::RefclockConfig &c) {
				 auto driver = make_refclock_driver(c, log, devices);
				 if (!driver) {
					 refused.push_back(fmt::format("refclock {} {}: {}", c.driver, c.parameter,
								       driver.error().message()));
				 }
				 return driver;
			 }});
		ASSERT_TRUE(started.has_value()) << started.error().message();
		engine = std::move(*started);
	}

	size_t refclock_count() const { return engine->refclocks().size(); }
	Refclock by_refid(std::string_view refid) const
	{
		for (size_t k = 0; k < refclock_count(); k++) {
			if (Refclock(*this, k).refid() == refid) {
				return Refclock(*this, k);
			}
		}
		ADD_FAILURE() << "no refclock " << refid;
		return Refclock(*this, 0);
	}
	/// The clock as the engine reads it.
	RealTime clock_now() const { return clock_iface_.now(); }
	/// What the NTP server would serve now.
	Reference served() { return reference.current(clock_now(), mono); }
	/// The estimate of the engine's last clock update.
	const std::optional<ClockEstimate> &estimate() const { return engine->tracking().last_estimate; }
	/// The engine's last selection.
	const SourceSetDecision &decision() const { return engine->last_decision(); }
	std::optional<size_t> selected() const { return engine->last_decision().selection.selected; }

	/// Runs every timer due up to `t`, in time order, then moves to `t`.
	/// `on_tick(time)` is called whenever time has moved, before anything
	/// is read, so that the fakes' clocks can follow.
	template <class OnTick>
	void run_to(RealTime t, OnTick &&on_tick)
	{
		for (;;) {
			auto next = timers_.begin();
			if (next == timers_.end() || real_at(next->first.at) > t) {
				break;
			}
			advance_to(real_at(next->first.at));
			on_tick(now);
			auto fn = std::move(next->second);
			timers_.erase(next);
			fn();
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

	/// The descriptors the engine watches are read (as the loop does when
	/// they are readable; reading one with nothing waiting is harmless for
	/// every driver).
	void receive_all()
	{
		std::vector<size_t> watched;
		for (const auto &[position, fd] : watched_) {
			watched.push_back(position);
		}
		for (size_t position : watched) {
			engine->on_refclock_readable(position);
		}
	}

private:
	/// The engine's scheduler: virtual monotonic time.
	class Timers final : public Scheduler {
	public:
		explicit Timers(RefclockRig &rig) : rig_(rig) {}
		MonoTime now() const override { return rig_.mono; }
		TimerId add_timer(MonoTime at, std::function<void()> fn) override
		{
			TimerId id = rig_.next_timer_++;
			rig_.timers_.emplace(Key{std::max(at, rig_.mono), id}, std::move(fn));
			return id;
		}
		void cancel(TimerId id) override
		{
			for (auto it = rig_.timers_.begin(); it != rig_.timers_.end(); ++it) {
				if (it->first.id == id) {
					rig_.timers_.erase(it);
					return;
				}
			}
		}

	private:
		RefclockRig &rig_;
	};

	/// Names never resolve here.
	class NoNames final : public sources::NameResolver {
	public:
		void resolve(const std::string &name, bool, bool, Done done) override
		{
			done({}, "no name resolution in the refclock rig: " + name);
		}
	};

	/// The engine's clock: the system clock, read only.
	class Clock final : public LocalClock {
	public:
		explicit Clock(RefclockRig &rig) : rig_(rig) {}
		RealTime now() const override { return rig_.clock ? rig_.clock() : rig_.now; }
		RealTime from_system(RealTime raw) const override { return raw; }
		Result<double> set_frequency_ppm(double) override { return refuse(); }
		double frequency_ppm() const override { return 0; }
		double max_frequency_ppm() const override { return 500000; }
		Result<> step(Duration) override { return refuse(); }
		Result<> set_leap(Leap) override { return {}; }
		Result<> set_sync_status(bool, double, double) override { return {}; }

	private:
		static tl::unexpected<Error> refuse() { return fail_errno("clock_adjtime", EPERM); }
		RefclockRig &rig_;
	};

	/// The engine's I/O: refclock descriptors. NTP sources (a fixture's
	/// servers) get a socket that goes nowhere: they are never answered.
	class Io final : public sources::EngineIo {
	public:
		explicit Io(RefclockRig &rig) : rig_(rig) {}
		Result<sources::SourceIoInfo> open_source(sources::SourceId, const IpAddress &, bool) override { return {}; }
		void close_source(sources::SourceId) override {}
		Result<> send(sources::SourceId, const IpAddress &, uint16_t, std::span<const std::byte>) override
		{
			return {};
		}
		void watch_refclock(size_t position, int fd) override
		{
			if (fd >= 0) {
				rig_.watched_[position] = fd;
			} else {
				rig_.watched_.erase(position);
			}
		}
		void stop() override { ADD_FAILURE() << "the engine stopped the refclock rig"; }

	private:
		RefclockRig &rig_;
	};

	struct Key {
		MonoTime at;
		TimerId id;
		friend auto operator<=>(const Key &, const Key &) = default;
	};
	RealTime real_at(MonoTime at) const { return now + (at - mono); }
	void advance_to(RealTime t)
	{
		if (t > now) {
			mono = mono + (t - now);
			now = t;
		}
	}
	std::map<Key, std::function<void()>> timers_;
	TimerId next_timer_ = 1;
	std::map<size_t, int> watched_;
	Timers timers_iface_{*this};
	Clock clock_iface_{*this};
	Io io_iface_{*this};
	NoNames names_;
};

} // namespace strata::daemon
