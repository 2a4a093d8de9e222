#include "daemon/options.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>

#include <fmt/format.h>

namespace strata::daemon {

namespace {

/// chronyd's flags that take a value (its getopt string "46df:F:hl:L:mnNpP:qQrRst:u:Uvx").
constexpr std::string_view kWithValue = "fFlLPtu";
constexpr std::string_view kFlags = "46dhmnpqQrRsUvx";
/// Recognised, refused until implemented.
constexpr std::string_view kNotYet = "rR";

tl::unexpected<Error> usage_error(std::string message)
{
	return fail(Errc::InvalidArgument, std::move(message));
}

std::optional<int> to_int(std::string_view s)
{
	int v = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
		return std::nullopt;
	}
	return v;
}

} // namespace

Result<Options> parse_command_line(const std::vector<std::string> &args)
{
	Options o;
	size_t i = 0;
	for (; i < args.size(); i++) {
		std::string_view a = args[i];
		if (a == "--") {
			i++;
			break;
		}
		if (a == "--version") {
			o.version = true;
			continue;
		}
		if (a == "--help") {
			o.help = true;
			continue;
		}
		if (a.size() < 2 || a[0] != '-') {
			break;  // the first directive
		}
		for (size_t k = 1; k < a.size(); k++) {
			char f = a[k];
			if (kFlags.find(f) == std::string_view::npos && kWithValue.find(f) == std::string_view::npos) {
				return usage_error(fmt::format("unknown option -{} (stratad -h lists them)", f));
			}
			if (kNotYet.find(f) != std::string_view::npos) {
				return usage_error(fmt::format("option -{} is not supported by strata yet", f));
			}
			std::string value;
			if (kWithValue.find(f) != std::string_view::npos) {
				if (k + 1 < a.size()) {
					value = std::string(a.substr(k + 1));
				} else if (i + 1 < args.size()) {
					value = args[++i];
				} else {
					return usage_error(fmt::format("option -{} requires an argument", f));
				}
				k = a.size();
			}
			switch (f) {
			case '4':
				o.family = 4;
				break;
			case '6':
				o.family = 6;
				break;
			case 'd':
				o.debug++;
				o.foreground = true;
				break;
			case 'f':
				o.config_file = value;
				break;
			case 'h':
				o.help = true;
				break;
			case 'l':
				o.log_file = value;
				break;
			case 'L': {
				auto level = to_int(value);
				if (!level || *level < -1 || *level > 3) {
					return usage_error(fmt::format("-L {}: level must be -1 (debug) to 3 (fatal)", value));
				}
				o.min_level = static_cast<LogLevel>(*level);
				break;
			}
			case 'm':
				o.lock_memory = true;
				break;
			case 'n':
				o.foreground = true;
				break;
			case 'p':
				o.print_config = true;
				break;
			case 'Q':
				o.print_offset = true;
				o.foreground = true;
				o.debug = std::max(o.debug, 1);
				break;
			case 'q':
				o.set_once = true;
				o.foreground = true;
				o.debug = std::max(o.debug, 1);
				break;
			case 'P': {
				auto prio = to_int(value);
				if (!prio || *prio < 0 || *prio > 99) {
					return usage_error(fmt::format("-P {}: priority must be 0 to 99", value));
				}
				o.priority = *prio;
				break;
			}
			case 't': {
				double t = 0;
				auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), t);
				if (value.empty() || ec != std::errc() || end != value.data() + value.size() || !(t > 0) ||
				    !std::isfinite(t)) {
					return usage_error(fmt::format("-t {}: timeout must be a positive number of seconds", value));
				}
				o.timeout_s = t;
				break;
			}
			case 's':
				o.set_from_rtc = true;
				break;
			case 'U':
				o.allow_non_root = true;
				break;
			case 'u':
				if (value.empty()) {
					return usage_error("-u: the user name is empty");
				}
				o.user = value;
				break;
			case 'F': {
				auto level = to_int(value);
				if (!level || *level < -2 || *level > 2) {
					return usage_error(fmt::format("-F {}: level must be -2 to 2 (0 off, 1 allow only "
								       "stratad's system calls, 2 refuse a few; negative: "
								       "SIGSYS instead of a kill)",
								       value));
				}
				o.syscall_filter = *level;
				break;
			}
			case 'v':
				o.version = true;
				break;
			case 'x':
				o.no_clock_control = true;
				break;
			default:
				return usage_error(fmt::format("option -{} is not supported by strata yet", f));
			}
		}
	}
	for (; i < args.size(); i++) {
		o.directives.push_back(args[i]);
	}
	if (o.debug >= 2 && o.min_level > LogLevel::Debug) {
		o.min_level = LogLevel::Debug;
	}
	return o;
}

std::string usage()
{
	return "Usage: stratad [OPTION]... [DIRECTIVE]...\n"
	       "\n"
	       "Options (those of chronyd):\n"
	       "  -4\t\tUse IPv4 addresses only\n"
	       "  -6\t\tUse IPv6 addresses only\n"
	       "  -f FILE\tSpecify configuration file (/etc/strata/strata.conf)\n"
	       "  -n\t\tDon't run as daemon\n"
	       "  -d\t\tDon't run as daemon and log to stderr (twice: debug messages)\n"
	       "  -l FILE\tLog to file\n"
	       "  -L LEVEL\tSpecify minimum log level (-1 debug, 0 info, 1 warning, 2 error, 3 fatal)\n"
	       "  -p\t\tPrint configuration and exit\n"
	       "  -q\t\tSet the clock once (step it by the measured offset) and exit\n"
	       "  -Q\t\tPrint the offset of the clock once and exit (the clock is not touched)\n"
	       "  -s\t\tSet the clock from the RTC (or the drift file's time) at start\n"
	       "  -P PRIORITY\tSet process priority (SCHED_FIFO)\n"
	       "  -m\t\tLock memory\n"
	       "  -t SECONDS\tExit after this many seconds\n"
	       "  -u USER\tSwitch to this user once started (overrides the user directive;\n"
	       "\t\tdefault root: no switch), keeping only CAP_SYS_TIME\n"
	       "  -F LEVEL\tSet system call filter level (0 off, 1 only stratad's calls,\n"
	       "\t\t2 refuse a few; negative: SIGSYS instead of a kill) (0)\n"
	       "  -U\t\tDon't check for root\n"
	       "  -x\t\tDon't control system clock\n"
	       "  -v, --version\tPrint version and exit\n"
	       "  -h, --help\tPrint usage and exit\n"
	       "\n"
	       "Not supported by strata yet: -r -R.\n"
	       "Directives given after the options replace the configuration file.\n";
}

} // namespace strata::daemon
