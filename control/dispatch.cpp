#include "control/dispatch.h"

#include <algorithm>
#include <variant>

namespace strata::control {

namespace {

/// The most clients one CLIENT_ACCESSES_BY_INDEX reply carries.
uint32_t page_size(uint32_t asked) { return std::min<uint32_t>(asked, kMaxClientsPerReply); }

template <class T>
const T *args(const Request &r)
{
	return std::get_if<T>(&r.args);
}

template <class Report>
Reply report_or_missing(const Request &request, std::optional<Report> report)
{
	if (!report) {
		return reply_to(request, NullReport{}, Status::NoSuchSource);
	}
	return reply_to(request, std::move(*report));
}

/// Arguments of another command's kind: only a hand-built request has them
/// (parse_request() gives each command its own).
Reply invalid(const Request &request) { return reply_to(request, NullReport{}, Status::Invalid); }

std::optional<IpAddress> ip_of(const Address &a)
{
	if (const auto *ip = std::get_if<IpAddress>(&a)) {
		return *ip;
	}
	return std::nullopt;
}

/// chronyd's test of a name it is to resolve: printable, no blanks.
bool printable_name(const std::string &name)
{
	return !name.empty() &&
	       std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

Reply add_source(const Request &request, ControlHandler &h)
{
	const auto *a = args<AddSourceArgs>(request);
	if (a == nullptr) {
		return invalid(request);
	}
	if (!printable_name(a->name)) {
		return reply_to(request, NullReport{}, Status::InvalidName);
	}
	if (a->kind == SourceKind::Peer) {
		// Symmetric mode is not in strata: as chronyd answers for what
		// its build or configuration leaves out.
		return reply_to(request, NullReport{}, Status::NotEnabled);
	}
	if (a->kind != SourceKind::Server && a->kind != SourceKind::Pool) {
		return invalid(request);
	}
	if (a->port == 0 || a->port > 65535) {
		return invalid(request);
	}
	return reply_to(request, NullReport{}, h.add_source(*a));
}

} // namespace

bool address_matches(const Address &mask, const Address &address, const IpAddress &candidate)
{
	auto want = ip_of(address);
	if (!want) {
		return true;
	}
	if (want->family() != candidate.family()) {
		return false;
	}
	auto m = ip_of(mask);
	if (!m || m->family() != want->family()) {
		return *want == candidate;
	}
	const auto &a = want->bytes(), &b = candidate.bytes(), &k = m->bytes();
	for (size_t i = 0; i < a.size(); i++) {
		if ((a[i] & k[i]) != (b[i] & k[i])) {
			return false;
		}
	}
	return true;
}

ClientAccessesReport client_page(std::span<const ClientAccess> table, uint32_t first_index, uint32_t max,
				 uint32_t min_hits)
{
	ClientAccessesReport page;
	page.n_indices = static_cast<uint32_t>(table.size());
	max = page_size(max);
	uint32_t i = first_index;
	for (; i < table.size() && page.clients.size() < max; i++) {
		const ClientAccess &c = table[i];
		if (uint64_t{c.ntp_hits} + c.cmd_hits + c.nke_hits >= min_hits) {
			page.clients.push_back(c);
		}
	}
	page.next_index = std::max(i, first_index);
	return page;
}

Reply dispatch(const Request &request, Transport transport, ControlHandler &h)
{
	if (!is_permitted(request.command, transport)) {
		return reply_to(request, NullReport{}, Status::Unauth);
	}
	switch (request.command) {
	case Command::Null:
		return reply_to(request);
	case Command::NSources:
		return reply_to(request, NSourcesReport{h.n_sources()});
	case Command::SourceData:
	case Command::SourceStats:
	case Command::SelectData: {
		const auto *a = args<IndexArgs>(request);
		if (a == nullptr) {
			return invalid(request);
		}
		if (request.command == Command::SourceData) {
			return report_or_missing(request, h.source_data(a->index));
		}
		if (request.command == Command::SourceStats) {
			return report_or_missing(request, h.source_stats(a->index));
		}
		return report_or_missing(request, h.select_data(a->index));
	}
	case Command::NtpData:
	case Command::NtpSourceName: {
		const auto *a = args<AddressArgs>(request);
		if (a == nullptr) {
			return invalid(request);
		}
		auto ip = ip_of(a->address);
		if (request.command == Command::NtpData) {
			return report_or_missing(request, ip ? h.ntp_data(*ip) : std::nullopt);
		}
		return report_or_missing(request, ip ? h.source_name(*ip) : std::nullopt);
	}
	case Command::Tracking:
		return reply_to(request, h.tracking());
	case Command::Activity:
		return reply_to(request, h.activity());
	case Command::ServerStats:
		return reply_to(request, h.server_stats());
	case Command::ClientAccessesByIndex3: {
		const auto *a = args<ClientAccessesArgs>(request);
		if (a == nullptr) {
			return invalid(request);
		}
		auto page = h.client_accesses(a->first_index, page_size(a->n_clients), a->min_hits, a->reset);
		if (!page) {
			return reply_to(request, NullReport{}, Status::Inactive);
		}
		return reply_to(request, std::move(*page));
	}
	case Command::ManualList:
		// strata takes no manual samples (`manual` and `settime` are not
		// supported): the list is empty, as chronyd's is before any.
		return reply_to(request, ManualListReport{});
	case Command::RtcReport: {
		auto rtc = h.rtc();
		if (!rtc) {
			return reply_to(request, NullReport{}, Status::NoRtc);
		}
		return reply_to(request, *rtc);
	}
	case Command::Online:
	case Command::Offline: {
		const auto *a = args<MaskArgs>(request);
		if (a == nullptr) {
			return invalid(request);
		}
		bool any = h.set_online(a->mask, a->address, request.command == Command::Online) > 0;
		return reply_to(request, NullReport{}, any ? Status::Success : Status::NoSuchSource);
	}
	case Command::OnOffline:
		h.on_offline();
		return reply_to(request);
	case Command::Burst: {
		const auto *a = args<BurstArgs>(request);
		if (a == nullptr) {
			return invalid(request);
		}
		if (a->n_good < 1 || a->n_total < a->n_good) {
			return reply_to(request, NullReport{}, Status::Invalid);
		}
		bool any = h.burst(a->mask, a->address, a->n_good, a->n_total) > 0;
		return reply_to(request, NullReport{}, any ? Status::Success : Status::NoSuchSource);
	}
	case Command::MakeStep:
		return reply_to(request, NullReport{}, h.make_step() ? Status::Success : Status::Failed);
	case Command::WriteRtc:
		return reply_to(request, NullReport{}, h.write_rtc());
	case Command::TrimRtc:
		return reply_to(request, NullReport{}, h.trim_rtc());
	case Command::CycleLogs:
		return reply_to(request, NullReport{}, h.cycle_logs());
	case Command::Refresh:
		return reply_to(request, NullReport{}, h.refresh());
	case Command::Dump:
		return reply_to(request, NullReport{}, h.dump());
	case Command::Shutdown:
		h.shutdown();
		return reply_to(request);
	case Command::AddSource:
		return add_source(request, h);
	case Command::DelSource: {
		const auto *a = args<AddressArgs>(request);
		if (a == nullptr) {
			return invalid(request);
		}
		auto ip = ip_of(a->address);
		bool removed = ip && h.delete_source(*ip);
		return reply_to(request, NullReport{}, removed ? Status::Success : Status::NoSuchSource);
	}
	case Command::ReloadSources:
		return reply_to(request, NullReport{}, h.reload_sources());
	case Command::Rekey:
		return reply_to(request, NullReport{}, h.rekey());
	case Command::AuthData: {
		const auto *a = args<AddressArgs>(request);
		if (a == nullptr) {
			return invalid(request);
		}
		auto ip = ip_of(a->address);
		return report_or_missing(request, ip ? h.auth_data(*ip) : std::nullopt);
	}
	default:
		// Everything else chronyd 4.3 knows: parsed, understood, not
		// carried out by strata (yet).
		return reply_to(request, NullReport{}, Status::NotEnabled);
	}
}

} // namespace strata::control
