#pragma once

// Envelopes (`chipgauge.envelope/1`, specs/envelopes/*.json, docs/certification.md): per benchmark,
// the floor a healthy part reaches and, where it makes sense, the ceiling no correct measurement
// exceeds, each with its public reference and evidence level, plus the telemetry conditions the
// timed samples must meet. Per-SKU envelopes name a sheet and give absolute figures and fractions
// of the sheet's peak; architecture-level ones name a backend and architecture and give fractions
// of the theoretical peak at the measured clock.

#include "chipgauge/classifier/database.hpp"

#include <optional>
#include <string>
#include <vector>

namespace chipgauge::certify {

enum class envelope_scope : unsigned char { sku, architecture };

/// A public source an envelope figure comes from.
struct envelope_reference {
  std::string id;
  std::string url;
  std::string title;
};

/// A floor or ceiling. Per-SKU: `value` in `unit` (converted to ops/s or bytes/s in `base`) and
/// `fraction` of the sheet's peak, which agree. Architecture-level: `fraction` only, of the
/// theoretical peak at the measured clock.
struct envelope_bound {
  std::optional<double> value;
  std::string unit;
  double base = 0;  ///< value in ops/s or bytes/s
  double fraction = 0;
};

struct envelope_check {
  std::string benchmark;
  /// Per-SKU: the peak the fractions are of, in ops/s or bytes/s, and what it is
  /// ("memory.bandwidth_gb_s of nvidia-h200-sxm-141gb: 4,800 GB/s").
  double peak = 0;
  std::string peak_basis;
  std::optional<envelope_bound> floor;
  std::optional<envelope_bound> ceiling;
  std::string reference;  ///< an id in the envelope's references
  std::string evidence;   ///< "datasheet", "vendor_tool_threshold", "published_measurement",
                          ///< "project_measurement", "engineering_judgement"
  bool optional = false;  ///< a benchmark the mode may not run: absent is no failure
  std::string note;
  std::string json_path;
};

/// Conditions on the timed samples' telemetry; each one set must be readable to be met.
struct telemetry_conditions {
  bool throttle_idle_only = false;       ///< no throttle reason but idle (NVML reasons)
  bool ecc_unchanged = false;            ///< uncorrectable ECC count unchanged over the run
  bool pcie_at_maximum = false;          ///< PCIe link at its maximum generation and width
  bool temperature_under_limit = false;  ///< every sample under the device's slowdown temperature
};

struct envelope {
  std::string file;
  std::string id;
  envelope_scope scope = envelope_scope::sku;
  std::string part;          ///< sku: the sheet id
  std::string backend;       ///< architecture: "cpu", "cuda"
  std::string architecture;  ///< architecture: "x86-64", or a compute capability "9.0"
  std::string description;
  std::vector<envelope_reference> references;
  telemetry_conditions telemetry;
  std::vector<envelope_check> checks;

  [[nodiscard]] const envelope_reference* reference(const std::string& ref_id) const;
};

/// Parses one envelope file. Per-SKU figures are checked against `db`'s sheet: a floor below 10 %
/// or above 110 % of the peak (a unit slip), a fraction that disagrees with the absolute figure,
/// an unknown sheet, benchmark reference or unit: spec_error naming the file and the JSON path.
envelope parse_envelope(std::string_view text, const std::string& file,
                        const classifier::spec_database& db);

class envelope_set {
 public:
  /// Every `*.json` in `dir` (sorted by name); a missing directory is an empty set. Two envelopes
  /// for one sheet, or for one backend and architecture, are an error.
  static envelope_set load(const std::string& dir, const classifier::spec_database& db);
  void add(envelope e);

  [[nodiscard]] const envelope* for_part(const std::string& sheet_id) const;
  [[nodiscard]] const envelope* for_architecture(const std::string& backend,
                                                 const std::string& architecture) const;
  [[nodiscard]] const std::vector<envelope>& all() const noexcept { return envelopes_; }

 private:
  std::vector<envelope> envelopes_;
};

/// 10^12 ops/s per "TOPS" and so on: the multiplier from `unit` to ops/s or bytes/s, and whether
/// it counts bytes; nullopt for an unknown unit.
std::optional<std::pair<double, bool>> unit_scale(std::string_view unit);

}  // namespace chipgauge::certify
