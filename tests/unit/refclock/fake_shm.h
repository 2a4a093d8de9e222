// A fake System V shared-memory kernel for the SHM adapter's tests: shmget,
// shmat and shmdt as ShmSyscalls, over segments that live in the test's own
// memory. It keeps Linux's rules that the adapter relies on: IPC_CREAT makes
// a segment only when the key has none; asking for more than an existing
// segment holds is EINVAL; a removed segment (ipcrm) frees its key at once
// but its memory stays while it is attached. The test plays the writer
// (gpsd) through write_sample() and can make calls fail with an errno.
#pragma once

#include <sys/ipc.h>
#include <sys/shm.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <deque>
#include <vector>

#include <gtest/gtest.h>

#include "refclock/shm.h"
#include "refclock/shm_linux.h"

namespace strata::refclock {

class FakeShm {
public:
	struct Segment {
		int id = 0;
		int key = 0;
		size_t size = 0;
		int mode = 0;          ///< the permission bits it was created with
		bool removed = false;  ///< ipcrm'd: the key no longer finds it
		int attachments = 0;
		bool deny = false;     ///< EACCES for this user (another owner, mode 0600)
		std::vector<std::max_align_t> storage;

		void *base() { return storage.data(); }
		/// The segment as a writer of layout T sees it (the daemon's own
		/// layout unless the test plays another writer).
		template <class T = NativeShmTime>
		T &time()
		{
			EXPECT_GE(size, sizeof(T));
			return *static_cast<T *>(base());
		}
	};

	int fail_shmget = 0;  ///< errno of every shmget while non-zero
	int fail_shmat = 0;   ///< errno of every shmat while non-zero
	int shmget_calls = 0;
	int shmat_calls = 0;
	int shmdt_calls = 0;

	ShmSyscalls syscalls()
	{
		return {
			.shmget = [this](key_t key, size_t size, int flags) {
				return shmget(key, size, flags);
			},
			.shmat = [this](int id, const void *addr, int flags) {
				return shmat(id, addr, flags);
			},
			.shmdt = [this](const void *addr) { return shmdt(addr); },
		};
	}

	/// A segment made by a writer before the daemon looked (gpsd creates
	/// units 0 and 1 with mode 0600, 2 and up with 0666).
	Segment &create(int key, size_t size = kShmSize, int mode = 0600)
	{
		auto &s = segments_.emplace_back();
		s.id = next_id_++;
		s.key = key;
		s.size = size;
		s.mode = mode;
		s.storage.resize((size + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t));
		return s;
	}

	/// The segment the key names, or nullptr.
	Segment *live(int key)
	{
		for (auto &s : segments_) {
			if (!s.removed && s.key == key) {
				return &s;
			}
		}
		return nullptr;
	}

	/// ipcrm -M key.
	void remove(int key)
	{
		Segment *s = live(key);
		ASSERT_NE(s, nullptr);
		s->removed = true;
	}

	int attachments() const
	{
		int n = 0;
		for (const auto &s : segments_) {
			n += s.attachments;
		}
		return n;
	}

	size_t segment_count() const { return segments_.size(); }

	/// gpsd's ntpshm_put(): mode 1, with count bumped around the update.
	/// The seconds are truncated to the layout's time_t, as a writer's
	/// compiler would.
	template <class T>
	static void write_sample(T &t, RealTime clock, RealTime receive, int leap = 0,
				 int precision = -20, int mode = 1)
	{
		using Seconds = decltype(t.clock_sec);
		t.valid = 0;
		t.count++;
		t.mode = mode;
		t.clock_sec = static_cast<Seconds>(clock.seconds());
		t.clock_usec = static_cast<int>(clock.subsec_ns() / 1000);
		t.clock_nsec = static_cast<unsigned>(clock.subsec_ns());
		t.receive_sec = static_cast<Seconds>(receive.seconds());
		t.receive_usec = static_cast<int>(receive.subsec_ns() / 1000);
		t.receive_nsec = static_cast<unsigned>(receive.subsec_ns());
		t.leap = leap;
		t.precision = precision;
		t.count++;
		t.valid = 1;
	}

private:
	int shmget(key_t key, size_t size, int flags)
	{
		shmget_calls++;
		if (fail_shmget != 0) {
			errno = fail_shmget;
			return -1;
		}
		if (Segment *s = live(key)) {
			if ((flags & IPC_CREAT) != 0 && (flags & IPC_EXCL) != 0) {
				errno = EEXIST;
				return -1;
			}
			if (s->deny) {
				errno = EACCES;
				return -1;
			}
			if (size > s->size) {
				errno = EINVAL;
				return -1;
			}
			return s->id;
		}
		if ((flags & IPC_CREAT) == 0) {
			errno = ENOENT;
			return -1;
		}
		if (size == 0) {
			errno = EINVAL;
			return -1;
		}
		return create(key, size, flags & 0777).id;
	}

	void *shmat(int id, const void *addr, int flags)
	{
		shmat_calls++;
		EXPECT_EQ(addr, nullptr);
		EXPECT_EQ(flags, 0) << "the reader clears valid: it must attach read-write";
		if (fail_shmat != 0) {
			errno = fail_shmat;
			return reinterpret_cast<void *>(-1);
		}
		for (auto &s : segments_) {
			if (s.id == id) {  // Linux attaches removed segments too
				s.attachments++;
				return s.base();
			}
		}
		ADD_FAILURE() << "shmat of unknown id " << id;
		errno = EINVAL;
		return reinterpret_cast<void *>(-1);
	}

	int shmdt(const void *addr)
	{
		shmdt_calls++;
		for (auto &s : segments_) {
			if (s.base() == addr && s.attachments > 0) {
				s.attachments--;
				return 0;
			}
		}
		ADD_FAILURE() << "shmdt of an address not attached";
		errno = EINVAL;
		return -1;
	}

	std::deque<Segment> segments_;  ///< a deque: references stay valid as segments are added
	int next_id_ = 32768;
};

} // namespace strata::refclock
