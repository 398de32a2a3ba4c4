#pragma once

#include "chipgauge/classifier/countries.hpp"
#include "chipgauge/classifier/dated_document.hpp"
#include "chipgauge/classifier/engine.hpp"
#include "chipgauge/classifier/expr.hpp"
#include "chipgauge/classifier/rules.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::classifier {

/// How BIS reviews a license application.
enum class review_policy : unsigned char {
  presumption_of_approval,
  case_by_case,
  presumption_of_denial
};
std::string_view to_string(review_policy p) noexcept;
/// Strictness order: approval < case_by_case < denial.
inline int strictness(review_policy p) noexcept { return static_cast<int>(p); }

/// export: leaves the United States; reexport: from one foreign country to another; in-country: a
/// transfer within one country; import: into the United States (only import overlays, tariffs).
enum class transaction_kind : unsigned char { export_, reexport, in_country, import_ };
std::string_view to_string(transaction_kind t) noexcept;

/// A requirement clause: when it holds, a license is required under that review policy.
struct license_requirement {
  std::string id;
  expr when;
  review_policy policy = review_policy::presumption_of_denial;
  evidence_tag evidence = evidence_tag::S;
  std::string citation;
  std::string note;
  std::vector<std::string> conditions;  ///< what the exporter must certify or do (the 2026 zone)
  std::optional<date> from;             ///< tested only from this date (inclusive; empty: open)
  std::optional<date> until;            ///< tested only up to this date (inclusive; empty: open)
  /// What the user can state (--eccn, --end-user) that would change this answer; printed with it.
  std::vector<std::string> if_stated;
  /// A savings clause: a shipment en route when the requirement began may proceed without a license
  /// if exported, reexported or transferred by this date (inclusive). Reported, never assumed.
  std::optional<date> savings_until;
  std::string savings_note;
  /// What decides the condition when it cannot be decided (an option, a sheet field); printed with
  /// the undetermined cause.
  std::string if_unknown;
};

/// A license exception the shipment may use instead of a license (NAC, ACA, HBM, LPP).
struct license_exception {
  std::string id;
  std::string title;
  expr when;
  std::vector<std::string> conditions;  ///< "notify BIS 25 days before export"
  std::optional<date> from;
  std::optional<date> until;
  evidence_tag evidence = evidence_tag::S;
  std::string citation;
};

enum class overlay_kind : unsigned char { letter, tariff, guidance, red_flag };
std::string_view to_string(overlay_kind k) noexcept;

/// Guidance, "is informed" letters, tariffs: they apply beside the license requirement.
struct license_overlay {
  std::string id;
  overlay_kind kind = overlay_kind::guidance;
  expr when;
  std::string effect;
  bool requires_license = false;  ///< a letter imposing a license requirement on its recipients
  evidence_tag evidence = evidence_tag::S;
  std::string citation;
  /// Who the overlay binds (the exporters a letter was addressed to); empty: every exporter.
  std::vector<std::string> binds;
  std::string if_unknown;  ///< what decides the condition when it cannot be decided
};

/// A TPP quota a ledger checks: per consignee and calendar year, or per country over a period.
struct license_quota {
  std::string id;
  enum class scope : unsigned char { consignee_year, country_period } per = scope::consignee_year;
  std::string limit_parameter;  ///< parameter holding the limit in TPP
  std::optional<date> period_from;
  std::optional<date> period_until;
  expr applies_when;                  ///< over the destination (e.g. Tier 2)
  std::vector<std::string> excludes;  ///< shipments under these quota ids do not count here
  evidence_tag evidence = evidence_tag::S;
  std::string note;
};

/// A check on fleet totals (cluster reporting threshold, allocations).
struct fleet_check {
  std::string id;
  expr when;
  std::string effect;
  evidence_tag evidence = evidence_tag::S;
};

