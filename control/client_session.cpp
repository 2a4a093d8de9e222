#include "control/client_session.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "control/report_json.h"
#include "control/source_request.h"
#include "core/text.h"
#include "ntp/keys.h"

namespace strata::control {

namespace {

bool is_space(char c)
{
	return std::isspace(static_cast<unsigned char>(c)) != 0;
}

/// The first word of `rest`; `rest` becomes what follows it, leading
/// spaces skipped (chronyc's CPS_SplitWord).
std::string_view split_word(std::string_view &rest)
{
	size_t start = 0;
	while (start < rest.size() && is_space(rest[start])) {
		start++;
	}
	size_t end = start;
	while (end < rest.size() && !is_space(rest[end])) {
		end++;
	}
	std::string_view word = rest.substr(start, end - start);
	size_t next = end;
	while (next < rest.size() && is_space(rest[next])) {
		next++;
	}
	rest.remove_prefix(next);
	return word;
}

// Numbers as chronyc's sscanf reads them: a prefix of the text (leading
// spaces and a '+' allowed), whatever follows ignored.
std::optional<long long> scan_integer(std::string_view text)
{
	while (!text.empty() && is_space(text.front())) {
		text.remove_prefix(1);
	}
	if (!text.empty() && text.front() == '+') {
		text.remove_prefix(1);
	}
	long long v = 0;
	auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
	if (ec != std::errc() || ptr == text.data()) {
		return std::nullopt;
	}
	return v;
}

std::optional<double> scan_real(std::string_view text)
{
	std::string copy(text);
	char *end = nullptr;
	double v = std::strtod(copy.c_str(), &end);
	if (end == copy.c_str()) {
		return std::nullopt;
	}
	return v;
}

/// A whole word as a number (the local command's options).
std::optional<long long> word_integer(std::string_view word)
{
	long long v = 0;
	auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), v);
	if (ec != std::errc() || ptr != word.data() + word.size() || word.empty()) {
		return std::nullopt;
	}
	return v;
}

std::optional<double> word_real(std::string_view word)
{
	if (word.empty()) {
		return std::nullopt;
	}
	std::string copy(word);
	char *end = nullptr;
	double v = std::strtod(copy.c_str(), &end);
	if (end != copy.c_str() + copy.size()) {
		return std::nullopt;
	}
	return v;
}

/// A mask of `bits` leading ones in the family of `like` (out-of-range
/// counts mean a host mask, as chronyc's bits_to_mask).
IpAddress mask_of(long long bits, const IpAddress &like)
{
	int len = like.bit_length();
	if (bits < 0 || bits > len) {
		bits = len;
	}
	if (like.is_v4()) {
		uint32_t m = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
		return IpAddress::v4(m);
	}
	std::array<uint8_t, 16> b{};
	for (long long i = 0; i < bits; i++) {
		b[static_cast<size_t>(i / 8)] |= static_cast<uint8_t>(0x80u >> (i % 8));
	}
	return IpAddress::v6(b);
}

bool printable(std::string_view s)
{
	for (char c : s) {
		if (!std::isgraph(static_cast<unsigned char>(c))) {
			return false;
		}
	}
	return true;
}

} // namespace

std::string normalize_line(std::string_view line)
{
	std::string out;
	bool space = true;
	bool first = true;
	for (char c : line) {
		if (is_space(c)) {
			if (!space) {
				out += ' ';
			}
			space = true;
			continue;
		}
		if (first && std::strchr("!;#%", c) != nullptr) {
			break;
		}
		out += c;
		space = first = false;
	}
	if (!out.empty() && out.back() == ' ') {
		out.pop_back();
	}
	return out;
}

double attempt_timeout_s(int attempt)
{
	return std::ldexp(kFirstTimeoutS, attempt);
}

// --- The session ---------------------------------------------------------------

Session::Session(Exchanger &exchanger, NameService &names, Pause &pause, SessionOptions options,
		 std::ostream &out, std::ostream &err, RandomSource *random)
	: exchanger_(exchanger), names_(names), pause_(pause), options_(options), out_(out), err_(err), random_(random)
{
}

void Session::print_status_line(std::string_view command, std::string_view line, bool success)
{
	if (options_.json) {
		out_ << status_json(command, line, success).dump() << '\n';
	} else {
		out_ << line << '\n';
	}
}

