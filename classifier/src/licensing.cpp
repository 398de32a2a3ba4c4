// Licensing answers: destination, parties and transaction against the dated licensing regimes.
#include "chipgauge/classifier/licensing.hpp"

#include "chipgauge/classifier/report.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/text.hpp"
#include "chipgauge/core/version.hpp"
#include "licensing_vars.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <regex>

namespace chipgauge::classifier {

namespace {

constexpr double unknown = std::numeric_limits<double>::quiet_NaN();
namespace lv = licensing_vars;

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "5A992.c" as an eccn_ suffix: lower case, '.' and '-' written '_'.
std::string stated_suffix(std::string_view eccn) {
  std::string out = lower(eccn);
  for (auto& c : out) c = (c == '.' || c == '-') ? '_' : c;
  return out;
}

bool in_window(const std::optional<date>& from, const std::optional<date>& until, date day) {
  return (!from || *from <= day) && (!until || day <= *until);
}

// Is `country` (alpha-2) in `suffix`: a group id, or the alpha-2 code of the country itself or
// of the country it is treated as (Hong Kong as China)?
// A region suffix (ua_43) holds only for that region of its country.
bool matches(const country_db& db, const std::string& country, const std::string& region,
             std::string_view suffix, date day, evidence_tag* ev, std::string_view end_user = {}) {
  if (db.has_group(suffix)) return db.member(country, suffix, day, ev, end_user);
  const auto code = upper(suffix);
  if (ev) *ev = evidence_tag::V;
  if (code.size() > 2) {
    std::string want = code;
    for (auto& c : want) c = c == '_' ? '-' : c;
    return region == want;
  }
  if (country == code) return true;
  // Through a treated-as rule (Hong Kong as China), whose own tag is secondary.
  if (db.treated_as(country, day) == code) {
    if (ev) *ev = evidence_tag::S;
    return true;
  }
  return false;
}

// The figures of the IC itself: for an IC its own; for a board or system the largest among the ICs
// it contains (recursively), each at nominal values. NaN when one of them is unknown.
struct ic_values {
  double tpp = unknown;
  double dram = unknown;
  double io = unknown;
};

ic_values ic_figures(const chip_spec& part, const part_metrics& m, const metric_definitions& defs) {
  if (part.kind == part_kind::ic)
    return {m.tpp_known() ? m.tpp : unknown,
            m.dram_bandwidth_gb_s ? *m.dram_bandwidth_gb_s : unknown,
            m.io_bidirectional_gb_s ? *m.io_bidirectional_gb_s : unknown};
  ic_values out;
  bool any = false;
  bool unknown_tpp = false;
  bool unknown_dram = false;
  bool unknown_io = false;
  for (const auto& c : part.contains) {
    if (!c.resolved || c.resolved->kind == part_kind::hbm) continue;
    const auto sub = ic_figures(*c.resolved, compute_metrics(*c.resolved, defs), defs);
    auto take = [](double& into, double x, bool& unk) {
      if (std::isnan(x)) unk = true;
      else if (std::isnan(into) || x > into) into = x;
    };
    take(out.tpp, sub.tpp, unknown_tpp);
    take(out.dram, sub.dram, unknown_dram);
    take(out.io, sub.io, unknown_io);
    any = true;
  }
  if (!any || unknown_tpp) out.tpp = unknown;
  if (!any || unknown_dram) out.dram = unknown;
  if (!any || unknown_io) out.io = unknown;
  return out;
}

// The sheet's us_commercial_availability (1, 0); for a board or system without one, 1 when every IC
// it contains says 1, 0 when one says 0; NaN otherwise.
double us_available(const chip_spec& part) {
  if (part.us_commercial_availability) return part.us_commercial_availability->value ? 1 : 0;
  if (part.kind == part_kind::ic || part.contains.empty()) return unknown;
  double all = 1;
  for (const auto& c : part.contains) {
    if (!c.resolved || c.resolved->kind == part_kind::hbm) continue;
    const double x = us_available(*c.resolved);
    if (x == 0) return 0;
    if (std::isnan(x)) all = unknown;
  }
  return all;
}

// "usage error for an unknown --end-use" and the like: the stated value must be one the files test.
void check_stated(const std::string& value, const std::vector<std::string>& known,
                  std::string_view option) {
  if (value.empty()) return;
  std::string v = lower(value);
  if (std::find(known.begin(), known.end(), v) != known.end()) return;
  std::string list;
  for (const auto& t : known) list += (list.empty() ? "" : ", ") + t;
  throw usage_error(fmt::format("unknown {} '{}': expected one of {}", option, value,
                                list.empty() ? "(none: no licensing file tests it)" : list));
}

}  // namespace

std::string_view to_string(review_policy p) noexcept {
  switch (p) {
    case review_policy::presumption_of_approval: return "presumption_of_approval";
    case review_policy::case_by_case: return "case_by_case";
    case review_policy::presumption_of_denial: return "presumption_of_denial";
  }
  return "?";
}

std::optional<std::string> canonical_stated_eccn(const std::string& text) {
  if (text.empty()) return text;
  static const std::regex re("(EAR99|[0-9][A-E][0-9]{3}(\\.[a-z0-9]+)*)", std::regex::icase);
  if (!std::regex_match(text, re)) return std::nullopt;
  if (text.size() == 5 && std::toupper(static_cast<unsigned char>(text[0])) == 'E') return "EAR99";
  std::string out = text;  // 5a992.C -> 5A992.c
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    out[i] = static_cast<char>(i < 5 ? std::toupper(c) : std::tolower(c));
  }
  return out;
}

