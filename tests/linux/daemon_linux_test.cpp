// The daemon's Linux pieces against the real kernel: the poll loop (timers,
// fds, signals), the pid file lock and the loggers. Timers are short and the
// tests assert order and "never early", never an upper bound on time.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/leap_table.h"
#include "daemon/atomic_file_linux.h"
#include "daemon/control_server_linux.h"
#include "daemon/logging_linux.h"
#include "daemon/pidfile_linux.h"
#include "daemon/poll_loop_linux.h"
#include "daemon/systemd_notify_linux.h"

namespace strata::daemon {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<PollLoop> make_loop()
{
	auto loop = PollLoop::create();
	EXPECT_TRUE(loop.has_value());
	return std::move(*loop);
}

TEST(PollLoop, TimersRunInDeadlineOrderThenInsertionOrderAndNeverEarly)
{
	auto loop = make_loop();
	std::vector<int> order;
	MonoTime start = loop->now();
	MonoTime due = start + 20ms;
	loop->add_timer(start + 30ms, [&] { order.push_back(3); });
	loop->add_timer(due, [&] {
		order.push_back(1);
		EXPECT_GE(loop->now(), due);
	});
	loop->add_timer(due, [&] { order.push_back(2); });
	loop->add_timer(start + 40ms, [&] { loop->stop(); });
	ASSERT_TRUE(loop->run().has_value());
	EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
	EXPECT_GE(loop->now(), start + 40ms);
}

TEST(PollLoop, CancelledTimersNeverRunAndTheHeapStaysSmall)
{
	auto loop = make_loop();
	bool ran = false;
	TimerId id = loop->add_timer(loop->now() + 5ms, [&] { ran = true; });
	loop->cancel(id);
	loop->cancel(id);      // twice: ignored
	loop->cancel(999999);  // unknown: ignored
	// Re-arming a timer many times (as a poll interval does) must not pile up.
	for (int i = 0; i < 10000; i++) {
		loop->cancel(loop->add_timer(loop->now() + 1h, [&] { ran = true; }));
	}
	loop->add_timer(loop->now() + 10ms, [&] { loop->stop(); });
	ASSERT_TRUE(loop->run().has_value());
	EXPECT_FALSE(ran);
}

TEST(PollLoop, TimersAddedFromCallbacksRun)
{
	auto loop = make_loop();
	int count = 0;
	std::function<void()> tick = [&] {
		if (++count == 3) {
			loop->stop();
		} else {
			loop->add_timer(loop->now() + 1ms, tick);
		}
	};
	loop->add_timer(loop->now(), tick);
	ASSERT_TRUE(loop->run().has_value());
	EXPECT_EQ(count, 3);
}

TEST(PollLoop, TimerReArmedAtNowDoesNotStarveDescriptors)
{
	auto loop = make_loop();
	int fds[2];
	ASSERT_EQ(::pipe(fds), 0);
	int ticks = 0;
	std::function<void()> tick = [&] {
		if (ticks++ == 0) {
			ASSERT_EQ(::write(fds[1], "x", 1), 1);
		}
		loop->add_timer(loop->now(), tick);  // due at once, every time
	};
	loop->add_timer(loop->now(), tick);
	bool readable = false;
	loop->watch_fd(fds[0], POLLIN, [&](short) {
		readable = true;
		loop->stop();
	});
	ASSERT_TRUE(loop->run().has_value());
	EXPECT_TRUE(readable);
	EXPECT_GE(ticks, 1);
	::close(fds[0]);
	::close(fds[1]);
}

TEST(PollLoop, HugeWaitDoesNotOverflow)
{
	auto loop = make_loop();
	bool ran = false;
	MonoTime due = loop->now() + 2ms;
	loop->add_timer(due, [&] { ran = true; });
	while (!ran) {
		ASSERT_TRUE(loop->run_once(Duration::max()).has_value());
	}
	EXPECT_GE(loop->now(), due);
}

TEST(PollLoop, UnwatchingAnotherReadyFdSkipsItsCallback)
{
	auto loop = make_loop();
	int a[2];
	int b[2];
	ASSERT_EQ(::pipe(a), 0);
	ASSERT_EQ(::pipe(b), 0);
	int calls = 0;
	WatchId wa = 0;
	WatchId wb = 0;
	// Whichever runs first removes both watches: the other must not run.
	wa = loop->watch_fd(a[0], POLLIN, [&](short) {
		calls++;
		loop->unwatch(wa);
		loop->unwatch(wb);
	});
	wb = loop->watch_fd(b[0], POLLIN, [&](short) {
		calls++;
		loop->unwatch(wa);
		loop->unwatch(wb);
	});
	ASSERT_EQ(::write(a[1], "x", 1), 1);
	ASSERT_EQ(::write(b[1], "x", 1), 1);
	for (int i = 0; i < 3; i++) {
		ASSERT_TRUE(loop->run_once(2ms).has_value());
	}
	EXPECT_EQ(calls, 1);
	for (int fd : {a[0], a[1], b[0], b[1]}) {
		::close(fd);
	}
}

TEST(PollLoop, DestructorRestoresThePreviousSignalDisposition)
{
	struct sigaction ignore {};
	ignore.sa_handler = SIG_IGN;
	sigemptyset(&ignore.sa_mask);
	struct sigaction saved {};
	ASSERT_EQ(::sigaction(SIGUSR2, &ignore, &saved), 0);
	{
		auto loop = make_loop();
		ASSERT_TRUE(loop->on_signal(SIGUSR2, [] {}).has_value());
	}
	struct sigaction now {};
	ASSERT_EQ(::sigaction(SIGUSR2, nullptr, &now), 0);
	EXPECT_EQ(now.sa_handler, SIG_IGN);
	::sigaction(SIGUSR2, &saved, nullptr);
}

TEST(PollLoop, ReadableFdCallsBackAndCanUnwatchItself)
{
	auto loop = make_loop();
	int fds[2];
	ASSERT_EQ(::pipe(fds), 0);
	int calls = 0;
	WatchId id = 0;
	id = loop->watch_fd(fds[0], POLLIN, [&](short revents) {
		EXPECT_TRUE(revents & POLLIN);
		calls++;
		loop->unwatch(id);  // the data stays unread: without unwatch this would spin
	});
	ASSERT_EQ(::write(fds[1], "x", 1), 1);
	for (int i = 0; i < 5; i++) {
		ASSERT_TRUE(loop->run_once(5ms).has_value());
	}
	EXPECT_EQ(calls, 1);
	::close(fds[0]);
	::close(fds[1]);
}

TEST(PollLoop, SignalsAreDispatchedOnTheLoop)
{
	auto loop = make_loop();
	bool got = false;
	ASSERT_TRUE(loop->on_signal(SIGUSR1, [&] {
				got = true;
				loop->stop();
			})
			    .has_value());
	loop->add_timer(loop->now() + 1ms, [] { ::raise(SIGUSR1); });
	loop->add_timer(loop->now() + 10s, [&] { loop->stop(); });  // safety net
	ASSERT_TRUE(loop->run().has_value());
	EXPECT_TRUE(got);
}

TEST(PollLoop, RealTimeIsReadWithTheWakeup)
{
	auto loop = make_loop();
	RealTime before = loop->real_now();
	ASSERT_TRUE(loop->run_once(2ms).has_value());
	EXPECT_GE(loop->real_now(), before);
}

// Handlers of one wakeup share its now(), unless one that blocked reads the
// clocks again (the NTP server after a batch delay): later handlers then see
// the time after the wait.
TEST(PollLoop, RefreshedClocksReachLaterHandlersOfTheSameWakeup)
{
	auto loop = make_loop();
	int a[2];
	int b[2];
	ASSERT_EQ(::pipe(a), 0);
	ASSERT_EQ(::pipe(b), 0);
	MonoTime woke{};
	MonoTime seen_after{};
	int calls = 0;
	// Both watches are ready in the same wakeup; whichever runs first blocks.
	auto handler = [&](int fd) {
		char c;
		ASSERT_EQ(::read(fd, &c, 1), 1);
		if (calls++ == 0) {
			woke = loop->now();
			::usleep(20'000);
			loop->refresh_clocks();
		} else {
			seen_after = loop->now();
		}
	};
	loop->watch_fd(a[0], POLLIN, [&](short) { handler(a[0]); });
	loop->watch_fd(b[0], POLLIN, [&](short) { handler(b[0]); });
	ASSERT_EQ(::write(a[1], "x", 1), 1);
	ASSERT_EQ(::write(b[1], "x", 1), 1);
	ASSERT_TRUE(loop->run_once(5ms).has_value());
	ASSERT_EQ(calls, 2);
	EXPECT_GE(seen_after - woke, 20ms);
	for (int fd : {a[0], a[1], b[0], b[1]}) {
		::close(fd);
	}
}

std::filesystem::path temp_dir()
{
	auto dir = std::filesystem::temp_directory_path() / ("strata-test-" + std::to_string(::getpid()));
	std::filesystem::create_directories(dir);
	return dir;
}

TEST(PidFile, WritesPidLocksAndIsRemoved)
{
	auto path = (temp_dir() / "a.pid").string();
	{
		auto first = PidFile::acquire(path);
		ASSERT_TRUE(first.has_value()) << first.error().message();
		std::ifstream in(path);
		int pid = 0;
		in >> pid;
		EXPECT_EQ(pid, ::getpid());
		// A second open file description conflicts with the lock, as another process would.
		auto second = PidFile::acquire(path);
		ASSERT_FALSE(second.has_value());
		EXPECT_EQ(second.error().context,
			  "Another stratad is already running (pid " + std::to_string(::getpid()) + ", pidfile " + path + ")");
		EXPECT_TRUE(std::filesystem::exists(path));
	}
	EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(PidFile, StaleFileIsTakenOver)
{
	auto path = (temp_dir() / "stale.pid").string();
	std::ofstream(path) << "12345\n";
	auto p = PidFile::acquire(path);
	ASSERT_TRUE(p.has_value());
	std::ifstream in(path);
	int pid = 0;
	in >> pid;
	EXPECT_EQ(pid, ::getpid());
}

TEST(PidFile, EmptyPathMeansNone)
{
	EXPECT_TRUE(PidFile::acquire("").has_value());
}

TEST(PidFile, UnwritableDirectoryIsAClearError)
{
	auto p = PidFile::acquire("/nonexistent-dir/x.pid");
	ASSERT_FALSE(p.has_value());
	EXPECT_EQ(p.error().message(), "Could not open pidfile /nonexistent-dir/x.pid: No such file or directory");
}

// The planted links of the least-privilege issue: a pid file, a drift
// file's temporary file and a -l log file that are symbolic links to a
// file the daemon must not touch. Each open fails with a clear error and
// the target keeps its content.
struct Planted {
	std::filesystem::path dir = temp_dir() / "planted";
	std::filesystem::path target = dir / "precious";
	Planted()
	{
		std::filesystem::remove_all(dir);
		std::filesystem::create_directories(dir);
		std::ofstream(target) << "precious\n";
	}
	std::filesystem::path link(const std::string &name)
	{
		auto path = dir / name;
		std::filesystem::create_symlink(target, path);
		return path;
	}
	std::string target_text() const
	{
		std::ifstream in(target);
		return std::string(std::istreambuf_iterator<char>(in), {});
	}
};

TEST(PlantedLinks, APidFileLinkIsRefusedAndItsTargetKept)
{
	Planted p;
	auto path = p.link("stratad.pid").string();
	auto pid = PidFile::acquire(path);
	ASSERT_FALSE(pid.has_value());
	EXPECT_EQ(pid.error().context, "Could not open pidfile " + path + " (a symbolic link: not followed)");
	EXPECT_EQ(p.target_text(), "precious\n");
}

TEST(PlantedLinks, ADriftTemporaryLinkIsReplacedNotWrittenThrough)
{
	Planted p;
	auto drift = p.dir / "drift";
	p.link("drift.tmp");
	auto written = write_file_atomically(drift.string(), "1.000 2.000\n");
	ASSERT_TRUE(written.has_value()) << written.error().message();
	EXPECT_EQ(p.target_text(), "precious\n");
	std::ifstream in(drift);
	EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "1.000 2.000\n");
	EXPECT_FALSE(std::filesystem::is_symlink(drift));
}

TEST(PlantedLinks, ALogFileLinkIsRefusedAndItsTargetKept)
{
	Planted p;
	auto path = p.link("stratad.log").string();
	auto logger = FileLogger::open(path);
	ASSERT_FALSE(logger.has_value());
	EXPECT_EQ(logger.error().context, "open log file " + path + " (a symbolic link: not followed)");
	EXPECT_EQ(p.target_text(), "precious\n");
}

TEST(PlantedLinks, AFifoInPlaceOfAFileIsRefusedWithoutWaiting)
{
	Planted p;
	auto path = (p.dir / "fifo.pid").string();
	ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
	auto pid = PidFile::acquire(path);
	ASSERT_FALSE(pid.has_value());
	EXPECT_EQ(pid.error().context, "Could not open pidfile " + path + " (not a regular file)");
}

TEST(CommandDirectory, SocketDirectoryOfAPath)
{
	EXPECT_EQ(socket_directory("/run/strata/stratad.sock"), "/run/strata");
	EXPECT_EQ(socket_directory("/stratad.sock"), "/");
	EXPECT_EQ(socket_directory("stratad.sock"), ".");
	EXPECT_EQ(socket_directory("/clknetsim/unix/chronyd.sock"), "/clknetsim/unix");
}

/// A fresh directory under the test's temporary one.
std::filesystem::path fresh_dir(const std::string &name)
{
	auto dir = temp_dir() / name;
	std::filesystem::remove_all(dir);
	return dir;
}

mode_t mode_of(const std::filesystem::path &p)
{
	struct stat st {};
	EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
	return st.st_mode & 07777;
}

TEST(CommandDirectory, MissingDirectoriesAreCreatedParentsOpenTheSocketsOwnClosed)
{
	auto top = fresh_dir("cmd-missing");
	auto dir = top / "a" / "run";
	mode_t umask_was = ::umask(022);  // the parents' modes follow it (as chronyd's)
	auto made = prepare_command_directory(dir.string(), ::geteuid(), ::getegid());
	::umask(umask_was);
	ASSERT_TRUE(made.has_value()) << made.error().context;
	EXPECT_EQ(*made, "");  // no warning
	EXPECT_EQ(mode_of(top), 0755u);
	EXPECT_EQ(mode_of(top / "a"), 0755u);
	EXPECT_EQ(mode_of(dir), 0750u);
	// Again, with everything there: nothing to do, and it passes.
	EXPECT_TRUE(prepare_command_directory(dir.string(), ::geteuid(), ::getegid()).has_value());
	// "//" in the path changes nothing.
	auto doubled = top.string() + "//a//run";
	EXPECT_TRUE(prepare_command_directory(doubled, ::geteuid(), ::getegid()).has_value());
}

TEST(CommandDirectory, ADirectoryOthersMayEnterIsRefused)
{
	auto dir = fresh_dir("cmd-open");
	std::filesystem::create_directories(dir);
	for (mode_t mode : {0755u, 0701u, 0704u, 0777u}) {
		ASSERT_EQ(::chmod(dir.c_str(), mode), 0);
		auto r = prepare_command_directory(dir.string(), ::geteuid(), ::getegid());
		ASSERT_FALSE(r.has_value()) << std::oct << mode;
		EXPECT_EQ(r.error().context, fmt::format("Wrong permissions on {} (mode {:04o}: others may enter it; the "
							 "command socket's directory must not be accessible by others)",
							 dir.string(), mode));
		EXPECT_EQ(mode_of(dir), mode);  // checked, never changed
	}
	// Owner and group may have every right (chronyd's 0770).
	for (mode_t mode : {0700u, 0750u, 0770u}) {
		ASSERT_EQ(::chmod(dir.c_str(), mode), 0);
		EXPECT_TRUE(prepare_command_directory(dir.string(), ::geteuid(), ::getegid()).has_value())
			<< std::oct << mode;
	}
}

TEST(CommandDirectory, AnotherOwnerOrGroupIsRefused)
{
	auto dir = fresh_dir("cmd-owner");
	std::filesystem::create_directories(dir);
	ASSERT_EQ(::chmod(dir.c_str(), 0750), 0);
	uid_t uid = ::geteuid();
	gid_t gid = ::getegid();
	auto r = prepare_command_directory(dir.string(), uid + 1, gid);
	ASSERT_FALSE(r.has_value());
	EXPECT_EQ(r.error().context, fmt::format("Wrong owner of {} (UID {}, not {})", dir.string(), uid, uid + 1));
	r = prepare_command_directory(dir.string(), uid, gid + 1);
	ASSERT_FALSE(r.has_value());
	EXPECT_EQ(r.error().context, fmt::format("Wrong owner of {} (GID {}, not {})", dir.string(), gid, gid + 1));
	// A directory that exists is never given to the daemon: still not ours.
	struct stat st {};
	ASSERT_EQ(::stat(dir.c_str(), &st), 0);
	EXPECT_EQ(st.st_uid, uid);
	EXPECT_EQ(st.st_gid, gid);
}

TEST(CommandDirectory, TheMonitoringGroupMayEnterButNotWrite)
{
	auto dir = fresh_dir("cmd-group");
	std::filesystem::create_directories(dir);
	ASSERT_EQ(::chmod(dir.c_str(), 0750), 0);
	uid_t uid = ::geteuid();
	gid_t gid = ::getegid();
	// The directory of the daemon's group: fine, but the monitoring group's
	// members cannot enter it, and the log says so.
	auto r = prepare_command_directory(dir.string(), uid, gid, gid + 7);
	ASSERT_TRUE(r.has_value()) << r.error().context;
	EXPECT_EQ(*r, fmt::format("The members of group {} cannot reach the command socket: its directory {} belongs "
				  "to group {}",
				  gid + 7, dir.string(), gid));
	// The directory of the monitoring group (the daemon's being another):
	// it may enter, not write.
	r = prepare_command_directory(dir.string(), uid, gid + 7, gid);
	ASSERT_TRUE(r.has_value()) << r.error().context;
	EXPECT_EQ(*r, "");
	ASSERT_EQ(::chmod(dir.c_str(), 0770), 0);
	r = prepare_command_directory(dir.string(), uid, gid + 7, gid);
	ASSERT_FALSE(r.has_value());
	EXPECT_EQ(r.error().context, fmt::format("Wrong permissions on {} (mode 0770: the monitoring group {} may "
						 "write in it)",
						 dir.string(), gid));
	// Neither group.
	r = prepare_command_directory(dir.string(), uid, gid + 7, gid + 8);
	ASSERT_FALSE(r.has_value());
	EXPECT_EQ(r.error().context,
		  fmt::format("Wrong owner of {} (GID {}, not {} or {})", dir.string(), gid, gid + 7, gid + 8));
}

TEST(CommandDirectory, AFileInThePathIsRefusedAndNothingIsCreated)
{
	auto top = fresh_dir("cmd-file");
	std::filesystem::create_directories(top);
	std::ofstream(top / "file") << "x";
	auto r = prepare_command_directory((top / "file" / "run").string(), ::geteuid(), ::getegid());
	ASSERT_FALSE(r.has_value());
	EXPECT_EQ(r.error().context, (top / "file").string() + " is not a directory");
	r = prepare_command_directory((top / "file").string(), ::geteuid(), ::getegid());
	ASSERT_FALSE(r.has_value());
	EXPECT_EQ(r.error().context, (top / "file").string() + " is not a directory");
}

TEST(CommandDirectory, ADirectoryThatCannotBeCreatedIsAClearError)
{
	auto r = prepare_command_directory("/proc/strata-test/run", ::geteuid(), ::getegid());
	ASSERT_FALSE(r.has_value());
	EXPECT_EQ(r.error().context.rfind("Could not create directory /proc/strata-test: ", 0), 0u)
		<< r.error().context;
}

TEST(Loggers, StreamAndFileLinesAreStampedAndFiltered)
{
	auto path = (temp_dir() / "log").string();
	{
		auto file = FileLogger::open(path);
		ASSERT_TRUE(file.has_value());
		(*file)->set_min_level(LogLevel::Warning);
		(*file)->info("dropped");
		(*file)->warning("kept {}", 1);
		(*file)->fatal("bad");
	}
	std::ifstream in(path);
	std::stringstream ss;
	ss << in.rdbuf();
	std::string text = ss.str();
	EXPECT_EQ(text.find("dropped"), std::string::npos);
	// "2026-11-25T04:40:01Z kept 1"
	EXPECT_EQ(text.size(), 2 * 21 + std::string("kept 1\nFatal error : bad\n").size()) << text;
	EXPECT_EQ(text[4], '-');
	EXPECT_EQ(text[19], 'Z');
	EXPECT_NE(text.find("Z kept 1\n"), std::string::npos);

	std::FILE *mem = std::tmpfile();
	StreamLogger stream(mem);
	stream.info("hello {}", "world");
	std::rewind(mem);
	char buffer[128] = {};
	ASSERT_NE(std::fgets(buffer, sizeof(buffer), mem), nullptr);
	EXPECT_EQ(std::string(buffer).substr(20), " hello world\n");
	std::fclose(mem);
}

TEST(Loggers, FileLoggerReopensAfterRotation)
{
	auto dir = temp_dir();
	auto path = (dir / "rotated.log").string();
	std::filesystem::remove(path);
	auto file = FileLogger::open(path);
	ASSERT_TRUE(file.has_value());
	(*file)->info("before");
	std::filesystem::rename(path, path + ".1");
	ASSERT_TRUE((*file)->reopen().has_value());
	(*file)->info("after");
	std::ifstream old_in(path + ".1");
	std::ifstream new_in(path);
	std::string old_line;
	std::string new_line;
	std::getline(old_in, old_line);
	std::getline(new_in, new_line);
	EXPECT_NE(old_line.find(" before"), std::string::npos);
	EXPECT_NE(new_line.find(" after"), std::string::npos);
	std::filesystem::remove(path + ".1");
}

TEST(Loggers, FileLoggerOpenErrorIsClear)
{
	auto file = FileLogger::open("/nonexistent-dir/log");
	ASSERT_FALSE(file.has_value());
	EXPECT_EQ(file.error().message(), "open log file /nonexistent-dir/log: No such file or directory");
}

} // namespace
} // namespace strata::daemon