std::optional<Reply> Session::request(const Request &req, ReplyType expected, bool verbose,
				      std::string_view command)
{
	std::optional<Reply> reply = exchanger_.exchange(req);
	if (!reply) {
		print_status_line(command, "506 Cannot talk to daemon", false);
		return std::nullopt;
	}
	Status st = reply->status;
	bool ok = st == Status::Success || st == Status::AccessAllowed || st == Status::AccessDenied;
	if (verbose || st != Status::Success) {
		print_status_line(command, status_text(st), ok);
	}
	if (!ok) {
		return std::nullopt;
	}
	if (reply_type(reply->body) != expected) {
		print_status_line(command, "508 Bad reply from daemon", false);
		return std::nullopt;
	}
	return reply;
}

std::optional<Address> Session::parse_address(std::string_view word)
{
	if (word.substr(0, 3) == "ID#") {
		if (auto id = scan_integer(word.substr(3)); id && *id >= 0 && *id <= UINT32_MAX) {
			return AddressId{static_cast<uint32_t>(*id)};
		}
	}
	if (auto ip = IpAddress::parse(word)) {
		if (options_.family && ip->family() != *options_.family) {
			return std::nullopt;
		}
		return *ip;
	}
	if (word.empty()) {
		return std::nullopt;
	}
	if (auto ip = names_.lookup(word, options_.family)) {
		return *ip;
	}
	return std::nullopt;
}

std::optional<MaskArgs> Session::parse_mask_address(std::string_view text)
{
	if (text.empty()) {
		return MaskArgs{NoAddress{}, NoAddress{}};
	}
	size_t slash = text.find('/');
	if (slash != std::string_view::npos) {
		if (auto mask = IpAddress::parse(text.substr(0, slash))) {
			std::string_view rest = text.substr(slash + 1);
			if (auto addr = IpAddress::parse(rest)) {
				if (addr->family() == mask->family()) {
					return MaskArgs{*mask, *addr};
				}
			} else if (auto bits = scan_integer(rest); bits && *bits >= 0) {
				return MaskArgs{mask_of(*bits, *mask), *mask};
			}
		}
		err_ << "Invalid syntax for mask/address\n";
		return std::nullopt;
	}
	auto addr = parse_address(text);
	if (!addr) {
		err_ << "Could not get address for hostname\n";
		return std::nullopt;
	}
	if (const auto *ip = std::get_if<IpAddress>(&*addr)) {
		return MaskArgs{mask_of(-1, *ip), *addr};
	}
	return MaskArgs{NoAddress{}, *addr};
}

std::string Session::name_of(const Address &address, std::optional<uint32_t> refclock, bool from_source,
			     size_t truncate)
{
	if (refclock) {
		return refid_text(*refclock);
	}
	if (from_source && options_.source_names) {
		Request req{.command = Command::NtpSourceName, .args = AddressArgs{address}};
		auto reply = request(req, ReplyType::NtpSourceName, false, "sourcename");
		if (reply) {
			const auto &name = std::get<SourceNameReport>(reply->body).name;
			if (printable(name)) {
				return name;
			}
		}
		return "?";
	}
	const auto *ip = std::get_if<IpAddress>(&address);
	if (options_.numeric || options_.csv || !ip) {
		return address_text(address);
	}
	std::string name = names_.reverse(*ip);
	return options_.json ? name : truncate_name(name, truncate);
}

std::optional<uint32_t> Session::n_sources(std::string_view command)
{
	auto reply = request(Request{.command = Command::NSources}, ReplyType::NSources, false, command);
	if (!reply) {
		return std::nullopt;
	}
	return std::get<NSourcesReport>(reply->body).n_sources;
}

namespace {

struct ListOptions {
	bool all = false;
	bool verbose = false;
};

ListOptions list_options(std::string_view args, bool csv)
{
	ListOptions o;
	while (!args.empty()) {
		std::string_view w = split_word(args);
		if (w == "-a") {
			o.all = true;
		} else if (w == "-v") {
			o.verbose = !csv;
		}
	}
	return o;
}

TextStyle style_of(const SessionOptions &o)
{
	return o.csv ? TextStyle::Csv : TextStyle::Human;
}

} // namespace

bool Session::cmd_tracking()
{
	auto reply = request(Request{.command = Command::Tracking}, ReplyType::Tracking, false, "tracking");
	if (!reply) {
		return false;
	}
	const auto &r = std::get<TrackingReport>(reply->body);
	std::string name = name_of(r.address, refclock_id(r), true, 0);
	if (options_.json) {
		out_ << tracking_json(r, name).dump() << '\n';
	} else {
		out_ << format_tracking(r, name, style_of(options_));
	}
	return true;
}

