// A PTP hardware clock from the configuration line to source selection: the
// `refclock PHC` line parsed, its driver built by the daemon's factory over
// a fake PHC kernel (fake_phc.h), read with whichever of
// PTP_SYS_OFFSET_PRECISE, _EXTENDED and PTP_SYS_OFFSET the device answers
// (the fake refuses the others with EOPNOTSUPP or ENOTTY), or with
// `:extpps` time-stamping a PPS on its pin; judged by the refclock framework
// and selected by the SourceSet (tests/unit/daemon/refclock_rig.h).
//
// The PHC keeps TAI: it runs 37 s + 1234 ns ahead of the system clock, so
// with `tai` (and TAI − UTC = 37 s known) the system clock is 1.234 µs
// behind UTC.
#include <gtest/gtest.h>

#include "tests/unit/daemon/refclock_rig.h"
#include "tests/unit/phc/fake_phc.h"

namespace strata::daemon {
namespace {

using namespace std::chrono_literals;
using phc::FakePhc;
using refclock::Verdict;

constexpr double kBehind_s = 1.234e-6;

struct World {
	FakePhc phc;
	RefclockRig rig;

	World()
	{
		rig.now = phc.sys;
		rig.devices.phc = phc.syscalls();
		rig.clock = [this] { return std::max(rig.now, phc.sys); };
		rig.tai_offset = 37;
	}

	void run_to(RealTime t)
	{
		rig.run_to(t, [this](RealTime now) {
			if (now > phc.sys) {
				phc.sys = now;
			}
		});
	}
	void run_for(Duration d) { run_to(rig.now + d); }

	std::optional<size_t> selected() const { return rig.decision().selection.selected; }
};

struct MethodCase {
	const char *name;
	int refuse_precise;
	int refuse_extended;
	unsigned long used;
	const char *line;
};

TEST(PhcPipeline, EachReadingMethodIsSelectedWithRefidPhc0AndTheTaiOffsetTakenOff)
{
	const MethodCase cases[] = {
		{"precise", 0, 0, PTP_SYS_OFFSET_PRECISE, "reading /dev/ptp0 with PTP_SYS_OFFSET_PRECISE"},
		{"extended", EOPNOTSUPP, 0, PTP_SYS_OFFSET_EXTENDED,
		 "reading /dev/ptp0 with PTP_SYS_OFFSET_EXTENDED"},
		{"plain", EOPNOTSUPP, ENOTTY, PTP_SYS_OFFSET, "reading /dev/ptp0 with PTP_SYS_OFFSET"},
	};
	for (const auto &c : cases) {
		SCOPED_TRACE(c.name);
		World w;
		w.phc.refuse_precise = c.refuse_precise;
		w.phc.refuse_extended = c.refuse_extended;
		w.rig.load("refclock PHC /dev/ptp0 tai\n");
		w.run_for(100s);
		auto r = w.rig.by_refid("PHC0");
		ASSERT_EQ(w.selected(), r.index());
		EXPECT_EQ(refclock::ref_id_text(w.rig.served().ref_id), "PHC0");
		EXPECT_EQ(w.rig.served().stratum, 1);  // stratum 0 served as 1
		ASSERT_TRUE(w.rig.estimate().has_value());
		// The fake latches mid-window ± 200 ns; the readings average it out
		// (2 ns off, measured).
		EXPECT_NEAR(w.rig.estimate()->offset_s, kBehind_s, 20e-9);
		EXPECT_EQ(w.rig.log.count_with(c.line), 1u);
		EXPECT_GE(w.phc.calls(c.used), 99);
		// The fallback is tried once, not at every poll.
		if (c.refuse_precise != 0) {
			EXPECT_EQ(w.phc.calls(PTP_SYS_OFFSET_PRECISE), 1);
		}
		if (c.refuse_extended != 0) {
			EXPECT_EQ(w.phc.calls(PTP_SYS_OFFSET_EXTENDED), 1);
		}
	}
}

TEST(PhcPipeline, NocrosstsConfiguredRefidAndStratumAndOffset)
{
	World w;
	w.rig.tai_offset.reset();
	// phc.conf's way: the TAI offset as a fixed `offset`.
	w.rig.load("refclock PHC /dev/ptp0:nocrossts refid PTP stratum 1 offset -37 poll 2 dpoll -2\n");
	w.run_for(60s);
	auto r = w.rig.by_refid("PTP");
	ASSERT_EQ(w.selected(), r.index());
	EXPECT_EQ(w.rig.served().stratum, 2);
	ASSERT_TRUE(w.rig.estimate().has_value());
	EXPECT_NEAR(w.rig.estimate()->offset_s, kBehind_s, 20e-9);
	EXPECT_EQ(w.phc.calls(PTP_SYS_OFFSET_PRECISE), 0);
}

TEST(PhcPipeline, TaiWithoutTheTaiUtcOffsetIsNeverUsedAndSaysWhy)
{
	World w;
	w.rig.tai_offset.reset();
	w.rig.load("refclock PHC /dev/ptp0 tai\n");
	w.run_for(64s);
	auto r = w.rig.by_refid("PHC0");
	EXPECT_FALSE(w.selected().has_value());
	EXPECT_GE(r.count(Verdict::NoTaiOffset), 60u);
	EXPECT_EQ(r.count(Verdict::Accepted), 0u);
}

/// A PPS wired to the PHC's pin 1: its edges on the true UTC seconds,
/// which the system clock reads `behind` early. The PHC itself keeps true
/// TAI, so its readings (refid SYNC) agree with the pulses: they
/// synchronise the clock that completes the pulses, which `prefer` makes
/// the only ones used.
struct ExtppsWorld : World {
	double behind_s = kBehind_s;

