// The SQLite backend of the history store (connection.hpp): one file, WAL, a busy timeout.
#include "chipgauge/core/text.hpp"
#include "connection.hpp"
#include "packed_results.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <filesystem>

namespace chipgauge::history::detail {

namespace {

// PRAGMA application_id of a chipgauge history store: "CGHS" in ASCII.
constexpr std::int64_t application_id = 0x43474853;

[[noreturn]] void fail(sqlite3* db, const std::string& file, std::string_view what) {
  throw error(fmt::format("history {}: {}: {}", file, what,
                          db ? sqlite3_errmsg(db) : "cannot allocate a connection"));
}

class sqlite_statement final : public statement_backend {
 public:
  sqlite_statement(sqlite3* db, const std::string& file, std::string_view sql, bool persistent)
      : db_(db), file_(&file) {
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                           persistent ? SQLITE_PREPARE_PERSISTENT : 0, &stmt_,
                           nullptr) != SQLITE_OK)
      fail(db, file, fmt::format("cannot prepare '{}'", sql.substr(0, 80)));
  }
  ~sqlite_statement() override { sqlite3_finalize(stmt_); }

  void reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  void bind_integer(int i, std::int64_t v) override { check(sqlite3_bind_int64(stmt_, i, v)); }
  void bind_real(int i, double v) override { check(sqlite3_bind_double(stmt_, i, v)); }
  void bind_text(int i, std::string_view v) override {
    check(sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  void bind_blob(int i, std::span<const unsigned char> bytes) override {
    check(sqlite3_bind_blob64(stmt_, i, bytes.data(), bytes.size(), SQLITE_TRANSIENT));
  }
  void bind_null(int i) override { check(sqlite3_bind_null(stmt_, i)); }

  bool step() override {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    const std::string sql = sqlite3_sql(stmt_) ? sqlite3_sql(stmt_) : "";
    sqlite3_reset(stmt_);
    fail(db_, *file_, fmt::format("'{}' failed", sql.substr(0, 80)));
  }

  [[nodiscard]] bool is_null(int col) const override {
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
  }
  [[nodiscard]] std::int64_t integer(int col) const override {
    return sqlite3_column_int64(stmt_, col);
  }
  [[nodiscard]] double real(int col) const override { return sqlite3_column_double(stmt_, col); }
  [[nodiscard]] std::string text(int col) const override {
    const auto* p = sqlite3_column_text(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
             : std::string();
  }
  [[nodiscard]] std::vector<unsigned char> blob(int col) const override {
    const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(stmt_, col));
    const auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col));
    return p ? std::vector<unsigned char>(p, p + n) : std::vector<unsigned char>();
  }

 private:
  void check(int rc) const {
    if (rc != SQLITE_OK) fail(db_, *file_, "cannot bind");
  }

  sqlite3* db_;
  const std::string* file_;
  sqlite3_stmt* stmt_ = nullptr;
};

class sqlite_connection final : public connection {
 public:
  explicit sqlite_connection(std::string file) : file_(std::move(file)) {}
  ~sqlite_connection() override {
    if (db_) sqlite3_close_v2(db_);
  }

  [[nodiscard]] backend_kind kind() const override { return backend_kind::sqlite; }
  std::unique_ptr<statement_backend> prepare(std::string_view sql, bool persistent) override {
    return std::make_unique<sqlite_statement>(db_, file_, sql, persistent);
  }
  void exec(const std::string& sql) override {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      const std::string text = message ? message : sqlite3_errmsg(db_);
      sqlite3_free(message);
      throw error(fmt::format("history {}: '{}' failed: {}", file_, sql.substr(0, 80), text));
    }
  }
  // IMMEDIATE takes the write lock at BEGIN: a second writer waits (busy timeout) there, not at
  // its first write after reading.
  void begin() override { exec("BEGIN IMMEDIATE"); }
  void commit() override { exec("COMMIT"); }
  void rollback() noexcept override { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }
  // The rowid: the `id INTEGER PRIMARY KEY` column of each table that has one.
  std::int64_t last_insert_id() override { return sqlite3_last_insert_rowid(db_); }
  // PRAGMA user_version is the schema version; application_id marks the file as a store.
  std::int64_t schema_version() override { return pragma("user_version"); }
  // Changes when another connection commits to the file (SQLite's PRAGMA data_version).
  std::int64_t data_version() override { return pragma("data_version"); }
  void set_schema_version(int version) override {
    exec(fmt::format("PRAGMA application_id = {}; PRAGMA user_version = {}", application_id,
                     version));
  }
  [[nodiscard]] const std::string& migration_sql(const migration& m) const override {
    return m.sql;
  }
  void ready() override { attach_results_table(db_, file_); }

  std::int64_t pragma(const std::string& name) {
    sqlite_statement st(db_, file_, "PRAGMA " + name, false);
    return st.step() ? st.integer(0) : 0;
  }

  std::string file_;
  sqlite3* db_ = nullptr;
};

}  // namespace