bool Session::cmd_sources(std::string_view args)
{
	ListOptions o = list_options(args, options_.csv);
	auto n = n_sources("sources");
	if (!n) {
		return false;
	}
	TextStyle style = style_of(options_);
	if (!options_.json) {
		out_ << sources_header(o.verbose, style);
	}
	std::vector<Named<SourceDataReport>> rows;
	for (uint32_t i = 0; i < *n; i++) {
		auto reply = request(Request{.command = Command::SourceData, .args = IndexArgs{i}},
				     ReplyType::SourceData, false, "sources");
		if (!reply) {
			return false;
		}
		const auto &r = std::get<SourceDataReport>(reply->body);
		if (!o.all && std::holds_alternative<AddressId>(r.address)) {
			continue;
		}
		std::string name = name_of(r.address, refclock_id(r), true, 25);
		if (options_.json) {
			rows.push_back({r, std::move(name)});
		} else {
			out_ << format_source(r, name, style);
		}
	}
	if (options_.json) {
		out_ << sources_json(rows).dump() << '\n';
	}
	return true;
}

bool Session::cmd_sourcestats(std::string_view args)
{
	ListOptions o = list_options(args, options_.csv);
	auto n = n_sources("sourcestats");
	if (!n) {
		return false;
	}
	TextStyle style = style_of(options_);
	if (!options_.json) {
		out_ << sourcestats_header(o.verbose, style);
	}
	std::vector<Named<SourceStatsReport>> rows;
	for (uint32_t i = 0; i < *n; i++) {
		auto reply = request(Request{.command = Command::SourceStats, .args = IndexArgs{i}},
				     ReplyType::SourceStats, false, "sourcestats");
		if (!reply) {
			return false;
		}
		const auto &r = std::get<SourceStatsReport>(reply->body);
		if (!o.all && std::holds_alternative<AddressId>(r.address)) {
			continue;
		}
		std::string name = name_of(r.address, refclock_id(r), true, 25);
		if (options_.json) {
			rows.push_back({r, std::move(name)});
		} else {
			out_ << format_sourcestats_row(r, name, style);
		}
	}
	if (options_.json) {
		out_ << sourcestats_json(rows).dump() << '\n';
	}
	return true;
}

bool Session::cmd_selectdata(std::string_view args)
{
	ListOptions o = list_options(args, options_.csv);
	auto n = n_sources("selectdata");
	if (!n) {
		return false;
	}
	TextStyle style = style_of(options_);
	if (!options_.json) {
		out_ << selectdata_header(o.verbose, style);
	}
	std::vector<Named<SelectDataReport>> rows;
	for (uint32_t i = 0; i < *n; i++) {
		auto reply = request(Request{.command = Command::SelectData, .args = IndexArgs{i}},
				     ReplyType::SelectData, false, "selectdata");
		if (!reply) {
			return false;
		}
		const auto &r = std::get<SelectDataReport>(reply->body);
		if (!o.all && std::holds_alternative<AddressId>(r.address)) {
			continue;
		}
		std::string name = name_of(r.address, refclock_id(r), true, 25);
		if (options_.json) {
			rows.push_back({r, std::move(name)});
		} else {
			out_ << format_selectdata_row(r, name, style);
		}
	}
	if (options_.json) {
		out_ << selectdata_json(rows).dump() << '\n';
	}
	return true;
}

bool Session::cmd_authdata(std::string_view args)
{
	ListOptions o = list_options(args, options_.csv);
	auto n = n_sources("authdata");
	if (!n) {
		return false;
	}
	TextStyle style = style_of(options_);
	if (!options_.json) {
		out_ << authdata_header(o.verbose, style);
	}
	std::vector<Named<SourceAuth>> rows;
	for (uint32_t i = 0; i < *n; i++) {
		auto reply = request(Request{.command = Command::SourceData, .args = IndexArgs{i}},
				     ReplyType::SourceData, false, "authdata");
		if (!reply) {
			return false;
		}
		const auto &src = std::get<SourceDataReport>(reply->body);
		if (src.mode != SourceMode::Client && src.mode != SourceMode::Peer) {
			continue;
		}
		if (!o.all && std::holds_alternative<AddressId>(src.address)) {
			continue;
		}
		Address address = src.address;
		auto auth = request(Request{.command = Command::AuthData, .args = AddressArgs{address}},
				    ReplyType::AuthData, false, "authdata");
		if (!auth) {
			return false;
		}
		const auto &a = std::get<AuthDataReport>(auth->body);
		std::string name = name_of(address, std::nullopt, true, 25);
		if (options_.json) {
			rows.push_back({SourceAuth{address, a}, std::move(name)});
		} else {
			out_ << format_authdata_row(a, name, style);
		}
	}
	if (options_.json) {
		out_ << authdata_json(rows).dump() << '\n';
	}
	return true;
}

