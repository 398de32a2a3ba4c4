#pragma once

// Integrity of chipgauge documents: the RFC 8785 (JSON Canonicalization Scheme) serialisation of a
// JSON value, SHA-256 over it, and Ed25519 signatures over the same bytes (OpenSSL's libcrypto).
// A certificate (`chipgauge.certificate/1`) is sealed and verified here; docs/signing.md is the
// format and the meaning of each check.

#include "chipgauge/core/error.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge {

/// A value that RFC 8785 cannot serialise: NaN or an infinity, an integer beyond +-2^53 (it would
/// be rounded to a double, so two different integers could share one serialisation), a string
/// or key that is not UTF-8, a binary value. what() reads "JSON_PATH: MESSAGE"; json_path() is
/// relative to the value canonicalised ("$" is that value).
class canonicalization_error : public error {
 public:
  canonicalization_error(std::string json_path, std::string message);
  [[nodiscard]] const std::string& json_path() const noexcept { return json_path_; }
  [[nodiscard]] const std::string& message() const noexcept { return message_; }

 private:
  std::string json_path_;
  std::string message_;
};

/// The RFC 8785 canonical UTF-8 serialisation of `value`: no whitespace; object members sorted
/// by their keys' UTF-16 code units; numbers as ECMAScript's Number.prototype.toString writes the
/// IEEE-754 double (shortest round trip, "1e+21", "1e-7", -0 as "0"); strings with only `"`, `\`
/// and the control characters U+0000..U+001F escaped (\b \f \n \r \t, else \u00xx in lowercase
/// hex), everything else as UTF-8. Throws canonicalization_error for what it cannot serialise.
std::string canonical_json(const nlohmann::json& value);

/// SHA-256 of `data` as 64 lowercase hexadecimal digits.
std::string sha256_hex(std::string_view data);

/// The standard base64 alphabet with '=' padding (RFC 4648 section 4).
std::string base64_encode(std::string_view bytes);
/// Strict base64: the standard alphabet, '=' padding to a multiple of 4 characters, no
/// whitespace, unused bits zero (so one byte string has exactly one encoding). nullopt otherwise.
std::optional<std::string> base64_decode(std::string_view text);

/// An Ed25519 key identified by its raw 32-byte public key.
struct public_key_info {
  std::string raw;     ///< the 32-byte raw public key (RFC 8032)
  std::string key_id;  ///< ed25519_key_id(raw)
};

/// The first 16 hexadecimal digits of SHA-256 of the raw 32-byte public key.
std::string ed25519_key_id(std::string_view raw_public_key);

/// The files generate_ed25519_key wrote.
struct key_pair {
  std::string private_path;  ///< PKCS#8 PEM, mode 0600
  std::string public_path;   ///< SubjectPublicKeyInfo PEM, mode 0644
  public_key_info public_key;
};

/// Generates an Ed25519 key pair and writes it as PEM: the private key to `private_path`, created
/// with open(O_CREAT | O_EXCL, 0600) and mode 0600 whatever the umask, and the public key to
/// `public_path` with mode 0644. Refuses (usage_error, naming the file) when either file exists,
/// a symbolic link included; nothing is left behind on failure. Throws chipgauge::error on an
/// I/O or OpenSSL failure.
key_pair generate_ed25519_key(const std::string& private_path, const std::string& public_path);

/// The public half of the Ed25519 private key in `path` (PEM, PKCS#8). Like ssh, refuses a file
/// that group or others may read or write (mode & 077), naming the file and its mode. Throws
/// usage_error for such a file, one that cannot be read, or one that holds no Ed25519 private key.
public_key_info load_ed25519_private_key_info(const std::string& path);

/// The Ed25519 public key in `path` (PEM SubjectPublicKeyInfo, as generate_ed25519_key writes
/// it). Throws usage_error naming the file when it cannot be read or holds no Ed25519 public key.
public_key_info load_ed25519_public_key(const std::string& path);

/// The Ed25519 signature (64 bytes) of `message` by the private key in `private_key_path`
/// (checked as load_ed25519_private_key_info checks it).
std::string ed25519_sign(const std::string& private_key_path, std::string_view message);

/// Whether `signature` is a valid Ed25519 signature of `message` by the raw 32-byte public key.
/// False for a malformed key or signature too.
bool ed25519_verify(std::string_view raw_public_key, std::string_view message,
                    std::string_view signature);

/// The schema string of a certificate file.
inline constexpr std::string_view certificate_schema = "chipgauge.certificate/1";

