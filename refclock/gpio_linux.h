// The GPIO refclock on Linux: a PPS signal on a GPIO line, its edges stamped
// by the kernel's GPIO character device (in the interrupt handler, as
// pps-gpio stamps them) and read through libgpiod. No other NTP daemon reads
// a GPIO line itself; with this one a Raspberry Pi needs no pps-gpio
// overlay, no reboot to change the pin, and no root to set it up.
//
// The time stamps. libgpiod 1.6 (the kernel's v1 interface) cannot choose
// the clock: Linux 5.7 and later stamp on CLOCK_MONOTONIC, older kernels on
// CLOCK_REALTIME. libgpiod 2 (the v2 interface) asks for CLOCK_REALTIME
// stamps, which Linux 5.11 and later give, and falls back to monotonic ones
// on 5.10. A monotonic stamp becomes a realtime one exactly through the
// offset between the clocks, read in REALTIME/MONOTONIC/REALTIME brackets
// just before and just after the events are read (refclock/mono_to_real.h:
// the error bound is half the narrower bracket, about the time of one clock
// read, 20–100 ns; GpioStats::conversion_error holds the last one). Each
// stamp is also checked against both clocks, so a kernel that stamps on
// the other clock than expected is noticed (and said once), and a stamp on
// neither, or older than kMaxEventAge, is counted as bad. Events of a read
// during which the clock was stepped are dropped: their conversion would be
// a guess.
//
// The refclock is event-driven: the loop watches fd() and calls receive()
// when it is readable, and calls retry() every dpoll while the line is not
// open (is_open() false: fd() is −1). A missing chip, a missing line, a line
// another consumer holds (the pps-gpio overlay on the same pin, say), and a
// chip that goes away (a read error: a USB GPIO adapter pulled) are each said
// once in the log, and the line is requested again at later retries.
//
// Every libgpiod call goes through GpioLib, GpioChip and GpioRequest: the
// real implementation is refclock/gpiod_linux.h (libgpiod 1.6 or 2.x,
// chosen when building), the tests' is tests/unit/refclock/fake_gpio.h. The
// clock reads go through GpioClocks.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/result.h"
#include "core/time.h"
#include "refclock/bad_sample_log.h"
#include "refclock/gpio.h"
#include "refclock/mono_to_real.h"
#include "refclock/sample.h"

namespace strata::refclock {

/// The clock the kernel stamps a line's events with.
enum class GpioClock : uint8_t { Monotonic, Realtime };

const char *to_string(GpioClock clock);

/// One edge event as the library returns it.
struct GpioEvent {
	/// The kernel's stamp, nanoseconds on the request's clock (a u64 in the
	/// kernel's struct; not trusted).
	uint64_t timestamp_ns = 0;
	bool rising = true;
	/// The line's event number (v2: from 1, counting events the kernel's
	/// queue dropped); nullopt from libgpiod 1.6, which has none.
	std::optional<uint32_t> line_seqno;
};

/// A line requested for edge events (v1: a gpiod_line with events
/// requested; v2: a gpiod_line_request). Released when destroyed; must not
/// outlive the GpioChip that made it.
class GpioRequest {
public:
	virtual ~GpioRequest() = default;
	/// The fd that is readable while events wait. Non-blocking.
	virtual int fd() const = 0;
	/// Reads up to out.size() waiting events (v1
	/// gpiod_line_event_read_multiple, v2 gpiod_line_request_read_edge_events)
	/// into `out` and returns how many. Never blocks. Errors: the read's
	/// errno: EAGAIN (nothing waits), ENODEV (the chip is gone).
	virtual Result<size_t> read_events(std::span<GpioEvent> out) = 0;
};

/// Reads up to out.size() (at most 16) v1 line events from a line's event fd
/// (the kernel's struct gpioevent_data: a u64 nanosecond stamp and the edge),
/// as libgpiod 1.6's gpiod_line_event_read_multiple reads them, but not
/// through its struct gpiod_line_event: that holds a struct timespec of the
/// library's own time_t, which for Debian 12's armhf libgpiod is 32 bits and
/// for strata 64, so the library's events would be misread there. Never
/// blocks if the fd does not. Errors: the read's errno (EAGAIN: nothing
/// waits; ENODEV: the chip is gone), EIO for a read that is not whole events.
Result<size_t> read_gpio_v1_events(int fd, std::span<GpioEvent> out);

/// An open GPIO chip (gpiod_chip).
class GpioChip {
public:
	virtual ~GpioChip() = default;
	/// Its number of lines (v1 gpiod_chip_num_lines, v2
	/// gpiod_chip_info_get_num_lines).
	virtual unsigned num_lines() = 0;
	/// The offset of the first line called `name` (v1 gpiod_chip_find_line,
	/// v2 gpiod_chip_get_line_offset_from_name). Errors: ENOENT (none).
	virtual Result<unsigned> find_line(const std::string &name) = 0;
	/// Who holds line `offset`: nullopt when it is free or unknown, "" when
	/// it is used by a consumer without a name (v1 gpiod_line_update,
	/// gpiod_line_is_used, gpiod_line_consumer; v2 gpiod_chip_get_line_info,
	/// gpiod_line_info_is_used, gpiod_line_info_get_consumer).
	virtual std::optional<std::string> consumer(unsigned offset) = 0;
	/// Requests line `offset` as an input with events on `edge`, stamped on
	/// `clock`, for `consumer` (v1 gpiod_line_request with an event type and
	/// gpiod_line_event_get_fd; v2 line settings, gpiod_chip_request_lines,
	/// gpiod_line_request_get_fd), and makes its fd non-blocking. Errors:
	/// EBUSY (another consumer holds the line), EINVAL (no such offset, or
	/// the kernel does not know the clock flag: Linux before 5.11),
	/// Errc::Unsupported (v1 cannot choose a clock: only Monotonic, meaning
	/// "the kernel's", is accepted), and the ioctl's others.
	virtual Result<std::unique_ptr<GpioRequest>>
	request_events(unsigned offset, GpioEdge edge, GpioClock clock,
		       const std::string &consumer) = 0;
};

/// The library itself.
class GpioLib {
public:
	virtual ~GpioLib() = default;
	/// Opens the chip at `path` (gpiod_chip_open). Errors: ENOENT, EACCES,
	/// ENODEV or ENOTTY (not a GPIO chip).
	virtual Result<std::unique_ptr<GpioChip>> open_chip(const std::string &path) = 0;
};

/// The clocks read around each read of events. Left empty, a member means
/// clock_gettime() of CLOCK_REALTIME or CLOCK_MONOTONIC.
struct GpioClocks {
	std::function<RealTime()> realtime;
	std::function<MonoTime()> monotonic;
};

struct GpioStats {
	uint64_t pulses = 0;    ///< edges delivered
	uint64_t missed = 0;    ///< edges the kernel dropped (gaps in v2 sequence numbers)
	uint64_t bad = 0;       ///< events with an impossible stamp or the wrong edge
	uint64_t stepped = 0;   ///< events dropped: the clock was stepped while they were read
	uint64_t errors = 0;    ///< failed opens, requests and reads
	uint64_t reopened = 0;  ///< requests that worked after a failure or a lost line
	/// The error bound of the last monotonic-to-realtime conversion (zero
	/// while the kernel stamps on CLOCK_REALTIME).
	Duration conversion_error{};
};

class GpioRefclock {
public:
	/// At most this many events are read by one receive(), so that a
	/// flood (a noisy or oscillating line) cannot hold the loop; the fd
	/// stays readable and the loop calls again.
	static constexpr size_t kMaxEventsPerCall = 16;
	/// Events stamped longer ago than this are not trusted: the stamp is
	/// checked against both clocks within this window.
	static constexpr Duration kMaxEventAge = std::chrono::seconds(60);
	/// The consumer name the line is requested with (gpioinfo shows it).
	static constexpr const char *kConsumer = "stratad";

