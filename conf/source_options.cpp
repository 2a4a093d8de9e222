#include "conf/source_options.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <type_traits>

#include <fmt/format.h>

#include "conf/values.h"
#include "core/text.h"

namespace strata::conf {

namespace {

using S = SourceConfig;

constexpr double kIntMax = std::numeric_limits<int>::max();
constexpr double kUint32Max = std::numeric_limits<uint32_t>::max();
constexpr double kHuge = 1e12;

SourceOption flag(std::string_view name, bool S::*member, AddFlag wire = AddFlag::None, bool cleared = false)
{
	return {.name = name,
		.kind = OptionKind::Flag,
		.member = member,
		.wire = {.flag = wire, .flag_cleared = cleared}};
}

template <class M>
SourceOption integer(std::string_view name, M S::*member, double lo, double hi, AddField field = AddField::None,
		     double unset = 0)
{
	return {.name = name,
		.kind = OptionKind::Integer,
		.lo = lo,
		.hi = hi,
		.member = member,
		.wire = {.field = field, .unset = unset}};
}

template <class M>
SourceOption real(std::string_view name, M S::*member, double lo, double hi, AddField field, double unset)
{
	return {.name = name,
		.kind = OptionKind::Real,
		.lo = lo,
		.hi = hi,
		.member = member,
		.wire = {.field = field, .unset = unset}};
}

// The ranges are strata's (chronyd takes any number and clamps some);
// `unset` is what chronyc 4.3 sends for an option not given (srcparams.h).
// The order is the canonical dump's: tests/golden expects it.
const std::vector<SourceOption> &options()
{
	static const std::vector<SourceOption> table = {
		integer("minpoll", &S::minpoll_log2, -7, 24, AddField::Minpoll, 6),
		integer("maxpoll", &S::maxpoll_log2, -7, 24, AddField::Maxpoll, 10),
		flag("iburst", &S::iburst, AddFlag::Iburst),
		flag("burst", &S::burst, AddFlag::Burst),
		integer("key", &S::key, 1, kUint32Max, AddField::Authkey, 0),
		flag("nts", &S::nts, AddFlag::Nts),
		integer("certset", &S::certset, 0, kIntMax, AddField::CertSet, 0),
		real("maxdelay", &S::maxdelay_s, 0, kHuge, AddField::MaxDelay, 3.0),
		real("maxdelayratio", &S::maxdelayratio, 0, kHuge, AddField::MaxDelayRatio, 0.0),
		real("maxdelaydevratio", &S::maxdelaydevratio, 0, kHuge, AddField::MaxDelayDevRatio, 10.0),
		real("maxdelayquant", &S::maxdelayquant, 0, 1, AddField::MaxDelayQuant, 0.0),
		real("mindelay", &S::mindelay_s, 0, kHuge, AddField::MinDelay, 0.0),
		// chronyc's 1.0 (outside ±0.5) means "estimate it".
		real("asymmetry", &S::asymmetry, -0.5, 0.5, AddField::Asymmetry, 1.0),
		real("offset", &S::offset_s, -kHuge, kHuge, AddField::Offset, 0.0),
		integer("minsamples", &S::minsamples, 0, kIntMax, AddField::MinSamples, -1),
		integer("maxsamples", &S::maxsamples, 0, kIntMax, AddField::MaxSamples, -1),
		integer("maxunreach", &S::maxunreach, 0, kIntMax),  // newer than chrony 4.3: not in its request
		integer("filter", &S::filter, 0, kIntMax, AddField::FilterLength, 0),
		flag("offline", &S::offline, AddFlag::Online, true),
		flag("auto_offline", &S::auto_offline, AddFlag::AutoOffline),
		flag("prefer", &S::prefer, AddFlag::Prefer),
		flag("noselect", &S::noselect, AddFlag::Noselect),
		flag("trust", &S::trust, AddFlag::Trust),
		flag("require", &S::require, AddFlag::Require),
		flag("xleave", &S::xleave, AddFlag::Interleaved),
		integer("polltarget", &S::polltarget, 1, kIntMax, AddField::PollTarget, 8),
		integer("port", &S::port, 1, 65535, AddField::Port, 123),
		integer("ntsport", &S::ntsport, 1, 65535, AddField::NtsPort, 4460),
		// chronyc's 100 (above every poll) means "no presend".
		integer("presend", &S::presend_log2, -7, 24, AddField::PresendMinpoll, 100),
		integer("minstratum", &S::minstratum, 0, 15, AddField::MinStratum, 0),
		// chronyc's 0 means "the default version".
		integer("version", &S::version, 1, 4, AddField::Version, 0),
		flag("copy", &S::copy, AddFlag::Copy),
		flag("ipv4", &S::ipv4_only),  // newer than chrony 4.3: not in its request
		flag("ipv6", &S::ipv6_only),
		integer("maxsources", &S::maxsources, 1, 16, AddField::MaxSources, 4),
		SourceOption{.name = "extfield",
			     .kind = OptionKind::ExtField,
			     .member = &S::extfields,
			     .wire = {.flag = AddFlag::ExtFieldExp1}},
	};
	return table;
}

// F323 is chrony's experimental field for the root delay and dispersion
// with more resolution (4.3's only one, and the request's EF_EXP1 flag);
// F324 and 10A came later and have no flag in 4.3's request.
constexpr ExtFieldType kExtFields[] = {
	{"F323", 0xF323, AddFlag::ExtFieldExp1},
	{"F324", 0xF324, AddFlag::None},
	{"10A", 0x10A, AddFlag::None},
};

/// A hex number as chronyc's sscanf("%x") reads a whole word: "F323",
/// "f323", "0xF323".
std::optional<uint32_t> hex_word(std::string_view text)
{
	if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
		text.remove_prefix(2);
	}
	uint32_t value = 0;
	auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
	if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
		return std::nullopt;
	}
	return value;
}

