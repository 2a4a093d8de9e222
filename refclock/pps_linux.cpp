#include "refclock/pps_linux.h"

#include <fcntl.h>
#include <linux/pps.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include <fmt/format.h>

#include "refclock/pulse.h"

namespace strata::refclock {

namespace {

PpsSyscalls with_defaults(PpsSyscalls sys)
{
	if (!sys.open) {
		sys.open = [](const char *path, int flags) { return ::open(path, flags); };
	}
	if (!sys.ioctl) {
		sys.ioctl = [](int fd, unsigned long request, void *arg) {
			return ::ioctl(fd, request, arg);
		};
	}
	// sys.close stays as given: empty, UniqueFd closes with close(2).
	return sys;
}

int capture_bit(PpsEdge edge)
{
	return edge == PpsEdge::Clear ? PPS_CAPTURECLEAR : PPS_CAPTUREASSERT;
}

/// Errors of a device that went away under us, rather than of one that
/// refuses a request.
bool is_gone(int err)
{
	return err == ENODEV || err == EIO || err == ENXIO || err == ENOENT;
}

std::string describe_caps(int caps)
{
	std::string edges;
	if ((caps & PPS_CAPTUREASSERT) != 0) {
		edges = "assert";
	}
	if ((caps & PPS_CAPTURECLEAR) != 0) {
		edges += edges.empty() ? "clear" : " and clear";
	}
	return edges.empty() ? "no edge" : edges;
}

} // namespace

PpsRefclock::PpsRefclock(std::string path, PpsEdge edge, Logger &log, PpsSyscalls sys)
	: path_(std::move(path)), edge_(edge),
	  name_(edge == PpsEdge::Clear ? fmt::format("PPS {}:clear", path_)
				       : fmt::format("PPS {}", path_)),
	  log_(&log), sys_(with_defaults(std::move(sys)))
{
}

Result<PpsRefclock> PpsRefclock::open(std::string path, PpsEdge edge, Logger &log,
				      PpsSyscalls sys)
{
	PpsRefclock pps(std::move(path), edge, log, std::move(sys));
	bool permanent = false;
	auto fd = pps.open_device(permanent);
	if (fd) {
		pps.fd_ = std::move(*fd);
		log.debug("{}: opened", pps.name_);
		return pps;
	}
	if (permanent) {
		return tl::unexpected(fd.error());
	}
	log.warning("{}: {}; trying again at every poll", pps.name_, fd.error().message());
	pps.open_warned_ = true;
	return pps;
}

Result<UniqueFd> PpsRefclock::open_device(bool &permanent)
{
	permanent = false;
	UniqueFd device(sys_.open(path_.c_str(), O_RDONLY | O_CLOEXEC), sys_.close);
	if (!device.valid()) {
		int err = errno;
		stats_.errors++;
		return fail_errno(fmt::format("Could not open {}", path_), err);
	}
	// From here on the device is there: what it refuses, it will refuse
	// again, unless it is going away as we speak. (Returning closes it.)
	int fd = device.get();
	auto refuse = [&](std::string what, int err) {
		stats_.errors++;
		permanent = !is_gone(err);
		return fail_errno(fmt::format("{} {}", what, path_), err);
	};

	int caps = 0;
	if (sys_.ioctl(fd, PPS_GETCAP, &caps) != 0) {
		return refuse("PPS_GETCAP", errno);
	}
	int bit = capture_bit(edge_);
	if ((caps & bit) == 0 || (caps & PPS_TSFMT_TSPEC) == 0) {
		stats_.errors++;
		permanent = true;
		if ((caps & bit) == 0) {
			return fail(Errc::Unsupported,
				    fmt::format("{} cannot capture {} edges (it captures {})",
						path_, to_string(edge_), describe_caps(caps)));
		}
		return fail(Errc::Unsupported,
			    fmt::format("{} does not give timespec time stamps", path_));
	}

	pps_kparams params{};
	if (sys_.ioctl(fd, PPS_GETPARAMS, &params) != 0) {
		return refuse("PPS_GETPARAMS", errno);
	}
	if ((params.mode & bit) == 0 || (params.mode & PPS_TSFMT_TSPEC) == 0 ||
	    (params.mode & PPS_TSFMT_NTPFP) != 0) {
		params.api_version = PPS_API_VERS;
		params.mode = (params.mode & ~PPS_TSFMT_NTPFP) | bit | PPS_TSFMT_TSPEC;
		if (sys_.ioctl(fd, PPS_SETPARAMS, &params) != 0) {
			int err = errno;
			if (err == EPERM) {
				stats_.errors++;
				permanent = true;
				return fail_errno(
					fmt::format("PPS_SETPARAMS {} (capturing {} edges needs "
						    "CAP_SYS_TIME)",
						    path_, to_string(edge_)),
					err);
			}
			return refuse("PPS_SETPARAMS", err);
		}
	}

	// The edge stamped before now is old news: remember its number only.
	pps_fdata data{};
	if (sys_.ioctl(fd, PPS_FETCH, &data) != 0) {
		return refuse("PPS_FETCH", errno);
	}
	last_seq_ = edge_ == PpsEdge::Clear ? data.info.clear_sequence : data.info.assert_sequence;
	return device;
}

bool PpsRefclock::reopen()
{
	bool permanent = false;
	auto fd = open_device(permanent);
	if (!fd) {
		if (!open_warned_) {
			log_->warning("{}: {}; trying again at every poll", name_,
				      fd.error().message());
			open_warned_ = true;
		}
		return false;
	}
	fd_ = std::move(*fd);
	stats_.reopened++;
	fetch_warned_ = false;
	log_->info("{}: device opened", name_);
	open_warned_ = false;
	return true;
}

std::optional<RawSample> PpsRefclock::poll(MonoTime now)
{
	if (!fd_.valid() && !reopen()) {
		return std::nullopt;
	}
	// A zero timeout (and no PPS_TIME_INVALID flag) asks for the last edge
	// at once, without waiting for the next.
	pps_fdata data{};
	if (sys_.ioctl(fd_.get(), PPS_FETCH, &data) != 0) {
		int err = errno;
		if (err == EINTR) {
			return std::nullopt;
		}
		stats_.errors++;
		if (is_gone(err)) {
			log_->warning("{}: device lost (PPS_FETCH: {}); opening it again at every "
				      "poll",
				      name_, std::generic_category().message(err));
			fd_.reset();
			open_warned_ = true;  // the line above said it
			fetch_warned_ = false;
		} else if (!fetch_warned_) {
			log_->warning("{}: PPS_FETCH failed: {}", name_,
				      std::generic_category().message(err));
			fetch_warned_ = true;
		}
		return std::nullopt;
	}
	if (fetch_warned_) {
		log_->info("{}: PPS_FETCH works again", name_);
		fetch_warned_ = false;
	}

	bool clear = edge_ == PpsEdge::Clear;
	uint32_t seq = clear ? data.info.clear_sequence : data.info.assert_sequence;
	const pps_ktime &stamp = clear ? data.info.clear_tu : data.info.assert_tu;
	if (seq == last_seq_) {
		return std::nullopt;
	}
	uint32_t step = seq - last_seq_;
	last_seq_ = seq;
	// A number that went back (a device registered anew under the same
	// path) is no count of lost pulses.
	if (step > 1 && step < 0x80000000u) {
		stats_.missed += step - 1;
		log_->debug("{}: {} pulses missed", name_, step - 1);
	}
	auto edge = pps_edge_time(stamp.sec, stamp.nsec);
	if (!edge) {
		stats_.bad++;
		bad_log_.report(*log_, now, name_,
				fmt::format("time stamp {}.{:09} (sequence {})", stamp.sec,
					    stamp.nsec, seq));
		return std::nullopt;
	}
	stats_.pulses++;
	return pulse_sample(*edge);
}

} // namespace strata::refclock
