#include "ntp/keys.h"

#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace strata::ntp {
namespace {

/// The bytes 0, 1, ... 47: the "packet" of the vectors below.
std::array<std::byte, 48> packet()
{
	std::array<std::byte, 48> p{};
	for (size_t i = 0; i < p.size(); i++) {
		p[i] = static_cast<std::byte>(i);
	}
	return p;
}

std::string hex(std::span<const std::byte> b)
{
	static const char *digits = "0123456789abcdef";
	std::string s;
	for (auto x : b) {
		auto v = std::to_integer<unsigned>(x);
		s += digits[v >> 4];
		s += digits[v & 15];
	}
	return s;
}

std::string mac_hex(const KeyStore &keys, uint32_t id, int version)
{
	const Key *k = keys.find(id);
	EXPECT_NE(k, nullptr) << id;
	if (k == nullptr) {
		return "";
	}
	std::array<std::byte, kMaxMacLength> out{};
	size_t n = k->sign(packet(), version, out);
	return hex(std::span(out).first(n));
}

// The expected MACs were computed independently when this test was written:
// python3 -c 'import hashlib; hashlib.new(NAME, KEY + bytes(range(48))).hexdigest()'
// and, for CMAC, `openssl mac -cipher AES-128-CBC -macopt hexkey:KEY -in FILE CMAC`
// (FILE holding bytes 0..47).
const char *kKeyfile = R"(# comment
! another comment
  ; and another
% and one more

1 k]<j.Jtw^Oo;z5E>n\_0-x=)yP\f<)Z^
2 ASCII:k]<j.Jtw^Oo;z5E>n\_0-x=)yP\f<)Z^
3 MD5 HEX:6B5D3C6A2E4A74775E4F6F3B7A35453E6E5C5F302D783D2979505C663C295A5E
4 SHA1 HEX:1b81cbf88d4a73f2e8ce59647f6e5c1719b6caf5
5	SHA256   0123456789abcdef
6 SHA512 ASCII:secretkey12
7 SHA3-256 abcdefghij
8 SHA384 abcdefghij
9 SHA3-224 abcdefghij
10 SHA3-512 abcdefghij
11 SHA3-384 abcdefghij
12 AES128 HEX:2B7E151628AED2A6ABF7158809CF4F3C
13 AES256 HEX:603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4
)";

TEST(Keyfile, ParsesEveryTypeAndEncoding)
{
	auto r = parse_keyfile(kKeyfile);
	ASSERT_TRUE(r.ok());
	EXPECT_TRUE(r.problems.empty());
	ASSERT_EQ(r.keys->size(), 13u);
	EXPECT_EQ(r.keys->find(1)->type(), KeyType::MD5);
	EXPECT_EQ(r.keys->find(1)->length(), 32u);
	EXPECT_EQ(r.keys->find(12)->type(), KeyType::AES128);
	EXPECT_EQ(r.keys->find(13)->length(), 32u);
	EXPECT_EQ(r.keys->find(14), nullptr);
	EXPECT_EQ(r.keys->find(0), nullptr);
}

TEST(Keyfile, MacsMatchIndependentVectors)
{
	auto r = parse_keyfile(kKeyfile);
	ASSERT_TRUE(r.ok());
	const KeyStore &k = *r.keys;
	// The same secret written three ways, and the HEX of chrony's 105-ntpauth.
	EXPECT_EQ(mac_hex(k, 1, 4), "00c4175870b2daede55c4f2856e040ed");
	EXPECT_EQ(mac_hex(k, 2, 4), "00c4175870b2daede55c4f2856e040ed");
	EXPECT_EQ(mac_hex(k, 3, 4), "00c4175870b2daede55c4f2856e040ed");
	EXPECT_EQ(mac_hex(k, 4, 4), "ab43de0f61cf0f7e8782dfbedb0b0342f1a00c09");
	// NTPv4 truncates to 20 bytes; NTPv3 carries up to 64.
	EXPECT_EQ(mac_hex(k, 5, 4), "74076b76a44eab67afb40c15ed1d8fb015712daf");
	EXPECT_EQ(mac_hex(k, 5, 3), "74076b76a44eab67afb40c15ed1d8fb015712daf623b0a8a86870bc110f63056");
	EXPECT_EQ(mac_hex(k, 6, 3),
		  "97a4e28a8a406dd6d0d8cdd66fb797c47974bd92d41eb33e127de25ec0425c386fcc7970c694b235cdaf81bae9bbe8e6d"
		  "877df85c10ddcab3841c52411fd970b");
	EXPECT_EQ(mac_hex(k, 7, 3), "f01da259be59c7bd609750ea07b7fa47d47dd20d6bc3661d8f5ceb441c4a87c3");
	EXPECT_EQ(mac_hex(k, 8, 3),
		  "8baa0ea5fc6a5c4ef734febf7c142258bb01d6b20437f63ed7745643769a06f4b2af4a759c7d0aba1564daa0b5368fdd");
	EXPECT_EQ(mac_hex(k, 9, 3), "25cb3d7ca78460171e2e01c09a4f0bd71371b5fad2328e0bdebc9e4c");
	EXPECT_EQ(mac_hex(k, 10, 2),
		  "167a2380687b6c7001f6e897567895e8b9d0c0fdd73cb7bf0cc6338966fb3450da2d1ebca861f73ae95e7615e6d4333f9af"
		  "8a434449b8466d1c916ff2e3e3505");
	EXPECT_EQ(mac_hex(k, 11, 3),
		  "e48a4e23fc3d4f05c7b9474bb7b56a0a4497fa251f95abe0f101d5ca5f5aa28aea96670af665179c8950b8eaf956adc0");
	EXPECT_EQ(mac_hex(k, 12, 4), "b46dd8856c4fee713a9243e917f1fdb7");
	EXPECT_EQ(mac_hex(k, 13, 4), "0c00787f59088fb8343d8597f6650bc5");
}