	void seconds(int n)
	{
		for (int k = 0; k < n; k++) {
			RealTime edge = RealTime::from_parts(rig.now.seconds() + 1, 0) - from_seconds(behind_s);
			run_to(edge);
			phc.edge(rig.clock_now(), /*rising=*/true);
			run_to(edge + 300ms);
		}
	}
};

TEST(PhcPipeline, ExtppsPulsesCompletedFromTheSynchronisedClockAreSelected)
{
	ExtppsWorld w;
	w.rig.load("refclock PHC /dev/ptp0:extpps:pin=1 width 0.2 prefer\n"
		   "refclock PHC /dev/ptp0 tai refid SYNC\n");
	w.seconds(150);
	EXPECT_EQ(w.phc.pin(1).first, static_cast<unsigned>(PTP_PF_EXTTS));
	EXPECT_NE(w.phc.extts_flags(0) & PTP_ENABLE_FEATURE, 0u);
	auto r = w.rig.by_refid("PHC0");
	ASSERT_EQ(w.selected(), r.index());
	EXPECT_EQ(w.rig.served().stratum, 1);
	ASSERT_TRUE(w.rig.estimate().has_value());
	EXPECT_NEAR(w.rig.estimate()->offset_s, w.behind_s, 20e-9);
	// From the first clock update on: SYNC is selectable after three of its
	// polls (48 s), as chronyd's sources are.
	EXPECT_GE(r.count(Verdict::Accepted), 95u);
	EXPECT_LE(r.count(Verdict::ClockNotSynced), 55u);
}

TEST(PhcPipeline, ExtppsGarbageAndOtherChannelsAreDroppedWithALogLine)
{
	ExtppsWorld w;
	w.rig.load("refclock PHC /dev/ptp0:extpps:pin=1 refid PPSX prefer\n"
		   "refclock PHC /dev/ptp0 tai refid SYNC\n");
	for (int k = 0; k < 100; k++) {
		if (k % 10 == 3) {
			struct ptp_extts_event bad{};
			bad.t.sec = 1'700'000'000;
			bad.t.nsec = 2'000'000'000u;  // not a time
			w.phc.inject_event(bad);
			struct ptp_extts_event other{};
			other.t.sec = 1'700'000'000;
			other.index = 1;  // another program's channel
			w.phc.inject_event(other);
		}
		w.seconds(1);
	}
	auto r = w.rig.by_refid("PPSX");
	ASSERT_EQ(w.selected(), r.index());
	ASSERT_TRUE(w.rig.estimate().has_value());
	EXPECT_NEAR(w.rig.estimate()->offset_s, w.behind_s, 20e-9);
	bool bad_said = false;
	for (const auto &l : w.rig.log.lines) {
		bad_said |= l.level == LogLevel::Warning &&
			    l.text.find("bad sample ignored: read /dev/ptp0: event time") != std::string::npos &&
			    l.text.find("out of range") != std::string::npos;
	}
	EXPECT_TRUE(bad_said) << w.rig.log.last(LogLevel::Warning);
	EXPECT_GE(r.fd(), 0);
}

TEST(PhcPipeline, AMissingDeviceAtStartIsUsedWhenItAppears)
{
	World w;
	w.phc.unplug();
	w.rig.load("refclock PHC /dev/ptp0 tai\n");
	w.run_for(64s);
	auto r = w.rig.by_refid("PHC0");
	EXPECT_FALSE(w.selected().has_value());
	EXPECT_EQ(r.reach(), 0);
	EXPECT_EQ(w.rig.log.count_with("PHC /dev/ptp0: could not open the PHC"), 1u);
	w.phc.plug();
	w.run_for(100s);
	EXPECT_EQ(w.selected(), r.index());
	EXPECT_EQ(w.rig.log.count_with("PHC /dev/ptp0: opened /dev/ptp0"), 1u);
}

TEST(PhcPipeline, ADeviceThatGoesAwayIsUnreachableAndComesBack)
{
	World w;
	w.rig.load("refclock PHC /dev/ptp0 tai\n");
	w.run_for(64s);
	auto r = w.rig.by_refid("PHC0");
	ASSERT_EQ(w.selected(), r.index());
	w.phc.unplug();  // the NIC's driver unbound
	w.run_for(9 * 16s);
	EXPECT_EQ(r.reach(), 0);
	EXPECT_FALSE(w.selected().has_value());
	EXPECT_EQ(w.rig.log.count_with("PHC /dev/ptp0: the PHC has gone"), 1u);
	w.phc.plug();
	w.run_for(100s);
	EXPECT_EQ(w.selected(), r.index());
	EXPECT_EQ(w.rig.log.count_with("PHC /dev/ptp0: opened /dev/ptp0 again"), 1u);
	ASSERT_TRUE(w.rig.estimate().has_value());
	EXPECT_NEAR(w.rig.estimate()->offset_s, kBehind_s, 20e-9);
}

TEST(PhcPipeline, GarbageAndFailedReadingsAreLoggedAndSurvived)
{
	World w;
	w.phc.refuse_precise = EOPNOTSUPP;  // sandwiches: they can be garbage
	w.rig.load("refclock PHC /dev/ptp0 tai\n");
	w.run_for(40s);
	auto r = w.rig.by_refid("PHC0");
	// Nanoseconds ≥ 1e9 and windows that end before they begin.
	w.phc.garbage_readings = 30;
	w.phc.negative_readings = 30;
	w.run_for(20s);
	EXPECT_GE(w.rig.log.count_with("readings out of range"), 1u);
	// Every reading failing (EIO) for a while: unreachable, said once.
	w.phc.fail_readings = EIO;
	w.run_for(9 * 16s);
	EXPECT_EQ(r.reach(), 0);
	EXPECT_FALSE(w.selected().has_value());
	EXPECT_EQ(w.rig.log.count_with("PHC /dev/ptp0: could not read the PHC"), 1u);
	w.phc.fail_readings = 0;
	w.run_for(100s);
	EXPECT_EQ(w.rig.log.count_with("PHC /dev/ptp0: reading the PHC again"), 1u);
	EXPECT_EQ(w.selected(), r.index());
	ASSERT_TRUE(w.rig.estimate().has_value());
	EXPECT_NEAR(w.rig.estimate()->offset_s, kBehind_s, 20e-9);
}

TEST(PhcPipeline, AGarbagePreciseCrossTimestampIsDroppedWithALogLine)
{
	World w;
	w.rig.load("refclock PHC /dev/ptp0 tai\n");
	w.run_for(20s);
	w.phc.garbage_readings = 5;
	w.run_for(80s);
	auto r = w.rig.by_refid("PHC0");
	EXPECT_EQ(w.selected(), r.index());
	EXPECT_GE(r.stats().samples, 90u);
	bool said = false;
	for (const auto &l : w.rig.log.lines) {
		said |= l.level == LogLevel::Warning &&
			l.text.find("PHC /dev/ptp0: bad sample ignored: PTP_SYS_OFFSET_PRECISE /dev/ptp0: time stamp out "
				    "of range") != std::string::npos;
	}
	EXPECT_TRUE(said) << w.rig.log.last(LogLevel::Warning);
}

} // namespace
} // namespace strata::daemon
