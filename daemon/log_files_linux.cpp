#include "daemon/log_files_linux.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "daemon/file_open_linux.h"

namespace strata::daemon {

namespace {

/// Drops are logged at most this often while the writer stays behind.
constexpr auto kDropReportInterval = std::chrono::seconds(60);

std::string errno_text(int e)
{
	return std::strerror(e);
}

} // namespace

std::unique_ptr<LogFiles> LogFiles::start(Settings settings, Logger &log)
{
	std::unique_ptr<LogFiles> files(new LogFiles(std::move(settings), log));
	bool any = false;
	for (bool on : files->enabled_) {
		any |= on;
	}
	if (!any) {
		return nullptr;
	}
	// The writer takes no signals: the loop's handlers run on the loop's
	// thread.
	sigset_t all, previous;
	::sigfillset(&all);
	::pthread_sigmask(SIG_BLOCK, &all, &previous);
	files->writer_ = std::thread([raw = files.get()] { raw->run(); });
	::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
	// With SCHED_FIFO (-P, sched_priority) the loop runs at a real-time
	// priority, which the writer inherits; writing files is no reason to
	// compete with it. Set here, by the loop's thread, during start-up:
	// the -F filter that comes later refuses sched_setscheduler.
	sched_param normal{};
	(void)::pthread_setschedparam(files->writer_.native_handle(), SCHED_OTHER, &normal);
	return files;
}

LogFiles::LogFiles(Settings settings, Logger &log) : settings_(std::move(settings)), log_(log)
{
	paused_ = settings_.start_paused;
	for (const auto &word : settings_.logs) {
		if (auto file = log_file_for(word)) {
			enabled_[static_cast<size_t>(*file)] = true;
		}
		raw_ |= word == "rawmeasurements";
	}
}

LogFiles::~LogFiles()
{
	if (writer_.joinable()) {
		{
			std::lock_guard lock(mutex_);
			stop_ = true;
			paused_ = false;
		}
		wake_.notify_all();
		writer_.join();
	}
	report(true);
}

void LogFiles::measurement(const MeasurementEntry &e)
{
	if (enabled(LogFile::Measurements) && (raw_ || e.synchronised())) {
		push(LogFile::Measurements, format_measurement(e));
	}
}

void LogFiles::statistics(RealTime time, const std::string &source, const SourceEstimate &estimate,
			  size_t total_samples, double asymmetry)
{
	if (!enabled(LogFile::Statistics)) {
		return;
	}
	std::optional<std::pair<double, double>> previous;
	if (auto it = last_rate_.find(source); it != last_rate_.end()) {
		previous = it->second;
	}
	StatisticsEntry e = statistics_entry(time, source, estimate, total_samples, asymmetry, previous);
	last_rate_[source] = {e.rate, e.skew};
	push(LogFile::Statistics, format_statistics(e));
}

void LogFiles::tracking(const TrackingEntry &e)
{
	if (enabled(LogFile::Tracking)) {
		push(LogFile::Tracking, format_tracking(e));
	}
}

void LogFiles::rtc(const RtcEntry &e)
{
	if (enabled(LogFile::Rtc)) {
		push(LogFile::Rtc, format_rtc(e));
	}
}

void LogFiles::refclock(const RefclockEntry &e)
{
	if (enabled(LogFile::Refclocks)) {
		push(LogFile::Refclocks, format_refclock(e));
	}
}

void LogFiles::selection(const SelectionEntry &e)
{
	if (enabled(LogFile::Selection)) {
		push(LogFile::Selection, format_selection(e));
	}
}

void LogFiles::cycle()
{
	report(false);
	{
		std::lock_guard lock(mutex_);
		queue_.push_back({.cycle = true});  // never dropped: it frees the files
	}
	wake_.notify_one();
}

void LogFiles::push(LogFile file, std::string line)
{
	bool accepted = false;
	{
		std::lock_guard lock(mutex_);
		if (queued_lines_ < settings_.max_queued) {
			queue_.push_back({.file = file, .line = std::move(line)});
			queued_lines_++;
			accepted = true;
		} else {
			dropped_++;
		}
	}
	if (accepted) {
		wake_.notify_one();
	}
	// Drops are said when the queue takes lines again (one message for the
	// whole overflow), or after a while if it stays full.
	report(accepted);
}

bool LogFiles::flush(int timeout_ms)
{
	std::unique_lock lock(mutex_);
	bool done = idle_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
				   [this] { return queue_.empty() && !busy_; });
	lock.unlock();
	report(true);
	return done;
}

void LogFiles::resume()
{
	{
		std::lock_guard lock(mutex_);
		paused_ = false;
	}
	wake_.notify_one();
}