bool Session::cmd_clients(std::string_view args)
{
	bool nke = false;
	bool reset = false;
	uint32_t min_hits = 0;
	while (!args.empty()) {
		std::string_view opt = split_word(args);
		if (opt == "-k") {
			nke = true;
		} else if (opt == "-p") {
			auto v = scan_integer(split_word(args));
			if (!v || *v < 0 || *v > UINT32_MAX) {
				err_ << "Invalid syntax for clients command\n";
				return false;
			}
			min_hits = static_cast<uint32_t>(*v);
		} else if (opt == "-r") {
			reset = true;
		}
	}
	TextStyle style = style_of(options_);
	if (!options_.json) {
		out_ << clients_header(nke, style);
	}
	std::vector<Named<ClientAccess>> rows;
	uint32_t next = 0;
	for (;;) {
		Request req{.command = Command::ClientAccessesByIndex3,
			    .args = ClientAccessesArgs{.first_index = next,
						       .n_clients = kMaxClientsPerReply,
						       .min_hits = min_hits,
						       .reset = reset}};
		auto reply = request(req, ReplyType::ClientAccessesByIndex3, false, "clients");
		if (!reply) {
			return false;
		}
		const auto &page = std::get<ClientAccessesReport>(reply->body);
		for (const ClientAccess &c : page.clients) {
			// A record the daemon could not find; never expected.
			if (std::holds_alternative<NoAddress>(c.address)) {
				continue;
			}
			std::string name = name_of(c.address, std::nullopt, false, 25);
			if (options_.json) {
				rows.push_back({c, std::move(name)});
			} else {
				out_ << format_client(c, name, nke, style);
			}
		}
		next = page.next_index;
		if (next >= page.n_indices || page.clients.size() < kMaxClientsPerReply) {
			break;
		}
	}
	if (options_.json) {
		out_ << clients_json(rows).dump() << '\n';
	}
	return true;
}

bool Session::cmd_ntpdata(std::string_view args)
{
	bool specified = !args.empty();
	uint32_t count = 1;
	if (!specified) {
		auto n = n_sources("ntpdata");
		if (!n) {
			return false;
		}
		count = *n;
	}
	TextStyle style = style_of(options_);
	std::vector<NtpDataReport> rows;
	for (uint32_t i = 0; i < count; i++) {
		Address remote;
		if (specified) {
			auto a = parse_address(args);
			if (!a) {
				err_ << "Could not get address for hostname\n";
				return false;
			}
			remote = *a;
		} else {
			auto reply = request(Request{.command = Command::SourceData, .args = IndexArgs{i}},
					     ReplyType::SourceData, false, "ntpdata");
			if (!reply) {
				return false;
			}
			const auto &src = std::get<SourceDataReport>(reply->body);
			if (src.mode != SourceMode::Client && src.mode != SourceMode::Peer) {
				continue;
			}
			if (!std::holds_alternative<IpAddress>(src.address)) {
				continue;
			}
			remote = src.address;
		}
		auto reply = request(Request{.command = Command::NtpData, .args = AddressArgs{remote}},
				     ReplyType::NtpData, false, "ntpdata");
		if (!reply) {
			return false;
		}
		const auto &r = std::get<NtpDataReport>(reply->body);
		if (options_.json) {
			rows.push_back(r);
		} else {
			out_ << format_ntpdata(r, !specified && !options_.csv, style);
		}
	}
	if (options_.json) {
		out_ << ntpdata_json(rows).dump() << '\n';
	}
	return true;
}

bool Session::cmd_simple_report(std::string_view command, Command code, ReplyType type)
{
	auto reply = request(Request{.command = code}, type, false, command);
	if (!reply) {
		return false;
	}
	TextStyle style = style_of(options_);
	bool json = options_.json;
	std::visit(
		[&](const auto &r) {
			using T = std::decay_t<decltype(r)>;
			if constexpr (std::is_same_v<T, ServerStatsReport>) {
				out_ << (json ? serverstats_json(r).dump() + '\n' : format_serverstats(r, style));
			} else if constexpr (std::is_same_v<T, ActivityReport>) {
				out_ << (json ? activity_json(r).dump() + '\n' : format_activity(r, style));
			} else if constexpr (std::is_same_v<T, RtcReport>) {
				out_ << (json ? rtcdata_json(r).dump() + '\n' : format_rtcdata(r, style));
			} else if constexpr (std::is_same_v<T, SmoothingReport>) {
				out_ << (json ? smoothing_json(r).dump() + '\n' : format_smoothing(r, style));
			}
		},
		reply->body);
	return true;
}

