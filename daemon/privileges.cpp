#include "daemon/privileges.h"

namespace strata::daemon {

std::string target_user(const std::string &option_user, const std::string &config_user)
{
	if (!option_user.empty()) {
		return option_user;
	}
	return config_user.empty() ? std::string("root") : config_user;
}

std::string capabilities_to_keep(bool steering)
{
	return steering ? "cap_sys_time=ep" : "";
}

std::vector<UserDirectory> directories_for_user(const conf::Config &config)
{
	std::vector<UserDirectory> dirs;
	// log files are written only when some are asked for (log_files_linux).
	if (!config.logdir.empty() && !config.log.empty()) {
		dirs.push_back({.path = config.logdir, .mode = 0750, .what = "logdir"});
	}
	if (!config.dumpdir.empty()) {
		dirs.push_back({.path = config.dumpdir, .mode = 0750, .what = "dumpdir"});
	}
	return dirs;
}

std::vector<WrittenDirectory> directories_written_after_switch(const conf::Config &config)
{
	std::vector<WrittenDirectory> dirs;
	if (config.driftfile && !config.driftfile->path.empty()) {
		dirs.push_back({directory_of(config.driftfile->path), "driftfile " + config.driftfile->path});
	}
	if (!config.rtcfile.empty()) {
		dirs.push_back({directory_of(config.rtcfile), "rtcfile " + config.rtcfile});
	}
	for (const auto &d : directories_for_user(config)) {
		dirs.push_back({d.path, d.what + " " + d.path});
	}
	if (!config.pidfile.empty()) {
		dirs.push_back({directory_of(config.pidfile), "pidfile " + config.pidfile + " (removed at exit)"});
	}
	return dirs;
}

std::string directory_of(const std::string &path)
{
	auto slash = path.find_last_of('/');
	if (slash == std::string::npos) {
		return ".";
	}
	// "/a//b" → "/a": the slashes before the name go with it.
	auto end = path.find_last_not_of('/', slash);
	if (end == std::string::npos) {
		return "/";
	}
	return path.substr(0, end + 1);
}

} // namespace strata::daemon
