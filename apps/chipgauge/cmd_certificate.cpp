// chipgauge certificate keygen --out PREFIX | verify FILE [--pubkey FILE] [--format text|json]
// (docs/signing.md). The checks live in core's signing.cpp; this file parses and prints.
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/signing.hpp"
#include "commands.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>

using chipgauge::classifier::output_format;

namespace chipgauge::cli {

void add_certificate(CLI::App& app, const global_options& /*g*/, action& run) {
  auto* cert = app.add_subcommand(
      "certificate", "certificate integrity: make a signing key, verify a certificate");
  cert->require_subcommand(1);

  auto prefix = std::make_shared<std::string>();
  auto* keygen = cert->add_subcommand(
      "keygen", "write an Ed25519 key pair: PREFIX.key (private, mode 0600) and PREFIX.pub");
  keygen->add_option("--out", *prefix, "path prefix of the two files (neither may exist)")
      ->required();
  keygen->callback([&run, prefix] {
    run = [prefix] {
      if (prefix->empty())
        throw usage_error("--out is empty: expected a path prefix such as keys/lab1");
      const auto pair = generate_ed25519_key(*prefix + ".key", *prefix + ".pub");
      emit(fmt::format(
          "wrote {} (private key, mode 0600: keep it secret) and {} (public key, mode 0644: "
          "give it to whoever verifies)\nkey id {}\n",
          pair.private_path, pair.public_path, pair.public_key.key_id));
      return 0;
    };
  });

  struct verify_options {
    std::string file;
    std::string pubkey;
    std::string format = "text";
    bool value_only = false;
  };
  auto vo = std::make_shared<verify_options>();
  auto* verify = cert->add_subcommand(
      "verify",
      "check a certificate's hash and signature: exit 0 verified, 3 signed but no --pubkey to "
      "authenticate the signer, 4 changed or not signed by the --pubkey key, 2 malformed");
  verify->add_option("file", vo->file, "certificate file (chipgauge.certificate/1)")->required();
  verify->add_option("--pubkey", vo->pubkey,
                     "the signer's public key (PEM, a .pub file from 'certificate keygen')");
  verify->add_option("--format", vo->format, "text or json");
  verify->add_flag(
      "--value-only", vo->value_only,
      "accept a certificate reformatted after sealing (whitespace, key order, number spelling): "
      "check its JSON value only; by default any byte changed since sealing fails");
  verify->callback([&run, vo] {
    run = [vo] {
      const auto format = parse_text_or_json(vo->format);
      const std::optional<std::string> pubkey =
          vo->pubkey.empty() ? std::nullopt : std::optional<std::string>(vo->pubkey);
      const auto check = verify_certificate_file(
          vo->file, pubkey, vo->value_only ? layout_check::value_only : layout_check::sealed_bytes);
      if (format == output_format::json)
        emit(certificate_check_json(check, vo->file)
                 .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
             "\n");
      else emit(certificate_check_text(check, vo->file));
      return static_cast<int>(check.status());
    };
  });
}

}  // namespace chipgauge::cli
