#include "daemon/atomic_file_linux.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "core/unique_fd.h"
#include "daemon/file_open_linux.h"

namespace strata::daemon {

Result<> write_file_atomically(const std::string &path, std::string_view content)
{
	std::string tmp = path + ".tmp";
	// A new file of our own: whatever is in the way (a leftover of a crash,
	// or a link planted there) goes, and O_EXCL fails rather than write
	// through anything that appears in between.
	if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) {
		return fail_errno("remove " + tmp);
	}
	auto opened = open_regular(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (!opened) {
		return tl::unexpected(Error{opened.error().code, "open " + opened.error().context});
	}
	UniqueFd fd = std::move(*opened);
	size_t done = 0;
	while (done < content.size()) {
		ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;
			fd.reset();
			::unlink(tmp.c_str());
			return fail_errno("write " + tmp, err);
		}
		done += static_cast<size_t>(n);
	}
	// close() checked here: it may report a write that failed late (NFS).
	if (::fsync(fd.get()) != 0 || ::close(fd.release()) != 0) {
		int err = errno;
		::unlink(tmp.c_str());
		return fail_errno("sync " + tmp, err);
	}
	if (std::rename(tmp.c_str(), path.c_str()) != 0) {
		int err = errno;
		::unlink(tmp.c_str());
		return fail_errno("rename " + tmp + " to " + path, err);
	}
	return {};
}

} // namespace strata::daemon
