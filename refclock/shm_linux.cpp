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

using Word = uint32_t;

constexpr bool words_fit(ShmLayout layout)
{
	ShmLayoutInfo info = shm_layout_info(layout);
	return info.size % sizeof(Word) == 0 && info.count_offset % sizeof(Word) == 0 &&
	       info.valid_offset % sizeof(Word) == 0;
}
static_assert(words_fit(ShmLayout::Time64) && words_fit(ShmLayout::Time32));

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
	auto k = static_cast<key_t>(key);
	constexpr size_t kSize64 = shm_layout_info(ShmLayout::Time64).size;
	constexpr size_t kSize32 = shm_layout_info(ShmLayout::Time32).size;
	int id = -1;
	ShmLayout layout = kNativeShmLayout;
	// A segment that exists is the writer's, in the layout its size says
	// (shmget fails with EINVAL when asked for more than a segment holds);
	// only when there is none does the daemon make one, of its own layout.
	// Twice, in case a writer makes its segment between the two calls.
	for (int attempt = 0; id < 0 && attempt < 2; attempt++) {
		id = sys.shmget(k, kSize64, 0);
		if (id >= 0) {
			layout = ShmLayout::Time64;
			break;
		}
		int err = errno;
		if (err == EINVAL) {
			id = sys.shmget(k, kSize32, 0);
			if (id < 0) {
				err = errno;
				return fail_errno(fmt::format("shmget({:#x})", key), err);
			}
			layout = ShmLayout::Time32;
			break;
		}
		if (err != ENOENT) {
			return fail_errno(fmt::format("shmget({:#x})", key), err);
		}
		layout = kNativeShmLayout;
		id = sys.shmget(k, shm_layout_info(layout).size, IPC_CREAT | IPC_EXCL | (perm & 0777));
		if (id < 0) {
			err = errno;
			if (err != EEXIST || attempt == 1) {
				return fail_errno(fmt::format("shmget({:#x})", key), err);
			}
		}
	}
	void *base = sys.shmat(id, nullptr, 0);
	if (base == kShmatFailed) {
		int err = errno;
		return fail_errno(fmt::format("shmat({:#x})", key), err);
	}
	return ShmSegment(key, id, layout, base, std::move(sys));
}

ShmSegment::ShmSegment(ShmSegment &&other) noexcept
	: key_(other.key_), id_(other.id_), layout_(other.layout_),
	  base_(std::exchange(other.base_, nullptr)),
	  sys_(std::move(other.sys_))
{
}

ShmSegment &ShmSegment::operator=(ShmSegment &&other) noexcept
{
	if (this != &other) {
		detach();
		key_ = other.key_;
		id_ = other.id_;
		layout_ = other.layout_;
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
	ShmLayoutInfo info = shm_layout_info(layout_);
	size_t words = info.size / sizeof(Word);
	size_t count_word = info.count_offset / sizeof(Word);
	std::array<Word, kShmMaxSize / sizeof(Word)> copy{};
	Word before = word(base_, count_word).load(std::memory_order_acquire);
	for (size_t i = 0; i < words; i++) {
		copy[i] = word(base_, i).load(std::memory_order_relaxed);
	}
	// The field loads above may not move below the second read of count.
	std::atomic_thread_fence(std::memory_order_acquire);
	Word after = word(base_, count_word).load(std::memory_order_relaxed);
	copy[count_word] = before;

	ShmSnapshot snapshot;
	snapshot.layout = layout_;
	std::memcpy(snapshot.bytes.data(), copy.data(), info.size);
	snapshot.count_after = static_cast<int>(after);
	return snapshot;
}

void ShmSegment::clear_valid()
{
	word(base_, shm_layout_info(layout_).valid_offset / sizeof(Word))
		.store(0, std::memory_order_release);
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
	auto sample = parse_shm(snapshot.segment(), snapshot.layout, snapshot.count_after, why, &detail);
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
	if (segment->layout() != kNativeShmLayout) {
		// Worth saying: the writer is built with another time_t than this
		// system's usual one (a 32-bit gpsd on a 64-bit system, or a
		// 64-bit-time_t one on armhf).
		log_->info("{}: attached segment {:#x} of a writer with a {} (by its size)", name_,
			   options_.key(), shm_layout_info(segment->layout()).name);
		attach_warned_ = false;
	} else if (attach_warned_) {
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
