// The PHC refclock driver against a fake PHC kernel (fake_phc.h): each
// reading method and the order they are tried in, `:nocrossts`, a slow PHC
// with spikes, `:extpps` on both edges, a device that is missing, goes away
// and comes back, interface names looked up through netlink or the ioctl,
// and garbage from the kernel. No real device is touched, except by the
// last test, which asks the kernel about the loopback interface.
#include "phc/phc_device_linux.h"

#include <gtest/gtest.h>

#include "tests/unit/phc/fake_phc.h"
#include "tests/fakes/recording_logger.h"

namespace strata::phc {
namespace {

using namespace std::chrono_literals;
using refclock::RawSample;


const MonoTime kT0 = MonoTime{} + 100s;

PhcOptions options(std::string device = "/dev/ptp0")
{
	return PhcOptions{.device = std::move(device)};
}

/// The error of a polled sample against the fake's truth, in ns.
int64_t error_ns(const FakePhc &fake, const RawSample &s)
{
	return ((s.reference - s.local) - fake.offset_at(s.local)).count();
}

// Reading methods

TEST(PhcDevice, OpensAndReadsTheCapabilities)
{
	FakePhc fake;
	fake.caps = {.n_ext_ts = 3, .n_pins = 0, .cross_timestamping = false};
	auto dev = PhcDevice::open("/dev/ptp0", false, fake.syscalls());
	ASSERT_TRUE(dev.has_value()) << dev.error().message();
	EXPECT_EQ(dev->caps().n_ext_ts, 3);
	EXPECT_EQ(dev->caps().n_pins, 0);
	EXPECT_FALSE(dev->caps().cross_timestamping);
	EXPECT_EQ(fake.last_open_flags & O_ACCMODE, O_RDONLY);
	EXPECT_EQ(fake.open_files(), 1);
	{
		PhcDevice moved = std::move(*dev);
		EXPECT_EQ(fake.open_files(), 1);
	}
	EXPECT_EQ(fake.open_files(), 0);

	auto missing = PhcDevice::open("/dev/ptp9", false, fake.syscalls());
	ASSERT_FALSE(missing.has_value());
	EXPECT_EQ(missing.error().message(), "open /dev/ptp9: No such file or directory");

	// Not a PHC (a tty at the path): refused, and closed.
	fake.refuse_getcaps = ENOTTY;
	auto tty = PhcDevice::open("/dev/ptp0", false, fake.syscalls());
	ASSERT_FALSE(tty.has_value());
	EXPECT_EQ(tty.error().message(),
		  "PTP_CLOCK_GETCAPS /dev/ptp0: Inappropriate ioctl for device");
	EXPECT_EQ(fake.open_files(), 0);
}

TEST(PhcRefclock, CrossTimestampIsUsedFirst)
{
	FakePhc fake;
	RecordingLogger log;
	PhcRefclock phc(options(), log, fake.syscalls());
	EXPECT_TRUE(phc.is_open());
	EXPECT_EQ(phc.name(), "PHC /dev/ptp0");
	EXPECT_EQ(phc.fd(), -1);  // nothing to watch without extpps
	for (int i = 0; i < 5; i++) {
		auto s = phc.poll(kT0 + i * 1s);
		ASSERT_TRUE(s.has_value());
		EXPECT_FALSE(s->pulse);
		EXPECT_EQ(s->leap, Leap::None);
		EXPECT_EQ(error_ns(fake, *s), 0);
		EXPECT_NEAR(s->offset_s(), 37.0, 1e-5);
		fake.advance(1s);
	}
	EXPECT_EQ(phc.method(), PhcReadMethod::Precise);
	EXPECT_EQ(fake.calls(PTP_SYS_OFFSET_PRECISE), 5);
	EXPECT_EQ(fake.calls(PTP_SYS_OFFSET_EXTENDED), 0);
	EXPECT_EQ(phc.stats().samples, 5u);
	EXPECT_EQ(phc.stats().readings, 5u);
	ASSERT_EQ(log.count(LogLevel::Info), 1u);
	EXPECT_EQ(log.last(LogLevel::Info), "PHC /dev/ptp0: reading /dev/ptp0 with PTP_SYS_OFFSET_PRECISE");
	EXPECT_EQ(log.count(LogLevel::Warning), 0u);
}

TEST(PhcRefclock, FallsBackToExtendedThenPlainAndRemembers)
{
	// A driver without cross-timestamps: EOPNOTSUPP.
	FakePhc fake;
	fake.refuse_precise = EOPNOTSUPP;
	RecordingLogger log;
	PhcRefclock phc(options(), log, fake.syscalls());
	for (int i = 0; i < 4; i++) {
		auto s = phc.poll(kT0 + i * 1s);
		ASSERT_TRUE(s.has_value());
		EXPECT_LT(std::abs(error_ns(fake, *s)), 300);
		fake.advance(1s);
	}
	EXPECT_EQ(phc.method(), PhcReadMethod::Extended);
	EXPECT_EQ(fake.calls(PTP_SYS_OFFSET_PRECISE), 1);  // tried once, not at every poll
	EXPECT_EQ(fake.calls(PTP_SYS_OFFSET_EXTENDED), 4);
	EXPECT_EQ(log.last(LogLevel::Info), "PHC /dev/ptp0: reading /dev/ptp0 with PTP_SYS_OFFSET_EXTENDED");
	EXPECT_EQ(log.count(LogLevel::Info), 1u);

	// A kernel before 5.0 (ENOTTY) and one whose driver lacks gettimex64
	// (EOPNOTSUPP), after a precise refused with EINVAL.
	for (int refusal : {ENOTTY, EOPNOTSUPP}) {
		FakePhc old;
		old.refuse_precise = EINVAL;
		old.refuse_extended = refusal;
		RecordingLogger log2;
		PhcRefclock plain(options(), log2, old.syscalls());
		for (int i = 0; i < 3; i++) {
			auto s = plain.poll(kT0 + i * 1s);
			ASSERT_TRUE(s.has_value());
			// Wider windows (the kernel brackets the whole driver call),
			// still centred.
			EXPECT_LT(std::abs(error_ns(old, *s)), 300);
			old.advance(1s);
		}
		EXPECT_EQ(plain.method(), PhcReadMethod::Plain);
		EXPECT_EQ(old.calls(PTP_SYS_OFFSET_PRECISE), 1);
		EXPECT_EQ(old.calls(PTP_SYS_OFFSET_EXTENDED), 1);
		EXPECT_EQ(old.calls(PTP_SYS_OFFSET), 3);
		EXPECT_EQ(log2.last(LogLevel::Info), "PHC /dev/ptp0: reading /dev/ptp0 with PTP_SYS_OFFSET");
		EXPECT_EQ(plain.last_reading()->used, 10u);
	}
}

TEST(PhcRefclock, NoCrossTimestampsWithNocrossts)
{
	FakePhc fake;
	RecordingLogger log;
	PhcOptions o = options();
	o.nocrossts = true;
	PhcRefclock phc(o, log, fake.syscalls());
	ASSERT_TRUE(phc.poll(kT0).has_value());
	ASSERT_TRUE(phc.poll(kT0 + 1s).has_value());
	EXPECT_EQ(phc.method(), PhcReadMethod::Extended);
	EXPECT_EQ(fake.calls(PTP_SYS_OFFSET_PRECISE), 0);
	EXPECT_EQ(fake.calls(PTP_SYS_OFFSET_EXTENDED), 2);
}

TEST(PhcRefclock, EveryMethodRefusedIsAReadErrorLoggedOnce)
{
	FakePhc fake;
	fake.refuse_precise = EOPNOTSUPP;
	fake.refuse_extended = EOPNOTSUPP;
	fake.refuse_plain = EOPNOTSUPP;
	RecordingLogger log;
	PhcRefclock phc(options(), log, fake.syscalls());
	for (int i = 0; i < 3; i++) {
		EXPECT_FALSE(phc.poll(kT0 + i * 1s).has_value());
	}
	EXPECT_FALSE(phc.method().has_value());
	EXPECT_EQ(phc.stats().read_errors, 3u);
	ASSERT_EQ(log.count(LogLevel::Warning), 1u);
	EXPECT_EQ(log.last(LogLevel::Warning),
		  "PHC /dev/ptp0: could not read the PHC: reading /dev/ptp0 (PTP_SYS_OFFSET_PRECISE, "
		  "PTP_SYS_OFFSET_EXTENDED, PTP_SYS_OFFSET): not supported");
	EXPECT_TRUE(phc.is_open());
}

TEST(PhcRefclock, ReadErrorsAreLoggedOnceUntilAReadingWorks)
{
	FakePhc fake;
	RecordingLogger log;
	PhcRefclock phc(options(), log, fake.syscalls());
	ASSERT_TRUE(phc.poll(kT0).has_value());
	fake.fail_readings = EIO;
	for (int i = 1; i <= 4; i++) {
		EXPECT_FALSE(phc.poll(kT0 + i * 1s).has_value());
	}
	EXPECT_EQ(phc.stats().read_errors, 4u);
	EXPECT_EQ(phc.method(), PhcReadMethod::Precise);  // an EIO is not a refusal
	ASSERT_EQ(log.count(LogLevel::Warning), 1u);
	EXPECT_EQ(log.last(LogLevel::Warning),
		  "PHC /dev/ptp0: could not read the PHC: PTP_SYS_OFFSET_PRECISE /dev/ptp0: "
		  "Input/output error");
	fake.fail_readings = 0;
	EXPECT_TRUE(phc.poll(kT0 + 5s).has_value());
	EXPECT_EQ(log.last(LogLevel::Info), "PHC /dev/ptp0: reading the PHC again");
	EXPECT_EQ(log.count(LogLevel::Warning), 1u);
}

TEST(PhcRefclock, SlowPhcWithSpikesGivesSubMicrosecondSamples)
{
	// A Raspberry Pi CM4/CM5 PHY clock read over MDIO: ~30 µs a reading,
	// one in ten stretched by a spike of up to 500 µs with the latch
	// anywhere inside it; the PHC 37 s ahead and 20 ppm fast. 2000 polls.
	FakePhc fake(42);
	fake.refuse_precise = EOPNOTSUPP;
	fake.latency = 30us;
	fake.latency_jitter = 2us;
	fake.latch_jitter = 300ns;
	fake.spike_probability = 0.1;
	fake.spike_min = 1us;
	fake.spike_max = 500us;
	fake.freq_ppm = 20.0;
	RecordingLogger log;
	PhcRefclock phc(options(), log, fake.syscalls());
	int64_t worst = 0;
	double sum_sq = 0;
	constexpr int kPolls = 2000;
	for (int i = 0; i < kPolls; i++) {
		auto s = phc.poll(kT0 + i * 1s);
		ASSERT_TRUE(s.has_value());
		int64_t e = error_ns(fake, *s);
		worst = std::max(worst, std::abs(e));
		sum_sq += static_cast<double>(e) * static_cast<double>(e);
		fake.advance(1s);
	}
	EXPECT_LT(worst, 1000) << "worst error " << worst << " ns";
	EXPECT_LT(std::sqrt(sum_sq / kPolls), 200.0);
	EXPECT_EQ(phc.stats().samples, static_cast<uint64_t>(kPolls));
	EXPECT_EQ(phc.stats().bad, 0u);
}

// External time stamps

/// A PPS signal whose on-time edge is at whole seconds of the system
/// clock plus `phase`; the other edge follows 200 ms later.
void pps(FakePhc &fake, RealTime second, bool on_time_rising, Duration phase = 0ns, unsigned channel = 0)
{
	fake.edge(second + phase, on_time_rising, channel);
	fake.edge(second + phase + 200ms, !on_time_rising, channel);
}

TEST(PhcRefclock, ExtppsRisingEdge)
{
	FakePhc fake;
	fake.refuse_precise = EOPNOTSUPP;
	fake.freq_ppm = -35.0;  // a free-running NIC clock
	fake.spike_probability = 0.05;
	RecordingLogger log;
	PhcOptions o = options();
	o.extpps = true;
	o.pin = 2;
	o.channel = 1;
	PhcRefclock phc(o, log, fake.syscalls());
	ASSERT_TRUE(phc.is_open());
	EXPECT_EQ(fake.last_open_flags & O_ACCMODE, O_RDWR);
	EXPECT_EQ(fake.pin(2), (std::pair<unsigned, unsigned>{PTP_PF_EXTTS, 1}));
	EXPECT_EQ(fake.extts_flags(1), PTP_ENABLE_FEATURE | PTP_RISING_EDGE);
	EXPECT_GE(phc.fd(), 0);

	// Nothing queued: receive() does not read (the real read would block).
	EXPECT_FALSE(phc.receive(kT0).has_value());

	// The system clock is 1.5 µs ahead of the pulses.
	constexpr Duration kPhase = -1500ns;
	int64_t worst = 0;
	for (int i = 0; i < 200; i++) {
		MonoTime now = kT0 + i * 1s;
		fake.sys = RealTime::from_parts(1'700'000'100 + i, 600'000'000);
		EXPECT_FALSE(phc.poll(now).has_value());  // extpps: readings only
		RealTime second = RealTime::from_parts(1'700'000'101 + i, 0);
		fake.sys = second + 150us;  // the loop wakes up soon after the edge
		pps(fake, second, true, kPhase, 1);
		auto s = phc.receive(now + 400ms);
		ASSERT_TRUE(s.has_value()) << i;
		EXPECT_TRUE(s->pulse);
		EXPECT_EQ(s->reference.subsec_ns(), 0);
		EXPECT_EQ(s->reference, RealTime{nearest_second(fake.phc_at(second + kPhase)).since_epoch});
		worst = std::max(worst, std::abs((s->local - (second + kPhase)).count()));
		// The offset of the system clock from the pulse, modulo 1 s.
		double frac = s->offset_s() - std::round(s->offset_s());
		EXPECT_NEAR(frac, 1.5e-6, 1e-6);
		EXPECT_EQ(fake.queued_events(), 0u);  // the falling edge was never latched
	}
	EXPECT_LT(worst, 1000) << "worst " << worst << " ns";
	EXPECT_EQ(phc.stats().pulses, 200u);
	EXPECT_EQ(phc.stats().samples, 0u);

	// Closing turns the time stamps and the pin off.
	phc = PhcRefclock(options("/dev/ptp0"), log, fake.syscalls());
	EXPECT_EQ(fake.extts_flags(1), 0u);
	EXPECT_EQ(fake.pin(2).first, static_cast<unsigned>(PTP_PF_NONE));
	EXPECT_EQ(fake.open_files(), 1);
}

TEST(PhcRefclock, ExtppsFallingEdgeWithClear)
{
	// An inverted PPS: its on-time edge falls. No programmable pins: the
	// channel has its own input and PIN_SETFUNC is never called.
	FakePhc fake;
	fake.caps = {.n_ext_ts = 1, .n_pins = 0, .cross_timestamping = true};
	RecordingLogger log;
	PhcOptions o = options();
	o.extpps = true;
	o.clear = true;
	o.pin = 7;  // meaningless without pins
	PhcRefclock phc(o, log, fake.syscalls());
	ASSERT_TRUE(phc.is_open()) << log.last(LogLevel::Warning);
	EXPECT_EQ(fake.calls(PTP_PIN_SETFUNC), 0);
	EXPECT_EQ(fake.extts_flags(0), PTP_ENABLE_FEATURE | PTP_FALLING_EDGE);
	for (int i = 0; i < 20; i++) {
		fake.sys = RealTime::from_parts(1'700'000'100 + i, 500'000'000);
		phc.poll(kT0 + i * 1s);
		RealTime second = RealTime::from_parts(1'700'000'101 + i, 0);
		fake.sys = second + 300ms;
		pps(fake, second, false, 2us);
		auto s = phc.receive(kT0 + i * 1s + 500ms);
		ASSERT_TRUE(s.has_value());
		EXPECT_LT(std::abs((s->local - (second + 2us)).count()), 50);  // cross-timestamps
		EXPECT_FALSE(phc.receive(kT0 + i * 1s + 500ms).has_value());  // the rising edge: not latched
	}
	EXPECT_EQ(phc.stats().pulses, 20u);
}

TEST(PhcRefclock, ExtppsIgnoresOtherChannelsRepeatsAndGarbage)
{
	FakePhc fake;
	RecordingLogger log;
	PhcOptions o = options();
	o.extpps = true;
	PhcRefclock phc(o, log, fake.syscalls());
	phc.poll(kT0);
	RealTime second = fake.sys + 500ms;
	PhcInstant t = fake.phc_at(second);
	struct ptp_extts_event e{};
	e.t.sec = t.seconds();
	e.t.nsec = static_cast<uint32_t>(t.subsec_ns());
	e.index = 1;  // another program's channel on the shared queue
	fake.inject_event(e);
	e.index = 0;
	fake.inject_event(e);
	fake.inject_event(e);  // the same event again
	e.t.nsec = 1'000'000'000;
	fake.inject_event(e);
	fake.advance(500ms);

	EXPECT_FALSE(phc.receive(kT0 + 1s).has_value());
	auto s = phc.receive(kT0 + 1s);
	ASSERT_TRUE(s.has_value());
	EXPECT_LT(std::abs((s->local - second).count()), 50);
	EXPECT_FALSE(phc.receive(kT0 + 1s).has_value());
	EXPECT_FALSE(phc.receive(kT0 + 1s).has_value());
	EXPECT_FALSE(phc.receive(kT0 + 1s).has_value());  // empty: no read
	EXPECT_EQ(phc.stats().pulses, 1u);
	EXPECT_EQ(phc.stats().ignored_events, 2u);
	EXPECT_EQ(phc.stats().bad, 1u);
	ASSERT_EQ(log.count(LogLevel::Warning), 1u);
	EXPECT_EQ(log.last(LogLevel::Warning),
		  "PHC /dev/ptp0: bad sample ignored: read /dev/ptp0: event time " +
			  std::to_string(t.seconds()) + ".1000000000 out of range");
}

TEST(PhcRefclock, ExtppsEventFarFromAnyReadingIsNotConverted)
{
	FakePhc fake;
	RecordingLogger log;
	PhcOptions o = options();
	o.extpps = true;
	PhcRefclock phc(o, log, fake.syscalls());
	fake.edge(fake.sys - 20s, true);  // queued long ago
	EXPECT_FALSE(phc.receive(kT0).has_value());
	EXPECT_EQ(phc.stats().unconverted, 1u);
	EXPECT_EQ(phc.stats().pulses, 0u);
}

TEST(PhcRefclock, ExtppsSetupFailureIsRetried)
{
	FakePhc fake;
	fake.caps = {.n_ext_ts = 1, .n_pins = 1, .cross_timestamping = true};
	RecordingLogger log;
	PhcOptions o = options();
	o.extpps = true;
	o.channel = 2;
	PhcRefclock phc(o, log, fake.syscalls());
	EXPECT_FALSE(phc.is_open());
	EXPECT_EQ(phc.fd(), -1);
	EXPECT_EQ(fake.open_files(), 0);
	EXPECT_EQ(log.last(LogLevel::Warning),
		  "PHC /dev/ptp0: could not open the PHC: /dev/ptp0 external time-stamp channel 2 "
		  "(it has 1): not found; trying again at every poll");

	o.channel = 0;
	o.pin = 1;
	PhcRefclock nopin(o, log, fake.syscalls());
	EXPECT_FALSE(nopin.is_open());
	EXPECT_EQ(log.last(LogLevel::Warning),
		  "PHC /dev/ptp0: could not open the PHC: /dev/ptp0 pin 1 (it has 1): not found; "
		  "trying again at every poll");
}

// The device coming and going

TEST(PhcRefclock, MissingDeviceIsLookedForAtEveryPoll)
{
	FakePhc fake;
	fake.unplug();
	RecordingLogger log;
	PhcRefclock phc(options(), log, fake.syscalls());
	EXPECT_FALSE(phc.is_open());
	for (int i = 0; i < 4; i++) {
		EXPECT_FALSE(phc.poll(kT0 + i * 1s).has_value());
	}
	EXPECT_EQ(fake.open_calls, 5);
	EXPECT_EQ(phc.stats().open_failures, 5u);
	ASSERT_EQ(log.count(LogLevel::Warning), 1u);
	EXPECT_EQ(log.last(LogLevel::Warning),
		  "PHC /dev/ptp0: could not open the PHC: open /dev/ptp0: No such file or directory; "
		  "trying again at every poll");

	fake.plug();
	auto s = phc.poll(kT0 + 5s);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(log.count(LogLevel::Warning), 1u);
	EXPECT_EQ(log.lines[log.lines.size() - 2].text, "PHC /dev/ptp0: opened /dev/ptp0");
	EXPECT_EQ(log.last(LogLevel::Info), "PHC /dev/ptp0: reading /dev/ptp0 with PTP_SYS_OFFSET_PRECISE");
}

TEST(PhcRefclock, DeviceThatDisappearsIsOpenedAgain)
{
	FakePhc fake;
	RecordingLogger log;
	PhcOptions o = options();
	o.extpps = true;
	o.pin = 1;
	PhcRefclock phc(o, log, fake.syscalls());
	int first_fd = phc.fd();
	phc.poll(kT0);

	fake.unplug();
	EXPECT_FALSE(phc.poll(kT0 + 1s).has_value());
	EXPECT_FALSE(phc.is_open());
	EXPECT_EQ(phc.fd(), -1);
	EXPECT_EQ(fake.open_files(), 0);
	EXPECT_EQ(phc.stats().disappeared, 1u);
	ASSERT_EQ(log.count(LogLevel::Warning), 1u);
	EXPECT_EQ(log.last(LogLevel::Warning),
		  "PHC /dev/ptp0: the PHC has gone (PTP_SYS_OFFSET_PRECISE /dev/ptp0: No such device); "
		  "trying to open it again at every poll");
	for (int i = 2; i < 6; i++) {
		EXPECT_FALSE(phc.poll(kT0 + i * 1s).has_value());
	}
	EXPECT_EQ(log.count(LogLevel::Warning), 1u);

	// It comes back (a new device: pins and channels are set up again).
	fake.plug();
	EXPECT_FALSE(phc.poll(kT0 + 6s).has_value());
	EXPECT_TRUE(phc.is_open());
	EXPECT_NE(phc.fd(), first_fd);
	EXPECT_EQ(fake.extts_flags(0), PTP_ENABLE_FEATURE | PTP_RISING_EDGE);
	EXPECT_EQ(fake.pin(1).first, static_cast<unsigned>(PTP_PF_EXTTS));
	EXPECT_EQ(log.count(LogLevel::Warning), 1u);
	bool said_again = false;
	for (const auto &line : log.lines) {
		said_again |= line.text == "PHC /dev/ptp0: opened /dev/ptp0 again";
	}
	EXPECT_TRUE(said_again);
	fake.advance(300ms);
	fake.edge(fake.sys - 10us, true);
	EXPECT_TRUE(phc.receive(kT0 + 7s).has_value());

	// Gone while the loop waits on the fd: poll reports POLLERR.
	fake.unplug();
	EXPECT_FALSE(phc.receive(kT0 + 8s).has_value());
	EXPECT_FALSE(phc.is_open());
	EXPECT_EQ(phc.stats().disappeared, 2u);
	EXPECT_EQ(log.count(LogLevel::Warning), 2u);
}

// Interfaces

TEST(PhcRefclock, InterfaceFoundThroughNetlink)
{
	FakePhc fake;
	fake.path = "/dev/ptp3";
	fake.interfaces["eth1"] = 3;
	RecordingLogger log;
	PhcRefclock phc(options("eth1"), log, fake.syscalls());
	EXPECT_TRUE(phc.is_open());
	EXPECT_EQ(phc.path(), "/dev/ptp3");
	EXPECT_EQ(phc.name(), "PHC eth1");
	EXPECT_EQ(fake.netlink_calls, 1);
	EXPECT_EQ(fake.ethtool_ioctl_calls, 0);
	EXPECT_TRUE(phc.poll(kT0).has_value());
}

TEST(PhcRefclock, InterfaceFoundThroughTheIoctlWithoutNetlink)
{
	FakePhc fake;
	fake.interfaces["eth0"] = 0;
	fake.netlink_has_tsinfo = false;
	RecordingLogger log;
	PhcRefclock phc(options("eth0"), log, fake.syscalls());
	EXPECT_TRUE(phc.is_open());
	EXPECT_EQ(phc.path(), "/dev/ptp0");
	EXPECT_EQ(fake.netlink_calls, 1);
	EXPECT_EQ(fake.ethtool_ioctl_calls, 1);
	EXPECT_EQ(log.count(LogLevel::Warning), 0u);
}

TEST(PhcRefclock, InterfaceWithoutPhc)
{
	FakePhc fake;
	fake.interfaces["wlan0"] = -1;
	RecordingLogger log;
	PhcRefclock phc(options("wlan0"), log, fake.syscalls());
	EXPECT_FALSE(phc.is_open());
	EXPECT_EQ(fake.open_calls, 0);
	EXPECT_EQ(log.last(LogLevel::Warning),
		  "PHC wlan0: could not open the PHC: PHC of interface wlan0: not found; trying again "
		  "at every poll");
	// A driver loaded later gives it one.
	fake.interfaces["wlan0"] = 0;
	EXPECT_TRUE(phc.poll(kT0).has_value());
}

TEST(PhcRefclock, NoSuchInterface)
{
	FakePhc fake;
	RecordingLogger log;
	PhcRefclock phc(options("eth9"), log, fake.syscalls());
	EXPECT_FALSE(phc.is_open());
	EXPECT_EQ(fake.ethtool_ioctl_calls, 0);  // netlink's ENODEV is the answer
	EXPECT_EQ(log.last(LogLevel::Warning),
		  "PHC eth9: could not open the PHC: ethtool netlink TSINFO_GET eth9: No such device; "
		  "trying again at every poll");

	fake.netlink_has_tsinfo = false;
	PhcRefclock old(options("eth9"), log, fake.syscalls());
	EXPECT_EQ(fake.ethtool_ioctl_calls, 1);
	EXPECT_EQ(log.last(LogLevel::Warning),
		  "PHC eth9: could not open the PHC: SIOCETHTOOL ETHTOOL_GET_TS_INFO eth9: No such "
		  "device; trying again at every poll");
}

// Garbage

TEST(PhcRefclock, GarbageReadingsAreCountedAndSkipped)
{
	FakePhc fake;
	fake.refuse_precise = EOPNOTSUPP;
	fake.latency_jitter = 0ns;  // equal windows: every good reading is used
	RecordingLogger log;
	PhcRefclock phc(options(), log, fake.syscalls());

	// Two readings of ten with nanoseconds out of range: the rest make the
	// sample.
	fake.garbage_readings = 2;
	auto s = phc.poll(kT0);
	ASSERT_TRUE(s.has_value());
	EXPECT_LT(std::abs(error_ns(fake, *s)), 300);
	EXPECT_EQ(phc.stats().bad, 2u);
	EXPECT_EQ(phc.last_reading()->used, 8u);
	ASSERT_EQ(log.count(LogLevel::Warning), 1u);
	EXPECT_EQ(log.last(LogLevel::Warning),
		  "PHC /dev/ptp0: bad sample ignored: PTP_SYS_OFFSET_EXTENDED: 2 of 10 readings out "
		  "of range, 0 with a negative window");

	// One with a negative window: counted, left out, and not logged again
	// within the minute.
	fake.advance(1s);
	fake.negative_readings = 1;
	s = phc.poll(kT0 + 1s);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(phc.stats().bad, 3u);
	EXPECT_EQ(phc.last_reading()->used, 9u);
	EXPECT_EQ(log.count(LogLevel::Warning), 1u);

	// All garbage: no sample; logged at most once a minute.
	fake.advance(1s);
	fake.garbage_readings = 10;
	EXPECT_FALSE(phc.poll(kT0 + 2s).has_value());
	EXPECT_EQ(phc.stats().bad, 13u);
	EXPECT_EQ(log.count(LogLevel::Warning), 1u);
	fake.advance(1s);
	EXPECT_TRUE(phc.poll(kT0 + 3s).has_value());
	fake.garbage_readings = 10;
	EXPECT_FALSE(phc.poll(kT0 + 70s).has_value());
	ASSERT_EQ(log.count(LogLevel::Warning), 2u);
	EXPECT_EQ(log.last(LogLevel::Warning),
		  "PHC /dev/ptp0: bad sample ignored: PTP_SYS_OFFSET_EXTENDED: 10 of 10 readings out "
		  "of range, 0 with a negative window (2 more in the last 70 s)");
	EXPECT_EQ(phc.stats().read_errors, 0u);
	EXPECT_EQ(phc.stats().samples, 3u);
	EXPECT_TRUE(phc.is_open());
}

TEST(PhcRefclock, GarbageCrossTimestampIsBad)
{
	FakePhc fake;
	RecordingLogger log;
	PhcRefclock phc(options(), log, fake.syscalls());
	fake.garbage_readings = 1;
	EXPECT_FALSE(phc.poll(kT0).has_value());
	EXPECT_EQ(phc.stats().bad, 1u);
	EXPECT_EQ(phc.method(), PhcReadMethod::Precise);  // it works; this one was garbage
	EXPECT_TRUE(phc.poll(kT0 + 1s).has_value());
	EXPECT_NE(log.last(LogLevel::Warning).find("time stamp out of range"), std::string::npos);
}

// The real lookups, on the loopback interface every network namespace has:
// it has no PHC. Only asks the kernel; changes nothing.
TEST(PhcIndexLookup, LoopbackHasNoPhc)
{
	auto by_ioctl = phc_index_by_ioctl("lo");
	ASSERT_TRUE(by_ioctl.has_value()) << by_ioctl.error().message();
	EXPECT_EQ(*by_ioctl, -1);
	auto missing = phc_index_by_ioctl("strata-none0");
	ASSERT_FALSE(missing.has_value());
	EXPECT_EQ(missing.error().code, std::errc::no_such_device);
	EXPECT_EQ(phc_index_by_ioctl("a-name-longer-than-ifnamsiz").error().code, std::errc::no_such_device);

	// Kernels without ethtool netlink say so; the driver then asks the ioctl.
	auto by_netlink = phc_index_by_netlink("lo");
	if (!by_netlink) {
		EXPECT_NE(by_netlink.error().code, std::errc::no_such_device) << by_netlink.error().message();
		GTEST_SKIP() << by_netlink.error().message();
	}
	EXPECT_EQ(*by_netlink, -1);
	auto nl_missing = phc_index_by_netlink("strata-none0");
	ASSERT_FALSE(nl_missing.has_value());
	EXPECT_EQ(nl_missing.error().code, std::errc::no_such_device) << nl_missing.error().message();
}

} // namespace
} // namespace strata::phc
