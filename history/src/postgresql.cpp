// The PostgreSQL backend of the history store (connection.hpp), through libpqxx: a database that
// several machines write into at once. The SQL the store runs is shared with SQLite; this file
// handles what differs, each difference commented where it is handled.
#include "chipgauge/core/text.hpp"
#include "connection.hpp"

#include <fmt/format.h>
#include <pqxx/pqxx>

#include <charconv>
#include <cmath>

namespace chipgauge::history::detail {

namespace {

// The key of the advisory lock a write transaction takes: "CGHS" in ASCII, as SQLite's
// application_id.
constexpr std::int64_t write_lock_key = 0x43474853;
// What the version table's one row names, so that a database is recognised as a store.
constexpr const char* application_name = "chipgauge-history";

// Placeholders: the shared SQL writes `?`; PostgreSQL numbers them $1, $2, ... A `?` inside a
// quoted literal or identifier is text, not a placeholder. `count` is set to how many there are.
std::string numbered_placeholders(std::string_view sql, std::size_t& count) {
  std::string out;
  out.reserve(sql.size() + 16);
  count = 0;
  char quote = 0;
  for (const char c : sql) {
    if (quote) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      out += '$' + std::to_string(++count);
    } else {
      out += c;
    }
  }
  return out;
}

class pg_connection;

class pg_statement final : public statement_backend {
 public:
  pg_statement(pg_connection& c, std::string sql, std::string name, std::size_t parameters)
      : c_(&c), sql_(std::move(sql)), name_(std::move(name)), parameters_(parameters) {}

  void reset() override {
    params_.clear();
    result_ = pqxx::result();
    executed_ = false;
    row_ = 0;
  }
  void bind_integer(int i, std::int64_t v) override { slot(i) = std::to_string(v); }
  void bind_real(int i, double v) override {
    // Shortest text that reads back as the same double; PostgreSQL spells infinity in full.
    slot(i) = std::isinf(v) ? std::string(v > 0 ? "Infinity" : "-Infinity") : fmt::format("{}", v);
  }
  void bind_text(int i, std::string_view v) override { slot(i) = std::string(v); }
  // BLOB is bytea: sent in its hex text form, \x followed by two digits a byte.
  void bind_blob(int i, std::span<const unsigned char> bytes) override {
    static constexpr char hex[] = "0123456789abcdef";
    std::string text = "\\x";
    text.reserve(2 + 2 * bytes.size());
    for (const unsigned char b : bytes) {
      text += hex[b >> 4];
      text += hex[b & 0xf];
    }
    slot(i) = std::move(text);
  }
  void bind_null(int i) override { slot(i) = std::nullopt; }

  bool step() override;

  [[nodiscard]] bool is_null(int col) const override { return field(col).is_null(); }
  [[nodiscard]] std::int64_t integer(int col) const override {
    const auto f = field(col);
    std::int64_t v = 0;
    if (f.is_null()) return 0;
    const char* p = f.c_str();
    if (std::from_chars(p, p + f.size(), v).ec != std::errc()) bad_column(col, "an integer");
    return v;
  }
  [[nodiscard]] double real(int col) const override {
    const auto f = field(col);
    if (f.is_null()) return 0;
    const char* p = f.c_str();
    double v = 0;
    // from_chars reads PostgreSQL's NaN, Infinity and -Infinity as well as numbers.
    if (std::from_chars(p, p + f.size(), v).ec != std::errc()) bad_column(col, "a number");
    return v;
  }
  [[nodiscard]] std::string text(int col) const override {
    const auto f = field(col);
    return f.is_null() ? std::string() : std::string(f.c_str(), f.size());
  }
  // bytea arrives in its hex text form (the server's default bytea_output).
  [[nodiscard]] std::vector<unsigned char> blob(int col) const override {
    const auto f = field(col);
    if (f.is_null()) return {};
    const std::string_view t(f.c_str(), f.size());
    if (!t.starts_with("\\x") || t.size() % 2 != 0)
      bad_column(col, "bytea in hex form (bytea_output = hex)");
    std::vector<unsigned char> out(t.size() / 2 - 1);
    auto digit = [&](char c) -> unsigned {
      if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
      if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
      if (c >= 'A' && c <= 'F') return static_cast<unsigned>(c - 'A' + 10);
      bad_column(col, "hexadecimal digits");
    };
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = static_cast<unsigned char>(digit(t[2 + 2 * i]) << 4 | digit(t[3 + 2 * i]));
    return out;
  }

