#include "control/json_control.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "control/report_json.h"

namespace strata::control {

namespace {

using nlohmann::json;

/// A request that cannot be carried out, with what is wrong with it.
struct Refusal {
	Status status;
	std::string detail;
};

json status_reply(std::string_view command, Status status, std::string_view detail = {})
{
	json out = status_json(command, status_text(status), status == Status::Success);
	if (!detail.empty()) {
		out["detail"] = detail;
	}
	return out;
}

/// What one request asks, with its arguments read and checked.
class JsonRequest {
public:
	JsonRequest(const json &request, std::string command, Transport transport, ControlHandler &handler)
		: request_(request), command_(std::move(command)), transport_(transport), handler_(handler)
	{
	}

	/// The reply object.
	json answer();

private:
	/// Runs a binary request through dispatch(); the reply's body when it
	/// succeeded, else the refusal to send back.
	template <class Body>
	std::variant<Body, Refusal> run(Command command, RequestArgs args = NoArgs{})
	{
		Request r{.command = command, .sequence = 0, .args = std::move(args)};
		Reply reply = dispatch(r, transport_, handler_);
		if (reply.status != Status::Success) {
			return Refusal{reply.status, {}};
		}
		if (const auto *body = std::get_if<Body>(&reply.body)) {
			return *body;
		}
		return Refusal{Status::Failed, "unexpected reply"};
	}
	/// A status-only command.
	json command(Command command, RequestArgs args = NoArgs{})
	{
		Request r{.command = command, .sequence = 0, .args = std::move(args)};
		return status_reply(command_, dispatch(r, transport_, handler_).status);
	}

	/// Every source's report of one kind, with its name.
	template <class Report>
	std::variant<std::vector<Named<Report>>, Refusal> per_source(Command command);
	std::string source_name(const Address &address, std::optional<uint32_t> refclock);

	std::optional<Address> address_arg(const char *key);
	std::optional<int64_t> int_arg(const char *key, int64_t low, int64_t high, int64_t fallback);
	std::optional<bool> bool_arg(const char *key, bool fallback);
	json clients();
	json ntpdata();

