// GpioLib (refclock/gpio_linux.h) on the real libgpiod. Debian 12 has
// libgpiod 1.6, newer systems 2.x, and the two share no API, so
// gpiod_linux.cpp holds a backend for each and the build picks the one of
// the installed library (STRATA_LIBGPIOD_MAJOR, from pkg-config). Only this
// file's library links libgpiod. It logs nothing and returns errors.
#pragma once

#include <memory>

#include "refclock/gpio_linux.h"

namespace strata::refclock {

/// The major version of the libgpiod this was built against: 1 or 2.
int libgpiod_major();

/// The libgpiod this was built against, as a GpioLib for GpioRefclock.
std::unique_ptr<GpioLib> make_libgpiod();

} // namespace strata::refclock
