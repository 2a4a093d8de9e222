#include "core/log.h"

namespace strata {

std::string_view to_string(LogLevel level)
{
	switch (level) {
	case LogLevel::Debug:
		return "debug";
	case LogLevel::Info:
		return "info";
	case LogLevel::Warning:
		return "warning";
	case LogLevel::Error:
		return "error";
	case LogLevel::Fatal:
		return "fatal";
	}
	return "unknown";
}

} // namespace strata
