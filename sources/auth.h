// Authentication of NTP sources, failing closed: a source configured with
// `key N` is polled only with that key (ntp/keys.h), and never
// unauthenticated. While the keyfile lacks key N (or there is no keyfile)
// the source sends nothing at all and accepts nothing, as chronyd does,
// until `rekey` (or SIGHUP) loads a keyfile that has it; this is said as a
// warning at its line by `stratad -p` and at start, and in the log when it
// polls. `nts` (not built yet) is refused: `stratad -p` and the start fail
// on it, and `chronyc add` and `reload sources` refuse such a line. Pure.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conf/config.h"
#include "conf/file_reader.h"
#include "conf/parser.h"
#include "core/result.h"
#include "ntp/keys.h"

namespace strata::sources {

/// Whether `source` can be authenticated as configured. Errors
/// (Errc::Unsupported: `nts`) name the source and what is missing.
Result<> check_source_auth(const conf::SourceConfig &source);

/// The warning for a `key N` that `keys` (nullptr: no keyfile) lacks:
/// the source sends nothing until a keyfile with key N is loaded.
/// nullopt when the key is there, or none is asked for.
std::optional<std::string> missing_key_warning(const conf::SourceConfig &source, const ntp::KeyStore *keys);

/// The keyfile read through `files`: its keys, and its problems as
/// FILE:LINE diagnostics (an unreadable file is one error). A keyfile with
/// errors yields the keys of its good lines, but the daemon refuses to
/// start on any error.
struct KeyfileLoad {
	std::shared_ptr<const ntp::KeyStore> keys;
	std::vector<conf::Diagnostic> diagnostics;
	bool ok() const;
};
KeyfileLoad load_keyfile(conf::FileReader &files, const std::string &path);

/// Everything `config` asks of authentication that cannot be done, at its
/// line: an error for each source check_source_auth() refuses, a warning
/// for each missing_key_warning(). Empty when every source can be polled
/// as configured.
std::vector<conf::Diagnostic> check_config_auth(const conf::Config &config, const ntp::KeyStore *keys);

} // namespace strata::sources
