#pragma once

// A thin RAII layer over the SQLite C API for the history module: statements, binding, stepping,
// transactions. Every failure throws chipgauge::error naming the store file and SQLite's message.

#include "chipgauge/core/error.hpp"
#include "chipgauge/history/store.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace chipgauge::history::detail {

[[noreturn]] void fail(sqlite3* db, const std::string& file, std::string_view what);

/// A prepared statement; reset before each use by the caller (statement::reset).
class statement {
 public:
  statement() = default;
  statement(sqlite3* db, const std::string& file, std::string_view sql);
  statement(statement&& o) noexcept;
  statement& operator=(statement&& o) noexcept;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement();

  statement& reset();
  statement& bind(int i, std::int64_t v);
  statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  statement& bind(int i, bool v) { return bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
  statement& bind(int i, double v);  ///< NaN binds NULL
  statement& bind(int i, const std::optional<double>& v);
  statement& bind(int i, std::string_view v);
  statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  statement& bind_blob(int i, std::span<const unsigned char> bytes);
  statement& bind_null(int i);

  /// Steps once: true while a row is available, false when done.
  bool step();
  /// Steps to completion, expecting no row.
  void run();

  [[nodiscard]] bool is_null(int col) const;
  [[nodiscard]] std::int64_t integer(int col) const;
  [[nodiscard]] double real(int col) const;
  [[nodiscard]] std::optional<double> optional_real(int col) const;
  [[nodiscard]] std::string text(int col) const;
  [[nodiscard]] std::vector<double> doubles(int col) const;  ///< a BLOB of little-endian binary64

 private:
  sqlite3* db_ = nullptr;
  const std::string* file_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

/// Runs `sql` (several statements allowed), expecting no rows.
void exec(sqlite3* db, const std::string& file, const std::string& sql);

/// Doubles as the store's BLOB bytes: IEEE 754 binary64, little-endian, in order.
std::vector<unsigned char> to_blob(std::span<const double> values);

/// A write transaction (BEGIN IMMEDIATE), rolled back unless committed.
class transaction {
 public:
  explicit transaction(store::impl& s);
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  ~transaction();
  void commit();

 private:
  store::impl* s_;
  bool done_ = false;
};

}  // namespace chipgauge::history::detail

namespace chipgauge::history {

struct store::impl {
  std::string path;
  sqlite3* db = nullptr;
  /// Statements prepared once per connection, by SQL text.
  std::unordered_map<std::string, detail::statement> cache;
  /// Ids looked up during ingest (cleared when a transaction rolls back: the ids may be gone).
  std::unordered_map<std::string, std::int64_t> device_ids;
  std::unordered_map<std::string, std::int64_t> benchmark_ids;

  ~impl();
  /// The cached statement for `sql`, reset and with its bindings cleared.
  detail::statement& prepare(const std::string& sql);
};

}  // namespace chipgauge::history
