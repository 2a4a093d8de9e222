// A simulated RTC for tests (of rtc/ and of the daemon's wiring): an RtcDevice
// whose time is a line against a simulated true time, which the test moves
// forward (time is a variable; nothing sleeps).
//
// The RTC runs `drift_ppm` fast and starts `offset_s` ahead; it shows whole
// seconds and raises an update interrupt at each of its second boundaries
// while update interrupts are on. Setting it either restarts its second at
// the write (as most I2C chips do: the divider is reset) or keeps its phase
// (as the PC's CMOS clock may), so that trimming is tested against both.
// Every operation can be made to fail with an errno, with messages worded
// as RtcLinux words them.
//
// Header-only and pure, so that any test target can use it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "core/result.h"
#include "core/time.h"
#include "rtc/rtc_device.h"

namespace strata::rtc {

class FakeRtc final : public RtcDevice {
public:
	struct Config {
		RealTime start;       ///< true time when the fake is made
		double offset_s = 0;  ///< RTC − true time at `start`, sub-second part included
		double drift_ppm = 0; ///< the RTC gains this much on true time
		/// Added to the reading: an RTC on local time at UTC + zone_s.
		int64_t zone_s = 0;
		/// set_time() restarts the RTC's second; false: it keeps its phase.
		bool restart_on_set = true;
		/// false: RTC_UIE_ON succeeds, but no interrupt ever comes.
		bool deliver_interrupts = true;
		/// One interrupt at once when interrupts are turned on, at no boundary.
		bool spurious_interrupt_on_enable = false;
		/// How late wait_update(timeout > 0) returns after a boundary.
		Duration wait_latency{};
		std::string path = "/dev/rtc0";
		int fd = 42;
	};
	enum class Op { ReadTime, SetTime, EnableInterrupts, DisableInterrupts, Wait };

	explicit FakeRtc(Config config)
		: config_(std::move(config)), now_(config_.start), base_sys_(config_.start),
		  base_rtc_(config_.start + from_seconds(config_.offset_s))
	{
	}

	/// The simulated true time.
	RealTime now() const { return now_; }
	/// Moves true time forward to `t` (an earlier `t` is ignored). An update
	/// interrupt becomes pending when interrupts are on and an RTC second
	/// began in (now, t].
	void advance_to(RealTime t)
	{
		if (t <= now_) {
			return;
		}
		if (uie_on_ && config_.deliver_interrupts && next_boundary_after(now_) <= t) {
			pending_ = true;
		}
		now_ = t;
	}
	void advance(Duration d) { advance_to(now_ + d); }

	/// The true time at which the RTC's next second begins, strictly after `t`.
	RealTime next_boundary_after(RealTime t) const
	{
		int64_t k = rtc_at(t).seconds() + 1;
		double rtc_since = to_seconds(RealTime::from_parts(k, 0) - base_rtc_);
		double since = rtc_since / (1 + config_.drift_ppm * 1e-6);
		RealTime s = base_sys_ + from_seconds(since);
		// Rounding to nanoseconds: land on the first one at which it shows k.
		while (rtc_at(s).seconds() < k) {
			s += Duration(1);
		}
		while (rtc_at(s - Duration(1)).seconds() >= k) {
			s = s - Duration(1);
		}
		return s <= t ? t + Duration(1) : s;
	}
	/// The RTC's error at true time `t` (its reading with the sub-second part
	/// it does not show, minus `t`), in UTC terms (zone_s excluded).
	double offset_at(RealTime t) const { return to_seconds(rtc_at(t) - t); }
	double offset_now() const { return offset_at(now_); }

	bool interrupts_on() const { return uie_on_; }
	/// Whether interrupts will come: on and delivered.
	bool interrupts_flowing() const { return uie_on_ && config_.deliver_interrupts; }
	bool pending() const { return pending_; }

	/// Makes `op` fail with `err`, `times` times (negative: until cleared).
	void fail(Op op, int err, int times = -1) { failures_[op] = {err, times}; }
	void clear_failures() { failures_.clear(); }

	const std::vector<int64_t> &set_values() const { return set_values_; }
	int reads() const { return reads_; }
	int enables() const { return enables_; }
	int disables() const { return disables_; }

	const std::string &path() const override { return config_.path; }
	int fd() const override { return config_.fd; }

