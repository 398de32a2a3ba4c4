#pragma once

#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/classifier/licensing.hpp"

#include "chipgauge/core/date.hpp"

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace chipgauge::serve {

/// Rendered classifications of a snapshot's own parts, by (part, as_of, what_if): the body POST
/// /v1/classify answers for {"part": ID} (to_json of one classification) and the ECCN its metrics
/// count, kept so that a repeated request is neither classified nor rendered again. Sheets sent in
/// a body are never kept. It lives in one dataset, so a reload (SIGHUP) starts with an empty one.
/// Bounded: at most max_entries renderings (each about 5 to 15 KB), emptied whole when full.
/// Safe to use from many threads.
class render_cache {
 public:
  static constexpr std::size_t max_entries = 1024;
  struct entry {
    std::string json;
    std::string eccn;
  };
  /// Copies the entry into `out` and returns true when there is one.
  bool find(const void* part, date as_of, bool what_if, entry& out) const;
  void insert(const void* part, date as_of, bool what_if, const entry& e) const;
  [[nodiscard]] std::size_t size() const;

 private:
  struct key {
    const void* part;
    long long day;  ///< as_of, days since the epoch
    bool what_if;
    friend bool operator==(const key&, const key&) = default;
  };
  struct key_hash {
    std::size_t operator()(const key& k) const noexcept {
      return std::hash<const void*>()(k.part) ^ (std::hash<long long>()(k.day) * 31U) ^
             (k.what_if ? 0x9e3779b9U : 0U);
    }
  };
  static key make_key(const void* part, date as_of, bool what_if);
  mutable std::shared_mutex mutex_;
  mutable std::unordered_map<key, entry, key_hash> map_;
};

/// One loaded copy of a specs/ directory, immutable once built (but for the render cache) and
/// shared by every request that started while it was current. The catalog's lazily loaded parts
/// (countries, licensing files, findings policy) are loaded here, so no request ever writes to it.
struct dataset {
  std::string specs_dir;
  /// FNV-1a 64 over every file under specs_dir (relative path and bytes, in path order), in hex:
  /// changes whenever any rule, sheet, country list or schema changes.
  std::string version;
  /// When it was loaded, seconds since the epoch.
  double loaded_at = 0;
  classifier::catalog cat;
  std::unique_ptr<classifier::licensing_engine> licensing;
  /// Each part's sheet and each regime's file as stored, by id (what `specs show` and
  /// `rules show --format json` print).
  std::map<std::string, std::string, std::less<>> sheet_text;
  std::map<std::string, std::string, std::less<>> rule_text;
  /// Renderings of this snapshot's parts (the one part of a dataset that requests write to).
  render_cache rendered;
  /// specs/schema/openapi.json as stored: the API's contract, served at /v1/openapi.json.
  std::string openapi;

  /// Loads and cross-checks `specs_dir` as the CLI does (catalog::load), then the countries,
  /// licensing files, findings policy, stored texts and the OpenAPI document. Throws spec_error
  /// (or chipgauge::error) on any defect; nothing is shared until it has fully loaded.
  static std::shared_ptr<const dataset> load(const std::string& specs_dir);
};

}  // namespace chipgauge::serve
