#include "core/reference.h"

#include <algorithm>

namespace strata {

namespace {
/// How long the local reference time may lag the clock before it moves up.
constexpr Duration kLocalRefUpdate = std::chrono::seconds(64);
} // namespace

ReferenceState::ReferenceState(std::optional<LocalReferenceConfig> local, MonoTime start)
	: local_(local), unsynced_since_(start),
	  activate_ok_(!local || local->activate_s <= 0.0)
{
}

void ReferenceState::set_synchronized(const SyncUpdate &update)
{
	sync_ = update;
}

void ReferenceState::set_unsynchronized(MonoTime now)
{
	if (sync_) {
		unsynced_since_ = now;
	}
	sync_.reset();
}

Reference ReferenceState::current(RealTime now, MonoTime mono_now)
{
	std::optional<Reference> synced;
	bool wait_ok = true;
	if (sync_) {
		double age = std::max(0.0, to_seconds(now - sync_->ref_time));
		Reference r;
		r.synchronized = true;
		r.leap = sync_->leap;
		r.stratum = sync_->stratum;
		r.ref_id = sync_->ref_id;
		r.ref_time = sync_->ref_time;
		r.root_delay_s = sync_->root_delay_s;
		r.root_dispersion_s = sync_->root_dispersion_s + age * sync_->dispersion_rate;
		synced = r;
		if (local_) {
			wait_ok = age >= local_->wait_synced_s;
			if (!activate_ok_ && r.root_distance_s() < local_->activate_s) {
				activate_ok_ = true;
			}
		}
	} else if (local_) {
		wait_ok = to_seconds(mono_now - unsynced_since_) >= local_->effective_wait_unsynced_s();
	}

	bool local_active = local_ && activate_ok_ && wait_ok &&
			    (!synced || synced->root_distance_s() > local_->distance_s);
	if (synced && !local_active) {
		return *synced;
	}
	if (local_active) {
		// The reference time trails the clock by a second, and moves up at
		// least every 64 s, so a client never sees it after the transmit time.
		Duration lag = now - local_ref_time_;
		if (lag > kLocalRefUpdate || lag < std::chrono::seconds(1)) {
			local_ref_time_ = now - std::chrono::seconds(1);
		}
		Reference r;
		r.leap = Leap::None;
		r.stratum = local_->stratum;
		r.ref_id = kLocalRefId;
		r.ref_time = local_ref_time_;
		return r;
	}
	return Reference{};  // unsynchronised: leap 3, stratum 0
}

} // namespace strata
