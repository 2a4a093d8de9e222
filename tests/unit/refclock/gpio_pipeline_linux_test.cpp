// A PPS on a GPIO line from the configuration line to source selection: the
// `refclock GPIO` line parsed, its driver built by the daemon's factory over
// a fake libgpiod (fake_gpio.h), its edges stamped as the kernel stamps them
// (libgpiod 1.6: CLOCK_MONOTONIC, mapped to CLOCK_REALTIME through the clock
// brackets; libgpiod 2: CLOCK_REALTIME), judged by the refclock framework
// and selected by the SourceSet (tests/unit/daemon/refclock_rig.h). The
// whole seconds come from gpsd's NMEA in SHM segment 0 (fake_shm.h) or from
// the synchronised system clock.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "tests/unit/daemon/refclock_rig.h"
#include "tests/unit/refclock/fake_gpio.h"
#include "tests/unit/refclock/fake_shm.h"

namespace strata::daemon {
namespace {

using namespace std::chrono_literals;
using refclock::FakeGpio;
using refclock::FakeShm;
using refclock::Verdict;

constexpr const char *kChip = "/dev/gpiochip0";
constexpr unsigned kLine = 18;

std::vector<std::string> pi_lines()
{
	std::vector<std::string> names;
	for (int i = 0; i < 28; i++) {
		names.push_back(fmt::format("GPIO{}", i));
	}
	return names;
}

/// A Raspberry Pi: a GPS's PPS on GPIO18, its NMEA through gpsd in SHM 0.
struct World {
	FakeGpio gpio;
	FakeShm shm;
	RefclockRig rig;
	/// The local clock reads this much less than true time.
	double behind_s = 2.3;
	/// Local time of the first true second used (start + behind is whole).
	RealTime start;
	bool nmea = true;

	explicit World(bool libgpiod_v1, bool chip_present = true)
	{
		gpio.v1 = libgpiod_v1;
		gpio.realtime_stamps = !libgpiod_v1;
		if (chip_present) {
			gpio.add_chip(kChip, pi_lines());
		}
		shm.create(refclock::kShmKeyBase, refclock::kShmSize, 0600);
		rig.now = gpio.real_now();
		start = rig.now + 700ms;
		rig.devices.shm = shm.syscalls();
		rig.devices.gpio = [this] { return gpio.lib(); };
		rig.devices.gpio_clocks = gpio.clocks();
		rig.clock = [this] { return std::max(rig.now, gpio.real_now()); };
	}

	/// The fake's clocks to the rig's time (never back).
	void sync(RealTime t)
	{
		if (t > gpio.real_now()) {
			gpio.mono = MonoTime{t.since_epoch - gpio.real_minus_mono};
		}
	}

	void run_to(RealTime t)
	{
		rig.run_to(t, [this](RealTime now) { sync(now); });
	}

	/// Second k of the world: the edge when the local clock reads
	/// start + k s (true time: a whole second), gpsd's sentence about that
	/// second 150 ms later; then the daemon's reads.
	void second(int k)
	{
		RealTime edge_local = start + k * 1s;
		// The daemon's reads before the edge move the fake's clocks on a
		// little (each clock read and event read takes time): the edge
		// comes when the local clock reads edge_local exactly.
		run_to(edge_local - 1ms);
		sync(edge_local);
		if (gpio.request(kChip, kLine) != nullptr) {
			gpio.edge(kChip, kLine);
		}
		RealTime received = edge_local + 150ms;
		run_to(received);
		if (nmea) {
			FakeShm::write_sample(shm.live(refclock::kShmKeyBase)->time(),
					      edge_local + from_seconds(behind_s), received);
		}
		run_to(edge_local + 400ms);
	}

	void seconds(int from, int to)
	{
		for (int k = from; k <= to; k++) {
			second(k);
		}
	}

