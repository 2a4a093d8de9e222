// The configuration fixtures' refclocks, built and run: every
// tests/golden/conf/good/*.conf is loaded by the real parser, each of its
// `refclock` lines gets its driver from the daemon's factory with the
// device fakes in place of the kernel and libgpiod (tests/unit/daemon/
// refclock_rig.h), and a simulated GPS-disciplined world feeds them for a
// few minutes: a PPS edge on each true second (on /dev/ppsN, a GPIO line, a
// PHC's pin, a SOCK pulse), gpsd's NMEA in SHM, PHC readings, an RTC's
// update interrupts. Each refclock must deliver samples and be reachable;
// the Raspberry Pi fixture's PPS must be selected, locked to its GPS.
//
// What the fakes cannot give, said here rather than skipped:
//  - SOCK has no fake: its socket is a real Unix datagram socket, bound in
//    a temporary directory instead of the configured /run path (the
//    factory's sock_path seam), and the test sends gpsd's datagrams to it;
//  - `tai` needs TAI − UTC from leapsectz/leapseclist: the test gives 37 s;
//  - pulses with no `lock` need a synchronised system clock: the engine
//    synchronises it from the fixture's other refclocks (the NTP servers
//    of the fixtures never answer here).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>

#include <gtest/gtest.h>

#include "phc/phc_options.h"
#include "refclock/gpio.h"
#include "refclock/pps.h"
#include "refclock/shm.h"
#include "refclock/sock.h"
#include "rtc/fake_rtc.h"
#include "rtc/rtc_refclock.h"
#include "tests/unit/daemon/refclock_rig.h"
#include "tests/unit/phc/fake_phc.h"
#include "tests/unit/refclock/fake_gpio.h"
#include "tests/unit/refclock/fake_pps.h"
#include "tests/unit/refclock/fake_shm.h"

namespace strata::daemon {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using refclock::Verdict;

const fs::path kGood = fs::path(STRATA_SOURCE_DIR) / "tests/golden/conf/good";

/// A temporary directory for the SOCK refclocks' sockets.
struct TempDir {
	fs::path path;
	TempDir()
	{
		std::string pattern = (fs::temp_directory_path() / "strata-fixtures-XXXXXX").string();
		char *made = ::mkdtemp(pattern.data());
		EXPECT_NE(made, nullptr);
		path = pattern;
	}
	~TempDir()
	{
		std::error_code ignored;
		fs::remove_all(path, ignored);
	}
};

/// The world of a GPS receiver with a PPS output, wired to everything a
/// fixture's refclocks listen to. The local clock reads `behind` less than
/// true time; the PHC keeps TAI (true + 37 s); the RTC keeps UTC, 0.25 s fast.
struct World {
	static constexpr double kBehind_s = 20e-6;

	refclock::FakeShm shm;
	refclock::FakePps pps;
	refclock::FakeGpio gpio;
	phc::FakePhc phc;
	std::optional<rtc::FakeRtc> rtc;
	TempDir dir;
	int sender = -1;  ///< gpsd's end of the SOCK sockets
	RefclockRig rig;
	RealTime start;   ///< local time of true second 0
	conf::Config config;

	World()
	{
		rig.now = gpio.real_now();
		start = RealTime::from_parts(rig.now.seconds() + 1, 0) - from_seconds(kBehind_s);
		phc.sys = rig.now;
		phc.epoch = rig.now;
		phc.true_offset = std::chrono::seconds(37) + from_seconds(kBehind_s);
		phc.interfaces["eth0"] = 0;
		rtc.emplace(rtc::FakeRtc::Config{.start = rig.now + from_seconds(kBehind_s), .offset_s = 0.25});
		for (int unit = 0; unit < 4; unit++) {
			shm.create(refclock::kShmKeyBase + unit, refclock::kShmSize, 0600);
		}
		sender = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		EXPECT_GE(sender, 0);
		rig.devices.shm = shm.syscalls();
		rig.devices.pps = pps.syscalls();
		rig.devices.gpio = [this] { return gpio.lib(); };
		rig.devices.gpio_clocks = gpio.clocks();
		rig.devices.phc = phc.syscalls();
		rig.devices.rtc = [this](const std::string &path) -> Result<std::unique_ptr<rtc::RtcDevice>> {
			if (path != rtc->path()) {
				return fail_errno("Could not open " + path, ENOENT);
			}
			return std::make_unique<rtc::BorrowedRtc>(*rtc);
		};
		rig.devices.realtime = [this] { return clock(); };
		rig.devices.sock_path = [this](const std::string &path) { return sock_path(path); };
		rig.clock = [this] { return clock(); };
		rig.tai_offset = 37;
	}
	~World()
	{
		if (sender >= 0) {
			::close(sender);
		}
	}

