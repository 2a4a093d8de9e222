// A fake PTP hardware clock kernel for the PHC driver's tests: open, close,
// ioctl, read and poll as PhcSyscalls, plus the two interface lookups, over
// one simulated /dev/ptpN and a simulated system clock.
//
// The PHC runs at `true_offset` from the system clock plus `freq_ppm` times
// the system time elapsed since `epoch`, so offset_at() is the truth a test
// compares the driver's samples with. Reading takes time, as it does on
// real hardware: every reading opens a window of `latency` (plus up to
// `latency_jitter`) on the system clock, the PHC latches near the middle
// (± `latch_jitter`), and with `spike_probability` the window grows by a
// stall of `spike_min`–`spike_max`, at a random point of which the PHC
// latches (the stall splits unevenly before and after the latch), as a
// Raspberry Pi CM4/CM5 PHY read over MDIO does when the bus is busy.
// PTP_SYS_OFFSET brackets the whole driver call, so its windows are wider
// by `plain_overhead`. The system clock moves on with every reading; tests
// move it between polls with advance().
//
// Each reading ioctl can be refused with an errno (to test the fallback
// order), every reading can fail, readings can come back with garbage, and
// the device can be unplugged (open: ENOENT; calls on the open file:
// ENODEV, poll: POLLERR|POLLHUP) and plugged back. Pins, external
// time-stamp channels and the event queue behave as the kernel's: only an
// enabled channel latches the edges it was asked for, pins and channels
// need a file opened for writing, and the queue is shared by every open
// file (inject_event() plays another program's channel).
#pragma once

#include <fcntl.h>
#include <linux/ptp_clock.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "core/random.h"
#include "phc/phc_device_linux.h"

namespace strata::phc {

class FakePhc {
public:
	using us = std::chrono::microseconds;
	using ns = std::chrono::nanoseconds;

