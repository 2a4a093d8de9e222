// The log file writer on a real file system (a fresh temporary directory per
// test): file names, banners, append mode, file modes, cyclelogs after a
// rotation, a bad logdir, and the bounded queue.
#include "daemon/log_files_linux.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <gtest/gtest.h>

namespace strata::daemon {
namespace {

namespace fs = std::filesystem;

class RecordingLogger final : public Logger {
public:
	std::vector<std::pair<LogLevel, std::string>> lines;

protected:
	void write(LogLevel level, std::string_view message) override { lines.emplace_back(level, std::string(message)); }
};

std::string slurp(const fs::path &p)
{
	std::ifstream in(p);
	std::stringstream s;
	s << in.rdbuf();
	return s.str();
}

TrackingEntry tracking_at(int64_t s)
{
	return {.time = RealTime::from_parts(s, 0),
		.reference = "127.0.0.1",
		.stratum = 2,
		.leap = Leap::None,
		.combined = 1};
}

class LogFilesTest : public ::testing::Test {
protected:
	void SetUp() override
	{
		char pattern[] = "/tmp/strata-logfiles-XXXXXX";
		ASSERT_NE(::mkdtemp(pattern), nullptr);
		dir = pattern;
	}
	void TearDown() override { fs::remove_all(dir); }

