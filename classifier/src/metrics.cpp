// TPP, performance density and the bandwidth metrics (docs/regulation.md#metrics).
#include "chipgauge/classifier/metrics.hpp"

#include "chipgauge/core/error.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace chipgauge::classifier {

std::string_view to_string(tpp_aggregation a) noexcept {
  return a == tpp_aggregation::sum_of_unit_max ? "sum_of_unit_max" : "max_of_sums";
}

namespace {

double pick(const value_range& r, range_end end, bool higher_controls) {
  if (!r.is_range()) return r.lo;
  const double t = higher_controls ? end.t : 1.0 - end.t;
  return r.lo + t * (r.hi - r.lo);
}

// Best precision and its TPP over a per-precision table.
std::pair<std::optional<precision>, double> best_of(const per_precision<double>& tpp) {
  std::optional<precision> best;
  double value = 0;
  for (auto p : all_precisions) {
    const auto& t = tpp[index_of(p)];
    if (t && (!best || *t > value)) {
      best = p;
      value = *t;
    }
  }
  return {best, value};
}

void add_opt(std::optional<double>& acc, std::optional<double> v, double times) {
  if (!v) return;
  acc = acc.value_or(0) + *v * times;
}

// Computes the TPP figures of an IC's units with a given TF32 bit length.
struct tpp_result {
  double sum_of_unit_max = 0;
  double max_of_sums = 0;
  std::optional<precision> max_of_sums_precision;
  per_precision<double> sums;  ///< TPP per precision summed over units
};

tpp_result ic_tpp(const chip_spec& spec, const metric_definitions& defs, range_end end,
                  double tf32_bits, std::vector<unit_metrics>* units_out) {
  tpp_result r;
  per_precision<double> sums;
  for (const auto& u : spec.units) {
    unit_metrics um;
    um.name = u.name;
    for (auto p : all_precisions) {
      const auto& rate = u.dense_tops[index_of(p)];
      if (!rate) continue;
      const double bits = p == precision::tf32 ? tf32_bits : defs.bit_length[index_of(p)].value;
      const double t = pick(*rate, end, true) * bits;
      um.tpp[index_of(p)] = t;
      sums[index_of(p)] = sums[index_of(p)].value_or(0) + t;
    }
    std::tie(um.best, um.best_tpp) = best_of(um.tpp);
    r.sum_of_unit_max += um.best_tpp;
    if (units_out) units_out->push_back(std::move(um));
  }
  std::tie(r.max_of_sums_precision, r.max_of_sums) = best_of(sums);
  r.sums = sums;
  return r;
}

double by_aggregation(const tpp_result& r, tpp_aggregation a) {
  return a == tpp_aggregation::sum_of_unit_max ? r.sum_of_unit_max : r.max_of_sums;
}

}  // namespace

