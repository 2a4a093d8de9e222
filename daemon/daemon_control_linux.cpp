#include "daemon/daemon_control_linux.h"

#include <algorithm>
#include <limits>

namespace strata::daemon {

namespace {

/// serverstats carries 32-bit counters: they saturate, as chronyd's do.
uint32_t counter(uint64_t v)
{
	return static_cast<uint32_t>(std::min<uint64_t>(v, std::numeric_limits<uint32_t>::max()));
}

} // namespace

std::optional<control::SourceNameReport> DaemonControl::source_name(const IpAddress &address)
{
	auto name = sources_.source_name(address);
	if (!name) {
		return std::nullopt;
	}
	return control::SourceNameReport{name->substr(0, 255)};
}

control::ServerStatsReport DaemonControl::server_stats()
{
	const NtpServerStats &s = server_.stats();
	control::ServerStatsReport r;
	r.ntp_hits = counter(s.received.load());
	r.ntp_drops = counter(s.denied.load() + s.rate_limited.load());
	r.ntp_auth_hits = counter(s.authenticated.load());
	if (control_) {
		r.cmd_hits = counter(control_->stats().hits);
		r.cmd_drops = counter(control_->stats().drops);
	}
	return r;
}

void DaemonControl::shutdown()
{
	log_.info("Shutdown requested over the command socket");
	loop_.stop();
}

} // namespace strata::daemon
