// Fuzz target for strata's JSON control interface: whatever arrives on the
// command socket beginning with '{', from a privileged sender or not, the
// answer is one JSON object with a "report", and nothing throws or crashes.
// An unprivileged sender never changes the daemon.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "control/json_control.h"

namespace {

using namespace strata;
using namespace strata::control;

/// Two sources, a client log, and a count of everything that changes.
class Daemon final : public ControlHandler {
public:
	int changes = 0;

	uint32_t n_sources() override { return 2; }
	std::optional<SourceDataReport> source_data(uint32_t i) override
	{
		if (i >= 2) {
			return std::nullopt;
		}
		return SourceDataReport{.address = IpAddress::v4(0xc0000201 + i), .stratum = 2};
	}
	std::optional<SourceStatsReport> source_stats(uint32_t i) override
	{
		return i < 2 ? std::optional(SourceStatsReport{.address = IpAddress::v4(0xc0000201 + i)}) : std::nullopt;
	}
	std::optional<SelectDataReport> select_data(uint32_t i) override
	{
		return i < 2 ? std::optional(SelectDataReport{.address = IpAddress::v4(0xc0000201 + i)}) : std::nullopt;
	}
	std::optional<NtpDataReport> ntp_data(const IpAddress &a) override { return NtpDataReport{.remote_address = a}; }
	std::optional<SourceNameReport> source_name(const IpAddress &) override { return SourceNameReport{"\xff name"}; }
	TrackingReport tracking() override { return {}; }
	ActivityReport activity() override { return {}; }
	ServerStatsReport server_stats() override { return {}; }
	std::optional<ClientAccessesReport> client_accesses(uint32_t first, uint32_t max, uint32_t min_hits,
							    bool reset) override
	{
		std::vector<ClientAccess> table(20, ClientAccess{.address = IpAddress::v4(0x0a000001), .ntp_hits = 3});
		changes += reset ? 1 : 0;
		return client_page(table, first, max, min_hits);
	}
	std::optional<RtcReport> rtc() override { return std::nullopt; }
	uint32_t set_online(const Address &, const Address &, bool) override { return static_cast<uint32_t>(++changes); }
	uint32_t on_offline() override { return static_cast<uint32_t>(++changes); }
	uint32_t burst(const Address &, const Address &, int, int) override { return static_cast<uint32_t>(++changes); }
	bool make_step() override { return ++changes > 0; }
	Status write_rtc() override { return ++changes > 0 ? Status::NoRtc : Status::Failed; }
	Status trim_rtc() override { return ++changes > 0 ? Status::NoRtc : Status::Failed; }
	Status cycle_logs() override { return ++changes > 0 ? Status::Success : Status::Failed; }
	Status refresh() override { return ++changes > 0 ? Status::NotEnabled : Status::Failed; }
	Status dump() override { return ++changes > 0 ? Status::NotEnabled : Status::Failed; }
	Status add_source(const AddSourceArgs &) override { return ++changes > 0 ? Status::Success : Status::Failed; }
	bool delete_source(const IpAddress &) override { return ++changes > 0; }
	Status reload_sources() override { return ++changes > 0 ? Status::Success : Status::Failed; }
	std::optional<AuthDataReport> auth_data(const IpAddress &) override { return AuthDataReport{}; }
	void shutdown() override { ++changes; }
};

void check(std::string_view text, bool privileged)
{
	Daemon daemon;
	std::string reply = answer_json(text, privileged, daemon);
	auto parsed = nlohmann::json::parse(reply, nullptr, false);
	if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("report")) {
		std::abort();
	}
	if (!privileged && daemon.changes != 0) {
		std::abort();
	}
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::string_view text(reinterpret_cast<const char *>(data), size);
	check(text, false);
	check(text, true);
	return 0;
}
