// What the configuration parser needs from the file system: read a file,
// expand a glob, list a directory. The parser stays pure and testable with an
// in-memory FakeFileReader; conf/file_reader_linux.cpp reads real files.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace strata::conf {

class FileReader {
public:
	virtual ~FileReader() = default;
	/// The whole file. Errors carry errno (ENOENT, EACCES, EISDIR…).
	virtual Result<std::string> read(const std::string &path) = 0;
	/// Paths matching a shell glob, sorted; empty when nothing matches.
	virtual Result<std::vector<std::string>> glob(const std::string &pattern) = 0;
	/// Names (not paths) of the entries of `dir`, in any order; ENOENT when
	/// the directory does not exist.
	virtual Result<std::vector<std::string>> list_directory(const std::string &dir) = 0;
};

/// The real file system.
class SystemFileReader final : public FileReader {
public:
	Result<std::string> read(const std::string &path) override;
	Result<std::vector<std::string>> glob(const std::string &pattern) override;
	Result<std::vector<std::string>> list_directory(const std::string &dir) override;
};

} // namespace strata::conf
