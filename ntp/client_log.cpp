#include "ntp/client_log.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <new>
#include <span>

namespace strata::ntp {

namespace {

uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/// Weight of a new interval in the running means (about the last 4 samples).
constexpr double kMeanWeight = 0.25;

void update_mean(float &mean, double interval_s)
{
	mean = mean < 0 ? static_cast<float>(interval_s)
			: static_cast<float>(mean + kMeanWeight * (interval_s - mean));
}

} // namespace

IpAddress ClientGroups::group_of(const IpAddress &client) const
{
	IpAddress a = client.unmapped();
	int keep = std::clamp(a.is_v4() ? ipv4_prefix : ipv6_prefix, 0, a.bit_length());
	if (keep == a.bit_length()) {
		return a;
	}
	auto bytes = a.bytes();
	auto full = static_cast<size_t>(keep / 8);
	if (keep % 8 != 0) {
		bytes[full] &= static_cast<uint8_t>(0xff00u >> (keep % 8));
		full++;
	}
	std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(full), bytes.end(), uint8_t{0});
	if (a.is_v4()) {
		return IpAddress::v4((uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
				     bytes[3]);
	}
	return IpAddress::v6(bytes);
}

ClientLog::ClientLog(size_t memory_limit_bytes, std::optional<RateLimitConfig> rate_limit,
		     uint64_t hash_seed, ClientGroups groups)
	: seed_(hash_seed), limit_(rate_limit), groups_(groups)
{
	size_t buckets = std::clamp<size_t>(memory_limit_bytes / (sizeof(Slot) * kBucketSize), 1,
					    kMaxRecords / kBucketSize);
	buckets = std::bit_floor(buckets);
	capacity_ = buckets * kBucketSize;
	slots_.reset(static_cast<Slot *>(std::calloc(capacity_, sizeof(Slot))));
	used_index_.reset(static_cast<uint32_t *>(std::calloc(capacity_, sizeof(uint32_t))));
	if (!slots_ || !used_index_) {
		throw std::bad_alloc();
	}
	bucket_mask_ = buckets - 1;
	if (limit_) {
		token_interval_s_ = std::ldexp(1.0, limit_->interval_log2);
	}
}

size_t ClientLog::bucket_of(const IpAddress &a) const
{
	const auto &b = a.bytes();
	uint64_t lo = 0, hi = 0;
	std::memcpy(&lo, b.data(), 8);
	std::memcpy(&hi, b.data() + 8, 8);
	uint64_t h = mix(lo ^ seed_) ^ mix(hi + (a.is_v4() ? 0 : 0x9e3779b97f4a7c15ull) + seed_);
	return static_cast<size_t>(h) & bucket_mask_;
}

ClientLog::Slot &ClientLog::lookup_or_insert(const IpAddress &a, MonoTime now)
{
	Slot *bucket = &slots_[bucket_of(a) * kBucketSize];
	Slot *free_slot = nullptr;
	Slot *oldest = bucket;
	for (size_t i = 0; i < kBucketSize; i++) {
		Slot &s = bucket[i];
		if (!s.used) {
			if (!free_slot) {
				free_slot = &s;
			}
			continue;
		}
		if (s.record.address == a) {
			return s;
		}
		if (s.record.last_request < oldest->record.last_request || !oldest->used) {
			oldest = &s;
		}
	}
	Slot *slot = free_slot;
	if (!slot) {
		slot = oldest;
		records_dropped_++;
	} else {
		used_index_[used_++] = static_cast<uint32_t>(slot - slots_.get());
	}
	*slot = Slot{};
	slot->used = true;
	slot->record.address = a;
	slot->record.last_request = now;
	slot->token_time = now;
	slot->tokens = limit_ ? limit_->burst : 0;
	return *slot;
}

Verdict ClientLog::on_ntp_request(const IpAddress &client, MonoTime now, Rng &rng)
{
	Slot &s = lookup_or_insert(groups_.group_of(client), now);
	ClientRecord &r = s.record;
	if (r.ntp_requests > 0) {
		update_mean(r.mean_request_interval_s, std::max(0.0, to_seconds(now - r.last_request)));
	}
	r.ntp_requests++;
	r.last_request = now;

	Verdict verdict = Verdict::Respond;
	if (limit_) {
		double earned = std::max(0.0, to_seconds(now - s.token_time)) / token_interval_s_;
		s.tokens = std::min<double>(limit_->burst, s.tokens + earned);
		s.token_time = now;
		if (s.tokens >= 1.0) {
			s.tokens -= 1.0;
		} else if (rng.one_in_pow2(limit_->leak_log2)) {
			// Leaked: answered although over the limit, with what was
			// saved toward the next token (as chronyd): a client that
			// keeps asking gets one answer per interval plus the leaks,
			// not every token and the leaks on top.
			s.tokens = 0.0;
		} else if (limit_->kod_log2 > 0 && rng.one_in_pow2(limit_->kod_log2)) {
			verdict = Verdict::KissOfDeathRate;
		} else {
			verdict = Verdict::Drop;
		}
	}
	if (verdict != Verdict::Respond) {
		r.ntp_drops++;
	} else {
		if (s.responded) {
			update_mean(r.mean_response_interval_s,
				    std::max(0.0, to_seconds(now - s.last_response)));
		}
		s.responded = true;
		s.last_response = now;
	}
	return verdict;
}

void ClientLog::for_each(const std::function<void(const ClientRecord &)> &fn) const
{
	for (uint32_t i : std::span<const uint32_t>(used_index_.get(), used_)) {
		fn(slots_[i].record);
	}
}

bool ClientLog::reset(const IpAddress &client)
{
	IpAddress a = groups_.group_of(client);
	Slot *bucket = &slots_[bucket_of(a) * kBucketSize];
	for (size_t i = 0; i < kBucketSize; i++) {
		Slot &s = bucket[i];
		if (s.used && s.record.address == a) {
			s.record.ntp_requests = 0;
			s.record.ntp_drops = 0;
			s.record.mean_request_interval_s = -1;
			s.record.mean_response_interval_s = -1;
			s.responded = false;
			return true;
		}
	}
	return false;
}

std::optional<ClientRecord> ClientLog::find(const IpAddress &client) const
{
	IpAddress a = groups_.group_of(client);
	const Slot *bucket = &slots_[bucket_of(a) * kBucketSize];
	for (size_t i = 0; i < kBucketSize; i++) {
		if (bucket[i].used && bucket[i].record.address == a) {
			return bucket[i].record;
		}
	}
	return std::nullopt;
}

} // namespace strata::ntp
