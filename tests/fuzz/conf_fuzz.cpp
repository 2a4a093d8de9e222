// Fuzz target for the configuration parser: any bytes, as a file that may
// include others (from a small in-memory file system), must parse to errors
// or a Config without crashing, and a Config that parses must dump to a form
// that parses again to the same dump.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "conf/parser.h"
#include "tests/fakes/fake_file_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::string text(reinterpret_cast<const char *>(data), size);
	strata::testing::FakeFileReader files;
	files.add("/fuzz/main.conf", text);
	files.add("/fuzz/d/a.conf", text);
	files.add("/fuzz/d/b.sources", text);
	auto r = strata::conf::load(files, "/fuzz/main.conf");
	for (const auto &d : r.diagnostics) {
		(void)d.to_string();
	}
	if (r.ok()) {
		std::string once = strata::conf::dump(r.config);
		auto again = strata::conf::load_text(files, once, "dump");
		if (!again.ok() || strata::conf::dump(again.config) != once) {
			std::abort();
		}
	}
	return 0;
}
