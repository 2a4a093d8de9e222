// stratad: reads the configuration, sets the process up as chronyd does
// (root check, pid file, daemonizing, logging, priority, memory locking),
// then runs the event loop with the NTP server until SIGTERM/SIGINT or -t.
// Only main() exits; everything it calls returns errors.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "conf/parser.h"
#include "core/drift_file.h"
#include "core/leap_table.h"
#include "daemon/atomic_file_linux.h"
#include "daemon/control_server_linux.h"
#include "daemon/daemon_control_linux.h"
#include "daemon/file_open_linux.h"
#include "core/reference.h"
#include "core/unique_fd.h"
#include "daemon/log_files_linux.h"
#include "daemon/logging_linux.h"
#include "daemon/metrics_server_linux.h"
#include "daemon/ntp_server_linux.h"
#include "daemon/server_settings_linux.h"
#include "daemon/sources_io_linux.h"
#include "ntp/packet.h"
#include "sources/auth.h"
#include "sources/reports.h"
#include "daemon/unsteered_clock_linux.h"
#include "phc/posix_clock_linux.h"
#include "daemon/options.h"
#include "daemon/pidfile_linux.h"
#include "daemon/poll_loop_linux.h"
#include "daemon/privileges.h"
#include "daemon/privileges_linux.h"
#include "daemon/process_linux.h"
#include "daemon/syscall_filter_linux.h"
#include "daemon/systemd_notify_linux.h"
#include "daemon/rtc_setup_linux.h"
#include "daemon/rtc_tracking.h"

#ifndef STRATA_VERSION
#define STRATA_VERSION "unknown"
#endif