	std::string sock_path(const std::string &configured) const
	{
		return (dir.path / fs::path(configured).filename()).string();
	}

	RealTime clock() const { return std::max({rig.now, gpio.real_now(), phc.sys}); }

	void sync(RealTime t)
	{
		if (t > gpio.real_now()) {
			gpio.mono = MonoTime{t.since_epoch - gpio.real_minus_mono};
		}
		if (t > phc.sys) {
			phc.sys = t;
		}
		rtc->advance_to(t + from_seconds(kBehind_s));
	}

	void run_to(RealTime t)
	{
		rig.run_to(t, [this](RealTime now) { sync(now); });
	}

	void load(const fs::path &file, const std::function<void(conf::Config &)> &adjust = {})
	{
		conf::SystemFileReader files;
		config = conf::load(files, file.string()).config;
		// The PHC the fixture names by path is the fake's.
		for (const auto &c : config.refclocks) {
			if (c.driver == "PHC" && !c.parameter.empty() && c.parameter.front() == '/') {
				phc.path = c.parameter.substr(0, c.parameter.find(':'));
			}
		}
		// PPS devices and GPIO chips present from the start.
		for (const auto &c : config.refclocks) {
			if (c.driver == "PPS") {
				auto o = refclock::parse_pps_parameter(c.parameter);
				ASSERT_TRUE(o.has_value());
				pps.add(o->path);
			} else if (c.driver == "GPIO") {
				auto o = refclock::parse_gpio_parameter(c.parameter);
				ASSERT_TRUE(o.has_value());
				std::vector<std::string> names;
				for (int i = 0; i < 28; i++) {
					names.push_back(fmt::format("GPIO{}", i));
				}
				gpio.add_chip(o->chip_path, names);
			}
		}
		rig.load_file(file.string(), adjust);
	}

	void send_sock(const std::string &path, RealTime local, double offset_s, bool pulse)
	{
		refclock::SockSample64 s{};  // gpsd on a 64-bit system
		s.tv_sec = local.seconds();
		s.tv_usec = local.subsec_ns() / 1000;
		s.offset = offset_s;
		s.pulse = pulse ? 1 : 0;
		s.magic = refclock::kSockMagic;
		sockaddr_un to{};
		to.sun_family = AF_UNIX;
		std::strncpy(to.sun_path, path.c_str(), sizeof(to.sun_path) - 1);
		auto sent = ::sendto(sender, &s, sizeof(s), 0, reinterpret_cast<const sockaddr *>(&to), sizeof(to));
		EXPECT_EQ(sent, static_cast<ssize_t>(sizeof(s))) << path << ": " << std::strerror(errno);
	}

