#include "control/cmdmon.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <limits>
#include <type_traits>

namespace strata::control {

namespace {

constexpr uint8_t kPacketTypeRequest = 1;
constexpr uint8_t kPacketTypeReply = 2;

// Sizes of the wire's building blocks.
constexpr size_t kFloatLength = 4;
constexpr size_t kTimespecLength = 12;
constexpr size_t kAddressLength = 20;

// Address families on the wire.
constexpr uint16_t kFamilyUnspec = 0;
constexpr uint16_t kFamilyInet4 = 1;
constexpr uint16_t kFamilyInet6 = 2;
constexpr uint16_t kFamilyId = 3;

// --- Float layout: e (7 bits, signed) then c (25 bits, signed) ---
constexpr int kCoefBits = 25;
constexpr int kExpMin = -64;
constexpr int kExpMax = 63;
constexpr double kCoefMax = 16777215.0;  // 2^24 - 1
constexpr double kCoefMinMagnitude = 16777216.0;  // |-2^24|, negatives only

// --- Report bodies: field by field, so that each length shows its parts ---
constexpr size_t kNSourcesBody = 4;
constexpr size_t kSourceDataBody = kAddressLength + 6 * 2 + 4 + 3 * kFloatLength;
constexpr size_t kTrackingBody = 4 + kAddressLength + 2 + 2 + kTimespecLength + 9 * kFloatLength;
constexpr size_t kSourceStatsBody = 4 + kAddressLength + 3 * 4 + 5 * kFloatLength;
constexpr size_t kRtcBody = kTimespecLength + 2 + 2 + 4 + 2 * kFloatLength;
constexpr size_t kActivityBody = 5 * 4;
constexpr size_t kSmoothingBody = 4 + 5 * kFloatLength;
constexpr size_t kServerStatsBody = 11 * 4;
constexpr size_t kClientRecord = kAddressLength + 6 * 4 + 4 * 1 + 3 * 4;
constexpr size_t kClientAccessesBody = 3 * 4 + kMaxClientsPerReply * kClientRecord;
constexpr size_t kNtpDataBody = 2 * kAddressLength + 2 + 6 * 1 + 2 * kFloatLength + 4 +
				kTimespecLength + 5 * kFloatLength + 2 + 2 * 1 + 4 * 4 + 3 * 4;
constexpr size_t kManualTimestampBody = 3 * kFloatLength;
constexpr size_t kManualSampleRecord = kTimespecLength + 3 * kFloatLength;
constexpr size_t kManualListBody = 4 + kMaxManualSamples * kManualSampleRecord;
constexpr size_t kSourceNameBody = kNameFieldLength;
constexpr size_t kAuthDataBody = 2 + 2 + 4 + 2 + 2 + 4 + 4 * 2;
constexpr size_t kSelectDataBody = 4 + kAddressLength + 4 * 1 + 2 * 2 + 4 + 3 * kFloatLength;

static_assert(kClientRecord == 60);
static_assert(kNtpDataBody == 124);

// --- Arguments ---
constexpr size_t kAddSourceArgs = 4 + kNameFieldLength + 12 * 4 + 6 * kFloatLength + 4 + 4 + 4 +
				  kFloatLength + 4;
static_assert(kAddSourceArgs == 352);

/// Which RequestArgs alternative a command takes; the order is the variant's.
enum class ArgsKind : uint8_t {
	None,
	Index,
	Mask,
	Burst,
	AddressInt,
	AddressFloat,
	Float,
	Int,
	Makestep,
	Time,
	Local,
	Subnet,
	Address,
	ClientAccesses,
	AddSource,
};

template <ArgsKind K, class T>
constexpr bool kIsAlternative =
	std::is_same_v<std::variant_alternative_t<static_cast<size_t>(K), RequestArgs>, T>;
static_assert(kIsAlternative<ArgsKind::None, NoArgs> &&
	      kIsAlternative<ArgsKind::Index, IndexArgs> &&
	      kIsAlternative<ArgsKind::Mask, MaskArgs> &&
	      kIsAlternative<ArgsKind::Burst, BurstArgs> &&
	      kIsAlternative<ArgsKind::AddressInt, AddressIntArgs> &&
	      kIsAlternative<ArgsKind::AddressFloat, AddressFloatArgs> &&
	      kIsAlternative<ArgsKind::Float, FloatArgs> &&
	      kIsAlternative<ArgsKind::Int, IntArgs> &&
	      kIsAlternative<ArgsKind::Makestep, MakestepArgs> &&
	      kIsAlternative<ArgsKind::Time, TimeArgs> &&
	      kIsAlternative<ArgsKind::Local, LocalArgs> &&
	      kIsAlternative<ArgsKind::Subnet, SubnetArgs> &&
	      kIsAlternative<ArgsKind::Address, AddressArgs> &&
	      kIsAlternative<ArgsKind::ClientAccesses, ClientAccessesArgs> &&
	      kIsAlternative<ArgsKind::AddSource, AddSourceArgs> &&
	      std::variant_size_v<RequestArgs> == 15);

constexpr size_t args_length(ArgsKind kind)
{
	switch (kind) {
	case ArgsKind::None:
		return 0;
	case ArgsKind::Index:
	case ArgsKind::Float:
	case ArgsKind::Int:
		return 4;
	case ArgsKind::Mask:
		return 2 * kAddressLength;
	case ArgsKind::Burst:
		return 2 * kAddressLength + 4 + 4;
	case ArgsKind::AddressInt:
	case ArgsKind::AddressFloat:
	case ArgsKind::Subnet:
		return kAddressLength + 4;
	case ArgsKind::Makestep:
		return 4 + kFloatLength;
	case ArgsKind::Time:
		return kTimespecLength;
	case ArgsKind::Local:
		return 4 + 4 + kFloatLength + 4;
	case ArgsKind::Address:
		return kAddressLength;
	case ArgsKind::ClientAccesses:
		return 4 * 4;
	case ArgsKind::AddSource:
		return kAddSourceArgs;
	}
	return 0;
}

constexpr size_t reply_length_of(ReplyType type)
{
	size_t body = 0;
	switch (type) {
	case ReplyType::Null:
		body = 0;
		break;
	case ReplyType::NSources:
		body = kNSourcesBody;
		break;
	case ReplyType::SourceData:
		body = kSourceDataBody;
		break;
	case ReplyType::Tracking:
		body = kTrackingBody;
		break;
	case ReplyType::SourceStats:
		body = kSourceStatsBody;
		break;
	case ReplyType::Rtc:
		body = kRtcBody;
		break;
	case ReplyType::Activity:
		body = kActivityBody;
		break;
	case ReplyType::Smoothing:
		body = kSmoothingBody;
		break;
	case ReplyType::NtpData:
		body = kNtpDataBody;
		break;
	case ReplyType::ManualTimestamp2:
		body = kManualTimestampBody;
		break;
	case ReplyType::ManualList2:
		body = kManualListBody;
		break;
	case ReplyType::NtpSourceName:
		body = kSourceNameBody;
		break;
	case ReplyType::AuthData:
		body = kAuthDataBody;
		break;
	case ReplyType::ClientAccessesByIndex3:
		body = kClientAccessesBody;
		break;
	case ReplyType::SelectData:
		body = kSelectDataBody;
		break;
	case ReplyType::ServerStats3:
		body = kServerStatsBody;
		break;
	default:  // revisions chronyd 4.3 no longer sends
		return 0;
	}
	return kReplyHeaderLength + body;
}

/// What chronyd 4.3 does with one command code.
struct CommandSpec {
	std::string_view name;
	bool accepted = false;  ///< false: an older revision's code, answered "invalid"
	ArgsKind args = ArgsKind::None;
	/// Bytes of arguments when they are not the kind's own (DUMP's unused word).
	size_t extra_length = 0;
	ReplyType reply = ReplyType::Null;
	bool network = false;    ///< permitted over UDP
	bool read_only = false;  ///< changes nothing in the daemon
};

constexpr CommandSpec obsolete(std::string_view name)
{
	return {.name = name, .accepted = false};
}

constexpr CommandSpec report(std::string_view name, ArgsKind args, ReplyType reply, bool network)
{
	return {.name = name, .accepted = true, .args = args, .reply = reply, .network = network,
		.read_only = true};
}

constexpr CommandSpec action(std::string_view name, ArgsKind args = ArgsKind::None)
{
	return {.name = name, .accepted = true, .args = args};
}

constexpr std::array<CommandSpec, kCommandCount> kCommands = {{
	report("NULL", ArgsKind::None, ReplyType::Null, true),
	action("ONLINE", ArgsKind::Mask),
	action("OFFLINE", ArgsKind::Mask),
	action("BURST", ArgsKind::Burst),
	action("MODIFY_MINPOLL", ArgsKind::AddressInt),
	action("MODIFY_MAXPOLL", ArgsKind::AddressInt),
	{.name = "DUMP", .accepted = true, .extra_length = 4},
	action("MODIFY_MAXDELAY", ArgsKind::AddressFloat),
	action("MODIFY_MAXDELAYRATIO", ArgsKind::AddressFloat),
	action("MODIFY_MAXUPDATESKEW", ArgsKind::Float),
	// Authentication is gone from the protocol; chronyd still answers
	// LOGON (with a failure) to anyone, changing nothing.
	report("LOGON", ArgsKind::Time, ReplyType::Null, true),
	{.name = "SETTIME", .accepted = true, .args = ArgsKind::Time,
	 .reply = ReplyType::ManualTimestamp2},
	obsolete("LOCAL"),
	action("MANUAL", ArgsKind::Int),
	report("N_SOURCES", ArgsKind::None, ReplyType::NSources, true),
	report("SOURCE_DATA", ArgsKind::Index, ReplyType::SourceData, true),
	action("REKEY"),
	action("ALLOW", ArgsKind::Subnet),
	action("ALLOWALL", ArgsKind::Subnet),
	action("DENY", ArgsKind::Subnet),
	action("DENYALL", ArgsKind::Subnet),
	action("CMDALLOW", ArgsKind::Subnet),
	action("CMDALLOWALL", ArgsKind::Subnet),
	action("CMDDENY", ArgsKind::Subnet),
	action("CMDDENYALL", ArgsKind::Subnet),
	report("ACCHECK", ArgsKind::Address, ReplyType::Null, false),
	report("CMDACCHECK", ArgsKind::Address, ReplyType::Null, false),
	obsolete("ADD_SERVER"),
	obsolete("ADD_PEER"),
	action("DEL_SOURCE", ArgsKind::Address),
	action("WRITERTC"),
	action("DFREQ", ArgsKind::Float),
	obsolete("DOFFSET"),
	report("TRACKING", ArgsKind::None, ReplyType::Tracking, true),
	report("SOURCESTATS", ArgsKind::Index, ReplyType::SourceStats, true),
	report("RTCREPORT", ArgsKind::None, ReplyType::Rtc, true),
	action("TRIMRTC"),
	action("CYCLELOGS"),
	obsolete("SUBNETS_ACCESSED"),
	obsolete("CLIENT_ACCESSES"),
	obsolete("CLIENT_ACCESSES_BY_INDEX"),
	report("MANUAL_LIST", ArgsKind::None, ReplyType::ManualList2, true),
	action("MANUAL_DELETE", ArgsKind::Int),
	action("MAKESTEP"),
	report("ACTIVITY", ArgsKind::None, ReplyType::Activity, true),
	action("MODIFY_MINSTRATUM", ArgsKind::AddressInt),
	action("MODIFY_POLLTARGET", ArgsKind::AddressInt),
	action("MODIFY_MAXDELAYDEVRATIO", ArgsKind::AddressFloat),
	action("RESELECT"),
	action("RESELECTDISTANCE", ArgsKind::Float),
	action("MODIFY_MAKESTEP", ArgsKind::Makestep),
	report("SMOOTHING", ArgsKind::None, ReplyType::Smoothing, true),
	action("SMOOTHTIME", ArgsKind::Int),
	action("REFRESH"),
	report("SERVER_STATS", ArgsKind::None, ReplyType::ServerStats3, false),
	obsolete("CLIENT_ACCESSES_BY_INDEX2"),
	action("LOCAL2", ArgsKind::Local),
	report("NTP_DATA", ArgsKind::Address, ReplyType::NtpData, false),
	obsolete("ADD_SERVER2"),
	obsolete("ADD_PEER2"),
	obsolete("ADD_SERVER3"),
	obsolete("ADD_PEER3"),
	action("SHUTDOWN"),
	action("ONOFFLINE"),
	action("ADD_SOURCE", ArgsKind::AddSource),
	report("NTP_SOURCE_NAME", ArgsKind::Address, ReplyType::NtpSourceName, true),
	action("RESET_SOURCES"),
	report("AUTH_DATA", ArgsKind::Address, ReplyType::AuthData, false),
	report("CLIENT_ACCESSES_BY_INDEX3", ArgsKind::ClientAccesses,
	       ReplyType::ClientAccessesByIndex3, false),
	report("SELECT_DATA", ArgsKind::Index, ReplyType::SelectData, false),
	action("RELOAD_SOURCES"),
	action("DOFFSET2", ArgsKind::Float),
}};

/// Header and arguments, before the padding.
constexpr size_t unpadded_length(const CommandSpec &spec)
{
	return kRequestHeaderLength + args_length(spec.args) + spec.extra_length;
}

/// The padding that makes a request as long as its reply.
constexpr size_t padding_length(const CommandSpec &spec)
{
	size_t reply = reply_length_of(spec.reply);
	size_t request = unpadded_length(spec);
	return reply > request ? reply - request : 0;
}

constexpr bool table_is_consistent()
{
	size_t max_padding = 0;
	size_t max_length = 0;
	for (const CommandSpec &spec : kCommands) {
		if (!spec.accepted) {
			continue;
		}
		if (reply_length_of(spec.reply) == 0) {
			return false;
		}
		max_padding = std::max(max_padding, padding_length(spec));
		max_length = std::max(max_length, unpadded_length(spec) + padding_length(spec));
	}
	// chronyd's buffer: the largest arguments (ADD_SOURCE's, and the 4-byte
	// end-of-record word its layout carries), then room for the largest
	// padding (CLIENT_ACCESSES_BY_INDEX3's).
	constexpr size_t kEndOfRecord = 4;
	size_t buffer = kRequestHeaderLength + kAddSourceArgs + kEndOfRecord + max_padding;
	return max_padding == 484 && buffer == kMaxRequestLength &&
	       max_length <= kMaxRequestLength;
}
static_assert(table_is_consistent());
static_assert(reply_length_of(ReplyType::ClientAccessesByIndex3) == kMaxReplyLength);

const CommandSpec *spec_of(uint16_t code)
{
	if (code >= kCommandCount) {
		return nullptr;
	}
	return &kCommands[code];
}

uint16_t get16(std::span<const std::byte> d, size_t at)
{
	return static_cast<uint16_t>((std::to_integer<uint32_t>(d[at]) << 8) |
				     std::to_integer<uint32_t>(d[at + 1]));
}

uint32_t get32(std::span<const std::byte> d, size_t at)
{
	return (std::to_integer<uint32_t>(d[at]) << 24) |
	       (std::to_integer<uint32_t>(d[at + 1]) << 16) |
	       (std::to_integer<uint32_t>(d[at + 2]) << 8) | std::to_integer<uint32_t>(d[at + 3]);
}

void put16(std::span<std::byte> d, size_t at, uint16_t v)
{
	d[at] = static_cast<std::byte>(v >> 8);
	d[at + 1] = static_cast<std::byte>(v);
}

void put32(std::span<std::byte> d, size_t at, uint32_t v)
{
	d[at] = static_cast<std::byte>(v >> 24);
	d[at + 1] = static_cast<std::byte>(v >> 16);
	d[at + 2] = static_cast<std::byte>(v >> 8);
	d[at + 3] = static_cast<std::byte>(v);
}

/// Reads fields in order. Callers check the datagram's length against the
/// layout first, so a read past the end is a bug in this file.
class Reader {
public:
	explicit Reader(std::span<const std::byte> data) : data_(data) {}

