// Reading specs/rules/metrics.json (`chipgauge.metrics/1`).
#include "chipgauge/classifier/metrics.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "json_fields.hpp"

#include <fmt/format.h>

namespace chipgauge::classifier {

namespace {}  // namespace

metric_definitions load_metric_definitions(const std::string& path) {
  const auto doc = read_json_file(path, file_limits::rule_file);
  const json_node root(doc, path);
  root.expect_keys({"schema", "title", "citations", "bit_lengths", "aggregation",
                    "h100_equivalent_tpp", "notes"});
  if (root.at("schema").string() != "chipgauge.metrics/1")
    root.at("schema").fail("expected \"chipgauge.metrics/1\"");
  metric_definitions d;
  d.file = path;

  const auto bits = root.at("bit_lengths");
  std::array<bool, precision_count> seen{};
  for (const auto& [key, v] : bits.members()) {
    const auto p = parse_precision(key);
    if (!p) v.fail(fmt::format("unknown precision '{}'", key));
    v.expect_keys({"value", "alternatives", "evidence", "note"});
    auto& slot = d.bit_length[index_of(*p)];
    slot.value = v.at("value").number_in(1, 128, "bits");
    slot.evidence = json_fields::evidence(v.at("evidence"));
    if (auto alts = v.find("alternatives")) {
      if (*p != precision::tf32) alts->fail("alternative bit lengths are defined for tf32 only");
      for (const auto& a : alts->elements())
        d.tf32_alternative_bit_lengths.push_back(a.number_in(1, 128, "bits"));
    }
    seen[index_of(*p)] = true;
  }
  for (auto p : all_precisions) {
    if (!seen[index_of(p)]) bits.fail(fmt::format("missing the bit length of '{}'", to_string(p)));
  }

  const auto agg = root.at("aggregation");
  agg.expect_keys({"default", "evidence", "note"});
  d.aggregation = agg.at("default").one_of({"sum_of_unit_max", "max_of_sums"}) == "sum_of_unit_max"
                      ? tpp_aggregation::sum_of_unit_max
                      : tpp_aggregation::max_of_sums;
  d.aggregation_evidence = json_fields::evidence(agg.at("evidence"));

  const auto h = root.at("h100_equivalent_tpp");
  h.expect_keys({"value", "evidence", "note"});
  d.h100_equivalent_tpp = {h.at("value").number_in(1, 1e7, "TPP"),
                           json_fields::evidence(h.at("evidence"))};
  return d;
}

}  // namespace chipgauge::classifier