std::string_view to_string(transaction_kind t) noexcept {
  switch (t) {
    case transaction_kind::export_: return "export";
    case transaction_kind::reexport: return "reexport";
    case transaction_kind::in_country: return "in-country";
    case transaction_kind::import_: return "import";
  }
  return "?";
}

std::string_view to_string(overlay_kind k) noexcept {
  switch (k) {
    case overlay_kind::letter: return "letter";
    case overlay_kind::tariff: return "tariff";
    case overlay_kind::guidance: return "guidance";
    case overlay_kind::red_flag: return "red_flag";
  }
  return "?";
}

std::optional<double> licensing_regime::parameter_on(std::string_view name, date day) const {
  for (const auto& p : parameters) {
    if (p.name == name) return p.value_on(day);
  }
  return std::nullopt;
}

date licensing_engine::first_date() const {
  std::optional<date> first;
  auto see = [&](const std::vector<timeline_entry>& t) {
    if (!t.empty() && (!first || t.front().from < *first)) first = t.front().from;
  };
  // Classification rules only: the embargo files are dated from long before the first rule.
  for (const auto& r : rules_->regimes()) see(r.timeline);
  if (!first) {
    for (const auto& r : licensing_->regimes()) see(r.timeline);
  }
  return first.value_or(date{});
}

