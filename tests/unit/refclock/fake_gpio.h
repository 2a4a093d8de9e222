// A fake libgpiod for the GPIO refclock's tests: GpioLib, GpioChip and
// GpioRequest over chips that live in the test, and the clocks as
// GpioClocks. It keeps the kernel's rules the refclock relies on: a line
// held by another consumer cannot be requested (EBUSY); a chip that goes
// away cannot be opened (ENOENT) and reads on its requests fail (ENODEV);
// an event queue that overflows drops its oldest events while the v2
// sequence numbers count on; and realtime stamps are refused (EINVAL) by
// kernels before 5.11 and by libgpiod 1.6 (Errc::Unsupported).
//
// Time is simulated: CLOCK_MONOTONIC advances by `read_cost` at each clock
// read (so that brackets have a width), CLOCK_REALTIME is monotonic plus an
// offset that step_realtime() changes. The test plays the signal with
// edge(), stamped as the kernel stamps it on the clock of the request.
#pragma once

#include <cerrno>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/time.h"
#include "refclock/gpio_linux.h"

namespace strata::refclock {

class FakeGpio {
public:
	struct Line {
		std::string name;
		std::string holder;  ///< another consumer holding the line; "" = free
	};
	struct Chip {
		std::string path;
		std::vector<Line> lines;
		bool present = true;
	};
	/// A line the refclock has requested.
	struct Request {
		GpioEdge edge{};
		GpioClock clock{};
		std::string consumer;
		int fd = 0;
		std::deque<GpioEvent> queue;
		uint32_t seqno = 0;
		bool chip_gone = false;
		int chip_handle = 0;  ///< the FakeChip that made it
	};

