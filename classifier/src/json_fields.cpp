#include "json_fields.hpp"

#include <fmt/format.h>

#include <regex>

namespace chipgauge::classifier::json_fields {

evidence_tag evidence(const json_node& n) {
  const auto s = n.string();
  const auto t = parse_evidence_tag(s);
  if (!t)
    n.fail(fmt::format(
        "unknown evidence tag '{}': expected V (official text), C (arithmetic), S (secondary) "
        "or R (recollection)",
        s));
  return *t;
}

date day(const json_node& n) {
  const auto s = n.string();
  const auto d = date::parse(s);
  if (!d) n.fail(fmt::format("'{}' is not a date: expected YYYY-MM-DD", s));
  return *d;
}

regime_status status(const json_node& n) {
  const auto s = n.one_of(
      {"in_force", "announced_not_enforced", "guidance", "proposed", "rescinded", "superseded"});
  if (s == "in_force") return regime_status::in_force;
  if (s == "announced_not_enforced") return regime_status::announced_not_enforced;
  if (s == "guidance") return regime_status::guidance;
  if (s == "proposed") return regime_status::proposed;
  if (s == "rescinded") return regime_status::rescinded;
  return regime_status::superseded;
}

void read_document_header(const json_node& root, std::string_view schema, dated_document& into) {
  const auto found = root.at("schema").string();
  if (found != schema)
    root.at("schema").fail(fmt::format("unsupported schema '{}': expected \"{}\"", found, schema));
  into.file = root.file();
  into.id = root.at("id").string();
  static const std::regex id_re("[a-z0-9][a-z0-9._-]{0,79}");
  if (!std::regex_match(into.id, id_re))
    root.at("id").fail("invalid id: expected lowercase letters, digits, '.', '_' or '-'");
  into.title = root.at("title").string();
  into.evidence = evidence(root.at("evidence"));

  for (const auto& c : root.at("citations").elements()) {
    c.expect_keys({"cite", "url", "evidence", "note"});
    into.citations.push_back({c.at("cite").string(), optional_string(c, "url"),
                              evidence(c.at("evidence")), optional_string(c, "note")});
  }
  if (into.citations.empty()) root.at("citations").fail("a regime needs at least one citation");

  const auto timeline = root.at("timeline");
  for (const auto& t : timeline.elements()) {
    t.expect_keys({"from", "status", "note"});
    timeline_entry e{day(t.at("from")), status(t.at("status")), optional_string(t, "note")};
    if (!into.timeline.empty() && !(into.timeline.back().from < e.from))
      t.at("from").fail("timeline entries must be in strictly increasing date order");
    into.timeline.push_back(std::move(e));
  }
  if (into.timeline.empty()) timeline.fail("a regime needs at least one dated status");
}

parameter parameter_at(const std::string& name, const json_node& p) {
  p.expect_keys({"value", "values", "unit", "evidence", "source", "note"});
  static const std::regex name_re("[a-z_][a-z0-9_]*");
  if (!std::regex_match(name, name_re))
    p.fail("a parameter name is lowercase letters, digits and '_'");
  for (const char* word : {"and", "or", "not", "true", "false"}) {
    if (name == word)
      p.fail(fmt::format("'{}' is a word of the expression language, not a parameter name", name));
  }
  parameter par;
  par.name = name;
  const auto single = p.find("value");
  const auto dated = p.find("values");
  if (single && dated) p.fail("give 'value' or dated 'values', not both");
  if (single) {
    par.values.push_back({date{}, single->number()});
  } else if (dated) {
    for (const auto& v : dated->elements()) {
      v.expect_keys({"from", "value"});
      const dated_value dv{day(v.at("from")), v.at("value").number()};
      if (!par.values.empty() && !(par.values.back().from < dv.from))
        v.at("from").fail("dated values must be in strictly increasing date order");
      par.values.push_back(dv);
    }
    if (par.values.empty()) dated->fail("expected at least one dated value");
  } else {
    p.fail("missing 'value' (a number) or 'values' (dated numbers)");
  }
  par.unit = optional_string(p, "unit");
  par.evidence = evidence(p.at("evidence"));
  par.source = optional_string(p, "source");
  par.note = optional_string(p, "note");
  return par;
}

std::string optional_string(const json_node& n, std::string_view key) {
  if (auto v = n.find(key)) return v->string();
  return {};
}

}  // namespace chipgauge::classifier::json_fields
