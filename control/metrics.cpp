#include "control/metrics.h"

#include "control/report_json.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

#include <fmt/format.h>

#include "control/report_format.h"

namespace strata::control {

namespace {

/// A number as the text format writes it: the shortest decimal that reads
/// back exactly, and Prometheus' spellings of the special values.
std::string number(double v)
{
	if (std::isnan(v)) {
		return "NaN";
	}
	if (std::isinf(v)) {
		return v > 0 ? "+Inf" : "-Inf";
	}
	return fmt::format("{}", v + 0.0);  // + 0.0: −0 prints as 0
}

std::string number(uint64_t v) { return fmt::format("{}", v); }

/// One metric family: its samples are gathered first, so that a family
/// with none (no source has the value) leaves no HELP and TYPE lines
/// behind.
class Family {
public:
	Family(std::string &out, std::string_view name, std::string_view type, std::string_view help)
		: out_(out), name_(name), type_(type), help_(help)
	{
	}
	Family(const Family &) = delete;
	Family &operator=(const Family &) = delete;
	~Family()
	{
		if (!samples_.empty()) {
			out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name_, help_, name_, type_);
			out_ += samples_;
		}
	}

	/// `labels` is a list of already escaped `name="value"` pairs, or empty.
	void add(std::string_view labels, const std::string &value)
	{
		if (labels.empty()) {
			samples_ += fmt::format("{} {}\n", name_, value);
		} else {
			samples_ += fmt::format("{}{{{}}} {}\n", name_, labels, value);
		}
	}
	void add(std::string_view labels, double v) { add(labels, number(v)); }
	void add(std::string_view labels, uint64_t v) { add(labels, number(v)); }

private:
	std::string &out_;
	std::string_view name_;
	std::string_view type_;
	std::string_view help_;
	std::string samples_;
};

std::string label(std::string_view name, std::string_view value)
{
	return fmt::format("{}=\"{}\"", name, escape_label_value(value));
}

std::string join(std::string_view a, std::string_view b)
{
	if (a.empty()) {
		return std::string(b);
	}
	if (b.empty()) {
		return std::string(a);
	}
	return fmt::format("{},{}", a, b);
}

/// The labels that name a source in every per-source metric: `name` (the
/// configured name, else the address; a refclock's ref id), `address` for
/// NTP sources, `refid` for refclocks, and `mode`.
std::string source_labels(const SourceMetrics &s)
{
	if (s.data) {
		const SourceDataReport &d = *s.data;
		if (is_refclock(d)) {
			std::string refid = numeric_name(d);
			return join(join(label("name", refid), label("refid", refid)), label("mode", mode_name(d.mode)));
		}
		std::string address = address_text(d.address);
		return join(join(label("name", s.name.value_or(address)), label("address", address)),
			    label("mode", mode_name(d.mode)));
	}
	if (s.stats) {
		// No source report: what the statistics say, without a mode.
		std::string n = numeric_name(*s.stats);
		return is_refclock(*s.stats) ? join(label("name", n), label("refid", n))
					     : join(label("name", s.name.value_or(n)), label("address", n));
	}
	return {};
}

constexpr SourceState kStates[] = {SourceState::Selected,   SourceState::Unselected, SourceState::Selectable,
				   SourceState::Falseticker, SourceState::Jittery,    SourceState::NonSelectable};

constexpr Leap kLeaps[] = {Leap::None, Leap::Insert, Leap::Delete, Leap::Unsynchronized};

double seconds_since_epoch(RealTime t) { return static_cast<double>(t.since_epoch.count()) * 1e-9; }

/// Whether a source report carries a sample (chronyd sends an age of
/// 2^32 − 1 when there is none).
bool has_sample(const SourceDataReport &d) { return d.since_sample_s != UINT32_MAX; }

void format_tracking_metrics(std::string &out, const TrackingReport &t)
{
	Family(out, "strata_tracking_stratum", "gauge",
	       "Stratum of this host: its reference's plus one (0 while not synchronised).")
		.add("", uint64_t{t.stratum});
	// No name for the local reference and while unsynchronised (ids with
	// nothing printable).
	std::string name = numeric_name(t);
	Family(out, "strata_tracking_reference_info", "gauge",
	       "The reference the clock follows: its reference id in hex and its address or refclock name.")
		.add(join(label("refid", fmt::format("{:08X}", t.ref_id)), name.empty() ? "" : label("name", name)),
		     uint64_t{1});
	Family(out, "strata_tracking_reference_time_seconds", "gauge",
	       "When the clock was last updated from its reference, seconds since 1970 (0: never).")
		.add("", seconds_since_epoch(t.ref_time));
	Family(out, "strata_tracking_system_time_offset_seconds", "gauge",
	       "Correction the clock is still being slewed by; positive: the system clock is behind (chronyc: slow "
	       "of NTP time).")
		.add("", t.current_correction_s);
	Family(out, "strata_tracking_last_offset_seconds", "gauge",
	       "Offset of the clock at its last update; positive: the clock was ahead.")
		.add("", t.last_offset_s);
	Family(out, "strata_tracking_rms_offset_seconds", "gauge", "Long-term average (RMS) of the offsets at updates.")
		.add("", t.rms_offset_s);
	Family(out, "strata_tracking_frequency_ppm", "gauge",
	       "Frequency error of the system clock being corrected, ppm; positive: it runs fast when uncorrected.")
		.add("", t.freq_ppm);
	Family(out, "strata_tracking_residual_frequency_ppm", "gauge",
	       "Residual frequency of the reference against the clock's correction at the last update, ppm.")
		.add("", t.resid_freq_ppm);
	Family(out, "strata_tracking_skew_ppm", "gauge", "Estimated error bound of the frequency, ppm.").add("", t.skew_ppm);
	Family(out, "strata_tracking_root_delay_seconds", "gauge",
	       "Total round-trip delay to the stratum-1 source at the root of the synchronisation tree.")
		.add("", t.root_delay_s);
	Family(out, "strata_tracking_root_dispersion_seconds", "gauge",
	       "Total dispersion accumulated up to the root of the synchronisation tree.")
		.add("", t.root_dispersion_s);
	Family(out, "strata_tracking_update_interval_seconds", "gauge", "Interval between the last two clock updates.")
		.add("", t.last_update_interval_s);
	Family leap(out, "strata_tracking_leap_status", "gauge",
		    "Leap status: 1 for the current one of normal, insert_second, delete_second, unsynchronised.");
	for (Leap l : kLeaps) {
		leap.add(label("status", leap_name(l)), uint64_t{l == t.leap});
	}
}

/// A per-source metric: its name, help and value (nullopt: left out).
struct SourceMetric {
	std::string_view name;
	std::string_view help;
	std::function<std::optional<double>(const SourceMetrics &)> value;
};

void format_source_metrics(std::string &out, const std::vector<SourceMetrics> &sources)
{
	Family(out, "strata_sources", "gauge", "Number of time sources (NTP servers and refclocks).")
		.add("", uint64_t{sources.size()});

	std::vector<std::string> labels;
	labels.reserve(sources.size());
	for (const auto &s : sources) {
		labels.push_back(source_labels(s));
	}
	{
		Family state(out, "strata_source_state", "gauge",
			     "Selection state: 1 for the current one of selected (*), combined (+), not_combined (-), "
			     "falseticker (x), jittery (~), unusable (?).");
		for (size_t i = 0; i < sources.size(); i++) {
			if (sources[i].data) {
				for (SourceState st : kStates) {
					state.add(join(labels[i], label("state", state_name(st))),
						  uint64_t{st == sources[i].data->state});
				}
			}
		}
	}

	auto data = [](auto field, bool needs_sample = false) {
		return [field, needs_sample](const SourceMetrics &s) -> std::optional<double> {
			if (!s.data || (needs_sample && !has_sample(*s.data))) {
				return std::nullopt;
			}
			return field(*s.data);
		};
	};
	auto stats = [](auto field, bool needs_sample = true) {
		return [field, needs_sample](const SourceMetrics &s) -> std::optional<double> {
			if (!s.stats || (needs_sample && s.stats->n_samples == 0)) {
				return std::nullopt;
			}
			return field(*s.stats);
		};
	};
	const SourceMetric metrics[] = {
		{"strata_source_reach",
		 "Reachability register: the last 8 polls, newest in bit 0 (chronyc shows it in octal; 255: all answered).",
		 data([](const SourceDataReport &d) { return double(d.reachability); })},
		{"strata_source_stratum", "Stratum the source reports (0 before its first sample).",
		 data([](const SourceDataReport &d) { return double(d.stratum); })},
		{"strata_source_poll_interval_seconds", "Current polling interval.",
		 data([](const SourceDataReport &d) { return std::ldexp(1.0, d.poll); })},
		{"strata_source_last_sample_age_seconds", "Time since the last sample was taken.",
		 data([](const SourceDataReport &d) { return double(d.since_sample_s); }, true)},
		{"strata_source_last_sample_offset_seconds",
		 "Offset of the last sample, adjusted for clock changes since; positive: the local clock is ahead.",
		 data([](const SourceDataReport &d) { return d.latest_meas_s; }, true)},
		{"strata_source_last_sample_measured_offset_seconds", "Offset of the last sample as measured.",
		 data([](const SourceDataReport &d) { return d.orig_latest_meas_s; }, true)},
		{"strata_source_last_sample_error_seconds", "Error bound of the last sample.",
		 data([](const SourceDataReport &d) { return d.latest_meas_err_s; }, true)},
		{"strata_source_samples", "Samples kept for the source's statistics (chronyc sourcestats NP).",
		 stats([](const SourceStatsReport &r) { return double(r.n_samples); }, false)},
		{"strata_source_runs", "Runs of residuals of one sign in the regression (chronyc sourcestats NR).",
		 stats([](const SourceStatsReport &r) { return double(r.n_runs); }, false)},
		{"strata_source_span_seconds", "Time between the oldest and newest samples kept.",
		 stats([](const SourceStatsReport &r) { return double(r.span_s); }, false)},
		{"strata_source_frequency_ppm", "Estimated residual frequency of the source against the clock, ppm.",
		 stats([](const SourceStatsReport &r) { return r.resid_freq_ppm; })},
		{"strata_source_skew_ppm", "Estimated error bound of the source's frequency, ppm.",
		 stats([](const SourceStatsReport &r) { return r.skew_ppm; })},
		{"strata_source_offset_seconds", "Estimated offset of the source now; positive: the local clock is ahead.",
		 stats([](const SourceStatsReport &r) { return r.est_offset_s; })},
		{"strata_source_std_dev_seconds", "Estimated standard deviation of the source's samples.",
		 stats([](const SourceStatsReport &r) { return r.sd_s; })},
	};
	for (const auto &m : metrics) {
		Family family(out, m.name, "gauge", m.help);
		for (size_t i = 0; i < sources.size(); i++) {
			if (auto v = m.value(sources[i])) {
				family.add(labels[i], *v);
			}
		}
	}
}

void format_server_metrics(std::string &out, const ServerStatsReport &s, const std::optional<NtpServerCounters> &ntp)
{
	Family(out, "strata_ntp_requests_total", "counter", "NTP requests received by the server.")
		.add("", uint64_t{s.ntp_hits});
	Family(out, "strata_ntp_requests_dropped_total", "counter",
	       "NTP requests refused (access rules, rate limiting, authentication).")
		.add("", uint64_t{s.ntp_drops});
	Family(out, "strata_ntp_authenticated_requests_total", "counter", "Authenticated NTP requests received.")
		.add("", uint64_t{s.ntp_auth_hits});
	Family(out, "strata_ntp_interleaved_requests_total", "counter", "Interleaved-mode NTP requests received.")
		.add("", uint64_t{s.ntp_interleaved_hits});
	if (ntp) {
		Family(out, "strata_ntp_responses_total", "counter", "NTP responses sent, kiss-o'-death ones included.")
			.add("", ntp->responses);
		Family(out, "strata_ntp_kod_responses_total", "counter", "RATE kiss-o'-death responses sent.")
			.add("", ntp->kod_sent);
		Family(out, "strata_ntp_auth_failures_total", "counter",
		       "NTP requests refused for their authentication: a MAC of an unknown key or a wrong MAC "
		       "(answered with a crypto-NAK), or a crypto-NAK sent as a request.")
			.add("", ntp->auth_failed);
		Family(out, "strata_ntp_crypto_nak_responses_total", "counter", "Crypto-NAK responses sent.")
			.add("", ntp->crypto_naks);
	}
	Family(out, "strata_command_requests_total", "counter", "Command and monitoring requests answered.")
		.add("", uint64_t{s.cmd_hits});
	Family(out, "strata_command_requests_dropped_total", "counter", "Command and monitoring requests dropped.")
		.add("", uint64_t{s.cmd_drops});
}

void format_activity_metrics(std::string &out, const ActivityReport &a)
{
	Family f(out, "strata_activity_sources", "gauge",
		 "NTP sources by activity (chronyc activity): online, offline, burst_online, burst_offline, unresolved; "
		 "refclocks count as online.");
	const std::pair<std::string_view, int32_t> rows[] = {
		{"online", a.online},
		{"offline", a.offline},
		{"burst_online", a.burst_online},
		{"burst_offline", a.burst_offline},
		{"unresolved", a.unresolved},
	};
	for (const auto &[status, n] : rows) {
		f.add(label("status", status), static_cast<double>(n));
	}
}

void format_refclock_metrics(std::string &out, const std::vector<RefclockCounters> &refclocks)
{
	struct Counter {
		std::string_view name;
		std::string_view help;
		uint64_t RefclockCounters::*value;
	};
	const Counter counters[] = {
		{"strata_refclock_samples_total", "Refclock samples accepted.", &RefclockCounters::samples},
		{"strata_refclock_rejected_samples_total", "Refclock samples not used, for any reason.",
		 &RefclockCounters::rejected},
		{"strata_refclock_pulses_total", "PPS pulses accepted.", &RefclockCounters::pulses},
		{"strata_refclock_out_of_phase_pulses_total", "PPS pulses that did not line up with their lock source.",
		 &RefclockCounters::out_of_phase},
		{"strata_refclock_missed_pulses_total", "PPS pulses that should have come and did not.",
		 &RefclockCounters::missed_pulses},
		{"strata_refclock_polls_total", "Refclock poll intervals ended.", &RefclockCounters::polls},
		{"strata_refclock_empty_polls_total", "Refclock poll intervals that ended with no usable sample.",
		 &RefclockCounters::empty_polls},
	};
	for (const auto &c : counters) {
		Family family(out, c.name, "counter", c.help);
		for (const auto &r : refclocks) {
			family.add(join(label("name", refid_text(r.ref_id)), label("driver", r.driver)), r.*c.value);
		}
	}
}

} // namespace