std::string known_extfields()
{
	std::string out;
	for (const auto &e : kExtFields) {
		out += out.empty() ? "" : ", ";
		out += e.name;
	}
	return out;
}

} // namespace

std::span<const SourceOption> source_options()
{
	return options();
}

const SourceOption *find_source_option(std::string_view name)
{
	const auto &all = options();
	auto it = std::find_if(all.begin(), all.end(), [&](const SourceOption &o) { return iequals(o.name, name); });
	return it == all.end() ? nullptr : &*it;
}

std::span<const ExtFieldType> extension_field_types()
{
	return kExtFields;
}

tl::expected<SourceSetting, std::string> read_setting(const SourceOption &option, std::string_view text)
{
	SourceSetting s{.option = &option};
	switch (option.kind) {
	case OptionKind::Flag:
		return s;
	case OptionKind::Integer: {
		auto lo = static_cast<int64_t>(option.lo), hi = static_cast<int64_t>(option.hi);
		auto v = read_integer(option.name, text, lo, hi);
		if (!v) {
			return tl::unexpected(v.error());
		}
		s.integer = *v;
		return s;
	}
	case OptionKind::Real: {
		auto v = read_real(option.name, text, option.lo, option.hi);
		if (!v) {
			return tl::unexpected(v.error());
		}
		s.real = *v;
		return s;
	}
	case OptionKind::ExtField: {
		auto type = hex_word(text);
		for (const auto &e : kExtFields) {
			if (type && *type == e.type) {
				s.extfield = &e;
				return s;
			}
		}
		return tl::unexpected(fmt::format("{}: unknown extension field '{}' (known: {})", option.name, text,
						  known_extfields()));
	}
	}
	return tl::unexpected(std::string("unreachable"));
}

tl::expected<SourceSetting, std::string> integer_setting(const SourceOption &option, int64_t value)
{
	if (option.kind != OptionKind::Integer) {
		return tl::unexpected(fmt::format("{}: not an integer option", option.name));
	}
	return read_setting(option, fmt::format("{}", value));
}

tl::expected<SourceSetting, std::string> real_setting(const SourceOption &option, double value)
{
	if (option.kind != OptionKind::Real) {
		return tl::unexpected(fmt::format("{}: not a real option", option.name));
	}
	if (!std::isfinite(value)) {
		return tl::unexpected(fmt::format("{}: '{}' is not a number", option.name, value));
	}
	// The shortest text reads back as the same double, so this checks the
	// value itself, and says it as the user would have written it.
	return read_setting(option, real_text(value));
}

