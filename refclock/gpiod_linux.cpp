#include "refclock/gpiod_linux.h"

#include <fcntl.h>
#include <gpiod.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string>

#include <fmt/format.h>

#ifndef STRATA_LIBGPIOD_MAJOR
#error "STRATA_LIBGPIOD_MAJOR must be set by the build (refclock/CMakeLists.txt)"
#endif

namespace strata::refclock {

namespace {

/// The event fds block by default; the loop reads them only when poll()
/// says they are readable, but a spurious wake-up must not stall it.
bool set_nonblocking(int fd)
{
	int flags = ::fcntl(fd, F_GETFL);
	return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

constexpr size_t kReadBatch = 16;

} // namespace

#if STRATA_LIBGPIOD_MAJOR == 1

// ---- libgpiod 1.6: struct gpiod_chip / struct gpiod_line -------------------

namespace {

class GpiodRequest final : public GpioRequest {
public:
	GpiodRequest(gpiod_line *line, int fd) : line_(line), fd_(fd) {}
	~GpiodRequest() override { ::gpiod_line_release(line_); }

	int fd() const override { return fd_; }

	/// The line's event fd read directly (refclock/gpio_linux.h says why
	/// not gpiod_line_event_read_multiple).
	Result<size_t> read_events(std::span<GpioEvent> out) override
	{
		return read_gpio_v1_events(fd_, out.first(std::min(out.size(), kReadBatch)));
	}

private:
	gpiod_line *line_;
	int fd_;
};

class GpiodChip final : public GpioChip {
public:
	GpiodChip(gpiod_chip *chip, std::string path) : chip_(chip), path_(std::move(path)) {}
	~GpiodChip() override { ::gpiod_chip_close(chip_); }

	unsigned num_lines() override { return ::gpiod_chip_num_lines(chip_); }

	Result<unsigned> find_line(const std::string &name) override
	{
		gpiod_line *line = ::gpiod_chip_find_line(chip_, name.c_str());
		if (line == nullptr) {
			return fail_errno(fmt::format("find line '{}' on {}", name, path_));
		}
		return ::gpiod_line_offset(line);
	}

	std::optional<std::string> consumer(unsigned offset) override
	{
		gpiod_line *line = ::gpiod_chip_get_line(chip_, offset);
		if (line == nullptr || ::gpiod_line_update(line) != 0 ||
		    !::gpiod_line_is_used(line)) {
			return std::nullopt;
		}
		const char *name = ::gpiod_line_consumer(line);
		return std::string(name != nullptr ? name : "");
	}

	Result<std::unique_ptr<GpioRequest>> request_events(unsigned offset, GpioEdge edge,
							    GpioClock clock,
							    const std::string &consumer) override
	{
		if (clock != GpioClock::Monotonic) {
			return fail(Errc::Unsupported,
				    "libgpiod 1 stamps events on the kernel's clock only");
		}
		gpiod_line *line = ::gpiod_chip_get_line(chip_, offset);
		if (line == nullptr) {
			return fail_errno(fmt::format("line {} of {}", offset, path_));
		}
		gpiod_line_request_config config{};
		config.consumer = consumer.c_str();
		switch (edge) {
		case GpioEdge::Rising:
			config.request_type = GPIOD_LINE_REQUEST_EVENT_RISING_EDGE;
			break;
		case GpioEdge::Falling:
			config.request_type = GPIOD_LINE_REQUEST_EVENT_FALLING_EDGE;
			break;
		case GpioEdge::Both:
			config.request_type = GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES;
			break;
		}
		config.flags = 0;
		if (::gpiod_line_request(line, &config, 0) != 0) {
			return fail_errno(fmt::format("request line {} of {}", offset, path_));
		}
		int fd = ::gpiod_line_event_get_fd(line);
		if (fd < 0 || !set_nonblocking(fd)) {
			int err = errno;
			::gpiod_line_release(line);
			return fail_errno(fmt::format("event fd of line {} of {}", offset, path_),
					  err);
		}
		return std::unique_ptr<GpioRequest>(new GpiodRequest(line, fd));
	}

private:
	gpiod_chip *chip_;
	std::string path_;
};

} // namespace

int libgpiod_major()
{
	return 1;
}

#elif STRATA_LIBGPIOD_MAJOR == 2

// ---- libgpiod 2.x: struct gpiod_chip / struct gpiod_line_request -----------

namespace {

template <class T, void (*Free)(T *)>
struct Freer {
	void operator()(T *p) const { Free(p); }
};
template <class T, void (*Free)(T *)>
using Owned = std::unique_ptr<T, Freer<T, Free>>;

using Settings = Owned<gpiod_line_settings, gpiod_line_settings_free>;
using LineConfig = Owned<gpiod_line_config, gpiod_line_config_free>;
using RequestConfig = Owned<gpiod_request_config, gpiod_request_config_free>;
using ChipInfo = Owned<gpiod_chip_info, gpiod_chip_info_free>;
using LineInfo = Owned<gpiod_line_info, gpiod_line_info_free>;
using EventBuffer = Owned<gpiod_edge_event_buffer, gpiod_edge_event_buffer_free>;
using LineRequest = Owned<gpiod_line_request, gpiod_line_request_release>;

class GpiodRequest final : public GpioRequest {
public:
	GpiodRequest(LineRequest request, EventBuffer buffer)
		: request_(std::move(request)), buffer_(std::move(buffer))
	{
	}

