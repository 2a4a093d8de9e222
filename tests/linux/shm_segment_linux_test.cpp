// The SHM refclock against the kernel's own System V shared memory: a
// segment made and filled byte by byte as gpsd fills it
// (tests/unit/refclock/gpsd_shm_segments.h), then found, attached and read
// by ShmSegment and ShmRefclock through the real shmget, shmat and shmdt.
// The cross builds run this under qemu-user: built for armhf, the segment
// of the first test is the 80-byte one of Debian 12's armhf gpsd (32-bit
// time_t), read by a strata whose own time_t is 64 bits; built for amd64
// and arm64, the 96-byte one of their gpsd.
//
// The segments have keys of the test's own (never NTP0–NTP255, which a gpsd
// or chronyd on this machine may hold) and are removed at the end of each
// test. Nothing else of the machine is touched.
#include "refclock/shm_linux.h"

#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <gtest/gtest.h>

#include "tests/fakes/recording_logger.h"
#include "tests/unit/refclock/gpsd_shm_segments.h"

namespace strata::refclock {
namespace {

using namespace std::chrono_literals;

/// The segment this architecture's gpsd writes, and where its `valid` is:
/// kNativeShmLayout's (refclock/shm.h; the first test checks which one
/// that is on each architecture).
gpsd::Segment native_gpsd_segment(size_t &valid_offset)
{
	if constexpr (kNativeShmLayout == ShmLayout::Time32) {
		valid_offset = gpsd::kTime32ValidOffset;
		return gpsd::time32_segment();
	} else {
		valid_offset = gpsd::kTime64ValidOffset;
		return gpsd::time64_segment();
	}
}

/// A key no other segment has: "ST" and 16 bits from the process id,
/// stepped past the keys that are taken.
key_t unused_key()
{
	for (unsigned i = 0; i < 0x10000; i++) {
		auto key = static_cast<key_t>(0x53540000u | ((static_cast<unsigned>(::getpid()) + i) & 0xffffu));
		if (::shmget(key, 0, 0) < 0 && errno == ENOENT) {
			return key;
		}
	}
	ADD_FAILURE() << "no unused System V key";
	return IPC_PRIVATE;
}

/// Removes the segment of `key`, if any, at the end of a test.
class RemoveAtEnd {
public:
	explicit RemoveAtEnd(key_t key) : key_(key) {}
	~RemoveAtEnd()
	{
		int id = ::shmget(key_, 0, 0);
		if (id >= 0) {
			::shmctl(id, IPC_RMID, nullptr);
		}
	}
	RemoveAtEnd(const RemoveAtEnd &) = delete;
	RemoveAtEnd &operator=(const RemoveAtEnd &) = delete;

private:
	key_t key_;
};

/// The writer's side: the segment gpsd makes (as large as its struct
/// shmTime, mode 0600), attached and filled with `content`.
class Writer {
public:
	Writer(key_t key, const gpsd::Segment &content) : size_(content.bytes.size())
	{
		int id = ::shmget(key, size_, IPC_CREAT | IPC_EXCL | 0600);
		if (id < 0) {
			ADD_FAILURE() << "shmget: " << std::strerror(errno);
			return;
		}
		void *base = ::shmat(id, nullptr, 0);
		if (base == reinterpret_cast<void *>(-1)) {
			ADD_FAILURE() << "shmat: " << std::strerror(errno);
			return;
		}
		base_ = static_cast<std::byte *>(base);
		write(content);
	}
	~Writer()
	{
		if (base_ != nullptr) {
			::shmdt(base_);
		}
	}
	Writer(const Writer &) = delete;
	Writer &operator=(const Writer &) = delete;