namespace strata::daemon {
namespace {

std::vector<std::byte> read_bytes(const std::string &path)
{
	std::ifstream in(path, std::ios::binary);
	std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	std::vector<std::byte> out(chars.size());
	std::memcpy(out.data(), chars.data(), chars.size());
	return out;
}

TEST(LeapTable, TzdataListAndRightZoneAgree)
{
	// The system's two sources of leap seconds (Debian's tzdata ships both)
	// must give the same table: this checks the TZif reading on real data.
	const std::string list = "/usr/share/zoneinfo/leap-seconds.list", zone = "/usr/share/zoneinfo/right/UTC";
	if (!std::filesystem::exists(list) || !std::filesystem::exists(zone)) {
		GTEST_SKIP() << "tzdata's leap-seconds.list or right/UTC is not installed";
	}
	auto bytes = read_bytes(list);
	auto from_list = LeapTable::parse_list(std::string_view(reinterpret_cast<const char *>(bytes.data()), bytes.size()));
	ASSERT_TRUE(from_list.has_value()) << from_list.error().message();
	auto from_zone = LeapTable::parse_tzif(read_bytes(zone));
	ASSERT_TRUE(from_zone.has_value()) << from_zone.error().message();
	// The list starts with TAI − UTC = 10 s on 1972-01-01; the zone with the
	// first leap second.
	ASSERT_EQ(from_list->changes().size(), from_zone->changes().size() + 1);
	for (size_t i = 0; i < from_zone->changes().size(); i++) {
		EXPECT_EQ(from_list->changes()[i + 1].at_s, from_zone->changes()[i].at_s) << i;
		EXPECT_EQ(from_list->changes()[i + 1].tai_offset, from_zone->changes()[i].tai_offset) << i;
	}
	EXPECT_EQ(from_zone->tai_offset(RealTime::from_parts(1'800'000'000, 0)), 37);
}

TEST(SystemdStatus, SaysWhatTheDaemonIsSynchronisedTo)
{
	control::TrackingReport t;
	t.leap = Leap::Unsynchronized;
	EXPECT_EQ(status_text(t), "Not synchronised");
	t.leap = Leap::None;
	t.stratum = 2;
	t.address = *IpAddress::parse("192.0.2.1");
	t.last_offset_s = -12.5e-6;
	EXPECT_EQ(status_text(t), "Synchronised to 192.0.2.1 (stratum 2), last offset -0.000012500 s");
	t.address = control::NoAddress{};
	t.ref_id = 0x50505300;
	t.stratum = 1;
	EXPECT_EQ(status_text(t), "Synchronised to PPS (stratum 1), last offset -0.000012500 s");
	t.ref_id = kLocalRefId;
	t.stratum = 3;
	EXPECT_EQ(status_text(t).substr(0, 40), "Synchronised to the local clock (stratum");
}

} // namespace
} // namespace strata::daemon
