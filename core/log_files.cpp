#include "core/log_files.h"

#include <cmath>

#include <fmt/format.h>

namespace strata {

namespace {

struct Civil {
	int64_t year;
	int month;
	int day;
};

/// Days since 1970-01-01 to a proleptic Gregorian date: count in 400-year
/// eras of 146097 days from 0000-03-01, with March first so that February's
/// odd length falls at the end of the counting year.
Civil civil_from_days(int64_t days)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;                                    // [0, 146096]
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);             // [0, 365]
	int64_t mp = (5 * doy + 2) / 153;                                  // [0, 11], March = 0
	int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
	int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
	return {yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

/// The column header of each file, as chronyd prints it.
std::string_view header(LogFile file)
{
	switch (file) {
	case LogFile::Measurements:
		return "   Date (UTC) Time     IP Address   L St 123 567 ABCD  LP RP Score    Offset  Peer del. "
		       "Peer disp.  Root del. Root disp. Refid     MTxRx";
	case LogFile::Statistics:
		return "   Date (UTC) Time     IP Address    Std dev'n Est offset  Offset sd  Diff freq   Est skew  "
		       "Stress  Ns  Bs  Nr  Asym";
	case LogFile::Tracking:
		return "   Date (UTC) Time     IP Address   St   Freq ppm   Skew ppm     Offset L Co  Offset sd "
		       "Rem. corr. Root delay Root disp. Max. error";
	case LogFile::Rtc:
		return "   Date (UTC) Time   RTC fast (s) Val   Est fast (s)   Slope (ppm)  Ns  Nr Meas";
	case LogFile::Refclocks:
		return "   Date (UTC) Time         Refid  DP L P  Raw offset   Cooked offset      Disp.";
	case LogFile::Selection:
		return "   Date (UTC) Time     IP Address   S EOpts Reach Score Last sample  Low end   High end";
	}
	return "";
}

char bit(bool b)
{
	return b ? '1' : '0';
}

} // namespace

std::string_view log_file_name(LogFile file)
{
	switch (file) {
	case LogFile::Measurements:
		return "measurements.log";
	case LogFile::Statistics:
		return "statistics.log";
	case LogFile::Tracking:
		return "tracking.log";
	case LogFile::Rtc:
		return "rtc.log";
	case LogFile::Refclocks:
		return "refclocks.log";
	case LogFile::Selection:
		return "selection.log";
	}
	return "";
}

std::optional<LogFile> log_file_for(std::string_view word)
{
	if (word == "measurements" || word == "rawmeasurements") {
		return LogFile::Measurements;
	}
	if (word == "statistics") {
		return LogFile::Statistics;
	}
	if (word == "tracking") {
		return LogFile::Tracking;
	}
	if (word == "rtc") {
		return LogFile::Rtc;
	}
	if (word == "refclocks") {
		return LogFile::Refclocks;
	}
	if (word == "selection") {
		return LogFile::Selection;
	}
	return std::nullopt;
}

std::string log_banner(LogFile file)
{
	std::string_view h = header(file);
	std::string rule(h.size(), '=');
	return fmt::format("{}\n{}\n{}\n", rule, h, rule);
}

bool banner_due(uint64_t lines, int every)
{
	return every > 0 && lines % static_cast<uint64_t>(every) == 0;
}

std::string log_time(RealTime t)
{
	int64_t s = t.seconds();
	int64_t days = (s >= 0 ? s : s - 86399) / 86400;
	int64_t in_day = s - days * 86400;
	Civil c = civil_from_days(days);
	return fmt::format("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}", c.year, c.month, c.day, in_day / 3600,
			   in_day / 60 % 60, in_day % 60);
}

char leap_char(Leap leap)
{
	switch (leap) {
	case Leap::None:
		return 'N';
	case Leap::Insert:
		return '+';
	case Leap::Delete:
		return '-';
	case Leap::Unsynchronized:
		return '?';
	}
	return '?';
}

std::string format_measurement(const MeasurementEntry &e)
{
	return fmt::format("{} {:<15} {} {:2d} {}{}{} {}{}{} {}{}{}{}  {:2d} {:2d} {:4.2f} {:10.3e} {:10.3e} {:10.3e} "
			   "{:10.3e} {:10.3e} {:08X} {}{} {} {}",
			   log_time(e.time), e.source, leap_char(e.leap), e.stratum, bit(e.tests123[0]), bit(e.tests123[1]),
			   bit(e.tests123[2]), bit(e.tests567[0]), bit(e.tests567[1]), bit(e.tests567[2]),
			   bit(e.testsABCD[0]), bit(e.testsABCD[1]), bit(e.testsABCD[2]), bit(e.testsABCD[3]), e.local_poll,
			   e.remote_poll, e.score, e.offset_s, e.peer_delay_s, e.peer_dispersion_s, e.root_delay_s,
			   e.root_dispersion_s, e.ref_id, e.mode, e.interleaved ? 'I' : 'B', e.tx_source, e.rx_source);
}

std::string format_statistics(const StatisticsEntry &e)
{
	return fmt::format("{} {:<15} {:10.3e} {:10.3e} {:10.3e} {:10.3e} {:10.3e} {:7.1e} {:3d} {:3d} {:3d} {:5.2f}",
			   log_time(e.time), e.source, e.stddev_s, e.offset_s, e.offset_sd_s, e.rate, e.skew, e.stress,
			   e.samples, e.start_index, e.runs, e.asymmetry);
}

StatisticsEntry statistics_entry(RealTime time, std::string source, const SourceEstimate &e, size_t total_samples,
				 double asymmetry, std::optional<std::pair<double, double>> previous)
{
	StatisticsEntry s{.time = time, .source = std::move(source)};
	s.stddev_s = e.stddev_s;
	s.offset_s = 0.0 - e.offset_s;
	s.offset_sd_s = e.offset_error_s;
	// strata's frequency_ppm: the local clock runs this slow; the log's
	// rate: positive when it gains.
	s.rate = 0.0 - e.frequency_ppm * 1e-6;
	s.skew = e.skew_ppm * 1e-6;
	if (previous && previous->second > 0) {
		s.stress = std::abs(previous->first - s.rate) / previous->second;
	}
	s.samples = static_cast<int>(e.samples);
	s.start_index = total_samples > e.samples ? static_cast<int>(total_samples - e.samples) : 0;
	s.runs = static_cast<int>(e.runs);
	s.asymmetry = asymmetry;
	return s;
}

std::string format_tracking(const TrackingEntry &e)
{
	return fmt::format("{} {:<15} {:2d} {:10.3f} {:10.3f} {:10.3e} {} {:2d} {:10.3e} {:10.3e} {:10.3e} {:10.3e} "
			   "{:10.3e}",
			   log_time(e.time), e.reference, e.stratum, e.freq_ppm, e.skew_ppm, e.offset_s, leap_char(e.leap),
			   e.combined, e.offset_sd_s, e.remaining_correction_s, e.root_delay_s, e.root_dispersion_s,
			   e.max_error_s);
}

std::string format_rtc(const RtcEntry &e)
{
	return fmt::format("{} {:14.6f} {}  {:14.6f}  {:12.3f}  {:2d}  {:2d} {:4d}", log_time(e.time), e.rtc_fast_s,
			   e.valid ? 1 : 0, e.est_fast_s, e.slope_ppm, e.samples, e.runs, e.interval_s);
}

std::string format_refclock(const RefclockEntry &e)
{
	std::string when = fmt::format("{}.{:06d}", log_time(e.time), e.time.subsec_ns() / 1000);
	if (!e.raw) {
		return fmt::format("{} {:<5}   - {} -       -       {:13.6e} {:10.3e}", when, e.ref_id, leap_char(e.leap),
				   e.cooked_offset_s, e.dispersion_s);
	}
	return fmt::format("{} {:<5} {:3d} {} {} {:13.6e} {:13.6e} {:10.3e}", when, e.ref_id, e.sequence,
			   leap_char(e.leap), e.pulse ? 1 : 0, e.raw_offset_s, e.cooked_offset_s, e.dispersion_s);
}

std::string format_selection(const SelectionEntry &e)
{
	return fmt::format("{} {:<15} {} -{}{}{}{} {:4o} {:5.2f} {:10.3e} {:10.3e} {:10.3e}", log_time(e.time), e.source,
			   e.state, e.noselect ? 'N' : '-', e.prefer ? 'P' : '-', e.trust ? 'T' : '-',
			   e.require ? 'R' : '-', e.reach, e.score, e.last_sample_ago_s, e.lo_s, e.hi_s);
}

} // namespace strata