namespace strata::daemon {
namespace {

int run(const Options &options)
{
	conf::SystemFileReader files;
	auto loaded = conf::load(files, options.config_file, options.directives);
	for (const auto &d : loaded.diagnostics) {
		std::fprintf(stderr, "%s\n", d.to_string().c_str());
	}
	// The keyfile, and every source's authentication against it: a source
	// that asks for a key that is not there, or for nts, is refused here,
	// by -p and at start alike, never polled unauthenticated.
	// A keyfile that cannot be read (or a bad line in it) stops the start
	// only when a source asks for a key; otherwise it is said as a warning,
	// as chronyd does, so that a chrony.conf naming a keyfile that is not
	// there still runs (signed requests to the server then get no answer:
	// it knows no key).
	bool auth_ok = true;
	std::shared_ptr<const ntp::KeyStore> keys;
	if (!loaded.config.keyfile.empty()) {
		auto keyfile = sources::load_keyfile(files, loaded.config.keyfile);
		bool keyed = std::any_of(loaded.config.sources.begin(), loaded.config.sources.end(),
					 [](const conf::SourceConfig &c) { return c.key.has_value(); });
		for (auto d : keyfile.diagnostics) {
			if (!keyed) {
				d.severity = conf::Diagnostic::Severity::Warning;
			}
			std::fprintf(stderr, "%s\n", d.to_string().c_str());
		}
		auth_ok = keyfile.ok() || !keyed;
		keys = keyfile.keys;
	}
	for (const auto &d : sources::check_config_auth(loaded.config, keys.get())) {
		std::fprintf(stderr, "%s\n", d.to_string().c_str());
		auth_ok = false;
	}
	if (options.print_config) {
		std::fputs(conf::dump(loaded.config).c_str(), stdout);
		return loaded.ok() && auth_ok ? 0 : 1;
	}
	if (!loaded.ok() || !auth_ok) {
		return 1;
	}
	const conf::Config &config = loaded.config;

	if (!options.allow_non_root && !options.print_offset && ::geteuid() != 0) {
		std::fprintf(stderr, "Fatal error : Not superuser (stratad -U starts without root)\n");
		return 1;
	}

	// The user to switch to once everything is open (-u, `user`): looked up
	// now, so that one that does not exist stops the start at once.
	auto user = look_up_user(target_user(options.user, config.user));
	if (!user) {
		const Error &e = user.error();
		std::fprintf(stderr, "Fatal error : %s\n",
			     (e.code == make_error_code(Errc::NotFound) ? e.context : e.message()).c_str());
		return 1;
	}
	bool switching = should_switch_to(*user);
	uid_t owner_uid = switching ? user->uid : ::geteuid();
	gid_t owner_gid = switching ? user->gid : ::getegid();

	StartupPipe startup;
	if (!options.foreground) {
		auto fd = daemonize();
		if (!fd) {
			std::fprintf(stderr, "Fatal error : %s\n", fd.error().message().c_str());
			return 1;
		}
		startup.set(std::move(*fd));
	}

	std::unique_ptr<Logger> log;
	FileLogger *log_file = nullptr;  // -l: reopened on SIGHUP
	if (!options.log_file.empty()) {
		auto file = FileLogger::open(options.log_file);
		if (!file) {
			std::fprintf(stderr, "Fatal error : %s\n", file.error().message().c_str());
			startup.report(false);
			return 1;
		}
		log_file = file->get();
		log = std::move(*file);
	} else if (options.debug > 0) {
		log = std::make_unique<StreamLogger>(stderr);
	} else {
		log = std::make_unique<SyslogLogger>();
	}
	log->set_min_level(options.min_level);
	auto fatal = [&](const std::string &message) {
		log->fatal("{}", message);
		startup.report(false);
		return 1;
	};

	// -q and -Q measure once and exit: no pid file, no server.
	auto pidfile = PidFile::acquire(options.once() ? std::string() : config.pidfile);
	if (!pidfile) {
		// "Another stratad is already running (pid N, pidfile F)" says it all.
		const Error &e = pidfile.error();
		return fatal(e.code == make_error_code(Errc::Busy) ? e.context : e.message());
	}

	log->info("stratad version {} starting", STRATA_VERSION);
	// logdir and dumpdir, made for the user when missing (chronyd's
	// CNF_CreateDirs); the command socket's directory is the server's.
	for (const auto &d : directories_for_user(config)) {
		if (auto made = create_directories(d.path, static_cast<mode_t>(d.mode), owner_uid, owner_gid); !made) {
			log->error("{} ({})", made.error().context, d.what);
		}
	}
	// The clock the discipline steers: the system clock itself, unless -x or
	// -Q say not to, or the kernel refuses (no CAP_SYS_TIME): then a
	// corrected copy of it, and the system clock is never touched.
	std::unique_ptr<LocalClock> clock;
	std::string refused;  // why the system clock cannot be steered
	if (options.no_clock_control || options.print_offset) {
		log->info("Disabled control of system clock");
	} else if (auto system = phc::PosixClock::system(); !system) {
		refused = system.error().message();
		log->warning("Could not read the system clock's state ({}); not controlling it", refused);
	} else if (auto probe = system->set_frequency_ppm(system->frequency_ppm()); !probe) {
		// Writing back the frequency it has is a change of nothing that
		// tells whether changes are allowed.
		refused = probe.error().message();
		log->warning("Not allowed to control the system clock ({}); measuring and serving only, as with -x",
			     refused);
	} else {
		// rtcsync: a synchronised clock lets the kernel copy it to the RTC.
		system->set_rtc_sync(config.rtcsync);
		clock = std::make_unique<SystemClock>(std::move(*system));
	}
	bool steering = clock != nullptr;
	if (!clock && options.set_once && !options.no_clock_control) {
		// -q is there to set the clock: measuring alone would be a silent -Q.
		return fatal(fmt::format("Could not step the system clock: {}", refused));
	}
	if (!clock) {
		clock = std::make_unique<UnsteeredClock>();
	}

	// How the RTC keeps time (rtconutc, hwclockfile), and -s: the clock set
	// from it before anything measures against the clock.
	rtc::RtcTimescale rtc_scale;
	if (!config.rtcfile.empty() || options.set_from_rtc) {
		rtc_scale = rtc_timescale(config, files, *log);
	}
	if (options.set_from_rtc) {
		set_clock_at_start(config, rtc_scale, files, *clock, steering, *log);
	}

	if (options.lock_memory || config.lock_all) {
		lock_memory(*log);
	}
	if (int priority = options.priority.value_or(config.sched_priority); priority > 0) {
		set_fifo_priority(priority, *log);
	}

	auto created = PollLoop::create();
	if (!created) {
		return fatal(created.error().message());
	}
	PollLoop &loop = **created;

	std::optional<LocalReferenceConfig> local = config.local;
	ReferenceState reference_state(local, loop.now());

	NtpServerSettings server_settings = ntp_server_settings(config, options);
	server_settings.keys = keys;
	// Symmetric packets (mode 1 and 2) from a configured `peer` go to the
	// source engine, once it runs.
	std::function<bool(const ntp::Datagram &)> to_peers;
	server_settings.symmetric = [&to_peers](const ntp::Datagram &d) { return to_peers && to_peers(d); };

	auto server = NtpServer::start(std::move(server_settings), loop, *log,
				       reference_state.current(loop.real_now(), loop.now()));
	if (!server) {
		return fatal(server.error().message());
	}
	for (const auto &where : (*server)->listening()) {
		log->info("Serving NTP on {}", where);
	}
	if (!(*server)->serving() && !options.once()) {
		if (config.port == 0) {
			log->info("Not serving NTP: port 0");
		} else if ((*server)->failed_sockets() > 0) {
			log->warning("Not serving NTP: no NTP socket could be opened");
		} else {
			log->info("Not serving NTP: no allow directive");
		}
	}

	// The drift file: where the frequency starts (chronyd's format).
	std::optional<DriftValues> drift;
	if (config.driftfile && !options.print_offset) {
		if (auto text = files.read(config.driftfile->path); text) {
			if (auto values = parse_drift(*text); values) {
				drift = *values;
				log->info("Frequency {:.3f} +/- {:.3f} ppm read from {}", -values->correction_ppm,
					  values->skew_ppm, config.driftfile->path);
			} else {
				log->warning("Could not read valid frequency and skew from driftfile {} ({}); it will be "
					     "replaced once the frequency is measured",
					     config.driftfile->path, values.error().context);
			}
		} else if (text.error().code != std::errc::no_such_file_or_directory) {
			log->warning("Could not open driftfile {}: {}", config.driftfile->path, text.error().code.message());
		}
	}

	// Leap seconds from a file, when configured: it announces them instead of
	// the sources' leap bits.
	std::shared_ptr<const LeapTable> leap_table;
	if (!config.leapseclist.empty() || !config.leapsectz.empty()) {
		bool list = !config.leapseclist.empty();
		std::string path = list ? config.leapseclist : "/usr/share/zoneinfo/" + config.leapsectz;
		auto text = files.read(path);
		Result<LeapTable> table = text ? (list ? LeapTable::parse_list(*text)
						       : LeapTable::parse_tzif(std::as_bytes(std::span(*text))))
					       : Result<LeapTable>(tl::unexpected(text.error()));
		if (!table) {
			const Error &e = table.error();
			log->warning("Could not read leap seconds from {}: {}; the sources' leap bits are used", path,
				     e.code == make_error_code(Errc::Malformed) ? e.context : e.message());
		} else {
			log->info("Loaded {} leap second entries from {} (TAI-UTC now {} s)", table->changes().size(), path,
				  table->tai_offset(clock->now()));
			if (table->expires_s() && *table->expires_s() < clock->now().seconds()) {
				log->warning("Leap second list {} has expired", path);
			}
			leap_table = std::make_shared<const LeapTable>(std::move(*table));
		}
	}

	// log + logdir: chronyd's statistics log files (not for -q/-Q).
	std::unique_ptr<LogFiles> log_files;
	if (!config.log.empty() && !options.once()) {
		if (config.logdir.empty()) {
			log->warning("log directive without logdir: no log files written");
		} else {
			// Paused until the user is switched: files are created as the user.
			log_files = LogFiles::start({.directory = config.logdir, .logs = config.log,
						     .banner_every = config.logbanner, .start_paused = true}, *log);
		}
	}

	sources::EngineSettings engine_settings{
		.ipv4 = options.family != 6,
		.ipv6 = options.family != 4,
		.print_once = options.print_offset,
		.set_once = options.set_once,
		.drift = drift,
		.leap_table = leap_table,
		.keys = keys};
	auto sources_started =
		start_sources(config, engine_settings, loop, *log, *clock, reference_state, log_files.get());
	if (!sources_started) {
		return fatal(sources_started.error().message());
	}
	DaemonSources &running = *sources_started;
	sources::Engine &engine = *running.engine;
	to_peers = [&engine](const ntp::Datagram &d) {
		return engine.on_symmetric_packet(
			{.from = d.peer.ip, .from_port = d.peer.port, .local = d.local, .rx_system = d.rx_time, .payload = d.payload()});
	};
	loop.on_clock_jump([&engine](double step_s) { engine.on_external_step(step_s); });
	if (auto *system = dynamic_cast<SystemClock *>(clock.get())) {
		system->on_step = [&loop](double step_s) { loop.note_own_step(step_s); };
	}
	running.io->set_symmetric_sender([&server](const IpAddress &to, uint16_t port, std::span<const std::byte> p) {
		return (*server)->send_from_port({to, port}, p);
	});
	if (options.once() && engine.size() == 0) {
		return fatal("No usable NTP source to measure the offset against");
	}

	// rtcfile: the RTC measured against the steered clock, following its
	// changes. Without a usable RTC the daemon runs on without it (logged).
	std::unique_ptr<RtcTracking> rtc_tracking;
	std::optional<WatchId> rtc_watch;
	if (!config.rtcfile.empty() && !options.once()) {
		rtc_tracking = start_rtc_tracking(
			config, rtc_scale, files, loop, [&] { return clock->from_system(loop.real_now()); },
			[&] { return sources::tracking_report(engine).leap != Leap::Unsynchronized; },
			[&](const rtc::RtcMeasurement &m) {
				if (log_files) {
					RtcEntry e{.time = m.time,
						   .rtc_fast_s = m.fast_s,
						   .valid = m.model.has_value(),
						   .samples = static_cast<int>(m.samples),
						   .runs = static_cast<int>(m.runs),
						   .interval_s = static_cast<int>(to_seconds(m.since_previous))};
					if (m.model) {
						e.est_fast_s = m.model->fast_at(m.time);
						e.slope_ppm = m.model->drift_ppm;
					}
					log_files->rtc(e);
				}
			},
			*log);
	}
	if (rtc_tracking) {
		RtcTracking *tracking = rtc_tracking.get();
		rtc_watch = loop.watch_fd(tracking->fd(), POLLIN, [tracking](short) { tracking->on_readable(); });
		engine.set_clock_observer([tracking](const ClockChange &c) { tracking->on_clock_change(c); });
	}

	// The command and monitoring server (chronyc, stratactl): the Unix
	// socket and UDP on localhost, as chronyd.
	std::unique_ptr<DaemonControl> control;
	std::unique_ptr<ControlServer> control_server;
	if (!options.once()) {
		control = std::make_unique<DaemonControl>(engine, **server, loop, *log);
		control->set_rtc(rtc_tracking.get());
		control->set_log_files(log_files.get());
		control->set_dumpdir(config.dumpdir);
		control->set_keyfile(config.keyfile);
		auto cs = control_server_settings(config, options);
		if (!cs) {
			return fatal(cs.error().message());
		}
		cs->owner = ControlServer::Settings::Owner{owner_uid, owner_gid};
		auto started = ControlServer::start(std::move(*cs), loop, *log, *control);
		if (!started) {
			log->error("Could not start the command server: {}", started.error().message());
		} else {
			control_server = std::move(*started);
			control->set_control_server(control_server.get());
			for (const auto &where : control_server->listening()) {
				log->info("Serving commands on {}", where);
			}
		}
	}

	// The Prometheus metrics endpoint (metricsaddress, strata only), on the
	// loop like the command server; if it cannot start, the daemon runs on.
	std::unique_ptr<MetricsServer> metrics;
	if (control && config.metricsaddress) {
		auto started = MetricsServer::start(
			config.metricsaddress->address, config.metricsaddress->port, loop, *log, *control,
			localhost_and(config.metrics_access), [&] {
				const NtpServerStats &s = (*server)->stats();
				return control::MetricsExtras{
					.refclocks = sources::refclock_counters(engine),
					.ntp_server = control::NtpServerCounters{.responses = s.responses.load(),
										 .kod_sent = s.kod_sent.load()}};
			});
		if (!started) {
			log->error("Could not serve metrics: {}", started.error().message());
		} else {
			metrics = std::move(*started);
			log->info("Serving metrics on {}", metrics->url());
		}
	}

	// The reference (synchronised, local or unsynchronised) is refreshed every
	// second: root dispersion and the local reference time move with the clock.
	SystemdNotifier systemd;
	if (!systemd.load_error().empty()) {
		log->warning("Cannot notify systemd: {}", systemd.load_error());
	}
	std::function<void()> refresh = [&] {
		(*server)->publish_reference(reference_state.current(loop.real_now(), loop.now()));
		if (control && systemd.enabled()) {
			systemd.update(control->tracking());
		}
		loop.add_timer(loop.now() + std::chrono::seconds(1), refresh);
	};
	refresh();

	for (int signo : {SIGTERM, SIGINT, SIGQUIT}) {
		if (auto r = loop.on_signal(signo, [&loop] { loop.stop(); }); !r) {
			return fatal(r.error().message());
		}
	}
	// SIGHUP (systemctl reload, logrotate): the sources of `sourcedir` read
	// again (chronyc's `reload sources`) and the log files reopened
	// (`cyclelogs`, and -l's file); the daemon runs on.
	auto reload = [&] {
		if (log_file != nullptr) {
			if (auto reopened = log_file->reopen(); !reopened) {
				log->error("Could not reopen {}: {}", options.log_file, reopened.error().message());
			}
		}
		log->info("Received SIGHUP: log files reopened, sources reloaded");
		if (log_files) {
			log_files->cycle();
		}
		if (!engine.reload_sources()) {
			log->warning("Could not reload sources");
		}
	};
	if (auto r = loop.on_signal(SIGHUP, reload); !r) {
		return fatal(r.error().message());
	}
	std::signal(SIGPIPE, SIG_IGN);
	if (options.timeout_s) {
		loop.add_timer(loop.now() + from_seconds(*options.timeout_s), [&] {
			log->info("Timeout of {} seconds reached", *options.timeout_s);
			loop.stop();
		});
	}

	// Save the frequency at the drift file's interval, and on exit.
	auto save_drift = [&] {
		if (!config.driftfile) {
			return;
		}
		if (auto values = engine.drift()) {
			if (auto w = write_file_atomically(config.driftfile->path, format_drift(*values)); !w) {
				log->error("Could not write driftfile: {}", w.error().message());
			}
		}
	};
	std::function<void()> drift_timer = [&] {
		save_drift();
		loop.add_timer(loop.now() + std::chrono::seconds(std::max(1, config.driftfile->interval_s)), drift_timer);
	};
	if (config.driftfile && !options.once()) {
		loop.add_timer(loop.now() + std::chrono::seconds(std::max(1, config.driftfile->interval_s)), drift_timer);
	}

	// Everything that needs root is open (ports, devices, sockets, the pid
	// and log files): the user switched to, keeping only what steering
	// needs, then the system call filter (chronyd's order).
	if (switching) {
		if (auto given = log_file ? log_file->give_to(owner_uid, owner_gid) : Result<>(); !given) {
			log->warning("{}", given.error().message());
		}
		auto now = switch_to_user(*user, capabilities_to_keep(steering));
		if (!now) {
			return fatal(fmt::format("Could not switch to user {}: {}", user->name, now.error().message()));
		}
		log->info("Switched to user {} (UID {}, GID {}), capabilities: {}", user->name, user->uid, user->gid, *now);
		for (const auto &d : options.once() ? std::vector<WrittenDirectory>{} : directories_written_after_switch(config)) {
			if (auto why = cannot_write_in(d.path); !why.empty()) {
				log->warning("User {} cannot write in {} ({}), needed for the {}", user->name, d.path, why, d.what);
			}
		}
	} else if (::geteuid() != 0 && user->uid != ::geteuid()) {
		log->warning("Not started as root: running as UID {}, not as user {}", ::geteuid(), user->name);
	}
	if (auto filtered = install_syscall_filter(options.syscall_filter); !filtered) {
		return fatal(fmt::format("Could not load the system call filter: {}", filtered.error().message()));
	}
	if (options.syscall_filter != 0) {
		log->info("Loaded seccomp filter (level {})", options.syscall_filter);
	}
	if (log_files) {
		log_files->resume();
	}
	startup.report(true);
	if (!options.foreground) {
		detach_stdio();
	}
	if (control) {
		systemd.ready(control->tracking());
	}
	auto ran = loop.run();
	systemd.stopping();
	bool measured = !options.once() || engine.printed_offset().has_value();
	if (!options.once()) {
		save_drift();
	}
	if (rtc_tracking) {
		rtc_tracking->stop();  // interrupts off, the rtcfile written
		loop.unwatch(*rtc_watch);
		engine.set_clock_observer({});
	}
	metrics.reset();
	control_server.reset();
	control.reset();
	rtc_tracking.reset();
	to_peers = nullptr;
	loop.on_clock_jump({});
	running.engine.reset();
	log_files.reset();
	server->reset();
	log->info("stratad exiting");
	if (!ran) {
		log->error("{}", ran.error().message());
		return 1;
	}
	if (!measured) {
		log->error("No suitable source for synchronisation");
		return 1;
	}
	return 0;
}

} // namespace
} // namespace strata::daemon

int main(int argc, char **argv)
{
	std::vector<std::string> args(argv + 1, argv + argc);
	auto options = strata::daemon::parse_command_line(args);
	if (!options) {
		std::fprintf(stderr, "stratad: %s\n", options.error().context.c_str());
		return 1;
	}
	if (options->help) {
		std::fputs(strata::daemon::usage().c_str(), stdout);
		return 0;
	}
	if (options->version) {
		// chronyd's form: the features built in, + or −, for scripts
		// (chrony's test suite reads them). +CMAC is strata's: chronyd
		// keeps it in config.h (HAVE_CMAC), which that suite also reads.
		std::printf("stratad (strata) version %s (+CMDMON +NTP +REFCLOCK +RTC +PPS +PHC +PRIVDROP "
			    "+SCFILTER -SIGND -ASYNCDNS -NTS +SECHASH +CMAC +IPV6 -DEBUG; NTP era split %lld)\n",
			    STRATA_VERSION, static_cast<long long>(strata::ntp::kNtpEraSplit));
		return 0;
	}
	return strata::daemon::run(*options);
}
