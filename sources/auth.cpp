#include "sources/auth.h"

#include <algorithm>

#include <fmt/format.h>

namespace strata::sources {

Result<> check_source_auth(const conf::SourceConfig &source)
{
	if (source.nts) {
		return fail(Errc::Unsupported,
			    fmt::format("Source {}: nts is not supported by strata yet; refusing to use the source "
					"unauthenticated",
					source.host));
	}
	return {};
}

std::optional<std::string> missing_key_warning(const conf::SourceConfig &source, const ntp::KeyStore *keys)
{
	if (!source.key || (keys != nullptr && keys->find(*source.key) != nullptr)) {
		return std::nullopt;
	}
	return fmt::format("Source {}: key {} {}; the source sends nothing until a keyfile with the key is loaded "
			   "(rekey), never unauthenticated",
			   source.host, *source.key,
			   keys == nullptr ? "given but no keyfile configured" : "is not in the keyfile");
}

bool KeyfileLoad::ok() const
{
	return std::none_of(diagnostics.begin(), diagnostics.end(), [](const conf::Diagnostic &d) {
		return d.severity == conf::Diagnostic::Severity::Error;
	});
}

KeyfileLoad load_keyfile(conf::FileReader &files, const std::string &path)
{
	KeyfileLoad out;
	auto text = files.read(path);
	if (!text) {
		out.keys = std::make_shared<ntp::KeyStore>();
		out.diagnostics.push_back({.severity = conf::Diagnostic::Severity::Error,
					   .file = path,
					   .line = 0,
					   .message = "could not read keyfile: " + text.error().code.message()});
		return out;
	}
	auto parsed = ntp::parse_keyfile(*text);
	std::fill(text->begin(), text->end(), '\0');  // the secrets go with the keys only
	out.keys = parsed.keys;
	for (const auto &p : parsed.problems) {
		out.diagnostics.push_back({.severity = p.warning ? conf::Diagnostic::Severity::Warning
								 : conf::Diagnostic::Severity::Error,
					   .file = path,
					   .line = p.line,
					   .message = p.message});
	}
	return out;
}

std::vector<conf::Diagnostic> check_config_auth(const conf::Config &config, const ntp::KeyStore *keys)
{
	std::vector<conf::Diagnostic> out;
	for (const auto &s : config.sources) {
		if (auto ok = check_source_auth(s); !ok) {
			out.push_back({.severity = conf::Diagnostic::Severity::Error,
				       .file = s.origin.file,
				       .line = s.origin.line,
				       .message = ok.error().context});
		} else if (auto warning = missing_key_warning(s, keys)) {
			out.push_back({.severity = conf::Diagnostic::Severity::Warning,
				       .file = s.origin.file,
				       .line = s.origin.line,
				       .message = *warning});
		}
	}
	return out;
}

} // namespace strata::sources
