// The Raspberry Pi stratum-1 configuration through the device fakes, from
// the devices to source selection: gpsd's NMEA samples in SHM segment 0
// (FakeShm) and the PPS pulse on /dev/pps0 (FakePps), read by the real
// drivers, turned into samples by the refclock framework (the PPS locked to
// the NMEA refclock), and selected by the SourceSet the daemon uses:
//   refclock SHM 0 refid NMEA offset 0.15 noselect
//   refclock PPS /dev/pps0 lock NMEA refid PPS
#include <gtest/gtest.h>

#include "core/source_set.h"
#include "refclock/pps_linux.h"
#include "refclock/refclock.h"
#include "refclock/shm_linux.h"
#include "tests/unit/refclock/fake_pps.h"
#include "tests/unit/refclock/fake_shm.h"
#include "tests/fakes/recording_logger.h"

namespace strata::refclock {
namespace {

using namespace std::chrono_literals;

struct Pipeline {
	FakeShm shm;
	FakePps pps_kernel;
	RecordingLogger log;
	std::optional<ShmRefclock> nmea_driver;
	std::optional<PpsRefclock> pps_driver;
	Refclock nmea{{.name = "SHM 0", .ref_id = ref_id_from_text("NMEA"), .offset_s = 0.15, .precision_s = 0.02}};
	Refclock pps{{.name = "PPS /dev/pps0", .ref_id = ref_id_from_text("PPS"), .pps = true, .precision_s = 1e-7}};
	SourceSet set{{}, {}};
	size_t nmea_index = set.add_source({.stratum = 0, .ref_id = ref_id_from_text("NMEA"), .noselect = true});
	size_t pps_index = set.add_source({.stratum = 0, .ref_id = ref_id_from_text("PPS")});

