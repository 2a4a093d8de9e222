#include "conf/parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <type_traits>

#include <fmt/format.h>

#include "conf/directives.h"
#include "conf/source_options.h"
#include "conf/values.h"
#include "core/text.h"

namespace strata::conf {

namespace {

constexpr int kMaxIncludeDepth = 10;
constexpr int kMaxConfdirDirectories = 10;
constexpr int64_t kIntMax = std::numeric_limits<int>::max();
constexpr double kHuge = 1e12;

std::vector<std::string_view> split_words(std::string_view line)
{
	std::vector<std::string_view> words;
	size_t i = 0;
	while (i < line.size()) {
		while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) {
			i++;
		}
		size_t start = i;
		while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) {
			i++;
		}
		if (i > start) {
			words.push_back(line.substr(start, i - start));
		}
	}
	return words;
}

std::vector<std::string_view> split(std::string_view s, char sep)
{
	std::vector<std::string_view> parts;
	size_t start = 0;
	for (;;) {
		size_t pos = s.find(sep, start);
		parts.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
		if (pos == std::string_view::npos) {
			return parts;
		}
		start = pos + 1;
	}
}

/// chronyd's subnet forms: "1.2.3.4", "1.2.3.4/24", the short "1.2" (= 1.2.0.0/16),
/// "1.2/12", and IPv6 "2001:db8::/32".
std::optional<Subnet> parse_subnet(std::string_view text)
{
	if (text.find(':') != std::string_view::npos) {
		return Subnet::parse(text);
	}
	auto slash = text.find('/');
	auto octets = split(text.substr(0, slash), '.');
	if (octets.empty() || octets.size() > 4) {
		return std::nullopt;
	}
	uint32_t address = 0;
	for (size_t i = 0; i < 4; i++) {
		int64_t octet = 0;
		if (i < octets.size()) {
			auto v = to_int(octets[i]);
			if (!v || *v < 0 || *v > 255 || octets[i].empty() || octets[i][0] == '+') {
				return std::nullopt;
			}
			octet = *v;
		}
		address = (address << 8) | static_cast<uint32_t>(octet);
	}
	int64_t prefix = static_cast<int64_t>(8 * octets.size());
	if (slash != std::string_view::npos) {
		auto v = to_int(text.substr(slash + 1));
		if (!v || *v < 0 || *v > 32) {
			return std::nullopt;
		}
		prefix = *v;
	}
	return Subnet::of(IpAddress::v4(address), static_cast<int>(prefix));
}

// ---------------------------------------------------------------------------
// Parsing context

struct DirectiveDef;

class Parser;

/// One directive line being parsed.
struct Ctx {
	Parser &parser;
	Config &config;
	const DirectiveDef &def;
	Origin origin;
	std::vector<std::string_view> args;
	bool failed = false;

	void error(std::string message);
	void warning(std::string message);

	/// Checks the argument count against [min, max]; reports and returns false.
	bool expect_args(size_t min, size_t max);

	std::optional<int64_t> integer(std::string_view what, std::string_view text, int64_t lo, int64_t hi)
	{
		auto v = read_integer(what, text, lo, hi);
		if (!v) {
			error(v.error());
			return std::nullopt;
		}
		return *v;
	}

	std::optional<double> real(std::string_view what, std::string_view text, double lo, double hi)
	{
		auto v = read_real(what, text, lo, hi);
		if (!v) {
			error(v.error());
			return std::nullopt;
		}
		return *v;
	}
};

using Lines = std::vector<std::string>;

struct DirectiveDef {
	DirectiveInfo info;
	std::function<void(Ctx &)> parse;
	/// Appends canonical lines; called for every directive in table order.
	std::function<void(const Config &, Lines &)> dump;
};

// ---------------------------------------------------------------------------
// Options (server, refclock, local, ratelimit, hwtimestamp)

template <class T>
struct Opt {
	std::string_view name;
	bool takes_value = true;
	std::function<bool(Ctx &, T &, std::string_view)> set;
	/// " name value" when `v` differs from `defaults`, else "".
	std::function<std::string(const T &v, const T &defaults)> dump;
};

template <class T>
Opt<T> o_flag(std::string_view name, bool T::*m)
{
	return {name, false,
		[m](Ctx &, T &t, std::string_view) {
			t.*m = true;
			return true;
		},
		[m, name](const T &v, const T &d) {
			return v.*m != d.*m ? fmt::format(" {}", name) : std::string();
		}};
}

template <class T, class M>
Opt<T> o_int(std::string_view name, M T::*m, int64_t lo, int64_t hi)
{
	return {name, true,
		[m, name, lo, hi](Ctx &ctx, T &t, std::string_view text) {
			auto v = ctx.integer(name, text, lo, hi);
			if (!v) {
				return false;
			}
			if constexpr (std::is_arithmetic_v<M>) {
				t.*m = static_cast<M>(*v);
			} else {
				t.*m = static_cast<typename M::value_type>(*v);
			}
			return true;
		},
		[m, name](const T &v, const T &d) {
			if (v.*m == d.*m) {
				return std::string();
			}
			if constexpr (std::is_arithmetic_v<M>) {
				return fmt::format(" {} {}", name, v.*m);
			} else {
				return fmt::format(" {} {}", name, *(v.*m));
			}
		}};
}

template <class T, class M>
Opt<T> o_real(std::string_view name, M T::*m, double lo, double hi)
{
	return {name, true,
		[m, name, lo, hi](Ctx &ctx, T &t, std::string_view text) {
			auto v = ctx.real(name, text, lo, hi);
			if (v) {
				t.*m = *v;
			}
			return v.has_value();
		},
		[m, name](const T &v, const T &d) {
			if (v.*m == d.*m) {
				return std::string();
			}
			if constexpr (std::is_arithmetic_v<M>) {
				return fmt::format(" {} {}", name, real_text(v.*m));
			} else {
				return fmt::format(" {} {}", name, real_text(*(v.*m)));
			}
		}};
}

/// A reference id: 1–4 printable characters (chronyd pads with zero bytes).
template <class T>
Opt<T> o_refid(std::string_view name, std::string T::*m)
{
	return {name, true,
		[m, name](Ctx &ctx, T &t, std::string_view text) {
			bool printable = std::all_of(text.begin(), text.end(), [](char ch) {
				return std::isgraph(static_cast<unsigned char>(ch)) != 0;
			});
			if (text.size() > 4 || !printable) {
				ctx.error(fmt::format("{}: '{}' is not a reference id (1 to 4 characters)", name, text));
				return false;
			}
			t.*m = std::string(text);
			return true;
		},
		[m, name](const T &v, const T &d) {
			return v.*m != d.*m ? fmt::format(" {} {}", name, v.*m) : std::string();
		}};
}

template <class T>
Opt<T> o_choice(std::string_view name, std::string T::*m, std::vector<std::string_view> choices)
{
	return {name, true,
		[m, name, choices](Ctx &ctx, T &t, std::string_view text) {
			for (auto c : choices) {
				if (iequals(c, text)) {
					t.*m = std::string(c);
					return true;
				}
			}
			ctx.error(fmt::format("{}: unknown value '{}'{}", name, text,
					      did_you_mean(text, choices, [](std::string_view c) { return c; })));
			return false;
		},
		[m, name](const T &v, const T &d) {
			return v.*m != d.*m ? fmt::format(" {} {}", name, v.*m) : std::string();
		}};
}

/// Parses `KEY [VALUE] …` options from args[start…] into `out`.
template <class T>
bool parse_options(Ctx &ctx, size_t start, T &out, const std::vector<Opt<T>> &opts)
{
	bool ok = true;
	for (size_t i = start; i < ctx.args.size(); i++) {
		std::string_view word = ctx.args[i];
		auto it = std::find_if(opts.begin(), opts.end(), [&](const Opt<T> &o) { return iequals(o.name, word); });
		if (it == opts.end()) {
			ctx.error(fmt::format("unknown option '{}' in {} directive{}", word, ctx.def.info.name,
					      did_you_mean(word, opts, [](const Opt<T> &o) { return o.name; })));
			return false;
		}
		std::string_view value;
		if (it->takes_value) {
			if (i + 1 >= ctx.args.size()) {
				ctx.error(fmt::format("option '{}' of {} needs a value", it->name, ctx.def.info.name));
				return false;
			}
			value = ctx.args[++i];
		}
		ok = it->set(ctx, out, value) && ok;
	}
	return ok;
}

