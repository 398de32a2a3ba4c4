#pragma once

#include "chipgauge/classifier/dated_document.hpp"
#include "chipgauge/classifier/evidence.hpp"
#include "chipgauge/classifier/expr.hpp"
#include "chipgauge/classifier/metrics.hpp"
#include "chipgauge/classifier/spec.hpp"
#include "chipgauge/core/date.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::classifier {

/// What a regime's verdict means: `classification` regimes give the part its ECCN;
/// `presumption` regimes state what a party (a foundry) must presume, beside the ECCN.
enum class regime_role : unsigned char { classification, presumption };
std::string_view to_string(regime_role r) noexcept;

/// The metrics a rule expression can name. Each is a number, or a truth value where noted;
/// an absent metric is unknown. `contains_<eccn>` flags for boards follow these slots.
enum class metric_var : std::uint32_t {
  tpp,
  tpp_sum_of_unit_max,
  tpp_max_of_sums,
  pd,
  applicable_die_area_mm2,
  dram_bandwidth_gb_s,
  io_bidirectional_gb_s,
  memory_bandwidth_density_gb_s_mm2,
  transistors,
  logic_node_nm,
  declared_tpp,
  h100_equivalents,
  datacenter,  ///< truth value
  has_hbm,     ///< truth value
  non_planar,  ///< truth value
  count_
};
inline constexpr std::size_t metric_var_count = static_cast<std::size_t>(metric_var::count_);

struct metric_var_info {
  std::string_view name;
  expr_type type;
  std::string_view unit;
  std::string_view meaning;
};
/// Name, type, unit and meaning of each metric variable, in enum order.
const std::vector<metric_var_info>& metric_vars();

struct dated_value {
  date from;
  double value = 0;
};

struct parameter {
  std::string name;
  std::vector<dated_value> values;  ///< sorted by date; a single undated value has from = min date
  std::string unit;
  evidence_tag evidence = evidence_tag::V;
  std::string source;
  std::string note;

  /// The value in effect on `day` (the latest entry on or before it, else the earliest).
  [[nodiscard]] double value_on(date day) const;
};

struct clause {
  std::string eccn;  ///< "3A090.a.1"
  std::vector<part_kind> applies_to;
  expr when;
  evidence_tag evidence = evidence_tag::V;  ///< the clause's own tag; parameters carry theirs
  std::string citation;
  std::string note;
};

/// A license exception or eligibility tied to clauses (NAC, ACA, License Exception HBM).
struct exception_rule {
  std::string id;
  std::string title;
  std::vector<std::string> clauses;  ///< ECCNs it applies to
  std::optional<expr> when;
  std::optional<date> from;
  std::optional<date> until;  ///< inclusive
  evidence_tag evidence =
      evidence_tag::V;  ///< the weaker of its own tag and its condition's parameters
  std::string citation;
  std::string note;
};

/// One dated regime file under specs/rules/ (docs/rules-format.md): the shared header (id, title,
/// evidence, citations, timeline) and its classification clauses.
struct regime : dated_document {
  regime_role role = regime_role::classification;
  std::vector<parameter> parameters;
  std::vector<clause> clauses;
  std::vector<exception_rule> exceptions;
  std::vector<std::string> notes;

  [[nodiscard]] bool applies_to(part_kind k) const;
};

/// Every regime plus the shared metric definitions, loaded from a rules directory.
class rule_set {
 public:
  /// Loads `dir`/metrics.json and every other `dir`/*.json as a regime. Throws spec_error on any
  /// defect (syntax, unknown metric, duplicate id, bad dates).
  static rule_set load(const std::string& dir);
  /// Loads `dir`/metrics.json only, for checking regime files one by one.
  static rule_set load_definitions(const std::string& dir);
  /// Loads one regime file against already-loaded definitions (for `rules validate FILE`).
  void add_regime_file(const std::string& path);

  [[nodiscard]] const metric_definitions& definitions() const noexcept { return defs_; }
  [[nodiscard]] const std::vector<regime>& regimes() const noexcept { return regimes_; }
  [[nodiscard]] const regime* find(std::string_view id) const noexcept;
  /// Names of the `contains_<eccn>` flags the regimes use, in slot order after the metrics.
  [[nodiscard]] const std::vector<std::string>& contains_flags() const noexcept {
    return contains_;
  }
  [[nodiscard]] std::size_t variable_count() const noexcept {
    return metric_var_count + contains_.size();
  }

 private:
  regime parse_regime(const std::string& path);

  metric_definitions defs_;
  std::vector<regime> regimes_;
  std::vector<std::string> contains_;
  std::vector<std::string> pending_flags_;  // flags of the file being parsed, kept on success
};

}  // namespace chipgauge::classifier
