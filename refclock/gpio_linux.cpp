#include "refclock/gpio_linux.h"

#include <linux/gpio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <limits>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "refclock/pulse.h"

namespace strata::refclock {

namespace {

Duration read_clock(clockid_t id)
{
	timespec ts{};
	::clock_gettime(id, &ts);  // cannot fail for these two clocks
	return Duration(int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec);
}

GpioClocks with_defaults(GpioClocks clocks)
{
	if (!clocks.realtime) {
		clocks.realtime = [] { return RealTime{read_clock(CLOCK_REALTIME)}; };
	}
	if (!clocks.monotonic) {
		clocks.monotonic = [] { return MonoTime{read_clock(CLOCK_MONOTONIC)}; };
	}
	return clocks;
}

bool is_errno(const Error &e, int err)
{
	return e.code == std::error_code(err, std::generic_category());
}

/// A request that failed only because of the clock asked for.
bool clock_refused(const Error &e)
{
	return is_errno(e, EINVAL) || is_errno(e, EOPNOTSUPP) || e.code == Errc::Unsupported;
}

/// Whether `stamp_ns` may be a time on a clock read as `first` (before the
/// events were read) and `last` (after): not after `last`, and at most
/// GpioRefclock::kMaxEventAge before `first`.
bool within(uint64_t stamp_ns, Duration first, Duration last)
{
	if (stamp_ns > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
		return false;
	}
	Duration stamp(static_cast<int64_t>(stamp_ns));
	return stamp <= last && stamp >= first - GpioRefclock::kMaxEventAge;
}

std::string line_text(const GpioOptions &o)
{
	if (const auto *offset = std::get_if<unsigned>(&o.line)) {
		return fmt::format("line {} of {}", *offset, o.chip_path);
	}
	return fmt::format("line '{}' of {}", std::get<std::string>(o.line), o.chip_path);
}

} // namespace

const char *to_string(GpioClock clock)
{
	return clock == GpioClock::Realtime ? "CLOCK_REALTIME" : "CLOCK_MONOTONIC";
}

GpioRefclock::GpioRefclock(GpioOptions options, Logger &log, std::unique_ptr<GpioLib> lib,
			   GpioClocks clocks)
	: options_(std::move(options)), log_(&log), lib_(std::move(lib)),
	  clocks_(with_defaults(std::move(clocks)))
{
}

GpioRefclock::~GpioRefclock()
{
	close();
}

int GpioRefclock::fd() const
{
	return request_ ? request_->fd() : -1;
}

std::optional<GpioClock> GpioRefclock::clock() const
{
	if (!request_) {
		return std::nullopt;
	}
	return clock_;
}

void GpioRefclock::close()
{
	request_.reset();  // the line first: it belongs to the chip
	chip_.reset();
}

void GpioRefclock::warn_once(const std::string &message)
{
	if (!failing_ || message != last_warning_) {
		log_->warning("{}: {}; trying again at every poll", name(), message);
		last_warning_ = message;
	}
	failing_ = true;
}

Result<unsigned> GpioRefclock::find_offset()
{
	unsigned lines = chip_->num_lines();
	if (const auto *offset = std::get_if<unsigned>(&options_.line)) {
		if (*offset >= lines) {
			return fail(Errc::NotFound,
				    fmt::format("{} has no line {} (it has {})", options_.chip_path,
						*offset, lines));
		}
		return *offset;
	}
	const auto &line_name = std::get<std::string>(options_.line);
	auto offset = chip_->find_line(line_name);
	if (!offset) {
		if (is_errno(offset.error(), ENOENT)) {
			return fail(Errc::NotFound, fmt::format("{} has no line named '{}'",
								options_.chip_path, line_name));
		}
		return tl::unexpected(offset.error());
	}
	return *offset;
}

Result<std::unique_ptr<GpioRequest>> GpioRefclock::request(unsigned offset)
{
	// CLOCK_REALTIME stamps need no conversion; kernels before 5.11 (and
	// libgpiod 1.6) refuse them and stamp on the kernel's clock instead.
	auto line = chip_->request_events(offset, options_.edge, GpioClock::Realtime, kConsumer);
	if (line) {
		clock_ = GpioClock::Realtime;
		return line;
	}
	if (!clock_refused(line.error())) {
		return line;
	}
	log_->debug("{}: no CLOCK_REALTIME stamps ({}); asking for the kernel's clock", name(),
		    line.error().message());
	line = chip_->request_events(offset, options_.edge, GpioClock::Monotonic, kConsumer);
	if (line) {
		clock_ = GpioClock::Monotonic;
	}
	return line;
}

bool GpioRefclock::retry(MonoTime /*now*/)
{
	if (request_) {
		return true;
	}
	auto chip = lib_->open_chip(options_.chip_path);
	if (!chip) {
		stats_.errors++;
		warn_once(fmt::format("Could not open {}: {}", options_.chip_path,
				      chip.error().code.message()));
		return false;
	}
	chip_ = std::move(*chip);
	auto offset = find_offset();
	if (!offset) {
		stats_.errors++;
		warn_once(offset.error().code == Errc::NotFound ? offset.error().context
								: offset.error().message());
		close();
		return false;
	}
	auto line = request(*offset);
	if (!line) {
		stats_.errors++;
		std::string message;
		if (is_errno(line.error(), EBUSY)) {
			auto holder = chip_->consumer(*offset);
			message = fmt::format("{} is busy", line_text(options_));
			if (holder && !holder->empty()) {
				message += fmt::format(" (used by \"{}\")", *holder);
			}
		} else {
			message = fmt::format("Could not request {}: {}", line_text(options_),
					      line.error().code.message());
		}
		warn_once(message);
		close();
		return false;
	}
	request_ = std::move(*line);
	offset_ = *offset;
	last_seqno_.reset();
	std::string what = fmt::format("{} edges of {}, stamped on {}", to_string(options_.edge),
				       line_text(options_), to_string(clock_));
	if (failing_ || ever_opened_) {
		stats_.reopened++;
		log_->info("{}: requested {} again", name(), what);
	} else {
		log_->info("{}: requested {}", name(), what);
	}
	failing_ = false;
	last_warning_.clear();
	ever_opened_ = true;
	return true;
}

ClockBracket GpioRefclock::bracket() const
{
	ClockBracket b;
	b.real_before = clocks_.realtime();
	b.mono = clocks_.monotonic();
	b.real_after = clocks_.realtime();
	return b;
}

std::optional<RealTime> GpioRefclock::edge_time(const GpioEvent &event, const ClockBracket &first,
						const ClockBracket &last,
						const std::optional<RealMonoOffset> &offset,
						MonoTime now)
{
	bool real = within(event.timestamp_ns, first.real_before.since_epoch,
			   last.real_after.since_epoch);
	bool mono = within(event.timestamp_ns, first.mono.since_epoch, last.mono.since_epoch);
	// A stamp that fits both clocks (a clock set near 1970) is taken to be
	// on the clock asked for.
	if (real && mono) {
		real = clock_ == GpioClock::Realtime;
		mono = !real;
	}
	if (!real && !mono) {
		stats_.bad++;
		auto max_age_s = std::chrono::duration_cast<std::chrono::seconds>(kMaxEventAge);
		bad_log_.report(*log_, now, name(),
				fmt::format("time stamp {} ns is on neither clock, or older than "
					    "{} s",
					    event.timestamp_ns, max_age_s.count()));
		return std::nullopt;
	}
	GpioClock on = real ? GpioClock::Realtime : GpioClock::Monotonic;
	if (on != clock_ && !other_clock_said_) {
		log_->info("{}: the kernel stamps edges on {}, not {}{}", name(), to_string(on),
			   to_string(clock_),
			   on == GpioClock::Realtime ? " (Linux before 5.7)" : "");
		other_clock_said_ = true;
	}
	Duration stamp(static_cast<int64_t>(event.timestamp_ns));
	if (real) {
		return RealTime{stamp};
	}
	if (!offset) {
		stats_.stepped++;
		log_->debug("{}: the clock was stepped while events were read; edge dropped",
			    name());
		return std::nullopt;
	}
	stats_.conversion_error = offset->error_bound();
	return offset->to_real(MonoTime{stamp});
}

std::vector<RawSample> GpioRefclock::receive(MonoTime now)
{
	std::vector<RawSample> samples;
	if (!request_) {
		return samples;
	}
	std::array<GpioEvent, kMaxEventsPerCall> events{};
	std::array<ClockBracket, 2> brackets;
	brackets[0] = bracket();
	auto n = request_->read_events(events);
	brackets[1] = bracket();
	if (!n) {
		if (is_errno(n.error(), EAGAIN) || is_errno(n.error(), EINTR)) {
			return samples;
		}
		stats_.errors++;
		log_->warning("{}: {} lost ({}); requesting it again at every poll", name(),
			      line_text(options_), n.error().message());
		failing_ = true;
		last_warning_.clear();
		close();
		return samples;
	}
	auto offset = real_mono_offset(brackets);
	for (size_t i = 0; i < *n && i < events.size(); i++) {
		const GpioEvent &event = events[i];
		if (event.line_seqno) {
			if (last_seqno_) {
				uint32_t step = *event.line_seqno - *last_seqno_;
				if (step > 1 && step < 0x80000000u) {
					stats_.missed += step - 1;
					log_->debug("{}: {} edges dropped by the kernel", name(),
						    step - 1);
				}
			}
			last_seqno_ = event.line_seqno;
		}
		bool wanted = options_.edge == GpioEdge::Both ||
			      event.rising == (options_.edge == GpioEdge::Rising);
		if (!wanted) {
			stats_.bad++;
			bad_log_.report(*log_, now, name(),
					fmt::format("a {} edge, not one asked for",
						    event.rising ? "rising" : "falling"));
			continue;
		}
		auto edge = edge_time(event, brackets[0], brackets[1], offset, now);
		if (!edge) {
			continue;
		}
		stats_.pulses++;
		samples.push_back(pulse_sample(*edge));
	}
	return samples;
}

Result<size_t> read_gpio_v1_events(int fd, std::span<GpioEvent> out)
{
	std::array<gpioevent_data, 16> buffer{};
	size_t wanted = std::min(out.size(), buffer.size());
	ssize_t n = ::read(fd, buffer.data(), wanted * sizeof(gpioevent_data));
	if (n < 0) {
		return fail_errno("read GPIO events");
	}
	auto bytes = static_cast<size_t>(n);
	if (bytes % sizeof(gpioevent_data) != 0) {
		return fail_errno("read GPIO events", EIO);
	}
	size_t count = bytes / sizeof(gpioevent_data);
	for (size_t i = 0; i < count; i++) {
		out[i].timestamp_ns = buffer[i].timestamp;
		out[i].rising = buffer[i].id == GPIOEVENT_EVENT_RISING_EDGE;
		out[i].line_seqno.reset();
	}
	return count;
}

} // namespace strata::refclock
