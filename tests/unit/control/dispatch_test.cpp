#include "control/dispatch.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace strata::control {
namespace {

/// A daemon with two sources (127.0.0.1 and 192.168.1.5), that records
/// what it was asked to do.
class FakeDaemon final : public ControlHandler {
public:
	std::vector<IpAddress> sources{*IpAddress::parse("127.0.0.1"), *IpAddress::parse("192.168.1.5")};
	std::vector<bool> online{true, true};
	int bursts = 0, steps = 0, shutdowns = 0;
	bool step_works = true;

	uint32_t n_sources() override { return static_cast<uint32_t>(sources.size()); }
	std::optional<SourceDataReport> source_data(uint32_t i) override
	{
		if (i >= sources.size()) {
			return std::nullopt;
		}
		return SourceDataReport{.address = sources[i], .stratum = 2};
	}
	std::optional<SourceStatsReport> source_stats(uint32_t i) override
	{
		if (i >= sources.size()) {
			return std::nullopt;
		}
		return SourceStatsReport{.address = sources[i], .n_samples = 8};
	}
	std::optional<SelectDataReport> select_data(uint32_t) override { return std::nullopt; }
	std::optional<NtpDataReport> ntp_data(const IpAddress &a) override
	{
		if (a != sources[0]) {
			return std::nullopt;
		}
		return NtpDataReport{.remote_address = a, .stratum = 1};
	}
	std::optional<SourceNameReport> source_name(const IpAddress &) override { return SourceNameReport{"localhost"}; }
	TrackingReport tracking() override { return TrackingReport{.ref_id = 0x7f000001, .stratum = 2}; }
	ActivityReport activity() override { return ActivityReport{.online = 2}; }
	ServerStatsReport server_stats() override { return ServerStatsReport{.ntp_hits = 5}; }
	std::vector<ClientAccess> clients;
	bool client_log = false;
	uint32_t resets = 0;
	std::optional<ClientAccessesReport> client_accesses(uint32_t first, uint32_t max, uint32_t min_hits,
							    bool reset) override
	{
		if (!client_log) {
			return std::nullopt;
		}
		resets += reset ? 1 : 0;
		return client_page(clients, first, max, min_hits);
	}
	std::optional<RtcReport> rtc() override { return std::nullopt; }
	uint32_t set_online(const Address &mask, const Address &address, bool on) override
	{
		uint32_t n = 0;
		for (size_t i = 0; i < sources.size(); i++) {
			if (address_matches(mask, address, sources[i])) {
				online[i] = on;
				n++;
			}
		}
		return n;
	}
	uint32_t on_offline() override { return set_online(NoAddress{}, NoAddress{}, true); }
	uint32_t burst(const Address &, const Address &, int, int) override { return static_cast<uint32_t>(++bursts); }
	bool make_step() override
	{
		steps++;
		return step_works;
	}
	Status write_rtc() override { return Status::NoRtc; }
	Status trim_rtc() override { return Status::NoRtc; }
	Status cycle_logs() override { return Status::Success; }
	Status refresh() override { return Status::NotEnabled; }
	Status dump() override { return Status::NotEnabled; }
	void shutdown() override { shutdowns++; }
};

Request request(Command c, RequestArgs args = NoArgs{})
{
	return Request{.command = c, .sequence = 77, .args = std::move(args)};
}

TEST(Dispatch, ReportsComeFromTheDaemon)
{
	FakeDaemon d;
	Reply r = dispatch(request(Command::Tracking), Transport::Network, d);
	EXPECT_EQ(r.status, Status::Success);
	EXPECT_EQ(r.sequence, 77u);
	EXPECT_EQ(std::get<TrackingReport>(r.body).stratum, 2);
	EXPECT_EQ(std::get<NSourcesReport>(dispatch(request(Command::NSources), Transport::Network, d).body).n_sources,
		  2u);
	r = dispatch(request(Command::SourceData, IndexArgs{1}), Transport::Network, d);
	EXPECT_EQ(std::get<SourceDataReport>(r.body).address, Address(*IpAddress::parse("192.168.1.5")));
}

TEST(Dispatch, MissingSourcesAre503)
{
	FakeDaemon d;
	EXPECT_EQ(dispatch(request(Command::SourceData, IndexArgs{2}), Transport::Unix, d).status, Status::NoSuchSource);
	EXPECT_EQ(dispatch(request(Command::NtpData, AddressArgs{*IpAddress::parse("10.0.0.1")}), Transport::Unix, d).status,
		  Status::NoSuchSource);
	EXPECT_EQ(dispatch(request(Command::NtpData, AddressArgs{NoAddress{}}), Transport::Unix, d).status,
		  Status::NoSuchSource);
	EXPECT_EQ(dispatch(request(Command::NtpData, AddressArgs{*IpAddress::parse("127.0.0.1")}), Transport::Unix, d).status,
		  Status::Success);
}

TEST(Dispatch, ModifyingAndRevealingCommandsOnlyOverTheUnixSocket)
{
	FakeDaemon d;
	EXPECT_EQ(dispatch(request(Command::MakeStep), Transport::Network, d).status, Status::Unauth);
	EXPECT_EQ(dispatch(request(Command::ServerStats), Transport::Network, d).status, Status::Unauth);
	EXPECT_EQ(dispatch(request(Command::Shutdown), Transport::Network, d).status, Status::Unauth);
	EXPECT_EQ(d.steps + d.shutdowns, 0);
	EXPECT_EQ(dispatch(request(Command::MakeStep), Transport::Unix, d).status, Status::Success);
	d.step_works = false;
	EXPECT_EQ(dispatch(request(Command::MakeStep), Transport::Unix, d).status, Status::Failed);
	EXPECT_EQ(dispatch(request(Command::Shutdown), Transport::Unix, d).status, Status::Success);
	EXPECT_EQ(d.shutdowns, 1);
}

TEST(Dispatch, OnlineOfflineByAddressAndMask)
{
	FakeDaemon d;
	MaskArgs one{.mask = *IpAddress::parse("255.255.255.0"), .address = *IpAddress::parse("192.168.1.0")};
	EXPECT_EQ(dispatch(request(Command::Offline, one), Transport::Unix, d).status, Status::Success);
	EXPECT_EQ(d.online, (std::vector<bool>{true, false}));
	MaskArgs none{.mask = *IpAddress::parse("255.255.255.255"), .address = *IpAddress::parse("10.1.1.1")};
	EXPECT_EQ(dispatch(request(Command::Offline, none), Transport::Unix, d).status, Status::NoSuchSource);
	EXPECT_EQ(dispatch(request(Command::Offline, MaskArgs{}), Transport::Unix, d).status, Status::Success);
	EXPECT_EQ(d.online, (std::vector<bool>{false, false}));
	EXPECT_EQ(dispatch(request(Command::OnOffline), Transport::Unix, d).status, Status::Success);
	EXPECT_EQ(d.online, (std::vector<bool>{true, true}));
}

TEST(Dispatch, BurstChecksItsCounts)
{
	FakeDaemon d;
	EXPECT_EQ(dispatch(request(Command::Burst, BurstArgs{.n_good = 4, .n_total = 2}), Transport::Unix, d).status,
		  Status::Invalid);
	EXPECT_EQ(dispatch(request(Command::Burst, BurstArgs{.n_good = 2, .n_total = 4}), Transport::Unix, d).status,
		  Status::Success);
	EXPECT_EQ(d.bursts, 1);
}

TEST(Dispatch, WhatStrataDoesNotDoIs505)
{
	FakeDaemon d;
	EXPECT_EQ(dispatch(request(Command::Settime, TimeArgs{}), Transport::Unix, d).status, Status::NotEnabled);
	EXPECT_EQ(dispatch(request(Command::Dump), Transport::Unix, d).status, Status::NotEnabled);
	EXPECT_EQ(dispatch(request(Command::RtcReport), Transport::Network, d).status, Status::NoRtc);
}

ClientAccess client(const char *ip, uint32_t ntp_hits)
{
	return ClientAccess{.address = *IpAddress::parse(ip), .ntp_hits = ntp_hits};
}

TEST(ClientPage, PagesThroughTheTableAsChronyd)
{
	std::vector<ClientAccess> table;
	for (uint32_t i = 0; i < 20; i++) {
		table.push_back(client(fmt::format("192.0.2.{}", i + 1).c_str(), i % 2 == 0 ? 10 : 1));
	}
	auto page = client_page(table, 0, 100, 0);
	EXPECT_EQ(page.n_indices, 20u);
	ASSERT_EQ(page.clients.size(), kMaxClientsPerReply);
	EXPECT_EQ(page.next_index, 8u);
	EXPECT_EQ(page.clients[7], table[7]);

	// min_hits skips the quiet ones, and next_index counts what was examined.
	page = client_page(table, 8, 8, 5);
	ASSERT_EQ(page.clients.size(), 6u);  // 8, 10, …, 18
	EXPECT_EQ(page.clients[0], table[8]);
	EXPECT_EQ(page.clients[5], table[18]);
	EXPECT_EQ(page.next_index, 20u);

	page = client_page(table, 25, 8, 0);
	EXPECT_TRUE(page.clients.empty());
	EXPECT_EQ(page.next_index, 25u);
	EXPECT_EQ(page.n_indices, 20u);
}

TEST(Dispatch, ClientsReportPagesOrSaysLoggingIsInactive)
{
	FakeDaemon d;
	ClientAccessesArgs args{.first_index = 0, .n_clients = 8, .min_hits = 0, .reset = true};
	EXPECT_EQ(dispatch(request(Command::ClientAccessesByIndex3, args), Transport::Unix, d).status,
		  Status::Inactive);
	d.client_log = true;
	d.clients = {client("192.0.2.1", 3), client("2001:db8::1", 4)};
	Reply r = dispatch(request(Command::ClientAccessesByIndex3, args), Transport::Unix, d);
	EXPECT_EQ(r.status, Status::Success);
	const auto *page = std::get_if<ClientAccessesReport>(&r.body);
	ASSERT_NE(page, nullptr);
	EXPECT_EQ(page->clients, d.clients);
	EXPECT_EQ(page->next_index, 2u);
	EXPECT_EQ(d.resets, 1u);
}

TEST(AddressMatches, ChronydsRule)
{
	IpAddress a = *IpAddress::parse("192.168.1.5");
	EXPECT_TRUE(address_matches(NoAddress{}, NoAddress{}, a));
	EXPECT_TRUE(address_matches(NoAddress{}, a, a));
	EXPECT_FALSE(address_matches(NoAddress{}, *IpAddress::parse("192.168.1.6"), a));
	EXPECT_TRUE(address_matches(*IpAddress::parse("255.255.0.0"), *IpAddress::parse("192.168.9.9"), a));
	EXPECT_FALSE(address_matches(*IpAddress::parse("255.255.0.0"), *IpAddress::parse("192.169.9.9"), a));
	EXPECT_FALSE(address_matches(NoAddress{}, *IpAddress::parse("::1"), a));
}

} // namespace
} // namespace strata::control
