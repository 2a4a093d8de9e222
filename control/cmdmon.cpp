#include "control/cmdmon.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cmath>
#include <limits>
#include <type_traits>

namespace strata::control {

namespace {

constexpr uint8_t kPacketTypeRequest = 1;
constexpr uint8_t kPacketTypeReply = 2;

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

/// The reply type of each ReplyBody alternative, in the variant's order.
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

/// The wire size of the variant's alternative `index` (its description's).
template <class Variant, size_t I = 0>
constexpr size_t alternative_size(size_t index)
{
	if constexpr (I < std::variant_size_v<Variant>) {
		if (index == I) {
			return wire_size<std::variant_alternative_t<I, Variant>>();
		}
		return alternative_size<Variant, I + 1>(index);
	} else {
		return 0;
	}
}

// The layouts chrony's candm.h fixes, checked against the descriptions.
static_assert(wire_size<ClientAccess>() == 60);
static_assert(wire_size<NtpDataReport>() == 124);
static_assert(wire_size<AddSourceArgs>() == 352);

constexpr size_t args_length(ArgsKind kind)
{
	return alternative_size<RequestArgs>(static_cast<size_t>(kind));
}

/// The ReplyBody alternative of a reply type; nullopt for types chronyd
/// 4.3 no longer sends.
constexpr std::optional<size_t> body_index(ReplyType type)
{
	for (size_t i = 0; i < kBodyTypes.size(); i++) {
		if (kBodyTypes[i] == type) {
			return i;
		}
	}
	return std::nullopt;
}

constexpr size_t reply_length_of(ReplyType type)
{
	auto index = body_index(type);
	return index ? kReplyHeaderLength + alternative_size<ReplyBody>(*index) : 0;
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
	size_t buffer =
		kRequestHeaderLength + wire_size<AddSourceArgs>() + kEndOfRecord + max_padding;
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

	/// A big-endian integer of I's width.
	template <class I>
	I integer()
	{
		uint64_t v = 0;
		for (std::byte b : take(sizeof(I))) {
			v = (v << 8) | std::to_integer<uint64_t>(b);
		}
		return static_cast<I>(static_cast<std::make_unsigned_t<I>>(v));
	}
	uint8_t u8() { return integer<uint8_t>(); }
	uint16_t u16() { return integer<uint16_t>(); }
	uint32_t u32() { return integer<uint32_t>(); }
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

	/// A big-endian integer of I's width.
	template <class I>
	void integer(I v)
	{
		auto u = static_cast<std::make_unsigned_t<I>>(v);
		for (size_t i = sizeof(I); i-- > 0;) {
			out_.push_back(static_cast<std::byte>(u >> (8 * i)));
		}
	}
	void u8(uint8_t v) { integer(v); }
	void u16(uint16_t v) { integer(v); }
	void u32(uint32_t v) { integer(v); }
	void bytes(std::span<const std::byte> b) { out_.insert(out_.end(), b.begin(), b.end()); }
	void fill(size_t n, std::byte value = std::byte{0}) { out_.insert(out_.end(), n, value); }

private:
	std::vector<std::byte> &out_;
};

// --- Fields, by their descriptions (control/fields.h) -----------------------

/// Why a field could not be written or read.
struct Fault {
	enum class Kind {
		OutOfRange,  ///< read: outside the values its wire tag admits
		BadName,     ///< a name of 256 bytes or more, with a NUL, or (read) unterminated
		TooMany,     ///< more records than the wire's array holds
	};
	Kind kind;
	std::string_view key;  ///< the field's (a literal of its description)
};

std::string fault_text(const Fault &f)
{
	std::string field = "\"" + std::string(f.key) + "\"";
	switch (f.kind) {
	case Fault::Kind::OutOfRange:
		return field + " out of range";
	case Fault::Kind::BadName:
		return field + " longer than 255 bytes, with a NUL or without its terminating NUL";
	case Fault::Kind::TooMany:
		return field + " with more records than the reply holds";
	}
	return field;
}

/// A member as the integer I the wire carries (see wire::Integer).
template <class I, class M>
I to_wire(const M &v)
{
	if constexpr (std::is_same_v<M, bool>) {
		return v ? I{1} : I{0};
	} else if constexpr (std::is_enum_v<M>) {
		using U = std::underlying_type_t<M>;
		static_assert(std::is_unsigned_v<U> && sizeof(U) <= sizeof(I));
		return static_cast<I>(static_cast<U>(v));
	} else if constexpr (std::is_same_v<M, char>) {
		static_assert(sizeof(I) == 1);
		return static_cast<I>(v);
	} else {
		static_assert(std::is_same_v<M, I>, "an integer member has its wire type");
		return v;
	}
}

/// The inverse of to_wire: any non-zero value is true, an enum saturates
/// at the largest value its type holds.
template <class M, class I>
M from_wire(I v)
{
	if constexpr (std::is_same_v<M, bool>) {
		return v != 0;
	} else if constexpr (std::is_enum_v<M>) {
		using U = std::underlying_type_t<M>;
		static_assert(std::is_unsigned_v<I>);
		constexpr I kLargest = std::numeric_limits<U>::max();
		return static_cast<M>(static_cast<U>(std::min(v, kLargest)));
	} else if constexpr (std::is_same_v<M, char>) {
		return static_cast<char>(v);
	} else {
		return v;
	}
}

/// A name field's text, or nullopt when the field's last byte is not NUL
/// (chronyd and chronyc both refuse such a name).
std::optional<std::string> read_name(Reader &in)
{
	auto field = in.bytes(wire::Name::kSize);
	if (field.back() != std::byte{0}) {
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

bool name_fits(const std::string &name)
{
	return name.size() < wire::Name::kSize && name.find('\0') == std::string::npos;
}

template <Described T>
std::optional<Fault> put_fields(Writer &out, const T &r);
template <Described T>
std::optional<Fault> get_fields(Reader &in, T &r);

// Each wire tag's writing and reading; a fault's kind, or nothing.
template <class I, class M>
std::optional<Fault::Kind> put(Writer &out, wire::Integer<I>, const M &v)
{
	out.integer(to_wire<I>(v));
	return std::nullopt;
}
template <class I, class M>
std::optional<Fault::Kind> get(Reader &in, wire::Integer<I> tag, M &v)
{
	I x = in.integer<I>();
	if (x < tag.lo || x > tag.hi) {
		return Fault::Kind::OutOfRange;
	}
	v = from_wire<M>(x);
	return std::nullopt;
}

std::optional<Fault::Kind> put(Writer &out, wire::Float, double v)
{
	out.u32(encode_float(v));
	return std::nullopt;
}
std::optional<Fault::Kind> get(Reader &in, wire::Float, double &v)
{
	v = decode_float(in.u32());
	return std::nullopt;
}

std::optional<Fault::Kind> put(Writer &out, wire::Timespec, RealTime t)
{
	std::array<std::byte, wire::Timespec::kSize> b{};
	encode_timespec(t, b);
	out.bytes(b);
	return std::nullopt;
}
std::optional<Fault::Kind> get(Reader &in, wire::Timespec, RealTime &t)
{
	t = decode_timespec(in.bytes(wire::Timespec::kSize).first<wire::Timespec::kSize>());
	return std::nullopt;
}

std::optional<Fault::Kind> put(Writer &out, wire::Addr, const Address &a)
{
	std::array<std::byte, wire::Addr::kSize> b{};
	encode_address(a, b);
	out.bytes(b);
	return std::nullopt;
}
std::optional<Fault::Kind> get(Reader &in, wire::Addr, Address &a)
{
	a = decode_address(in.bytes(wire::Addr::kSize).first<wire::Addr::kSize>());
	return std::nullopt;
}

std::optional<Fault::Kind> put(Writer &out, wire::Name, const std::string &name)
{
	if (!name_fits(name)) {
		return Fault::Kind::BadName;
	}
	out.bytes(std::as_bytes(std::span(name)));
	out.fill(wire::Name::kSize - name.size());
	return std::nullopt;
}
std::optional<Fault::Kind> get(Reader &in, wire::Name, std::string &name)
{
	auto text = read_name(in);
	if (!text) {
		return Fault::Kind::BadName;
	}
	name = std::move(*text);
	return std::nullopt;
}

template <size_t N, class E>
std::optional<Fault::Kind> put(Writer &out, wire::Records<N>, const std::vector<E> &records)
{
	if (records.size() > N) {
		return Fault::Kind::TooMany;
	}
	out.u32(static_cast<uint32_t>(records.size()));
	for (const E &e : records) {
		if (auto fault = put_fields(out, e)) {
			return fault->kind;
		}
	}
	// The unused records of the fixed array follow as zeros.
	out.fill((N - records.size()) * wire_size<E>());
	return std::nullopt;
}
template <size_t N, class E>
std::optional<Fault::Kind> get(Reader &in, wire::Records<N>, std::vector<E> &records)
{
	// As chronyc: no more records than the array holds, whatever the count says.
	uint32_t n = std::min<uint32_t>(in.u32(), N);
	records.clear();
	for (uint32_t i = 0; i < n; i++) {
		if (auto fault = get_fields(in, records.emplace_back())) {
			return fault->kind;
		}
	}
	in.skip((N - n) * wire_size<E>());
	return std::nullopt;
}

/// The bits of a word() field (wire::Mask).
template <class M>
uint32_t to_bits(const M &v, wire::Mask mask)
{
	if constexpr (std::is_same_v<M, bool>) {
		return v ? mask.bits : 0;
	} else {
		static_assert(std::is_unsigned_v<M>);
		return (uint32_t{v} << std::countr_zero(mask.bits)) & mask.bits;
	}
}
template <class M>
M from_bits(uint32_t word, wire::Mask mask)
{
	if constexpr (std::is_same_v<M, bool>) {
		return (word & mask.bits) != 0;
	} else {
		return static_cast<M>((word & mask.bits) >> std::countr_zero(mask.bits));
	}
}

/// Writes a struct's fields in its description's order; stops at the first fault.
template <class T>
class Encoder {
public:
	Encoder(Writer &out, const T &r) : out_(out), r_(r) {}

	template <class M, class W, class... X>
	void operator()(M T::*m, W tag, std::string_view key, const X &...)
	{
		if (fault_) {
			return;
		}
		if (auto kind = put(out_, tag, r_.*m)) {
			fault_ = Fault{*kind, key};
		}
	}
	template <class I, class F>
	void word(wire::Integer<I>, F &&fn)
	{
		Bits bits{r_};
		fn(bits);
		out_.integer(static_cast<I>(bits.word));
	}
	void fill(size_t n, uint8_t byte = 0) { out_.fill(n, std::byte{byte}); }

	std::optional<Fault> fault() const { return fault_; }

private:
	struct Bits {
		const T &r;
		uint32_t word = 0;
		template <class M, class... X>
		void operator()(M T::*m, wire::Mask mask, std::string_view, const X &...)
		{
			word |= to_bits(r.*m, mask);
		}
	};

	Writer &out_;
	const T &r_;
	std::optional<Fault> fault_;
};

/// Reads a struct's fields in its description's order; stops at the first fault.
template <class T>
class Decoder {
public:
	Decoder(Reader &in, T &r) : in_(in), r_(r) {}

	template <class M, class W, class... X>
	void operator()(M T::*m, W tag, std::string_view key, const X &...)
	{
		if (fault_) {
			return;
		}
		if (auto kind = get(in_, tag, r_.*m)) {
			fault_ = Fault{*kind, key};
		}
	}
	template <class I, class F>
	void word(wire::Integer<I>, F &&fn)
	{
		if (fault_) {
			return;
		}
		Bits bits{r_, in_.integer<I>()};
		fn(bits);
	}
	void fill(size_t n, uint8_t = 0)
	{
		if (!fault_) {
			in_.skip(n);
		}
	}

	std::optional<Fault> fault() const { return fault_; }

private:
	struct Bits {
		T &r;
		uint32_t word = 0;
		template <class M, class... X>
		void operator()(M T::*m, wire::Mask mask, std::string_view, const X &...)
		{
			r.*m = from_bits<M>(word, mask);
		}
	};

	Reader &in_;
	T &r_;
	std::optional<Fault> fault_;
};

template <Described T>
std::optional<Fault> put_fields(Writer &out, const T &r)
{
	Encoder<T> e(out, r);
	fields(e, Of<T>{});
	return e.fault();
}

template <Described T>
std::optional<Fault> get_fields(Reader &in, T &r)
{
	Decoder<T> d(in, r);
	fields(d, Of<T>{});
	return d.fault();
}

/// Reads the alternative `index` of a variant of described structs into `out`.
template <class Variant, size_t I = 0>
std::optional<Fault> get_alternative(Reader &in, size_t index, Variant &out)
{
	if constexpr (I < std::variant_size_v<Variant>) {
		if (index == I) {
			return get_fields(in, out.template emplace<I>());
		}
		return get_alternative<Variant, I + 1>(in, index, out);
	} else {
		assert(false);  // the callers pass an index of the variant
		return std::nullopt;
	}
}

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
	// The arguments' own checks, in chronyd's order (ADD_SOURCE: an unknown
	// kind is "invalid", then a name without its NUL "invalid name").
	if (auto fault = get_alternative(in, static_cast<size_t>(spec->args), request.args)) {
		bool name = fault->kind == Fault::Kind::BadName;
		reject.status = name ? Status::InvalidName : Status::Invalid;
		reject.reason = name ? "a name without its terminating NUL"
				     : "an argument out of its range";
		return reject;
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
	auto fault =
		std::visit([&w](const auto &args) { return put_fields(w, args); }, request.args);
	if (fault) {
		return fail(Errc::InvalidArgument,
			    std::string(spec->name) + ": " + fault_text(*fault));
	}
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
	auto fault = std::visit([&w](const auto &body) { return put_fields(w, body); }, reply.body);
	if (fault) {
		return fail(Errc::InvalidArgument, "cmdmon reply " + fault_text(*fault));
	}
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
	if (auto fault = get_alternative(in, *body_index(rtype), reply.body)) {
		return fail(Errc::Malformed, "cmdmon reply " + fault_text(*fault));
	}
	return reply;
}

bool answers(const Reply &reply, const Request &request)
{
	return reply.command == static_cast<uint16_t>(request.command) &&
	       reply.sequence == request.sequence;
}

} // namespace strata::control