bool Session::cmd_sourcename(std::string_view args)
{
	auto address = parse_address(args);
	if (!address) {
		err_ << "Could not read address\n";
		return false;
	}
	auto reply = request(Request{.command = Command::NtpSourceName, .args = AddressArgs{*address}},
			     ReplyType::NtpSourceName, false, "sourcename");
	if (!reply) {
		return false;
	}
	const auto &r = std::get<SourceNameReport>(reply->body);
	if (!printable(r.name)) {
		return false;
	}
	if (options_.json) {
		out_ << sourcename_json(*address, r).dump() << '\n';
	} else {
		out_ << format_sourcename(r, style_of(options_));
	}
	return true;
}

bool Session::cmd_waitsync(std::string_view args)
{
	// chronyc reads as many of the four numbers as are there.
	long long max_tries = 0;
	double max_correction = 0;
	double max_skew = 0;
	double interval = 10;
	{
		std::string_view rest = args;
		if (auto v = scan_integer(split_word(rest))) {
			max_tries = *v;
			if (auto c = scan_real(split_word(rest))) {
				max_correction = *c;
				if (auto s = scan_real(split_word(rest))) {
					max_skew = *s;
					if (auto i = scan_real(split_word(rest))) {
						interval = *i;
					}
				}
			}
		}
	}
	interval = std::max(interval, 0.1);
	bool synced = false;
	for (long long attempt = 1;; attempt++) {
		auto reply = request(Request{.command = Command::Tracking}, ReplyType::Tracking, false, "waitsync");
		if (reply) {
			const auto &r = std::get<TrackingReport>(reply->body);
			double correction = std::fabs(r.current_correction_s);
			bool has_reference = !std::holds_alternative<NoAddress>(r.address) ||
					     (r.ref_id != 0 && r.ref_id != kLocalRefId);
			synced = has_reference && (max_correction == 0.0 || correction <= max_correction) &&
				 (max_skew == 0.0 || r.skew_ppm <= max_skew);
			if (options_.json) {
				out_ << waitsync_json(static_cast<int>(attempt), r, synced).dump() << '\n';
			} else {
				out_ << format_waitsync_try(static_cast<int>(attempt), r.ref_id, correction, r.skew_ppm,
							    style_of(options_));
			}
			out_.flush();
		}
		if (synced || (max_tries != 0 && attempt >= max_tries) || pause_.interrupted()) {
			break;
		}
		if (!pause_.sleep(interval)) {
			break;
		}
	}
	return synced;
}

bool Session::cmd_dns(std::string_view args)
{
	if (args == "-46") {
		options_.family.reset();
	} else if (args == "-4") {
		options_.family = IpAddress::Family::V4;
	} else if (args == "-6") {
		options_.family = IpAddress::Family::V6;
	} else if (args == "-n") {
		options_.numeric = true;
	} else if (args == "+n") {
		options_.numeric = false;
	} else {
		err_ << "Unrecognized dns command\n";
		return false;
	}
	return true;
}

bool Session::cmd_keygen(std::string_view args)
{
	// chronyc's defaults: key 1, SHA1 (chronyc built with its hashes), 160 bits.
	uint32_t id = 1;
	ntp::KeyType type = ntp::KeyType::SHA1;
	unsigned bits = 160;
	std::string_view rest = args;
	std::string_view words[4];
	size_t n = 0;
	while (!rest.empty() && n < 4) {
		words[n++] = split_word(rest);
	}
	auto id_value = n >= 1 ? scan_integer(words[0]) : std::optional<long long>(1);
	auto bits_value = n >= 3 ? scan_integer(words[2]) : std::optional<long long>(160);
	if (n > 3 || !id_value || *id_value < 0 || *id_value > UINT32_MAX || !bits_value || *bits_value < 0 ||
	    *bits_value > UINT32_MAX) {
		err_ << "Invalid syntax for keygen command\n";
		return false;
	}
	id = static_cast<uint32_t>(*id_value);
	bits = static_cast<unsigned>(*bits_value);
	if (n >= 2) {
		auto named = ntp::key_type_from_name(words[1]);
		if (!named) {
			err_ << "Unknown hash function or cipher " << words[1] << '\n';
			return false;
		}
		type = *named;
	}
	std::vector<uint8_t> secret(ntp::keygen_length(type, bits));
	if (random_ == nullptr || !random_->fill(secret)) {
		err_ << "Could not generate a key: no random bytes from the system\n";
		return false;
	}
	out_ << ntp::keyfile_line(id, type, secret) << '\n';
	std::fill(secret.begin(), secret.end(), uint8_t{0});
	return true;
}

