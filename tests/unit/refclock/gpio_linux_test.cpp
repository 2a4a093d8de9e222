// The GPIO refclock against a fake libgpiod (fake_gpio.h): edges stamped on
// CLOCK_REALTIME or CLOCK_MONOTONIC (converted exactly), libgpiod 1.6 on old
// and new kernels, the three edge choices, lines by offset and by name, a
// missing chip or line, a busy line, a chip that goes away, bad stamps, a
// clock step during a read, the per-call bound and dropped events. No real
// GPIO chip is touched: the kernel's v1 events are read from a pipe.
#include "refclock/gpio_linux.h"

#include <fcntl.h>
#include <linux/gpio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

#include "refclock/pulse.h"
#include "tests/unit/refclock/fake_gpio.h"
#include "tests/fakes/recording_logger.h"

namespace strata::refclock {
namespace {

using namespace std::chrono_literals;

const std::string kChip = "/dev/gpiochip0";
constexpr unsigned kLine = 18;
const MonoTime kT0 = MonoTime{} + 100s;

GpioOptions options(const char *parameter)
{
	auto o = parse_gpio_parameter(parameter);
	EXPECT_TRUE(o.has_value()) << parameter;
	return *o;
}

std::vector<std::string> pi_lines()
{
	std::vector<std::string> names;
	for (int i = 0; i < 32; i++) {
		names.push_back("GPIO" + std::to_string(i));
	}
	return names;
}

struct Fixture {
	FakeGpio fake;
	RecordingLogger log;

	Fixture() { fake.add_chip(kChip, pi_lines()); }

