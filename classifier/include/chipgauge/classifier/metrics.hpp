#pragma once

#include "chipgauge/classifier/evidence.hpp"
#include "chipgauge/classifier/precision.hpp"
#include "chipgauge/classifier/spec.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::classifier {

/// How per-unit, per-precision TPP values combine into the part's TPP (docs/regulation.md#metrics).
enum class tpp_aggregation : unsigned char {
  sum_of_unit_max,  ///< each unit's best precision, summed over units (conservative)
  max_of_sums       ///< rates summed over units per precision, then the best precision
};
std::string_view to_string(tpp_aggregation a) noexcept;

/// A value read from a data file together with its evidence tag.
struct tagged_value {
  double value = 0;
  evidence_tag evidence = evidence_tag::R;
};

/// The metric definitions every regime shares (specs/rules/metrics.json): bit lengths per
/// precision, the alternative TF32 bit lengths, the default aggregation and the H100 reference.
struct metric_definitions {
  std::string file;
  std::array<tagged_value, precision_count> bit_length{};
  std::vector<double> tf32_alternative_bit_lengths;
  tpp_aggregation aggregation = tpp_aggregation::sum_of_unit_max;
  evidence_tag aggregation_evidence = evidence_tag::R;
  tagged_value h100_equivalent_tpp;
};

/// Reads specs/rules/metrics.json. Throws spec_error on any defect.
metric_definitions load_metric_definitions(const std::string& path);

/// TPP contributions of one processing unit.
struct unit_metrics {
  std::string name;
  per_precision<double> tpp;  ///< 2 x MacTOPS x bit length, i.e. dense TOPS x bit length
  std::optional<precision> best;
  double best_tpp = 0;
};

/// The regulatory metrics of one part (docs/regulation.md#metrics), at one end of its ranges.
/// Optional values are absent when the sheet lacks the data; they are "unknown" to the rules.
struct part_metrics {
  double tpp = 0;  ///< by the definitions' default aggregation; see tpp_reason
  /// Non-empty when TPP is unknown (a processing IC whose sheet gives no positive dense rate, or a
  /// board holding one): the rules then see TPP, PD and H100-equivalents as unknown, never as 0.
  std::string tpp_reason;
  /// TPP (and PD from it) are lower bounds, as a measurement's are: a clause that fails on them
  /// does not show the part uncontrolled, so such verdicts are undetermined, never not_controlled.
  bool tpp_lower_bound = false;
  double tpp_sum_of_unit_max = 0;
  double tpp_max_of_sums = 0;
  std::optional<precision> max_of_sums_precision;
  per_precision<double>
      tpp_precision_sums;  ///< TPP per precision summed over units (and components)
  /// TPP with each alternative TF32 bit length, where that changes TPP.
  std::vector<std::pair<double, double>> tpp_tf32_alternatives;  ///< (bit length, tpp)
  std::vector<unit_metrics> units;

  std::optional<double> applicable_die_area_mm2;  ///< non-planar logic dies only
  std::optional<double> pd;                       ///< tpp / applicable die area
  std::string pd_reason;                          ///< why pd is absent
  /// PD is absent because the listed dies include no non-planar logic die. A PD criterion is
  /// then read as not met (R, docs/regulation.md#metrics): rules see PD as 0, flagged R. When PD is
  /// absent for lack of data instead, rules see it as unknown.
  bool pd_not_met_by_reading = false;
  std::optional<double> dram_bandwidth_gb_s;
  std::optional<double> io_bidirectional_gb_s;
  std::optional<double> memory_bandwidth_density_gb_s_mm2;  ///< HBM stacks
  std::optional<double> transistors;
  std::optional<double> logic_node_nm;  ///< smallest node among logic dies
  std::optional<double> declared_tpp;
  double h100_equivalents = 0;
  bool datacenter = true;
  bool datacenter_defaulted = true;
  bool has_hbm = false;
  bool non_planar = false;  ///< some logic die is non-planar

  [[nodiscard]] bool tpp_known() const noexcept { return tpp_reason.empty(); }
};

/// Computes the metrics of `spec`. Boards and systems aggregate their resolved components
/// (count x TPP, bandwidths and areas summed); an unresolved component throws spec_error.
part_metrics compute_metrics(const chip_spec& spec, const metric_definitions& defs,
                             range_end end = range_end::nominal);

}  // namespace chipgauge::classifier