std::vector<double> licensing_engine::variables(const license_query& q, const classification& item,
                                                transaction_kind t, const std::string& hq) const {
  std::vector<double> v(licensing_->variable_count(), unknown);
  const auto& m = item.metrics;
  set_metric_variables(m, v.data());
  const auto qty = static_cast<double>(q.quantity);
  v[lv::slot(lv::fixed::quantity)] = qty;
  v[lv::slot(lv::fixed::shipment_tpp)] = m.tpp * qty;
  v[lv::slot(lv::fixed::is_export)] = t == transaction_kind::export_ ? 1 : 0;
  v[lv::slot(lv::fixed::is_reexport)] = t == transaction_kind::reexport ? 1 : 0;
  v[lv::slot(lv::fixed::is_in_country)] = t == transaction_kind::in_country ? 1 : 0;
  if (q.part) {
    const auto& part = *q.part;
    v[lv::slot(lv::fixed::kind_ic)] = part.kind == part_kind::ic ? 1 : 0;
    v[lv::slot(lv::fixed::kind_board)] = part.kind == part_kind::board ? 1 : 0;
    v[lv::slot(lv::fixed::kind_system)] = part.kind == part_kind::system ? 1 : 0;
    const auto ic = ic_figures(part, m, rules_->definitions());
    v[lv::slot(lv::fixed::ic_tpp)] = ic.tpp;
    v[lv::slot(lv::fixed::ic_dram_bandwidth_gb_s)] = ic.dram;
    v[lv::slot(lv::fixed::ic_io_bidirectional_gb_s)] = ic.io;
    v[lv::slot(lv::fixed::us_commercially_available)] = us_available(part);
  }

  // The exceptions the item's classification makes it eligible for (NAC, ACA, HBM).
  std::vector<std::string> eligible;
  for (const auto& verdict : item.verdicts) {
    if (verdict.what_if || verdict.rule->role != regime_role::classification) continue;
    for (const auto* x : verdict.exceptions) eligible.push_back(lower(x->id));
  }
  const auto& names = licensing_->dynamic_names();
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string_view name = names[i];
    const auto family = *lv::family_of(name);
    const auto suffix = name.substr(family.size());
    double val = 0;
    if (family == "eccn_") {
      // The classified ECCN; for an item chipgauge does not classify, the one the user stated.
      const std::string_view eccn =
          !item.eccn.empty() ? std::string_view(item.eccn) : std::string_view(q.stated_eccn);
      val = !eccn.empty() && eccn_covers(suffix, eccn) ? 1 : 0;
    } else if (family == "end_user_" || family == "end_use_") {
      std::string stated = lower(family == "end_user_" ? q.end_user : q.end_use);
      for (auto& c : stated) c = c == '-' ? '_' : c;
      val = !stated.empty() && stated == suffix ? 1 : 0;
    } else if (family == "exporter_") {
      // Unknown when not stated: a letter binds only its recipients.
      std::string stated = lower(q.exporter);
      for (auto& c : stated) c = c == '-' ? '_' : c;
      val = stated.empty() ? unknown : stated == suffix ? 1 : 0;
    } else if (family == "eligible_") {
      val = std::find(eligible.begin(), eligible.end(), suffix) != eligible.end() ? 1 : 0;
    } else if (family == "to_") {
      val = matches(*countries_, q.to, q.to_region, suffix, q.as_of, nullptr, lower(q.end_user))
                ? 1
                : 0;
    } else if (family == "from_") {
      val = matches(*countries_, q.from, q.from_region, suffix, q.as_of, nullptr) ? 1 : 0;
    } else {
      val = matches(*countries_, hq, "", suffix, q.as_of, nullptr) ? 1 : 0;
    }
    v[lv::first_dynamic + i] = val;
  }
  return v;
}

std::vector<double> licensing_engine::shipment_variables(const std::string& to,
                                                         std::string_view eccn, date day) const {
  std::vector<double> v(licensing_->variable_count(), unknown);
  v[lv::slot(lv::fixed::is_export)] = 1;
  v[lv::slot(lv::fixed::is_reexport)] = 0;
  v[lv::slot(lv::fixed::is_in_country)] = 0;
  const auto& names = licensing_->dynamic_names();
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string_view name = names[i];
    const auto family = *lv::family_of(name);
    const auto suffix = name.substr(family.size());
    if (family == "eccn_")
      v[lv::first_dynamic + i] = !eccn.empty() && eccn_covers(suffix, eccn) ? 1 : 0;
    if (family == "to_")
      v[lv::first_dynamic + i] = matches(*countries_, to, "", suffix, day, nullptr) ? 1 : 0;
  }
  return v;
}

