#pragma once

#include "chipgauge/classifier/metrics.hpp"
#include "chipgauge/classifier/rules.hpp"
#include "chipgauge/classifier/spec.hpp"
#include "chipgauge/core/date.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::classifier {

/// The regimes that apply on one day, with their parameters resolved for that day. Build it once
/// per date and classify any number of parts against it. It refers into the rule_set, which
/// must outlive it.
class evaluation_plan {
 public:
  /// Selects regimes in force on `as_of`; with `what_if`, also those announced but not enforced
  /// and those proposed (their verdicts are labelled what-if).
  evaluation_plan(const rule_set& rules, date as_of, bool what_if = false);

  /// Every regime of the rule set, whatever its status on `as_of` (those not in force are marked
  /// what-if), with parameters as of that date: what each regime would say about a part.
  static evaluation_plan every_regime(const rule_set& rules, date as_of);

  struct entry {
    const regime* rule = nullptr;
    regime_status status = regime_status::in_force;
    bool what_if = false;                           ///< evaluated only because of what-if mode
    std::vector<double> params;                     ///< parameter values on the date, by slot
    std::vector<const exception_rule*> exceptions;  ///< exceptions valid on the date
  };
  struct skipped_regime {
    const regime* rule = nullptr;
    regime_status status = regime_status::not_yet;
  };

  [[nodiscard]] const rule_set& rules() const noexcept { return *rules_; }
  [[nodiscard]] date as_of() const noexcept { return as_of_; }
  [[nodiscard]] bool what_if() const noexcept { return what_if_; }
  [[nodiscard]] const std::vector<entry>& entries() const noexcept { return entries_; }
  /// Regimes not evaluated on the date, with their status then.
  [[nodiscard]] const std::vector<skipped_regime>& skipped() const noexcept { return skipped_; }

 private:
  evaluation_plan(const rule_set& rules, date as_of, bool what_if, bool every);

  const rule_set* rules_;
  date as_of_;
  bool what_if_;
  std::vector<entry> entries_;
  std::vector<skipped_regime> skipped_;
};

/// Whether an identifier suffix names `eccn` or a paragraph above it: "3a090_a" covers "3A090.a"
/// and "3A090.a.1" but not "3A090.b.1" (lower case, '.' and '-' written '_'; used by the
/// contains_<eccn> and eccn_<eccn> flags).
bool eccn_covers(std::string_view suffix, std::string_view eccn);

/// `specs validate`'s check of a published ECCN: classifies `spec` under the regimes in force on
/// its `declared.as_of` and returns a message naming both ECCNs when the computed one does not
/// fall under the declared one ("3A090" covers "3A090.a"; "EAR99" and "not controlled" agree
/// with no ECCN). nullopt when there is nothing to compare or they agree.
std::optional<std::string> declared_eccn_mismatch(const chip_spec& spec, const rule_set& rules);

/// Writes the metric variables (rules.hpp metric_var order) of `m` into vars[0, metric_var_count):
/// absent values as NaN (unknown), truth values as 1/0; PD read as "not met" (no non-planar logic
/// die) as 0. Shared by classification and licensing expressions.
void set_metric_variables(const part_metrics& m, double* vars);

enum class verdict_outcome : unsigned char {
  controlled,
  not_controlled,
  undetermined,
  not_applicable
};
std::string_view to_string(verdict_outcome o) noexcept;

/// One clause as tested: its truth value (1, 0, NaN unknown) and every comparison it made.
struct clause_result {
  std::uint32_t clause_index = 0;
  double result = 0;
  std::vector<comparison_trace> tests;
};

/// A regime's verdict on one part. Points into the rule_set (which must outlive it), never into
/// the evaluation_plan, so a classification stays valid after its plan is gone.
struct regime_verdict {
  const regime* rule = nullptr;
  regime_status status = regime_status::in_force;  ///< on the plan's date
  bool what_if = false;                            ///< evaluated only because of what-if mode
  verdict_outcome outcome = verdict_outcome::not_applicable;
  int fired = -1;                      ///< index into entry->rule->clauses, or -1
  std::vector<clause_result> clauses;  ///< the clauses that apply to the part's kind, in order
  std::vector<const exception_rule*> exceptions;  ///< exceptions the part is eligible for
  evidence_tag weakest = evidence_tag::V;         ///< weakest evidence the verdict relied on

  [[nodiscard]] const clause* fired_clause() const {
    return fired < 0 ? nullptr : &rule->clauses[static_cast<std::size_t>(fired)];
  }
};

/// The ECCN under another reading of an open point (aggregation, TF32 bit length, a range end).
struct alternative_reading {
  std::string label;
  double tpp = 0;
  std::optional<double> pd;
  std::string_view eccn;  ///< empty when not controlled
};

/// Where the ECCN changes inside a sheet's ranges: every ranged value moves together from the end
/// against control (fraction 0) to the end favouring control (fraction 1).
struct range_flip {
  double fraction = 0;  ///< position of the flip along the ranges, 0..1
  double tpp = 0;       ///< metrics just past the flip
  std::optional<double> pd;
  std::string_view eccn_before;  ///< below the flip (empty: not controlled)
  std::string_view eccn_after;
};

/// A part placed against every regime of a plan. Refers to the spec and the rule_set, which
/// must outlive it.
struct classification {
  const chip_spec* spec = nullptr;
  part_metrics metrics;
  std::string_view eccn;  ///< from the classification regimes in force; empty when none fired
  verdict_outcome outcome = verdict_outcome::not_applicable;
  std::vector<regime_verdict> verdicts;
  /// Readings that give another ECCN than `eccn` are flagged in `differs`.
  std::vector<alternative_reading> alternatives;
  bool alternatives_differ = false;
  /// Set when the two ends of the sheet's ranges give different ECCNs.
  std::optional<range_flip> flip;

  [[nodiscard]] bool controlled() const noexcept { return !eccn.empty(); }
};

/// Classifies parts against a plan. Stateless apart from the rule set it reads.
class classification_engine {
 public:
  explicit classification_engine(const rule_set& rules) : rules_(&rules) {}

  [[nodiscard]] classification classify(const chip_spec& spec, const evaluation_plan& plan) const;
  /// As above, reusing `out`'s buffers (for batch classification without reallocations).
  void classify(const chip_spec& spec, const evaluation_plan& plan, classification& out) const;
  /// Classifies `spec` with metrics given from elsewhere (a measurement, a what-if) instead of
  /// computed from the sheet. The sheet still supplies the kind and components.
  void classify(const chip_spec& spec, part_metrics metrics, const evaluation_plan& plan,
                classification& out) const;

  /// Only the ECCN (no traces) for given metrics: what alternatives and boards use.
  /// Components of boards are evaluated at `end` of their ranges, as `m` was computed.
  [[nodiscard]] std::string_view eccn_for(const chip_spec& spec, const part_metrics& m,
                                          const evaluation_plan& plan,
                                          range_end end = range_end::nominal) const;

 private:
  void fill_variables(const chip_spec& spec, const part_metrics& m, const evaluation_plan::entry& e,
                      const evaluation_plan& plan, std::vector<double>& vars,
                      range_end end = range_end::nominal) const;

  const rule_set* rules_;
};

}  // namespace chipgauge::classifier
