#include "control/source_request.h"

#include <cctype>
#include <cstdint>
#include <limits>
#include <optional>
#include <variant>

#include <fmt/format.h>

#include "conf/source_options.h"
#include "core/text.h"

namespace strata::control {

namespace {

using conf::AddField;
using conf::AddFlag;
using conf::OptionKind;
using conf::SourceOption;

using FieldPtr = std::variant<int32_t AddSourceArgs::*, uint32_t AddSourceArgs::*, double AddSourceArgs::*>;

/// Where each of the grammar's request fields is in AddSourceArgs.
std::optional<FieldPtr> field_of(AddField field)
{
	using A = AddSourceArgs;
	switch (field) {
	case AddField::None:
		return std::nullopt;
	case AddField::Port:
		return &A::port;
	case AddField::Minpoll:
		return &A::minpoll;
	case AddField::Maxpoll:
		return &A::maxpoll;
	case AddField::PresendMinpoll:
		return &A::presend_minpoll;
	case AddField::MinStratum:
		return &A::min_stratum;
	case AddField::PollTarget:
		return &A::poll_target;
	case AddField::Version:
		return &A::version;
	case AddField::MaxSources:
		return &A::max_sources;
	case AddField::MinSamples:
		return &A::min_samples;
	case AddField::MaxSamples:
		return &A::max_samples;
	case AddField::Authkey:
		return &A::authkey;
	case AddField::NtsPort:
		return &A::nts_port;
	case AddField::MaxDelay:
		return &A::max_delay_s;
	case AddField::MaxDelayRatio:
		return &A::max_delay_ratio;
	case AddField::MaxDelayDevRatio:
		return &A::max_delay_dev_ratio;
	case AddField::MinDelay:
		return &A::min_delay_s;
	case AddField::Asymmetry:
		return &A::asymmetry;
	case AddField::Offset:
		return &A::offset_s;
	case AddField::FilterLength:
		return &A::filter_length;
	case AddField::CertSet:
		return &A::cert_set;
	case AddField::MaxDelayQuant:
		return &A::max_delay_quant_s;
	}
	return std::nullopt;
}

/// The grammar's request flags as the request's bits.
uint32_t bit_of(AddFlag flag)
{
	switch (flag) {
	case AddFlag::None:
		return 0;
	case AddFlag::Online:
		return kAddOnline;
	case AddFlag::AutoOffline:
		return kAddAutoOffline;
	case AddFlag::Iburst:
		return kAddIburst;
	case AddFlag::Prefer:
		return kAddPrefer;
	case AddFlag::Noselect:
		return kAddNoselect;
	case AddFlag::Trust:
		return kAddTrust;
	case AddFlag::Require:
		return kAddRequire;
	case AddFlag::Interleaved:
		return kAddInterleaved;
	case AddFlag::Burst:
		return kAddBurst;
	case AddFlag::Nts:
		return kAddNts;
	case AddFlag::Copy:
		return kAddCopy;
	case AddFlag::ExtFieldExp1:
		return kAddExtField1;
	}
	return 0;
}

/// Writes a number into a request field. False when it does not fit the
/// field's type (the grammar's ranges make that impossible; checked anyway).
bool put(AddSourceArgs &a, FieldPtr field, double value)
{
	return std::visit(
		[&](auto member) {
			using T = std::remove_reference_t<decltype(a.*member)>;
			if constexpr (std::is_floating_point_v<T>) {
				a.*member = value;
				return true;
			} else {
				if (value < static_cast<double>(std::numeric_limits<T>::min()) ||
				    value > static_cast<double>(std::numeric_limits<T>::max())) {
					return false;
				}
				a.*member = static_cast<T>(value);
				return true;
			}
		},
		field);
}

std::optional<conf::SourceKind> conf_kind(SourceKind kind)
{
	switch (kind) {
	case SourceKind::Server:
		return conf::SourceKind::Server;
	case SourceKind::Peer:
		return conf::SourceKind::Peer;
	case SourceKind::Pool:
		return conf::SourceKind::Pool;
	}
	return std::nullopt;
}

std::string_view directive_of(SourceKind kind)
{
	return kind == SourceKind::Pool ? "pool" : kind == SourceKind::Peer ? "peer" : "server";
}

std::vector<std::string_view> split_words(std::string_view text)
{
	std::vector<std::string_view> words;
	size_t i = 0;
	while (i < text.size()) {
		while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) {
			i++;
		}
		size_t start = i;
		while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) {
			i++;
		}
		if (i > start) {
			words.push_back(text.substr(start, i - start));
		}
	}
	return words;
}

constexpr std::string_view kInvalidSyntax = "Invalid syntax for add command";

std::string cannot_carry(std::string_view what)
{
	return fmt::format("{} can't be set in an add command: chronyc's request has no field for it "
			   "(a server line in a sourcedir file and `reload sources` can set it)",
			   what);
}

} // namespace