void LogFiles::report(bool drops_now)
{
	if (have_notes_.load(std::memory_order_acquire)) {
		std::vector<std::string> notes;
		{
			std::lock_guard lock(mutex_);
			notes.swap(notes_);
			have_notes_.store(false, std::memory_order_release);
		}
		for (const auto &n : notes) {
			log_.error("{}", n);
		}
	}
	uint64_t dropped = dropped_.load();
	if (dropped == dropped_reported_) {
		return;
	}
	auto now = std::chrono::steady_clock::now();
	if (!first_unreported_drop_) {
		first_unreported_drop_ = now;
	}
	if (!drops_now && now - *first_unreported_drop_ < kDropReportInterval) {
		return;
	}
	log_.warning("Log files: {} line{} dropped, the writer could not keep up ({} in all)", dropped - dropped_reported_,
		     dropped - dropped_reported_ == 1 ? "" : "s", dropped);
	dropped_reported_ = dropped;
	first_unreported_drop_.reset();
}

void LogFiles::note(std::string message)
{
	std::lock_guard lock(mutex_);
	notes_.push_back(std::move(message));
	have_notes_.store(true, std::memory_order_release);
}

void LogFiles::run()
{
	std::array<std::string, kLogFiles.size()> out;
	auto write_pending = [&] {
		for (size_t i = 0; i < out.size(); i++) {
			if (!out[i].empty()) {
				write_out(kLogFiles[i], out[i]);
				out[i].clear();
			}
		}
	};
	for (;;) {
		std::deque<Item> batch;
		{
			std::unique_lock lock(mutex_);
			busy_ = false;
			idle_.notify_all();
			wake_.wait(lock, [this] { return stop_ || (!paused_ && !queue_.empty()); });
			if (queue_.empty()) {
				break;  // stop_, and all written
			}
			batch.swap(queue_);
			queued_lines_ = 0;
			busy_ = true;
		}
		for (auto &item : batch) {
			if (item.cycle) {
				write_pending();
				close_all();
				continue;
			}
			size_t i = static_cast<size_t>(item.file);
			if (!ensure_open(item.file)) {
				continue;  // reported once; its lines go nowhere until cyclelogs
			}
			if (banner_due(lines_[i], settings_.banner_every)) {
				out[i] += log_banner(item.file);
			}
			out[i] += item.line;
			out[i] += '\n';
			lines_[i]++;
		}
		write_pending();
	}
	close_all();
	std::lock_guard lock(mutex_);
	busy_ = false;
	idle_.notify_all();
}

bool LogFiles::ensure_open(LogFile file)
{
	size_t i = static_cast<size_t>(file);
	if (fds_[i].valid()) {
		return true;
	}
	if (failed_[i]) {
		return false;
	}
	if (!directory_ok_) {
		// chronyd creates a missing logdir; anything else wrong with it is
		// said once for all the files.
		const std::string &dir = settings_.directory;
		std::string problem;
		struct stat st {};
		if (::stat(dir.c_str(), &st) != 0) {
			if (errno != ENOENT) {
				problem = errno_text(errno);
			} else if (::mkdir(dir.c_str(), 0750) != 0) {  // chronyd's mode (main.cpp made it first)
				problem = fmt::format("could not create it: {}", errno_text(errno));
			}
		} else if (!S_ISDIR(st.st_mode)) {
			problem = "not a directory";
		} else if (::access(dir.c_str(), W_OK | X_OK) != 0) {
			problem = fmt::format("not writable: {}", errno_text(errno));
		}
		directory_ok_ = problem.empty();
		if (!problem.empty()) {
			note(fmt::format("Log directory {}: {}; no log files written (until cyclelogs)", dir, problem));
		}
	}
	if (!*directory_ok_) {
		failed_.fill(true);
		return false;
	}
	std::string path = fmt::format("{}/{}", settings_.directory, log_file_name(file));
	// Created 0644 whatever the umask (chronyd's log files are readable by
	// all); an existing file keeps its mode.
	// Never through a link planted in the file's place, nor into a FIFO or
	// a device.
	auto opened = open_regular(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL, 0644);
	if (opened) {
		(void)::fchmod(opened->get(), 0644);
	} else if (opened.error().code == std::errc::file_exists) {
		opened = open_regular(path, O_WRONLY | O_APPEND);
	}
	if (!opened) {
		note(fmt::format("Could not open log file {}; its lines are dropped (until cyclelogs)",
				 opened.error().message()));
		failed_[i] = true;
		return false;
	}
	fds_[i] = std::move(*opened);
	lines_[i] = 0;
	return true;
}

void LogFiles::write_out(LogFile file, const std::string &data)
{
	size_t i = static_cast<size_t>(file);
	size_t done = 0;
	while (done < data.size() && fds_[i].valid()) {
		ssize_t n = ::write(fds_[i].get(), data.data() + done, data.size() - done);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			note(fmt::format("Could not write to log file {}/{}: {}; its lines are dropped (until cyclelogs)",
					 settings_.directory, log_file_name(file), n < 0 ? errno_text(errno) : "no progress"));
			fds_[i].reset();
			failed_[i] = true;
			return;
		}
		done += static_cast<size_t>(n);
	}
}

void LogFiles::close_all()
{
	for (size_t i = 0; i < fds_.size(); i++) {
		fds_[i].reset();
		failed_[i] = false;
		lines_[i] = 0;
	}
	directory_ok_.reset();
}

} // namespace strata::daemon
