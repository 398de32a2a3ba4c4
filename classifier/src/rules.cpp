#include "chipgauge/classifier/rules.hpp"

#include <algorithm>

namespace chipgauge::classifier {

std::string_view to_string(regime_role r) noexcept {
  return r == regime_role::classification ? "classification" : "presumption";
}

const std::vector<metric_var_info>& metric_vars() {
  static const std::vector<metric_var_info> vars{
      {"tpp", expr_type::number, "TPP", "total processing performance by the default aggregation"},
      {"tpp_sum_of_unit_max", expr_type::number, "TPP",
       "sum over units of each unit's best precision"},
      {"tpp_max_of_sums", expr_type::number, "TPP",
       "best precision of the rates summed over units"},
      {"pd", expr_type::number, "TPP/mm^2",
       "performance density: TPP / applicable die area; unknown without a non-planar logic die"},
      {"applicable_die_area_mm2", expr_type::number, "mm^2", "area of the non-planar logic dies"},
      {"dram_bandwidth_gb_s", expr_type::number, "GB/s", "total DRAM interface bandwidth"},
      {"io_bidirectional_gb_s", expr_type::number, "GB/s",
       "aggregate bidirectional transfer rate to non-memory ICs"},
      {"memory_bandwidth_density_gb_s_mm2", expr_type::number, "GB/s/mm^2",
       "HBM stack bandwidth / stack area"},
      {"transistors", expr_type::number, "transistors", "transistor count of the packaged part"},
      {"logic_node_nm", expr_type::number, "nm", "smallest process node among the logic dies"},
      {"declared_tpp", expr_type::number, "TPP", "TPP attested in the sheet's 'declared'"},
      {"h100_equivalents", expr_type::number, "H100", "TPP / the H100 SXM reference TPP"},
      {"datacenter", expr_type::boolean, "",
       "designed or marketed for use in datacenters (omitted: true)"},
      {"has_hbm", expr_type::boolean, "", "the part carries HBM"},
      {"non_planar", expr_type::boolean, "", "some logic die uses a non-planar transistor process"},
  };
  return vars;
}

double parameter::value_on(date day) const {
  const dated_value* pick = values.empty() ? nullptr : &values.front();
  for (const auto& v : values) {
    if (v.from <= day) pick = &v;
  }
  return pick ? pick->value : 0;
}

bool regime::applies_to(part_kind k) const {
  return std::any_of(clauses.begin(), clauses.end(), [&](const clause& c) {
    return std::find(c.applies_to.begin(), c.applies_to.end(), k) != c.applies_to.end();
  });
}

const regime* rule_set::find(std::string_view id) const noexcept {
  for (const auto& r : regimes_) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

}  // namespace chipgauge::classifier
