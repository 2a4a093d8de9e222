#include "daemon/privileges.h"

#include <gtest/gtest.h>

namespace strata::daemon {
namespace {

TEST(Privileges, DashUOverridesTheDirectiveAndRootIsTheDefault)
{
	EXPECT_EQ(target_user("", ""), "root");
	EXPECT_EQ(target_user("", "_chrony"), "_chrony");
	EXPECT_EQ(target_user("nobody", "_chrony"), "nobody");
	EXPECT_EQ(target_user("nobody", ""), "nobody");
}

TEST(Privileges, OnlyCapSysTimeAndOnlyWhenSteering)
{
	EXPECT_EQ(capabilities_to_keep(true), "cap_sys_time=ep");
	EXPECT_EQ(capabilities_to_keep(false), "");
}

TEST(Privileges, DirectoryOf)
{
	EXPECT_EQ(directory_of("/var/lib/strata/drift"), "/var/lib/strata");
	EXPECT_EQ(directory_of("/var/lib//drift"), "/var/lib");
	EXPECT_EQ(directory_of("/drift"), "/");
	EXPECT_EQ(directory_of("//drift"), "/");
	EXPECT_EQ(directory_of("drift"), ".");
	EXPECT_EQ(directory_of("state/drift"), "state");
}

TEST(Privileges, LogdirAndDumpdirAreMadeForTheUser)
{
	conf::Config c;
	EXPECT_TRUE(directories_for_user(c).empty());
	c.logdir = "/var/log/chrony";
	// A logdir without any `log` writes nothing: nothing to create.
	EXPECT_TRUE(directories_for_user(c).empty());
	c.log = {"measurements"};
	c.dumpdir = "/var/lib/chrony";
	auto dirs = directories_for_user(c);
	ASSERT_EQ(dirs.size(), 2u);
	EXPECT_EQ(dirs[0].path, "/var/log/chrony");
	EXPECT_EQ(dirs[0].mode, 0750);
	EXPECT_EQ(dirs[0].what, "logdir");
	EXPECT_EQ(dirs[1].path, "/var/lib/chrony");
	EXPECT_EQ(dirs[1].what, "dumpdir");
}

TEST(Privileges, EveryDirectoryWrittenAfterTheSwitchIsChecked)
{
	conf::Config c;
	c.pidfile.clear();
	EXPECT_TRUE(directories_written_after_switch(c).empty());
	c.driftfile = conf::DriftFile{.path = "/var/lib/chrony/chrony.drift"};
	c.rtcfile = "/var/lib/strata/rtc";
	c.logdir = "/var/log/strata";
	c.log = {"tracking"};
	c.pidfile = "/run/strata/stratad.pid";
	auto dirs = directories_written_after_switch(c);
	ASSERT_EQ(dirs.size(), 4u);
	EXPECT_EQ(dirs[0].path, "/var/lib/chrony");
	EXPECT_EQ(dirs[0].what, "driftfile /var/lib/chrony/chrony.drift");
	EXPECT_EQ(dirs[1].path, "/var/lib/strata");
	EXPECT_EQ(dirs[1].what, "rtcfile /var/lib/strata/rtc");
	EXPECT_EQ(dirs[2].path, "/var/log/strata");
	EXPECT_EQ(dirs[2].what, "logdir /var/log/strata");
	EXPECT_EQ(dirs[3].path, "/run/strata");
	EXPECT_EQ(dirs[3].what, "pidfile /run/strata/stratad.pid (removed at exit)");
}

} // namespace
} // namespace strata::daemon
