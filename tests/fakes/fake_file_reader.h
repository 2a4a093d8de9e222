// An in-memory file system for configuration tests: files by path, globs with
// `*` in the last path component, directory listings derived from the paths.
#pragma once

#include <algorithm>
#include <cerrno>
#include <map>
#include <string>
#include <vector>

#include "conf/file_reader.h"

namespace strata::testing {

class FakeFileReader final : public conf::FileReader {
public:
	void add(const std::string &path, const std::string &text) { files_[path] = text; }

	Result<std::string> read(const std::string &path) override
	{
		auto it = files_.find(path);
		if (it == files_.end()) {
			return fail_errno(path, ENOENT);
		}
		return it->second;
	}

	Result<std::vector<std::string>> glob(const std::string &pattern) override
	{
		std::vector<std::string> out;
		for (const auto &[path, text] : files_) {
			if (matches(pattern, path)) {
				out.push_back(path);
			}
		}
		return out;  // std::map keeps them sorted
	}

	Result<std::vector<std::string>> list_directory(const std::string &dir) override
	{
		std::string prefix = dir.ends_with('/') ? dir : dir + "/";
		std::vector<std::string> names;
		for (const auto &[path, text] : files_) {
			if (path.starts_with(prefix) && path.find('/', prefix.size()) == std::string::npos) {
				names.push_back(path.substr(prefix.size()));
			}
		}
		if (names.empty()) {
			return fail_errno(dir, ENOENT);
		}
		std::reverse(names.begin(), names.end());  // "any order": make the parser sort
		return names;
	}

private:
	/// `*` matches any run of characters except '/'.
	static bool matches(std::string_view pattern, std::string_view text)
	{
		if (pattern.empty()) {
			return text.empty();
		}
		if (pattern[0] == '*') {
			for (size_t i = 0; i <= text.size(); i++) {
				if (matches(pattern.substr(1), text.substr(i))) {
					return true;
				}
				if (i < text.size() && text[i] == '/') {
					break;
				}
			}
			return false;
		}
		return !text.empty() && pattern[0] == text[0] && matches(pattern.substr(1), text.substr(1));
	}

	std::map<std::string, std::string> files_;
};

} // namespace strata::testing