	uint8_t u8() { return std::to_integer<uint8_t>(take(1)[0]); }
	int8_t i8() { return static_cast<int8_t>(u8()); }
	uint16_t u16() { return get16(take(2), 0); }
	int16_t i16() { return static_cast<int16_t>(u16()); }
	uint32_t u32() { return get32(take(4), 0); }
	int32_t i32() { return static_cast<int32_t>(u32()); }
	double real() { return decode_float(u32()); }
	RealTime time() { return decode_timespec(take(kTimespecLength).first<kTimespecLength>()); }
	Address address() { return decode_address(take(kAddressLength).first<kAddressLength>()); }
	Leap leap8() { return static_cast<Leap>(u8()); }
	Leap leap16() { return static_cast<Leap>(std::min<uint16_t>(u16(), 255)); }
	std::span<const std::byte> bytes(size_t n) { return take(n); }
	void skip(size_t n) { take(n); }
	void seek(size_t at)
	{
		assert(at <= data_.size());
		at_ = at;
	}
	size_t position() const { return at_; }

private:
	std::span<const std::byte> take(size_t n)
	{
		assert(at_ + n <= data_.size());
		auto s = data_.subspan(at_, n);
		at_ += n;
		return s;
	}

	std::span<const std::byte> data_;
	size_t at_ = 0;
};

/// Appends fields in order.
class Writer {
public:
	explicit Writer(std::vector<std::byte> &out) : out_(out) {}