	const json &request_;
	std::string command_;
	Transport transport_;
	ControlHandler &handler_;
	std::optional<Refusal> bad_;  ///< the first bad argument
};

std::string JsonRequest::source_name(const Address &address, std::optional<uint32_t> refclock)
{
	if (refclock) {
		return refid_text(*refclock);
	}
	if (const auto *ip = std::get_if<IpAddress>(&address)) {
		if (auto name = handler_.source_name(*ip); name && !name->name.empty()) {
			return name->name;
		}
	}
	return address_text(address);
}

template <class Report>
std::variant<std::vector<Named<Report>>, Refusal> JsonRequest::per_source(Command command)
{
	auto n = run<NSourcesReport>(Command::NSources);
	if (auto *refused = std::get_if<Refusal>(&n)) {
		return *refused;
	}
	std::vector<Named<Report>> rows;
	uint32_t count = std::get<NSourcesReport>(n).n_sources;
	for (uint32_t i = 0; i < count; i++) {
		auto one = run<Report>(command, IndexArgs{i});
		if (auto *refused = std::get_if<Refusal>(&one)) {
			if (refused->status == Status::NoSuchSource) {
				continue;  // the sources changed under us
			}
			return *refused;
		}
		auto &report = std::get<Report>(one);
		std::string name = source_name(report.address, refclock_id(report));
		rows.push_back(Named<Report>{std::move(report), std::move(name)});
	}
	return rows;
}

std::optional<Address> JsonRequest::address_arg(const char *key)
{
	auto it = request_.find(key);
	if (it == request_.end() || it->is_null()) {
		return Address{NoAddress{}};
	}
	if (it->is_string()) {
		if (auto ip = IpAddress::parse(it->get<std::string>())) {
			return Address{*ip};
		}
	}
	bad_ = Refusal{Status::Invalid, fmt::format("\"{}\" must be an IP address", key)};
	return std::nullopt;
}

std::optional<int64_t> JsonRequest::int_arg(const char *key, int64_t low, int64_t high, int64_t fallback)
{
	auto it = request_.find(key);
	if (it == request_.end()) {
		return fallback;
	}
	if (it->is_number_integer() && it->get<int64_t>() >= low && it->get<int64_t>() <= high) {
		return it->get<int64_t>();
	}
	bad_ = Refusal{Status::Invalid, fmt::format("\"{}\" must be an integer from {} to {}", key, low, high)};
	return std::nullopt;
}

std::optional<bool> JsonRequest::bool_arg(const char *key, bool fallback)
{
	auto it = request_.find(key);
	if (it == request_.end()) {
		return fallback;
	}
	if (it->is_boolean()) {
		return it->get<bool>();
	}
	bad_ = Refusal{Status::Invalid, fmt::format("\"{}\" must be true or false", key)};
	return std::nullopt;
}

json JsonRequest::clients()
{
	auto first = int_arg("first", 0, UINT32_MAX, 0);
	auto max = int_arg("max", 1, kJsonClientsMax, kJsonClientsMax);
	auto min_hits = int_arg("min_hits", 0, UINT32_MAX, 0);
	auto reset = bool_arg("reset", false);
	if (!first || !max || !min_hits || !reset) {
		return status_reply(command_, bad_->status, bad_->detail);
	}
	// Pages of chronyd's size, gathered until `max` or the table's end.
	std::vector<Named<ClientAccess>> rows;
	auto next = static_cast<uint32_t>(*first);
	uint32_t n_indices = 0;
	auto wanted = static_cast<size_t>(*max);
	while (rows.size() < wanted) {
		auto want = static_cast<uint32_t>(std::min<size_t>(kMaxClientsPerReply, wanted - rows.size()));
		auto page = run<ClientAccessesReport>(
			Command::ClientAccessesByIndex3,
			ClientAccessesArgs{.first_index = next, .n_clients = want,
					   .min_hits = static_cast<uint32_t>(*min_hits), .reset = *reset});
		if (auto *refused = std::get_if<Refusal>(&page)) {
			return status_reply(command_, refused->status, refused->detail);
		}
		auto &report = std::get<ClientAccessesReport>(page);
		n_indices = report.n_indices;
		for (auto &c : report.clients) {
			rows.push_back(Named<ClientAccess>{c, address_text(c.address)});
		}
		if (report.next_index <= next || report.next_index >= report.n_indices) {
			next = std::max(report.next_index, next);
			break;
		}
		next = report.next_index;
	}
	json out = clients_json(rows);
	out["next_index"] = next;
	out["table_size"] = n_indices;
	return out;
}

json JsonRequest::ntpdata()
{
	auto address = address_arg("address");
	if (!address) {
		return status_reply(command_, bad_->status, bad_->detail);
	}
	std::vector<IpAddress> wanted;
	if (const auto *ip = std::get_if<IpAddress>(&*address)) {
		wanted.push_back(*ip);
	} else {
		auto sources = per_source<SourceDataReport>(Command::SourceData);
		if (auto *refused = std::get_if<Refusal>(&sources)) {
			return status_reply(command_, refused->status, refused->detail);
		}
		for (const auto &row : std::get<0>(sources)) {
			const auto *source_ip = std::get_if<IpAddress>(&row.report.address);
			if (source_ip && !is_refclock(row.report)) {
				wanted.push_back(*source_ip);
			}
		}
	}
	std::vector<NtpDataReport> rows;
	for (const auto &ip : wanted) {
		auto one = run<NtpDataReport>(Command::NtpData, AddressArgs{ip});
		if (auto *refused = std::get_if<Refusal>(&one)) {
			if (!std::holds_alternative<IpAddress>(*address) && refused->status == Status::NoSuchSource) {
				continue;
			}
			return status_reply(command_, refused->status, refused->detail);
		}
		rows.push_back(std::get<NtpDataReport>(one));
	}
	return ntpdata_json(rows);
}

json JsonRequest::answer()
{
	auto reply_of = [&](auto &&result, auto &&to_json) -> json {
		if (auto *refused = std::get_if<Refusal>(&result)) {
			return status_reply(command_, refused->status, refused->detail);
		}
		return to_json(std::get<0>(result));
	};
	if (command_ == "tracking") {
		return reply_of(run<TrackingReport>(Command::Tracking), [&](const TrackingReport &r) {
			// chronyc names the reference by its address, or by its id for a refclock.
			return tracking_json(r, source_name(r.address, refclock_id(r)));
		});
	}
	if (command_ == "sources") {
		return reply_of(per_source<SourceDataReport>(Command::SourceData),
				[](const auto &rows) { return sources_json(rows); });
	}
	if (command_ == "sourcestats") {
		return reply_of(per_source<SourceStatsReport>(Command::SourceStats),
				[](const auto &rows) { return sourcestats_json(rows); });
	}
	if (command_ == "selectdata") {
		return reply_of(per_source<SelectDataReport>(Command::SelectData),
				[](const auto &rows) { return selectdata_json(rows); });
	}
	if (command_ == "ntpdata") {
		return ntpdata();
	}
	if (command_ == "activity") {
		return reply_of(run<ActivityReport>(Command::Activity), [](const auto &r) { return activity_json(r); });
	}
	if (command_ == "serverstats") {
		return reply_of(run<ServerStatsReport>(Command::ServerStats),
				[](const auto &r) { return serverstats_json(r); });
	}
	if (command_ == "rtcdata") {
		return reply_of(run<RtcReport>(Command::RtcReport), [](const auto &r) { return rtcdata_json(r); });
	}
	if (command_ == "clients") {
		return clients();
	}
	if (command_ == "authdata") {
		// chronyc's way: each NTP source's SOURCE_DATA, then its AUTH_DATA.
		auto sources = per_source<SourceDataReport>(Command::SourceData);
		if (auto *refused = std::get_if<Refusal>(&sources)) {
			return status_reply(command_, refused->status, refused->detail);
		}
		std::vector<Named<SourceAuth>> rows;
		for (const auto &row : std::get<0>(sources)) {
			if (is_refclock(row.report)) {
				continue;
			}
			auto auth = run<AuthDataReport>(Command::AuthData, AddressArgs{row.report.address});
			if (auto *refused = std::get_if<Refusal>(&auth)) {
				if (refused->status == Status::NoSuchSource) {
					continue;
				}
				return status_reply(command_, refused->status, refused->detail);
			}
			rows.push_back(Named<SourceAuth>{SourceAuth{row.report.address, std::get<AuthDataReport>(auth)},
							 row.name});
		}
		return authdata_json(rows);
	}

	// Commands that change the daemon.
	if (command_ == "makestep") {
		return command(Command::MakeStep);
	}
	if (command_ == "online" || command_ == "offline") {
		auto address = address_arg("address");
		auto mask = address_arg("mask");
		if (!address || !mask) {
			return status_reply(command_, bad_->status, bad_->detail);
		}
		return command(command_ == "online" ? Command::Online : Command::Offline, MaskArgs{*mask, *address});
	}
	if (command_ == "onoffline") {
		return command(Command::OnOffline);
	}
	if (command_ == "delete") {
		auto address = address_arg("address");
		if (!address || !std::holds_alternative<IpAddress>(*address)) {
			return status_reply(command_, Status::Invalid, "\"address\" (an IP address) is required");
		}
		return command(Command::DelSource, AddressArgs{*address});
	}
	if (command_ == "burst") {
		auto good = int_arg("good", 0, 2048, 4);
		auto total = int_arg("total", 1, 2048, 8);
		auto address = address_arg("address");
		auto mask = address_arg("mask");
		if (!good || !total || !address || !mask) {
			return status_reply(command_, bad_->status, bad_->detail);
		}
		return command(Command::Burst, BurstArgs{*mask, *address, static_cast<int32_t>(*good),
							 static_cast<int32_t>(*total)});
	}
	static const std::pair<const char *, Command> kPlain[] = {
		{"cyclelogs", Command::CycleLogs}, {"writertc", Command::WriteRtc}, {"trimrtc", Command::TrimRtc},
		{"refresh", Command::Refresh},     {"dump", Command::Dump},         {"shutdown", Command::Shutdown},
		{"reload_sources", Command::ReloadSources}, {"rekey", Command::Rekey},
	};
	for (const auto &[name, code] : kPlain) {
		if (command_ == name) {
			return command(code);
		}
	}
	return status_reply(command_, Status::Invalid, fmt::format("unknown command \"{}\"", command_));
}

} // namespace

bool is_json_request(std::string_view datagram)
{
	size_t i = datagram.find_first_not_of(" \t\r\n");
	return i != std::string_view::npos && datagram[i] == '{';
}

namespace {

json answer_object(std::string_view text, bool privileged, ControlHandler &handler)
{
	json request = json::parse(text, nullptr, false);
	if (request.is_discarded() || !request.is_object()) {
		return status_reply("", Status::Invalid, "the request is not a JSON object");
	}
	auto command = request.find("command");
	if (command == request.end() || !command->is_string()) {
		return status_reply("", Status::Invalid, "\"command\" (a string) is missing");
	}
	std::string name = command->get<std::string>();
	auto version = request.find("version");
	if (version != request.end() && !(version->is_number_integer() && version->get<int64_t>() == kJsonVersion)) {
		return status_reply(name, Status::BadPktVersion, fmt::format("this daemon speaks version {}", kJsonVersion));
	}
	// An unprivileged sender may read: a command that would change anything
	// is refused before it is looked at further.
	static const std::string_view kReadOnly[] = {"tracking", "sources", "sourcestats", "selectdata", "ntpdata",
						     "activity", "serverstats", "rtcdata",     "clients",    "authdata"};
	static const std::string_view kChanging[] = {"makestep", "online",   "offline",        "onoffline", "burst",
						     "delete",   "cyclelogs", "writertc",      "trimrtc",   "refresh",
						     "dump",     "shutdown", "reload_sources", "rekey"};
	auto listed = [&](const auto &list) { return std::find(std::begin(list), std::end(list), name) != std::end(list); };
	bool read_only = listed(kReadOnly);
	if (!read_only && !listed(kChanging)) {
		return status_reply(name, Status::Invalid, fmt::format("unknown command \"{}\"", name));
	}
	if (read_only && name == "clients") {
		auto reset = request.find("reset");
		read_only = reset == request.end() || !(reset->is_boolean() && reset->get<bool>());
	}
	if (!privileged && !read_only) {
		return status_reply(name, Status::Unauth, "only root may change the daemon");
	}
	JsonRequest r(request, name, Transport::Unix, handler);
	return r.answer();
}

} // namespace

std::string answer_json(std::string_view text, bool privileged, ControlHandler &handler)
{
	json reply;
	// nlohmann's accessors throw on a type they did not expect; every
	// argument is checked before it is read, and this is the backstop that
	// keeps a request that slipped through from ending the daemon.
	try {
		reply = answer_object(text, privileged, handler);
	} catch (const json::exception &e) {
		reply = status_reply("", Status::Invalid, e.what());
	}
	// Replies hold text from the request and the daemon (a command's or a
	// source's name) that may not be UTF-8: replace rather than throw.
	return reply.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace strata::control
