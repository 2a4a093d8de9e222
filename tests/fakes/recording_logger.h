// A Logger that keeps every line, for tests that check what was logged and
// how often.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "core/log.h"

namespace strata {

class RecordingLogger final : public Logger {
public:
	struct Line {
		LogLevel level;
		std::string text;
	};

	RecordingLogger() { set_min_level(LogLevel::Debug); }

	std::vector<Line> lines;

	size_t count(LogLevel level) const
	{
		auto at_level = [&](const Line &l) { return l.level == level; };
		return static_cast<size_t>(std::count_if(lines.begin(), lines.end(), at_level));
	}
	/// How many lines at `level` contain `text`.
	int count(LogLevel level, std::string_view text) const
	{
		auto match = [&](const Line &l) { return l.level == level && l.text.find(text) != std::string::npos; };
		return static_cast<int>(std::count_if(lines.begin(), lines.end(), match));
	}
	/// How many lines contain `text`.
	size_t count_with(std::string_view text) const
	{
		auto has = [&](const Line &l) { return l.text.find(text) != std::string::npos; };
		return static_cast<size_t>(std::count_if(lines.begin(), lines.end(), has));
	}
	/// The text of the last line at `level`, or "" when there is none.
	std::string last(LogLevel level) const
	{
		for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
			if (it->level == level) {
				return it->text;
			}
		}
		return "";
	}

protected:
	void write(LogLevel level, std::string_view message) override
	{
		lines.push_back({level, std::string(message)});
	}
};

} // namespace strata
