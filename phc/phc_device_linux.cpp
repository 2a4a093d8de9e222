#include "phc/phc_device_linux.h"

#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/ptp_clock.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include <fmt/format.h>

namespace strata::phc {

namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;

PhcSyscalls with_defaults(PhcSyscalls sys)
{
	if (!sys.open) {
		sys.open = [](const char *path, int flags) { return ::open(path, flags); };
	}
	// sys.close stays as given: empty, UniqueFd closes with close(2).
	if (!sys.ioctl) {
		sys.ioctl = [](int fd, unsigned long request, void *arg) {
			return ::ioctl(fd, request, arg);
		};
	}
	if (!sys.read) {
		sys.read = [](int fd, void *buf, size_t count) { return ::read(fd, buf, count); };
	}
	if (!sys.poll) {
		sys.poll = [](struct pollfd *fds, nfds_t nfds, int timeout_ms) {
			return ::poll(fds, nfds, timeout_ms);
		};
	}
	if (!sys.phc_index_netlink) {
		sys.phc_index_netlink = phc_index_by_netlink;
	}
	if (!sys.phc_index_ioctl) {
		sys.phc_index_ioctl = phc_index_by_ioctl;
	}
	return sys;
}

/// A kernel time stamp, or nullopt for garbage: nanoseconds of a second or
/// more, or seconds outside [0, kMaxSampleSeconds) (a PHC that was never
/// set counts from 0 and is fine).
std::optional<Duration> kernel_time(const ptp_clock_time &t)
{
	if (t.nsec >= kNsPerSecond || t.sec < 0 || t.sec >= refclock::kMaxSampleSeconds) {
		return std::nullopt;
	}
	return Duration(t.sec * kNsPerSecond + t.nsec);
}

std::string show(const ptp_clock_time &t)
{
	return fmt::format("{}.{:09}", static_cast<int64_t>(t.sec), static_cast<uint32_t>(t.nsec));
}

bool is_errno(const Error &error, int err)
{
	return error.code == std::error_code(err, std::generic_category());
}

/// An ioctl the kernel or driver does not have: the next method is tried.
bool refused(const Error &error)
{
	return is_errno(error, EOPNOTSUPP) || is_errno(error, EINVAL) || is_errno(error, ENOTTY);
}

// The netlink round trip of phc_index_by_netlink().
struct TsinfoReply {
	int phc_index = -1;
	int error = 0;  ///< the kernel's errno, 0 for success
	bool done = false;
};

int on_tsinfo(struct nl_msg *msg, void *arg)
{
	auto *reply = static_cast<TsinfoReply *>(arg);
	struct nlattr *attrs[ETHTOOL_A_TSINFO_MAX + 1] = {};
	if (genlmsg_parse(nlmsg_hdr(msg), 0, attrs, ETHTOOL_A_TSINFO_MAX, nullptr) == 0 &&
	    attrs[ETHTOOL_A_TSINFO_PHC_INDEX] != nullptr) {
		reply->phc_index = static_cast<int>(nla_get_u32(attrs[ETHTOOL_A_TSINFO_PHC_INDEX]));
	}
	return NL_OK;
}

int on_error(struct sockaddr_nl *, struct nlmsgerr *err, void *arg)
{
	auto *reply = static_cast<TsinfoReply *>(arg);
	reply->error = -err->error;
	reply->done = true;
	return NL_STOP;
}

int on_ack(struct nl_msg *, void *arg)
{
	static_cast<TsinfoReply *>(arg)->done = true;
	return NL_STOP;
}

tl::unexpected<Error> nl_failure(const std::string &what, int nl_error)
{
	return fail(Errc::Unsupported, fmt::format("{}: {}", what, nl_geterror(nl_error)));
}

} // namespace

