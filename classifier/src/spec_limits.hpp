#pragma once

namespace chipgauge::classifier {

/// Plausibility limits for spec-sheet values: anything beyond is a typo or a unit mix-up, not a
/// part. These are input-validation bounds, not regulatory thresholds
/// (docs/spec-format.md#limits-rejected-as-absurd).
struct spec_limits {
  static constexpr double max_tpp = 1e7;
  /// One die cannot be larger than the wafer it is cut from: a 300 mm wafer is pi x 150^2 =
  /// 70,685.8 mm^2, rounded up. Wafer-scale parts (Cerebras WSE-2/WSE-3, 46,225 mm^2) fit; a
  /// cm^2/mm^2 or a package-for-die slip above a wafer does not. Dies above the 858 mm^2 reticle
  /// field are still warned about (specs/arch/physical.json).
  static constexpr double max_die_area_mm2 = 70'686;
  static constexpr double max_tops = 1e6;  // 10^12 ops/s per precision per unit group
  static constexpr double max_clock_mhz = 10'000;
  static constexpr double max_bandwidth_gb_s = 1e6;  // 1 PB/s
  static constexpr double max_capacity_gb = 1e6;
  static constexpr double max_transistors = 1e13;
  static constexpr long long max_unit_count = 100'000'000;
  static constexpr long long max_die_count = 1'000;
  static constexpr long long max_component_count = 1'000'000;
};

}  // namespace chipgauge::classifier