	void u8(uint8_t v) { out_.push_back(static_cast<std::byte>(v)); }
	void i8(int8_t v) { u8(static_cast<uint8_t>(v)); }
	void u16(uint16_t v)
	{
		u8(static_cast<uint8_t>(v >> 8));
		u8(static_cast<uint8_t>(v));
	}
	void i16(int16_t v) { u16(static_cast<uint16_t>(v)); }
	void u32(uint32_t v)
	{
		u16(static_cast<uint16_t>(v >> 16));
		u16(static_cast<uint16_t>(v));
	}
	void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
	void real(double v) { u32(encode_float(v)); }
	void time(RealTime t)
	{
		std::array<std::byte, kTimespecLength> b{};
		encode_timespec(t, b);
		out_.insert(out_.end(), b.begin(), b.end());
	}
	void address(const Address &a)
	{
		std::array<std::byte, kAddressLength> b{};
		encode_address(a, b);
		out_.insert(out_.end(), b.begin(), b.end());
	}
	void leap(Leap l) { u8(static_cast<uint8_t>(l)); }
	void fill(size_t n, std::byte value = std::byte{0}) { out_.insert(out_.end(), n, value); }
	/// `text` then NULs up to `field` bytes (text is shorter, checked by the caller).
	void name(const std::string &text, size_t field)
	{
		for (char c : text) {
			u8(static_cast<uint8_t>(c));
		}
		fill(field - text.size());
	}

private:
	std::vector<std::byte> &out_;
};

/// A name field: the text before the first NUL, or nullopt when the field's
/// last byte is not NUL (chronyd and chronyc both refuse such a name).
std::optional<std::string> read_name(Reader &in)
{
	auto field = in.bytes(kNameFieldLength);
	if (field[kNameFieldLength - 1] != std::byte{0}) {
		return std::nullopt;
	}
	std::string text;
	for (std::byte b : field) {
		if (b == std::byte{0}) {
			break;
		}
		text.push_back(static_cast<char>(b));
	}
	return text;
}

constexpr const char *kBadName = "source name longer than 255 bytes or with a NUL";

bool name_fits(const std::string &name)
{
	return name.size() < kNameFieldLength && name.find('\0') == std::string::npos;
}

// --- Request arguments -----------------------------------------------------

void put_args(Writer &, const NoArgs &) {}
void put_args(Writer &w, const IndexArgs &a)
{
	w.u32(a.index);
}
void put_args(Writer &w, const MaskArgs &a)
{
	w.address(a.mask);
	w.address(a.address);
}
void put_args(Writer &w, const BurstArgs &a)
{
	w.address(a.mask);
	w.address(a.address);
	w.i32(a.n_good);
	w.i32(a.n_total);
}
void put_args(Writer &w, const AddressIntArgs &a)
{
	w.address(a.address);
	w.i32(a.value);
}
void put_args(Writer &w, const AddressFloatArgs &a)
{
	w.address(a.address);
	w.real(a.value);
}
void put_args(Writer &w, const FloatArgs &a)
{
	w.real(a.value);
}
void put_args(Writer &w, const IntArgs &a)
{
	w.i32(a.value);
}
void put_args(Writer &w, const MakestepArgs &a)
{
	w.i32(a.limit);
	w.real(a.threshold_s);
}
void put_args(Writer &w, const TimeArgs &a)
{
	w.time(a.time);
}
void put_args(Writer &w, const LocalArgs &a)
{
	w.i32(a.on ? 1 : 0);
	w.i32(a.stratum);
	w.real(a.distance_s);
	w.i32(a.orphan ? 1 : 0);
}
void put_args(Writer &w, const SubnetArgs &a)
{
	w.address(a.address);
	w.i32(a.prefix_bits);
}
void put_args(Writer &w, const AddressArgs &a)
{
	w.address(a.address);
}
void put_args(Writer &w, const ClientAccessesArgs &a)
{
	w.u32(a.first_index);
	w.u32(a.n_clients);
	w.u32(a.min_hits);
	w.u32(a.reset ? 1 : 0);
}
void put_args(Writer &w, const AddSourceArgs &a)
{
	w.u32(static_cast<uint32_t>(a.kind));
	w.name(a.name, kNameFieldLength);
	w.u32(a.port);
	w.i32(a.minpoll);
	w.i32(a.maxpoll);
	w.i32(a.presend_minpoll);
	w.u32(a.min_stratum);
	w.u32(a.poll_target);
	w.u32(a.version);
	w.u32(a.max_sources);
	w.i32(a.min_samples);
	w.i32(a.max_samples);
	w.u32(a.authkey);
	w.u32(a.nts_port);
	w.real(a.max_delay_s);
	w.real(a.max_delay_ratio);
	w.real(a.max_delay_dev_ratio);
	w.real(a.min_delay_s);
	w.real(a.asymmetry);
	w.real(a.offset_s);
	w.u32(a.flags);
	w.i32(a.filter_length);
	w.u32(a.cert_set);
	w.real(a.max_delay_quant_s);
	w.u32(0);  // reserved
}

/// The arguments of every kind but AddSource, which can be refused.
RequestArgs get_args(Reader &in, ArgsKind kind)
{
	switch (kind) {
	case ArgsKind::None:
		return NoArgs{};
	case ArgsKind::Index:
		return IndexArgs{.index = in.u32()};
	case ArgsKind::Mask: {
		MaskArgs a;
		a.mask = in.address();
		a.address = in.address();
		return a;
	}
	case ArgsKind::Burst: {
		BurstArgs a;
		a.mask = in.address();
		a.address = in.address();
		a.n_good = in.i32();
		a.n_total = in.i32();
		return a;
	}
	case ArgsKind::AddressInt: {
		AddressIntArgs a;
		a.address = in.address();
		a.value = in.i32();
		return a;
	}
	case ArgsKind::AddressFloat: {
		AddressFloatArgs a;
		a.address = in.address();
		a.value = in.real();
		return a;
	}
	case ArgsKind::Float:
		return FloatArgs{.value = in.real()};
	case ArgsKind::Int:
		return IntArgs{.value = in.i32()};
	case ArgsKind::Makestep: {
		MakestepArgs a;
		a.limit = in.i32();
		a.threshold_s = in.real();
		return a;
	}
	case ArgsKind::Time:
		return TimeArgs{.time = in.time()};
	case ArgsKind::Local: {
		// chronyd reads any non-zero word as "on".
		LocalArgs a;
		a.on = in.i32() != 0;
		a.stratum = in.i32();
		a.distance_s = in.real();
		a.orphan = in.i32() != 0;
		return a;
	}
	case ArgsKind::Subnet: {
		SubnetArgs a;
		a.address = in.address();
		a.prefix_bits = in.i32();
		return a;
	}
	case ArgsKind::Address:
		return AddressArgs{.address = in.address()};
	case ArgsKind::ClientAccesses: {
		ClientAccessesArgs a;
		a.first_index = in.u32();
		a.n_clients = in.u32();
		a.min_hits = in.u32();
		a.reset = in.u32() != 0;
		return a;
	}
	case ArgsKind::AddSource:
		break;
	}
	assert(false);
	return NoArgs{};
}

/// ADD_SOURCE, or the status chronyd answers it with: an unknown kind is
/// "invalid", a name without its terminating NUL "invalid name" (in that
/// order).
std::variant<AddSourceArgs, Status> get_add_source(Reader &in)
{
	AddSourceArgs a;
	uint32_t kind = in.u32();
	if (kind < static_cast<uint32_t>(SourceKind::Server) ||
	    kind > static_cast<uint32_t>(SourceKind::Pool)) {
		return Status::Invalid;
	}
	a.kind = static_cast<SourceKind>(kind);
	auto name = read_name(in);
	if (!name) {
		return Status::InvalidName;
	}
	a.name = std::move(*name);
	a.port = in.u32();
	a.minpoll = in.i32();
	a.maxpoll = in.i32();
	a.presend_minpoll = in.i32();
	a.min_stratum = in.u32();
	a.poll_target = in.u32();
	a.version = in.u32();
	a.max_sources = in.u32();
	a.min_samples = in.i32();
	a.max_samples = in.i32();
	a.authkey = in.u32();
	a.nts_port = in.u32();
	a.max_delay_s = in.real();
	a.max_delay_ratio = in.real();
	a.max_delay_dev_ratio = in.real();
	a.min_delay_s = in.real();
	a.asymmetry = in.real();
	a.offset_s = in.real();
	a.flags = in.u32();
	a.filter_length = in.i32();
	a.cert_set = in.u32();
	a.max_delay_quant_s = in.real();
	in.skip(4);  // reserved
	return a;
}

// --- Reply bodies ----------------------------------------------------------

void put_body(Writer &, const NullReport &) {}
void put_body(Writer &w, const NSourcesReport &r)
{
	w.u32(r.n_sources);
}
void put_body(Writer &w, const SourceDataReport &r)
{
	w.address(r.address);
	w.i16(r.poll);
	w.u16(r.stratum);
	w.u16(static_cast<uint16_t>(r.state));
	w.u16(static_cast<uint16_t>(r.mode));
	w.u16(r.flags);
	w.u16(r.reachability);
	w.u32(r.since_sample_s);
	w.real(r.orig_latest_meas_s);
	w.real(r.latest_meas_s);
	w.real(r.latest_meas_err_s);
}
void put_body(Writer &w, const TrackingReport &r)
{
	w.u32(r.ref_id);
	w.address(r.address);
	w.u16(r.stratum);
	w.u16(static_cast<uint16_t>(r.leap));
	w.time(r.ref_time);
	w.real(r.current_correction_s);
	w.real(r.last_offset_s);
	w.real(r.rms_offset_s);
	w.real(r.freq_ppm);
	w.real(r.resid_freq_ppm);
	w.real(r.skew_ppm);
	w.real(r.root_delay_s);
	w.real(r.root_dispersion_s);
	w.real(r.last_update_interval_s);
}
void put_body(Writer &w, const SourceStatsReport &r)
{
	w.u32(r.ref_id);
	w.address(r.address);
	w.u32(r.n_samples);
	w.u32(r.n_runs);
	w.u32(r.span_s);
	w.real(r.sd_s);
	w.real(r.resid_freq_ppm);
	w.real(r.skew_ppm);
	w.real(r.est_offset_s);
	w.real(r.est_offset_err_s);
}
void put_body(Writer &w, const RtcReport &r)
{
	w.time(r.ref_time);
	w.u16(r.n_samples);
	w.u16(r.n_runs);
	w.u32(r.span_s);
	w.real(r.rtc_seconds_fast);
	w.real(r.rtc_gain_rate_ppm);
}
void put_body(Writer &w, const ActivityReport &r)
{
	w.i32(r.online);
	w.i32(r.offline);
	w.i32(r.burst_online);
	w.i32(r.burst_offline);
	w.i32(r.unresolved);
}
constexpr uint32_t kSmoothingActive = 0x1;
constexpr uint32_t kSmoothingLeapOnly = 0x2;
void put_body(Writer &w, const SmoothingReport &r)
{
	w.u32((r.active ? kSmoothingActive : 0) | (r.leap_only ? kSmoothingLeapOnly : 0));
	w.real(r.offset_s);
	w.real(r.freq_ppm);
	w.real(r.wander_ppm);
	w.real(r.last_update_ago_s);
	w.real(r.remaining_time_s);
}
void put_body(Writer &w, const ServerStatsReport &r)
{
	w.u32(r.ntp_hits);
	w.u32(r.nke_hits);
	w.u32(r.cmd_hits);
	w.u32(r.ntp_drops);
	w.u32(r.nke_drops);
	w.u32(r.cmd_drops);
	w.u32(r.log_drops);
	w.u32(r.ntp_auth_hits);
	w.u32(r.ntp_interleaved_hits);
	w.u32(r.ntp_timestamps);
	w.u32(r.ntp_span_s);
}
void put_body(Writer &w, const ClientAccessesReport &r)
{
	w.u32(r.n_indices);
	w.u32(r.next_index);
	w.u32(static_cast<uint32_t>(r.clients.size()));
	for (const ClientAccess &c : r.clients) {
		w.address(c.address);
		w.u32(c.ntp_hits);
		w.u32(c.nke_hits);
		w.u32(c.cmd_hits);
		w.u32(c.ntp_drops);
		w.u32(c.nke_drops);
		w.u32(c.cmd_drops);
		w.i8(c.ntp_interval);
		w.i8(c.nke_interval);
		w.i8(c.cmd_interval);
		w.i8(c.ntp_timeout_interval);
		w.u32(c.last_ntp_hit_ago_s);
		w.u32(c.last_nke_hit_ago_s);
		w.u32(c.last_cmd_hit_ago_s);
	}
	// The unused records of the fixed array follow as zeros.
}
constexpr uint16_t kNtpTestsMask = 0x3ff;
constexpr uint16_t kNtpInterleaved = 0x4000;
constexpr uint16_t kNtpAuthenticated = 0x8000;
void put_body(Writer &w, const NtpDataReport &r)
{
	w.address(r.remote_address);
	w.address(r.local_address);
	w.u16(r.remote_port);
	w.leap(r.leap);
	w.u8(r.version);
	w.u8(r.mode);
	w.u8(r.stratum);
	w.i8(r.poll);
	w.i8(r.precision);
	w.real(r.root_delay_s);
	w.real(r.root_dispersion_s);
	w.u32(r.ref_id);
	w.time(r.ref_time);
	w.real(r.offset_s);
	w.real(r.peer_delay_s);
	w.real(r.peer_dispersion_s);
	w.real(r.response_time_s);
	w.real(r.jitter_asymmetry);
	w.u16(static_cast<uint16_t>((r.tests & kNtpTestsMask) |
				    (r.interleaved ? kNtpInterleaved : 0) |
				    (r.authenticated ? kNtpAuthenticated : 0)));
	w.u8(static_cast<uint8_t>(r.tx_timestamping));
	w.u8(static_cast<uint8_t>(r.rx_timestamping));
	w.u32(r.total_tx_count);
	w.u32(r.total_rx_count);
	w.u32(r.total_valid_count);
	w.u32(r.total_good_count);
	// Three reserved words, all ones as chronyd sends them.
	w.fill(3 * 4, std::byte{0xff});
}
void put_body(Writer &w, const ManualTimestampReport &r)
{
	w.real(r.offset_s);
	w.real(r.dfreq_ppm);
	w.real(r.new_afreq_ppm);
}
void put_body(Writer &w, const ManualListReport &r)
{
	w.u32(static_cast<uint32_t>(r.samples.size()));
	for (const ManualSample &s : r.samples) {
		w.time(s.when);
		w.real(s.slewed_offset_s);
		w.real(s.orig_offset_s);
		w.real(s.residual_s);
	}
}
void put_body(Writer &w, const SourceNameReport &r)
{
	w.name(r.name, kNameFieldLength);
}
void put_body(Writer &w, const AuthDataReport &r)
{
	w.u16(static_cast<uint16_t>(r.mode));
	w.u16(r.key_type);
	w.u32(r.key_id);
	w.u16(r.key_length);
	w.u16(r.ke_attempts);
	w.u32(r.last_ke_ago_s);
	w.u16(r.cookies);
	w.u16(r.cookie_length);
	w.u16(r.nak);
	w.u16(0);  // pad
}
void put_body(Writer &w, const SelectDataReport &r)
{
	w.u32(r.ref_id);
	w.address(r.address);
	w.u8(static_cast<uint8_t>(r.state));
	w.u8(r.authenticated ? 1 : 0);
	w.leap(r.leap);
	w.u8(0);  // pad
	w.u16(r.configured_options);
	w.u16(r.effective_options);
	w.u32(r.last_sample_ago_s);
	w.real(r.score);
	w.real(r.lo_limit_s);
	w.real(r.hi_limit_s);
}

/// The body a reply type names; nullopt for a malformed one (an unterminated
/// source name, which chronyc refuses too).
std::optional<ReplyBody> get_body(Reader &in, ReplyType type)
{
	switch (type) {
	case ReplyType::Null:
		return NullReport{};
	case ReplyType::NSources:
		return NSourcesReport{.n_sources = in.u32()};
	case ReplyType::SourceData: {
		SourceDataReport r;
		r.address = in.address();
		r.poll = in.i16();
		r.stratum = in.u16();
		r.state = static_cast<SourceState>(in.u16());
		r.mode = static_cast<SourceMode>(in.u16());
		r.flags = in.u16();
		r.reachability = in.u16();
		r.since_sample_s = in.u32();
		r.orig_latest_meas_s = in.real();
		r.latest_meas_s = in.real();
		r.latest_meas_err_s = in.real();
		return r;
	}
	case ReplyType::Tracking: {
		TrackingReport r;
		r.ref_id = in.u32();
		r.address = in.address();
		r.stratum = in.u16();
		r.leap = in.leap16();
		r.ref_time = in.time();
		r.current_correction_s = in.real();
		r.last_offset_s = in.real();
		r.rms_offset_s = in.real();
		r.freq_ppm = in.real();
		r.resid_freq_ppm = in.real();
		r.skew_ppm = in.real();
		r.root_delay_s = in.real();
		r.root_dispersion_s = in.real();
		r.last_update_interval_s = in.real();
		return r;
	}
	case ReplyType::SourceStats: {
		SourceStatsReport r;
		r.ref_id = in.u32();
		r.address = in.address();
		r.n_samples = in.u32();
		r.n_runs = in.u32();
		r.span_s = in.u32();
		r.sd_s = in.real();
		r.resid_freq_ppm = in.real();
		r.skew_ppm = in.real();
		r.est_offset_s = in.real();
		r.est_offset_err_s = in.real();
		return r;
	}
	case ReplyType::Rtc: {
		RtcReport r;
		r.ref_time = in.time();
		r.n_samples = in.u16();
		r.n_runs = in.u16();
		r.span_s = in.u32();
		r.rtc_seconds_fast = in.real();
		r.rtc_gain_rate_ppm = in.real();
		return r;
	}
	case ReplyType::Activity: {
		ActivityReport r;
		r.online = in.i32();
		r.offline = in.i32();
		r.burst_online = in.i32();
		r.burst_offline = in.i32();
		r.unresolved = in.i32();
		return r;
	}
	case ReplyType::Smoothing: {
		SmoothingReport r;
		uint32_t flags = in.u32();
		r.active = (flags & kSmoothingActive) != 0;
		r.leap_only = (flags & kSmoothingLeapOnly) != 0;
		r.offset_s = in.real();
		r.freq_ppm = in.real();
		r.wander_ppm = in.real();
		r.last_update_ago_s = in.real();
		r.remaining_time_s = in.real();
		return r;
	}
	case ReplyType::ServerStats3: {
		ServerStatsReport r;
		r.ntp_hits = in.u32();
		r.nke_hits = in.u32();
		r.cmd_hits = in.u32();
		r.ntp_drops = in.u32();
		r.nke_drops = in.u32();
		r.cmd_drops = in.u32();
		r.log_drops = in.u32();
		r.ntp_auth_hits = in.u32();
		r.ntp_interleaved_hits = in.u32();
		r.ntp_timestamps = in.u32();
		r.ntp_span_s = in.u32();
		return r;
	}
	case ReplyType::ClientAccessesByIndex3: {
		ClientAccessesReport r;
		r.n_indices = in.u32();
		r.next_index = in.u32();
		// As chronyc: no more records than the array holds, whatever the count says.
		uint32_t n = std::min<uint32_t>(in.u32(), kMaxClientsPerReply);
		for (uint32_t i = 0; i < n; i++) {
			ClientAccess c;
			c.address = in.address();
			c.ntp_hits = in.u32();
			c.nke_hits = in.u32();
			c.cmd_hits = in.u32();
			c.ntp_drops = in.u32();
			c.nke_drops = in.u32();
			c.cmd_drops = in.u32();
			c.ntp_interval = in.i8();
			c.nke_interval = in.i8();
			c.cmd_interval = in.i8();
			c.ntp_timeout_interval = in.i8();
			c.last_ntp_hit_ago_s = in.u32();
			c.last_nke_hit_ago_s = in.u32();
			c.last_cmd_hit_ago_s = in.u32();
			r.clients.push_back(c);
		}
		return r;
	}
	case ReplyType::NtpData: {
		NtpDataReport r;
		r.remote_address = in.address();
		r.local_address = in.address();
		r.remote_port = in.u16();
		r.leap = in.leap8();
		r.version = in.u8();
		r.mode = in.u8();
		r.stratum = in.u8();
		r.poll = in.i8();
		r.precision = in.i8();
		r.root_delay_s = in.real();
		r.root_dispersion_s = in.real();
		r.ref_id = in.u32();
		r.ref_time = in.time();
		r.offset_s = in.real();
		r.peer_delay_s = in.real();
		r.peer_dispersion_s = in.real();
		r.response_time_s = in.real();
		r.jitter_asymmetry = in.real();
		uint16_t flags = in.u16();
		r.tests = static_cast<uint16_t>(flags & kNtpTestsMask);
		r.interleaved = (flags & kNtpInterleaved) != 0;
		r.authenticated = (flags & kNtpAuthenticated) != 0;
		r.tx_timestamping = static_cast<char>(in.u8());
		r.rx_timestamping = static_cast<char>(in.u8());
		r.total_tx_count = in.u32();
		r.total_rx_count = in.u32();
		r.total_valid_count = in.u32();
		r.total_good_count = in.u32();
		return r;
	}
	case ReplyType::ManualTimestamp2: {
		ManualTimestampReport r;
		r.offset_s = in.real();
		r.dfreq_ppm = in.real();
		r.new_afreq_ppm = in.real();
		return r;
	}
	case ReplyType::ManualList2: {
		ManualListReport r;
		uint32_t n = std::min<uint32_t>(in.u32(), kMaxManualSamples);
		for (uint32_t i = 0; i < n; i++) {
			ManualSample s;
			s.when = in.time();
			s.slewed_offset_s = in.real();
			s.orig_offset_s = in.real();
			s.residual_s = in.real();
			r.samples.push_back(s);
		}
		return r;
	}
	case ReplyType::NtpSourceName: {
		auto name = read_name(in);
		if (!name) {
			return std::nullopt;
		}
		return SourceNameReport{.name = std::move(*name)};
	}
	case ReplyType::AuthData: {
		AuthDataReport r;
		r.mode = static_cast<AuthMode>(in.u16());
		r.key_type = in.u16();
		r.key_id = in.u32();
		r.key_length = in.u16();
		r.ke_attempts = in.u16();
		r.last_ke_ago_s = in.u32();
		r.cookies = in.u16();
		r.cookie_length = in.u16();
		r.nak = in.u16();
		return r;
	}
	case ReplyType::SelectData: {
		SelectDataReport r;
		r.ref_id = in.u32();
		r.address = in.address();
		r.state = static_cast<char>(in.u8());
		r.authenticated = in.u8() != 0;
		r.leap = in.leap8();
		in.skip(1);  // pad
		r.configured_options = in.u16();
		r.effective_options = in.u16();
		r.last_sample_ago_s = in.u32();
		r.score = in.real();
		r.lo_limit_s = in.real();
		r.hi_limit_s = in.real();
		return r;
	}
	default:
		break;
	}
	assert(false);  // parse_reply lets only the types above through
	return std::nullopt;
}

constexpr std::array<ReplyType, std::variant_size_v<ReplyBody>> kBodyTypes = {
	ReplyType::Null,
	ReplyType::NSources,
	ReplyType::SourceData,
	ReplyType::Tracking,
	ReplyType::SourceStats,
	ReplyType::Rtc,
	ReplyType::Activity,
	ReplyType::Smoothing,
	ReplyType::ServerStats3,
	ReplyType::ClientAccessesByIndex3,
	ReplyType::NtpData,
	ReplyType::ManualTimestamp2,
	ReplyType::ManualList2,
	ReplyType::NtpSourceName,
	ReplyType::AuthData,
	ReplyType::SelectData,
};
static_assert(std::is_same_v<std::variant_alternative_t<8, ReplyBody>, ServerStatsReport> &&
	      std::is_same_v<std::variant_alternative_t<15, ReplyBody>, SelectDataReport>);

} // namespace

// --- Names and policy --------------------------------------------------------

std::string_view status_text(Status status)
{
	switch (status) {
	case Status::Success:
		return "200 OK";
	case Status::AccessAllowed:
		return "208 Access allowed";
	case Status::AccessDenied:
		return "209 Access denied";
	case Status::Failed:
		return "500 Failure";
	case Status::Unauth:
		return "501 Not authorised";
	case Status::Invalid:
		return "502 Invalid command";
	case Status::NoSuchSource:
		return "503 No such source";
	case Status::InvalidTs:
		return "504 Duplicate or stale logon detected";
	case Status::NotEnabled:
		return "505 Facility not enabled in daemon";
	case Status::BadSubnet:
		return "507 Bad subnet";
	case Status::NoHostAccess:
		return "510 No command access from this host";
	case Status::SourceAlreadyKnown:
		return "511 Source already present";
	case Status::TooManySources:
		return "512 Too many sources present";
	case Status::NoRtc:
		return "513 RTC driver not running";
	case Status::BadRtcFile:
		return "514 Can't write RTC parameters";
	case Status::InvalidAf:
		return "515 Invalid address family";
	case Status::BadSample:
		return "516 Sample index out of range";
	case Status::BadPktVersion:
		return "517 Protocol version mismatch";
	case Status::BadPktLength:
		return "518 Packet length mismatch";
	case Status::Inactive:
		return "519 Client logging is not active in the daemon";
	case Status::InvalidName:
		return "521 Invalid name";
	}
	return "520 Got unexpected error from daemon";
}

std::string_view command_name(uint16_t command)
{
	const CommandSpec *spec = spec_of(command);
	return spec ? spec->name : "unknown";
}

size_t args_of(Command command)
{
	const CommandSpec *spec = spec_of(static_cast<uint16_t>(command));
	return spec ? static_cast<size_t>(spec->args) : 0;
}

size_t request_length(Command command)
{
	const CommandSpec *spec = spec_of(static_cast<uint16_t>(command));
	if (!spec || !spec->accepted) {
		return 0;
	}
	return unpadded_length(*spec) + padding_length(*spec);
}

ReplyType expected_reply(Command command)
{
	const CommandSpec *spec = spec_of(static_cast<uint16_t>(command));
	return spec ? spec->reply : ReplyType::Null;
}

bool is_read_only(const Request &request)
{
	const CommandSpec *spec = spec_of(static_cast<uint16_t>(request.command));
	if (!spec || !spec->read_only) {
		return false;
	}
	const auto *clients = std::get_if<ClientAccessesArgs>(&request.args);
	return !(clients && clients->reset);
}

bool is_permitted(Command command, Transport transport)
{
	if (transport == Transport::Unix) {
		return true;
	}
	const CommandSpec *spec = spec_of(static_cast<uint16_t>(command));
	return spec && spec->network;
}

ReplyType reply_type(const ReplyBody &body)
{
	return kBodyTypes[body.index()];
}

size_t reply_length(ReplyType type)
{
	return reply_length_of(type);
}

// --- Values on the wire --------------------------------------------------------

uint32_t encode_float(double value)
{
	// NaN travels as 0, as chronyd sends it; so do -0 and values too small
	// for the format.
	if (std::isnan(value) || value == 0) {
		return 0;
	}
	bool negative = value < 0;
	double magnitude = std::fabs(value);
	double coef_limit = negative ? kCoefMinMagnitude : kCoefMax;
	int exp = 0;
	double coef = 0;
	if (std::isinf(magnitude)) {
		exp = kExpMax;
		coef = coef_limit;
	} else {
		// magnitude = m · 2^k with m in [0.5, 1): with e = k + 1 the
		// coefficient magnitude · 2^(25 − e) lies in [2^23, 2^24), 24
		// significant bits. A negative power of two fits one exponent lower
		// as −2^24, the one coefficient only negatives have.
		int k = 0;
		double m = std::frexp(magnitude, &k);
		exp = (negative && m == 0.5) ? k : k + 1;
		// Below the smallest exponent the coefficient loses bits instead.
		exp = std::max(exp, kExpMin);
		coef = std::round(std::ldexp(magnitude, kCoefBits - exp));
		if (coef > coef_limit) {  // rounding carried into a 25th bit
			exp++;
			coef = std::round(std::ldexp(magnitude, kCoefBits - exp));
		}
		if (exp > kExpMax) {
			exp = kExpMax;
			coef = coef_limit;
		}
	}
	if (coef == 0) {
		return 0;
	}
	auto c = static_cast<int32_t>(negative ? -coef : coef);
	return (static_cast<uint32_t>(exp) << kCoefBits) |
	       (static_cast<uint32_t>(c) & ((uint32_t{1} << kCoefBits) - 1));
}

double decode_float(uint32_t bits)
{
	// Sign-extend both fields from their widths (7 and 25 bits).
	int32_t exp = static_cast<int32_t>(bits >> kCoefBits);
	if (exp > kExpMax) {
		exp -= 1 << (32 - kCoefBits);
	}
	int32_t coef = static_cast<int32_t>(bits & ((uint32_t{1} << kCoefBits) - 1));
	if (coef >= (1 << (kCoefBits - 1))) {
		coef -= 1 << kCoefBits;
	}
	return std::ldexp(static_cast<double>(coef), exp - kCoefBits);
}

void encode_timespec(RealTime t, std::span<std::byte, 12> out)
{
	auto sec = static_cast<uint64_t>(t.seconds());
	put32(out, 0, static_cast<uint32_t>(sec >> 32));
	put32(out, 4, static_cast<uint32_t>(sec));
	put32(out, 8, static_cast<uint32_t>(t.subsec_ns()));
}

RealTime decode_timespec(std::span<const std::byte, 12> in)
{
	// A sender with a 32-bit time_t marks the high word as absent.
	constexpr uint32_t kNoHighSeconds = 0x7fffffff;
	// The whole seconds RealTime (int64 ns) holds, with room for the nanoseconds.
	constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / 1'000'000'000 - 1;
	constexpr int64_t kMinSeconds = std::numeric_limits<int64_t>::min() / 1'000'000'000;
	uint32_t high = get32(in, 0);
	if (high == kNoHighSeconds) {
		high = 0;
	}
	auto sec = static_cast<int64_t>((uint64_t{high} << 32) | get32(in, 4));
	sec = std::clamp(sec, kMinSeconds, kMaxSeconds);
	uint32_t nsec = std::min<uint32_t>(get32(in, 8), 999'999'999);
	return RealTime::from_parts(sec, nsec);
}

void encode_address(const Address &address, std::span<std::byte, 20> out)
{
	std::fill(out.begin(), out.end(), std::byte{0});
	uint16_t family = kFamilyUnspec;
	if (const auto *ip = std::get_if<IpAddress>(&address)) {
		size_t n = ip->is_v4() ? 4 : 16;
		for (size_t i = 0; i < n; i++) {
			out[i] = static_cast<std::byte>(ip->bytes()[i]);
		}
		family = ip->is_v4() ? kFamilyInet4 : kFamilyInet6;
	} else if (const auto *id = std::get_if<AddressId>(&address)) {
		put32(out, 0, id->id);
		family = kFamilyId;
	}
	put16(out, 16, family);
}

Address decode_address(std::span<const std::byte, 20> in)
{
	switch (get16(in, 16)) {
	case kFamilyInet4:
		return IpAddress::v4(get32(in, 0));
	case kFamilyInet6: {
		std::array<uint8_t, 16> bytes{};
		for (size_t i = 0; i < bytes.size(); i++) {
			bytes[i] = std::to_integer<uint8_t>(in[i]);
		}
		return IpAddress::v6(bytes);
	}
	case kFamilyId:
		return AddressId{get32(in, 0)};
	default:
		return NoAddress{};
	}
}

// --- Requests --------------------------------------------------------------

std::variant<Request, Rejection> parse_request(std::span<const std::byte> datagram)
{
	Rejection reject;
	if (datagram.size() < kMinRequestLength || datagram.size() > kMaxRequestLength) {
		reject.reason = "request length out of range";
		return reject;
	}
	Reader in(datagram);
	uint8_t version = in.u8();
	uint8_t type = in.u8();
	uint8_t res1 = in.u8();
	uint8_t res2 = in.u8();
	reject.command = in.u16();
	uint16_t attempt = in.u16();
	reject.sequence = in.u32();
	if (type != kPacketTypeRequest || res1 != 0 || res2 != 0) {
		reject.reason = "not a command request";
		return reject;
	}
	if (version != kProtocolVersion) {
		if (version >= kOldestVersionAnswered) {
			reject.status = Status::BadPktVersion;
		}
		reject.reason = "unsupported protocol version";
		return reject;
	}
	const CommandSpec *spec = spec_of(reject.command);
	if (!spec || !spec->accepted) {
		reject.status = Status::Invalid;
		reject.reason = "unknown command";
		return reject;
	}
	if (datagram.size() < unpadded_length(*spec) + padding_length(*spec)) {
		reject.status = Status::BadPktLength;
		reject.reason = "request shorter than its command and padding";
		return reject;
	}

	Request request{.command = static_cast<Command>(reject.command),
			.attempt = attempt,
			.sequence = reject.sequence};
	in.seek(kRequestHeaderLength);
	if (spec->args == ArgsKind::AddSource) {
		auto args = get_add_source(in);
		if (const Status *status = std::get_if<Status>(&args)) {
			reject.status = *status;
			reject.reason = *status == Status::Invalid ? "unknown source kind"
								   : "source name not terminated";
			return reject;
		}
		request.args = std::move(std::get<AddSourceArgs>(args));
	} else {
		request.args = get_args(in, spec->args);
	}
	assert(in.position() <= unpadded_length(*spec));
	return request;
}

Result<std::vector<std::byte>> encode_request(const Request &request)
{
	auto code = static_cast<uint16_t>(request.command);
	const CommandSpec *spec = spec_of(code);
	if (!spec || !spec->accepted) {
		return fail(Errc::InvalidArgument, "cmdmon command " + std::to_string(code) +
							   " is not served by chronyd 4.3");
	}
	if (request.args.index() != static_cast<size_t>(spec->args)) {
		return fail(Errc::InvalidArgument,
			    "arguments of another kind than " + std::string(spec->name) + " takes");
	}
	const auto *add = std::get_if<AddSourceArgs>(&request.args);
	if (add && !name_fits(add->name)) {
		return fail(Errc::InvalidArgument, kBadName);
	}
	size_t length = unpadded_length(*spec) + padding_length(*spec);
	std::vector<std::byte> out;
	out.reserve(length);
	Writer w(out);
	w.u8(kProtocolVersion);
	w.u8(kPacketTypeRequest);
	w.u8(0);
	w.u8(0);
	w.u16(code);
	w.u16(request.attempt);
	w.u32(request.sequence);
	w.fill(8);  // pad1, pad2
	std::visit([&w](const auto &args) { put_args(w, args); }, request.args);
	assert(out.size() <= unpadded_length(*spec));
	// DUMP's unused word and the padding: zeros, so that nothing stale is sent.
	out.resize(length, std::byte{0});
	return out;
}

// --- Replies ---------------------------------------------------------------

Reply reply_to(const Request &request, ReplyBody body, Status status)
{
	return Reply{.command = static_cast<uint16_t>(request.command),
		     .status = status,
		     .sequence = request.sequence,
		     .body = std::move(body)};
}

Reply reply_to(const Rejection &rejection)
{
	assert(rejection.status);
	return Reply{.command = rejection.command,
		     .status = rejection.status.value_or(Status::Failed),
		     .sequence = rejection.sequence};
}

Result<std::vector<std::byte>> encode_reply(const Reply &reply)
{
	if (const auto *clients = std::get_if<ClientAccessesReport>(&reply.body);
	    clients && clients->clients.size() > kMaxClientsPerReply) {
		return fail(Errc::InvalidArgument, "more than 8 clients in one reply");
	}
	if (const auto *list = std::get_if<ManualListReport>(&reply.body);
	    list && list->samples.size() > kMaxManualSamples) {
		return fail(Errc::InvalidArgument, "more than 16 manual samples in one reply");
	}
	const auto *name = std::get_if<SourceNameReport>(&reply.body);
	if (name && !name_fits(name->name)) {
		return fail(Errc::InvalidArgument, kBadName);
	}
	ReplyType type = reply_type(reply.body);
	size_t length = reply_length(type);
	std::vector<std::byte> out;
	out.reserve(length);
	Writer w(out);
	w.u8(reply.version);
	w.u8(kPacketTypeReply);
	w.u8(0);
	w.u8(0);
	w.u16(reply.command);
	w.u16(static_cast<uint16_t>(type));
	w.u16(static_cast<uint16_t>(reply.status));
	w.fill(6);  // pad1 … pad3
	w.u32(reply.sequence);
	w.fill(8);  // pad4, pad5
	std::visit([&w](const auto &body) { put_body(w, body); }, reply.body);
	assert(out.size() <= length);
	out.resize(length, std::byte{0});
	return out;
}

Result<Reply> parse_reply(std::span<const std::byte> datagram)
{
	if (datagram.size() < kReplyHeaderLength) {
		return fail(Errc::Malformed, "cmdmon reply shorter than its header (" +
						     std::to_string(datagram.size()) + " bytes)");
	}
	Reader in(datagram);
	Reply reply;
	reply.version = in.u8();
	uint8_t type = in.u8();
	uint8_t res1 = in.u8();
	uint8_t res2 = in.u8();
	reply.command = in.u16();
	uint16_t code = in.u16();
	reply.status = static_cast<Status>(in.u16());
	in.skip(6);
	reply.sequence = in.u32();
	in.skip(8);
	if (type != kPacketTypeReply || res1 != 0 || res2 != 0) {
		return fail(Errc::Malformed, "not a cmdmon reply");
	}
	// A server of another version can still say so: chronyc accepts that
	// status from any version it could have talked to (4 and later).
	constexpr uint8_t kOldestVersionUnderstood = 4;
	if (reply.version != kProtocolVersion &&
	    !(reply.version >= kOldestVersionUnderstood && reply.status == Status::BadPktVersion)) {
		return fail(Errc::Malformed,
			    "cmdmon protocol version " + std::to_string(reply.version));
	}
	auto rtype = static_cast<ReplyType>(code);
	size_t length = reply_length(rtype);
	if (length == 0) {
		return fail(Errc::Malformed, "unknown cmdmon reply type " + std::to_string(code));
	}
	if (datagram.size() < length) {
		return fail(Errc::Malformed, "cmdmon reply type " + std::to_string(code) +
						     " truncated to " +
						     std::to_string(datagram.size()) + " bytes");
	}
	auto body = get_body(in, rtype);
	if (!body) {
		return fail(Errc::Malformed, "source name without its terminating NUL");
	}
	reply.body = std::move(*body);
	return reply;
}

bool answers(const Reply &reply, const Request &request)
{
	return reply.command == static_cast<uint16_t>(request.command) &&
	       reply.sequence == request.sequence;
}

} // namespace strata::control