template <class T>
std::string dump_options(const T &v, const std::vector<Opt<T>> &opts)
{
	T defaults{};
	std::string out;
	for (const auto &o : opts) {
		out += o.dump(v, defaults);
	}
	return out;
}

// ---------------------------------------------------------------------------
// Option tables

const std::vector<Opt<RefclockConfig>> &refclock_options()
{
	using R = RefclockConfig;
	static const std::vector<Opt<R>> opts = {
		o_int("poll", &R::poll_log2, -32, 32),
		o_int("dpoll", &R::dpoll_log2, -32, 32),
		o_refid("refid", &R::refid),
		o_refid("lock", &R::lock),
		o_int("rate", &R::rate, 1, kIntMax),
		o_int("maxlockage", &R::maxlockage, 0, kIntMax),
		o_real("width", &R::width_s, 0, kHuge),
		o_flag("pps", &R::pps),
		o_real("offset", &R::offset_s, -kHuge, kHuge),
		o_real("delay", &R::delay_s, 0, kHuge),
		o_int("stratum", &R::stratum, 0, 15),
		o_real("precision", &R::precision_s, 1e-12, 1),
		o_real("maxdispersion", &R::maxdispersion_s, 0, kHuge),
		o_int("filter", &R::filter, 0, kIntMax),
		o_flag("prefer", &R::prefer),
		o_flag("noselect", &R::noselect),
		o_flag("trust", &R::trust),
		o_flag("require", &R::require),
		o_flag("tai", &R::tai),
		o_flag("local", &R::local),
		o_int("minsamples", &R::minsamples, 0, kIntMax),
		o_int("maxsamples", &R::maxsamples, 0, kIntMax),
		o_int("maxunreach", &R::maxunreach, 0, kIntMax),
	};
	return opts;
}

const std::vector<Opt<LocalConfig>> &local_options()
{
	using L = LocalConfig;
	static const std::vector<Opt<L>> opts = {
		o_int("stratum", &L::stratum, 1, 15),
		o_flag("orphan", &L::orphan),
		o_real("distance", &L::distance_s, 0, kHuge),
		o_real("activate", &L::activate_s, 0, kHuge),
		o_real("waitsynced", &L::wait_synced_s, 0, kHuge),
		o_real("waitunsynced", &L::wait_unsynced_s, 0, kHuge),
	};
	return opts;
}

std::vector<Opt<RateLimit>> ratelimit_options(bool with_kod)
{
	using R = RateLimit;
	std::vector<Opt<R>> opts = {
		o_int("interval", &R::interval_log2, -19, 12),
		o_int("burst", &R::burst, 1, 255),
		o_int("leak", &R::leak, 0, 4),
	};
	if (with_kod) {
		opts.push_back(o_int("kod", &R::kod, 0, 32));
	}
	return opts;
}

const std::vector<Opt<HwTimestamp>> &hwtimestamp_options()
{
	using H = HwTimestamp;
	static const std::vector<Opt<H>> opts = {
		o_int("minpoll", &H::minpoll_log2, -7, 24),
		o_int("maxpoll", &H::maxpoll_log2, -7, 24),
		o_int("minsamples", &H::minsamples, 0, kIntMax),
		o_int("maxsamples", &H::maxsamples, 0, kIntMax),
		o_real("precision", &H::precision_s, 1e-12, 1),
		o_real("txcomp", &H::txcomp_s, -1, 1),
		o_real("rxcomp", &H::rxcomp_s, -1, 1),
		o_flag("nocrossts", &H::nocrossts),
		o_choice("rxfilter", &H::rxfilter, {"all", "ntp", "ptp", "none"}),
	};
	return opts;
}

// ---------------------------------------------------------------------------
// Directive builders

bool has(const Config &c, std::string_view name)
{
	return c.present.count(std::string(name)) != 0;
}

DirectiveDef flag(DirectiveInfo info, bool Config::*m)
{
	return {info,
		[m](Ctx &ctx) {
			if (ctx.expect_args(0, 0)) {
				ctx.config.*m = true;
			}
		},
		[m, info](const Config &c, Lines &out) {
			if (c.*m) {
				out.emplace_back(info.name);
			}
		}};
}

template <class M>
DirectiveDef integer(DirectiveInfo info, M Config::*m, int64_t lo, int64_t hi)
{
	return {info,
		[m, info, lo, hi](Ctx &ctx) {
			if (!ctx.expect_args(1, 1)) {
				return;
			}
			if (auto v = ctx.integer(info.name, ctx.args[0], lo, hi)) {
				ctx.config.*m = static_cast<M>(*v);
			}
		},
		[m, info](const Config &c, Lines &out) {
			if (has(c, info.name)) {
				out.push_back(fmt::format("{} {}", info.name, c.*m));
			}
		}};
}

template <class M>
DirectiveDef real(DirectiveInfo info, M Config::*m, double lo, double hi)
{
	return {info,
		[m, info, lo, hi](Ctx &ctx) {
			if (!ctx.expect_args(1, 1)) {
				return;
			}
			if (auto v = ctx.real(info.name, ctx.args[0], lo, hi)) {
				ctx.config.*m = *v;
			}
		},
		[m, info](const Config &c, Lines &out) {
			if (!has(c, info.name)) {
				return;
			}
			if constexpr (std::is_arithmetic_v<M>) {
				out.push_back(fmt::format("{} {}", info.name, real_text(c.*m)));
			} else {
				out.push_back(fmt::format("{} {}", info.name, real_text(*(c.*m))));
			}
		}};
}

DirectiveDef text(DirectiveInfo info, std::string Config::*m)
{
	return {info,
		[m](Ctx &ctx) {
			if (ctx.expect_args(1, 1)) {
				ctx.config.*m = std::string(ctx.args[0]);
			}
		},
		[m, info](const Config &c, Lines &out) {
			if (has(c, info.name)) {
				out.push_back(fmt::format("{} {}", info.name, c.*m));
			}
		}};
}

/// A file mode in octal, as chmod takes it ("0660", "660").
DirectiveDef octal_mode(DirectiveInfo info, std::optional<int> Config::*m)
{
	return {info,
		[m, info](Ctx &ctx) {
			if (!ctx.expect_args(1, 1)) {
				return;
			}
			std::string_view t = ctx.args[0];
			int mode = 0;
			bool ok = !t.empty() && t.size() <= 4;
			for (char ch : t) {
				ok = ok && ch >= '0' && ch <= '7';
				mode = mode * 8 + (ch - '0');
			}
			if (!ok) {
				ctx.error(fmt::format("{}: '{}' is not an octal file mode such as 0660", info.name, t));
				return;
			}
			ctx.config.*m = mode & 07777;
		},
		[m, info](const Config &c, Lines &out) {
			if ((c.*m).has_value()) {
				out.push_back(fmt::format("{} {:04o}", info.name, *(c.*m)));
			}
		}};
}

DirectiveDef choice(DirectiveInfo info, std::string Config::*m, std::vector<std::string_view> choices)
{
	return {info,
		[m, info, choices](Ctx &ctx) {
			if (!ctx.expect_args(1, 1)) {
				return;
			}
			for (auto c : choices) {
				if (iequals(c, ctx.args[0])) {
					ctx.config.*m = std::string(c);
					return;
				}
			}
			ctx.error(fmt::format("{}: unknown value '{}'{}", info.name, ctx.args[0],
					      did_you_mean(ctx.args[0], choices, [](std::string_view c) { return c; })));
		},
		[m, info](const Config &c, Lines &out) {
			if (has(c, info.name)) {
				out.push_back(fmt::format("{} {}", info.name, c.*m));
			}
		}};
}

/// A directive that takes an IP address (one per family; a second of the
/// same family replaces the first, as in chronyd).
DirectiveDef address_pair(DirectiveInfo info, std::optional<IpAddress> Config::*v4,
			  std::optional<IpAddress> Config::*v6, std::string Config::*path = nullptr)
{
	return {info,
		[=](Ctx &ctx) {
			if (!ctx.expect_args(1, 1)) {
				return;
			}
			if (path != nullptr && ctx.args[0].starts_with('/')) {
				ctx.config.*path = std::string(ctx.args[0]);
				return;
			}
			auto a = IpAddress::parse(ctx.args[0]);
			if (!a) {
				ctx.error(fmt::format("{}: invalid address '{}'", info.name, ctx.args[0]));
				return;
			}
			(a->is_v4() ? ctx.config.*v4 : ctx.config.*v6) = *a;
		},
		[=](const Config &c, Lines &out) {
			if (path != nullptr && has(c, info.name) && c.*path != Config{}.*path) {
				out.push_back(fmt::format("{} {}", info.name, c.*path));
			}
			for (auto m : {v4, v6}) {
				if (c.*m) {
					out.push_back(fmt::format("{} {}", info.name, (c.*m)->to_string()));
				}
			}
		}};
}

