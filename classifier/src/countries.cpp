// ISO 3166 countries and dated country groups (specs/countries/countries.json, groups.json).
#include "chipgauge/classifier/countries.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "chipgauge/core/text.hpp"
#include "json_fields.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace chipgauge::classifier {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool active(const date& from, const std::optional<date>& until, date day) {
  return from <= day && (!until || day <= *until);
}

}  // namespace

country_db country_db::load(const std::string& dir) {
  namespace fs = std::filesystem;
  country_db db;
  const std::string cpath = (fs::path(dir) / "countries.json").string();
  const auto cdoc = read_json_file(cpath, file_limits::country_file);
  const json_node croot(cdoc, cpath);
  croot.expect_keys({"schema", "source", "countries"});
  if (croot.at("schema").string() != "chipgauge.countries/1")
    croot.at("schema").fail("expected \"chipgauge.countries/1\"");
  for (const auto& c : croot.at("countries").elements()) {
    c.expect_keys({"alpha2", "alpha3", "name", "aliases"});
    country k;
    k.alpha2 = c.at("alpha2").string();
    if (k.alpha2.size() != 2) c.at("alpha2").fail("expected a two-letter ISO 3166-1 code");
    k.alpha3 = c.at("alpha3").string();
    k.name = c.at("name").string();
    if (auto a = c.find("aliases")) {
      for (const auto& x : a->elements()) k.aliases.push_back(x.string());
    }
    if (db.find(k.alpha2))
      c.at("alpha2").fail(fmt::format("duplicate country code '{}'", quote_input(k.alpha2)));
    db.countries_.push_back(std::move(k));
  }

  const std::string gpath = (fs::path(dir) / "groups.json").string();
  const auto gdoc = read_json_file(gpath, file_limits::country_file);
  const json_node groot(gdoc, gpath);
  groot.expect_keys({"schema", "citations", "groups", "treated_as", "notes"});
  if (groot.at("schema").string() != "chipgauge.country-groups/1")
    groot.at("schema").fail("expected \"chipgauge.country-groups/1\"");
  auto known = [&](const json_node& n) {
    const auto code = n.string();
    if (!db.find(code))
      n.fail(fmt::format("unknown country code '{}' (not in {})", quote_input(code), cpath));
    return code;
  };
  for (const auto& g : groot.at("groups").elements()) {
    g.expect_keys({"id", "name", "evidence", "source", "members", "note"});
    country_group grp;
    grp.id = g.at("id").string();
    grp.name = g.at("name").string();
    grp.evidence = json_fields::evidence(g.at("evidence"));
    if (auto s = g.find("source")) grp.source = s->string();
    for (const auto& m : g.at("members").elements()) {
      m.expect_keys({"country", "from", "until", "evidence", "note", "source", "end_users",
                     "unless_end_users"});
      group_membership gm;
      gm.country = known(m.at("country"));
      gm.from = json_fields::day(m.at("from"));
      if (auto u = m.find("until")) gm.until = json_fields::day(*u);
      if (gm.until && *gm.until < gm.from) m.at("until").fail("'until' is before 'from'");
      gm.evidence = m.find("evidence") ? json_fields::evidence(*m.find("evidence")) : grp.evidence;
      if (auto note = m.find("note")) gm.note = note->string();
      for (const char* key : {"end_users", "unless_end_users"}) {
        if (auto list = m.find(key)) {
          auto& into = std::string_view(key) == "end_users" ? gm.end_users : gm.unless_end_users;
          for (const auto& e : list->elements()) into.push_back(e.string());
          if (into.empty()) list->fail("expected at least one end-user type");
        }
      }
      for (const auto& other : grp.members) {
        if (other.country != gm.country) continue;
        const bool overlap =
            (!other.until || gm.from <= *other.until) && (!gm.until || other.from <= *gm.until);
        if (overlap)
          m.fail(fmt::format("{} is listed twice in group '{}' for overlapping dates", gm.country,
                             grp.id));
      }
      grp.members.push_back(std::move(gm));
    }
    if (db.has_group(grp.id)) g.at("id").fail(fmt::format("duplicate group id '{}'", grp.id));
    db.groups_.push_back(std::move(grp));
  }
  if (auto t = groot.find("treated_as")) {
    for (const auto& r : t->elements()) {
      r.expect_keys({"country", "as", "from", "evidence", "source", "note"});
      treated_as_rule rule;
      rule.country = known(r.at("country"));
      rule.as = known(r.at("as"));
      rule.from = json_fields::day(r.at("from"));
      rule.evidence = json_fields::evidence(r.at("evidence"));
      if (auto note = r.find("note")) rule.note = note->string();
      db.treated_.push_back(std::move(rule));
    }
  }
  // Regions (optional file): ISO 3166-2 subdivisions a destination may name.
  const std::string rpath = (fs::path(dir) / "regions.json").string();
  std::error_code ec;
  if (fs::exists(rpath, ec)) {
    const auto rdoc = read_json_file(rpath);
    const json_node rroot(rdoc, rpath);
    rroot.expect_keys({"schema", "source", "notes", "regions"});
    if (rroot.at("schema").string() != "chipgauge.regions/1")
      rroot.at("schema").fail("expected \"chipgauge.regions/1\"");
    for (const auto& r : rroot.at("regions").elements()) {
      r.expect_keys({"code", "country", "name", "aliases", "distinct", "note"});
      region reg;
      reg.code = r.at("code").string();
      reg.country = known(r.at("country"));
      if (reg.code.size() < 4 || reg.code.compare(0, 3, reg.country + "-") != 0)
        r.at("code").fail(
            fmt::format("expected an ISO 3166-2 code starting with '{}-'", reg.country));
      if (db.find_region(reg.code))
        r.at("code").fail(fmt::format("duplicate region code '{}'", reg.code));
      reg.name = r.at("name").string();
      if (auto a = r.find("aliases")) {
        for (const auto& x : a->elements()) reg.aliases.push_back(x.string());
      }
      if (auto d = r.find("distinct")) reg.distinct = d->boolean();
      if (auto n = r.find("note")) reg.note = n->string();
      db.regions_.push_back(std::move(reg));
    }
  }
  return db;
}

