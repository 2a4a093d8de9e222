// chronyd's statistics log files (`log`, `logdir`, `logbanner`; chronyc
// `cyclelogs`), written in the `logdir` directory with the text of
// core/log_files.h.
//
// The event loop never waits for a disk: a line is formatted on the loop and
// queued, and one writer thread appends the queued lines to their files
// (opened on first use, O_APPEND, created 0644 — the directory too, 0755, if
// it is missing, as chronyd does). The queue is bounded: when the writer
// falls behind by `max_queued` lines, further lines are dropped, counted,
// and the count is logged. A file that cannot be opened or written is
// reported once and left alone (its lines discarded) until `cyclelogs`,
// which closes every file so that the next line opens it again: after
// logrotate has moved a file away, a new one is started, with a banner.
//
// All public methods are for the loop's thread; the writer's errors reach
// the Logger from there (on the next line or cycle), never from the writer.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/log.h"
#include "core/log_files.h"
#include "core/unique_fd.h"

namespace strata::daemon {

class LogFiles final : public LogSink {
public:
	struct Settings {
		std::string directory;          ///< logdir
		std::set<std::string> logs;     ///< the `log` directive's words
		int banner_every = 32;          ///< logbanner
		size_t max_queued = 8192;       ///< lines waiting for the writer before lines are dropped
		/// The writer waits for resume() (the daemon: until it has switched
		/// to its user, so that the files are the user's; tests).
		bool start_paused = false;
	};

	/// nullptr when `logs` names no file strata writes (tempcomp alone).
	static std::unique_ptr<LogFiles> start(Settings settings, Logger &log);
	/// Writes what is queued, then stops the writer.
	~LogFiles() override;
	LogFiles(const LogFiles &) = delete;
	LogFiles &operator=(const LogFiles &) = delete;

	bool enabled(LogFile file) const override { return enabled_[static_cast<size_t>(file)]; }
	/// `rawmeasurements`: every response goes to measurements.log, not only
	/// those that passed tests 1 to 7.
	bool raw_measurements() const override { return raw_; }

	/// Each queues a line if its file is enabled. measurement() follows the
	/// raw/filtered choice itself.
	void measurement(const MeasurementEntry &e) override;
	/// A source's regression; the stress column comes from the source's
	/// previous line.
	void statistics(RealTime time, const std::string &source, const SourceEstimate &estimate, size_t total_samples,
			double asymmetry) override;
	void tracking(const TrackingEntry &e) override;
	/// For the RTC tracking (rtc.log).
	void rtc(const RtcEntry &e);
	void refclock(const RefclockEntry &e) override;
	void selection(const SelectionEntry &e) override;

	/// chronyc cyclelogs: every file is closed after the lines queued so far;
	/// the next line opens it again (a new file if it was moved away), and
	/// files that failed are tried again.
	void cycle();

	/// Lines dropped because the queue was full.
	uint64_t dropped() const { return dropped_.load(); }
	/// Blocks until the writer has written everything queued so far (tests
	/// and shutdown). Returns false if it took longer than `timeout_ms`.
	bool flush(int timeout_ms = 5000);
	/// Lets a writer started paused run.
	void resume();

private:
	struct Item {
		LogFile file = LogFile::Tracking;
		std::string line;   ///< without '\n'; empty for a cycle
		bool cycle = false;
	};

	LogFiles(Settings settings, Logger &log);
	void push(LogFile file, std::string line);
	/// On the loop's thread: logs the writer's errors, and the drops when
	/// `drops_now` or when they have waited a minute.
	void report(bool drops_now);
	void run();  // the writer thread

	// Writer thread only.
	bool ensure_open(LogFile file);
	void write_out(LogFile file, const std::string &data);
	void close_all();
	void note(std::string message);

	Settings settings_;
	Logger &log_;
	std::array<bool, kLogFiles.size()> enabled_{};
	bool raw_ = false;
	/// statistics.log's stress: each source's last (rate, skew).
	std::unordered_map<std::string, std::pair<double, double>> last_rate_;
	uint64_t dropped_reported_ = 0;
	std::optional<std::chrono::steady_clock::time_point> first_unreported_drop_;

	std::mutex mutex_;
	std::condition_variable wake_;     ///< the writer: work, or stop
	std::condition_variable idle_;     ///< flush(): the writer caught up
	std::deque<Item> queue_;           ///< guarded by mutex_
	size_t queued_lines_ = 0;          ///< lines in queue_ (cycles not counted)
	bool busy_ = false;                ///< the writer holds a batch
	bool stop_ = false;
	bool paused_ = false;
	std::vector<std::string> notes_;   ///< the writer's errors for report()
	std::atomic<bool> have_notes_{false};
	std::atomic<uint64_t> dropped_{0};

	// The writer's own state.
	std::array<UniqueFd, kLogFiles.size()> fds_;
	std::array<bool, kLogFiles.size()> failed_{};
	std::array<uint64_t, kLogFiles.size()> lines_{};
	std::optional<bool> directory_ok_;  ///< checked before the first open after a start or cycle

	std::thread writer_;
};

} // namespace strata::daemon