DirectiveDef access(DirectiveInfo info, bool allow, std::vector<AccessRule> Config::*rules,
		    std::string_view deny_name = {})
{
	return {info,
		[=](Ctx &ctx) {
			if (!ctx.expect_args(0, 2)) {
				return;
			}
			AccessRule rule{.allow = allow, .origin = ctx.origin};
			size_t i = 0;
			if (i < ctx.args.size() && iequals(ctx.args[i], "all")) {
				rule.all = true;
				i++;
			}
			if (i < ctx.args.size()) {
				rule.subnet = parse_subnet(ctx.args[i]);
				if (!rule.subnet) {
					ctx.error(fmt::format("{}: invalid subnet '{}'", info.name, ctx.args[i]));
					return;
				}
				i++;
			}
			if (i != ctx.args.size()) {
				ctx.error(fmt::format("{}: unexpected '{}' (usage: {})", info.name, ctx.args[i], info.usage));
				return;
			}
			(ctx.config.*rules).push_back(rule);
		},
		[=](const Config &c, Lines &out) {
			// allow and deny share one ordered list; the allow entry prints both.
			if (!allow) {
				return;
			}
			for (const auto &r : c.*rules) {
				std::string line = r.allow ? std::string(info.name) : std::string(deny_name);
				if (r.all) {
					line += " all";
				}
				if (r.subnet) {
					line += " " + r.subnet->to_string();
				}
				out.push_back(line);
			}
		}};
}

DirectiveDef ratelimit(DirectiveInfo info, bool with_kod, std::optional<RateLimit> Config::*opt_member,
		       RateLimit Config::*member)
{
	return {info,
		[=](Ctx &ctx) {
			RateLimit r = opt_member ? RateLimit{} : ctx.config.*member;
			if (!parse_options(ctx, 0, r, ratelimit_options(with_kod))) {
				return;
			}
			if (opt_member) {
				ctx.config.*opt_member = r;
			} else {
				ctx.config.*member = r;
			}
		},
		[=](const Config &c, Lines &out) {
			if (opt_member && c.*opt_member) {
				out.push_back(std::string(info.name) + dump_options(*(c.*opt_member), ratelimit_options(with_kod)));
			} else if (!opt_member && has(c, info.name)) {
				// Print every value: the defaults of these differ from RateLimit{}'s.
				const RateLimit &r = c.*member;
				out.push_back(fmt::format("{} interval {} burst {} leak {}", info.name, r.interval_log2,
							  r.burst, r.leak));
			}
		}};
}

/// A directive whose arguments are kept as a list of words.
DirectiveDef words(DirectiveInfo info, std::vector<std::string> Config::*m, size_t min_args)
{
	return {info,
		[=](Ctx &ctx) {
			if (!ctx.expect_args(min_args, 1000)) {
				return;
			}
			for (auto w : ctx.args) {
				(ctx.config.*m).emplace_back(w);
			}
		},
		[=](const Config &c, Lines &out) {
			if (has(c, info.name)) {
				std::string line(info.name);
				for (const auto &w : c.*m) {
					line += " " + w;
				}
				out.push_back(line);
			}
		}};
}

/// A directive handled by the file walker (include, confdir, sourcedir): its
/// files are inlined, so it prints nothing.
DirectiveDef walker(DirectiveInfo info)
{
	return {info, [](Ctx &) {}, [](const Config &, Lines &) {}};
}

/// An obsolete chronyd directive: accepted with any arguments and a warning.
DirectiveDef obsolete(DirectiveInfo info)
{
	return {info, [](Ctx &) {}, [](const Config &, Lines &) {}};
}

// ---------------------------------------------------------------------------
// Custom directives

void parse_source(Ctx &ctx, SourceKind kind)
{
	if (ctx.args.empty()) {
		ctx.error(fmt::format("{}: missing host name or address (usage: {})", ctx.def.info.name, ctx.def.info.usage));
		return;
	}
	SourceConfig s{.kind = kind, .host = std::string(ctx.args[0]), .origin = ctx.origin};
	// The options' grammar is shared with chronyc's `add` (conf/source_options.h).
	auto parsed = parse_source_options(std::span(ctx.args).subspan(1), {.directive = ctx.def.info.name}, s);
	for (auto &e : parsed.errors) {
		ctx.error(std::move(e));
	}
	if (!parsed.ok()) {
		return;
	}
	for (auto &w : parsed.warnings) {
		ctx.warning(std::move(w));
	}
	ctx.config.sources.push_back(std::move(s));
}

/// All sources, in file order, under the server entry (pool and peer print nothing).
void dump_sources(const Config &c, Lines &out, SourceKind kind)
{
	if (kind != SourceKind::Server) {
		return;
	}
	for (const auto &s : c.sources) {
		std::string_view name = s.kind == SourceKind::Server ? "server" : s.kind == SourceKind::Pool ? "pool" : "peer";
		out.push_back(fmt::format("{} {}{}", name, s.host, dump_source_options(s)));
	}
}

/// Checks a refclock parameter's ":option" list against its driver's.
bool check_refclock_parameter(Ctx &ctx, const std::string &driver, std::string_view parameter)
{
	auto parts = split(parameter, ':');
	size_t first_option = 1;
	std::vector<std::string_view> flags;
	std::vector<std::string_view> valued;  // "name=" options
	if (driver == "PPS") {
		flags = {"clear"};
	} else if (driver == "SHM") {
		valued = {"perm"};
		if (!to_int(parts[0]) || *to_int(parts[0]) < 0) {
			ctx.error(fmt::format("refclock SHM: '{}' is not a segment number", parts[0]));
			return false;
		}
	} else if (driver == "SOCK") {
		first_option = parts.size();  // a path; ':' has no meaning in it
	} else if (driver == "PHC") {
		flags = {"nocrossts", "extpps", "clear"};
		valued = {"pin", "channel"};
	} else if (driver == "RTC") {
		flags = {"utc"};
	} else if (driver == "GPIO") {
		// chip:line[:rising|:falling|:both]
		if (parts.size() < 2 || parts[1].empty()) {
			ctx.error(fmt::format("refclock GPIO: '{}' needs CHIP:LINE (e.g. gpiochip0:18)", parameter));
			return false;
		}
		first_option = 2;
		flags = {"rising", "falling", "both"};
	}
	if (parts[0].empty()) {
		ctx.error(fmt::format("refclock {}: missing device in '{}'", driver, parameter));
		return false;
	}
	for (size_t i = first_option; i < parts.size(); i++) {
		std::string_view opt = parts[i];
		auto eq = opt.find('=');
		std::string_view key = opt.substr(0, eq);
		bool known = false;
		if (eq == std::string_view::npos) {
			known = std::any_of(flags.begin(), flags.end(), [&](auto f) { return iequals(f, key); });
		} else {
			known = std::any_of(valued.begin(), valued.end(), [&](auto f) { return iequals(f, key); });
			if (known) {
				std::string_view value = opt.substr(eq + 1);
				bool octal = driver == "SHM";
				bool valid = !value.empty() && std::all_of(value.begin(), value.end(), [&](char ch) {
					return octal ? (ch >= '0' && ch <= '7') : std::isdigit(static_cast<unsigned char>(ch)) != 0;
				});
				if (!valid) {
					ctx.error(fmt::format("refclock {}: invalid value in '{}'", driver, opt));
					return false;
				}
			}
		}
		if (!known) {
			std::vector<std::string_view> all = flags;
			all.insert(all.end(), valued.begin(), valued.end());
			ctx.error(fmt::format("refclock {}: unknown option '{}' in '{}'{}", driver, opt, parameter,
					      did_you_mean(key, all, [](std::string_view s) { return s; })));
			return false;
		}
	}
	return true;
}