/// A compliance date later than the effective date: from the regime's first in-force date until
/// `from` (exclusive) its requirements bind no shipment (they are evaluated only with --what-if).
struct regime_compliance {
  date from;
  evidence_tag evidence = evidence_tag::S;
  std::string citation;
  std::string note;
};

/// A dated licensing regime file (`chipgauge.licensing/1`, docs/licensing.md).
struct licensing_regime : dated_document {
  int precedence = 0;  ///< among firing requirements, the highest precedence sets the review policy
  /// An embargo or comprehensive-sanctions regime (EAR Part 746): its requirements hold whatever
  /// the item's ECCN, and its reasons are listed first.
  bool embargo = false;
  /// The regime only changes the review policy of a license another regime requires (the 2026
  /// China zone): when its condition cannot be decided, the review policy is undetermined, not
  /// whether a license is required.
  bool policy_only = false;
  std::optional<regime_compliance> compliance;
  std::vector<parameter> parameters;
  std::vector<license_requirement> requirements;
  std::vector<license_exception> exceptions;
  std::vector<license_overlay> overlays;
  std::vector<license_quota> quotas;
  std::vector<fleet_check> fleet_checks;
  std::vector<std::string> notes;

  [[nodiscard]] std::optional<double> parameter_on(std::string_view name, date day) const;
};

/// Every licensing file of specs/licensing/, compiled against the country groups.
class licensing_set {
 public:
  static licensing_set load(const std::string& dir, const country_db& countries);
  [[nodiscard]] const std::vector<licensing_regime>& regimes() const noexcept { return regimes_; }
  [[nodiscard]] const std::vector<std::string>& dynamic_names() const noexcept { return names_; }
  /// The end-user types the files test (the suffixes of their end_user_ variables, '_' written
  /// '-').
  [[nodiscard]] std::vector<std::string> end_user_types() const;
  /// The same for end_use_ and exporter_ variables.
  [[nodiscard]] std::vector<std::string> end_uses() const;
  [[nodiscard]] std::vector<std::string> exporters() const;
  [[nodiscard]] std::size_t variable_count() const noexcept;

 private:
  std::vector<licensing_regime> regimes_;
  std::vector<std::string> names_;  // eccn_*, eligible_*, to_*, from_*, hq_* in slot order
};

/// Input sanity, not regulation: no shipment or fleet counts more units of one item than this.
inline constexpr long long max_plausible_quantity = 1'000'000'000;

/// A stated ECCN (`license_query::stated_eccn`) in its canonical spelling: "EAR99", or digit,
/// category letter A-E and three digits upper case with lower-case paragraphs ("5a992.C" ->
/// "5A992.c"); empty stays empty. nullopt when `text` is neither EAR99 nor an ECCN.
std::optional<std::string> canonical_stated_eccn(const std::string& text);

/// A licensing question: may `quantity` of this part go to `to`, on `as_of`?
struct license_query {
  const chip_spec* part = nullptr;
  std::string to;         ///< ISO alpha-2
  std::string to_region;  ///< ISO 3166-2 code when a region was named (UA-43), else empty
  std::string from = "US";
  std::string from_region;
  std::string party_hq;                         ///< empty: the destination (said so in the answer)
  std::optional<transaction_kind> transaction;  ///< empty: from the countries
  long long quantity = 1;
  date as_of;
  bool what_if = false;
  /// The item's ECCN as the user states it (EAR99, 5A992.c) for what chipgauge does not classify;
  /// empty: unknown, and the embargo files take the stricter reading (on the CCL).
  std::string stated_eccn;
  /// The end-user type the user states (a suffix of an end_user_ variable: government, state-owned,
  /// civil); empty: unknown, and no end-user carve-out applies.
  std::string end_user;
  /// The end use the user states (a suffix of an end_use_ variable: us-datacenter, repair, ...);
  /// empty: unknown, and no end-use exemption applies.
  std::string end_use;
  /// Who exports (a suffix of an exporter_ variable: nvidia, amd, intel, other); empty: unknown,
  /// and a condition that reads exporter_ variables cannot be decided.
  std::string exporter;
};

