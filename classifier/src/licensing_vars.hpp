#pragma once

// Variable slots of licensing expressions: the metric variables first (rules.hpp), then these
// fixed ones, then the dynamic families (eccn_, eligible_, to_, from_, hq_, end_user_, end_use_,
// exporter_) in load order.

#include "chipgauge/classifier/expr.hpp"
#include "chipgauge/classifier/rules.hpp"

#include <array>
#include <optional>
#include <string_view>

namespace chipgauge::classifier::licensing_vars {

enum class fixed : std::uint32_t {
  quantity,        ///< units in the shipment
  shipment_tpp,    ///< tpp x quantity
  is_export,       ///< "export": leaves the United States
  is_reexport,     ///< "reexport": from one foreign country to another
  is_in_country,   ///< "in_country": a transfer within one country
  fleet_tpp,       ///< fleet totals (fleet checks only; unknown elsewhere)
  fleet_peak_ops,  ///< dense peak operations per second, summed
  fleet_h100_equivalents,
  ic_tpp,  ///< the IC's own TPP; for a board or system the largest of the ICs it contains
  ic_dram_bandwidth_gb_s,    ///< the same for total DRAM bandwidth
  ic_io_bidirectional_gb_s,  ///< the same for the aggregate bidirectional transfer rate
  kind_ic,  ///< the item is a bare IC (HTS 8542), a board or a system (HTS 8471/8473)
  kind_board,
  kind_system,
  us_commercially_available,  ///< the sheet's us_commercial_availability; unknown when absent
  count_
};

inline constexpr std::array<std::string_view, static_cast<std::size_t>(fixed::count_)> names{
    "quantity",
    "shipment_tpp",
    "export",
    "reexport",
    "in_country",
    "fleet_tpp",
    "fleet_peak_ops",
    "fleet_h100_equivalents",
    "ic_tpp",
    "ic_dram_bandwidth_gb_s",
    "ic_io_bidirectional_gb_s",
    "kind_ic",
    "kind_board",
    "kind_system",
    "us_commercially_available"};

inline constexpr std::size_t first_fixed = metric_var_count;
inline constexpr std::size_t first_dynamic = metric_var_count + names.size();

inline constexpr std::uint32_t slot(fixed f) {
  return static_cast<std::uint32_t>(first_fixed + static_cast<std::size_t>(f));
}

inline const std::array<std::string_view, static_cast<std::size_t>(fixed::count_)>& fixed_names() {
  return names;
}

inline std::optional<std::uint32_t> fixed_slot(std::string_view name) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<std::uint32_t>(first_fixed + i);
  }
  return std::nullopt;
}

inline expr_type fixed_type(std::uint32_t s) {
  const auto f = static_cast<fixed>(s - first_fixed);
  return (f == fixed::is_export || f == fixed::is_reexport || f == fixed::is_in_country ||
          f == fixed::kind_ic || f == fixed::kind_board || f == fixed::kind_system ||
          f == fixed::us_commercially_available)
             ? expr_type::boolean
             : expr_type::number;
}

/// The family prefix of a dynamic name ("to_", "eccn_", ...), if any.
inline std::optional<std::string_view> family_of(std::string_view name) {
  for (std::string_view p :
       {"eccn_", "eligible_", "to_", "from_", "hq_", "end_user_", "end_use_", "exporter_"}) {
    if (name.size() > p.size() && name.substr(0, p.size()) == p) return p;
  }
  return std::nullopt;
}

}  // namespace chipgauge::classifier::licensing_vars
