#include "daemon/systemd_notify_linux.h"

#include <dlfcn.h>
#include <systemd/sd-daemon.h>

#include <cstdlib>

#include <fmt/format.h>

#include "control/report_format.h"

namespace strata::daemon {

SystemdNotifier::SystemdNotifier()
{
	const char *socket = std::getenv("NOTIFY_SOCKET");
	if (socket == nullptr || *socket == '\0') {
		return;
	}
	// libsystemd is loaded only under systemd: linked in, it and its
	// compression and crypto libraries would sit in every stratad's memory
	// for one function.
	void *handle = ::dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
	if (handle == nullptr) {
		const char *error = ::dlerror();
		load_error_ = error != nullptr ? error : "libsystemd.so.0 not found";
		return;
	}
	notify_ = reinterpret_cast<decltype(&::sd_notify)>(::dlsym(handle, "sd_notify"));
	if (notify_ == nullptr) {
		load_error_ = "libsystemd has no sd_notify";
		::dlclose(handle);
		return;
	}
	enabled_ = true;
}

std::string status_text(const control::TrackingReport &tracking)
{
	if (tracking.leap == Leap::Unsynchronized || tracking.stratum == 0) {
		return "Not synchronised";
	}
	std::string source;
	if (const auto *ip = std::get_if<IpAddress>(&tracking.address)) {
		source = ip->to_string();
	} else if (tracking.ref_id == kLocalRefId) {
		source = "the local clock";
	} else {
		source = control::refid_text(tracking.ref_id);
	}
	return fmt::format("Synchronised to {} (stratum {}), last offset {:+.9f} s", source, tracking.stratum,
			   tracking.last_offset_s);
}

void SystemdNotifier::send(const std::string &message)
{
	if (enabled_) {
		// A failure here is systemd's to notice (it times the start out);
		// the daemon carries on serving.
		notify_(0, message.c_str());
	}
}

void SystemdNotifier::ready(const control::TrackingReport &tracking)
{
	last_status_ = status_text(tracking);
	ready_ = true;
	send("READY=1\nSTATUS=" + last_status_);
}

void SystemdNotifier::update(const control::TrackingReport &tracking)
{
	if (!ready_) {
		return;  // READY=1 comes first, with the status of the moment
	}
	std::string status = status_text(tracking);
	// The offset changes with every update: say it when the source or the
	// state changes, not every second.
	auto head = [](const std::string &s) { return s.substr(0, s.find(", last offset")); };
	if (head(status) != head(last_status_)) {
		last_status_ = status;
		send("STATUS=" + status);
	}
}

void SystemdNotifier::stopping()
{
	send("STOPPING=1\nSTATUS=Stopping");
}

} // namespace strata::daemon
