// RFC 8785 canonical JSON, SHA-256 and Ed25519 (OpenSSL libcrypto), and certificate sealing and
// verification on top of them. The cryptography is OpenSSL's; this file only frames it.
#include "chipgauge/core/signing.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "chipgauge/core/text.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>

namespace chipgauge {

canonicalization_error::canonicalization_error(std::string json_path, std::string message)
    : error(json_path + ": " + message),
      json_path_(std::move(json_path)),
      message_(std::move(message)) {}

namespace {

// ---------------------------------------------------------------------------------------------
// RFC 8785

// I-JSON (RFC 7493) integers: every integer in [-2^53, 2^53] is exactly a double, and no two of
// them share one. Beyond that range RFC 8785 would serialise the rounded double.
constexpr std::int64_t max_exact_integer = std::int64_t{1} << 53;

// Number.prototype.toString (ECMAScript 2024, 6.1.6.1.20) of a finite double.
void append_es_number(std::string& out, double v) {
  if (v == 0) {  // +0 and -0
    out += '0';
    return;
  }
  if (v < 0) {
    out += '-';
    v = -v;
  }
  // Shortest round-trip digits: to_chars picks the fewest significant digits that read back as v
  // and, among those, the closest to v, which is the s and k of the ECMAScript algorithm.
  std::array<char, 64> buf{};
  const auto res =
      std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::scientific);
  const std::string_view sci(buf.data(),
                             static_cast<std::size_t>(res.ptr - buf.data()));  // d[.ddd]e(+|-)XX
  const auto e_pos = sci.find('e');
  std::string digits;
  for (const char c : sci.substr(0, e_pos))
    if (c != '.') digits += c;
  int exponent = 0;
  const auto exp_text = sci.substr(e_pos + 1);
  const char* first = exp_text.data() + (exp_text.front() == '+' ? 1 : 0);
  std::from_chars(first, exp_text.data() + exp_text.size(), exponent);
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;  // v = 0.digits x 10^n
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<std::size_t>(n));
    out += '.';
    out.append(digits, static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += 'e';
    out += n - 1 < 0 ? '-' : '+';
    out += std::to_string(std::abs(n - 1));
  }
}

// Where append_canonical is, as a chain of steps up to the value canonicalised. The JSON path text
// is built only for an error message: a certificate has thousands of members, and formatting each
// one's path up front was most of the canonicalisation time.
struct path_step {
  const path_step* parent = nullptr;  ///< nullptr: the value canonicalised ("$")
  const std::string* key = nullptr;   ///< the member's key, or nullptr for an array element
  std::size_t index = 0;              ///< the array element's index
};

std::string path_text(const path_step* step) {
  if (step == nullptr) return "$";
  std::string out = path_text(step->parent);
  if (step->key != nullptr) return out + "." + quote_input(*step->key);
  return fmt::format("{}[{}]", out, step->index);
}

void append_string(std::string& out, const std::string& s, const path_step* path) {
  std::size_t bad = 0;
  if (!valid_utf8(s, &bad))
    throw canonicalization_error(
        path_text(path),
        fmt::format("the string is not UTF-8 (byte {} of {})", bad, quote_input(s)));
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  // Runs of characters written as they are go in one append.
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s, run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0xF];
    }
  }
  out.append(s, run, s.size() - run);
  out += '"';
}

// The UTF-16 code units of a UTF-8 string already checked by valid_utf8.
std::u16string utf16_units(const std::string& s) {
  std::u16string u;
  u.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    char32_t cp = 0;
    std::size_t len = 1;
    if (c < 0x80) {
      cp = c;
    } else if (c < 0xE0) {
      cp = c & 0x1Fu;
      len = 2;
    } else if (c < 0xF0) {
      cp = c & 0x0Fu;
      len = 3;
    } else {
      cp = c & 0x07u;
      len = 4;
    }
    for (std::size_t j = 1; j < len; ++j)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + j]) & 0x3Fu);
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      u += static_cast<char16_t>(0xD800 + (cp >> 10));
      u += static_cast<char16_t>(0xDC00 + (cp & 0x3FF));
    } else {
      u += static_cast<char16_t>(cp);
    }
  }
  return u;
}

