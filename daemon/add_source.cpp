#include "daemon/add_source.h"

namespace strata::daemon {

Result<control::RequestedSource> source_config_from(const control::AddSourceArgs &args)
{
	if (args.kind == control::SourceKind::Peer) {
		return fail(Errc::Unsupported, "peer is not supported by strata");
	}
	auto source = control::source_from_request(args);
	if (!source) {
		return fail(Errc::InvalidArgument, source.error());
	}
	source->config.origin = {"chronyc", 0};
	return std::move(*source);
}

} // namespace strata::daemon
