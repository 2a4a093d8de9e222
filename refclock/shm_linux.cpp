#include "refclock/shm_linux.h"

#include <sys/ipc.h>
#include <sys/shm.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace strata::refclock {

namespace {

using Word = unsigned;
static_assert(kShmSize % sizeof(Word) == 0);
static_assert(offsetof(ShmTime, count) % sizeof(Word) == 0);
static_assert(offsetof(ShmTime, valid) % sizeof(Word) == 0);
constexpr size_t kWords = kShmSize / sizeof(Word);
constexpr size_t kCountWord = offsetof(ShmTime, count) / sizeof(Word);
constexpr size_t kValidWord = offsetof(ShmTime, valid) / sizeof(Word);

void *const kShmatFailed = reinterpret_cast<void *>(-1);

ShmSyscalls with_defaults(ShmSyscalls sys)
{
	if (!sys.shmget) {
		sys.shmget = [](key_t key, size_t size, int flags) {
			return ::shmget(key, size, flags);
		};
	}
	if (!sys.shmat) {
		sys.shmat = [](int id, const void *addr, int flags) {
			return ::shmat(id, addr, flags);
		};
	}
	if (!sys.shmdt) {
		sys.shmdt = [](const void *addr) { return ::shmdt(addr); };
	}
	return sys;
}

std::atomic_ref<Word> word(void *base, size_t index)
{
	return std::atomic_ref<Word>(static_cast<Word *>(base)[index]);
}

} // namespace

Result<ShmSegment> ShmSegment::attach(int key, int perm, ShmSyscalls sys)
{
	sys = with_defaults(std::move(sys));
	int id = sys.shmget(static_cast<key_t>(key), kShmSize, IPC_CREAT | (perm & 0777));
	if (id < 0) {
		int err = errno;
		return fail_errno(fmt::format("shmget({:#x})", key), err);
	}
	void *base = sys.shmat(id, nullptr, 0);
	if (base == kShmatFailed) {
		int err = errno;
		return fail_errno(fmt::format("shmat({:#x})", key), err);
	}
	return ShmSegment(key, id, base, std::move(sys));
}

ShmSegment::ShmSegment(ShmSegment &&other) noexcept
	: key_(other.key_), id_(other.id_), base_(std::exchange(other.base_, nullptr)),
	  sys_(std::move(other.sys_))
{
}

ShmSegment &ShmSegment::operator=(ShmSegment &&other) noexcept
{
	if (this != &other) {
		detach();
		key_ = other.key_;
		id_ = other.id_;
		base_ = std::exchange(other.base_, nullptr);
		sys_ = std::move(other.sys_);
	}
	return *this;
}

ShmSegment::~ShmSegment()
{
	detach();
}

void ShmSegment::detach()
{
	if (base_ != nullptr) {
		sys_.shmdt(base_);  // nothing to do about a failure on the way out
		base_ = nullptr;
	}
}

ShmSnapshot ShmSegment::read() const
{
	std::array<Word, kWords> copy;
	Word before = word(base_, kCountWord).load(std::memory_order_acquire);
	for (size_t i = 0; i < kWords; i++) {
		copy[i] = word(base_, i).load(std::memory_order_relaxed);
	}
	// The field loads above may not move below the second read of count.
	std::atomic_thread_fence(std::memory_order_acquire);
	Word after = word(base_, kCountWord).load(std::memory_order_relaxed);
	copy[kCountWord] = before;

	ShmSnapshot snapshot;
	std::memcpy(snapshot.bytes.data(), copy.data(), kShmSize);
	snapshot.count_after = static_cast<int>(after);
	return snapshot;
}

void ShmSegment::clear_valid()
{
	word(base_, kValidWord).store(0, std::memory_order_release);
}

Result<bool> ShmSegment::is_current() const
{
	int id = sys_.shmget(static_cast<key_t>(key_), 0, 0);
	if (id < 0) {
		int err = errno;
		if (err == ENOENT) {
			return false;
		}
		return fail_errno(fmt::format("shmget({:#x})", key_), err);
	}
	return id == id_;
}

ShmRefclock::ShmRefclock(ShmOptions options, Logger &log, ShmSyscalls sys)
	: options_(options), log_(&log), sys_(std::move(sys)),
	  name_(fmt::format("SHM{}", options.unit))
{
}

std::optional<RawSample> ShmRefclock::poll(MonoTime now)
{
	if (!segment_ && !attach()) {
		return std::nullopt;
	}
	ShmSnapshot snapshot = segment_->read();
	ShmSkip why = ShmSkip::None;
	std::string detail;
	auto sample = parse_shm(snapshot.bytes, snapshot.count_after, why, &detail);
	if (shm_consumes(why)) {
		segment_->clear_valid();
	}
	switch (why) {
	case ShmSkip::None:
		stats_.samples++;
		return sample;
	case ShmSkip::NotValid:
		reattach_if_replaced();
		break;
	case ShmSkip::Torn:
		stats_.torn++;
		log_->debug("{}: sample ignored: {} ({})", name_, to_string(why), detail);
		break;
	case ShmSkip::Unsynchronized:
		stats_.unsynchronized++;
		log_->debug("{}: sample ignored: {}", name_, to_string(why));
		break;
	case ShmSkip::TooShort:
	case ShmSkip::BadMode:
	case ShmSkip::BadLeap:
	case ShmSkip::BadTime:
		stats_.bad++;
		bad_log_.report(*log_, now, name_, fmt::format("{} ({})", to_string(why), detail));
		break;
	}
	return std::nullopt;
}

bool ShmRefclock::attach()
{
	auto segment = ShmSegment::attach(options_.key(), options_.perm, sys_);
	if (!segment) {
		stats_.attach_failures++;
		if (!attach_warned_) {
			log_->warning("{}: could not attach the segment: {}; "
				      "trying again at every poll",
				      name_, segment.error().message());
			attach_warned_ = true;
		}
		return false;
	}
	if (attach_warned_) {
		log_->info("{}: attached segment {:#x}", name_, options_.key());
		attach_warned_ = false;
	} else {
		log_->debug("{}: attached segment {:#x} (id {})", name_, options_.key(),
			    segment->id());
	}
	segment_.emplace(std::move(*segment));
	return true;
}

void ShmRefclock::reattach_if_replaced()
{
	auto current = segment_->is_current();
	if (current && *current) {
		return;
	}
	if (current) {
		log_->info("{}: segment {:#x} was removed or replaced; attaching again", name_,
			   options_.key());
	} else {
		// The key names a segment this user may not use: not ours any more.
		log_->info("{}: {}; attaching again", name_, current.error().message());
	}
	stats_.reattached++;
	segment_.reset();
	attach();
}

} // namespace strata::refclock