	fs::path dir;
	RecordingLogger log;
};

TEST_F(LogFilesTest, NothingToWriteWithoutAFileStrataWrites)
{
	EXPECT_EQ(LogFiles::start({.directory = dir, .logs = {"tempcomp"}}, log), nullptr);
	EXPECT_EQ(LogFiles::start({.directory = dir, .logs = {}}, log), nullptr);
}

TEST_F(LogFilesTest, BannerEveryNLinesInChronydsFile)
{
	auto files = LogFiles::start({.directory = dir, .logs = {"tracking"}, .banner_every = 2}, log);
	ASSERT_NE(files, nullptr);
	EXPECT_TRUE(files->enabled(LogFile::Tracking));
	EXPECT_FALSE(files->enabled(LogFile::Statistics));
	for (int i = 0; i < 3; i++) {
		files->tracking(tracking_at(1796190142 + i));
	}
	// Not enabled: no file, no line.
	files->selection({.time = RealTime::from_parts(1796190142, 0), .source = "x"});
	ASSERT_TRUE(files->flush());
	std::string banner = log_banner(LogFile::Tracking);
	EXPECT_EQ(slurp(dir / "tracking.log"), banner + format_tracking(tracking_at(1796190142)) + "\n" +
						       format_tracking(tracking_at(1796190143)) + "\n" + banner +
						       format_tracking(tracking_at(1796190144)) + "\n");
	EXPECT_FALSE(fs::exists(dir / "selection.log"));
	EXPECT_TRUE(log.lines.empty());
}

TEST_F(LogFilesTest, LogbannerZeroWritesNoBanner)
{
	auto files = LogFiles::start({.directory = dir, .logs = {"tracking"}, .banner_every = 0}, log);
	ASSERT_NE(files, nullptr);
	files->tracking(tracking_at(1796190142));
	ASSERT_TRUE(files->flush());
	EXPECT_EQ(slurp(dir / "tracking.log"), format_tracking(tracking_at(1796190142)) + "\n");
}

TEST_F(LogFilesTest, AppendsCreates0644AndCyclesAfterRotation)
{
	{
		std::ofstream old(dir / "tracking.log");
		old << "earlier run\n";
	}
	mode_t umask_before = ::umask(077);
	auto files = LogFiles::start({.directory = dir, .logs = {"tracking", "statistics"}, .banner_every = 32}, log);
	ASSERT_NE(files, nullptr);
	files->tracking(tracking_at(1796190142));
	files->statistics(RealTime::from_parts(1796190142, 0), "127.0.0.1", SourceEstimate{.samples = 3, .runs = 2}, 3,
			  0.0);
	ASSERT_TRUE(files->flush());
	::umask(umask_before);
	std::string first = format_tracking(tracking_at(1796190142)) + "\n";
	EXPECT_EQ(slurp(dir / "tracking.log"), "earlier run\n" + log_banner(LogFile::Tracking) + first);
	struct stat st {};
	ASSERT_EQ(::stat((dir / "statistics.log").c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 0777, 0644u) << "created 0644 whatever the umask";

	// logrotate moves the file away; cyclelogs; the next line starts a new
	// file, with a banner, and the moved file has what it had.
	fs::rename(dir / "tracking.log", dir / "tracking.log.1");
	files->tracking(tracking_at(1796190143));  // before the cycle: still the old file
	files->cycle();
	files->tracking(tracking_at(1796190144));
	ASSERT_TRUE(files->flush());
	EXPECT_EQ(slurp(dir / "tracking.log.1"), "earlier run\n" + log_banner(LogFile::Tracking) + first +
							 format_tracking(tracking_at(1796190143)) + "\n");
	EXPECT_EQ(slurp(dir / "tracking.log"),
		  log_banner(LogFile::Tracking) + format_tracking(tracking_at(1796190144)) + "\n");
	EXPECT_TRUE(log.lines.empty());
}

TEST_F(LogFilesTest, MissingLogdirIsCreated)
{
	auto files = LogFiles::start({.directory = dir / "new", .logs = {"tracking"}}, log);
	ASSERT_NE(files, nullptr);
	files->tracking(tracking_at(1796190142));
	ASSERT_TRUE(files->flush());
	EXPECT_TRUE(fs::exists(dir / "new" / "tracking.log"));
}

TEST_F(LogFilesTest, BadLogdirIsSaidOnceAndNothingElseHappens)
{
	{
		std::ofstream not_a_dir(dir / "file");
	}
	auto files = LogFiles::start({.directory = dir / "file", .logs = {"tracking", "selection"}}, log);
	ASSERT_NE(files, nullptr);
	for (int i = 0; i < 5; i++) {
		files->tracking(tracking_at(1796190142 + i));
		files->selection({.time = RealTime::from_parts(1796190142, 0), .source = "x"});
	}
	ASSERT_TRUE(files->flush());
	files->tracking(tracking_at(1796190150));
	ASSERT_TRUE(files->flush());
	ASSERT_EQ(log.lines.size(), 1u);
	EXPECT_EQ(log.lines[0].first, LogLevel::Error);
	EXPECT_NE(log.lines[0].second.find("file: not a directory"), std::string::npos) << log.lines[0].second;
	// cyclelogs tries again: still wrong, said again (once).
	files->cycle();
	files->tracking(tracking_at(1796190151));
	files->tracking(tracking_at(1796190152));
	ASSERT_TRUE(files->flush());
	EXPECT_EQ(log.lines.size(), 2u);
	// Repaired: the next cycle writes.
	fs::remove(dir / "file");
	fs::create_directory(dir / "file");
	files->cycle();
	files->tracking(tracking_at(1796190153));
	ASSERT_TRUE(files->flush());
	EXPECT_EQ(slurp(dir / "file" / "tracking.log"),
		  log_banner(LogFile::Tracking) + format_tracking(tracking_at(1796190153)) + "\n");
	EXPECT_EQ(log.lines.size(), 2u);
}

TEST_F(LogFilesTest, UnopenableFileIsSaidOnce)
{
	fs::create_directory(dir / "tracking.log");  // a directory where the file should be
	auto files = LogFiles::start({.directory = dir, .logs = {"tracking", "selection"}}, log);
	ASSERT_NE(files, nullptr);
	files->tracking(tracking_at(1796190142));
	files->tracking(tracking_at(1796190143));
	files->selection({.time = RealTime::from_parts(1796190142, 0), .source = "x"});
	ASSERT_TRUE(files->flush());
	ASSERT_EQ(log.lines.size(), 1u);
	EXPECT_NE(log.lines[0].second.find("Could not open log file " + (dir / "tracking.log").string()),
		  std::string::npos)
		<< log.lines[0].second;
	EXPECT_TRUE(fs::exists(dir / "selection.log")) << "the other files are written";
}

TEST_F(LogFilesTest, FullQueueDropsAndCounts)
{
	auto files = LogFiles::start(
		{.directory = dir, .logs = {"tracking"}, .banner_every = 0, .max_queued = 3, .start_paused = true}, log);
	ASSERT_NE(files, nullptr);
	for (int i = 0; i < 5; i++) {
		files->tracking(tracking_at(1796190142 + i));
	}
	EXPECT_EQ(files->dropped(), 2u);
	EXPECT_FALSE(files->flush(50)) << "paused: nothing written";
	files->resume();
	ASSERT_TRUE(files->flush());
	EXPECT_EQ(slurp(dir / "tracking.log"), format_tracking(tracking_at(1796190142)) + "\n" +
						       format_tracking(tracking_at(1796190143)) + "\n" +
						       format_tracking(tracking_at(1796190144)) + "\n");
	ASSERT_EQ(log.lines.size(), 1u);
	EXPECT_EQ(log.lines[0].first, LogLevel::Warning);
	EXPECT_EQ(log.lines[0].second, "Log files: 2 lines dropped, the writer could not keep up (2 in all)");
}

TEST_F(LogFilesTest, MeasurementsOnlySynchronisedUnlessRaw)
{
	MeasurementEntry good{.time = RealTime::from_parts(1796190142, 0), .source = "127.0.0.1"};
	MeasurementEntry bad = good;
	bad.tests567[1] = false;  // an unsynchronised server
	MeasurementEntry slow = good;
	slow.testsABCD[1] = false;  // maxdelayratio: still a valid measurement
	{
		auto files = LogFiles::start({.directory = dir, .logs = {"measurements"}, .banner_every = 0}, log);
		ASSERT_NE(files, nullptr);
		EXPECT_FALSE(files->raw_measurements());
		files->measurement(good);
		files->measurement(bad);
		files->measurement(slow);
	}  // the destructor writes what is queued
	EXPECT_EQ(slurp(dir / "measurements.log"), format_measurement(good) + "\n" + format_measurement(slow) + "\n");
	fs::remove(dir / "measurements.log");
	{
		auto files = LogFiles::start({.directory = dir, .logs = {"rawmeasurements"}, .banner_every = 0}, log);
		ASSERT_NE(files, nullptr);
		EXPECT_TRUE(files->raw_measurements());
		files->measurement(good);
		files->measurement(bad);
	}
	EXPECT_EQ(slurp(dir / "measurements.log"), format_measurement(good) + "\n" + format_measurement(bad) + "\n");
}

TEST_F(LogFilesTest, StatisticsStressFollowsEachSource)
{
	auto files = LogFiles::start({.directory = dir, .logs = {"statistics"}, .banner_every = 0}, log);
	ASSERT_NE(files, nullptr);
	RealTime t = RealTime::from_parts(1796190142, 0);
	files->statistics(t, "a", SourceEstimate{.frequency_ppm = 1.0, .skew_ppm = 0.5, .samples = 4}, 4, 0);
	files->statistics(t, "b", SourceEstimate{.frequency_ppm = 7.0, .skew_ppm = 0.5, .samples = 4}, 4, 0);
	files->statistics(t, "a", SourceEstimate{.frequency_ppm = 2.0, .skew_ppm = 0.5, .samples = 5}, 6, 0);
	ASSERT_TRUE(files->flush());
	// Columns: date, time, source, sd, offset, offset sd, rate, skew, stress, Ns, Bs, Nr, asymmetry.
	std::istringstream lines(slurp(dir / "statistics.log"));
	std::vector<std::vector<std::string>> rows;
	for (std::string line; std::getline(lines, line);) {
		std::istringstream words(line);
		rows.emplace_back(std::istream_iterator<std::string>(words), std::istream_iterator<std::string>());
	}
	ASSERT_EQ(rows.size(), 3u);
	EXPECT_EQ(rows[0][8], "0.0e+00");
	EXPECT_EQ(rows[1][8], "0.0e+00") << "another source: no stress from a's";
	EXPECT_EQ(rows[2][8], "2.0e+00");  // |-1e-6 - -2e-6| / 0.5e-6
	EXPECT_EQ(rows[2][9], "5");
	EXPECT_EQ(rows[2][10], "1");  // 6 samples held, the newest 5 used
}

} // namespace
} // namespace strata::daemon