// A valid UTF-8 key with a four-byte sequence: a code point beyond U+FFFF, two UTF-16 code units.
bool beyond_bmp(const std::string& key) {
  return std::any_of(key.begin(), key.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0xF0; });
}

void append_canonical(std::string& out, const nlohmann::json& v, const path_step* path) {
  using t = nlohmann::json::value_t;
  switch (v.type()) {
    case t::null: out += "null"; return;
    case t::boolean: out += v.get<bool>() ? "true" : "false"; return;
    case t::number_integer: {
      const auto i = v.get<std::int64_t>();
      if (i > max_exact_integer || i < -max_exact_integer) {
        // Beyond 2^53 an integer is refused only when a double cannot hold it exactly: one that it
        // can (9190000000000000, as a double's own canonical form reads back) is that double.
        // Accepted when it is the canonical text of its nearest double (333333333333333300 for
        // 333333333333333312): then it is that double, written as RFC 8785 writes it.
        std::string as_double;
        append_es_number(as_double, static_cast<double>(i));
        if (as_double != std::to_string(i))
          throw canonicalization_error(
              path_text(path),
              fmt::format(
                  "the integer {} is beyond +-2^53 and not a double: RFC 8785 would round it "
                  "(write it as a string)",
                  i));
        out += as_double;
        return;
      }
      out += std::to_string(i);
      return;
    }
    case t::number_unsigned: {
      const auto u = v.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(max_exact_integer)) {
        std::string as_double;
        append_es_number(as_double, static_cast<double>(u));
        if (as_double != std::to_string(u))
          throw canonicalization_error(
              path_text(path),
              fmt::format("the integer {} is beyond 2^53 and not a double: RFC 8785 would round it "
                          "(write it as a string)",
                          u));
        out += as_double;
        return;
      }
      out += std::to_string(u);
      return;
    }
    case t::number_float: {
      const double d = v.get<double>();
      if (!std::isfinite(d))
        throw canonicalization_error(
            path_text(path),
            fmt::format("{} is not a JSON number: RFC 8785 serialises finite numbers only", d));
      append_es_number(out, d);
      return;
    }
    case t::string: append_string(out, v.get_ref<const std::string&>(), path); return;
    case t::array: {
      out += '[';
      path_step step{path, nullptr, 0};
      for (const auto& e : v) {
        if (step.index != 0) out += ',';
        append_canonical(out, e, &step);
        ++step.index;
      }
      out += ']';
      return;
    }
    case t::object: {
      // RFC 8785 3.2.3: members by their keys' UTF-16 code units, compared as unsigned integers.
      // The object's own order is by UTF-8 bytes, which is code point order for valid UTF-8; the
      // two orders differ only where a key holds a code point beyond U+FFFF (a surrogate pair
      // sorts below U+E000..U+FFFF), so only then are the members sorted again.
      std::vector<std::pair<std::u16string, nlohmann::json::const_iterator>> members;
      bool resort = false;
      for (auto it = v.begin(); it != v.end(); ++it) {
        std::size_t bad = 0;
        if (!valid_utf8(it.key(), &bad)) {
          const path_step step{path, &it.key(), 0};
          throw canonicalization_error(path_text(&step),
                                       fmt::format("the key is not UTF-8 (byte {})", bad));
        }
        resort = resort || beyond_bmp(it.key());
      }
      if (resort) {
        members.reserve(v.size());
        for (auto it = v.begin(); it != v.end(); ++it)
          members.emplace_back(utf16_units(it.key()), it);
        std::sort(members.begin(), members.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
      }
      out += '{';
      bool first = true;
      auto member = [&](const nlohmann::json::const_iterator& it) {
        if (!first) out += ',';
        first = false;
        const path_step step{path, &it.key(), 0};
        append_string(out, it.key(), &step);
        out += ':';
        append_canonical(out, it.value(), &step);
      };
      if (resort) {
        for (const auto& [units, it] : members) member(it);
      } else {
        for (auto it = v.begin(); it != v.end(); ++it) member(it);
      }
      out += '}';
      return;
    }
    case t::binary:
      throw canonicalization_error(path_text(path), "a binary value has no JSON form");
    case t::discarded:
      throw canonicalization_error(path_text(path), "a discarded value has no JSON form");
  }
  throw canonicalization_error(path_text(path), "a value of unknown type");
}

