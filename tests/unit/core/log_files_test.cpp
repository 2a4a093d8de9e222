// The expected lines are lines chronyd 4.3 wrote (Debian's, run as a client
// of a chronyd server and of a SOCK refclock inside tests/integration/
// in_netns.sh), with the values those lines show: strata's must match them
// byte for byte.
#include "core/log_files.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

RealTime at(int64_t s, int64_t ns = 0)
{
	return RealTime::from_parts(s, ns);
}

constexpr int64_t k20261202_054222 = 1796190142;

TEST(LogFiles, Names)
{
	EXPECT_EQ(log_file_name(LogFile::Measurements), "measurements.log");
	EXPECT_EQ(log_file_name(LogFile::Statistics), "statistics.log");
	EXPECT_EQ(log_file_name(LogFile::Tracking), "tracking.log");
	EXPECT_EQ(log_file_name(LogFile::Rtc), "rtc.log");
	EXPECT_EQ(log_file_name(LogFile::Refclocks), "refclocks.log");
	EXPECT_EQ(log_file_name(LogFile::Selection), "selection.log");
	EXPECT_EQ(log_file_for("rawmeasurements"), LogFile::Measurements);
	EXPECT_EQ(log_file_for("measurements"), LogFile::Measurements);
	EXPECT_EQ(log_file_for("selection"), LogFile::Selection);
	EXPECT_EQ(log_file_for("tempcomp"), std::nullopt);
	EXPECT_EQ(log_file_for("bogus"), std::nullopt);
}

TEST(LogFiles, TimesAreUtcDates)
{
	EXPECT_EQ(log_time(at(0)), "1970-01-01 00:00:00");
	EXPECT_EQ(log_time(at(k20261202_054222, 999'999'999)), "2026-12-02 05:42:22");
	EXPECT_EQ(log_time(at(951868799)), "2000-02-29 23:59:59");
	EXPECT_EQ(log_time(at(951868800)), "2000-03-01 00:00:00");
	EXPECT_EQ(log_time(at(-1)), "1969-12-31 23:59:59");
	EXPECT_EQ(log_time(at(4107542400)), "2100-03-01 00:00:00");  // 2100 is no leap year
	EXPECT_EQ(log_time(at(4107542399)), "2100-02-28 23:59:59");
}

TEST(LogFiles, BannersAreChronydsText)
{
	EXPECT_EQ(log_banner(LogFile::Tracking),
		  std::string(131, '=') +
			  "\n   Date (UTC) Time     IP Address   St   Freq ppm   Skew ppm     Offset L Co  Offset sd Rem. "
			  "corr. Root delay Root disp. Max. error\n" +
			  std::string(131, '=') + "\n");
	EXPECT_EQ(log_banner(LogFile::Measurements),
		  std::string(136, '=') +
			  "\n   Date (UTC) Time     IP Address   L St 123 567 ABCD  LP RP Score    Offset  Peer del. Peer "
			  "disp.  Root del. Root disp. Refid     MTxRx\n" +
			  std::string(136, '=') + "\n");
	EXPECT_EQ(log_banner(LogFile::Statistics),
		  std::string(116, '=') +
			  "\n   Date (UTC) Time     IP Address    Std dev'n Est offset  Offset sd  Diff freq   Est skew  "
			  "Stress  Ns  Bs  Nr  Asym\n" +
			  std::string(116, '=') + "\n");
	EXPECT_EQ(log_banner(LogFile::Selection),
		  std::string(87, '=') +
			  "\n   Date (UTC) Time     IP Address   S EOpts Reach Score Last sample  Low end   High end\n" +
			  std::string(87, '=') + "\n");
	EXPECT_EQ(log_banner(LogFile::Refclocks),
		  std::string(79, '=') +
			  "\n   Date (UTC) Time         Refid  DP L P  Raw offset   Cooked offset      Disp.\n" +
			  std::string(79, '=') + "\n");
	EXPECT_EQ(log_banner(LogFile::Rtc),
		  std::string(79, '=') +
			  "\n   Date (UTC) Time   RTC fast (s) Val   Est fast (s)   Slope (ppm)  Ns  Nr Meas\n" +
			  std::string(79, '=') + "\n");
}

TEST(LogFiles, BannerEveryNLines)
{
	EXPECT_TRUE(banner_due(0, 32));
	EXPECT_FALSE(banner_due(1, 32));
	EXPECT_FALSE(banner_due(31, 32));
	EXPECT_TRUE(banner_due(32, 32));
	EXPECT_TRUE(banner_due(64, 32));
	EXPECT_TRUE(banner_due(5, 1));
	EXPECT_FALSE(banner_due(0, 0));  // logbanner 0: never
	EXPECT_FALSE(banner_due(32, 0));
}