Result<int> phc_index_by_netlink(const std::string &interface)
{
	std::string what = fmt::format("ethtool netlink TSINFO_GET {}", interface);
	std::unique_ptr<struct nl_sock, void (*)(struct nl_sock *)> sock(nl_socket_alloc(),
									 nl_socket_free);
	if (!sock) {
		return fail_errno(what, ENOMEM);
	}
	if (int err = genl_connect(sock.get()); err < 0) {
		return nl_failure(what, err);
	}
	int family = genl_ctrl_resolve(sock.get(), ETHTOOL_GENL_NAME);
	if (family < 0) {
		return fail(Errc::Unsupported,
			    fmt::format("{}: no \"{}\" generic netlink family", what,
					ETHTOOL_GENL_NAME));
	}
	std::unique_ptr<struct nl_msg, void (*)(struct nl_msg *)> msg(nlmsg_alloc(), nlmsg_free);
	if (!msg) {
		return fail_errno(what, ENOMEM);
	}
	if (genlmsg_put(msg.get(), NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0, ETHTOOL_MSG_TSINFO_GET,
			ETHTOOL_GENL_VERSION) == nullptr) {
		return fail_errno(what, ENOMEM);
	}
	struct nlattr *header = nla_nest_start(msg.get(), ETHTOOL_A_TSINFO_HEADER);
	if (header == nullptr ||
	    nla_put_string(msg.get(), ETHTOOL_A_HEADER_DEV_NAME, interface.c_str()) < 0) {
		return fail_errno(what, EMSGSIZE);
	}
	nla_nest_end(msg.get(), header);

	std::unique_ptr<struct nl_cb, void (*)(struct nl_cb *)> cb(nl_cb_alloc(NL_CB_DEFAULT),
								   nl_cb_put);
	if (!cb) {
		return fail_errno(what, ENOMEM);
	}
	TsinfoReply reply;
	nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, on_tsinfo, &reply);
	nl_cb_set(cb.get(), NL_CB_ACK, NL_CB_CUSTOM, on_ack, &reply);
	nl_cb_err(cb.get(), NL_CB_CUSTOM, on_error, &reply);
	if (int err = nl_send_auto(sock.get(), msg.get()); err < 0) {
		return nl_failure(what, err);
	}
	// The reply, then the acknowledgement (libnl asks for one), or an error.
	while (!reply.done) {
		if (int err = nl_recvmsgs(sock.get(), cb.get()); err < 0 && !reply.done) {
			return nl_failure(what, err);
		}
	}
	if (reply.error != 0) {
		return fail_errno(what, reply.error);
	}
	return reply.phc_index;
}

Result<int> phc_index_by_ioctl(const std::string &interface)
{
	std::string what = fmt::format("SIOCETHTOOL ETHTOOL_GET_TS_INFO {}", interface);
	struct ifreq ifr{};
	if (interface.empty() || interface.size() >= sizeof(ifr.ifr_name)) {
		return fail_errno(what, ENODEV);
	}
	UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	if (!fd.valid()) {
		return fail_errno(fmt::format("socket for {}", what));
	}
	struct ethtool_ts_info info{};
	info.cmd = ETHTOOL_GET_TS_INFO;
	std::memcpy(ifr.ifr_name, interface.data(), interface.size());
	ifr.ifr_data = reinterpret_cast<char *>(&info);
	if (::ioctl(fd.get(), SIOCETHTOOL, &ifr) < 0) {
		return fail_errno(what);
	}
	return info.phc_index;
}

const char *to_string(PhcReadMethod method)
{
	switch (method) {
	case PhcReadMethod::Precise:
		return "PTP_SYS_OFFSET_PRECISE";
	case PhcReadMethod::Extended:
		return "PTP_SYS_OFFSET_EXTENDED";
	case PhcReadMethod::Plain:
		return "PTP_SYS_OFFSET";
	}
	return "?";
}

// PhcDevice

Result<PhcDevice> PhcDevice::open(const std::string &path, bool read_write, PhcSyscalls sys)
{
	sys = with_defaults(std::move(sys));
	UniqueFd fd(sys.open(path.c_str(), (read_write ? O_RDWR : O_RDONLY) | O_CLOEXEC), sys.close);
	if (!fd.valid()) {
		int err = errno;
		return fail_errno("open " + path, err);
	}
	struct ptp_clock_caps caps{};
	if (sys.ioctl(fd.get(), PTP_CLOCK_GETCAPS, &caps) < 0) {
		int err = errno;
		return fail_errno("PTP_CLOCK_GETCAPS " + path, err);
	}
	PhcCaps c{.n_ext_ts = caps.n_ext_ts,
		  .n_pins = caps.n_pins,
		  .cross_timestamping = caps.cross_timestamping != 0};
	return PhcDevice(path, std::move(fd), c, std::move(sys));
}

