#pragma once

namespace chipgauge {

/// Plausibility limits for spec-sheet values: anything beyond is a typo or a unit mix-up, not a
/// part. These are input-validation bounds, not regulatory thresholds
/// (docs/spec-format.md#limits-rejected-as-absurd).
struct spec_limits {
  static constexpr double max_tpp = 1e7;
  static constexpr double max_die_area_mm2 = 10'000;
  static constexpr double max_tops = 1e6;          // 10^12 ops/s per precision per unit group
  static constexpr double max_clock_mhz = 10'000;
  static constexpr double max_bandwidth_gb_s = 1e6;  // 1 PB/s
  static constexpr double max_capacity_gb = 1e6;
  static constexpr double max_transistors = 1e13;
  static constexpr long long max_unit_count = 100'000'000;
  static constexpr long long max_die_count = 1'000;
  static constexpr long long max_component_count = 1'000'000;
};

}  // namespace chipgauge