std::optional<Request> Session::status_command(std::string_view command, std::string_view args, bool &known)
{
	known = true;
	auto simple = [](Command c) { return Request{.command = c}; };
	// Commands whose argument is "ADDRESS VALUE" (chronyc's read_address_*).
	auto address_value = [&](Command c, bool integer) -> std::optional<Request> {
		std::string_view rest = args;
		std::string_view host = split_word(rest);
		std::optional<long long> iv;
		std::optional<double> rv;
		if (integer) {
			iv = scan_integer(rest);
		} else {
			rv = scan_real(rest);
		}
		if (!iv && !rv) {
			err_ << "Invalid syntax for address value\n";
			return std::nullopt;
		}
		auto address = parse_address(host);
		if (!address) {
			err_ << "Could not get address for hostname\n";
			return std::nullopt;
		}
		if (integer) {
			return Request{.command = c, .args = AddressIntArgs{*address, static_cast<int32_t>(*iv)}};
		}
		return Request{.command = c, .args = AddressFloatArgs{*address, *rv}};
	};
	auto real_arg = [&](Command c, std::string_view error) -> std::optional<Request> {
		auto v = scan_real(args);
		if (!v) {
			if (!error.empty()) {
				err_ << error << '\n';
			}
			return std::nullopt;
		}
		return Request{.command = c, .args = FloatArgs{*v}};
	};

	if (command == "burst") {
		std::string_view rest = args;
		std::string_view counts = split_word(rest);
		std::string_view target = split_word(rest);
		size_t slash = counts.find('/');
		std::optional<long long> good, total;
		if (slash != std::string_view::npos) {
			good = scan_integer(counts.substr(0, slash));
			total = scan_integer(counts.substr(slash + 1));
		}
		if (!good || !total) {
			err_ << "Invalid syntax for burst command\n";
			return std::nullopt;
		}
		MaskArgs mask{NoAddress{}, NoAddress{}};
		if (!target.empty()) {
			auto m = parse_mask_address(target);
			if (!m) {
				return std::nullopt;
			}
			mask = *m;
		}
		return Request{.command = Command::Burst,
			       .args = BurstArgs{mask.mask, mask.address, static_cast<int32_t>(*good),
						 static_cast<int32_t>(*total)}};
	}
	if (command == "online" || command == "offline") {
		auto m = parse_mask_address(args);
		if (!m) {
			return std::nullopt;
		}
		return Request{.command = command == "online" ? Command::Online : Command::Offline, .args = *m};
	}
	if (command == "onoffline") {
		return simple(Command::OnOffline);
	}
	if (command == "dump") {
		return simple(Command::Dump);
	}
	if (command == "writertc") {
		return simple(Command::WriteRtc);
	}
	if (command == "trimrtc") {
		return simple(Command::TrimRtc);
	}
	if (command == "cyclelogs") {
		return simple(Command::CycleLogs);
	}
	if (command == "refresh") {
		return simple(Command::Refresh);
	}
	if (command == "rekey") {
		return simple(Command::Rekey);
	}
	if (command == "shutdown") {
		return simple(Command::Shutdown);
	}
	if (command == "reselect") {
		return simple(Command::Reselect);
	}
	if (command == "reload" || command == "reset") {
		if (args != "sources") {
			err_ << "Invalid syntax for " << command << " command\n";
			return std::nullopt;
		}
		return simple(command == "reload" ? Command::ReloadSources : Command::ResetSources);
	}
	if (command == "makestep") {
		if (args.empty()) {
			return simple(Command::MakeStep);
		}
		std::string_view rest = args;
		auto threshold = scan_real(split_word(rest));
		auto limit = scan_integer(split_word(rest));
		if (!threshold || !limit) {
			err_ << "Bad syntax for makestep command\n";
			return std::nullopt;
		}
		return Request{.command = Command::ModifyMakestep,
			       .args = MakestepArgs{static_cast<int32_t>(*limit), *threshold}};
	}
	if (command == "add") {
		// The options as the configuration parser reads them
		// (control/source_request.h): same words, same messages.
		auto a = parse_add_source(args);
		if (!a) {
			err_ << a.error() << '\n';
			return std::nullopt;
		}
		// chronyc checks that the name resolves here (same host as the daemon).
		const std::string &name = a->request.name;
		if (name.size() >= kNameFieldLength || !parse_address(name) || name.substr(0, 3) == "ID#") {
			err_ << "Invalid host/IP address\n";
			return std::nullopt;
		}
		for (const auto &w : a->warnings) {
			err_ << "Warning: " << w << '\n';
		}
		return Request{.command = Command::AddSource, .args = std::move(a->request)};
	}
	if (command == "delete") {
		std::string_view rest = args;
		std::string_view host = split_word(rest);
		if (host.empty()) {
			err_ << "Invalid syntax for address\n";
			return std::nullopt;
		}
		auto address = parse_address(host);
		if (!address) {
			err_ << "Could not get address for hostname\n";
			return std::nullopt;
		}
		return Request{.command = Command::DelSource, .args = AddressArgs{*address}};
	}
	if (command == "minpoll") {
		return address_value(Command::ModifyMinpoll, true);
	}
	if (command == "maxpoll") {
		return address_value(Command::ModifyMaxpoll, true);
	}
	if (command == "minstratum") {
		return address_value(Command::ModifyMinstratum, true);
	}
	if (command == "polltarget") {
		return address_value(Command::ModifyPolltarget, true);
	}
	if (command == "maxdelay") {
		return address_value(Command::ModifyMaxdelay, false);
	}
	if (command == "maxdelayratio") {
		return address_value(Command::ModifyMaxdelayratio, false);
	}
	if (command == "maxdelaydevratio") {
		return address_value(Command::ModifyMaxdelaydevratio, false);
	}
	if (command == "maxupdateskew") {
		return real_arg(Command::ModifyMaxupdateskew, "");
	}
	if (command == "dfreq") {
		return real_arg(Command::Dfreq, "Invalid value");
	}
	if (command == "doffset") {
		return real_arg(Command::Doffset2, "Invalid value");
	}
	if (command == "reselectdist") {
		return real_arg(Command::ReselectDistance, "");
	}
	if (command == "smoothtime") {
		if (args == "reset" || args == "activate") {
			return Request{.command = Command::SmoothTime, .args = IntArgs{args == "reset" ? 0 : 1}};
		}
		err_ << "Invalid syntax for smoothtime command\n";
		return std::nullopt;
	}
	if (command == "manual") {
		int32_t option = -1;
		if (args == "off") {
			option = 0;
		} else if (args == "on") {
			option = 1;
		} else if (args == "reset") {
			option = 2;
		}
		if (option < 0) {
			err_ << "Invalid syntax for manual command\n";
			return std::nullopt;
		}
		return Request{.command = Command::Manual, .args = IntArgs{option}};
	}
	if (command == "local") {
		LocalArgs l;
		if (args != "off") {
			l = LocalArgs{.on = true, .stratum = 10, .distance_s = 1.0, .orphan = false};
			std::string_view rest = args;
			while (!rest.empty()) {
				std::string_view w = split_word(rest);
				bool ok = true;
				if (iequals(w, "stratum")) {
					auto v = word_integer(split_word(rest));
					ok = v && *v > 0 && *v < 16;
					l.stratum = ok ? static_cast<int32_t>(*v) : 0;
				} else if (iequals(w, "orphan")) {
					l.orphan = true;
				} else if (iequals(w, "distance")) {
					auto v = word_real(split_word(rest));
					ok = v.has_value();
					l.distance_s = v.value_or(0);
				} else {
					ok = false;
				}
				if (!ok) {
					err_ << "Invalid syntax for local command\n";
					return std::nullopt;
				}
			}
		}
		return Request{.command = Command::Local2, .args = l};
	}
	known = false;
	return std::nullopt;
}