struct fired_requirement {
  const licensing_regime* regime = nullptr;
  const license_requirement* requirement = nullptr;
  bool what_if = false;
  evidence_tag evidence = evidence_tag::S;
};

struct eligible_exception {
  const licensing_regime* regime = nullptr;
  const license_exception* exception = nullptr;
  bool what_if = false;
};

struct applying_overlay {
  const licensing_regime* regime = nullptr;
  const license_overlay* overlay = nullptr;
  bool what_if = false;
};

/// The answer, with every reason. Only regimes in force decide `license_required` and
/// `review_policy`; what-if regimes are reported separately and labelled.
struct license_answer {
  license_query query;
  transaction_kind transaction = transaction_kind::export_;
  std::string party_hq;
  classification item;  ///< the part's classification on the date
  bool license_required = false;
  /// False when the answer cannot be decided from the data: the part's classification is
  /// undetermined, or a requirement's condition is unknown (a metric the sheet lacks).
  bool determined = true;
  std::vector<std::string> undetermined_because;
  std::optional<review_policy> policy;
  const licensing_regime* policy_from = nullptr;  ///< the regime whose requirement set the policy
  /// False when a policy-only regime (the 2026 zone) could not be decided: the review policy given
  /// is then the stricter one, and undetermined_because says what decides it.
  bool policy_determined = true;
  /// Savings clauses, the exporters a letter binds: facts the answer cannot check, reported.
  std::vector<std::string> notices;
  std::vector<fired_requirement> requirements;  ///< in force
  std::vector<fired_requirement> what_if_requirements;
  std::vector<eligible_exception> exceptions;
  std::vector<applying_overlay> overlays;
  std::vector<std::string> not_applying;  ///< "id (status)"
  std::vector<std::string> assumptions;   ///< defaults the answer relied on
  evidence_tag weakest = evidence_tag::V;
  double shipment_tpp = 0;
};

/// Answers licensing questions; the CLI and (later) the HTTP API call this.
class licensing_engine {
 public:
  licensing_engine(const rule_set& rules, const licensing_set& licensing,
                   const country_db& countries)
      : rules_(&rules), licensing_(&licensing), countries_(&countries) {}

  /// Throws usage_error for a quantity below 1, a date before 2022-10-07, an inconsistent
  /// transaction (an export must leave the United States), a destination country named without the
  /// region its answer depends on (Ukraine), a stated ECCN that contradicts the item's
  /// classification, or an end-user type, end use or exporter no licensing file uses.
  [[nodiscard]] license_answer answer(const license_query& q) const;

  /// The variables of a query (exposed for the ledger and fleet checks).
  std::vector<double> variables(const license_query& q, const classification& item,
                                transaction_kind t, const std::string& hq) const;

  /// The earliest date questions are answered for: the first dated entry of any classification
  /// rule file (the 2022-10-07 rule in the bundled data). Licensing files may start earlier (the
  /// embargoes); they are read from that date on.
  [[nodiscard]] date first_date() const;

  /// Variables of a recorded shipment: only its ECCN, destination and date are known (the
  /// metrics are unknown). What a ledger re-tests quota conditions of earlier shipments with.
  [[nodiscard]] std::vector<double> shipment_variables(const std::string& to, std::string_view eccn,
                                                       date day) const;

  [[nodiscard]] const licensing_set& licensing() const noexcept { return *licensing_; }
  [[nodiscard]] const country_db& countries() const noexcept { return *countries_; }
  [[nodiscard]] const rule_set& rules() const noexcept { return *rules_; }

 private:
  const rule_set* rules_;
  const licensing_set* licensing_;
  const country_db* countries_;
};

std::string to_json(const license_answer& a);
std::string to_text(const license_answer& a);

}  // namespace chipgauge::classifier