license_answer licensing_engine::answer(const license_query& q) const {
  if (q.quantity < 1)
    throw usage_error(
        fmt::format("--quantity {} is not a quantity: expected 1 or more units", q.quantity));
  if (q.as_of < first_date())
    throw usage_error(fmt::format(
        "--as-of {} is before the first advanced-computing rule ({}): expected that date or later",
        q.as_of.to_string(), first_date().to_string()));
  if (!q.part) throw usage_error("no part given");
  if (q.to_region.empty()) {
    if (const auto regions = countries_->distinct_regions(q.to); !regions.empty()) {
      std::string names;
      for (const auto* r : regions)
        names += fmt::format("{}{} ({})", names.empty() ? "" : ", ", r->code,
                             r->aliases.empty() ? r->name : r->aliases.front());
      std::string other;  // a region of the same country with no rule of its own, as an example
      for (const auto& r : countries_->regions()) {
        if (r.country == q.to && !r.distinct) {
          other = fmt::format(", or another region such as {} ({}) for the rest of the country",
                              r.code, r.aliases.empty() ? r.name : r.aliases.front());
          break;
        }
      }
      throw usage_error(fmt::format(
          "--to {}: the answer depends on the region of {}: name the region, one of {} (their "
          "own licence requirements){}",
          q.to, countries_->find(q.to) ? countries_->find(q.to)->name : q.to, names, other));
    }
  }
  if (!q.end_user.empty()) {
    auto types = licensing_->end_user_types();
    for (auto& t : countries_->end_user_types()) {
      if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(std::move(t));
    }
    if (std::find(types.begin(), types.end(), lower(q.end_user)) == types.end()) {
      std::string list;
      for (const auto& t : types) list += (list.empty() ? "" : ", ") + t;
      throw usage_error(
          fmt::format("unknown --end-user '{}': expected one of {}", q.end_user,
                      list.empty() ? "(none: no licensing file tests an end user)" : list));
    }
  }
  check_stated(q.end_use, licensing_->end_uses(), "--end-use");
  check_stated(q.exporter, licensing_->exporters(), "--exporter");
  license_answer a;
  a.query = q;
  a.party_hq = q.party_hq.empty() ? q.to : q.party_hq;
  if (q.party_hq.empty())
    a.assumptions.push_back(fmt::format(
        "no --party-hq given: the parties are taken as headquartered in the destination ({})",
        q.to));
  // The transaction follows from the countries unless given, and must agree with them.
  const transaction_kind implied = q.from == q.to   ? transaction_kind::in_country
                                   : q.to == "US"   ? transaction_kind::import_
                                   : q.from == "US" ? transaction_kind::export_
                                                    : transaction_kind::reexport;
  a.transaction = q.transaction.value_or(implied);
  if (q.transaction && *q.transaction != implied)
    throw usage_error(fmt::format(
        "--transaction {} contradicts --from {} --to {} (that is {}): an export leaves the "
        "United States, a reexport goes from one foreign country to another, an in-country "
        "transfer stays, an import enters the United States",
        to_string(*q.transaction), q.from, q.to, to_string(implied)));

  const evaluation_plan plan(*rules_, q.as_of, false);
  a.item = classification_engine(*rules_).classify(*q.part, plan);
  if (!q.stated_eccn.empty() && !a.item.eccn.empty() &&
      !eccn_covers(stated_suffix(q.stated_eccn), a.item.eccn))
    throw usage_error(fmt::format(
        "--eccn {} contradicts the part's classification on {}: {} (see chipgauge classify); "
        "--eccn states the ECCN only of an item chipgauge does not classify as 3A090/4A090",
        q.stated_eccn, q.as_of.to_string(), a.item.eccn));
  a.shipment_tpp = a.item.metrics.tpp * static_cast<double>(q.quantity);
  if (a.item.outcome == verdict_outcome::undetermined) {
    a.determined = false;
    a.undetermined_because.push_back(
        "the part's classification is undetermined on this date (missing data: see chipgauge "
        "classify)");
  }
  const auto vars = variables(q, a.item, a.transaction, a.party_hq);

  const std::string end_user_stated = lower(q.end_user);
  // A destination whose group membership depends on the end user (the UAE in A:5 from 2026-07-10):
  // the answer says so, with the membership's evidence, whether or not an end user was stated.
  for (const auto& g : countries_->groups()) {
    for (const auto& m : g.members) {
      if (m.country != q.to || (m.end_users.empty() && m.unless_end_users.empty())) continue;
      if (q.as_of < m.from || (m.until && *m.until < q.as_of)) continue;
      const auto& list = m.end_users.empty() ? m.unless_end_users : m.end_users;
      std::string names;
      for (const auto& e : list) names += (names.empty() ? "" : ", ") + e;
      const bool holds = countries_->member(q.to, g.id, q.as_of, nullptr, end_user_stated);
      a.notices.push_back(fmt::format(
          "{} is {}in group {} on this date for {} (membership {} for end users {}; evidence "
          "{}{}){}",
          q.to, holds ? "" : "not ", g.id,
          q.end_user.empty() ? "an unstated end user" : "end user " + q.end_user,
          m.end_users.empty() ? "lost" : "only", names, to_string(m.evidence),
          m.note.empty() ? "" : ": " + m.note,
          q.end_user.empty() ? fmt::format("; state --end-user ({}) to change it", names) : ""));
      a.weakest = std::max(a.weakest, m.evidence);
    }
  }
  std::vector<std::uint32_t> relied;
  auto weakest_of = [&](const expr& e, evidence_tag own, const licensing_regime& r,
                        const std::vector<double>& params) {
    evidence_tag w = own;
    relied.clear();
    e.relied_parameters(vars.data(), params.data(), relied);
    for (auto slot : relied) w = std::max(w, r.parameters[slot].evidence);
    // Country-group memberships the condition read.
    const auto& names = licensing_->dynamic_names();
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (!e.reads_variable(static_cast<std::uint32_t>(lv::first_dynamic + i))) continue;
      const std::string_view name = names[i];
      const auto family = *lv::family_of(name);
      if (family == "eccn_" || family == "eligible_" || family == "end_user_") continue;
      const auto& who = family == "to_" ? q.to : family == "from_" ? q.from : a.party_hq;
      const std::string region = family == "to_"     ? q.to_region
                                 : family == "from_" ? q.from_region
                                                     : std::string();
      evidence_tag ev = evidence_tag::V;
      (void)matches(*countries_, who, region, name.substr(family.size()), q.as_of, &ev,
                    family == "to_" ? std::string_view(end_user_stated) : std::string_view());
      w = std::max(w, ev);
    }
    return w;
  };

  std::vector<std::string> overlay_unknown;  // letters whose application cannot be decided
  std::vector<std::string> policy_unknown;  // policy-only regimes whose condition cannot be decided
  for (const auto& r : licensing_->regimes()) {
    const auto status = r.status_on(q.as_of);
    // In force but before its compliance date: the rule binds no shipment yet.
    const bool before_compliance =
        status == regime_status::in_force && r.compliance && q.as_of < r.compliance->from;
    const bool in_force = status == regime_status::in_force && !before_compliance;
    const bool hypothetical =
        q.what_if && (before_compliance || status == regime_status::announced_not_enforced ||
                      status == regime_status::proposed);
    std::vector<double> params;
    for (const auto& p : r.parameters) params.push_back(p.value_on(q.as_of));
    if (!in_force && !hypothetical) {
      a.not_applying.push_back(before_compliance ? fmt::format("{} (in_force, compliance from {})",
                                                               r.id, r.compliance->from.to_string())
                                                 : fmt::format("{} ({})", r.id, to_string(status)));
      // Two layers: the regulation's text and BIS's enforcement position. When the text would
      // require a license that does not bind on this date, the answer says so (--what-if shows it).
      if (before_compliance || status == regime_status::announced_not_enforced) {
        for (const auto& req : r.requirements) {
          if (!in_window(req.from, req.until, q.as_of) ||
              req.when.evaluate(vars.data(), params.data()) != 1.0)
            continue;
          a.notices.push_back(fmt::format(
              "{} / {} would require a licence under the regulation's text, which does not bind "
              "on this date ({}); --what-if shows it",
              r.id, req.id,
              before_compliance ? "before its compliance date " + r.compliance->from.to_string()
                                : "BIS does not enforce it"));
          break;
        }
      }
      continue;
    }
    for (const auto& req : r.requirements) {
      if (!in_window(req.from, req.until, q.as_of)) continue;
      const double holds = req.when.evaluate(vars.data(), params.data());
      if (std::isnan(holds) && in_force) {
        const auto cause = fmt::format(
            "{} / {}: the condition \"{}\" cannot be decided from the data{}", r.id, req.id,
            req.when.text(), req.if_unknown.empty() ? "" : "; " + req.if_unknown);
        if (r.policy_only) {
          policy_unknown.push_back(cause);
        } else {
          a.determined = false;
          a.undetermined_because.push_back(cause);
        }
      }
      if (holds != 1.0) continue;
      fired_requirement f{&r, &req, !in_force, weakest_of(req.when, req.evidence, r, params)};
      if (in_force) {
        a.requirements.push_back(f);
        if (req.savings_until && q.as_of <= *req.savings_until)
          a.notices.push_back(
              fmt::format("savings clause of {} / {}: {}", r.id, req.id, req.savings_note));
      } else {
        a.what_if_requirements.push_back(f);
      }
      break;  // first requirement of a regime that holds decides that regime
    }
    for (const auto& x : r.exceptions) {
      if (!in_window(x.from, x.until, q.as_of)) continue;
      if (x.when.evaluate(vars.data(), params.data()) == 1.0)
        a.exceptions.push_back({&r, &x, !in_force});
    }
    for (const auto& o : r.overlays) {
      const double holds = o.when.evaluate(vars.data(), params.data());
      if (std::isnan(holds) && in_force && o.requires_license)
        overlay_unknown.push_back(
            o.if_unknown.empty()
                ? fmt::format(
                      "{} / {}: whether this {} applies cannot be decided from the data (\"{}\")",
                      r.id, o.id, to_string(o.kind), o.when.text())
                : fmt::format(
                      "{} / {}: whether this {} applies cannot be decided from the data; {}", r.id,
                      o.id, to_string(o.kind), o.if_unknown));
      if (holds != 1.0) continue;
      a.overlays.push_back({&r, &o, !in_force});
      if (in_force) {
        a.weakest = std::max(a.weakest, weakest_of(o.when, o.evidence, r, params));
        if (o.requires_license) a.license_required = true;
        if (!o.binds.empty()) {
          std::string who;
          for (const auto& b : o.binds) who += (who.empty() ? "" : ", ") + b;
          a.notices.push_back(fmt::format(
              "{} / {} binds only its recipients ({}){}", r.id, o.id, who,
              q.exporter.empty() ? "" : fmt::format("; the exporter stated is {}", q.exporter)));
        }
      }
    }
  }
  // A license is required by a requirement of a regime that is not policy-only, or by a letter; the
  // review policy is that of the firing requirement from the regime of highest precedence (ties:
  // the stricter), policy-only regimes included once a license is required.
  for (const auto& f : a.requirements) {
    if (!f.regime->policy_only) a.license_required = true;
  }
  if (!a.license_required) {
    // A policy-only regime says nothing when no license is required.
    a.requirements.erase(
        std::remove_if(a.requirements.begin(), a.requirements.end(),
                       [](const fired_requirement& f) { return f.regime->policy_only; }),
        a.requirements.end());
  } else if (!policy_unknown.empty()) {
    a.policy_determined = false;
    for (auto& u : policy_unknown) a.undetermined_because.push_back(std::move(u));
  }
  int best_precedence = std::numeric_limits<int>::min();
  for (const auto& f : a.requirements) {
    a.weakest = std::max(a.weakest, f.evidence);
    const auto p = f.requirement->policy;
    if (f.regime->precedence > best_precedence ||
        (f.regime->precedence == best_precedence &&
         (!a.policy || strictness(p) > strictness(*a.policy)))) {
      best_precedence = f.regime->precedence;
      a.policy = p;
      a.policy_from = f.regime;
    }
  }
  // A letter whose application cannot be decided leaves the answer undetermined only when nothing
  // else requires a license; otherwise it is reported.
  for (auto& u : overlay_unknown) {
    if (a.license_required) {
      a.notices.push_back("beside the licence already required: " + u);
    } else {
      a.determined = false;
      a.undetermined_because.push_back(std::move(u));
    }
  }
  // An embargo is the first reason: it holds whatever else the item is.
  auto embargo_first = [](const fired_requirement& f) { return f.regime->embargo; };
  std::stable_partition(a.requirements.begin(), a.requirements.end(), embargo_first);
  std::stable_partition(a.what_if_requirements.begin(), a.what_if_requirements.end(),
                        embargo_first);
  return a;
}

