#include "control/dispatch.h"

#include <algorithm>

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
	std::vector<AddSourceArgs> added;
	Status add_answer = Status::Success;
	Status add_source(const AddSourceArgs &a) override
	{
		added.push_back(a);
		return add_answer;
	}
	bool delete_source(const IpAddress &a) override
	{
		auto it = std::find(sources.begin(), sources.end(), a);
		if (it == sources.end()) {
			return false;
		}
		online.erase(online.begin() + (it - sources.begin()));
		sources.erase(it);
		return true;
	}
	int reloads = 0;
	Status rekey() override { return rekey_status; }
	Status rekey_status = Status::Success;
	Status reload_sources() override
	{
		reloads++;
		return Status::Success;
	}
	std::optional<AuthDataReport> auth_data(const IpAddress &a) override
	{
		if (std::find(sources.begin(), sources.end(), a) == sources.end()) {
			return std::nullopt;
		}
		return AuthDataReport{.mode = AuthMode::None, .last_ke_ago_s = UINT32_MAX};
	}
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
	EXPECT_EQ(dispatch(request(Command::ModifyMinpoll, AddressIntArgs{}), Transport::Unix, d).status,
		  Status::NotEnabled);
	EXPECT_EQ(dispatch(request(Command::RtcReport), Transport::Network, d).status, Status::NoRtc);
}

TEST(Dispatch, ManualListIsEmptyNotRefused)
{
	// chrony's 110-chronyc expects "210 n_samples = 0" from a daemon
	// that has taken no manual samples.
	FakeDaemon d;
	Reply r = dispatch(request(Command::ManualList), Transport::Network, d);
	EXPECT_EQ(r.status, Status::Success);
	const auto *list = std::get_if<ManualListReport>(&r.body);
	ASSERT_NE(list, nullptr);
	EXPECT_TRUE(list->samples.empty());
}

TEST(Dispatch, AddSourceChecksItsArgumentsAndOnlyOverTheUnixSocket)
{
	FakeDaemon d;
	AddSourceArgs a{.kind = SourceKind::Server, .name = "ntp.example.org", .port = 123};
	EXPECT_EQ(dispatch(request(Command::AddSource, a), Transport::Network, d).status, Status::Unauth);
	EXPECT_TRUE(d.added.empty());
	EXPECT_EQ(dispatch(request(Command::AddSource, a), Transport::Unix, d).status, Status::Success);
	ASSERT_EQ(d.added.size(), 1u);
	EXPECT_EQ(d.added[0], a);
	// The daemon's answer is passed on (chronyd's 511, 512).
	d.add_answer = Status::SourceAlreadyKnown;
	EXPECT_EQ(dispatch(request(Command::AddSource, a), Transport::Unix, d).status, Status::SourceAlreadyKnown);
	d.add_answer = Status::TooManySources;
	a.kind = SourceKind::Pool;
	EXPECT_EQ(dispatch(request(Command::AddSource, a), Transport::Unix, d).status, Status::TooManySources);
	EXPECT_EQ(d.added.size(), 3u);
	// Names chronyd would not resolve, peers, ports outside 1…65535: refused
	// before the daemon sees them.
	for (const char *bad : {"", "two words", "tab\there", "\x7f"}) {
		AddSourceArgs b{.kind = SourceKind::Server, .name = bad, .port = 123};
		EXPECT_EQ(dispatch(request(Command::AddSource, b), Transport::Unix, d).status, Status::InvalidName) << bad;
	}
	AddSourceArgs peer{.kind = SourceKind::Peer, .name = "192.0.2.1", .port = 123};
	EXPECT_EQ(dispatch(request(Command::AddSource, peer), Transport::Unix, d).status, Status::NotEnabled);
	for (uint32_t port : {0u, 65536u}) {
		AddSourceArgs b{.kind = SourceKind::Server, .name = "192.0.2.1", .port = port};
		EXPECT_EQ(dispatch(request(Command::AddSource, b), Transport::Unix, d).status, Status::Invalid) << port;
	}
	EXPECT_EQ(dispatch(request(Command::AddSource, IndexArgs{}), Transport::Unix, d).status, Status::Invalid);
	EXPECT_EQ(d.added.size(), 3u);
}

TEST(Dispatch, DeleteSourceByAddress)
{
	FakeDaemon d;
	auto del = [&](Address a, Transport t = Transport::Unix) {
		return dispatch(request(Command::DelSource, AddressArgs{a}), t, d).status;
	};
	EXPECT_EQ(del(*IpAddress::parse("192.168.1.5"), Transport::Network), Status::Unauth);
	EXPECT_EQ(d.sources.size(), 2u);
	EXPECT_EQ(del(*IpAddress::parse("192.0.2.9")), Status::NoSuchSource);
	EXPECT_EQ(del(NoAddress{}), Status::NoSuchSource);
	EXPECT_EQ(del(AddressId{1}), Status::NoSuchSource);
	EXPECT_EQ(del(*IpAddress::parse("192.168.1.5")), Status::Success);
	EXPECT_EQ(d.sources, std::vector<IpAddress>{*IpAddress::parse("127.0.0.1")});
	EXPECT_EQ(del(*IpAddress::parse("192.168.1.5")), Status::NoSuchSource);
}

TEST(Dispatch, ReloadRekeyAndAuthData)
{
	FakeDaemon d;
	EXPECT_EQ(dispatch(request(Command::ReloadSources), Transport::Network, d).status, Status::Unauth);
	EXPECT_EQ(dispatch(request(Command::Rekey), Transport::Network, d).status, Status::Unauth);
	EXPECT_EQ(dispatch(request(Command::AuthData, AddressArgs{*IpAddress::parse("127.0.0.1")}), Transport::Network, d)
			  .status,
		  Status::Unauth);
	EXPECT_EQ(d.reloads, 0);
	EXPECT_EQ(dispatch(request(Command::ReloadSources), Transport::Unix, d).status, Status::Success);
	EXPECT_EQ(d.reloads, 1);
	EXPECT_EQ(dispatch(request(Command::Rekey), Transport::Unix, d).status, Status::Success);
	d.rekey_status = Status::Failed;  // a daemon that cannot read its keyfile again says so
	EXPECT_EQ(dispatch(request(Command::Rekey), Transport::Unix, d).status, Status::Failed);
	Reply r = dispatch(request(Command::AuthData, AddressArgs{*IpAddress::parse("127.0.0.1")}), Transport::Unix, d);
	EXPECT_EQ(r.status, Status::Success);
	EXPECT_EQ(std::get<AuthDataReport>(r.body).mode, AuthMode::None);
	EXPECT_EQ(dispatch(request(Command::AuthData, AddressArgs{*IpAddress::parse("192.0.2.9")}), Transport::Unix, d)
			  .status,
		  Status::NoSuchSource);
	EXPECT_EQ(dispatch(request(Command::AuthData, AddressArgs{NoAddress{}}), Transport::Unix, d).status,
		  Status::NoSuchSource);
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
