#include "tools/sim/scenario_file.h"

#include <algorithm>

#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace strata::sim {

namespace {

std::string_view trim(std::string_view s)
{
	while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
		s.remove_prefix(1);
	}
	while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
		s.remove_suffix(1);
	}
	return s;
}

std::optional<double> number(std::string_view s)
{
	double v = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) {
		return std::nullopt;
	}
	return v;
}

std::optional<bool> yes_no(std::string_view s)
{
	if (s == "yes" || s == "true") {
		return true;
	}
	if (s == "no" || s == "false") {
		return false;
	}
	return std::nullopt;
}

std::vector<std::string_view> words(std::string_view s)
{
	std::vector<std::string_view> out;
	while (!(s = trim(s)).empty()) {
		size_t end = s.find_first_of(" \t");
		out.push_back(s.substr(0, end));
		s = end == std::string_view::npos ? std::string_view() : s.substr(end);
	}
	return out;
}

Result<ServerParams> parse_server(std::string_view value)
{
	ServerParams p;
	for (auto w : words(value)) {
		if (w == "prefer") {
			p.prefer = true;
			continue;
		}
		if (w == "noselect") {
			p.noselect = true;
			continue;
		}
		auto eq = w.find('=');
		if (eq == std::string_view::npos) {
			return fail(Errc::Malformed, fmt::format("server option '{}' needs a value", w));
		}
		std::string_view key = w.substr(0, eq), v = w.substr(eq + 1);
		if (key == "jitter" && v.starts_with("exponential:")) {
			p.jitter = Jitter::Exponential;
			v.remove_prefix(12);
		} else if (key == "jitter" && v.starts_with("normal:")) {
			v.remove_prefix(7);
		}
		auto n = number(v);
		if (!n) {
			return fail(Errc::Malformed, fmt::format("server option '{}': '{}' is not a number", key, v));
		}
		if (key == "offset") {
			p.offset_s = *n;
		} else if (key == "delay") {
			p.base_delay_s = *n;
		} else if (key == "jitter") {
			p.jitter_s = *n;
		} else if (key == "asymmetry") {
			p.asymmetry = *n;
		} else if (key == "out") {
			p.jitter_out = *n;
		} else if (key == "back") {
			p.jitter_back = *n;
		} else if (key == "loss") {
			p.loss = *n;
		} else if (key == "stratum") {
			p.stratum = static_cast<int>(*n);
		} else if (key == "step_at") {
			p.step_at_s = *n;
		} else if (key == "step") {
			p.step_s = *n;
		} else {
			return fail(Errc::Malformed, fmt::format("unknown server option '{}'", key));
		}
	}
	return p;
}

Result<RefclockParams> parse_refclock(std::string_view value)
{
	RefclockParams p;
	auto w = words(value);
	if (w.empty()) {
		return fail(Errc::Malformed, "expected nmea, pps or phc");
	}
	if (w[0] == "nmea") {
		p.kind = RefclockKind::Nmea;
	} else if (w[0] == "pps") {
		p.kind = RefclockKind::Pps;
	} else if (w[0] == "phc") {
		p.kind = RefclockKind::Phc;
	} else {
		return fail(Errc::Malformed, fmt::format("unknown refclock kind '{}' (nmea, pps, phc)", w[0]));
	}
	for (size_t k = 1; k < w.size(); k++) {
		if (w[k] == "prefer") {
			p.prefer = true;
			continue;
		}
		if (w[k] == "noselect") {
			p.noselect = true;
			continue;
		}
		auto eq = w[k].find('=');
		std::string_view key = w[k].substr(0, eq);
		auto n = eq == std::string_view::npos ? std::nullopt : number(w[k].substr(eq + 1));
		if (!n) {
			return fail(Errc::Malformed, fmt::format("refclock option '{}' needs a number", w[k]));
		}
		if (key == "jitter") {
			p.jitter_s = *n;
		} else if (key == "latency") {
			p.latency_s = *n;
		} else if (key == "offset") {
			p.offset_s = *n;
		} else if (key == "delay") {
			p.delay_s = *n;
		} else if (key == "precision") {
			p.precision_s = *n;
		} else if (key == "poll") {
			p.poll = static_cast<int>(*n);
		} else if (key == "dpoll") {
			p.dpoll = static_cast<int>(*n);
		} else if (key == "lock" && *n >= 0) {
			p.lock = static_cast<size_t>(*n);
		} else if (key == "read") {
			p.read_s = *n;
		} else if (key == "readings" && *n >= 1) {
			p.readings = static_cast<int>(*n);
		} else if (key == "spike_probability") {
			p.spike_probability = *n;
		} else if (key == "spike") {
			p.spike_s = *n;
		} else if (key == "latch_spread" && *n >= 0 && *n <= 1) {
			p.latch_spread = *n;
		} else {
			return fail(Errc::Malformed, fmt::format("unknown or invalid refclock option '{}'", w[k]));
		}
	}
	return p;
}

} // namespace

