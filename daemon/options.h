// stratad's command line: chronyd's flags, so that a unit file or a habit
// written for chronyd works unchanged (chronyd(8)). Flags strata does not
// implement yet are recognised and refused with a message naming them.
// Pure: parse_command_line takes the arguments and returns what they ask for.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/result.h"

namespace strata::daemon {

struct Options {
	std::string config_file = "/etc/strata/strata.conf";  ///< -f
	bool foreground = false;          ///< -n (and -d)
	int debug = 0;                    ///< -d count: 1 = log to stderr, 2 = also debug messages
	std::string log_file;             ///< -l
	LogLevel min_level = LogLevel::Info;  ///< -L
	bool print_config = false;        ///< -p
	bool print_offset = false;        ///< -Q: measure once, print the offset, exit (never steers)
	bool set_once = false;            ///< -q: measure once, step the clock by the offset, exit
	/// -q or -Q: one measurement, no server, no pid file, no drift file written.
	bool once() const { return print_offset || set_once; }
	bool no_clock_control = false;    ///< -x
	/// -s: set the clock at start from the RTC (rtcfile's model when there
	/// is one), or to the drift file's last modification if it is ahead.
	bool set_from_rtc = false;
	bool allow_non_root = false;      ///< -U
	/// -u: the user to switch to once everything that needs root is open;
	/// it overrides the `user` directive. Empty: the directive's, else
	/// root (no switch).
	std::string user;
	/// -F: the system call filter (chronyd's levels). 0 off; 1 only the
	/// calls stratad makes are allowed, 2 a few calls (process creation,
	/// exec, ptrace) are refused; positive: a refused call kills the
	/// process, negative (-1, -2): it gets SIGSYS (for debugging).
	int syscall_filter = 0;
	int family = 0;                   ///< 4 (-4), 6 (-6) or 0 for both
	std::optional<int> priority;      ///< -P: SCHED_FIFO priority
	bool lock_memory = false;         ///< -m
	std::optional<double> timeout_s;  ///< -t: exit after this long
	bool version = false;             ///< -v
	bool help = false;                ///< -h
	/// Configuration directives given after the flags; they replace the file.
	std::vector<std::string> directives;
};

/// Parses argv[1…]. Errors say what is wrong in chronyd's terms ("option -q
/// is not supported by strata yet", "option -f requires an argument").
Result<Options> parse_command_line(const std::vector<std::string> &args);

/// The -h text.
std::string usage();

} // namespace strata::daemon
