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

/// struct shmTime field by field, with the sample both segments hold
/// (2027-01-15T08:00:00.250000999Z read 1.000001234 s after it, leap second
/// to be deleted, precision 2^-10) and each field's offset in the two
/// layouts: with a 64-bit time_t (x86-64, arm64: the two seconds fields 8
/// bytes, 4 bytes of padding after clockTimeStampUSec) and with Debian 12
/// armhf's 32-bit time_t (every field 4 bytes, no padding).
struct Field {
	int64_t value;
	size_t at64;  ///< offset with a 64-bit time_t
	size_t at32;  ///< offset with a 32-bit time_t
	bool time_t_field = false;
};
inline constexpr Field kFields[] = {
	{1, 0, 0},                             // mode
	{42, 4, 4},                            // count
	{1'800'000'000, 8, 8, true},           // clockTimeStampSec
	{250'000, 16, 12},                     // clockTimeStampUSec
	{1'800'000'001, 24, 16, true},         // receiveTimeStampSec
	{1, 32, 20},                           // receiveTimeStampUSec
	{2, 36, 24},                           // leap
	{-10, 40, 28},                         // precision
	{3, 44, 32},                           // nsamples
	{1, 48, 36},                           // valid
	{250'000'999, 52, 40},                 // clockTimeStampNSec
	{1'234, 56, 44},                       // receiveTimeStampNSec
};

/// The segment gpsd (ntpshm_put) writes, and ntpd and chronyd read, with a
/// 64-bit time_t (96 bytes) or a 32-bit one (80 bytes).
inline Segment segment(bool time64)
{
	Segment seg(time64 ? 96 : 80);
	for (const Field &f : kFields) {
		if (!time64) {
			seg.put32(f.at32, f.value);
		} else if (f.time_t_field) {
			seg.put64(f.at64, f.value);
		} else {
			seg.put32(f.at64, f.value);
		}
	}
	return seg;
}
inline Segment time64_segment() { return segment(true); }
inline Segment time32_segment() { return segment(false); }

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
