#include "daemon/random_seed_linux.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

namespace strata::daemon {

uint64_t random_seed()
{
	uint64_t seed = 0;
	if (::getrandom(&seed, sizeof seed, 0) == static_cast<ssize_t>(sizeof seed)) {
		return seed;
	}
	timespec now{};
	::clock_gettime(CLOCK_REALTIME, &now);
	return (static_cast<uint64_t>(now.tv_sec) * 1000000000u + static_cast<uint64_t>(now.tv_nsec)) ^
	       (uint64_t{0x9e3779b97f4a7c15} * static_cast<uint64_t>(::getpid()));
}

} // namespace strata::daemon