PhcDevice &PhcDevice::operator=(PhcDevice &&other) noexcept
{
	if (this != &other) {
		release();
		path_ = std::move(other.path_);
		fd_ = std::move(other.fd_);
		caps_ = other.caps_;
		sys_ = std::move(other.sys_);
		pin_set_ = std::exchange(other.pin_set_, std::nullopt);
		extts_on_ = std::exchange(other.extts_on_, std::nullopt);
	}
	return *this;
}

PhcDevice::~PhcDevice()
{
	release();
}

void PhcDevice::release()
{
	if (!fd_.valid()) {
		return;  // moved from
	}
	// Failures on the way out (ENODEV: the device is gone) change nothing.
	if (extts_on_) {
		(void)request_extts(*extts_on_, false, false);
	}
	if (pin_set_) {
		(void)set_pin_function(*pin_set_, 0, false);
	}
	fd_.reset();
}

Result<> PhcDevice::ioctl(unsigned long request, void *arg, const char *what)
{
	if (sys_.ioctl(fd_.get(), request, arg) < 0) {
		int err = errno;
		return fail_errno(fmt::format("{} {}", what, path_), err);
	}
	return {};
}

Result<CrossTimestamp> PhcDevice::read_precise()
{
	struct ptp_sys_offset_precise off{};
	if (auto r = ioctl(PTP_SYS_OFFSET_PRECISE, &off, "PTP_SYS_OFFSET_PRECISE"); !r) {
		return tl::unexpected(r.error());
	}
	auto device = kernel_time(off.device);
	auto sys = kernel_time(off.sys_realtime);
	if (!device || !sys) {
		return fail(Errc::Malformed,
			    fmt::format("PTP_SYS_OFFSET_PRECISE {}: time stamp out of range "
					"(PHC {}, system {})",
					path_, show(off.device), show(off.sys_realtime)));
	}
	return CrossTimestamp{.sys = RealTime{*sys}, .phc = PhcInstant{*device}};
}

Result<SandwichReadings> PhcDevice::read_extended(int n)
{
	n = std::clamp(n, 1, PTP_MAX_SAMPLES);
	struct ptp_sys_offset_extended off{};
	off.n_samples = static_cast<unsigned>(n);
	if (auto r = ioctl(PTP_SYS_OFFSET_EXTENDED, &off, "PTP_SYS_OFFSET_EXTENDED"); !r) {
		return tl::unexpected(r.error());
	}
	SandwichReadings out;
	for (size_t i = 0; i < static_cast<size_t>(n); i++) {
		auto before = kernel_time(off.ts[i][0]);
		auto phc = kernel_time(off.ts[i][1]);
		auto after = kernel_time(off.ts[i][2]);
		if (!before || !phc || !after) {
			out.invalid++;
			continue;
		}
		out.sandwiches.push_back({RealTime{*before}, PhcInstant{*phc}, RealTime{*after}});
	}
	return out;
}

Result<SandwichReadings> PhcDevice::read_plain(int n)
{
	n = std::clamp(n, 1, PTP_MAX_SAMPLES);
	struct ptp_sys_offset off{};
	off.n_samples = static_cast<unsigned>(n);
	if (auto r = ioctl(PTP_SYS_OFFSET, &off, "PTP_SYS_OFFSET"); !r) {
		return tl::unexpected(r.error());
	}
	SandwichReadings out;
	for (size_t i = 0; i < static_cast<size_t>(n); i++) {
		auto before = kernel_time(off.ts[2 * i]);
		auto phc = kernel_time(off.ts[2 * i + 1]);
		auto after = kernel_time(off.ts[2 * i + 2]);
		if (!before || !phc || !after) {
			out.invalid++;
			continue;
		}
		out.sandwiches.push_back({RealTime{*before}, PhcInstant{*phc}, RealTime{*after}});
	}
	return out;
}