	/// The local clock is 2.3 s behind true time (the pulse alone cannot
	/// say which second it is; the NMEA lock can).
	static constexpr double kLocalBehind = 2.3;
	RealTime true_start = RealTime::from_parts(1'800'000'000, 0);

	Pipeline()
	{
		shm.create(kShmKeyBase, kShmSize, 0600);
		pps_kernel.add("/dev/pps0");
		nmea_driver.emplace(ShmOptions{.unit = 0}, log, shm.syscalls());
		auto opened = PpsRefclock::open("/dev/pps0", PpsEdge::Assert, log, pps_kernel.syscalls());
		EXPECT_TRUE(opened.has_value());
		pps_driver.emplace(std::move(*opened));
	}

	RealTime local_at(RealTime true_time) const { return true_time - from_seconds(kLocalBehind); }

	/// One second of the world: the pulse on the second, gpsd's sentence
	/// 150 ms later, then the daemon's dpoll reads of both devices.
	void second(int k)
	{
		RealTime on_the_second = true_start + k * 1s;
		if (pps_kernel.device("/dev/pps0") != nullptr) {
			pps_kernel.pulse("/dev/pps0", local_at(on_the_second) + std::chrono::nanoseconds((k % 5) * 50));
		}
		RealTime received = local_at(on_the_second + 150ms + std::chrono::milliseconds(k % 7));
		FakeShm::write_sample(shm.live(kShmKeyBase)->time(), on_the_second, received);
		RealTime now = local_at(on_the_second + 300ms);
		MonoTime mono{from_seconds(k)};
		if (auto s = nmea_driver->poll(mono)) {
			nmea.add(*s, s->local, {.now = now});
		}
		if (auto s = pps_driver->poll(mono)) {
			pps.add(*s, s->local, {.now = now, .locked = true, .lock_sample = nmea.last_sample()});
		}
	}

	/// The poll's end (every 16 s): both refclocks' filtered samples go to
	/// selection.
	SourceSetDecision end_poll(RealTime now)
	{
		for (auto [rc, index] : {std::pair{&nmea, nmea_index}, std::pair{&pps, pps_index}}) {
			auto out = rc->poll();
			set.set_reachable(index, out.reached);
			if (out.sample) {
				SourceInfo info = set.info(index);
				info.leap = out.leap;
				info.reachable = true;
				set.set_info(index, info);
				set.add_sample(index, *out.sample);
			}
		}
		return set.decide(now);
	}
};

TEST(RefclockPipeline, PpsLockedToShmIsSelectedWithItsRefidAndStratum)
{
	Pipeline p;
	SourceSetDecision d;
	for (int k = 1; k <= 96; k++) {
		p.second(k);
		if (k % 16 == 0) {
			d = p.end_poll(p.local_at(p.true_start + k * 1s + 400ms));
		}
	}
	ASSERT_TRUE(d.selection.selected.has_value());
	EXPECT_EQ(*d.selection.selected, p.pps_index);
	EXPECT_EQ(ref_id_text(d.reference.ref_id), "PPS");
	EXPECT_EQ(d.reference.stratum, 1);
	ASSERT_TRUE(d.estimate.has_value());
	// The whole 2.3 s, from the lock; the pulses' 0–200 ns jitter averaged.
	EXPECT_NEAR(d.estimate->offset_s, Pipeline::kLocalBehind, 1e-6);
	EXPECT_EQ(p.pps.stats().out_of_phase, 0u);
	EXPECT_GE(p.pps.stats().pulses, 90u);
}

TEST(RefclockPipeline, ThePpsDeviceDisappearingEndsItsSelectionWithALogLine)
{
	Pipeline p;
	SourceSetDecision d;
	int k = 1;
	for (; k <= 64; k++) {
		p.second(k);
		if (k % 16 == 0) {
			d = p.end_poll(p.local_at(p.true_start + k * 1s + 400ms));
		}
	}
	ASSERT_EQ(d.selection.selected, p.pps_index);
	p.pps_kernel.remove("/dev/pps0");  // the module unloaded
	for (; k <= 96; k++) {
		p.second(k);
		if (k % 16 == 0) {
			d = p.end_poll(p.local_at(p.true_start + k * 1s + 400ms));
		}
	}
	EXPECT_FALSE(d.selection.selected.has_value());  // NMEA is noselect: nothing left
	EXPECT_FALSE(p.pps_driver->is_open());
	std::string warning = p.log.last(LogLevel::Warning);
	EXPECT_NE(warning.find("/dev/pps0"), std::string::npos) << warning;
	// It comes back: the driver reopens it, the pulses lock again.
	p.pps_kernel.add("/dev/pps0");
	for (; k <= 160; k++) {
		p.second(k);
		if (k % 16 == 0) {
			d = p.end_poll(p.local_at(p.true_start + k * 1s + 400ms));
		}
	}
	EXPECT_TRUE(p.pps_driver->is_open());
	EXPECT_EQ(d.selection.selected, p.pps_index);
}

TEST(RefclockPipeline, PulsesFromAnotherSourceAreOutOfPhaseAndNotUsed)
{
	// A PPS wired to the wrong signal: its edges 300 ms off the NMEA seconds.
	Pipeline p;
	for (int k = 1; k <= 32; k++) {
		RealTime on_the_second = p.true_start + k * 1s;
		p.pps_kernel.pulse("/dev/pps0", p.local_at(on_the_second + 300ms));
		RealTime received = p.local_at(on_the_second + 150ms);
		FakeShm::write_sample(p.shm.live(kShmKeyBase)->time(), on_the_second, received);
		RealTime now = p.local_at(on_the_second + 400ms);
		MonoTime mono{from_seconds(k)};
		if (auto s = p.nmea_driver->poll(mono)) {
			p.nmea.add(*s, s->local, {.now = now});
		}
		if (auto s = p.pps_driver->poll(mono)) {
			EXPECT_EQ(p.pps.add(*s, s->local, {.now = now, .locked = true, .lock_sample = p.nmea.last_sample()}),
				  Verdict::OutOfPhase);
		}
	}
	EXPECT_GE(p.pps.stats().out_of_phase, 30u);
	EXPECT_FALSE(p.pps.poll().sample.has_value());
}

} // namespace
} // namespace strata::refclock
