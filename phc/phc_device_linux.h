// The PHC refclock on Linux: a PTP hardware clock (/dev/ptpN) read against
// the system clock through the linux/ptp_clock.h ioctls, as chronyd's
// `refclock PHC` does.
//
// PhcDevice is the thin part: it opens the character device, reads the PHC
// against CLOCK_REALTIME with one of three ioctls, programs a pin and an
// external time-stamp channel, and reads external time-stamp events. It
// logs nothing and returns errors (STYLE.md §5).
//
// - PTP_SYS_OFFSET_PRECISE: a cross-timestamp the hardware takes of both
//   clocks at one instant (Intel's ART on PCIe NICs); exact, but only some
//   drivers have it and a few get it wrong (hence `:nocrossts`);
// - PTP_SYS_OFFSET_EXTENDED: n readings, each bracketed by the driver with
//   system time stamps taken as close to the PHC latch as it can;
// - PTP_SYS_OFFSET: n readings bracketed by the kernel around the whole
//   driver call, so the windows are wider; every PHC has it.
//
// PhcRefclock is the driver the poll loop calls: every dpoll it reads the
// PHC with the first of those that works (EOPNOTSUPP, EINVAL or ENOTTY:
// the next one is tried; the choice is kept and logged once) and combines
// the readings with process_sandwiches(), which keeps sub-microsecond
// samples from slow PHCs (a Raspberry Pi CM4/CM5's PHY clock takes ~30 µs
// to read over MDIO, sometimes 500 µs). With `:extpps` the PHC time-stamps
// a PPS signal on one of its pins: the events are read from the device
// when the loop sees it readable, and each is carried to the system clock
// with a PHC reading taken right then and the rate between two readings.
//
// An interface name stands for the PHC the NIC reports through ethtool:
// the "ethtool" generic netlink family (ETHTOOL_MSG_TSINFO_GET, Linux 5.7
// and later) or, when the kernel lacks it, the SIOCETHTOOL
// ETHTOOL_GET_TS_INFO ioctl.
//
// The driver never gives up on its device: one that is missing at start or
// disappears later (ENODEV, a NIC unbound or a module reloaded) is looked
// for again at every poll, with one log line when it is lost and one when
// it is back. Every system call goes through PhcSyscalls, so that tests
// run all of this against a fake kernel (tests/unit/phc/fake_phc.h).
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/result.h"
#include "core/time.h"
#include "core/unique_fd.h"
#include "phc/phc_options.h"
#include "phc/readings.h"
#include "refclock/bad_sample_log.h"
#include "refclock/sample.h"

namespace strata::phc {

/// The system calls the PHC code makes, with their libc signatures (−1 and
/// errno on failure). Left empty, a member means the real call.
struct PhcSyscalls {
	std::function<int(const char *path, int flags)> open;
	std::function<int(int fd)> close;
	std::function<int(int fd, unsigned long request, void *arg)> ioctl;
	std::function<ssize_t(int fd, void *buf, size_t count)> read;
	std::function<int(struct pollfd *fds, nfds_t nfds, int timeout_ms)> poll;
	/// An interface's PHC index through ethtool netlink (phc_index_by_netlink()).
	std::function<Result<int>(const std::string &interface)> phc_index_netlink;
	/// An interface's PHC index through SIOCETHTOOL (phc_index_by_ioctl()).
	std::function<Result<int>(const std::string &interface)> phc_index_ioctl;
};

/// The PHC index of `interface` through the "ethtool" generic netlink
/// family: ETHTOOL_MSG_TSINFO_GET with the name in ETHTOOL_A_TSINFO_HEADER,
/// answered with ETHTOOL_A_TSINFO_PHC_INDEX. −1 when the interface has no
/// PHC (the reply carries no index). Errors: ENODEV (no such interface);
/// Errc::Unsupported (no "ethtool" family: a kernel before 5.6 or without
/// CONFIG_ETHTOOL_NETLINK), EOPNOTSUPP (a kernel whose family lacks
/// TSINFO_GET), and libnl's own failures: the caller asks the ioctl.
/// Blocks for one netlink round trip to the kernel.
Result<int> phc_index_by_netlink(const std::string &interface);

/// The PHC index of `interface` through ioctl(SIOCETHTOOL,
/// ETHTOOL_GET_TS_INFO) on a datagram socket; −1 when it has no PHC.
/// Errors: ENODEV (no such interface, or a name longer than IFNAMSIZ − 1),
/// EOPNOTSUPP (a driver without ethtool), those of socket().
Result<int> phc_index_by_ioctl(const std::string &interface);

/// What PTP_CLOCK_GETCAPS says about a PHC.
struct PhcCaps {
	int n_ext_ts = 0;  ///< external time-stamp channels
	int n_pins = 0;    ///< programmable pins (0: the channels have fixed inputs)
	bool cross_timestamping = false;
};

/// The ways to read a PHC against the system clock, in the order they are tried.
enum class PhcReadMethod { Precise, Extended, Plain };

/// "PTP_SYS_OFFSET_PRECISE", "PTP_SYS_OFFSET_EXTENDED", "PTP_SYS_OFFSET".
const char *to_string(PhcReadMethod method);

/// The readings of one PTP_SYS_OFFSET(_EXTENDED) call.
struct SandwichReadings {
	std::vector<Sandwich> sandwiches;  ///< those whose three time stamps are valid
	int invalid = 0;  ///< readings dropped: a time stamp with nanoseconds ≥ 1e9 or out of range
};

/// One external time-stamp event.
struct ExttsEvent {
	PhcInstant time;       ///< when the PHC latched the edge
	unsigned channel = 0;  ///< the channel that latched it
};

/// An open /dev/ptpN. Move-only; closes the device when destroyed, after
/// turning off the external time stamps and the pin function it turned on.
class PhcDevice {
public:
	/// Opens `path` (O_RDWR when `read_write`, which programming pins and
	/// channels needs since Linux 6.10, else O_RDONLY; O_CLOEXEC) and asks
	/// for its capabilities. Errors, as "open /dev/ptp0" or
	/// "PTP_CLOCK_GETCAPS /dev/ptp0" with the errno: ENOENT (no such
	/// device), EACCES, ENOTTY (not a PHC). The caller retries later.
	static Result<PhcDevice> open(const std::string &path, bool read_write, PhcSyscalls sys = {});

