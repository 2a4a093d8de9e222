#include "daemon/options.h"

#include <gtest/gtest.h>

namespace strata::daemon {
namespace {

Options ok(std::vector<std::string> args)
{
	auto o = parse_command_line(args);
	EXPECT_TRUE(o.has_value()) << (o ? "" : o.error().context);
	return o ? *o : Options{};
}

std::string error(std::vector<std::string> args)
{
	auto o = parse_command_line(args);
	EXPECT_FALSE(o.has_value());
	return o ? "" : o.error().context;
}

TEST(Options, Defaults)
{
	Options o = ok({});
	EXPECT_EQ(o.config_file, "/etc/strata/strata.conf");
	EXPECT_FALSE(o.foreground);
	EXPECT_FALSE(o.no_clock_control);
	EXPECT_EQ(o.min_level, LogLevel::Info);
	EXPECT_TRUE(o.directives.empty());
}

TEST(Options, ChronydFlags)
{
	Options o = ok({"-d", "-x", "-U", "-f", "/etc/chrony/chrony.conf", "-4", "-L", "1", "-P", "5", "-m", "-t", "2.5",
			"-l", "/tmp/log"});
	EXPECT_TRUE(o.foreground);
	EXPECT_EQ(o.debug, 1);
	EXPECT_TRUE(o.no_clock_control);
	EXPECT_TRUE(o.allow_non_root);
	EXPECT_EQ(o.config_file, "/etc/chrony/chrony.conf");
	EXPECT_EQ(o.family, 4);
	EXPECT_EQ(o.min_level, LogLevel::Warning);
	EXPECT_EQ(o.priority, 5);
	EXPECT_TRUE(o.lock_memory);
	EXPECT_EQ(o.timeout_s, 2.5);
	EXPECT_EQ(o.log_file, "/tmp/log");
}

TEST(Options, GroupedFlagsAndAttachedValues)
{
	Options o = ok({"-dxU", "-ffile.conf", "-6"});
	EXPECT_EQ(o.config_file, "file.conf");
	EXPECT_TRUE(o.no_clock_control);
	EXPECT_EQ(o.family, 6);
}

TEST(Options, TwiceDebugEnablesDebugMessages)
{
	EXPECT_EQ(ok({"-d", "-d"}).min_level, LogLevel::Debug);
	EXPECT_EQ(ok({"-dd"}).debug, 2);
}

TEST(Options, TrailingWordsAreDirectives)
{
	Options o = ok({"-p", "local stratum 3", "allow", "127.0.0.1"});
	EXPECT_TRUE(o.print_config);
	EXPECT_EQ(o.directives, (std::vector<std::string>{"local stratum 3", "allow", "127.0.0.1"}));
	EXPECT_EQ(ok({"--", "-x"}).directives, (std::vector<std::string>{"-x"}));
}

TEST(Options, Errors)
{
	EXPECT_EQ(error({"-z"}), "unknown option -z (stratad -h lists them)");
	EXPECT_EQ(error({"-f"}), "option -f requires an argument");
	EXPECT_EQ(error({"-L", "7"}), "-L 7: level must be -1 (debug) to 3 (fatal)");
	EXPECT_EQ(error({"-t", "0"}), "-t 0: timeout must be a positive number of seconds");
	EXPECT_EQ(error({"-P", "x"}), "-P x: priority must be 0 to 99");
}

TEST(Options, NotYetImplementedFlagsSaySo)
{
	for (std::string f : {"-r", "-R"}) {
		EXPECT_EQ(error({f}), "option " + f + " is not supported by strata yet");
	}
	EXPECT_NE(usage().find("-u USER\tSwitch to this user"), std::string::npos);
	EXPECT_NE(usage().find("Not supported by strata yet: -r -R.\n"), std::string::npos);
}

TEST(Options, UserAndTheLastOneWins)
{
	EXPECT_EQ(ok({}).user, "");
	EXPECT_EQ(ok({"-u", "_chrony"}).user, "_chrony");
	EXPECT_EQ(ok({"-unobody", "-d"}).user, "nobody");
	// Debian's unit passes -u first and $DAEMON_OPTS after: a -u there wins.
	EXPECT_EQ(ok({"-n", "-u", "_strata", "-u", "_chrony"}).user, "_chrony");
	EXPECT_EQ(error({"-u"}), "option -u requires an argument");
	EXPECT_EQ(error({"-u", ""}), "-u: the user name is empty");
}

TEST(Options, SyscallFilterLevels)
{
	EXPECT_EQ(ok({}).syscall_filter, 0);
	for (int level : {-2, -1, 0, 1, 2}) {
		EXPECT_EQ(ok({"-F", std::to_string(level)}).syscall_filter, level);
	}
	EXPECT_EQ(ok({"-xF1"}).syscall_filter, 1);
	EXPECT_EQ(error({"-F", "3"}).substr(0, 28), "-F 3: level must be -2 to 2 ");
	EXPECT_EQ(error({"-F", "-3"}).substr(0, 29), "-F -3: level must be -2 to 2 ");
	EXPECT_EQ(error({"-F", "x"}).substr(0, 28), "-F x: level must be -2 to 2 ");
	EXPECT_EQ(error({"-F"}), "option -F requires an argument");
}

TEST(Options, SetFromRtc)
{
	EXPECT_FALSE(ok({}).set_from_rtc);
	Options o = ok({"-s", "-x"});
	EXPECT_TRUE(o.set_from_rtc);
	EXPECT_TRUE(o.no_clock_control);
	EXPECT_TRUE(ok({"-sd"}).set_from_rtc);
	EXPECT_NE(usage().find("-s\t\tSet the clock from the RTC"), std::string::npos);
}

TEST(Options, PrintOffsetRunsInTheForegroundWithStderrLogging)
{
	Options o = ok({"-Q", "server 127.0.0.1 iburst"});
	EXPECT_TRUE(o.print_offset);
	EXPECT_TRUE(o.foreground);
	EXPECT_EQ(o.debug, 1);
	EXPECT_EQ(o.directives, (std::vector<std::string>{"server 127.0.0.1 iburst"}));
	EXPECT_TRUE(o.once());
	EXPECT_FALSE(o.set_once);
}

TEST(Options, SetOnceRunsInTheForegroundWithStderrLogging)
{
	Options o = ok({"-q", "pool localhost iburst"});
	EXPECT_TRUE(o.set_once);
	EXPECT_FALSE(o.print_offset);
	EXPECT_TRUE(o.once());
	EXPECT_TRUE(o.foreground);
	EXPECT_EQ(o.debug, 1);
	EXPECT_FALSE(ok({"-d"}).once());
}

TEST(Options, HelpAndVersion)
{
	EXPECT_TRUE(ok({"-h"}).help);
	EXPECT_TRUE(ok({"--help"}).help);
	EXPECT_TRUE(ok({"-v"}).version);
	EXPECT_TRUE(ok({"--version"}).version);
	EXPECT_NE(usage().find("-x\t\tDon't control system clock"), std::string::npos);
}

} // namespace
} // namespace strata::daemon