	/// True second k: the edges, on every device that takes them; gpsd's
	/// messages; the daemon's reads in between.
	void second(int k)
	{
		RealTime edge = start + k * 1s;  // the local time of the true second
		RealTime truth = edge + from_seconds(kBehind_s);
		run_to(edge - 1ms);
		sync(edge);
		for (const auto &c : config.refclocks) {
			if (c.driver == "PPS") {
				auto o = refclock::parse_pps_parameter(c.parameter);
				pps.pulse(o->path, edge, o->edge == refclock::PpsEdge::Clear);
			} else if (c.driver == "GPIO") {
				auto o = refclock::parse_gpio_parameter(c.parameter);
				auto *offset = std::get_if<unsigned>(&o->line);
				if (offset != nullptr && gpio.request(o->chip_path, *offset) != nullptr) {
					gpio.edge(o->chip_path, *offset, o->edge != refclock::GpioEdge::Falling);
				}
			} else if (c.driver == "PHC") {
				auto o = phc::parse_phc_parameter(c.parameter);
				if (o->extpps) {
					phc.edge(edge, !o->clear, static_cast<unsigned>(o->channel));
				}
			}
		}
		for (const auto &c : config.refclocks) {
			if (c.driver == "SOCK") {
				// gpsd's PPS message: the edge, true − system within the second.
				send_sock(sock_path(c.parameter), edge, kBehind_s, c.pps);
			}
		}
		// gpsd's NMEA time, received `offset` late (the configured offset
		// corrects it).
		for (const auto &c : config.refclocks) {
			if (c.driver == "SHM") {
				auto o = refclock::parse_shm_parameter(c.parameter);
				RealTime received = edge + from_seconds(c.offset_s);
				run_to(received);
				refclock::FakeShm::write_sample(shm.live(refclock::kShmKeyBase + o->unit)->time(), truth,
								received);
			}
		}
		run_to(edge + 500ms);
	}

