// Reading regime files (`chipgauge.rule/1`, docs/rules-format.md) and the rules directory.
#include "chipgauge/classifier/rules.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "json_fields.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace chipgauge::classifier {

namespace {

part_kind read_kind(const json_node& n) {
  const auto s = n.one_of({"ic", "board", "system", "hbm"});
  if (s == "ic") return part_kind::ic;
  if (s == "board") return part_kind::board;
  if (s == "system") return part_kind::system;
  return part_kind::hbm;
}

}  // namespace

rule_set rule_set::load_definitions(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw spec_error(dir, "$", "not a directory: expected the rules directory (specs/rules)");
  rule_set rs;
  const std::string metrics = (fs::path(dir) / "metrics.json").string();
  if (!fs::exists(metrics, ec))
    throw spec_error(metrics, "$", "missing: the rules directory needs metrics.json");
  rs.defs_ = load_metric_definitions(metrics);
  return rs;
}

rule_set rule_set::load(const std::string& dir) {
  namespace fs = std::filesystem;
  rule_set rs = load_definitions(dir);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".json" &&
        e.path().filename() != "metrics.json")
      files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    rs.add_regime_file(f);
    // In a rules directory the file is named after the regime, so `rules show ID` finds it.
    if (const auto stem = fs::path(f).stem().string(); rs.regimes_.back().id != stem)
      throw spec_error(
          f, "$.id",
          fmt::format("regime id '{}' differs from the file name: expected '{}.json' or id '{}'",
                      rs.regimes_.back().id, rs.regimes_.back().id, stem));
  }
  // Stable order: by first in-force date, then id.
  std::stable_sort(rs.regimes_.begin(), rs.regimes_.end(), [](const regime& a, const regime& b) {
    const auto da = a.timeline.empty() ? date{} : a.timeline.front().from;
    const auto db = b.timeline.empty() ? date{} : b.timeline.front().from;
    return da != db ? da < db : a.id < b.id;
  });
  return rs;
}

void rule_set::add_regime_file(const std::string& path) {
  auto r = parse_regime(path);
  if (const auto* other = find(r.id)) {
    throw spec_error(path, "$.id",
                     fmt::format("duplicate regime id '{}' (also in {})", r.id, other->file));
  }
  regimes_.push_back(std::move(r));
  contains_ = std::move(pending_flags_);
}