	// The simulated clocks.
	MonoTime mono = MonoTime{} + std::chrono::seconds(86'400);
	Duration real_minus_mono = std::chrono::seconds(1'700'000'000);
	Duration read_cost = std::chrono::nanoseconds(25);
	int clock_reads = 0;

	// The kernel and library.
	bool realtime_stamps = true;   ///< libgpiod 2 on Linux 5.11+; false: v1 or Linux 5.10
	bool v1 = false;               ///< libgpiod 1.6: no clock choice, no sequence numbers
	bool kernel_stamps_realtime = false;  ///< v1 on Linux before 5.7
	size_t queue_capacity = 64;
	int fail_read = 0;             ///< errno of every read while non-zero
	std::optional<Duration> step_during_read;  ///< realtime stepped inside the next read

	int chip_opens = 0;
	int open_chips = 0;
	int requests_made = 0;

	RealTime real_now() const { return RealTime{mono.since_epoch + real_minus_mono}; }
	void advance(Duration d) { mono += d; }
	void step_realtime(Duration d) { real_minus_mono += d; }

	Chip &add_chip(const std::string &path, std::vector<std::string> names)
	{
		Chip &c = chips_[path];
		c.path = path;
		c.present = true;
		c.lines.clear();
		for (auto &n : names) {
			c.lines.push_back({std::move(n), ""});
		}
		return c;
	}

	/// The chip goes away: it cannot be opened, its requests' reads fail.
	void remove_chip(const std::string &path)
	{
		chips_.at(path).present = false;
		for (auto &[key, r] : requests_) {
			if (key.first == path) {
				r->chip_gone = true;
			}
		}
	}

	Chip &chip(const std::string &path) { return chips_.at(path); }

	/// The refclock's request of that line, or nullptr.
	Request *request(const std::string &path, unsigned offset)
	{
		auto it = requests_.find({path, offset});
		return it == requests_.end() ? nullptr : it->second.get();
	}

	/// An edge on the line now (after `delay` more has passed), stamped as
	/// the kernel does; ignored unless the request asked for that edge.
	/// Returns the edge's true CLOCK_REALTIME time.
	RealTime edge(const std::string &path, unsigned offset, bool rising = true)
	{
		RealTime at = real_now();
		Request *r = request(path, offset);
		EXPECT_NE(r, nullptr);
		if (r == nullptr) {
			return at;
		}
		bool wanted = r->edge == GpioEdge::Both || rising == (r->edge == GpioEdge::Rising);
		if (!wanted) {
			return at;
		}
		bool real = kernel_stamps_realtime || r->clock == GpioClock::Realtime;
		uint64_t stamp = static_cast<uint64_t>(
			real ? at.since_epoch.count() : mono.since_epoch.count());
		push(*r, stamp, rising);
		return at;
	}

	/// An event with whatever stamp a broken kernel or library might give.
	void raw_event(const std::string &path, unsigned offset, uint64_t stamp, bool rising = true)
	{
		Request *r = request(path, offset);
		ASSERT_NE(r, nullptr);
		push(*r, stamp, rising);
	}

	std::unique_ptr<GpioLib> lib() { return std::make_unique<Lib>(this); }

	GpioClocks clocks()
	{
		return {
			.realtime = [this] {
				clock_reads++;
				mono += read_cost;
				return real_now();
			},
			.monotonic = [this] {
				clock_reads++;
				mono += read_cost;
				return mono;
			},
		};
	}

private:
	using Key = std::pair<std::string, unsigned>;

	void push(Request &r, uint64_t stamp, bool rising)
	{
		r.seqno++;
		GpioEvent e{.timestamp_ns = stamp, .rising = rising};
		if (!v1) {
			e.line_seqno = r.seqno;
		}
		if (r.queue.size() == queue_capacity) {
			r.queue.pop_front();  // the kernel drops the oldest
		}
		r.queue.push_back(e);
	}

	class FakeRequest final : public GpioRequest {
	public:
		FakeRequest(FakeGpio *fake, Key key) : fake_(fake), key_(std::move(key)) {}
		~FakeRequest() override { fake_->requests_.erase(key_); }

		int fd() const override { return fake_->requests_.at(key_)->fd; }

		Result<size_t> read_events(std::span<GpioEvent> out) override
		{
			Request &r = *fake_->requests_.at(key_);
			if (fake_->step_during_read) {
				fake_->step_realtime(*fake_->step_during_read);
				fake_->step_during_read.reset();
			}
			fake_->mono += std::chrono::microseconds(2);  // the read's own time
			if (r.chip_gone) {
				return fail_errno("read GPIO events", ENODEV);
			}
			if (fake_->fail_read != 0) {
				return fail_errno("read GPIO events", fake_->fail_read);
			}
			if (r.queue.empty()) {
				return fail_errno("read GPIO events", EAGAIN);
			}
			size_t n = 0;
			while (n < out.size() && !r.queue.empty()) {
				out[n++] = r.queue.front();
				r.queue.pop_front();
			}
			return n;
		}

	private:
		FakeGpio *fake_;
		Key key_;
	};

	class FakeChip final : public GpioChip {
	public:
		FakeChip(FakeGpio *fake, std::string path)
			: fake_(fake), path_(std::move(path)), id_(++fake->chip_handles_)
		{
			fake_->open_chips++;
		}
		~FakeChip() override
		{
			fake_->open_chips--;
			for (const auto &[key, r] : fake_->requests_) {
				EXPECT_NE(r->chip_handle, id_) << "a request outlived its chip";
			}
		}

		unsigned num_lines() override
		{
			return static_cast<unsigned>(chip().lines.size());
		}

		Result<unsigned> find_line(const std::string &name) override
		{
			const auto &lines = chip().lines;
			for (size_t i = 0; i < lines.size(); i++) {
				if (lines[i].name == name) {
					return static_cast<unsigned>(i);
				}
			}
			return fail_errno("find line", ENOENT);
		}

		std::optional<std::string> consumer(unsigned offset) override
		{
			const auto &lines = chip().lines;
			if (offset >= lines.size() || lines[offset].holder.empty()) {
				return std::nullopt;
			}
			return lines[offset].holder;
		}

		Result<std::unique_ptr<GpioRequest>>
		request_events(unsigned offset, GpioEdge edge, GpioClock clock,
			       const std::string &consumer) override
		{
			if (fake_->v1 && clock != GpioClock::Monotonic) {
				return fail(Errc::Unsupported, "libgpiod 1");
			}
			if (!chip().present) {
				return fail_errno("request", ENODEV);
			}
			if (offset >= chip().lines.size()) {
				return fail_errno("request", EINVAL);
			}
			if (!chip().lines[offset].holder.empty() ||
			    fake_->requests_.count({path_, offset}) != 0) {
				return fail_errno("request", EBUSY);
			}
			if (clock == GpioClock::Realtime && !fake_->realtime_stamps) {
				return fail_errno("request", EINVAL);
			}
			auto r = std::make_unique<Request>();
			r->edge = edge;
			r->clock = clock;
			r->consumer = consumer;
			r->fd = fake_->next_fd_++;
			r->chip_handle = id_;
			fake_->requests_[{path_, offset}] = std::move(r);
			fake_->requests_made++;
			return std::unique_ptr<GpioRequest>(
				new FakeRequest(fake_, {path_, offset}));
		}

	private:
		Chip &chip() { return fake_->chips_.at(path_); }

		FakeGpio *fake_;
		std::string path_;
		int id_;
	};

	class Lib final : public GpioLib {
	public:
		explicit Lib(FakeGpio *fake) : fake_(fake) {}
		Result<std::unique_ptr<GpioChip>> open_chip(const std::string &path) override
		{
			fake_->chip_opens++;
			auto it = fake_->chips_.find(path);
			if (it == fake_->chips_.end() || !it->second.present) {
				return fail_errno("Could not open " + path, ENOENT);
			}
			return std::unique_ptr<GpioChip>(new FakeChip(fake_, path));
		}

	private:
		FakeGpio *fake_;
	};

	std::map<std::string, Chip> chips_;
	std::map<Key, std::unique_ptr<Request>> requests_;
	int next_fd_ = 40;
	int chip_handles_ = 0;
};

} // namespace strata::refclock
