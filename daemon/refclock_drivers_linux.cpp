#include "daemon/refclock_drivers_linux.h"

#include <fmt/format.h>

#include "refclock/shm_linux.h"
#include "refclock/sock_linux.h"

namespace strata::daemon {

namespace {

class ShmDriver final : public RefclockDriver {
public:
	ShmDriver(refclock::ShmOptions options, Logger &log) : shm_(options, log) {}
	bool polled() const override { return true; }
	void poll(MonoTime now, std::vector<refclock::RawSample> &out) override
	{
		if (auto sample = shm_.poll(now)) {
			out.push_back(*sample);
		}
	}
	// gpsd and ntpd write microseconds at best, often with a serial line's
	// latency: chronyd's SHM default is the system's precision; the
	// filter's spread does the rest.
	double default_precision_s() const override { return 1e-6; }

private:
	refclock::ShmRefclock shm_;
};

class SockDriver final : public RefclockDriver {
public:
	SockDriver(refclock::SockRefclock sock, Logger &log) : sock_(std::move(sock)), log_(log) {}
	bool polled() const override { return false; }
	void poll(MonoTime, std::vector<refclock::RawSample> &) override {}
	int fd() const override { return sock_.fd(); }
	void receive(MonoTime now, std::vector<refclock::RawSample> &out) override
	{
		// A bounded number per wakeup: the socket stays readable when more wait.
		for (int i = 0; i < refclock::SockRefclock::kMaxDatagramsPerCall; i++) {
			auto got = sock_.receive(now);
			if (!got) {
				log_.debug("{}: {}", sock_.name(), got.error().message());
				return;
			}
			if (!*got) {
				return;
			}
			out.push_back(**got);
		}
	}

private:
	refclock::SockRefclock sock_;
	Logger &log_;
};

} // namespace

Result<std::unique_ptr<RefclockDriver>> make_refclock_driver(const conf::RefclockConfig &config, Logger &log)
{
	if (config.driver == "SHM") {
		auto options = refclock::parse_shm_parameter(config.parameter);
		if (!options) {
			return tl::unexpected(options.error());
		}
		return std::make_unique<ShmDriver>(*options, log);
	}
	if (config.driver == "SOCK") {
		auto sock = refclock::SockRefclock::open(config.parameter, log);
		if (!sock) {
			return tl::unexpected(sock.error());
		}
		return std::make_unique<SockDriver>(std::move(*sock), log);
	}
	return fail(Errc::Unsupported, fmt::format("refclock {} is not supported by strata yet", config.driver));
}

} // namespace strata::daemon
