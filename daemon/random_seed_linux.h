// Seeds for the daemon's random numbers (request cookies, poll jitter, the
// client logs' hashing), from the kernel's generator.
#pragma once

#include <cstdint>

namespace strata::daemon {

/// 64 bits from getrandom(2). Under an LD_PRELOAD simulator (clknetsim)
/// they come from its seeded generator, so that a simulated run repeats
/// with its seed as chronyd's does. Should the kernel refuse (before
/// Linux 3.17), the time and the PID stand in: unpredictable enough for
/// hashing, and said in no log since nothing can be done about it.
uint64_t random_seed();

} // namespace strata::daemon
