#pragma once

// chipgauge fleet collect: a fleet's certificates (chipgauge.certificate/1, one per device, from
// any number of nodes) turned into fleet answers. Every certificate is verified by the integrity
// layer (core/signing.hpp) first; one that does not verify is listed and never counted as passed.
// A device certified twice (a requeued Slurm task) counts once: the latest end time wins.
// Outliers: per SKU and benchmark, a device's median against the fleet's medians of that SKU by
// the robust (modified) z-score z = (x - median) / (1.4826 MAD) (Iglewicz and Hoaglin; when the
// MAD is 0, 1.253314 x the mean absolute deviation is the scale), low side only.

#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/classifier/fleet.hpp"
#include "chipgauge/core/date.hpp"
#include "chipgauge/core/signing.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace chipgauge::certify {

struct fleet_collect_options {
  double z_threshold = 3.5;   ///< outlier when z < -z_threshold
  std::size_t min_peers = 3;  ///< fewer devices of a SKU with a median: no outlier call
  std::optional<std::string> trusted_key;  ///< --pubkey: certificates must be signed by this key
  unsigned jobs = 0;  ///< collect_fleet_dir's reading threads; 0: hardware threads
};

struct fleet_device {
  std::string node;    ///< body.host.hostname
  std::string device;  ///< body.device.id
  std::string serial;  ///< identity uuid or serial when recorded (part of the device key)
  std::string sku;     ///< body.sheet.id, else "unknown: " + device name
  std::optional<std::string> sheet_id;
  std::string driver;   ///< body.tooling.cuda_driver, else "none"
  std::string verdict;  ///< pass, fail or inconclusive (as certified)
  std::vector<std::string> reasons;
  std::string file;
  std::string end_utc;
  double tpp = 0;  ///< measured TPP (a lower bound)
  int certificates =
      1;  ///< how many certificates this device had (>1: requeued or rerun; latest wins)
  std::map<std::string, double> medians;  ///< benchmark -> median rate
};

struct fleet_outlier {
  std::string node, device, sku, benchmark;
  double value = 0, median = 0, scale = 0, z = 0;
  std::size_t peers = 0;
};

struct unverified_certificate {
  std::string file;
  std::string reason;
};

/// What one certificate came to before it is counted: the device, or why it is not counted.
struct fleet_check {
  std::string file;
  std::optional<fleet_device> device;  ///< verified and readable
  std::string reason;                  ///< otherwise, as listed in fleet_collection::unverified
};

struct fleet_node {
  std::string node;
  std::string verdict;  ///< fail if any device fails, else inconclusive if any is, else pass
  int devices = 0, passed = 0, failed = 0, inconclusive = 0;
};

struct fleet_collection {
  std::vector<fleet_device> devices;  ///< one per device, sorted by node then device
  std::vector<fleet_node> nodes;
  std::vector<unverified_certificate> unverified;
  std::vector<fleet_outlier> outliers;
  std::map<std::string, long long> sku_mix;
  std::map<std::string, long long> driver_mix;
  long long certificates_read = 0;
  long long superseded = 0;  ///< certificates replaced by a later one for the same device
  double z_threshold = 3.5;
  [[nodiscard]] long long count(const std::string& verdict) const;
};

/// Verifies, de-duplicates and aggregates certificates one at a time, keeping only what the
/// answer needs (a few hundred bytes per device), so a fleet of any size streams through. A bad
/// certificate never throws: it is listed unverified.
class fleet_collector {
 public:
  /// Throws usage_error when options.trusted_key is not a readable Ed25519 public key.
  explicit fleet_collector(fleet_collect_options options);
  /// One certificate document (parsed), named by `file` in the answer: add(check(...)).
  void add(const std::string& file, const nlohmann::json& certificate);
  /// A file that could not be read or parsed as JSON: listed unverified.
  void add_unreadable(const std::string& file, const std::string& why);
  /// Verifies one certificate and reads its device, without counting it. Changes nothing in the
  /// collector (it reads only the options and the key loaded by the constructor), so several
  /// threads may call it at once; never throws for a bad certificate.
  [[nodiscard]] fleet_check check(const std::string& file, const nlohmann::json& certificate) const;
  /// Counts one checked certificate. The answer depends on the order of the adds only through
  /// the order of fleet_collection::unverified: add in file-name order, as collect_fleet_dir does.
  void add(fleet_check checked);
  /// Per node verdicts, the mixes and the outliers over everything added.
  [[nodiscard]] fleet_collection finish() &&;

 private:
  fleet_collect_options options_;
  std::optional<public_key_info> trusted_key_;  // options_.trusted_key, loaded once
  fleet_collection c_;
  std::unordered_map<std::string, std::size_t> index_;  // node, device, serial -> c_.devices
};

/// Every *.json file under `dir` (recursively, in name order) whose "schema" is
/// chipgauge.certificate/1 through a fleet_collector; other JSON files (node summaries,
/// measurement reports, earlier fleet answers) are skipped; a file that does not parse is listed
/// unverified. options.jobs threads read, parse and check the files (fleet_collector::check);
/// the results are then added in name order, so the answer is the same whatever the thread
/// count. Throws usage_error when `dir` is not a directory.
fleet_collection collect_fleet_dir(const std::string& dir, const fleet_collect_options& options);

/// The fleet's lines for the quota and reporting checks (classifier/fleet.hpp): one per SKU, from
/// the sheet when the certificate names one, else the measured TPP (a lower bound, no OP/s).
std::vector<classifier::fleet_item> fleet_items(const fleet_collection& c,
                                                classifier::catalog& cat);

/// The whole answer: json (`chipgauge.fleet-collection/1`), md or text.
std::string render_fleet_collection(const fleet_collection& c,
                                    const std::vector<classifier::fleet_item>& items,
                                    const classifier::fleet_result& totals, date as_of,
                                    classifier::output_format format);

}  // namespace chipgauge::certify