Result<> PhcDevice::set_pin_function(int pin, int channel, bool extts)
{
	struct ptp_pin_desc desc{};
	desc.index = static_cast<unsigned>(pin);
	desc.func = extts ? PTP_PF_EXTTS : PTP_PF_NONE;
	desc.chan = static_cast<unsigned>(channel);
	if (auto r = ioctl(PTP_PIN_SETFUNC, &desc, "PTP_PIN_SETFUNC"); !r) {
		return r;
	}
	if (extts) {
		pin_set_ = pin;
	} else {
		pin_set_.reset();
	}
	return {};
}

Result<> PhcDevice::request_extts(int channel, bool enable, bool falling)
{
	struct ptp_extts_request req{};
	req.index = static_cast<unsigned>(channel);
	if (enable) {
		req.flags = PTP_ENABLE_FEATURE | (falling ? PTP_FALLING_EDGE : PTP_RISING_EDGE);
	}
	if (auto r = ioctl(PTP_EXTTS_REQUEST, &req, "PTP_EXTTS_REQUEST"); !r) {
		return r;
	}
	if (enable) {
		extts_on_ = channel;
	} else {
		extts_on_.reset();
	}
	return {};
}

Result<bool> PhcDevice::event_waiting()
{
	struct pollfd p{.fd = fd_.get(), .events = POLLIN, .revents = 0};
	int r = sys_.poll(&p, 1, 0);
	if (r < 0) {
		int err = errno;
		if (err == EINTR) {
			return false;
		}
		return fail_errno("poll " + path_, err);
	}
	if ((p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
		return fail_errno("poll " + path_, ENODEV);
	}
	return (p.revents & POLLIN) != 0;
}

Result<ExttsEvent> PhcDevice::read_event()
{
	struct ptp_extts_event event{};
	ssize_t r = sys_.read(fd_.get(), &event, sizeof(event));
	if (r < 0) {
		int err = errno;
		return fail_errno("read " + path_, err);
	}
	if (static_cast<size_t>(r) != sizeof(event)) {
		return fail(Errc::Malformed, fmt::format("read {}: {} bytes, not an event", path_, r));
	}
	auto t = kernel_time(event.t);
	if (!t) {
		return fail(Errc::Malformed,
			    fmt::format("read {}: event time {} out of range", path_, show(event.t)));
	}
	return ExttsEvent{.time = PhcInstant{*t}, .channel = event.index};
}

// PhcRefclock

PhcRefclock::PhcRefclock(PhcOptions options, Logger &log, PhcSyscalls sys)
	: options_(std::move(options)), log_(&log), sys_(with_defaults(std::move(sys))),
	  name_("PHC " + options_.device)
{
	options_.readings = std::clamp(options_.readings, 1, PTP_MAX_SAMPLES);
	open_device();
}

std::optional<std::string> PhcRefclock::path() const
{
	if (!device_) {
		return std::nullopt;
	}
	return device_->path();
}

int PhcRefclock::fd() const
{
	return options_.extpps && device_ ? device_->fd() : -1;
}

Result<std::string> PhcRefclock::resolve_path()
{
	if (!options_.by_interface()) {
		return options_.device;
	}
	const std::string &interface = options_.device;
	auto index = sys_.phc_index_netlink(interface);
	if (!index && !is_errno(index.error(), ENODEV)) {
		log_->debug("{}: {}; asking SIOCETHTOOL", name_, index.error().message());
		index = sys_.phc_index_ioctl(interface);
	}
	if (!index) {
		return tl::unexpected(index.error());
	}
	if (*index < 0) {
		return fail(Errc::NotFound, fmt::format("PHC of interface {}", interface));
	}
	return fmt::format("/dev/ptp{}", *index);
}

bool PhcRefclock::open_device()
{
	auto opened = [&]() -> Result<PhcDevice> {
		auto path = resolve_path();
		if (!path) {
			return tl::unexpected(path.error());
		}
		auto device = PhcDevice::open(*path, options_.extpps, sys_);
		if (!device || !options_.extpps) {
			return device;
		}
		const PhcCaps &caps = device->caps();
		if (options_.channel >= caps.n_ext_ts) {
			return fail(Errc::NotFound,
				    fmt::format("{} external time-stamp channel {} (it has {})", *path,
						options_.channel, caps.n_ext_ts));
		}
		// Without programmable pins each channel has its own fixed input.
		if (caps.n_pins > 0) {
			if (options_.pin >= caps.n_pins) {
				return fail(Errc::NotFound, fmt::format("{} pin {} (it has {})", *path,
									 options_.pin, caps.n_pins));
			}
			if (auto r = device->set_pin_function(options_.pin, options_.channel, true); !r) {
				return tl::unexpected(r.error());
			}
		}
		if (auto r = device->request_extts(options_.channel, true, options_.clear); !r) {
			return tl::unexpected(r.error());
		}
		return device;
	}();
	if (!opened) {
		stats_.open_failures++;
		if (!open_warned_) {
			log_->warning("{}: could not open the PHC: {}; trying again at every poll", name_,
				      opened.error().message());
			open_warned_ = true;
		}
		return false;
	}
	device_.emplace(std::move(*opened));
	method_.reset();
	history_.clear();
	last_event_.reset();
	if (open_warned_) {
		log_->info("{}: opened {}{}", name_, device_->path(), lost_ ? " again" : "");
	} else {
		log_->debug("{}: opened {}", name_, device_->path());
	}
	open_warned_ = false;
	lost_ = false;
	return true;
}

void PhcRefclock::device_gone(const Error &error)
{
	stats_.disappeared++;
	log_->warning("{}: the PHC has gone ({}); trying to open it again at every poll", name_,
		      error.message());
	device_.reset();
	history_.clear();
	method_.reset();
	open_warned_ = true;
	lost_ = true;
}

void PhcRefclock::read_failed(const Error &error, MonoTime)
{
	stats_.read_errors++;
	if (!read_warned_) {
		log_->warning("{}: could not read the PHC: {}", name_, error.message());
		read_warned_ = true;
	}
}

Result<std::optional<PhcSample>> PhcRefclock::read_with(PhcReadMethod method, MonoTime now)
{
	if (method == PhcReadMethod::Precise) {
		auto x = device_->read_precise();
		if (!x) {
			if (x.error().code != Errc::Malformed) {
				return tl::unexpected(x.error());
			}
			stats_.readings++;
			stats_.bad++;
			bad_log_.report(*log_, now, name_, x.error().context);
			return std::optional<PhcSample>();
		}
		stats_.readings++;
		return from_cross_timestamp(*x, options_.precision_s);
	}
	auto r = method == PhcReadMethod::Extended ? device_->read_extended(options_.readings)
						   : device_->read_plain(options_.readings);
	if (!r) {
		return tl::unexpected(r.error());
	}
	stats_.readings++;
	auto negative = std::count_if(r->sandwiches.begin(), r->sandwiches.end(),
				      [](const Sandwich &s) { return s.sys_after < s.sys_before; });
	auto bad = static_cast<uint64_t>(r->invalid) + static_cast<uint64_t>(negative);
	if (bad > 0) {
		stats_.bad += bad;
		bad_log_.report(*log_, now, name_,
				fmt::format("{}: {} of {} readings out of range, {} with a "
					    "negative window",
					    to_string(method), r->invalid, options_.readings,
					    negative));
	}
	return process_sandwiches(r->sandwiches, options_.precision_s);
}

std::optional<PhcSample> PhcRefclock::read_clock(MonoTime now)
{
	Result<std::optional<PhcSample>> result = std::optional<PhcSample>();
	if (method_) {
		result = read_with(*method_, now);
	} else {
		bool all_refused = true;
		std::string tried;
		for (PhcReadMethod m :
		     {PhcReadMethod::Precise, PhcReadMethod::Extended, PhcReadMethod::Plain}) {
			if (m == PhcReadMethod::Precise && options_.nocrossts) {
				continue;
			}
			tried += tried.empty() ? to_string(m) : fmt::format(", {}", to_string(m));
			result = read_with(m, now);
			if (result) {
				method_ = m;
				all_refused = false;
				break;
			}
			if (!refused(result.error())) {
				all_refused = false;
				break;
			}
			log_->debug("{}: {}", name_, result.error().message());
		}
		if (all_refused) {
			result = fail(Errc::Unsupported,
				      fmt::format("reading {} ({})", device_->path(), tried));
		}
		if (method_ && method_ != logged_method_) {
			log_->info("{}: reading {} with {}", name_, device_->path(),
				   to_string(*method_));
			logged_method_ = method_;
		}
	}
	if (!result) {
		if (is_errno(result.error(), ENODEV)) {
			device_gone(result.error());
		} else {
			read_failed(result.error(), now);
		}
		return std::nullopt;
	}
	if (read_warned_) {
		log_->info("{}: reading the PHC again", name_);
		read_warned_ = false;
	}
	if (*result) {
		record(**result);
	}
	return *result;
}

void PhcRefclock::record(const PhcSample &sample)
{
	// A system clock stepped back makes the older readings useless for the rate.
	if (!history_.empty() && sample.sys < history_.back().sys) {
		history_.clear();
	}
	history_.push_back(sample);
	while (history_.size() > kHistory) {
		history_.pop_front();
	}
}

const PhcSample *PhcRefclock::rate_reference() const
{
	if (history_.size() < 2) {
		return nullptr;
	}
	const PhcSample &latest = history_.back();
	for (auto it = history_.rbegin() + 1; it != history_.rend(); ++it) {
		if (latest.sys - it->sys >= kRateSpan) {
			return &*it;
		}
	}
	return &history_.front();
}

std::optional<refclock::RawSample> PhcRefclock::poll(MonoTime now)
{
	if (!device_ && !open_device()) {
		return std::nullopt;
	}
	auto sample = read_clock(now);
	if (!sample || options_.extpps) {
		return std::nullopt;
	}
	stats_.samples++;
	return refclock::RawSample{.reference = RealTime{sample->sys.since_epoch + sample->offset},
				   .local = sample->sys};
}

std::optional<refclock::RawSample> PhcRefclock::receive(MonoTime now)
{
	if (!device_ || !options_.extpps) {
		return std::nullopt;
	}
	auto waiting = device_->event_waiting();
	if (!waiting) {
		if (is_errno(waiting.error(), ENODEV)) {
			device_gone(waiting.error());
		} else {
			read_failed(waiting.error(), now);
		}
		return std::nullopt;
	}
	if (!*waiting) {
		return std::nullopt;
	}
	auto event = device_->read_event();
	if (!event) {
		if (event.error().code == Errc::Malformed) {
			stats_.bad++;
			bad_log_.report(*log_, now, name_, event.error().context);
		} else if (is_errno(event.error(), ENODEV)) {
			device_gone(event.error());
		} else {
			read_failed(event.error(), now);
		}
		return std::nullopt;
	}
	if (event->channel != static_cast<unsigned>(options_.channel)) {
		stats_.ignored_events++;
		log_->debug("{}: event of channel {} ignored", name_, event->channel);
		return std::nullopt;
	}
	if (last_event_ == event->time) {
		stats_.ignored_events++;
		log_->debug("{}: repeated event ignored", name_);
		return std::nullopt;
	}
	last_event_ = event->time;

	// A reading now keeps the conversion short; when it fails the latest
	// one still serves, if it is close enough.
	read_clock(now);
	if (!device_) {
		return std::nullopt;  // gone while reading
	}
	if (history_.empty()) {
		stats_.unconverted++;
		return std::nullopt;
	}
	const PhcSample &latest = history_.back();
	Duration distance = event->time.since_epoch - (latest.sys.since_epoch + latest.offset);
	if (distance > kMaxConversionAge || distance < -kMaxConversionAge) {
		stats_.unconverted++;
		log_->debug("{}: event {:.3f} s from the latest PHC reading ignored", name_,
			    to_seconds(distance));
		return std::nullopt;
	}
	stats_.pulses++;
	return refclock::RawSample{
		.reference = RealTime{nearest_second(event->time).since_epoch},
		.local = phc_to_system(event->time, latest, rate_reference()),
		.pulse = true};
}

} // namespace strata::phc
