#pragma once

#include "chipgauge/core/files.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge {

/// The deepest nesting of objects and arrays a chipgauge JSON file may have. The bundled files
/// reach 10; a board nesting inline sheets 4 levels deep (the most components may nest) about 16.
inline constexpr int max_json_depth = 64;

/// Parses a JSON document from text; `file` names it in errors. Strict while parsing, before any
/// value is built: nesting deeper than max_json_depth and a key repeated in one object are
/// refused with the JSON path where they occur.
/// Throws spec_error("FILE", "$", "malformed JSON at line L, column C: ...") on a syntax error.
nlohmann::json parse_json_text(std::string_view text, const std::string& file);
/// Reads and parses a JSON file of at most `limit` bytes (default: file_limits::json_file).
/// Throws spec_error if it cannot be read, is too large or cannot be parsed.
nlohmann::json read_json_file(const std::string& path);
nlohmann::json read_json_file(const std::string& path, const file_limit& limit);

/// A number written as JSON writes it (RFC 8259: `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`),
/// finite as a double: no `inf`, `nan`, hex, leading `+`, spaces or overflow (`1e400`).
std::optional<double> parse_json_number(std::string_view text);
/// A JSON integer (no fraction or exponent) that fits a long long.
std::optional<long long> parse_json_integer(std::string_view text);

/// A read-only view of one value inside a JSON document that knows its file and JSON path,
/// so that every accessor can fail with an error naming both. Strict by design: unknown keys,
/// wrong types and out-of-range numbers throw spec_error.
///
///     json_node root(doc, "h100.json");
///     double bw = root.at("memory").at("bandwidth_gb_s").number_in(0, 1e5, "GB/s");
class json_node {
 public:
  json_node(const nlohmann::json& value, const std::string& file, std::string path = "$");

  [[nodiscard]] const nlohmann::json& raw() const noexcept { return *value_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] const std::string& file() const noexcept { return *file_; }

  /// Throws spec_error at this node's path.
  [[noreturn]] void fail(const std::string& message) const;

  [[nodiscard]] bool is_object() const noexcept { return value_->is_object(); }
  [[nodiscard]] bool is_array() const noexcept { return value_->is_array(); }
  [[nodiscard]] bool is_number() const noexcept { return value_->is_number(); }
  [[nodiscard]] bool is_string() const noexcept { return value_->is_string(); }
  [[nodiscard]] bool is_null() const noexcept { return value_->is_null(); }

  /// Member `key` of an object; fails if this is not an object or the key is missing.
  [[nodiscard]] json_node at(std::string_view key) const;
  /// Member `key` if present and not null.
  [[nodiscard]] std::optional<json_node> find(std::string_view key) const;
  /// Element i of an array.
  [[nodiscard]] json_node at(std::size_t index) const;

  /// Fails unless this is an object whose keys are all in `allowed`. The error names the
  /// unknown key and suggests the closest allowed one; a key missing its unit suffix
  /// ("bandwidth" for "bandwidth_gb_s") is reported as a missing unit.
  void expect_keys(std::initializer_list<std::string_view> allowed) const;
  void expect_keys(const std::vector<std::string_view>& allowed) const;

  [[nodiscard]] std::string string() const;
  /// A string that must be one of `choices`.
  [[nodiscard]] std::string one_of(std::initializer_list<std::string_view> choices) const;
  [[nodiscard]] bool boolean() const;
  /// A finite number.
  [[nodiscard]] double number() const;
  /// A finite number in [lo, hi]; `unit` appears in the error ("expected GB/s in [0, 100000]").
  [[nodiscard]] double number_in(double lo, double hi, std::string_view unit) const;
  /// A non-negative integer no larger than `hi`.
  [[nodiscard]] long long integer_in(long long lo, long long hi) const;

  /// Elements of an array (fails if not an array).
  [[nodiscard]] std::vector<json_node> elements() const;
  /// Members of an object, sorted by key (fails if not an object).
  [[nodiscard]] std::vector<std::pair<std::string, json_node>> members() const;

 private:
  const nlohmann::json* value_;
  const std::string* file_;
  std::string path_;
};

/// The allowed string closest to `word` by edit distance, if it is close enough to be a likely
/// typo (distance <= max(2, |word| / 3)); empty otherwise.
std::string closest_match(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace chipgauge