	GpioRefclock make(const char *parameter = "gpiochip0:18")
	{
		return GpioRefclock(options(parameter), log, fake.lib(), fake.clocks());
	}
};

TEST(GpioRefclock, RealtimeStampsAreDeliveredAsTheyAre)
{
	Fixture f;
	GpioRefclock gpio = f.make();
	EXPECT_FALSE(gpio.is_open());
	EXPECT_EQ(gpio.fd(), -1);
	ASSERT_TRUE(gpio.retry(kT0));
	EXPECT_TRUE(gpio.is_open());
	EXPECT_GE(gpio.fd(), 0);
	EXPECT_EQ(gpio.clock(), GpioClock::Realtime);
	FakeGpio::Request *r = f.fake.request(kChip, kLine);
	ASSERT_NE(r, nullptr);
	EXPECT_EQ(r->edge, GpioEdge::Rising);
	EXPECT_EQ(r->consumer, "stratad");
	EXPECT_EQ(f.log.last(LogLevel::Info),
		  "GPIO gpiochip0:18: requested rising edges of line 18 of /dev/gpiochip0, stamped "
		  "on CLOCK_REALTIME");
	EXPECT_TRUE(gpio.retry(kT0 + 1s));  // open: nothing to do
	EXPECT_EQ(f.fake.requests_made, 1);

	RealTime edge = f.fake.edge(kChip, kLine);
	f.fake.advance(150us);  // the loop wakes up
	auto samples = gpio.receive(kT0 + 1s);
	ASSERT_EQ(samples.size(), 1u);
	EXPECT_TRUE(samples[0].pulse);
	EXPECT_EQ(samples[0].local, edge);
	EXPECT_EQ(samples[0].reference, pulse_sample(edge).reference);
	EXPECT_EQ(gpio.stats().pulses, 1u);
	EXPECT_EQ(gpio.stats().conversion_error, 0ns);

	// Nothing waiting (a spurious wake-up): nothing, and still open.
	EXPECT_TRUE(gpio.receive(kT0 + 1s).empty());
	EXPECT_TRUE(gpio.is_open());
	EXPECT_EQ(f.log.count(LogLevel::Warning), 0u);
}

TEST(GpioRefclock, MonotonicStampsAreConvertedExactly)
{
	Fixture f;
	f.fake.realtime_stamps = false;  // Linux 5.10
	GpioRefclock gpio = f.make();
	ASSERT_TRUE(gpio.retry(kT0));
	EXPECT_EQ(gpio.clock(), GpioClock::Monotonic);

	// A pulse 1.3 µs after the second, and the next one 1 s later.
	f.fake.mono = MonoTime{} + 86'400s + Duration(1'000'000'000 - 1'300);
	RealTime first = f.fake.edge(kChip, kLine);
	f.fake.advance(1s);
	RealTime second = f.fake.edge(kChip, kLine);
	f.fake.advance(20ms);
	auto samples = gpio.receive(kT0);
	ASSERT_EQ(samples.size(), 2u);
	EXPECT_EQ(samples[0].local, first);  // oldest first
	EXPECT_EQ(samples[1].local, second);
	EXPECT_DOUBLE_EQ(samples[1].offset_s(), samples[0].offset_s());
	// The brackets' error bound: one clock read (25 ns in the fake).
	EXPECT_EQ(gpio.stats().conversion_error, f.fake.read_cost);
	EXPECT_EQ(gpio.stats().pulses, 2u);
	EXPECT_EQ(gpio.stats().missed, 0u);
}

TEST(GpioRefclock, Libgpiod1OnACurrentKernel)
{
	Fixture f;
	f.fake.v1 = true;
	f.fake.realtime_stamps = false;
	GpioRefclock gpio = f.make("gpiochip0:GPIO18:both");
	ASSERT_TRUE(gpio.retry(kT0));
	EXPECT_EQ(gpio.clock(), GpioClock::Monotonic);
	EXPECT_EQ(f.fake.request(kChip, kLine)->edge, GpioEdge::Both);

	RealTime rise = f.fake.edge(kChip, kLine, true);
	f.fake.advance(1s);
	RealTime fall = f.fake.edge(kChip, kLine, false);
	f.fake.advance(1ms);
	auto samples = gpio.receive(kT0);
	ASSERT_EQ(samples.size(), 2u);
	EXPECT_EQ(samples[0].local, rise);
	EXPECT_EQ(samples[1].local, fall);
	EXPECT_EQ(gpio.stats().missed, 0u);  // no sequence numbers to tell
}

TEST(GpioRefclock, Libgpiod1OnAKernelThatStampsRealtime)
{
	Fixture f;
	f.fake.v1 = true;
	f.fake.realtime_stamps = false;
	f.fake.kernel_stamps_realtime = true;  // Linux before 5.7
	GpioRefclock gpio = f.make();
	ASSERT_TRUE(gpio.retry(kT0));
	EXPECT_EQ(gpio.clock(), GpioClock::Monotonic);
	for (int i = 0; i < 3; i++) {
		RealTime edge = f.fake.edge(kChip, kLine);
		f.fake.advance(1s);
		auto samples = gpio.receive(kT0 + i * 1s);
		ASSERT_EQ(samples.size(), 1u);
		EXPECT_EQ(samples[0].local, edge);
	}
	EXPECT_EQ(f.log.count(LogLevel::Info), 2u);  // requested, and the clock said once
	EXPECT_EQ(f.log.last(LogLevel::Info),
		  "GPIO gpiochip0:18: the kernel stamps edges on CLOCK_REALTIME, not "
		  "CLOCK_MONOTONIC (Linux before 5.7)");
	EXPECT_EQ(gpio.stats().bad, 0u);
}

TEST(GpioRefclock, FallingEdgeOnly)
{
	Fixture f;
	GpioRefclock gpio = f.make("/dev/gpiochip0:18:falling");
	ASSERT_TRUE(gpio.retry(kT0));
	EXPECT_EQ(f.fake.request(kChip, kLine)->edge, GpioEdge::Falling);
	f.fake.edge(kChip, kLine, true);  // not requested: the kernel reports nothing
	f.fake.advance(100ms);
	RealTime fall = f.fake.edge(kChip, kLine, false);
	f.fake.advance(1ms);
	auto samples = gpio.receive(kT0);
	ASSERT_EQ(samples.size(), 1u);
	EXPECT_EQ(samples[0].local, fall);

	// An edge of the other kind from a confused library is not a pulse.
	f.fake.raw_event(kChip, kLine,
			 static_cast<uint64_t>(f.fake.real_now().since_epoch.count()), true);
	EXPECT_TRUE(gpio.receive(kT0 + 1s).empty());
	EXPECT_EQ(gpio.stats().bad, 1u);
	EXPECT_EQ(f.log.last(LogLevel::Warning),
		  "GPIO /dev/gpiochip0:18:falling: bad sample ignored: a rising edge, not one "
		  "asked for");
}

TEST(GpioRefclock, LineByNameAndMissingLines)
{
	Fixture f;
	GpioRefclock by_name = f.make("gpiochip0:GPIO4");
	ASSERT_TRUE(by_name.retry(kT0));
	EXPECT_NE(f.fake.request(kChip, 4), nullptr);

	GpioRefclock no_name = f.make("gpiochip0:PPS_IN");
	for (int i = 0; i < 4; i++) {
		EXPECT_FALSE(no_name.retry(kT0 + i * 1s));
	}
	EXPECT_EQ(f.log.count(LogLevel::Warning), 1u);
	EXPECT_EQ(f.log.last(LogLevel::Warning),
		  "GPIO gpiochip0:PPS_IN: /dev/gpiochip0 has no line named 'PPS_IN'; trying again "
		  "at every poll");

	GpioRefclock no_offset = f.make("gpiochip0:40");
	EXPECT_FALSE(no_offset.retry(kT0));
	EXPECT_EQ(f.log.last(LogLevel::Warning),
		  "GPIO gpiochip0:40: /dev/gpiochip0 has no line 40 (it has 32); trying again at "
		  "every poll");
	EXPECT_EQ(f.fake.open_chips, 1) << "a failed request leaves no chip open";
	EXPECT_EQ(no_name.stats().errors, 4u);
}

TEST(GpioRefclock, MissingChipThenAppearing)
{
	FakeGpio fake;
	RecordingLogger log;
	GpioRefclock gpio(options("gpiochip1:5"), log, fake.lib(), fake.clocks());
	for (int i = 0; i < 5; i++) {
		EXPECT_FALSE(gpio.retry(kT0 + i * 1s));
	}
	EXPECT_EQ(fake.chip_opens, 5);
	ASSERT_EQ(log.count(LogLevel::Warning), 1u);
	EXPECT_EQ(log.last(LogLevel::Warning),
		  "GPIO gpiochip1:5: Could not open /dev/gpiochip1: No such file or directory; "
		  "trying again at every poll");
	EXPECT_TRUE(gpio.receive(kT0).empty());  // closed: nothing, no crash

	fake.add_chip("/dev/gpiochip1", pi_lines());
	ASSERT_TRUE(gpio.retry(kT0 + 5s));
	EXPECT_EQ(log.last(LogLevel::Info),
		  "GPIO gpiochip1:5: requested rising edges of line 5 of /dev/gpiochip1, stamped "
		  "on CLOCK_REALTIME again");
	EXPECT_EQ(gpio.stats().reopened, 1u);
	RealTime edge = fake.edge("/dev/gpiochip1", 5);
	fake.advance(1ms);
	auto samples = gpio.receive(kT0 + 6s);
	ASSERT_EQ(samples.size(), 1u);
	EXPECT_EQ(samples[0].local, edge);
	EXPECT_EQ(log.count(LogLevel::Warning), 1u);
}

TEST(GpioRefclock, BusyLineNamesItsHolderAndIsRetried)
{
	Fixture f;
	f.fake.chip(kChip).lines[kLine].holder = "pps@12";  // the pps-gpio overlay
	GpioRefclock gpio = f.make();
	for (int i = 0; i < 3; i++) {
		EXPECT_FALSE(gpio.retry(kT0 + i * 1s));
	}
	ASSERT_EQ(f.log.count(LogLevel::Warning), 1u);
	EXPECT_EQ(f.log.last(LogLevel::Warning),
		  "GPIO gpiochip0:18: line 18 of /dev/gpiochip0 is busy (used by \"pps@12\"); "
		  "trying again at every poll");
	EXPECT_EQ(f.fake.open_chips, 0);

	f.fake.chip(kChip).lines[kLine].holder.clear();
	EXPECT_TRUE(gpio.retry(kT0 + 3s));
	EXPECT_EQ(gpio.stats().reopened, 1u);
	EXPECT_EQ(gpio.stats().errors, 3u);
}

TEST(GpioRefclock, ChipDisappearingClosesAndReopens)
{
	Fixture f;
	GpioRefclock gpio = f.make();
	ASSERT_TRUE(gpio.retry(kT0));
	int old_fd = gpio.fd();
	f.fake.edge(kChip, kLine);
	f.fake.advance(1ms);
	ASSERT_EQ(gpio.receive(kT0).size(), 1u);

	f.fake.remove_chip(kChip);
	EXPECT_TRUE(gpio.receive(kT0 + 1s).empty());
	EXPECT_FALSE(gpio.is_open());
	EXPECT_EQ(gpio.fd(), -1);
	EXPECT_EQ(f.fake.open_chips, 0);
	EXPECT_EQ(f.fake.request(kChip, kLine), nullptr) << "the request was released";
	EXPECT_EQ(f.log.last(LogLevel::Warning),
		  "GPIO gpiochip0:18: line 18 of /dev/gpiochip0 lost (read GPIO events: No such "
		  "device); requesting it again at every poll");
	for (int i = 2; i < 6; i++) {
		EXPECT_FALSE(gpio.retry(kT0 + i * 1s));
	}
	// The loss, and once why the chip cannot be opened again.
	EXPECT_EQ(f.log.count(LogLevel::Warning), 2u);

	f.fake.add_chip(kChip, pi_lines());
	ASSERT_TRUE(gpio.retry(kT0 + 6s));
	EXPECT_NE(gpio.fd(), old_fd);
	EXPECT_EQ(gpio.stats().reopened, 1u);
	RealTime edge = f.fake.edge(kChip, kLine);
	f.fake.advance(1ms);
	auto samples = gpio.receive(kT0 + 7s);
	ASSERT_EQ(samples.size(), 1u);
	EXPECT_EQ(samples[0].local, edge);
	EXPECT_EQ(gpio.stats().missed, 0u) << "a new request numbers its events from 1 again";
}

TEST(GpioRefclock, OtherReadErrorsAlsoClose)
{
	Fixture f;
	GpioRefclock gpio = f.make();
	ASSERT_TRUE(gpio.retry(kT0));
	f.fake.fail_read = EIO;
	EXPECT_TRUE(gpio.receive(kT0).empty());
	EXPECT_FALSE(gpio.is_open());
	EXPECT_EQ(gpio.stats().errors, 1u);
	f.fake.fail_read = 0;
	EXPECT_TRUE(gpio.retry(kT0 + 1s));
	EXPECT_EQ(f.log.count(LogLevel::Warning), 1u);
}

TEST(GpioRefclock, GarbageStampsAreCountedNotDelivered)
{
	Fixture f;
	GpioRefclock gpio = f.make();
	ASSERT_TRUE(gpio.retry(kT0));
	auto now_ns = [&] { return static_cast<uint64_t>(f.fake.real_now().since_epoch.count()); };
	f.fake.raw_event(kChip, kLine, 0);
	f.fake.raw_event(kChip, kLine, std::numeric_limits<uint64_t>::max());
	f.fake.raw_event(kChip, kLine, now_ns() + 3'600'000'000'000u);  // an hour ahead
	RealTime good = f.fake.edge(kChip, kLine);
	f.fake.raw_event(kChip, kLine, now_ns() - 120'000'000'000u);  // two minutes old
	f.fake.advance(1ms);
	auto samples = gpio.receive(kT0);
	ASSERT_EQ(samples.size(), 1u);
	EXPECT_EQ(samples[0].local, good);
	EXPECT_EQ(gpio.stats().bad, 4u);
	EXPECT_EQ(gpio.stats().pulses, 1u);
	ASSERT_EQ(f.log.count(LogLevel::Warning), 1u);  // at most once a minute
	EXPECT_EQ(f.log.last(LogLevel::Warning),
		  "GPIO gpiochip0:18: bad sample ignored: time stamp 0 ns is on neither clock, or "
		  "older than 60 s");
	EXPECT_TRUE(gpio.is_open());

	f.fake.raw_event(kChip, kLine, 1);
	EXPECT_TRUE(gpio.receive(kT0 + 61s).empty());
	EXPECT_EQ(f.log.count(LogLevel::Warning), 2u);
}

TEST(GpioRefclock, EventsOfAReadDuringAStepAreDropped)
{
	Fixture f;
	f.fake.realtime_stamps = false;
	GpioRefclock gpio = f.make();
	ASSERT_TRUE(gpio.retry(kT0));
	f.fake.edge(kChip, kLine);
	f.fake.advance(1ms);
	f.fake.step_during_read = 1ms;
	EXPECT_TRUE(gpio.receive(kT0).empty());
	EXPECT_EQ(gpio.stats().stepped, 1u);
	EXPECT_EQ(gpio.stats().pulses, 0u);

	// After the step, conversions are exact again on the new timescale.
	RealTime edge = f.fake.edge(kChip, kLine);
	f.fake.advance(1ms);
	auto samples = gpio.receive(kT0 + 1s);
	ASSERT_EQ(samples.size(), 1u);
	EXPECT_EQ(samples[0].local, edge);
}

TEST(GpioRefclock, ReadsAtMostABatchPerCall)
{
	Fixture f;
	GpioRefclock gpio = f.make("gpiochip0:18:both");
	ASSERT_TRUE(gpio.retry(kT0));
	std::vector<RealTime> edges;
	for (int i = 0; i < 20; i++) {
		edges.push_back(f.fake.edge(kChip, kLine, i % 2 == 0));
		f.fake.advance(10ms);
	}
	auto first = gpio.receive(kT0);
	ASSERT_EQ(first.size(), GpioRefclock::kMaxEventsPerCall);
	auto rest = gpio.receive(kT0);
	ASSERT_EQ(rest.size(), 4u);
	EXPECT_EQ(first.front().local, edges.front());
	EXPECT_EQ(rest.back().local, edges.back());
	EXPECT_TRUE(gpio.receive(kT0).empty());
	EXPECT_EQ(gpio.stats().missed, 0u);
}

TEST(GpioRefclock, CountsEdgesTheKernelDropped)
{
	Fixture f;
	f.fake.queue_capacity = 4;
	GpioRefclock gpio = f.make();
	ASSERT_TRUE(gpio.retry(kT0));
	f.fake.edge(kChip, kLine);
	f.fake.advance(1s);
	ASSERT_EQ(gpio.receive(kT0).size(), 1u);
	// The loop stalled for 7 s: the queue kept the last 4 edges.
	for (int i = 0; i < 7; i++) {
		f.fake.edge(kChip, kLine);
		f.fake.advance(1s);
	}
	auto samples = gpio.receive(kT0 + 8s);
	ASSERT_EQ(samples.size(), 4u);
	EXPECT_EQ(gpio.stats().missed, 3u);
	EXPECT_EQ(gpio.stats().pulses, 5u);
}

// The kernel's v1 line events as its event fd delivers them, byte by byte
// (u64 nanoseconds, u32 id, 4 bytes of padding: 16 bytes on x86-64, arm64
// and armhf alike), read without libgpiod's struct gpiod_line_event (whose
// struct timespec has the library's time_t, 32-bit on Debian 12 armhf).
TEST(GpioV1Events, ReadFromTheEventFdAsTheKernelWritesThem)
{
	static_assert(sizeof(gpioevent_data) == 16);
	std::array<int, 2> pipe_fds{};
	ASSERT_EQ(::pipe2(pipe_fds.data(), O_NONBLOCK | O_CLOEXEC), 0);
	auto put = [&](uint64_t ns, uint32_t id) {
		std::array<unsigned char, 16> b{};
		for (size_t i = 0; i < 8; i++) {
			b[i] = static_cast<unsigned char>(ns >> (8 * i));
		}
		for (size_t i = 0; i < 4; i++) {
			b[8 + i] = static_cast<unsigned char>(id >> (8 * i));
		}
		ASSERT_EQ(::write(pipe_fds[1], b.data(), b.size()), 16);
	};
	// Past 2038 on CLOCK_REALTIME (a 32-bit tv_sec would have wrapped), and
	// a monotonic stamp.
	put(2'200'000'000'123'456'789u, GPIOEVENT_EVENT_RISING_EDGE);
	put(5'000'000'001u, GPIOEVENT_EVENT_FALLING_EDGE);
	put(5'999'999'999u, GPIOEVENT_EVENT_RISING_EDGE);

	std::array<GpioEvent, 2> out{};
	auto n = read_gpio_v1_events(pipe_fds[0], out);
	ASSERT_TRUE(n.has_value()) << n.error().message();
	ASSERT_EQ(*n, 2u);  // no more than asked for
	EXPECT_EQ(out[0].timestamp_ns, 2'200'000'000'123'456'789u);
	EXPECT_TRUE(out[0].rising);
	EXPECT_FALSE(out[0].line_seqno.has_value());
	EXPECT_EQ(out[1].timestamp_ns, 5'000'000'001u);
	EXPECT_FALSE(out[1].rising);
	n = read_gpio_v1_events(pipe_fds[0], out);
	ASSERT_TRUE(n.has_value());
	ASSERT_EQ(*n, 1u);
	EXPECT_EQ(out[0].timestamp_ns, 5'999'999'999u);
	EXPECT_TRUE(out[0].rising);

	// Nothing waiting: EAGAIN, as from libgpiod.
	n = read_gpio_v1_events(pipe_fds[0], out);
	ASSERT_FALSE(n.has_value());
	EXPECT_EQ(n.error().code, std::errc::resource_unavailable_try_again);
	// Half an event is an error, not a stamp made of padding.
	ASSERT_EQ(::write(pipe_fds[1], "12345678", 8), 8);
	n = read_gpio_v1_events(pipe_fds[0], out);
	ASSERT_FALSE(n.has_value());
	EXPECT_EQ(n.error().code, std::errc::io_error);
	::close(pipe_fds[0]);
	::close(pipe_fds[1]);
}

} // namespace
} // namespace strata::refclock
