// Writes a small file so that readers see the old content or the new one,
// never a mix or a truncated file: write PATH.tmp, fsync it, rename it over
// PATH (the drift file, the rtcfile).
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace strata::daemon {

Result<> write_file_atomically(const std::string &path, std::string_view content);

} // namespace strata::daemon
