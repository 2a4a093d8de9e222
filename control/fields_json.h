// The JSON form of every struct control/cmdmon.h describes: each field
// that has a JSON key, under that key ("a/b": b inside object a), in its
// form (control/fields.h, namespace as). The JSON reports
// (control/report_json.h) are these objects plus what is not a field of
// one struct: the report's name, a source's name, a reference clock's id in
// place of its address. Pure.
//
// fields_from_json() reads an object back: the exact inverse for every
// value its form can carry. What a form cannot carry: a real that is not
// finite (written null, read as NaN), a word-coded value outside its table
// (written as the table's "other" word, which does not read back), bits
// outside the form's width or table, and fields without a key.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/cmdmon.h"
#include "core/result.h"

namespace strata::control {

/// `address` as JSON: its text (report_format.h's address_text()), or null
/// for NoAddress.
nlohmann::json address_json(const Address &address);
/// The inverse: null, an IPv4 or IPv6 address, or "ID#" and a number.
std::optional<Address> address_from_json(const nlohmann::json &j);
/// RFC 3339 UTC with nanoseconds: "2026-11-25T10:40:46.378595907Z".
std::string rfc3339(RealTime t);
/// The inverse of rfc3339(), that form exactly; nullopt for other text and
/// for a time RealTime cannot hold.
std::optional<RealTime> parse_rfc3339(std::string_view text);
/// A reference id as chronyc prints it, "7F000001", and the inverse (8 hex
/// digits, either case).
std::string hex_id(uint32_t id);
std::optional<uint32_t> parse_hex_id(std::string_view text);

/// Writes each field of `r` that has a JSON key into `out` (an object, or
/// null to become one).
template <Described T>
void put_fields_json(nlohmann::json &out, const T &r);
/// `r`'s fields as a JSON object.
template <Described T>
nlohmann::json fields_json(const T &r);
/// Reads every field that has a JSON key from the object `j`; other keys
/// are ignored, fields without a key are left at their defaults.
/// Errors (Errc::Malformed): `j` is not an object, a key is missing, or a
/// value is not of its form; the message names the key.
template <Described T>
Result<T> fields_from_json(const nlohmann::json &j);

namespace json_fields {

using nlohmann::json;

template <class M>
inline constexpr bool kIsVector = false;
template <class E>
inline constexpr bool kIsVector<std::vector<E>> = true;

/// The value at `key` in `out`, created with the objects on its path.
inline json &slot(json &out, std::string_view key)
{
	json *node = &out;
	size_t start = 0;
	for (size_t slash = key.find('/'); slash != std::string_view::npos;
	     slash = key.find('/', start)) {
		node = &(*node)[std::string(key.substr(start, slash - start))];
		start = slash + 1;
	}
	return (*node)[std::string(key.substr(start))];
}

/// The value at `key` in `in`, or nullptr.
inline const json *find(const json &in, std::string_view key)
{
	const json *node = &in;
	size_t start = 0;
	for (;;) {
		size_t slash = key.find('/', start);
		bool last = slash == std::string_view::npos;
		std::string part(key.substr(start, last ? slash : slash - start));
		if (!node->is_object()) {
			return nullptr;
		}
		auto it = node->find(part);
		if (it == node->end()) {
			return nullptr;
		}
		node = &*it;
		if (last) {
			return node;
		}
		start = slash + 1;
	}
}

template <class M>
bool read_integer(const json &j, M &v)
{
	if (j.is_number_unsigned()) {
		auto u = j.get<uint64_t>();
		if (!std::in_range<M>(u)) {
			return false;
		}
		v = static_cast<M>(u);
		return true;
	}
	if (j.is_number_integer()) {
		auto i = j.get<int64_t>();
		if (!std::in_range<M>(i)) {
			return false;
		}
		v = static_cast<M>(i);
		return true;
	}
	return false;
}

// --- Each form, written and read (read: false when `j` is not of the form) ---

template <class M>
json value(as::Default, const M &v)
{
	if constexpr (std::is_same_v<M, double>) {
		return std::isfinite(v) ? json(v) : json(nullptr);
	} else if constexpr (std::is_same_v<M, RealTime>) {
		return rfc3339(v);
	} else if constexpr (std::is_same_v<M, Address>) {
		return address_json(v);
	} else if constexpr (std::is_same_v<M, std::string>) {
		return v;
	} else if constexpr (kIsVector<M>) {
		json list = json::array();
		for (const auto &e : v) {
			list.push_back(fields_json(e));
		}
		return list;
	} else {
		static_assert(std::is_integral_v<M> && !std::is_same_v<M, char>,
			      "a field of this type needs a JSON form (as::…)");
		return v;
	}
}
template <class M>
bool read(as::Default, const json &j, M &v)
{
	if constexpr (std::is_same_v<M, double>) {
		if (j.is_null()) {
			v = std::numeric_limits<double>::quiet_NaN();
			return true;
		}
		if (!j.is_number()) {
			return false;
		}
		v = j.get<double>();
		return true;
	} else if constexpr (std::is_same_v<M, RealTime>) {
		auto t = j.is_string() ? parse_rfc3339(j.get_ref<const std::string &>())
				       : std::nullopt;
		v = t.value_or(v);
		return t.has_value();
	} else if constexpr (std::is_same_v<M, Address>) {
		auto a = address_from_json(j);
		v = a.value_or(v);
		return a.has_value();
	} else if constexpr (std::is_same_v<M, std::string>) {
		if (!j.is_string()) {
			return false;
		}
		v = j.get<std::string>();
		return true;
	} else if constexpr (kIsVector<M>) {
		if (!j.is_array()) {
			return false;
		}
		v.clear();
		for (const json &e : j) {
			auto record = fields_from_json<typename M::value_type>(e);
			if (!record) {
				return false;
			}
			v.push_back(std::move(*record));
		}
		return true;
	} else if constexpr (std::is_same_v<M, bool>) {
		if (!j.is_boolean()) {
			return false;
		}
		v = j.get<bool>();
		return true;
	} else {
		return read_integer(j, v);
	}
}

inline json value(as::Age, uint32_t s)
{
	return s == UINT32_MAX ? json(nullptr) : json(s);
}
inline bool read(as::Age, const json &j, uint32_t &s)
{
	if (j.is_null()) {
		s = UINT32_MAX;
		return true;
	}
	return read_integer(j, s);
}

inline json value(as::HexId, uint32_t id)
{
	return hex_id(id);
}
inline bool read(as::HexId, const json &j, uint32_t &id)
{
	auto v = j.is_string() ? parse_hex_id(j.get_ref<const std::string &>()) : std::nullopt;
	id = v.value_or(id);
	return v.has_value();
}

inline json value(as::Letter, char c)
{
	return std::string(1, c);
}
inline bool read(as::Letter, const json &j, char &c)
{
	if (!j.is_string() || j.get_ref<const std::string &>().size() != 1) {
		return false;
	}
	c = j.get_ref<const std::string &>()[0];
	return true;
}

inline json value(as::Log2Interval, int8_t v)
{
	return v >= 127 ? json(nullptr) : json(v);
}
inline bool read(as::Log2Interval, const json &j, int8_t &v)
{
	if (j.is_null()) {
		v = 127;
		return true;
	}
	return read_integer(j, v);
}

template <size_t N, class M>
json value(as::Bits<N>, M v)
{
	std::string text;
	for (size_t bit = N; bit-- > 0;) {
		text += (uint32_t{v} >> bit) & 1u ? '1' : '0';
	}
	return text;
}
template <size_t N, class M>
bool read(as::Bits<N>, const json &j, M &v)
{
	if (!j.is_string() || j.get_ref<const std::string &>().size() != N) {
		return false;
	}
	M bits = 0;
	for (char c : j.get_ref<const std::string &>()) {
		if (c != '0' && c != '1') {
			return false;
		}
		bits = static_cast<M>((uint32_t{bits} << 1) | (c == '1' ? 1u : 0u));
	}
	v = bits;
	return true;
}

template <class T, size_t N>
json value(const as::Names<T, N> &names, T v)
{
	return names.name(v);
}
template <class T, size_t N>
bool read(const as::Names<T, N> &names, const json &j, T &v)
{
	auto found = j.is_string() ? names.value(j.get_ref<const std::string &>()) : std::nullopt;
	v = found.value_or(v);
	return found.has_value();
}

template <class T, size_t N>
json value(const as::FlagNames<T, N> &names, T v)
{
	json list = json::array();
	for (const auto &[bit, word] : names.table) {
		if ((v & bit) != 0) {
			list.push_back(word);
		}
	}
	return list;
}
template <class T, size_t N>
bool read(const as::FlagNames<T, N> &names, const json &j, T &v)
{
	if (!j.is_array()) {
		return false;
	}
	T bits = 0;
	for (const json &word : j) {
		if (!word.is_string()) {
			return false;
		}
		const auto &text = word.get_ref<const std::string &>();
		auto it = std::find_if(names.table.begin(), names.table.end(),
				       [&](const auto &entry) { return entry.second == text; });
		if (it == names.table.end()) {
			return false;
		}
		bits = static_cast<T>(bits | it->first);
	}
	v = bits;
	return true;
}

// --- The visitors -----------------------------------------------------------------

template <class T>
class Writer {
public:
	Writer(const T &r, json &out) : r_(r), out_(out) {}

