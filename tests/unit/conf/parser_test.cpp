#include "conf/parser.h"

#include <gtest/gtest.h>

#include "conf/directives.h"
#include "tests/fakes/fake_file_reader.h"

namespace strata::conf {
namespace {

using strata::testing::FakeFileReader;

std::vector<std::string> messages(const LoadResult &r)
{
	std::vector<std::string> out;
	for (const auto &d : r.diagnostics) {
		out.push_back(d.to_string());
	}
	return out;
}

LoadResult parse(std::string_view text)
{
	FakeFileReader files;
	return load_text(files, text, "test.conf");
}

TEST(ConfParser, CommentsAndBlankLinesAreSkipped)
{
	auto r = parse("# hash\n! bang\n; semicolon\n% percent\n   \t# indented\n\nport 11123\n");
	EXPECT_TRUE(r.diagnostics.empty()) << ::testing::PrintToString(messages(r));
	EXPECT_EQ(r.config.port, 11123);
}

TEST(ConfParser, DirectivesAndOptionsAreCaseInsensitive)
{
	auto r = parse("LOCAL Stratum 4 ORPHAN\nPort 5000\n");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
	ASSERT_TRUE(r.config.local.has_value());
	EXPECT_EQ(r.config.local->stratum, 4);
	EXPECT_TRUE(r.config.local->orphan);
	EXPECT_EQ(r.config.port, 5000);
}

TEST(ConfParser, ServerOptionsAreTyped)
{
	auto r = parse("server 192.168.163.131 iburst minpoll -2 maxpoll 4 maxdelay 0.05 key 7 offset -1e-3\n");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
	ASSERT_EQ(r.config.sources.size(), 1u);
	const auto &s = r.config.sources[0];
	EXPECT_EQ(s.host, "192.168.163.131");
	EXPECT_TRUE(s.iburst);
	EXPECT_FALSE(s.prefer);
	EXPECT_EQ(s.minpoll_log2, -2);
	EXPECT_EQ(s.maxpoll_log2, 4);
	EXPECT_DOUBLE_EQ(s.maxdelay_s, 0.05);
	EXPECT_EQ(s.key, 7u);
	EXPECT_DOUBLE_EQ(s.offset_s, -1e-3);
	EXPECT_EQ(s.origin.line, 1);
}

TEST(ConfParser, ExtfieldIsAHexTypeAsChronydReadsIt)
{
	// chronyd reads the type with sscanf("%x"): any case, "0x" allowed. A
	// field named twice is one field (chronyd keeps a bit per field).
	auto r = parse("server 192.0.2.1 extfield f323 extfield 0xF323 extfield 10a\n");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
	EXPECT_EQ(r.config.sources[0].extfields, (std::vector<std::string>{"F323", "10A"}));
	EXPECT_EQ(dump(r.config), "server 192.0.2.1 extfield F323 extfield 10A\n");
	EXPECT_EQ(messages(parse("server 192.0.2.1 extfield F999\n")),
		  (std::vector<std::string>{
			  "test.conf:1: extfield: unknown extension field 'F999' (known: F323, F324, 10A)"}));
}

TEST(ConfParser, SourceOptionErrorsNameTheDirective)
{
	EXPECT_EQ(messages(parse("pool p.example maxsources\npeer 192.0.2.1 prefer maxsources 2\n")),
		  (std::vector<std::string>{"test.conf:1: option 'maxsources' of pool needs a value",
					    "test.conf:2: warning: option 'maxsources' has no effect in a peer directive"}));
	EXPECT_EQ(messages(parse("server 192.0.2.1 minpoll 12\n")),
		  (std::vector<std::string>{"test.conf:1: warning: minpoll 12 is above maxpoll 10 for 192.0.2.1; "
					    "maxpoll raised to 12"}));
	// Every bad value of a line is reported, and the line is not used.
	auto r = parse("server 192.0.2.1 minpoll 99 maxdelay -1 iburst\n");
	EXPECT_EQ(messages(r), (std::vector<std::string>{"test.conf:1: minpoll 99 out of range -7..24",
							 "test.conf:1: maxdelay -1 out of range 0..1000000000000"}));
	EXPECT_TRUE(r.config.sources.empty());
}

TEST(ConfParser, UnsupportedDirectiveWarnsOnceAndNamesIt)
{
	auto r = parse("manual\nmanual\nport 123\n");
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(messages(r), (std::vector<std::string>{
				       "test.conf:1: warning: 'manual' is not supported by strata yet; ignored"}));
}

TEST(ConfParser, ObsoleteDirectiveWarns)
{
	auto r = parse("commandkey 1\n");
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(messages(r), (std::vector<std::string>{
				       "test.conf:1: warning: 'commandkey' is obsolete and no longer supported; ignored"}));
}

TEST(ConfParser, EveryErrorIsReportedWithItsLine)
{
	auto r = parse("port 70000\nallow 1.2.3.4/33\nlocal stratum\nfoo\nratelimit interval 4 burst 0\n");
	EXPECT_FALSE(r.ok());
	EXPECT_EQ(messages(r), (std::vector<std::string>{
				       "test.conf:1: port 70000 out of range 0..65535",
				       "test.conf:2: allow: invalid subnet '1.2.3.4/33'",
				       "test.conf:3: option 'stratum' of local needs a value",
				       "test.conf:4: unknown directive 'foo'",
				       "test.conf:5: burst 0 out of range 1..255",
			       }));
}

TEST(ConfParser, AllowAndDenyKeepTheirOrderAndChronyShortForms)
{
	auto r = parse("allow 192.168\ndeny 192.168.1\nallow all 10/8\nallow\ndeny all\nallow 2001:db8::/32\n");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
	const auto &a = r.config.ntp_access;
	ASSERT_EQ(a.size(), 6u);
	EXPECT_TRUE(a[0].allow);
	EXPECT_EQ(a[0].subnet->to_string(), "192.168.0.0/16");
	EXPECT_FALSE(a[1].allow);
	EXPECT_EQ(a[1].subnet->to_string(), "192.168.1.0/24");
	EXPECT_TRUE(a[2].all);
	EXPECT_EQ(a[2].subnet->to_string(), "10.0.0.0/8");
	EXPECT_FALSE(a[3].subnet.has_value());
	EXPECT_FALSE(a[3].all);
	EXPECT_TRUE(a[4].all);
	EXPECT_FALSE(a[4].allow);
	EXPECT_EQ(a[5].subnet->to_string(), "2001:db8::/32");
	EXPECT_EQ(dump(r.config), "allow 192.168.0.0/16\ndeny 192.168.1.0/24\nallow all 10.0.0.0/8\nallow\ndeny all\n"
				  "allow 2001:db8::/32\n");
}

TEST(ConfParser, PidfileSlashDisablesIt)
{
	EXPECT_EQ(parse("").config.pidfile, "/run/strata/stratad.pid");
	EXPECT_EQ(parse("pidfile /").config.pidfile, "");
	EXPECT_EQ(parse("pidfile /tmp/x.pid").config.pidfile, "/tmp/x.pid");
}

TEST(ConfParser, IncludeGlobReadsMatchesInOrder)
{
	FakeFileReader files;
	files.add("/etc/s/main.conf", "include /etc/s/extra/*.conf\nport 1\n");
	files.add("/etc/s/extra/b.conf", "port 3\n");
	files.add("/etc/s/extra/a.conf", "port 2\nlocal\n");
	files.add("/etc/s/extra/c.txt", "garbage\n");
	auto r = load(files, "/etc/s/main.conf");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
	EXPECT_EQ(r.config.port, 1);  // main.conf's line comes after the included ones
	EXPECT_TRUE(r.config.local.has_value());
	EXPECT_EQ(r.config.origins.at("local").file, "/etc/s/extra/a.conf");
}

TEST(ConfParser, IncludeGlobWithoutMatchesIsFine)
{
	FakeFileReader files;
	files.add("/m.conf", "include /nowhere/*.conf\n");
	EXPECT_TRUE(load(files, "/m.conf").diagnostics.empty());
}

TEST(ConfParser, IncludeOfMissingFileIsAnErrorAtTheIncludeLine)
{
	FakeFileReader files;
	files.add("/m.conf", "port 5\ninclude /nowhere.conf\n");
	auto r = load(files, "/m.conf");
	EXPECT_EQ(messages(r), (std::vector<std::string>{
				       "/m.conf:2: could not open included file /nowhere.conf: No such file or directory"}));
}

TEST(ConfParser, IncludeLoopIsAnError)
{
	FakeFileReader files;
	files.add("/loop.conf", "port 1\ninclude /other.conf\n");
	files.add("/other.conf", "include /loop.conf\n");
	auto r = load(files, "/loop.conf");
	EXPECT_EQ(messages(r), (std::vector<std::string>{"/other.conf:1: include loop: /loop.conf is already being read"}));
}

TEST(ConfParser, DeepNestingStops)
{
	FakeFileReader files;
	for (int i = 0; i < 12; i++) {
		files.add("/" + std::to_string(i) + ".conf", "include /" + std::to_string(i + 1) + ".conf\n");
	}
	files.add("/12.conf", "port 1\n");
	auto r = load(files, "/0.conf");
	EXPECT_FALSE(r.ok());
	EXPECT_NE(messages(r).back().find("nested more than 10 deep"), std::string::npos);
}

TEST(ConfParser, ConfdirRereadingItsOwnFileIsALoop)
{
	FakeFileReader files;
	files.add("/etc/d/a.conf", "confdir /etc/d\n");
	auto r = load(files, "/etc/d/a.conf");
	EXPECT_EQ(messages(r), (std::vector<std::string>{"/etc/d/a.conf:1: include loop: /etc/d/a.conf is already "
							 "being read"}));
}

TEST(ConfParser, ConfdirFirstDirectoryWinsAndNamesAreSorted)
{
	FakeFileReader files;
	files.add("/m.conf", "confdir /etc/a /etc/b /missing\n");
	files.add("/etc/a/20-port.conf", "port 20\n");
	files.add("/etc/b/20-port.conf", "port 99\n");  // shadowed by /etc/a's
	files.add("/etc/b/10-local.conf", "local stratum 7\nport 10\n");
	files.add("/etc/b/30-ignored.sources", "server x\n");
	auto r = load(files, "/m.conf");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
	EXPECT_EQ(r.config.port, 20);
	EXPECT_EQ(r.config.local->stratum, 7);
	EXPECT_TRUE(r.config.sources.empty());
}

TEST(ConfParser, SourcedirReadsOnlySourcesFilesWithOnlySourceDirectives)
{
	FakeFileReader files;
	files.add("/m.conf", "sourcedir /run/chrony-dhcp /etc/sources.d\n");
	files.add("/etc/sources.d/lan.sources", "server 192.0.2.1 iburst\npool pool.example\n");
	files.add("/etc/sources.d/bad.sources", "port 5\n");
	files.add("/etc/sources.d/other.conf", "port 6\n");
	auto r = load(files, "/m.conf");
	EXPECT_EQ(r.config.sources.size(), 2u);
	EXPECT_EQ(r.config.port, 123);
	EXPECT_EQ(messages(r), (std::vector<std::string>{
				       "/etc/sources.d/bad.sources:1: 'port' is not allowed in a .sources file (only "
				       "server, pool and peer)",
			       }));
}

TEST(ConfParser, SourcedirsAreRememberedAndReadAgain)
{
	FakeFileReader files;
	files.add("/m.conf", "server 192.0.2.9\nsourcedir /run/chrony-dhcp /etc/sources.d\nsourcedir /srv/s\n");
	files.add("/etc/sources.d/lan.sources", "server 192.0.2.1 iburst\n");
	auto r = load(files, "/m.conf");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
	ASSERT_EQ(r.config.sources.size(), 2u);
	EXPECT_FALSE(r.config.sources[0].from_sourcedir);
	EXPECT_TRUE(r.config.sources[1].from_sourcedir);
	EXPECT_EQ(r.config.sourcedirs, (std::vector<std::vector<std::string>>{{"/run/chrony-dhcp", "/etc/sources.d"},
									       {"/srv/s"}}));
	// The files as they are now: a new one in the first directory, which
	// wins over the same name in the second, and one in the other line's.
	files.add("/run/chrony-dhcp/lan.sources", "pool pool.example maxsources 2\n");
	files.add("/srv/s/x.sources", "server 192.0.2.3\n");
	auto again = load_sourcedirs(files, r.config.sourcedirs);
	ASSERT_TRUE(again.ok()) << ::testing::PrintToString(messages(again));
	ASSERT_EQ(again.config.sources.size(), 2u);
	EXPECT_EQ(again.config.sources[0].host, "pool.example");
	EXPECT_EQ(again.config.sources[0].maxsources, 2);
	EXPECT_EQ(again.config.sources[1].host, "192.0.2.3");
	EXPECT_TRUE(again.config.sources[0].from_sourcedir && again.config.sources[1].from_sourcedir);
	EXPECT_TRUE(load_sourcedirs(files, {}).config.sources.empty());
}

TEST(ConfParser, CommandLineDirectivesReplaceTheFile)
{
	FakeFileReader files;  // no file at all: it must not be read
	auto r = load(files, "/etc/strata.conf", {"local stratum 3", "port 0"});
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
	EXPECT_EQ(r.config.port, 0);
	EXPECT_EQ(r.config.local->stratum, 3);
	auto bad = load(files, "/etc/strata.conf", {"port 0", "prot 1"});
	EXPECT_EQ(messages(bad), (std::vector<std::string>{"command line:2: unknown directive 'prot' (did you mean "
							     "'port'?)"}));
}

TEST(ConfParser, MissingMainFileIsAnError)
{
	FakeFileReader files;
	auto r = load(files, "/etc/strata.conf");
	EXPECT_EQ(messages(r), (std::vector<std::string>{"/etc/strata.conf: could not open configuration file "
							 "/etc/strata.conf: No such file or directory"}));
}

TEST(ConfParser, RefclockParametersAreCheckedPerDriver)
{
	EXPECT_TRUE(parse("refclock GPIO gpiochip0:18:both\n").ok());
	EXPECT_TRUE(parse("refclock PHC eth0:extpps:pin=1:channel=0:clear\n").ok());
	EXPECT_TRUE(parse("refclock SOCK /run/chrony.ttyS0.sock\n").ok());
	EXPECT_FALSE(parse("refclock GPIO gpiochip0\n").ok());
	EXPECT_FALSE(parse("refclock PHC eth0:pin=x\n").ok());
	EXPECT_FALSE(parse("refclock SHM 0:perm=0999\n").ok());
	EXPECT_FALSE(parse("refclock SHM x\n").ok());
	EXPECT_EQ(messages(parse("refclock PSS /dev/pps0\n")),
		  (std::vector<std::string>{"test.conf:1: refclock: unknown driver 'PSS' (known: PPS, SHM, SOCK, PHC, "
					    "RTC, GPIO) (did you mean 'PPS'?)"}));
}

TEST(ConfParser, DefaultRefidsCanBeLocked)
{
	auto r = parse("refclock SHM 0\nrefclock PPS /dev/pps0 lock SHM0\n");
	EXPECT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
}

TEST(ConfParser, DumpPrintsOnlyNonDefaultOptions)
{
	auto r = parse("server a.example iburst minpoll 6 maxpoll 9\nlocal stratum 10\nratelimit\n");
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(dump(r.config), "server a.example maxpoll 9 iburst\nlocal\nratelimit\n");
}

TEST(ConfParser, RatelimitGroupsClientsByPrefixStrataOnly)
{
	auto r = parse("ratelimit interval 2 ipv6prefix 56 ipv4prefix 24\n");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
	ASSERT_TRUE(r.config.ratelimit.has_value());
	EXPECT_EQ(r.config.ratelimit->ipv4prefix, 24);
	EXPECT_EQ(r.config.ratelimit->ipv6prefix, 56);
	EXPECT_EQ(dump(r.config), "ratelimit interval 2 ipv4prefix 24 ipv6prefix 56\n");
	auto defaults = parse("ratelimit\n");
	EXPECT_EQ(defaults.config.ratelimit->ipv4prefix, 32);
	EXPECT_EQ(defaults.config.ratelimit->ipv6prefix, 64);
	auto bad = parse("ratelimit ipv6prefix 129\nratelimit ipv4prefix 0\ncmdratelimit ipv6prefix 64\n");
	EXPECT_FALSE(bad.ok());
	ASSERT_EQ(messages(bad).size(), 3u) << ::testing::PrintToString(messages(bad));
	EXPECT_EQ(messages(bad)[0], "test.conf:1: ipv6prefix 129 out of range 1..128");
	EXPECT_EQ(messages(bad)[1], "test.conf:2: ipv4prefix 0 out of range 1..32");
	EXPECT_EQ(messages(bad)[2].rfind("test.conf:3: ", 0), 0u) << messages(bad)[2];  // NTP's ratelimit only
}

TEST(ConfParser, CommandSocketGroupAndOctalMode)
{
	auto r = parse("cmdsocketgroup monitoring\ncmdsocketmode 640\n");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
	EXPECT_EQ(r.config.cmdsocketgroup, "monitoring");
	EXPECT_EQ(r.config.cmdsocketmode, 0640);
	EXPECT_EQ(dump(r.config), "cmdsocketgroup monitoring\ncmdsocketmode 0640\n");
	for (const char *bad : {"cmdsocketmode 0680\n", "cmdsocketmode rw\n", "cmdsocketmode 107777\n"}) {
		auto b = parse(bad);
		EXPECT_FALSE(b.ok()) << bad;
		ASSERT_FALSE(messages(b).empty());
		EXPECT_NE(messages(b)[0].find("octal file mode"), std::string::npos) << messages(b)[0];
	}
}

TEST(ConfParser, DumpRoundTrips)
{
	auto r = parse("makestep 1.0 3\nmaxupdateskew 100.0\ndriftfile /d interval 60\nlog tracking statistics\n"
		       "refclock PHC /dev/ptp0 poll 0 dpoll -2 offset -37\nsmoothtime 400 0.001\n");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
	std::string once = dump(r.config);
	EXPECT_EQ(once, "refclock PHC /dev/ptp0 poll 0 dpoll -2 offset -37\ndriftfile /d interval 60\nmakestep 1 3\n"
			"maxupdateskew 100\nsmoothtime 400 0.001\nlog statistics tracking\n");
	auto again = parse(once);
	ASSERT_TRUE(again.ok());
	EXPECT_EQ(dump(again.config), once);
}

TEST(ConfParser, MetricsAddressTakesAnAddressAndAPort)
{
	auto r = parse("metricsaddress 127.0.0.1:9123\n");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
	ASSERT_TRUE(r.config.metricsaddress.has_value());
	EXPECT_EQ(r.config.metricsaddress->address, *IpAddress::parse("127.0.0.1"));
	EXPECT_EQ(r.config.metricsaddress->port, 9123);
	EXPECT_EQ(dump(r.config), "metricsaddress 127.0.0.1:9123\n");

	r = parse("metricsaddress [::1]:9124\n");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
	ASSERT_TRUE(r.config.metricsaddress.has_value());
	EXPECT_EQ(r.config.metricsaddress->address, *IpAddress::parse("::1"));
	EXPECT_EQ(r.config.metricsaddress->port, 9124);
	EXPECT_EQ(dump(r.config), "metricsaddress [::1]:9124\n");

	EXPECT_FALSE(parse("").config.metricsaddress.has_value());
}

TEST(ConfParser, MetricsAllowAndDenyKeepTheirOrder)
{
	auto r = parse("metricsallow 192.168.0.0/16\nmetricsdeny 192.168.1.0/24\nmetricsallow all 10.0.0.1\n");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
	ASSERT_EQ(r.config.metrics_access.size(), 3u);
	EXPECT_TRUE(r.config.metrics_access[0].allow);
	EXPECT_FALSE(r.config.metrics_access[1].allow);
	EXPECT_TRUE(r.config.metrics_access[2].all);
	EXPECT_EQ(dump(r.config),
		  "metricsallow 192.168.0.0/16\nmetricsdeny 192.168.1.0/24\nmetricsallow all 10.0.0.1/32\n");
	EXPECT_FALSE(parse("metricsallow 300.1.2.3\n").ok());
}

TEST(ConfParser, BadMetricsAddressesAreErrorsAtTheirLine)
{
	auto r = parse("metricsaddress 127.0.0.1\nmetricsaddress 127.0.0.1:0\nmetricsaddress ::1:9123\n"
		       "metricsaddress [127.0.0.1]:9123\nmetricsaddress localhost:9123\nmetricsaddress [::1]:http\n"
		       "metricsaddress 10.0.0.1:65536\nmetricsaddress\n");
	EXPECT_FALSE(r.ok());
	EXPECT_EQ(messages(r), (std::vector<std::string>{
				       "test.conf:1: metricsaddress: '127.0.0.1' is not ADDRESS:PORT (e.g. 127.0.0.1:9123 or [::1]:9123)",
				       "test.conf:2: metricsaddress port 0 out of range 1..65535",
				       "test.conf:3: metricsaddress: '::1:9123' is not ADDRESS:PORT (e.g. 127.0.0.1:9123 or [::1]:9123)",
				       "test.conf:4: metricsaddress: '[127.0.0.1]:9123' is not ADDRESS:PORT (e.g. 127.0.0.1:9123 or [::1]:9123)",
				       "test.conf:5: metricsaddress: 'localhost:9123' is not ADDRESS:PORT (e.g. 127.0.0.1:9123 or [::1]:9123)",
				       "test.conf:6: metricsaddress port: 'http' is not an integer",
				       "test.conf:7: metricsaddress port 65536 out of range 1..65535",
				       "test.conf:8: metricsaddress: missing argument (usage: metricsaddress ADDRESS:PORT)",
			       }));
	EXPECT_FALSE(r.config.metricsaddress.has_value());
}

TEST(ConfParser, EveryDirectiveHasAUsageAndStatus)
{
	std::set<std::string_view> names;
	for (const auto &d : directive_infos()) {
		EXPECT_TRUE(names.insert(d.name).second) << "duplicate " << d.name;
		if (d.status != Status::Obsolete) {
			EXPECT_TRUE(d.usage.starts_with(d.name)) << d.name;
		}
	}
	// chrony 4.x's 94 directives, its 5 obsolete names and ntscachedir (the
	// old name of ntsdumpdir), and strata's own serverthreads,
	// serverbatchdelay, cmdsocketgroup, cmdsocketmode, metricsaddress,
	// metricsallow and metricsdeny.
	EXPECT_EQ(names.size(), 94u + 5u + 1u + 7u);
}

} // namespace
} // namespace strata::conf