Result<ScenarioFile> parse_scenario(std::string_view text)
{
	ScenarioFile f;
	f.scenario.servers.clear();
	int line_no = 0;
	while (!text.empty()) {
		size_t nl = text.find('\n');
		std::string_view line = text.substr(0, nl);
		text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
		line_no++;
		if (auto hash = line.find('#'); hash != std::string_view::npos) {
			line = line.substr(0, hash);
		}
		line = trim(line);
		if (line.empty()) {
			continue;
		}
		auto eq = line.find('=');
		if (eq == std::string_view::npos) {
			return fail(Errc::Malformed, fmt::format("line {}: expected KEY = VALUE", line_no));
		}
		std::string_view key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
		auto bad = [&](std::string_view what) {
			return fail(Errc::Malformed, fmt::format("line {}: {}: {}", line_no, key, what));
		};
		auto n = number(value);
		Scenario &s = f.scenario;
		Limits &l = f.limits;
		if (key == "name") {
			s.name = std::string(value);
		} else if (key == "server") {
			auto p = parse_server(value);
			if (!p) {
				return bad(p.error().context);
			}
			s.servers.push_back(*p);
		} else if (key == "refclock") {
			auto p = parse_refclock(value);
			if (!p) {
				return bad(p.error().context);
			}
			if (p->lock && *p->lock >= s.refclocks.size()) {
				return bad("lock must name an earlier refclock (0 is the first)");
			}
			s.refclocks.push_back(*p);
		} else if (key == "iburst" || key == "limit no_falseticker") {
			auto b = yes_no(value);
			if (!b) {
				return bad("expected yes or no");
			}
			(key == "iburst" ? s.iburst : l.no_falseticker) = *b;
		} else if (key == "makestep") {
			auto w = words(value);
			auto threshold = w.size() == 2 ? number(w[0]) : std::nullopt;
			auto limit = w.size() == 2 ? number(w[1]) : std::nullopt;
			if (!threshold || !limit) {
				return bad("expected THRESHOLD LIMIT");
			}
			s.conf.push_back(fmt::format("makestep {} {}", w[0], w[1]));
		} else if (key == "conf") {
			s.conf.push_back(std::string(value));
		} else if (key == "server_options") {
			s.server_options = std::string(value);
		} else if (!n) {
			return bad(fmt::format("'{}' is not a number (or the key is unknown)", value));
		} else if (key == "seed") {
			s.seed = static_cast<uint64_t>(*n);
		} else if (key == "duration") {
			s.duration_s = *n;
		} else if (key == "offset") {
			s.initial_offset_s = *n;
		} else if (key == "freq") {
			s.initial_freq_error_ppm = *n;
		} else if (key == "wander") {
			s.wander_ppm_per_s = *n;
		} else if (key == "minpoll") {
			s.minpoll = static_cast<int>(*n);
		} else if (key == "maxpoll") {
			s.maxpoll = static_cast<int>(*n);
		} else if (key == "leap_insert_at") {
			s.leap_insert_at_s = *n;
		} else if (key == "start") {
			// Whole seconds from 1970 to 2200 (int64 ns reach 2262).
			if (*n != std::floor(*n) || *n < 0 || *n > 7'258'118'400.0) {
				return bad("expected whole Unix seconds from 0 to 7258118400 (2200)");
			}
			s.start_unix_s = static_cast<int64_t>(*n);
		} else if (key == "limit max_error") {
			l.max_error_s = *n;
		} else if (key == "limit rms_error") {
			l.rms_error_s = *n;
		} else if (key == "limit steady_rms") {
			l.steady_rms_s = *n;
		} else if (key == "limit max_freq") {
			l.max_freq_ppm = *n;
		} else if (key == "limit first_update") {
			l.first_update_s = *n;
		} else if (key == "limit settled_1ms") {
			l.settled_1ms_s = *n;
		} else {
			return bad("unknown key");
		}
	}
	if (f.scenario.start_unix_s && f.scenario.leap_insert_at_s) {
		return fail(Errc::Malformed, "start and leap_insert_at cannot be combined: "
					     "a leap second sets the start to put it at a midnight");
	}
	// No server line: one default server, unless refclocks are the sources.
	if (f.scenario.servers.empty() && f.scenario.refclocks.empty()) {
		f.scenario.servers.push_back(ServerParams{});
	}
	// The client's chrony.conf (conf, server_options, makestep) parses.
	if (auto ok = check_conf(f.scenario); !ok) {
		return fail(Errc::Malformed, fmt::format("the client's configuration: {}", ok.error().context));
	}
	return f;
}

