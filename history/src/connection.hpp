#pragma once

// The history store's database layer: a small interface (a connection and its prepared
// statements) with a SQLite implementation (sqlite.cpp) and a PostgreSQL one (postgresql.cpp), so
// that ingest and queries are written once. The SQL they run is written in the dialect both
// accept; what still differs (placeholders, ids of inserted rows, BLOB and bytea, the schema
// version, write locking, the schema's own text) is handled by each connection, with a comment
// where it is. Every failure throws chipgauge::error naming the store and the database's message.

#include "chipgauge/core/error.hpp"
#include "chipgauge/history/store.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace chipgauge::history::detail {

/// One backend's prepared statement. Parameters (`?` in the SQL) are numbered from 1, result
/// columns from 0; a parameter left unbound is NULL.
class statement_backend {
 public:
  statement_backend() = default;
  statement_backend(const statement_backend&) = delete;
  statement_backend& operator=(const statement_backend&) = delete;
  virtual ~statement_backend() = default;

  /// Ends the current execution and clears the bindings.
  virtual void reset() = 0;
  virtual void bind_integer(int i, std::int64_t v) = 0;
  virtual void bind_real(int i, double v) = 0;  ///< never NaN (the caller binds NULL)
  virtual void bind_text(int i, std::string_view v) = 0;
  virtual void bind_blob(int i, std::span<const unsigned char> bytes) = 0;
  virtual void bind_null(int i) = 0;
  /// Executes on the first call, then moves on one row: true while a row is available.
  virtual bool step() = 0;
  [[nodiscard]] virtual bool is_null(int col) const = 0;
  [[nodiscard]] virtual std::int64_t integer(int col) const = 0;
  [[nodiscard]] virtual double real(int col) const = 0;
  [[nodiscard]] virtual std::string text(int col) const = 0;
  [[nodiscard]] virtual std::vector<unsigned char> blob(int col) const = 0;
};

enum class backend_kind : unsigned char { sqlite, postgresql };

/// One connection to a store. Not thread-safe: one per thread or process.
class connection {
 public:
  connection() = default;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  virtual ~connection() = default;

  [[nodiscard]] virtual backend_kind kind() const = 0;
  /// Prepares `sql` (`?` placeholders). `persistent`: the statement is kept and run many times.
  virtual std::unique_ptr<statement_backend> prepare(std::string_view sql, bool persistent) = 0;
  /// Runs `sql` (several statements allowed, no parameters), expecting no rows.
  virtual void exec(const std::string& sql) = 0;
  /// Begins a write transaction. Writers to one store queue behind one another, so that a check
  /// made inside the transaction (is this file already there?) holds until it commits.
  virtual void begin() = 0;
  virtual void commit() = 0;
  /// Rolls back the open transaction, if any; never throws.
  virtual void rollback() noexcept = 0;
  /// The id the last INSERT on this connection gave its row (tables with an `id` column).
  virtual std::int64_t last_insert_id() = 0;
  /// The last migration applied (0: an empty store).
  virtual std::int64_t schema_version() = 0;
  /// A number that changes when another connection has committed to the store
  /// (store::data_version).
  virtual std::int64_t data_version() = 0;
  /// Records `version` as applied: inside the migration's transaction.
  virtual void set_schema_version(int version) = 0;
  /// The text of `m` in this connection's dialect; throws when the migration has none.
  [[nodiscard]] virtual const std::string& migration_sql(const migration& m) const = 0;
  /// Called once the migrations are applied, before the store is used (SQLite: the TEMP table
  /// `results` over result_sets, packed_results.hpp).
  virtual void ready() {}
};

/// Opens a SQLite store file (sqlite.cpp): the checks that it is a chipgauge store, its pragmas.
std::unique_ptr<connection> open_sqlite(const std::string& path, const open_options& options);
/// Opens a PostgreSQL store at `url` (postgresql.cpp): the checks that the database is empty or a
/// chipgauge store. Throws usage_error when this build has no PostgreSQL backend.
std::unique_ptr<connection> open_postgresql(const std::string& url, const open_options& options);
/// The SQLite connection underneath `c`; nullptr for another backend.
::sqlite3* sqlite_handle(connection& c);
/// `url` with its password replaced by `***`: how the store is named in messages.
std::string redact_url(std::string_view url);

