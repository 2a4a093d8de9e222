// The server's client log: per-client request counters for the `clients`
// report, and response rate limiting (`ratelimit`), in bounded memory
// (`clientloglimit`).
//
// Clients are grouped by address prefix: IPv4 addresses each on their own
// (/32) and IPv6 addresses by /64 by default (strata's `ratelimit` options
// ipv4prefix and ipv6prefix), since one IPv6 host usually holds a whole /64
// and could otherwise rotate through it to escape the limit (and crowd every
// other client out of the log). A group is one record: its counters, its
// rate limit, and one line of the `clients` report, named by the group's
// first address (2001:db8:1:2:: for 2001:db8:1:2::7).
//
// Rate limiting is a token bucket per client group: a client earns one
// response per 2^interval seconds and may save up `burst` of them; a request
// that finds no token is dropped, except that one in 2^leak is answered anyway
// (so a spoofed flood cannot cut the real owner of an address off entirely)
// and, with `kod`, one in 2^kod of the dropped ones gets a KoD RATE reply
// (RFC 5905 §7.4). This follows chrony.conf(5)'s description of ratelimit;
// chronyd's detection of clients that poll faster when not answered is not
// done here.
//
// Memory: records live in a fixed table sized from the limit at
// construction (no allocation per request). The table is zero-filled memory
// from calloc(), which the kernel backs with pages only as clients land in
// them: an idle server does not pay for the whole limit (chrony's default
// 512 KiB) in resident memory. Nothing but a client's arrival touches the
// table: the `clients` report walks an index of the used slots (itself
// written only as clients arrive), never the whole table, because on some
// kernels (Linux 6.18) merely reading an untouched page makes it resident,
// and one report would then cost the whole limit. When the table is full, the
// least recently seen record of the new client's bucket is replaced and
// counted as dropped. The hash is keyed with a random seed, so a client
// cannot choose addresses that collide on purpose.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>

#include "core/address.h"
#include "core/random.h"
#include "core/time.h"

namespace strata::ntp {

/// `ratelimit` options, as chrony.conf(5) defines them.
struct RateLimitConfig {
	int interval_log2 = 3;  ///< −19…12: one response per 2^interval s
	int burst = 8;          ///< 1…255 responses saved up
	int leak_log2 = 2;      ///< 1…4: one in 2^leak limited requests answered anyway
	int kod_log2 = 0;       ///< 0…4: one in 2^kod limited requests gets KoD RATE; 0 = never
};

enum class Verdict : uint8_t { Respond, Drop, KissOfDeathRate };

/// How addresses are grouped into one client: the prefix lengths kept.
struct ClientGroups {
	int ipv4_prefix = 32;  ///< 1…32
	int ipv6_prefix = 64;  ///< 1…128
	/// The group `client` belongs to: its first address (IPv4-mapped IPv6
	/// addresses count as IPv4).
	IpAddress group_of(const IpAddress &client) const;
};

/// What the `clients` report shows of one client.
struct ClientRecord {
	IpAddress address;  ///< the group's first address (the client's own at /32 and /128)
	uint32_t ntp_requests = 0;
	uint32_t ntp_drops = 0;     ///< requests not answered (or answered with KoD) by rate limiting
	MonoTime last_request;
	/// Mean interval between requests and between responses, seconds
	/// (exponentially weighted); negative when not known yet.
	float mean_request_interval_s = -1;
	float mean_response_interval_s = -1;
};

class ClientLog {
public:
	/// `memory_limit_bytes` bounds the table (chrony's clientloglimit,
	/// default 524288); at least one bucket is kept. `rate_limit` nullopt =
	/// count only. `groups`: which addresses are one client.
	ClientLog(size_t memory_limit_bytes, std::optional<RateLimitConfig> rate_limit, uint64_t hash_seed,
		  ClientGroups groups = {});
	/// The most records a log holds, whatever the limit: chronyd's cap,
	/// 2^24, on a 64-bit system; 2^20 (some 80 MiB) on a 32-bit one, whose
	/// address space would not hold 2^24 records allocated up front
	/// (chronyd grows its table as clients come; this one never allocates
	/// after the start).
	static constexpr size_t kMaxRecords = sizeof(void *) >= 8 ? size_t{1} << 24 : size_t{1} << 20;

	/// Logs an NTP request from `client` at `now` and decides whether to
	/// answer it (counted and limited with its group). Never allocates.
	Verdict on_ntp_request(const IpAddress &client, MonoTime now, Rng &rng);

	/// Records replaced because the table was full.
	uint64_t records_dropped() const { return records_dropped_; }
	size_t capacity() const { return capacity_; }
	size_t size() const { return used_; }
	/// Visits every record, in the order the clients first arrived (a
	/// replaced record keeps its predecessor's place). Reads only the
	/// used slots: its cost follows the clients, not the limit.
	void for_each(const std::function<void(const ClientRecord &)> &fn) const;
	/// The record of `client`'s group.
	std::optional<ClientRecord> find(const IpAddress &client) const;
	/// `chronyc clients -r`: zeroes the client's group's counters and forgets its
	/// intervals (the record and its rate-limit tokens stay). false when
	/// the client is not in the log.
	bool reset(const IpAddress &client);

private:
	struct Slot {
		ClientRecord record;
		bool used = false;
		MonoTime last_response;
		bool responded = false;
		double tokens = 0;
		MonoTime token_time;
	};
	// All-zero bytes are an unused slot (calloc), and a slot is reset by
	// assignment: nothing may need a constructor or a destructor.
	static_assert(std::is_trivially_copyable_v<Slot> && std::is_trivially_destructible_v<Slot>);
	struct Free {
		void operator()(void *p) const { std::free(p); }
	};
	static constexpr size_t kBucketSize = 8;

	size_t bucket_of(const IpAddress &a) const;
	Slot &lookup_or_insert(const IpAddress &a, MonoTime now);

	std::unique_ptr<Slot[], Free> slots_;
	/// Indices into slots_ of the used slots, in the order they were taken
	/// (slots are replaced but never freed, so the first used_ entries are
	/// exactly the used slots). calloc'd like the table.
	std::unique_ptr<uint32_t[], Free> used_index_;
	size_t capacity_ = 0;
	size_t bucket_mask_ = 0;
	size_t used_ = 0;
	uint64_t seed_;
	uint64_t records_dropped_ = 0;
	std::optional<RateLimitConfig> limit_;
	ClientGroups groups_;
	double token_interval_s_ = 8;
};

} // namespace strata::ntp
