#pragma once

// The benchmark history store (docs/history.md): one SQLite file, or a PostgreSQL database that
// several writers share, holding every ingested run, its devices, results and samples, under a
// versioned schema. Every write is one transaction, so a process killed mid-ingest leaves the
// store as it was.

#include "chipgauge/core/signing.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;

namespace chipgauge::history {

/// Where the store lives: `explicit_path` when non-empty (--history FILE), else
/// $CHIPGAUGE_HISTORY when set and non-empty, else $XDG_DATA_HOME/chipgauge/history.db, else
/// $HOME/.local/share/chipgauge/history.db. Throws usage_error when none can be formed.
std::string locate_store(const std::string& explicit_path);

/// One step of the schema: applied in a transaction of its own, after which the store's schema
/// version (SQLite: PRAGMA user_version; PostgreSQL: the table chipgauge_schema) is `version`.
/// Versions run 1, 2, 3 ... with no gap.
struct migration {
  int version = 0;
  std::string description;
  std::string sql;  ///< one or more statements (SQLite)
  /// The same step for a PostgreSQL store (its dialect: identity columns, bytea, double
  /// precision); empty: the migration cannot be applied to one.
  std::string postgresql;
  /// SQLite: run the step with foreign keys off (SQLite's procedure for schema changes; a DROP
  /// TABLE with them on first deletes the table's rows one by one).
  bool sqlite_foreign_keys_off = false;
};
/// The schema's migrations in order; migration 1 creates everything.
const std::vector<migration>& schema_migrations();

struct open_options {
  /// Create the file (and its directory), or the schema in an empty PostgreSQL database, when
  /// missing; otherwise a missing store is an error.
  bool create = true;
  /// Replaces schema_migrations() (tests of the migration mechanism only).
  const std::vector<migration>* migrations = nullptr;
  /// How long a writer waits for another's transaction, in milliseconds (SQLite's busy timeout;
  /// PostgreSQL's lock_timeout, which bounds the wait for the write lock).
  int busy_timeout_ms = 10000;
};

/// An open store: one connection (SQLite in WAL mode with foreign keys on and a busy timeout, or
/// PostgreSQL), the schema migrated to the newest version this build knows. Not thread-safe (one
/// store per thread); move-only.
class store {
 public:
  /// Opens (and creates or migrates) the store at `path`: a SQLite file, or a PostgreSQL database
  /// named by a `postgresql://` (or `postgres://`) URL. Throws usage_error naming the store when
  /// it is not a chipgauge history store, or when its schema is newer than this build knows;
  /// chipgauge::error for other failures (permissions, disk, connection).
  static store open(const std::string& path, const open_options& options = {});

  store(store&&) noexcept;
  store& operator=(store&&) noexcept;
  ~store();

  /// The file, or the URL with its password replaced by `***`.
  [[nodiscard]] const std::string& path() const;
  /// The last migration applied.
  [[nodiscard]] int schema_version() const;
  /// Changes whenever another connection (of this process or another) has committed to the
  /// store since this connection last asked; this connection's own commits need not change it. A
  /// cache of what was read through other connections is stale when it changes. SQLite: PRAGMA
  /// data_version; PostgreSQL: the server's write-ahead log position (it also moves for writes to
  /// other databases of the server: a spurious change, never a missed one).
  [[nodiscard]] std::int64_t data_version() const;
  /// The raw SQLite connection, for tests; nullptr for a PostgreSQL store.
  [[nodiscard]] sqlite3* handle() const;

  struct impl;
  [[nodiscard]] impl& internals() const { return *impl_; }

 private:
  explicit store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// Groups the ingests made while it is open into one transaction of the store: each ingest is a
/// savepoint of it (a file that fails is undone alone, the others stay), and nothing is visible
/// to other connections, or durable, until commit(). Destroyed without commit() (an exception,
/// or the process killed) it leaves the store as it was before the batch. One commit for many
/// runs instead of one each is what makes a bulk ingest fast (docs/history.md#ingest); writers
/// on other connections wait while a batch is open, so keep batches to seconds.
class write_batch {
 public:
  /// Begins the batch's transaction. Throws chipgauge::error when a batch is open already.
  explicit write_batch(store& s);
  write_batch(const write_batch&) = delete;
  write_batch& operator=(const write_batch&) = delete;
  ~write_batch();
  /// Commits everything ingested in the batch; throws (having rolled back) when that fails.
  void commit();

 private:
  store::impl* s_;
};

/// What an ingested file was.
enum class source_kind : unsigned char { chipgauge_report, gbench, certificate };
const char* to_string(source_kind k) noexcept;

/// A file's identity for ingest: its kind, the SHA-256 of its bytes (hex; re-ingesting the same
/// bytes is a no-op) and the name it was given as (recorded, not part of the key).
struct ingest_source {
  source_kind kind = source_kind::chipgauge_report;
  std::string sha256;
  std::string name;
};

struct ingest_outcome {
  std::int64_t run_id = 0;
  bool already_present = false;  ///< a run with the same SHA-256 was there: nothing written
  std::size_t results = 0;       ///< result rows of the run (written now or before)
  /// A certificate's integrity as stored ("verified", "unsigned", "unauthenticated", "failed"),
  /// with the verification's findings; empty for other kinds.
  std::string integrity;
  std::vector<std::string> findings;
};

/// Called after each result row is written, with the number written so far in this ingest. For
/// tests only (the killed-ingest test ends the process from it).
using row_hook = std::function<void(std::size_t)>;

/// SHA-256 of bytes, 64 lowercase hex digits: a run's key (OpenSSL's, core/signing.hpp).
using chipgauge::sha256_hex;

/// Time stamps: Unix seconds, UTC. Parses "YYYY-MM-DDTHH:MM:SSZ" (also with a fraction of a
/// second, which is dropped, or a "+00:00" offset), or nullopt.
std::optional<std::int64_t> parse_utc(std::string_view text);
/// "YYYY-MM-DDTHH:MM:SSZ".
std::string format_utc(std::int64_t seconds);

/// Which runs and results a query covers:
/// `history:device=SUBSTR,benchmark=NAME,since=DATE,until=DATE,last=N`.
struct selector {
  std::string
      device;  ///< substring (case-insensitive) of the device's name or identity; empty: any
  std::string benchmark;              ///< exact benchmark name; empty: any
  std::optional<std::int64_t> since;  ///< runs created at or after (Unix seconds)
  std::optional<std::int64_t>
      until;  ///< runs created before (Unix seconds; a DATE means the end of that day)
  /// Per device x benchmark, only the `last` most recent runs that hold a result for it.
  std::optional<int> last;

  [[nodiscard]] bool empty() const {
    return device.empty() && benchmark.empty() && !since && !until && !last;
  }
  /// The selector as text, `history:` first (keys in the order above).
  [[nodiscard]] std::string to_string() const;
};

/// Whether `text` is a history selector (begins with "history:").
bool is_selector(std::string_view text);
/// Parses a selector. Throws usage_error naming the key for an unknown or repeated key, an empty
/// or malformed value (a date that is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, a `last` that is
/// not a whole number from 1 to 1,000,000), or since after until.
selector parse_selector(std::string_view text);
/// A since/until bound from a date option: YYYY-MM-DD (since: its start; until: the end of that
/// day) or a full time stamp. Throws usage_error naming `option`.
std::int64_t parse_time_bound(std::string_view option, std::string_view text, bool end_of_day);

}  // namespace chipgauge::history
