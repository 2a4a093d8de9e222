// The reference: what this host tells NTP clients and the control tool about
// its own time (RFC 5905 §7.3 system variables: leap, stratum, reference id,
// reference time, root delay and dispersion).
//
// ReferenceState decides which of three states applies, as chronyd does:
//  - synchronised to a source: the source's stratum + 1, its reference id,
//    and a root dispersion that grows with the time since the last update;
//  - the `local` reference (chrony.conf `local stratum N …`): served when not
//    synchronised, or when the root distance has grown past `distance`,
//    subject to `activate`, `waitsynced` and `waitunsynced`; stratum N,
//    reference id 127.127.1.1, root delay and dispersion 0;
//  - unsynchronised: leap "alarm" (3) and stratum 0 — clients ignore us.
// Pure: every call takes the current real and monotonic times.
#pragma once

#include <cstdint>
#include <optional>

#include "core/time.h"

namespace strata {

/// Leap-second warning of a reference (RFC 5905 LI values).
enum class Leap : uint8_t { None = 0, Insert = 1, Delete = 2, Unsynchronized = 3 };

/// The reference id chronyd and ntpd use for the local clock: 127.127.1.1.
inline constexpr uint32_t kLocalRefId = 0x7f7f0101;

struct Reference {
	bool synchronized = false;  ///< to a real source (false for local and unsynchronised)
	Leap leap = Leap::Unsynchronized;
	int stratum = 0;            ///< 0 = unspecified/invalid
	uint32_t ref_id = 0;
	RealTime ref_time;          ///< when the clock was last updated (0 = never)
	double root_delay_s = 0;
	double root_dispersion_s = 0;

	double root_distance_s() const { return root_delay_s / 2 + root_dispersion_s; }
};

/// `local` directive options (chrony.conf(5)).
struct LocalReferenceConfig {
	int stratum = 10;               ///< 1…15
	double distance_s = 1.0;        ///< activate when the root distance exceeds this
	double activate_s = 0.0;        ///< only after the distance has once been below this (0 = off)
	bool orphan = false;
	double wait_synced_s = 0.0;     ///< minimum time since the last clock update
	/// Wait after losing synchronisation; default 300 s with orphan, else 0.
	std::optional<double> wait_unsynced_s;

	double effective_wait_unsynced_s() const { return wait_unsynced_s.value_or(orphan ? 300.0 : 0.0); }
};

/// The synchronised reference as the discipline last set it.
struct SyncUpdate {
	Leap leap = Leap::None;
	int stratum = 1;                  ///< our stratum (source's + 1)
	uint32_t ref_id = 0;
	RealTime ref_time;                ///< when the clock was updated
	double root_delay_s = 0;
	double root_dispersion_s = 0;     ///< at ref_time
	double dispersion_rate = 0;       ///< growth of the dispersion, s/s (skew + max clock error)
};

class ReferenceState {
public:
	/// `local` nullopt: no local reference. `start` is when the daemon started
	/// (waitunsynced counts from it until the first synchronisation).
	ReferenceState(std::optional<LocalReferenceConfig> local, MonoTime start);

	/// The discipline updated the clock from its sources.
	void set_synchronized(const SyncUpdate &update);
	/// The discipline lost its sources (selection failed, sources unreachable…).
	void set_unsynchronized(MonoTime now);

	/// The reference to serve at this instant.
	Reference current(RealTime now, MonoTime mono_now);

	bool local_enabled() const { return local_.has_value(); }

private:
	std::optional<LocalReferenceConfig> local_;
	std::optional<SyncUpdate> sync_;
	MonoTime unsynced_since_;
	bool activate_ok_;
	RealTime local_ref_time_;
};

} // namespace strata
