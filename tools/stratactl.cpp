// stratactl: strata's control client. chronyc's command line, commands and
// output, byte for byte, against stratad or chronyd, plus JSON (-j). The
// logic is control/client_session.h; this file wires it to the sockets.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "control/client_session.h"
#include "control/cmdmon_client_linux.h"

using namespace strata::control;

int main(int argc, char **argv)
{
	std::vector<std::string> args(argv + 1, argv + argc);
	CommandLine cl = parse_command_line(args);
	if (cl.help) {
		std::cout << usage_text(argv[0]);
		return 0;
	}
	if (cl.version) {
		std::cout << "stratactl (strata) version " STRATA_VERSION "\n";
		return 0;
	}
	if (!cl.error.empty()) {
		std::cerr << argv[0] << ": " << cl.error << '\n' << usage_text(argv[0]);
		return 1;
	}

	install_quit_handlers();
	SocketExchanger exchanger(resolve_servers(cl.hosts, cl.port, cl.session.family));
	if (!exchanger.open_next()) {
		std::cerr << "Could not open connection to daemon\n";
		return 1;
	}
	SystemNameService names;
	SystemPause pause;
	SystemRandom random;
	Session session(exchanger, names, pause, cl.session, std::cout, std::cerr, &random);

	bool ok = true;
	std::vector<std::string> lines = command_lines(cl);
	if (!lines.empty()) {
		for (const std::string &line : lines) {
			ok = session.run(line);
			if (!ok || session.quit_requested()) {
				break;
			}
		}
	} else {
		// Commands from standard input, one a line, as chronyc reads them.
		bool terminal = isatty(0) && isatty(1);
		std::string line;
		for (;;) {
			if (terminal) {
				std::cout << "stratactl> " << std::flush;
			}
			if (!std::getline(std::cin, line)) {
				if (terminal) {
					std::cout << '\n';
				}
				break;
			}
			ok = session.run(line);
			if (session.quit_requested()) {
				break;
			}
		}
	}
	return ok ? 0 : 1;
}