void parse_refclock(Ctx &ctx)
{
	if (ctx.args.size() < 2) {
		ctx.error(fmt::format("refclock: missing {} (usage: {})", ctx.args.empty() ? "driver" : "parameter",
				      ctx.def.info.usage));
		return;
	}
	static constexpr std::string_view kDrivers[] = {"PPS", "SHM", "SOCK", "PHC", "RTC", "GPIO"};
	std::string driver;
	for (auto d : kDrivers) {
		if (iequals(d, ctx.args[0])) {
			driver = std::string(d);
		}
	}
	if (driver.empty()) {
		ctx.error(fmt::format("refclock: unknown driver '{}' (known: PPS, SHM, SOCK, PHC, RTC, GPIO){}", ctx.args[0],
				      did_you_mean(ctx.args[0], kDrivers, [](std::string_view s) { return s; })));
		return;
	}
	RefclockConfig r{.driver = driver, .parameter = std::string(ctx.args[1]), .origin = ctx.origin};
	if (!check_refclock_parameter(ctx, driver, ctx.args[1]) || !parse_options(ctx, 2, r, refclock_options())) {
		return;
	}
	ctx.config.refclocks.push_back(std::move(r));
}

DirectiveDef custom(DirectiveInfo info, std::function<void(Ctx &)> parse,
		    std::function<void(const Config &, Lines &)> dump)
{
	return {info, std::move(parse), std::move(dump)};
}