TEST(LogFiles, MeasurementLine)
{
	MeasurementEntry e{.time = at(k20261202_054222, 500'000'000),
			   .source = "127.0.0.1",
			   .leap = Leap::None,
			   .stratum = 1,
			   .local_poll = -2,
			   .remote_poll = 0,
			   .score = 1.0,
			   .offset_s = -1.492e-04,
			   .peer_delay_s = 3.019e-04,
			   .peer_dispersion_s = 8.238e-06,
			   .root_delay_s = 0,
			   .root_dispersion_s = 0,
			   .ref_id = 0x7F7F0101,
			   .mode = 4,
			   .tx_source = 'K',
			   .rx_source = 'K'};
	EXPECT_EQ(format_measurement(e), "2026-12-02 05:42:22 127.0.0.1       N  1 111 111 1111  -2  0 1.00 -1.492e-04  "
					 "3.019e-04  8.238e-06  0.000e+00  0.000e+00 7F7F0101 4B K K");
	EXPECT_TRUE(e.synchronised());
	// Failed tests are zeros; an unsynchronised server fails test 6.
	e.leap = Leap::Unsynchronized;
	e.stratum = 16;
	e.tests567[1] = false;
	e.testsABCD[2] = false;
	e.local_poll = -4;
	e.remote_poll = -4;
	e.score = 0;
	e.ref_id = 0;
	e.interleaved = true;
	e.tx_source = 'D';
	EXPECT_EQ(format_measurement(e), "2026-12-02 05:42:22 127.0.0.1       ? 16 111 101 1101  -4 -4 0.00 -1.492e-04  "
					 "3.019e-04  8.238e-06  0.000e+00  0.000e+00 00000000 4I D K");
	EXPECT_FALSE(e.synchronised());
	// A long (IPv6) address widens its column, as in chronyd's files.
	e.source = "2001:db8::1234:5678";
	EXPECT_EQ(format_measurement(e).substr(0, 42), "2026-12-02 05:42:22 2001:db8::1234:5678 ? ");
}

TEST(LogFiles, StatisticsLine)
{
	StatisticsEntry e{.time = at(k20261202_054222),
			  .source = "127.0.0.1",
			  .stddev_s = 4.819e-07,
			  .offset_s = 1.998e-06,
			  .offset_sd_s = 3.257e-07,
			  .rate = -9.289e-06,
			  .skew = 2.159e-02,
			  .stress = 4.6e-03,
			  .samples = 3,
			  .start_index = 0,
			  .runs = 3,
			  .asymmetry = 0};
	EXPECT_EQ(format_statistics(e), "2026-12-02 05:42:22 127.0.0.1        4.819e-07  1.998e-06  3.257e-07 -9.289e-06  "
					"2.159e-02 4.6e-03   3   0   3  0.00");
	e.source = "GPS";
	e.samples = 64;
	e.start_index = 12;
	e.runs = 31;
	e.asymmetry = -0.25;
	EXPECT_EQ(format_statistics(e), "2026-12-02 05:42:22 GPS              4.819e-07  1.998e-06  3.257e-07 -9.289e-06  "
					"2.159e-02 4.6e-03  64  12  31 -0.25");
}

TEST(LogFiles, StatisticsEntryTakesTheLogsSigns)
{
	SourceEstimate est{.offset_s = 2e-6,  // reference − local: the local clock is slow
			   .offset_error_s = 3e-7,
			   .frequency_ppm = 1.5,  // the local clock runs slow: it loses
			   .skew_ppm = 0.25,
			   .stddev_s = 4e-7,
			   .samples = 10,
			   .runs = 6};
	auto e = statistics_entry(at(100), "10.0.0.1", est, 14, 0.125, std::nullopt);
	EXPECT_EQ(e.source, "10.0.0.1");
	EXPECT_DOUBLE_EQ(e.offset_s, -2e-6);
	EXPECT_DOUBLE_EQ(e.rate, -1.5e-6);
	EXPECT_DOUBLE_EQ(e.skew, 0.25e-6);
	EXPECT_DOUBLE_EQ(e.stddev_s, 4e-7);
	EXPECT_DOUBLE_EQ(e.offset_sd_s, 3e-7);
	EXPECT_EQ(e.samples, 10);
	EXPECT_EQ(e.start_index, 4);
	EXPECT_EQ(e.runs, 6);
	EXPECT_DOUBLE_EQ(e.asymmetry, 0.125);
	EXPECT_DOUBLE_EQ(e.stress, 0.0);  // nothing to compare with yet
	// The stress: how far the rate moved, in the old rate's errors.
	auto next = statistics_entry(at(101), "10.0.0.1", est, 14, 0.125, std::pair{-1.0e-6, 0.25e-6});
	EXPECT_DOUBLE_EQ(next.stress, 2.0);
}

