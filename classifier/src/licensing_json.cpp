// Reading licensing regime files (`chipgauge.licensing/1`, docs/licensing.md).
#include "chipgauge/classifier/licensing.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "json_fields.hpp"
#include "licensing_vars.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace chipgauge::classifier {

namespace {

std::vector<std::string> strings(const json_node& n, std::string_view key) {
  std::vector<std::string> out;
  if (auto v = n.find(key)) {
    for (const auto& e : v->elements()) out.push_back(e.string());
  }
  return out;
}

review_policy read_policy(const json_node& n) {
  const auto s = n.one_of({"presumption_of_approval", "case_by_case", "presumption_of_denial"});
  if (s == "presumption_of_approval") return review_policy::presumption_of_approval;
  if (s == "case_by_case") return review_policy::case_by_case;
  return review_policy::presumption_of_denial;
}

}  // namespace

namespace {

// The suffixes of one family's names, '_' written '-'.
std::vector<std::string> family_suffixes(const std::vector<std::string>& names,
                                         std::string_view family) {
  std::vector<std::string> out;
  for (const auto& n : names) {
    if (licensing_vars::family_of(n) != std::optional<std::string_view>(family)) continue;
    std::string t = n.substr(family.size());
    for (auto& c : t) c = c == '_' ? '-' : c;
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

std::vector<std::string> licensing_set::end_user_types() const {
  return family_suffixes(names_, "end_user_");
}
std::vector<std::string> licensing_set::end_uses() const {
  return family_suffixes(names_, "end_use_");
}
std::vector<std::string> licensing_set::exporters() const {
  return family_suffixes(names_, "exporter_");
}

std::size_t licensing_set::variable_count() const noexcept {
  return licensing_vars::first_dynamic + names_.size();
}

licensing_set licensing_set::load(const std::string& dir, const country_db& countries) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw spec_error(dir, "$",
                     "not a directory: expected the licensing directory (specs/licensing)");
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  licensing_set set;
  for (const auto& path : files) {
    const auto doc = read_json_file(path, file_limits::licensing_file);
    const json_node root(doc, path);
    root.expect_keys({"schema", "id", "title", "precedence", "embargo", "policy_only", "compliance",
                      "evidence", "citations", "timeline", "parameters", "requirements",
                      "exceptions", "overlays", "quotas", "fleet_checks", "notes"});
    licensing_regime r;
    json_fields::read_document_header(root, "chipgauge.licensing/1", r);
    if (r.id != fs::path(path).stem().string())
      root.at("id").fail(fmt::format("regime id '{}' differs from the file name '{}'", r.id,
                                     fs::path(path).filename().string()));
    for (const auto& other : set.regimes_) {
      if (other.id == r.id) root.at("id").fail(fmt::format("duplicate id '{}'", r.id));
    }
    if (auto p = root.find("precedence")) r.precedence = static_cast<int>(p->integer_in(-100, 100));
    if (auto e = root.find("embargo")) r.embargo = e->boolean();
    if (auto p = root.find("policy_only")) r.policy_only = p->boolean();
    if (auto c = root.find("compliance")) {
      c->expect_keys({"from", "evidence", "citation", "note"});
      r.compliance = regime_compliance{
          json_fields::day(c->at("from")), json_fields::evidence(c->at("evidence")),
          c->at("citation").string(), json_fields::optional_string(*c, "note")};
    }
    if (auto params = root.find("parameters")) {
      for (const auto& [name, p] : params->members()) {
        auto par = json_fields::parameter_at(name, p);
        // A named capture: clang 14 cannot capture a structured binding.
        if (licensing_vars::fixed_slot(name) ||
            std::any_of(metric_vars().begin(), metric_vars().end(),
                        [&key = name](const auto& v) { return v.name == key; }))
          p.fail(fmt::format("parameter '{}' shadows a variable of the same name", name));
        if (licensing_vars::family_of(name))
          p.fail(
              fmt::format("'{}' starts with a reserved prefix (eccn_, eligible_, to_, from_, hq_, "
                          "end_user_, end_use_, exporter_)",
                          name));
        r.parameters.push_back(std::move(par));
      }
    }

    std::vector<std::string_view> known;
    for (const auto& v : metric_vars()) known.push_back(v.name);
    for (const auto& n : licensing_vars::fixed_names()) known.push_back(n);
    for (const auto& p : r.parameters) known.push_back(p.name);
    std::vector<std::string> names = set.names_;
    const expr_resolver resolve = [&](std::string_view name) -> std::optional<expr_symbol> {
      const auto& vars = metric_vars();
      for (std::size_t i = 0; i < vars.size(); ++i) {
        if (vars[i].name == name)
          return expr_symbol{expr_symbol::source::variable, static_cast<std::uint32_t>(i),
                             vars[i].type};
      }
      if (auto slot = licensing_vars::fixed_slot(name))
        return expr_symbol{expr_symbol::source::variable, *slot, licensing_vars::fixed_type(*slot)};
      for (std::size_t i = 0; i < r.parameters.size(); ++i) {
        if (r.parameters[i].name == name)
          return expr_symbol{expr_symbol::source::parameter, static_cast<std::uint32_t>(i),
                             expr_type::number};
      }
      // Families: eccn_<eccn>, eligible_<exception>, to_/from_/hq_<group id or ISO alpha-2>.
      const auto family = licensing_vars::family_of(name);
      if (!family) return std::nullopt;
      const auto suffix = name.substr(family->size());
      if (*family == "to_" || *family == "from_" || *family == "hq_") {
        std::string upper(suffix);
        for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        std::string region = upper;
        for (auto& c : region) c = c == '_' ? '-' : c;
        if (!countries.has_group(suffix) && !(suffix.size() == 2 && countries.find(upper)) &&
            !countries.find_region(region))
          return std::nullopt;
      }
      auto it = std::find(names.begin(), names.end(), name);
      if (it == names.end()) {
        names.emplace_back(name);
        it = names.end() - 1;
      }
      return expr_symbol{expr_symbol::source::variable,
                         static_cast<std::uint32_t>(licensing_vars::first_dynamic +
                                                    static_cast<std::size_t>(it - names.begin())),
                         expr_type::boolean};
    };
    auto compile = [&](const json_node& n) {
      auto e = expr::compile(n.string(), resolve, path, n.path(), known);
      if (e.type() != expr_type::boolean) n.fail("a condition must be a truth value, not a number");
      return e;
    };

    if (auto reqs = root.find("requirements")) {
      for (const auto& q : reqs->elements()) {
        q.expect_keys({"id", "when", "review_policy", "evidence", "citation", "note", "conditions",
                       "from", "until", "if_stated", "savings_clause", "if_unknown"});
        license_requirement lr{q.at("id").string(),
                               compile(q.at("when")),
                               read_policy(q.at("review_policy")),
                               json_fields::evidence(q.at("evidence")),
                               json_fields::optional_string(q, "citation"),
                               json_fields::optional_string(q, "note"),
                               strings(q, "conditions"),
                               {},
                               {},
                               strings(q, "if_stated"),
                               {},
                               {},
                               {}};
        if (auto f = q.find("from")) lr.from = json_fields::day(*f);
        if (auto u = q.find("until")) lr.until = json_fields::day(*u);
        if (lr.from && lr.until && *lr.until < *lr.from)
          q.at("until").fail("'until' is before 'from'");
        if (auto sc = q.find("savings_clause")) {
          sc->expect_keys({"until", "note"});
          lr.savings_until = json_fields::day(sc->at("until"));
          lr.savings_note = sc->at("note").string();
        }
        lr.if_unknown = json_fields::optional_string(q, "if_unknown");
        r.requirements.push_back(std::move(lr));
      }
    }
    if (auto exc = root.find("exceptions")) {
      for (const auto& x : exc->elements()) {
        x.expect_keys(
            {"id", "title", "when", "conditions", "from", "until", "evidence", "citation"});
        license_exception le{x.at("id").string(),
                             json_fields::optional_string(x, "title"),
                             compile(x.at("when")),
                             strings(x, "conditions"),
                             {},
                             {},
                             json_fields::evidence(x.at("evidence")),
                             json_fields::optional_string(x, "citation")};
        if (auto f = x.find("from")) le.from = json_fields::day(*f);
        if (auto u = x.find("until")) le.until = json_fields::day(*u);
        if (le.from && le.until && *le.until < *le.from)
          x.at("until").fail("'until' is before 'from'");
        r.exceptions.push_back(std::move(le));
      }
    }
    if (auto ovs = root.find("overlays")) {
      for (const auto& o : ovs->elements()) {
        o.expect_keys({"id", "kind", "when", "effect", "requires_license", "evidence", "citation",
                       "binds", "if_unknown"});
        const auto k = o.at("kind").one_of({"letter", "tariff", "guidance", "red_flag"});
        license_overlay ov{o.at("id").string(),
                           k == "letter"     ? overlay_kind::letter
                           : k == "tariff"   ? overlay_kind::tariff
                           : k == "guidance" ? overlay_kind::guidance
                                             : overlay_kind::red_flag,
                           compile(o.at("when")),
                           o.at("effect").string(),
                           false,
                           json_fields::evidence(o.at("evidence")),
                           json_fields::optional_string(o, "citation"),
                           {},
                           {}};
        if (auto rl = o.find("requires_license")) ov.requires_license = rl->boolean();
        ov.binds = strings(o, "binds");
        ov.if_unknown = json_fields::optional_string(o, "if_unknown");
        r.overlays.push_back(std::move(ov));
      }
    }
    if (auto qs = root.find("quotas")) {
      for (const auto& q : qs->elements()) {
        q.expect_keys({"id", "per", "limit", "period_from", "period_until", "applies_when",
                       "excludes", "evidence", "note"});
        license_quota lq;
        lq.id = q.at("id").string();
        lq.per = q.at("per").one_of({"consignee_year", "country_period"}) == "consignee_year"
                     ? license_quota::scope::consignee_year
                     : license_quota::scope::country_period;
        lq.limit_parameter = q.at("limit").string();
        if (std::none_of(r.parameters.begin(), r.parameters.end(),
                         [&](const parameter& p) { return p.name == lq.limit_parameter; }))
          q.at("limit").fail(
              fmt::format("'{}' is not a parameter of this file", lq.limit_parameter));
        if (auto f = q.find("period_from")) lq.period_from = json_fields::day(*f);
        if (auto u = q.find("period_until")) lq.period_until = json_fields::day(*u);
        lq.applies_when = compile(q.at("applies_when"));
        lq.excludes = strings(q, "excludes");
        lq.evidence = json_fields::evidence(q.at("evidence"));
        lq.note = json_fields::optional_string(q, "note");
        r.quotas.push_back(std::move(lq));
      }
    }
    if (auto fcs = root.find("fleet_checks")) {
      for (const auto& f : fcs->elements()) {
        f.expect_keys({"id", "when", "effect", "evidence"});
        r.fleet_checks.push_back({f.at("id").string(), compile(f.at("when")),
                                  f.at("effect").string(),
                                  json_fields::evidence(f.at("evidence"))});
      }
    }
    for (std::size_t i = 0; i < r.quotas.size(); ++i) {
      for (const auto& ex : r.quotas[i].excludes) {
        if (std::none_of(r.quotas.begin(), r.quotas.end(),
                         [&](const license_quota& q) { return q.id == ex; }))
          root.at("quotas").at(i).fail(
              fmt::format("excludes '{}', which is not a quota of this file", ex));
      }
    }
    r.notes = strings(root, "notes");
    set.names_ = std::move(names);
    set.regimes_.push_back(std::move(r));
  }
  return set;
}

}  // namespace chipgauge::classifier