TEST(Keyfile, VerifyNeedsTheExactMacAndLength)
{
	auto r = parse_keyfile(kKeyfile);
	ASSERT_TRUE(r.ok());
	const Key &sha256 = *r.keys->find(5);
	std::array<std::byte, kMaxMacLength> mac{};
	size_t n4 = sha256.sign(packet(), 4, mac);
	ASSERT_EQ(n4, 20u);
	EXPECT_TRUE(sha256.verify(packet(), 4, std::span(mac).first(n4)));
	// The truncated MAC is not a valid NTPv3 one, which is the whole digest.
	EXPECT_FALSE(sha256.verify(packet(), 3, std::span(mac).first(n4)));
	size_t n3 = sha256.sign(packet(), 3, mac);
	ASSERT_EQ(n3, 32u);
	EXPECT_TRUE(sha256.verify(packet(), 3, std::span(mac).first(n3)));
	// An NTPv4 MAC longer than 20 bytes is the full digest (chronyd accepts it).
	EXPECT_TRUE(sha256.verify(packet(), 4, std::span(mac).first(n3)));
	EXPECT_FALSE(sha256.verify(packet(), 4, std::span(mac).first(16)));
	// One bit off in the MAC or the data.
	mac[31] ^= std::byte{1};
	EXPECT_FALSE(sha256.verify(packet(), 3, std::span(mac).first(n3)));
	mac[31] ^= std::byte{1};
	auto changed = packet();
	changed[47] ^= std::byte{0x80};
	EXPECT_FALSE(sha256.verify(changed, 3, std::span(mac).first(n3)));
	// Another key's MAC of the same data.
	const Key &other = *r.keys->find(7);
	EXPECT_FALSE(other.verify(packet(), 3, std::span(mac).first(n3)));
	// MD5's 16 bytes are its MAC at every version; 12 are too few.
	const Key &md5 = *r.keys->find(1);
	size_t m = md5.sign(packet(), 4, mac);
	EXPECT_EQ(m, 16u);
	EXPECT_TRUE(md5.verify(packet(), 3, std::span(mac).first(m)));
	EXPECT_FALSE(md5.verify(packet(), 4, std::span(mac).first(12)));
	EXPECT_FALSE(md5.verify(packet(), 4, std::span(mac).first(20)));
}

TEST(Keyfile, BadLinesAreErrorsWithTheirLine)
{
	auto r = parse_keyfile("1 MD5 HEX:001122334455667788990\n"  // odd number of digits
			       "2 SHA999 abcdefghijkl\n"
			       "x MD5 abcdefghijkl\n"
			       "4\n"
			       "5 MD5 abc def\n"
			       "6 AES128 HEX:00112233\n"
			       "7 MD5 HEX:zz\n"
			       "8 MD5 abcdefghijkl\n"
			       "8 SHA1 abcdefghijkl\n"
			       "9 short\n"
			       "4294967296 MD5 abcdefghijkl\n"
			       "4294967295 MD5 abcdefghijkl\n"
			       "10 md5 abcdefghijkl\n");
	EXPECT_FALSE(r.ok());
	std::vector<int> errors, warnings;
	for (const auto &p : r.problems) {
		(p.warning ? warnings : errors).push_back(p.line);
		EXPECT_FALSE(p.message.empty());
	}
	EXPECT_EQ(errors, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 9, 11, 13}));
	EXPECT_EQ(warnings, (std::vector<int>{10}));
	// The good lines are kept (the first of a duplicate).
	ASSERT_NE(r.keys->find(8), nullptr);
	EXPECT_EQ(r.keys->find(8)->type(), KeyType::MD5);
	EXPECT_NE(r.keys->find(9), nullptr);
	EXPECT_NE(r.keys->find(4294967295u), nullptr);
	EXPECT_EQ(r.keys->size(), 3u);
}

TEST(Keyfile, EmptyFileHasNoKeys)
{
	auto r = parse_keyfile("");
	EXPECT_TRUE(r.ok());
	EXPECT_EQ(r.keys->size(), 0u);
	auto crlf = parse_keyfile("1 MD5 HEX:00112233445566778899\r\n");
	EXPECT_TRUE(crlf.ok());
	EXPECT_NE(crlf.keys->find(1), nullptr);
}

} // namespace
} // namespace strata::ntp