// ---------------------------------------------------------------------------------------------
// OpenSSL

struct pkey_deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct pkey_ctx_deleter {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct md_ctx_deleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct bio_deleter {
  void operator()(BIO* p) const { BIO_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_deleter>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_deleter>;
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;

// OpenSSL's error queue as one line (and the queue emptied), for messages.
std::string openssl_errors() {
  std::string text;
  while (const unsigned long e = ERR_get_error()) {
    std::array<char, 256> buf{};
    ERR_error_string_n(e, buf.data(), buf.size());
    if (!text.empty()) text += "; ";
    text += buf.data();
  }
  return text.empty() ? "no detail from OpenSSL" : text;
}

[[noreturn]] void fail_openssl(const std::string& what) {
  throw error(fmt::format("{}: {}", what, openssl_errors()));
}

// Wipes a buffer that held private key material before it is freed.
class secret_string {
 public:
  secret_string() = default;
  secret_string(const secret_string&) = delete;
  secret_string& operator=(const secret_string&) = delete;
  ~secret_string() {
    if (!s_.empty()) OPENSSL_cleanse(s_.data(), s_.size());
  }
  std::string& get() { return s_; }

 private:
  std::string s_;
};

// A PEM key file's text: at most 64 KiB, a regular file.
constexpr std::size_t max_key_file_bytes = 64 * 1024;

// Reads a key file. With `private_key`, refuses it when group or others have any access to it.
void read_key_file(const std::string& path, bool private_key, std::string& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw usage_error(fmt::format("cannot open the key file {}: {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw usage_error(fmt::format("the key file {} is not a regular file", path));
  }
  if (private_key && (st.st_mode & 077) != 0) {
    ::close(fd);
    throw usage_error(fmt::format(
        "the private key file {} has permissions {:04o}, too open: a private key must be "
        "readable by its owner only (chmod 600 {})",
        path, st.st_mode & 07777, path));
  }
  out.clear();
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      OPENSSL_cleanse(buf, sizeof buf);
      throw usage_error(fmt::format("cannot read the key file {}: {}", path, std::strerror(saved)));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_key_file_bytes) {
      ::close(fd);
      OPENSSL_cleanse(buf, sizeof buf);
      throw usage_error(fmt::format("the key file {} is larger than {} bytes: expected one PEM key",
                                    path, max_key_file_bytes));
    }
  }
  OPENSSL_cleanse(buf, sizeof buf);
  ::close(fd);
}

// Refuses to prompt for a passphrase (OpenSSL's default callback would read the terminal).
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) { return -1; }

pkey_ptr load_private_key(const std::string& path) {
  secret_string text;
  read_key_file(path, true, text.get());
  bio_ptr bio(BIO_new_mem_buf(text.get().data(), static_cast<int>(text.get().size())));
  if (!bio) fail_openssl("cannot allocate a memory BIO");
  pkey_ptr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key)
    throw usage_error(fmt::format(
        "{} holds no readable private key (expected an unencrypted PEM key from 'chipgauge "
        "certificate keygen'): {}",
        path, openssl_errors()));
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519)
    throw usage_error(fmt::format("{} holds a {} key: expected an Ed25519 private key", path,
                                  EVP_PKEY_get0_type_name(key.get())));
  return key;
}

std::string raw_public_key(EVP_PKEY* key, const std::string& path) {
  std::string raw(32, '\0');
  std::size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &len) != 1 ||
      len != 32)
    fail_openssl("cannot extract the raw Ed25519 public key of " + path);
  return raw;
}

