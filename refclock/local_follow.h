// The `local` refclock's hold on the system clock (chrony.conf(5): an
// unsynchronised clock more stable than the system clock, a TCXO, an OCXO
// or an atomic clock, used as a local standard to stabilise it; it bypasses
// the source selection).
//
// At each of its polls, the refclock's filtered sample goes into its
// source statistics, and what that one sample changed in them, the offset
// expected now and the frequency, is handed to the clock at once
// (Discipline::follow()), outside the source selection: the system clock
// keeps in step with the oscillator from poll to poll, while the selected
// sources (polled less often) still say what the time is; their
// corrections move the refclock's statistics with the clock, so they are
// not undone. It starts once the statistics hold minsamples samples. The
// offsets' whole seconds mean nothing (the refclock is a pulse locked to
// itself) and are taken off when they reach one, in the statistics and in
// the refclock alike. Pure.
#pragma once

#include <cstddef>
#include <optional>

#include "core/source_set.h"
#include "refclock/refclock.h"

namespace strata::refclock {

/// Adds `sample` (the poll's outcome of `clock`, a `local` refclock) to the
/// statistics of source `index` of `set`, and returns the correction the
/// clock is to follow; nullopt while the statistics hold fewer than
/// `min_samples` samples (before or after this one). `now`: the local
/// clock now.
std::optional<LocalAdjustment> add_local_sample(SourceSet &set, size_t index, Refclock &clock,
						const SourceSample &sample, size_t min_samples, RealTime now);

} // namespace strata::refclock
