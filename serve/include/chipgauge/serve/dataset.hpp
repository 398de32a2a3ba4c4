#pragma once

#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/classifier/licensing.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace chipgauge::serve {

/// One loaded copy of a specs/ directory, immutable once built and shared by every request that
/// started while it was current. The catalog's lazily loaded parts (countries, licensing files,
/// findings policy) are loaded here, so no request ever writes to it.
struct dataset {
  std::string specs_dir;
  /// FNV-1a 64 over every file under specs_dir (relative path and bytes, in path order), in hex:
  /// changes whenever any rule, sheet, country list or schema changes.
  std::string version;
  /// When it was loaded, seconds since the epoch.
  double loaded_at = 0;
  catalog cat;
  std::unique_ptr<licensing_engine> licensing;
  /// Each part's sheet and each regime's file as stored, by id (what `specs show` and
  /// `rules show --format json` print).
  std::map<std::string, std::string, std::less<>> sheet_text;
  std::map<std::string, std::string, std::less<>> rule_text;
  /// specs/schema/openapi.json as stored: the API's contract, served at /v1/openapi.json.
  std::string openapi;

  /// Loads and cross-checks `specs_dir` as the CLI does (catalog::load), then the countries,
  /// licensing files, findings policy, stored texts and the OpenAPI document. Throws spec_error
  /// (or chipgauge::error) on any defect; nothing is shared until it has fully loaded.
  static std::shared_ptr<const dataset> load(const std::string& specs_dir);
};

}  // namespace chipgauge::serve
