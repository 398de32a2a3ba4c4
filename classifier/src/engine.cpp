// Placing a part against the regimes of a plan: metric variables, clause evaluation with traces,
// exceptions, and the alternative readings of docs/regulation.md#open-readings.
#include "chipgauge/classifier/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

namespace chipgauge::classifier {

namespace {

constexpr double unknown = std::numeric_limits<double>::quiet_NaN();

double opt(const std::optional<double>& v) { return v ? *v : unknown; }

bool applies(const clause& c, part_kind k) {
  return std::find(c.applies_to.begin(), c.applies_to.end(), k) != c.applies_to.end();
}

// "3A090.a.1" -> "3a090_a_1"
std::string normalise_eccn(std::string_view eccn) {
  std::string out;
  out.reserve(eccn.size());
  for (char c : eccn) {
    out += (c == '.' || c == '-') ? '_'
                                  : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Does flag "contains_3a090_a" cover ECCN "3A090.a.1"? (the ECCN or a sub-paragraph of it)
bool flag_covers(std::string_view flag, const std::string& normalised_eccn) {
  const auto want = flag.substr(9);  // after "contains_"
  if (normalised_eccn.size() < want.size() || normalised_eccn.compare(0, want.size(), want) != 0)
    return false;
  return normalised_eccn.size() == want.size() || normalised_eccn[want.size()] == '_';
}

}  // namespace

bool eccn_covers(std::string_view suffix, std::string_view eccn) {
  const auto norm = normalise_eccn(eccn);
  if (norm.size() < suffix.size() || norm.compare(0, suffix.size(), suffix) != 0) return false;
  return norm.size() == suffix.size() || norm[suffix.size()] == '_';
}

void set_metric_variables(const part_metrics& m, double* vars) {
  auto set = [&](metric_var v, double x) { vars[static_cast<std::size_t>(v)] = x; };
  const bool tpp_known = m.tpp_known();
  set(metric_var::tpp, tpp_known ? m.tpp : unknown);
  set(metric_var::tpp_sum_of_unit_max, tpp_known ? m.tpp_sum_of_unit_max : unknown);
  set(metric_var::tpp_max_of_sums, tpp_known ? m.tpp_max_of_sums : unknown);
  set(metric_var::pd, m.pd ? *m.pd : (m.pd_not_met_by_reading && tpp_known ? 0.0 : unknown));
  set(metric_var::applicable_die_area_mm2, opt(m.applicable_die_area_mm2));
  set(metric_var::dram_bandwidth_gb_s, opt(m.dram_bandwidth_gb_s));
  set(metric_var::io_bidirectional_gb_s, opt(m.io_bidirectional_gb_s));
  set(metric_var::memory_bandwidth_density_gb_s_mm2, opt(m.memory_bandwidth_density_gb_s_mm2));
  set(metric_var::transistors, opt(m.transistors));
  set(metric_var::logic_node_nm, opt(m.logic_node_nm));
  set(metric_var::declared_tpp, opt(m.declared_tpp));
  set(metric_var::h100_equivalents, tpp_known ? m.h100_equivalents : unknown);
  set(metric_var::datacenter, m.datacenter ? 1.0 : 0.0);
  set(metric_var::has_hbm, m.has_hbm ? 1.0 : 0.0);
  set(metric_var::non_planar, m.non_planar ? 1.0 : 0.0);
}

std::string_view to_string(verdict_outcome o) noexcept {
  switch (o) {
    case verdict_outcome::controlled: return "controlled";
    case verdict_outcome::not_controlled: return "not_controlled";
    case verdict_outcome::undetermined: return "undetermined";
    case verdict_outcome::not_applicable: return "not_applicable";
  }
  return "?";
}

evaluation_plan::evaluation_plan(const rule_set& rules, date as_of, bool what_if)
    : evaluation_plan(rules, as_of, what_if, false) {}

evaluation_plan evaluation_plan::every_regime(const rule_set& rules, date as_of) {
  return evaluation_plan(rules, as_of, true, true);
}

evaluation_plan::evaluation_plan(const rule_set& rules, date as_of, bool what_if, bool every)
    : rules_(&rules), as_of_(as_of), what_if_(what_if) {
  for (const auto& r : rules.regimes()) {
    const auto status = r.status_on(as_of);
    const bool in_force = status == regime_status::in_force;
    const bool hypothetical =
        every || (what_if && (status == regime_status::announced_not_enforced ||
                              status == regime_status::proposed));
    if (!in_force && !hypothetical) {
      skipped_.push_back({&r, status});
      continue;
    }
    entry e;
    e.rule = &r;
    e.status = status;
    e.what_if = !in_force;
    e.params.reserve(r.parameters.size());
    for (const auto& p : r.parameters) e.params.push_back(p.value_on(as_of));
    for (const auto& x : r.exceptions) {
      if (x.from && as_of < *x.from) continue;
      if (x.until && *x.until < as_of) continue;
      e.exceptions.push_back(&x);
    }
    entries_.push_back(std::move(e));
  }
}

void classification_engine::fill_variables(const chip_spec& spec, const part_metrics& m,
                                           const evaluation_plan::entry& e,
                                           const evaluation_plan& plan, std::vector<double>& vars,
                                           range_end end) const {
  vars.assign(rules_->variable_count(), unknown);
  set_metric_variables(m, vars.data());

  const auto& flags = rules_->contains_flags();
  if (flags.empty()) return;
  for (std::size_t i = 0; i < flags.size(); ++i)
    vars[metric_var_count + i] = spec.contains.empty() ? unknown : 0.0;
  // A board or system contains ICs: classify each under this same regime and raise the flags.
  // A component whose classification is undetermined makes every flag not yet raised unknown;
  // a component that is itself a board passes up the flags of what it contains.
  for (const auto& c : spec.contains) {
    if (!c.resolved) continue;
    // Components at the same point of their ranges as the board is being tested at.
    const auto sub_metrics = compute_metrics(*c.resolved, rules_->definitions(), end);
    std::vector<double> sub_vars;
    fill_variables(*c.resolved, sub_metrics, e, plan, sub_vars, end);
    for (std::size_t i = 0; i < flags.size(); ++i) {
      const double inner = sub_vars[metric_var_count + i];
      double& mine = vars[metric_var_count + i];
      if (inner == 1.0) mine = 1.0;
      else if (std::isnan(inner) && !c.resolved->contains.empty() && mine == 0.0) mine = unknown;
    }
    // As classify does: the first clause that holds fires, even after an unknown one; with none
    // holding, an unknown clause leaves the flags not yet raised unknown.
    bool any_unknown = false;
    bool fired = false;
    for (const auto& cl : e.rule->clauses) {
      if (!applies(cl, c.resolved->kind)) continue;
      const double r = cl.when.evaluate(sub_vars.data(), e.params.data());
      if (r == 1.0) {
        const auto norm = normalise_eccn(cl.eccn);
        for (std::size_t i = 0; i < flags.size(); ++i) {
          if (flag_covers(flags[i], norm)) vars[metric_var_count + i] = 1.0;
        }
        fired = true;
        break;
      }
      any_unknown = any_unknown || std::isnan(r);
    }
    if (!fired && any_unknown) {
      for (std::size_t i = 0; i < flags.size(); ++i) {
        if (vars[metric_var_count + i] == 0.0) vars[metric_var_count + i] = unknown;
      }
    }
  }
}

std::string_view classification_engine::eccn_for(const chip_spec& spec, const part_metrics& m,
                                                 const evaluation_plan& plan, range_end end) const {
  thread_local std::vector<double>
      vars;  // reused: this runs per alternative reading and bisection step
  for (const auto& e : plan.entries()) {
    if (e.rule->role != regime_role::classification || e.what_if) continue;
    fill_variables(spec, m, e, plan, vars, end);
    for (const auto& cl : e.rule->clauses) {
      if (!applies(cl, spec.kind)) continue;
      if (cl.when.evaluate(vars.data(), e.params.data()) == 1.0) return cl.eccn;
    }
  }
  return {};
}

classification classification_engine::classify(const chip_spec& spec,
                                               const evaluation_plan& plan) const {
  classification out;
  classify(spec, plan, out);
  return out;
}

void classification_engine::classify(const chip_spec& spec, const evaluation_plan& plan,
                                     classification& out) const {
  classify(spec, compute_metrics(spec, rules_->definitions()), plan, out);
}

void classification_engine::classify(const chip_spec& spec, part_metrics metrics,
                                     const evaluation_plan& plan, classification& out) const {
  out.spec = &spec;
  out.metrics = std::move(metrics);
  out.eccn = {};
  out.alternatives.clear();
  out.alternatives_differ = false;
  out.flip.reset();

  thread_local std::vector<double> vars;
  thread_local std::vector<std::uint32_t> relied;
  const auto& entries = plan.entries();
  out.verdicts.resize(entries.size());
  bool any_undetermined = false;
  bool any_applicable = false;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    auto& v = out.verdicts[i];
    v.rule = e.rule;
    v.status = e.status;
    v.what_if = e.what_if;
    v.fired = -1;
    v.exceptions.clear();
    v.weakest = evidence_tag::V;
    fill_variables(spec, out.metrics, e, plan, vars);
    std::size_t used = 0;
    bool unknown_before_fire = false;
    const auto& clauses = e.rule->clauses;
    for (std::size_t c = 0; c < clauses.size(); ++c) {
      if (!applies(clauses[c], spec.kind)) continue;
      if (used == v.clauses.size()) v.clauses.emplace_back();
      auto& cr = v.clauses[used++];
      cr.clause_index = static_cast<std::uint32_t>(c);
      cr.tests.clear();
      cr.result = clauses[c].when.evaluate(vars.data(), e.params.data(), &cr.tests);
      if (v.fired < 0) {
        if (cr.result == 1.0) {
          v.fired = static_cast<int>(c);
        } else if (std::isnan(cr.result)) {
          unknown_before_fire = true;
        }
      }
    }
    v.clauses.resize(used);
    if (used == 0) {
      v.outcome = verdict_outcome::not_applicable;
      continue;
    }
    // Weakest evidence: the fired clause and the parameters its truth rests on, or every clause
    // that had to fail and the parameters each failure rests on.
    auto weakest_of = [&](const clause& cl) {
      evidence_tag w = cl.evidence;
      // PD read as "not met" for want of a non-planar logic die is itself an R reading.
      if (out.metrics.pd_not_met_by_reading &&
          cl.when.reads_variable(static_cast<std::uint32_t>(metric_var::pd)))
        w = std::max(w, evidence_tag::R);
      relied.clear();
      cl.when.relied_parameters(vars.data(), e.params.data(), relied);
      for (auto slot : relied) w = std::max(w, e.rule->parameters[slot].evidence);
      return w;
    };
    if (v.fired >= 0) {
      v.outcome = verdict_outcome::controlled;
      v.weakest = weakest_of(clauses[static_cast<std::size_t>(v.fired)]);
      if (unknown_before_fire) v.weakest = std::max(v.weakest, evidence_tag::R);
      const auto& eccn = clauses[static_cast<std::size_t>(v.fired)].eccn;
      for (const auto* x : e.exceptions) {
        if (std::find(x->clauses.begin(), x->clauses.end(), eccn) == x->clauses.end()) continue;
        if (x->when && x->when->evaluate(vars.data(), e.params.data()) != 1.0) continue;
        v.exceptions.push_back(x);
      }
    } else {
      // Lower-bound metrics (a measurement) that fire no clause do not show the part uncontrolled.
      v.outcome = unknown_before_fire || out.metrics.tpp_lower_bound
                      ? verdict_outcome::undetermined
                      : verdict_outcome::not_controlled;
      for (const auto& cr : v.clauses)
        v.weakest = std::max(v.weakest, weakest_of(clauses[cr.clause_index]));
    }
    if (e.rule->role == regime_role::classification && !e.what_if) {
      any_applicable = true;
      if (v.outcome == verdict_outcome::undetermined) any_undetermined = true;
      if (v.fired >= 0 && out.eccn.empty())
        out.eccn = clauses[static_cast<std::size_t>(v.fired)].eccn;
    }
  }
  if (!out.eccn.empty()) {
    out.outcome = verdict_outcome::controlled;
  } else if (any_undetermined) {
    out.outcome = verdict_outcome::undetermined;
  } else {
    out.outcome =
        any_applicable ? verdict_outcome::not_controlled : verdict_outcome::not_applicable;
  }

  // Open readings (docs/regulation.md#open-readings): the other aggregation, other TF32 bit
  // lengths, and both ends of any range. Each is re-decided and flagged when it changes the ECCN.
  const auto& m = out.metrics;
  auto with_tpp = [&](const std::string& label, double tpp) {
    part_metrics alt = m;
    alt.tpp = tpp;
    if (alt.applicable_die_area_mm2 && *alt.applicable_die_area_mm2 > 0)
      alt.pd = tpp / *alt.applicable_die_area_mm2;
    const auto eccn = eccn_for(spec, alt, plan);
    out.alternatives.push_back({label, tpp, alt.pd, eccn});
    out.alternatives_differ = out.alternatives_differ || eccn != out.eccn;
  };
  const auto& defs = rules_->definitions();
  if (m.tpp_sum_of_unit_max != m.tpp_max_of_sums) {
    const bool default_is_sum = defs.aggregation == tpp_aggregation::sum_of_unit_max;
    with_tpp(default_is_sum ? "aggregation max_of_sums" : "aggregation sum_of_unit_max",
             default_is_sum ? m.tpp_max_of_sums : m.tpp_sum_of_unit_max);
  }
  for (const auto& [bits, tpp] : m.tpp_tf32_alternatives)
    with_tpp("tf32 bit length " + std::to_string(static_cast<int>(bits)), tpp);
  if (spec.has_ranges()) {
    const auto at = [&](double t) { return compute_metrics(spec, defs, range_end{t}); };
    const auto hi = at(1.0);
    const auto lo = at(0.0);
    const auto eccn_hi = eccn_for(spec, hi, plan, range_end{1.0});
    const auto eccn_lo = eccn_for(spec, lo, plan, range_end{0.0});
    out.alternatives.push_back({"range end favouring control", hi.tpp, hi.pd, eccn_hi});
    out.alternatives.push_back({"range end against control", lo.tpp, lo.pd, eccn_lo});
    out.alternatives_differ = out.alternatives_differ || eccn_hi != out.eccn || eccn_lo != out.eccn;
    if (eccn_hi != eccn_lo) {
      // Bisect for the first change from the low end; 40 halvings reach far below any quoted
      // precision.
      double a = 0;
      double b = 1;
      for (int i = 0; i < 40; ++i) {
        const double mid = (a + b) / 2;
        (eccn_for(spec, at(mid), plan, range_end{mid}) == eccn_lo ? a : b) = mid;
      }
      const auto past = at(b);
      out.flip =
          range_flip{b, past.tpp, past.pd, eccn_lo, eccn_for(spec, past, plan, range_end{b})};
    }
  }
}

std::optional<std::string> declared_eccn_mismatch(const chip_spec& spec, const rule_set& rules) {
  if (!spec.declared || spec.declared->eccn.empty() || !spec.declared->as_of) return std::nullopt;
  const auto& declared = spec.declared->eccn;
  const auto on = *spec.declared->as_of;
  const evaluation_plan plan(rules, on);
  const auto c = classification_engine(rules).classify(spec, plan);
  const bool declared_uncontrolled = declared == "EAR99" || declared == "not controlled";
  const std::string computed = c.eccn.empty() ? "no ECCN of these regimes" : std::string(c.eccn);
  if (c.outcome == verdict_outcome::undetermined)
    return fmt::format(
        "declared ECCN {} (as of {}) cannot be checked: the computed classification is "
        "undetermined",
        declared, on.to_string());
  const bool agree = declared_uncontrolled
                         ? c.eccn.empty()
                         : !c.eccn.empty() && eccn_covers(normalise_eccn(declared), c.eccn);
  if (agree) return std::nullopt;
  return fmt::format(
      "declared ECCN {} (as of {}) disagrees with the computed {} under the rules in force that "
      "day",
      declared, on.to_string(), computed);
}

}  // namespace chipgauge::classifier
