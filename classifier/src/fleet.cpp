#include "chipgauge/classifier/fleet.hpp"

#include "licensing_vars.hpp"

#include "chipgauge/core/text.hpp"
#include "chipgauge/core/version.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

namespace chipgauge::classifier {

double dense_peak_ops(const chip_spec& spec, const metric_definitions& defs) {
  double ops = 0;
  for (const auto& u : spec.units) {
    double best = 0;
    for (const auto& r : u.dense_tops) {
      if (r) best = std::max(best, r->mid());
    }
    ops += best * 1e12;
  }
  for (const auto& c : spec.contains) {
    if (c.resolved) ops += dense_peak_ops(*c.resolved, defs) * static_cast<double>(c.count);
  }
  return ops;
}

fleet_result evaluate_fleet(const std::vector<fleet_item>& items, const licensing_engine& engine,
                            date as_of) {
  fleet_result r;
  for (const auto& i : items) {
    r.tpp += i.tpp_each * static_cast<double>(i.quantity);
    r.peak_ops += i.peak_ops_each * static_cast<double>(i.quantity);
  }
  const double h100 = engine.rules().definitions().h100_equivalent_tpp.value;
  r.h100_equivalents = h100 > 0 ? r.tpp / h100 : 0;
  std::vector<double> vars(engine.licensing().variable_count(),
                           std::numeric_limits<double>::quiet_NaN());
  vars[licensing_vars::slot(licensing_vars::fixed::fleet_tpp)] = r.tpp;
  vars[licensing_vars::slot(licensing_vars::fixed::fleet_peak_ops)] = r.peak_ops;
  vars[licensing_vars::slot(licensing_vars::fixed::fleet_h100_equivalents)] = r.h100_equivalents;
  for (const auto& reg : engine.licensing().regimes()) {
    const auto status = reg.status_on(as_of);
    if (status != regime_status::in_force && status != regime_status::announced_not_enforced &&
        status != regime_status::proposed)
      continue;
    std::vector<double> params;
    for (const auto& p : reg.parameters) params.push_back(p.value_on(as_of));
    for (const auto& c : reg.fleet_checks) {
      r.checks.push_back({&reg, &c, status, c.when.evaluate(vars.data(), params.data()) == 1.0});
    }
  }
  return r;
}

fleet_item fleet_item_of(const chip_spec& part, const metric_definitions& defs,
                         long long quantity) {
  fleet_item it;
  it.quantity = quantity;
  it.label = part.id;
  it.tpp_each = compute_metrics(part, defs).tpp;
  it.peak_ops_each = dense_peak_ops(part, defs);
  it.basis = "sheet";
  return it;
}

std::string render_fleet(const std::vector<fleet_item>& items, const fleet_result& r, date as_of,
                         output_format format) {
  if (format == output_format::json) {
    nlohmann::ordered_json j;
    j["schema"] = "chipgauge.fleet/1";
    j["tool_version"] = tool_version;
    j["as_of"] = as_of.to_string();
    auto arr = nlohmann::ordered_json::array();
    for (const auto& i : items)
      arr.push_back({{"item", i.label},
                     {"quantity", i.quantity},
                     {"tpp_each", i.tpp_each},
                     {"peak_ops_each", i.peak_ops_each},
                     {"basis", i.basis}});
    j["items"] = arr;
    j["tpp"] = r.tpp;
    j["peak_ops"] = r.peak_ops;
    j["h100_equivalents"] = r.h100_equivalents;
    auto checks = nlohmann::ordered_json::array();
    for (const auto& c : r.checks)
      checks.push_back({{"regime", c.regime->id},
                        {"check", c.check->id},
                        {"status", std::string(to_string(c.status))},
                        {"holds", c.holds},
                        {"effect", c.check->effect},
                        {"evidence", std::string(to_string(c.check->evidence))}});
    j["checks"] = checks;
    j["disclaimer"] = std::string(disclaimer());
    return j.dump(2) + "\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& i : items)
    rows.push_back({i.label, std::to_string(i.quantity), group_thousands(i.tpp_each),
                    fmt::format("{:.3g}", i.peak_ops_each), i.basis});
  std::string out = render_table({"item", "count", "TPP each", "peak OP/s each", "basis"}, rows,
                                 {false, true, true, true, false});
  out +=
      fmt::format("\nfleet: TPP {}, {:.2f} H100-equivalents, dense peak {:.3g} OP/s (as of {})\n",
                  group_thousands(r.tpp), r.h100_equivalents, r.peak_ops, as_of.to_string());
  for (const auto& c : r.checks)
    out += fmt::format("  {} / {} [{}]: {} - {} [evidence {}]\n", c.regime->id, c.check->id,
                       to_string(c.status), c.holds ? "yes" : "no", c.check->effect,
                       to_string(c.check->evidence));
  return out + "\n" + std::string(disclaimer()) + "\n";
}

}  // namespace chipgauge::classifier
