// Fuzz target: certificate verification and RFC 8785 canonical JSON (core's signing.cpp).
// A document that parses is verified without a trusted key: it is refused with the file and a
// JSON path, or checked, and a check may say "verified" only when the hash matched and nothing is
// signed. Every value that canonicalises gives valid JSON that parses back to an equal value and
// canonicalises to the same bytes (the canonical form is a fixed point).
#include "fuzz_target.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "chipgauge/core/signing.hpp"

#include <nlohmann/json.hpp>

#include <string>

int fuzz_one(const std::uint8_t* data, std::size_t size) {
  const auto text = chipgauge::fuzz::as_text(data, size);
  const std::string file = "fuzz-certificate.json";
  nlohmann::json doc;
  try {
    doc = chipgauge::parse_json_text(text, file);
  } catch (const chipgauge::spec_error& e) {
    chipgauge::fuzz::rejected(e);
    return 0;
  }

  try {
    const auto check = chipgauge::verify_certificate(doc, std::nullopt, file);
    const auto status = check.status();
    if (status == chipgauge::exit_code::ok)
      chipgauge::fuzz::check(check.hash_ok && !check.has_signature,
                             "verified without a matching hash, or signed with no key");
    if (status == chipgauge::exit_code::unverified)
      chipgauge::fuzz::check(check.hash_ok && check.signature_valid,
                             "unauthenticated although a check failed");
    chipgauge::fuzz::check(!check.findings.empty(), "a check without findings");
    (void)chipgauge::certificate_check_text(check, file);
    (void)chipgauge::certificate_check_json(check, file).dump();
  } catch (const chipgauge::spec_error& e) {
    chipgauge::fuzz::rejected(e);
    chipgauge::fuzz::check(e.file() == file && !e.json_path().empty(),
                           "a malformed certificate without file or JSON path");
  }

  std::string canonical;
  try {
    canonical = chipgauge::canonical_json(doc);
  } catch (const chipgauge::canonicalization_error& e) {
    chipgauge::fuzz::rejected(e);
    return 0;
  }
  nlohmann::json again;
  try {
    again = chipgauge::parse_json_text(canonical, file);
  } catch (const chipgauge::spec_error& e) {
    chipgauge::fuzz::check(false, std::string("the canonical form does not parse: ") + e.what());
  }
  chipgauge::fuzz::check(again == doc, "the canonical form parses to another value");
  chipgauge::fuzz::check(chipgauge::canonical_json(again) == canonical,
                         "the canonical form is not a fixed point");
  return 0;
}
