// Symmetric keys for NTP authentication (RFC 5905 §7.3 MAC, RFC 8573 AES-CMAC):
// the keyfile in chrony's format, and the MACs of packets. Pure: the text of
// the file goes in (the daemon reads it), the keys come out; the MACs are
// computed with nettle.
//
// A keyfile line is `ID [TYPE] KEY` (chrony.conf(5) "keyfile"): ID a 32-bit
// number, TYPE one of MD5 (the default), SHA1, SHA256, SHA384, SHA512,
// SHA3-224, SHA3-256, SHA3-384, SHA3-512 (a MAC is the hash of the key
// followed by the packet) or AES128, AES256 (AES-CMAC, keys of exactly 16 and
// 32 bytes); KEY is `HEX:` and hex digits, `ASCII:` and text, or text alone.
// Lines empty or starting with `#`, `!`, `;` or `%` are comments. Where
// chronyd warns about a bad line and skips it, this parser reports an error
// with file:line, and the daemon refuses to start: a key the administrator
// meant to use must never silently be missing.
//
// MAC lengths are chronyd's: in NTPv4 packets a MAC is truncated to 20 bytes
// (key id + MAC at most 24 bytes, so that RFC 7822 extension fields parse
// unambiguously), in NTPv3 and older it is at most 64 bytes; a received MAC
// must have exactly the length the key gives at the packet's version.
// Comparisons take the same time whatever the bytes (nettle's memeql_sec).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ntp/packet.h"

namespace strata::ntp {

/// The MAC algorithms of chrony's keyfile (in chronyd's order: MD5 … SHA3-512
/// are its hash ids 1 … 9 less one).
enum class KeyType : uint8_t {
	MD5,
	SHA1,
	SHA256,
	SHA384,
	SHA512,
	SHA3_224,
	SHA3_256,
	SHA3_384,
	SHA3_512,
	AES128,  ///< AES-CMAC with a 128-bit key
	AES256,  ///< AES-CMAC with a 256-bit key
};

/// The keyfile's name of a type ("MD5", "SHA3-256", "AES128").
const char *to_string(KeyType type);
/// The type a keyfile (and chronyc's keygen) names so, spelt exactly as
/// to_string() spells it; nullopt for any other name.
std::optional<KeyType> key_type_from_name(std::string_view name);
/// The key length an AES-CMAC type needs (16, 32); 0 for the hashes,
/// whose keys may be of any length.
size_t cmac_key_length(KeyType type);

/// The longest MAC in any packet (NTPv3, SHA512): 64 bytes after the key id.
inline constexpr size_t kMaxMacLength = 64;
static_assert(kMaxMacTrailer == 4 + kMaxMacLength);  // ntp/packet.h
/// The shortest MAC accepted (chronyd's NTP_MIN_MAC_LENGTH - 4).
inline constexpr size_t kMinMacLength = 16;
/// In NTPv4, a MAC is at most this long (chronyd's NTP_MAX_V4_MAC_LENGTH - 4).
inline constexpr size_t kMaxV4MacLength = 20;
/// chronyd's MIN_SECURE_KEY_LENGTH: shorter keys get a warning.
inline constexpr size_t kMinSecureKeyLength = 10;

/// One key of the keyfile. Immutable once built; MACs may be computed from
/// several threads at once.
class Key {
public:
	/// Errors: empty `secret`, or an AES key of the wrong length.
	static std::unique_ptr<Key> make(uint32_t id, KeyType type, std::span<const uint8_t> secret,
					 std::string *error = nullptr);
	~Key();
	Key(const Key &) = delete;
	Key &operator=(const Key &) = delete;

	uint32_t id() const { return id_; }
	KeyType type() const { return type_; }
	/// The key's length in bytes (chronyc authdata's KLen is 8 times it).
	size_t length() const { return secret_.size(); }
	/// The full output of the algorithm: 16 (MD5, CMAC) to 64 (SHA512).
	size_t digest_length() const;
	/// How long this key's MAC is in a packet of NTP `version`.
	size_t mac_length(int version) const;

	/// Writes the MAC of `data` for a packet of `version` into `out` (at
	/// least mac_length(version) bytes); returns its length. Does not
	/// allocate.
	size_t sign(std::span<const std::byte> data, int version, std::span<std::byte> out) const;
	/// Whether `mac` (the bytes after the key id) is this key's MAC of
	/// `data` at `version`: of the right length, and equal, compared in
	/// constant time. Does not allocate.
	bool verify(std::span<const std::byte> data, int version, std::span<const std::byte> mac) const;

private:
	Key(uint32_t id, KeyType type, std::span<const uint8_t> secret);
	/// The full digest of `data` into `out` (digest_length() bytes).
	void digest(std::span<const std::byte> data, uint8_t *out) const;

	uint32_t id_;
	KeyType type_;
	std::vector<uint8_t> secret_;
	struct Cmac;                  // the expanded AES key (CMAC types only)
	std::unique_ptr<Cmac> cmac_;
};

/// The keys of a keyfile, by id.
class KeyStore {
public:
	/// nullptr when there is no such key. No allocation.
	const Key *find(uint32_t id) const;
	size_t size() const { return keys_.size(); }
	const std::vector<std::unique_ptr<Key>> &keys() const { return keys_; }
	/// Adds a key; false when its id is taken.
	bool add(std::unique_ptr<Key> key);

private:
	std::vector<std::unique_ptr<Key>> keys_;  ///< sorted by id
};

/// Appends key id and MAC of the first `length` bytes of `packet` (an NTP
/// packet of `version`): returns the new length, or 0 when `packet` has no
/// room for them.
size_t append_mac(const Key &key, std::span<std::byte> packet, size_t length, int version);

/// Whether `datagram` (parsed as `parsed`) carries a valid MAC of `key`:
/// a MAC, of this key's id, right for the bytes before it.
bool has_valid_mac(const Key &key, std::span<const std::byte> datagram, const Packet &parsed);

/// A problem in a keyfile: the line (from 1) and what is wrong.
struct KeyfileProblem {
	int line = 0;
	bool warning = false;  ///< a warning (e.g. a short key); else an error
	std::string message;
};

struct KeyfileResult {
	std::shared_ptr<const KeyStore> keys;  ///< the lines that parsed
	std::vector<KeyfileProblem> problems;
	bool ok() const;  ///< no errors (warnings allowed)
};

/// Parses the text of a keyfile (chrony's format, above). Never throws;
/// every bad line is a problem with its line number.
KeyfileResult parse_keyfile(std::string_view text);

/// chronyc's `keygen [ID [TYPE [BITS]]]`: how many random bytes a new key
/// of `type` gets: BITS rounded up to bytes, within 10 and 512 bytes
/// (80 to 4096 bits) for a hash, the cipher's key length for AES-CMAC.
size_t keygen_length(KeyType type, unsigned bits);
/// The keyfile line of a key: `ID TYPE HEX:` and the secret in upper-case
/// hex digits (what parse_keyfile reads back).
std::string keyfile_line(uint32_t id, KeyType type, std::span<const uint8_t> secret);

} // namespace strata::ntp
