// What the daemon does with a command-and-monitoring request: chronyd's
// rules, independent of sockets. The request was parsed by cmdmon.h; here it
// is checked against its transport (modifying commands and the revealing
// reports only over the Unix socket) and its arguments, routed to the daemon through the
// ControlHandler interface, and answered with the report or status chronyd
// would send. Commands strata does not carry out are answered "505 Facility
// not enabled in daemon", as chronyd answers those its configuration
// disabled, so chronyc prints a clear line and scripts see a failure.
// Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "control/cmdmon.h"
#include "core/address.h"

namespace strata::control {

/// The daemon as the control protocol sees it. Indices are chronyd's: the
/// position of a source in `sources` order, 0 … n_sources − 1. A report that
/// does not exist (an index out of range, an address no source has) is
/// nullopt and becomes "503 No such source".
class ControlHandler {
public:
	virtual ~ControlHandler() = default;

	virtual uint32_t n_sources() = 0;
	virtual std::optional<SourceDataReport> source_data(uint32_t index) = 0;
	virtual std::optional<SourceStatsReport> source_stats(uint32_t index) = 0;
	virtual std::optional<SelectDataReport> select_data(uint32_t index) = 0;
	virtual std::optional<NtpDataReport> ntp_data(const IpAddress &address) = 0;
	virtual std::optional<SourceNameReport> source_name(const IpAddress &address) = 0;
	virtual TrackingReport tracking() = 0;
	virtual ActivityReport activity() = 0;
	virtual ServerStatsReport server_stats() = 0;
	/// A page of the client log (client_page() below) from `first_index`,
	/// at most `max` clients with at least `min_hits` requests, their
	/// counters reset afterwards when `reset`; nullopt when the daemon keeps
	/// no client log (`noclientlog`: "515 Client logging is not active").
	virtual std::optional<ClientAccessesReport> client_accesses(uint32_t first_index, uint32_t max,
								    uint32_t min_hits, bool reset) = 0;
	/// nullopt: no RTC tracking configured ("513 RTC driver not running").
	virtual std::optional<RtcReport> rtc() = 0;

	/// online/offline and burst: for the NTP sources address_matches()
	/// selects; returns how many matched.
	virtual uint32_t set_online(const Address &mask, const Address &address, bool online) = 0;
	/// onoffline: every source online (chronyd: those with a route; strata
	/// has no route check, so all).
	virtual uint32_t on_offline() = 0;
	virtual uint32_t burst(const Address &mask, const Address &address, int good, int total) = 0;
	/// makestep: step the clock now by the whole offset. false when there is
	/// no estimate to step by, or the clock refused.
	virtual bool make_step() = 0;
	/// writertc/trimrtc: Status::Success, NoRtc or BadRtcFile.
	virtual Status write_rtc() = 0;
	virtual Status trim_rtc() = 0;
	/// cyclelogs (reopen the log files), refresh (resolve the sources'
	/// names again), dump (write the measurement history to dumpdir): the
	/// status to answer (NotEnabled when the daemon has nothing of the kind).
	virtual Status cycle_logs() = 0;
	virtual Status refresh() = 0;
	virtual Status dump() = 0;
	virtual void shutdown() = 0;

	/// add server/pool, already checked by dispatch() (a server or pool,
	/// a printable name, a port): Success (a name is resolved afterwards,
	/// as chronyd does), SourceAlreadyKnown (a source has that address),
	/// TooManySources, Invalid (options the daemon cannot use) or
	/// InvalidAf (an address of a disabled family).
	virtual Status add_source(const AddSourceArgs &args) = 0;
	/// delete: the NTP source at `address` removed; false when there is none
	/// ("503 No such source").
	virtual bool delete_source(const IpAddress &address) = 0;
	/// reload sources: the sourcedir files read again, their sources added
	/// and removed to match. The status to answer.
	virtual Status reload_sources() = 0;
	/// rekey: chronyd reads its keyfile again. The default answers 200, as
	/// chronyd does without a keyfile.
	virtual Status rekey() { return Status::Success; }
	/// authdata for the NTP source at `address`; nullopt (503) for an
	/// address no NTP source has.
	virtual std::optional<AuthDataReport> auth_data(const IpAddress &address) = 0;
};

/// chronyd's rule for the sources an online/offline/burst request names:
/// every source when `address` is no IP address, else those of the same
/// family whose address equals it under `mask` (an IP of the same family;
/// otherwise the whole address counts).
bool address_matches(const Address &mask, const Address &address, const IpAddress &candidate);

/// chronyd's paging of its client table: the clients at indices
/// `first_index` onwards with at least `min_hits` NTP + command requests, at
/// most `max` of them (and at most kMaxClientsPerReply); `n_indices` is the
/// table's size and `next_index` the index after the last one examined.
ClientAccessesReport client_page(std::span<const ClientAccess> table, uint32_t first_index, uint32_t max,
				 uint32_t min_hits);

/// The reply to `request` arriving over `transport`.
Reply dispatch(const Request &request, Transport transport, ControlHandler &handler);

} // namespace strata::control
