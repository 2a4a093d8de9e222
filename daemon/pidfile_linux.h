// The pid file: created at start, holding an exclusive flock() for the
// daemon's lifetime, so that a second stratad with the same pidfile refuses to
// start and says which process runs; removed on a clean exit.
#pragma once

#include <string>

#include "core/result.h"
#include "core/unique_fd.h"

namespace strata::daemon {

class PidFile {
public:
	PidFile() = default;  ///< no pid file (`pidfile /`)
	/// Locks `path` and writes our pid into it. Errors: "Another stratad is
	/// already running (pid N, pidfile PATH)", or the open/lock failure.
	static Result<PidFile> acquire(const std::string &path);
	~PidFile();
	/// The moved-from object owns nothing and removes nothing.
	PidFile(PidFile &&other) noexcept = default;
	/// Releases this one's file first.
	PidFile &operator=(PidFile &&other) noexcept;
	PidFile(const PidFile &) = delete;
	PidFile &operator=(const PidFile &) = delete;

	/// Removes the file and drops the lock (also done by the destructor).
	void release();
	const std::string &path() const { return path_; }

private:
	PidFile(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
	std::string path_;
	UniqueFd fd_;  ///< holds the lock
};

} // namespace strata::daemon