std::string escape_label_value(std::string_view value)
{
	std::string out;
	out.reserve(value.size());
	for (char c : value) {
		switch (c) {
		case '\\':
			out += "\\\\";
			break;
		case '"':
			out += "\\\"";
			break;
		case '\n':
			out += "\\n";
			break;
		default:
			out += c;
		}
	}
	return out;
}

MetricsSnapshot collect_metrics(ControlHandler &handler, MetricsExtras extras, uint32_t max_sources)
{
	MetricsSnapshot s;
	s.tracking = handler.tracking();
	uint32_t n = std::min(handler.n_sources(), max_sources);
	s.sources.reserve(n);
	for (uint32_t i = 0; i < n; i++) {
		SourceMetrics m;
		m.data = handler.source_data(i);
		m.stats = handler.source_stats(i);
		if (m.data) {
			if (const auto *ip = std::get_if<IpAddress>(&m.data->address); ip && !is_refclock(*m.data)) {
				if (auto name = handler.source_name(*ip); name && !name->name.empty()) {
					m.name = name->name;
				}
			}
		}
		s.sources.push_back(std::move(m));
	}
	s.server = handler.server_stats();
	s.activity = handler.activity();
	s.extras = std::move(extras);
	return s;
}

std::string format_metrics(const MetricsSnapshot &snapshot)
{
	std::string out;
	format_tracking_metrics(out, snapshot.tracking);
	format_source_metrics(out, snapshot.sources);
	format_server_metrics(out, snapshot.server, snapshot.extras.ntp_server);
	format_activity_metrics(out, snapshot.activity);
	format_refclock_metrics(out, snapshot.extras.refclocks);
	return out;
}

} // namespace strata::control
