#include "core/unique_fd.h"

#include <unistd.h>

namespace strata {

void UniqueFd::reset(int fd) noexcept
{
	if (fd < 0) {
		fd = -1;
	}
	if (fd == fd_) {
		return;  // already ours: closing it now would leave us owning a closed number
	}
	int old = std::exchange(fd_, fd);
	if (old < 0) {
		return;
	}
	// No retry on EINTR: Linux has released the descriptor already, and
	// another thread may have been given the same number since.
	if (closer_) {
		(void)closer_(old);
	} else {
		(void)::close(old);
	}
}

} // namespace strata
