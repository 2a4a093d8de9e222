#include "refclock/bad_sample_log.h"

#include <gtest/gtest.h>

#include "tests/fakes/recording_logger.h"

namespace strata::refclock {
namespace {

using namespace std::chrono_literals;

const MonoTime kT0 = MonoTime{} + 1000s;

TEST(BadSampleLog, FirstAtOnceThenAtMostOncePerInterval)
{
	RecordingLogger log;
	BadSampleLog bad;
	bad.report(log, kT0, "SOCK /run/x.sock", "unexpected magic number");
	ASSERT_EQ(log.lines.size(), 1u);
	EXPECT_EQ(log.lines[0].level, LogLevel::Warning);
	EXPECT_EQ(log.lines[0].text,
		  "SOCK /run/x.sock: bad sample ignored: unexpected magic number");

	bad.report(log, kT0 + 1s, "SOCK /run/x.sock", "a");
	bad.report(log, kT0 + 60s - 1ns, "SOCK /run/x.sock", "b");
	EXPECT_EQ(log.lines.size(), 1u);
	EXPECT_EQ(bad.suppressed(), 2u);

	// Exactly a minute after the last line: the next line, with the count.
	bad.report(log, kT0 + 60s, "SOCK /run/x.sock", "unexpected length");
	ASSERT_EQ(log.lines.size(), 2u);
	EXPECT_EQ(log.lines[1].text,
		  "SOCK /run/x.sock: bad sample ignored: unexpected length "
		  "(2 more in the last 60 s)");
	EXPECT_EQ(bad.suppressed(), 0u);
	EXPECT_EQ(bad.total(), 4u);

	// The interval runs from the last line written, not the last sample.
	bad.report(log, kT0 + 119s, "S", "c");
	EXPECT_EQ(log.lines.size(), 2u);
	bad.report(log, kT0 + 200s, "S", "d");
	ASSERT_EQ(log.lines.size(), 3u);
	EXPECT_EQ(log.lines[2].text, "S: bad sample ignored: d (1 more in the last 140 s)");
}

TEST(BadSampleLog, IntervalIsConfigurable)
{
	RecordingLogger log;
	BadSampleLog bad(10s);
	bad.report(log, kT0, "S", "x");
	bad.report(log, kT0 + 10s, "S", "x");
	EXPECT_EQ(log.lines.size(), 2u);
	EXPECT_EQ(bad.total(), 2u);
}

} // namespace
} // namespace strata::refclock
