// The SQLite layer of the history store (sqlite.hpp).
#include "sqlite.hpp"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstring>

namespace chipgauge::history::detail {

void fail(sqlite3* db, const std::string& file, std::string_view what) {
  throw error(fmt::format("history {}: {}: {}", file, what, db ? sqlite3_errmsg(db) : "cannot allocate a connection"));
}

statement::statement(sqlite3* db, const std::string& file, std::string_view sql) : db_(db), file_(&file) {
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) !=
      SQLITE_OK)
    fail(db, file, fmt::format("cannot prepare '{}'", sql.substr(0, 80)));
}

statement::statement(statement&& o) noexcept : db_(o.db_), file_(o.file_), stmt_(o.stmt_) { o.stmt_ = nullptr; }

statement& statement::operator=(statement&& o) noexcept {
  if (this != &o) {
    if (stmt_) sqlite3_finalize(stmt_);
    db_ = o.db_;
    file_ = o.file_;
    stmt_ = o.stmt_;
    o.stmt_ = nullptr;
  }
  return *this;
}

statement::~statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

statement& statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  return *this;
}

statement& statement::bind(int i, std::int64_t v) {
  if (sqlite3_bind_int64(stmt_, i, v) != SQLITE_OK) fail(db_, *file_, "cannot bind");
  return *this;
}

statement& statement::bind(int i, double v) {
  const int rc = std::isnan(v) ? sqlite3_bind_null(stmt_, i) : sqlite3_bind_double(stmt_, i, v);
  if (rc != SQLITE_OK) fail(db_, *file_, "cannot bind");
  return *this;
}

statement& statement::bind(int i, const std::optional<double>& v) { return v ? bind(i, *v) : bind_null(i); }

statement& statement::bind(int i, std::string_view v) {
  if (sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8) != SQLITE_OK)
    fail(db_, *file_, "cannot bind");
  return *this;
}

statement& statement::bind_blob(int i, std::span<const unsigned char> bytes) {
  if (sqlite3_bind_blob64(stmt_, i, bytes.data(), bytes.size(), SQLITE_TRANSIENT) != SQLITE_OK)
    fail(db_, *file_, "cannot bind");
  return *this;
}

statement& statement::bind_null(int i) {
  if (sqlite3_bind_null(stmt_, i) != SQLITE_OK) fail(db_, *file_, "cannot bind");
  return *this;
}

bool statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const std::string sql = sqlite3_sql(stmt_) ? sqlite3_sql(stmt_) : "";
  sqlite3_reset(stmt_);
  fail(db_, *file_, fmt::format("'{}' failed", sql.substr(0, 80)));
}

void statement::run() {
  while (step()) {
  }
}

bool statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
std::int64_t statement::integer(int col) const { return sqlite3_column_int64(stmt_, col); }
double statement::real(int col) const { return sqlite3_column_double(stmt_, col); }
std::optional<double> statement::optional_real(int col) const {
  if (is_null(col)) return std::nullopt;
  return real(col);
}

std::string statement::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

std::vector<double> statement::doubles(int col) const {
  const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(stmt_, col));
  const auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)) / 8;
  std::vector<double> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t bits = 0;
    for (int b = 7; b >= 0; --b) bits = (bits << 8) | p[i * 8 + static_cast<std::size_t>(b)];
    out[i] = std::bit_cast<double>(bits);
  }
  return out;
}

void exec(sqlite3* db, const std::string& file, const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string text = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    throw error(fmt::format("history {}: '{}' failed: {}", file, sql.substr(0, 80), text));
  }
}

std::vector<unsigned char> to_blob(std::span<const double> values) {
  std::vector<unsigned char> out(values.size() * 8);
  for (std::size_t i = 0; i < values.size(); ++i) {
    auto bits = std::bit_cast<std::uint64_t>(values[i]);
    for (int b = 0; b < 8; ++b) {
      out[i * 8 + static_cast<std::size_t>(b)] = static_cast<unsigned char>(bits & 0xff);
      bits >>= 8;
    }
  }
  return out;
}

transaction::transaction(store::impl& s) : s_(&s) { s_->prepare("BEGIN IMMEDIATE").run(); }

transaction::~transaction() {
  if (done_) return;
  // Rolling back cannot fail in a way the caller could act on; the ids cached during the
  // transaction may name rows that no longer exist.
  sqlite3_exec(s_->db, "ROLLBACK", nullptr, nullptr, nullptr);
  s_->device_ids.clear();
  s_->benchmark_ids.clear();
}

void transaction::commit() {
  s_->prepare("COMMIT").run();
  done_ = true;
}

}  // namespace chipgauge::history::detail

namespace chipgauge::history {

store::impl::~impl() {
  cache.clear();
  if (db) sqlite3_close_v2(db);
}

detail::statement& store::impl::prepare(const std::string& sql) {
  auto it = cache.find(sql);
  if (it == cache.end()) it = cache.emplace(sql, detail::statement(db, path, sql)).first;
  return it->second.reset();
}

}  // namespace chipgauge::history
