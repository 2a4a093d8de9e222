#include "ntp/keys.h"

#include <nettle/cmac.h>
#include <nettle/md5.h>
#include <nettle/memops.h>
#include <nettle/nettle-meta.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>
#include <nettle/sha3.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "core/text.h"

namespace strata::ntp {

namespace {

struct TypeInfo {
	KeyType type;
	const char *name;
	const nettle_hash *hash;  ///< nullptr for CMAC
	size_t cmac_key_length;
};

const TypeInfo kTypes[] = {
	{KeyType::MD5, "MD5", &nettle_md5, 0},
	{KeyType::SHA1, "SHA1", &nettle_sha1, 0},
	{KeyType::SHA256, "SHA256", &nettle_sha256, 0},
	{KeyType::SHA384, "SHA384", &nettle_sha384, 0},
	{KeyType::SHA512, "SHA512", &nettle_sha512, 0},
	{KeyType::SHA3_224, "SHA3-224", &nettle_sha3_224, 0},
	{KeyType::SHA3_256, "SHA3-256", &nettle_sha3_256, 0},
	{KeyType::SHA3_384, "SHA3-384", &nettle_sha3_384, 0},
	{KeyType::SHA3_512, "SHA3-512", &nettle_sha3_512, 0},
	{KeyType::AES128, "AES128", nullptr, 16},
	{KeyType::AES256, "AES256", nullptr, 32},
};

const TypeInfo &info(KeyType type)
{
	return kTypes[static_cast<size_t>(type)];
}

/// Room for any of the hash contexts, on the stack: no allocation per packet.
union HashContext {
	md5_ctx md5;
	sha1_ctx sha1;
	sha256_ctx sha256;
	sha512_ctx sha512;
	sha3_224_ctx sha3_224;
	sha3_256_ctx sha3_256;
	sha3_384_ctx sha3_384;
	sha3_512_ctx sha3_512;
};

constexpr size_t kMaxDigest = 64;


bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::vector<std::string_view> split_words(std::string_view line)
{
	std::vector<std::string_view> words;
	size_t i = 0;
	while (i < line.size()) {
		while (i < line.size() && is_space(line[i])) {
			i++;
		}
		size_t start = i;
		while (i < line.size() && !is_space(line[i])) {
			i++;
		}
		if (i > start) {
			words.push_back(line.substr(start, i - start));
		}
	}
	return words;
}

/// The key's bytes, or an empty vector and why.
std::vector<uint8_t> decode_key(std::string_view text, std::string &error)
{
	std::vector<uint8_t> out;
	if (text.starts_with("HEX:")) {
		text.remove_prefix(4);
		if (text.size() % 2 != 0) {
			error = "odd number of hex digits";
			return {};
		}
		for (size_t i = 0; i < text.size(); i += 2) {
			int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
			if (hi < 0 || lo < 0) {
				error = "not a hex digit in HEX: key";
				out.clear();
				return {};
			}
			out.push_back(static_cast<uint8_t>(hi * 16 + lo));
		}
	} else {
		if (text.starts_with("ASCII:")) {
			text.remove_prefix(6);
		}
		out.assign(text.begin(), text.end());
	}
	if (out.empty()) {
		error = "empty key";
	}
	return out;
}

bool parse_id(std::string_view word, uint32_t &id)
{
	if (word.empty() || word.size() > 10) {
		return false;
	}
	uint64_t v = 0;
	for (char c : word) {
		if (c < '0' || c > '9') {
			return false;
		}
		v = v * 10 + static_cast<uint64_t>(c - '0');
	}
	if (v > UINT32_MAX) {
		return false;
	}
	id = static_cast<uint32_t>(v);
	return true;
}

} // namespace

struct Key::Cmac {
	bool aes256 = false;
	cmac_aes128_ctx ctx128;
	cmac_aes256_ctx ctx256;
};

const char *to_string(KeyType type)
{
	return info(type).name;
}

Key::Key(uint32_t id, KeyType type, std::span<const uint8_t> secret)
	: id_(id), type_(type), secret_(secret.begin(), secret.end())
{
}

Key::~Key()
{
	// Not to leave the secret in freed memory.
	std::fill(secret_.begin(), secret_.end(), uint8_t{0});
}

std::unique_ptr<Key> Key::make(uint32_t id, KeyType type, std::span<const uint8_t> secret, std::string *error)
{
	const TypeInfo &t = info(type);
	if (secret.empty()) {
		if (error != nullptr) {
			*error = "empty key";
		}
		return nullptr;
	}
	if (t.hash == nullptr && secret.size() != t.cmac_key_length) {
		if (error != nullptr) {
			*error = std::string("invalid length of ") + t.name + " key (expected " +
				 std::to_string(8 * t.cmac_key_length) + " bits, got " + std::to_string(8 * secret.size()) +
				 ")";
		}
		return nullptr;
	}
	std::unique_ptr<Key> key(new Key(id, type, secret));
	if (t.hash == nullptr) {
		key->cmac_ = std::make_unique<Cmac>();
		key->cmac_->aes256 = type == KeyType::AES256;
		if (key->cmac_->aes256) {
			cmac_aes256_set_key(&key->cmac_->ctx256, secret.data());
		} else {
			cmac_aes128_set_key(&key->cmac_->ctx128, secret.data());
		}
	}
	return key;
}

size_t Key::digest_length() const
{
	const TypeInfo &t = info(type_);
	return t.hash != nullptr ? t.hash->digest_size : CMAC128_DIGEST_SIZE;
}

size_t Key::mac_length(int version) const
{
	return std::min(digest_length(), version == 4 ? kMaxV4MacLength : kMaxMacLength);
}

void Key::digest(std::span<const std::byte> data, uint8_t *out) const
{
	const auto *bytes = reinterpret_cast<const uint8_t *>(data.data());
	if (cmac_) {
		// The expanded key is shared; the running state is this call's own.
		if (cmac_->aes256) {
			cmac_aes256_ctx ctx = cmac_->ctx256;
			cmac_aes256_update(&ctx, data.size(), bytes);
			cmac_aes256_digest(&ctx, CMAC128_DIGEST_SIZE, out);
		} else {
			cmac_aes128_ctx ctx = cmac_->ctx128;
			cmac_aes128_update(&ctx, data.size(), bytes);
			cmac_aes128_digest(&ctx, CMAC128_DIGEST_SIZE, out);
		}
		return;
	}
	// RFC 5905 §7.3 (and chronyd): the digest of the key followed by the packet.
	const nettle_hash *h = info(type_).hash;
	HashContext ctx;
	static_assert(sizeof(HashContext) >= sizeof(sha3_224_ctx));
	h->init(&ctx);
	h->update(&ctx, secret_.size(), secret_.data());
	h->update(&ctx, data.size(), bytes);
	h->digest(&ctx, h->digest_size, out);
}

size_t Key::sign(std::span<const std::byte> data, int version, std::span<std::byte> out) const
{
	size_t n = mac_length(version);
	if (out.size() < n) {
		return 0;
	}
	std::array<uint8_t, kMaxDigest> full{};
	digest(data, full.data());
	std::memcpy(out.data(), full.data(), n);
	return n;
}

bool Key::verify(std::span<const std::byte> data, int version, std::span<const std::byte> mac) const
{
	// chronyd's check_symmetric_auth: an NTPv4 MAC of up to 20 bytes is the
	// truncated one; anything longer must be the full digest (up to 64).
	size_t limit = version == 4 && mac.size() <= kMaxV4MacLength ? kMaxV4MacLength : kMaxMacLength;
	size_t expected = std::min(digest_length(), limit);
	if (mac.size() < kMinMacLength || mac.size() != expected) {
		return false;
	}
	std::array<uint8_t, kMaxDigest> full{};
	digest(data, full.data());
	return memeql_sec(full.data(), mac.data(), expected) != 0;
}

const Key *KeyStore::find(uint32_t id) const
{
	auto it = std::lower_bound(keys_.begin(), keys_.end(), id,
				   [](const std::unique_ptr<Key> &k, uint32_t v) { return k->id() < v; });
	return it != keys_.end() && (*it)->id() == id ? it->get() : nullptr;
}

bool KeyStore::add(std::unique_ptr<Key> key)
{
	auto it = std::lower_bound(keys_.begin(), keys_.end(), key->id(),
				   [](const std::unique_ptr<Key> &k, uint32_t v) { return k->id() < v; });
	if (it != keys_.end() && (*it)->id() == key->id()) {
		return false;
	}
	keys_.insert(it, std::move(key));
	return true;
}

size_t append_mac(const Key &key, std::span<std::byte> packet, size_t length, int version)
{
	size_t n = key.mac_length(version);
	if (length > packet.size() || packet.size() - length < 4 + n) {
		return 0;
	}
	uint32_t id = key.id();
	for (size_t i = 0; i < 4; i++) {
		packet[length + i] = static_cast<std::byte>(id >> (24 - 8 * i));
	}
	size_t written = key.sign(packet.first(length), version, packet.subspan(length + 4, n));
	return written == n ? length + 4 + n : 0;
}

bool has_valid_mac(const Key &key, std::span<const std::byte> datagram, const Packet &parsed)
{
	if (!parsed.has_mac || parsed.key_id != key.id() || parsed.mac_offset + 4 + parsed.mac_length > datagram.size()) {
		return false;
	}
	return key.verify(datagram.first(parsed.mac_offset), parsed.header.version,
			  datagram.subspan(parsed.mac_offset + 4, parsed.mac_length));
}

bool KeyfileResult::ok() const
{
	return std::none_of(problems.begin(), problems.end(), [](const KeyfileProblem &p) { return !p.warning; });
}

KeyfileResult parse_keyfile(std::string_view text)
{
	auto store = std::make_shared<KeyStore>();
	KeyfileResult result;
	int number = 0;
	while (!text.empty()) {
		size_t end = text.find('\n');
		std::string_view line = text.substr(0, end);
		text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
		number++;
		auto words = split_words(line);
		if (words.empty() || std::string_view("!;#%").find(words[0][0]) != std::string_view::npos) {
			continue;
		}
		auto problem = [&](std::string message, bool warning = false) {
			result.problems.push_back({.line = number, .warning = warning, .message = std::move(message)});
		};
		if (words.size() < 2 || words.size() > 3) {
			problem("expected ID [TYPE] KEY");
			continue;
		}
		uint32_t id = 0;
		if (!parse_id(words[0], id)) {
			problem("key id '" + std::string(words[0]) + "' is not a number from 0 to 4294967295");
			continue;
		}
		KeyType type = KeyType::MD5;
		std::string_view value = words.back();
		if (words.size() == 3) {
			auto it = std::find_if(std::begin(kTypes), std::end(kTypes),
					       [&](const TypeInfo &t) { return words[1] == t.name; });
			if (it == std::end(kTypes)) {
				problem("key " + std::to_string(id) + ": unknown type '" + std::string(words[1]) +
					"' (MD5, SHA1, SHA256, SHA384, SHA512, SHA3-224, SHA3-256, SHA3-384, SHA3-512, "
					"AES128, AES256)");
				continue;
			}
			type = it->type;
		}
		std::string error;
		auto secret = decode_key(value, error);
		if (secret.empty()) {
			problem("could not decode key " + std::to_string(id) + ": " + error);
			continue;
		}
		auto key = Key::make(id, type, secret, &error);
		std::fill(secret.begin(), secret.end(), uint8_t{0});
		if (!key) {
			problem("key " + std::to_string(id) + ": " + error);
			continue;
		}
		if (key->length() < kMinSecureKeyLength) {
			problem("key " + std::to_string(id) + " is too short (" + std::to_string(key->length()) +
					" bytes; at least " + std::to_string(kMinSecureKeyLength) + " are advised)",
				true);
		}
		if (!store->add(std::move(key))) {
			problem("duplicate key " + std::to_string(id));
		}
	}
	result.keys = std::move(store);
	return result;
}

std::optional<KeyType> key_type_from_name(std::string_view name)
{
	for (const auto &t : kTypes) {
		if (name == t.name) {
			return t.type;
		}
	}
	return std::nullopt;
}

size_t cmac_key_length(KeyType type)
{
	return info(type).cmac_key_length;
}

size_t keygen_length(KeyType type, unsigned bits)
{
	if (size_t cmac = cmac_key_length(type); cmac > 0) {
		return cmac;
	}
	return std::clamp<size_t>((static_cast<size_t>(bits) + 7) / 8, kMinSecureKeyLength, 512);
}

std::string keyfile_line(uint32_t id, KeyType type, std::span<const uint8_t> secret)
{
	static constexpr char kDigits[] = "0123456789ABCDEF";
	std::string line = std::to_string(id) + ' ' + to_string(type) + " HEX:";
	for (uint8_t b : secret) {
		line += kDigits[b >> 4];
		line += kDigits[b & 15];
	}
	return line;
}

} // namespace strata::ntp
