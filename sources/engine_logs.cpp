// The engine's lines for chronyd's log files (`log`, `logdir`): what the
// sources, the selection and the discipline just did, as the entries of
// core/log_files.h; the LogSink writes them.
#include <algorithm>
#include <cmath>

#include "sources/engine.h"
#include "sources/reports.h"

namespace strata::sources {

void Engine::log_measurement(const NtpSource &s, std::span<const std::byte> payload, RealTime rx, Reject why,
			     const ntp::ClientSample *sample, const std::optional<DelayTestData> &delay_data,
			     double delay)
{
	LogSink *files = env_.log_files;
	if (files == nullptr || !files->enabled(LogFile::Measurements) ||
	    (!files->raw_measurements() && sample == nullptr)) {
		return;
	}
	if (why == Reject::Malformed || why == Reject::NotAResponse || why == Reject::Presend) {
		return;  // no measurement: not a response to a request of ours
	}
	auto packet = ntp::parse(payload);
	if (!packet) {
		return;
	}
	const ntp::Header &h = packet->header;
	MeasurementEntry e{.source = s.address.to_string(), .leap = h.leap, .stratum = h.stratum};
	if (sample != nullptr) {
		e.time = sample->sample.local;
		e.offset_s = sample->sample.offset_s;
		e.peer_delay_s = sample->sample.delay_s;
		e.peer_dispersion_s = sample->sample.dispersion_s;
	} else {
		// What the rejected response would have measured, from the request's t1.
		RealTime t1 = s.client.transmit_time();
		RealTime t2 = ntp::from_ntp(h.receive), t3 = ntp::from_ntp(h.transmit);
		e.time = t1 + (rx - t1) / 2;
		e.offset_s = (to_seconds(t2 - t1) + to_seconds(t3 - rx)) / 2;
		e.peer_delay_s = std::abs(to_seconds(rx - t1) - to_seconds(t3 - t2));
		e.peer_dispersion_s = std::ldexp(1.0, h.precision);
	}
	bool too_long = e.peer_delay_s > s.config.maxdelay_s;
	e.tests123 = {true, why != Reject::NoRequest, why != Reject::BadTimestamps};
	e.tests567 = {true, why != Reject::Unsynchronized && why != Reject::KissOfDeath,
		      !(why == Reject::TooFar && !too_long)};
	// maxdelay; maxdelayratio and maxdelaydevratio as on_packet() applies
	// them (ntp::delay_acceptable), told apart; no loop test in strata.
	e.testsABCD[0] = !(why == Reject::TooFar && too_long);
	if (sample != nullptr && (delay_data || s.delay_quantile)) {
		if (delay_data) {
			double drift = delay_data->since_last_s * (delay_data->skew_ppm + max_clock_error_ppm_) * 1e-6;
			e.testsABCD[1] = s.config.maxdelayratio < 1.0 ||
					 delay <= delay_data->min_delay_s * s.config.maxdelayratio + drift;
		}
		ntp::DelayLimits test_c = delay_limits(s);
		test_c.maxdelayratio = 0;
		e.testsABCD[2] = ntp::delay_acceptable(test_c, delay_data, sample->sample.offset_s, delay);
	}
	e.local_poll = s.client.poll();
	e.remote_poll = h.poll;
	e.score = s.adapter.score();
	e.root_delay_s = ntp::from_short(h.root_delay);
	e.root_dispersion_s = ntp::from_short(h.root_dispersion);
	e.ref_id = h.ref_id;
	e.mode = static_cast<int>(h.mode);
	e.tx_source = s.io.kernel_tx ? 'K' : 'D';
	e.rx_source = s.io.kernel_rx ? 'K' : 'D';
	files->measurement(e);
}

void Engine::log_statistics(size_t index, RealTime now)
{
	LogSink *files = env_.log_files;
	if (files == nullptr || !files->enabled(LogFile::Statistics)) {
		return;
	}
	const SourceStats &stats = set_.stats(index);
	auto est = stats.estimate(now);
	if (!est || est->samples < 3) {
		return;  // no regression yet: chronyd logs from the third sample
	}
	files->statistics(now, log_name(index), *est, stats.size(), stats.asymmetry());
}

void Engine::log_selection(RealTime now)
{
	LogSink *files = env_.log_files;
	if (files == nullptr || !files->enabled(LogFile::Selection)) {
		return;
	}
	for (size_t i = 0; i < entries_.size(); i++) {
		files->selection(selection_entry(*this, i, now));
	}
}

void Engine::log_tracking(const SourceSetDecision &decision, double remaining_s)
{
	LogSink *files = env_.log_files;
	if (files == nullptr || !files->enabled(LogFile::Tracking) || !decision.estimate || !tracking_.selected) {
		return;
	}
	const ClockEstimate &est = *decision.estimate;
	int combined = static_cast<int>(std::count(decision.selection.states.begin(), decision.selection.states.end(),
						   CandidateState::Combined));
	double skew = discipline_.skew_ppm();
	TrackingEntry e{.time = env_.clock.now(),
			.reference = log_name(*tracking_.selected),
			.stratum = decision.reference.stratum,
			.freq_ppm = 0.0 - discipline_.base_frequency_ppm(),
			.skew_ppm = skew,
			.offset_s = 0.0 - est.offset_s,
			.leap = decision.reference.leap,
			.combined = 1 + combined,
			.offset_sd_s = est.offset_sd_s,
			.remaining_correction_s = remaining_s,
			.root_delay_s = decision.reference.root_delay_s,
			.root_dispersion_s = decision.reference.root_dispersion_s};
	// Since the last update: its bound, grown by the frequency's uncertainty.
	e.max_error_s = log_error_bound_s_ +
			tracking_.last_update_interval_s * (skew + max_clock_error_ppm_) * 1e-6;
	log_error_bound_s_ = std::abs(est.offset_s) + std::abs(remaining_s) + e.root_delay_s / 2 + e.root_dispersion_s;
	files->tracking(e);
}

void Engine::log_unsynchronised()
{
	log_error_bound_s_ = 1.5;
	LogSink *files = env_.log_files;
	if (files == nullptr || !files->enabled(LogFile::Tracking)) {
		return;
	}
	// chronyd's figures for "no reference": root delay and dispersion of a
	// second each.
	files->tracking({.time = env_.clock.now(),
			 .reference = "0.0.0.0",
			 .stratum = 0,
			 .freq_ppm = 0.0 - discipline_.base_frequency_ppm(),
			 .skew_ppm = discipline_.skew_ppm(),
			 .leap = Leap::Unsynchronized,
			 .root_delay_s = 1.0,
			 .root_dispersion_s = 1.0,
			 .max_error_s = log_error_bound_s_});
}

void Engine::log_refclock_sample(RefclockSource &r, const refclock::RawSample &raw)
{
	LogSink *files = env_.log_files;
	auto accepted = r.clock.last_sample();
	if (files == nullptr || !files->enabled(LogFile::Refclocks) || !accepted) {
		return;
	}
	const auto &settings = r.clock.settings();
	bool pulse = raw.pulse || settings.pps;
	double raw_offset = raw.offset_s();
	if (pulse) {
		// A pulse says only where its period starts.
		double period = 1.0 / std::max(settings.rate, 1);
		raw_offset -= period * std::round(raw_offset / period);
	}
	files->refclock({.time = accepted->local,
			 .ref_id = refclock::ref_id_text(settings.ref_id),
			 .raw = true,
			 .sequence = r.log_sequence++,
			 .leap = raw.leap,
			 .pulse = pulse,
			 .raw_offset_s = raw_offset,
			 .cooked_offset_s = accepted->offset_s,
			 .dispersion_s = accepted->dispersion_s});
}

void Engine::log_refclock_filtered(const RefclockSource &r, const refclock::PollOutcome &outcome)
{
	LogSink *files = env_.log_files;
	if (files == nullptr || !files->enabled(LogFile::Refclocks) || !outcome.sample) {
		return;
	}
	files->refclock({.time = outcome.sample->local,
			 .ref_id = refclock::ref_id_text(r.clock.settings().ref_id),
			 .raw = false,
			 .leap = outcome.leap,
			 .cooked_offset_s = outcome.sample->offset_s,
			 .dispersion_s = outcome.sample->dispersion_s});
}

} // namespace strata::sources