	bool ok() const { return base_ != nullptr; }
	void write(const gpsd::Segment &content) { std::memcpy(base_, content.bytes.data(), size_); }
	int32_t word(size_t offset) const
	{
		int32_t v;
		std::memcpy(&v, base_ + offset, sizeof v);
		return v;
	}

private:
	size_t size_;
	std::byte *base_ = nullptr;
};

/// This architecture's gpsd with its segment made and filled (removed at the
/// end of the test): `writer` is its side, `valid_offset` where its `valid`
/// is.
struct NativeGpsd {
	key_t key = unused_key();
	RemoveAtEnd remove{key};
	size_t valid_offset = 0;
	gpsd::Segment content = native_gpsd_segment(valid_offset);
	Writer writer{key, content};
};

std::optional<RawSample> parse(const ShmSnapshot &snap, ShmSkip &why)
{
	return parse_shm(snap.segment(), snap.layout, snap.count_after, why);
}

TEST(ShmKernel, ReadsTheSegmentThisArchitecturesGpsdWrites)
{
	// Debian 12's gpsd: 64-bit seconds on amd64 and arm64, 32-bit on armhf
	// (and i386), where strata's own time_t is 64 bits all the same. A
	// build for another gpsd says so with STRATA_SHM_TIME_BITS.
#if !defined(STRATA_SHM_TIME_BITS)
#if defined(__x86_64__) || defined(__aarch64__)
	EXPECT_EQ(kNativeShmLayout, ShmLayout::Time64);
#elif defined(__arm__) || defined(__i386__)
	EXPECT_EQ(kNativeShmLayout, ShmLayout::Time32);
#endif
#endif
#if defined(__arm__) || defined(__i386__)
	EXPECT_EQ(sizeof(std::time_t), 8u) << "32-bit builds have a 64-bit time_t";
#endif
	NativeGpsd native;
	ASSERT_TRUE(native.writer.ok());

	auto seg = ShmSegment::attach(native.key, 0600);
	ASSERT_TRUE(seg.has_value()) << seg.error().message();
	EXPECT_EQ(seg->layout(), kNativeShmLayout);
	ShmSnapshot snap = seg->read();
	ShmSkip why{};
	gpsd::expect_gpsd_sample(parse(snap, why), why);

	// Taken: the writer sees `valid` cleared in its own copy.
	EXPECT_EQ(native.writer.word(native.valid_offset), 1);
	seg->clear_valid();
	EXPECT_EQ(native.writer.word(native.valid_offset), 0);
	EXPECT_TRUE(*seg->is_current());
}

// Both writers' segments on every architecture: the layout is the one the
// segment's size says, whatever this build's time_t.
TEST(ShmKernel, ReadsEachWritersLayoutBySize)
{
	struct Case {
		gpsd::Segment content;
		ShmLayout layout;
	};
	for (const Case &c : {Case{gpsd::time32_segment(), ShmLayout::Time32},
			      Case{gpsd::time64_segment(), ShmLayout::Time64}}) {
		SCOPED_TRACE(c.content.bytes.size());
		key_t key = unused_key();
		RemoveAtEnd remove(key);
		Writer gpsd(key, c.content);
		ASSERT_TRUE(gpsd.ok());
		auto seg = ShmSegment::attach(key, 0600);
		ASSERT_TRUE(seg.has_value()) << seg.error().message();
		EXPECT_EQ(seg->layout(), c.layout);
		ShmSkip why{};
		gpsd::expect_gpsd_sample(parse(seg->read(), why), why);
	}
}

// With no writer yet, the reader makes the segment in this architecture's
// layout, which is the size this architecture's gpsd then finds.
TEST(ShmKernel, MakesTheNativeLayoutWhenNoWriterHasOne)
{
	key_t key = unused_key();
	RemoveAtEnd remove(key);
	auto seg = ShmSegment::attach(key, 0640);
	ASSERT_TRUE(seg.has_value()) << seg.error().message();
	EXPECT_EQ(seg->layout(), kNativeShmLayout);
	struct shmid_ds ds {};
	ASSERT_EQ(::shmctl(seg->id(), IPC_STAT, &ds), 0) << std::strerror(errno);
	EXPECT_EQ(ds.shm_segsz, shm_layout_info(kNativeShmLayout).size);
	EXPECT_EQ(ds.shm_perm.mode & 0777, 0640u);
	ShmSkip why{};
	EXPECT_FALSE(parse(seg->read(), why).has_value());
	EXPECT_EQ(why, ShmSkip::NotValid);
}

// The driver the poll loop calls, on the kernel's segment: each sample once.
// (Its unit's key is swapped for the test's in the shmget it makes.)
TEST(ShmKernel, RefclockTakesEachSampleOnce)
{
	NativeGpsd native;
	ASSERT_TRUE(native.writer.ok());

	ShmSyscalls sys;
	sys.shmget = [key = native.key](key_t, size_t size, int flags) { return ::shmget(key, size, flags); };
	RecordingLogger log;
	ShmRefclock shm(ShmOptions{.unit = 0}, log, sys);
	const MonoTime t0 = MonoTime{} + 100s;
	auto s = shm.poll(t0);
	gpsd::expect_gpsd_sample(s, ShmSkip::None);
	EXPECT_EQ(native.writer.word(native.valid_offset), 0);
	EXPECT_FALSE(shm.poll(t0 + 1s).has_value());

	// The next update (count bumped, valid set) is read.
	native.content.put32(4, 44);  // count
	native.writer.write(native.content);
	gpsd::expect_gpsd_sample(shm.poll(t0 + 2s), ShmSkip::None);
	EXPECT_EQ(shm.stats().samples, 2u);
	EXPECT_EQ(log.count(LogLevel::Warning), 0u);
}

} // namespace
} // namespace strata::refclock
