#include "conf/file_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/unique_fd.h"

namespace strata::conf {

namespace {

/// Configuration files are small; anything larger is a mistake (a device, a log).
constexpr size_t kMaxFileSize = 16 * 1024 * 1024;

} // namespace

Result<std::string> SystemFileReader::read(const std::string &path)
{
	UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd.valid()) {
		return fail_errno(path);
	}
	struct stat st {};
	if (::fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode)) {
		return fail_errno(path, EISDIR);
	}
	std::string text;
	char buffer[8192];
	for (;;) {
		ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return fail_errno(path);
		}
		if (n == 0) {
			break;
		}
		text.append(buffer, static_cast<size_t>(n));
		if (text.size() > kMaxFileSize) {
			return fail_errno(path, EFBIG);
		}
	}
	return text;
}

Result<std::vector<std::string>> SystemFileReader::glob(const std::string &pattern)
{
	glob_t g{};
	int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
	std::vector<std::string> paths;
	if (rc == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			paths.emplace_back(g.gl_pathv[i]);
		}
	}
	::globfree(&g);
	if (rc != 0 && rc != GLOB_NOMATCH) {
		return fail_errno("glob " + pattern, rc == GLOB_NOSPACE ? ENOMEM : EIO);
	}
	std::sort(paths.begin(), paths.end());
	return paths;
}

Result<std::vector<std::string>> SystemFileReader::list_directory(const std::string &dir)
{
	DIR *d = ::opendir(dir.c_str());
	if (d == nullptr) {
		return fail_errno(dir);
	}
	std::vector<std::string> names;
	while (const dirent *e = ::readdir(d)) {
		std::string name = e->d_name;
		if (name != "." && name != "..") {
			names.push_back(std::move(name));
		}
	}
	::closedir(d);
	return names;
}

} // namespace strata::conf