 private:
  std::optional<std::string>& slot(int i) {
    const auto n = static_cast<std::size_t>(i);
    if (params_.size() < n) params_.resize(n);
    return params_[n - 1];
  }
  [[nodiscard]] pqxx::field field(int col) const {
    return result_[static_cast<pqxx::result::size_type>(row_)][col];
  }
  [[noreturn]] void bad_column(int col, std::string_view expected) const;

  pg_connection* c_;
  std::string sql_;
  std::string name_;  ///< the server-side prepared statement; empty: unnamed, parsed each time
  std::size_t parameters_;  ///< how many the SQL has: those left unbound are NULL, as on SQLite
  std::vector<std::optional<std::string>> params_;
  pqxx::result result_;
  bool executed_ = false;
  long row_ = 0;
};

class pg_connection final : public connection {
 public:
  pg_connection(const std::string& url, std::string name) : name_(std::move(name)), conn_(url) {}

  [[nodiscard]] backend_kind kind() const override { return backend_kind::postgresql; }

  std::unique_ptr<statement_backend> prepare(std::string_view sql, bool persistent) override {
    std::size_t parameters = 0;
    std::string text = numbered_placeholders(sql, parameters);
    std::string name;
    if (persistent) {
      name = fmt::format("chipgauge_{}", ++statements_);
      guard(sql, [&] { conn_.prepare(name, text); });
    }
    return std::make_unique<pg_statement>(*this, std::move(text), std::move(name), parameters);
  }

  void exec(const std::string& sql) override {
    guard(sql, [&] { current().exec(sql); });
  }

  // Writers queue on a transaction-scoped advisory lock, as SQLite's writers queue on BEGIN
  // IMMEDIATE: a file's "already present?" check inside the transaction then holds until it
  // commits, so two writers ingesting the same file at once make one run, and the other finds it.
  // Readers are never blocked (each statement reads the committed rows).
  void begin() override {
    tx_.reset();
    guard("BEGIN", [&] {
      tx_ = std::make_unique<pqxx::work>(conn_);
      tx_->exec(fmt::format("SELECT pg_advisory_xact_lock({})", write_lock_key));
    });
  }
  void commit() override {
    guard("COMMIT", [&] { tx_->commit(); });
    tx_.reset();
  }
  void rollback() noexcept override {
    try {
      if (tx_) tx_->abort();
    } catch (...) {  // NOLINT(bugprone-empty-catch): a failed rollback leaves nothing to undo
    }
    tx_.reset();
  }

  // Ids are identity columns; lastval() is the value this session's last INSERT drew from one.
  std::int64_t last_insert_id() override {
    std::int64_t id = 0;
    guard("SELECT lastval()",
          [&] { id = current().exec("SELECT lastval()")[0][0].as<std::int64_t>(); });
    return id;
  }

  // The schema version is the one row of the table chipgauge_schema (SQLite: PRAGMA
  // user_version); no such table is version 0.
  // The server's write-ahead log position (bytes since 0/0): it moves with every commit that
  // writes, this database's and others' (a spurious change is harmless: a cache is rebuilt).
  std::int64_t data_version() override {
    std::int64_t lsn = 0;
    guard("data version", [&] {
      lsn = current()
                .exec("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")[0][0]
                .as<std::int64_t>();
    });
    return lsn;
  }
  std::int64_t schema_version() override {
    std::int64_t version = 0;
    guard("schema version", [&] {
      auto& t = current();
      if (t.exec("SELECT to_regclass('chipgauge_schema')")[0][0].is_null()) return;
      const auto r = t.exec("SELECT application, version FROM chipgauge_schema");
      if (r.size() != 1 || r[0][0].as<std::string>() != application_name)
        throw usage_error(fmt::format(
            "history {} holds a table chipgauge_schema that is not a chipgauge history store's",
            quote_input(name_)));
      version = r[0][1].as<std::int64_t>();
    });
    return version;
  }
  void set_schema_version(int version) override {
    exec(fmt::format(
        "CREATE TABLE IF NOT EXISTS chipgauge_schema (application TEXT NOT NULL, version "
        "INTEGER NOT NULL); DELETE FROM chipgauge_schema; INSERT INTO chipgauge_schema VALUES "
        "('{}', {})",
        application_name, version));
  }
  [[nodiscard]] const std::string& migration_sql(const migration& m) const override {
    if (m.postgresql.empty())
      throw error(fmt::format("history {}: migration {} ({}) has no PostgreSQL form", name_,
                              m.version, m.description));
    return m.postgresql;
  }