void apply(const SourceSetting &setting, SourceConfig &source)
{
	std::visit(
		[&](auto member) {
			using M = std::remove_reference_t<decltype(source.*member)>;
			M &m = source.*member;
			if constexpr (std::is_same_v<M, bool>) {
				m = true;
			} else if constexpr (std::is_same_v<M, std::vector<std::string>>) {
				std::string name(setting.extfield->name);
				if (std::find(m.begin(), m.end(), name) == m.end()) {
					m.push_back(std::move(name));
				}
			} else if constexpr (std::is_same_v<M, double> || std::is_same_v<M, std::optional<double>>) {
				m = setting.real;
			} else if constexpr (std::is_arithmetic_v<M>) {
				m = static_cast<M>(setting.integer);
			} else {
				m = static_cast<typename M::value_type>(setting.integer);
			}
		},
		setting.option->member);
}

ParsedOptions parse_source_options(std::span<const std::string_view> words, const OptionsContext &context,
				   SourceConfig &source)
{
	ParsedOptions out;
	for (size_t i = 0; i < words.size(); i++) {
		std::string_view word = words[i];
		const SourceOption *option = find_source_option(word);
		if (option == nullptr) {
			std::string where = context.command ? "" : fmt::format(" in {} directive", context.directive);
			auto name = [](const SourceOption &o) { return o.name; };
			out.errors.push_back(
				fmt::format("unknown option '{}'{}{}", word, where, did_you_mean(word, options(), name)));
			return out;
		}
		std::string_view value;
		if (option->kind != OptionKind::Flag) {
			if (i + 1 >= words.size()) {
				out.errors.push_back(context.command
							     ? fmt::format("option '{}' needs a value", option->name)
							     : fmt::format("option '{}' of {} needs a value", option->name,
									   context.directive));
				return out;
			}
			value = words[++i];
		}
		auto setting = read_setting(*option, value);
		if (!setting) {
			out.errors.push_back(setting.error());
			continue;
		}
		apply(*setting, source);
		out.settings.push_back(*setting);
	}
	if (out.ok()) {
		out.warnings = source_warnings(source, context);
	}
	return out;
}

std::vector<std::string> source_warnings(const SourceConfig &source, const OptionsContext &context)
{
	std::vector<std::string> out;
	if (source.minpoll_log2 > source.maxpoll_log2) {
		// chronyd silently raises maxpoll (so does strata); say so instead.
		out.push_back(fmt::format("minpoll {} is above maxpoll {} for {}; maxpoll raised to {}",
					  source.minpoll_log2, source.maxpoll_log2, source.host, source.minpoll_log2));
	}
	if (source.kind != SourceKind::Pool && source.maxsources != SourceConfig{}.maxsources) {
		std::string where = context.command ? fmt::format("add {}", context.directive)
						    : fmt::format("a {} directive", context.directive);
		out.push_back(fmt::format("option 'maxsources' has no effect in {}", where));
	}
	return out;
}

std::string dump_source_options(const SourceConfig &source)
{
	const SourceConfig defaults;
	std::string out;
	for (const auto &option : options()) {
		std::visit(
			[&](auto member) {
				using M = std::remove_cvref_t<decltype(source.*member)>;
				const M &v = source.*member;
				if (v == defaults.*member) {
					return;
				}
				if constexpr (std::is_same_v<M, bool>) {
					out += fmt::format(" {}", option.name);
				} else if constexpr (std::is_same_v<M, std::vector<std::string>>) {
					for (const auto &e : v) {
						out += fmt::format(" {} {}", option.name, e);
					}
				} else if constexpr (std::is_same_v<M, double>) {
					out += fmt::format(" {} {}", option.name, real_text(v));
				} else if constexpr (std::is_same_v<M, std::optional<double>>) {
					out += v ? fmt::format(" {} {}", option.name, real_text(*v)) : "";
				} else if constexpr (std::is_arithmetic_v<M>) {
					out += fmt::format(" {} {}", option.name, v);
				} else {
					out += v ? fmt::format(" {} {}", option.name, *v) : "";
				}
			},
			option.member);
	}
	return out;
}

} // namespace strata::conf
