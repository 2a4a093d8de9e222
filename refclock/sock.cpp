#include "refclock/sock.h"

#include <cmath>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace strata::refclock {

namespace {

std::optional<RawSample> reject(SockReject reason, SockReject &why, std::string *detail,
				std::string text)
{
	why = reason;
	if (detail != nullptr) {
		*detail = std::move(text);
	}
	return std::nullopt;
}

} // namespace

const char *to_string(SockReject why)
{
	switch (why) {
	case SockReject::None:
		return "sample";
	case SockReject::WrongSize:
		return "unexpected length";
	case SockReject::BadMagic:
		return "unexpected magic number";
	case SockReject::BadLeap:
		return "invalid leap indicator";
	case SockReject::BadTime:
		return "invalid time stamp";
	case SockReject::BadOffset:
		return "invalid offset";
	}
	return "unknown";
}

std::string sock_size_detail(size_t length)
{
	return fmt::format("{} bytes, expected {} or {}", length, kSockSample64Size, kSockSample32Size);
}

std::optional<RawSample> parse_sock(std::span<const std::byte> datagram, SockReject &why,
				    std::string *detail)
{
	SockSample64 s;
	if (datagram.size() == kSockSample64Size) {
		std::memcpy(&s, datagram.data(), sizeof s);
	} else if (datagram.size() == kSockSample32Size) {
		SockSample32 narrow;
		std::memcpy(&narrow, datagram.data(), sizeof narrow);
		s = {.tv_sec = narrow.tv_sec,
		     .tv_usec = narrow.tv_usec,
		     .offset = narrow.offset,
		     .pulse = narrow.pulse,
		     .leap = narrow.leap,
		     .pad = narrow.pad,
		     .magic = narrow.magic};
	} else {
		return reject(SockReject::WrongSize, why, detail, sock_size_detail(datagram.size()));
	}
	if (s.magic != kSockMagic) {
		return reject(SockReject::BadMagic, why, detail,
			      fmt::format("{:#x}, expected {:#x}", static_cast<unsigned>(s.magic),
					  static_cast<unsigned>(kSockMagic)));
	}
	Leap leap = Leap::None;
	if (s.pulse == 0) {
		if (s.leap < 0 || s.leap > 2) {
			return reject(SockReject::BadLeap, why, detail,
				      fmt::format("leap {}", s.leap));
		}
		leap = static_cast<Leap>(s.leap);
	}
	auto local = sample_time(s.tv_sec, s.tv_usec, 1'000'000);
	if (!local) {
		return reject(SockReject::BadTime, why, detail,
			      fmt::format("tv {}.{:06}", s.tv_sec, s.tv_usec));
	}
	// Written to be false for NaN.
	if (!(std::fabs(s.offset) < kSockMaxOffset_s)) {
		return reject(SockReject::BadOffset, why, detail,
			      fmt::format("offset {} s", s.offset));
	}
	// Range first in double (with a second of margin), so that the sum in
	// nanoseconds below cannot overflow; then exactly.
	double reference_s = static_cast<double>(local->seconds()) + s.offset;
	RealTime reference{};
	bool in_range = reference_s > -1.0 &&
			reference_s < static_cast<double>(kMaxSampleSeconds) + 1.0;
	if (in_range) {
		reference = *local + from_seconds(s.offset);
		in_range = reference.since_epoch.count() >= 0 &&
			   reference.seconds() < kMaxSampleSeconds;
	}
	if (!in_range) {
		return reject(SockReject::BadOffset, why, detail,
			      fmt::format("offset {} s from {} s", s.offset, local->seconds()));
	}
	why = SockReject::None;
	return RawSample{
		.reference = reference, .local = *local, .leap = leap, .pulse = s.pulse != 0};
}

} // namespace strata::refclock
