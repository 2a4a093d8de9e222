// Telling systemd how stratad is doing (sd_notify(3), libsystemd): READY=1
// once it serves, STATUS= with what it is synchronised to whenever that
// changes, STOPPING=1 on the way out. Outside systemd (no NOTIFY_SOCKET in
// the environment) every call does nothing. The unit file is
// dist/stratad.service.in (Type=notify).
#pragma once

#include <string>

#include "control/cmdmon.h"

namespace strata::daemon {

class SystemdNotifier {
public:
	/// Reads NOTIFY_SOCKET once, and loads libsystemd when it is set.
	SystemdNotifier();

	bool enabled() const { return enabled_; }
	/// Why NOTIFY_SOCKET is set but nothing can be sent (libsystemd could
	/// not be loaded); empty otherwise. For the start-up log.
	const std::string &load_error() const { return load_error_; }
	/// Start-up is complete: sockets open, sources configured.
	void ready(const control::TrackingReport &tracking);
	/// Sends STATUS= when the text for `tracking` differs from the last one.
	void update(const control::TrackingReport &tracking);
	void stopping();

private:
	void send(const std::string &message);

	bool enabled_ = false;
	bool ready_ = false;
	int (*notify_)(int, const char *) = nullptr;  ///< libsystemd's sd_notify
	std::string load_error_;
	std::string last_status_;
};

/// The STATUS= text: "Synchronised to 192.0.2.1 (stratum 2), last offset
/// +0.000012 s", "Synchronised to PPS (stratum 1), …", "Not synchronised".
std::string status_text(const control::TrackingReport &tracking);

} // namespace strata::daemon