	int fd() const override { return ::gpiod_line_request_get_fd(request_.get()); }

	Result<size_t> read_events(std::span<GpioEvent> out) override
	{
		size_t wanted = std::min(out.size(), kReadBatch);
		int n = ::gpiod_line_request_read_edge_events(request_.get(), buffer_.get(),
							      wanted);
		if (n < 0) {
			return fail_errno("read GPIO events");
		}
		auto count = static_cast<size_t>(n);
		for (size_t i = 0; i < count; i++) {
			gpiod_edge_event *e = ::gpiod_edge_event_buffer_get_event(
				buffer_.get(), static_cast<unsigned long>(i));
			out[i].timestamp_ns = ::gpiod_edge_event_get_timestamp_ns(e);
			out[i].rising = ::gpiod_edge_event_get_event_type(e) ==
					GPIOD_EDGE_EVENT_RISING_EDGE;
			out[i].line_seqno =
				static_cast<uint32_t>(::gpiod_edge_event_get_line_seqno(e));
		}
		return count;
	}

private:
	LineRequest request_;
	EventBuffer buffer_;
};

class GpiodChip final : public GpioChip {
public:
	GpiodChip(gpiod_chip *chip, std::string path) : chip_(chip), path_(std::move(path)) {}
	~GpiodChip() override { ::gpiod_chip_close(chip_); }

	unsigned num_lines() override
	{
		ChipInfo info(::gpiod_chip_get_info(chip_));
		if (!info) {
			return 0;
		}
		return static_cast<unsigned>(::gpiod_chip_info_get_num_lines(info.get()));
	}

	Result<unsigned> find_line(const std::string &name) override
	{
		int offset = ::gpiod_chip_get_line_offset_from_name(chip_, name.c_str());
		if (offset < 0) {
			return fail_errno(fmt::format("find line '{}' on {}", name, path_));
		}
		return static_cast<unsigned>(offset);
	}

	std::optional<std::string> consumer(unsigned offset) override
	{
		LineInfo info(::gpiod_chip_get_line_info(chip_, offset));
		if (!info || !::gpiod_line_info_is_used(info.get())) {
			return std::nullopt;
		}
		const char *name = ::gpiod_line_info_get_consumer(info.get());
		return std::string(name != nullptr ? name : "");
	}

	Result<std::unique_ptr<GpioRequest>> request_events(unsigned offset, GpioEdge edge,
							    GpioClock clock,
							    const std::string &consumer) override
	{
		Settings settings(::gpiod_line_settings_new());
		LineConfig line_config(::gpiod_line_config_new());
		RequestConfig request_config(::gpiod_request_config_new());
		if (!settings || !line_config || !request_config) {
			return fail_errno("libgpiod configuration");
		}
		gpiod_line_edge detect = edge == GpioEdge::Rising    ? GPIOD_LINE_EDGE_RISING
					 : edge == GpioEdge::Falling ? GPIOD_LINE_EDGE_FALLING
								     : GPIOD_LINE_EDGE_BOTH;
		gpiod_line_clock event_clock = clock == GpioClock::Realtime
						       ? GPIOD_LINE_CLOCK_REALTIME
						       : GPIOD_LINE_CLOCK_MONOTONIC;
		if (::gpiod_line_settings_set_direction(settings.get(),
							GPIOD_LINE_DIRECTION_INPUT) != 0 ||
		    ::gpiod_line_settings_set_edge_detection(settings.get(), detect) != 0 ||
		    ::gpiod_line_settings_set_event_clock(settings.get(), event_clock) != 0) {
			return fail_errno("libgpiod line settings");
		}
		if (::gpiod_line_config_add_line_settings(line_config.get(), &offset, 1,
							  settings.get()) != 0) {
			return fail_errno("libgpiod line config");
		}
		::gpiod_request_config_set_consumer(request_config.get(), consumer.c_str());
		::gpiod_request_config_set_event_buffer_size(request_config.get(), kReadBatch);
		LineRequest request(::gpiod_chip_request_lines(chip_, request_config.get(),
								 line_config.get()));
		if (!request) {
			return fail_errno(fmt::format("request line {} of {}", offset, path_));
		}
		if (!set_nonblocking(::gpiod_line_request_get_fd(request.get()))) {
			return fail_errno(fmt::format("event fd of line {} of {}", offset, path_));
		}
		EventBuffer buffer(::gpiod_edge_event_buffer_new(kReadBatch));
		if (!buffer) {
			return fail_errno("libgpiod event buffer");
		}
		return std::unique_ptr<GpioRequest>(
			new GpiodRequest(std::move(request), std::move(buffer)));
	}

private:
	gpiod_chip *chip_;
	std::string path_;
};

} // namespace

int libgpiod_major()
{
	return 2;
}

#else
#error "unsupported libgpiod major version"
#endif

namespace {

class Gpiod final : public GpioLib {
public:
	Result<std::unique_ptr<GpioChip>> open_chip(const std::string &path) override
	{
		gpiod_chip *chip = ::gpiod_chip_open(path.c_str());
		if (chip == nullptr) {
			return fail_errno(fmt::format("Could not open {}", path));
		}
		return std::unique_ptr<GpioChip>(new GpiodChip(chip, path));
	}
};

} // namespace

std::unique_ptr<GpioLib> make_libgpiod()
{
	return std::make_unique<Gpiod>();
}

} // namespace strata::refclock