std::vector<DirectiveDef> build_table()
{
	using C = Config;
	using S = Status;
	constexpr std::string_view kSources = "Time sources";
	constexpr std::string_view kSelection = "Source selection";
	constexpr std::string_view kClock = "System clock";
	constexpr std::string_view kServer = "NTP server";
	constexpr std::string_view kCmd = "Command and monitoring access";
	constexpr std::string_view kRtc = "Real-time clock";
	constexpr std::string_view kLog = "Logging";
	constexpr std::string_view kMisc = "Miscellaneous";
	constexpr std::string_view kObsolete = "Obsolete";

	std::vector<DirectiveDef> t;
	// Time sources
	for (auto [name, kind] : {std::pair{"server", SourceKind::Server}, std::pair{"pool", SourceKind::Pool},
				  std::pair{"peer", SourceKind::Peer}}) {
		std::string_view n = name;
		SourceKind k = kind;
		std::string_view usage = k == SourceKind::Server ? "server HOST [OPTION]..."
					 : k == SourceKind::Pool ? "pool NAME [OPTION]..."
								 : "peer HOST [OPTION]...";
		t.push_back(custom({n, kSources, S::Supported, usage},
				   [k](Ctx &ctx) { parse_source(ctx, k); },
				   [k](const C &c, Lines &out) { dump_sources(c, out, k); }));
	}
	t.push_back(custom(
		{"initstepslew", kSources, S::Supported, "initstepslew THRESHOLD HOST..."},
		[](Ctx &ctx) {
			if (!ctx.expect_args(2, 1000)) {
				return;
			}
			auto threshold = ctx.real("initstepslew threshold", ctx.args[0], 0, kHuge);
			if (!threshold) {
				return;
			}
			InitStepSlew s{.threshold_s = *threshold};
			for (size_t i = 1; i < ctx.args.size(); i++) {
				s.hosts.emplace_back(ctx.args[i]);
			}
			ctx.config.initstepslew = s;
		},
		[](const C &c, Lines &out) {
			if (c.initstepslew) {
				std::string line = "initstepslew " + real_text(c.initstepslew->threshold_s);
				for (const auto &h : c.initstepslew->hosts) {
					line += " " + h;
				}
				out.push_back(line);
			}
		}));
	t.push_back(custom({"refclock", kSources, S::Supported, "refclock DRIVER PARAMETER[:OPTION]... [OPTION]..."},
			   parse_refclock, [](const C &c, Lines &out) {
				   for (const auto &r : c.refclocks) {
					   out.push_back(fmt::format("refclock {} {}{}", r.driver, r.parameter,
								     dump_options(r, refclock_options())));
				   }
			   }));
	t.push_back(flag({"manual", kSources, S::NotYet, "manual"}, &C::manual));
	t.push_back(integer({"acquisitionport", kSources, S::NotYet, "acquisitionport PORT"}, &C::acquisitionport, 0, 65535));
	t.push_back(custom(
		{"bindacqaddress", kSources, S::NotYet, "bindacqaddress ADDRESS"},
		[](Ctx &ctx) {
			if (!ctx.expect_args(1, 1)) {
				return;
			}
			auto a = IpAddress::parse(ctx.args[0]);
			if (!a) {
				ctx.error(fmt::format("bindacqaddress: invalid address '{}'", ctx.args[0]));
				return;
			}
			auto &list = ctx.config.bindacqaddress;
			std::erase_if(list, [&](const IpAddress &x) { return x.is_v4() == a->is_v4(); });
			list.push_back(*a);
		},
		[](const C &c, Lines &out) {
			for (const auto &a : c.bindacqaddress) {
				out.push_back("bindacqaddress " + a.to_string());
			}
		}));
	t.push_back(text({"bindacqdevice", kSources, S::NotYet, "bindacqdevice INTERFACE"}, &C::bindacqdevice));
	t.push_back(integer({"dscp", kSources, S::NotYet, "dscp POINT"}, &C::dscp, 0, 63));
	t.push_back(text({"dumpdir", kSources, S::Supported, "dumpdir DIRECTORY"}, &C::dumpdir));
	t.push_back(integer({"maxsamples", kSources, S::Supported, "maxsamples SAMPLES"}, &C::maxsamples, 0, kIntMax));
	t.push_back(integer({"minsamples", kSources, S::Supported, "minsamples SAMPLES"}, &C::minsamples, 0, kIntMax));
	t.push_back(custom(
		{"ntsaeads", kSources, S::NotYet, "ntsaeads ID..."},
		[](Ctx &ctx) {
			if (!ctx.expect_args(1, 16)) {
				return;
			}
			std::vector<int> ids;
			for (auto a : ctx.args) {
				auto v = ctx.integer("ntsaeads", a, 1, 65535);
				if (!v) {
					return;
				}
				ids.push_back(static_cast<int>(*v));
			}
			ctx.config.ntsaeads = ids;
		},
		[](const C &c, Lines &out) {
			if (!c.ntsaeads.empty()) {
				out.push_back(fmt::format("ntsaeads {}", fmt::join(c.ntsaeads, " ")));
			}
		}));
	t.push_back(text({"ntsdumpdir", kSources, S::NotYet, "ntsdumpdir DIRECTORY"}, &C::ntsdumpdir));
	t.push_back(integer({"ntsrefresh", kSources, S::NotYet, "ntsrefresh INTERVAL"}, &C::ntsrefresh_s, 0, kIntMax));
	t.push_back(custom(
		{"ntstrustedcerts", kSources, S::NotYet, "ntstrustedcerts [SET-ID] FILE|DIRECTORY"},
		[](Ctx &ctx) {
			if (!ctx.expect_args(1, 2)) {
				return;
			}
			TrustedCerts tc;
			if (ctx.args.size() == 2) {
				auto set = ctx.integer("ntstrustedcerts set", ctx.args[0], 0, kIntMax);
				if (!set) {
					return;
				}
				tc.set = static_cast<int>(*set);
			}
			tc.path = std::string(ctx.args.back());
			ctx.config.ntstrustedcerts.push_back(tc);
		},
		[](const C &c, Lines &out) {
			for (const auto &tc : c.ntstrustedcerts) {
				out.push_back(tc.set == 0 ? "ntstrustedcerts " + tc.path
							  : fmt::format("ntstrustedcerts {} {}", tc.set, tc.path));
			}
		}));
	t.push_back(flag({"nosystemcert", kSources, S::NotYet, "nosystemcert"}, &C::nosystemcert));
	t.push_back(integer({"nocerttimecheck", kSources, S::NotYet, "nocerttimecheck LIMIT"}, &C::nocerttimecheck, 0, kIntMax));
	t.push_back(integer({"refresh", kSources, S::NotYet, "refresh INTERVAL"}, &C::refresh_s, 0, kIntMax));

	// Source selection
	t.push_back(choice({"authselectmode", kSelection, S::Supported, "authselectmode require|prefer|mix|ignore"},
			   &C::authselectmode, {"require", "prefer", "mix", "ignore"}));
	t.push_back(real({"combinelimit", kSelection, S::Supported, "combinelimit LIMIT"}, &C::combinelimit, 0, kHuge));
	t.push_back(real({"maxdistance", kSelection, S::Supported, "maxdistance DISTANCE"}, &C::maxdistance_s, 0, kHuge));
	t.push_back(real({"maxjitter", kSelection, S::Supported, "maxjitter JITTER"}, &C::maxjitter_s, 0, kHuge));
	t.push_back(integer({"maxstratum", kSelection, S::NotYet, "maxstratum STRATUM"}, &C::maxstratum, 0, 15));
	t.push_back(integer({"minstratum", kSelection, S::NotYet, "minstratum STRATUM"}, &C::minstratum, 0, 15));
	t.push_back(integer({"minsources", kSelection, S::Supported, "minsources SOURCES"}, &C::minsources, 1, kIntMax));
	t.push_back(real({"reselectdist", kSelection, S::Supported, "reselectdist DISTANCE"}, &C::reselectdist_s, 0, kHuge));
	t.push_back(real({"stratumweight", kSelection, S::Supported, "stratumweight DISTANCE"}, &C::stratumweight_s, 0, kHuge));

	// System clock
	t.push_back(real({"clockprecision", kClock, S::Supported, "clockprecision PRECISION"}, &C::clockprecision_s, 1e-9, 1));
	t.push_back(real({"corrtimeratio", kClock, S::Supported, "corrtimeratio RATIO"}, &C::corrtimeratio, 0, kHuge));
	t.push_back(custom(
		{"driftfile", kClock, S::Supported, "driftfile FILE [interval INTERVAL]"},
		[](Ctx &ctx) {
			if (ctx.args.size() != 1 && ctx.args.size() != 3) {
				ctx.expect_args(1, ctx.args.size() < 1 ? 1 : 3);
				if (ctx.args.size() == 2) {
					ctx.error(fmt::format("driftfile: option '{}' needs a value", ctx.args[1]));
				}
				return;
			}
			DriftFile d{.path = std::string(ctx.args[0])};
			if (ctx.args.size() == 3) {
				if (!iequals(ctx.args[1], "interval")) {
					ctx.error(fmt::format("unknown option '{}' in driftfile directive{}", ctx.args[1],
							      did_you_mean(ctx.args[1], std::vector<std::string_view>{"interval"},
									   [](std::string_view s) { return s; })));
					return;
				}
				auto v = ctx.integer("interval", ctx.args[2], 0, kIntMax);
				if (!v) {
					return;
				}
				d.interval_s = static_cast<int>(*v);
			}
			ctx.config.driftfile = d;
		},
		[](const C &c, Lines &out) {
			if (c.driftfile) {
				out.push_back(c.driftfile->interval_s == DriftFile{}.interval_s
						      ? "driftfile " + c.driftfile->path
						      : fmt::format("driftfile {} interval {}", c.driftfile->path,
								    c.driftfile->interval_s));
			}
		}));
	t.push_back(custom(
		{"fallbackdrift", kClock, S::Supported, "fallbackdrift MIN-INTERVAL MAX-INTERVAL"},
		[](Ctx &ctx) {
			if (!ctx.expect_args(2, 2)) {
				return;
			}
			auto lo = ctx.integer("fallbackdrift min", ctx.args[0], 0, 30);
			auto hi = ctx.integer("fallbackdrift max", ctx.args[1], 0, 30);
			if (lo && hi) {
				ctx.config.fallbackdrift = FallbackDrift{static_cast<int>(*lo), static_cast<int>(*hi)};
			}
		},
		[](const C &c, Lines &out) {
			if (c.fallbackdrift) {
				out.push_back(fmt::format("fallbackdrift {} {}", c.fallbackdrift->min_log2, c.fallbackdrift->max_log2));
			}
		}));
	t.push_back(choice({"leapsecmode", kClock, S::Supported, "leapsecmode system|slew|step|ignore"}, &C::leapsecmode,
			   {"system", "slew", "step", "ignore"}));
	t.push_back(text({"leapsectz", kClock, S::Supported, "leapsectz TIMEZONE"}, &C::leapsectz));
	t.push_back(text({"leapseclist", kClock, S::Supported, "leapseclist FILE"}, &C::leapseclist));
	t.push_back(custom(
		{"makestep", kClock, S::Supported, "makestep THRESHOLD LIMIT"},
		[](Ctx &ctx) {
			if (!ctx.expect_args(2, 2)) {
				return;
			}
			auto threshold = ctx.real("makestep threshold", ctx.args[0], 0, kHuge);
			auto limit = ctx.integer("makestep limit", ctx.args[1], -kIntMax, kIntMax);
			if (threshold && limit) {
				ctx.config.makestep = MakeStep{*threshold, static_cast<int>(*limit)};
			}
		},
		[](const C &c, Lines &out) {
			if (c.makestep) {
				out.push_back(fmt::format("makestep {} {}", real_text(c.makestep->threshold_s), c.makestep->limit));
			}
		}));
	t.push_back(custom(
		{"maxchange", kClock, S::Supported, "maxchange OFFSET START IGNORE"},
		[](Ctx &ctx) {
			if (!ctx.expect_args(3, 3)) {
				return;
			}
			auto offset = ctx.real("maxchange offset", ctx.args[0], 0, kHuge);
			auto start = ctx.integer("maxchange start", ctx.args[1], 0, kIntMax);
			auto ignore = ctx.integer("maxchange ignore", ctx.args[2], -1, kIntMax);
			if (offset && start && ignore) {
				ctx.config.maxchange = MaxChange{*offset, static_cast<int>(*start), static_cast<int>(*ignore)};
			}
		},
		[](const C &c, Lines &out) {
			if (c.maxchange) {
				out.push_back(fmt::format("maxchange {} {} {}", real_text(c.maxchange->offset_s), c.maxchange->start,
							  c.maxchange->ignore));
			}
		}));
	t.push_back(real({"maxclockerror", kClock, S::Supported, "maxclockerror ERROR-IN-PPM"}, &C::maxclockerror_ppm, 0, kHuge));
	t.push_back(real({"maxdrift", kClock, S::Supported, "maxdrift DRIFT-IN-PPM"}, &C::maxdrift_ppm, 0, kHuge));
	t.push_back(real({"maxupdateskew", kClock, S::Supported, "maxupdateskew SKEW-IN-PPM"}, &C::maxupdateskew_ppm, 0, kHuge));
	t.push_back(real({"maxslewrate", kClock, S::Supported, "maxslewrate RATE-IN-PPM"}, &C::maxslewrate_ppm, 0, kHuge));
	t.push_back(custom(
		{"tempcomp", kClock, S::NotYet, "tempcomp FILE INTERVAL T0 K0 K1 K2 | tempcomp FILE INTERVAL POINTS-FILE"},
		[](Ctx &ctx) {
			if (ctx.args.size() != 3 && ctx.args.size() != 6) {
				ctx.error(fmt::format("tempcomp: expected 3 or 6 arguments, got {} (usage: {})", ctx.args.size(),
						      ctx.def.info.usage));
				return;
			}
			TempComp tc{.sensor_file = std::string(ctx.args[0])};
			auto interval = ctx.real("tempcomp interval", ctx.args[1], 0, kHuge);
			if (!interval) {
				return;
			}
			tc.interval_s = *interval;
			if (ctx.args.size() == 3) {
				tc.points_file = std::string(ctx.args[2]);
			} else {
				double *coefficients[] = {&tc.t0, &tc.k0, &tc.k1, &tc.k2};
				for (size_t i = 0; i < 4; i++) {
					auto v = ctx.real("tempcomp coefficient", ctx.args[2 + i], -kHuge, kHuge);
					if (!v) {
						return;
					}
					*coefficients[i] = *v;
				}
			}
			ctx.config.tempcomp = tc;
		},
		[](const C &c, Lines &out) {
			if (!c.tempcomp) {
				return;
			}
			const auto &tc = *c.tempcomp;
			out.push_back(!tc.points_file.empty()
					      ? fmt::format("tempcomp {} {} {}", tc.sensor_file, real_text(tc.interval_s), tc.points_file)
					      : fmt::format("tempcomp {} {} {} {} {} {}", tc.sensor_file, real_text(tc.interval_s),
							    real_text(tc.t0), real_text(tc.k0), real_text(tc.k1), real_text(tc.k2)));
		}));

	// NTP server
	t.push_back(access({"allow", kServer, S::Supported, "allow [all] [SUBNET]"}, true, &C::ntp_access, "deny"));
	t.push_back(access({"deny", kServer, S::Supported, "deny [all] [SUBNET]"}, false, &C::ntp_access));
	t.push_back(address_pair({"bindaddress", kServer, S::Supported, "bindaddress ADDRESS"}, &C::bindaddress_v4,
				 &C::bindaddress_v6));
	t.push_back(text({"binddevice", kServer, S::Supported, "binddevice INTERFACE"}, &C::binddevice));
	t.push_back(custom(
		{"broadcast", kServer, S::NotYet, "broadcast INTERVAL ADDRESS [PORT]"},
		[](Ctx &ctx) {
			if (!ctx.expect_args(2, 3)) {
				return;
			}
			auto interval = ctx.integer("broadcast interval", ctx.args[0], 1, kIntMax);
			auto address = IpAddress::parse(ctx.args[1]);
			if (!address) {
				ctx.error(fmt::format("broadcast: invalid address '{}'", ctx.args[1]));
				return;
			}
			Broadcast b{.interval_s = interval ? static_cast<int>(*interval) : 0, .address = *address};
			if (ctx.args.size() == 3) {
				auto port = ctx.integer("broadcast port", ctx.args[2], 1, 65535);
				if (!port) {
					return;
				}
				b.port = static_cast<int>(*port);
			}
			if (interval) {
				ctx.config.broadcasts.push_back(b);
			}
		},
		[](const C &c, Lines &out) {
			for (const auto &b : c.broadcasts) {
				out.push_back(fmt::format("broadcast {} {} {}", b.interval_s, b.address.to_string(), b.port));
			}
		}));
	t.push_back(integer({"clientloglimit", kServer, S::Supported, "clientloglimit MEMORY-IN-BYTES"},
			    &C::clientloglimit_bytes, 0, int64_t{1} << 40));
	t.push_back(flag({"noclientlog", kServer, S::Supported, "noclientlog"}, &C::noclientlog));
	t.push_back(custom(
		{"local", kServer, S::Supported,
		 "local [stratum STRATUM] [orphan] [distance DISTANCE] [activate DISTANCE] [waitsynced DELAY] "
		 "[waitunsynced DELAY]"},
		[](Ctx &ctx) {
			LocalConfig l;
			if (parse_options(ctx, 0, l, local_options())) {
				ctx.config.local = l;
			}
		},
		[](const C &c, Lines &out) {
			if (c.local) {
				out.push_back("local" + dump_options(*c.local, local_options()));
			}
		}));
	t.push_back(text({"ntpsigndsocket", kServer, S::NotYet, "ntpsigndsocket DIRECTORY"}, &C::ntpsigndsocket));
	t.push_back(integer({"ntsport", kServer, S::NotYet, "ntsport PORT"}, &C::ntsport, 0, 65535));
	t.push_back(words({"ntsservercert", kServer, S::NotYet, "ntsservercert FILE"}, &C::ntsservercert, 1));
	t.push_back(words({"ntsserverkey", kServer, S::NotYet, "ntsserverkey FILE"}, &C::ntsserverkey, 1));
	t.push_back(integer({"ntsprocesses", kServer, S::NotYet, "ntsprocesses PROCESSES"}, &C::ntsprocesses, 0, 1000));
	t.push_back(integer({"maxntsconnections", kServer, S::NotYet, "maxntsconnections CONNECTIONS"},
			    &C::maxntsconnections, 1, kIntMax));
	t.push_back(text({"ntsntpserver", kServer, S::NotYet, "ntsntpserver HOSTNAME"}, &C::ntsntpserver));
	t.push_back(integer({"ntsrotate", kServer, S::NotYet, "ntsrotate INTERVAL"}, &C::ntsrotate_s, 0, kIntMax));
	t.push_back(integer({"port", kServer, S::Supported, "port PORT"}, &C::port, 0, 65535));
	t.push_back(ratelimit({"ratelimit", kServer, S::Supported, "ratelimit [interval INTERVAL] [burst BURST] [leak LEAK] [kod KOD]"},
			      true, &C::ratelimit, nullptr));
	t.push_back(ratelimit({"ntsratelimit", kServer, S::NotYet, "ntsratelimit [interval INTERVAL] [burst BURST] [leak LEAK]"},
			      false, nullptr, &C::ntsratelimit));
	t.push_back(custom(
		{"smoothtime", kServer, S::NotYet, "smoothtime MAX-FREQ MAX-WANDER [leaponly]"},
		[](Ctx &ctx) {
			if (!ctx.expect_args(2, 3)) {
				return;
			}
			auto freq = ctx.real("smoothtime max-freq", ctx.args[0], 0, kHuge);
			auto wander = ctx.real("smoothtime max-wander", ctx.args[1], 0, kHuge);
			bool leaponly = false;
			if (ctx.args.size() == 3) {
				if (!iequals(ctx.args[2], "leaponly")) {
					ctx.error(fmt::format("unknown option '{}' in smoothtime directive", ctx.args[2]));
					return;
				}
				leaponly = true;
			}
			if (freq && wander) {
				ctx.config.smoothtime = SmoothTime{*freq, *wander, leaponly};
			}
		},
		[](const C &c, Lines &out) {
			if (c.smoothtime) {
				out.push_back(fmt::format("smoothtime {} {}{}", real_text(c.smoothtime->max_freq_ppm),
							  real_text(c.smoothtime->max_wander_ppm_per_s),
							  c.smoothtime->leaponly ? " leaponly" : ""));
			}
		}));
	t.push_back(integer({"serverthreads", kServer, S::StrataOnly, "serverthreads THREADS"}, &C::serverthreads, 1, 64));
	t.push_back(integer({"serverbatchdelay", kServer, S::StrataOnly, "serverbatchdelay MICROSECONDS"},
			    &C::serverbatchdelay_us, 0, 10000));

	// Command and monitoring access
	t.push_back(address_pair({"bindcmdaddress", kCmd, S::Supported, "bindcmdaddress ADDRESS|PATH"}, &C::bindcmdaddress_v4,
				 &C::bindcmdaddress_v6, &C::bindcmdpath));
	t.push_back(text({"bindcmddevice", kCmd, S::NotYet, "bindcmddevice INTERFACE"}, &C::bindcmddevice));
	t.push_back(access({"cmdallow", kCmd, S::Supported, "cmdallow [all] [SUBNET]"}, true, &C::cmd_access, "cmddeny"));
	t.push_back(access({"cmddeny", kCmd, S::Supported, "cmddeny [all] [SUBNET]"}, false, &C::cmd_access));
	t.push_back(integer({"cmdport", kCmd, S::Supported, "cmdport PORT"}, &C::cmdport, 0, 65535));
	t.push_back(text({"cmdsocketgroup", kCmd, S::StrataOnly, "cmdsocketgroup GROUP"}, &C::cmdsocketgroup));
	t.push_back(octal_mode({"cmdsocketmode", kCmd, S::StrataOnly, "cmdsocketmode MODE"}, &C::cmdsocketmode));
	t.push_back(ratelimit({"cmdratelimit", kCmd, S::Supported, "cmdratelimit [interval INTERVAL] [burst BURST] [leak LEAK]"},
			      false, nullptr, &C::cmdratelimit));
	t.push_back(words({"opencommands", kCmd, S::NotYet, "opencommands COMMAND..."}, &C::opencommands, 0));
	t.push_back(custom(
		{"metricsaddress", kCmd, S::StrataOnly, "metricsaddress ADDRESS:PORT"},
		[](Ctx &ctx) {
			if (!ctx.expect_args(1, 1)) {
				return;
			}
			// ADDRESS:PORT, the IPv6 address in brackets (its colons would
			// make the port ambiguous otherwise), as in URLs.
			std::string_view text = ctx.args[0];
			std::string_view host;
			std::string_view port;
			if (text.starts_with('[')) {
				auto close = text.find("]:");
				if (close != std::string_view::npos) {
					host = text.substr(1, close - 1);
					port = text.substr(close + 2);
				}
			} else if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
				host = text.substr(0, colon);
				port = text.substr(colon + 1);
			}
			auto address = IpAddress::parse(host);
			if (host.empty() || !address || (text.starts_with('[') == address->is_v4())) {
				ctx.error(fmt::format("metricsaddress: '{}' is not ADDRESS:PORT (e.g. 127.0.0.1:9123 or "
						      "[::1]:9123)",
						      text));
				return;
			}
			auto number = ctx.integer("metricsaddress port", port, 1, 65535);
			if (number) {
				ctx.config.metricsaddress = SocketAddress{*address, static_cast<uint16_t>(*number)};
			}
		},
		[](const C &c, Lines &out) {
			if (const auto &m = c.metricsaddress) {
				std::string host = m->address.to_string();
				out.push_back(fmt::format("metricsaddress {}:{}", m->address.is_v4() ? host : "[" + host + "]",
							  m->port));
			}
		}));

	t.push_back(access({"metricsallow", kCmd, S::StrataOnly, "metricsallow [all] [SUBNET]"}, true, &C::metrics_access,
			   "metricsdeny"));
	t.push_back(access({"metricsdeny", kCmd, S::StrataOnly, "metricsdeny [all] [SUBNET]"}, false, &C::metrics_access));

	// Real-time clock
	t.push_back(text({"hwclockfile", kRtc, S::Supported, "hwclockfile FILE"}, &C::hwclockfile));
	t.push_back(real({"rtcautotrim", kRtc, S::Supported, "rtcautotrim THRESHOLD"}, &C::rtcautotrim_s, 0, kHuge));
	t.push_back(text({"rtcdevice", kRtc, S::Supported, "rtcdevice DEVICE"}, &C::rtcdevice));
	t.push_back(text({"rtcfile", kRtc, S::Supported, "rtcfile FILE"}, &C::rtcfile));
	t.push_back(flag({"rtconutc", kRtc, S::Supported, "rtconutc"}, &C::rtconutc));
	t.push_back(flag({"rtcsync", kRtc, S::Supported, "rtcsync"}, &C::rtcsync));

	// Logging
	t.push_back(custom(
		{"log", kLog, S::Supported,
		 "log [measurements] [rawmeasurements] [statistics] [tracking] [rtc] [refclocks] [tempcomp] [selection]"},
		[](Ctx &ctx) {
			static const std::vector<std::string_view> kLogs = {"measurements", "rawmeasurements", "statistics",
									     "tracking",     "rtc",             "refclocks",
									     "tempcomp",     "selection"};
			for (auto w : ctx.args) {
				auto it = std::find_if(kLogs.begin(), kLogs.end(), [&](auto k) { return iequals(k, w); });
				if (it == kLogs.end()) {
					ctx.error(fmt::format("log: unknown log '{}'{}", w,
							      did_you_mean(w, kLogs, [](std::string_view s) { return s; })));
					return;
				}
				if (*it == "tempcomp") {
					ctx.warning("log: tempcomp is not supported by strata yet (no tempcomp); ignored");
				}
				ctx.config.log.insert(std::string(*it));
			}
		},
		[](const C &c, Lines &out) {
			if (!c.log.empty()) {
				out.push_back(fmt::format("log {}", fmt::join(c.log, " ")));
			}
		}));
	t.push_back(integer({"logbanner", kLog, S::Supported, "logbanner ENTRIES"}, &C::logbanner, 0, kIntMax));
	t.push_back(real({"logchange", kLog, S::Supported, "logchange THRESHOLD"}, &C::logchange_s, 0, kHuge));
	t.push_back(text({"logdir", kLog, S::Supported, "logdir DIRECTORY"}, &C::logdir));
	t.push_back(custom(
		{"mailonchange", kLog, S::NotYet, "mailonchange ADDRESS THRESHOLD"},
		[](Ctx &ctx) {
			if (!ctx.expect_args(2, 2)) {
				return;
			}
			if (auto v = ctx.real("mailonchange threshold", ctx.args[1], 0, kHuge)) {
				ctx.config.mailonchange = MailOnChange{std::string(ctx.args[0]), *v};
			}
		},
		[](const C &c, Lines &out) {
			if (c.mailonchange) {
				out.push_back(fmt::format("mailonchange {} {}", c.mailonchange->address,
							  real_text(c.mailonchange->threshold_s)));
			}
		}));

	// Miscellaneous
	t.push_back(walker({"confdir", kMisc, S::Supported, "confdir DIRECTORY..."}));
	t.push_back(walker({"sourcedir", kMisc, S::Supported, "sourcedir DIRECTORY..."}));
	t.push_back(walker({"include", kMisc, S::Supported, "include PATTERN"}));
	t.push_back(custom(
		{"hwtimestamp", kMisc, S::NotYet, "hwtimestamp INTERFACE|* [OPTION]..."},
		[](Ctx &ctx) {
			if (ctx.args.empty()) {
				ctx.error("hwtimestamp: missing interface (usage: hwtimestamp INTERFACE|* [OPTION]...)");
				return;
			}
			HwTimestamp h{.interface = std::string(ctx.args[0])};
			if (parse_options(ctx, 1, h, hwtimestamp_options())) {
				ctx.config.hwtimestamps.push_back(h);
			}
		},
		[](const C &c, Lines &out) {
			for (const auto &h : c.hwtimestamps) {
				out.push_back("hwtimestamp " + h.interface + dump_options(h, hwtimestamp_options()));
			}
		}));
	t.push_back(real({"hwtstimeout", kMisc, S::NotYet, "hwtstimeout TIMEOUT"}, &C::hwtstimeout_s, 0, kHuge));
	t.push_back(integer({"maxtxbuffers", kMisc, S::NotYet, "maxtxbuffers BUFFERS"}, &C::maxtxbuffers, 0, 1048576));
	t.push_back(text({"keyfile", kMisc, S::Supported, "keyfile FILE"}, &C::keyfile));
	t.push_back(flag({"lock_all", kMisc, S::Supported, "lock_all"}, &C::lock_all));
	t.push_back(custom(
		{"pidfile", kMisc, S::Supported, "pidfile FILE"},
		[](Ctx &ctx) {
			if (ctx.expect_args(1, 1)) {
				ctx.config.pidfile = ctx.args[0] == "/" ? std::string() : std::string(ctx.args[0]);
			}
		},
		[](const C &c, Lines &out) {
			if (has(c, "pidfile")) {
				out.push_back("pidfile " + (c.pidfile.empty() ? std::string("/") : c.pidfile));
			}
		}));
	t.push_back(integer({"ptpport", kMisc, S::NotYet, "ptpport PORT"}, &C::ptpport, 0, 65535));
	t.push_back(integer({"ptpdomain", kMisc, S::NotYet, "ptpdomain DOMAIN"}, &C::ptpdomain, 0, 255));
	t.push_back(integer({"sched_priority", kMisc, S::Supported, "sched_priority PRIORITY"}, &C::sched_priority, 0, 100));
	t.push_back(text({"user", kMisc, S::Supported, "user USER"}, &C::user));

	// Obsolete names chronyd still accepts
	for (std::string_view name : {"commandkey", "generatecommandkey", "linux_freq_scale", "linux_hz", "dumponexit"}) {
		t.push_back(obsolete({name, kObsolete, S::Obsolete, ""}));
	}
	// ntscachedir: the old name of ntsdumpdir.
	t.push_back(text({"ntscachedir", kObsolete, S::NotYet, "ntscachedir DIRECTORY"}, &C::ntsdumpdir));
	t.back().dump = [](const C &, Lines &) {};  // printed as ntsdumpdir
	return t;
}

