// The chrony.conf parser: text → typed Config, with every problem reported
// as `FILE:LINE: message`.
//
// The grammar is chronyd's: one directive per line, matched case-insensitively;
// lines whose first non-blank character is `#`, `!`, `;` or `%` are comments;
// options follow the directive's arguments. `include PATTERN` reads files by
// glob; `confdir DIR…` reads `*.conf` and `sourcedir DIR…` reads `*.sources`
// (only server, pool and peer lines), in lexicographic order of the file
// names, the first directory winning when several hold the same name.
//
// Every directive of chrony 4.x is known (conf/directives.h): one strata does
// not act on yet is still checked and gives a warning naming it; an unknown
// directive or option, a missing or malformed argument and an out-of-range
// value are errors. Parsing goes on after an error, so that one run reports
// every problem.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "conf/config.h"
#include "conf/file_reader.h"

namespace strata::conf {

struct Diagnostic {
	enum class Severity { Warning, Error };
	Severity severity = Severity::Error;
	std::string file;
	int line = 0;  ///< 0 when the message is about the file as a whole
	std::string message;

	/// "FILE:LINE: message", or "FILE:LINE: warning: message".
	std::string to_string() const;
};

struct LoadResult {
	Config config;
	std::vector<Diagnostic> diagnostics;

	bool ok() const;  ///< no errors (warnings allowed)
};

/// Reads the configuration as chronyd does: the directives given on the
/// command line if there are any (the file is then not read, as chronyd(8)
/// documents), else the file at `path`.
LoadResult load(FileReader &files, const std::string &path,
		const std::vector<std::string> &command_line_directives = {});

/// Parses configuration text as if read from `file_name` (includes are
/// resolved through `files`).
LoadResult load_text(FileReader &files, std::string_view text, const std::string &file_name);

/// The sources of `sourcedir` lines read again (chronyc's `reload
/// sources`): each element the directories of one line, as
/// Config::sourcedirs keeps them. The result's `sources` are those of the
/// *.sources files found now, all from_sourcedir.
LoadResult load_sourcedirs(FileReader &files, const std::vector<std::vector<std::string>> &sourcedirs);

/// The configuration in canonical form: one directive per line, in the order
/// of chrony.conf(5)'s sections, options that differ from their defaults only,
/// numbers in their shortest exact form. load_text(dump(c)) gives back c.
std::string dump(const Config &config);

} // namespace strata::conf
