#include "core/md5.h"

#include <nettle/md5.h>

namespace strata {

Md5Digest md5(std::span<const uint8_t> data)
{
	// nettle's MD5 (Debian's nettle-dev): strata writes no digest itself.
	md5_ctx ctx;
	md5_init(&ctx);
	md5_update(&ctx, data.size(), data.data());
	Md5Digest digest{};
	md5_digest(&ctx, digest.size(), digest.data());
	return digest;
}

uint32_t address_ref_id(const IpAddress &address)
{
	if (address.is_v4()) {
		return address.v4_host_order();
	}
	Md5Digest d = md5(address.bytes());
	return uint32_t{d[0]} << 24 | uint32_t{d[1]} << 16 | uint32_t{d[2]} << 8 | d[3];
}

} // namespace strata