	/// Opens nothing yet: the first retry() does. `lib` is the libgpiod to
	/// use (make_libgpiod() from refclock/gpiod_linux.h, or a fake). `log`
	/// must outlive this.
	GpioRefclock(GpioOptions options, Logger &log, std::unique_ptr<GpioLib> lib,
		     GpioClocks clocks = {});

	GpioRefclock(GpioRefclock &&) noexcept = default;
	GpioRefclock &operator=(GpioRefclock &&) = delete;  // would close chip before line
	GpioRefclock(const GpioRefclock &) = delete;
	GpioRefclock &operator=(const GpioRefclock &) = delete;
	~GpioRefclock();

	/// "GPIO gpiochip0:18": names the source in log lines.
	const std::string &name() const { return options_.name; }
	const GpioOptions &options() const { return options_; }
	bool is_open() const { return request_ != nullptr; }
	/// The fd to watch for readability, or −1 while the line is not open.
	/// It changes when the line is opened again: read it after each
	/// retry() and receive().
	int fd() const;
	/// The clock the open line's events are requested on.
	std::optional<GpioClock> clock() const;

	/// Called by the loop at start and every dpoll: when the line is not
	/// open, opens the chip and requests the line, logging a failure once
	/// (until a request works, or the reason changes) and its end. Returns
	/// whether the line is open; when it turns true, watch fd(). `now`: the
	/// loop's monotonic time. Does nothing when the line is open. Never
	/// blocks.
	bool retry(MonoTime now);

	/// Called by the loop when fd() is readable: reads the waiting events
	/// (at most kMaxEventsPerCall) and returns a pulse sample
	/// (refclock/pulse.h) for each good one, oldest first. Bad events are
	/// counted and logged at most once a minute. A read error other than
	/// EAGAIN closes the line (is_open() turns false: stop watching the old
	/// fd and call retry() every dpoll) and is logged once. Never blocks.
	std::vector<RawSample> receive(MonoTime now);

	const GpioStats &stats() const { return stats_; }

private:
	Result<unsigned> find_offset();
	Result<std::unique_ptr<GpioRequest>> request(unsigned offset);
	void close();
	ClockBracket bracket() const;
	/// The edge's CLOCK_REALTIME time, or nullopt (counted and logged).
	std::optional<RealTime> edge_time(const GpioEvent &event, const ClockBracket &first,
					  const ClockBracket &last,
					  const std::optional<RealMonoOffset> &offset,
					  MonoTime now);
	void warn_once(const std::string &message);

	GpioOptions options_;
	Logger *log_;
	std::unique_ptr<GpioLib> lib_;
	GpioClocks clocks_;
	// The chip is declared before the request so that it is destroyed after it.
	std::unique_ptr<GpioChip> chip_;
	std::unique_ptr<GpioRequest> request_;
	GpioClock clock_ = GpioClock::Monotonic;
	unsigned offset_ = 0;
	std::optional<uint32_t> last_seqno_;
	bool ever_opened_ = false;
	bool failing_ = false;            ///< a failure was logged and no request has worked since
	std::string last_warning_;        ///< the failure logged last, not to repeat it
	bool other_clock_said_ = false;   ///< stamps on the other clock were reported
	BadSampleLog bad_log_;
	GpioStats stats_;
};

} // namespace strata::refclock