/// A prepared statement of either backend; reset before each use by the caller (statement::reset).
class statement {
 public:
  statement() = default;
  statement(connection& c, std::string_view sql, bool persistent = false)
      : s_(c.prepare(sql, persistent)) {}

  statement& reset() {
    s_->reset();
    return *this;
  }
  statement& bind(int i, std::int64_t v) {
    s_->bind_integer(i, v);
    return *this;
  }
  statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  statement& bind(int i, bool v) { return bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
  statement& bind(int i, double v);  ///< NaN binds NULL
  statement& bind(int i, const std::optional<double>& v) { return v ? bind(i, *v) : bind_null(i); }
  statement& bind(int i, std::string_view v) {
    s_->bind_text(i, v);
    return *this;
  }
  statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  statement& bind_blob(int i, std::span<const unsigned char> bytes) {
    s_->bind_blob(i, bytes);
    return *this;
  }
  statement& bind_null(int i) {
    s_->bind_null(i);
    return *this;
  }

  /// Steps once: true while a row is available, false when done.
  bool step() { return s_->step(); }
  /// Steps to completion, expecting no row.
  void run() {
    while (step()) {}
  }

  [[nodiscard]] bool is_null(int col) const { return s_->is_null(col); }
  [[nodiscard]] std::int64_t integer(int col) const { return s_->integer(col); }
  [[nodiscard]] double real(int col) const { return s_->real(col); }
  [[nodiscard]] std::optional<double> optional_real(int col) const {
    if (is_null(col)) return std::nullopt;
    return real(col);
  }
  [[nodiscard]] std::string text(int col) const { return s_->text(col); }
  [[nodiscard]] std::vector<double> doubles(int col) const;  ///< a BLOB of little-endian binary64

 private:
  std::unique_ptr<statement_backend> s_;
};

/// Doubles as the store's BLOB bytes: IEEE 754 binary64, little-endian, in order.
std::vector<unsigned char> to_blob(std::span<const double> values);
/// The same into `out` (replacing what it held; its capacity is reused): returns `out`.
std::vector<unsigned char>& to_blob(std::span<const double> values,
                                    std::vector<unsigned char>& out);

/// A write transaction (connection::begin), rolled back unless committed. While a write_batch is
/// open it is a savepoint of the batch's transaction instead: committing releases it into the
/// batch, and rolling back undoes this transaction's writes alone.
class transaction {
 public:
  explicit transaction(store::impl& s);
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  ~transaction();
  void commit();

 private:
  store::impl* s_;
  bool nested_ = false;  ///< a savepoint of the open write_batch's transaction
  bool done_ = false;
};

}  // namespace chipgauge::history::detail

namespace chipgauge::history {

struct store::impl {
  /// The file, or the URL with its password redacted.
  std::string path;
  std::unique_ptr<detail::connection> db;
  /// Statements prepared once per connection, by SQL text.
  std::unordered_map<std::string, detail::statement> cache;
  /// Ids looked up during ingest (cleared when a transaction rolls back: the ids may be gone).
  std::unordered_map<std::string, std::int64_t> device_ids;
  std::unordered_map<std::string, std::int64_t> benchmark_ids;
  /// The id the next packed result set starts at (SQLite), known inside the open write
  /// transaction only: cleared when one begins or rolls back.
  std::optional<std::int64_t> next_result_id;
  /// A write_batch's transaction is open: transactions are savepoints of it.
  bool batch_open = false;
  /// A savepoint of the open batch could not be rolled back: the batch must not commit.
  bool batch_poisoned = false;

  impl() = default;
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;
  ~impl();
  /// The cached statement for `sql`, reset and with its bindings cleared.
  detail::statement& prepare(const std::string& sql);
};

}  // namespace chipgauge::history
