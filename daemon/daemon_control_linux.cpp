#include "daemon/daemon_control_linux.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "daemon/add_source.h"
#include "daemon/atomic_file_linux.h"
#include "sources/auth.h"

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
	auto name = sources::source_name(sources_, address);
	if (!name) {
		return std::nullopt;
	}
	return control::SourceNameReport{name->substr(0, 255)};
}

control::Status DaemonControl::rekey()
{
	if (keyfile_.empty() || files_ == nullptr) {
		return control::Status::Success;
	}
	auto loaded = sources::load_keyfile(*files_, keyfile_);
	for (const auto &d : loaded.diagnostics) {
		if (d.severity == conf::Diagnostic::Severity::Error) {
			log_.error("{}", d.to_string());
		} else {
			log_.warning("{}", d.to_string());
		}
	}
	if (!loaded.ok()) {
		log_.error("Keyfile {} not reloaded: the keys loaded before stay in use", keyfile_);
		return control::Status::Failed;
	}
	log_.info("Loaded {} symmetric key{} from {}", loaded.keys->size(), loaded.keys->size() == 1 ? "" : "s",
		  keyfile_);
	sources_.set_keys(loaded.keys);
	server_.set_keys(loaded.keys);
	return control::Status::Success;
}

control::ServerStatsReport DaemonControl::server_stats()
{
	const NtpServerStats &s = server_.stats();
	control::ServerStatsReport r;
	r.ntp_hits = counter(s.received.load());
	// chronyc 4.3's serverstats has no line for authentication failures:
	// they are requests refused, as those of allow/deny and ratelimit, and
	// count with them (the metrics show each on its own).
	r.ntp_drops = counter(s.denied.load() + s.rate_limited.load() + s.auth_failed.load());
	r.ntp_auth_hits = counter(s.authenticated.load());
	if (control_) {
		r.cmd_hits = counter(control_->stats().hits);
		r.cmd_drops = counter(control_->stats().drops);
	}
	return r;
}

namespace {

/// chronyd's interval columns: log2 of the mean interval in seconds,
/// rounded; 127 ("-") when not known.
int8_t log2_interval(float mean_s)
{
	if (!(mean_s > 0)) {
		return 127;
	}
	return static_cast<int8_t>(std::clamp(std::lround(std::log2(mean_s)), -127L, 126L));
}

} // namespace

std::optional<control::ClientAccessesReport> DaemonControl::client_accesses(uint32_t first_index, uint32_t max,
									      uint32_t min_hits, bool reset)
{
	auto records = server_.clients();
	auto commands = control_ != nullptr ? control_->clients() : std::nullopt;
	if (!records && !commands) {
		return std::nullopt;
	}
	MonoTime now = loop_.now();
	auto ago = [&](MonoTime t) {
		return static_cast<uint32_t>(std::clamp<int64_t>((now - t).count() / 1000000000, 0, UINT32_MAX - 1));
	};
	// One row per address, NTP and command counters side by side, in
	// address order (stable between the pages of one listing).
	std::map<IpAddress, control::ClientAccess> rows;
	auto row = [&](const IpAddress &address) -> control::ClientAccess & {
		auto [it, added] = rows.try_emplace(address);
		if (added) {
			control::ClientAccess &c = it->second;
			c.address = address;
			c.ntp_interval = c.ntp_timeout_interval = c.nke_interval = c.cmd_interval = 127;
			c.last_ntp_hit_ago_s = c.last_nke_hit_ago_s = c.last_cmd_hit_ago_s = UINT32_MAX;
		}
		return it->second;
	};
	for (const auto &r : records.value_or(std::vector<ntp::ClientRecord>{})) {
		control::ClientAccess &c = row(r.address);
		c.ntp_hits = r.ntp_requests;
		c.ntp_drops = r.ntp_drops;
		c.ntp_interval = log2_interval(r.mean_request_interval_s);
		// IntL: the interval between the requests answered, which rate
		// limiting stretches; chronyd shows it only when it limits.
		c.ntp_timeout_interval = server_.rate_limiting() ? log2_interval(r.mean_response_interval_s) : 127;
		c.last_ntp_hit_ago_s = ago(r.last_request);
	}
	for (const auto &r : commands.value_or(std::vector<ntp::ClientRecord>{})) {
		control::ClientAccess &c = row(r.address);
		c.cmd_hits = r.ntp_requests;  // the command log counts command requests
		c.cmd_drops = r.ntp_drops;
		c.cmd_interval = log2_interval(r.mean_request_interval_s);
		c.last_cmd_hit_ago_s = ago(r.last_request);
	}
	std::vector<control::ClientAccess> table;
	table.reserve(rows.size());
	for (auto &[address, c] : rows) {
		table.push_back(c);
	}
	auto page = control::client_page(table, first_index, max, min_hits);
	if (reset) {
		for (const auto &c : page.clients) {
			if (const auto *ip = std::get_if<IpAddress>(&c.address)) {
				server_.reset_client(*ip);
				if (control_ != nullptr) {
					control_->reset_client(*ip);
				}
			}
		}
	}
	return page;
}

control::Status DaemonControl::add_source(const control::AddSourceArgs &args)
{
	auto source = source_config_from(args);
	if (!source) {
		log_.warning("add {}: {}", args.name, source.error().message());
		return source.error().code == Errc::Unsupported ? control::Status::NotEnabled : control::Status::Invalid;
	}
	for (const auto &w : source->warnings) {
		log_.warning("add {}: {}", args.name, w);
	}
	switch (sources_.add(source->config)) {
	case sources::AddResult::Added:
		return control::Status::Success;
	case sources::AddResult::AlreadyKnown:
		return control::Status::SourceAlreadyKnown;
	case sources::AddResult::TooMany:
		return control::Status::TooManySources;
	case sources::AddResult::FamilyDisabled:
		return control::Status::InvalidAf;
	case sources::AddResult::Failed:
		break;
	}
	return control::Status::Failed;
}

control::Status DaemonControl::dump()
{
	if (dumpdir_.empty()) {
		return control::Status::Success;
	}
	std::string dir = dumpdir_.ends_with('/') ? dumpdir_ : dumpdir_ + '/';
	size_t written = 0;
	for (size_t i = 0; i < sources_.entry_count(); i++) {
		std::string path = dir + sources_.log_name(i) + ".dat";
		if (auto ok = write_file_atomically(path, sources::dump_text(sources_, i)); !ok) {
			log_.error("dump: {}", ok.error().message());
			return control::Status::Failed;
		}
		written++;
	}
	log_.info("Measurement history of {} source{} written to {}", written, written == 1 ? "" : "s", dumpdir_);
	return control::Status::Success;
}

void DaemonControl::shutdown()
{
	log_.info("Shutdown requested over the command socket");
	loop_.stop();
}

} // namespace strata::daemon
