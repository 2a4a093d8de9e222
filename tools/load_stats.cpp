#include "tools/load_stats.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include <fmt/format.h>

namespace strata::tools {

int LatencyHistogram::bucket_of(int64_t ns)
{
	if (ns < 1) {
		ns = 1;
	}
	auto v = static_cast<uint64_t>(ns);
	int octave = static_cast<int>(std::bit_width(v)) - 1;  // 2^octave <= v < 2^(octave+1)
	if (octave >= kOctaves) {
		return kSubBuckets * kOctaves - 1;
	}
	// Position within the octave, in kSubBuckets equal steps.
	uint64_t base = uint64_t{1} << octave;
	auto sub = static_cast<int>(((v - base) * kSubBuckets) >> octave);
	return octave * kSubBuckets + sub;
}

int64_t LatencyHistogram::upper_edge_ns(int bucket)
{
	int octave = bucket / kSubBuckets;
	int sub = bucket % kSubBuckets;
	uint64_t base = uint64_t{1} << octave;
	// Last value that maps to this bucket: base + ceil((sub+1) * base / kSubBuckets) - 1.
	uint64_t next = base + ((static_cast<uint64_t>(sub + 1) << octave) + kSubBuckets - 1) / kSubBuckets;
	return static_cast<int64_t>(next - 1);
}

void LatencyHistogram::add(Duration latency)
{
	buckets_[static_cast<size_t>(bucket_of(latency.count()))]++;
	count_++;
	max_ = std::max(max_, latency);
	min_ = std::min(min_, latency);
}

void LatencyHistogram::merge(const LatencyHistogram &other)
{
	for (size_t i = 0; i < buckets_.size(); i++) {
		buckets_[i] += other.buckets_[i];
	}
	count_ += other.count_;
	max_ = std::max(max_, other.max_);
	min_ = std::min(min_, other.min_);
}

Duration LatencyHistogram::percentile(double q) const
{
	if (count_ == 0) {
		return Duration::zero();
	}
	q = std::clamp(q, 0.0, 1.0);
	// Rank of the sample (1-based) at quantile q.
	auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
	rank = std::clamp<uint64_t>(rank, 1, count_);
	uint64_t seen = 0;
	for (size_t i = 0; i < buckets_.size(); i++) {
		seen += buckets_[i];
		if (seen >= rank) {
			if (i + 1 == buckets_.size()) {
				return max_;  // the overflow bucket has no upper edge
			}
			return std::min(Duration(upper_edge_ns(static_cast<int>(i))), max_);
		}
	}
	return max_;
}

void SignedSamples::add(Duration d)
{
	constexpr int64_t kLimit = INT32_MAX;
	values_.push_back(static_cast<int32_t>(std::clamp<int64_t>(d.count(), -kLimit, kLimit)));
}

Duration SignedSamples::percentile(double q)
{
	if (values_.empty()) {
		return Duration::zero();
	}
	q = std::clamp(q, 0.0, 1.0);
	auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values_.size())));
	rank = std::clamp<size_t>(rank, 1, values_.size());
	auto nth = values_.begin() + static_cast<std::ptrdiff_t>(rank - 1);
	std::nth_element(values_.begin(), nth, values_.end());
	return Duration(*nth);
}

Duration ntp_offset(RealTime t1, RealTime t2, RealTime t3, RealTime t4)
{
	return ((t2 - t1) + (t3 - t4)) / 2;
}

uint64_t Pacer::due(MonoTime now) const
{
	if (unlimited()) {
		return UINT64_MAX;
	}
	if (now <= start_) {
		return 0;
	}
	double n = to_seconds(now - start_) * rate_;
	return static_cast<uint64_t>(n);
}

uint32_t client_address(uint32_t index)
{
	// 254 usable host values (1…254) in the last octet, 256 in the third.
	uint32_t host = index % 254 + 1;
	uint32_t rest = index / 254;
	uint32_t third = rest % 256;
	uint32_t second = 1 + rest / 256;  // 127.1.x.y onwards
	return (127u << 24) | ((second & 0xff) << 16) | (third << 8) | host;
}

std::string format_ipv4(uint32_t a)
{
	return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

} // namespace strata::tools
