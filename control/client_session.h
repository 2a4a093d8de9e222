// stratactl's command logic, pure: chronyc's command lines in, requests out
// through an Exchanger, chronyc's text (or strata's JSON) back on two
// streams. The sockets, the resolver and the sleeping live behind the three
// small interfaces below (control/cmdmon_client_linux.h implements them), so
// that every command runs in tests against a scripted daemon.
//
// What chronyc users rely on is kept: the order of requests (so that an
// error line lands where chronyc prints it, after a table's header or
// before it), the status lines ("501 Not authorised"), chronyc's error
// messages on stderr, and the success value that becomes the exit status.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "control/cmdmon.h"
#include "control/report_format.h"
#include "core/address.h"

namespace strata::control {

/// The transport: one request, its answer.
class Exchanger {
public:
	virtual ~Exchanger() = default;
	/// Sends `request` (the exchanger sets its sequence number and attempt
	/// count) and returns the reply that answers() it, after chronyc's
	/// retries and, when one server stays silent, the next server address.
	/// nullopt: no server answered ("506 Cannot talk to daemon"). Blocks.
	virtual std::optional<Reply> exchange(const Request &request) = 0;
};

/// Name resolution, for addresses typed on the command line and for the
/// name columns.
class NameService {
public:
	virtual ~NameService() = default;
	/// The first address a host name resolves to (numeric addresses never
	/// get here); nullopt when it does not resolve. May block.
	virtual std::optional<IpAddress> lookup(std::string_view name, std::optional<IpAddress::Family> family) = 0;
	/// The host name of an address, or its numeric text when it has none.
	virtual std::string reverse(const IpAddress &address) = 0;
};

/// Waiting between waitsync attempts.
class Pause {
public:
	virtual ~Pause() = default;
	/// Sleeps `seconds`; false when interrupted (SIGINT, SIGTERM).
	virtual bool sleep(double seconds) = 0;
	/// Whether the user asked to stop (chronyc's quit flag).
	virtual bool interrupted() const = 0;
};

/// Random bytes for `keygen`'s keys.
class RandomSource {
public:
	virtual ~RandomSource() = default;
	/// Fills `out` from a generator fit for key material (the kernel's);
	/// false when it failed. May block until the generator is seeded.
	virtual bool fill(std::span<uint8_t> out) = 0;
};

struct SessionOptions {
	bool csv = false;           ///< -c
	bool numeric = false;       ///< -n: no reverse DNS
	bool source_names = false;  ///< -N: the names sources were configured with
	bool json = false;          ///< -j: strata's JSON objects, one per line
	std::optional<IpAddress::Family> family;  ///< -4 / -6
};

/// One stratactl session: the commands of one invocation.
class Session {
public:
	/// `random`: for keygen (nullptr: keygen says it has no generator).
	Session(Exchanger &exchanger, NameService &names, Pause &pause, SessionOptions options,
		std::ostream &out, std::ostream &err, RandomSource *random = nullptr);

	/// Runs one command line as chronyc does (whitespace collapsed, comment
	/// lines ignored). Returns whether it succeeded: stratactl's exit status
	/// is 0 when the last command it ran succeeded.
	bool run(std::string_view line);
	/// After `quit`/`exit`, or an interrupted waitsync.
	bool quit_requested() const { return quit_; }

private:
	struct Sources;

	std::optional<Reply> request(const Request &request, ReplyType expected, bool verbose,
				     std::string_view command);
	void print_status_line(std::string_view command, std::string_view line, bool success);
	std::optional<Address> parse_address(std::string_view word);
	std::optional<MaskArgs> parse_mask_address(std::string_view text);
	/// A row's name column: a reference clock's id (`refclock`) as text,
	/// else the configured name (with -N, `from_source`), the address (-n,
	/// -c) or its resolved name cut to `truncate` columns.
	std::string name_of(const Address &address, std::optional<uint32_t> refclock, bool from_source,
			    size_t truncate);
	std::optional<uint32_t> n_sources(std::string_view command);

	bool cmd_tracking();
	bool cmd_sources(std::string_view args);
	bool cmd_sourcestats(std::string_view args);
	bool cmd_selectdata(std::string_view args);
	bool cmd_authdata(std::string_view args);
	bool cmd_clients(std::string_view args);
	bool cmd_ntpdata(std::string_view args);
	bool cmd_simple_report(std::string_view command, Command code, ReplyType type);
	bool cmd_sourcename(std::string_view args);
	bool cmd_waitsync(std::string_view args);
	bool cmd_dns(std::string_view args);
	/// keygen [ID [TYPE [BITS]]]: one keyfile line with a new random key,
	/// as chronyc prints it (default key 1, SHA1, 160 bits); no daemon
	/// is asked.
	bool cmd_keygen(std::string_view args);
	/// Builds the request of a command that only returns a status; nullopt
	/// (after printing chronyc's error) when the arguments are bad.
	std::optional<Request> status_command(std::string_view command, std::string_view args, bool &known);

	Exchanger &exchanger_;
	NameService &names_;
	Pause &pause_;
	SessionOptions options_;
	std::ostream &out_;
	std::ostream &err_;
	RandomSource *random_;
	bool quit_ = false;
};

/// chronyc's normalisation of a command line: leading and trailing
/// whitespace dropped, runs of whitespace made one space, and lines that
/// start with ! ; # or % emptied (comments).
std::string normalize_line(std::string_view line);

// --- The command line -------------------------------------------------------

/// The servers stratactl tries, in order, when -h is not given: the daemon's
/// Unix socket, then UDP on both loopbacks (chronyc's order).
inline constexpr std::string_view kDefaultHosts = "/run/strata/stratad.sock,127.0.0.1,::1";

struct CommandLine {
	std::string hosts{kDefaultHosts};  ///< -h: comma-separated; '/' starts a socket path
	uint16_t port = kDefaultPort;      ///< -p
	bool multi = false;                ///< -m: each argument is a command
	SessionOptions session;
	std::vector<std::string> commands;  ///< empty: read commands from stdin
	bool help = false;
	bool version = false;
	std::string error;  ///< not empty: a bad option (print it and the usage, exit 1)
};

/// Parses stratactl's arguments (argv without the program name) as chronyc
/// does with getopt("+46acdf:h:mnNp:v"), plus -j: options end at the first
/// command word; --help and --version are honoured anywhere.
CommandLine parse_command_line(const std::vector<std::string> &args);

/// The commands to run: all arguments as one line, or with -m each one.
std::vector<std::string> command_lines(const CommandLine &cl);

/// The usage text for --help.
std::string usage_text(std::string_view program);

// --- Retries ------------------------------------------------------------------

/// chronyc's schedule: a request is sent up to kMaxAttempts times, waiting
/// 1 s for the first answer and twice as long for each next one.
inline constexpr int kMaxAttempts = 3;
inline constexpr double kFirstTimeoutS = 1.0;
/// How long to wait for an answer to attempt `attempt` (0-based).
double attempt_timeout_s(int attempt);

} // namespace strata::control
