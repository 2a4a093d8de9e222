// The options of server/pool/peer read in both places that take them: a
// chrony.conf line (conf::load_text) and stratactl's `add` command, sent
// through the ADD_SOURCE request's bytes and read back by the daemon
// (parse_add_source → encode_request → parse_request → source_from_request).
// Every option, at its bounds and beyond, must give the same SourceConfig
// or the same error in both; an option chronyc 4.3's request cannot carry
// must be refused by stratactl, never lost.
#include "control/source_request.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <set>
#include <sstream>

#include "conf/parser.h"
#include "conf/source_options.h"
#include "core/text.h"
#include "tests/fakes/fake_file_reader.h"

namespace strata::control {
namespace {

using strata::testing::FakeFileReader;

/// What chronyc 4.3's CPS_ParseNTPSourceAdd accepts after the name
/// (chrony 4.3 cmdparse.c): the options its request carries.
const std::set<std::string_view> kChronyc43Options = {
	"auto_offline", "burst",      "copy",       "iburst",   "offline",    "noselect",      "prefer",
	"require",      "trust",      "certset",    "key",      "asymmetry",  "extfield",      "filter",
	"maxdelay",     "maxdelayratio", "maxdelaydevratio", "maxdelayquant", "maxpoll", "maxsamples",
	"maxsources",   "mindelay",   "minpoll",    "minsamples", "minstratum", "nts",          "ntsport",
	"offset",       "port",       "polltarget", "presend",  "version",    "xleave",
};

struct ConfSide {
	std::vector<std::string> errors;
	std::vector<std::string> warnings;
	std::optional<conf::SourceConfig> source;
};

ConfSide from_conf(const std::string &line)
{
	FakeFileReader files;
	auto r = conf::load_text(files, line, "t.conf");
	ConfSide out;
	for (const auto &d : r.diagnostics) {
		(d.severity == conf::Diagnostic::Severity::Error ? out.errors : out.warnings).push_back(d.message);
	}
	if (r.ok() && r.config.sources.size() == 1) {
		out.source = r.config.sources.front();
		out.source->origin = {};
	}
	return out;
}

struct AddSide {
	tl::expected<AddSourceCommand, std::string> typed;
	std::optional<RequestedSource> received;
	std::string error;  ///< stratactl's, else the daemon's
};

AddSide from_add(const std::string &line)
{
	AddSide out{parse_add_source(line), std::nullopt, {}};
	if (!out.typed) {
		out.error = out.typed.error();
		return out;
	}
	auto bytes = encode_request({.command = Command::AddSource, .sequence = 7, .args = out.typed->request});
	if (!bytes) {
		out.error = "encode_request: " + bytes.error().message();
		return out;
	}
	auto parsed = parse_request(*bytes);
	if (!std::holds_alternative<Request>(parsed)) {
		out.error = "parse_request refused the datagram";
		return out;
	}
	auto back = source_from_request(std::get<AddSourceArgs>(std::get<Request>(parsed).args));
	if (!back) {
		out.error = back.error();
		return out;
	}
	out.received = std::move(*back);
	return out;
}

/// `c` with its real options as they arrive: chrony's 32-bit Float on the
/// wire keeps 24 significant bits.
conf::SourceConfig as_on_the_wire(conf::SourceConfig c)
{
	auto round = [](double v) { return decode_float(encode_float(v)); };
	for (const auto &o : conf::source_options()) {
		if (o.kind != conf::OptionKind::Real) {
			continue;
		}
		std::visit(
			[&](auto member) {
				auto &m = c.*member;
				using M = std::remove_cvref_t<decltype(m)>;
				if constexpr (std::is_same_v<M, double>) {
					m = round(m);
				} else if constexpr (std::is_same_v<M, std::optional<double>>) {
					if (m) {
						*m = round(*m);
					}
				}
			},
			o.member);
	}
	return c;
}

/// The configuration parser's message as stratactl words it: the same,
/// without naming a directive.
std::string as_add_error(std::string message, std::string_view kind)
{
	for (std::string from : {fmt::format(" in {} directive", kind), fmt::format(" of {} needs", kind)}) {
		if (auto at = message.find(from); at != std::string::npos) {
			message.replace(at, from.size(), from.ends_with("needs") ? " needs" : "");
		}
	}
	return "Invalid syntax for add command: " + message;
}

/// The configuration parser's warnings about a line's options as stratactl
/// and the daemon word them ("in add server" for "in a server directive");
/// not the directive's own ("'peer' is not supported by strata yet").
std::vector<std::string> option_warnings(const std::vector<std::string> &conf_warnings, std::string_view kind)
{
	std::vector<std::string> out;
	for (std::string w : conf_warnings) {
		if (w.starts_with("'")) {
			continue;
		}
		std::string from = fmt::format("in a {} directive", kind);
		if (auto at = w.find(from); at != std::string::npos) {
			w.replace(at, from.size(), fmt::format("in add {}", kind));
		}
		out.push_back(w);
	}
	return out;
}

/// Whether the options use one that chronyc 4.3's request cannot carry.
bool beyond_chronyc43(const std::vector<std::string> &words)
{
	for (size_t i = 0; i < words.size(); i++) {
		const conf::SourceOption *o = conf::find_source_option(words[i]);
		if (o == nullptr) {
			continue;
		}
		if (!kChronyc43Options.count(o->name)) {
			return true;
		}
		if (o->kind != conf::OptionKind::Flag && ++i < words.size() && o->kind == conf::OptionKind::ExtField &&
		    !iequals(words[i], "F323") && !iequals(words[i], "0xF323")) {
			return true;
		}
	}
	return false;
}

std::vector<std::string> split(const std::string &s)
{
	std::vector<std::string> out;
	std::istringstream in(s);
	for (std::string w; in >> w;) {
		out.push_back(w);
	}
	return out;
}

/// Option words for every option: flags alone; numbers at both ends of
/// their range, inside it, just outside it, and not numbers; extension
/// fields in each spelling.
std::vector<std::string> option_cases()
{
	std::vector<std::string> cases;
	for (const auto &o : conf::source_options()) {
		std::string n(o.name);
		switch (o.kind) {
		case conf::OptionKind::Flag:
			cases.push_back(n);
			break;
		case conf::OptionKind::Integer: {
			auto lo = static_cast<int64_t>(o.lo), hi = static_cast<int64_t>(o.hi);
			for (int64_t v : {lo, hi, lo + (hi - lo) / 3, lo - 1, hi + 1}) {
				cases.push_back(fmt::format("{} {}", n, v));
			}
			for (const char *bad : {"1.5", "x", "0x10", ""}) {
				cases.push_back(fmt::format("{} {}", n, bad));
			}
			break;
		}
		case conf::OptionKind::Real:
			for (double v : {o.lo, o.hi, (o.lo + o.hi) / 3, o.lo + 1e-4, o.hi / 3 + 0.1}) {
				cases.push_back(fmt::format("{} {}", n, v));
			}
			for (const char *bad : {"-1e13", "2e12", "x", "nan", "inf", "0.5s", ""}) {
				cases.push_back(fmt::format("{} {}", n, bad));
			}
			cases.push_back(fmt::format("{} {}", n, o.hi * 1.5 + 1));
			break;
		case conf::OptionKind::ExtField:
			for (const char *v : {"F323", "f323", "0xF323", "F324", "10A", "F999", "x", ""}) {
				cases.push_back(fmt::format("{} {}", n, v));
			}
			break;
		}
	}
	return cases;
}

const std::vector<std::string> kCombinations = {
	"",
	"iburst minpoll 4 maxpoll 8 maxdelay 0.5 key 10 xleave",
	"burst prefer trust require offline auto_offline presend 9 minstratum 2 version 3 extfield F323",
	"maxsources 6 polltarget 16 filter 3 asymmetry 0.1 offset -0.002",
	"port 11123 maxdelayratio 2 maxdelaydevratio 5 mindelay 0.0001 noselect copy",
	"nts ntsport 4461 certset 1 minsamples 4 maxsamples 32 maxdelayquant 0.25",
	"IBURST MinPoll 4 Extfield f323 extfield F323",
	// chronyc's own "not given" values typed out, and their neighbours.
	"minpoll 6 maxpoll 10 polltarget 8 maxsources 4 port 123 ntsport 4460 maxdelay 3 maxdelaydevratio 10",
	"presend 0 asymmetry 0 offset 0 filter 0 certset 0 minstratum 0",
	"asymmetry 0.5 presend 24 minsamples 0 maxsamples 0",
	"minpoll 12 maxsources 3",
	// errors: every one is reported, the first unknown word ends the line.
	"minpoll 99 maxpoll 99 iburst",
	"ibrust",
	"iburst minpoll",
	"minpoll 4 polltarget 0 asymmetry 1",
	// beyond chrony 4.3's request
	"ipv4",
	"iburst ipv6",
	"maxunreach 10",
	"extfield F324",
};

TEST(SourceRequest, EveryOptionReadsTheSameInChronyConfAndInAdd)
{
	std::set<std::string_view> accepted;
	int compared = 0, refused = 0, beyond = 0, warned = 0;
	auto cases = option_cases();
	cases.insert(cases.end(), kCombinations.begin(), kCombinations.end());
	for (std::string kind : {"server", "pool", "peer"}) {
		for (const auto &options : cases) {
			std::string line = fmt::format("{} 192.0.2.1 {}", kind, options);
			SCOPED_TRACE(line);
			ConfSide c = from_conf(line);
			AddSide a = from_add(line);
			if (!c.errors.empty()) {
				ASSERT_FALSE(a.typed.has_value()) << "stratactl accepted what chrony.conf refuses";
				std::string want;
				for (const auto &e : c.errors) {
					want += (want.empty() ? "" : "\n") + as_add_error(e, kind);
				}
				EXPECT_EQ(a.error, want);
				refused++;
				continue;
			}
			ASSERT_TRUE(c.source.has_value());
			if (beyond_chronyc43(split(options))) {
				ASSERT_FALSE(a.typed.has_value()) << "an option without a wire form was accepted";
				EXPECT_NE(a.error.find("can't be set in an add command"), std::string::npos) << a.error;
				beyond++;
				continue;
			}
			ASSERT_TRUE(a.received.has_value()) << a.error;
			EXPECT_EQ(a.received->config, as_on_the_wire(*c.source))
				<< "conf:  " << conf::dump_source_options(*c.source)
				<< "\nadd:   " << conf::dump_source_options(a.received->config);
			auto warnings = option_warnings(c.warnings, kind);
			EXPECT_EQ(a.typed->warnings, warnings);
			EXPECT_EQ(a.received->warnings, warnings);
			warned += !warnings.empty();
			for (const auto &w : split(options)) {
				if (auto o = conf::find_source_option(w)) {
					accepted.insert(o->name);
				}
			}
			compared++;
		}
	}
	// Every option of chronyc 4.3 went through the request at least once.
	for (auto name : kChronyc43Options) {
		EXPECT_TRUE(accepted.count(name)) << name << " never compared";
	}
	EXPECT_GT(compared, 200);
	EXPECT_GT(refused, 200);
	EXPECT_GT(beyond, 10);
	EXPECT_GT(warned, 15);
}

TEST(SourceRequest, WireFormsAreChronyc43s)
{
	// An option has a wire form exactly when chronyc 4.3 accepts it; each
	// field of the request belongs to one option, and "not given" cannot be
	// confused with a value someone typed.
	std::set<conf::AddField> fields;
	std::set<conf::AddFlag> flags;
	for (const auto &o : conf::source_options()) {
		SCOPED_TRACE(std::string(o.name));
		EXPECT_EQ(o.wire.carried(), kChronyc43Options.count(o.name) == 1);
		if (o.wire.field != conf::AddField::None) {
			EXPECT_TRUE(fields.insert(o.wire.field).second) << "field used twice";
			EXPECT_NE(o.kind, conf::OptionKind::Flag);
			bool outside = o.wire.unset < o.lo || o.wire.unset > o.hi;
			if (!outside) {
				// Typed, it gives the default: reading it as "not given" loses nothing.
				conf::SourceConfig typed;
				auto s = o.kind == conf::OptionKind::Real
						 ? conf::real_setting(o, o.wire.unset)
						 : conf::integer_setting(o, static_cast<int64_t>(o.wire.unset));
				ASSERT_TRUE(s.has_value());
				conf::apply(*s, typed);
				EXPECT_EQ(typed, conf::SourceConfig{});
			}
		}
		if (o.wire.flag != conf::AddFlag::None) {
			EXPECT_TRUE(flags.insert(o.wire.flag).second) << "flag used twice";
		}
	}
	// 21 numeric fields in chrony 4.3's REQ_NTP_Source besides type and name.
	EXPECT_EQ(fields.size(), 21u);
	// Every option of chronyc 4.3 is in the grammar.
	for (auto name : kChronyc43Options) {
		EXPECT_NE(conf::find_source_option(name), nullptr) << name;
	}
}

TEST(SourceRequest, DefaultsAreWhatChronyc43Sends)
{
	// The request of tests/unit/control/cmdmon_request_test.cpp's capture of
	// `chronyc add server 192.0.2.7 iburst minpoll 4`.
	auto a = parse_add_source("server 192.0.2.7 iburst minpoll 4");
	ASSERT_TRUE(a.has_value()) << a.error();
	AddSourceArgs want{.kind = SourceKind::Server,
			   .name = "192.0.2.7",
			   .port = 123,
			   .minpoll = 4,
			   .maxpoll = 10,
			   .presend_minpoll = 100,
			   .poll_target = 8,
			   .max_sources = 4,
			   .min_samples = -1,
			   .max_samples = -1,
			   .nts_port = 4460,
			   .max_delay_s = 3.0,
			   .max_delay_dev_ratio = 10.0,
			   .asymmetry = 1.0,
			   .flags = kAddOnline | kAddIburst};
	EXPECT_EQ(a->request, want);
	EXPECT_TRUE(a->warnings.empty());
}

TEST(SourceRequest, TypedValuesTravelAsTyped)
{
	// Even where a value means the same to strata as chronyc's default
	// (presend 0), the request carries what was typed, as chronyc's does.
	auto a = parse_add_source("pool pool.example presend 0 offline extfield 0xf323 key 4294967295 minpoll -7");
	ASSERT_TRUE(a.has_value()) << a.error();
	EXPECT_EQ(a->request.kind, SourceKind::Pool);
	EXPECT_EQ(a->request.presend_minpoll, 0);
	EXPECT_EQ(a->request.flags, kAddExtField1);  // offline: no Online bit
	EXPECT_EQ(a->request.authkey, 4294967295u);
	EXPECT_EQ(a->request.minpoll, -7);
}

TEST(SourceRequest, StratactlSaysWhatIsWrong)
{
	auto error = [](const char *line) {
		auto a = parse_add_source(line);
		return a ? std::string("accepted") : a.error();
	};
	EXPECT_EQ(error("client 192.0.2.1"), "Invalid syntax for add command");
	EXPECT_EQ(error("server"), "Invalid syntax for add command");
	EXPECT_EQ(error("server 192.0.2.1 ibrust"),
		  "Invalid syntax for add command: unknown option 'ibrust' (did you mean 'iburst'?)");
	EXPECT_EQ(error("server 192.0.2.1 port"), "Invalid syntax for add command: option 'port' needs a value");
	EXPECT_EQ(error("server 192.0.2.1 key 0"), "Invalid syntax for add command: key 0 out of range 1..4294967295");
	EXPECT_EQ(error("server 192.0.2.1 minpoll 99 asymmetry 0.7"),
		  "Invalid syntax for add command: minpoll 99 out of range -7..24\n"
		  "Invalid syntax for add command: asymmetry 0.7 out of range -0.5..0.5");
	EXPECT_EQ(error("server 192.0.2.1 maxdelay 1s"), "Invalid syntax for add command: maxdelay: '1s' is not a number");
	EXPECT_EQ(error("server 192.0.2.1 ipv4"),
		  "Option ipv4 can't be set in an add command: chronyc's request has no field for it (a server "
		  "line in a sourcedir file and `reload sources` can set it)");
	EXPECT_EQ(error("server 192.0.2.1 extfield F324"),
		  "extfield F324 can't be set in an add command: chronyc's request has no field for it (a server "
		  "line in a sourcedir file and `reload sources` can set it)");
	auto warned = parse_add_source("server 192.0.2.1 maxsources 2");
	ASSERT_TRUE(warned.has_value());
	EXPECT_EQ(warned->warnings, std::vector<std::string>{"option 'maxsources' has no effect in add server"});
}

TEST(SourceRequest, TheDaemonRefusesWhatChronyConfRefuses)
{
	// A request from chronyc (which checks no range) or from any client.
	auto request = parse_add_source("server 192.0.2.1")->request;
	request.minpoll = 30;
	request.asymmetry = 0.7;
	request.max_delay_s = std::numeric_limits<double>::quiet_NaN();
	auto s = source_from_request(request);
	ASSERT_FALSE(s.has_value());
	EXPECT_EQ(s.error(), "minpoll 30 out of range -7..24; maxdelay: 'nan' is not a number; asymmetry 0.7 out of "
			     "range -0.5..0.5");
	request = parse_add_source("server 192.0.2.1")->request;
	request.kind = static_cast<SourceKind>(9);
	EXPECT_FALSE(source_from_request(request).has_value());
	// Flag bits chronyd 4.3 does not know are ignored, as chronyd does.
	request = parse_add_source("server 192.0.2.1 iburst")->request;
	request.flags |= 0x80000000u;
	auto ok = source_from_request(request);
	ASSERT_TRUE(ok.has_value()) << ok.error();
	EXPECT_TRUE(ok->config.iburst);
}

} // namespace
} // namespace strata::control