	std::optional<size_t> selected() const { return rig.decision().selection.selected; }
};

constexpr const char *kLockedConf = "refclock SHM 0 refid NMEA offset 0.15 precision 0.02 noselect\n"
				    "refclock GPIO gpiochip0:18 lock NMEA\n";

void expect_selected_locked(World &w, const char *refid, int stratum)
{
	w.rig.load(kLockedConf);
	ASSERT_EQ(w.rig.refclock_count(), 2u);
	w.seconds(1, 96);
	auto gpio = w.rig.by_refid(refid);
	ASSERT_TRUE(w.selected().has_value());
	EXPECT_EQ(*w.selected(), gpio.index());
	EXPECT_EQ(refclock::ref_id_text(w.rig.served().ref_id), refid);
	EXPECT_EQ(w.rig.served().stratum, stratum);
	ASSERT_TRUE(w.rig.estimate().has_value());
	// The edges are stamped exactly (CLOCK_REALTIME) or mapped from
	// CLOCK_MONOTONIC to within half a bracket (25 ns here): the whole
	// 2.3 s from the lock, the phase to the bracket bound (25 ns).
	EXPECT_NEAR(w.rig.estimate()->offset_s, w.behind_s, 25e-9);
	EXPECT_GE(gpio.count(Verdict::Accepted), 90u);
	EXPECT_EQ(gpio.stats().out_of_phase, 0u);
}

TEST(GpioPipeline, Libgpiod1MonotonicStampsLockedToNmeaAreSelectedAsStratum1)
{
	World w(/*libgpiod_v1=*/true);
	expect_selected_locked(w, "GPI1", 1);
	EXPECT_EQ(w.gpio.request(kChip, kLine)->clock, refclock::GpioClock::Monotonic);
	// Asked for realtime stamps first, then took the kernel's clock.
	bool said = false;
	for (const auto &l : w.rig.log.lines) {
		said |= l.text.find("stamped on CLOCK_MONOTONIC") != std::string::npos;
	}
	EXPECT_TRUE(said);
}

TEST(GpioPipeline, Libgpiod2RealtimeStampsLockedToNmeaAreSelectedAsStratum1)
{
	World w(/*libgpiod_v1=*/false);
	expect_selected_locked(w, "GPI1", 1);
	EXPECT_EQ(w.gpio.request(kChip, kLine)->clock, refclock::GpioClock::Realtime);
}

TEST(GpioPipeline, CompletedFromTheSynchronisedClockWithItsConfiguredRefidAndStratum)
{
	// No lock: the system clock, synchronised by gpsd's NMEA (its 150 ms
	// latency taken off by `offset`), says which second each edge starts;
	// it reads 20 µs behind. `prefer` makes the pulses the only ones used.
	for (bool v1 : {true, false}) {
		World w(v1);
		w.behind_s = 20e-6;
		w.start = RealTime::from_parts(w.rig.now.seconds() + 1, 0) - from_seconds(w.behind_s);
		w.rig.load("refclock GPIO /dev/gpiochip0:GPIO18:rising refid GPS stratum 2 prefer\n"
			   "refclock SHM 0 refid NMEA offset 0.15\n");
		w.seconds(1, 96);
		SCOPED_TRACE(v1 ? "libgpiod 1.6" : "libgpiod 2");
		ASSERT_EQ(w.selected(), w.rig.by_refid("GPS").index());
		EXPECT_EQ(refclock::ref_id_text(w.rig.served().ref_id), "GPS");
		EXPECT_EQ(w.rig.served().stratum, 3);
		ASSERT_TRUE(w.rig.estimate().has_value());
		EXPECT_NEAR(w.rig.estimate()->offset_s, 20e-6, 25e-9);
	}
}

TEST(GpioPipeline, WithoutLockOrSynchronisedClockTheEdgesAreNotUsed)
{
	World w(false);
	w.nmea = false;
	w.rig.load("refclock GPIO gpiochip0:18\n");
	w.seconds(1, 40);
	EXPECT_FALSE(w.selected().has_value());
	auto gpio = w.rig.by_refid("GPI0");
	EXPECT_GE(gpio.count(Verdict::ClockNotSynced), 38u);
	EXPECT_EQ(gpio.count(Verdict::Accepted), 0u);
}

TEST(GpioPipeline, AMissingChipAtStartIsSaidOnceAndUsedWhenItAppears)
{
	World w(true, /*chip_present=*/false);
	w.rig.load(kLockedConf);
	w.seconds(1, 48);
	EXPECT_FALSE(w.selected().has_value());
	EXPECT_EQ(w.rig.log.count_with("GPIO gpiochip0:18: Could not open /dev/gpiochip0: No such file or directory; "
					"trying again at every poll"),
		  1u);
	auto gpio = w.rig.by_refid("GPI1");
	EXPECT_EQ(gpio.reach(), 0);
	w.gpio.add_chip(kChip, pi_lines());
	w.seconds(49, 160);
	EXPECT_EQ(w.selected(), gpio.index());
	EXPECT_EQ(w.rig.log.count_with("requested rising edges of line 18 of /dev/gpiochip0"), 1u);
}

TEST(GpioPipeline, AChipThatGoesAwayMidRunIsUnreachableUntilItComesBack)
{
	World w(false);
	w.rig.load(kLockedConf);
	w.seconds(1, 64);
	auto gpio = w.rig.by_refid("GPI1");
	ASSERT_EQ(w.selected(), gpio.index());
	w.gpio.remove_chip(kChip);  // a USB GPIO adapter pulled
	w.seconds(65, 65 + 9 * 16);
	EXPECT_EQ(gpio.reach(), 0);
	EXPECT_FALSE(w.selected().has_value());  // NMEA is noselect: nothing left
	EXPECT_EQ(w.rig.log.count_with("line 18 of /dev/gpiochip0 lost"), 1u);
	EXPECT_EQ(w.rig.log.count_with("Could not open /dev/gpiochip0"), 1u);
	w.gpio.add_chip(kChip, pi_lines());
	w.seconds(210, 330);
	EXPECT_EQ(w.selected(), gpio.index());
	EXPECT_EQ(w.rig.log.count_with("requested rising edges of line 18 of /dev/gpiochip0, stamped on "
					"CLOCK_REALTIME again"),
		  1u);
	ASSERT_TRUE(w.rig.estimate().has_value());
	EXPECT_NEAR(w.rig.estimate()->offset_s, w.behind_s, 25e-9);
}

TEST(GpioPipeline, GarbageEventsAreCountedAndLoggedAndTheGoodEdgesStillSelect)
{
	for (bool v1 : {true, false}) {
		SCOPED_TRACE(v1 ? "libgpiod 1.6" : "libgpiod 2");
		World w(v1);
		w.rig.load(kLockedConf);
		for (int k = 1; k <= 96; k++) {
			if (k % 10 == 5) {
				// A stamp on neither clock, the largest u64, an edge not asked for.
				w.gpio.raw_event(kChip, kLine, 12345);
				w.gpio.raw_event(kChip, kLine, std::numeric_limits<uint64_t>::max());
				w.gpio.raw_event(kChip, kLine, static_cast<uint64_t>(w.gpio.real_now().since_epoch.count()),
						 /*rising=*/false);
			}
			w.second(k);
		}
		auto gpio = w.rig.by_refid("GPI1");
		EXPECT_EQ(w.selected(), gpio.index());
		ASSERT_TRUE(w.rig.estimate().has_value());
		EXPECT_NEAR(w.rig.estimate()->offset_s, w.behind_s, 25e-9);
		EXPECT_GE(w.rig.log.count_with("time stamp 12345 ns is on neither clock"), 1u);
		EXPECT_GE(gpio.count(Verdict::Accepted), 90u);
	}
}

} // namespace
} // namespace strata::daemon
