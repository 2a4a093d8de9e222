#include "daemon/add_source.h"

#include <cmath>

#include <fmt/format.h>

#include "conf/parser.h"

namespace strata::daemon {

namespace {

using control::AddSourceArgs;

/// A line parsed alone reads no other file.
class NoFiles final : public conf::FileReader {
public:
	Result<std::string> read(const std::string &path) override { return fail_errno(path, ENOENT); }
	Result<std::vector<std::string>> glob(const std::string &) override { return std::vector<std::string>{}; }
	Result<std::vector<std::string>> list_directory(const std::string &dir) override
	{
		return fail_errno(dir, ENOENT);
	}
};

// chronyc 4.3's defaults: what it sends for an option the user left out.
constexpr int kMinpoll = 6, kMaxpoll = 10, kPolltarget = 8, kMaxsources = 4, kVersion = 0;
constexpr int kNtsPort = 4460;
constexpr double kMaxdelay = 3.0, kMaxdelaydevratio = 10.0;
/// chronyc's "presend off" (any value above the largest poll).
constexpr int kMaxPresend = 24;

} // namespace

std::string source_line(const AddSourceArgs &a)
{
	std::string line = fmt::format("{} {}", a.kind == control::SourceKind::Pool ? "pool" : "server", a.name);
	auto integer = [&](const char *name, int64_t value, int64_t def) {
		if (value != def) {
			line += fmt::format(" {} {}", name, value);
		}
	};
	auto real = [&](const char *name, double value, double def) {
		if (value != def) {
			line += fmt::format(" {} {}", name, value);
		}
	};
	auto flag = [&](const char *name, uint32_t bit) {
		if ((a.flags & bit) != 0) {
			line += fmt::format(" {}", name);
		}
	};
	integer("port", a.port, 123);
	integer("minpoll", a.minpoll, kMinpoll);
	integer("maxpoll", a.maxpoll, kMaxpoll);
	if (a.presend_minpoll <= kMaxPresend) {
		integer("presend", a.presend_minpoll, kMaxPresend + 1);
	}
	integer("minstratum", a.min_stratum, 0);
	integer("polltarget", a.poll_target, kPolltarget);
	integer("version", a.version, kVersion);
	if (a.kind == control::SourceKind::Pool) {
		integer("maxsources", a.max_sources, kMaxsources);
	}
	if (a.min_samples >= 0) {
		integer("minsamples", a.min_samples, -1);
	}
	if (a.max_samples >= 0) {
		integer("maxsamples", a.max_samples, -1);
	}
	integer("key", a.authkey, 0);
	integer("ntsport", a.nts_port, kNtsPort);
	real("maxdelay", a.max_delay_s, kMaxdelay);
	real("maxdelayratio", a.max_delay_ratio, 0);
	real("maxdelaydevratio", a.max_delay_dev_ratio, kMaxdelaydevratio);
	real("mindelay", a.min_delay_s, 0);
	// chronyc sends 1 (out of the ±0.5 a fixed asymmetry may be) for
	// "estimate it".
	if (std::abs(a.asymmetry) <= 0.5) {
		line += fmt::format(" asymmetry {}", a.asymmetry);
	}
	real("offset", a.offset_s, 0);
	integer("filter", a.filter_length, 0);
	integer("certset", a.cert_set, 0);
	real("maxdelayquant", a.max_delay_quant_s, 0);
	if ((a.flags & control::kAddOnline) == 0) {
		line += " offline";
	}
	flag("auto_offline", control::kAddAutoOffline);
	flag("iburst", control::kAddIburst);
	flag("prefer", control::kAddPrefer);
	flag("noselect", control::kAddNoselect);
	flag("trust", control::kAddTrust);
	flag("require", control::kAddRequire);
	flag("xleave", control::kAddInterleaved);
	flag("burst", control::kAddBurst);
	flag("nts", control::kAddNts);
	flag("copy", control::kAddCopy);
	flag("extfield F323", control::kAddExtField1);
	return line;
}

Result<conf::SourceConfig> source_config_from(const AddSourceArgs &a)
{
	if (a.kind == control::SourceKind::Peer) {
		return fail(Errc::Unsupported, "peer is not supported by strata");
	}
	for (double v : {a.max_delay_s, a.max_delay_ratio, a.max_delay_dev_ratio, a.min_delay_s, a.asymmetry, a.offset_s,
			 a.max_delay_quant_s}) {
		if (!std::isfinite(v)) {
			return fail(Errc::InvalidArgument, "a number that is not finite");
		}
	}
	std::string line = source_line(a);
	NoFiles files;
	conf::LoadResult loaded = conf::load_text(files, line, "chronyc");
	for (const auto &d : loaded.diagnostics) {
		if (d.severity == conf::Diagnostic::Severity::Error) {
			return fail(Errc::InvalidArgument, fmt::format("{}: {}", line, d.message));
		}
	}
	if (loaded.config.sources.size() != 1) {
		return fail(Errc::InvalidArgument, fmt::format("{}: not one source", line));
	}
	conf::SourceConfig c = std::move(loaded.config.sources.front());
	c.origin = {"chronyc", 0};
	return c;
}

} // namespace strata::daemon
