// stratactl's command logic against a scripted daemon: the requests each
// command sends, in order, and what it prints (chronyc's text, status lines
// and error messages) and returns (the exit status).
#include "control/client_session.h"
#include "control/source_request.h"
#include "ntp/keys.h"

#include <functional>
#include <map>
#include <sstream>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace strata::control {
namespace {

IpAddress ip(const char *text)
{
	return *IpAddress::parse(text);
}

/// A daemon that answers each request with `answer` (or stays silent when
/// it returns nullopt), recording what it was asked.
class FakeDaemon : public Exchanger {
public:
	std::function<std::optional<Reply>(const Request &)> answer;
	std::vector<Request> requests;

	std::optional<Reply> exchange(const Request &request) override
	{
		requests.push_back(request);
		return answer(request);
	}
};

class FakeNames : public NameService {
public:
	std::map<std::string, IpAddress> hosts;
	std::map<IpAddress, std::string> reverse_names;
	int lookups = 0;

	std::optional<IpAddress> lookup(std::string_view name, std::optional<IpAddress::Family>) override
	{
		lookups++;
		auto it = hosts.find(std::string(name));
		return it == hosts.end() ? std::nullopt : std::optional(it->second);
	}
	std::string reverse(const IpAddress &address) override
	{
		auto it = reverse_names.find(address);
		return it == reverse_names.end() ? address.to_string() : it->second;
	}
};

class FakePause : public Pause {
public:
	std::vector<double> sleeps;
	bool interrupt_after_sleep = false;
	bool stop = false;

	bool sleep(double s) override
	{
		sleeps.push_back(s);
		stop = interrupt_after_sleep;
		return !stop;
	}
	bool interrupted() const override { return stop; }
};

/// The reports of a small daemon: a GPS refclock, two servers, one
/// unresolved source.
std::vector<SourceDataReport> daemon_sources()
{
	return {
		{.address = IpAddress::v4(0x47505300), .poll = 2, .state = SourceState::NonSelectable,
		 .mode = SourceMode::RefClock, .since_sample_s = UINT32_MAX},
		{.address = ip("192.0.2.1"), .poll = 6, .stratum = 2, .state = SourceState::Selected,
		 .mode = SourceMode::Client, .reachability = 0377, .since_sample_s = 12, .orig_latest_meas_s = 5e-6,
		 .latest_meas_s = 4e-6, .latest_meas_err_s = 2e-3},
		{.address = ip("2001:db8::7"), .poll = 6, .stratum = 3, .state = SourceState::Unselected,
		 .mode = SourceMode::Client, .reachability = 017, .since_sample_s = 40, .latest_meas_s = -1e-3,
		 .latest_meas_err_s = 3e-3},
		{.address = AddressId{1}, .poll = 6, .state = SourceState::NonSelectable, .mode = SourceMode::Client,
		 .since_sample_s = UINT32_MAX},
	};
}

struct Fixture : ::testing::Test {
	FakeDaemon daemon;
	FakeNames names;
	FakePause pause;
	std::ostringstream out;
	std::ostringstream err;
	Status refuse = Status::Success;  // what "network-only" reports get

	Fixture()
	{
		daemon.answer = [this](const Request &r) -> std::optional<Reply> {
			auto sources = daemon_sources();
			switch (r.command) {
			case Command::NSources:
				return reply_to(r, NSourcesReport{static_cast<uint32_t>(sources.size())});
			case Command::SourceData:
				return reply_to(r, sources.at(std::get<IndexArgs>(r.args).index));
			case Command::ClientAccessesByIndex3:
				if (refuse != Status::Success) {
					return reply_to(r, NullReport{}, refuse);
				}
				return reply_to(r, ClientAccessesReport{.n_indices = 1, .next_index = 1,
									.clients = {{.address = ip("192.0.2.9"), .ntp_hits = 4,
										     .ntp_interval = 127, .nke_interval = 127,
										     .cmd_interval = 127, .ntp_timeout_interval = 127,
										     .last_ntp_hit_ago_s = 5,
										     .last_nke_hit_ago_s = UINT32_MAX,
										     .last_cmd_hit_ago_s = UINT32_MAX}}});
			case Command::NtpSourceName:
				return reply_to(r, SourceNameReport{"ntp" + std::to_string(daemon.requests.size()) + ".example"});
			default:
				return reply_to(r, NullReport{}, refuse);
			}
		};
		names.reverse_names[ip("192.0.2.1")] = "a-very-long-host-name.example.org";
		names.hosts.emplace("ntp.example", ip("192.0.2.1"));
	}

