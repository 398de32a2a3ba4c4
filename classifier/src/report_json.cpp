// The `chipgauge.classification/1` JSON contract (docs/classify-output.md).
#include "chipgauge/classifier/report.hpp"
#include "chipgauge/core/version.hpp"

#include "json_writer.hpp"

#include <cmath>

namespace chipgauge::classifier {

namespace {

using detail::json_writer;

void write_metrics(json_writer& w, const part_metrics& m, const metric_definitions& defs) {
  w.begin_object();
  if (m.tpp_known()) w.member("tpp", m.tpp);
  else w.member_null("tpp");
  if (m.tpp_known()) w.member_null("tpp_reason");
  else w.member("tpp_reason", m.tpp_reason);
  w.member("tpp_lower_bound", m.tpp_lower_bound);
  w.member("tpp_aggregation", to_string(defs.aggregation));
  w.member("tpp_sum_of_unit_max", m.tpp_sum_of_unit_max);
  w.member("tpp_max_of_sums", m.tpp_max_of_sums);
  w.key("tpp_tf32_alternatives");
  w.begin_array();
  for (const auto& [bits, tpp] : m.tpp_tf32_alternatives) {
    w.begin_object();
    w.member("tf32_bit_length", bits);
    w.member("tpp", tpp);
    w.end_object();
  }
  w.end_array();
  w.member("pd", m.pd);
  if (m.pd) w.member_null("pd_reason");
  else w.member("pd_reason", m.pd_reason);
  w.member("applicable_die_area_mm2", m.applicable_die_area_mm2);
  w.member("dram_bandwidth_gb_s", m.dram_bandwidth_gb_s);
  w.member("io_bidirectional_gb_s", m.io_bidirectional_gb_s);
  w.member("memory_bandwidth_density_gb_s_mm2", m.memory_bandwidth_density_gb_s_mm2);
  w.member("transistors", m.transistors);
  w.member("logic_node_nm", m.logic_node_nm);
  w.member("non_planar", m.non_planar);
  w.member("h100_equivalents", m.h100_equivalents);
  w.member("declared_tpp", m.declared_tpp);
  w.member("datacenter", m.datacenter);
  w.member("datacenter_defaulted", m.datacenter_defaulted);
  w.member("has_hbm", m.has_hbm);
  w.key("units");
  w.begin_array();
  for (const auto& u : m.units) {
    w.begin_object();
    w.member("name", u.name);
    if (u.best) w.member("best_precision", to_string(*u.best));
    else w.member_null("best_precision");
    w.member("tpp", u.best_tpp);
    w.key("tpp_by_precision");
    w.begin_object();
    for (auto p : all_precisions) {
      if (const auto& t = u.tpp[index_of(p)]) w.member(to_string(p), *t);
    }
    w.end_object();
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

void write_verdict(json_writer& w, const regime_verdict& v) {
  const auto& r = *v.rule;
  w.begin_object();
  w.member("regime", r.id);
  w.member("title", r.title);
  w.member("role", to_string(r.role));
  w.member("status", to_string(v.status));
  w.member("what_if", v.what_if);
  w.member("outcome", to_string(v.outcome));
  const auto* fc = v.fired_clause();
  if (fc) w.member("eccn", fc->eccn);
  else w.member_null("eccn");
  w.key("clause");
  if (fc) {
    w.begin_object();
    w.member("eccn", fc->eccn);
    w.member("when", fc->when.text());
    w.member("citation", fc->citation);
    w.member("note", fc->note);
    w.end_object();
  } else {
    w.null();
  }
  w.member("reason", verdict_reason(v));
  w.key("tests");
  w.begin_array();
  for (const auto& cr : v.clauses) {
    const auto& c = r.clauses[cr.clause_index];
    for (const auto& t : cr.tests) {
      const double ratio =
          (std::isnan(t.lhs) || std::isnan(t.rhs) || t.rhs == 0) ? std::nan("") : t.lhs / t.rhs;
      w.begin_object();
      w.member("clause", c.eccn);
      w.member("lhs", c.when.lhs_text(t.node));
      w.member("op", c.when.op_text(t.node));
      w.member("rhs", c.when.rhs_text(t.node));
      w.member("lhs_value", t.lhs);  // NaN (unknown) prints as null
      w.member("rhs_value", t.rhs);
      w.member("ratio", ratio);
      if (std::isnan(t.result)) w.member_null("holds");
      else w.member("holds", t.result == 1.0);
      w.end_object();
    }
  }
  w.end_array();
  w.key("exceptions");
  w.begin_array();
  for (const auto* x : v.exceptions) {
    w.begin_object();
    w.member("id", x->id);
    w.member("title", x->title);
    w.member("note", x->note);
    w.member("citation", x->citation);
    w.member("evidence", to_string(x->evidence));
    w.end_object();
  }
  w.end_array();
  w.key("citations");
  w.begin_array();
  const auto cite = [&w](std::string_view text, std::string_view url, evidence_tag e) {
    w.begin_object();
    w.member("cite", text);
    w.member("url", url);
    w.member("evidence", to_string(e));
    w.end_object();
  };
  if (fc && !fc->citation.empty()) cite(fc->citation, "", fc->evidence);
  for (const auto& c : r.citations) cite(c.cite, c.url, c.evidence);
  w.end_array();
  w.member("weakest_evidence", to_string(v.weakest));
  w.end_object();
}

void write_eccn(json_writer& w, std::string_view key, std::string_view eccn) {
  if (eccn.empty()) w.member_null(key);
  else w.member(key, eccn);
}

void write_classification(json_writer& w, const classification& c, const evaluation_plan& plan) {
  w.begin_object();
  w.member("schema", "chipgauge.classification/1");
  w.member("tool_version", std::string_view(tool_version));
  w.key("part");
  w.begin_object();
  w.member("id", c.spec->id);
  w.member("name", c.spec->name);
  w.member("vendor", c.spec->vendor);
  w.member("kind", to_string(c.spec->kind));
  w.member("file", c.spec->file);
  w.member("evidence", to_string(c.spec->evidence));
  w.end_object();
  w.member("as_of", plan.as_of().to_string());
  w.member("what_if", plan.what_if());
  w.key("metrics");
  write_metrics(w, c.metrics, plan.rules().definitions());
  write_eccn(w, "eccn", c.eccn);
  w.member("controlled", c.controlled());
  w.member("outcome", to_string(c.outcome));
  w.key("verdicts");
  w.begin_array();
  for (const auto& v : c.verdicts) write_verdict(w, v);
  w.end_array();
  w.key("not_applying");
  w.begin_array();
  for (const auto& s : plan.skipped()) {
    w.begin_object();
    w.member("regime", s.rule->id);
    w.member("status", to_string(s.status));
    w.end_object();
  }
  w.end_array();
  w.key("alternatives");
  w.begin_array();
  for (const auto& a : c.alternatives) {
    w.begin_object();
    w.member("reading", a.label);
    w.member("tpp", a.tpp);
    w.member("pd", a.pd);
    write_eccn(w, "eccn", a.eccn);
    w.end_object();
  }
  w.end_array();
  w.member("alternatives_differ", c.alternatives_differ);
  w.key("range_flip");
  if (c.flip) {
    w.begin_object();
    w.member("fraction", c.flip->fraction);
    w.member("tpp", c.flip->tpp);
    w.member("pd", c.flip->pd);
    write_eccn(w, "eccn_before", c.flip->eccn_before);
    write_eccn(w, "eccn_after", c.flip->eccn_after);
    w.end_object();
  } else {
    w.null();
  }
  w.member("notes", classification_notes(c));
  w.member("disclaimer", disclaimer());
  w.end_object();
}

}  // namespace

std::string to_json(const classification& c, const evaluation_plan& plan) {
  json_writer w;
  write_classification(w, c, plan);
  return w.take("\n");
}

std::string to_json(const std::vector<classification>& cs, const evaluation_plan& plan) {
  json_writer w(10240 * (cs.size() + 1));  // about 9 kB per part
  w.begin_array();
  for (const auto& c : cs) write_classification(w, c, plan);
  w.end_array();
  return w.take("\n");
}

std::string json_array_of(const std::vector<std::string_view>& rendered) {
  if (rendered.empty()) return "[]\n";
  std::size_t size = 4;
  for (const auto r : rendered) size += r.size() + r.size() / 16 + 4;
  std::string out;
  out.reserve(size);
  out += '[';
  bool first = true;
  for (auto r : rendered) {
    if (!r.empty() && r.back() == '\n') r.remove_suffix(1);  // to_json ends the document with one
    out += first ? "\n  " : ",\n  ";
    first = false;
    // Every line one level deeper. JSON strings hold no raw newline, so each newline is a line's.
    for (std::size_t at = 0;;) {
      const auto nl = r.find('\n', at);
      if (nl == std::string_view::npos) {
        out.append(r.substr(at));
        break;
      }
      out.append(r.substr(at, nl + 1 - at));
      out += "  ";
      at = nl + 1;
    }
  }
  out += "\n]\n";
  return out;
}

}  // namespace chipgauge::classifier
