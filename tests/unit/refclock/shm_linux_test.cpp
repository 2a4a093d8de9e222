// The SHM adapter and driver against a fake System V kernel (fake_shm.h):
// creating or finding the segment, reading and clearing samples, a writer
// that is absent or forbidden at start, one that removes and recreates its
// segment, and bad samples. No real segment is touched.
#include "refclock/shm_linux.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/unit/refclock/fake_shm.h"
#include "tests/fakes/recording_logger.h"

namespace strata::refclock {
namespace {

using namespace std::chrono_literals;

const MonoTime kT0 = MonoTime{} + 100s;
const RealTime kClock = RealTime::from_parts(1'700'000'000, 0);
const RealTime kReceive = RealTime::from_parts(1'700'000'000, 1'500);
constexpr int kKey0 = 0x4E545030;

TEST(ShmSegment, CreatesWithPermAndAttachesReadWrite)
{
	FakeShm fake;
	auto seg = ShmSegment::attach(kKey0 + 2, 0644, fake.syscalls());
	ASSERT_TRUE(seg.has_value()) << seg.error().message();
	FakeShm::Segment *s = fake.live(kKey0 + 2);
	ASSERT_NE(s, nullptr);
	EXPECT_EQ(s->mode, 0644);
	EXPECT_EQ(s->size, kShmSize);
	EXPECT_EQ(s->attachments, 1);
	EXPECT_EQ(seg->id(), s->id);
	EXPECT_EQ(seg->key(), kKey0 + 2);
	EXPECT_TRUE(*seg->is_current());

	// Moving hands over the attachment; it is detached once.
	ShmSegment moved = std::move(*seg);
	EXPECT_EQ(s->attachments, 1);
	{
		ShmSegment gone = std::move(moved);
	}
	EXPECT_EQ(s->attachments, 0);
	EXPECT_EQ(fake.shmdt_calls, 1);
}

TEST(ShmSegment, ReadsTheCountAroundTheCopyAndClearsValid)
{
	FakeShm fake;
	auto seg = ShmSegment::attach(kKey0, 0600, fake.syscalls());
	ASSERT_TRUE(seg.has_value());
	NativeShmTime &t = fake.live(kKey0)->time();
	FakeShm::write_sample(t, kClock, kReceive);
	auto snapshot = seg->read();
	EXPECT_EQ(snapshot.count_after, 2);
	EXPECT_EQ(snapshot.layout, kNativeShmLayout);
	ShmSkip why{};
	auto s = parse_shm(snapshot.segment(), snapshot.layout, snapshot.count_after, why);
	ASSERT_TRUE(s.has_value()) << to_string(why);
	EXPECT_EQ(s->reference, kClock);
	EXPECT_EQ(s->local, kReceive);
	EXPECT_EQ(t.valid, 1);  // reading is not taking
	seg->clear_valid();
	EXPECT_EQ(t.valid, 0);
	EXPECT_EQ(t.count, 2);  // the writer's count is the writer's
}

TEST(ShmSegment, ErrorsNameTheCallAndKey)
{
	FakeShm fake;
	fake.fail_shmget = EACCES;
	auto seg = ShmSegment::attach(kKey0, 0600, fake.syscalls());
	ASSERT_FALSE(seg.has_value());
	EXPECT_EQ(seg.error().message(), "shmget(0x4e545030): Permission denied");

	fake.fail_shmget = 0;
	fake.fail_shmat = ENOMEM;
	seg = ShmSegment::attach(kKey0 + 1, 0600, fake.syscalls());
	ASSERT_FALSE(seg.has_value());
	EXPECT_EQ(seg.error().message(), "shmat(0x4e545031): Cannot allocate memory");

	// A segment a writer made smaller than any struct shmTime cannot be used.
	fake.fail_shmat = 0;
	fake.create(kKey0 + 3, 64);
	seg = ShmSegment::attach(kKey0 + 3, 0600, fake.syscalls());
	ASSERT_FALSE(seg.has_value());
	EXPECT_EQ(seg.error().code, std::errc::invalid_argument);
}

TEST(ShmRefclock, CreatesTheSegmentAndTakesEachSampleOnce)
{
	FakeShm fake;
	RecordingLogger log;
	ShmRefclock shm({.unit = 2, .perm = 0640}, log, fake.syscalls());
	EXPECT_EQ(shm.name(), "SHM2");
	EXPECT_FALSE(shm.attached());
	EXPECT_EQ(fake.shmget_calls, 0);  // nothing before the first poll

	// No writer yet: the daemon creates the segment, and there is no sample.
	EXPECT_FALSE(shm.poll(kT0).has_value());
	EXPECT_TRUE(shm.attached());
	FakeShm::Segment *seg = fake.live(kKey0 + 2);
	ASSERT_NE(seg, nullptr);
	EXPECT_EQ(seg->mode, 0640);
	EXPECT_EQ(log.count(LogLevel::Warning), 0u);

	// gpsd starts and writes.
	FakeShm::write_sample(seg->time(), kClock, kReceive, 1, -20);
	auto s = shm.poll(kT0 + 1s);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->reference, kClock);
	EXPECT_EQ(s->local, kReceive);
	EXPECT_EQ(s->leap, Leap::Insert);
	EXPECT_EQ(seg->time().valid, 0);
	EXPECT_EQ(shm.stats().samples, 1u);

	// Taken once: the next poll finds nothing new.
	EXPECT_FALSE(shm.poll(kT0 + 2s).has_value());
	EXPECT_EQ(shm.stats().samples, 1u);

	// Mode 0 writers are read too.
	FakeShm::write_sample(seg->time(), kClock + 1s, kReceive + 1s, 0, -20, 0);
	s = shm.poll(kT0 + 3s);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->reference, kClock + 1s);
	EXPECT_EQ(log.count(LogLevel::Warning), 0u);
	EXPECT_EQ(fake.segment_count(), 1u);
}

TEST(ShmRefclock, AttachesToTheWritersSegment)
{
	FakeShm fake;
	RecordingLogger log;
	FakeShm::Segment &seg = fake.create(kKey0 + 2, kShmSize, 0666);
	FakeShm::write_sample(seg.time(), kClock, kReceive);
	ShmRefclock shm({.unit = 2}, log, fake.syscalls());
	auto s = shm.poll(kT0);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->reference, kClock);
	EXPECT_EQ(seg.mode, 0666);  // the writer's permissions stay
	EXPECT_EQ(fake.segment_count(), 1u);
	EXPECT_EQ(log.count(LogLevel::Info), 0u);
}

