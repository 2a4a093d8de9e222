// stratasim: runs simulator scenario files (tools/sim/scenario_file.h) and
// prints one Markdown table row per scenario.
//   stratasim [--seed N | --seeds N] [--check] FILE...
// --seed replaces every scenario's seed; --seeds N runs each scenario with
// seeds 1…N and prints the median of each figure (single runs of a noisy
// scenario vary a lot: compare medians); --check exits 1 when a scenario
// (each run, with --seeds) breaks one of its `limit` lines (listed on stderr).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tools/sim/scenario_file.h"

int main(int argc, char **argv)
{
	std::vector<std::string> files;
	std::optional<uint64_t> seed;
	uint64_t seeds = 0;
	bool check = false;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		if (a == "--seed" && i + 1 < argc) {
			seed = std::strtoull(argv[++i], nullptr, 10);
		} else if (a == "--seeds" && i + 1 < argc) {
			seeds = std::strtoull(argv[++i], nullptr, 10);
		} else if (a == "--check") {
			check = true;
		} else if (a == "-h" || a == "--help" || a.starts_with("-")) {
			std::fprintf(stderr, "usage: stratasim [--seed N | --seeds N] [--check] FILE...\n");
			return a == "-h" || a == "--help" ? 0 : 1;
		} else {
			files.push_back(a);
		}
	}
	if (files.empty()) {
		std::fprintf(stderr, "usage: stratasim [--seed N | --seeds N] [--check] FILE...\n");
		return 1;
	}
	std::fputs(strata::sim::table_header().c_str(), stdout);
	int status = 0;
	for (const auto &path : files) {
		std::ifstream in(path);
		if (!in) {
			std::fprintf(stderr, "stratasim: cannot open %s\n", path.c_str());
			return 1;
		}
		std::stringstream text;
		text << in.rdbuf();
		auto parsed = strata::sim::parse_scenario(text.str());
		if (!parsed) {
			std::fprintf(stderr, "stratasim: %s: %s\n", path.c_str(), parsed.error().context.c_str());
			return 1;
		}
		if (seed) {
			parsed->scenario.seed = *seed;
		}
		std::vector<strata::sim::Outcome> runs;
		for (uint64_t k = 1; k <= std::max<uint64_t>(seeds, 1); k++) {
			if (seeds > 0) {
				parsed->scenario.seed = k;
			}
			runs.push_back(strata::sim::run(parsed->scenario));
			if (check) {
				for (const auto &b : strata::sim::check_limits(parsed->limits, runs.back())) {
					std::fprintf(stderr, "stratasim: %s (seed %llu): %s\n", path.c_str(),
						     static_cast<unsigned long long>(parsed->scenario.seed), b.c_str());
					status = 1;
				}
			}
		}
		auto outcome = runs.size() == 1 ? runs.front() : strata::sim::median_outcome(runs);
		std::fputs(strata::sim::table_row(parsed->scenario, outcome).c_str(), stdout);
	}
	return status;
}
