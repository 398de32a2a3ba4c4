#pragma once

#include <optional>
#include <string>
#include <vector>

namespace chipgauge::classifier {

/// When a measured TPP and a sheet's TPP disagree enough to be a finding
/// (specs/policy/findings.json; tool policy, not regulation).
struct findings_policy {
  std::string file;              ///< where it was read from
  double understates_above = 0;  ///< measured / sheet above this: the sheet understates the part
  double shortfall_below = 0;    ///< measured / sheet below this: a shortfall worth naming

  /// Reads a `chipgauge.findings/1` file. Throws spec_error naming the file and JSON path.
  static findings_policy load(const std::string& path);
};

/// The findings of a measured TPP against the sheet's declared and derived TPP, in that order: one
/// per reference whose ratio lies above `understates_above` or below `shortfall_below`. A reference
/// that is absent or not positive gives none.
std::vector<std::string> tpp_findings(double measured_tpp, std::optional<double> declared_tpp,
                                      std::optional<double> derived_tpp,
                                      const findings_policy& policy);

}  // namespace chipgauge::classifier