	template <class M, class W, class... X>
	void operator()(M T::*m, W, std::string_view key, const X &...x)
	{
		if (!key.empty()) {
			slot(out_, key) = value(json_form(x...), r_.*m);
		}
	}
	template <class W, class F>
	void word(W, F &&fn)
	{
		fn(*this);
	}
	void fill(size_t, uint8_t = 0) {}

private:
	const T &r_;
	json &out_;
};

template <class T>
class Reader {
public:
	Reader(const json &in, T &r) : in_(in), r_(r) {}

	template <class M, class W, class... X>
	void operator()(M T::*m, W, std::string_view key, const X &...x)
	{
		if (key.empty() || !error_.empty()) {
			return;
		}
		const json *j = find(in_, key);
		if (j == nullptr) {
			error_ = "\"" + std::string(key) + "\" is missing";
		} else if (!read(json_form(x...), *j, r_.*m)) {
			error_ = "\"" + std::string(key) + "\" is not what its field holds";
		}
	}
	template <class W, class F>
	void word(W, F &&fn)
	{
		fn(*this);
	}
	void fill(size_t, uint8_t = 0) {}

	const std::string &error() const { return error_; }

private:
	const json &in_;
	T &r_;
	std::string error_;
};

} // namespace json_fields

template <Described T>
void put_fields_json(nlohmann::json &out, const T &r)
{
	json_fields::Writer<T> w(r, out);
	fields(w, Of<T>{});
}

template <Described T>
nlohmann::json fields_json(const T &r)
{
	nlohmann::json out = nlohmann::json::object();
	put_fields_json(out, r);
	return out;
}

template <Described T>
Result<T> fields_from_json(const nlohmann::json &j)
{
	if (!j.is_object()) {
		return fail(Errc::Malformed, "not a JSON object");
	}
	T r{};
	json_fields::Reader<T> reader(j, r);
	fields(reader, Of<T>{});
	if (!reader.error().empty()) {
		return fail(Errc::Malformed, reader.error());
	}
	return r;
}

} // namespace strata::control
