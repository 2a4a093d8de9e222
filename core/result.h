// Error handling for all of strata: a fallible call returns Result<T>, which
// holds either the value or an Error (an error code plus a context string for
// the log line). No exception crosses a module boundary.
//
// tl::expected stands in for std::expected (libstdc++ 12 lacks it in C++20
// mode); moving to std::expected later changes only this file.
#pragma once

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

#include <tl/expected.hpp>

namespace strata {

/// strata's own error conditions, for failures that have no errno.
enum class Errc {
	InvalidArgument = 1,
	Malformed,
	Unsupported,
	NotFound,
	Busy,
};

const std::error_category &strata_category() noexcept;

inline std::error_code make_error_code(Errc e) noexcept
{
	return {static_cast<int>(e), strata_category()};
}

struct Error {
	std::error_code code;  ///< errno (generic_category) or strata::Errc
	std::string context;   ///< what was being done: "open /dev/ptp0"

	/// "context: message", the form every log line uses.
	std::string message() const;
};

template <class T = void>
using Result = tl::expected<T, Error>;

/// An Error from a strata::Errc.
inline tl::unexpected<Error> fail(Errc e, std::string context)
{
	return tl::unexpected<Error>(Error{make_error_code(e), std::move(context)});
}

/// An Error from an errno value (pass errno explicitly when it may have changed).
inline tl::unexpected<Error> fail_errno(std::string context, int err = errno)
{
	return tl::unexpected<Error>(Error{std::error_code(err, std::generic_category()), std::move(context)});
}

} // namespace strata

template <>
struct std::is_error_code_enum<strata::Errc> : std::true_type {};
