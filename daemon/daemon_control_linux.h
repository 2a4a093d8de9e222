// stratad as the control protocol sees it: the reports and commands of
// control/dispatch.h, answered from the source engine (sources/engine.h,
// its reports in sources/reports.h), the NTP server's counters and the
// control server's own.
#pragma once

#include <string>

#include "conf/file_reader.h"
#include "control/dispatch.h"
#include "core/log.h"
#include "daemon/control_server_linux.h"
#include "daemon/log_files_linux.h"
#include "daemon/ntp_server_linux.h"
#include "daemon/poll_loop_linux.h"
#include "daemon/rtc_tracking.h"
#include "sources/engine.h"
#include "sources/reports.h"

namespace strata::daemon {

class DaemonControl final : public control::ControlHandler {
public:
	DaemonControl(sources::Engine &sources, NtpServer &server, PollLoop &loop, Logger &log)
		: sources_(sources), server_(server), loop_(loop), log_(log)
	{
	}
	/// The control server, for its own counters in serverstats and its
	/// command clients in `clients`.
	void set_control_server(ControlServer *server) { control_ = server; }
	/// The RTC tracking (rtcfile), when it runs: rtcdata, writertc, trimrtc.
	void set_rtc(RtcTracking *rtc) { rtc_ = rtc; }
	/// The log files `cyclelogs` reopens (nullptr: none configured).
	void set_log_files(LogFiles *files) { log_files_ = files; }

	uint32_t n_sources() override { return static_cast<uint32_t>(sources_.entry_count()); }
	std::optional<control::SourceDataReport> source_data(uint32_t index) override
	{
		return sources::source_report(sources_, index);
	}
	std::optional<control::SourceStatsReport> source_stats(uint32_t index) override
	{
		return sources::stats_report(sources_, index);
	}
	std::optional<control::SelectDataReport> select_data(uint32_t index) override
	{
		return sources::select_report(sources_, index);
	}
	std::optional<control::NtpDataReport> ntp_data(const IpAddress &address) override
	{
		return sources::ntp_data_report(sources_, address);
	}
	std::optional<control::SourceNameReport> source_name(const IpAddress &address) override;
	control::TrackingReport tracking() override { return sources::tracking_report(sources_); }
	control::ActivityReport activity() override { return sources::activity_report(sources_); }
	control::ServerStatsReport server_stats() override;
	std::optional<control::ClientAccessesReport> client_accesses(uint32_t first_index, uint32_t max,
								     uint32_t min_hits, bool reset) override;
	std::optional<control::RtcReport> rtc() override
	{
		return rtc_ ? std::optional(rtc_->report()) : std::nullopt;
	}
	uint32_t set_online(const control::Address &mask, const control::Address &address, bool online) override
	{
		return sources_.set_online(matcher(mask, address), online);
	}
	uint32_t on_offline() override
	{
		return sources_.set_online(matcher(control::NoAddress{}, control::NoAddress{}), true);
	}
	uint32_t burst(const control::Address &mask, const control::Address &address, int good, int total) override
	{
		return sources_.burst(matcher(mask, address), good, total);
	}
	bool make_step() override { return sources_.make_step(); }
	control::Status write_rtc() override { return rtc_ ? rtc_->write_file() : control::Status::NoRtc; }
	control::Status trim_rtc() override { return rtc_ ? rtc_->trim() : control::Status::NoRtc; }
	/// As chronyd: Success whether or not any log file is configured.
	control::Status cycle_logs() override
	{
		if (log_files_ != nullptr) {
			log_files_->cycle();
		}
		return control::Status::Success;
	}
	/// As chronyd: 200, the names resolved in the background.
	control::Status refresh() override
	{
		sources_.refresh();
		return control::Status::Success;
	}
	/// The measurement history to `dumpdir` in strata's format; without a
	/// dumpdir, 200 and nothing written, as chronyd answers.
	control::Status dump() override;
	void shutdown() override;
	control::Status add_source(const control::AddSourceArgs &args) override;
	bool delete_source(const IpAddress &address) override { return sources_.remove(address); }
	control::Status reload_sources() override
	{
		return sources_.reload_sources() ? control::Status::Success : control::Status::Failed;
	}
	/// rekey (and SIGHUP): the keyfile read again through the FileReader.
	/// A good file replaces the keys of the sources and of the server at
	/// once (200, "Loaded N symmetric keys" in the log); a file that cannot
	/// be read or has a bad line changes nothing: the keys loaded before
	/// stay, each problem is logged with its line, and the answer is 500.
	/// Without a keyfile 200, as chronyd.
	control::Status rekey() override;
	/// The configured keyfile (empty: none), for rekey, and where to read it.
	void set_keyfile(std::string path, conf::FileReader &files)
	{
		keyfile_ = std::move(path);
		files_ = &files;
	}
	std::optional<control::AuthDataReport> auth_data(const IpAddress &address) override
	{
		return sources::auth_data_report(sources_, address);
	}
	/// `dumpdir` (empty: none).
	void set_dumpdir(std::string dir) { dumpdir_ = std::move(dir); }

private:
	/// The sources control::address_matches() selects.
	static std::function<bool(const IpAddress &)> matcher(const control::Address &mask, const control::Address &address)
	{
		return [mask, address](const IpAddress &a) { return control::address_matches(mask, address, a); };
	}

	sources::Engine &sources_;
	NtpServer &server_;
	PollLoop &loop_;
	Logger &log_;
	ControlServer *control_ = nullptr;
	RtcTracking *rtc_ = nullptr;
	std::string keyfile_;
	conf::FileReader *files_ = nullptr;
	LogFiles *log_files_ = nullptr;
	std::string dumpdir_;
};

} // namespace strata::daemon
