// The listings of `rules list`, `rules show` and `specs list`.
#include "chipgauge/classifier/listing.hpp"

#include "chipgauge/classifier/metrics.hpp"
#include "chipgauge/core/text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace chipgauge::classifier {

std::string render_rules_list(const rule_set& rules, date as_of, output_format format) {
  std::vector<std::string> header{"id", "role", "status", "in_force_from", "evidence", "title"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : rules.regimes()) {
    const auto from = r.in_force_from();
    rows.push_back({r.id, std::string(to_string(r.role)),
                    std::string(to_string(r.status_on(as_of))), from ? from->to_string() : "-",
                    std::string(to_string(r.evidence)), r.title});
  }
  switch (format) {
    case output_format::csv: return render_csv(header, rows);
    case output_format::md: return render_markdown_table(header, rows);
    case output_format::json: {
      auto arr = nlohmann::ordered_json::array();
      for (const auto& row : rows) {
        nlohmann::ordered_json o;
        for (std::size_t i = 0; i < header.size(); ++i) o[header[i]] = row[i];
        arr.push_back(o);
      }
      return arr.dump(2) + "\n";
    }
    case output_format::text: break;
  }
  return fmt::format("regimes as of {} ({} files)\n", as_of.to_string(), rows.size()) +
         render_table(header, rows);
}

std::string render_regime(const regime& r, date as_of) {
  std::string out = fmt::format("{}\n{}\nfile: {}\nrole: {}; status on {}: {}; evidence {}\n", r.id,
                                r.title, r.file, to_string(r.role), as_of.to_string(),
                                to_string(r.status_on(as_of)), to_string(r.evidence));
  out += "timeline:\n";
  for (const auto& t : r.timeline)
    out += fmt::format("  {}  {}{}\n", t.from.to_string(), to_string(t.status),
                       t.note.empty() ? "" : "  " + t.note);
  out += "citations:\n";
  for (const auto& c : r.citations)
    out += fmt::format("  {} [{}]{}\n", c.cite, to_string(c.evidence),
                       c.url.empty() ? "" : " " + c.url);
  if (!r.parameters.empty()) {
    out += fmt::format("parameters (values on {}):\n", as_of.to_string());
    for (const auto& p : r.parameters)
      out += fmt::format("  {} = {} {} [{}]{}\n", p.name, human_number(p.value_on(as_of)), p.unit,
                         to_string(p.evidence), p.note.empty() ? "" : "  " + p.note);
  }
  out += "clauses (tested in order):\n";
  for (const auto& c : r.clauses) {
    std::string kinds;
    for (auto k : c.applies_to) kinds += (kinds.empty() ? "" : ",") + std::string(to_string(k));
    out += fmt::format("  {} [{}; {}]: {}\n", c.eccn, kinds, to_string(c.evidence), c.when.text());
  }
  if (!r.exceptions.empty()) {
    out += "exceptions:\n";
    for (const auto& x : r.exceptions) {
      std::string cls;
      for (const auto& c : x.clauses) cls += (cls.empty() ? "" : ",") + c;
      out += fmt::format("  {} for {}{}{}{} [{}]\n", x.id, cls,
                         x.when ? " when " + x.when->text() : "",
                         x.from ? " from " + x.from->to_string() : "",
                         x.until ? " until " + x.until->to_string() : "", to_string(x.evidence));
    }
  }
  for (const auto& n : r.notes) out += "note: " + n + "\n";
  return out;
}

std::string render_parts_list(const catalog& cat, output_format format) {
  std::vector<std::string> header{"id", "vendor", "name", "kind", "evidence", "datacenter", "tpp"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : cat.parts().parts()) {
    const auto m = compute_metrics(*p, cat.rules().definitions());
    rows.push_back(
        {p->id, p->vendor, p->name, std::string(to_string(p->kind)),
         std::string(to_string(p->evidence)),
         p->datacenter.defaulted ? "unstated (true)" : (p->datacenter.value ? "yes" : "no"),
         format == output_format::csv ? fmt::format("{:.1f}", m.tpp) : group_thousands(m.tpp)});
  }
  switch (format) {
    case output_format::csv: return render_csv(header, rows);
    case output_format::md: return render_markdown_table(header, rows);
    case output_format::json: {
      auto arr = nlohmann::ordered_json::array();
      for (const auto& p : cat.parts().parts()) {
        const auto m = compute_metrics(*p, cat.rules().definitions());
        arr.push_back({{"id", p->id},
                       {"vendor", p->vendor},
                       {"name", p->name},
                       {"kind", to_string(p->kind)},
                       {"evidence", to_string(p->evidence)},
                       {"datacenter", p->datacenter.value},
                       {"datacenter_defaulted", p->datacenter.defaulted},
                       {"tpp", m.tpp},
                       {"file", p->file}});
      }
      return arr.dump(2) + "\n";
    }
    case output_format::text: break;
  }
  return render_table(header, rows, {false, false, false, false, false, false, true}) +
         fmt::format("{} parts in {}/chips\n", rows.size(), cat.specs_dir());
}

}  // namespace chipgauge::classifier