std::vector<std::string> check_limits(const Limits &l, const Outcome &o)
{
	std::vector<std::string> broken;
	auto above = [&](const char *what, double value, const std::optional<double> &limit) {
		if (limit && !(value < *limit)) {
			broken.push_back(fmt::format("{} {} >= {}", what, value, *limit));
		}
	};
	bool settled = o.time_to_1ms_s >= 0;
	if ((l.max_error_s || l.rms_error_s || l.settled_1ms_s) && !settled) {
		broken.push_back("never settled below 1 ms");
	}
	if (settled) {
		above("max_error", o.max_error_s, l.max_error_s);
		above("rms_error", o.rms_error_s, l.rms_error_s);
		above("settled_1ms", o.time_to_1ms_s, l.settled_1ms_s);
	}
	above("steady_rms", o.steady_rms_error_s, l.steady_rms_s);
	above("max_freq", o.max_freq_error_ppm, l.max_freq_ppm);
	if (l.first_update_s && (o.time_to_first_update_s < 0 || !(o.time_to_first_update_s < *l.first_update_s))) {
		broken.push_back(fmt::format("first_update {} >= {}", o.time_to_first_update_s, *l.first_update_s));
	}
	if (l.no_falseticker && o.selected_falseticker) {
		broken.push_back("a falseticker was selected");
	}
	return broken;
}

Outcome median_outcome(const std::vector<Outcome> &runs)
{
	Outcome m;
	if (runs.empty()) {
		return m;
	}
	auto median = [&](auto field) {
		std::vector<double> v;
		for (const auto &r : runs) {
			v.push_back(static_cast<double>(r.*field));
		}
		std::sort(v.begin(), v.end());
		size_t n = v.size();
		return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	};
	auto median_time = [&](double Outcome::*field) {
		std::vector<double> v;
		for (const auto &r : runs) {
			v.push_back(r.*field < 0 ? INFINITY : r.*field);
		}
		std::sort(v.begin(), v.end());
		size_t n = v.size();
		double x = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
		return std::isfinite(x) ? x : -1.0;
	};
	m.time_to_1ms_s = median_time(&Outcome::time_to_1ms_s);
	m.time_to_100us_s = median_time(&Outcome::time_to_100us_s);
	m.time_to_first_update_s = median_time(&Outcome::time_to_first_update_s);
	m.rms_error_s = median(&Outcome::rms_error_s);
	m.max_error_s = median(&Outcome::max_error_s);
	m.steady_rms_error_s = median(&Outcome::steady_rms_error_s);
	m.rms_freq_error_ppm = median(&Outcome::rms_freq_error_ppm);
	m.max_freq_error_ppm = median(&Outcome::max_freq_error_ppm);
	m.packets = static_cast<uint64_t>(median(&Outcome::packets));
	m.rejected = static_cast<uint64_t>(median(&Outcome::rejected));
	m.steps = static_cast<int>(median(&Outcome::steps));
	m.leaps = static_cast<int>(median(&Outcome::leaps));
	for (const auto &r : runs) {
		m.selected_falseticker = m.selected_falseticker || r.selected_falseticker;
	}
	return m;
}

std::string table_header()
{
	return "| scenario | first update (s) | settled < 1 ms (s) | settled < 100 µs (s) | RMS (µs) | max (µs) | "
	       "steady RMS (µs) | RMS freq (ppm) | max freq (ppm) | packets | not used | steps |\n"
	       "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
}

std::string table_row(const Scenario &s, const Outcome &r)
{
	return fmt::format("| {} | {:.0f} | {:.0f} | {:.0f} | {:.4g} | {:.4g} | {:.4g} | {:.3f} | {:.1f} | {} | {} | {} |\n",
			   s.name, r.time_to_first_update_s, r.time_to_1ms_s, r.time_to_100us_s, r.rms_error_s * 1e6,
			   r.max_error_s * 1e6, r.steady_rms_error_s * 1e6, r.rms_freq_error_ppm, r.max_freq_error_ppm,
			   r.packets, r.rejected, r.steps);
}

} // namespace strata::sim
