#include "core/result.h"

namespace strata {
namespace {

class StrataCategory final : public std::error_category {
public:
	const char *name() const noexcept override { return "strata"; }
	std::string message(int ev) const override
	{
		switch (static_cast<Errc>(ev)) {
		case Errc::InvalidArgument:
			return "invalid argument";
		case Errc::Malformed:
			return "malformed data";
		case Errc::Unsupported:
			return "not supported";
		case Errc::NotFound:
			return "not found";
		case Errc::Busy:
			return "busy";
		}
		return "unknown error";
	}
};

} // namespace

const std::error_category &strata_category() noexcept
{
	static const StrataCategory category;
	return category;
}

std::string Error::message() const
{
	if (context.empty()) {
		return code.message();
	}
	return context + ": " + code.message();
}

} // namespace strata