/// The whole certificate for `body`:
///     {"schema": "chipgauge.certificate/1", "body": BODY,
///      "integrity": {"canonicalization": "RFC 8785", "hash": "sha256", "sha256": HEX,
///                    "signature": {"algorithm": "Ed25519", "public_key": BASE64, "key_id": HEX16,
///                                  "value": BASE64}}}
/// "sha256" is over canonical_json(body); "signature" (only with a private key) is the Ed25519
/// signature of the same canonical bytes. Throws canonicalization_error (path under "$.body")
/// for a body RFC 8785 cannot serialise, usage_error for an unusable key file.
nlohmann::json seal_certificate(nlohmann::json body,
                                const std::optional<std::string>& private_key_path);

/// The file text of a certificate as chipgauge writes it: two-space indented JSON and a newline.
std::string certificate_text(const nlohmann::json& certificate);

/// What verify_certificate found. verdict() and status() apply the rule in docs/signing.md.
struct certificate_check {
  std::string sha256_recorded;  ///< integrity.sha256 as written
  std::string sha256_computed;  ///< SHA-256 of the canonical body as it is now
  bool hash_ok = false;         ///< the two agree: the body is unchanged since sealing

  bool has_signature = false;
  bool signature_valid = false;   ///< verifies with the embedded public key over the current body
  std::string signer_key_id;      ///< the embedded key's id (empty when unsigned)
  bool key_id_consistent = true;  ///< the recorded key_id is the embedded public key's id

  /// The file's bytes are exactly the form chipgauge wrote when sealing (certificate_text of its
  /// value). False for a file reformatted or edited after sealing even where the body's JSON value
  /// is unchanged (whitespace, number or escape spelling): such a file fails unless the caller
  /// asked for a value-only check.
  bool layout_ok = true;

  std::optional<std::string> trusted_key_id;  ///< the --pubkey key's id, when one was given
  bool signer_trusted = false;  ///< the signature is valid and made by exactly the trusted key

  std::vector<std::string> findings;  ///< human-readable, one sentence each, in check order

  /// "verified" (exit 0), "unauthenticated" (exit 3: intact and validly signed, but no trusted
  /// key was given, so the signer is unknown) or "failed" (exit 4).
  [[nodiscard]] std::string_view verdict() const;
  [[nodiscard]] exit_code status() const;
};

/// Verifies a parsed certificate. `file` names it in errors. With `trusted_public_key_path` the
/// certificate must be signed by exactly that key. Fail closed: verified only when the body's
/// hash matches and either it is unsigned and no key was given, or the signature is valid and
/// made by the trusted key. Throws spec_error(file, JSON path, ...) for a malformed certificate
/// (wrong schema, unknown or missing fields, bad hex or base64, a body RFC 8785 cannot serialise),
/// usage_error for an unreadable public key file.
certificate_check verify_certificate(const nlohmann::json& certificate,
                                     const std::optional<std::string>& trusted_public_key_path,
                                     const std::string& file = "certificate");
/// verify_certificate with the trusted key already loaded (load_ed25519_public_key), for a caller
/// that checks many certificates against one key: the same checks, the same findings.
certificate_check verify_certificate_against(const nlohmann::json& certificate,
                                             const std::optional<public_key_info>& trusted,
                                             const std::string& file = "certificate");

/// How strictly a certificate file's bytes are held to the sealed form.
enum class layout_check : unsigned char {
  sealed_bytes,  ///< the file must be byte for byte what chipgauge wrote: any changed byte fails
                 ///< (the default)
  value_only,    ///< only the JSON value counts: a file reformatted after sealing still verifies
};

/// Reads (strictly: duplicate keys refused, at most file_limits::json_file) and verifies a
/// certificate file. With layout_check::sealed_bytes a file whose bytes differ from
/// certificate_text of its value fails (layout_ok false, exit 4), so any one changed byte of the
/// file fails verification, whether or not it changes the body's value.
certificate_check verify_certificate_file(const std::string& path,
                                          const std::optional<std::string>& trusted_public_key_path,
                                          layout_check layout = layout_check::sealed_bytes);

/// The check as JSON: {"schema": "chipgauge.certificate-check/1", "file", "verdict", "exit_code",
/// "hash_ok", "sha256_recorded", "sha256_computed", "signed", "signature_valid", "key_id",
/// "trusted_key_id", "signer_trusted", "findings"} (key ids null when absent).
nlohmann::json certificate_check_json(const certificate_check& check, const std::string& file);
/// The check as text: the verdict line, then one line per finding.
std::string certificate_check_text(const certificate_check& check, const std::string& file);

}  // namespace chipgauge
