#include "control/json_control.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace strata::control {
namespace {

using nlohmann::json;

/// Two NTP sources and a refclock; records the commands carried out.
class FakeDaemon final : public ControlHandler {
public:
	std::vector<SourceDataReport> sources{
		{.address = *IpAddress::parse("192.0.2.1"), .poll = 6, .stratum = 2, .mode = SourceMode::Client},
		{.address = *IpAddress::parse("2001:db8::7"), .poll = 6, .stratum = 3, .mode = SourceMode::Client},
		{.address = IpAddress::v4(0x47505300), .poll = 4, .stratum = 0, .mode = SourceMode::RefClock},
	};
	std::vector<ClientAccess> clients;
	int steps = 0, bursts = 0, resets = 0, shutdowns = 0;
	IpAddress last_burst_address;

	uint32_t n_sources() override { return static_cast<uint32_t>(sources.size()); }
	std::optional<SourceDataReport> source_data(uint32_t i) override
	{
		return i < sources.size() ? std::optional(sources[i]) : std::nullopt;
	}
	std::optional<SourceStatsReport> source_stats(uint32_t i) override
	{
		if (i >= sources.size()) {
			return std::nullopt;
		}
		SourceStatsReport r{.n_samples = 10 + i};
		if (i == 2) {
			r.ref_id = 0x47505300;  // NoAddress: a refclock
		} else {
			r.address = sources[i].address;
		}
		return r;
	}
	std::optional<SelectDataReport> select_data(uint32_t) override { return std::nullopt; }
	std::optional<NtpDataReport> ntp_data(const IpAddress &a) override
	{
		if (a != std::get<IpAddress>(sources[0].address) && a != std::get<IpAddress>(sources[1].address)) {
			return std::nullopt;
		}
		return NtpDataReport{.remote_address = a, .stratum = 2};
	}
	std::optional<SourceNameReport> source_name(const IpAddress &a) override
	{
		if (a == std::get<IpAddress>(sources[0].address)) {
			return SourceNameReport{"ntp1.example.net"};
		}
		return std::nullopt;
	}
	TrackingReport tracking() override
	{
		return TrackingReport{.ref_id = 0xc0000201, .address = sources[0].address, .stratum = 3};
	}
	ActivityReport activity() override { return ActivityReport{.online = 2}; }
	ServerStatsReport server_stats() override { return ServerStatsReport{.ntp_hits = 5}; }
	std::optional<ClientAccessesReport> client_accesses(uint32_t first, uint32_t max, uint32_t min_hits,
							    bool reset) override
	{
		auto page = client_page(clients, first, max, min_hits);
		resets += reset ? static_cast<int>(page.clients.size()) : 0;
		return page;
	}
	std::optional<RtcReport> rtc() override { return std::nullopt; }
	uint32_t set_online(const Address &, const Address &, bool) override { return 1; }
	uint32_t on_offline() override { return 1; }
	uint32_t burst(const Address &, const Address &address, int, int) override
	{
		bursts++;
		if (const auto *ip = std::get_if<IpAddress>(&address)) {
			last_burst_address = *ip;
		}
		return 1;
	}
	bool make_step() override { return ++steps > 0; }
	Status write_rtc() override { return Status::NoRtc; }
	Status trim_rtc() override { return Status::NoRtc; }
	Status cycle_logs() override { return Status::Success; }
	Status refresh() override { return Status::NotEnabled; }
	Status dump() override { return Status::NotEnabled; }
	Status add_source(const AddSourceArgs &) override { return Status::NotEnabled; }
	int deletes = 0, reloads = 0;
	bool delete_source(const IpAddress &a) override
	{
		if (a != std::get<IpAddress>(sources[1].address)) {
			return false;
		}
		deletes++;
		return true;
	}
	Status reload_sources() override
	{
		reloads++;
		return Status::Success;
	}
	std::optional<AuthDataReport> auth_data(const IpAddress &a) override
	{
		if (a != std::get<IpAddress>(sources[0].address) && a != std::get<IpAddress>(sources[1].address)) {
			return std::nullopt;
		}
		return AuthDataReport{};
	}
	void shutdown() override { shutdowns++; }
};

json ask(FakeDaemon &d, std::string_view request, bool privileged = true)
{
	json reply = json::parse(answer_json(request, privileged, d), nullptr, false);
	EXPECT_TRUE(reply.is_object()) << request;
	return reply;
}

TEST(JsonControl, RecognisesJsonDatagrams)
{
	EXPECT_TRUE(is_json_request(R"({"command":"tracking"})"));
	EXPECT_TRUE(is_json_request(" \n{}"));
	EXPECT_FALSE(is_json_request(std::string("\x06\x01\x00\x00", 4)));
	EXPECT_FALSE(is_json_request(""));
}

TEST(JsonControl, SourcesComeWholeWithNames)
{
	FakeDaemon d;
	json r = ask(d, R"({"version":1,"command":"sources"})");
	EXPECT_EQ(r["report"], "sources");
	EXPECT_EQ(r["version"], 1);
	ASSERT_EQ(r["sources"].size(), 3u);
	EXPECT_EQ(r["sources"][0]["name"], "ntp1.example.net");
	EXPECT_EQ(r["sources"][1]["name"], "2001:db8::7");  // no name: the address
	EXPECT_EQ(r["sources"][2]["name"], "GPS");          // a refclock: its id
	EXPECT_EQ(r["sources"][1]["stratum"], 3);

	r = ask(d, R"({"command":"sourcestats"})");
	ASSERT_EQ(r["sources"].size(), 3u);
	EXPECT_EQ(r["sources"][2]["name"], "GPS");
	EXPECT_EQ(r["sources"][2]["samples"], 12);
}

TEST(JsonControl, TrackingNtpdataAndServerstats)
{
	FakeDaemon d;
	json r = ask(d, R"({"command":"tracking"})");
	EXPECT_EQ(r["report"], "tracking");
	EXPECT_EQ(r["reference_name"], "ntp1.example.net");
	EXPECT_EQ(r["stratum"], 3);

	// ntpdata without an address: every NTP source, not the refclock.
	r = ask(d, R"({"command":"ntpdata"})");
	EXPECT_EQ(r["report"], "ntpdata");
	ASSERT_TRUE(r.contains("sources")) << r.dump();
	EXPECT_EQ(r["sources"].size(), 2u);
	r = ask(d, R"({"command":"ntpdata","address":"192.0.2.9"})");
	EXPECT_EQ(r["report"], "status");
	EXPECT_EQ(r["code"], 503);

	r = ask(d, R"({"command":"serverstats"})", false);
	EXPECT_EQ(r["report"], "serverstats");
}

TEST(JsonControl, ClientsPageBeyondChronydsEightAndSayWhereToGoOn)
{
	FakeDaemon d;
	for (uint32_t i = 0; i < 30; i++) {
		d.clients.push_back(ClientAccess{.address = IpAddress::v4(0xc0000200 + i), .ntp_hits = i});
	}
	json r = ask(d, R"({"command":"clients","max":20})", false);
	EXPECT_EQ(r["report"], "clients");
	ASSERT_EQ(r["clients"].size(), 20u);
	EXPECT_EQ(r["next_index"], 20);
	EXPECT_EQ(r["table_size"], 30);
	r = ask(d, R"({"command":"clients","first":20,"min_hits":25})");
	EXPECT_EQ(r["clients"].size(), 5u);
	EXPECT_EQ(r["next_index"], 30);
	EXPECT_EQ(d.resets, 0);
	r = ask(d, R"({"command":"clients","reset":true})");
	EXPECT_EQ(d.resets, 30);
}

TEST(JsonControl, ChangesOnlyForThePrivileged)
{
	FakeDaemon d;
	json r = ask(d, R"({"command":"makestep"})", false);
	EXPECT_EQ(r["report"], "status");
	EXPECT_EQ(r["code"], 501);
	EXPECT_FALSE(r["success"]);
	r = ask(d, R"({"command":"clients","reset":true})", false);
	EXPECT_EQ(r["code"], 501);
	r = ask(d, R"({"command":"shutdown"})", false);
	EXPECT_EQ(r["code"], 501);
	EXPECT_EQ(d.steps + d.resets + d.shutdowns, 0);

	r = ask(d, R"({"command":"makestep"})");
	EXPECT_EQ(r["code"], 200);
	EXPECT_TRUE(r["success"]);
	EXPECT_EQ(d.steps, 1);
	r = ask(d, R"({"command":"burst","good":2,"total":4,"address":"192.0.2.1"})");
	EXPECT_EQ(r["code"], 200);
	EXPECT_EQ(d.last_burst_address, *IpAddress::parse("192.0.2.1"));
	r = ask(d, R"({"command":"writertc"})");
	EXPECT_EQ(r["code"], 513);
}

TEST(JsonControl, AuthdataDeleteReloadAndRekey)
{
	FakeDaemon d;
	json r = ask(d, R"({"command":"authdata"})", false);
	EXPECT_EQ(r["report"], "authdata");
	ASSERT_TRUE(r.contains("sources")) << r.dump();
	ASSERT_EQ(r["sources"].size(), 2u);  // the NTP sources, not the refclock
	EXPECT_EQ(r["sources"][0]["name"], "ntp1.example.net");
	EXPECT_EQ(r["sources"][0]["mode"], "none");

	r = ask(d, R"({"command":"delete","address":"2001:db8::7"})", false);
	EXPECT_EQ(r["code"], 501);
	r = ask(d, R"({"command":"delete"})");
	EXPECT_EQ(r["code"], 502);
	r = ask(d, R"({"command":"delete","address":"192.0.2.99"})");
	EXPECT_EQ(r["code"], 503);
	r = ask(d, R"({"command":"delete","address":"2001:db8::7"})");
	EXPECT_EQ(r["code"], 200);
	EXPECT_EQ(d.deletes, 1);

	r = ask(d, R"({"command":"reload_sources"})");
	EXPECT_EQ(r["code"], 200);
	EXPECT_EQ(d.reloads, 1);
	r = ask(d, R"({"command":"rekey"})");
	EXPECT_EQ(r["code"], 200);
	r = ask(d, R"({"command":"rekey"})", false);
	EXPECT_EQ(r["code"], 501);
}

TEST(JsonControl, BadRequestsGetAStatusThatSaysWhy)
{
	FakeDaemon d;
	for (const char *bad : {"{", "[1,2]", R"({"version":1})", R"({"command":7})", "{\"command\":\"sources\"",
				"\xff\xfe{}"}) {
		json r = ask(d, bad);
		EXPECT_EQ(r["report"], "status") << bad;
		EXPECT_EQ(r["code"], 502) << bad;
		EXPECT_TRUE(r.contains("detail")) << bad;
	}
	json r = ask(d, R"({"command":"frobnicate"})", false);
	EXPECT_EQ(r["code"], 502);
	EXPECT_NE(r["detail"].get<std::string>().find("frobnicate"), std::string::npos);
	r = ask(d, R"({"version":2,"command":"sources"})");
	EXPECT_EQ(r["code"], 517);  // chronyc's "Protocol version mismatch"
	r = ask(d, R"({"command":"burst","good":-1})");
	EXPECT_EQ(r["code"], 502);
	EXPECT_NE(r["detail"].get<std::string>().find("good"), std::string::npos);
	r = ask(d, R"({"command":"online","address":"not an ip"})");
	EXPECT_EQ(r["code"], 502);
	EXPECT_EQ(d.bursts, 0);
}

} // namespace
} // namespace strata::control
