#pragma once

// Synthetic fleets for the collector's tests and benchmark: NODES x GPUS sealed certificates,
// three SKUs (by node, as racks are bought), two drivers, each benchmark median the SKU's base
// rate times a bounded spread (uniform in +-2 %, so no honest device can reach a modified z-score
// below -1.35 and none is an outlier by construction), and the injected devices at 85 % on every
// benchmark (z about -10: each must be found). The bodies carry the fields and roughly the size
// of a real GPU certificate (30 results and 30 checks).

#include "chipgauge/core/signing.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <utility>

namespace chipgauge::testing {

struct synthetic_fleet {
  int nodes = 1250;
  int gpus = 8;
  int benchmarks = 30;
  std::set<std::pair<int, int>> degraded;  ///< (node, gpu) at 85 %
  std::uint64_t seed = 42;

  static constexpr const char* skus[3] = {"nvidia-h100-sxm5-80gb", "nvidia-h200-sxm-141gb",
                                          "nvidia-a100-sxm4-80gb"};

  [[nodiscard]] static std::string node_name(int node) { return fmt::format("gpu-{:05d}", node); }
  [[nodiscard]] static std::string device_id(int gpu) { return fmt::format("cuda:{}", gpu); }

  /// Every `stride`-th device (node-major), the first at `offset`, as the degraded set.
  void degrade_every(int stride, int offset) {
    for (int i = offset; i < nodes * gpus; i += stride) degraded.insert({i / gpus, i % gpus});
  }

  /// A value in [0, 1) from (seed, node, gpu, benchmark): the same every call, no shared state.
  [[nodiscard]] double unit(int node, int gpu, int bm) const {
    std::uint64_t x = seed ^ (static_cast<std::uint64_t>(node) << 32) ^
                      (static_cast<std::uint64_t>(gpu) << 20) ^ static_cast<std::uint64_t>(bm);
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return static_cast<double>(x >> 11) * 0x1.0p-53;
  }

  /// The sealed (unsigned) certificate of one device; `minute` sets its end time.
  [[nodiscard]] nlohmann::json certificate(int node, int gpu, int minute = 0) const {
    using nlohmann::json;
    const int sku = node % 3;
    const bool slow = degraded.count({node, gpu}) > 0;
    json results = json::array();
    json checks = json::array();
    for (int b = 0; b < benchmarks; ++b) {
      const double base = 1e12 * (1 + b) * (1.0 + 0.5 * sku);
      const double rate = base * (1 + 0.04 * (unit(node, gpu, b) - 0.5)) * (slow ? 0.85 : 1.0);
      const std::string name = fmt::format("bench_{:02d}", b);
      results.push_back(
          {{"benchmark", name},
           {"group", "compute"},
           {"precision", "bf16"},
           {"unit", "ops/s"},
           {"method", {{"description", "synthetic"}, {"work", "operations"}}},
           {"status", "ok"},
           {"reason", nullptr},
           {"verified", true},
           {"verification",
            {{"passed", true}, {"max_error", 1e-6}, {"tolerance", 1e-3}, {"detail", ""}}},
           {"stop_reason", "noise_target"},
           {"samples", 20},
           {"median", rate},
           {"q1", rate * 0.995},
           {"q3", rate * 1.005},
           {"iqr", rate * 0.01},
           {"min", rate * 0.98},
           {"max", rate * 1.01},
           {"noise", 0.004},
           {"suspect", false},
           {"suspect_reasons", json::array()},
           {"gate_usable", true},
           {"telemetry",
            {{"clock_mhz_median", 1980}, {"power_w_median", 690.5}, {"temperature_c_max", 71}}},
           {"theoretical", base * 1.3},
           {"fraction_of_theoretical", rate / (base * 1.3)}});
      checks.push_back({{"kind", "floor"},
                        {"benchmark", name},
                        {"basis", "envelope synthetic"},
                        {"measured", rate},
                        {"limit", base * 0.9},
                        {"unit", "ops/s"},
                        {"margin", rate / (base * 0.9) - 1},
                        {"result", slow ? "fail" : "pass"},
                        {"detail", "synthetic floor"}});
    }
    json reasons = json::array();
    if (slow) reasons.push_back("FAIL floor bench_00: below the envelope floor");
    json body = {
        {"kind", "device"},
        {"verdict",
         {{"outcome", slow ? "fail" : "pass"}, {"unknown_part", false}, {"reasons", reasons}}},
        {"who", {{"lab", "synthetic"}, {"tester", "bench"}, {"location", "US"}}},
        {"when",
         {{"start_utc", fmt::format("2026-01-01T00:{:02d}:00Z", minute)},
          {"end_utc", fmt::format("2026-01-01T00:{:02d}:30Z", minute)},
          {"measured_utc", "2026-01-01T00:00:00Z"}}},
        {"host",
         {{"hostname", node_name(node)},
          {"cpu_model", "synthetic"},
          {"logical_cpus", 224},
          {"memory_bytes", 2.0e12}}},
        {"device",
         {{"id", device_id(gpu)},
          {"backend", "cuda"},
          {"name", skus[sku]},
          {"vendor", "NVIDIA"},
          {"units", 132},
          {"identity", {{"uuid", fmt::format("GPU-{:08x}-{:04x}", node, gpu)}}}}},
        {"sheet",
         {{"id", skus[sku]},
          {"name", skus[sku]},
          {"vendor", "NVIDIA"},
          {"matched_by", "identity"},
          {"detail", ""}}},
        {"tooling",
         {{"tool_version", "0.0.0"},
          {"git_sha", "synthetic"},
          {"cuda_driver", node % 5 == 0 ? "535.161.08" : "550.54.15"},
          {"mode", "quick"}}},
        {"results", results},
        {"checks", checks},
        {"tpp",
         {{"declared", 15832},
          {"derived", 15832},
          {"measured", 12000 * (1.0 + 0.5 * sku)},
          {"measured_is_lower_bound", true}}},
        {"classification",
         {{"as_of", "2026-01-01"}, {"eccn", "3A090.a"}, {"outcome", "controlled"}}}};
    return seal_certificate(std::move(body), std::nullopt);
  }
};

}  // namespace chipgauge::testing