	void run(int seconds)
	{
		for (int k = 1; k <= seconds; k++) {
			second(k);
		}
	}
};

/// Every refclock built, reachable, and delivering samples.
void expect_all_sampled(World &w, size_t expected_refclocks)
{
	EXPECT_TRUE(w.rig.refused.empty()) << (w.rig.refused.empty() ? "" : w.rig.refused.front());
	ASSERT_EQ(w.rig.refclock_count(), expected_refclocks);
	for (size_t k = 0; k < w.rig.refclock_count(); k++) {
		RefclockRig::Refclock r(w.rig, k);
		SCOPED_TRACE(r.source().clock.settings().name);
		EXPECT_GE(r.count(Verdict::Accepted), 10u);
		EXPECT_GE(r.stats().polls - r.stats().empty_polls, 1u);
		EXPECT_NE(r.reach(), 0);
		EXPECT_EQ(r.count(Verdict::BadTime), 0u);
	}
}

TEST(RefclockFixtures, EveryGoodFixtureIsCoveredHere)
{
	// A new fixture must be added to a test below (or to the list of those
	// without refclocks): none is left out silently.
	std::map<std::string, size_t> refclocks = {
		{"debian12-default.conf", 0}, {"isolated-lan-client.conf", 0}, {"isolated-lan-server.conf", 0},
		{"everything.conf", 5},       {"phc.conf", 2},                 {"rpi-gps-pps.conf", 2},
		{"rtc-refclock.conf", 2},
	};
	size_t seen = 0;
	for (const auto &e : fs::directory_iterator(kGood)) {
		if (e.path().extension() != ".conf") {
			continue;
		}
		seen++;
		auto name = e.path().filename().string();
		ASSERT_TRUE(refclocks.count(name) == 1) << name << " is not covered by refclock_fixtures_linux_test";
		conf::SystemFileReader files;
		auto loaded = conf::load(files, e.path().string());
		EXPECT_EQ(loaded.config.refclocks.size(), refclocks[name]) << name;
	}
	EXPECT_EQ(seen, refclocks.size());
}

TEST(RefclockFixtures, RaspberryPiGpsPpsSelectsThePpsLockedToTheGps)
{
	World w;
	w.load(kGood / "rpi-gps-pps.conf");
	w.run(120);
	expect_all_sampled(w, 2);
	auto pps = w.rig.by_refid("PPS");
	ASSERT_EQ(w.rig.decision().selection.selected, pps.index());
	EXPECT_EQ(w.rig.served().stratum, 1);
	EXPECT_EQ(refclock::ref_id_text(w.rig.served().ref_id), "PPS");
	ASSERT_TRUE(w.rig.estimate().has_value());
	EXPECT_NEAR(w.rig.estimate()->offset_s, World::kBehind_s, 1e-6);
	EXPECT_EQ(pps.stats().out_of_phase, 0u);
	EXPECT_GE(pps.stats().pulses, 100u);
}

TEST(RefclockFixtures, EverythingRunsAllFiveDriversAndTheLocalPhcIsNeverSelected)
{
	World w;
	// Its `minsources 2` counts on NTP servers, which never answer here:
	// with one source enough, the PPS synchronises the clock that the
	// pulses with no lock (SOCK, GPIO) need.
	w.load(kGood / "everything.conf", [](conf::Config &c) {
		c.minsources = 1;
		// Its keyfile is not there: the engine would refuse `key 10`
		// (sources/auth.h), and the NTP sources are not this test's.
		for (auto &s : c.sources) {
			s.key.reset();
			s.nts = false;
		}
	});
	w.run(120);
	expect_all_sampled(w, 5);
	auto local = w.rig.by_refid("PHC3");
	EXPECT_TRUE(local.source().clock.settings().local);
	EXPECT_EQ(w.rig.engine->source_set().info(local.index()).leap, Leap::Unsynchronized);
	EXPECT_NE(w.rig.decision().selection.selected, std::optional<size_t>(local.index()));
	// The PPS (prefer, locked to the GPS) and the pulses from the
	// synchronised clock (SOCK, GPIO) all lie on the same 20 µs.
	for (const char *refid : {"PPS1", "SOCK", "GPIO"}) {
		auto r = w.rig.by_refid(refid);
		ASSERT_GE(w.rig.engine->source_set().stats(r.index()).size(), 1u) << refid;
		auto e = w.rig.engine->source_set().stats(r.index()).estimate(w.rig.now);
		ASSERT_TRUE(e.has_value());
		EXPECT_NEAR(e->offset_s, World::kBehind_s, 1e-6) << refid;
	}
	ASSERT_TRUE(w.rig.decision().selection.selected.has_value());
}

TEST(RefclockFixtures, PhcReadAndItsExtppsThroughTheInterface)
{
	World w;
	w.load(kGood / "phc.conf");
	w.run(120);
	expect_all_sampled(w, 2);
	EXPECT_GE(w.phc.ethtool_ioctl_calls + w.phc.netlink_calls, 1);
	// `offset -37` takes TAI off the PHC's readings.
	auto read = w.rig.by_refid("PHC0");
	auto e = w.rig.engine->source_set().stats(read.index()).estimate(w.rig.now);
	ASSERT_TRUE(e.has_value());
	EXPECT_NEAR(e->offset_s, World::kBehind_s, 1e-6);
	auto pulses = w.rig.by_refid("PHC1");
	EXPECT_GE(pulses.stats().pulses, 100u);
}

TEST(RefclockFixtures, RtcRefclockAndGps)
{
	World w;
	w.load(kGood / "rtc-refclock.conf");
	w.run(200);
	expect_all_sampled(w, 2);
	auto rtc = w.rig.by_refid("RTC");
	EXPECT_TRUE(w.rtc->interrupts_on());
	// The RTC runs 0.25 s fast: its second begins 0.25 s early, and the
	// test's steps read the interrupt 0–0.5 s after it (the daemon reads it
	// at once), so its samples lie within 0.25 s of the truth.
	EXPECT_EQ(rtc.count(Verdict::Accepted), 200u);
	auto e = w.rig.engine->source_set().stats(rtc.index()).estimate(w.rig.now);
	ASSERT_TRUE(e.has_value());
	EXPECT_NEAR(e->offset_s, 0.0, 0.26);
}

TEST(RefclockFixtures, FixturesWithoutRefclocksBuildNone)
{
	for (const char *name : {"debian12-default.conf", "isolated-lan-client.conf", "isolated-lan-server.conf"}) {
		World w;
		w.load(kGood / name);
		EXPECT_TRUE(w.rig.refclock_count() == 0) << name;
		EXPECT_TRUE(w.rig.refused.empty()) << name;
	}
}

} // namespace
} // namespace strata::daemon
