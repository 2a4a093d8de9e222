// The vocabulary in which control/cmdmon.h describes, once, each request's
// arguments and each reply's report: field by field in wire order, the
// member, how it travels on the wire, its JSON key and form, and, for the
// reports chronyc prints one line per field, its text line. The binary codec
// (cmdmon.cpp), the JSON forms (fields_json.h) and chronyc's key-value
// blocks (report_format.cpp) are generic over these descriptions, so a field
// is added in one place. Pure, no dependencies beyond the standard library.
//
// A description is a function template next to its struct, found by
// argument-dependent lookup through the tag Of<T>:
//
//   template <class V>
//   constexpr void fields(V &v, Of<RtcReport>)
//   {
//   	using R = RtcReport;
//   	v(&R::ref_time, wire::timespec, "reference_time",
//   	  show::line(0, "RTC ref time (UTC) : ", show::date));
//   	v(&R::n_samples, wire::u16, "samples", show::line(1, "Number of samples  : "));
//   	…
//   }
//
// What a visitor V is given:
// - v(member, wire, key, extras…) for each field, in wire order. `wire` is a
//   tag of the wire namespace below; `key` is the field's JSON key ("" when
//   the JSON form leaves the field out; "a/b" puts b in an object a); the
//   extras are at most one JSON form (as::…; without one, the member type's
//   own: a number, null for a real that is not finite, an RFC 3339 time, an
//   address's text) and at most one text line (show::line).
// - v.word(wire, fn): fields packed into one integer; fn(bits) calls
//   bits(member, wire::mask(m), key, extras…) for each of them.
// - v.fill(n, byte): n reserved bytes, sent as `byte`, skipped when read.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

namespace strata::control {

/// Names the struct a description is for: fields(v, Of<T>{}).
template <class T>
struct Of {};

// --- How a field travels ------------------------------------------------------

namespace wire {

/// A big-endian integer of I's width. The member may be I itself, a bool
/// (sent as 0 or 1, any non-zero value reads as true), a char (with 8 bits)
/// or an enum with an unsigned underlying type no wider than I (a larger
/// value reads as the largest the enum holds). within(lo, hi): a value read
/// outside [lo, hi] is a fault (parse_request() answers "invalid").
template <class I>
struct Integer {
	static constexpr size_t kSize = sizeof(I);
	I lo = std::numeric_limits<I>::min();
	I hi = std::numeric_limits<I>::max();
	constexpr Integer within(I low, I high) const { return {low, high}; }
};
inline constexpr Integer<uint8_t> u8{};
inline constexpr Integer<int8_t> i8{};
inline constexpr Integer<uint16_t> u16{};
inline constexpr Integer<int16_t> i16{};
inline constexpr Integer<uint32_t> u32{};
inline constexpr Integer<int32_t> i32{};

/// chrony's 32-bit real number (encode_float() in cmdmon.h) for a double.
struct Float {
	static constexpr size_t kSize = 4;
};
inline constexpr Float real{};

/// An absolute time (RealTime): seconds high and low words, nanoseconds.
struct Timespec {
	static constexpr size_t kSize = 12;
};
inline constexpr Timespec timespec{};

/// An Address: 16 bytes and a 16-bit family.
struct Addr {
	static constexpr size_t kSize = 20;
};
inline constexpr Addr address{};

/// A std::string in 256 bytes, NUL-terminated: at most 255 bytes and no
/// NUL can be sent; a field whose last byte is not NUL is a fault.
struct Name {
	static constexpr size_t kSize = 256;
};
inline constexpr Name name{};

/// A std::vector of described records: a 32-bit count, then always N
/// records, the unused ones zero. More than N cannot be sent; a larger
/// count reads as N.
template <size_t N>
struct Records {
	static constexpr size_t kCapacity = N;
};
template <size_t N>
inline constexpr Records<N> records{};

/// A field's bits inside a word(): an integer member is shifted to the
/// mask's lowest bit and masked, a bool sets the whole mask.
struct Mask {
	uint32_t bits = 0;
};
constexpr Mask mask(uint32_t bits)
{
	return {bits};
}

} // namespace wire

// --- How a field reads in JSON (control/fields_json.h writes and reads them) ---

namespace as {

/// The member type's own form (see the file comment).
struct Default {};

/// Seconds since something happened; all ones ("never") is null.
struct Age {};
inline constexpr Age age{};

/// A reference id as chronyc prints it: 8 upper-case hex digits.
struct HexId {};
inline constexpr HexId hex_id{};

/// A char as a one-letter string.
struct Letter {};
inline constexpr Letter letter{};

/// A client log interval (log2 s); 127, none yet, is null.
struct Log2Interval {};
inline constexpr Log2Interval log2_interval{};

/// The low N bits as '0'/'1' text, the most significant first.
template <size_t N>
struct Bits {};
template <size_t N>
inline constexpr Bits<N> bits{};

/// A value as one of a set of words; values outside the table as `other`
/// (which reads back as nothing: a fault).
template <class T, size_t N>
struct Names {
	std::array<std::pair<T, std::string_view>, N> table;
	std::string_view other;