	Result<int64_t> read_time() override
	{
		if (int err = failing(Op::ReadTime)) {
			return fail_errno(could_not("read the time of", "RTC_RD_TIME"), err);
		}
		reads_++;
		return rtc_at(now_).seconds() + config_.zone_s;
	}

	Result<> set_time(int64_t rtc_s) override
	{
		if (int err = failing(Op::SetTime)) {
			return fail_errno(could_not("set the time of", "RTC_SET_TIME"), err);
		}
		set_values_.push_back(rtc_s);
		Duration phase = config_.restart_on_set ? Duration::zero()
							: Duration(rtc_at(now_).subsec_ns());
		base_sys_ = now_;
		base_rtc_ = RealTime::from_parts(rtc_s - config_.zone_s, 0) + phase;
		return {};
	}

	Result<> enable_update_interrupts() override
	{
		if (int err = failing(Op::EnableInterrupts)) {
			return fail_errno(could_not("enable update interrupts of", "RTC_UIE_ON"),
					  err);
		}
		enables_++;
		uie_on_ = true;
		if (config_.spurious_interrupt_on_enable) {
			pending_ = true;
		}
		return {};
	}

	Result<> disable_update_interrupts() override
	{
		if (int err = failing(Op::DisableInterrupts)) {
			return fail_errno(could_not("disable update interrupts of", "RTC_UIE_OFF"),
					  err);
		}
		disables_++;
		uie_on_ = false;
		pending_ = false;
		return {};
	}

	/// With a zero timeout, reports (and clears) a pending interrupt. With a
	/// longer one, lets simulated time run to the next boundary (plus
	/// wait_latency) if it comes within the timeout, else to the timeout.
	Result<bool> wait_update(Duration timeout) override
	{
		if (int err = failing(Op::Wait)) {
			return fail_errno(fmt::format("Could not read {}", config_.path), err);
		}
		if (pending_) {
			pending_ = false;
			return true;
		}
		if (timeout <= Duration::zero()) {
			return false;
		}
		if (interrupts_flowing()) {
			RealTime at = next_boundary_after(now_) + config_.wait_latency;
			if (at - now_ <= timeout) {
				now_ = at;
				return true;
			}
		}
		now_ = now_ + timeout;
		return false;
	}

private:
	struct Failure {
		int err;
		int times;
	};

	/// The RTC's continuous time at true time `t`, as an instant whose whole
	/// seconds are what it shows (before zone_s).
	RealTime rtc_at(RealTime t) const
	{
		Duration since = t - base_sys_;
		Duration gained = from_seconds(config_.drift_ppm * 1e-6 * to_seconds(since));
		return base_rtc_ + since + gained;
	}

	/// The messages RtcLinux gives.
	std::string could_not(std::string_view what, std::string_view ioctl) const
	{
		return fmt::format("Could not {} {} ({})", what, config_.path, ioctl);
	}

	int failing(Op op)
	{
		auto it = failures_.find(op);
		if (it == failures_.end() || it->second.times == 0) {
			return 0;
		}
		if (it->second.times > 0) {
			it->second.times--;
		}
		return it->second.err;
	}

	Config config_;
	RealTime now_;
	RealTime base_sys_;  ///< true time of the last set (or the start)
	RealTime base_rtc_;  ///< the RTC's continuous time then
	bool uie_on_ = false;
	bool pending_ = false;
	std::map<Op, Failure> failures_;
	std::vector<int64_t> set_values_;
	int reads_ = 0;
	int enables_ = 0;
	int disables_ = 0;
};

/// An RtcDevice that is a test's FakeRtc, for code that owns the device it
/// is given (a std::unique_ptr<RtcDevice>) while the test keeps driving the
/// fake.
class BorrowedRtc final : public RtcDevice {
public:
	explicit BorrowedRtc(FakeRtc &rtc) : rtc_(rtc) {}
	const std::string &path() const override { return rtc_.path(); }
	int fd() const override { return rtc_.fd(); }
	Result<int64_t> read_time() override { return rtc_.read_time(); }
	Result<> set_time(int64_t rtc_s) override { return rtc_.set_time(rtc_s); }
	Result<> enable_update_interrupts() override { return rtc_.enable_update_interrupts(); }
	Result<> disable_update_interrupts() override { return rtc_.disable_update_interrupts(); }
	Result<bool> wait_update(Duration timeout) override { return rtc_.wait_update(timeout); }

private:
	FakeRtc &rtc_;
};

} // namespace strata::rtc
