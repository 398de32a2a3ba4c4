#pragma once

#include "chipgauge/bench/measure.hpp"
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/classifier/engine.hpp"
#include "chipgauge/classifier/report.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::bench {

/// The model numbers in a device or part name: lower-case runs of letters and digits that contain a
/// digit ("NVIDIA H200" -> h200; "AMD EPYC 9654" -> 9654; "MI300X" -> mi300x).
std::vector<std::string> model_tokens(std::string_view name);

/// The vendor as a sheet writes it, lower case: CPUID vendor strings become the company's name
/// ("AuthenticAMD" -> amd, "GenuineIntel" -> intel).
std::string vendor_word(std::string_view vendor);

/// Whether `sheet` (given with --spec) describes the measured device. Throws usage_error when the
/// vendors differ or none of the device's model numbers is in the sheet's name or id; returns a
/// finding when the device's name carries no model number, so the sheet cannot be confirmed;
/// nullopt when the sheet matches.
std::optional<std::string> check_sheet_matches(const classifier::chip_spec& sheet,
                                               const measured_tpp& mt);

/// A measurement classified as a part (`classify --measured`): a sheet whose one processing unit
/// carries the verified dense rates, the rest (kind, dies, memory, interconnect, datacenter) from
/// the given sheet when there is one; with it, the declared and derived TPP and the findings.
struct measured_classification {
  std::string report_file;
  measured_tpp measured;
  std::unique_ptr<classifier::chip_spec> part;  ///< the sheet classified; `results` point into it
  std::vector<classifier::classification> results;  ///< one
  std::optional<double> declared_tpp;               ///< from the given sheet
  std::optional<double> derived_tpp;                ///< from the given sheet's processing units
  std::vector<std::string> findings;  ///< disagreements (findings_policy) and an unconfirmed sheet

  [[nodiscard]] double tpp() const { return results.front().metrics.tpp; }
};

/// Classifies device `device_id` (empty: the first) of the report at `report_file` against `plan`,
/// with `spec` (a part id or sheet path; empty: none) completing it. The verified rates are lower
/// bounds, so the metrics are marked tpp_lower_bound. Throws spec_error for a bad report or sheet
/// and usage_error for a sheet that is not an IC or does not describe the device.
measured_classification classify_measured(classifier::catalog& cat,
                                          const classifier::evaluation_plan& plan,
                                          const std::string& report_file, const std::string& spec,
                                          const std::string& device_id);

/// As above, for a report already in memory (`chipgauge certify` classifies what it just
/// measured); `report_label` names it in errors and output.
measured_classification classify_measured(classifier::catalog& cat,
                                          const classifier::evaluation_plan& plan,
                                          const measurement_report& report,
                                          const std::string& report_label, const std::string& spec,
                                          const std::string& device_id);

/// The classification in `format` with the measurement beside it: JSON gains a "measured" member,
/// text a block before the table; md and csv are the usual table.
std::string render(const measured_classification& m, const classifier::evaluation_plan& plan,
                   classifier::output_format format);

}  // namespace chipgauge::bench