	constexpr std::string_view name(T value) const
	{
		for (const auto &[v, word] : table) {
			if (v == value) {
				return word;
			}
		}
		return other;
	}
	constexpr std::optional<T> value(std::string_view word) const
	{
		for (const auto &[v, w] : table) {
			if (w == word) {
				return v;
			}
		}
		return std::nullopt;
	}
};

/// Bits as the list of the words of those set, in table order; bits not in
/// the table are left out.
template <class T, size_t N>
struct FlagNames {
	std::array<std::pair<T, std::string_view>, N> table;
};

} // namespace as

// --- How a field reads in chronyc's key-value reports -------------------------

namespace show {

/// fmt's "{}" in both styles.
struct Plain {};
inline constexpr Plain plain{};
/// A signed count as chronyc prints it through an unsigned long: −1 is 4294967295.
struct Unsigned {};
inline constexpr Unsigned as_unsigned{};
/// Human "Wed Nov 25 10:40:46 2026" (UTC), CSV seconds.nanoseconds.
struct Date {};
inline constexpr Date date{};
/// Human four columns in the largest fitting unit ("  3m"), CSV seconds.
struct Interval {};
inline constexpr Interval interval{};
/// "Yes" or "No".
struct YesNo {};
inline constexpr YesNo yes_no{};
/// `text` when set, nothing otherwise.
struct IfSet {
	std::string_view text;
};
/// A real with `decimals` decimals; human in at least `width` columns,
/// with a '+' on positive values when `sign`. CSV: the decimals only.
struct Fixed {
	int decimals = 0;
	int width = 0;
	bool sign = false;
};
constexpr Fixed fixed(int decimals, int width = 0)
{
	return {decimals, width, false};
}
constexpr Fixed signed_fixed(int decimals)
{
	return {decimals, 0, true};
}

/// A field's line: `before`, the value rendered, `after`. `order` is the
/// line's place in chronyc's report, which need not be the wire's; the CSV
/// style keeps the values alone, comma-separated, in that order.
template <class R>
struct Line {
	int order = 0;
	std::string_view before;
	R render;
	std::string_view after;
};
template <class R = Plain>
constexpr Line<R> line(int order, std::string_view before, R render = {},
		       std::string_view after = "\n")
{
	return {order, before, render, after};
}

} // namespace show

// --- Helpers for visitors -----------------------------------------------------

template <class X>
inline constexpr bool kIsLine = false;
template <class R>
inline constexpr bool kIsLine<show::Line<R>> = true;

/// The JSON form among a field's extras: the first that is not a text line.
constexpr as::Default json_form()
{
	return {};
}
template <class X, class... Rest>
constexpr auto json_form(const X &x, const Rest &...rest)
{
	if constexpr (kIsLine<X>) {
		return json_form(rest...);
	} else {
		return x;
	}
}

/// Whether a field's extras hold a text line, and that line.
template <class... X>
inline constexpr bool kHasLine = (kIsLine<X> || ...);
template <class X, class... Rest>
constexpr auto text_line(const X &x, const Rest &...rest)
{
	if constexpr (kIsLine<X>) {
		return x;
	} else {
		return text_line(rest...);
	}
}

// --- Sizes -----------------------------------------------------------------------

template <class T>
constexpr size_t wire_size();

/// Adds up a description's bytes; needs no object, so sizes are constants.
class WireSize {
public:
	template <class M, class C, class W, class... X>
	constexpr void operator()(M C::*, W, std::string_view, const X &...)
	{
		if constexpr (requires { W::kCapacity; }) {
			size_ += 4 + W::kCapacity * wire_size<typename M::value_type>();
		} else {
			size_ += W::kSize;
		}
	}
	template <class W, class F>
	constexpr void word(W, F &&)
	{
		size_ += W::kSize;
	}
	constexpr void fill(size_t n, uint8_t = 0) { size_ += n; }
	constexpr size_t size() const { return size_; }

private:
	size_t size_ = 0;
};

/// Whether T has a description.
template <class T>
concept Described = requires(WireSize &s) { fields(s, Of<T>{}); };

/// The bytes T takes on the wire.
template <class T>
constexpr size_t wire_size()
{
	WireSize s;
	fields(s, Of<T>{});
	return s.size();
}

} // namespace strata::control