// A segment is the writer's C struct: its size says which time_t the writer
// has, whatever this build's is. gpsd on Debian 12 armhf makes 80 bytes
// (32-bit time_t); on x86-64, arm64 and a 64-bit-time_t armhf, 96. Each is
// read in its own layout on every architecture, and a larger segment (some
// writers round up) is read in the 64-bit one.
TEST(ShmRefclock, ReadsEachWritersLayoutBySize)
{
	struct Case {
		size_t size;
		ShmLayout layout;
	};
	for (Case c : {Case{80, ShmLayout::Time32}, Case{95, ShmLayout::Time32},
		       Case{96, ShmLayout::Time64}, Case{4096, ShmLayout::Time64}}) {
		SCOPED_TRACE(c.size);
		FakeShm fake;
		RecordingLogger log;
		FakeShm::Segment &seg = fake.create(kKey0, c.size, 0600);
		const RealTime clock = RealTime::from_parts(2'000'000'000, 123'456'789);
		const RealTime receive = RealTime::from_parts(2'000'000'000, 23'456'000);
		if (c.layout == ShmLayout::Time32) {
			FakeShm::write_sample(seg.time<ShmTime32>(), clock, receive);
		} else {
			FakeShm::write_sample(seg.time<ShmTime64>(), clock, receive);
		}
		ShmRefclock shm({.unit = 0}, log, fake.syscalls());
		auto s = shm.poll(kT0);
		ASSERT_TRUE(s.has_value());
		EXPECT_EQ(s->reference, clock);
		EXPECT_EQ(s->local, receive);
		EXPECT_EQ(s->reference - s->local, Duration(100'000'789));
		EXPECT_EQ(fake.segment_count(), 1u);
		// Taken once: `valid` is cleared where this layout keeps it.
		int valid = c.layout == ShmLayout::Time32 ? seg.time<ShmTime32>().valid
							  : seg.time<ShmTime64>().valid;
		EXPECT_EQ(valid, 0);
		EXPECT_FALSE(shm.poll(kT0 + 1s).has_value());
		if (c.layout == kNativeShmLayout) {
			EXPECT_EQ(log.count(LogLevel::Info), 0u);
		} else {
			EXPECT_EQ(log.last(LogLevel::Info),
				  fmt::format("SHM0: attached segment 0x4e545030 of a writer with a {} (by its size)",
					      shm_layout_info(c.layout).name));
		}
	}
}

TEST(ShmSegment, CreatesTheNativeLayoutAndKeepsAWritersThatAppearsFirst)
{
	FakeShm fake;
	auto seg = ShmSegment::attach(kKey0, 0600, fake.syscalls());
	ASSERT_TRUE(seg.has_value());
	EXPECT_EQ(seg->layout(), kNativeShmLayout);
	EXPECT_EQ(fake.live(kKey0)->size, shm_layout_info(kNativeShmLayout).size);

	// A writer's segment that appears between the daemon's look and its
	// create (IPC_EXCL fails with EEXIST) is found at the second look.
	FakeShm racing;
	int gets = 0;
	ShmSyscalls sys = racing.syscalls();
	auto real_get = sys.shmget;
	sys.shmget = [&](key_t key, size_t size, int flags) {
		if (++gets == 2) {
			racing.create(kKey0 + 1, 80, 0666);  // gpsd with a 32-bit time_t
		}
		return real_get(key, size, flags);
	};
	auto raced = ShmSegment::attach(kKey0 + 1, 0600, sys);
	ASSERT_TRUE(raced.has_value()) << raced.error().message();
	EXPECT_EQ(raced->layout(), ShmLayout::Time32);
	EXPECT_EQ(racing.segment_count(), 1u);
	EXPECT_EQ(racing.live(kKey0 + 1)->mode, 0666);
}

TEST(ShmRefclock, WhileSamplesFlowAPollMakesNoSystemCall)
{
	FakeShm fake;
	RecordingLogger log;
	ShmRefclock shm({.unit = 0}, log, fake.syscalls());
	shm.poll(kT0);
	int gets = fake.shmget_calls;
	int ats = fake.shmat_calls;
	for (int i = 1; i <= 5; i++) {
		FakeShm::write_sample(fake.live(kKey0)->time(), kClock + i * 1s, kReceive + i * 1s);
		ASSERT_TRUE(shm.poll(kT0 + i * 1s).has_value());
	}
	EXPECT_EQ(fake.shmget_calls, gets);
	EXPECT_EQ(fake.shmat_calls, ats);
	// A poll with nothing new asks whether the segment is still the key's.
	shm.poll(kT0 + 10s);
	EXPECT_EQ(fake.shmget_calls, gets + 1);
	EXPECT_EQ(fake.shmat_calls, ats);
}

TEST(ShmRefclock, AttachFailureIsLoggedOnceAndRetriedAtEveryPoll)
{
	FakeShm fake;
	RecordingLogger log;
	fake.fail_shmget = EACCES;  // a root-only segment, a daemon that dropped root
	ShmRefclock shm({.unit = 0}, log, fake.syscalls());
	for (int i = 0; i < 5; i++) {
		EXPECT_FALSE(shm.poll(kT0 + i * 1s).has_value());
	}
	EXPECT_FALSE(shm.attached());
	EXPECT_EQ(fake.shmget_calls, 5);
	EXPECT_EQ(shm.stats().attach_failures, 5u);
	ASSERT_EQ(log.count(LogLevel::Warning), 1u);
	EXPECT_EQ(log.last(LogLevel::Warning),
		  "SHM0: could not attach the segment: shmget(0x4e545030): Permission denied; "
		  "trying again at every poll");

	// The segment becomes usable: attached, said once, and read.
	fake.fail_shmget = 0;
	FakeShm::Segment &seg = fake.create(kKey0);
	FakeShm::write_sample(seg.time(), kClock, kReceive);
	EXPECT_TRUE(shm.poll(kT0 + 5s).has_value());
	EXPECT_TRUE(shm.attached());
	EXPECT_EQ(log.last(LogLevel::Info), "SHM0: attached segment 0x4e545030");
	EXPECT_EQ(log.count(LogLevel::Warning), 1u);

	// A later failure is a new episode, logged once again.
	fake.remove(kKey0);
	fake.fail_shmget = EACCES;
	for (int i = 0; i < 3; i++) {
		shm.poll(kT0 + (6 + i) * 1s);
	}
	EXPECT_EQ(log.count(LogLevel::Warning), 2u);
	EXPECT_FALSE(shm.attached());
}

TEST(ShmRefclock, FollowsAWriterThatRecreatesItsSegment)
{
	FakeShm fake;
	RecordingLogger log;
	ShmRefclock shm({.unit = 1}, log, fake.syscalls());
	FakeShm::Segment &first = fake.create(kKey0 + 1);
	FakeShm::write_sample(first.time(), kClock, kReceive);
	ASSERT_TRUE(shm.poll(kT0).has_value());

	// The writer is restarted after someone ran ipcrm: a new segment. Our
	// old attachment keeps the old memory alive, where nothing new appears.
	fake.remove(kKey0 + 1);
	FakeShm::Segment &second = fake.create(kKey0 + 1);
	FakeShm::write_sample(second.time(), kClock + 1s, kReceive + 1s);

	EXPECT_FALSE(shm.poll(kT0 + 1s).has_value());  // old segment: nothing new, so look
	EXPECT_EQ(first.attachments, 0);               // detached from the old one
	EXPECT_EQ(second.attachments, 1);
	EXPECT_EQ(shm.stats().reattached, 1u);
	EXPECT_EQ(log.last(LogLevel::Info),
		  "SHM1: segment 0x4e545031 was removed or replaced; attaching again");
	auto s = shm.poll(kT0 + 2s);
	ASSERT_TRUE(s.has_value());
	EXPECT_EQ(s->reference, kClock + 1s);
}

TEST(ShmRefclock, RecreatesASegmentRemovedUnderIt)
{
	FakeShm fake;
	RecordingLogger log;
	ShmRefclock shm({.unit = 0, .perm = 0600}, log, fake.syscalls());
	shm.poll(kT0);
	FakeShm::Segment *first = fake.live(kKey0);
	ASSERT_NE(first, nullptr);
	fake.remove(kKey0);  // and no writer around to make another

	shm.poll(kT0 + 1s);  // ENOENT: made again, so the writer finds ours when it starts
	FakeShm::Segment *second = fake.live(kKey0);
	ASSERT_NE(second, nullptr);
	EXPECT_NE(second, first);
	EXPECT_EQ(second->attachments, 1);
	EXPECT_EQ(first->attachments, 0);
	FakeShm::write_sample(second->time(), kClock, kReceive);
	EXPECT_TRUE(shm.poll(kT0 + 2s).has_value());
}

TEST(ShmRefclock, ASegmentNoLongerAccessibleIsLeft)
{
	FakeShm fake;
	RecordingLogger log;
	ShmRefclock shm({.unit = 0}, log, fake.syscalls());
	shm.poll(kT0);
	// Another user's writer replaced the segment with one we may not use.
	fake.remove(kKey0);
	fake.create(kKey0).deny = true;
	EXPECT_FALSE(shm.poll(kT0 + 1s).has_value());
	EXPECT_FALSE(shm.attached());
	EXPECT_EQ(fake.attachments(), 0);
	EXPECT_EQ(log.last(LogLevel::Info),
		  "SHM0: shmget(0x4e545030): Permission denied; attaching again");
	EXPECT_EQ(log.count(LogLevel::Warning), 1u);  // the attach failure, once
	shm.poll(kT0 + 2s);
	EXPECT_EQ(log.count(LogLevel::Warning), 1u);
}

TEST(ShmRefclock, BadSamplesAreCountedClearedAndLoggedOncePerMinute)
{
	FakeShm fake;
	RecordingLogger log;
	ShmRefclock shm({.unit = 0}, log, fake.syscalls());
	shm.poll(kT0);
	NativeShmTime &t = fake.live(kKey0)->time();
	for (int i = 0; i < 30; i++) {
		// An unknown mode, every second.
		FakeShm::write_sample(t, kClock, kReceive, 0, -20, 7);
		EXPECT_FALSE(shm.poll(kT0 + (1 + i) * 1s).has_value());
		EXPECT_EQ(t.valid, 0);  // cleared: the same sample is not complained about twice
	}
	EXPECT_EQ(shm.stats().bad, 30u);
	ASSERT_EQ(log.count(LogLevel::Warning), 1u);
	EXPECT_EQ(log.last(LogLevel::Warning), "SHM0: bad sample ignored: unknown mode (mode 7)");

	FakeShm::write_sample(t, kClock, kReceive, 9);
	shm.poll(kT0 + 61s);
	ASSERT_EQ(log.count(LogLevel::Warning), 2u);
	EXPECT_EQ(log.last(LogLevel::Warning),
		  "SHM0: bad sample ignored: invalid leap indicator (leap 9) "
		  "(29 more in the last 60 s)");

	// A writer without a fix is counted, not warned about.
	FakeShm::write_sample(t, kClock, kReceive, 3);
	EXPECT_FALSE(shm.poll(kT0 + 200s).has_value());
	EXPECT_EQ(shm.stats().unsynchronized, 1u);
	EXPECT_EQ(log.count(LogLevel::Warning), 2u);
	EXPECT_EQ(t.valid, 0);

	// Good samples still come through.
	FakeShm::write_sample(t, kClock, kReceive);
	EXPECT_TRUE(shm.poll(kT0 + 201s).has_value());
}

TEST(ShmRefclock, DetachesWhenDestroyed)
{
	FakeShm fake;
	RecordingLogger log;
	{
		ShmRefclock shm({.unit = 3}, log, fake.syscalls());
		shm.poll(kT0);
		EXPECT_EQ(fake.attachments(), 1);
	}
	EXPECT_EQ(fake.attachments(), 0);
	// The segment stays for the writer: the daemon never removes it.
	EXPECT_NE(fake.live(kKey0 + 3), nullptr);
}

} // namespace
} // namespace strata::refclock