const std::vector<DirectiveDef> &table()
{
	static const std::vector<DirectiveDef> t = build_table();
	return t;
}

const DirectiveDef *find(std::string_view name)
{
	for (const auto &d : table()) {
		if (iequals(d.info.name, name)) {
			return &d;
		}
	}
	return nullptr;
}

// ---------------------------------------------------------------------------
// The file walker

class Parser {
public:
	Parser(FileReader &files, LoadResult &result) : files_(files), result_(result) {}

	void diagnose(Diagnostic::Severity severity, const Origin &origin, std::string message)
	{
		result_.diagnostics.push_back({severity, origin.file, origin.line, std::move(message)});
	}

	/// Reads and parses one file. `from` is the including line, if any (errors
	/// reading the file are reported there).
	void parse_file(const std::string &path, const Origin *from, int depth, bool sources_only)
	{
		if (std::find(reading_.begin(), reading_.end(), path) != reading_.end()) {
			diagnose(Diagnostic::Severity::Error, from ? *from : Origin{path, 0},
				 fmt::format("include loop: {} is already being read", path));
			return;
		}
		auto text = files_.read(path);
		if (!text) {
			Origin where = from ? *from : Origin{path, 0};
			diagnose(Diagnostic::Severity::Error, where,
				 fmt::format("could not open {}file {}: {}", from ? "included " : "configuration ", path,
					     text.error().code.message()));
			return;
		}
		reading_.push_back(path);
		parse_text(*text, path, depth, sources_only);
		reading_.pop_back();
	}

