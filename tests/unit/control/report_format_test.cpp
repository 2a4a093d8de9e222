// chronyc's layouts. The goldens marked "chronyc 4.3" are lines Debian 12's
// chronyc printed for a chronyd 4.3 client of a local chronyd (a GPS SHM
// refclock, 127.0.0.1, ::1 and a noselect 127.0.0.2), with the report
// values rebuilt here; the edge cases were worked out with C's printf.
#include "control/report_format.h"

#include <cstdio>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace strata::control {
namespace {

IpAddress ip(const char *text)
{
	return *IpAddress::parse(text);
}

RealTime at(int64_t s, int64_t ns = 0)
{
	return RealTime::from_parts(s, ns);
}

constexpr uint32_t kGps = 0x47505300;  // "GPS"

SourceDataReport gps_source()
{
	return {.address = IpAddress::v4(kGps), .poll = 2, .stratum = 0,
		.state = SourceState::NonSelectable, .mode = SourceMode::RefClock,
		.reachability = 0, .since_sample_s = UINT32_MAX};
}

SourceDataReport ntp_source(const char *addr, SourceState state, double adjusted, double measured,
			    double error)
{
	return {.address = ip(addr), .poll = 0, .stratum = 1, .state = state, .mode = SourceMode::Client,
		.reachability = 0377, .since_sample_s = 1, .orig_latest_meas_s = measured,
		.latest_meas_s = adjusted, .latest_meas_err_s = error};
}

TrackingReport tracking()
{
	return {.ref_id = 0x7F000001, .address = ip("127.0.0.1"), .stratum = 2, .leap = Leap::None,
		.ref_time = at(1795603246, 378595907), .current_correction_s = -1.353e-6,
		.last_offset_s = 1.82e-7, .rms_offset_s = 9.3e-8, .freq_ppm = -0.095,
		.resid_freq_ppm = 0.004, .skew_ppm = 0.306, .root_delay_s = 6.079e-6,
		.root_dispersion_s = 1.033e-6, .last_update_interval_s = 1.0};
}

TEST(ReportFormat, TrackingAsChronycPrintsIt)  // chronyc 4.3
{
	EXPECT_EQ(format_tracking(tracking(), "localhost", TextStyle::Human),
		  "Reference ID    : 7F000001 (localhost)\n"
		  "Stratum         : 2\n"
		  "Ref time (UTC)  : Wed Nov 25 10:40:46 2026\n"
		  "System time     : 0.000001353 seconds fast of NTP time\n"
		  "Last offset     : +0.000000182 seconds\n"
		  "RMS offset      : 0.000000093 seconds\n"
		  "Frequency       : 0.095 ppm slow\n"
		  "Residual freq   : +0.004 ppm\n"
		  "Skew            : 0.306 ppm\n"
		  "Root delay      : 0.000006079 seconds\n"
		  "Root dispersion : 0.000001033 seconds\n"
		  "Update interval : 1.0 seconds\n"
		  "Leap status     : Normal\n");
}

TEST(ReportFormat, TrackingCsv)  // chronyc 4.3 -c
{
	TrackingReport r = tracking();
	r.address = ip("::1");
	r.ref_id = 0xCF404DC8;
	r.ref_time = at(1795603836, 399768689);
	r.current_correction_s = -1.505e-6;
	r.last_offset_s = 2.06e-7;
	r.rms_offset_s = 4.37e-7;
	r.freq_ppm = -0.261;
	r.resid_freq_ppm = 0.005;
	r.skew_ppm = 0.689;
	r.root_delay_s = 7.57e-6;
	r.root_dispersion_s = 1.658e-6;
	EXPECT_EQ(format_tracking(r, "::1", TextStyle::Csv),
		  "CF404DC8,::1,2,1795603836.399768689,-0.000001505,0.000000206,0.000000437,-0.261,0.005,"
		  "0.689,0.000007570,0.000001658,1.0,Normal\n");
}

TEST(ReportFormat, TrackingEdges)
{
	// Unsynchronised, never updated, a local reference (nothing printable
	// in its id), a clock 12 s slow running 500 ppm fast.
	TrackingReport r{.ref_id = kLocalRefId, .address = NoAddress{}, .stratum = 0,
			 .leap = Leap::Unsynchronized, .ref_time = at(0), .current_correction_s = 12.0,
			 .last_offset_s = -0.5, .freq_ppm = 500.0, .resid_freq_ppm = -1.25};
	EXPECT_EQ(numeric_name(r), "");
	EXPECT_EQ(format_tracking(r, numeric_name(r), TextStyle::Human),
		  "Reference ID    : 7F7F0101 ()\n"
		  "Stratum         : 0\n"
		  "Ref time (UTC)  : Thu Jan 01 00:00:00 1970\n"
		  "System time     : 12.000000000 seconds slow of NTP time\n"
		  "Last offset     : -0.500000000 seconds\n"
		  "RMS offset      : 0.000000000 seconds\n"
		  "Frequency       : 500.000 ppm fast\n"
		  "Residual freq   : -1.250 ppm\n"
		  "Skew            : 0.000 ppm\n"
		  "Root delay      : 0.000000000 seconds\n"
		  "Root dispersion : 0.000000000 seconds\n"
		  "Update interval : 0.0 seconds\n"
		  "Leap status     : Not synchronised\n");
	EXPECT_EQ(format_tracking(r, "", TextStyle::Csv),
		  "7F7F0101,,0,0.000000000,12.000000000,-0.500000000,0.000000000,500.000,-1.250,0.000,"
		  "0.000000000,0.000000000,0.0,Not synchronised\n");
	r.leap = Leap::Insert;
	EXPECT_NE(format_tracking(r, "", TextStyle::Human).find("Leap status     : Insert second\n"),
		  std::string::npos);
	r.leap = Leap::Delete;
	EXPECT_NE(format_tracking(r, "", TextStyle::Human).find("Leap status     : Delete second\n"),
		  std::string::npos);
}

std::vector<Named<SourceDataReport>> four_sources()
{
	return {{gps_source(), "GPS"},
		{ntp_source("127.0.0.1", SourceState::Selected, -211e-9, -29e-9, 3074e-9), "127.0.0.1"},
		{ntp_source("::1", SourceState::Unselected, 860e-9, 1031e-9, 4257e-9), "::1"},
		{ntp_source("127.0.0.2", SourceState::NonSelectable, 737e-9, 913e-9, 4354e-9), "127.0.0.2"}};
}

TEST(ReportFormat, SourcesVerboseAsChronycPrintsIt)  // chronyc 4.3 -n sources -v
{
	auto rows = four_sources();
	EXPECT_EQ(numeric_name(rows[0].report), "GPS");
	EXPECT_EQ(format_sources(rows, true, TextStyle::Human),
		  "\n"
		  "  .-- Source mode  '^' = server, '=' = peer, '#' = local clock.\n"
		  " / .- Source state '*' = current best, '+' = combined, '-' = not combined,\n"
		  "| /             'x' = may be in error, '~' = too variable, '?' = unusable.\n"
		  "||                                                 .- xxxx [ yyyy ] +/- zzzz\n"
		  "||      Reachability register (octal) -.           |  xxxx = adjusted offset,\n"
		  "||      Log2(Polling interval) --.      |          |  yyyy = measured offset,\n"
		  "||                                \\     |          |  zzzz = estimated error.\n"
		  "||                                 |    |           \\\n"
		  "MS Name/IP address         Stratum Poll Reach LastRx Last sample               \n"
		  "===============================================================================\n"
		  "#? GPS                           0   2     0     -     +0ns[   +0ns] +/-    0ns\n"
		  "^* 127.0.0.1                     1   0   377     1   -211ns[  -29ns] +/- 3074ns\n"
		  "^+ ::1                           1   0   377     1   +860ns[+1031ns] +/- 4257ns\n"
		  "^? 127.0.0.2                     1   0   377     1   +737ns[ +913ns] +/- 4354ns\n");
	// Without -v: no legend, same table.
	EXPECT_EQ(format_sources(rows, false, TextStyle::Human).substr(0, 10), "MS Name/IP");
}

TEST(ReportFormat, SourcesCsv)  // chronyc 4.3 -c -n sources (-v is ignored with -c)
{
	auto rows = four_sources();
	EXPECT_EQ(format_sources(rows, true, TextStyle::Csv),
		  "#,?,GPS,0,2,0,4294967295,0.000000000,0.000000000,0.000000000\n"
		  "^,*,127.0.0.1,1,0,377,1,-0.000000211,-0.000000029,0.000003074\n"
		  "^,+,::1,1,0,377,1,0.000000860,0.000001031,0.000004257\n"
		  "^,?,127.0.0.2,1,0,377,1,0.000000737,0.000000913,0.000004354\n");
}

TEST(ReportFormat, SourcesEdges)
{
	// Units grow with the magnitude; a peer, a jittery and a falseticker
	// state, a long name, an IPv6 name, a poll of -6.
	SourceDataReport r = ntp_source("2001:db8::1", SourceState::Jittery, -12345.6, 1e6, 1e10);
	r.mode = SourceMode::Peer;
	r.poll = -6;
	r.stratum = 15;
	r.since_sample_s = 36000;
	EXPECT_EQ(format_source(r, "2001:db8::1", TextStyle::Human),
		  "=~ 2001:db8::1                  15  -6   377   10h  -12346s[+16667m] +/-   317y\n");
	r.state = SourceState::Falseticker;
	r.latest_meas_s = 0.5e-9;  // ties round to even, as printf does
	r.orig_latest_meas_s = -2.5;
	r.latest_meas_err_s = 123.456;
	r.since_sample_s = 1199;
	EXPECT_EQ(format_source(r, "a-very-long-host-name.ex>", TextStyle::Human),
		  "=x a-very-long-host-name.ex>    15  -6   377  1199     +0ns[-2500ms] +/- 123.5s\n");
	r.state = SourceState::Selectable;
	r.latest_meas_s = -0.4e-9;
	EXPECT_EQ(format_source(r, "x", TextStyle::Human).substr(0, 2), "=-");
	EXPECT_NE(format_source(r, "x", TextStyle::Human).find("    -0ns["), std::string::npos);
	EXPECT_EQ(format_source(r, "x", TextStyle::Csv), "=,-,x,15,-6,377,1199,-0.000000000,-2.500000000,123.456000000\n");
}

TEST(ReportFormat, SourcestatsVerboseAsChronycPrintsIt)  // chronyc 4.3 -n sourcestats -v
{
	std::vector<Named<SourceStatsReport>> rows = {
		{{.ref_id = kGps, .address = NoAddress{}, .sd_s = 4.0, .skew_ppm = 2000}, "GPS"},
		{{.ref_id = 0x7F000001, .address = ip("127.0.0.1"), .n_samples = 8, .n_runs = 4, .span_s = 5,
		  .sd_s = 244e-9, .resid_freq_ppm = -0.002, .skew_ppm = 0.286, .est_offset_s = -296e-9},
		 "127.0.0.1"},
	};
	EXPECT_EQ(numeric_name(rows[0].report), "GPS");
	EXPECT_EQ(format_sourcestats(rows, true, TextStyle::Human),
		  "                             .- Number of sample points in measurement set.\n"
		  "                            /    .- Number of residual runs with same sign.\n"
		  "                           |    /    .- Length of measurement set (time).\n"
		  "                           |   |    /      .- Est. clock freq error (ppm).\n"
		  "                           |   |   |      /           .- Est. error in freq.\n"
		  "                           |   |   |     |           /         .- Est. offset.\n"
		  "                           |   |   |     |          |          |   On the -.\n"
		  "                           |   |   |     |          |          |   samples. \\\n"
		  "                           |   |   |     |          |          |             |\n"
		  "Name/IP Address            NP  NR  Span  Frequency  Freq Skew  Offset  Std Dev\n"
		  "==============================================================================\n"
		  "GPS                         0   0     0     +0.000   2000.000     +0ns  4000ms\n"
		  "127.0.0.1                   8   4     5     -0.002      0.286   -296ns   244ns\n");
	EXPECT_EQ(format_sourcestats(rows, true, TextStyle::Csv),  // chronyc 4.3 -c
		  "GPS,0,0,0,0.000,2000.000,0.000000000,4.000000000\n"
		  "127.0.0.1,8,4,5,-0.002,0.286,-0.000000296,0.000000244\n");
	// Frequencies of 100000 ppm and more lose their decimals.
	rows[1].report.resid_freq_ppm = -123456.7;
	rows[1].report.skew_ppm = 123456.7;
	rows[1].report.span_s = 345600;
	EXPECT_EQ(format_sourcestats_row(rows[1].report, "127.0.0.1", TextStyle::Human),
		  "127.0.0.1                   8   4    4d    -123457     123457   -296ns   244ns\n");
}

TEST(ReportFormat, SelectdataAsChronycPrintsIt)  // chronyc 4.3 -n selectdata -v
{
	std::vector<Named<SelectDataReport>> rows = {
		{{.ref_id = kGps, .address = NoAddress{}, .state = 'N', .leap = Leap::Unsynchronized,
		  .configured_options = kSelectNoselect, .effective_options = kSelectNoselect, .score = 1.0},
		 "GPS"},
		{{.ref_id = 0x7F000001, .address = ip("127.0.0.1"), .state = '*', .leap = Leap::None,
		  .score = 1.0, .lo_limit_s = -3103e-9, .hi_limit_s = 3045e-9},
		 "127.0.0.1"},
	};
	EXPECT_EQ(format_selectdata(rows, true, TextStyle::Human),
		  "  . State: N - noselect, s - unsynchronised, M - missing samples,\n"
		  " /         d/D - large distance, ~ - jittery, w/W - waits for others,\n"
		  "|          S - stale, O - orphan, T - not trusted, P - not preferred,\n"
		  "|          U - waits for update,, x - falseticker, + - combined, * - best.\n"
		  "|   Effective options   ---------.  (N - noselect, P - prefer\n"
		  "|   Configured options  ----.     \\  T - trust, R - require)\n"
		  "|   Auth. enabled (Y/N) -.   \\     \\     Offset interval --.\n"
		  "|                        |    |     |                       |\n"
		  "S Name/IP Address        Auth COpts EOpts Last Score     Interval  Leap\n"
		  "=======================================================================\n"
		  "N GPS                       N N---- N----    0   1.0    +0ns    +0ns  ?\n"
		  "* 127.0.0.1                 N ----- -----    0   1.0 -3103ns +3045ns  N\n");
	EXPECT_EQ(format_selectdata(rows, false, TextStyle::Csv),  // chronyc 4.3 -c
		  "N,GPS,N,N,-,-,-,-,N,-,-,-,-,0,1.0,0.000000000,0.000000000,Not synchronised\n"
		  "*,127.0.0.1,N,-,-,-,-,-,-,-,-,-,-,0,1.0,-0.000003103,0.000003045,Normal\n");
	SelectDataReport all = rows[1].report;
	all.authenticated = true;
	all.configured_options = kSelectPrefer | kSelectTrust | kSelectRequire;
	all.effective_options = kSelectNoselect | kSelectPrefer | kSelectTrust | kSelectRequire;
	all.leap = Leap::Insert;
	EXPECT_EQ(format_selectdata_row(all, "x", TextStyle::Human),
		  "* x                         Y -PTR- NPTR-    0   1.0 -3103ns +3045ns  +\n");
	all.leap = Leap::Delete;
	EXPECT_EQ(format_selectdata_row(all, "x", TextStyle::Human).back(), '\n');
	EXPECT_NE(format_selectdata_row(all, "x", TextStyle::Human).find("  -\n"), std::string::npos);
}

TEST(ReportFormat, AuthdataAsChronycPrintsIt)  // chronyc 4.3 -n authdata -v
{
	std::vector<Named<SourceAuth>> rows = {
		{{ip("127.0.0.1"), {.mode = AuthMode::None, .last_ke_ago_s = UINT32_MAX}}, "127.0.0.1"},
		{{ip("192.0.2.7"), {.mode = AuthMode::Nts, .key_type = 15, .key_id = 0, .key_length = 256,
				    .ke_attempts = 1, .last_ke_ago_s = 7200, .cookies = 8,
				    .cookie_length = 100, .nak = 0}},
		 "192.0.2.7"},
		{{ip("192.0.2.8"), {.mode = AuthMode::Symmetric, .key_type = 2, .key_id = 12345,
				    .key_length = 160, .last_ke_ago_s = UINT32_MAX}},
		 "192.0.2.8"},
	};
	EXPECT_EQ(format_authdata(rows, true, TextStyle::Human),
		  "                             .- Auth. mechanism (NTS, SK - symmetric key)\n"
		  "                            |   Key length -.  Cookie length (bytes) -.\n"
		  "                            |       (bits)  |  Num. of cookies --.    |\n"
		  "                            |               |  Key est. attempts  |   |\n"
		  "                            |               |           |         |   |\n"
		  "Name/IP address             Mode KeyID Type KLen Last Atmp  NAK Cook CLen\n"
		  "=========================================================================\n"
		  "127.0.0.1                      -     0    0    0    -    0    0    0    0\n"
		  "192.0.2.7                    NTS     0   15  256 120m    1    0    8  100\n"
		  "192.0.2.8                     SK 12345    2  160    -    0    0    0    0\n");
	EXPECT_EQ(format_authdata(rows, false, TextStyle::Csv),
		  "127.0.0.1,-,0,0,0,4294967295,0,0,0,0\n"
		  "192.0.2.7,NTS,0,15,256,7200,1,0,8,100\n"
		  "192.0.2.8,SK,12345,2,160,4294967295,0,0,0,0\n");
}

TEST(ReportFormat, ClientsAsChronycPrintsThem)  // chronyc 4.3 clients [-k]
{
	ClientAccess c{.address = ip("127.0.0.1"), .cmd_hits = 1, .ntp_interval = 127, .nke_interval = 127,
		       .cmd_interval = 127, .ntp_timeout_interval = 127, .last_ntp_hit_ago_s = UINT32_MAX,
		       .last_nke_hit_ago_s = UINT32_MAX, .last_cmd_hit_ago_s = 0};
	std::vector<Named<ClientAccess>> rows = {{c, "127.0.0.1"}};
	EXPECT_EQ(format_clients(rows, true, TextStyle::Human),
		  "Hostname                      NTP   Drop Int IntL Last  NTS-KE   Drop Int  Last\n"
		  "===============================================================================\n"
		  "127.0.0.1                       0      0   -   -     -       0      0   -     -\n");
	EXPECT_EQ(format_clients(rows, false, TextStyle::Human),
		  "Hostname                      NTP   Drop Int IntL Last     Cmd   Drop Int  Last\n"
		  "===============================================================================\n"
		  "127.0.0.1                       0      0   -   -     -       1      0   -     0\n");
	EXPECT_EQ(format_clients(rows, false, TextStyle::Csv), "127.0.0.1,0,0,127,127,4294967295,1,0,127,0\n");
	// Busy IPv6 client: intervals, six-digit counters.
	ClientAccess busy{.address = ip("2001:db8::42"), .ntp_hits = 123456, .ntp_drops = 99999,
			  .ntp_interval = -3, .cmd_interval = 127, .ntp_timeout_interval = 6,
			  .last_ntp_hit_ago_s = 59, .last_cmd_hit_ago_s = UINT32_MAX};
	EXPECT_EQ(format_client(busy, "2001:db8::42", false, TextStyle::Human),
		  "2001:db8::42               123456  99999  -3   6    59       0      0   -     -\n");
}

TEST(ReportFormat, NtpdataAsChronycPrintsIt)  // chronyc 4.3 ntpdata
{
	NtpDataReport r{.remote_address = ip("::1"), .local_address = ip("::1"), .remote_port = 11150,
			.leap = Leap::None, .version = 4, .mode = 4, .stratum = 1, .poll = 0,
			.precision = -26, .ref_id = kLocalRefId, .ref_time = at(1795603239, 455916831),
			.offset_s = -1.031e-6, .peer_delay_s = 8.443e-6, .peer_dispersion_s = 3.5e-8,
			.response_time_s = 1.12498e-4, .tests = 0x3ff, .tx_timestamping = 'K',
			.rx_timestamping = 'K', .total_tx_count = 8, .total_rx_count = 8,
			.total_valid_count = 8, .total_good_count = 8};
	EXPECT_EQ(format_ntpdata(r, true, TextStyle::Human),
		  "\n"
		  "Remote address  : ::1 (CF404DC8)\n"
		  "Remote port     : 11150\n"
		  "Local address   : ::1 (CF404DC8)\n"
		  "Leap status     : Normal\n"
		  "Version         : 4\n"
		  "Mode            : Server\n"
		  "Stratum         : 1\n"
		  "Poll interval   : 0 (1 seconds)\n"
		  "Precision       : -26 (0.000000015 seconds)\n"
		  "Root delay      : 0.000000 seconds\n"
		  "Root dispersion : 0.000000 seconds\n"
		  "Reference ID    : 7F7F0101 ()\n"
		  "Reference time  : Wed Nov 25 10:40:39 2026\n"
		  "Offset          : -0.000001031 seconds\n"
		  "Peer delay      : 0.000008443 seconds\n"
		  "Peer dispersion : 0.000000035 seconds\n"
		  "Response time   : 0.000112498 seconds\n"
		  "Jitter asymmetry: +0.00\n"
		  "NTP tests       : 111 111 1111\n"
		  "Interleaved     : No\n"
		  "Authenticated   : No\n"
		  "TX timestamping : Kernel\n"
		  "RX timestamping : Kernel\n"
		  "Total TX        : 8\n"
		  "Total RX        : 8\n"
		  "Total valid RX  : 8\n"
		  "Total good RX   : 8\n");
	r.remote_address = ip("127.0.0.2");
	r.local_address = ip("127.0.0.1");
	r.offset_s = -9.13e-7;
	r.peer_delay_s = 8.639e-6;
	r.response_time_s = 1.13774e-4;
	EXPECT_EQ(format_ntpdata(r, true, TextStyle::Csv),  // chronyc 4.3 -c: no blank line
		  "127.0.0.2,7F000002,11150,127.0.0.1,7F000001,Normal,4,Server,1,0,1,-26,0.000000015,"
		  "0.000000,0.000000,7F7F0101,,1795603239.455916831,-0.000000913,0.000008639,0.000000035,"
		  "0.000113774,0.00,111,111,1111,No,No,Kernel,Kernel,8,8,8,8\n");
	// A stratum-1 reference id is shown as text; test bits in groups of
	// 3, 3, 4; symmetric modes; hardware and daemon timestamps; poll -6.
	r.ref_id = 0x50505300;
	r.tests = 0x2a5;  // 1010100101
	r.mode = 1;
	r.poll = -6;
	r.interleaved = r.authenticated = true;
	r.tx_timestamping = 'H';
	r.rx_timestamping = 'D';
	r.leap = Leap::Unsynchronized;
	std::string text = format_ntpdata(r, false, TextStyle::Human);
	EXPECT_EQ(text.substr(0, 7), "Remote ");
	EXPECT_NE(text.find("Reference ID    : 50505300 (PPS)\n"), std::string::npos);
	EXPECT_NE(text.find("NTP tests       : 101 010 0101\n"), std::string::npos);
	EXPECT_NE(text.find("Mode            : Symmetric active\n"), std::string::npos);
	EXPECT_NE(text.find("Poll interval   : -6 (0 seconds)\n"), std::string::npos);
	EXPECT_NE(text.find("Interleaved     : Yes\nAuthenticated   : Yes\n"), std::string::npos);
	EXPECT_NE(text.find("TX timestamping : Hardware\nRX timestamping : Daemon\n"), std::string::npos);
	EXPECT_NE(text.find("Leap status     : Not synchronised\n"), std::string::npos);
	r.mode = 2;
	r.stratum = 2;
	EXPECT_NE(format_ntpdata(r, false, TextStyle::Human).find("Mode            : Symmetric passive\n"
								  "Stratum         : 2\n"),
		  std::string::npos);
	EXPECT_NE(format_ntpdata(r, false, TextStyle::Human).find("Reference ID    : 50505300 ()\n"), std::string::npos);
}

TEST(ReportFormat, KeyValueReportsAsChronycPrintsThem)  // chronyc 4.3
{
	ServerStatsReport s{.ntp_hits = 0, .cmd_hits = 5};
	EXPECT_EQ(format_serverstats(s, TextStyle::Human),
		  "NTP packets received       : 0\n"
		  "NTP packets dropped        : 0\n"
		  "Command packets received   : 5\n"
		  "Command packets dropped    : 0\n"
		  "Client log records dropped : 0\n"
		  "NTS-KE connections accepted: 0\n"
		  "NTS-KE connections dropped : 0\n"
		  "Authenticated NTP packets  : 0\n"
		  "Interleaved NTP packets    : 0\n"
		  "NTP timestamps held        : 0\n"
		  "NTP timestamp span         : 0\n");
	s = {.ntp_hits = 1, .nke_hits = 6, .cmd_hits = 3, .ntp_drops = 2, .nke_drops = 7, .cmd_drops = 4,
	     .log_drops = 5, .ntp_auth_hits = 8, .ntp_interleaved_hits = 9, .ntp_timestamps = 10,
	     .ntp_span_s = UINT32_MAX};
	EXPECT_EQ(format_serverstats(s, TextStyle::Csv), "1,2,3,4,5,6,7,8,9,10,4294967295\n");

	ActivityReport a{.online = 3};
	EXPECT_EQ(format_activity(a, TextStyle::Human),
		  "200 OK\n"
		  "3 sources online\n"
		  "0 sources offline\n"
		  "0 sources doing burst (return to online)\n"
		  "0 sources doing burst (return to offline)\n"
		  "0 sources with unknown address\n");
	a = {.online = 3, .offline = 1, .burst_online = 2, .burst_offline = 0, .unresolved = -1};
	EXPECT_EQ(format_activity(a, TextStyle::Csv), "3,1,2,0,4294967295\n");

	SmoothingReport off{};
	EXPECT_EQ(format_smoothing(off, TextStyle::Human),
		  "Active         : No \n"
		  "Offset         : +0.000000000 seconds\n"
		  "Frequency      : +0.000000 ppm\n"
		  "Wander         : +0.000000 ppm per second\n"
		  "Last update    : 0.0 seconds ago\n"
		  "Remaining time : 0.0 seconds\n");
	SmoothingReport on{.active = true, .leap_only = true, .offset_s = -0.25, .freq_ppm = 12.5,
			   .wander_ppm = -0.001, .last_update_ago_s = 3.25, .remaining_time_s = 600};
	EXPECT_EQ(format_smoothing(on, TextStyle::Human).substr(0, 43),
		  "Active         : Yes (leap second only)\nOff");
	EXPECT_EQ(format_smoothing(on, TextStyle::Csv),
		  "Yes,(leap second only),-0.250000000,12.500000,-0.001000,3.2,600.0\n");
	EXPECT_EQ(format_smoothing(off, TextStyle::Csv), "No,,0.000000000,0.000000,0.000000,0.0,0.0\n");

	RtcReport rtc{.ref_time = at(1709208000), .n_samples = 12, .n_runs = 5, .span_s = 3600,
		      .rtc_seconds_fast = -1.5, .rtc_gain_rate_ppm = 12.3456};
	EXPECT_EQ(format_rtcdata(rtc, TextStyle::Human),
		  "RTC ref time (UTC) : Thu Feb 29 12:00:00 2024\n"
		  "Number of samples  : 12\n"
		  "Number of runs     : 5\n"
		  "Sample span period :  60m\n"
		  "RTC is fast by     :    -1.500000 seconds\n"
		  "RTC gains time at  :    12.346 ppm\n");
	EXPECT_EQ(format_rtcdata(rtc, TextStyle::Csv), "1709208000.000000000,12,5,3600,-1.500000,12.346\n");

	EXPECT_EQ(format_sourcename({.name = "ntp.example.org"}, TextStyle::Human), "ntp.example.org\n");
	EXPECT_EQ(format_waitsync_try(1, 0xCF404DC8, 0.0, 0.359, TextStyle::Human),
		  "try: 1, refid: CF404DC8, correction: 0.000000000, skew: 0.359\n");
	EXPECT_EQ(format_waitsync_try(2, 0, 1.5, 12, TextStyle::Csv), "2,00000000,1.500000000,12.000\n");
	EXPECT_EQ(format_status(Status::Unauth), "501 Not authorised\n");
	EXPECT_EQ(format_status(Status::NoSuchSource), "503 No such source\n");
	EXPECT_EQ(format_status(static_cast<Status>(99)), "520 Got unexpected error from daemon\n");
}

TEST(ReportFormat, Pieces)
{
	EXPECT_EQ(refid_text(kGps), "GPS");
	EXPECT_EQ(refid_text(0x50505330), "PPS0");
	EXPECT_EQ(refid_text(kLocalRefId), "");
	EXPECT_EQ(address_text(ip("192.0.2.1")), "192.0.2.1");
	EXPECT_EQ(address_text(ip("2001:db8::1")), "2001:db8::1");
	EXPECT_EQ(address_text(ip("::ffff:192.0.2.1")), "::ffff:192.0.2.1");
	EXPECT_EQ(address_text(ip("::192.0.2.1")), "::192.0.2.1");
	EXPECT_EQ(address_text(ip("::1")), "::1");
	EXPECT_EQ(address_text(ip("::")), "::");
	EXPECT_EQ(address_text(AddressId{1}), "ID#0000000001");
	EXPECT_EQ(address_text(NoAddress{}), "[UNSPEC]");
	EXPECT_EQ(address_ref_id(Address{ip("::1")}), 0xCF404DC8u);
	EXPECT_EQ(address_ref_id(Address{AddressId{3}}), 0u);
	EXPECT_EQ(truncate_name("a-very-long-host-name.example.org"), "a-very-long-host-name.ex>");
	EXPECT_EQ(truncate_name("exactly-twenty-five-chars"), "exactly-twenty-five-chars");
	EXPECT_EQ(date_text(at(0)), "Thu Jan 01 00:00:00 1970");
	EXPECT_EQ(date_text(at(2085978496)), "Thu Feb 07 06:28:16 2036");  // NTP era 1
	EXPECT_EQ(date_text(at(2147483648)), "Tue Jan 19 03:14:08 2038");
	EXPECT_EQ(date_text(at(4294967296)), "Sun Feb 07 06:28:16 2106");
	EXPECT_EQ(date_text(at(1709208000, 999999999)), "Thu Feb 29 12:00:00 2024");
	EXPECT_EQ(date_text(at(-1)), "Wed Dec 31 23:59:59 1969");
	EXPECT_EQ(date_text(at(4102444800)), "Fri Jan 01 00:00:00 2100");
	EXPECT_EQ(mode_symbol(static_cast<SourceMode>(7)), ' ');
	EXPECT_EQ(state_symbol(static_cast<SourceState>(9)), ' ');
	// A refclock in SOURCE_DATA carries its id as an IPv4 address.
	SourceDataReport pps = gps_source();
	pps.address = IpAddress::v4(0x50505300);
	EXPECT_TRUE(is_refclock(pps));
	EXPECT_EQ(numeric_name(pps), "PPS");
	pps.mode = SourceMode::Client;
	EXPECT_FALSE(is_refclock(pps));
	EXPECT_EQ(numeric_name(pps), "80.80.83.0");
}

// The interval column: seconds, then minutes, hours, days, years.
TEST(ReportFormat, IntervalColumn)
{
	auto last_rx = [](uint32_t s) {
		SourceDataReport r = gps_source();
		r.since_sample_s = s;
		return format_source(r, "GPS", TextStyle::Human).substr(46, 4);
	};
	EXPECT_EQ(last_rx(0), "   0");
	EXPECT_EQ(last_rx(1199), "1199");
	EXPECT_EQ(last_rx(1200), " 20m");
	EXPECT_EQ(last_rx(35999), "599m");
	EXPECT_EQ(last_rx(36000), " 10h");
	EXPECT_EQ(last_rx(345599), " 95h");
	EXPECT_EQ(last_rx(345600), "  4d");
	EXPECT_EQ(last_rx(999 * 86400), "999d");
	EXPECT_EQ(last_rx(1000 * 86400), "  2y");
	EXPECT_EQ(last_rx(UINT32_MAX - 1), "136y");
	EXPECT_EQ(last_rx(UINT32_MAX), "   -");
}

// fmt renders every offset as C's printf does (the formats chronyc uses),
// ties and negative zero included, over many magnitudes.
TEST(ReportFormat, OffsetsMatchPrintf)
{
	std::mt19937_64 rng(20261125);
	std::uniform_real_distribution<double> mantissa(-10, 10);
	std::uniform_int_distribution<int> exponent(-11, 9);
	for (int i = 0; i < 20000; i++) {
		double v = mantissa(rng) * std::pow(10.0, exponent(rng));
		if (i % 7 == 0) {
			v = std::round(v * 2) / 2;  // exact ties
		}
		SourceDataReport r = gps_source();
		r.latest_meas_s = v;
		r.latest_meas_err_s = v;
		std::string line = format_source(r, "GPS", TextStyle::Human);
		// Reference: chronyc's rule written out with snprintf.
		char ref[64];
		double x = std::fabs(v);
		if (x < 9999.5e-9) {
			std::snprintf(ref, sizeof ref, "%+5.0fns", v * 1e9);
		} else if (x < 9999.5e-6) {
			std::snprintf(ref, sizeof ref, "%+5.0fus", v * 1e6);
		} else if (x < 9999.5e-3) {
			std::snprintf(ref, sizeof ref, "%+5.0fms", v * 1e3);
		} else if (x < 999.5) {
			std::snprintf(ref, sizeof ref, "%+6.1fs", v);
		} else if (x < 99999.5) {
			std::snprintf(ref, sizeof ref, "%+6.0fs", v);
		} else if (x < 99999.5 * 60) {
			std::snprintf(ref, sizeof ref, "%+6.0fm", v / 60);
		} else if (x < 99999.5 * 3600) {
			std::snprintf(ref, sizeof ref, "%+6.0fh", v / 3600);
		} else if (x < 99999.5 * 86400) {
			std::snprintf(ref, sizeof ref, "%+6.0fd", v / 86400);
		} else {
			std::snprintf(ref, sizeof ref, "%+6.0fy", v / (86400.0 * 365));
		}
		ASSERT_EQ(line.substr(52, 7), ref) << v;
	}
}

} // namespace
} // namespace strata::control
