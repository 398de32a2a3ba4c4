#pragma once

// Reading the certificates the store holds (schema version 2, `certificates`): one row per
// certificate run for the dashboard's part and fleet pages, and `fleet collect history:...`,
// which feeds the stored documents through the same collector as a directory of certificates
// (docs/history.md#certificates, docs/fleet.md).

#include "chipgauge/certify/fleet.hpp"
#include "chipgauge/history/store.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::history {

/// One certificate run.
struct certificate_row {
  std::int64_t run_id = 0;
  std::string source_name;  ///< the file name it was ingested as
  std::int64_t device_id = 0;
  std::string device_identity;
  std::string device_name;
  std::string local_device;  ///< body.device.id ("cuda:0")
  std::string node;          ///< body.host.hostname
  std::string verdict;       ///< "pass", "fail", "inconclusive" (as certified)
  std::optional<std::string> sheet_id;
  std::optional<double>
      tpp_measured;  ///< measured TPP (a lower bound); nullopt where the certificate has none
  std::int64_t end_utc = 0;  ///< when the certification ended (Unix seconds, UTC)
  /// What ingest found: "verified" (signed by the key given then), "unsigned", "unauthenticated"
  /// or "failed". Only "verified" may be shown as verified.
  std::string integrity;
  std::string signer_key_id;  ///< empty when unsigned
  std::string findings;       ///< JSON array text: the verification's findings
};

/// The certificate runs `sel` selects (device: substring of the device's name or identity; since
/// and until: the certification's end), oldest first (end time, then run id). With `latest`, only
/// each device's most recent one (latest end time, then highest run id). Throws usage_error for a
/// selector with `benchmark` or `last`, which select results, not certificates.
std::vector<certificate_row> list_certificates(store& s, const selector& sel, bool latest = false);

/// The stored documents of the certificates `sel` selects (as list_certificates, without
/// `latest`), in source-name order then run id: `fn(source_name, document_text)`.
void for_each_certificate_document(
    store& s, const selector& sel,
    const std::function<void(const std::string&, const std::string&)>& fn);

/// `fleet collect history:...`: every selected certificate's document through a
/// certify::fleet_collector, named by the file it was ingested as, in the order collect_fleet_dir
/// reads a directory (file names sorted), so the answer over a store equals the answer over the
/// directory its certificates were ingested from. Each document is verified again with
/// `options.trusted_key` (what ingest found is not relied on). Throws usage_error as
/// list_certificates does.
certify::fleet_collection collect_fleet_store(store& s, const selector& sel,
                                              const certify::fleet_collect_options& options);

}  // namespace chipgauge::history
