// The kernel PPS refclock on Linux: a /dev/ppsN device of the RFC 2783
// interface in <linux/pps.h>, such as the one the Raspberry Pi's pps-gpio
// overlay makes for a GPS receiver's PPS pin. The kernel stamps each edge
// on CLOCK_REALTIME in its interrupt handler and keeps the last stamp of
// each edge with a sequence number; the driver asks for them with PPS_FETCH
// (zero timeout: it never waits) at every dpoll, and a sequence number that
// moved is a new pulse. The device's fd is not worth watching (the kernel
// reports it readable at all times), so this driver is polled.
//
// Like the other refclocks it does not give up: a device missing at start
// (a module not loaded yet, a USB adapter not plugged in) or one that
// vanishes (ENODEV/EIO: the module was unloaded, the adapter pulled) is
// said once in the log and opened again at later polls, and its return is
// said once too. Only a device that is there and says it cannot do what
// the configuration asks (no capture of the wanted edge, not a PPS device)
// fails open(), so that the mistake is reported at start.
//
// Every system call goes through PpsSyscalls, so that tests run this code
// against a fake kernel (tests/unit/refclock/fake_pps.h).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/log.h"
#include "core/result.h"
#include "core/time.h"
#include "core/unique_fd.h"
#include "refclock/bad_sample_log.h"
#include "refclock/pps.h"
#include "refclock/sample.h"

namespace strata::refclock {

/// The system calls the PPS code makes, with their libc signatures (−1 and
/// errno on failure). Left empty, a member means the real call.
struct PpsSyscalls {
	std::function<int(const char *path, int flags)> open;
	std::function<int(int fd, unsigned long request, void *arg)> ioctl;
	std::function<int(int fd)> close;
};

struct PpsStats {
	uint64_t pulses = 0;    ///< edges delivered
	uint64_t missed = 0;    ///< edges the sequence number skipped between two polls
	uint64_t bad = 0;       ///< edges with an impossible time stamp (not delivered)
	uint64_t errors = 0;    ///< failed opens and ioctls
	uint64_t reopened = 0;  ///< opens that worked after the device was missing or lost
};

class PpsRefclock {
public:
	/// Opens `path` (read-only: the ioctls need no write access), checks
	/// with PPS_GETCAP that the device captures `edge`, and turns capture of
	/// that edge on with PPS_SETPARAMS, keeping the other mode bits (another
	/// refclock may use the other edge) and asking for timespec stamps. The
	/// call is skipped when the mode already has them, so that a pps-gpio
	/// device (which captures assert from the start) needs no CAP_SYS_TIME.
	/// The edge stamped before open() is not delivered.
	///
	/// When the device cannot be opened (ENOENT, EACCES, ENODEV…), or fails
	/// while being set up, that is logged once and the object returned is
	/// closed: poll() tries again. Errors, for a device that is there but
	/// will not do: Errc::Unsupported (it cannot capture `edge`, or stamp in
	/// timespec format), ENOTTY/EINVAL (not a PPS device), EPERM
	/// (PPS_SETPARAMS without CAP_SYS_TIME). The caller logs the error and
	/// runs without this refclock. `log` must outlive the object.
	static Result<PpsRefclock> open(std::string path, PpsEdge edge, Logger &log,
					PpsSyscalls sys = {});

	PpsRefclock(PpsRefclock &&other) noexcept = default;
	PpsRefclock &operator=(PpsRefclock &&other) noexcept = default;
	PpsRefclock(const PpsRefclock &) = delete;
	PpsRefclock &operator=(const PpsRefclock &) = delete;
	/// Closes the device (its mode is left as it is, as chronyd leaves it).
	~PpsRefclock() = default;

	/// "PPS /dev/pps0", or "PPS /dev/pps0:clear": names the source in log lines.
	const std::string &name() const { return name_; }
	const std::string &path() const { return path_; }
	PpsEdge edge() const { return edge_; }
	bool is_open() const { return fd_.valid(); }

	/// Called by the loop every dpoll (`now`: the loop's monotonic time, for
	/// the rate limit of the bad-sample log). Opens the device if it is
	/// closed, then fetches the last edge without waiting. Returns the edge
	/// as a pulse sample (refclock/pulse.h) when its sequence number moved
	/// since the last poll, counting the pulses it skipped as missed;
	/// nullopt when there is no new edge, when the device is closed, or when
	/// the edge's time stamp is impossible (counted as bad, logged at most
	/// once a minute). A fetch that fails with ENODEV, EIO or ENXIO closes
	/// the device; other failures leave it open; either is logged once until
	/// a fetch works again. Never blocks.
	std::optional<RawSample> poll(MonoTime now);

	const PpsStats &stats() const { return stats_; }

private:
	PpsRefclock(std::string path, PpsEdge edge, Logger &log, PpsSyscalls sys);
	/// Opens and sets up the device. The error says whether it is the
	/// device's answer (permanent) or a missing or vanishing device.
	Result<UniqueFd> open_device(bool &permanent);
	bool reopen();

	std::string path_;
	PpsEdge edge_;
	std::string name_;
	Logger *log_;
	PpsSyscalls sys_;
	UniqueFd fd_;  ///< closed with sys_.close
	uint32_t last_seq_ = 0;
	bool open_warned_ = false;   ///< a failed open was logged, none has worked since
	bool fetch_warned_ = false;  ///< a failed fetch was logged, none has worked since
	BadSampleLog bad_log_;
	PpsStats stats_;
};

} // namespace strata::refclock
