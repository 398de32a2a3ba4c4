#pragma once

#include "chipgauge/classifier/licensing.hpp"
#include "chipgauge/classifier/report.hpp"

#include <string>
#include <vector>

namespace chipgauge::classifier {

/// One line of a fleet: a part (or a measured device) and how many.
struct fleet_item {
  std::string label;
  double tpp_each = 0;
  double peak_ops_each = 0;  ///< dense theoretical (or measured) peak, operations per second
  long long quantity = 1;
  std::string basis;  ///< "sheet" or "measured (lower bound)"
};

struct fleet_check_result {
  const licensing_regime* regime = nullptr;
  const fleet_check* check = nullptr;
  regime_status status = regime_status::in_force;
  bool holds = false;
};

struct fleet_result {
  double tpp = 0;
  double peak_ops = 0;
  double h100_equivalents = 0;
  std::vector<fleet_check_result> checks;
};

/// Dense peak operations per second of a sheet: each unit's best dense rate, summed (x 10^12).
double dense_peak_ops(const chip_spec& spec, const metric_definitions& defs);

/// Sums the fleet and evaluates every fleet check of the licensing regimes that are in force,
/// announced or proposed on `as_of` (each labelled with its status).
fleet_result evaluate_fleet(const std::vector<fleet_item>& items, const licensing_engine& engine,
                            date as_of);

/// A fleet line for a part from its sheet: its TPP and dense_peak_ops, labelled with its id.
fleet_item fleet_item_of(const chip_spec& part, const metric_definitions& defs, long long quantity);

/// `fleet`'s output: json (`chipgauge.fleet/1`: items, totals, checks, disclaimer) or, for any
/// other format, text (a table of the items, the totals, one line per check, the disclaimer).
std::string render_fleet(const std::vector<fleet_item>& items, const fleet_result& r, date as_of,
                         output_format format);

}  // namespace chipgauge::classifier