bool Session::run(std::string_view raw)
{
	std::string line = normalize_line(raw);
	if (line.empty()) {
		out_.flush();
		return true;
	}
	std::string_view args = line;
	std::string command(split_word(args));
	bool ok = false;

	if (command == "tracking") {
		ok = cmd_tracking();
	} else if (command == "sources") {
		ok = cmd_sources(args);
	} else if (command == "sourcestats") {
		ok = cmd_sourcestats(args);
	} else if (command == "selectdata") {
		ok = cmd_selectdata(args);
	} else if (command == "authdata") {
		ok = cmd_authdata(args);
	} else if (command == "clients") {
		ok = cmd_clients(args);
	} else if (command == "ntpdata") {
		ok = cmd_ntpdata(args);
	} else if (command == "serverstats") {
		ok = cmd_simple_report(command, Command::ServerStats, expected_reply(Command::ServerStats));
	} else if (command == "activity") {
		ok = cmd_simple_report(command, Command::Activity, ReplyType::Activity);
	} else if (command == "rtcdata") {
		ok = cmd_simple_report(command, Command::RtcReport, ReplyType::Rtc);
	} else if (command == "smoothing") {
		ok = cmd_simple_report(command, Command::Smoothing, ReplyType::Smoothing);
	} else if (command == "sourcename") {
		ok = cmd_sourcename(args);
	} else if (command == "waitsync") {
		ok = cmd_waitsync(args);
	} else if (command == "dns") {
		ok = cmd_dns(args);
	} else if (command == "keygen") {
		ok = cmd_keygen(args);
	} else if (command == "exit" || command == "quit") {
		quit_ = true;
		ok = true;
	} else if (command == "authhash" || command == "password") {
		err_ << "Authentication is no longer supported\n";
		ok = true;
	} else {
		bool known = false;
		std::optional<Request> req = status_command(command, args, known);
		if (!known) {
			static constexpr std::string_view kLater[] = {
				"accheck", "allow", "cmdaccheck", "cmdallow", "cmddeny", "deny",
				"help", "retries", "settime", "timeout"};
			bool later = command == "manual";  // manual list / delete
			for (std::string_view c : kLater) {
				later = later || command == c;
			}
			err_ << (later ? "Command not supported by stratactl yet" : "Unrecognized command") << '\n';
			ok = false;
		} else if (req) {
			ok = request(*req, ReplyType::Null, true, command).has_value();
		}
	}
	out_.flush();
	err_.flush();
	if (pause_.interrupted()) {
		quit_ = true;
	}
	return ok;
}