	void parse_text(std::string_view text, const std::string &file, int depth, bool sources_only)
	{
		int number = 0;
		size_t pos = 0;
		while (pos < text.size()) {
			size_t end = text.find('\n', pos);
			std::string_view line = text.substr(pos, end == std::string_view::npos ? end : end - pos);
			pos = end == std::string_view::npos ? text.size() : end + 1;
			number++;
			parse_line(line, Origin{file, number}, depth, sources_only);
		}
	}

	void parse_line(std::string_view line, const Origin &origin, int depth, bool sources_only)
	{
		auto words = split_words(line);
		if (words.empty() || std::string_view("!;#%").find(words[0][0]) != std::string_view::npos) {
			return;
		}
		if (line.find('\0') != std::string_view::npos) {
			diagnose(Diagnostic::Severity::Error, origin, "line contains a NUL character");
			return;
		}
		const DirectiveDef *def = find(words[0]);
		if (def == nullptr) {
			diagnose(Diagnostic::Severity::Error, origin,
				 fmt::format("unknown directive '{}'{}", words[0],
					     did_you_mean(words[0], table(), [](const DirectiveDef &d) { return d.info.name; })));
			return;
		}
		const auto &name = def->info.name;
		if (sources_only && name != "server" && name != "pool" && name != "peer") {
			diagnose(Diagnostic::Severity::Error, origin,
				 fmt::format("'{}' is not allowed in a .sources file (only server, pool and peer)", name));
			return;
		}
		Ctx ctx{*this, result_.config, *def, origin, {words.begin() + 1, words.end()}};
		if (name == "include" || name == "confdir" || name == "sourcedir") {
			walk(ctx, depth);
			return;
		}
		size_t n_sources = result_.config.sources.size();
		def->parse(ctx);
		if (ctx.failed) {
			return;
		}
		if (sources_only && result_.config.sources.size() > n_sources) {
			result_.config.sources.back().from_sourcedir = true;
		}
		result_.config.present.insert(std::string(name));
		result_.config.origins[std::string(name)] = origin;
		if (def->info.status == Status::NotYet && warned_.insert(std::string(name)).second) {
			diagnose(Diagnostic::Severity::Warning, origin,
				 fmt::format("'{}' is not supported by strata yet; ignored", name));
		} else if (def->info.status == Status::Obsolete) {
			diagnose(Diagnostic::Severity::Warning, origin,
				 fmt::format("'{}' is obsolete and no longer supported; ignored", name));
		}
	}

private:
	void walk(Ctx &ctx, int depth)
	{
		std::string_view name = ctx.def.info.name;
		if (depth >= kMaxIncludeDepth) {
			ctx.error(fmt::format("{}: files nested more than {} deep (an include loop?)", name, kMaxIncludeDepth));
			return;
		}
		if (name == "include") {
			if (!ctx.expect_args(1, 1)) {
				return;
			}
			std::string pattern(ctx.args[0]);
			if (pattern.find_first_of("*?[") == std::string::npos) {
				// A plain path must exist: a missing include is a mistake.
				parse_file(pattern, &ctx.origin, depth + 1, false);
				return;
			}
			auto paths = files_.glob(pattern);
			if (!paths) {
				ctx.error(fmt::format("include: {}", paths.error().message()));
				return;
			}
			for (const auto &p : *paths) {
				parse_file(p, &ctx.origin, depth + 1, false);
			}
			return;
		}
		bool sources = name == "sourcedir";
		std::string suffix = sources ? ".sources" : ".conf";
		if (!ctx.expect_args(1, kMaxConfdirDirectories)) {
			return;
		}
		if (sources) {
			result_.config.sourcedirs.emplace_back(ctx.args.begin(), ctx.args.end());
		}
		// File name → first directory holding it; files in name order.
		std::map<std::string, std::string> chosen;
		for (auto dir : ctx.args) {
			auto names = files_.list_directory(std::string(dir));
			if (!names) {
				continue;  // a missing directory is fine (e.g. /run/chrony-dhcp)
			}
			for (const auto &n : *names) {
				if (n.size() > suffix.size() && n.ends_with(suffix) && !chosen.count(n)) {
					std::string path(dir);
					if (!path.ends_with('/')) {
						path += '/';
					}
					chosen.emplace(n, path + n);
				}
			}
		}
		for (const auto &[n, path] : chosen) {
			parse_file(path, &ctx.origin, depth + 1, sources);
		}
	}

