#pragma once

#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/classifier/engine.hpp"
#include "chipgauge/classifier/spec.hpp"

#include <cstdlib>
#include <string>

namespace chipgauge::test {

/// The source tree's specs/, or $CHIPGAUGE_SPECS_DIR where the tests run away from the tree that
/// built them (the carried GPU tests of scripts/gpu-prepare.sh).
inline std::string specs_dir() {
  const char* env = std::getenv("CHIPGAUGE_SPECS_DIR");
  return env && *env ? env : CHIPGAUGE_SOURCE_SPECS;
}
/// tests/data/.
inline std::string data_dir() { return CHIPGAUGE_TEST_DATA; }

/// The bundled rule set, loaded once per test binary.
const classifier::rule_set& bundled_rules();

/// A synthetic IC: one processing unit with `tpp` / 8 dense INT8 TOPS (so TPP is exactly `tpp`)
/// and, when area_mm2 > 0, one non-planar logic die of that area.
classifier::chip_spec synthetic_ic(double tpp, double area_mm2, bool datacenter);

/// Metrics with TPP and PD set exactly (for boundary tests free of division rounding).
classifier::part_metrics exact_metrics(double tpp, std::optional<double> pd, bool datacenter);

/// A temporary directory removed at destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  /// Writes `content` to path()/name and returns the full path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

/// A copy of the bundled specs/ under `dir` in which the AI Diffusion framework binds from its
/// effective date (its compliance date removed; still not enforced from 2025-05-13). The real
/// framework never bound a shipment, so ledger quota mechanics are tested against this copy.
/// Returns the copy's path.
std::string specs_with_binding_diffusion(const temp_dir& dir);

/// Runs a shell command, capturing stdout and stderr separately. Returns the exit status.
struct run_result {
  int status = -1;
  std::string out;
  std::string err;
};
run_result run_command(const std::string& command);

}  // namespace chipgauge::test
