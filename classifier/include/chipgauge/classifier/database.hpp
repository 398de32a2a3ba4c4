#pragma once

#include "chipgauge/classifier/metrics.hpp"
#include "chipgauge/classifier/spec.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge {

/// A finding of `specs validate` that does not stop loading (a declared TPP that disagrees with
/// the computed one, say). Errors throw spec_error instead.
struct spec_warning {
  std::string file;
  std::string json_path;
  std::string message;
};

/// Checks what parsing alone cannot: computed TPP within limits, declared TPP against computed
/// (2 % tolerance). Throws spec_error on an error; returns warnings.
std::vector<spec_warning> validate_spec(const chip_spec& spec, const metric_definitions& defs);

/// The parts database: every sheet under a directory, with board/system components resolved.
class spec_database {
 public:
  /// Loads every *.json under `dir` (sorted by file name). Throws spec_error on the first bad
  /// sheet, a duplicate id, an id that differs from the file name, or an unknown component.
  static spec_database load(const std::string& dir, const metric_definitions& defs);

  /// Adds a sheet from outside the database (a path given on the command line) and resolves its
  /// components against the database. Returns it.
  const chip_spec& add_external(chip_spec spec, const metric_definitions& defs);

  [[nodiscard]] const chip_spec* find(std::string_view id) const noexcept;
  [[nodiscard]] const std::vector<std::unique_ptr<chip_spec>>& parts() const noexcept { return parts_; }
  [[nodiscard]] const std::vector<spec_warning>& warnings() const noexcept { return warnings_; }
  /// Ids close to `id`, for "did you mean".
  [[nodiscard]] std::string suggest(std::string_view id) const;

 private:
  void resolve(chip_spec& spec, int depth);
  void check_acyclic(const chip_spec& root) const;

  std::vector<std::unique_ptr<chip_spec>> parts_;  // stable addresses: components point here
  std::vector<spec_warning> warnings_;
};

}  // namespace chipgauge
