#pragma once

#include "chipgauge/classifier/metrics.hpp"
#include "chipgauge/classifier/spec.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::classifier {

/// A finding of `specs validate` that does not stop a sheet from being read: a warning (a declared
/// TPP that disagrees with the computed one, say), or an error that leaves the sheet usable but
/// its classification undetermined (a processing IC with no positive dense rate). Defects that
/// make a sheet unreadable or its values impossible throw spec_error instead.
struct spec_warning {
  std::string file;
  std::string json_path;
  std::string message;
  bool error = false;  ///< `specs validate` counts it as an error; the bundled database refuses it
};

/// Physical plausibility bounds (specs/arch/physical.json): what silicon can be. Input
/// validation, not regulation: an impossible value is an error, an unlikely one a warning.
struct physical_limits {
  std::string file;
  double impossible_density_mtr_mm2 = 0;  ///< logic die transistors / area, 10^6 per mm^2
  /// (node_nm_at_least, unlikely_above_mtr_mm2, process), largest node first.
  struct node_density {
    double node_nm_at_least = 0;
    double unlikely_above_mtr_mm2 = 0;
    std::string process;
  };
  std::vector<node_density> nodes;
  double reticle_field_mm2 = 0;
  double clock_impossible_below_mhz = 0;
  double clock_unlikely_below_mhz = 0;
  double clock_unlikely_above_mhz = 0;
  double rate_impossible_factor = 0;  ///< quoted vs units x clock x ops/clock

  /// Reads specs/arch/physical.json. Throws spec_error on any defect.
  static physical_limits load(const std::string& path);
};

/// Checks what parsing alone cannot: computed TPP within limits, a processing IC with a positive
/// dense rate, physical plausibility against specs/arch/physical.json (`physical`: transistor
/// density per node, reticle field, clocks, rates against units x clock x ops/clock), declared TPP
/// against computed (2 % tolerance). Throws spec_error on an impossible value; returns findings.
std::vector<spec_warning> validate_spec(const chip_spec& spec, const metric_definitions& defs,
                                        const physical_limits* physical = nullptr);

/// The parts database: every sheet under a directory, with board/system components resolved.
class spec_database {
 public:
  /// Loads every *.json under `dir` (sorted by file name). Throws spec_error on the first bad
  /// sheet, a duplicate id, an id that differs from the file name, or an unknown component.
  /// With `physical`, every sheet is also checked against those bounds (the catalog always passes
  /// them). A sheet with an error-level finding is refused like a malformed one.
  static spec_database load(const std::string& dir, const metric_definitions& defs,
                            std::shared_ptr<const physical_limits> physical = nullptr);

  /// Adds a sheet from outside the database (a path given on the command line) and resolves its
  /// components against the database. Returns it.
  /// Its error-level findings (no positive dense rate) are kept in warnings() with `error` set,
  /// not thrown: such a sheet still classifies, as undetermined.
  const chip_spec& add_external(chip_spec spec, const metric_definitions& defs);
  /// What add_external does, without adding: the sheet with its components resolved against the
  /// database and validated, its findings appended to `findings`. The database is not changed, so
  /// concurrent callers may share it (the HTTP server classifies sheets sent in requests so).
  /// Components that name database ids point into this database: it must outlive the result.
  [[nodiscard]] std::unique_ptr<chip_spec> prepare_external(
      chip_spec spec, const metric_definitions& defs, std::vector<spec_warning>& findings) const;

  [[nodiscard]] const chip_spec* find(std::string_view id) const noexcept;
  [[nodiscard]] const std::vector<std::unique_ptr<chip_spec>>& parts() const noexcept {
    return parts_;
  }
  [[nodiscard]] const std::vector<spec_warning>& warnings() const noexcept { return warnings_; }
  /// Ids close to `id`, for "did you mean".
  [[nodiscard]] std::string suggest(std::string_view id) const;

 private:
  void resolve(chip_spec& spec, int depth) const;
  void check_acyclic(const chip_spec& root) const;

  std::vector<std::unique_ptr<chip_spec>> parts_;  // stable addresses: components point here
  std::vector<spec_warning> warnings_;
  std::shared_ptr<const physical_limits> physical_;
};

}  // namespace chipgauge::classifier
