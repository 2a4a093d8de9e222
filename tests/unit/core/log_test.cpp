#include "core/log.h"

#include <vector>

#include <gtest/gtest.h>

namespace strata {
namespace {

class RecordingLogger final : public Logger {
public:
	std::vector<std::pair<LogLevel, std::string>> lines;

protected:
	void write(LogLevel level, std::string_view message) override
	{
		lines.emplace_back(level, std::string(message));
	}
};

TEST(Logger, FormatsAndFiltersByLevel)
{
	RecordingLogger log;
	log.set_min_level(LogLevel::Warning);
	log.info("dropped {}", 1);
	log.warning("System clock wrong by {:.6f} seconds", 1.25);
	log.error("kept");
	ASSERT_EQ(log.lines.size(), 2u);
	EXPECT_EQ(log.lines[0].first, LogLevel::Warning);
	EXPECT_EQ(log.lines[0].second, "System clock wrong by 1.250000 seconds");
	EXPECT_EQ(log.lines[1].second, "kept");
}

TEST(Logger, DebugNeedsDebugLevel)
{
	RecordingLogger log;
	log.debug("hidden");
	EXPECT_TRUE(log.lines.empty());
	log.set_min_level(LogLevel::Debug);
	log.debug("shown");
	EXPECT_EQ(log.lines.size(), 1u);
	EXPECT_EQ(to_string(LogLevel::Fatal), "fatal");
}

} // namespace
} // namespace strata
