#include "sources/reports.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

namespace strata::sources {

namespace {

control::SourceState report_state(const std::optional<CandidateState> &state)
{
	if (!state) {
		return control::SourceState::NonSelectable;
	}
	switch (*state) {
	case CandidateState::Selected:
		return control::SourceState::Selected;
	case CandidateState::Combined:
		return control::SourceState::Unselected;
	case CandidateState::Truechimer:
		return control::SourceState::Selectable;
	case CandidateState::NoSelect:
		// chronyd marks a noselect source unselectable: '?' in chronyc.
		return control::SourceState::NonSelectable;
	case CandidateState::Falseticker:
		return control::SourceState::Falseticker;
	case CandidateState::TooFar:
	case CandidateState::TooJittery:
		return control::SourceState::Jittery;
	case CandidateState::NoMajority:
		return control::SourceState::NonSelectable;
	}
	return control::SourceState::NonSelectable;
}

/// The interval SourceSet::decide() gives the source (reference − local):
/// its estimate ± its distance.
struct Interval {
	double offset_s;
	double distance_s;
};

std::optional<Interval> interval_of(const Engine &engine, size_t index, RealTime now)
{
	const SourceInfo &info = engine.source_set().info(index);
	auto est = engine.source_set().stats(index).estimate(now);
	if (!est) {
		return std::nullopt;
	}
	double distance =
		(info.root_delay_s + est->min_delay_s) / 2 + info.root_dispersion_s + est->stddev_s + est->offset_error_s;
	return Interval{est->offset_s, distance};
}

uint8_t reach_of(const Engine &engine, size_t index)
{
	if (const RefclockSource *r = engine.refclock_at(index)) {
		return r->reach;
	}
	return engine.ntp_at(index)->client.reach();
}

} // namespace

char select_letter(const Engine &engine, size_t index)
{
	const SourceInfo &info = engine.source_set().info(index);
	if (!info.reachable) {
		return 'N';
	}
	if (engine.source_set().stats(index).size() == 0) {
		return 's';
	}
	auto state = engine.state_of(index);
	if (!state) {
		return 'N';
	}
	switch (*state) {
	case CandidateState::Selected:
		return '*';
	case CandidateState::Combined:
		return '+';
	case CandidateState::Truechimer:
		return 'S';
	case CandidateState::NoSelect:
		return 'N';
	case CandidateState::Falseticker:
		return 'x';
	case CandidateState::TooFar:
		return 'D';
	case CandidateState::TooJittery:
		return '~';
	case CandidateState::NoMajority:
		return 'M';
	}
	return 'N';
}

SelectionEntry selection_entry(const Engine &engine, size_t index, RealTime now)
{
	const SourceInfo &info = engine.source_set().info(index);
	const SourceStats &stats = engine.source_set().stats(index);
	SelectionEntry e{.time = now,
			 .source = engine.log_name(index),
			 .state = select_letter(engine, index),
			 .noselect = info.noselect,
			 .prefer = info.prefer,
			 .trust = info.trust,
			 .require = info.require,
			 .reach = reach_of(engine, index)};
	if (stats.size() > 0) {
		e.last_sample_ago_s = std::max(to_seconds(now - stats.samples().back().local), 0.0);
	}
	if (auto i = interval_of(engine, index, now)) {
		// On the local clock's side (local − reference).
		e.lo_s = -i->offset_s - i->distance_s;
		e.hi_s = -i->offset_s + i->distance_s;
	}
	return e;
}

std::optional<control::SourceDataReport> source_report(const Engine &engine, size_t index)
{
	if (index >= engine.entry_count()) {
		return std::nullopt;
	}
	const SourceStats &stats = engine.source_set().stats(index);
	control::SourceDataReport r;
	r.stratum = static_cast<uint16_t>(engine.source_set().info(index).stratum);
	r.state = report_state(engine.state_of(index));
	const NtpSource *ntp = engine.ntp_at(index);
	if (const RefclockSource *rc = engine.refclock_at(index)) {
		r.address = IpAddress::v4(rc->clock.settings().ref_id);
		r.mode = control::SourceMode::RefClock;
		r.poll = static_cast<int16_t>(rc->clock.settings().poll_log2);
		r.reachability = rc->reach;
	} else {
		r.address = ntp->address;
		r.mode = control::SourceMode::Client;
		r.poll = static_cast<int16_t>(ntp->client.poll());
		r.reachability = ntp->client.reach();
	}
	if (stats.size() > 0) {
		const SourceSample &last = stats.samples().back();
		double ago = to_seconds(engine.clock().now() - last.local);
		r.since_sample_s = static_cast<uint32_t>(std::max(ago, 0.0));
		// chronyd reports local − source: positive when the local clock is ahead.
		r.latest_meas_s = -last.offset_s;
		r.orig_latest_meas_s = ntp == nullptr ? -last.offset_s : -ntp->last_offset_s;
		r.latest_meas_err_s = last.dispersion_s + last.delay_s / 2;
	} else {
		r.since_sample_s = UINT32_MAX;
		r.stratum = 0;
	}
	return r;
}

std::optional<control::SourceStatsReport> stats_report(const Engine &engine, size_t index)
{
	if (index >= engine.entry_count()) {
		return std::nullopt;
	}
	control::SourceStatsReport r;
	r.ref_id = engine.ref_id_of(index);
	if (const NtpSource *ntp = engine.ntp_at(index)) {
		r.address = ntp->address;
	}
	const SourceStats &stats = engine.source_set().stats(index);
	r.n_samples = static_cast<uint32_t>(stats.size());
	// Before an estimate, chronyd's initial bounds: 2000 ppm, 4 s.
	r.skew_ppm = 2000.0;
	r.sd_s = 4.0;
	if (auto est = stats.estimate(engine.clock().now())) {
		r.n_runs = static_cast<uint32_t>(est->runs);
		r.span_s = stats.size() > 1 ? static_cast<uint32_t>(to_seconds(stats.samples().back().local -
									      stats.samples().front().local))
					    : 0;
		r.sd_s = est->stddev_s;
		r.resid_freq_ppm = -est->frequency_ppm;
		r.skew_ppm = est->skew_ppm;
		r.est_offset_s = -est->offset_s;
		r.est_offset_err_s = est->offset_error_s;
	}
	return r;
}

std::optional<control::SelectDataReport> select_report(const Engine &engine, size_t index)
{
	if (index >= engine.entry_count()) {
		return std::nullopt;
	}
	RealTime now = engine.clock().now();
	SelectionEntry e = selection_entry(engine, index, now);
	control::SelectDataReport r;
	r.ref_id = engine.ref_id_of(index);
	if (const NtpSource *ntp = engine.ntp_at(index)) {
		r.address = ntp->address;
	}
	r.state = e.state;
	r.leap = engine.source_set().info(index).leap;
	uint16_t options = static_cast<uint16_t>(
		(e.noselect ? control::kSelectNoselect : 0) | (e.prefer ? control::kSelectPrefer : 0) |
		(e.trust ? control::kSelectTrust : 0) | (e.require ? control::kSelectRequire : 0));
	if (const RefclockSource *rc = engine.refclock_at(index)) {
		const auto &c = rc->config;
		options = static_cast<uint16_t>((c.noselect ? control::kSelectNoselect : 0) |
						(c.prefer ? control::kSelectPrefer : 0) | (c.trust ? control::kSelectTrust : 0) |
						(c.require ? control::kSelectRequire : 0));
	}
	r.configured_options = options;
	r.effective_options = options;
	r.authenticated = engine.source_set().info(index).authenticated;
	if (auto effective = engine.source_set().effective_options(); index < effective.size()) {
		// authselectmode's additions (refclocks: to their configured ones).
		const SelectOptions &o = effective[index];
		const SelectOptions configured{.prefer = e.prefer, .trust = e.trust, .require = e.require,
					       .noselect = e.noselect};
		auto bits = [](const SelectOptions &x) {
			return static_cast<uint16_t>((x.noselect ? control::kSelectNoselect : 0) |
						     (x.prefer ? control::kSelectPrefer : 0) |
						     (x.trust ? control::kSelectTrust : 0) |
						     (x.require ? control::kSelectRequire : 0));
		};
		r.effective_options = static_cast<uint16_t>(options | (bits(o) & ~bits(configured)));
	}
	if (engine.source_set().stats(index).size() > 0) {
		r.last_sample_ago_s = static_cast<uint32_t>(e.last_sample_ago_s);
	}
	if (auto i = interval_of(engine, index, now)) {
		r.score = i->distance_s;
		r.lo_limit_s = i->offset_s - i->distance_s;
		r.hi_limit_s = i->offset_s + i->distance_s;
	}
	return r;
}

std::optional<control::NtpDataReport> ntp_data_report(const Engine &engine, const IpAddress &address)
{
	const NtpSource *found = engine.find(address);
	if (found == nullptr) {
		return std::nullopt;
	}
	const NtpSource &s = *found;
	control::NtpDataReport r;
	r.remote_address = s.address;
	if (s.last_local) {
		r.local_address = *s.last_local;
	}
	r.remote_port = static_cast<uint16_t>(s.config.port);
	r.authenticated = s.client.authenticated();
	r.mode = 4;
	if (s.last_header) {
		const ntp::Header &h = *s.last_header;
		r.leap = h.leap;
		r.version = h.version;
		r.mode = static_cast<uint8_t>(h.mode);
		r.stratum = h.stratum;
		r.poll = h.poll;
		r.precision = h.precision;
		r.root_delay_s = ntp::from_short(h.root_delay);
		r.root_dispersion_s = ntp::from_short(h.root_dispersion);
		r.ref_id = h.ref_id;
		r.ref_time = ntp::from_ntp(h.reference);
	}
	r.offset_s = s.last_offset_s;
	r.peer_delay_s = s.last_delay_s;
	r.peer_dispersion_s = s.last_dispersion_s;
	r.response_time_s = s.last_response_time_s;
	r.tests = s.last_header ? 0x3ff : 0;
	r.tx_timestamping = s.io.kernel_tx ? 'K' : 'D';
	r.rx_timestamping = s.io.kernel_rx ? 'K' : 'D';
	r.total_tx_count = s.total_tx;
	r.total_rx_count = s.total_rx;
	r.total_valid_count = s.total_valid;
	r.total_good_count = s.total_good;
	return r;
}

std::optional<std::string> source_name(const Engine &engine, const IpAddress &address)
{
	if (const NtpSource *s = engine.find(address)) {
		return s->pool_name.empty() ? s->config.host : s->pool_name;
	}
	return std::nullopt;
}

control::TrackingReport tracking_report(const Engine &engine)
{
	Reference ref = engine.reference().current(engine.clock().now(), engine.scheduler().now());
	const TrackingState &t = engine.tracking();
	const Discipline &d = engine.discipline();
	control::TrackingReport r;
	r.ref_id = ref.ref_id;
	r.stratum = static_cast<uint16_t>(ref.stratum >= 16 && !ref.synchronized ? 0 : ref.stratum);
	r.leap = ref.leap;
	r.ref_time = ref.ref_time;
	r.root_delay_s = ref.root_delay_s;
	r.root_dispersion_s = ref.root_dispersion_s;
	if (t.selected && ref.synchronized) {
		if (const NtpSource *ntp = engine.ntp_at(*t.selected)) {
			r.address = ntp->address;
		}
	}
	r.current_correction_s = d.remaining_correction_s(engine.scheduler().now());
	// chronyd's sign: positive when the clock was ahead of the sources.
	r.last_offset_s = -t.last_offset_s;
	r.rms_offset_s = t.rms_offset_s;
	// chronyd's sign: the clock's own error, positive when it runs fast.
	r.freq_ppm = 0.0 - d.base_frequency_ppm();  // never −0: "0.000 ppm fast" as chronyc prints it
	r.resid_freq_ppm = t.selected ? -t.resid_freq_ppm : 0.0;
	r.skew_ppm = d.skew_ppm();
	r.last_update_interval_s = t.last_update_interval_s;
	return r;
}

control::ActivityReport activity_report(const Engine &engine)
{
	control::ActivityReport r;
	for (const auto &s : engine.ntp_sources()) {
		bool bursting = s->client.in_burst();
		if (s->online) {
			(bursting ? r.burst_online : r.online)++;
		} else {
			(bursting ? r.burst_offline : r.offline)++;
		}
	}
	// Reference clocks are not counted, as in chronyd's report.
	return r;
}

std::vector<control::RefclockCounters> refclock_counters(const Engine &engine)
{
	std::vector<control::RefclockCounters> out;
	for (const auto &r : engine.refclocks()) {
		const refclock::RefclockStats &s = r->clock.stats();
		out.push_back({.ref_id = r->clock.settings().ref_id,
			       .driver = r->config.driver,
			       .samples = s.samples,
			       .rejected = s.rejected,
			       .pulses = s.pulses,
			       .out_of_phase = s.out_of_phase,
			       .missed_pulses = s.missed_pulses,
			       .polls = s.polls,
			       .empty_polls = s.empty_polls});
	}
	return out;
}

std::optional<control::AuthDataReport> auth_data_report(const Engine &engine, const IpAddress &address)
{
	const NtpSource *s = engine.find(address);
	if (s == nullptr) {
		return std::nullopt;
	}
	// chronyd's report (NAU_GetReport): no key exchange ever ("-"); with a
	// key, its id, chronyd's number of its type (hash.h: MD5 1 … SHA3-512
	// 9; cmac.h: AES128 13, AES256 14) and its length in bits.
	control::AuthDataReport r{.mode = control::AuthMode::None,
				  .last_ke_ago_s = std::numeric_limits<uint32_t>::max()};
	if (const ntp::Key *key = s->client.key()) {
		r.mode = control::AuthMode::Symmetric;
		r.key_id = key->id();
		auto type = static_cast<uint16_t>(key->type());
		r.key_type = static_cast<uint16_t>(key->type() == ntp::KeyType::AES128   ? 13
						   : key->type() == ntp::KeyType::AES256 ? 14
											 : type + 1);
		r.key_length = static_cast<uint16_t>(8 * key->length());
	}
	return r;
}

std::string dump_text(const Engine &engine, size_t index)
{
	std::string text = fmt::format("# strata measurement history of {} (strata's format 1, not chronyd's)\n"
				       "# local time (s since 1970, UTC)  offset (s, reference - local)  "
				       "delay (s)  dispersion (s)\n",
				       engine.log_name(index));
	for (const auto &sample : engine.source_set().stats(index).samples()) {
		text += fmt::format("{}.{:09} {:+.9e} {:.9e} {:.9e}\n", sample.local.seconds(), sample.local.subsec_ns(),
				    sample.offset_s, sample.delay_s, sample.dispersion_s);
	}
	return text;
}

} // namespace strata::sources
