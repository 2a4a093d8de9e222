#include "daemon/rtc_setup_linux.h"

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "daemon/atomic_file_linux.h"
#include "rtc/rtc_linux.h"

namespace strata::daemon {

namespace {

std::string_view describe(bool on_utc)
{
	return on_utc ? "UTC" : "local time";
}

/// The rtcfile's model, for -s; nullopt (with the reason logged) when there
/// is no file or it is not valid: the RTC is then taken as exact.
std::optional<rtc::RtcModel> read_model(const conf::Config &config, conf::FileReader &files, Logger &log)
{
	if (config.rtcfile.empty()) {
		return std::nullopt;
	}
	auto text = files.read(config.rtcfile);
	if (!text) {
		if (text.error().code != std::errc::no_such_file_or_directory) {
			log.warning("Could not read rtcfile {}: {}", config.rtcfile, text.error().code.message());
		}
		return std::nullopt;
	}
	auto model = rtc::load(*text);
	if (!model) {
		log.warning("Corrupt rtcfile {} ({}); the RTC is taken as exact", config.rtcfile, model.error().context);
		return std::nullopt;
	}
	return *model;
}

/// When the drift file was last written: about when the daemon last stopped.
std::optional<RealTime> driftfile_time(const conf::Config &config)
{
	if (!config.driftfile) {
		return std::nullopt;
	}
	struct stat st {};
	if (::stat(config.driftfile->path.c_str(), &st) != 0) {
		return std::nullopt;
	}
	return RealTime::from_parts(st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

void apply_step(double step_s, std::string_view from, LocalClock &clock, bool steer, Logger &log)
{
	if (!steer) {
		log.info("System clock would be stepped by {:+.6f} seconds ({}); not stepped: not controlling the clock",
			 step_s, from);
		return;
	}
	if (auto r = clock.step(from_seconds(step_s)); !r) {
		log.error("Could not step the system clock ({}): {}", from, r.error().message());
		return;
	}
	log.info("System clock stepped by {:+.6f} seconds ({})", step_s, from);
}

} // namespace

rtc::RtcTimescale rtc_timescale(const conf::Config &config, conf::FileReader &files, Logger &log)
{
	rtc::RtcTimescale ts{.on_utc = config.rtconutc, .utc_offset = rtc::system_utc_offset};
	if (config.hwclockfile.empty()) {
		return ts;
	}
	auto text = files.read(config.hwclockfile);
	if (!text) {
		log.warning("Could not read hwclockfile {}: {}; the RTC is taken to keep {} (rtconutc)", config.hwclockfile,
			    text.error().code.message(), describe(config.rtconutc));
		return ts;
	}
	auto utc = rtc::parse_hwclock_file(*text);
	if (!utc) {
		log.warning("{} ({}); the RTC is taken to keep {} (rtconutc)", utc.error().context, config.hwclockfile,
			    describe(config.rtconutc));
		return ts;
	}
	ts.on_utc = *utc;
	log.debug("hwclockfile {}: the RTC keeps {}", config.hwclockfile, describe(*utc));
	return ts;
}

void set_clock_at_start(const conf::Config &config, const rtc::RtcTimescale &timescale, conf::FileReader &files,
			LocalClock &clock, bool steer, Logger &log)
{
	std::optional<RealTime> drift_time = driftfile_time(config);
	bool from_rtc = false;
	if (auto device = rtc::RtcLinux::open(config.rtcdevice); !device) {
		log.warning("Could not set the system clock from the RTC: {}", device.error().message());
	} else {
		std::optional<rtc::RtcModel> model = read_model(config, files, log);
		auto step = rtc::start_step(*device, timescale, model, [&] { return clock.now(); });
		if (!step) {
			log.warning("Could not set the system clock from the RTC: {}", step.error().message());
		} else if (auto target = rtc::start_time(model, step->rtc_utc); target && drift_time && *target < *drift_time) {
			// The RTC is behind the time the daemon last ran: it was reset.
			log.warning("RTC time before last driftfile modification (ignored)");
		} else {
			from_rtc = true;
			bool exact = step->at_boundary && model.has_value();
			std::string from = fmt::format("from the RTC {}{}", config.rtcdevice,
						       model ? ", corrected by the rtcfile" : "");
			if (exact || std::abs(step->step_s) >= 1.0) {
				apply_step(step->step_s, from, clock, steer, log);
			} else {
				log.info("System clock within a second of the RTC ({:+.3f} seconds, to ±0.5): not stepped",
					 step->step_s);
			}
		}
	}
	if (!from_rtc && drift_time) {
		// No RTC to trust (none, broken, no battery): at least not earlier
		// than when the daemon last wrote its drift file.
		double ahead = to_seconds(*drift_time - clock.now());
		if (ahead > 0) {
			apply_step(ahead, fmt::format("to the last modification of driftfile {}", config.driftfile->path),
				   clock, steer, log);
		}
	}
}

std::unique_ptr<RtcTracking> start_rtc_tracking(const conf::Config &config, const rtc::RtcTimescale &timescale,
						conf::FileReader &files, Scheduler &scheduler,
						std::function<RealTime()> now, std::function<bool()> synchronized,
						std::function<void(const rtc::RtcMeasurement &)> on_measurement,
						Logger &log)
{
	auto device = rtc::RtcLinux::open(config.rtcdevice);
	if (!device) {
		log.error("{}; not tracking the RTC (rtcfile {})", device.error().message(), config.rtcfile);
		return nullptr;
	}
	rtc::RtcServiceConfig sc{.rtcfile = config.rtcfile,
				 .timescale = timescale,
				 .autotrim_threshold_s = config.rtcautotrim_s,
				 .clock_synchronized = std::move(synchronized),
				 .on_measurement = std::move(on_measurement)};
	std::string path = config.rtcfile;
	auto writer = [path](std::string_view text) { return write_file_atomically(path, text); };
	auto tracking = std::make_unique<RtcTracking>(std::move(sc), std::make_unique<rtc::RtcLinux>(std::move(*device)),
						      std::move(writer), scheduler, std::move(now), log);
	if (auto text = files.read(config.rtcfile); text) {
		(void)tracking->load_file(*text);
	} else if (text.error().code != std::errc::no_such_file_or_directory) {
		log.warning("Could not read rtcfile {}: {}", config.rtcfile, text.error().code.message());
	}
	if (!tracking->start()) {
		return nullptr;
	}
	log.info("Tracking the RTC {} (on {}) in rtcfile {}{}", config.rtcdevice, describe(timescale.on_utc),
		 config.rtcfile,
		 config.rtcautotrim_s > 0 ? fmt::format(", trimmed beyond {} seconds", config.rtcautotrim_s) : "");
	return tracking;
}

} // namespace strata::daemon
