// The options of `server`, `pool` and `peer` (chrony.conf(5), "Time
// sources"), described once: each option's name, kind of value and range,
// the member of SourceConfig it sets, and where it travels in chronyc
// 4.3's ADD_SOURCE request when it has a wire form there. Three readers
// share the table, so that they accept the same words and refuse them with
// the same messages:
//  - the chrony.conf parser, for `server`, `pool` and `peer` lines
//    (conf/parser.cpp);
//  - stratactl's `add server|pool|peer NAME [OPTION]...`, which builds the
//    request as chronyc does (control/source_request.h);
//  - the daemon's reading of a received request back into a SourceConfig
//    (control/source_request.h again, called by daemon/add_source.h).
// The request has a fixed set of fields and flag bits (chrony's candm.h
// REQ_NTP_Source, REQ_ADDSRC_*): an option without a wire form (AddWire
// says so) works in a configuration file and is refused by stratactl's add.
// The request's field names here are symbolic; control/source_request.cpp
// maps them to control::AddSourceArgs, so that conf/ does not depend on
// control/. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <tl/expected.hpp>

#include "conf/config.h"

namespace strata::conf {

enum class OptionKind {
	Flag,      ///< no value: `iburst`
	Integer,   ///< a whole number in [lo, hi]: `minpoll 4`
	Real,      ///< a finite real in [lo, hi]: `maxdelay 0.5`
	ExtField,  ///< an NTP extension field type in hex: `extfield F323`
};

/// The numeric fields of chronyc 4.3's ADD_SOURCE request (REQ_NTP_Source),
/// by chrony's names.
enum class AddField : uint8_t {
	None,  ///< not a field (a flag, or no wire form)
	Port,
	Minpoll,
	Maxpoll,
	PresendMinpoll,
	MinStratum,
	PollTarget,
	Version,
	MaxSources,
	MinSamples,
	MaxSamples,
	Authkey,
	NtsPort,
	MaxDelay,
	MaxDelayRatio,
	MaxDelayDevRatio,
	MinDelay,
	Asymmetry,
	Offset,
	FilterLength,
	CertSet,
	MaxDelayQuant,
};

/// The request's flag bits (REQ_ADDSRC_ONLINE, _AUTOOFFLINE, …, _EF_EXP1).
enum class AddFlag : uint8_t {
	None,
	Online,
	AutoOffline,
	Iburst,
	Prefer,
	Noselect,
	Trust,
	Require,
	Interleaved,
	Burst,
	Nts,
	Copy,
	ExtFieldExp1,
};

/// Where an option travels in the ADD_SOURCE request.
struct AddWire {
	AddField field = AddField::None;
	/// What chronyc puts in `field` when the option is not given (its
	/// srcparams.h defaults); the daemon reads that value as "not given".
	/// Each is either outside the option's range or the value that gives
	/// SourceConfig's default, so nothing is lost (a unit test checks it).
	double unset = 0;
	AddFlag flag = AddFlag::None;
	/// The option is the flag's absence (`offline`: no Online bit).
	bool flag_cleared = false;

	/// Whether the request can carry the option at all (extfield: only
	/// the types whose ExtFieldType::flag is set).
	bool carried() const { return field != AddField::None || flag != AddFlag::None; }
};

/// The member of SourceConfig an option sets.
using SourceMember = std::variant<bool SourceConfig::*, int SourceConfig::*, std::optional<int> SourceConfig::*,
				  std::optional<uint32_t> SourceConfig::*, double SourceConfig::*,
				  std::optional<double> SourceConfig::*, std::vector<std::string> SourceConfig::*>;

struct SourceOption {
	std::string_view name;
	OptionKind kind = OptionKind::Flag;
	double lo = 0;  ///< range of an Integer or Real value, inclusive
	double hi = 0;
	SourceMember member;
	AddWire wire;
};

/// An NTP extension field `extfield` accepts: its type (RFC 7822; chrony's
/// experimental ones) and its flag in the request, if it has one.
struct ExtFieldType {
	std::string_view name;  ///< as SourceConfig::extfields keeps it: "F323"
	uint32_t type = 0;
	AddFlag flag = AddFlag::None;
};

/// Every option of server/pool/peer, in canonical (`stratad -p`) order.
std::span<const SourceOption> source_options();

/// The option called `name` (any case), or nullptr.
const SourceOption *find_source_option(std::string_view name);

/// The extension fields `extfield` knows.
std::span<const ExtFieldType> extension_field_types();

/// One option with its value, checked.
struct SourceSetting {
	const SourceOption *option = nullptr;
	int64_t integer = 0;                    ///< Integer options
	double real = 0;                        ///< Real options
	const ExtFieldType *extfield = nullptr; ///< ExtField options
};

/// The value written after the option (ignored for a Flag), checked:
/// "minpoll: 'x' is not an integer", "minpoll 99 out of range -7..24",
/// "extfield: unknown extension field 'F999' (known: F323, F324, 10A)".
tl::expected<SourceSetting, std::string> read_setting(const SourceOption &option, std::string_view text);

/// A value that arrived as a number (the daemon reading a request), checked
/// as if written, with the same messages. Integer options only.
tl::expected<SourceSetting, std::string> integer_setting(const SourceOption &option, int64_t value);

/// As integer_setting, for Real options (a value that is not finite is
/// "not a number").
tl::expected<SourceSetting, std::string> real_setting(const SourceOption &option, double value);

/// Sets the setting's member of `source` (a flag to true; an extension
/// field added once).
void apply(const SourceSetting &setting, SourceConfig &source);

/// Where option words come from, for the messages.
struct OptionsContext {
	std::string_view directive;  ///< "server", "pool" or "peer"
	/// chronyc's `add DIRECTIVE …`: the caller says where, so the
	/// messages leave out "in server directive".
	bool command = false;
};

struct ParsedOptions {
	std::vector<SourceSetting> settings;  ///< in the order written
	std::vector<std::string> errors;
	std::vector<std::string> warnings;
	bool ok() const { return errors.empty(); }
};

/// Reads `OPTION [VALUE]...` words into `source` (whose kind is set). An
/// unknown option ("unknown option 'ibrust' in server directive (did you
/// mean 'iburst'?)") or a missing value ("option 'minpoll' of server needs a
/// value") ends the reading; a bad value is reported and reading goes on,
/// so that one pass reports every bad value. Warnings: those of
/// source_warnings().
ParsedOptions parse_source_options(std::span<const std::string_view> words, const OptionsContext &context,
				   SourceConfig &source);

/// Options that do not do what they say: `maxsources` outside a pool
/// ("option 'maxsources' has no effect in a server directive"), a minpoll
/// above maxpoll ("minpoll 12 is above maxpoll 10 for HOST; maxpoll raised
/// to 12").
std::vector<std::string> source_warnings(const SourceConfig &source, const OptionsContext &context);

/// " minpoll 4 iburst …": the options whose member differs from
/// SourceConfig's default, in table order (the canonical dump).
std::string dump_source_options(const SourceConfig &source);

} // namespace strata::conf