// --- Output --------------------------------------------------------------------------------------

namespace {

using json = nlohmann::ordered_json;

json requirement_json(const fired_requirement& f, date as_of) {
  return {{"regime", f.regime->id},
          {"requirement", f.requirement->id},
          {"review_policy", std::string(to_string(f.requirement->policy))},
          {"what_if", f.what_if},
          {"embargo", f.regime->embargo},
          {"conditions", f.requirement->conditions},
          {"if_stated", f.requirement->if_stated},
          {"savings_clause",
           f.requirement->savings_until && !f.what_if && as_of <= *f.requirement->savings_until
               ? json(fmt::format("until {}: {}", f.requirement->savings_until->to_string(),
                                  f.requirement->savings_note))
               : json(nullptr)},
          {"citation", f.requirement->citation},
          {"note", f.requirement->note},
          {"evidence", std::string(to_string(f.evidence))}};
}

}  // namespace

std::string to_json(const license_answer& a) {
  json j;
  j["schema"] = "chipgauge.license/1";
  j["tool_version"] = tool_version;
  j["part"] = {{"id", a.query.part->id}, {"name", a.query.part->name}};
  j["as_of"] = a.query.as_of.to_string();
  j["to"] = a.query.to;
  j["to_region"] = a.query.to_region.empty() ? json(nullptr) : json(a.query.to_region);
  j["from"] = a.query.from;
  j["party_hq"] = a.party_hq;
  j["transaction"] = std::string(to_string(a.transaction));
  j["quantity"] = a.query.quantity;
  j["what_if"] = a.query.what_if;
  j["eccn"] = a.item.eccn.empty() ? json(nullptr) : json(std::string(a.item.eccn));
  j["stated_eccn"] = a.query.stated_eccn.empty() ? json(nullptr) : json(a.query.stated_eccn);
  j["end_user"] = a.query.end_user.empty() ? json(nullptr) : json(a.query.end_user);
  j["end_use"] = a.query.end_use.empty() ? json(nullptr) : json(a.query.end_use);
  j["exporter"] = a.query.exporter.empty() ? json(nullptr) : json(a.query.exporter);
  j["tpp"] = a.item.metrics.tpp;
  j["shipment_tpp"] = a.shipment_tpp;
  j["license_required"] = a.license_required;
  j["determined"] = a.determined;
  j["undetermined_because"] = a.undetermined_because;
  j["review_policy"] = a.policy ? json(std::string(to_string(*a.policy))) : json(nullptr);
  j["review_policy_from"] = a.policy_from ? json(a.policy_from->id) : json(nullptr);
  j["review_policy_determined"] = a.policy_determined;
  json reasons = json::array();
  for (const auto& f : a.requirements) reasons.push_back(requirement_json(f, a.query.as_of));
  j["reasons"] = reasons;
  json exc = json::array();
  for (const auto& e : a.exceptions)
    exc.push_back({{"id", e.exception->id},
                   {"title", e.exception->title},
                   {"regime", e.regime->id},
                   {"conditions", e.exception->conditions},
                   {"what_if", e.what_if},
                   {"citation", e.exception->citation},
                   {"evidence", std::string(to_string(e.exception->evidence))}});
  j["exceptions"] = exc;
  json ov = json::array();
  for (const auto& o : a.overlays)
    ov.push_back({{"id", o.overlay->id},
                  {"kind", std::string(to_string(o.overlay->kind))},
                  {"regime", o.regime->id},
                  {"effect", o.overlay->effect},
                  {"requires_license", o.overlay->requires_license},
                  {"binds", o.overlay->binds},
                  {"what_if", o.what_if},
                  {"citation", o.overlay->citation},
                  {"evidence", std::string(to_string(o.overlay->evidence))}});
  j["overlays"] = ov;
  json wi = json::array();
  for (const auto& f : a.what_if_requirements) wi.push_back(requirement_json(f, a.query.as_of));
  j["what_if_reasons"] = wi;
  j["not_applying"] = a.not_applying;
  j["assumptions"] = a.assumptions;
  j["notices"] = a.notices;
  j["weakest_evidence"] = std::string(to_string(a.weakest));
  j["disclaimer"] = std::string(disclaimer());
  return j.dump(2) + "\n";
}

