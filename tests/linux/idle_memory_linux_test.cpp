// What the server's preallocated tables cost in resident memory, read from
// /proc/self/statm: an idle server must not pay for tables sized for a busy
// one (docs/benchmarks.md, idle RSS), and the hot path must still find them
// allocated when clients come.
#include <unistd.h>

#include <fstream>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "core/random.h"
#include "ntp/client_log.h"
#include "ntp/udp_linux.h"

namespace strata::ntp {
namespace {

long resident_kib()
{
	std::ifstream statm("/proc/self/statm");
	long size = 0, resident = 0;
	statm >> size >> resident;
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

constexpr long kMiB = 1024;

// AddressSanitizer keeps a shadow of every allocation (and may fill fresh
// memory), which these measurements would count.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// The premise of every test here: a large calloc() is mapped, not touched,
// so the kernel backs it only where it is written. (glibc maps allocations
// this large; a kernel or allocator that backs them at once would make
// every idle table resident, and there is nothing here to measure.)
// Reading untouched pages is *not* assumed free: on Linux 6.18 a read makes
// the page resident, so the code under test must not read what it did not
// write.
std::optional<std::string> unbacked_calloc_premise()
{
	long before = resident_kib();
	std::unique_ptr<char, decltype(&std::free)> p(static_cast<char *>(std::calloc(64 << 20, 1)), &std::free);
	long grown = resident_kib() - before;
	if (grown >= kMiB) {
		return "calloc(64 MiB) made " + std::to_string(grown) +
		       " KiB resident at once: this kernel or allocator backs untouched memory";
	}
	return std::nullopt;
}

TEST(IdleMemory, AClientLogIsResidentOnlyWhereClientsLand)
{
	if (kSanitized) {
		GTEST_SKIP() << "resident memory is not the release build's under AddressSanitizer";
	}
	if (auto why = unbacked_calloc_premise()) {
		GTEST_SKIP() << "premise false: " << *why;
	}
	long before = resident_kib();
	ClientLog log(64 << 20, std::nullopt, 1);
	ASSERT_GT(log.capacity(), 100'000u);
	EXPECT_LT(resident_kib() - before, kMiB) << "a 64 MiB table";

	// The `clients` report with no clients reads nothing of the table.
	int seen = 0;
	log.for_each([&](const ClientRecord &) { seen++; });
	EXPECT_EQ(seen, 0);
	EXPECT_LT(resident_kib() - before, kMiB) << "after an empty report";

	// 2,000 clients land on (nearly) as many pages of the table.
	Xoshiro256 rng(1);
	MonoTime now = MonoTime::from_parts(1000, 0);
	for (uint32_t i = 0; i < 2000; i++) {
		EXPECT_EQ(log.on_ntp_request(IpAddress::v4(0x0a000000 + i), now, rng), Verdict::Respond);
	}
	EXPECT_EQ(log.size(), 2000u);
	long with_clients = resident_kib() - before;
	EXPECT_GT(with_clients, 4 * kMiB);

	// A report with 2,000 clients reads their pages and nothing more.
	log.for_each([&](const ClientRecord &r) { seen += r.ntp_requests == 1 ? 1 : 0; });
	EXPECT_EQ(seen, 2000);
	EXPECT_LT(resident_kib() - before - with_clients, kMiB) << "after a report of 2,000 clients";
}

TEST(IdleMemory, ADatagramBatchIsResidentOnlyWhereDatagramsGo)
{
	if (kSanitized) {
		GTEST_SKIP() << "resident memory is not the release build's under AddressSanitizer";
	}
	if (auto why = unbacked_calloc_premise()) {
		GTEST_SKIP() << "premise false: " << *why;
	}
	long before = resident_kib();
	auto batch = std::make_unique<DatagramBatch<1024, 4096>>();  // 4 MiB of buffers
	EXPECT_LT(resident_kib() - before, kMiB);
	EXPECT_EQ(batch->slots().size(), 1024u);
	EXPECT_EQ(batch->slots()[1023].buffer.size(), 4096u);
}

} // namespace
} // namespace strata::ntp
