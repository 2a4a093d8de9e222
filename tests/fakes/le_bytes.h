// Bytes written out one by one in little-endian order (every architecture
// strata is built for), at the offsets another program's struct puts them:
// the tests' independent check of a layout (gpsd's SHM segment, SOCK samples).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace strata::test {

class LeBytes {
public:
	explicit LeBytes(size_t size) : bytes(size) {}
	void put32(size_t at, int64_t v) { put(at, static_cast<uint32_t>(v), 4); }
	void put64(size_t at, int64_t v) { put(at, static_cast<uint64_t>(v), 8); }
	void put_double(size_t at, double v)
	{
		uint64_t w = 0;
		std::memcpy(&w, &v, sizeof w);
		put(at, w, 8);
	}
	std::vector<std::byte> bytes;

private:
	void put(size_t at, uint64_t w, size_t n)
	{
		for (size_t i = 0; i < n; i++) {
			bytes[at + i] = static_cast<std::byte>(w >> (8 * i));
		}
	}
};

} // namespace strata::test