	bool run(std::string_view line, SessionOptions o = {})
	{
		Session s(daemon, names, pause, o, out, err);
		return s.run(line);
	}
};

TEST_F(Fixture, SourcesResolveNamesAndHideUnresolved)
{
	ASSERT_TRUE(run("sources"));
	EXPECT_EQ(out.str(),
		  "MS Name/IP address         Stratum Poll Reach LastRx Last sample               \n"
		  "===============================================================================\n"
		  "#? GPS                           0   2     0     -     +0ns[   +0ns] +/-    0ns\n"
		  "^* a-very-long-host-name.ex>     2   6   377    12  +4000ns[+5000ns] +/- 2000us\n"
		  "^+ 2001:db8::7                   3   6    17    40  -1000us[   +0ns] +/- 3000us\n");
	// N_SOURCES, then SOURCE_DATA 0…3 in order.
	ASSERT_EQ(daemon.requests.size(), 5u);
	EXPECT_EQ(daemon.requests[0].command, Command::NSources);
	for (uint32_t i = 0; i < 4; i++) {
		EXPECT_EQ(daemon.requests[i + 1].args, (RequestArgs{IndexArgs{i}}));
	}
	EXPECT_EQ(err.str(), "");
}

TEST_F(Fixture, SourcesAllNumericAndConfiguredNames)
{
	ASSERT_TRUE(run("sources -a", {.numeric = true}));
	EXPECT_THAT(out.str(), ::testing::HasSubstr("^* 192.0.2.1 "));
	EXPECT_THAT(out.str(), ::testing::HasSubstr("^? ID#0000000001 "));
	out.str("");
	daemon.requests.clear();
	ASSERT_TRUE(run("sources", {.source_names = true}));
	// -N asks the daemon for each source's name (never for the refclock).
	EXPECT_THAT(out.str(), ::testing::HasSubstr("^* ntp4.example "));
	EXPECT_THAT(out.str(), ::testing::HasSubstr("^+ ntp6.example "));
	EXPECT_EQ(daemon.requests[3].command, Command::NtpSourceName);
	EXPECT_EQ(daemon.requests[3].args, (RequestArgs{AddressArgs{ip("192.0.2.1")}}));
}

TEST_F(Fixture, CsvAndVerbose)
{
	ASSERT_TRUE(run("sources -v", {.csv = true}));
	// -c: no legend, no header, numeric names.
	EXPECT_EQ(out.str(),
		  "#,?,GPS,0,2,0,4294967295,0.000000000,0.000000000,0.000000000\n"
		  "^,*,192.0.2.1,2,6,377,12,0.000004000,0.000005000,0.002000000\n"
		  "^,+,2001:db8::7,3,6,17,40,-0.001000000,0.000000000,0.003000000\n");
	out.str("");
	ASSERT_TRUE(run("sources -v"));
	EXPECT_EQ(out.str().substr(0, 20), "\n  .-- Source mode  ");
}

TEST_F(Fixture, RefusedReportAfterItsHeader)
{
	refuse = Status::Unauth;
	EXPECT_FALSE(run("clients"));
	EXPECT_EQ(out.str(),
		  "Hostname                      NTP   Drop Int IntL Last     Cmd   Drop Int  Last\n"
		  "===============================================================================\n"
		  "501 Not authorised\n");
}

TEST_F(Fixture, ClientsOptions)
{
	ASSERT_TRUE(run("clients -k -p 3 -r", {.numeric = true}));
	ASSERT_EQ(daemon.requests.size(), 1u);
	EXPECT_EQ(daemon.requests[0].args,
		  (RequestArgs{ClientAccessesArgs{.first_index = 0, .n_clients = 8, .min_hits = 3, .reset = true}}));
	EXPECT_THAT(out.str(), ::testing::HasSubstr("NTS-KE"));
	EXPECT_THAT(out.str(), ::testing::HasSubstr("192.0.2.9                       4      0   -   -     5       0      0   -     -\n"));
	EXPECT_FALSE(run("clients -p x"));
	EXPECT_EQ(err.str(), "Invalid syntax for clients command\n");
}

TEST_F(Fixture, SilentDaemon)
{
	daemon.answer = [](const Request &) { return std::nullopt; };
	EXPECT_FALSE(run("tracking"));
	EXPECT_EQ(out.str(), "506 Cannot talk to daemon\n");
}

TEST_F(Fixture, WrongReportType)
{
	daemon.answer = [](const Request &r) { return reply_to(r, ActivityReport{}); };
	EXPECT_FALSE(run("tracking"));
	EXPECT_EQ(out.str(), "508 Bad reply from daemon\n");
}

TEST_F(Fixture, StatusCommands)
{
	EXPECT_TRUE(run("burst 2/4 192.0.2.0/24"));
	EXPECT_EQ(out.str(), "200 OK\n");
	EXPECT_EQ(daemon.requests.back().args,
		  (RequestArgs{BurstArgs{ip("255.255.255.0"), ip("192.0.2.0"), 2, 4}}));

	EXPECT_TRUE(run("online"));
	EXPECT_EQ(daemon.requests.back().args, (RequestArgs{MaskArgs{NoAddress{}, NoAddress{}}}));
	EXPECT_TRUE(run("offline ntp.example"));
	EXPECT_EQ(daemon.requests.back().args, (RequestArgs{MaskArgs{ip("255.255.255.255"), ip("192.0.2.1")}}));
	EXPECT_TRUE(run("offline 255.255.0.0/192.0.0.0"));
	EXPECT_EQ(daemon.requests.back().args, (RequestArgs{MaskArgs{ip("255.255.0.0"), ip("192.0.0.0")}}));
	EXPECT_TRUE(run("makestep"));
	EXPECT_EQ(daemon.requests.back().command, Command::MakeStep);
	EXPECT_TRUE(run("makestep 0.1 3"));
	EXPECT_EQ(daemon.requests.back().args, (RequestArgs{MakestepArgs{3, 0.1}}));
	EXPECT_TRUE(run("delete 2001:db8::7"));
	EXPECT_EQ(daemon.requests.back().args, (RequestArgs{AddressArgs{ip("2001:db8::7")}}));
	EXPECT_TRUE(run("delete ID#5"));
	EXPECT_EQ(daemon.requests.back().args, (RequestArgs{AddressArgs{AddressId{5}}}));
	EXPECT_TRUE(run("reload sources"));
	EXPECT_EQ(daemon.requests.back().command, Command::ReloadSources);
	EXPECT_TRUE(run("minpoll 192.0.2.1 4"));
	EXPECT_EQ(daemon.requests.back().args, (RequestArgs{AddressIntArgs{ip("192.0.2.1"), 4}}));
	EXPECT_TRUE(run("maxdelay 192.0.2.1 0.5"));
	EXPECT_EQ(daemon.requests.back().args, (RequestArgs{AddressFloatArgs{ip("192.0.2.1"), 0.5}}));
	EXPECT_TRUE(run("local stratum 5 orphan"));
	EXPECT_EQ(daemon.requests.back().args, (RequestArgs{LocalArgs{true, 5, 1.0, true}}));
	EXPECT_TRUE(run("add server ntp.example iburst port 11150"));
	const auto &add = std::get<AddSourceArgs>(daemon.requests.back().args);
	EXPECT_EQ(add.name, "ntp.example");
	EXPECT_EQ(add.port, 11150u);
	EXPECT_EQ(add.flags, kAddOnline | kAddIburst);
	for (const char *c : {"dump", "writertc", "trimrtc", "cyclelogs", "refresh", "rekey", "shutdown",
			      "onoffline", "reselect"}) {
		EXPECT_TRUE(run(c)) << c;
	}
	EXPECT_EQ(err.str(), "");

	refuse = Status::NoSuchSource;
	out.str("");
	EXPECT_FALSE(run("delete 192.0.2.99"));
	EXPECT_EQ(out.str(), "503 No such source\n");
}

TEST_F(Fixture, SyntaxErrorsSendNothing)
{
	struct Case {
		const char *line;
		const char *error;
	};
	for (Case c : {Case{"burst", "Invalid syntax for burst command\n"},
		       Case{"burst 1/x", "Invalid syntax for burst command\n"},
		       Case{"offline nowhere", "Could not get address for hostname\n"},
		       Case{"offline 1.2.3.4/x", "Invalid syntax for mask/address\n"},
		       Case{"delete", "Invalid syntax for address\n"},
		       Case{"makestep 1", "Bad syntax for makestep command\n"},
		       Case{"reload", "Invalid syntax for reload command\n"},
		       Case{"add server", "Invalid syntax for add command\n"},
		       Case{"add server nowhere", "Invalid host/IP address\n"},
		       Case{"add server 192.0.2.5 bogus", "Invalid syntax for add command: unknown option 'bogus'\n"},
		       Case{"minpoll 192.0.2.1", "Invalid syntax for address value\n"},
		       Case{"ntpdata nowhere", "Could not get address for hostname\n"},
		       Case{"frobnicate", "Unrecognized command\n"},
		       Case{"allow 192.0.2.0/24", "Command not supported by stratactl yet\n"}}) {
		err.str("");
		EXPECT_FALSE(run(c.line)) << c.line;
		EXPECT_EQ(err.str(), c.error) << c.line;
	}
	EXPECT_TRUE(daemon.requests.empty());
	EXPECT_EQ(out.str(), "");
	// Comments and empty lines succeed and send nothing.
	EXPECT_TRUE(run("  # tracking"));
	EXPECT_TRUE(run(""));
	EXPECT_TRUE(daemon.requests.empty());
}

TEST_F(Fixture, Waitsync)
{
	int calls = 0;
	daemon.answer = [&](const Request &r) {
		calls++;
		TrackingReport t{.ref_id = calls < 3 ? 0u : 0x7F000001u,
				 .address = calls < 3 ? Address{NoAddress{}} : Address{ip("127.0.0.1")},
				 .current_correction_s = -0.002, .skew_ppm = 0.5};
		return reply_to(r, t);
	};
	EXPECT_TRUE(run("waitsync 10 0.01 1 0.5"));
	EXPECT_EQ(out.str(),
		  "try: 1, refid: 00000000, correction: 0.002000000, skew: 0.500\n"
		  "try: 2, refid: 00000000, correction: 0.002000000, skew: 0.500\n"
		  "try: 3, refid: 7F000001, correction: 0.002000000, skew: 0.500\n");
	EXPECT_EQ(pause.sleeps, (std::vector<double>{0.5, 0.5}));

	// Gives up after max-tries (exit status 1); a correction over the limit
	// does not count; the interval is at least 0.1 s.
	out.str("");
	pause.sleeps.clear();
	calls = 10;
	EXPECT_FALSE(run("waitsync 2 0.001 0 0.01"));
	EXPECT_EQ(pause.sleeps, (std::vector<double>{0.1}));
	// Defaults: unlimited tries every 10 s; an interrupt ends it.
	pause.sleeps.clear();
	pause.interrupt_after_sleep = true;
	calls = 0;
	EXPECT_FALSE(run("waitsync"));
	EXPECT_EQ(pause.sleeps, (std::vector<double>{10.0}));
}

TEST_F(Fixture, JsonOutput)
{
	ASSERT_TRUE(run("sources", {.numeric = true, .json = true}));
	auto j = nlohmann::json::parse(out.str());
	EXPECT_EQ(j["report"], "sources");
	EXPECT_EQ(j["sources"].size(), 3u);
	EXPECT_EQ(j["sources"][1]["address"], "192.0.2.1");
	out.str("");
	ASSERT_TRUE(run("burst 1/2", {.json = true}));
	EXPECT_EQ(nlohmann::json::parse(out.str())["code"], 200);
	out.str("");
	refuse = Status::Unauth;
	EXPECT_FALSE(run("clients", {.json = true}));
	auto status = nlohmann::json::parse(out.str());
	EXPECT_EQ(status["code"], 501);
	EXPECT_EQ(status["command"], "clients");
	EXPECT_EQ(status["success"], false);
}

TEST(ClientSession, NormalizeLine)
{
	EXPECT_EQ(normalize_line("  sources \t -v \n"), "sources -v");
	EXPECT_EQ(normalize_line("# a comment"), "");
	EXPECT_EQ(normalize_line("  ; another"), "");
	EXPECT_EQ(normalize_line("tracking # not a comment"), "tracking # not a comment");
}

TEST(ClientSession, AddSourceDefaultsAndOptions)
{
	auto a = parse_add_source("pool pool.example maxsources 2 minpoll -2 maxdelay 0.5 prefer offline key 7 extfield F323");
	ASSERT_TRUE(a) << a.error();
	EXPECT_EQ(a->request.kind, SourceKind::Pool);
	EXPECT_EQ(a->request.max_sources, 2u);
	EXPECT_EQ(a->request.minpoll, -2);
	EXPECT_EQ(a->request.maxpoll, 10);
	EXPECT_EQ(a->request.max_delay_s, 0.5);
	EXPECT_EQ(a->request.authkey, 7u);
	EXPECT_EQ(a->request.flags, kAddPrefer | kAddExtField1);
	auto d = parse_add_source("SERVER 192.0.2.1");
	ASSERT_TRUE(d) << d.error();
	EXPECT_EQ(d->request.port, 123u);
	EXPECT_EQ(d->request.presend_minpoll, 100);
	EXPECT_EQ(d->request.poll_target, 8u);
	EXPECT_EQ(d->request.min_samples, -1);
	EXPECT_EQ(d->request.nts_port, 4460u);
	EXPECT_EQ(d->request.max_delay_dev_ratio, 10.0);
	EXPECT_EQ(d->request.asymmetry, 1.0);
	EXPECT_EQ(d->request.flags, kAddOnline);
	EXPECT_FALSE(parse_add_source("client 192.0.2.1"));
	EXPECT_FALSE(parse_add_source("server 192.0.2.1 key 0"));
	EXPECT_FALSE(parse_add_source("server 192.0.2.1 port"));
	EXPECT_FALSE(parse_add_source("server 192.0.2.1 extfield F324"));
}

TEST_F(Fixture, AddSourceErrorsAndWarningsArePrinted)
{
	EXPECT_FALSE(run("add server 192.0.2.1 minpoll 99"));
	EXPECT_FALSE(run("add server 192.0.2.1 ipv6"));
	EXPECT_FALSE(run("add server not-an-address"));
	EXPECT_EQ(err.str(), "Invalid syntax for add command: minpoll 99 out of range -7..24\n"
			     "Option ipv6 can't be set in an add command: chronyc's request has no field for it (a "
			     "server line in a sourcedir file and `reload sources` can set it)\n"
			     "Invalid host/IP address\n");
	EXPECT_TRUE(daemon.requests.empty());
	err.str("");
	EXPECT_TRUE(run("add server 192.0.2.1 maxsources 2 minpoll 12"));
	EXPECT_EQ(err.str(), "Warning: minpoll 12 is above maxpoll 10 for 192.0.2.1; maxpoll raised to 12\n"
			     "Warning: option 'maxsources' has no effect in add server\n");
	ASSERT_EQ(daemon.requests.size(), 1u);
	EXPECT_EQ(std::get<AddSourceArgs>(daemon.requests.back().args).max_sources, 2u);
}

TEST(ClientSession, CommandLine)
{
	CommandLine cl = parse_command_line({"-n", "-c", "-h", "/tmp/s.sock", "-p", "4000", "sources", "-v"});
	EXPECT_TRUE(cl.session.numeric);
	EXPECT_TRUE(cl.session.csv);
	EXPECT_EQ(cl.hosts, "/tmp/s.sock");
	EXPECT_EQ(cl.port, 4000);
	EXPECT_EQ(cl.commands, (std::vector<std::string>{"sources", "-v"}));
	EXPECT_EQ(command_lines(cl), (std::vector<std::string>{"sources -v "}));

	cl = parse_command_line({"-mjN46", "-h127.0.0.1", "tracking", "sources"});
	EXPECT_TRUE(cl.multi);
	EXPECT_TRUE(cl.session.json);
	EXPECT_TRUE(cl.session.source_names);
	EXPECT_EQ(cl.session.family, IpAddress::Family::V6);
	EXPECT_EQ(cl.hosts, "127.0.0.1");
	EXPECT_EQ(command_lines(cl), (std::vector<std::string>{"tracking", "sources"}));

	EXPECT_EQ(parse_command_line({}).hosts, "/run/strata/stratad.sock,127.0.0.1,::1");
	EXPECT_EQ(parse_command_line({}).port, 323);
	EXPECT_TRUE(command_lines(parse_command_line({})).empty());
	EXPECT_TRUE(parse_command_line({"tracking", "--help"}).help);
	EXPECT_TRUE(parse_command_line({"-v"}).version);
	EXPECT_EQ(parse_command_line({"-x"}).error, "invalid option -- 'x'");
	EXPECT_EQ(parse_command_line({"-h"}).error, "option requires an argument -- 'h'");
	// Options end at the first command word.
	cl = parse_command_line({"sources", "-n"});
	EXPECT_FALSE(cl.session.numeric);
	EXPECT_EQ(cl.commands.size(), 2u);
}

TEST(ClientSession, RetrySchedule)
{
	EXPECT_EQ(kMaxAttempts, 3);
	EXPECT_EQ(attempt_timeout_s(0), 1.0);
	EXPECT_EQ(attempt_timeout_s(1), 2.0);
	EXPECT_EQ(attempt_timeout_s(2), 4.0);
}

/// Counts up from `next`: predictable bytes for the key tests.
class CountingRandom : public RandomSource {
public:
	uint8_t next = 0;
	bool fail = false;
	size_t asked = 0;
	bool fill(std::span<uint8_t> out) override
	{
		asked += out.size();
		for (auto &b : out) {
			b = next++;
		}
		return !fail;
	}
};

TEST_F(Fixture, KeygenPrintsAKeyfileLineThatLoadsAndSigns)
{
	struct Case {
		const char *command;
		const char *prefix;
		size_t bytes;
	};
	for (const Case &c : {Case{"keygen", "1 SHA1 HEX:", 20}, Case{"keygen 73 SHA1 256", "73 SHA1 HEX:", 32},
			      Case{"keygen 151 AES128", "151 AES128 HEX:", 16}, Case{"keygen 9 AES256 64", "9 AES256 HEX:", 32},
			      Case{"keygen 5 SHA3-512 8", "5 SHA3-512 HEX:", 10},  // at least 80 bits
			      Case{"keygen 4294967295 MD5 100000", "4294967295 MD5 HEX:", 512}}) {
		CountingRandom random;
		random.next = 0xf0;
		std::ostringstream line;
		Session session(daemon, names, pause, {}, line, err, &random);
		ASSERT_TRUE(session.run(c.command)) << c.command << ": " << err.str();
		EXPECT_EQ(random.asked, c.bytes) << c.command;
		std::string text = line.str();
		EXPECT_EQ(text.rfind(c.prefix, 0), 0u) << text;
		EXPECT_EQ(text.substr(std::string_view(c.prefix).size(), 6), "F0F1F2") << text;
		EXPECT_EQ(text.size(), std::string_view(c.prefix).size() + 2 * c.bytes + 1) << text;
		// Written to a keyfile, it loads, and signs what it verifies.
		auto loaded = ntp::parse_keyfile(text);
		ASSERT_TRUE(loaded.ok()) << text;
		ASSERT_EQ(loaded.keys->size(), 1u);
		const ntp::Key &key = *loaded.keys->keys()[0];
		EXPECT_EQ(key.length(), c.bytes);
		std::array<std::byte, 48> packet{};
		std::array<std::byte, ntp::kMaxMacLength> mac{};
		size_t n = key.sign(packet, 4, mac);
		EXPECT_TRUE(key.verify(packet, 4, std::span(mac).first(n)));
	}
	EXPECT_TRUE(daemon.requests.empty()) << "keygen asks no daemon";
	CountingRandom random;
	Session session(daemon, names, pause, {}, out, err, &random);
	EXPECT_FALSE(session.run("keygen 1 SHA2"));
	EXPECT_FALSE(session.run("keygen one"));
	EXPECT_FALSE(session.run("keygen 1 SHA1 160 extra"));
	EXPECT_FALSE(session.run("keygen -1"));
	EXPECT_EQ(err.str(), "Unknown hash function or cipher SHA2\n"
			     "Invalid syntax for keygen command\n"
			     "Invalid syntax for keygen command\n"
			     "Invalid syntax for keygen command\n");
	EXPECT_TRUE(out.str().empty());
	// No generator, or one that fails: no key, never a weaker one.
	random.fail = true;
	EXPECT_FALSE(session.run("keygen"));
	EXPECT_FALSE(run("keygen"));
	EXPECT_TRUE(out.str().empty());
}

} // namespace
} // namespace strata::control
