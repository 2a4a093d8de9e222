// gpsd's SHM segments written out byte by byte as the writers lay them out
// (little-endian, as every architecture strata is built for), independently
// of refclock/shm.h's ShmTime64/ShmTime32 structs: what gpsd's ntpshm_put
// writes on x86-64 and arm64 (a 64-bit time_t), and what Debian 12's armhf
// gpsd writes (a 32-bit time_t). Both hold the same sample, which
// expect_gpsd_sample() checks. Used by the parser's tests
// (tests/unit/refclock/shm_test.cpp) and by the real System V segment's
// (tests/linux/shm_segment_linux_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "refclock/sample.h"
#include "refclock/shm.h"
#include "tests/fakes/le_bytes.h"

namespace strata::refclock::gpsd {

using Segment = test::LeBytes;

/// What gpsd (ntpshm_put) writes on x86-64 and arm64, and ntpd and chronyd
/// read there: struct shmTime with a 64-bit time_t and 4 bytes of padding
/// after clockTimeStampUSec. 2027-01-15T08:00:00.250000999Z read 1.000001234 s
/// after it, leap second to be deleted, precision 2^-10.
inline Segment time64_segment()
{
	Segment seg(96);
	seg.put32(0, 1);              // mode
	seg.put32(4, 42);             // count
	seg.put64(8, 1'800'000'000);  // clockTimeStampSec (time_t, 8 bytes)
	seg.put32(16, 250'000);       // clockTimeStampUSec
	seg.put64(24, 1'800'000'001); // receiveTimeStampSec
	seg.put32(32, 1);             // receiveTimeStampUSec
	seg.put32(36, 2);             // leap
	seg.put32(40, -10);           // precision
	seg.put32(44, 3);             // nsamples
	seg.put32(48, 1);             // valid
	seg.put32(52, 250'000'999);   // clockTimeStampNSec
	seg.put32(56, 1'234);         // receiveTimeStampNSec
	return seg;
}

/// The same sample as Debian 12's armhf gpsd writes it (32-bit time_t, so
/// every field 4 bytes and no padding: 80 bytes).
inline Segment time32_segment()
{
	Segment seg(80);
	seg.put32(0, 1);              // mode
	seg.put32(4, 42);             // count
	seg.put32(8, 1'800'000'000);  // clockTimeStampSec (time_t, 4 bytes)
	seg.put32(12, 250'000);       // clockTimeStampUSec
	seg.put32(16, 1'800'000'001); // receiveTimeStampSec
	seg.put32(20, 1);             // receiveTimeStampUSec
	seg.put32(24, 2);             // leap
	seg.put32(28, -10);           // precision
	seg.put32(32, 3);             // nsamples
	seg.put32(36, 1);             // valid
	seg.put32(40, 250'000'999);   // clockTimeStampNSec
	seg.put32(44, 1'234);         // receiveTimeStampNSec
	return seg;
}

/// Where each segment has `valid`, to see a reader clear it.
inline constexpr size_t kTime64ValidOffset = 48;
inline constexpr size_t kTime32ValidOffset = 36;

/// The sample both segments hold.
inline void expect_gpsd_sample(const std::optional<RawSample> &s, ShmSkip why)
{
	ASSERT_TRUE(s.has_value()) << to_string(why);
	EXPECT_EQ(s->reference, RealTime::from_parts(1'800'000'000, 250'000'999));
	EXPECT_EQ(s->local, RealTime::from_parts(1'800'000'001, 1'234));
	EXPECT_EQ(s->leap, Leap::Delete);
	EXPECT_DOUBLE_EQ(*s->precision_s, 1.0 / 1024);
}

} // namespace strata::refclock::gpsd