std::unique_ptr<connection> open_sqlite(const std::string& path, const open_options& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (!options.create)
      throw usage_error(fmt::format("history {} does not exist", quote_input(path)));
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty()) {
      fs::create_directories(parent, ec);
      if (ec)
        throw error(fmt::format("history {}: cannot create directory {}: {}", quote_input(path),
                                parent.string(), ec.message()));
    }
  } else if (fs::is_directory(path, ec)) {
    throw usage_error(
        fmt::format("history {} is a directory: expected a SQLite file", quote_input(path)));
  }

  // SQLite's memory statistics (sqlite3_status) take a global mutex at every allocation; nothing
  // here reads them. Only possible before SQLite initialises: later calls change nothing.
  static const int memstatus_off = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)memstatus_off;
  auto c = std::make_unique<sqlite_connection>(path);
  const int flags =
      SQLITE_OPEN_READWRITE | (options.create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &c->db_, flags, nullptr) != SQLITE_OK)
    fail(c->db_, quote_input(path), "cannot open");
  sqlite3_extended_result_codes(c->db_, 1);
  sqlite3_busy_timeout(c->db_, options.busy_timeout_ms);
  // The reader of packed results and the aggregate that packs them (packed_results.hpp).
  if (register_result_sets(c->db_) != SQLITE_OK)
    fail(c->db_, quote_input(path), "cannot register the result_sets functions");

  std::int64_t app = 0;
  std::int64_t version = 0;
  std::int64_t tables = 0;
  try {
    app = c->pragma("application_id");
    version = c->pragma("user_version");
    sqlite_statement st(c->db_, c->file_, "SELECT count(*) FROM sqlite_schema", false);
    tables = st.step() ? st.integer(0) : 0;
  } catch (const error&) {
    if (sqlite3_errcode(c->db_) == SQLITE_NOTADB)
      throw usage_error(
          fmt::format("history {} is not a SQLite database: expected a chipgauge history store",
                      quote_input(path)));
    throw;
  }
  if (app != application_id && !(app == 0 && version == 0 && tables == 0))
    throw usage_error(fmt::format(
        "history {} is a SQLite database but not a chipgauge history store (application_id {:#x})",
        quote_input(path), app));

  // WAL: readers never block the writer; NORMAL: a commit is atomic and survives a killed process
  // (a power cut may lose the last commits, never half of one). Foreign keys cascade deletes.
  // A new store's pages are 16 KiB rather than SQLite's 4 KiB: a run's packed results (about
  // 7 KiB for 27 results with 10 samples each) take one page rather than spilling onto overflow
  // pages, and each b-tree is shallower (docs/history.md#scale). Only possible before the first
  // table, and before WAL mode; an existing store keeps its size.
  if (tables == 0) c->exec("PRAGMA page_size = 16384");
  c->exec("PRAGMA journal_mode = WAL");
  c->exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536");
  // Ingest writes each file inside a savepoint of its batch: the savepoint's journal (the pages
  // as they were before the file) is kept in memory rather than in a temporary file.
  c->exec("PRAGMA temp_store = MEMORY");
  // A checkpoint copies the WAL into the file and syncs both; every 10,000 pages (40 MB) instead
  // of SQLite's 1,000, so that a bulk ingest's index pages are copied and synced once for many
  // batches. Readers still see every commit; a checkpoint never loses one.
  c->exec("PRAGMA wal_autocheckpoint = 10000");
  return c;
}

sqlite3* sqlite_handle(connection& c) {
  auto* s = dynamic_cast<sqlite_connection*>(&c);
  return s ? s->db_ : nullptr;
}

}  // namespace chipgauge::history::detail