  /// Runs `fn`, turning libpqxx's exceptions into chipgauge::error naming the store and `what`.
  template <typename F>
  void guard(std::string_view what, F&& fn) {
    try {
      fn();
    } catch (const pqxx::sql_error& e) {
      throw error(fmt::format("history {}: '{}' failed: {}", name_, what.substr(0, 80),
                              trim_newline(e.what())));
    } catch (const pqxx::failure& e) {
      throw error(fmt::format("history {}: '{}' failed: {}", name_, what.substr(0, 80),
                              trim_newline(e.what())));
    }
  }

  pqxx::result run(const pg_statement&, const std::string& sql, const std::string& name,
                   const std::vector<std::optional<std::string>>& params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    pqxx::result r;
    guard(sql, [&] {
      auto& t = current();
      r = name.empty() ? t.exec_params(sql, pqxx::prepare::make_dynamic_params(values))
                       : t.exec_prepared(name, pqxx::prepare::make_dynamic_params(values));
    });
    return r;
  }

  [[nodiscard]] const std::string& name() const { return name_; }

  // Statements outside a write transaction run in a nontransaction: each commits by itself, as
  // SQLite's autocommit does.
  pqxx::transaction_base& current() {
    if (!tx_) tx_ = std::make_unique<pqxx::nontransaction>(conn_);
    return *tx_;
  }

 private:
  static std::string trim_newline(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    for (auto& c : s)
      if (c == '\n') c = ' ';
    return s;
  }

  std::string name_;
  pqxx::connection conn_;
  std::unique_ptr<pqxx::transaction_base> tx_;
  int statements_ = 0;
};

bool pg_statement::step() {
  if (!executed_) {
    if (params_.size() < parameters_) params_.resize(parameters_);
    result_ = c_->run(*this, sql_, name_, params_);
    executed_ = true;
    row_ = 0;
  } else {
    ++row_;
  }
  return row_ < static_cast<long>(result_.size());
}

void pg_statement::bad_column(int col, std::string_view expected) const {
  throw error(fmt::format("history {}: column {} of '{}' is not {}", c_->name(), col,
                          sql_.substr(0, 80), expected));
}

}  // namespace

std::unique_ptr<connection> open_postgresql(const std::string& url, const open_options& options) {
  const std::string name = redact_url(url);
  std::unique_ptr<pg_connection> c;
  try {
    c = std::make_unique<pg_connection>(url, name);
  } catch (const pqxx::broken_connection& e) {
    std::string why = e.what();
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw error(fmt::format("history {}: cannot connect: {}", quote_input(name), why));
  }
  // Notices ("relation already exists, skipping") are not news to a user; warnings still are.
  // Times are Unix seconds, so the session's time zone does not matter.
  c->exec("SET client_min_messages = warning");
  // A writer waits for the write lock as long as SQLite's busy timeout, then fails.
  c->exec(fmt::format("SET lock_timeout = {}", options.busy_timeout_ms));
  const auto version = c->schema_version();
  if (version == 0) {
    std::int64_t tables = 0;
    c->guard("tables", [&] {
      tables =
          c->current()
              .exec("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()")
                  [0][0]
              .as<std::int64_t>();
    });
    if (tables > 0)
      throw usage_error(fmt::format(
          "history {} is a PostgreSQL database with {} tables but not a chipgauge history store "
          "(no chipgauge_schema table): expected an empty database or a store",
          quote_input(name), tables));
    if (!options.create)
      throw usage_error(
          fmt::format("history {} holds no chipgauge history store", quote_input(name)));
  }
  return c;
}

}  // namespace chipgauge::history::detail
