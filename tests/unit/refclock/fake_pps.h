// A fake kernel PPS subsystem for the PPS adapter's tests: open, ioctl and
// close as PpsSyscalls, over devices that live in the test. It keeps the
// rules of drivers/pps/pps.c that the adapter relies on: PPS_GETCAP returns
// the capabilities; PPS_SETPARAMS refuses mode bits the device lacks
// (EINVAL) and callers without CAP_SYS_TIME (EPERM); PPS_FETCH with a zero
// timeout returns the last stamp and sequence number of each edge at once;
// a device that is unregistered makes open() fail with ENOENT and every
// ioctl on an fd opened before fail with ENODEV, and one registered again
// at the same path starts its sequence numbers from 0. The test plays the
// signal through pulse(), which stamps edges as the interrupt handler does.
#pragma once

#include <fcntl.h>
#include <linux/pps.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/time.h"
#include "refclock/pps_linux.h"

namespace strata::refclock {

class FakePps {
public:
	struct Device {
		/// pps-gpio's capabilities with capture-clear: both edges, offsets, echo, wait.
		int caps = PPS_CAPTUREBOTH | PPS_OFFSETASSERT | PPS_OFFSETCLEAR | PPS_CANWAIT |
			   PPS_TSFMT_TSPEC;
		/// pps-gpio's default: assert captured from registration on.
		int mode = PPS_CAPTUREASSERT | PPS_OFFSETASSERT | PPS_TSFMT_TSPEC;
		pps_kinfo info{};
		bool registered = true;
		int setparams_calls = 0;
		int fetch_calls = 0;
	};

	bool cap_sys_time = true;  ///< the caller may PPS_SETPARAMS
	int fail_open = 0;         ///< errno of every open() while non-zero
	int fail_fetch = 0;        ///< errno of every PPS_FETCH while non-zero
	int open_calls = 0;
	int close_calls = 0;

	PpsSyscalls syscalls()
	{
		return {
			.open = [this](const char *path, int flags) { return open(path, flags); },
			.ioctl = [this](int fd, unsigned long request, void *arg) {
				return ioctl(fd, request, arg);
			},
			.close = [this](int fd) { return close(fd); },
		};
	}

	/// Registers a device at `path` (anew if one was there: fresh state).
	Device &add(const std::string &path)
	{
		if (auto it = devices_.find(path); it != devices_.end()) {
			it->second->registered = false;
			retired_.push_back(std::move(it->second));
		}
		auto &d = devices_[path];
		d = std::make_unique<Device>();
		return *d;
	}

	/// Unregisters it (module unloaded, USB adapter pulled).
	void remove(const std::string &path)
	{
		auto it = devices_.find(path);
		ASSERT_NE(it, devices_.end());
		it->second->registered = false;
		retired_.push_back(std::move(it->second));
		devices_.erase(it);
	}

	Device *device(const std::string &path)
	{
		auto it = devices_.find(path);
		return it == devices_.end() ? nullptr : it->second.get();
	}

	/// An edge at `t`, as the interrupt handler stamps it (only captured
	/// edges are recorded, as pps_event() does).
	void pulse(const std::string &path, RealTime t, bool clear = false)
	{
		Device *d = device(path);
		ASSERT_NE(d, nullptr);
		pps_ktime stamp{t.seconds(), static_cast<int32_t>(t.subsec_ns()), 0};
		if (!clear && (d->mode & PPS_CAPTUREASSERT) != 0) {
			d->info.assert_sequence++;
			d->info.assert_tu = stamp;
		}
		if (clear && (d->mode & PPS_CAPTURECLEAR) != 0) {
			d->info.clear_sequence++;
			d->info.clear_tu = stamp;
		}
	}

	/// An edge with whatever stamp a broken driver might give.
	void raw_pulse(const std::string &path, int64_t sec, int32_t nsec)
	{
		Device *d = device(path);
		ASSERT_NE(d, nullptr);
		d->info.assert_sequence++;
		d->info.assert_tu = pps_ktime{sec, nsec, 0};
	}

	int open_fds() const { return static_cast<int>(fds_.size()); }

private:
	int open(const char *path, int flags)
	{
		open_calls++;
		EXPECT_NE(flags & O_CLOEXEC, 0);
		if (fail_open != 0) {
			errno = fail_open;
			return -1;
		}
		Device *d = device(path);
		if (d == nullptr) {
			errno = ENOENT;
			return -1;
		}
		int fd = next_fd_++;
		fds_[fd] = d;
		return fd;
	}

	int close(int fd)
	{
		close_calls++;
		if (fds_.erase(fd) == 0) {
			ADD_FAILURE() << "close of fd " << fd << " not open";
			errno = EBADF;
			return -1;
		}
		return 0;
	}

	int ioctl(int fd, unsigned long request, void *arg)
	{
		auto it = fds_.find(fd);
		if (it == fds_.end()) {
			ADD_FAILURE() << "ioctl on fd " << fd << " not open";
			errno = EBADF;
			return -1;
		}
		Device &d = *it->second;
		if (!d.registered) {
			errno = ENODEV;
			return -1;
		}
		switch (request) {
		case PPS_GETCAP:
			*static_cast<int *>(arg) = d.caps;
			return 0;
		case PPS_GETPARAMS: {
			auto *p = static_cast<pps_kparams *>(arg);
			*p = pps_kparams{};
			p->api_version = PPS_API_VERS;
			p->mode = d.mode;
			return 0;
		}
		case PPS_SETPARAMS: {
			d.setparams_calls++;
			if (!cap_sys_time) {
				errno = EPERM;
				return -1;
			}
			const auto *p = static_cast<const pps_kparams *>(arg);
			if ((p->mode & ~d.caps) != 0 ||
			    (p->mode & (PPS_CAPTUREASSERT | PPS_CAPTURECLEAR)) == 0) {
				errno = EINVAL;
				return -1;
			}
			d.mode = p->mode;
			return 0;
		}
		case PPS_FETCH: {
			d.fetch_calls++;
			auto *f = static_cast<pps_fdata *>(arg);
			EXPECT_EQ(f->timeout.flags & PPS_TIME_INVALID, 0u)
				<< "a fetch without a timeout would wait for the next pulse";
			EXPECT_EQ(f->timeout.sec, 0);
			EXPECT_EQ(f->timeout.nsec, 0);
			if (fail_fetch != 0) {
				errno = fail_fetch;
				return -1;
			}
			f->info = d.info;
			f->info.current_mode = d.mode;
			return 0;
		}
		default:
			errno = ENOTTY;
			return -1;
		}
	}

	std::map<std::string, std::unique_ptr<Device>> devices_;
	std::vector<std::unique_ptr<Device>> retired_;  ///< unregistered, still open by fds
	std::map<int, Device *> fds_;
	int next_fd_ = 20;
};

} // namespace strata::refclock
