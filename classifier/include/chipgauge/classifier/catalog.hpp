#pragma once

#include "chipgauge/classifier/countries.hpp"
#include "chipgauge/classifier/database.hpp"
#include "chipgauge/classifier/findings.hpp"
#include "chipgauge/classifier/licensing.hpp"
#include "chipgauge/classifier/rules.hpp"

#include <memory>

#include <string>
#include <string_view>

namespace chipgauge::classifier {

/// The bundled data a command works on: the rule set (specs/rules) and the parts database
/// (specs/chips), loaded and cross-checked together. CLI and HTTP server share it.
class catalog {
 public:
  /// Loads `specs_dir`/rules and `specs_dir`/chips. Throws spec_error on any defect.
  static catalog load(const std::string& specs_dir);

  /// The specs directory to use, the first of: `flag` if not empty; $CHIPGAUGE_SPECS_DIR if set
  /// and not empty; the installed data beside the running binary (<bin>/../share/chipgauge/specs,
  /// as `cmake --install` lays it out) if that directory exists; the source tree's specs/
  /// recorded at build time.
  static std::string locate_specs_dir(const std::string& flag);

  /// A part named on the command line: a path to a sheet (contains '/' or ends in ".json"),
  /// loaded and added, or an id in the database. Throws usage_error for an unknown id, with a
  /// suggestion, and spec_error for a bad sheet.
  const chip_spec& part(std::string_view file_or_id);

  [[nodiscard]] const rule_set& rules() const noexcept { return rules_; }
  /// Country groups (specs/countries) and licensing regimes (specs/licensing), loaded on first use.
  const country_db& countries();
  const licensing_set& licensing();
  /// When measured and sheet TPP disagree enough to say so (specs/policy/findings.json), loaded on
  /// first use.
  const findings_policy& findings();
  [[nodiscard]] spec_database& parts() noexcept { return parts_; }
  [[nodiscard]] const spec_database& parts() const noexcept { return parts_; }
  [[nodiscard]] const std::string& specs_dir() const noexcept { return dir_; }

 private:
  std::string dir_;
  rule_set rules_;
  spec_database parts_;
  std::shared_ptr<country_db> countries_;
  std::shared_ptr<licensing_set> licensing_;
  std::shared_ptr<findings_policy> findings_;
};

}  // namespace chipgauge::classifier
