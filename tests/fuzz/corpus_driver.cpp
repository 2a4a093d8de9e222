// Runs every file of a fuzz corpus (files or directories given as arguments)
// through LLVMFuzzerTestOneInput once, so that compilers without libFuzzer
// still exercise the target and CTest catches regressions on known inputs.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

bool run_file(const std::filesystem::path &path)
{
	std::ifstream in(path, std::ios::binary);
	if (!in) {
		std::fprintf(stderr, "cannot read %s\n", path.c_str());
		return false;
	}
	std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
	return true;
}

} // namespace

int main(int argc, char **argv)
{
	size_t count = 0;
	for (int i = 1; i < argc; i++) {
		std::filesystem::path arg(argv[i]);
		std::error_code ec;
		if (std::filesystem::is_directory(arg, ec)) {
			for (const auto &entry : std::filesystem::recursive_directory_iterator(arg)) {
				if (entry.is_regular_file()) {
					if (!run_file(entry.path())) {
						return 1;
					}
					count++;
				}
			}
		} else if (!run_file(arg)) {
			return 1;
		} else {
			count++;
		}
	}
	if (count == 0) {
		std::fprintf(stderr, "no corpus files given\n");
		return 1;
	}
	std::printf("ran %zu corpus inputs\n", count);
	return 0;
}
