#include "chipgauge/classifier/fleet.hpp"

#include "licensing_vars.hpp"

#include <algorithm>
#include <limits>

namespace chipgauge {

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

fleet_result evaluate_fleet(const std::vector<fleet_item>& items, const licensing_engine& engine, date as_of) {
  fleet_result r;
  for (const auto& i : items) {
    r.tpp += i.tpp_each * static_cast<double>(i.quantity);
    r.peak_ops += i.peak_ops_each * static_cast<double>(i.quantity);
  }
  const double h100 = engine.rules().definitions().h100_equivalent_tpp.value;
  r.h100_equivalents = h100 > 0 ? r.tpp / h100 : 0;
  std::vector<double> vars(engine.licensing().variable_count(), std::numeric_limits<double>::quiet_NaN());
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

}  // namespace chipgauge
