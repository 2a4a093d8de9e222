#include "daemon/file_open_linux.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

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

} // namespace strata::daemon
