// Human-readable rationale: verdict sentences, notes, and the text/Markdown/CSV tables.
#include "chipgauge/classifier/report.hpp"

#include "chipgauge/core/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <utility>

namespace chipgauge::classifier {

namespace {

// A display label for an operand: metric names get their short label, anything else its text.
std::string label_of(std::string_view text) {
  static const std::vector<std::pair<std::string_view, std::string_view>> labels{
      {"tpp", "TPP"},
      {"tpp_sum_of_unit_max", "TPP (sum of unit max)"},
      {"tpp_max_of_sums", "TPP (max of sums)"},
      {"pd", "PD"},
      {"applicable_die_area_mm2", "applicable die area mm^2"},
      {"dram_bandwidth_gb_s", "DRAM bandwidth GB/s"},
      {"io_bidirectional_gb_s", "I/O GB/s"},
      {"memory_bandwidth_density_gb_s_mm2", "memory bandwidth density GB/s/mm^2"},
      {"transistors", "transistors"},
      {"logic_node_nm", "logic node nm"},
      {"declared_tpp", "declared TPP"},
      {"h100_equivalents", "H100-equivalents"},
  };
  for (const auto& [name, label] : labels) {
    if (name == text) return std::string(label);
  }
  return std::string(text);
}

std::string ratio_text(double lhs, double rhs) {
  if (rhs == 0) return "";
  const double r = lhs / rhs;
  if (std::fabs(r - 1) < 0.01 && r != 1) return fmt::format("{:.4f}", r);
  if (std::fabs(r) < 0.1) return fmt::format("{:.2g}", r);
  return fmt::format("{:.2f}", r);
}

std::string test_sentence(const expr& e, const comparison_trace& t) {
  const auto lhs = label_of(e.lhs_text(t.node));
  if (std::isnan(t.lhs))
    return fmt::format("{} is unknown (the {} {} line cannot be tested)", lhs, e.op_text(t.node),
                       human_number(t.rhs));
  if (std::isnan(t.rhs))
    return fmt::format("{} {} is tested against an unknown value", lhs, human_number(t.lhs));
  std::string s = fmt::format("{} {} is {} x the {} line", lhs, human_number(t.lhs),
                              ratio_text(t.lhs, t.rhs), human_number(t.rhs));
  if (t.result == 0) s += fmt::format(" (fails {} {})", e.op_text(t.node), human_number(t.rhs));
  return s;
}

std::string clause_sentence(const clause& c, const clause_result& r, bool only_failing) {
  std::string out;
  for (const auto& t : r.tests) {
    // A false clause is explained by its false tests; an unknown one by its false or unknown tests.
    if (only_failing && (t.result == 1.0 || (r.result == 0.0 && std::isnan(t.result)))) continue;
    out += (out.empty() ? "" : "; ") + test_sentence(c.when, t);
  }
  if (out.empty() && only_failing) {
    // Failed on a truth value (datacenter, contains_...) rather than a threshold.
    out = fmt::format("condition \"{}\" is {}", c.when.text(),
                      std::isnan(r.result) ? "unknown" : "false");
  }
  if (out.empty()) out = fmt::format("condition \"{}\" holds", c.when.text());
  return out;
}

std::string fmt_opt(const std::optional<double>& v, int decimals) {
  return v ? group_thousands(*v, decimals) : "-";
}

}  // namespace

std::string_view disclaimer() noexcept {
  return "Not legal advice: chipgauge encodes its reading of public rules with evidence tags; "
         "confirm classifications with counsel or BIS before relying on them.";
}

std::string verdict_reason(const regime_verdict& v) {
  const auto& clauses = v.rule->clauses;
  switch (v.outcome) {
    case verdict_outcome::not_applicable: return "no clause applies to this kind of part";
    case verdict_outcome::controlled: {
      const auto& fired = clauses[static_cast<std::size_t>(v.fired)];
      for (const auto& r : v.clauses) {
        if (r.clause_index == static_cast<std::uint32_t>(v.fired))
          return fired.eccn + ": " + clause_sentence(fired, r, false);
      }
      return fired.eccn;
    }
    case verdict_outcome::not_controlled:
    case verdict_outcome::undetermined: {
      // Undetermined with every clause decided: the metrics were lower bounds (a measurement).
      const bool all_decided =
          std::none_of(v.clauses.begin(), v.clauses.end(),
                       [](const clause_result& r) { return std::isnan(r.result); });
      std::string out =
          v.outcome == verdict_outcome::not_controlled ? "no clause fires: "
          : all_decided
              ? "not demonstrated by this measurement (its TPP is a lower bound, so a clause "
                "failing on it does not show the part uncontrolled): "
              : "undetermined: ";
      bool first = true;
      for (const auto& r : v.clauses) {
        const auto& c = clauses[r.clause_index];
        out += fmt::format("{}{} {}: {}", first ? "" : "; ", c.eccn,
                           std::isnan(r.result) ? "unknown" : "fails", clause_sentence(c, r, true));
        first = false;
      }
      return out;
    }
  }
  return {};
}

std::vector<std::string> classification_notes(const classification& c) {
  std::vector<std::string> notes;
  const auto& m = c.metrics;
  if (m.datacenter_defaulted)
    notes.emplace_back(
        "the sheet does not say whether the part is designed or marketed for datacenters: "
        "treated as a datacenter part (conservative)");
  if (!m.tpp_known())
    notes.push_back("TPP is unknown: " + m.tpp_reason +
                    "; clauses that need TPP cannot be decided");
  if (m.tpp_lower_bound)
    notes.emplace_back(
        "TPP and PD are lower bounds measured on the device: a regime whose clauses fail on "
        "them is undetermined, and a controlled part may belong to a higher paragraph than the "
        "one shown");
  if (!m.pd && m.tpp_known()) {
    notes.push_back("PD is undefined: " + m.pd_reason +
                    (m.pd_not_met_by_reading
                         ? ""
                         : "; clauses that need PD cannot be decided from this sheet"));
  }
  if (m.tpp_sum_of_unit_max != m.tpp_max_of_sums)
    notes.push_back(fmt::format(
        "TPP depends on the aggregation: {} summing each unit's best precision, {} taking the "
        "best precision of the sums",
        group_thousands(m.tpp_sum_of_unit_max), group_thousands(m.tpp_max_of_sums)));
  for (const auto& [bits, tpp] : m.tpp_tf32_alternatives)
    notes.push_back(
        fmt::format("with TF32 counted as {} bits TPP would be {}", bits, group_thousands(tpp)));
  for (const auto& a : c.alternatives) {
    if (a.eccn != c.eccn)
      notes.push_back(fmt::format(
          "verdict depends on an open point: under {} (TPP {}) the ECCN would be {}", a.label,
          group_thousands(a.tpp), a.eccn.empty() ? "none" : std::string(a.eccn)));
  }
  if (c.spec && c.spec->has_ranges()) {
    if (!c.flip) {
      notes.emplace_back("the verdict holds across every range in the sheet");
    } else {
      const auto& f = *c.flip;
      notes.push_back(fmt::format(
          "the verdict depends on where the part lies in its ranges: {} toward the end against "
          "control, {} from {:.0f} % of the way toward the other end (TPP {}, PD {})",
          f.eccn_before.empty() ? "not controlled" : std::string(f.eccn_before),
          f.eccn_after.empty() ? "not controlled" : std::string(f.eccn_after), 100 * f.fraction,
          group_thousands(f.tpp), f.pd ? fmt::format("{:.2f}", *f.pd) : "undefined"));
    }
  }
  for (const auto& v : c.verdicts) {
    if (v.outcome != verdict_outcome::not_applicable && v.weakest >= evidence_tag::S)
      notes.push_back(fmt::format("{} rests on evidence {} ({})", v.rule->id, to_string(v.weakest),
                                  describe(v.weakest)));
  }
  return notes;
}

std::string render(const std::vector<classification>& cs, const evaluation_plan& plan,
                   output_format format, bool brief) {
  if (format == output_format::json)
    return cs.size() == 1 ? to_json(cs.front(), plan) : to_json(cs, plan);

  std::vector<std::string> header{"id", "name",      "kind",    "tpp",
                                  "pd", "dram_gb_s", "io_gb_s", "eccn"};
  if (format == output_format::text)
    header = {"part", "kind", "TPP", "PD", "DRAM GB/s", "I/O GB/s", "ECCN"};
  for (const auto& e : plan.entries()) {
    // Regimes evaluated though not in force are labelled with their status on the date.
    header.push_back(e.what_if ? fmt::format("{} ({})", e.rule->id, to_string(e.status))
                               : e.rule->id);
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : cs) {
    const auto& m = c.metrics;
    const int dec = format == output_format::csv ? 1 : 0;
    std::vector<std::string> row;
    if (format == output_format::text) {
      row = {c.spec->name, std::string(to_string(c.spec->kind))};
    } else {
      row = {c.spec->id, c.spec->name, std::string(to_string(c.spec->kind))};
    }
    auto num = [&](double v, int d) {
      return format == output_format::csv ? fmt::format("{:.{}f}", v, d) : group_thousands(v, d);
    };
    auto onum = [&](const std::optional<double>& v, int d) {
      return v ? num(*v, d) : std::string(format == output_format::csv ? "" : "-");
    };
    row.push_back(m.tpp_known() ? num(m.tpp, dec)
                                : std::string(format == output_format::csv ? "" : "unknown"));
    row.push_back(onum(m.pd, 2));
    row.push_back(onum(m.dram_bandwidth_gb_s, 0));
    row.push_back(onum(m.io_bidirectional_gb_s, 0));
    row.push_back(
        c.eccn.empty()
            ? std::string(c.outcome == verdict_outcome::undetermined ? "undetermined" : "-")
            : std::string(c.eccn));
    for (const auto& v : c.verdicts) {
      switch (v.outcome) {
        case verdict_outcome::controlled: row.push_back(v.fired_clause()->eccn); break;
        case verdict_outcome::not_controlled: row.emplace_back("not controlled"); break;
        case verdict_outcome::undetermined: row.emplace_back("undetermined"); break;
        case verdict_outcome::not_applicable: row.emplace_back("n/a"); break;
      }
    }
    rows.push_back(std::move(row));
  }
  if (format == output_format::csv) return render_csv(header, rows);
  if (format == output_format::md)
    return render_markdown_table(header, rows) + "\n" + std::string(disclaimer()) + "\n";

  // Text: the table, then each part's verdicts with reasons, citations and evidence.
  std::string out =
      fmt::format("chipgauge classify: as of {}{}\n\n", plan.as_of().to_string(),
                  plan.what_if() ? " (what-if: announced and proposed regimes evaluated too)" : "");
  header.resize(7);
  for (auto& r : rows) r.resize(7);
  out += render_table(header, rows, {false, false, true, true, true, true, false});
  for (const auto& c : cs) {
    if (brief) break;
    const auto& m = c.metrics;
    out += fmt::format("\n{} ({}, {})\n", c.spec->name, c.spec->id, c.spec->file);
    out += fmt::format(
        "  TPP {} ({}), PD {}, applicable die area {} mm^2, {} H100-equivalents\n",
        m.tpp_known() ? group_thousands(m.tpp) : "unknown",
        c.metrics.units.size() == 1 && c.metrics.units[0].best
            ? std::string(to_string(*c.metrics.units[0].best)) + " on " + c.metrics.units[0].name
            : std::to_string(c.metrics.units.size()) + " units",
        m.pd ? fmt::format("{:.2f}", *m.pd) : "undefined", fmt_opt(m.applicable_die_area_mm2, 0),
        m.tpp_known() ? fmt::format("{:.2f}", m.h100_equivalents) : "unknown");
    for (const auto& v : c.verdicts) {
      const auto& r = *v.rule;
      out +=
          fmt::format("  {} [{}{}]: {}\n", r.id, to_string(v.status), v.what_if ? ", what-if" : "",
                      v.outcome == verdict_outcome::controlled ? std::string(v.fired_clause()->eccn)
                                                               : std::string(to_string(v.outcome)));
      if (v.outcome == verdict_outcome::not_applicable) continue;
      out += "    " + verdict_reason(v) + "\n";
      if (const auto* fc = v.fired_clause()) out += "    condition: " + fc->when.text() + "\n";
      // The fired clause's own citation where it has one, else the regime's.
      std::string cites;
      if (const auto* fc = v.fired_clause(); fc && !fc->citation.empty()) {
        cites = fc->citation;
      } else {
        for (const auto& ct : r.citations) cites += (cites.empty() ? "" : "; ") + ct.cite;
      }
      out += fmt::format("    evidence {} ({}); {}\n", to_string(v.weakest), describe(v.weakest),
                         cites);
      for (const auto* x : v.exceptions)
        out += fmt::format("    eligible: {}{} [evidence {}]\n", x->id,
                           x->note.empty() ? "" : " - " + x->note, to_string(x->evidence));
    }
    for (const auto& n : classification_notes(c)) out += "  note: " + n + "\n";
  }
  if (!plan.skipped().empty()) {
    out += "\nnot applying on this date:";
    for (const auto& s : plan.skipped())
      out += fmt::format(" {} ({})", s.rule->id, to_string(s.status));
    out += "\n";
  }
  out += "\n" + std::string(disclaimer()) + "\n";
  return out;
}

std::string coverage_markdown(const spec_database& db) {
  constexpr std::array levels{data_evidence::vendor_datasheet, data_evidence::vendor_whitepaper,
                              data_evidence::analyst, data_evidence::estimate,
                              data_evidence::unspecified};
  using row = std::array<std::size_t, levels.size()>;
  std::map<std::pair<std::string, part_kind>, row> rows;  // ordered by vendor, then kind
  row total{};
  for (const auto& p : db.parts()) {
    const auto at = static_cast<std::size_t>(std::find(levels.begin(), levels.end(), p->evidence) -
                                             levels.begin());
    if (at >= levels.size()) continue;
    ++rows[{p->vendor, p->kind}][at];
    ++total[at];
  }
  std::string out =
      "## Coverage\n\nSheets per vendor and kind, by evidence level (the weakest source a "
      "sheet's numbers rest on).\n\n| vendor | kind |";
  for (auto l : levels) out += fmt::format(" {} |", to_string(l));
  out += " total |\n|---|---|";
  for (std::size_t i = 0; i <= levels.size(); ++i) out += "---|";
  out += "\n";
  auto cells = [](const row& r) {
    std::string s;
    std::size_t sum = 0;
    for (auto n : r) {
      s += n == 0 ? std::string(" - |") : fmt::format(" {} |", n);
      sum += n;
    }
    return s + fmt::format(" {} |\n", sum);
  };
  for (const auto& [key, r] : rows)
    out += fmt::format("| {} | {} |", key.first, to_string(key.second)) + cells(r);
  out += "| **all** | |" + cells(total);
  return out;
}

}  // namespace chipgauge::classifier