	/// The moved-from object owns nothing and undoes nothing.
	PhcDevice(PhcDevice &&other) noexcept = default;
	/// Undoes this one's pin and channel and closes it first.
	PhcDevice &operator=(PhcDevice &&other) noexcept;
	PhcDevice(const PhcDevice &) = delete;
	PhcDevice &operator=(const PhcDevice &) = delete;
	~PhcDevice();

	int fd() const { return fd_.get(); }
	const std::string &path() const { return path_; }
	const PhcCaps &caps() const { return caps_; }

	/// PTP_SYS_OFFSET_PRECISE. Errors: EOPNOTSUPP (no cross-timestamps: try
	/// the next method), ENODEV (the device is gone), others (EBUSY, EIO:
	/// this reading failed); Errc::Malformed for a time stamp out of range.
	Result<CrossTimestamp> read_precise();
	/// PTP_SYS_OFFSET_EXTENDED with `n` readings (1–25, system time
	/// CLOCK_REALTIME). Errors: EOPNOTSUPP (the driver has no gettimex64),
	/// EINVAL (a kernel that knows the ioctl but not the request), ENOTTY
	/// (a kernel before 5.0), ENODEV, others.
	Result<SandwichReadings> read_extended(int n);
	/// PTP_SYS_OFFSET with `n` readings (1–25): 2n + 1 time stamps, system
	/// and PHC alternating, each PHC one between its neighbours.
	Result<SandwichReadings> read_plain(int n);

	/// PTP_PIN_SETFUNC: `pin` to PTP_PF_EXTTS on `channel` (or PTP_PF_NONE
	/// when `extts` is false). Errors: EINVAL (no such pin or channel),
	/// EBUSY (the pin has another function the driver will not change),
	/// EOPNOTSUPP.
	Result<> set_pin_function(int pin, int channel, bool extts);
	/// PTP_EXTTS_REQUEST on `channel`: enabled for the rising edge, or the
	/// falling one when `falling`; `enable` false turns it off. Errors:
	/// EINVAL (no such channel), EOPNOTSUPP (the edge is not supported),
	/// EBUSY.
	Result<> request_extts(int channel, bool enable, bool falling);

	/// Whether an event is waiting (poll with no timeout). A read of the
	/// device blocks while none is (O_NONBLOCK does not work on a PHC), and
	/// before Linux 6.7 every open file of a PHC shares one queue, so
	/// another program's read may have taken the event the loop saw.
	/// Errors: ENODEV when poll reports POLLERR/POLLHUP (the device is gone).
	Result<bool> event_waiting();
	/// Reads one event; call only when event_waiting() said so. Errors:
	/// ENODEV, those of read(); Errc::Malformed for a time out of range.
	Result<ExttsEvent> read_event();

private:
	PhcDevice(std::string path, UniqueFd fd, PhcCaps caps, PhcSyscalls sys)
		: path_(std::move(path)), fd_(std::move(fd)), caps_(caps), sys_(std::move(sys))
	{
	}
	void release();
	Result<> ioctl(unsigned long request, void *arg, const char *what);

