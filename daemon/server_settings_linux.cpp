#include "daemon/server_settings_linux.h"

#include <grp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

#include <fmt/format.h>

namespace strata::daemon {

namespace {

/// The id of the group named `name` (cmdsocketgroup), or a number as it is.
Result<gid_t> group_id(const std::string &name)
{
	std::vector<char> buffer(16384);
	group entry{};
	group *found = nullptr;
	int err = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
	if (found != nullptr) {
		return found->gr_gid;
	}
	char *end = nullptr;
	unsigned long number = std::strtoul(name.c_str(), &end, 10);
	if (!name.empty() && end != nullptr && *end == '\0') {
		return static_cast<gid_t>(number);
	}
	return fail_errno(fmt::format("cmdsocketgroup: no group named {}", name), err != 0 ? err : ENOENT);
}

/// clientloglimit as the client log takes it: up to 2^40 in the
/// configuration, which a 32-bit size_t would wrap (4 GiB became 0, a
/// one-bucket log, on armhf); no log needs more than its records' cap.
size_t clientlog_bytes(int64_t configured)
{
	return static_cast<size_t>(std::clamp<int64_t>(
		configured, 0, static_cast<int64_t>(std::min<uint64_t>(std::numeric_limits<size_t>::max(), INT64_MAX))));
}

} // namespace

NtpServerSettings ntp_server_settings(const conf::Config &config, const Options &options)
{
	NtpServerSettings server_settings;
	server_settings.port = options.once() ? 0 : static_cast<uint16_t>(config.port);
	server_settings.ipv4 = options.family != 6;
	server_settings.ipv6 = options.family != 4;
	server_settings.bind_v4 = config.bindaddress_v4;
	server_settings.bind_v6 = config.bindaddress_v6;
	server_settings.bind_device = config.binddevice;
	for (const auto &rule : config.ntp_access) {
		if (rule.subnet) {
			rule.allow ? server_settings.access.allow(*rule.subnet, rule.all)
				   : server_settings.access.deny(*rule.subnet, rule.all);
		} else {
			rule.allow ? server_settings.access.allow_everything(rule.all)
				   : server_settings.access.deny_everything(rule.all);
		}
	}
	if (config.ratelimit) {
		server_settings.ratelimit = ntp::RateLimitConfig{
			.interval_log2 = config.ratelimit->interval_log2,
			.burst = config.ratelimit->burst,
			.leak_log2 = std::max(1, config.ratelimit->leak),
			.kod_log2 = config.ratelimit->kod,
		};
		server_settings.client_groups = {.ipv4_prefix = config.ratelimit->ipv4prefix,
						 .ipv6_prefix = config.ratelimit->ipv6prefix};
	}
	server_settings.clientlog_bytes = clientlog_bytes(config.clientloglimit_bytes);
	server_settings.noclientlog = config.noclientlog;
	server_settings.precision_log2 = config.clockprecision_s
						 ? static_cast<int>(std::ceil(std::log2(*config.clockprecision_s)))
						 : measure_clock_precision_log2();
	server_settings.threads = config.serverthreads;
	server_settings.batch_delay = std::chrono::microseconds(config.serverbatchdelay_us);
	// A `peer` talks from the NTP port, even where no client is allowed.
	server_settings.peers = std::any_of(config.sources.begin(), config.sources.end(),
					    [](const conf::SourceConfig &c) { return c.kind == conf::SourceKind::Peer; });
	return server_settings;
}

Result<ControlServer::Settings> control_server_settings(const conf::Config &config, const Options &options)
{
	ControlServer::Settings cs;
	cs.unix_path = config.bindcmdpath == "/" ? "" : config.bindcmdpath;
	cs.port = static_cast<uint16_t>(config.cmdport);
	cs.bind_v4 = config.bindcmdaddress_v4;
	cs.bind_v6 = config.bindcmdaddress_v6;
	cs.ipv4 = options.family != 6;
	cs.ipv6 = options.family != 4;
	cs.mode = config.cmdsocketmode;
	cs.log_clients = !config.noclientlog;
	cs.clientlog_bytes = clientlog_bytes(config.clientloglimit_bytes);
	cs.ratelimit = ntp::RateLimitConfig{.interval_log2 = config.cmdratelimit.interval_log2,
					    .burst = config.cmdratelimit.burst,
					    .leak_log2 = std::max(1, config.cmdratelimit.leak),
					    .kod_log2 = 0};
	if (!config.cmdsocketgroup.empty()) {
		auto gid = group_id(config.cmdsocketgroup);
		if (!gid) {
			return tl::unexpected(gid.error());
		}
		cs.group = *gid;
	}
	cs.access = localhost_and(config.cmd_access);
	return cs;
}

ntp::AccessTable localhost_and(const std::vector<conf::AccessRule> &rules)
{
	// Localhost first; the rules on top, in file order.
	ntp::AccessTable access;
	access.allow(Subnet::of(IpAddress::v4(0x7f000001), 32));
	std::array<uint8_t, 16> loopback6{};
	loopback6[15] = 1;
	access.allow(Subnet::of(IpAddress::v6(loopback6), 128));
	for (const auto &rule : rules) {
		if (rule.subnet) {
			rule.allow ? access.allow(*rule.subnet, rule.all) : access.deny(*rule.subnet, rule.all);
		} else {
			rule.allow ? access.allow_everything(rule.all) : access.deny_everything(rule.all);
		}
	}
	return access;
}

} // namespace strata::daemon