tl::expected<AddSourceCommand, std::string> parse_add_source(std::string_view args)
{
	auto words = split_words(args);
	if (words.size() < 2) {
		return tl::unexpected(std::string(kInvalidSyntax));
	}
	AddSourceCommand out;
	AddSourceArgs &a = out.request;
	if (iequals(words[0], "server")) {
		a.kind = SourceKind::Server;
	} else if (iequals(words[0], "peer")) {
		a.kind = SourceKind::Peer;
	} else if (iequals(words[0], "pool")) {
		a.kind = SourceKind::Pool;
	} else {
		return tl::unexpected(std::string(kInvalidSyntax));
	}
	a.name = std::string(words[1]);

	// The options, read and checked as a chrony.conf line.
	conf::SourceConfig checked{.kind = *conf_kind(a.kind), .host = a.name};
	conf::OptionsContext context{.directive = directive_of(a.kind), .command = true};
	auto parsed = conf::parse_source_options(std::span(words).subspan(2), context, checked);
	if (!parsed.ok()) {
		std::string text;
		for (const auto &e : parsed.errors) {
			text += fmt::format("{}{}: {}", text.empty() ? "" : "\n", kInvalidSyntax, e);
		}
		return tl::unexpected(text);
	}
	out.warnings = std::move(parsed.warnings);

	// chronyc's request: its defaults, then each option as given.
	for (const SourceOption &o : conf::source_options()) {
		if (auto field = field_of(o.wire.field)) {
			put(a, *field, o.wire.unset);
		}
	}
	a.flags = kAddOnline;
	for (const conf::SourceSetting &s : parsed.settings) {
		const SourceOption &o = *s.option;
		switch (o.kind) {
		case OptionKind::Flag:
			if (o.wire.flag == AddFlag::None) {
				return tl::unexpected(cannot_carry(fmt::format("Option {}", o.name)));
			}
			if (o.wire.flag_cleared) {
				a.flags &= ~bit_of(o.wire.flag);
			} else {
				a.flags |= bit_of(o.wire.flag);
			}
			break;
		case OptionKind::ExtField:
			if (s.extfield->flag == AddFlag::None) {
				return tl::unexpected(cannot_carry(fmt::format("{} {}", o.name, s.extfield->name)));
			}
			a.flags |= bit_of(s.extfield->flag);
			break;
		case OptionKind::Integer:
		case OptionKind::Real: {
			auto field = field_of(o.wire.field);
			if (!field) {
				return tl::unexpected(cannot_carry(fmt::format("Option {}", o.name)));
			}
			double value = o.kind == OptionKind::Real ? s.real : static_cast<double>(s.integer);
			if (!put(a, *field, value)) {
				return tl::unexpected(fmt::format("{}: {} {} does not fit the request", kInvalidSyntax,
								  o.name, s.integer));
			}
			break;
		}
		}
	}
	return out;
}

tl::expected<RequestedSource, std::string> source_from_request(const AddSourceArgs &request)
{
	auto kind = conf_kind(request.kind);
	if (!kind) {
		return tl::unexpected(fmt::format("unknown source kind {}", static_cast<uint32_t>(request.kind)));
	}
	RequestedSource out;
	conf::SourceConfig &s = out.config;
	s.kind = *kind;
	s.host = request.name;
	std::vector<std::string> errors;
	for (const SourceOption &o : conf::source_options()) {
		switch (o.kind) {
		case OptionKind::Flag: {
			if (o.wire.flag == AddFlag::None) {
				break;
			}
			bool set = (request.flags & bit_of(o.wire.flag)) != 0;
			if (set != o.wire.flag_cleared) {
				conf::apply({.option = &o}, s);
			}
			break;
		}
		case OptionKind::ExtField:
			for (const auto &e : conf::extension_field_types()) {
				if (e.flag != AddFlag::None && (request.flags & bit_of(e.flag)) != 0) {
					conf::apply({.option = &o, .extfield = &e}, s);
				}
			}
			break;
		case OptionKind::Integer:
		case OptionKind::Real: {
			auto field = field_of(o.wire.field);
			if (!field) {
				break;
			}
			auto read = [&](auto member) { return static_cast<double>(request.*member); };
			double value = std::visit(read, *field);
			if (value == o.wire.unset) {
				break;  // chronyc's "not given"
			}
			auto setting = o.kind == OptionKind::Real ? conf::real_setting(o, value)
								  : conf::integer_setting(o, static_cast<int64_t>(value));
			if (!setting) {
				errors.push_back(setting.error());
				break;
			}
			conf::apply(*setting, s);
			break;
		}
		}
	}
	if (!errors.empty()) {
		std::string text;
		for (const auto &e : errors) {
			text += (text.empty() ? "" : "; ") + e;
		}
		return tl::unexpected(text);
	}
	conf::OptionsContext context{.directive = directive_of(request.kind), .command = true};
	out.warnings = conf::source_warnings(s, context);
	return out;
}

} // namespace strata::control