TEST(LogFiles, TrackingLine)
{
	TrackingEntry e{.time = at(k20261202_054222),
			.reference = "0.0.0.0",
			.stratum = 0,
			.freq_ppm = 0,
			.skew_ppm = 1000000,
			.offset_s = 0,
			.leap = Leap::Unsynchronized,
			.combined = 0,
			.offset_sd_s = 0,
			.remaining_correction_s = -0.0,
			.root_delay_s = 1,
			.root_dispersion_s = 1,
			.max_error_s = 1.5};
	EXPECT_EQ(format_tracking(e), "2026-12-02 05:42:22 0.0.0.0          0      0.000 1000000.000  0.000e+00 ?  0  "
				      "0.000e+00 -0.000e+00  1.000e+00  1.000e+00  1.500e+00");
	e = {.time = at(k20261202_054222),
	     .reference = "127.0.0.1",
	     .stratum = 2,
	     .freq_ppm = 6.094,
	     .skew_ppm = 579.385,
	     .offset_s = 2.340e-07,
	     .leap = Leap::None,
	     .combined = 1,
	     .offset_sd_s = 3.838e-07,
	     .remaining_correction_s = -1.995e-06,
	     .root_delay_s = 8.354e-06,
	     .root_dispersion_s = 2.604e-04,
	     .max_error_s = 2.327e-02};
	EXPECT_EQ(format_tracking(e), "2026-12-02 05:42:22 127.0.0.1        2      6.094    579.385  2.340e-07 N  1  "
				      "3.838e-07 -1.995e-06  8.354e-06  2.604e-04  2.327e-02");
}

TEST(LogFiles, RtcLine)
{
	// chrony.conf(5)'s example values.
	RtcEntry e{.time = at(k20261202_054222),
		   .rtc_fast_s = -0.037360,
		   .valid = true,
		   .est_fast_s = -0.037434,
		   .slope_ppm = -37.948,
		   .samples = 12,
		   .runs = 5,
		   .interval_s = 120};
	EXPECT_EQ(format_rtc(e), "2026-12-02 05:42:22      -0.037360 1       -0.037434       -37.948  12   5  120");
	e.valid = false;
	e.samples = 0;
	e.runs = 0;
	EXPECT_EQ(format_rtc(e), "2026-12-02 05:42:22      -0.037360 0       -0.037434       -37.948   0   0  120");
}

TEST(LogFiles, RefclockLines)
{
	constexpr int64_t k20261202_054301 = 1796190181;
	RefclockEntry e{.time = at(k20261202_054301, 413'343'999),
			.ref_id = "GPS",
			.raw = true,
			.sequence = 0,
			.leap = Leap::None,
			.pulse = false,
			.raw_offset_s = -7.887060e-04,
			.cooked_offset_s = -7.887060e-04,
			.dispersion_s = 2.000e-08};
	EXPECT_EQ(format_refclock(e),
		  "2026-12-02 05:43:01.413343 GPS     0 N 0 -7.887060e-04 -7.887060e-04  2.000e-08");
	e = {.time = at(k20261202_054301 + 2, 917'713'000),
	     .ref_id = "GPS",
	     .raw = false,
	     .leap = Leap::None,
	     .cooked_offset_s = 6.771590e-04,
	     .dispersion_s = 2.684e-04};
	EXPECT_EQ(format_refclock(e),
		  "2026-12-02 05:43:03.917713 GPS     - N -       -        6.771590e-04  2.684e-04");
	e = {.time = at(k20261202_054301, 0),
	     .ref_id = "PPS0",
	     .sequence = 15,
	     .leap = Leap::Insert,
	     .pulse = true,
	     .raw_offset_s = 4.9e-07,
	     .cooked_offset_s = -6.741777e-07,
	     .dispersion_s = 1e-6};
	EXPECT_EQ(format_refclock(e),
		  "2026-12-02 05:43:01.000000 PPS0   15 + 1  4.900000e-07 -6.741777e-07  1.000e-06");
}

TEST(LogFiles, SelectionLine)
{
	SelectionEntry e{.time = at(k20261202_054222),
			 .source = "127.0.0.1",
			 .state = '*',
			 .reach = 7,
			 .score = 1.0,
			 .last_sample_ago_s = 5.561e-05,
			 .lo_s = -3.259e-06,
			 .hi_s = 7.259e-06};
	EXPECT_EQ(format_selection(e), "2026-12-02 05:42:22 127.0.0.1       * -----    7  1.00  5.561e-05 -3.259e-06  "
				       "7.259e-06");
	e = {.time = at(k20261202_054222),
	     .source = "GPS",
	     .state = 's',
	     .reach = 0,
	     .score = 1.0,
	     .last_sample_ago_s = 0,
	     .lo_s = 0,
	     .hi_s = 0};
	EXPECT_EQ(format_selection(e), "2026-12-02 05:42:22 GPS             s -----    0  1.00  0.000e+00  0.000e+00  "
				       "0.000e+00");
	e.reach = 0377;
	e.prefer = true;
	e.require = true;
	e.state = '+';
	EXPECT_EQ(format_selection(e).substr(0, 48), "2026-12-02 05:42:22 GPS             + --P-R  377");
}

} // namespace
} // namespace strata
