// The typed configuration: what a chrony.conf (and strata's own extensions)
// says, after parsing and range checking. conf/parser.h builds it; the daemon
// reads it. Every chrony 4.x directive has a home here, whether strata acts on
// it yet or not (conf/directives.h says which), so that `stratad -p` can print
// a whole chrony.conf back and a typo in any directive is caught.
//
// Units are in the names where the type cannot carry them (_s seconds,
// _ppm parts per million, _log2 powers of two seconds). Defaults are
// chrony.conf(5)'s.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/discipline.h"
#include "core/reference.h"

namespace strata::conf {

/// An address and port ("127.0.0.1:9123", "[::1]:9123").
struct SocketAddress {
	IpAddress address;
	uint16_t port = 0;
	friend bool operator==(const SocketAddress &, const SocketAddress &) = default;
};

/// Where a directive came from, for messages about it after parsing.
struct Origin {
	std::string file;  ///< path, or "command line"
	int line = 0;
	friend bool operator==(const Origin &, const Origin &) = default;
};

enum class SourceKind { Server, Pool, Peer };

/// `server`, `pool` and `peer` (chrony.conf(5) "Time sources"); the options'
/// names, ranges and wire forms are in conf/source_options.h.
struct SourceConfig {
	SourceKind kind = SourceKind::Server;
	std::string host;
	int minpoll_log2 = 6;
	int maxpoll_log2 = 10;
	bool iburst = false;
	bool burst = false;
	bool prefer = false;
	bool noselect = false;
	bool trust = false;
	bool require = false;
	bool xleave = false;
	bool offline = false;
	bool auto_offline = false;
	bool nts = false;
	bool copy = false;
	bool ipv4_only = false;
	bool ipv6_only = false;
	std::optional<uint32_t> key;
	int certset = 0;
	double maxdelay_s = 3.0;
	double maxdelayratio = 0.0;     ///< 0 = off
	double maxdelaydevratio = 10.0;
	double maxdelayquant = 0.0;     ///< 0 = off
	double mindelay_s = 0.0;
	std::optional<double> asymmetry;  ///< nullopt = estimated
	double offset_s = 0.0;
	std::optional<int> minsamples;
	std::optional<int> maxsamples;
	int maxunreach = 100000;
	int filter = 0;
	int polltarget = 8;
	int port = 123;
	int ntsport = 4460;
	int presend_log2 = 0;           ///< 0 = off
	int minstratum = 0;
	std::optional<int> version;  ///< nullopt: 4, or 3 with a key whose MAC NTPv4 would truncate (chronyd)
	int maxsources = 4;             ///< pool only
	std::vector<std::string> extfields;  ///< as written: F323, F324, 10A
	Origin origin;
	/// Read from a `sourcedir` file: `reload sources` may remove it.
	bool from_sourcedir = false;
	friend bool operator==(const SourceConfig &, const SourceConfig &) = default;
};

/// `refclock DRIVER PARAM[:OPT…] [options]`.
struct RefclockConfig {
	std::string driver;         ///< upper case: PPS, SHM, SOCK, PHC, RTC (and strata's GPIO)
	std::string parameter;      ///< device, path or unit, with its :options
	int poll_log2 = 4;
	int dpoll_log2 = 0;
	std::string refid;          ///< empty = derived from the driver (PPS0, SHM0…)
	std::string lock;           ///< refid of the refclock a PPS source is locked to
	int rate = 1;
	int maxlockage = 2;
	double width_s = 0.0;
	bool pps = false;
	double offset_s = 0.0;
	double delay_s = 1e-9;
	int stratum = 0;
	std::optional<double> precision_s;
	double maxdispersion_s = 1.0;
	std::optional<int> filter;
	bool prefer = false;
	bool noselect = false;
	bool trust = false;
	bool require = false;
	bool tai = false;
	bool local = false;
	std::optional<int> minsamples;
	std::optional<int> maxsamples;
	int maxunreach = 100000;
	Origin origin;
};

/// One `allow`/`deny` (or `cmdallow`/`cmddeny`) line, in file order.
struct AccessRule {
	bool allow = true;
	bool all = false;
	std::optional<Subnet> subnet;  ///< nullopt = every address of both families
	Origin origin;
};

/// `ratelimit`, `ntsratelimit`, `cmdratelimit`.
struct RateLimit {
	int interval_log2 = 3;
	int burst = 8;
	int leak = 2;
	int kod = 0;  ///< ratelimit only
	/// ratelimit only, strata only: the prefix lengths by which client
	/// addresses are grouped into one client (ntp/client_log.h).
	int ipv4prefix = 32;
	int ipv6prefix = 64;
};

/// `local`.
using LocalConfig = LocalReferenceConfig;

/// `makestep THRESHOLD LIMIT` and `maxchange OFFSET START IGNORE`: the
/// discipline's own settings, parsed straight into its types.
using MakeStep = DisciplineConfig::MakeStep;
using MaxChange = DisciplineConfig::MaxChange;

struct DriftFile {
	std::string path;
	int interval_s = 3600;
};

struct FallbackDrift {
	int min_log2 = 0;
	int max_log2 = 0;
};

struct SmoothTime {
	double max_freq_ppm = 0;
	double max_wander_ppm_per_s = 0;
	bool leaponly = false;
};

struct TempComp {
	std::string sensor_file;
	double interval_s = 0;
	std::string points_file;  ///< set for the points form, else the coefficients
	double t0 = 0, k0 = 0, k1 = 0, k2 = 0;
};

struct Broadcast {
	int interval_s = 0;
	IpAddress address;
	int port = 123;
};

struct HwTimestamp {
	std::string interface;  ///< or "*"
	int minpoll_log2 = 0;
	int maxpoll_log2 = 0;
	int minsamples = 2;
	int maxsamples = 16;
	std::optional<double> precision_s;
	double txcomp_s = 0;
	double rxcomp_s = 0;
	bool nocrossts = false;
	std::string rxfilter;  ///< all, ntp, ptp, none; empty = default
};

struct InitStepSlew {
	double threshold_s = 0;
	std::vector<std::string> hosts;
};

struct TrustedCerts {
	int set = 0;
	std::string path;
};

struct MailOnChange {
	std::string address;
	double threshold_s = 0;
};

/// The whole configuration. Fields take chrony's defaults; `present` names the
/// directives that appeared (for the canonical dump and for "is X set").
struct Config {
	std::set<std::string> present;
	std::map<std::string, Origin> origins;  ///< last line of each present directive