regime rule_set::parse_regime(const std::string& path) {
  // New contains_<eccn> flags are collected aside and kept only if the whole file is valid.
  std::vector<std::string> flags = contains_;
  const auto doc = read_json_file(path, file_limits::rule_file);
  const json_node root(doc, path);
  root.expect_keys({"schema", "id", "title", "role", "evidence", "citations", "timeline",
                    "parameters", "clauses", "exceptions", "notes"});
  regime r;
  json_fields::read_document_header(root, "chipgauge.rule/1", r);
  if (auto role = root.find("role"))
    r.role = role->one_of({"classification", "presumption"}) == "classification"
                 ? regime_role::classification
                 : regime_role::presumption;

  std::vector<std::string_view> known;
  for (const auto& v : metric_vars()) known.push_back(v.name);
  if (auto params = root.find("parameters")) {
    for (const auto& [name, p] : params->members()) {
      auto par = json_fields::parameter_at(name, p);
      // A named capture: clang 14 cannot capture a structured binding.
      if (std::any_of(metric_vars().begin(), metric_vars().end(),
                      [&key = name](const auto& v) { return v.name == key; }))
        p.fail(fmt::format("parameter '{}' shadows the metric of the same name", name));
      if (name.rfind("contains_", 0) == 0)
        p.fail("names starting with 'contains_' are reserved for component flags");
      r.parameters.push_back(std::move(par));
    }
  }
  for (const auto& p : r.parameters) known.push_back(p.name);

  const expr_resolver resolve = [&](std::string_view name) -> std::optional<expr_symbol> {
    const auto& vars = metric_vars();
    for (std::size_t i = 0; i < vars.size(); ++i) {
      if (vars[i].name == name)
        return expr_symbol{expr_symbol::source::variable, static_cast<std::uint32_t>(i),
                           vars[i].type};
    }
    for (std::size_t i = 0; i < r.parameters.size(); ++i) {
      if (r.parameters[i].name == name)
        return expr_symbol{expr_symbol::source::parameter, static_cast<std::uint32_t>(i),
                           expr_type::number};
    }
    // contains_<eccn>: a board or system contains an IC classified under that ECCN (or a
    // sub-paragraph).
    if (name.size() > 9 && name.substr(0, 9) == "contains_") {
      auto it = std::find(flags.begin(), flags.end(), name);
      if (it == flags.end()) {
        flags.emplace_back(name);
        it = flags.end() - 1;
      }
      return expr_symbol{expr_symbol::source::variable,
                         static_cast<std::uint32_t>(metric_var_count +
                                                    static_cast<std::size_t>(it - flags.begin())),
                         expr_type::boolean};
    }
    return std::nullopt;
  };

  auto weakest_of = [&](const expr& e, evidence_tag own) {
    evidence_tag w = own;
    for (auto slot : e.parameters_used()) w = std::max(w, r.parameters[slot].evidence);
    return w;
  };

  const auto clauses = root.at("clauses");
  for (const auto& c : clauses.elements()) {
    c.expect_keys({"eccn", "applies_to", "when", "evidence", "citation", "note"});
    clause cl;
    cl.eccn = c.at("eccn").string();
    if (cl.eccn.empty())
      c.at("eccn").fail("expected an ECCN such as \"3A090.a.1\", not an empty string");
    if (auto kinds = c.find("applies_to")) {
      for (const auto& k : kinds->elements()) cl.applies_to.push_back(read_kind(k));
      if (cl.applies_to.empty()) kinds->fail("expected at least one kind: ic, board, system, hbm");
    } else {
      cl.applies_to.push_back(part_kind::ic);
    }
    const auto when = c.at("when");
    cl.when = expr::compile(when.string(), resolve, path, when.path(), known);
    if (cl.when.type() != expr_type::boolean)
      when.fail("a clause's condition must be a truth value (a comparison), not a number");
    cl.evidence = json_fields::evidence(c.at("evidence"));
    cl.citation = json_fields::optional_string(c, "citation");
    cl.note = json_fields::optional_string(c, "note");
    r.clauses.push_back(std::move(cl));
  }
  if (r.clauses.empty()) clauses.fail("a regime needs at least one clause");

  if (auto exc = root.find("exceptions")) {
    for (const auto& e : exc->elements()) {
      e.expect_keys(
          {"id", "title", "clauses", "when", "from", "until", "evidence", "citation", "note"});
      exception_rule x;
      x.id = e.at("id").string();
      x.title = json_fields::optional_string(e, "title");
      const auto cls = e.at("clauses");
      for (const auto& c : cls.elements()) {
        auto eccn = c.string();
        if (std::none_of(r.clauses.begin(), r.clauses.end(),
                         [&](const clause& k) { return k.eccn == eccn; }))
          c.fail(fmt::format("'{}' is not an ECCN of this regime's clauses", eccn));
        x.clauses.push_back(std::move(eccn));
      }
      if (auto w = e.find("when")) {
        x.when = expr::compile(w->string(), resolve, path, w->path(), known);
        if (x.when->type() != expr_type::boolean)
          w->fail("an exception's condition must be a truth value");
      }
      if (auto f = e.find("from")) x.from = json_fields::day(*f);
      if (auto u = e.find("until")) x.until = json_fields::day(*u);
      x.evidence = json_fields::evidence(e.at("evidence"));
      if (x.when) x.evidence = weakest_of(*x.when, x.evidence);
      x.citation = json_fields::optional_string(e, "citation");
      x.note = json_fields::optional_string(e, "note");
      r.exceptions.push_back(std::move(x));
    }
  }
  if (auto notes = root.find("notes")) {
    for (const auto& n : notes->elements()) r.notes.push_back(n.string());
  }
  pending_flags_ = std::move(flags);
  return r;
}

}  // namespace chipgauge::classifier
