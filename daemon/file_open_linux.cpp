#include "daemon/file_open_linux.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

namespace strata::daemon {

Result<UniqueFd> open_regular(const std::string &path, int flags, mode_t mode)
{
	// O_NONBLOCK: a FIFO planted in the file's place must not hang the open
	// (on a regular file it changes nothing).
	UniqueFd fd(::open(path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, mode));
	if (!fd.valid()) {
		if (errno == ELOOP) {
			return fail_errno(path + " (a symbolic link: not followed)");
		}
		return fail_errno(path);
	}
	struct stat st {};
	if (::fstat(fd.get(), &st) != 0) {
		return fail_errno(path);
	}
	if (!S_ISREG(st.st_mode)) {
		return fail(Errc::InvalidArgument, path + " (not a regular file)");
	}
	return fd;
}

namespace {

/// An error whose context is the whole log line.
tl::unexpected<Error> refuse(int err, std::string line)
{
	return tl::unexpected<Error>(Error{std::error_code(err, std::generic_category()), std::move(line)});
}

std::string errno_text(int err)
{
	return std::generic_category().message(err);
}

/// stat() of one component; creates it when missing. `last`: `dir` itself.
Result<> ensure_directory(const std::string &p, bool last, mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st {};
	if (::stat(p.c_str(), &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			return refuse(ENOTDIR, fmt::format("{} is not a directory", p));
		}
		return {};
	}
	if (errno != ENOENT) {
		int err = errno;
		return refuse(err, fmt::format("Could not access {}: {}", p, errno_text(err)));
	}
	if (::mkdir(p.c_str(), last ? mode : 0755) != 0) {
		int err = errno;
		return refuse(err, fmt::format("Could not create directory {}: {}", p, errno_text(err)));
	}
	if (last) {
		(void)::chmod(p.c_str(), mode);  // whatever the umask
		if (::chown(p.c_str(), uid, gid) != 0) {
			int err = errno;
			::rmdir(p.c_str());  // not left with the wrong owner
			return refuse(err, fmt::format("Could not change ownership of {}: {}", p, errno_text(err)));
		}
	}
	return {};
}

} // namespace

Result<> create_directories(const std::string &dir, mode_t mode, uid_t uid, gid_t gid)
{
	if (dir.empty() || dir == "." || dir == "/") {
		return {};
	}
	// Every component from the top down: only what is missing is created.
	size_t end = 0;
	while (end != std::string::npos) {
		end = dir.find('/', end + 1);
		std::string prefix = dir.substr(0, end);
		if (prefix.empty() || prefix.back() == '/') {
			continue;  // "//" in the path
		}
		bool last = end == std::string::npos || dir.find_first_not_of('/', end) == std::string::npos;
		if (auto made = ensure_directory(prefix, last, mode, uid, gid); !made) {
			return made;
		}
		if (last) {
			break;
		}
	}
	return {};
}

} // namespace strata::daemon