std::string pem_of(EVP_PKEY* key, bool private_key) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio) fail_openssl("cannot allocate a memory BIO");
  const int ok =
      private_key ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)
                  : PEM_write_bio_PUBKEY(bio.get(), key);
  if (ok != 1)
    fail_openssl(private_key ? "cannot encode the private key as PEM"
                             : "cannot encode the public key as PEM");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  std::string out(data, static_cast<std::size_t>(n));
  if (private_key) OPENSSL_cleanse(data, static_cast<std::size_t>(n));
  return out;
}

// Creates `path` (which must not exist) with exactly `mode`, writes `content` and flushes it.
// On failure nothing is left at `path`.
void write_new_file(const std::string& path, std::string_view content, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    if (errno == EEXIST)
      throw usage_error(fmt::format("{} exists: refusing to overwrite a key file", path));
    throw error(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  }
  auto fail = [&](const char* what) {
    const int saved = errno;
    ::close(fd);
    ::unlink(path.c_str());
    throw error(fmt::format("cannot {} {}: {}", what, path, std::strerror(saved)));
  };
  // The umask may have removed bits from `mode`; set it exactly (never more than asked).
  if (::fchmod(fd, mode) != 0) fail("set the mode of");
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write");
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) fail("flush");
  if (::close(fd) != 0) {
    const int saved = errno;
    ::unlink(path.c_str());
    throw error(fmt::format("cannot close {}: {}", path, std::strerror(saved)));
  }
}

bool lowercase_hex(std::string_view s, std::size_t digits) {
  return s.size() == digits && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string to_hex(const unsigned char* p, std::size_t n) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out += hex[p[i] >> 4];
    out += hex[p[i] & 0xF];
  }
  return out;
}

}  // namespace

std::string canonical_json(const nlohmann::json& value) {
  std::string out;
  append_canonical(out, value, nullptr);
  return out;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != 32)
    fail_openssl("SHA-256 failed");
  return to_hex(md.data(), len);
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v =
        (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
        (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
        static_cast<unsigned char>(bytes[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += rest == 2 ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const std::size_t pad = last ? (text[i + 3] == '=' ? (text[i + 2] == '=' ? 2U : 1U) : 0U) : 0U;
    std::uint32_t v = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      int d = 0;
      if (j >= 4 - pad) {
        d = 0;
      } else {
        d = value(text[i + j]);
        if (d < 0) return std::nullopt;
      }
      v = (v << 6) | static_cast<std::uint32_t>(d);
    }
    // Padding bits must be zero: one encoding per byte string.
    if ((pad == 1 && (v & 0xFF) != 0) || (pad == 2 && (v & 0xFFFF) != 0)) return std::nullopt;
    out += static_cast<char>((v >> 16) & 0xFF);
    if (pad < 2) out += static_cast<char>((v >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(v & 0xFF);
  }
  return out;
}

std::string ed25519_key_id(std::string_view raw_public_key) {
  return sha256_hex(raw_public_key).substr(0, 16);
}

key_pair generate_ed25519_key(const std::string& private_path, const std::string& public_path) {
  if (private_path == public_path)
    throw usage_error(fmt::format("the private and public key files are both {}", private_path));
  for (const auto* p : {&private_path, &public_path}) {
    struct stat st {};
    if (::lstat(p->c_str(), &st) == 0)
      throw usage_error(fmt::format("{} exists: refusing to overwrite a key file", *p));
  }
  pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1)
    fail_openssl("cannot set up Ed25519 key generation");
  EVP_PKEY* raw_key = nullptr;
  if (EVP_PKEY_keygen(ctx.get(), &raw_key) != 1) fail_openssl("Ed25519 key generation failed");
  const pkey_ptr key(raw_key);

  key_pair out;
  out.private_path = private_path;
  out.public_path = public_path;
  out.public_key.raw = raw_public_key(key.get(), private_path);
  out.public_key.key_id = ed25519_key_id(out.public_key.raw);
  secret_string private_pem;
  private_pem.get() = pem_of(key.get(), true);
  const std::string public_pem = pem_of(key.get(), false);

  write_new_file(private_path, private_pem.get(), 0600);
  try {
    write_new_file(public_path, public_pem, 0644);
  } catch (...) {
    ::unlink(private_path.c_str());
    throw;
  }
  return out;
}

public_key_info load_ed25519_private_key_info(const std::string& path) {
  const auto key = load_private_key(path);
  public_key_info info;
  info.raw = raw_public_key(key.get(), path);
  info.key_id = ed25519_key_id(info.raw);
  return info;
}

public_key_info load_ed25519_public_key(const std::string& path) {
  std::string text;
  read_key_file(path, false, text);
  bio_ptr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) fail_openssl("cannot allocate a memory BIO");
  const pkey_ptr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key)
    throw usage_error(fmt::format(
        "{} holds no PEM public key (expected the .pub file 'chipgauge certificate keygen' "
        "writes): {}",
        path, openssl_errors()));
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519)
    throw usage_error(fmt::format("{} holds a {} key: expected an Ed25519 public key", path,
                                  EVP_PKEY_get0_type_name(key.get())));
  public_key_info info;
  info.raw = raw_public_key(key.get(), path);
  info.key_id = ed25519_key_id(info.raw);
  return info;
}

