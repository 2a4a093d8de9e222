// Statistics and pacing for the NTP load generator (tools/ntpload.cpp):
// a latency histogram with bounded relative error that reports percentiles
// without storing every sample, exact percentiles of signed samples (the
// clock offsets a client would compute from each response), a pacer that
// says how many requests are due at a given instant for a fixed offered
// rate, and the mapping from a client index to its 127.x.y.z source address.
// Pure: time comes in as arguments.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/time.h"

namespace strata::tools {

/// Latencies from 1 ns to ~4.6 s in buckets of 1/kSubBuckets of an octave
/// (relative error below 1/kSubBuckets ≈ 3 %). Larger values go to the last
/// bucket; max() stays exact.
class LatencyHistogram {
public:
	static constexpr int kSubBuckets = 32;
	static constexpr int kOctaves = 33;

	void add(Duration latency);
	void merge(const LatencyHistogram &other);
	uint64_t count() const { return count_; }
	Duration max() const { return max_; }
	Duration min() const { return count_ ? min_ : Duration::zero(); }
	/// The latency below which a fraction q (0…1) of the samples lie: the
	/// upper edge of the bucket holding that rank (never above max()).
	/// Zero when empty.
	Duration percentile(double q) const;

private:
	static int bucket_of(int64_t ns);
	static int64_t upper_edge_ns(int bucket);

	std::array<uint64_t, kSubBuckets * kOctaves> buckets_{};
	uint64_t count_ = 0;
	Duration max_{};
	Duration min_{Duration::max()};
};

/// Signed durations kept whole (4 bytes each, in ns clamped to about ±2.1 s),
/// for exact percentiles: a response's offset is a few microseconds either
/// side of zero, where a log-bucketed histogram would blur the sign.
class SignedSamples {
public:
	void reserve(size_t n) { values_.reserve(n); }
	void add(Duration d);
	size_t count() const { return values_.size(); }
	/// The sample of rank ceil(q × count) (nearest rank; q in 0…1), zero
	/// when empty. Reorders the samples (nth_element): O(count) a call.
	Duration percentile(double q);

private:
	std::vector<int32_t> values_;
};

/// The clock offset a client computes from one exchange (RFC 5905 §8):
/// ((t2 − t1) + (t3 − t4)) / 2, where t1 is when the request left the client,
/// t2 when it reached the server, t3 when the response left the server and
/// t4 when it came back, t1 and t4 on the client's clock and t2 and t3 on the
/// server's. Positive: the server's clock is ahead. A client and a server on
/// one host share a clock, so whatever is not zero is the error the server's
/// timestamps (or an asymmetric path) put in the client's measurement.
Duration ntp_offset(RealTime t1, RealTime t2, RealTime t3, RealTime t4);

/// Sends at a fixed rate from a start instant: due(now) is how many
/// requests should have been sent by `now` in total. rate 0 means "as fast as
/// possible" and due() is then unbounded.
class Pacer {
public:
	Pacer(double rate_per_s, MonoTime start) : rate_(rate_per_s), start_(start) {}
	bool unlimited() const { return rate_ <= 0; }
	uint64_t due(MonoTime now) const;

private:
	double rate_;
	MonoTime start_;
};

/// The IPv4 source address of client `index` (0-based) in 127.0.0.0/8, host
/// byte order: 127.1.0.1, 127.1.0.2, … skipping host parts .0 and .255 so that
/// no address looks like a network or broadcast address; distinct for the
/// first 254 × 256 × 254 (16.5 million) indexes.
uint32_t client_address(uint32_t index);

/// Dotted-quad form of a host-order IPv4 address.
std::string format_ipv4(uint32_t address);

} // namespace strata::tools
