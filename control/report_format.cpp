#include "control/report_format.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <vector>

#include <fmt/format.h>

#include "core/md5.h"

namespace strata::control {

namespace {

// One line (or, for the key-value reports, one block) of a report. Each
// value knows its human and its CSV rendering; the labels and column
// padding between values are text(), which CSV leaves out. CSV separates the
// values with commas and ends the record with a newline, as chronyc -c does.
class Record {
public:
	explicit Record(TextStyle style) : csv_(style == TextStyle::Csv) {}

	Record &text(std::string_view t)
	{
		if (!csv_) {
			out_ += t;
		}
		return *this;
	}
	Record &value(std::string_view human, std::string_view csv)
	{
		if (csv_) {
			if (values_++ > 0) {
				out_ += ',';
			}
			out_ += csv;
		} else {
			out_ += human;
		}
		return *this;
	}
	Record &value(std::string_view same) { return value(same, same); }

	std::string done()
	{
		if (csv_) {
			out_ += '\n';
		}
		return std::move(out_);
	}

private:
	bool csv_;
	int values_ = 0;
	std::string out_;
};

// --- Value renderings ------------------------------------------------------

/// A count of seconds in four columns, in the largest unit that keeps it
/// short ("  59", " 20m", " 10h", "  4d", "  3y"); all ones means never.
std::string interval_human(uint32_t s)
{
	if (s == UINT32_MAX) {
		return "   -";
	}
	if (s < 1200) {
		return fmt::format("{:4}", s);
	}
	if (s < 36000) {
		return fmt::format("{:3}m", s / 60);
	}
	if (s < 345600) {
		return fmt::format("{:3}h", s / 3600);
	}
	uint32_t days = s / 86400;
	return days > 999 ? fmt::format("{:3}y", days / 365) : fmt::format("{:3}d", days);
}

// The steps of a time value in six or seven columns: below each limit (in
// seconds), the value is shown divided by `scale` with `decimals` and `unit`.
struct TimeStep {
	double limit;
	double scale;
	int decimals;
	const char *unit;
};
constexpr double kMinute = 60, kHour = 3600, kDay = 86400, kYear = 86400 * 365;
constexpr std::array<TimeStep, 8> kTimeSteps = {{
	{9999.5e-9, 1e-9, 0, "ns"},
	{9999.5e-6, 1e-6, 0, "us"},
	{9999.5e-3, 1e-3, 0, "ms"},
	{999.5, 1, 1, "s"},
	{99999.5, 1, 0, "s"},
	{99999.5 * kMinute, kMinute, 0, "m"},
	{99999.5 * kHour, kHour, 0, "h"},
	{99999.5 * kDay, kDay, 0, "d"},
}};

/// An offset's magnitude with a unit: "-211ns" shows as " 211ns".
std::string time_human(double s)
{
	double x = std::fabs(s);
	for (const TimeStep &step : kTimeSteps) {
		if (x < step.limit) {
			// Sub-second units take four columns, seconds and more five.
			int width = step.scale < 1 ? 4 : 5;
			return fmt::format("{:{}.{}f}{}", x / step.scale, width, step.decimals, step.unit);
		}
	}
	return fmt::format("{:5.0f}y", x / kYear);
}

/// A signed offset with a unit, one column wider: "  -211ns".
std::string signed_time_human(double s)
{
	double x = std::fabs(s);
	for (const TimeStep &step : kTimeSteps) {
		if (x < step.limit) {
			int width = step.scale < 1 ? 5 : 6;
			return fmt::format("{:+{}.{}f}{}", s / step.scale, width, step.decimals, step.unit);
		}
	}
	return fmt::format("{:+6.0f}y", s / kYear);
}

std::string fixed(double v, int decimals)
{
	return fmt::format("{:.{}f}", v, decimals);
}

/// Seconds with nanoseconds: the CSV form of offsets and errors.
std::string seconds_csv(double s)
{
	return fixed(s, 9);
}

std::string ppm_human(double f)
{
	return std::fabs(f) < 99999.5 ? fmt::format("{:10.3f}", f) : fmt::format("{:10.0f}", f);
}

std::string signed_ppm_human(double f)
{
	return std::fabs(f) < 99999.5 ? fmt::format("{:+10.3f}", f) : fmt::format("{:+10.0f}", f);
}

std::string refid_hex(uint32_t id)
{
	return fmt::format("{:08X}", id);
}

std::string timestamp_csv(RealTime t)
{
	return fmt::format("{}.{:09}", t.seconds(), t.subsec_ns());
}

std::string_view leap_long(Leap leap)
{
	switch (leap) {
	case Leap::None:
		return "Normal";
	case Leap::Insert:
		return "Insert second";
	case Leap::Delete:
		return "Delete second";
	case Leap::Unsynchronized:
		return "Not synchronised";
	}
	return "Invalid";
}

std::string_view leap_short(Leap leap)
{
	switch (leap) {
	case Leap::None:
		return "N";
	case Leap::Insert:
		return "+";
	case Leap::Delete:
		return "-";
	case Leap::Unsynchronized:
		return "?";
	}
	return "?";
}

std::string_view yes_no(bool b)
{
	return b ? "Yes" : "No";
}

/// A client's log2 interval in two columns; 127 and more: none yet.
std::string client_interval_human(int8_t log2)
{
	return log2 >= 127 ? std::string(" -") : fmt::format("{:2}", log2);
}

std::string header(std::string_view title, TextStyle style)
{
	if (style == TextStyle::Csv) {
		return {};
	}
	std::string out(title);
	out += '\n';
	out.append(title.size(), '=');
	out += '\n';
	return out;
}

// --- Dates ---------------------------------------------------------------

constexpr std::array<const char *, 7> kWeekdays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<const char *, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
						  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/// An IPv6 address as glibc's inet_ntop writes it (chronyc's form): RFC
/// 5952 compression, and a dotted quad for the IPv4-mapped (::ffff:a.b.c.d)
/// and IPv4-compatible (::a.b.c.d, other than :: and ::1) ranges.
std::string ipv6_text(const IpAddress &a)
{
	const auto &b = a.bytes();
	bool first80_zero = true;
	for (size_t i = 0; i < 10; i++) {
		first80_zero = first80_zero && b[i] == 0;
	}
	std::string quad = fmt::format("{}.{}.{}.{}", b[12], b[13], b[14], b[15]);
	if (first80_zero && b[10] == 0xff && b[11] == 0xff) {
		return "::ffff:" + quad;
	}
	if (first80_zero && b[10] == 0 && b[11] == 0 && (b[12] != 0 || b[13] != 0)) {
		return "::" + quad;
	}
	return a.to_string();
}

// --- Reports drawn from their descriptions -----------------------------------

// A field's value as its show:: form renders it: the human text and the
// CSV text.
struct Rendered {
	std::string human;
	std::string csv;
};

template <class M>
Rendered render(show::Plain, const M &v)
{
	std::string s = fmt::format("{}", v);
	return {s, s};
}

Rendered render(show::Unsigned, int32_t v)
{
	// chronyc passes these counts as unsigned longs: a negative one prints
	// as its two's complement.
	std::string s = fmt::format("{}", static_cast<uint32_t>(v));
	return {s, s};
}

Rendered render(show::Date, RealTime t)
{
	return {date_text(t), timestamp_csv(t)};
}

Rendered render(show::Interval, uint32_t s)
{
	return {interval_human(s), fmt::format("{}", s)};
}

Rendered render(show::YesNo, bool b)
{
	return {std::string(yes_no(b)), std::string(yes_no(b))};
}

Rendered render(show::IfSet form, bool b)
{
	std::string s(b ? form.text : std::string_view());
	return {s, s};
}

Rendered render(show::Fixed form, double v)
{
	std::string human = form.sign ? fmt::format("{:+{}.{}f}", v, form.width, form.decimals)
				      : fmt::format("{:{}.{}f}", v, form.width, form.decimals);
	return {std::move(human), fixed(v, form.decimals)};
}

/// A field's line, rendered.
struct Line {
	int order;
	std::string_view before;
	Rendered value;
	std::string_view after;
};

/// The lines in chronyc's order; `heading` goes first in the human style.
std::string join_lines(std::vector<Line> lines, TextStyle style, std::string_view heading)
{
	std::stable_sort(lines.begin(), lines.end(),
			 [](const Line &a, const Line &b) { return a.order < b.order; });
	Record rec(style);
	rec.text(heading);
	for (const Line &l : lines) {
		rec.text(l.before).value(l.value.human, l.value.csv).text(l.after);
	}
	return rec.done();
}

/// Collects the text lines (show::line) of a report's description.
template <class T>
class Lines {
public:
	explicit Lines(const T &r) : r_(r) {}