namespace {

std::string sign_with(EVP_PKEY* key, const std::string& private_key_path,
                      std::string_view message) {
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1)
    fail_openssl("cannot set up Ed25519 signing with " + private_key_path);
  std::string sig(64, '\0');
  std::size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      len != 64)
    fail_openssl("Ed25519 signing failed with " + private_key_path);
  return sig;
}

}  // namespace

std::string ed25519_sign(const std::string& private_key_path, std::string_view message) {
  const auto key = load_private_key(private_key_path);
  return sign_with(key.get(), private_key_path, message);
}

bool ed25519_verify(std::string_view raw_public_key, std::string_view message,
                    std::string_view signature) {
  if (raw_public_key.size() != 32 || signature.size() != 64) return false;
  const pkey_ptr key(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw_public_key.data()),
      32));
  if (!key) {
    ERR_clear_error();
    return false;
  }
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1)
    fail_openssl("cannot set up Ed25519 verification");
  const int r = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
      reinterpret_cast<const unsigned char*>(message.data()), message.size());
  ERR_clear_error();
  return r == 1;
}

nlohmann::json seal_certificate(nlohmann::json body,
                                const std::optional<std::string>& private_key_path) {
  std::string canonical;
  try {
    canonical = canonical_json(body);
  } catch (const canonicalization_error& e) {
    throw canonicalization_error("$.body" + e.json_path().substr(1), e.message());
  }
  nlohmann::json integrity = {
      {"canonicalization", "RFC 8785"}, {"hash", "sha256"}, {"sha256", sha256_hex(canonical)}};
  if (private_key_path) {
    // One read of the key file: the embedded public key and the signature come from the same key.
    const auto key = load_private_key(*private_key_path);
    const auto raw = raw_public_key(key.get(), *private_key_path);
    integrity["signature"] = {
        {"algorithm", "Ed25519"},
        {"public_key", base64_encode(raw)},
        {"key_id", ed25519_key_id(raw)},
        {"value", base64_encode(sign_with(key.get(), *private_key_path, canonical))}};
  }
  return {{"schema", certificate_schema},
          {"body", std::move(body)},
          {"integrity", std::move(integrity)}};
}

std::string certificate_text(const nlohmann::json& certificate) {
  return certificate.dump(2) + "\n";
}

std::string_view certificate_check::verdict() const {
  switch (status()) {
    case exit_code::ok: return "verified";
    case exit_code::unverified: return "unauthenticated";
    default: return "failed";
  }
}