	// The clock.
	std::string path = "/dev/ptp0";
	RealTime sys = RealTime::from_parts(1'700'000'000, 0);  ///< the system clock now
	RealTime epoch = RealTime::from_parts(1'700'000'000, 0);
	Duration true_offset = std::chrono::seconds(37) + ns(1234);  ///< PHC − system at `epoch`
	double freq_ppm = 0.0;  ///< PHC rate against the system clock

	// How reading it behaves.
	Duration latency = us(30);
	Duration latency_jitter = us(2);
	Duration latch_jitter = ns(200);
	double spike_probability = 0.0;
	Duration spike_min = us(20);
	Duration spike_max = us(500);
	Duration plain_overhead = us(3);
	Duration gap = us(1);  ///< between readings
	Duration precise_latency = us(5);

	// What the kernel and the driver have.
	PhcCaps caps{.n_ext_ts = 2, .n_pins = 4, .cross_timestamping = true};
	int refuse_precise = 0;  ///< errno of PTP_SYS_OFFSET_PRECISE while non-zero
	int refuse_extended = 0;
	int refuse_plain = 0;
	int fail_readings = 0;   ///< errno of every reading ioctl while non-zero (EIO)
	int refuse_getcaps = 0;  ///< errno of PTP_CLOCK_GETCAPS (ENOTTY: not a PHC)
	int garbage_readings = 0;   ///< the next readings get a PHC time with nsec ≥ 1e9
	int negative_readings = 0;  ///< the next readings get a negative window

	// Interfaces: name → PHC index (−1: no PHC).
	std::map<std::string, int> interfaces;
	bool netlink_has_tsinfo = true;

	// What happened.
	std::map<unsigned long, int> ioctl_calls;
	int open_calls = 0;
	int netlink_calls = 0;
	int ethtool_ioctl_calls = 0;
	int last_open_flags = 0;

	explicit FakePhc(uint64_t seed = 1) : rng_(seed) {}

	PhcSyscalls syscalls()
	{
		return {
			.open = [this](const char *p, int flags) { return open(p, flags); },
			.close = [this](int fd) { return close(fd); },
			.ioctl = [this](int fd, unsigned long request, void *arg) {
				return ioctl(fd, request, arg);
			},
			.read = [this](int fd, void *buf, size_t count) { return read(fd, buf, count); },
			.poll = [this](struct pollfd *fds, nfds_t nfds, int timeout_ms) {
				return poll(fds, nfds, timeout_ms);
			},
			.phc_index_netlink = [this](const std::string &name) -> Result<int> {
				netlink_calls++;
				if (!netlink_has_tsinfo) {
					return fail_errno("ethtool netlink TSINFO_GET " + name, EOPNOTSUPP);
				}
				return lookup("ethtool netlink TSINFO_GET " + name, name);
			},
			.phc_index_ioctl = [this](const std::string &name) -> Result<int> {
				ethtool_ioctl_calls++;
				return lookup("SIOCETHTOOL ETHTOOL_GET_TS_INFO " + name, name);
			},
		};
	}

	/// The PHC's time at system time `t`: the truth.
	PhcInstant phc_at(RealTime t) const
	{
		Duration elapsed = t - epoch;
		auto drift = Duration(static_cast<int64_t>(static_cast<double>(elapsed.count()) * freq_ppm * 1e-6));
		return PhcInstant{t.since_epoch + true_offset + drift};
	}
	/// PHC − system at system time `t`.
	Duration offset_at(RealTime t) const { return phc_at(t).since_epoch - t.since_epoch; }

	void advance(Duration d) { sys += d; }

	/// The device goes away (driver unbound): the open files answer ENODEV.
	void unplug()
	{
		present_ = false;
		for (auto &[fd, f] : files_) {
			f.dead = true;
		}
		pins_.clear();
		extts_.clear();
		events_.clear();
	}
	/// A new device at the same path.
	void plug() { present_ = true; }

	/// A signal edge at system time `at` on `channel`: latched if the
	/// channel is enabled for that edge.
	void edge(RealTime at, bool rising, unsigned channel = 0)
	{
		auto it = extts_.find(channel);
		if (it == extts_.end()) {
			return;
		}
		unsigned want = rising ? PTP_RISING_EDGE : PTP_FALLING_EDGE;
		if ((it->second & want) == 0) {
			return;
		}
		PhcInstant t = phc_at(at);
		struct ptp_extts_event e{};
		e.t.sec = t.seconds();
		e.t.nsec = static_cast<uint32_t>(t.subsec_ns());
		e.index = channel;
		events_.push_back(e);
	}
	/// An event as it comes, whatever is enabled (another program's
	/// channel on the shared queue, or garbage).
	void inject_event(const struct ptp_extts_event &e) { events_.push_back(e); }
	size_t queued_events() const { return events_.size(); }

	/// The flags PTP_EXTTS_REQUEST left on `channel` (0: off).
	unsigned extts_flags(unsigned channel) const
	{
		auto it = extts_.find(channel);
		return it == extts_.end() ? 0 : it->second;
	}
	/// The function and channel PTP_PIN_SETFUNC gave `pin` (PTP_PF_NONE by default).
	std::pair<unsigned, unsigned> pin(unsigned index) const
	{
		auto it = pins_.find(index);
		return it == pins_.end() ? std::pair<unsigned, unsigned>{PTP_PF_NONE, 0} : it->second;
	}
	int open_files() const { return static_cast<int>(files_.size()); }
	int calls(unsigned long request) const
	{
		auto it = ioctl_calls.find(request);
		return it == ioctl_calls.end() ? 0 : it->second;
	}

private:
	struct File {
		bool writable = false;
		bool dead = false;
	};

	Result<int> lookup(const std::string &what, const std::string &name)
	{
		auto it = interfaces.find(name);
		if (it == interfaces.end()) {
			return fail_errno(what, ENODEV);
		}
		return it->second;
	}

	Duration uniform(Duration lo, Duration hi)
	{
		return lo + Duration(static_cast<int64_t>(rng_.uniform() * static_cast<double>((hi - lo).count())));
	}

	static void put(struct ptp_clock_time &out, Duration t)
	{
		RealTime r{t};
		out.sec = r.seconds();
		out.nsec = static_cast<uint32_t>(r.subsec_ns());
	}

	/// One reading starting now: the window and the latch point in it.
	std::pair<Duration, Duration> reading_window(Duration extra)
	{
		Duration window = latency + extra + uniform(Duration::zero(), latency_jitter);
		Duration latch = window / 2 + uniform(-latch_jitter, latch_jitter);
		if (spike_probability > 0 && rng_.uniform() < spike_probability) {
			// The stall falls partly before the latch and partly after it.
			Duration stall = uniform(spike_min, spike_max);
			window += stall;
			latch += uniform(Duration::zero(), stall);
		}
		return {window, latch};
	}

	/// The PHC time of a reading latched at `at`, spoilt when asked to.
	void put_phc(struct ptp_clock_time &out, RealTime at)
	{
		put(out, phc_at(at).since_epoch);
		if (garbage_readings > 0) {
			garbage_readings--;
			out.nsec = 1'500'000'000u;
		}
	}

	int open(const char *p, int flags)
	{
		open_calls++;
		last_open_flags = flags;
		EXPECT_NE(flags & O_CLOEXEC, 0);
		if (!present_ || p != path) {
			errno = ENOENT;
			return -1;
		}
		int fd = next_fd_++;
		files_[fd] = File{.writable = (flags & O_ACCMODE) != O_RDONLY};
		return fd;
	}

	int close(int fd)
	{
		if (files_.erase(fd) == 0) {
			ADD_FAILURE() << "close of fd " << fd << " not open";
			errno = EBADF;
			return -1;
		}
		return 0;
	}

	int error(int err)
	{
		errno = err;
		return -1;
	}

	int ioctl(int fd, unsigned long request, void *arg)
	{
		ioctl_calls[request]++;
		auto it = files_.find(fd);
		if (it == files_.end()) {
			ADD_FAILURE() << "ioctl on fd " << fd << " not open";
			return error(EBADF);
		}
		if (it->second.dead) {
			return error(ENODEV);
		}
		switch (request) {
		case PTP_CLOCK_GETCAPS: {
			if (refuse_getcaps != 0) {
				return error(refuse_getcaps);
			}
			auto *c = static_cast<struct ptp_clock_caps *>(arg);
			*c = {};
			c->n_ext_ts = caps.n_ext_ts;
			c->n_pins = caps.n_pins;
			c->cross_timestamping = caps.cross_timestamping ? 1 : 0;
			return 0;
		}
		case PTP_SYS_OFFSET_PRECISE:
			if (refuse_precise != 0) {
				return error(refuse_precise);
			}
			if (fail_readings != 0) {
				return error(fail_readings);
			}
			return precise(*static_cast<struct ptp_sys_offset_precise *>(arg));
		case PTP_SYS_OFFSET_EXTENDED:
			if (refuse_extended != 0) {
				return error(refuse_extended);
			}
			if (fail_readings != 0) {
				return error(fail_readings);
			}
			return extended(*static_cast<struct ptp_sys_offset_extended *>(arg));
		case PTP_SYS_OFFSET:
			if (refuse_plain != 0) {
				return error(refuse_plain);
			}
			if (fail_readings != 0) {
				return error(fail_readings);
			}
			return plain(*static_cast<struct ptp_sys_offset *>(arg));
		case PTP_PIN_SETFUNC: {
			if (!it->second.writable) {
				return error(EACCES);
			}
			auto *desc = static_cast<struct ptp_pin_desc *>(arg);
			if (caps.n_pins == 0) {
				return error(EOPNOTSUPP);
			}
			if (desc->index >= static_cast<unsigned>(caps.n_pins) ||
			    desc->chan >= static_cast<unsigned>(caps.n_ext_ts)) {
				return error(EINVAL);
			}
			pins_[desc->index] = {desc->func, desc->chan};
			return 0;
		}
		case PTP_EXTTS_REQUEST: {
			if (!it->second.writable) {
				return error(EACCES);
			}
			auto *req = static_cast<struct ptp_extts_request *>(arg);
			if (req->index >= static_cast<unsigned>(caps.n_ext_ts)) {
				return error(EINVAL);
			}
			if ((req->flags & PTP_ENABLE_FEATURE) != 0) {
				extts_[req->index] = req->flags;
			} else {
				extts_.erase(req->index);
			}
			return 0;
		}
		default:
			return error(ENOTTY);
		}
	}

	int precise(struct ptp_sys_offset_precise &off)
	{
		off = {};
		put(off.sys_realtime, sys.since_epoch);
		put_phc(off.device, sys);
		sys += precise_latency;
		return 0;
	}

	int extended(struct ptp_sys_offset_extended &off)
	{
		if (off.n_samples == 0 || off.n_samples > PTP_MAX_SAMPLES || off.rsv[0] != 0 ||
		    off.rsv[1] != 0 || off.rsv[2] != 0) {
			return error(EINVAL);
		}
		for (size_t i = 0; i < off.n_samples; i++) {
			auto [window, latch] = reading_window(Duration::zero());
			RealTime before = sys;
			RealTime after = before + window;
			if (negative_readings > 0) {
				negative_readings--;
				after = before - us(10);
			}
			put(off.ts[i][0], before.since_epoch);
			put_phc(off.ts[i][1], before + latch);
			put(off.ts[i][2], after.since_epoch);
			sys = before + window + gap;
		}
		return 0;
	}

	int plain(struct ptp_sys_offset &off)
	{
		if (off.n_samples == 0 || off.n_samples > PTP_MAX_SAMPLES) {
			return error(EINVAL);
		}
		put(off.ts[0], sys.since_epoch);
		for (size_t i = 0; i < off.n_samples; i++) {
			auto [window, latch] = reading_window(plain_overhead);
			RealTime before = sys;
			put_phc(off.ts[2 * i + 1], before + latch);
			sys = before + window;
			put(off.ts[2 * i + 2], sys.since_epoch);
		}
		return 0;
	}

	ssize_t read(int fd, void *buf, size_t count)
	{
		auto it = files_.find(fd);
		if (it == files_.end()) {
			ADD_FAILURE() << "read of fd " << fd << " not open";
			return error(EBADF);
		}
		if (it->second.dead) {
			return error(ENODEV);
		}
		constexpr size_t kSize = sizeof(struct ptp_extts_event);
		if (count < kSize || count % kSize != 0) {
			return error(EINVAL);
		}
		if (events_.empty()) {
			ADD_FAILURE() << "read of an empty queue: the real one blocks";
			return error(EINTR);
		}
		size_t n = std::min(count / kSize, events_.size());
		for (size_t i = 0; i < n; i++) {
			std::memcpy(static_cast<char *>(buf) + i * kSize, &events_.front(), kSize);
			events_.pop_front();
		}
		return static_cast<ssize_t>(n * kSize);
	}

	int poll(struct pollfd *fds, nfds_t nfds, int timeout_ms)
	{
		EXPECT_EQ(timeout_ms, 0) << "the driver must never wait";
		int ready = 0;
		for (nfds_t i = 0; i < nfds; i++) {
			auto it = files_.find(fds[i].fd);
			fds[i].revents = 0;
			if (it == files_.end()) {
				fds[i].revents = POLLNVAL;
			} else if (it->second.dead) {
				fds[i].revents = POLLERR | POLLHUP;
			} else if (!events_.empty()) {
				fds[i].revents = static_cast<short>(fds[i].events & POLLIN);
			}
			ready += fds[i].revents != 0 ? 1 : 0;
		}
		return ready;
	}

	Xoshiro256 rng_;
	bool present_ = true;
	int next_fd_ = 100;
	std::map<int, File> files_;
	std::map<unsigned, std::pair<unsigned, unsigned>> pins_;  ///< pin → (function, channel)
	std::map<unsigned, unsigned> extts_;                      ///< channel → request flags
	std::deque<struct ptp_extts_event> events_;
};

} // namespace strata::phc
