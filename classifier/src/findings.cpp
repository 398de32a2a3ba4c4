#include "chipgauge/classifier/findings.hpp"

#include "chipgauge/core/json_reader.hpp"

#include <fmt/format.h>

#include <utility>

namespace chipgauge::classifier {

findings_policy findings_policy::load(const std::string& path) {
  const auto doc = read_json_file(path);
  const json_node root(doc, path);
  root.expect_keys({"schema", "title", "notes", "measured_vs_sheet_tpp"});
  if (root.at("schema").string() != "chipgauge.findings/1")
    root.at("schema").fail("expected \"chipgauge.findings/1\"");
  const auto t = root.at("measured_vs_sheet_tpp");
  t.expect_keys({"understates_above", "understates_note", "shortfall_below", "shortfall_note"});
  findings_policy p;
  p.file = path;
  p.understates_above = t.at("understates_above").number_in(1, 10, "ratio");
  p.shortfall_below = t.at("shortfall_below").number_in(1e-6, 1, "ratio");
  return p;
}

std::vector<std::string> tpp_findings(double measured_tpp, std::optional<double> declared_tpp,
                                      std::optional<double> derived_tpp,
                                      const findings_policy& policy) {
  std::vector<std::string> findings;
  for (const auto& [label, ref] :
       {std::pair{"declared", declared_tpp}, std::pair{"derived", derived_tpp}}) {
    if (!ref || *ref <= 0) continue;
    const double ratio = measured_tpp / *ref;
    if (ratio > policy.understates_above)
      findings.push_back(
          fmt::format("measured TPP is {:.2f} x the {} figure: the {} spec understates the part",
                      ratio, label, label));
    else if (ratio < policy.shortfall_below)
      findings.push_back(fmt::format(
          "measured TPP is only {:.2f} x the {} figure: a throttled, cut-down or faulty part, "
          "or kernels that do not reach the units the sheet counts",
          ratio, label));
  }
  return findings;
}

}  // namespace chipgauge::classifier