	FileReader &files_;
	LoadResult &result_;
	std::set<std::string> warned_;
	std::vector<std::string> reading_;  ///< files being parsed, outermost first
};

void Ctx::error(std::string message)
{
	failed = true;
	parser.diagnose(Diagnostic::Severity::Error, origin, std::move(message));
}

void Ctx::warning(std::string message)
{
	parser.diagnose(Diagnostic::Severity::Warning, origin, std::move(message));
}

bool Ctx::expect_args(size_t min, size_t max)
{
	if (args.size() < min) {
		error(fmt::format("{}: missing argument (usage: {})", def.info.name, def.info.usage));
		return false;
	}
	if (args.size() > max) {
		error(max == 0 ? fmt::format("{} takes no arguments", def.info.name)
			       : fmt::format("{}: unexpected '{}' (usage: {})", def.info.name, args[max], def.info.usage));
		return false;
	}
	return true;
}

/// Checks that need the whole configuration (chronyd refuses these too).
void validate(LoadResult &result)
{
	const Config &c = result.config;
	auto error_at = [&](const Origin &o, std::string message) {
		result.diagnostics.push_back({Diagnostic::Severity::Error, o.file, o.line, std::move(message)});
	};
	if (c.rtcsync && !c.rtcfile.empty()) {
		error_at(c.origins.at("rtcsync"), "rtcsync cannot be used together with rtcfile");
	}
	// The RTC refclock reads the RTC that rtcfile tracks and trims and that
	// rtcsync has the kernel set (chronyd refuses it too).
	for (const auto &r : c.refclocks) {
		if (r.driver == "RTC" && (c.rtcsync || !c.rtcfile.empty())) {
			error_at(r.origin, fmt::format("refclock RTC cannot be used together with {}",
						       c.rtcsync ? "rtcsync" : "rtcfile"));
		}
	}
	// A refclock's refid defaults to its driver's first three letters and its
	// index among the refclocks ("SHM0", "PPS1"), as in chronyd.
	std::vector<std::string> refids;
	for (size_t i = 0; i < c.refclocks.size(); i++) {
		const auto &r = c.refclocks[i];
		refids.push_back(!r.refid.empty() ? r.refid : fmt::format("{}{}", r.driver.substr(0, 3), i));
	}
	for (const auto &r : c.refclocks) {
		if (!r.lock.empty() && std::find(refids.begin(), refids.end(), r.lock) == refids.end()) {
			error_at(r.origin, fmt::format("refclock {}: lock '{}' names no refclock's refid", r.parameter, r.lock));
		}
	}
}

} // namespace

std::string Diagnostic::to_string() const
{
	std::string where = line > 0 ? fmt::format("{}:{}: ", file, line) : fmt::format("{}: ", file);
	return where + (severity == Severity::Warning ? "warning: " : "") + message;
}

bool LoadResult::ok() const
{
	return std::none_of(diagnostics.begin(), diagnostics.end(),
			    [](const Diagnostic &d) { return d.severity == Diagnostic::Severity::Error; });
}

LoadResult load(FileReader &files, const std::string &path, const std::vector<std::string> &command_line_directives)
{
	LoadResult result;
	Parser parser(files, result);
	if (command_line_directives.empty()) {
		parser.parse_file(path, nullptr, 0, false);
	} else {
		int number = 0;
		for (const auto &line : command_line_directives) {
			parser.parse_line(line, Origin{"command line", ++number}, 0, false);
		}
	}
	validate(result);
	return result;
}

LoadResult load_sourcedirs(FileReader &files, const std::vector<std::vector<std::string>> &sourcedirs)
{
	std::string text;
	for (const auto &dirs : sourcedirs) {
		text += "sourcedir";
		for (const auto &d : dirs) {
			text += " " + d;
		}
		text += "\n";
	}
	return load_text(files, text, "reload sources");
}

LoadResult load_text(FileReader &files, std::string_view text, const std::string &file_name)
{
	LoadResult result;
	Parser parser(files, result);
	parser.parse_text(text, file_name, 0, false);
	validate(result);
	return result;
}

std::string dump(const Config &config)
{
	Lines lines;
	for (const auto &d : table()) {
		d.dump(config, lines);
	}
	std::string out;
	for (const auto &l : lines) {
		out += l;
		out += '\n';
	}
	return out;
}

std::string_view to_string(Status status)
{
	switch (status) {
	case Status::Supported:
		return "supported";
	case Status::NotYet:
		return "not yet";
	case Status::Obsolete:
		return "obsolete";
	case Status::StrataOnly:
		return "strata only";
	}
	return "?";
}

std::span<const DirectiveInfo> directive_infos()
{
	static const std::vector<DirectiveInfo> infos = [] {
		std::vector<DirectiveInfo> v;
		for (const auto &d : table()) {
			v.push_back(d.info);
		}
		return v;
	}();
	return infos;
}

} // namespace strata::conf