// --- The command line -------------------------------------------------------------

CommandLine parse_command_line(const std::vector<std::string> &args)
{
	CommandLine cl;
	for (const std::string &a : args) {
		if (a == "--help") {
			cl.help = true;
			return cl;
		}
		if (a == "--version") {
			cl.version = true;
			return cl;
		}
	}
	size_t i = 0;
	for (; i < args.size(); i++) {
		const std::string &a = args[i];
		if (a == "--") {
			i++;
			break;
		}
		if (a.size() < 2 || a[0] != '-') {
			break;
		}
		for (size_t k = 1; k < a.size(); k++) {
			char opt = a[k];
			auto value = [&]() -> std::optional<std::string> {
				if (k + 1 < a.size()) {
					std::string v = a.substr(k + 1);
					k = a.size();
					return v;
				}
				if (i + 1 < args.size()) {
					k = a.size();
					return args[++i];
				}
				return std::nullopt;
			};
			switch (opt) {
			case '4':
				cl.session.family = IpAddress::Family::V4;
				break;
			case '6':
				cl.session.family = IpAddress::Family::V6;
				break;
			case 'a':
			case 'd':
				break;  // chronyc accepts these for compatibility (and debug builds)
			case 'f':
				if (!value()) {
					cl.error = "option requires an argument -- 'f'";
					return cl;
				}
				break;
			case 'c':
				cl.session.csv = true;
				break;
			case 'j':
				cl.session.json = true;
				break;
			case 'h': {
				auto v = value();
				if (!v) {
					cl.error = "option requires an argument -- 'h'";
					return cl;
				}
				cl.hosts = *v;
				break;
			}
			case 'm':
				cl.multi = true;
				break;
			case 'n':
				cl.session.numeric = true;
				break;
			case 'N':
				cl.session.source_names = true;
				break;
			case 'p': {
				auto v = value();
				if (!v) {
					cl.error = "option requires an argument -- 'p'";
					return cl;
				}
				cl.port = static_cast<uint16_t>(std::atoi(v->c_str()));
				break;
			}
			case 'v':
				cl.version = true;
				return cl;
			default:
				cl.error = std::string("invalid option -- '") + opt + "'";
				return cl;
			}
		}
	}
	for (; i < args.size(); i++) {
		cl.commands.push_back(args[i]);
	}
	return cl;
}

std::vector<std::string> command_lines(const CommandLine &cl)
{
	if (cl.multi) {
		return cl.commands;
	}
	std::string line;
	for (const std::string &c : cl.commands) {
		line += c;
		line += ' ';
	}
	return cl.commands.empty() ? std::vector<std::string>{} : std::vector<std::string>{line};
}

std::string usage_text(std::string_view program)
{
	return fmt::format("Usage: {} [OPTION]... [COMMAND]...\n"
			   "Asks stratad (or chronyd) for reports and gives it commands, as chronyc does.\n\n"
			   "Options:\n"
			   "  -4\t\tresolve host names to IPv4 addresses only\n"
			   "  -6\t\tresolve host names to IPv6 addresses only\n"
			   "  -n\t\tshow addresses, do not look up their names\n"
			   "  -N\t\tshow the names sources were configured with\n"
			   "  -c\t\tprint reports as comma-separated values\n"
			   "  -j\t\tprint reports as JSON, one object per line (strata only)\n"
			   "  -m\t\ttake each argument as a separate command\n"
			   "  -h HOST\tthe daemon: host names, addresses or socket paths, comma-separated\n"
			   "\t\t(default {})\n"
			   "  -p PORT\tits UDP command port (default {})\n"
			   "  -v, --version\tprint the version and exit\n"
			   "      --help\tprint this text and exit\n",
			   program, kDefaultHosts, kDefaultPort);
}

} // namespace strata::control