exit_code certificate_check::status() const {
  if (!hash_ok || !layout_ok) return exit_code::regression;
  if (has_signature && (!signature_valid || !key_id_consistent)) return exit_code::regression;
  if (trusted_key_id)
    return has_signature && signer_trusted ? exit_code::ok : exit_code::regression;
  return has_signature ? exit_code::unverified : exit_code::ok;
}

certificate_check verify_certificate(const nlohmann::json& certificate,
                                     const std::optional<std::string>& trusted_public_key_path,
                                     const std::string& file) {
  // The trusted key first: a bad --pubkey is a usage error whatever the certificate holds.
  std::optional<public_key_info> trusted;
  if (trusted_public_key_path) trusted = load_ed25519_public_key(*trusted_public_key_path);
  return verify_certificate_against(certificate, trusted, file);
}

certificate_check verify_certificate_against(const nlohmann::json& certificate,
                                             const std::optional<public_key_info>& trusted,
                                             const std::string& file) {
  if (!certificate.is_object())
    throw spec_error(file, "$", "expected a chipgauge.certificate/1 object");
  const json_node root(certificate, file);
  root.expect_keys({"schema", "body", "integrity"});
  const auto schema = root.at("schema");
  if (!schema.is_string() || schema.raw().get<std::string>() != certificate_schema)
    schema.fail(fmt::format("expected \"{}\"", certificate_schema));
  const auto body = root.at("body");
  const auto integrity = root.at("integrity");
  integrity.expect_keys({"canonicalization", "hash", "sha256", "signature"});
  (void)integrity.at("canonicalization").one_of({"RFC 8785"});
  (void)integrity.at("hash").one_of({"sha256"});
  const auto sha_node = integrity.at("sha256");
  const std::string recorded = sha_node.string();
  if (!lowercase_hex(recorded, 64))
    sha_node.fail("expected 64 lowercase hexadecimal digits (a SHA-256)");

  struct embedded_signature {
    std::string public_key;
    std::string key_id;
    std::string value;
  };
  std::optional<embedded_signature> sig;
  if (integrity.raw().contains("signature")) {
    const auto s = integrity.at("signature");
    if (!s.is_object()) s.fail("expected an object (omit \"signature\" when unsigned)");
    s.expect_keys({"algorithm", "public_key", "key_id", "value"});
    (void)s.at("algorithm").one_of({"Ed25519"});
    embedded_signature e;
    const auto pk = s.at("public_key");
    const auto pk_raw = base64_decode(pk.string());
    if (!pk_raw || pk_raw->size() != 32)
      pk.fail("expected the base64 (RFC 4648, padded) of a 32-byte Ed25519 public key");
    e.public_key = *pk_raw;
    const auto id = s.at("key_id");
    e.key_id = id.string();
    if (!lowercase_hex(e.key_id, 16)) id.fail("expected 16 lowercase hexadecimal digits");
    const auto value = s.at("value");
    const auto sig_raw = base64_decode(value.string());
    if (!sig_raw || sig_raw->size() != 64)
      value.fail("expected the base64 (RFC 4648, padded) of a 64-byte Ed25519 signature");
    e.value = *sig_raw;
    sig = std::move(e);
  }

  std::string canonical;
  try {
    canonical = canonical_json(body.raw());
  } catch (const canonicalization_error& e) {
    throw spec_error(file, "$.body" + e.json_path().substr(1), e.message());
  }

  certificate_check c;
  c.sha256_recorded = recorded;
  c.sha256_computed = sha256_hex(canonical);
  c.hash_ok = c.sha256_computed == c.sha256_recorded;
  if (c.hash_ok)
    c.findings.push_back(fmt::format(
        "body intact: the SHA-256 of its RFC 8785 form is {}, as recorded", c.sha256_computed));
  else
    c.findings.push_back(fmt::format(
        "body changed: the SHA-256 of its RFC 8785 form is {}, the certificate records {}",
        c.sha256_computed, c.sha256_recorded));

  if (sig) {
    c.has_signature = true;
    c.signer_key_id = ed25519_key_id(sig->public_key);
    c.key_id_consistent = sig->key_id == c.signer_key_id;
    c.signature_valid = ed25519_verify(sig->public_key, canonical, sig->value);
    if (c.signature_valid)
      c.findings.push_back(fmt::format(
          "signature verifies: Ed25519 by the embedded public key {} over the body as it is",
          c.signer_key_id));
    else
      c.findings.push_back(fmt::format(
          "signature does not verify: the Ed25519 signature is not the embedded key {}'s over "
          "the body as it is",
          c.signer_key_id));
    if (!c.key_id_consistent)
      c.findings.push_back(fmt::format(
          "key id mismatch: integrity.signature.key_id is {}, the embedded public key's id is {}",
          sig->key_id, c.signer_key_id));
  }

  if (trusted) {
    c.trusted_key_id = trusted->key_id;
    const bool same_key = sig && sig->public_key == trusted->raw;
    c.signer_trusted = same_key && c.signature_valid;
    if (!sig)
      c.findings.push_back(fmt::format(
          "not signed, but --pubkey (key {}) requires a signature by that key", trusted->key_id));
    else if (c.signer_trusted)
      c.findings.push_back(
          fmt::format("signer authenticated: key {} is the --pubkey key", c.signer_key_id));
    else if (same_key)
      c.findings.push_back(fmt::format(
          "signer not authenticated: the embedded key {} is the --pubkey key, but its signature "
          "does not verify",
          c.signer_key_id));
    else
      c.findings.push_back(fmt::format(
          "wrong signer: signed by key {}, not by the --pubkey key {} (re-signed, or the wrong "
          "--pubkey)",
          c.signer_key_id, trusted->key_id));
  } else if (sig) {
    c.findings.push_back(fmt::format(
        "signer not authenticated: signed by key {}, but no --pubkey was given to check it against",
        c.signer_key_id));
  } else {
    c.findings.push_back(
        "not signed: the hash detects accidental change only, since whoever edits the body can "
        "recompute it");
  }
  return c;
}

