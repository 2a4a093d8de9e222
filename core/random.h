// Randomness, injected. Protocol code never reaches for a global RNG: it
// takes an Rng& so that tests and the simulator are deterministic from a
// seed, and the daemon seeds one generator per thread from the kernel.
#pragma once

#include <cstdint>

namespace strata {

class Rng {
public:
	virtual ~Rng() = default;
	/// 64 uniformly distributed bits.
	virtual uint64_t next() = 0;
	/// True with probability 2^-log2_denominator (always true for 0).
	bool one_in_pow2(int log2_denominator)
	{
		if (log2_denominator <= 0) {
			return true;
		}
		if (log2_denominator >= 64) {
			return false;
		}
		return (next() >> (64 - log2_denominator)) == 0;
	}
	/// Uniform in [0, 1).
	double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

/// xoshiro256** (Blackman and Vigna, public domain algorithm): fast, good
/// statistical quality, not cryptographic. Seeded through splitmix64 so
/// any 64-bit seed gives a usable state.
class Xoshiro256 final : public Rng {
public:
	explicit Xoshiro256(uint64_t seed)
	{
		for (auto &word : s_) {
			seed += 0x9e3779b97f4a7c15ull;
			uint64_t z = seed;
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
			word = z ^ (z >> 31);
		}
	}
	uint64_t next() override
	{
		uint64_t result = rotl(s_[1] * 5, 7) * 9;
		uint64_t t = s_[1] << 17;
		s_[2] ^= s_[0];
		s_[3] ^= s_[1];
		s_[1] ^= s_[2];
		s_[0] ^= s_[3];
		s_[2] ^= t;
		s_[3] = rotl(s_[3], 45);
		return result;
	}

private:
	static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
	uint64_t s_[4];
};

} // namespace strata
