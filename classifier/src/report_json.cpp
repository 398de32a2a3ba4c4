// The `chipgauge.classification/1` JSON contract (docs/classify-output.md).
#include "chipgauge/classifier/report.hpp"
#include "chipgauge/core/version.hpp"

#include <nlohmann/json.hpp>

#include <cmath>

namespace chipgauge {

namespace {

using json = nlohmann::ordered_json;

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
json num_or_null(double v) { return std::isnan(v) ? json(nullptr) : json(v); }

json metrics_json(const part_metrics& m, const metric_definitions& defs) {
  json j;
  j["tpp"] = m.tpp_known() ? json(m.tpp) : json(nullptr);
  j["tpp_reason"] = m.tpp_known() ? json(nullptr) : json(m.tpp_reason);
  j["tpp_lower_bound"] = m.tpp_lower_bound;
  j["tpp_aggregation"] = std::string(to_string(defs.aggregation));
  j["tpp_sum_of_unit_max"] = m.tpp_sum_of_unit_max;
  j["tpp_max_of_sums"] = m.tpp_max_of_sums;
  json alts = json::array();
  for (const auto& [bits, tpp] : m.tpp_tf32_alternatives) alts.push_back({{"tf32_bit_length", bits}, {"tpp", tpp}});
  j["tpp_tf32_alternatives"] = alts;
  j["pd"] = opt(m.pd);
  j["pd_reason"] = m.pd ? json(nullptr) : json(m.pd_reason);
  j["applicable_die_area_mm2"] = opt(m.applicable_die_area_mm2);
  j["dram_bandwidth_gb_s"] = opt(m.dram_bandwidth_gb_s);
  j["io_bidirectional_gb_s"] = opt(m.io_bidirectional_gb_s);
  j["memory_bandwidth_density_gb_s_mm2"] = opt(m.memory_bandwidth_density_gb_s_mm2);
  j["transistors"] = opt(m.transistors);
  j["logic_node_nm"] = opt(m.logic_node_nm);
  j["non_planar"] = m.non_planar;
  j["h100_equivalents"] = m.h100_equivalents;
  j["declared_tpp"] = opt(m.declared_tpp);
  j["datacenter"] = m.datacenter;
  j["datacenter_defaulted"] = m.datacenter_defaulted;
  j["has_hbm"] = m.has_hbm;
  json units = json::array();
  for (const auto& u : m.units) {
    json by = json::object();
    for (auto p : all_precisions) {
      if (const auto& t = u.tpp[index_of(p)]) by[std::string(to_string(p))] = *t;
    }
    units.push_back({{"name", u.name},
                     {"best_precision", u.best ? json(std::string(to_string(*u.best))) : json(nullptr)},
                     {"tpp", u.best_tpp},
                     {"tpp_by_precision", by}});
  }
  j["units"] = units;
  return j;
}

json verdict_json(const regime_verdict& v) {
  const auto& r = *v.rule;
  json j;
  j["regime"] = r.id;
  j["title"] = r.title;
  j["role"] = std::string(to_string(r.role));
  j["status"] = std::string(to_string(v.status));
  j["what_if"] = v.what_if;
  j["outcome"] = std::string(to_string(v.outcome));
  const auto* fc = v.fired_clause();
  j["eccn"] = fc ? json(fc->eccn) : json(nullptr);
  j["clause"] = fc ? json{{"eccn", fc->eccn}, {"when", fc->when.text()}, {"citation", fc->citation}, {"note", fc->note}}
                   : json(nullptr);
  j["reason"] = verdict_reason(v);
  json tests = json::array();
  for (const auto& cr : v.clauses) {
    const auto& c = r.clauses[cr.clause_index];
    for (const auto& t : cr.tests) {
      const double ratio = (std::isnan(t.lhs) || std::isnan(t.rhs) || t.rhs == 0) ? std::nan("") : t.lhs / t.rhs;
      tests.push_back({{"clause", c.eccn},
                       {"lhs", std::string(c.when.lhs_text(t.node))},
                       {"op", std::string(c.when.op_text(t.node))},
                       {"rhs", std::string(c.when.rhs_text(t.node))},
                       {"lhs_value", num_or_null(t.lhs)},
                       {"rhs_value", num_or_null(t.rhs)},
                       {"ratio", num_or_null(ratio)},
                       {"holds", std::isnan(t.result) ? json(nullptr) : json(t.result == 1.0)}});
    }
  }
  j["tests"] = tests;
  json exc = json::array();
  for (const auto* x : v.exceptions)
    exc.push_back({{"id", x->id}, {"title", x->title}, {"note", x->note}, {"citation", x->citation},
                   {"evidence", std::string(to_string(x->evidence))}});
  j["exceptions"] = exc;
  json cites = json::array();
  if (fc && !fc->citation.empty()) cites.push_back({{"cite", fc->citation}, {"url", ""}, {"evidence", std::string(to_string(fc->evidence))}});
  for (const auto& c : r.citations)
    cites.push_back({{"cite", c.cite}, {"url", c.url}, {"evidence", std::string(to_string(c.evidence))}});
  j["citations"] = cites;
  j["weakest_evidence"] = std::string(to_string(v.weakest));
  return j;
}

json classification_json(const classification& c, const evaluation_plan& plan) {
  json j;
  j["schema"] = "chipgauge.classification/1";
  j["tool_version"] = tool_version;
  j["part"] = {{"id", c.spec->id},
               {"name", c.spec->name},
               {"vendor", c.spec->vendor},
               {"kind", std::string(to_string(c.spec->kind))},
               {"file", c.spec->file},
               {"evidence", std::string(to_string(c.spec->evidence))}};
  j["as_of"] = plan.as_of().to_string();
  j["what_if"] = plan.what_if();
  j["metrics"] = metrics_json(c.metrics, plan.rules().definitions());
  j["eccn"] = c.eccn.empty() ? json(nullptr) : json(std::string(c.eccn));
  j["controlled"] = c.controlled();
  j["outcome"] = std::string(to_string(c.outcome));
  json verdicts = json::array();
  for (const auto& v : c.verdicts) verdicts.push_back(verdict_json(v));
  j["verdicts"] = verdicts;
  json skipped = json::array();
  for (const auto& s : plan.skipped()) skipped.push_back({{"regime", s.rule->id}, {"status", std::string(to_string(s.status))}});
  j["not_applying"] = skipped;
  json alts = json::array();
  for (const auto& a : c.alternatives)
    alts.push_back({{"reading", a.label}, {"tpp", a.tpp}, {"pd", opt(a.pd)},
                    {"eccn", a.eccn.empty() ? json(nullptr) : json(std::string(a.eccn))}});
  j["alternatives"] = alts;
  j["alternatives_differ"] = c.alternatives_differ;
  if (c.flip) {
    j["range_flip"] = {{"fraction", c.flip->fraction},
                       {"tpp", c.flip->tpp},
                       {"pd", opt(c.flip->pd)},
                       {"eccn_before", c.flip->eccn_before.empty() ? json(nullptr) : json(std::string(c.flip->eccn_before))},
                       {"eccn_after", c.flip->eccn_after.empty() ? json(nullptr) : json(std::string(c.flip->eccn_after))}};
  } else {
    j["range_flip"] = nullptr;
  }
  j["notes"] = classification_notes(c);
  j["disclaimer"] = std::string(disclaimer());
  return j;
}

}  // namespace

std::string to_json(const classification& c, const evaluation_plan& plan) {
  return classification_json(c, plan).dump(2) + "\n";
}

std::string to_json(const std::vector<classification>& cs, const evaluation_plan& plan) {
  json arr = json::array();
  for (const auto& c : cs) arr.push_back(classification_json(c, plan));
  return arr.dump(2) + "\n";
}

}  // namespace chipgauge
