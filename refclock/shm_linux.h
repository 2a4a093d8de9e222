// The SHM refclock on Linux: the System V segment (shmget/shmat/shmdt) and
// the driver that polls it.
//
// ShmSegment is the thin part: it creates or finds the segment of a key,
// attaches it, copies it for refclock/shm.h's parser and clears `valid`. It
// logs nothing and returns errors.
//
// ShmRefclock is the driver the poll loop calls every dpoll. Like chronyd it
// creates the segment itself (IPC_CREAT with the `perm` mode) when no writer
// has yet, so gpsd may start before or after the daemon. Unlike chronyd it
// does not give up when the segment cannot be had (a root-only segment
// another program created, one of another size): it says so once and tries
// again at every poll. And it notices when the writer's segment is no longer
// the one it holds (removed with ipcrm and made again by a restarted writer):
// after a poll with no new sample, it asks whether the key still names its
// segment, and attaches the new one if not. When samples flow, a poll costs
// no system call at all.
//
// Every system call goes through ShmSyscalls, so that tests run all of this
// against a fake kernel.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "core/log.h"
#include "core/result.h"
#include "core/time.h"
#include "refclock/bad_sample_log.h"
#include "refclock/sample.h"
#include "refclock/shm.h"

namespace strata::refclock {

/// The system calls the SHM code makes, with their libc signatures (−1, or
/// (void *)−1 for shmat, and errno on failure). Left empty, a member means
/// the real call.
struct ShmSyscalls {
	std::function<int(key_t key, size_t size, int flags)> shmget;
	std::function<void *(int id, const void *addr, int flags)> shmat;
	std::function<int(const void *addr)> shmdt;
};

/// A copy of the segment as parse_shm() takes it.
struct ShmSnapshot {
	ShmLayout layout = kNativeShmLayout;  ///< the segment's layout
	/// The segment's bytes (the first shm_layout_info(layout).size of
	/// them), its `count` field holding the count read first.
	alignas(8) std::array<std::byte, kShmMaxSize> bytes{};
	int count_after = 0;  ///< the count read last

	/// The copied struct shmTime.
	std::span<const std::byte> segment() const
	{
		return std::span<const std::byte>(bytes).first(shm_layout_info(layout).size);
	}
};

/// One attached segment. Move-only; detaches when destroyed.
class ShmSegment {
public:
	/// Finds the segment of `key`, creating it with mode `perm` (and all
	/// fields zero) if there is none, and attaches it read-write. A segment
	/// the writer created is read in the layout its size says: 96 bytes or
	/// more is ShmLayout::Time64, 80 to 95 ShmLayout::Time32 (a writer with a
	/// 32-bit time_t). One this daemon creates has kNativeShmLayout's size.
	/// Errors, as "shmget(0x4e545030)" or "shmat(0x4e545030)" with the
	/// errno: EACCES (a segment another user created without access for this
	/// one), EINVAL (a segment smaller than any struct shmTime), ENOSPC/ENOMEM
	/// (system limits). The caller retries later.
	static Result<ShmSegment> attach(int key, int perm, ShmSyscalls sys = {});

	ShmSegment(ShmSegment &&other) noexcept;
	ShmSegment &operator=(ShmSegment &&other) noexcept;
	ShmSegment(const ShmSegment &) = delete;
	ShmSegment &operator=(const ShmSegment &) = delete;
	~ShmSegment();

	int key() const { return key_; }
	int id() const { return id_; }
	ShmLayout layout() const { return layout_; }

	/// Copies the segment as a sequence-lock reader does: `count` (acquire),
	/// every field, a barrier, `count` again. Each word is read atomically,
	/// because the writer is another process writing at any moment. Never
	/// blocks.
	ShmSnapshot read() const;

	/// Clears `valid`, telling a mode-0 writer the sample was taken.
	void clear_valid();

	/// Whether the key still names this segment. false when the segment was
	/// removed (ENOENT, or another segment has the key now, made by a
	/// restarted writer); the caller then attaches again. Errors: shmget's
	/// others (EACCES: the key names a segment this user may not use).
	Result<bool> is_current() const;

private:
	ShmSegment(int key, int id, ShmLayout layout, void *base, ShmSyscalls sys)
		: key_(key), id_(id), layout_(layout), base_(base), sys_(std::move(sys))
	{
	}
	void detach();

	int key_ = 0;
	int id_ = -1;
	ShmLayout layout_ = kNativeShmLayout;
	void *base_ = nullptr;  ///< nullptr once moved from
	ShmSyscalls sys_;
};

struct ShmStats {
	uint64_t samples = 0;          ///< samples delivered
	uint64_t torn = 0;             ///< reads thrown away: the writer was mid-update
	uint64_t unsynchronized = 0;   ///< samples the writer marked leap 3
	uint64_t bad = 0;              ///< samples with an unknown mode, a bad leap or time stamp
	uint64_t attach_failures = 0;  ///< polls at which the segment could not be attached
	uint64_t reattached = 0;       ///< segments found removed or replaced
};

class ShmRefclock {
public:
	/// Attaches nothing yet: the first poll() does. `log` must outlive this.
	ShmRefclock(ShmOptions options, Logger &log, ShmSyscalls sys = {});

	/// "SHM0": names the source in log lines.
	const std::string &name() const { return name_; }
	bool attached() const { return segment_.has_value(); }

	/// Called by the loop every dpoll. Attaches the segment if needed (a
	/// failure is logged once, until an attach succeeds, and retried at the
	/// next poll), then returns the writer's new sample, if any, and clears
	/// `valid`. Bad samples are counted and logged at most once a minute;
	/// torn reads and leap-3 samples are counted and logged at debug level.
	/// `now` is the loop's monotonic time. Never blocks.
	std::optional<RawSample> poll(MonoTime now);

	const ShmStats &stats() const { return stats_; }

private:
	bool attach();
	void reattach_if_replaced();

	ShmOptions options_;
	Logger *log_;
	ShmSyscalls sys_;
	std::string name_;
	std::optional<ShmSegment> segment_;
	bool attach_warned_ = false;  ///< a failure was logged and no attach has worked since
	BadSampleLog bad_log_;
	ShmStats stats_;
};

} // namespace strata::refclock