std::string to_text(const license_answer& a) {
  const std::string item_eccn = !a.item.eccn.empty()           ? std::string(a.item.eccn)
                                : !a.query.stated_eccn.empty() ? a.query.stated_eccn + ", stated"
                                : a.item.outcome == verdict_outcome::undetermined
                                    ? "classification undetermined"
                                    : "not 3A090/4A090";
  std::string stated;
  if (!a.query.end_user.empty()) stated += ", end user " + a.query.end_user;
  if (!a.query.end_use.empty()) stated += ", end use " + a.query.end_use;
  if (!a.query.exporter.empty()) stated += ", exporter " + a.query.exporter;
  std::string out =
      fmt::format("chipgauge license: {} x {} ({}) {} from {} to {}, party HQ {}{}, as of {}{}\n\n",
                  a.query.quantity, a.query.part->name, item_eccn, to_string(a.transaction),
                  a.query.from_region.empty() ? a.query.from : a.query.from_region,
                  a.query.to_region.empty() ? a.query.to : a.query.to_region, a.party_hq, stated,
                  a.query.as_of.to_string(), a.query.what_if ? " (what-if)" : "");
  // An embargo decides the license requirement whatever else is undetermined: its reason comes
  // first and what could not be decided follows the reasons.
  const bool embargo = !a.requirements.empty() && a.requirements.front().regime->embargo;
  if (!a.determined && !embargo) {
    out += "licence required: undetermined\n";
    for (const auto& u : a.undetermined_because) out += "  because " + u + "\n";
  }
  out += fmt::format(
      "licence required{}: {}{}\n", a.determined || embargo ? "" : " on what can be decided",
      a.license_required ? "yes" : "no",
      a.policy ? fmt::format(" (review: {}{}, set by {})", to_string(*a.policy),
                             a.policy_determined ? "" : " or less strict: undetermined",
                             a.policy_from->id)
               : (a.license_required ? " (by letter; no review policy stated)" : ""));
  if (a.item.metrics.tpp_known())
    out += fmt::format("TPP {} each, {} in the shipment ({:.2f} H100-equivalents)\n",
                       group_thousands(a.item.metrics.tpp), group_thousands(a.shipment_tpp),
                       a.item.metrics.h100_equivalents * static_cast<double>(a.query.quantity));
  else out += fmt::format("TPP unknown: {}\n", a.item.metrics.tpp_reason);
  for (const auto& f : a.requirements) {
    out += fmt::format("  because {}{} / {}: {} [evidence {}] {}\n",
                       f.regime->embargo ? "embargo: " : "", f.regime->id, f.requirement->id,
                       to_string(f.requirement->policy), to_string(f.evidence),
                       f.requirement->citation);
    if (!f.requirement->note.empty()) out += "    " + f.requirement->note + "\n";
    for (const auto& c : f.requirement->conditions) out += "    condition: " + c + "\n";
    for (const auto& c : f.requirement->if_stated) out += "    you can state: " + c + "\n";
  }
  if (!a.determined && embargo) {
    for (const auto& u : a.undetermined_because)
      out += "  undetermined beyond the embargo (the review policy may be stricter): " + u + "\n";
  } else if (a.determined && !a.policy_determined) {
    for (const auto& u : a.undetermined_because) out += "  review policy undetermined: " + u + "\n";
  }
  for (const auto& e : a.exceptions) {
    out += fmt::format("  exception {}{}: {} [evidence {}]\n", e.exception->id,
                       e.what_if ? " (what-if)" : "", e.exception->title,
                       to_string(e.exception->evidence));
    for (const auto& c : e.exception->conditions) out += "    condition: " + c + "\n";
  }
  for (const auto& o : a.overlays)
    out += fmt::format("  {} {}{}: {} [evidence {}]\n", to_string(o.overlay->kind), o.overlay->id,
                       o.what_if ? " (what-if)" : "", o.overlay->effect,
                       to_string(o.overlay->evidence));
  for (const auto& f : a.what_if_requirements) {
    const auto status = f.regime->status_on(a.query.as_of);
    out += fmt::format(
        "  what-if {} / {}: licence, {} [evidence {}] (what the regulation's text says; not "
        "binding on this date: {})\n",
        f.regime->id, f.requirement->id, to_string(f.requirement->policy), to_string(f.evidence),
        status == regime_status::in_force && f.regime->compliance
            ? "before its compliance date " + f.regime->compliance->from.to_string()
            : std::string(to_string(status)));
  }
  for (const auto& n : a.notices) out += "  notice: " + n + "\n";
  for (const auto& s : a.assumptions) out += "  assumed: " + s + "\n";
  if (!a.not_applying.empty()) {
    out += "  not applying on this date:";
    for (const auto& s : a.not_applying) out += " " + s;
    out += "\n";
  }
  if (a.weakest >= evidence_tag::S)
    out += fmt::format(
        "  this answer rests on evidence {} ({}) somewhere: check the tagged reasons above\n",
        to_string(a.weakest), describe(a.weakest));
  out += "\n" + std::string(disclaimer()) + "\n";
  return out;
}

}  // namespace chipgauge::classifier