	template <class M, class W, class... X>
	void operator()(M T::*m, W, std::string_view, const X &...x)
	{
		if constexpr (kHasLine<X...>) {
			auto line = text_line(x...);
			lines_.push_back({line.order, line.before, render(line.render, r_.*m), line.after});
		}
	}
	template <class W, class F>
	void word(W, F &&fn)
	{
		fn(*this);
	}
	void fill(size_t, uint8_t = 0) {}

	std::vector<Line> take() { return std::move(lines_); }

private:
	const T &r_;
	std::vector<Line> lines_;
};

/// A report whose description gives each field its line (chronyc prints it
/// one value per field, with no value from elsewhere).
template <Described T>
std::string format_lines(const T &r, TextStyle style, std::string_view heading = {})
{
	Lines<T> collect(r);
	fields(collect, Of<T>{});
	return join_lines(collect.take(), style, heading);
}

} // namespace

// --- Pieces ----------------------------------------------------------------

std::string refid_text(uint32_t ref_id)
{
	std::string out;
	for (int shift = 24; shift >= 0; shift -= 8) {
		auto c = static_cast<unsigned char>(ref_id >> shift);
		if (c >= 0x20 && c < 0x7f) {
			out += static_cast<char>(c);
		}
	}
	return out;
}

std::string address_text(const Address &address)
{
	if (const auto *ip = std::get_if<IpAddress>(&address)) {
		return ip->is_v4() ? ip->to_string() : ipv6_text(*ip);
	}
	if (const auto *id = std::get_if<AddressId>(&address)) {
		return fmt::format("ID#{:010}", id->id);
	}
	return "[UNSPEC]";
}

uint32_t address_ref_id(const Address &address)
{
	const auto *ip = std::get_if<IpAddress>(&address);
	return ip ? strata::address_ref_id(*ip) : 0;
}

std::string truncate_name(std::string_view name, size_t width)
{
	if (width == 0 || name.size() <= width) {
		return std::string(name);
	}
	std::string out(name.substr(0, width - 1));
	out += '>';
	return out;
}

UtcTime utc_time(int64_t t)
{
	// Days since 1970-01-01, then the date by counting 400-year eras that
	// start on 1 March, so that the leap day comes last in each year.
	int64_t days = t / 86400;
	int64_t sod = t % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	int64_t z = days + 719468;  // days since 0000-03-01
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;                                      // [0, 146096]
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               // [0, 365]
	int64_t mp = (5 * doy + 2) / 153;                                    // March = 0
	UtcTime u;
	u.day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
	u.month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
	u.year = yoe + era * 400 + (u.month <= 2 ? 1 : 0);
	int64_t wd = (days + 4) % 7;  // 1970-01-01 was a Thursday
	u.weekday = static_cast<unsigned>(wd < 0 ? wd + 7 : wd);
	u.hour = static_cast<unsigned>(sod / 3600);
	u.minute = static_cast<unsigned>(sod / 60 % 60);
	u.second = static_cast<unsigned>(sod % 60);
	return u;
}

std::string date_text(RealTime t)
{
	UtcTime u = utc_time(t.seconds());
	return fmt::format("{} {} {:02} {:02}:{:02}:{:02} {}", kWeekdays[u.weekday], kMonths[u.month - 1],
			   u.day, u.hour, u.minute, u.second, u.year);
}

bool is_refclock(const SourceDataReport &r)
{
	const auto *ip = std::get_if<IpAddress>(&r.address);
	return r.mode == SourceMode::RefClock && ip && ip->is_v4();
}

bool is_refclock(const SourceStatsReport &r)
{
	return std::holds_alternative<NoAddress>(r.address);
}

bool is_refclock(const SelectDataReport &r)
{
	return std::holds_alternative<NoAddress>(r.address);
}

bool is_refclock(const TrackingReport &r)
{
	return std::holds_alternative<NoAddress>(r.address);
}

std::optional<uint32_t> refclock_id(const SourceDataReport &r)
{
	return is_refclock(r) ? std::optional(std::get<IpAddress>(r.address).v4_host_order()) : std::nullopt;
}

std::optional<uint32_t> refclock_id(const SourceStatsReport &r)
{
	return is_refclock(r) ? std::optional(r.ref_id) : std::nullopt;
}

std::optional<uint32_t> refclock_id(const SelectDataReport &r)
{
	return is_refclock(r) ? std::optional(r.ref_id) : std::nullopt;
}

std::optional<uint32_t> refclock_id(const TrackingReport &r)
{
	return is_refclock(r) ? std::optional(r.ref_id) : std::nullopt;
}

namespace {

template <class Report>
std::string numeric(const Report &r)
{
	auto id = refclock_id(r);
	return id ? refid_text(*id) : address_text(r.address);
}

} // namespace

std::string numeric_name(const SourceDataReport &r)
{
	return numeric(r);
}

std::string numeric_name(const SourceStatsReport &r)
{
	return numeric(r);
}

std::string numeric_name(const SelectDataReport &r)
{
	return numeric(r);
}

std::string numeric_name(const TrackingReport &r)
{
	return numeric(r);
}

char mode_symbol(SourceMode mode)
{
	switch (mode) {
	case SourceMode::Client:
		return '^';
	case SourceMode::Peer:
		return '=';
	case SourceMode::RefClock:
		return '#';
	}
	return ' ';
}

char state_symbol(SourceState state)
{
	switch (state) {
	case SourceState::Selected:
		return '*';
	case SourceState::NonSelectable:
		return '?';
	case SourceState::Falseticker:
		return 'x';
	case SourceState::Jittery:
		return '~';
	case SourceState::Unselected:
		return '+';
	case SourceState::Selectable:
		return '-';
	}
	return ' ';
}

// --- Reports ---------------------------------------------------------------
//
// serverstats, activity, rtcdata, smoothing and sourcename come from their
// descriptions in control/cmdmon.h (format_lines): chronyc prints each as
// one line per field. The others are chronyc's own layouts, written out
// here because they are not one value per field: tracking's lines join a
// value and its sign word ("slow"/"fast") and take the reference's name
// from elsewhere; the tables (sources, sourcestats, selectdata, authdata,
// clients) are columns in chronyc's order with a name column from the
// caller, symbols and option letters drawn from several fields, and
// clients switches columns with -k; ntpdata adds values derived from
// fields (the addresses' ref ids, 2^poll in seconds, the tests in groups).

std::string format_tracking(const TrackingReport &r, std::string_view name, TextStyle style)
{
	// chronyc's sign words: a positive correction means the clock is behind
	// ("slow"), a positive frequency that it runs fast.
	const double corr = r.current_correction_s;
	const double freq = r.freq_ppm;
	return Record(style)
		.text("Reference ID    : ").value(refid_hex(r.ref_id)).text(" (").value(name).text(")\n")
		.text("Stratum         : ").value(fmt::format("{}", r.stratum)).text("\n")
		.text("Ref time (UTC)  : ").value(date_text(r.ref_time), timestamp_csv(r.ref_time)).text("\n")
		.text("System time     : ")
		.value(fmt::format("{:.9f} seconds {}", std::fabs(corr), corr > 0 ? "slow" : "fast"),
		       seconds_csv(corr))
		.text(" of NTP time\n")
		.text("Last offset     : ")
		.value(fmt::format("{:+.9f}", r.last_offset_s), fixed(r.last_offset_s, 9)).text(" seconds\n")
		.text("RMS offset      : ").value(fixed(r.rms_offset_s, 9)).text(" seconds\n")
		.text("Frequency       : ")
		.value(fmt::format("{:.3f} ppm {}", std::fabs(freq), freq > 0 ? "fast" : "slow"), fixed(freq, 3))
		.text("\n")
		.text("Residual freq   : ")
		.value(fmt::format("{:+.3f}", r.resid_freq_ppm), fixed(r.resid_freq_ppm, 3)).text(" ppm\n")
		.text("Skew            : ").value(fixed(r.skew_ppm, 3)).text(" ppm\n")
		.text("Root delay      : ").value(fixed(r.root_delay_s, 9)).text(" seconds\n")
		.text("Root dispersion : ").value(fixed(r.root_dispersion_s, 9)).text(" seconds\n")
		.text("Update interval : ").value(fixed(r.last_update_interval_s, 1)).text(" seconds\n")
		.text("Leap status     : ").value(leap_long(r.leap)).text("\n")
		.done();
}

// The legends are chronyc's, character for character: scripts and eyes
// know them.
std::string sources_header(bool verbose, TextStyle style)
{
	std::string out;
	if (verbose && style == TextStyle::Human) {
		out += "\n"
		       "  .-- Source mode  '^' = server, '=' = peer, '#' = local clock.\n"
		       " / .- Source state '*' = current best, '+' = combined, '-' = not combined,\n"
		       "| /             'x' = may be in error, '~' = too variable, '?' = unusable.\n"
		       "||                                                 .- xxxx [ yyyy ] +/- zzzz\n"
		       "||      Reachability register (octal) -.           |  xxxx = adjusted offset,\n"
		       "||      Log2(Polling interval) --.      |          |  yyyy = measured offset,\n"
		       "||                                \\     |          |  zzzz = estimated error.\n"
		       "||                                 |    |           \\\n";
	}
	out += header("MS Name/IP address         Stratum Poll Reach LastRx Last sample               ",
		      style);
	return out;
}

std::string format_source(const SourceDataReport &r, std::string_view name, TextStyle style)
{
	return Record(style)
		.value(std::string(1, mode_symbol(r.mode)))
		.value(std::string(1, state_symbol(r.state)))
		.text(" ").value(fmt::format("{:<27}", name), name)
		.text("  ").value(fmt::format("{:2}", r.stratum), fmt::format("{}", r.stratum))
		.text("  ").value(fmt::format("{:2}", r.poll), fmt::format("{}", r.poll))
		.text("   ").value(fmt::format("{:3o}", r.reachability), fmt::format("{:o}", r.reachability))
		.text("  ").value(interval_human(r.since_sample_s), fmt::format("{}", r.since_sample_s))
		.text("  ").value(signed_time_human(r.latest_meas_s), seconds_csv(r.latest_meas_s))
		.text("[").value(signed_time_human(r.orig_latest_meas_s), seconds_csv(r.orig_latest_meas_s))
		.text("] +/- ").value(time_human(r.latest_meas_err_s), seconds_csv(r.latest_meas_err_s))
		.text("\n")
		.done();
}

std::string format_sources(std::span<const Named<SourceDataReport>> rows, bool verbose, TextStyle style)
{
	std::string out = sources_header(verbose, style);
	for (const auto &row : rows) {
		out += format_source(row.report, row.name, style);
	}
	return out;
}

std::string sourcestats_header(bool verbose, TextStyle style)
{
	std::string out;
	if (verbose && style == TextStyle::Human) {
		out += "                             .- Number of sample points in measurement set.\n"
		       "                            /    .- Number of residual runs with same sign.\n"
		       "                           |    /    .- Length of measurement set (time).\n"
		       "                           |   |    /      .- Est. clock freq error (ppm).\n"
		       "                           |   |   |      /           .- Est. error in freq.\n"
		       "                           |   |   |     |           /         .- Est. offset.\n"
		       "                           |   |   |     |          |          |   On the -.\n"
		       "                           |   |   |     |          |          |   samples. \\\n"
		       "                           |   |   |     |          |          |             |\n";
	}
	out += header("Name/IP Address            NP  NR  Span  Frequency  Freq Skew  Offset  Std Dev", style);
	return out;
}

std::string format_sourcestats_row(const SourceStatsReport &r, std::string_view name, TextStyle style)
{
	return Record(style)
		.value(fmt::format("{:<25}", name), name)
		.text(" ").value(fmt::format("{:3}", r.n_samples), fmt::format("{}", r.n_samples))
		.text(" ").value(fmt::format("{:3}", r.n_runs), fmt::format("{}", r.n_runs))
		.text("  ").value(interval_human(r.span_s), fmt::format("{}", r.span_s))
		.text(" ").value(signed_ppm_human(r.resid_freq_ppm), fixed(r.resid_freq_ppm, 3))
		.text(" ").value(ppm_human(r.skew_ppm), fixed(r.skew_ppm, 3))
		.text("  ").value(signed_time_human(r.est_offset_s), seconds_csv(r.est_offset_s))
		.text("  ").value(time_human(r.sd_s), seconds_csv(r.sd_s))
		.text("\n")
		.done();
}

std::string format_sourcestats(std::span<const Named<SourceStatsReport>> rows, bool verbose,
			       TextStyle style)
{
	std::string out = sourcestats_header(verbose, style);
	for (const auto &row : rows) {
		out += format_sourcestats_row(row.report, row.name, style);
	}
	return out;
}

std::string selectdata_header(bool verbose, TextStyle style)
{
	std::string out;
	if (verbose && style == TextStyle::Human) {
		out += "  . State: N - noselect, s - unsynchronised, M - missing samples,\n"
		       " /         d/D - large distance, ~ - jittery, w/W - waits for others,\n"
		       "|          S - stale, O - orphan, T - not trusted, P - not preferred,\n"
		       "|          U - waits for update,, x - falseticker, + - combined, * - best.\n"
		       "|   Effective options   ---------.  (N - noselect, P - prefer\n"
		       "|   Configured options  ----.     \\  T - trust, R - require)\n"
		       "|   Auth. enabled (Y/N) -.   \\     \\     Offset interval --.\n"
		       "|                        |    |     |                       |\n";
	}
	out += header("S Name/IP Address        Auth COpts EOpts Last Score     Interval  Leap", style);
	return out;
}

namespace {

/// The five option letters of selectdata: N P T R and a spare column.
void option_values(Record &rec, uint16_t options)
{
	rec.value(options & kSelectNoselect ? "N" : "-")
		.value(options & kSelectPrefer ? "P" : "-")
		.value(options & kSelectTrust ? "T" : "-")
		.value(options & kSelectRequire ? "R" : "-")
		.value("-");
}

} // namespace

std::string format_selectdata_row(const SelectDataReport &r, std::string_view name, TextStyle style)
{
	Record rec(style);
	rec.value(std::string(1, r.state))
		.text(" ").value(fmt::format("{:<25}", name), name)
		.text(" ").value(r.authenticated ? "Y" : "N")
		.text(" ");
	option_values(rec, r.configured_options);
	rec.text(" ");
	option_values(rec, r.effective_options);
	rec.text(" ").value(interval_human(r.last_sample_ago_s), fmt::format("{}", r.last_sample_ago_s))
		.text(" ").value(fmt::format("{:5.1f}", r.score), fixed(r.score, 1))
		.text(" ").value(signed_time_human(r.lo_limit_s), seconds_csv(r.lo_limit_s))
		.text(" ").value(signed_time_human(r.hi_limit_s), seconds_csv(r.hi_limit_s))
		.text("  ").value(leap_short(r.leap), leap_long(r.leap))
		.text("\n");
	return rec.done();
}

std::string format_selectdata(std::span<const Named<SelectDataReport>> rows, bool verbose,
			      TextStyle style)
{
	std::string out = selectdata_header(verbose, style);
	for (const auto &row : rows) {
		out += format_selectdata_row(row.report, row.name, style);
	}
	return out;
}

std::string authdata_header(bool verbose, TextStyle style)
{
	std::string out;
	if (verbose && style == TextStyle::Human) {
		out += "                             .- Auth. mechanism (NTS, SK - symmetric key)\n"
		       "                            |   Key length -.  Cookie length (bytes) -.\n"
		       "                            |       (bits)  |  Num. of cookies --.    |\n"
		       "                            |               |  Key est. attempts  |   |\n"
		       "                            |               |           |         |   |\n";
	}
	out += header("Name/IP address             Mode KeyID Type KLen Last Atmp  NAK Cook CLen", style);
	return out;
}

std::string format_authdata_row(const AuthDataReport &r, std::string_view name, TextStyle style)
{
	std::string_view mode = "?";
	switch (r.mode) {
	case AuthMode::None:
		mode = "-";
		break;
	case AuthMode::Symmetric:
		mode = "SK";
		break;
	case AuthMode::Nts:
		mode = "NTS";
		break;
	}
	auto num = [](auto v, int width) { return fmt::format("{:{}}", v, width); };
	auto plain = [](auto v) { return fmt::format("{}", v); };
	return Record(style)
		.value(fmt::format("{:<27}", name), name)
		.text(" ").value(fmt::format("{:>4}", mode), mode)
		.text(" ").value(num(r.key_id, 5), plain(r.key_id))
		.text(" ").value(num(r.key_type, 4), plain(r.key_type))
		.text(" ").value(num(r.key_length, 4), plain(r.key_length))
		.text(" ").value(interval_human(r.last_ke_ago_s), plain(r.last_ke_ago_s))
		.text(" ").value(num(r.ke_attempts, 4), plain(r.ke_attempts))
		.text(" ").value(num(r.nak, 4), plain(r.nak))
		.text(" ").value(num(r.cookies, 4), plain(r.cookies))
		.text(" ").value(num(r.cookie_length, 4), plain(r.cookie_length))
		.text("\n")
		.done();
}

std::string format_authdata(std::span<const Named<SourceAuth>> rows, bool verbose, TextStyle style)
{
	std::string out = authdata_header(verbose, style);
	for (const auto &row : rows) {
		out += format_authdata_row(row.report.auth, row.name, style);
	}
	return out;
}

std::string clients_header(bool nke, TextStyle style)
{
	return header(fmt::format("Hostname                      NTP   Drop Int IntL Last  {:>6}   Drop Int  Last",
				  nke ? "NTS-KE" : "Cmd"),
		      style);
}

std::string format_client(const ClientAccess &c, std::string_view name, bool nke, TextStyle style)
{
	auto plain = [](auto v) { return fmt::format("{}", v); };
	uint32_t hits = nke ? c.nke_hits : c.cmd_hits;
	uint32_t drops = nke ? c.nke_drops : c.cmd_drops;
	int8_t interval = nke ? c.nke_interval : c.cmd_interval;
	uint32_t last = nke ? c.last_nke_hit_ago_s : c.last_cmd_hit_ago_s;
	return Record(style)
		.value(fmt::format("{:<25}", name), name)
		.text("  ").value(fmt::format("{:6}", c.ntp_hits), plain(c.ntp_hits))
		.text("  ").value(fmt::format("{:5}", c.ntp_drops), plain(c.ntp_drops))
		.text("  ").value(client_interval_human(c.ntp_interval), plain(c.ntp_interval))
		.text("  ").value(client_interval_human(c.ntp_timeout_interval), plain(c.ntp_timeout_interval))
		.text("  ").value(interval_human(c.last_ntp_hit_ago_s), plain(c.last_ntp_hit_ago_s))
		.text("  ").value(fmt::format("{:6}", hits), plain(hits))
		.text("  ").value(fmt::format("{:5}", drops), plain(drops))
		.text("  ").value(client_interval_human(interval), plain(interval))
		.text("  ").value(interval_human(last), plain(last))
		.text("\n")
		.done();
}

std::string format_clients(std::span<const Named<ClientAccess>> rows, bool nke, TextStyle style)
{
	std::string out = clients_header(nke, style);
	for (const auto &row : rows) {
		out += format_client(row.report, row.name, nke, style);
	}
	return out;
}

namespace {

std::string_view ntp_mode_text(uint8_t mode)
{
	switch (mode) {
	case 1:
		return "Symmetric active";
	case 2:
		return "Symmetric passive";
	case 4:
		return "Server";
	default:
		return "Invalid";
	}
}

std::string_view timestamping_text(char source)
{
	switch (source) {
	case 'D':
		return "Daemon";
	case 'K':
		return "Kernel";
	case 'H':
		return "Hardware";
	default:
		return "Invalid";
	}
}

/// 2^log2 seconds, the exponent clamped to ±31.
double log2_seconds(int log2)
{
	return std::ldexp(1.0, log2 < -31 ? -31 : (log2 > 31 ? 31 : log2));
}

/// The low `bits` bits of `v`, most significant first.
std::string binary(unsigned v, int bits)
{
	std::string out;
	for (int i = bits - 1; i >= 0; i--) {
		out += (v >> i) & 1u ? '1' : '0';
	}
	return out;
}

} // namespace

std::string format_ntpdata(const NtpDataReport &r, bool leading_blank, TextStyle style)
{
	auto plain = [](auto v) { return fmt::format("{}", v); };
	std::string remote = address_text(r.remote_address);
	std::string local = address_text(r.local_address);
	Record rec(style);
	if (leading_blank) {
		rec.text("\n");
	}
	rec.text("Remote address  : ").value(remote).text(" (").value(refid_hex(address_ref_id(r.remote_address))).text(")\n")
		.text("Remote port     : ").value(plain(r.remote_port)).text("\n")
		.text("Local address   : ").value(local).text(" (").value(refid_hex(address_ref_id(r.local_address))).text(")\n")
		.text("Leap status     : ").value(leap_long(r.leap)).text("\n")
		.text("Version         : ").value(plain(r.version)).text("\n")
		.text("Mode            : ").value(ntp_mode_text(r.mode)).text("\n")
		.text("Stratum         : ").value(plain(r.stratum)).text("\n")
		.text("Poll interval   : ").value(plain(r.poll)).text(" (").value(fixed(log2_seconds(r.poll), 0)).text(" seconds)\n")
		.text("Precision       : ").value(plain(r.precision)).text(" (").value(fixed(log2_seconds(r.precision), 9)).text(" seconds)\n")
		.text("Root delay      : ").value(fixed(r.root_delay_s, 6)).text(" seconds\n")
		.text("Root dispersion : ").value(fixed(r.root_dispersion_s, 6)).text(" seconds\n")
		.text("Reference ID    : ").value(refid_hex(r.ref_id)).text(" (").value(r.stratum <= 1 ? refid_text(r.ref_id) : std::string()).text(")\n")
		.text("Reference time  : ").value(date_text(r.ref_time), timestamp_csv(r.ref_time)).text("\n")
		.text("Offset          : ").value(fmt::format("{:+.9f}", r.offset_s), fixed(r.offset_s, 9)).text(" seconds\n")
		.text("Peer delay      : ").value(fixed(r.peer_delay_s, 9)).text(" seconds\n")
		.text("Peer dispersion : ").value(fixed(r.peer_dispersion_s, 9)).text(" seconds\n")
		.text("Response time   : ").value(fixed(r.response_time_s, 9)).text(" seconds\n")
		.text("Jitter asymmetry: ").value(fmt::format("{:+.2f}", r.jitter_asymmetry), fixed(r.jitter_asymmetry, 2)).text("\n")
		.text("NTP tests       : ").value(binary(r.tests >> 7u, 3)).text(" ").value(binary(r.tests >> 4u, 3))
		.text(" ").value(binary(r.tests, 4)).text("\n")
		.text("Interleaved     : ").value(yes_no(r.interleaved)).text("\n")
		.text("Authenticated   : ").value(yes_no(r.authenticated)).text("\n")
		.text("TX timestamping : ").value(timestamping_text(r.tx_timestamping)).text("\n")
		.text("RX timestamping : ").value(timestamping_text(r.rx_timestamping)).text("\n")
		.text("Total TX        : ").value(plain(r.total_tx_count)).text("\n")
		.text("Total RX        : ").value(plain(r.total_rx_count)).text("\n")
		.text("Total valid RX  : ").value(plain(r.total_valid_count)).text("\n")
		.text("Total good RX   : ").value(plain(r.total_good_count)).text("\n");
	return rec.done();
}

std::string format_serverstats(const ServerStatsReport &r, TextStyle style)
{
	return format_lines(r, style);
}

std::string format_activity(const ActivityReport &r, TextStyle style)
{
	return format_lines(r, style, "200 OK\n");
}

std::string format_rtcdata(const RtcReport &r, TextStyle style)
{
	return format_lines(r, style);
}

std::string format_smoothing(const SmoothingReport &r, TextStyle style)
{
	return format_lines(r, style);
}

std::string format_sourcename(const SourceNameReport &r, TextStyle style)
{
	return format_lines(r, style);
}

std::string format_waitsync_try(int attempt, uint32_t ref_id, double correction_s, double skew_ppm,
				TextStyle style)
{
	return Record(style)
		.text("try: ").value(fmt::format("{}", attempt))
		.text(", refid: ").value(refid_hex(ref_id))
		.text(", correction: ").value(fixed(correction_s, 9))
		.text(", skew: ").value(fixed(skew_ppm, 3)).text("\n")
		.done();
}

std::string format_status(Status status)
{
	std::string out(status_text(status));
	out += '\n';
	return out;
}

} // namespace strata::control