	std::string path_;
	UniqueFd fd_;  ///< closed with sys_.close; invalid once moved from
	PhcCaps caps_;
	PhcSyscalls sys_;
	std::optional<int> pin_set_;      ///< the pin set to PTP_PF_EXTTS here
	std::optional<int> extts_on_;     ///< the channel whose time stamps were enabled here
};

struct PhcStats {
	uint64_t readings = 0;        ///< successful PHC readings (one ioctl each)
	uint64_t samples = 0;         ///< samples poll() delivered
	uint64_t pulses = 0;          ///< pulses receive() delivered
	uint64_t bad = 0;             ///< garbage: time stamps out of range, negative windows, events
	uint64_t read_errors = 0;     ///< failed readings and event reads, the device still there
	uint64_t open_failures = 0;   ///< attempts to open (and set up) the device that failed
	uint64_t disappeared = 0;     ///< times the device went away (ENODEV)
	uint64_t ignored_events = 0;  ///< events of other channels, repeated events
	uint64_t unconverted = 0;     ///< pulses dropped: no PHC reading to carry them to system time
};

class PhcRefclock {
public:
	/// Events further than this (in PHC time) from the latest reading are
	/// not converted: the PHC was stepped, or no reading has worked lately.
	static constexpr Duration kMaxConversionAge = std::chrono::seconds(16);
	/// The rate comes from the newest reading at least this much older than
	/// the latest one (else the oldest kept).
	static constexpr Duration kRateSpan = std::chrono::seconds(1);
	/// Readings kept for the rate.
	static constexpr size_t kHistory = 32;

	/// Tries to open the device at once, so that fd() is ready for the loop
	/// to watch; a failure is logged once and the device is looked for
	/// again at every poll(). `log` must outlive the object.
	PhcRefclock(PhcOptions options, Logger &log, PhcSyscalls sys = {});

	/// "PHC /dev/ptp0" or "PHC eth0": names the source in log lines.
	const std::string &name() const { return name_; }
	const PhcOptions &options() const { return options_; }
	bool is_open() const { return device_.has_value(); }
	/// The device's path once opened ("/dev/ptp0" also for an interface).
	std::optional<std::string> path() const;

	/// With `:extpps`, the descriptor to watch for reading (events waiting);
	/// −1 without it or while the device is closed. It changes when the
	/// device is closed and opened again: the loop asks after every poll()
	/// and receive().
	int fd() const;

	/// Called by the loop every dpoll. Opens the device if it is not open;
	/// reads the PHC against the system clock. Returns the sample:
	/// reference = the PHC's time (its own timescale, usually TAI: the
	/// framework takes off the TAI−UTC offset for `tai`), local = the system
	/// time it was read at, pulse false, precision unset. With `:extpps`
	/// the reading only serves to convert events and nothing is returned.
	/// nullopt also when the device is missing, the reading failed (logged
	/// once until a reading works) or was garbage (counted, logged at most
	/// once a minute). `now` is the loop's monotonic time. Blocks for the
	/// reading only (n × the PHC's read time: ~300 µs on a CM4 PHY).
	std::optional<refclock::RawSample> poll(MonoTime now);

	/// Called when fd() is readable. Reads one event (more stay queued and
	/// keep the fd readable) and returns it as a pulse:
	///  - local: the system time (CLOCK_REALTIME) at which the PHC latched
	///    the edge, converted with a PHC reading taken now and the
	///    PHC−system rate between it and an earlier reading;
	///  - reference: the PHC's time of the edge rounded to the nearest
	///    whole second (a PPS edge is on a whole second of the reference
	///    timescale). Its whole seconds mean something only when the PHC
	///    keeps UTC/TAI (the framework takes the whole seconds from `lock`
	///    or the clock otherwise); reference − local modulo 1 s is the
	///    offset of the system clock from the pulse;
	///  - pulse true, leap None, precision unset.
	/// nullopt for an event of another channel (a shared queue before
	/// Linux 6.7), the same event again, garbage, a failed read, or no PHC
	/// reading younger than kMaxConversionAge. Never blocks on an empty
	/// queue.
	std::optional<refclock::RawSample> receive(MonoTime now);

	/// The method readings use, once one has worked.
	std::optional<PhcReadMethod> method() const { return method_; }
	/// The latest PHC − system reading.
	std::optional<PhcSample> last_reading() const
	{
		return history_.empty() ? std::nullopt : std::optional<PhcSample>(history_.back());
	}
	const PhcStats &stats() const { return stats_; }

private:
	bool open_device();
	Result<std::string> resolve_path();
	std::optional<PhcSample> read_clock(MonoTime now);
	Result<std::optional<PhcSample>> read_with(PhcReadMethod method, MonoTime now);
	void record(const PhcSample &sample);
	const PhcSample *rate_reference() const;
	void device_gone(const Error &error);
	void read_failed(const Error &error, MonoTime now);

	PhcOptions options_;
	Logger *log_;
	PhcSyscalls sys_;
	std::string name_;
	std::optional<PhcDevice> device_;
	bool open_warned_ = false;  ///< a failure or loss was logged and no open has worked since
	bool read_warned_ = false;  ///< a read failure was logged and no reading has worked since
	bool lost_ = false;         ///< the device went away: its return is logged
	std::optional<PhcReadMethod> method_;
	std::optional<PhcReadMethod> logged_method_;
	/// Recent readings, oldest first: the newest converts events, an older
	/// one gives the PHC−system rate.
	std::deque<PhcSample> history_;
	std::optional<PhcInstant> last_event_;
	refclock::BadSampleLog bad_log_;
	PhcStats stats_;
};

} // namespace strata::phc