part_metrics compute_metrics(const chip_spec& spec, const metric_definitions& defs, range_end end) {
  part_metrics m;
  m.datacenter = spec.datacenter.value;
  m.datacenter_defaulted = spec.datacenter.defaulted;
  m.has_hbm = spec.has_hbm();
  if (spec.declared && spec.declared->tpp) m.declared_tpp = spec.declared->tpp;

  // The IC's own processing units.
  const double tf32_bits = defs.bit_length[index_of(precision::tf32)].value;
  m.units.reserve(spec.units.size());
  const auto own = ic_tpp(spec, defs, end, tf32_bits, &m.units);
  m.tpp_sum_of_unit_max = own.sum_of_unit_max;
  m.tpp_max_of_sums = own.max_of_sums;
  m.max_of_sums_precision = own.max_of_sums_precision;
  m.tpp_precision_sums = own.sums;
  if (spec.kind == part_kind::ic && !(own.sum_of_unit_max > 0)) {
    m.tpp_reason =
        spec.units.empty()
            ? "the sheet lists no processing unit, so TPP is unknown (a processing IC's TPP is "
              "never 0)"
            : "no processing unit gives a positive dense rate, so TPP is unknown (a processing "
              "IC's TPP is never 0)";
  }
  for (double alt : defs.tf32_alternative_bit_lengths) {
    const auto r = ic_tpp(spec, defs, end, alt, nullptr);
    const double t = by_aggregation(r, defs.aggregation);
    if (t != by_aggregation(own, defs.aggregation)) m.tpp_tf32_alternatives.emplace_back(alt, t);
  }

  // Dies: applicable area counts logic dies on a non-planar process (docs/regulation.md#metrics).
  std::optional<double> area;
  bool any_logic = false;
  std::string missing_area_die;  // a non-planar logic die whose area the sheet does not give
  // Transistors: the packaged part's count is the sum over its logic and I/O dies (memory stacks
  // and passive dies excluded). One such die without a count makes the sum unknown: a partial sum
  // would understate it and could clear a transistor-count line the part in fact crosses.
  bool transistors_partial = false;
  for (const auto& d : spec.dies) {
    const auto n = static_cast<double>(d.count);
    if (d.kind == die_kind::logic || d.kind == die_kind::io) {
      if (d.transistors) add_opt(m.transistors, pick(*d.transistors, end, true), n);
      else transistors_partial = true;
    }
    if (d.kind != die_kind::logic) continue;
    any_logic = true;
    if (d.node_nm) m.logic_node_nm = std::min(m.logic_node_nm.value_or(*d.node_nm), *d.node_nm);
    if (!d.non_planar) continue;
    m.non_planar = true;
    if (!d.area_mm2) {
      if (missing_area_die.empty()) missing_area_die = d.name;
      continue;
    }
    add_opt(area, pick(*d.area_mm2, end, false), n);
  }

  if (spec.memory && spec.memory->bandwidth_gb_s)
    m.dram_bandwidth_gb_s = pick(*spec.memory->bandwidth_gb_s, end, true);
  if (spec.interconnect)
    m.io_bidirectional_gb_s = pick(spec.interconnect->bidirectional_gb_s, end, true);
  if (spec.hbm_stack) {
    m.memory_bandwidth_density_gb_s_mm2 =
        spec.hbm_stack->bandwidth_gb_s / pick(spec.hbm_stack->area_mm2, end, false);
    m.has_hbm = true;
  }

  // Boards and systems: the contained parts add, count times each.
  std::optional<double> contained_dram;
  std::optional<double> contained_io;
  for (const auto& c : spec.contains) {
    if (!c.resolved) {
      throw spec_error(spec.file, c.json_path,
                       fmt::format("component '{}' is not resolved against a database", c.id));
    }
    const auto sub = compute_metrics(*c.resolved, defs, end);
    const auto n = static_cast<double>(c.count);
    if (!sub.tpp_known() && m.tpp_known())
      m.tpp_reason = fmt::format("component {}: {}", c.resolved->id, sub.tpp_reason);
    m.tpp_sum_of_unit_max += sub.tpp_sum_of_unit_max * n;
    // The other aggregation sums per precision across every component before taking the best.
    for (auto p : all_precisions) {
      if (const auto& t = sub.tpp_precision_sums[index_of(p)])
        m.tpp_precision_sums[index_of(p)] = m.tpp_precision_sums[index_of(p)].value_or(0) + *t * n;
    }
    add_opt(area, sub.applicable_die_area_mm2, n);
    // A component whose PD is unknown (not merely "not met") leaves the board's area unknown.
    if (!sub.pd && !sub.pd_not_met_by_reading && missing_area_die.empty())
      missing_area_die = c.resolved->id + " (component: " + sub.pd_reason + ")";
    if (c.resolved->kind != part_kind::hbm) {
      if (sub.transistors) add_opt(m.transistors, sub.transistors, n);
      else transistors_partial = true;
    }
    add_opt(contained_dram, sub.dram_bandwidth_gb_s, n);
    add_opt(contained_io, sub.io_bidirectional_gb_s, n);
    if (sub.logic_node_nm)
      m.logic_node_nm = std::min(m.logic_node_nm.value_or(*sub.logic_node_nm), *sub.logic_node_nm);
    m.non_planar = m.non_planar || sub.non_planar;
    m.has_hbm = m.has_hbm || sub.has_hbm;
    any_logic = any_logic || sub.applicable_die_area_mm2.has_value() || sub.non_planar;
    for (const auto& u : sub.units) {
      auto copy = u;
      copy.name = fmt::format("{} x {}: {}", c.count, c.resolved->id, u.name);
      for (auto& t : copy.tpp) {
        if (t) *t *= n;
      }
      copy.best_tpp *= n;
      m.units.push_back(std::move(copy));
    }
  }
  if (transistors_partial) m.transistors.reset();
  if (!spec.contains.empty())
    std::tie(m.max_of_sums_precision, m.tpp_max_of_sums) = best_of(m.tpp_precision_sums);
  // A board's own memory/interconnect figures, when given, describe the whole board.
  if (!m.dram_bandwidth_gb_s) m.dram_bandwidth_gb_s = contained_dram;
  if (!m.io_bidirectional_gb_s) m.io_bidirectional_gb_s = contained_io;

  m.tpp = defs.aggregation == tpp_aggregation::sum_of_unit_max ? m.tpp_sum_of_unit_max
                                                               : m.tpp_max_of_sums;
  m.h100_equivalents =
      defs.h100_equivalent_tpp.value > 0 ? m.tpp / defs.h100_equivalent_tpp.value : 0;

  if (!missing_area_die.empty()) area.reset();  // a partial sum would overstate PD
  m.applicable_die_area_mm2 = area;
  if (!m.tpp_known()) {
    m.pd_reason = "TPP is unknown: " + m.tpp_reason;
  } else if (!missing_area_die.empty()) {
    m.pd_reason = fmt::format(
        "the area of non-planar logic die '{}' is not known, so the applicable die area is unknown",
        missing_area_die);
  } else if (area && *area > 0) {
    m.pd = m.tpp / *area;
  } else if (spec.dies.empty() && spec.contains.empty()) {
    m.pd_reason = "the sheet lists no dies, so the applicable die area is unknown";
  } else if (!any_logic) {
    m.pd_reason =
        "no logic die is listed, so no die area is applicable; a PD criterion is read as not "
        "met (R)";
    m.pd_not_met_by_reading = true;
  } else {
    m.pd_reason =
        "no logic die uses a non-planar transistor process, so the applicable die area is zero; "
        "a PD criterion is read as not met (R)";
    m.pd_not_met_by_reading = true;
  }
  return m;
}

}  // namespace chipgauge::classifier