const region* country_db::find_region(std::string_view code) const {
  for (const auto& r : regions_) {
    if (r.code == code) return &r;
  }
  return nullptr;
}

std::vector<const region*> country_db::distinct_regions(std::string_view alpha2) const {
  std::vector<const region*> out;
  for (const auto& r : regions_) {
    if (r.distinct && r.country == alpha2) out.push_back(&r);
  }
  return out;
}

place country_db::resolve_place(std::string_view text) const {
  const auto want = lower(text);
  for (const auto& r : regions_) {
    bool hit = lower(r.code) == want || lower(r.name) == want;
    for (const auto& a : r.aliases) hit = hit || lower(a) == want;
    if (hit) return {find(r.country), &r};
  }
  return {&resolve(text), nullptr};
}

const country* country_db::find(std::string_view alpha2) const {
  for (const auto& c : countries_) {
    if (c.alpha2 == alpha2) return &c;
  }
  return nullptr;
}

bool country_db::has_group(std::string_view id) const noexcept {
  return std::any_of(groups_.begin(), groups_.end(),
                     [&](const country_group& g) { return g.id == id; });
}

const country& country_db::resolve(std::string_view text) const {
  const auto want = lower(text);
  for (const auto& c : countries_) {
    if (lower(c.alpha2) == want || lower(c.alpha3) == want || lower(c.name) == want) return c;
    for (const auto& a : c.aliases) {
      if (lower(a) == want) return c;
    }
  }
  std::vector<std::string> names;
  for (const auto& c : countries_) {
    names.push_back(lower(c.name));
    for (const auto& a : c.aliases) names.push_back(lower(a));
  }
  std::vector<std::string_view> views(names.begin(), names.end());
  std::string hint;
  if (auto near = closest_match(want, views); !near.empty()) {
    for (const auto& c : countries_) {
      bool hit = lower(c.name) == near;
      for (const auto& a : c.aliases) hit = hit || lower(a) == near;
      if (hit) {
        hint = fmt::format(" (did you mean {} '{}'?)", c.alpha2, c.name);
        break;
      }
    }
  }
  throw usage_error(fmt::format(
      "unknown country '{}'{}: give an ISO 3166 code (CN, CHN) or a name (China, Macau)",
      quote_input(text), hint));
}

std::string country_db::treated_as(std::string_view alpha2, date day) const {
  for (const auto& t : treated_) {
    if (t.country == alpha2 && t.from <= day) return t.as;
  }
  return std::string(alpha2);
}

bool country_db::member(std::string_view alpha2, std::string_view group_id, date day,
                        evidence_tag* evidence, std::string_view end_user) const {
  const auto as = treated_as(alpha2, day);
  auto named = [&](const std::vector<std::string>& list) {
    return !end_user.empty() && std::find(list.begin(), list.end(), end_user) != list.end();
  };
  for (const auto& g : groups_) {
    if (g.id != group_id) continue;
    for (const auto& m : g.members) {
      if ((m.country == alpha2 || m.country == as) && active(m.from, m.until, day)) {
        if (!m.end_users.empty() && !named(m.end_users)) continue;
        if (!m.unless_end_users.empty() && named(m.unless_end_users)) continue;
        if (evidence) *evidence = m.evidence;
        return true;
      }
    }
    if (evidence) *evidence = g.evidence;
    return false;
  }
  if (evidence) *evidence = evidence_tag::R;
  return false;
}

std::vector<std::string> country_db::end_user_types() const {
  std::vector<std::string> out;
  for (const auto& g : groups_) {
    for (const auto& m : g.members) {
      for (const auto* list : {&m.end_users, &m.unless_end_users}) {
        for (const auto& e : *list) {
          if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
        }
      }
    }
  }
  return out;
}

std::vector<std::string> country_db::groups_of(std::string_view alpha2, date day) const {
  std::vector<std::string> out;
  for (const auto& g : groups_) {
    if (member(alpha2, g.id, day)) out.push_back(g.id);
  }
  return out;
}

}  // namespace chipgauge::classifier
