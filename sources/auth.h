// Authentication of NTP sources, failing closed: a source configured with
// `key N` is polled only with that key (ntp/keys.h), and a source whose
// authentication cannot be done is refused, never polled unauthenticated.
// Refused are `key N` when key N is not in the keyfile (or there is no
// keyfile; chronyd would poll and never accept an answer, strata says so
// before it starts) and `nts` (not built yet). The daemon checks every
// configured source with this before it starts (and `stratad -p` reports
// the same), the engine again for each source added later (chronyc `add`,
// `reload sources`). Pure.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "conf/config.h"
#include "conf/file_reader.h"
#include "conf/parser.h"
#include "core/result.h"
#include "ntp/keys.h"

namespace strata::sources {

/// Whether `source` can be polled as configured with `keys` (nullptr: no
/// keyfile). Errors (Errc::Unsupported, Errc::NotFound) name the source
/// and what is missing.
Result<> check_source_auth(const conf::SourceConfig &source, const ntp::KeyStore *keys);

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

/// Everything `config` asks of authentication that cannot be done: each
/// source refused by check_source_auth, as a diagnostic at its line.
/// Empty when every source can be polled as configured.
std::vector<conf::Diagnostic> check_config_auth(const conf::Config &config, const ntp::KeyStore *keys);

} // namespace strata::sources