	// Time sources
	std::vector<SourceConfig> sources;
	/// The directories of each `sourcedir` line (their sources are in
	/// `sources`), for `reload sources`.
	std::vector<std::vector<std::string>> sourcedirs;
	std::optional<InitStepSlew> initstepslew;
	std::vector<RefclockConfig> refclocks;
	bool manual = false;
	int acquisitionport = 0;
	std::vector<IpAddress> bindacqaddress;
	std::string bindacqdevice;
	int dscp = 0;
	std::string dumpdir;
	int maxsamples = 0;
	int minsamples = 6;
	std::vector<int> ntsaeads;
	std::string ntsdumpdir;
	int ntsrefresh_s = 2419200;
	std::vector<TrustedCerts> ntstrustedcerts;
	bool nosystemcert = false;
	int nocerttimecheck = 0;
	int refresh_s = 1209600;

	// Source selection
	std::string authselectmode = "mix";
	double combinelimit = 3.0;
	double maxdistance_s = 3.0;
	double maxjitter_s = 1.0;
	int maxstratum = 15;
	int minstratum = 0;
	int minsources = 1;
	double reselectdist_s = 1e-4;
	double stratumweight_s = 1e-3;

	// System clock
	std::optional<double> clockprecision_s;  ///< nullopt = measured
	double corrtimeratio = 3.0;
	std::optional<DriftFile> driftfile;
	std::optional<FallbackDrift> fallbackdrift;
	std::string leapsecmode = "system";
	std::string leapsectz;
	std::string leapseclist;
	std::optional<MakeStep> makestep;
	std::optional<MaxChange> maxchange;
	double maxclockerror_ppm = 1.0;
	double maxdrift_ppm = 100000.0;
	double maxupdateskew_ppm = 1000.0;
	double maxslewrate_ppm = 83333.333;
	std::optional<TempComp> tempcomp;

	// NTP server
	std::vector<AccessRule> ntp_access;
	std::optional<IpAddress> bindaddress_v4;
	std::optional<IpAddress> bindaddress_v6;
	std::string binddevice;
	std::vector<Broadcast> broadcasts;
	int64_t clientloglimit_bytes = 524288;
	bool noclientlog = false;
	std::optional<LocalConfig> local;
	std::string ntpsigndsocket;
	int ntsport = 4460;
	std::vector<std::string> ntsservercert;
	std::vector<std::string> ntsserverkey;
	int ntsprocesses = 1;
	int maxntsconnections = 100;
	std::string ntsntpserver;
	int ntsrotate_s = 604800;
	int port = 123;
	std::optional<RateLimit> ratelimit;
	RateLimit ntsratelimit{.interval_log2 = 6, .burst = 8, .leak = 2};
	std::optional<SmoothTime> smoothtime;
	int serverthreads = 1;  ///< strata-only: SO_REUSEPORT worker threads
	int serverbatchdelay_us = 300;  ///< strata-only: longest wait to answer requests together under load

	// Command and monitoring access
	std::optional<IpAddress> bindcmdaddress_v4;
	std::optional<IpAddress> bindcmdaddress_v6;
	std::string bindcmdpath = "/run/strata/stratad.sock";
	std::string bindcmddevice;
	std::vector<AccessRule> cmd_access;
	int cmdport = 323;
	/// strata-only: the monitoring group that may read reports over the
	/// Unix socket (empty: none), and the socket file's mode (default 0660
	/// with a group, else 0666 in a root-only directory).
	std::string cmdsocketgroup;
	std::optional<int> cmdsocketmode;
	RateLimit cmdratelimit{.interval_log2 = -4, .burst = 8, .leak = 2};
	std::vector<std::string> opencommands;
	/// strata-only `metricsaddress ADDRESS:PORT`: where the Prometheus
	/// metrics endpoint listens; nullopt = off.
	std::optional<SocketAddress> metricsaddress;
	/// strata-only `metricsallow`/`metricsdeny`: who may scrape it, on top
	/// of localhost (cmdallow's grammar and rules).
	std::vector<AccessRule> metrics_access;

	// Real-time clock
	std::string hwclockfile;
	double rtcautotrim_s = 0;
	std::string rtcdevice = "/dev/rtc";
	std::string rtcfile;
	bool rtconutc = false;
	bool rtcsync = false;

	// Logging
	std::set<std::string> log;  ///< measurements, statistics, tracking…
	int logbanner = 32;
	double logchange_s = 1.0;
	std::string logdir;
	std::optional<MailOnChange> mailonchange;

	// Miscellaneous
	std::vector<HwTimestamp> hwtimestamps;
	double hwtstimeout_s = 0.001;
	int maxtxbuffers = 0;
	std::string keyfile;
	bool lock_all = false;
	std::string pidfile = "/run/strata/stratad.pid";  ///< empty = none (`pidfile /`)
	int ptpport = 0;
	int ptpdomain = 123;
	int sched_priority = 0;
	std::string user;
};

} // namespace strata::conf
