// core's signing.cpp: RFC 8785 canonical JSON (the RFC's own examples), SHA-256, Ed25519 keys and
// signatures, certificate sealing and verification (every one-byte change of a certificate's
// body, re-signing, stripped signatures, malformed integrity blocks), and the `chipgauge
// certificate keygen|verify` commands end to end.
#include "chipgauge/core/signing.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "test_support.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <bit>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace chipgauge {
namespace {

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

std::string canon_double(std::uint64_t bits) {
  return canonical_json(nlohmann::json(std::bit_cast<double>(bits)));
}

// ---------------------------------------------------------------------------------------------
// RFC 8785

TEST(Rfc8785, NumbersFollowAppendixB) {
  // RFC 8785 Appendix B: IEEE-754 bit patterns and their ECMAScript serialisation.
  const std::vector<std::pair<std::uint64_t, std::string>> cases = {
      {0x0000000000000000, "0"},
      {0x8000000000000000, "0"},  // -0
      {0x0000000000000001, "5e-324"},
      {0x8000000000000001, "-5e-324"},
      {0x7fefffffffffffff, "1.7976931348623157e+308"},
      {0xffefffffffffffff, "-1.7976931348623157e+308"},
      {0x4340000000000000, "9007199254740992"},
      {0xc340000000000000, "-9007199254740992"},
      {0x4430000000000000, "295147905179352830000"},
      {0x44b52d02c7e14af5, "9.999999999999997e+22"},
      {0x44b52d02c7e14af6, "1e+23"},
      {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
      {0x444b1ae4d6e2ef4e, "999999999999999700000"},
      {0x444b1ae4d6e2ef4f, "999999999999999900000"},
      {0x444b1ae4d6e2ef50, "1e+21"},
      {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
      {0x3eb0c6f7a0b5ed8d, "0.000001"},
      {0x41b3de4355555553, "333333333.3333332"},
      {0x41b3de4355555554, "333333333.33333325"},
      {0x41b3de4355555555, "333333333.3333333"},
      {0x41b3de4355555556, "333333333.3333334"},
      {0x41b3de4355555557, "333333333.33333343"},
      {0xbecbf647612f3696, "-0.0000033333333333333333"},
      {0x43143ff3c1cb0959, "1424953923781206.2"},
  };
  for (const auto& [bits, expected] : cases)
    EXPECT_EQ(canon_double(bits), expected) << std::hex << bits;
}

TEST(Rfc8785, NumbersFromText) {
  auto canon = [](const char* text) { return canonical_json(nlohmann::json::parse(text)); };
  EXPECT_EQ(canon("1e21"), "1e+21");
  EXPECT_EQ(canon("1e20"), "100000000000000000000");
  EXPECT_EQ(canon("1e-7"), "1e-7");
  EXPECT_EQ(canon("1e-6"), "0.000001");
  EXPECT_EQ(canon("-0"), "0");
  EXPECT_EQ(canon("-0.0"), "0");
  EXPECT_EQ(canon("333333333.33333329"), "333333333.3333333");
  EXPECT_EQ(canon("5e-324"), "5e-324");
  EXPECT_EQ(canon("4.50"), "4.5");
  EXPECT_EQ(canon("2e-3"), "0.002");
  EXPECT_EQ(canon("1E30"), "1e+30");
  EXPECT_EQ(canon("123e-20"), "1.23e-18");
  EXPECT_EQ(canon("1.0"), "1");
  EXPECT_EQ(canon("-42"), "-42");
  EXPECT_EQ(canon("1.5e300"), "1.5e+300");
  EXPECT_EQ(canon("9007199254740992"), "9007199254740992");
  EXPECT_EQ(canon("-9007199254740992"), "-9007199254740992");
}

TEST(Rfc8785, NonFiniteNumbersAndInexactIntegersAreRefused) {
  nlohmann::json j = {{"a", {1, std::numeric_limits<double>::quiet_NaN()}}};
  try {
    (void)canonical_json(j);
    FAIL() << "NaN accepted";
  } catch (const canonicalization_error& e) {
    EXPECT_EQ(e.json_path(), "$.a[1]");
  }
  EXPECT_THROW((void)canonical_json(nlohmann::json(std::numeric_limits<double>::infinity())),
               canonicalization_error);
  EXPECT_THROW((void)canonical_json(nlohmann::json(-std::numeric_limits<double>::infinity())),
               canonicalization_error);
  // 2^53 + 1 would round to 2^53: two different integers, one serialisation.
  EXPECT_THROW((void)canonical_json(nlohmann::json::parse("9007199254740993")),
               canonicalization_error);
  EXPECT_THROW((void)canonical_json(nlohmann::json::parse("-9007199254740993")),
               canonicalization_error);
  // An integer beyond 2^53 that a double holds exactly is that double: a double's own canonical
  // form (9.19e15 is written 9190000000000000) reads back as an integer and must canonicalise the
  // same (the certificate fuzz target found the form not being a fixed point).
  EXPECT_EQ(canonical_json(nlohmann::json::parse("9190000000000000")), "9190000000000000");
  EXPECT_EQ(canonical_json(nlohmann::json::parse("9.19e15")), "9190000000000000");
  EXPECT_EQ(canonical_json(nlohmann::json::parse("-9190000000000000")), "-9190000000000000");
  EXPECT_EQ(canonical_json(nlohmann::json::parse("333333333333333300")), "333333333333333300");
  // The double's exact value written out is not its canonical text: refused as ambiguous.
  EXPECT_THROW((void)canonical_json(nlohmann::json::parse("333333333333333312")),
               canonicalization_error);
  EXPECT_THROW((void)canonical_json(nlohmann::json::parse("18446744073709551615")),
               canonicalization_error);
  EXPECT_THROW((void)canonical_json(nlohmann::json::binary({1, 2})), canonicalization_error);
}

TEST(Rfc8785, TheRfcExampleOfSection3_2_2) {
  const auto j = nlohmann::json::parse(R"({
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })");
  EXPECT_EQ(
      canonical_json(j),
      "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\"s"
      "tring\":\"\xE2\x82\xAC$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

TEST(Rfc8785, KeysSortByUtf16CodeUnits) {
  // RFC 8785 3.2.3: the emoji (UTF-16 D83D DE00) sorts before U+FB33, although its code point is
  // larger.
  const auto j = nlohmann::json::parse(R"({
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  })");
  const auto c = canonical_json(j);
  const std::vector<std::string> order = {"Carriage Return",
                                          "One",
                                          "Control",
                                          "Latin Small Letter O With Diaeresis",
                                          "Euro Sign",
                                          "Emoji: Grinning Face",
                                          "Hebrew Letter Dalet With Dagesh"};
  std::size_t last = 0;
  for (const auto& v : order) {
    const auto pos = c.find(v);
    ASSERT_NE(pos, std::string::npos) << v;
    EXPECT_GT(pos, last) << v << " out of order in " << c;
    last = pos;
  }
  EXPECT_EQ(c.substr(0, 24), "{\"\\r\":\"Carriage Return\",");
  // Nested objects are sorted too; arrays keep their order.
  EXPECT_EQ(canonical_json(nlohmann::json::parse(R"({"b": [3, 1, {"z": 1, "a": 2}], "a": {}})")),
            R"({"a":{},"b":[3,1,{"a":2,"z":1}]})");
}

TEST(Rfc8785, StringEscaping) {
  std::string s = "q\"b\\/\b\f\n\r\t";
  s += '\0';
  s += "\x01\x1f\x7f \xC3\xA9\xF0\x9F\x98\x80<>&'";
  EXPECT_EQ(canonical_json(nlohmann::json(s)),
            "\"q\\\"b\\\\/\\b\\f\\n\\r\\t\\u0000\\u0001\\u001f\x7f \xC3\xA9\xF0\x9F\x98\x80<>&'\"");
  EXPECT_THROW((void)canonical_json(nlohmann::json(std::string("\xff"))), canonicalization_error);
  nlohmann::json bad_key = nlohmann::json::object();
  bad_key[std::string("k\xC3")] = 1;
  EXPECT_THROW((void)canonical_json(bad_key), canonicalization_error);
  EXPECT_EQ(canonical_json(nlohmann::json::parse("[true,false,null,\"\",[],{}]")),
            "[true,false,null,\"\",[],{}]");
}

// ---------------------------------------------------------------------------------------------
// Primitives

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Base64, RoundTripsAndIsStrict) {
  for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    const auto e = base64_encode(s);
    ASSERT_EQ(base64_decode(e), s) << e;
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_FALSE(base64_decode("Zm8"));       // no padding
  EXPECT_FALSE(base64_decode("Zm9="));      // unused bits set: a second spelling of "fo"
  EXPECT_FALSE(base64_decode("Zh=="));      // likewise for "f"
  EXPECT_FALSE(base64_decode("Zm 8="));     // whitespace
  EXPECT_FALSE(base64_decode("Zm8=Zm8="));  // padding in the middle
  EXPECT_FALSE(base64_decode("Z==="));
  EXPECT_FALSE(base64_decode("Zm-_"));  // URL alphabet
}

TEST(Ed25519, VerifiesTheRfc8032TestVectors) {
  // RFC 8032 7.1, TEST 1 (empty message) and TEST 2 (one byte 0x72).
  const auto pk1 = from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const auto sig1 = from_hex(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701"
      "cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_TRUE(ed25519_verify(pk1, "", sig1));
  EXPECT_FALSE(ed25519_verify(pk1, "x", sig1));
  auto bad = sig1;
  bad[10] = static_cast<char>(bad[10] ^ 1);
  EXPECT_FALSE(ed25519_verify(pk1, "", bad));
  EXPECT_FALSE(ed25519_verify(pk1.substr(0, 31), "", sig1));
  const auto pk2 = from_hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
  const auto sig2 = from_hex(
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d"
      "0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
  EXPECT_TRUE(ed25519_verify(pk2, "\x72", sig2));
  EXPECT_FALSE(ed25519_verify(pk1, "\x72", sig2));
}

// The RFC 8032 TEST 1 secret key as PKCS#8 PEM (a published test key: signatures by it are
// deterministic, so a certificate sealed with it is a fixed byte string).
std::string rfc8032_test1_private_pem() {
  const auto der = from_hex("302e020100300506032b657004220420") +
                   from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  return "-----BEGIN PRIVATE KEY-----\n" + base64_encode(der) + "\n-----END PRIVATE KEY-----\n";
}

std::string write_private_key(const test::temp_dir& dir, const std::string& name,
                              const std::string& pem) {
  const auto path = dir.write(name, pem);
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
      std::filesystem::perm_options::replace);
  return path;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(Ed25519, SignsDeterministicallyWithAPkcs8Key) {
  const test::temp_dir dir;
  const auto key = write_private_key(dir, "rfc.key", rfc8032_test1_private_pem());
  const auto info = load_ed25519_private_key_info(key);
  EXPECT_EQ(info.raw, from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
  EXPECT_EQ(info.key_id, sha256_hex(info.raw).substr(0, 16));
  EXPECT_EQ(
      ed25519_sign(key, ""),
      from_hex(
          "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3"
          "9701cf9b46bd25bf5f0595bbe24655141438e7a100b"));
}

// ---------------------------------------------------------------------------------------------
// Key files

class umask_guard {
 public:
  explicit umask_guard(mode_t m) : old_(::umask(m)) {}
  ~umask_guard() { ::umask(old_); }
  umask_guard(const umask_guard&) = delete;
  umask_guard& operator=(const umask_guard&) = delete;

 private:
  mode_t old_;
};

TEST(KeyFiles, KeygenWritesPrivate0600AndPublic0644WhateverTheUmask) {
  for (const mode_t mask : {mode_t{0}, mode_t{022}, mode_t{077}}) {
    const test::temp_dir dir;
    const umask_guard guard(mask);
    const auto pair = generate_ed25519_key(dir.path() + "/k.key", dir.path() + "/k.pub");
    EXPECT_EQ(mode_of(pair.private_path), 0600U) << "umask " << mask;
    EXPECT_EQ(mode_of(pair.public_path), 0644U) << "umask " << mask;
    EXPECT_EQ(pair.public_key.key_id.size(), 16U);
    EXPECT_EQ(load_ed25519_private_key_info(pair.private_path).raw, pair.public_key.raw);
    EXPECT_EQ(load_ed25519_public_key(pair.public_path).raw, pair.public_key.raw);
    EXPECT_NE(read_text_file(pair.private_path).find("-----BEGIN PRIVATE KEY-----"),
              std::string::npos);
    EXPECT_NE(read_text_file(pair.public_path).find("-----BEGIN PUBLIC KEY-----"),
              std::string::npos);
  }
}

TEST(KeyFiles, KeygenRefusesToOverwriteAndLeavesNothingBehind) {
  const test::temp_dir dir;
  const auto first = generate_ed25519_key(dir.path() + "/k.key", dir.path() + "/k.pub");
  const auto before = read_text_file(first.private_path);
  try {
    (void)generate_ed25519_key(dir.path() + "/k.key", dir.path() + "/k.pub");
    FAIL() << "overwrote a key";
  } catch (const usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("k.key exists"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_text_file(first.private_path), before);
  // Only the public file exists: refused before the private one is created.
  const auto pub_only = dir.write("p.pub", "x");
  EXPECT_THROW((void)generate_ed25519_key(dir.path() + "/p.key", pub_only), usage_error);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/p.key"));
  // A dangling symbolic link counts as existing (it would be followed).
  std::filesystem::create_symlink(dir.path() + "/nowhere", dir.path() + "/l.key");
  EXPECT_THROW((void)generate_ed25519_key(dir.path() + "/l.key", dir.path() + "/l.pub"),
               usage_error);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/nowhere"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/l.pub"));
}

TEST(KeyFiles, APrivateKeyOthersCanReadIsRefusedNamingTheFile) {
  const test::temp_dir dir;
  const auto pair = generate_ed25519_key(dir.path() + "/k.key", dir.path() + "/k.pub");
  for (const mode_t m : {mode_t{0644}, mode_t{0640}, mode_t{0604}, mode_t{0602}, mode_t{0620}}) {
    ASSERT_EQ(::chmod(pair.private_path.c_str(), m), 0);
    try {
      (void)seal_certificate({{"x", 1}}, pair.private_path);
      FAIL() << "mode " << std::oct << m << " accepted";
    } catch (const usage_error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(pair.private_path), std::string::npos) << what;
      EXPECT_NE(what.find("too open"), std::string::npos) << what;
    }
  }
  ASSERT_EQ(::chmod(pair.private_path.c_str(), 0400), 0);
  EXPECT_NO_THROW((void)seal_certificate({{"x", 1}}, pair.private_path));
}

TEST(KeyFiles, WrongKeyFilesAreUsageErrors) {
  const test::temp_dir dir;
  const auto pair = generate_ed25519_key(dir.path() + "/k.key", dir.path() + "/k.pub");
  // A public key where the private one is expected and the other way round.
  const auto pub_as_private =
      write_private_key(dir, "pub-as.key", read_text_file(pair.public_path));
  EXPECT_THROW((void)load_ed25519_private_key_info(pub_as_private), usage_error);
  EXPECT_THROW((void)load_ed25519_public_key(pair.private_path), usage_error);
  EXPECT_THROW((void)load_ed25519_public_key(dir.path() + "/missing.pub"), usage_error);
  EXPECT_THROW((void)load_ed25519_private_key_info(dir.path() + "/missing.key"), usage_error);
  EXPECT_THROW((void)load_ed25519_public_key(dir.path()), usage_error);
}

// ---------------------------------------------------------------------------------------------
// Certificates

// A body with every kind of value the certify command writes: nested objects and arrays,
// integers, doubles written in exponent form, escapes, non-ASCII text and keys.
nlohmann::json sample_body() {
  return nlohmann::json::parse(R"({
    "device": {"name": "NVIDIA H200", "uuid": "GPU-8c1f2d3e-0000-4a5b-9c6d-7e8f90a1b2c3", "pci": "10de:2335",
               "memory_bytes": 150754820096, "sm_count": 132, "ecc": true, "mig": null},
    "lab": {"name": "Labor Süd \"B\"", "tester": "Zoë O'Neil", "location": "DE"},
    "started": "2026-12-02T10:00:00Z",
    "results": [
      {"benchmark": "fma_fp64", "median": 1.979e15, "iqr": 0.0125, "min": 1.96e15, "max": 1.99e15,
       "samples": 12, "verified": true, "fraction": 0.9712, "stop": "ci\u00a0tight"},
      {"benchmark": "dram_read", "median": 4.3e12, "iqr": 1e-07, "min": -0.5, "max": 4.4e12,
       "samples": 7, "verified": false, "note": "line1\nline2\ttab \u0001 \\ end"}
    ],
    "tpp": {"declared": 15832, "derived": 15831.5, "measured": 14970.25},
    "\u00e9tiquette": ["\ud83d\ude00", "", [], {}],
    "verdict": "pass"
  })");
}

TEST(Certificate, SealThenVerify) {
  const test::temp_dir dir;
  const auto pair = generate_ed25519_key(dir.path() + "/k.key", dir.path() + "/k.pub");

  const auto unsigned_cert = seal_certificate(sample_body(), std::nullopt);
  EXPECT_EQ(unsigned_cert.at("schema"), "chipgauge.certificate/1");
  EXPECT_EQ(unsigned_cert.at("integrity").at("canonicalization"), "RFC 8785");
  EXPECT_EQ(unsigned_cert.at("integrity").at("hash"), "sha256");
  EXPECT_EQ(unsigned_cert.at("integrity").at("sha256"), sha256_hex(canonical_json(sample_body())));
  EXPECT_FALSE(unsigned_cert.at("integrity").contains("signature"));
  const auto u = verify_certificate(unsigned_cert, std::nullopt);
  EXPECT_TRUE(u.hash_ok);
  EXPECT_FALSE(u.has_signature);
  EXPECT_EQ(u.status(), exit_code::ok);
  EXPECT_EQ(u.verdict(), "verified");

  const auto signed_cert = seal_certificate(sample_body(), pair.private_path);
  const auto& sig = signed_cert.at("integrity").at("signature");
  EXPECT_EQ(sig.at("algorithm"), "Ed25519");
  EXPECT_EQ(sig.at("key_id"), pair.public_key.key_id);
  EXPECT_EQ(sig.at("public_key"), base64_encode(pair.public_key.raw));
  EXPECT_EQ(base64_decode(sig.at("value").get<std::string>())->size(), 64U);

  // Through the file as the CLI writes it.
  const auto file = dir.write("cert.json", certificate_text(signed_cert));
  const auto ok = verify_certificate_file(file, pair.public_path);
  EXPECT_TRUE(ok.hash_ok);
  EXPECT_TRUE(ok.signature_valid);
  EXPECT_TRUE(ok.signer_trusted);
  EXPECT_EQ(ok.signer_key_id, pair.public_key.key_id);
  EXPECT_EQ(ok.status(), exit_code::ok);

  // Signed, no --pubkey: intact and validly signed, but by whom is not established.
  const auto unauth = verify_certificate_file(file, std::nullopt);
  EXPECT_TRUE(unauth.hash_ok);
  EXPECT_TRUE(unauth.signature_valid);
  EXPECT_EQ(unauth.status(), exit_code::unverified);
  EXPECT_EQ(unauth.verdict(), "unauthenticated");
  EXPECT_NE(nlohmann::json(unauth.findings).dump().find(pair.public_key.key_id), std::string::npos);

  // Reformatted (compact): the signature covers the value, so a value-only check passes, but the
  // default check holds the file to its sealed bytes and fails it.
  const auto compact = dir.write("compact.json", signed_cert.dump());
  EXPECT_EQ(verify_certificate_file(compact, pair.public_path, layout_check::value_only).status(),
            exit_code::ok);
  const auto strict = verify_certificate_file(compact, pair.public_path);
  EXPECT_FALSE(strict.layout_ok);
  EXPECT_EQ(strict.status(), exit_code::regression);
  EXPECT_NE(nlohmann::json(strict.findings).dump().find("--value-only"), std::string::npos);
}

TEST(Certificate, TheRfc8032KeyGivesAFixedCertificate) {
  const test::temp_dir dir;
  const auto key = write_private_key(dir, "rfc.key", rfc8032_test1_private_pem());
  const auto cert = seal_certificate({{"b", 2}, {"a", "\u00e9"}}, key);
  EXPECT_EQ(cert.at("integrity").at("sha256"), sha256_hex("{\"a\":\"\xC3\xA9\",\"b\":2}"));
  EXPECT_EQ(cert.at("integrity").at("signature").at("public_key"),
            "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  EXPECT_EQ(cert.at("integrity").at("signature").at("value"),
            base64_encode(ed25519_sign(key, "{\"a\":\"\xC3\xA9\",\"b\":2}")));
  EXPECT_TRUE(ed25519_verify(
      from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"),
      "{\"a\":\"\xC3\xA9\",\"b\":2}",
      *base64_decode(cert.at("integrity").at("signature").at("value").get<std::string>())));
}

std::string rfc8032_test1_public_pem() {
  const auto der = from_hex("302a300506032b6570032100") +
                   from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  return "-----BEGIN PUBLIC KEY-----\n" + base64_encode(der) + "\n-----END PUBLIC KEY-----\n";
}

// tests/data/certificate-{signed,unsigned}.json: the sample body sealed by this code, signed with
// the RFC 8032 test key. A certificate filed today must verify with every later version, so the
// bytes are fixed; CHIPGAUGE_UPDATE_GOLDEN=1 rewrites them (only for a deliberate format change).
// They are also the seeds of the certificate fuzz target.
TEST(Certificate, FiledCertificatesStillVerify) {
  const test::temp_dir dir;
  const auto key = write_private_key(dir, "rfc.key", rfc8032_test1_private_pem());
  const auto pub = dir.write("rfc.pub", rfc8032_test1_public_pem());
  EXPECT_EQ(load_ed25519_public_key(pub).raw, load_ed25519_private_key_info(key).raw);
  const std::vector<std::pair<std::string, std::string>> files = {
      {test::data_dir() + "/certificate-signed.json",
       certificate_text(seal_certificate(sample_body(), key))},
      {test::data_dir() + "/certificate-unsigned.json",
       certificate_text(seal_certificate(sample_body(), std::nullopt))}};
  for (const auto& [path, text] : files) {
    if (const char* update = std::getenv("CHIPGAUGE_UPDATE_GOLDEN");
        update && std::string(update) == "1")
      write_file_atomically(path, text);
    EXPECT_EQ(read_text_file(path), text) << path << " is no longer what sealing writes";
  }
  const auto s = verify_certificate_file(files[0].first, pub);
  EXPECT_EQ(s.status(), exit_code::ok);
  EXPECT_EQ(
      s.signer_key_id,
      ed25519_key_id(from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")));
  EXPECT_EQ(verify_certificate_file(files[1].first, std::nullopt).status(), exit_code::ok);
}

// Every byte of the body as written is changed, one at a time, to several other values: the
// result must never verify unless the edited file still holds exactly the same body value
// (insignificant whitespace, "e+15" spelled "E+15" or "e015", a \u escape's hex case: the
// signature covers the JSON value, which RFC 8785 makes one byte string).
TEST(Certificate, EveryOneByteChangeOfTheBodyFailsVerification) {
  const test::temp_dir dir;
  const auto pair = generate_ed25519_key(dir.path() + "/k.key", dir.path() + "/k.pub");
  const auto body = sample_body();
  const std::string text = certificate_text(seal_certificate(body, pair.private_path));
  const auto trusted = load_ed25519_public_key(pair.public_path);
  (void)trusted;

  const std::string marker = "\"body\": ";
  const auto start = text.find(marker);
  ASSERT_NE(start, std::string::npos);
  const std::size_t body_begin = start + marker.size();
  const auto body_end = text.find(",\n  \"integrity\"");
  ASSERT_NE(body_end, std::string::npos);
  ASSERT_EQ(text[body_begin], '{');
  ASSERT_EQ(text[body_end - 1], '}');
  ASSERT_EQ(parse_json_text(text.substr(body_begin, body_end - body_begin), "body"), body);

  std::size_t tried = 0;
  std::size_t parse_errors = 0;
  std::size_t failed = 0;
  std::size_t same_value = 0;
  for (std::size_t pos = body_begin; pos < body_end; ++pos) {
    const auto original = static_cast<unsigned char>(text[pos]);
    std::vector<unsigned char> replacements = {' ', '0', '1', 'E', '"', '\\', ',', '}'};
    for (const unsigned bit : {0x01U, 0x02U, 0x04U, 0x08U, 0x10U, 0x20U, 0x40U, 0x80U})
      replacements.push_back(static_cast<unsigned char>(original ^ bit));
    for (const unsigned char r : replacements) {
      if (r == original) continue;
      ++tried;
      std::string mutated = text;
      mutated[pos] = static_cast<char>(r);
      nlohmann::json doc;
      try {
        doc = parse_json_text(mutated, "mutated.json");
      } catch (const spec_error&) {
        ++parse_errors;
        continue;
      }
      exit_code status = exit_code::ok;
      try {
        status = verify_certificate(doc, pair.public_path, "mutated.json").status();
      } catch (const spec_error&) {
        ++parse_errors;
        continue;
      }
      if (status != exit_code::ok) {
        EXPECT_EQ(status, exit_code::regression) << "byte " << pos;
        ++failed;
        continue;
      }
      // Verified as a value: only acceptable when the body is, as a JSON value, the one that was
      // signed; and the file as written must still fail the default byte-level check.
      ++same_value;
      const auto file = dir.write("mutated.json", mutated);
      EXPECT_EQ(verify_certificate_file(file, pair.public_path).status(), exit_code::regression)
          << "byte " << pos;
      EXPECT_EQ(doc.at("body"), body)
          << "byte " << pos << " ('" << text[pos] << "' -> '" << static_cast<char>(r)
          << "') changed the body yet it verified";
      EXPECT_EQ(canonical_json(doc.at("body")), canonical_json(body));
    }
  }
  std::printf(
      "%zu one-byte edits of %zu body bytes: %zu unreadable, %zu failed verification, %zu kept "
      "the body's value\n",
      tried, body_end - body_begin, parse_errors, failed, same_value);
  EXPECT_GT(tried, 10000U);
  EXPECT_GT(failed, 1000U) << "edits that parse must be caught by the hash";
  EXPECT_GT(parse_errors, 1000U);
  // The value-preserving edits are few: whitespace and number or escape spellings.
  EXPECT_LT(same_value, tried / 10);
}

TEST(Certificate, ResignedWithAnotherKeyFailsAgainstTheOriginalKey) {
  const test::temp_dir dir;
  const auto lab = generate_ed25519_key(dir.path() + "/lab.key", dir.path() + "/lab.pub");
  const auto forger = generate_ed25519_key(dir.path() + "/forger.key", dir.path() + "/forger.pub");
  auto body = sample_body();
  body["verdict"] = "pass (edited)";
  const auto forged = seal_certificate(body, forger.private_path);

  const auto against_lab = verify_certificate(forged, lab.public_path);
  EXPECT_TRUE(against_lab.hash_ok);
  EXPECT_TRUE(against_lab.signature_valid);
  EXPECT_FALSE(against_lab.signer_trusted);
  EXPECT_EQ(against_lab.signer_key_id, forger.public_key.key_id);
  EXPECT_EQ(against_lab.trusted_key_id, lab.public_key.key_id);
  EXPECT_EQ(against_lab.status(), exit_code::regression);
  EXPECT_NE(nlohmann::json(against_lab.findings).dump().find("wrong signer"), std::string::npos);

  const auto no_key = verify_certificate(forged, std::nullopt);
  EXPECT_EQ(no_key.status(), exit_code::unverified);

  // The forger's signature spliced onto the lab's public key (key_id kept consistent) does not
  // verify.
  auto spliced = forged;
  spliced["integrity"]["signature"]["public_key"] = base64_encode(lab.public_key.raw);
  spliced["integrity"]["signature"]["key_id"] = lab.public_key.key_id;
  const auto s = verify_certificate(spliced, lab.public_path);
  EXPECT_FALSE(s.signature_valid);
  EXPECT_EQ(s.status(), exit_code::regression);
}

TEST(Certificate, UnsignedOrStrippedWithAPubkeyFails) {
  const test::temp_dir dir;
  const auto lab = generate_ed25519_key(dir.path() + "/lab.key", dir.path() + "/lab.pub");
  const auto unsigned_cert = seal_certificate(sample_body(), std::nullopt);
  const auto c = verify_certificate(unsigned_cert, lab.public_path);
  EXPECT_TRUE(c.hash_ok);
  EXPECT_EQ(c.status(), exit_code::regression);

  // An edited body with a recomputed hash and the signature removed: only --pubkey catches it.
  auto stripped = seal_certificate(sample_body(), lab.private_path);
  stripped["body"]["verdict"] = "fail";
  stripped["integrity"].erase("signature");
  stripped["integrity"]["sha256"] = sha256_hex(canonical_json(stripped["body"]));
  EXPECT_EQ(verify_certificate(stripped, std::nullopt).status(), exit_code::ok);
  EXPECT_EQ(verify_certificate(stripped, lab.public_path).status(), exit_code::regression);
}

TEST(Certificate, ChangedIntegrityFieldsFail) {
  const test::temp_dir dir;
  const auto lab = generate_ed25519_key(dir.path() + "/lab.key", dir.path() + "/lab.pub");
  const auto cert = seal_certificate(sample_body(), lab.private_path);

  auto hash_changed = cert;
  auto h = hash_changed["integrity"]["sha256"].get<std::string>();
  h[0] = h[0] == '0' ? '1' : '0';
  hash_changed["integrity"]["sha256"] = h;
  const auto hc = verify_certificate(hash_changed, lab.public_path);
  EXPECT_FALSE(hc.hash_ok);
  EXPECT_TRUE(hc.signature_valid) << "the signature is over the body, not the recorded hash";
  EXPECT_EQ(hc.status(), exit_code::regression);
  EXPECT_NE(hc.findings.at(0).find("body changed"), std::string::npos);

  auto sig_changed = cert;
  auto raw = *base64_decode(sig_changed["integrity"]["signature"]["value"].get<std::string>());
  raw[5] = static_cast<char>(raw[5] ^ 0x40);
  sig_changed["integrity"]["signature"]["value"] = base64_encode(raw);
  const auto sc = verify_certificate(sig_changed, lab.public_path);
  EXPECT_FALSE(sc.signature_valid);
  EXPECT_EQ(sc.status(), exit_code::regression);
  EXPECT_NE(nlohmann::json(sc.findings).dump().find("signature does not verify"),
            std::string::npos);

  auto id_changed = cert;
  id_changed["integrity"]["signature"]["key_id"] = "0123456789abcdef";
  const auto ic = verify_certificate(id_changed, lab.public_path);
  EXPECT_FALSE(ic.key_id_consistent);
  EXPECT_EQ(ic.status(), exit_code::regression);
}

void expect_malformed(const nlohmann::json& cert, const std::string& path_fragment) {
  try {
    (void)verify_certificate(cert, std::nullopt, "c.json");
    ADD_FAILURE() << "accepted: " << cert.dump();
  } catch (const spec_error& e) {
    EXPECT_EQ(e.file(), "c.json");
    EXPECT_NE(e.json_path().find(path_fragment), std::string::npos)
        << e.what() << " (expected " << path_fragment << ")";
  }
}

TEST(Certificate, MalformedCertificatesNameTheFileAndPath) {
  const test::temp_dir dir;
  const auto lab = generate_ed25519_key(dir.path() + "/lab.key", dir.path() + "/lab.pub");
  const auto cert = seal_certificate(sample_body(), lab.private_path);
  auto edit = [&](const std::function<void(nlohmann::json&)>& f) {
    auto c = cert;
    f(c);
    return c;
  };
  expect_malformed(nlohmann::json::array(), "$");
  expect_malformed(edit([](nlohmann::json& c) { c["schema"] = "chipgauge.certificate/2"; }),
                   "$.schema");
  expect_malformed(edit([](nlohmann::json& c) { c.erase("schema"); }), "$");
  expect_malformed(edit([](nlohmann::json& c) { c.erase("body"); }), "$");
  expect_malformed(edit([](nlohmann::json& c) { c.erase("integrity"); }), "$");
  expect_malformed(edit([](nlohmann::json& c) { c["note"] = "outside the hash"; }), "$");
  expect_malformed(edit([](nlohmann::json& c) { c["integrity"]["canonicalization"] = "JCS-ish"; }),
                   "$.integrity.canonicalization");
  expect_malformed(edit([](nlohmann::json& c) { c["integrity"]["hash"] = "sha1"; }),
                   "$.integrity.hash");
  expect_malformed(edit([](nlohmann::json& c) { c["integrity"].erase("sha256"); }), "$.integrity");
  expect_malformed(edit([](nlohmann::json& c) { c["integrity"]["sha256"] = "ABC"; }),
                   "$.integrity.sha256");
  expect_malformed(edit([](nlohmann::json& c) {
                     auto s = c["integrity"]["sha256"].get<std::string>();
                     for (auto& ch : s)
                       ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
                     c["integrity"]["sha256"] = s;
                   }),
                   "$.integrity.sha256");
  expect_malformed(edit([](nlohmann::json& c) { c["integrity"]["extra"] = 1; }), "$.integrity");
  expect_malformed(edit([](nlohmann::json& c) { c["integrity"]["signature"] = nullptr; }),
                   "$.integrity.signature");
  expect_malformed(
      edit([](nlohmann::json& c) { c["integrity"]["signature"]["algorithm"] = "RSA"; }),
      "$.integrity.signature.algorithm");
  expect_malformed(
      edit([](nlohmann::json& c) { c["integrity"]["signature"]["public_key"] = "not base64!"; }),
      "$.integrity.signature.public_key");
  expect_malformed(edit([](nlohmann::json& c) {
                     c["integrity"]["signature"]["public_key"] = base64_encode("short");
                   }),
                   "$.integrity.signature.public_key");
  expect_malformed(edit([](nlohmann::json& c) {
                     c["integrity"]["signature"]["value"] = base64_encode(std::string(63, 'x'));
                   }),
                   "$.integrity.signature.value");
  expect_malformed(edit([](nlohmann::json& c) { c["integrity"]["signature"]["key_id"] = "xyz"; }),
                   "$.integrity.signature.key_id");
  expect_malformed(edit([](nlohmann::json& c) { c["integrity"]["signature"].erase("value"); }),
                   "$.integrity.signature");
  expect_malformed(edit([](nlohmann::json& c) {
                     c["body"]["results"][1]["samples"] = nlohmann::json::parse("9007199254740993");
                   }),
                   "$.body.results[1].samples");
}

TEST(Certificate, SealingRefusesWhatRfc8785CannotSerialise) {
  try {
    (void)seal_certificate({{"rate", std::numeric_limits<double>::quiet_NaN()}}, std::nullopt);
    FAIL() << "NaN sealed";
  } catch (const canonicalization_error& e) {
    EXPECT_EQ(e.json_path(), "$.body.rate");
  }
}

TEST(Certificate, DuplicateKeysInTheFileAreRefused) {
  // Another reader could take the first of two "verdict" keys where this one takes the second.
  const test::temp_dir dir;
  auto text = certificate_text(seal_certificate({{"verdict", "pass"}}, std::nullopt));
  text.replace(text.find("\"verdict\""), 0, "\"verdict\": \"fail\", ");
  const auto f = dir.write("dup.json", text);
  EXPECT_THROW((void)verify_certificate_file(f, std::nullopt), spec_error);
}

// ---------------------------------------------------------------------------------------------
// The commands

test::run_result chipgauge(const std::string& args) {
  return test::run_command(std::string("'") + CHIPGAUGE_BINARY + "' " + args);
}

TEST(CliCertificate, KeygenWritesTheKeyPairAndRefusesToOverwrite) {
  const test::temp_dir dir;
  const auto prefix = dir.path() + "/lab1";
  const auto r = chipgauge("certificate keygen --out '" + prefix + "'");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(mode_of(prefix + ".key"), 0600U);
  EXPECT_EQ(mode_of(prefix + ".pub"), 0644U);
  const auto id = load_ed25519_public_key(prefix + ".pub").key_id;
  EXPECT_NE(r.out.find("key id " + id), std::string::npos) << r.out;

  const auto before = read_text_file(prefix + ".key");
  const auto again = chipgauge("certificate keygen --out '" + prefix + "'");
  EXPECT_EQ(again.status, 2);
  EXPECT_TRUE(again.out.empty());
  EXPECT_NE(again.err.find(prefix + ".key exists"), std::string::npos) << again.err;
  EXPECT_EQ(read_text_file(prefix + ".key"), before);
}

TEST(CliCertificate, VerifyExitCodes) {
  const test::temp_dir dir;
  const auto lab = generate_ed25519_key(dir.path() + "/lab.key", dir.path() + "/lab.pub");
  const auto other = generate_ed25519_key(dir.path() + "/other.key", dir.path() + "/other.pub");
  const auto signed_file =
      dir.write("signed.json", certificate_text(seal_certificate(sample_body(), lab.private_path)));
  const auto unsigned_file =
      dir.write("unsigned.json", certificate_text(seal_certificate(sample_body(), std::nullopt)));

  const auto ok =
      chipgauge("certificate verify '" + signed_file + "' --pubkey '" + lab.public_path + "'");
  EXPECT_EQ(ok.status, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("verified"), std::string::npos) << ok.out;

  const auto unauth = chipgauge("certificate verify '" + signed_file + "'");
  EXPECT_EQ(unauth.status, 3) << unauth.out << unauth.err;
  EXPECT_NE(unauth.out.find("signer not authenticated"), std::string::npos) << unauth.out;
  EXPECT_NE(unauth.out.find(lab.public_key.key_id), std::string::npos) << unauth.out;

  const auto wrong =
      chipgauge("certificate verify '" + signed_file + "' --pubkey '" + other.public_path + "'");
  EXPECT_EQ(wrong.status, 4) << wrong.out << wrong.err;

  EXPECT_EQ(chipgauge("certificate verify '" + unsigned_file + "'").status, 0);
  EXPECT_EQ(
      chipgauge("certificate verify '" + unsigned_file + "' --pubkey '" + lab.public_path + "'")
          .status,
      4);

  // One byte of the body changed ("pass" -> "pasS"): exit 4, "body changed", JSON output too.
  auto text = read_text_file(signed_file);
  const auto at = text.find("\"pass\"");
  ASSERT_NE(at, std::string::npos);
  text[at + 4] = 'S';
  const auto tampered = dir.write("tampered.json", text);
  const auto t = chipgauge("certificate verify '" + tampered + "' --pubkey '" + lab.public_path +
                           "' --format json");
  EXPECT_EQ(t.status, 4) << t.out << t.err;
  const auto j = nlohmann::json::parse(t.out);
  EXPECT_EQ(j.at("schema"), "chipgauge.certificate-check/1");
  EXPECT_EQ(j.at("verdict"), "failed");
  EXPECT_EQ(j.at("exit_code"), 4);
  EXPECT_EQ(j.at("hash_ok"), false);
  EXPECT_EQ(j.at("signature_valid"), false);
  EXPECT_EQ(j.at("key_id"), lab.public_key.key_id);
  EXPECT_EQ(j.at("signer_trusted"), false)
      << "a signature that does not verify authenticates no one";
  const auto findings = j.at("findings").dump();
  EXPECT_EQ(findings.find("signer authenticated"), std::string::npos) << findings;
  EXPECT_NE(findings.find("body changed"), std::string::npos) << findings;
  EXPECT_NE(findings.find("signature does not verify"), std::string::npos) << findings;

  // Malformed: exit 2 naming the file and JSON path, nothing on stdout.
  const auto bad_schema = dir.write("bad.json", R"({"schema": "x", "body": {}, "integrity": {}})");
  const auto b = chipgauge("certificate verify '" + bad_schema + "'");
  EXPECT_EQ(b.status, 2);
  EXPECT_TRUE(b.out.empty());
  EXPECT_NE(b.err.find(bad_schema + ": $.schema"), std::string::npos) << b.err;
  const auto not_json = dir.write("not.json", "{\"schema\": ");
  const auto n = chipgauge("certificate verify '" + not_json + "'");
  EXPECT_EQ(n.status, 2);
  EXPECT_NE(n.err.find(not_json), std::string::npos) << n.err;
  // A --pubkey that is not a public key, and an unknown format.
  EXPECT_EQ(
      chipgauge("certificate verify '" + signed_file + "' --pubkey '" + lab.private_path + "'")
          .status,
      2);
  EXPECT_EQ(chipgauge("certificate verify '" + signed_file + "' --format md").status, 2);
}

}  // namespace
}  // namespace chipgauge