certificate_check verify_certificate_file(const std::string& path,
                                          const std::optional<std::string>& trusted_public_key_path,
                                          layout_check layout) {
  const auto text = read_text_file(path, file_limits::json_file);
  const auto doc = parse_json_text(text, path);
  auto check = verify_certificate(doc, trusted_public_key_path, path);
  if (layout == layout_check::sealed_bytes && text != certificate_text(doc)) {
    check.layout_ok = false;
    check.findings.push_back(
        "the file's bytes differ from the form chipgauge wrote when sealing it (whitespace, key "
        "order, number or escape spelling changed after sealing): give --value-only to check "
        "the JSON value alone");
  }
  return check;
}

nlohmann::json certificate_check_json(const certificate_check& check, const std::string& file) {
  auto or_null = [](const std::string& s) {
    return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
  };
  return {{"schema", "chipgauge.certificate-check/1"},
          {"file", file},
          {"verdict", std::string(check.verdict())},
          {"exit_code", static_cast<int>(check.status())},
          {"hash_ok", check.hash_ok},
          {"layout_ok", check.layout_ok},
          {"sha256_recorded", check.sha256_recorded},
          {"sha256_computed", check.sha256_computed},
          {"signed", check.has_signature},
          {"signature_valid",
           check.has_signature ? nlohmann::json(check.signature_valid) : nlohmann::json(nullptr)},
          {"key_id", or_null(check.signer_key_id)},
          {"trusted_key_id",
           check.trusted_key_id ? nlohmann::json(*check.trusted_key_id) : nlohmann::json(nullptr)},
          {"signer_trusted", check.signer_trusted},
          {"findings", check.findings}};
}

std::string certificate_check_text(const certificate_check& check, const std::string& file) {
  std::string out =
      fmt::format("{}: {} (exit {})\n", file, check.verdict(), static_cast<int>(check.status()));
  for (const auto& f : check.findings) out += "  " + f + "\n";
  return out;
}

}  // namespace chipgauge
