// The history store: schema and migrations, ingest (idempotent, atomic under a killed process,
// safe with several writers at once), certificates (verified, unsigned, tampered), selectors and
// filters, trends, a selection as a report, exports, pruning; and the CLI. The store tests run on
// both backends: a SQLite file, and a database of a private PostgreSQL server
// (tests/postgres/server.sh).
#include "chipgauge/bench/compare.hpp"
#include "chipgauge/bench/report.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"
#include "chipgauge/core/signing.hpp"
#include "chipgauge/history/certificates.hpp"
#include "chipgauge/history/ingest.hpp"
#include "chipgauge/history/query.hpp"
#include "chipgauge/history/store.hpp"
#include "connection.hpp"
#include "packed_results.hpp"
#include "test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

using chipgauge::classifier::classification;
using chipgauge::classifier::precision;

namespace chipgauge {
namespace {

using namespace chipgauge::history;

const std::string sample_report = test::data_dir() + "/measurement-sample.json";

std::int64_t count(store& s, const std::string& table) {
  detail::statement st(*s.internals().db, "SELECT count(*) FROM " + table);
  EXPECT_TRUE(st.step()) << table;
  return st.integer(0);
}

// Results stored with their samples: rows of table samples before schema version 4, results
// holding rates since.
std::int64_t sample_rows(store& s) {
  return s.schema_version() >= 4 ? count(s, "results WHERE rates IS NOT NULL")
                                 : count(s, "samples");
}

// Rows of every table, as a comparable snapshot.
std::vector<std::int64_t> counts(store& s) {
  return {count(s, "runs"),       count(s, "devices"), count(s, "run_devices"),
          count(s, "benchmarks"), count(s, "results"), sample_rows(s)};
}

// Raw SQL on either backend; throws chipgauge::error when it fails.
void exec(store& s, const std::string& sql) { s.internals().db->exec(sql); }

bench::device_info gpu(const std::string& id, const std::string& uuid,
                       const std::string& name = "NVIDIA H100 80GB HBM3") {
  bench::device_info d;
  d.backend = "cuda";
  d.id = id;
  d.name = name;
  d.vendor = "NVIDIA";
  d.units = 132;
  d.properties = {{"uuid", uuid}, {"driver_version", "550.54.15"}, {"cuda_runtime", "12.4"}};
  return d;
}

// A result with `n` samples around `rate` (ops/s) at `clock` MHz.
bench::measurement result(const std::string& device, const std::string& name, double rate, int n,
                          double clock = 1755,
                          bench::result_status status = bench::result_status::ok) {
  bench::measurement m;
  m.info.name = name;
  m.info.group = "compute";
  m.info.prec = precision::fp16;
  m.info.metric = bench::metric_kind::ops_per_s;
  m.info.isa = "wgmma";
  m.info.description = "synthetic";
  m.device_id = device;
  m.status = status;
  m.verified = status == bench::result_status::ok;
  m.check.passed = m.verified;
  std::vector<double> rates;
  std::vector<double> clocks;
  for (int i = 0; i < n; ++i) {
    bench::sample s;
    s.seconds = 0.5;
    s.work = 0.5 * rate * (1 + 0.001 * (i % 5 - 2));
    s.clock_mhz = i == 1 ? std::nan("") : clock;
    m.samples.push_back(s);
    rates.push_back(s.rate());
    if (!std::isnan(s.clock_mhz)) clocks.push_back(s.clock_mhz);
  }
  m.rate = bench::summarize(rates);
  m.clock = bench::summarize(clocks);
  m.stopped = bench::stop_reason::noise_target;
  m.theoretical = 989e12;
  m.fraction_of_theoretical = m.rate.median / 989e12;
  if (status == bench::result_status::invalid) m.reason = "verification failed";
  return m;
}

bench::measurement_report report(const std::string& created,
                                 std::vector<bench::device_info> devices,
                                 std::vector<bench::measurement> results,
                                 const std::string& host = "node1") {
  bench::measurement_report r;
  r.tool_version = "0.1.0";
  r.git_sha = "abc123";
  r.argv = {"chipgauge", "measure"};
  r.created_utc = created;
  r.mode = "quick";
  r.host.hostname = host;
  r.host.kernel = "Linux 6.1";
  r.devices = std::move(devices);
  r.results = std::move(results);
  return r;
}

ingest_outcome add(store& s, const bench::measurement_report& r, const std::string& key) {
  return ingest_report(s, r,
                       {source_kind::chipgauge_report, history::sha256_hex(key), key + ".json"});
}

// What ingest_report wrote before schema version 4, a result's samples in a row of table samples:
// the migration tests write their older stores as the chipgauge of that version did (this
// build's ingest writes version 4's rows). For the reports of report(), gpu() and result().
void add_before_v4(store& s, const bench::measurement_report& r, const std::string& key) {
  auto& db = *s.internals().db;
  db.begin();
  detail::statement run(
      db,
      "INSERT INTO runs (source_kind, source_sha256, source_name, created_utc, ingested_utc, "
      "tool_version, git_sha, mode, host, kernel, driver, toolkit, argv, context) VALUES "
      "('chipgauge-report', ?, ?, ?, 0, ?, ?, ?, ?, ?, '', '', '[]', '{}')");
  run.bind(1, history::sha256_hex(key)).bind(2, key + ".json").bind(3, *parse_utc(r.created_utc));
  run.bind(4, r.tool_version)
      .bind(5, r.git_sha)
      .bind(6, r.mode)
      .bind(7, r.host.hostname)
      .bind(8, r.host.kernel);
  run.run();
  const auto run_id = db.last_insert_id();
  std::map<std::string, std::int64_t> local;
  for (const auto& d : r.devices) {
    const std::string uuid = d.properties.at(0).second;  // gpu() gives the uuid first
    detail::statement find(db, "SELECT id FROM devices WHERE identity = ?");
    find.bind(1, "uuid:" + uuid);
    std::int64_t id = find.step() ? find.integer(0) : 0;
    if (id == 0) {
      detail::statement ins(
          db, "INSERT INTO devices (identity, name, vendor, backend, uuid) VALUES (?, ?, ?, ?, ?)");
      ins.bind(1, "uuid:" + uuid)
          .bind(2, d.name)
          .bind(3, d.vendor)
          .bind(4, d.backend)
          .bind(5, uuid);
      ins.run();
      id = db.last_insert_id();
    }
    detail::statement rd(
        db,
        "INSERT INTO run_devices (run_id, device_id, local_id, properties) VALUES (?, ?, ?, '{}')");
    rd.bind(1, run_id).bind(2, id).bind(3, d.id);
    rd.run();
    local[d.id] = id;
  }
  for (const auto& m : r.results) {
    const std::string prec(to_string(*m.info.prec));
    const std::string metric = bench::to_string(m.info.metric);
    const std::string params = "{\"isa\":\"" + m.info.isa + "\"}";
    detail::statement find(
        db,
        "SELECT id FROM benchmarks WHERE name = ? AND precision = ? AND metric = ? AND "
        "parameters = ?");
    find.bind(1, m.info.name).bind(2, prec).bind(3, metric).bind(4, params);
    std::int64_t bench_id = find.step() ? find.integer(0) : 0;
    if (bench_id == 0) {
      detail::statement ins(
          db,
          "INSERT INTO benchmarks (name, grp, precision, metric, parameters, description) "
          "VALUES (?, ?, ?, ?, ?, ?)");
      ins.bind(1, m.info.name).bind(2, m.info.group).bind(3, prec).bind(4, metric).bind(5, params);
      ins.bind(6, m.info.description);
      ins.run();
      bench_id = db.last_insert_id();
    }
    detail::statement res(
        db,
        "INSERT INTO results (run_id, device_id, benchmark_id, status, reason, verified, "
        "suspect, stop_reason, median, min, max, q1, q3, cv, sample_count, clock_mhz, "
        "throttled_samples, theoretical, fraction) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?, ?)");
    res.bind(1, run_id)
        .bind(2, local.at(m.device_id))
        .bind(3, bench_id)
        .bind(4, bench::to_string(m.status));
    res.bind(5, m.reason)
        .bind(6, m.verified)
        .bind(7, m.suspect)
        .bind(8, bench::to_string(m.stopped));
    res.bind(9, m.rate.median)
        .bind(10, m.rate.min)
        .bind(11, m.rate.max)
        .bind(12, m.rate.q1)
        .bind(13, m.rate.q3);
    res.bind(14, m.rate.cv).bind(15, static_cast<std::int64_t>(m.samples.size()));
    if (m.clock.count) res.bind(16, m.clock.median);
    res.bind(17, m.throttled_samples).bind(18, m.theoretical).bind(19, m.fraction_of_theoretical);
    res.run();
    const auto result_id = db.last_insert_id();
    if (m.samples.empty()) continue;
    std::vector<double> rates;
    std::vector<double> clocks;
    bool any_clock = false;
    for (const auto& x : m.samples) {
      rates.push_back(x.rate());
      clocks.push_back(x.clock_mhz);
      any_clock = any_clock || !std::isnan(x.clock_mhz);
    }
    detail::statement sm(db, "INSERT INTO samples (result_id, rates, clocks) VALUES (?, ?, ?)");
    sm.bind(1, result_id).bind_blob(2, detail::to_blob(rates));
    if (any_clock) sm.bind_blob(3, detail::to_blob(clocks));
    sm.run();
  }
  db.commit();
}

// ---- the backends ----

enum class backend : unsigned char { sqlite, postgresql };

// How GoogleTest (and so CTest's test names) print a backend.
void PrintTo(backend b, std::ostream* os) {
  *os << (b == backend::sqlite ? "SQLite" : "PostgreSQL");
}

std::string backend_name(const ::testing::TestParamInfo<backend>& info) {
  return info.param == backend::sqlite ? "SQLite" : "PostgreSQL";
}

// The private PostgreSQL server (tests/postgres/server.sh): the one CTest's PostgresServer
// fixture started, whose state directory CHIPGAUGE_TEST_POSTGRES_STATE names; else one this
// process starts on first use and stops at its exit. `skip` says why there is none: only when the
// server binaries are missing.
class postgres_server {
 public:
  static postgres_server& get() {
    static postgres_server server;
    return server;
  }
  postgres_server(const postgres_server&) = delete;
  postgres_server& operator=(const postgres_server&) = delete;
  ~postgres_server() {
    if (owned_)
      std::system(
          ("'" CHIPGAUGE_POSTGRES_SERVER "' stop '" + state_ + "' > /dev/null 2>&1").c_str());
    if (owned_) std::filesystem::remove_all(state_);
  }

  std::string skip;

  /// The URL of a new, empty database on the server.
  std::string new_database() {
    if (admin_url_.empty()) throw error("the test PostgreSQL server did not start: " + problem_);
    const std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(++databases_);
    detail::open_postgresql(admin_url_, {})->exec("CREATE DATABASE " + name);
    std::string url = admin_url_;
    url.replace(url.find("/postgres?"), 10, "/" + name + "?");
    return url;
  }

 private:
  postgres_server() {
    if (const char* env = std::getenv("CHIPGAUGE_TEST_POSTGRES_STATE"); env && *env) {
      state_ = env;
    } else {
      char tmpl[] = "/tmp/chipgauge-pg-state.XXXXXX";
      if (::mkdtemp(tmpl) == nullptr) {
        problem_ = "cannot create a state directory";
        return;
      }
      state_ = tmpl;
      owned_ = true;
      const auto r = test::run_command("'" CHIPGAUGE_POSTGRES_SERVER "' start '" + state_ + "'");
      if (r.status != 0) problem_ = r.out + r.err;
    }
    if (std::filesystem::exists(state_ + "/skip")) {
      skip = read_text_file(state_ + "/skip");
    } else if (std::filesystem::exists(state_ + "/url")) {
      admin_url_ = read_text_file(state_ + "/url");
      while (!admin_url_.empty() && admin_url_.back() == '\n') admin_url_.pop_back();
    } else if (problem_.empty()) {
      problem_ = state_ + " holds neither url nor skip: did the PostgresServer fixture run?";
    }
  }

  std::string state_;
  bool owned_ = false;
  std::string admin_url_;
  std::string problem_;
  int databases_ = 0;
};

// A test that runs once per backend, each time on a new, empty store location.
class backend_test : public ::testing::TestWithParam<backend> {
 protected:
  void SetUp() override {
    if (GetParam() == backend::postgresql && !postgres_server::get().skip.empty())
      GTEST_SKIP() << postgres_server::get().skip;
  }
  /// A file in the test's directory (`name`), or a new database.
  std::string new_store(const std::string& name = "h.db") {
    return GetParam() == backend::sqlite ? dir_.path() + "/" + name
                                         : postgres_server::get().new_database();
  }
  test::temp_dir dir_;
};

const auto both_backends = ::testing::Values(backend::sqlite, backend::postgresql);

// ---- primitives ----

TEST(HistoryBasics, Sha256KnownAnswers) {
  EXPECT_EQ(history::sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(history::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(history::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(history::sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(HistoryBasics, TimeStampsRoundTrip) {
  const auto t = parse_utc("2026-11-29T05:17:23Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, 1795929443);
  EXPECT_EQ(format_utc(*t), "2026-11-29T05:17:23Z");
  EXPECT_EQ(parse_utc("2026-11-29T05:17:23.75+00:00"), t);
  EXPECT_FALSE(parse_utc("2026-11-29 05:17:23Z"));
  EXPECT_FALSE(parse_utc("2026-02-30T05:17:23Z"));
  EXPECT_FALSE(parse_utc("2026-11-29T25:17:23Z"));
  EXPECT_FALSE(parse_utc("2026-11-29T05:17:23+02:00"));
}

TEST(HistorySelector, ParsesEveryKey) {
  const auto s = parse_selector(
      "history:device=h100,benchmark=mma_fp16,since=2026-01-01,until=2026-01-31,last=20");
  EXPECT_EQ(s.device, "h100");
  EXPECT_EQ(s.benchmark, "mma_fp16");
  EXPECT_EQ(*s.since, *parse_utc("2026-01-01T00:00:00Z"));
  EXPECT_EQ(*s.until, *parse_utc("2026-02-01T00:00:00Z"));  // the whole of the 31st
  EXPECT_EQ(*s.last, 20);
  EXPECT_TRUE(parse_selector("history:").empty());
  EXPECT_EQ(parse_selector("history:last=3").to_string(), "history:last=3");
  EXPECT_TRUE(is_selector("history:last=3"));
  EXPECT_FALSE(is_selector("report.json"));
}

TEST(HistorySelector, RefusesBadKeysAndValues) {
  auto message = [](const std::string& text) {
    try {
      parse_selector(text);
    } catch (const usage_error& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  EXPECT_NE(message("history:devic=h100").find("unknown key 'devic'"), std::string::npos)
      << message("history:devic=h100");
  EXPECT_NE(message("history:since=2026-13-01").find("is not a date"), std::string::npos);
  EXPECT_NE(message("history:last=0").find("last '0' is not a count"), std::string::npos);
  EXPECT_NE(message("history:last=2x").find("is not a count"), std::string::npos);
  EXPECT_NE(message("history:device=a,device=b").find("given twice"), std::string::npos);
  EXPECT_NE(message("history:device").find("has no value"), std::string::npos);
  EXPECT_NE(message("history:device=").find("is empty"), std::string::npos);
  EXPECT_NE(message("history:since=2026-02-01,until=2026-01-01").find("since is not before until"),
            std::string::npos);
  EXPECT_NE(message("report.json").find("not a history selector"), std::string::npos);
}

TEST(HistoryBasics, LocatesTheStore) {
  ::setenv("CHIPGAUGE_HISTORY", "/tmp/from-env.db", 1);
  EXPECT_EQ(locate_store("/tmp/explicit.db"), "/tmp/explicit.db");
  EXPECT_EQ(locate_store(""), "/tmp/from-env.db");
  ::unsetenv("CHIPGAUGE_HISTORY");
  ::setenv("XDG_DATA_HOME", "/tmp/xdg", 1);
  EXPECT_EQ(locate_store(""), "/tmp/xdg/chipgauge/history.db");
  ::unsetenv("XDG_DATA_HOME");
  ::setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(locate_store(""), "/home/someone/.local/share/chipgauge/history.db");
}

// ---- schema ----

TEST(HistorySqlite, NewStoreIsWalWithForeignKeysAtTheNewestVersion) {
  const test::temp_dir dir;
  auto s = store::open(dir.path() + "/sub/dir/h.db");
  EXPECT_EQ(s.schema_version(), static_cast<int>(schema_migrations().size()));
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(s.handle(), "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  ASSERT_EQ(sqlite3_prepare_v2(s.handle(), "PRAGMA foreign_keys", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 1);
  sqlite3_finalize(st);
  ASSERT_EQ(sqlite3_prepare_v2(s.handle(), "PRAGMA page_size", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 16384);
  sqlite3_finalize(st);
}

class HistorySchema : public backend_test {};
INSTANTIATE_TEST_SUITE_P(, HistorySchema, both_backends, backend_name);

TEST_P(HistorySchema, NewStoreIsAtTheNewestVersion) {
  const std::string path = new_store();
  auto s = store::open(path);
  EXPECT_EQ(s.schema_version(), static_cast<int>(schema_migrations().size()));
  EXPECT_EQ(count(s, "runs"), 0);
  // Opening it again migrates nothing and keeps what it holds.
  add(s,
      report("2026-01-01T00:00:00Z", {gpu("cuda:0", "GPU-aaaa")},
             {result("cuda:0", "mma_fp16", 7e14, 5)}),
      "a");
  auto again = store::open(path);
  EXPECT_EQ(again.schema_version(), static_cast<int>(schema_migrations().size()));
  EXPECT_EQ(count(again, "runs"), 1);
}

TEST_P(HistorySchema, StoreFromAFutureVersionIsRefused) {
  const std::string path = new_store();
  std::string name;
  {
    auto s = store::open(path);
    name = s.path();
    s.internals().db->set_schema_version(99);
  }
  try {
    store::open(path);
    FAIL() << "a store at schema version 99 opened";
  } catch (const usage_error& e) {
    const std::string m = e.what();
    const auto newest =
        "newer than this chipgauge reads (" + std::to_string(schema_migrations().size()) + ")";
    EXPECT_NE(m.find("schema version 99, " + newest), std::string::npos) << m;
    EXPECT_NE(m.find(name), std::string::npos) << m;
  }
}

// A migration whose SQL both dialects read.
migration portable(int version, const std::string& description, const std::string& sql) {
  return {version, description, sql, sql};
}

TEST_P(HistorySchema, MigrationsRunInOrderOnAnOlderStore) {
  const std::string path = new_store();
  // The mechanism on a list of its own: migration 1 of the real schema, then test steps.
  const std::vector<migration> v1 = {schema_migrations().front()};
  open_options o1;
  o1.migrations = &v1;
  { auto s = store::open(path, o1); }  // version 1
  // Migration 3 needs migration 2's table, so running them out of order fails.
  std::vector<migration> list = v1;
  list.push_back(portable(
      2, "log table", "CREATE TABLE migration_log (step INTEGER NOT NULL, seen INTEGER NOT NULL)"));
  list.push_back(portable(
      3, "log entry",
      "INSERT INTO migration_log SELECT 3, count(*) FROM migration_log; ALTER TABLE runs ADD "
      "COLUMN note TEXT"));
  list.push_back(
      portable(4, "log entry", "INSERT INTO migration_log SELECT 4, count(*) FROM migration_log"));
  for (int step = 5; step <= static_cast<int>(schema_migrations().size()) + 1; ++step)
    list.push_back(portable(
        step, "log entry",
        fmt::format("INSERT INTO migration_log SELECT {}, count(*) FROM migration_log", step)));
  open_options o;
  o.migrations = &list;
  auto s = store::open(path, o);
  EXPECT_EQ(s.schema_version(), static_cast<int>(list.size()));
  detail::statement st(*s.internals().db, "SELECT step, seen FROM migration_log ORDER BY step");
  std::vector<std::pair<std::int64_t, std::int64_t>> log;
  while (st.step()) log.emplace_back(st.integer(0), st.integer(1));
  std::vector<std::pair<std::int64_t, std::int64_t>> expected;
  for (std::int64_t step = 3; step <= static_cast<std::int64_t>(list.size()); ++step)
    expected.emplace_back(step, step - 3);
  EXPECT_EQ(log, expected);
  // The stock build now refuses the migrated store as newer than it reads.
  EXPECT_THROW(store::open(path), usage_error);
}

TEST_P(HistorySchema, AVersion2StoreMigratesToComparisonChecksThatRefuseWhatTheyRefusedBefore) {
  const std::string path = new_store();
  const std::vector<migration> v2 = {schema_migrations()[0], schema_migrations()[1]};
  open_options o2;
  o2.migrations = &v2;
  const auto r =
      report("2026-01-01T00:00:00Z", {gpu("cuda:0", "GPU-aaaa")},
             {result("cuda:0", "mma_fp16", 7e14, 5), result("cuda:0", "stream_triad", 3e12, 5)});
  std::vector<std::int64_t> before;
  std::vector<std::pair<std::int64_t, double>> trend_before;
  const auto points = [](store& s) {
    std::vector<std::pair<std::int64_t, double>> out;
    for (const auto& p : trend(s, find_devices(s, "").at(0).id, "mma_fp16"))
      out.emplace_back(p.run_id, p.median);
    return out;
  };
  {
    auto s = store::open(path, o2);
    ASSERT_EQ(s.schema_version(), 2);
    add_before_v4(s, r, "a");
    before = counts(s);
    trend_before = points(s);
    ASSERT_EQ(trend_before.size(), 1U);
  }
  const std::vector<migration> v3 = {schema_migrations()[0], schema_migrations()[1],
                                     schema_migrations()[2]};
  open_options o3;
  o3.migrations = &v3;
  auto s = store::open(path, o3);
  ASSERT_EQ(s.schema_version(), 3);
  EXPECT_EQ(counts(s), before);
  EXPECT_EQ(points(s), trend_before) << "the trend reads the same rows through the new index";
  EXPECT_TRUE(add(s, r, "a").already_present);
  if (GetParam() == backend::sqlite) {
    // The rewrite took: no IN list is left in the two CHECKs (a text that did not match would
    // leave the schema as it was, silently).
    detail::statement st(
        *s.internals().db,
        "SELECT count(*) FROM sqlite_schema WHERE name IN ('results', 'runs') AND (sql LIKE "
        "'%status IN (%' OR sql LIKE '%source_kind IN (%')");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.integer(0), 0);
  }
  // The constraints accept and refuse exactly what migration 1's did.
  const auto copy_result = [](const std::string& status) {
    return "INSERT INTO results (run_id, device_id, benchmark_id, status, reason, verified, "
           "suspect, stop_reason, median, min, max, q1, q3, cv, sample_count, "
           "throttled_samples) SELECT run_id, device_id, benchmark_id, '" +
           status +
           "', reason, verified, suspect, stop_reason, median, min, max, q1, q3, cv, "
           "sample_count, throttled_samples FROM results WHERE id = (SELECT min(id) FROM "
           "results)";
  };
  const auto copy_run = [](const std::string& kind, const std::string& sha) {
    return "INSERT INTO runs (source_kind, source_sha256, source_name, created_utc, "
           "ingested_utc, tool_version, git_sha, mode, host, kernel, driver, toolkit, argv, "
           "context) SELECT '" +
           kind + "', '" + sha +
           "', source_name, created_utc, ingested_utc, tool_version, git_sha, mode, host, "
           "kernel, driver, toolkit, argv, context FROM runs WHERE id = (SELECT min(id) FROM "
           "runs)";
  };
  const auto results = count(s, "results");
  for (const char* bad : {"bogus", "OK", "ok ", ""})
    EXPECT_THROW(exec(s, copy_result(bad)), error) << bad;
  EXPECT_EQ(count(s, "results"), results);
  for (const char* good : {"ok", "skipped", "invalid"}) exec(s, copy_result(good));
  EXPECT_EQ(count(s, "results"), results + 3);
  const auto runs = count(s, "runs");
  for (const char* bad : {"bogus", "report", "Certificate"})
    EXPECT_THROW(exec(s, copy_run(bad, bad)), error) << bad;
  EXPECT_EQ(count(s, "runs"), runs);
  for (const char* good : {"chipgauge-report", "gbench", "certificate"})
    exec(s, copy_run(good, good));
  EXPECT_EQ(count(s, "runs"), runs + 3);
}

TEST_P(HistorySchema, AVersion3StoreMigratesToSamplesInRowsThenToPackedResultsAndReadsTheSame) {
  const std::string path = new_store();
  const std::vector<migration> v3(schema_migrations().begin(), schema_migrations().begin() + 3);
  const std::vector<migration> v4(schema_migrations().begin(), schema_migrations().begin() + 4);
  open_options o3;
  o3.migrations = &v3;
  open_options o4;
  o4.migrations = &v4;
  // Samples with one clock unread (result()'s second sample), samples with no clock read at all,
  // and a skipped result with no samples; two runs, so that each result must get its own samples;
  // the devices' results interleaved, so that a device's results in a run are not adjacent ids.
  const auto night = [](const std::string& created, double scale) {
    return report(created, {gpu("cuda:0", "GPU-aaaa"), gpu("cuda:1", "GPU-bbbb")},
                  {result("cuda:0", "mma_fp16", 7e14 * scale, 5),
                   result("cuda:1", "mma_fp16", 0, 0, 1755, bench::result_status::skipped),
                   result("cuda:0", "stream_triad", 3e12 * scale, 4, std::nan(""))});
  };
  // What the store answers: exports (every sample and clock), result ids, a trend per device and
  // a pooled selection.
  struct answers {
    std::vector<std::int64_t> counts;
    std::string csv, json;
    std::vector<std::int64_t> ids;
    std::vector<std::pair<std::int64_t, double>> trend;
    std::vector<std::string> pooled;
  };
  const auto read = [](store& s) {
    answers a;
    a.counts = counts(s);
    export_results(s, {}, export_format::csv, [&a](std::string_view p) { a.csv += p; });
    export_results(s, {}, export_format::json, [&a](std::string_view p) { a.json += p; });
    for (const auto& r : select_results(s, parse_selector("history:"), false))
      a.ids.push_back(r.id);
    for (const auto* d : {"aaaa", "bbbb"})
      for (const auto* b : {"stream_triad", "mma_fp16"})
        for (const auto& p : trend(s, find_devices(s, d).at(0).id, b))
          a.trend.emplace_back(p.run_id, p.median);
    for (const auto& m : select_as_report(s, parse_selector("history:")).results) {
      std::string v;
      for (const auto& x : m.samples) v += fmt::format("{} {};", x.rate(), x.clock_mhz);
      a.pooled.push_back(v);
    }
    return a;
  };
  {
    auto s = store::open(path, o3);
    ASSERT_EQ(s.schema_version(), 3);
    add_before_v4(s, night("2026-01-01T00:00:00Z", 1), "a");
    add_before_v4(s, night("2026-01-02T00:00:00Z", 1.01), "b");
    ASSERT_EQ(counts(s), (std::vector<std::int64_t>{2, 2, 4, 2, 6, 4}));
  }
  answers at_v4;
  {
    auto s = store::open(path, o4);
    ASSERT_EQ(s.schema_version(), 4);
    at_v4 = read(s);
    EXPECT_THROW(exec(s, "SELECT count(*) FROM samples"), error) << "table samples is gone";
  }
  auto s = store::open(path);
  ASSERT_EQ(s.schema_version(), static_cast<int>(schema_migrations().size()));
  const auto migrated = read(s);
  // The same runs ingested by this build into a new store: the answers must be identical.
  const std::string fresh_path =
      GetParam() == backend::sqlite ? dir_.path() + "/fresh.db" : new_store();
  auto fresh = store::open(fresh_path);
  add(fresh, night("2026-01-01T00:00:00Z", 1), "a");
  add(fresh, night("2026-01-02T00:00:00Z", 1.01), "b");
  const auto expected = read(fresh);
  for (const answers* a : std::initializer_list<const answers*>{&at_v4, &migrated}) {
    const char* when = a == &at_v4 ? "at version 4" : "at the newest version";
    EXPECT_EQ(a->counts, expected.counts) << when;
    EXPECT_EQ(a->csv, expected.csv) << when;
    EXPECT_EQ(a->json, expected.json)
        << when << ": every sample and clock (and the unread ones) as ingested";
    EXPECT_EQ(a->trend, expected.trend) << when;
    EXPECT_EQ(a->pooled, expected.pooled) << when;
  }
  EXPECT_EQ(migrated.ids, at_v4.ids) << "a result keeps its id";
  EXPECT_EQ(migrated.ids, (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(migrated.trend.size(), 6U);
  ASSERT_EQ(migrated.pooled.size(), 3U);
  EXPECT_TRUE(std::any_of(migrated.pooled.begin(), migrated.pooled.end(), [](const std::string& v) {
    return v.find("nan") != std::string::npos;
  })) << "an unread clock stays unread";
  if (GetParam() == backend::sqlite) {
    // One packed row per run; the rows' table is gone, read through the connection's own table.
    EXPECT_EQ(count(s, "result_sets"), 2);
    EXPECT_EQ(count(s, "main.sqlite_schema WHERE name LIKE 'results%'"), 0);
    // Migration 5 ran with foreign keys off; they are on again.
    detail::statement keys(*s.internals().db, "PRAGMA foreign_keys");
    ASSERT_TRUE(keys.step());
    EXPECT_EQ(keys.integer(0), 1);
  }
  // Writing goes on: the same file is a no-op, a new one is stored and read back whole.
  EXPECT_TRUE(add(s, night("2026-01-01T00:00:00Z", 1), "a").already_present);
  EXPECT_FALSE(add(s, night("2026-01-03T00:00:00Z", 0.99), "c").already_present);
  EXPECT_EQ(counts(s), (std::vector<std::int64_t>{3, 2, 6, 2, 9, 6}));
  const auto newest = select_results(s, parse_selector("history:since=2026-01-03"), true);
  ASSERT_EQ(newest.size(), 3U);
  EXPECT_EQ(newest[0].id, 7);
  EXPECT_EQ(newest[0].rates.size(), 5U);
  EXPECT_TRUE(newest[1].rates.empty());
  EXPECT_EQ(newest[2].rates.size(), 4U);
  EXPECT_TRUE(newest[2].clocks.empty()) << "no clock read: NULL, as before";
}

TEST_P(HistorySchema, AFailedMigrationLeavesTheStoreAtItsVersion) {
  const std::string path = new_store();
  const std::vector<migration> v1 = {schema_migrations().front()};
  open_options o1;
  o1.migrations = &v1;
  { auto s = store::open(path, o1); }
  std::vector<migration> list = v1;
  list.push_back(
      portable(2, "broken", "CREATE TABLE half (x INTEGER); INSERT INTO no_such_table VALUES (1)"));
  open_options o;
  o.migrations = &list;
  EXPECT_THROW(store::open(path, o), error);
  auto s = store::open(path, o1);
  EXPECT_EQ(s.schema_version(), 1);
  EXPECT_THROW(exec(s, "SELECT * FROM half"), error) << "the half-applied migration was kept";
}

TEST_P(HistorySchema, MigrationListWithAGapIsAnError) {
  std::vector<migration> list = {schema_migrations().front()};
  list.push_back(portable(3, "gap", "SELECT 1"));
  open_options o;
  o.migrations = &list;
  EXPECT_THROW(store::open(new_store(), o), error);
}

// The SQLite table `results` reads the packed result sets: every lookup the queries make (by
// id, run, device, device and benchmark, all) answers what rows would, and the planner uses the
// packed sets' indexes for them.
TEST(HistorySqlite, PackedResultsAnswerEveryLookup) {
  const test::temp_dir dir;
  auto s = store::open(dir.path() + "/h.db");
  for (int night = 1; night <= 3; ++night) {
    const auto when = fmt::format("2026-01-0{}T00:00:00Z", night);
    add(s,
        report(
            when, {gpu("cuda:0", "GPU-aaaa"), gpu("cuda:1", "GPU-bbbb")},
            {result("cuda:0", "mma_fp16", 7e14, 5), result("cuda:1", "mma_fp16", 6e14, 5),
             result("cuda:0", "stream_triad", 3e12, 4), result("cuda:1", "stream_triad", 3e12, 4)}),
        when);
  }
  const auto rows = select_results(s, parse_selector("history:"), true);
  ASSERT_EQ(rows.size(), 12U);
  EXPECT_EQ(count(s, "result_sets"), 3);
  EXPECT_EQ(count(s, "results"), 12);
  const auto one = [&s](const std::string& sql, std::int64_t v) {
    detail::statement st(*s.internals().db, sql);
    st.bind(1, v);
    std::vector<std::int64_t> ids;
    while (st.step()) ids.push_back(st.integer(0));
    return ids;
  };
  for (const auto& r : rows) {
    EXPECT_EQ(one("SELECT id FROM results WHERE id = ?", r.id), std::vector<std::int64_t>{r.id});
    EXPECT_EQ(one("SELECT run_id FROM results WHERE rowid = ?", r.id),
              std::vector<std::int64_t>{r.run_id});
    EXPECT_EQ(one("SELECT device_id FROM results WHERE id = ?", r.id),
              std::vector<std::int64_t>{r.device_id});
  }
  EXPECT_TRUE(one("SELECT id FROM results WHERE id = ?", 13).empty());
  EXPECT_TRUE(one("SELECT id FROM results WHERE id = ?", 0).empty());
  EXPECT_EQ(one("SELECT id FROM results WHERE run_id = ?", 2),
            (std::vector<std::int64_t>{5, 6, 7, 8}));
  const auto device = rows[0].device_id;
  EXPECT_EQ(one("SELECT id FROM results WHERE device_id = ? ORDER BY id", device),
            (std::vector<std::int64_t>{1, 3, 5, 7, 9, 11}));
  EXPECT_EQ(one("SELECT count(*) FROM results WHERE device_id = ? AND benchmark_id = "
                "(SELECT id FROM benchmarks WHERE name = 'stream_triad')",
                device),
            std::vector<std::int64_t>{3});
  // A value that equals no integer selects nothing; one that reads as an integer selects it.
  EXPECT_TRUE(one("SELECT id FROM results WHERE id = ? + 0.5", 3).empty());
  EXPECT_EQ(one("SELECT id FROM results WHERE id = CAST(? AS TEXT)", 3),
            std::vector<std::int64_t>{3});
  // The samples and clocks as ingested.
  EXPECT_EQ(rows[0].rates.size(), 5U);
  EXPECT_EQ(rows[0].clocks.size(), 5U);
  EXPECT_TRUE(std::isnan(rows[0].clocks[1]));
  // The planner reads a device's sets for a trend, one set for a run, one for an id.
  const auto plan = [&s](const std::string& sql) {
    detail::statement st(*s.internals().db, "EXPLAIN QUERY PLAN " + sql);
    std::string out;
    while (st.step()) out += st.text(3) + "\n";
    return out;
  };
  EXPECT_NE(plan("SELECT r.median FROM results r JOIN runs ru ON ru.id = r.run_id WHERE "
                 "r.device_id = 1 AND r.benchmark_id IN (SELECT id FROM benchmarks WHERE name = "
                 "'mma_fp16') ORDER BY ru.created_utc")
                .find("VIRTUAL TABLE INDEX 11:"),
            std::string::npos)
      << "device (3) with the benchmark filter (8)";
  EXPECT_NE(plan("SELECT count(*) FROM results WHERE run_id = 2").find("VIRTUAL TABLE INDEX 1:"),
            std::string::npos);
  EXPECT_NE(plan("SELECT median FROM results WHERE id = 4").find("VIRTUAL TABLE INDEX 2:"),
            std::string::npos);
  // Pruning a run deletes its set; ids go on from the highest one left, as rowids do.
  prune_options po;
  po.keep_last = 2;
  EXPECT_EQ(prune(s, po).results, 4);
  EXPECT_EQ(count(s, "result_sets"), 2);
  EXPECT_EQ(count(s, "results"), 8);
  add(s,
      report("2026-01-04T00:00:00Z", {gpu("cuda:0", "GPU-aaaa")},
             {result("cuda:0", "mma_fp16", 7e14, 5, 2400.25),
              result("cuda:0", "stream_triad", 3e12, 3, 70000)}),
      "night 4");
  EXPECT_EQ(one("SELECT id FROM results WHERE run_id = ?", 4), (std::vector<std::int64_t>{13, 14}));
  // Whole MHz below 65,535 are packed in 2 bytes; other clocks as they are, each read back exact.
  const auto fourth = select_results(s, parse_selector("history:since=2026-01-04"), true);
  ASSERT_EQ(fourth.size(), 2U);
  for (std::size_t i = 0; i < 2; ++i) {
    const double clock = i == 0 ? 2400.25 : 70000;
    ASSERT_EQ(fourth[i].clocks.size(), i == 0 ? 5U : 3U);
    EXPECT_EQ(fourth[i].clocks[0], clock);
    EXPECT_TRUE(std::isnan(fourth[i].clocks[1]));
    EXPECT_EQ(fourth[i].clocks[2], clock);
  }
  // A damaged set is an error naming it, not a crash or a silent gap.
  exec(s, "UPDATE result_sets SET results = x'4347523101' WHERE run_id = 2");
  try {
    (void)select_results(s, parse_selector("history:"), false);
    ADD_FAILURE() << "a truncated set was read";
  } catch (const error& e) {
    EXPECT_NE(std::string(e.what()).find("malformed"), std::string::npos) << e.what();
  }
}

// The packed format refuses what it cannot hold and what is not one of its sets.
TEST(HistoryPacked, WriterRefusesWhatTheFormatCannotHoldAndReaderRefusesDamage) {
  detail::result_set_writer w;
  detail::result_record r;
  r.status = "ok";
  r.device_id = 1;
  r.benchmark_id = 1;
  w.add(r, 0);
  EXPECT_EQ(w.count(), 1);
  r.status = "OK";
  EXPECT_THROW(w.add(r, 0), error) << "a status outside ok, skipped, invalid";
  r.status = "skipped";
  r.device_id = std::int64_t{1} << 32;
  EXPECT_THROW(w.add(r, 0), error) << "a device id past 32 bits";
  r.device_id = 1;
  r.id = -1;
  EXPECT_THROW(w.add(r, 0), error) << "an id below the set's first";
  // What was written reads back; a cut anywhere inside the record is refused, never read short.
  const std::vector<unsigned char> bytes(w.bytes().begin(), w.bytes().end());
  {
    detail::result_set_reader rd(bytes, 10);
    detail::result_record back;
    ASSERT_TRUE(rd.next(back));
    EXPECT_EQ(back.id, 10);
    EXPECT_EQ(back.status, "ok");
    EXPECT_FALSE(rd.next(back));
  }
  for (std::size_t cut = 5; cut < bytes.size(); ++cut) {
    const std::vector<unsigned char> part(bytes.begin(), bytes.begin() + static_cast<long>(cut));
    detail::result_set_reader rd(part, 10);
    detail::result_record back;
    EXPECT_THROW(rd.next(back), error) << cut << " of " << bytes.size() << " bytes";
  }
  const std::vector<unsigned char> other = {'C', 'G', 'R', '2'};
  EXPECT_THROW(detail::result_set_reader(other, 1), error) << "another format's tag";
}

TEST(HistorySqlite, OtherFilesAreRefused) {
  const test::temp_dir dir;
  const auto text = dir.write("notes.db", std::string(4096, 'x'));
  EXPECT_THROW(store::open(text), usage_error);
  const std::string other = dir.path() + "/other.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t (x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  try {
    store::open(other);
    FAIL();
  } catch (const usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("not a chipgauge history store"), std::string::npos)
        << e.what();
  }
  open_options no_create;
  no_create.create = false;
  EXPECT_THROW(store::open(dir.path() + "/missing.db", no_create), usage_error);
}

class HistoryPostgreSQL : public backend_test {};
INSTANTIATE_TEST_SUITE_P(, HistoryPostgreSQL, ::testing::Values(backend::postgresql), backend_name);

TEST_P(HistoryPostgreSQL, OtherDatabasesAreRefused) {
  // A database holding other tables is not written into.
  const std::string other = new_store();
  detail::open_postgresql(other, {})->exec("CREATE TABLE t (x INTEGER)");
  try {
    store::open(other);
    FAIL() << "a database with other tables was taken as a store";
  } catch (const usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("not a chipgauge history store"), std::string::npos)
        << e.what();
  }
  // A reading command does not create a store in an empty database.
  open_options no_create;
  no_create.create = false;
  const std::string empty = new_store();
  EXPECT_THROW(store::open(empty, no_create), usage_error);
  EXPECT_EQ(store::open(empty).schema_version(), static_cast<int>(schema_migrations().size()));
  // A server that is not there is an error naming the store, its password withheld.
  try {
    store::open(
        "postgresql://someone:secret@/nothing?host=/nonexistent-socket-dir&connect_timeout=2");
    FAIL() << "connected to nothing";
  } catch (const error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("cannot connect"), std::string::npos) << m;
    EXPECT_NE(m.find("postgresql://someone:***@/nothing"), std::string::npos) << m;
    EXPECT_EQ(m.find("secret"), std::string::npos) << m;
  }
}

// ---- ingest ----

class HistoryIngest : public backend_test {};
INSTANTIATE_TEST_SUITE_P(, HistoryIngest, both_backends, backend_name);

TEST_P(HistoryIngest, MeasurementReportFileAndIdempotentReingest) {
  auto s = store::open(new_store());
  const auto r = ingest_file(s, sample_report);
  EXPECT_FALSE(r.already_present);
  EXPECT_EQ(r.results, 3U);
  EXPECT_EQ(counts(s), (std::vector<std::int64_t>{1, 1, 1, 3, 3, 2}));
  const auto again = ingest_file(s, sample_report);
  EXPECT_TRUE(again.already_present);
  EXPECT_EQ(again.run_id, r.run_id);
  EXPECT_EQ(again.results, 3U);
  EXPECT_EQ(counts(s), (std::vector<std::int64_t>{1, 1, 1, 3, 3, 2}));

  // A copy of the same bytes under another name is the same run.
  const auto copy = dir_.write("copy.json", read_text_file(sample_report));
  EXPECT_TRUE(ingest_file(s, copy).already_present);

  const auto run = find_run(s, r.run_id);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->source_kind, "chipgauge-report");
  EXPECT_EQ(run->source_sha256, history::sha256_hex(read_text_file(sample_report)));
  EXPECT_EQ(format_utc(run->created_utc), "2026-11-29T05:17:23Z");
  EXPECT_EQ(run->host, "vm");
  EXPECT_EQ(run->git_sha, "d84401f9ec4a");
  EXPECT_EQ(run->devices, (std::vector<std::string>{"AMD EPYC"}));

  // Every stored figure is the report's, samples included.
  const auto rep = bench::load_report(sample_report);
  const auto rows = select_results(s, {}, true);
  ASSERT_EQ(rows.size(), rep.results.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& m = rep.results[i];
    SCOPED_TRACE(m.info.name);
    EXPECT_EQ(rows[i].benchmark, m.info.name);
    EXPECT_EQ(rows[i].status, bench::to_string(m.status));
    EXPECT_EQ(rows[i].median, m.rate.median);
    EXPECT_EQ(rows[i].q1, m.rate.q1);
    EXPECT_EQ(rows[i].q3, m.rate.q3);
    EXPECT_EQ(rows[i].sample_count, static_cast<std::int64_t>(m.samples.size()));
    ASSERT_EQ(rows[i].rates.size(), m.samples.size());
    for (std::size_t k = 0; k < m.samples.size(); ++k)
      EXPECT_EQ(rows[i].rates[k], m.samples[k].rate());
    EXPECT_EQ(rows[i].device_identity, "host:vm/cpu0/AMD EPYC");
  }
}

TEST_P(HistoryIngest, DevicesAreKeyedByUuidAcrossHostsAndRuns) {
  auto s = store::open(new_store());
  add(s,
      report("2026-01-01T00:00:00Z", {gpu("cuda:0", "GPU-aaaa"), gpu("cuda:1", "GPU-bbbb")},
             {result("cuda:0", "mma_fp16", 700e12, 5), result("cuda:1", "mma_fp16", 710e12, 5)}),
      "a");
  // The same board moved to another host, now as cuda:0.
  add(s,
      report("2026-01-02T00:00:00Z", {gpu("cuda:0", "GPU-bbbb")},
             {result("cuda:0", "mma_fp16", 705e12, 5)}, "node2"),
      "b");
  EXPECT_EQ(count(s, "devices"), 2);
  const auto devs = find_devices(s, "bbbb");
  ASSERT_EQ(devs.size(), 1U);
  EXPECT_EQ(devs[0].identity, "uuid:GPU-bbbb");
  EXPECT_EQ(trend(s, devs[0].id, "mma_fp16").size(), 2U);
  const auto run = find_run(s, 1);
  EXPECT_EQ(run->driver, "550.54.15");
  EXPECT_EQ(run->toolkit, "12.4");
}

TEST_P(HistoryIngest, SamplesAndClocksRoundTripExactly) {
  auto s = store::open(new_store());
  auto r = report("2026-01-01T00:00:00Z", {gpu("cuda:0", "GPU-aaaa")},
                  {result("cuda:0", "mma_fp16", 1.0 / 3.0 * 1e15, 7)});
  add(s, r, "a");
  const auto rows = select_results(s, {}, true);
  ASSERT_EQ(rows.size(), 1U);
  const auto& m = r.results[0];
  ASSERT_EQ(rows[0].rates.size(), 7U);
  ASSERT_EQ(rows[0].clocks.size(), 7U);
  for (std::size_t k = 0; k < 7; ++k) {
    EXPECT_EQ(rows[0].rates[k], m.samples[k].rate());
    if (k == 1) EXPECT_TRUE(std::isnan(rows[0].clocks[k]));
    else EXPECT_EQ(rows[0].clocks[k], m.samples[k].clock_mhz);
  }
  EXPECT_EQ(*rows[0].clock_mhz, 1755);
  EXPECT_EQ(rows[0].parameters, R"({"isa":"wgmma"})");
}

TEST_P(HistoryIngest, BadReportIsRolledBackWhole) {
  auto s = store::open(new_store());
  add(s,
      report("2026-01-01T00:00:00Z", {gpu("cuda:0", "GPU-aaaa")},
             {result("cuda:0", "mma_fp16", 7e14, 5)}),
      "good");
  const auto before = counts(s);
  // The second result names a device the report does not list: found after rows were written.
  auto bad = report("2026-01-02T00:00:00Z", {gpu("cuda:0", "GPU-cccc")},
                    {result("cuda:0", "mma_fp16", 7e14, 5), result("cuda:7", "mma_fp16", 7e14, 5)});
  try {
    add(s, bad, "bad");
    FAIL() << "accepted a result of an unknown device";
  } catch (const spec_error& e) {
    EXPECT_EQ(e.file(), "bad.json");
    EXPECT_EQ(e.json_path(), "$.results[1].device");
  }
  EXPECT_EQ(counts(s), before);
  auto late = report("not a time", {gpu("cuda:0", "GPU-aaaa")}, {});
  EXPECT_THROW(add(s, late, "late"), spec_error);
  EXPECT_EQ(counts(s), before);
  // The store still takes writes, with the same device ids as before.
  add(s,
      report("2026-01-03T00:00:00Z", {gpu("cuda:0", "GPU-aaaa")},
             {result("cuda:0", "mma_fp16", 7e14, 5)}),
      "next");
  EXPECT_EQ(count(s, "devices"), 1);
}

TEST_P(HistoryIngest, MalformedAndUnsupportedFilesNameTheFile) {
  auto s = store::open(new_store());
  const auto broken = dir_.write("broken.json", "{\"schema\": \"chipgauge.measurement/1\", ");
  const auto classification = dir_.write("c.json", R"({"schema": "chipgauge.classification/1"})");
  const auto gbench = dir_.write("g.json", R"({"context": [], "benchmarks": []})");
  const auto array = dir_.write("a.json", "[]");
  for (const auto& f : {broken, classification, gbench, array}) {
    try {
      ingest_file(s, f);
      FAIL() << f << " was ingested";
    } catch (const spec_error& e) {
      EXPECT_EQ(e.file(), f);
    }
  }
  EXPECT_EQ(count(s, "runs"), 0);
}

TEST_P(HistoryIngest, GoogleBenchmarkJsonIsStoredAsForeignResults) {
  auto s = store::open(new_store());
  const std::string file = test::data_dir() + "/gbench-sample-reps3.json";
  const auto r = ingest_file(s, file);
  EXPECT_FALSE(r.already_present);
  EXPECT_EQ(r.results, 5U);
  EXPECT_TRUE(ingest_file(s, file).already_present);
  const auto run = find_run(s, r.run_id);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->source_kind, "gbench");
  EXPECT_EQ(format_utc(run->created_utc), "2026-12-02T14:01:17Z");
  const auto rows = select_results(s, {}, true);
  ASSERT_EQ(rows.size(), 5U);
  EXPECT_EQ(rows[0].benchmark, "BM_Sum/64");
  EXPECT_EQ(rows[0].device_backend, "google-benchmark");
  EXPECT_FALSE(rows[0].verified);
  EXPECT_EQ(rows[0].rates.size(), 3U);  // one sample per repetition, not the aggregates
  // Never pooled: a selection of it reports the results as they are, with why.
  const auto rep = select_as_report(s, parse_selector("history:benchmark=BM_Sum/64"));
  ASSERT_EQ(rep.results.size(), 1U);
  EXPECT_NE(rep.results[0].status, bench::result_status::ok);
  EXPECT_NE(rep.results[0].reason.find("not verified by chipgauge"), std::string::npos)
      << rep.results[0].reason;
}

// A child process ingests and dies between rows; the store must be exactly as before.
TEST_P(HistoryIngest, KilledIngestLeavesTheStoreAsBefore) {
  const std::string path = new_store();
  std::vector<std::int64_t> before;
  {
    auto s = store::open(path);
    add(s,
        report("2026-01-01T00:00:00Z", {gpu("cuda:0", "GPU-aaaa")},
               {result("cuda:0", "mma_fp16", 7e14, 5)}),
        "earlier");
    before = counts(s);
  }
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      auto s = store::open(path);
      ingest_file(s, sample_report, [](std::size_t rows) {
        if (rows == 2) ::_exit(17);  // after the second of three result rows
      });
    } catch (...) {}
    ::_exit(0);  // the hook did not fire: the parent sees it
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 17) << "the child did not stop midway through the ingest";

  auto s = store::open(path);
  EXPECT_EQ(counts(s), before);
  EXPECT_EQ(list_runs(s, {}).size(), 1U);
  const auto r = ingest_file(s, sample_report);
  EXPECT_FALSE(r.already_present);
  EXPECT_EQ(r.results, 3U);
  EXPECT_EQ(count(s, "runs"), 2);
}

// A write batch: one commit for many files; a file that fails inside it is undone alone, and
// the ids cached before the failure stay right.
TEST_P(HistoryIngest, BatchKeepsGoodFilesAndUndoesABadOne) {
  auto s = store::open(new_store());
  {
    write_batch batch(s);
    add(s,
        report("2026-01-01T00:00:00Z", {gpu("cuda:0", "GPU-aaaa")},
               {result("cuda:0", "mma_fp16", 7e14, 5)}),
        "one");
    auto bad =
        report("2026-01-02T00:00:00Z", {gpu("cuda:0", "GPU-cccc")},
               {result("cuda:0", "mma_fp16", 7e14, 5), result("cuda:7", "mma_fp16", 7e14, 5)});
    EXPECT_THROW(add(s, bad, "bad"), spec_error);
    add(s,
        report("2026-01-03T00:00:00Z", {gpu("cuda:0", "GPU-aaaa")},
               {result("cuda:0", "mma_fp16", 7e14, 5)}),
        "three");
    EXPECT_THROW({ const write_batch second(s); }, error)
        << "a second batch opened on the same connection";
    batch.commit();
  }
  EXPECT_EQ(count(s, "runs"), 2);
  EXPECT_EQ(count(s, "devices"), 1) << "the bad file's device was kept";
  EXPECT_EQ(count(s, "results"), 2);
  // A batch that is not committed leaves nothing, and the store takes writes after it.
  const auto before = counts(s);
  {
    write_batch batch(s);
    add(s,
        report("2026-01-04T00:00:00Z", {gpu("cuda:0", "GPU-dddd")},
               {result("cuda:0", "mma_fp16", 7e14, 5)}),
        "four");
  }
  EXPECT_EQ(counts(s), before);
  EXPECT_FALSE(add(s,
                   report("2026-01-04T00:00:00Z", {gpu("cuda:0", "GPU-dddd")},
                          {result("cuda:0", "mma_fp16", 7e14, 5)}),
                   "four")
                   .already_present);
  EXPECT_EQ(count(s, "devices"), 2);
}

// A child process ingests two files in one batch and dies in the second: neither is stored.
TEST_P(HistoryIngest, KilledBatchLeavesTheStoreAsBefore) {
  const std::string path = new_store();
  std::vector<std::int64_t> before;
  {
    auto s = store::open(path);
    before = counts(s);
  }
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      auto s = store::open(path);
      write_batch batch(s);
      add(s,
          report("2026-01-01T00:00:00Z", {gpu("cuda:0", "GPU-aaaa")},
                 {result("cuda:0", "mma_fp16", 7e14, 5)}),
          "first");
      ingest_file(s, sample_report, [](std::size_t rows) {
        if (rows == 2) ::_exit(17);
      });
    } catch (...) {}
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 17) << "the child did not stop midway through the batch";
  auto s = store::open(path);
  EXPECT_EQ(counts(s), before) << "a killed batch left rows behind";
}

// Several processes, each with its own connection, ingest overlapping sets of files at once, all
// of them starting with the same file: each file becomes one run, written by exactly one writer;
// the others report it already present, with the same run id; no writer fails.
TEST_P(HistoryIngest, ConcurrentWritersMakeOneRunPerFile) {
  const std::string path = new_store();
  { auto s = store::open(path); }  // created and migrated before the writers start
  constexpr int writers = 6;
  constexpr int files =
      13;  // file 0 is everyone's first; writer w takes file k > 0 when (k + w) % 3 != 0
  // File k: the two GPUs of node k % 4 (shared with other files), mma_fp16 on both and one of
  // three other benchmarks.
  std::vector<bench::measurement_report> reports;
  for (int k = 0; k < files; ++k) {
    const std::string node = std::to_string(k % 4);
    reports.push_back(report(
        "2026-02-" + std::string(k + 1 < 10 ? "0" : "") + std::to_string(k + 1) + "T00:00:00Z",
        {gpu("cuda:0", "GPU-" + node + "a"), gpu("cuda:1", "GPU-" + node + "b")},
        {result("cuda:0", "mma_fp16", 7e14, 5), result("cuda:1", "mma_fp16", 7e14, 5),
         result("cuda:0", "bench_" + std::to_string(k % 3), 5e14, 3)},
        "node" + node));
  }
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> children;
  for (int w = 0; w < writers; ++w) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(go[1]);
      int code = 0;
      try {
        auto s = store::open(path);
        std::ofstream out(dir_.path() + "/writer" + std::to_string(w));
        char c = 0;
        if (::read(go[0], &c, 1) != 0) ::_exit(3);  // the parent closes the pipe: all start at once
        for (int j = 0; j < files; ++j) {
          const int k = j == 0 ? 0 : 1 + (j - 1 + 2 * w) % (files - 1);
          if (k != 0 && (k + w) % 3 == 0) continue;
          const auto r = add(s, reports[static_cast<std::size_t>(k)], "file" + std::to_string(k));
          out << k << ' ' << r.run_id << ' ' << r.already_present << ' ' << r.results << '\n';
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "writer %d: %s\n", w, e.what());
        code = 1;
      }
      ::_exit(code);  // no test-process teardown in the child
    }
    children.push_back(child);
  }
  ::close(go[0]);
  ::close(go[1]);
  for (const pid_t child : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "a writer failed (status " << status << ")";
  }

  std::map<int, std::set<std::int64_t>> run_ids;
  std::map<int, int> written;
  std::map<int, int> present;
  for (int w = 0; w < writers; ++w) {
    std::ifstream in(dir_.path() + "/writer" + std::to_string(w));
    int k = 0;
    std::int64_t run = 0;
    int already = 0;
    std::size_t results = 0;
    int lines = 0;
    while (in >> k >> run >> already >> results) {
      ++lines;
      run_ids[k].insert(run);
      ++(already ? present : written)[k];
      EXPECT_EQ(results, 3U) << "writer " << w << ", file " << k;
    }
    EXPECT_EQ(lines, 1 + (files - 1) * 2 / 3) << "writer " << w;
  }
  std::set<std::int64_t> all_runs;
  for (int k = 0; k < files; ++k) {
    SCOPED_TRACE("file " + std::to_string(k));
    EXPECT_EQ(run_ids[k].size(), 1U);
    EXPECT_EQ(written[k], 1);
    EXPECT_EQ(written[k] + present[k], k == 0 ? writers : writers * 2 / 3);
    all_runs.insert(run_ids[k].begin(), run_ids[k].end());
  }
  EXPECT_EQ(all_runs.size(), static_cast<std::size_t>(files));
  auto s = store::open(path);
  // runs, devices, run_devices, benchmarks, results, samples
  EXPECT_EQ(counts(s), (std::vector<std::int64_t>{files, 8, 2 * files, 4, 3 * files, 3 * files}));
  EXPECT_EQ(list_runs(s, {}).size(), static_cast<std::size_t>(files));
}

// ---- reading ----

class HistoryQuery : public backend_test {
 protected:
  void SetUp() override {
    backend_test::SetUp();
    if (IsSkipped()) return;
    s_ = std::make_unique<store>(store::open(new_store()));
    // Three nights on two H100s and an A100; the third night's H100 #1 failed verification.
    const std::vector<bench::device_info> devs = {
        gpu("cuda:0", "GPU-aaaa"), gpu("cuda:1", "GPU-bbbb"),
        gpu("cuda:2", "GPU-cccc", "NVIDIA A100-SXM4-80GB")};
    for (int night = 1; night <= 3; ++night) {
      std::vector<bench::measurement> rs;
      const double shift = 1 + 0.01 * night;
      rs.push_back(result("cuda:0", "mma_fp16", 700e12 * shift, 5));
      rs.push_back(result("cuda:0", "dram_read", 3e12 * shift, 4));
      rs.push_back(result("cuda:1", "mma_fp16", 710e12 * shift, 5, 1755,
                          night == 3 ? bench::result_status::invalid : bench::result_status::ok));
      rs.push_back(result("cuda:2", "mma_fp16", 300e12 * shift, 6, 1410));
      add(*s_, report(fmt("2026-03-0{}T02:00:00Z", night), devs, rs), fmt("night{}", night));
    }
  }
  static std::string fmt(const std::string& pattern, int n) {
    auto p = pattern;
    p.replace(p.find("{}"), 2, std::to_string(n));
    return p;
  }
  std::unique_ptr<store> s_;
};
INSTANTIATE_TEST_SUITE_P(, HistoryQuery, both_backends, backend_name);

TEST_P(HistoryQuery, FiltersByDeviceBenchmarkAndTime) {
  auto& s = *s_;
  EXPECT_EQ(list_runs(s, {}).size(), 3U);
  EXPECT_EQ(select_results(s, {}, false).size(), 12U);
  EXPECT_EQ(select_results(s, parse_selector("history:device=a100"), false).size(), 3U);
  EXPECT_EQ(select_results(s, parse_selector("history:device=GPU-AAAA"), false).size(), 6U);
  EXPECT_EQ(select_results(s, parse_selector("history:benchmark=dram_read"), false).size(), 3U);
  EXPECT_EQ(select_results(s, parse_selector("history:benchmark=dram"), false).size(), 0U)
      << "benchmark is an exact name";
  EXPECT_EQ(select_results(s, parse_selector("history:since=2026-03-02"), false).size(), 8U);
  EXPECT_EQ(select_results(s, parse_selector("history:until=2026-03-02"), false).size(), 8U);
  EXPECT_EQ(
      select_results(s, parse_selector("history:since=2026-03-02,until=2026-03-02"), false).size(),
      4U);
  EXPECT_EQ(list_runs(s, parse_selector("history:since=2026-03-03T02:00:00Z")).size(), 1U);
  EXPECT_EQ(list_runs(s, parse_selector("history:until=2026-03-01T01:59:59Z")).size(), 0U);
  const auto last =
      select_results(s, parse_selector("history:device=h100,benchmark=mma_fp16,last=2"), false);
  ASSERT_EQ(last.size(), 4U);
  for (const auto& r : last) EXPECT_GE(r.created_utc, *parse_utc("2026-03-02T02:00:00Z"));
  EXPECT_EQ(list_runs(s, parse_selector("history:last=1")).size(), 1U);
  EXPECT_EQ(list_runs(s, parse_selector("history:device=nothing-like-this")).size(), 0U);
}

TEST_P(HistoryQuery, TrendIsOneDeviceAndBenchmarkOverTime) {
  auto& s = *s_;
  const auto devs = find_devices(s, "GPU-bbbb");
  ASSERT_EQ(devs.size(), 1U);
  const auto t = trend(s, devs[0].id, "mma_fp16");
  ASSERT_EQ(t.size(), 3U);
  EXPECT_LT(t[0].created_utc, t[1].created_utc);
  EXPECT_LT(t[1].created_utc, t[2].created_utc);
  EXPECT_EQ(t[0].status, "ok");
  EXPECT_EQ(t[2].status, "invalid");
  EXPECT_NEAR(t[1].median, 710e12 * 1.02, 1e12);
  EXPECT_LE(t[1].q1, t[1].median);
  EXPECT_GE(t[1].q3, t[1].median);
  EXPECT_EQ(*t[0].clock_mhz, 1755);
  EXPECT_TRUE(trend(s, devs[0].id, "no_such_benchmark").empty());
  const auto series = list_series(s, {});
  EXPECT_EQ(series.size(), 4U);
}

TEST_P(HistoryQuery, SelectionAsReportPoolsUsableSamples) {
  auto& s = *s_;
  const auto rep = select_as_report(s, parse_selector("history:benchmark=mma_fp16"));
  ASSERT_EQ(rep.devices.size(), 3U);
  EXPECT_EQ(rep.devices[0].id, "cuda:0");  // unique in the selection
  EXPECT_EQ(rep.created_utc, "2026-03-03T02:00:00Z");
  EXPECT_EQ(rep.argv, (std::vector<std::string>{"history:benchmark=mma_fp16"}));
  ASSERT_EQ(rep.results.size(), 3U);
  const auto& h0 = rep.results[0];
  EXPECT_EQ(h0.device_id, "cuda:0");
  EXPECT_EQ(h0.status, bench::result_status::ok);
  EXPECT_EQ(h0.samples.size(), 15U);  // 3 runs x 5
  EXPECT_EQ(h0.rate.count, 15U);
  EXPECT_EQ(h0.clock.count, 12U);  // the second sample of each run read no clock
  EXPECT_NEAR(h0.rate.median, 700e12 * 1.02, 1e12);
  const auto& h1 = rep.results[1];
  EXPECT_EQ(h1.status, bench::result_status::ok);
  EXPECT_EQ(h1.samples.size(), 10U) << "the invalid third night is not pooled";
  // Only the invalid night selected: invalid, with why.
  const auto bad = select_as_report(s, parse_selector("history:device=bbbb,since=2026-03-03"));
  ASSERT_EQ(bad.results.size(), 1U);
  EXPECT_EQ(bad.results[0].status, bench::result_status::invalid);
  EXPECT_NE(bad.results[0].reason.find("verification failed"), std::string::npos)
      << bad.results[0].reason;
  // The pooled report is a valid measurement report.
  EXPECT_NO_THROW(bench::parse_report(bench::to_json(rep), "pooled.json"));
  EXPECT_NO_THROW(bench::parse_report(bench::to_json(bad), "bad.json"));
  EXPECT_THROW(select_as_report(s, parse_selector("history:device=nothing")), usage_error);
}

TEST_P(HistoryQuery, SharedLocalIdsFallBackToIdentity) {
  auto& s = *s_;
  add(s,
      report("2026-03-04T02:00:00Z", {gpu("cuda:0", "GPU-dddd")},
             {result("cuda:0", "mma_fp16", 7e14, 5)}, "node9"),
      "other");
  const auto rep = select_as_report(s, parse_selector("history:benchmark=mma_fp16"));
  std::vector<std::string> ids;
  for (const auto& d : rep.devices) ids.push_back(d.id);
  EXPECT_NE(std::find(ids.begin(), ids.end(), "uuid:GPU-aaaa"), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), "uuid:GPU-dddd"), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), "cuda:1"), ids.end());
}

std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += text[++i];
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field);
      field.clear();
    } else if (c == '\n') {
      rows.back().push_back(field);
      field.clear();
      rows.emplace_back();
    } else {
      field += c;
    }
  }
  rows.pop_back();  // after the last line end
  return rows;
}

TEST_P(HistoryQuery, ExportsRoundTrip) {
  auto& s = *s_;
  const auto stored = select_results(s, {}, true);
  std::string csv;
  export_results(s, {}, export_format::csv, [&csv](std::string_view p) { csv += p; });
  const auto rows = parse_csv(csv);
  ASSERT_EQ(rows.size(), stored.size() + 1);
  EXPECT_EQ(rows[0], export_csv_columns());
  auto col = [&](std::string_view name) {
    const auto& h = export_csv_columns();
    return static_cast<std::size_t>(std::find(h.begin(), h.end(), name) - h.begin());
  };
  for (std::size_t i = 0; i < stored.size(); ++i) {
    const auto& r = rows[i + 1];
    ASSERT_EQ(r.size(), export_csv_columns().size());
    EXPECT_EQ(std::stoll(r[col("run_id")]), stored[i].run_id);
    EXPECT_EQ(r[col("device")], stored[i].device_identity);
    EXPECT_EQ(r[col("benchmark")], stored[i].benchmark);
    EXPECT_EQ(r[col("status")], stored[i].status);
    EXPECT_EQ(std::strtod(r[col("median")].c_str(), nullptr), stored[i].median);
    EXPECT_EQ(std::strtod(r[col("q3")].c_str(), nullptr), stored[i].q3);
    EXPECT_EQ(std::strtod(r[col("fraction")].c_str(), nullptr), *stored[i].fraction);
    EXPECT_EQ(r[col("parameters")], R"({"isa":"wgmma"})");
  }
  std::string text;
  export_results(s, parse_selector("history:device=a100"), export_format::json,
                 [&text](std::string_view p) { text += p; });
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j.at("schema"), "chipgauge.history-export/1");
  EXPECT_EQ(j.at("selector"), "history:device=a100");
  const auto a100 = select_results(s, parse_selector("history:device=a100"), true);
  ASSERT_EQ(j.at("results").size(), a100.size());
  for (std::size_t i = 0; i < a100.size(); ++i) {
    const auto& r = j.at("results")[i];
    EXPECT_EQ(r.at("median").get<double>(), a100[i].median);
    EXPECT_EQ(r.at("samples").at("rates").get<std::vector<double>>(), a100[i].rates);
    EXPECT_TRUE(r.at("samples").at("clocks")[1].is_null());
    EXPECT_EQ(r.at("samples").at("clocks")[0].get<double>(), 1410);
    EXPECT_EQ(r.at("device").at("identity"), "uuid:GPU-cccc");
    EXPECT_EQ(r.at("benchmark").at("precision"), "fp16");
  }
  std::string empty;
  export_results(s, parse_selector("history:device=nothing"), export_format::json,
                 [&empty](std::string_view p) { empty += p; });
  EXPECT_TRUE(nlohmann::json::parse(empty).at("results").empty());
}

TEST_P(HistoryQuery, PruneBeforeAndKeepLast) {
  auto& s = *s_;
  EXPECT_THROW(prune(s, {}), usage_error);
  prune_options before;
  before.before = *parse_utc("2026-03-02T00:00:00Z");
  const auto r = prune(s, before);
  EXPECT_EQ(r.runs, 1);
  EXPECT_EQ(r.results, 4);
  EXPECT_EQ(counts(s), (std::vector<std::int64_t>{2, 3, 6, 2, 8, 8}));
  prune_options keep;
  keep.keep_last = 1;
  const auto k = prune(s, keep);
  EXPECT_EQ(k.runs, 1);
  EXPECT_EQ(list_runs(s, {}).size(), 1U);
  EXPECT_EQ(format_utc(list_runs(s, {})[0].created_utc), "2026-03-03T02:00:00Z");
  // An ingest after pruning still works, and orphan devices went with their runs.
  add(s,
      report("2026-03-05T02:00:00Z", {gpu("cuda:0", "GPU-eeee")},
             {result("cuda:0", "mma_fp16", 7e14, 5)}),
      "after");
  prune_options all_of_e;
  all_of_e.before = *parse_utc("2027-01-01T00:00:00Z");
  all_of_e.device = "eeee";
  EXPECT_EQ(prune(s, all_of_e).runs, 1);
  EXPECT_TRUE(find_devices(s, "eeee").empty());
  EXPECT_EQ(sample_rows(s), count(s, "results"));
}

// ---- the CLI ----

// ---- certificates ----

// The golden certificate's body (a real `certify` body), sealed again: signed with `key` when
// given.
nlohmann::json golden_certificate(const std::optional<std::string>& key) {
  const auto golden = nlohmann::json::parse(
      read_text_file(test::data_dir() + "/../golden/certificate-sample.json"));
  return seal_certificate(golden.at("body"), key);
}

struct keys {
  test::temp_dir dir;
  key_pair lab = generate_ed25519_key(dir.path() + "/lab.key", dir.path() + "/lab.pub");
  key_pair other = generate_ed25519_key(dir.path() + "/other.key", dir.path() + "/other.pub");
};

std::vector<std::int64_t> certificate_counts(store& s) {
  auto c = counts(s);
  c.push_back(count(s, "checks"));
  c.push_back(count(s, "certificates"));
  return c;
}

TEST(HistoryCertificates, SignedCertificateIsStoredVerifiedWithItsKey) {
  const keys k;
  const test::temp_dir dir;
  auto s = store::open(dir.path() + "/h.db");
  const auto cert = golden_certificate(k.lab.private_path);
  const auto file = dir.write("cpu0.json", certificate_text(cert));
  ingest_options trusted;
  trusted.trusted_key = k.lab.public_path;
  const auto r = ingest_file(s, file, trusted);
  EXPECT_FALSE(r.already_present);
  EXPECT_EQ(r.integrity, "verified");
  const auto& body = cert.at("body");
  EXPECT_EQ(r.results, body.at("results").size());
  EXPECT_EQ(count(s, "checks"), static_cast<std::int64_t>(body.at("checks").size()));
  EXPECT_EQ(sample_rows(s), 0);  // a certificate keeps no samples, and none are invented

  const auto run = find_run(s, r.run_id);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->source_kind, "certificate");
  EXPECT_EQ(format_utc(run->created_utc), body.at("when").at("end_utc").get<std::string>());
  EXPECT_EQ(run->host, "vm");

  // The results are the certificate's summary statistics, as written.
  for (const auto& row : select_results(s, {}, true)) {
    const auto it = std::find_if(body.at("results").begin(), body.at("results").end(),
                                 [&](const auto& x) { return x.at("benchmark") == row.benchmark; });
    ASSERT_NE(it, body.at("results").end()) << row.benchmark;
    EXPECT_EQ(row.sample_count, it->at("samples").get<std::int64_t>());
    EXPECT_TRUE(row.rates.empty());
    EXPECT_EQ(row.status, it->at("status").get<std::string>());
    if (it->at("median").is_number()) {
      EXPECT_EQ(row.median, it->at("median").get<double>());
      EXPECT_EQ(row.q1, it->at("q1").get<double>());
      EXPECT_EQ(row.q3, it->at("q3").get<double>());
      EXPECT_EQ(row.verified, it->at("verified").get<bool>());
    }
  }

  const auto listed = list_certificates(s, {});
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].integrity, "verified");
  EXPECT_EQ(listed[0].signer_key_id, k.lab.public_key.key_id);
  EXPECT_EQ(listed[0].verdict, body.at("verdict").at("outcome").get<std::string>());
  ASSERT_TRUE(listed[0].tpp_measured);
  EXPECT_EQ(*listed[0].tpp_measured, body.at("tpp").at("measured").get<double>());
  EXPECT_FALSE(listed[0].sheet_id);  // the golden part is unknown
  EXPECT_EQ(listed[0].local_device, "cpu0");

  // The stored document is the file, byte for byte.
  std::string stored;
  for_each_certificate_document(s, {}, [&](const std::string& name, const std::string& text) {
    EXPECT_EQ(name, file);
    stored = text;
  });
  EXPECT_EQ(stored, read_text_file(file));

  // Idempotent: the same bytes again write nothing and report what was stored.
  const auto before = certificate_counts(s);
  const auto again = ingest_file(s, file, trusted);
  EXPECT_TRUE(again.already_present);
  EXPECT_EQ(again.run_id, r.run_id);
  EXPECT_EQ(again.integrity, "verified");
  EXPECT_EQ(certificate_counts(s), before);
}

TEST(HistoryCertificates, NoKeyMeansUnauthenticatedOrUnsignedNeverVerified) {
  const keys k;
  const test::temp_dir dir;
  auto s = store::open(dir.path() + "/h.db");
  const auto signed_file =
      dir.write("signed.json", certificate_text(golden_certificate(k.lab.private_path)));
  const auto unsigned_file =
      dir.write("unsigned.json", certificate_text(golden_certificate(std::nullopt)));
  EXPECT_EQ(ingest_file(s, signed_file).integrity, "unauthenticated");
  EXPECT_EQ(ingest_file(s, unsigned_file).integrity, "unsigned");
  // Signed by a key other than the one given: failed.
  const auto other_file =
      dir.write("other.json", certificate_text(golden_certificate(k.other.private_path)));
  ingest_options trusted;
  trusted.trusted_key = k.lab.public_path;
  const auto r = ingest_file(s, other_file, trusted);
  EXPECT_EQ(r.integrity, "failed");
  EXPECT_FALSE(r.findings.empty());
  std::map<std::string, std::string> by_name;
  for (const auto& c : list_certificates(s, {})) by_name[c.source_name] = c.integrity;
  EXPECT_EQ(by_name, (std::map<std::string, std::string>{{signed_file, "unauthenticated"},
                                                         {unsigned_file, "unsigned"},
                                                         {other_file, "failed"}}));
}

TEST(HistoryCertificates, TamperedCertificateIsStoredFailedWithItsResultsUnverified) {
  const keys k;
  const test::temp_dir dir;
  auto s = store::open(dir.path() + "/h.db");
  auto cert = golden_certificate(k.lab.private_path);
  // Raise a median after sealing: the hash no longer matches the body.
  for (auto& r : cert["body"]["results"])
    if (r.at("benchmark") == "fma_fp64") r["median"] = r.at("median").get<double>() * 2;
  const auto file = dir.write("tampered.json", cert.dump(2) + "\n");
  ingest_options trusted;
  trusted.trusted_key = k.lab.public_path;
  const auto r = ingest_file(s, file, trusted);
  EXPECT_EQ(r.integrity, "failed");
  ASSERT_FALSE(r.findings.empty());
  const auto rows = select_results(s, {}, false);
  ASSERT_FALSE(rows.empty());
  for (const auto& row : rows) {
    EXPECT_FALSE(row.verified) << row.benchmark;
    EXPECT_EQ(row.reason.rfind("certificate failed verification", 0), 0U) << row.reason;
  }
  EXPECT_EQ(list_certificates(s, {}).at(0).integrity, "failed");
}

TEST(HistoryCertificates, MalformedCertificateIsRefusedWholeNamingTheField) {
  const test::temp_dir dir;
  auto s = store::open(dir.path() + "/h.db");
  auto body = golden_certificate(std::nullopt).at("body");
  body["results"][1]["unit"] = "furlongs/s";
  const auto file = dir.write("bad.json", certificate_text(seal_certificate(body, std::nullopt)));
  const auto before = certificate_counts(s);
  try {
    ingest_file(s, file);
    FAIL() << "a certificate with an unknown unit was ingested";
  } catch (const spec_error& e) {
    EXPECT_EQ(e.file(), file);
    EXPECT_NE(std::string(e.what()).find("$.body.results[1].unit"), std::string::npos) << e.what();
  }
  EXPECT_EQ(certificate_counts(s), before);
}

TEST(HistoryCertificates, SummaryOnlyResultsAreListedNotCompared) {
  const test::temp_dir dir;
  auto s = store::open(dir.path() + "/h.db");
  ingest_file(s, dir.write("c.json", certificate_text(golden_certificate(std::nullopt))));
  const auto rep = select_as_report(s, parse_selector("history:benchmark=fma_fp64"));
  ASSERT_EQ(rep.results.size(), 1U);
  const auto& m = rep.results.front();
  EXPECT_TRUE(m.samples.empty());
  EXPECT_NE(m.reason.find("summary statistics only"), std::string::npos) << m.reason;
  const auto c = bench::compare_reports(rep, rep, {}, "base", "new");
  EXPECT_TRUE(c.rows.empty());
  ASSERT_EQ(c.excluded.size(), 1U);
  EXPECT_EQ(c.excluded[0].side, "both");
  EXPECT_NE(c.excluded[0].why.find("no samples: summary statistics only"), std::string::npos)
      << c.excluded[0].why;
}

TEST(HistoryCertificates, SelectionByDeviceAndTimeAndLatestPerDevice) {
  const test::temp_dir dir;
  auto s = store::open(dir.path() + "/h.db");
  auto body = golden_certificate(std::nullopt).at("body");
  const auto a =
      ingest_file(s, dir.write("a.json", certificate_text(seal_certificate(body, std::nullopt))));
  body["when"]["end_utc"] = "2026-02-01T00:00:00Z";
  const auto b =
      ingest_file(s, dir.write("b.json", certificate_text(seal_certificate(body, std::nullopt))));
  EXPECT_EQ(list_certificates(s, {}).size(), 2U);
  const auto latest = list_certificates(s, {}, true);
  ASSERT_EQ(latest.size(), 1U);
  EXPECT_EQ(latest[0].run_id, b.run_id);
  EXPECT_EQ(list_certificates(s, parse_selector("history:until=2026-01-31")).at(0).run_id,
            a.run_id);
  EXPECT_TRUE(list_certificates(s, parse_selector("history:device=h100")).empty());
  EXPECT_EQ(list_certificates(s, parse_selector("history:device=epyc")).size(), 2U);
  EXPECT_THROW(list_certificates(s, parse_selector("history:last=2")), usage_error);
}

// `history ingest` prepares files on worker threads and stores them with ingest_prepared: the
// same runs, outcomes and errors as ingest_file, for every kind; bytes once stored stay "already
// present" even where they no longer parse.
TEST_P(HistoryIngest, PreparedDocumentsStoreAsIngestFileStoresThem) {
  auto direct = store::open(new_store("direct.db"));
  auto prepared = store::open(new_store("prepared.db"));
  const std::vector<std::string> files = {
      sample_report, test::data_dir() + "/gbench-sample-reps3.json",
      dir_.write("c.json", certificate_text(golden_certificate(std::nullopt)))};
  std::vector<prepared_document> docs(files.size());
  std::thread worker([&] {
    for (std::size_t i = 0; i < files.size(); ++i) docs[i] = prepare_file(files[i]);
  });
  worker.join();
  std::vector<std::size_t> stored_results;
  for (std::size_t i = 0; i < files.size(); ++i) {
    SCOPED_TRACE(files[i]);
    EXPECT_FALSE(docs[i].error);
    const auto a = ingest_file(direct, files[i]);
    const auto b = ingest_prepared(prepared, docs[i], {});
    EXPECT_FALSE(b.already_present);
    EXPECT_EQ(b.run_id, a.run_id);
    EXPECT_EQ(b.results, a.results);
    EXPECT_EQ(b.integrity, a.integrity);
    EXPECT_TRUE(ingest_prepared(prepared, docs[i], {}).already_present);
    stored_results.push_back(b.results);
  }
  const auto csv_of = [](store& st) {
    std::string csv;
    export_results(st, {}, export_format::csv, [&csv](std::string_view p) { csv += p; });
    return csv;
  };
  EXPECT_EQ(csv_of(prepared), csv_of(direct));

  // Unreadable and malformed files: the exception ingest_file throws, thrown when stored.
  const auto what_of = [](auto&& fn) -> std::string {
    try {
      fn();
    } catch (const spec_error& e) {
      return std::string("spec_error: ") + e.what();
    } catch (const std::exception& e) {
      return std::string("other: ") + e.what();
    }
    return "no exception";
  };
  const auto broken = dir_.write("broken.json", "{\"schema\": \"chipgauge.measurement/1\", ");
  const std::string missing = dir_.path() + "/missing.json";
  for (const auto& f : {broken, missing}) {
    const auto d = prepare_file(f);
    EXPECT_TRUE(d.error) << f;
    const auto expected = what_of([&] { ingest_file(direct, f); });
    EXPECT_NE(expected, "no exception") << f;
    EXPECT_EQ(what_of([&] { ingest_prepared(prepared, d, {}); }), expected) << f;
  }
  EXPECT_EQ(count(prepared, "runs"), 3);

  // With a lookup, bytes already stored are hashed, not parsed; bytes whose run has gone by the
  // time they are stored (here: another store) are parsed then.
  for (std::size_t i = 0; i < files.size(); ++i) {
    SCOPED_TRACE(files[i]);
    auto d = prepare_file(files[i], &direct);
    EXPECT_TRUE(d.parse_skipped);
    EXPECT_TRUE(d.report.results.empty());
    EXPECT_TRUE(ingest_prepared(direct, d, {}).already_present);
    auto fresh = store::open(new_store("fresh" + std::to_string(i) + ".db"));
    const auto r = ingest_prepared(fresh, d, {});
    EXPECT_FALSE(r.already_present);
    EXPECT_EQ(r.results, stored_results[i]);
    EXPECT_FALSE(prepare_file(files[i], &fresh).error);
  }
  EXPECT_FALSE(prepare_file(broken, &direct).parse_skipped);
  EXPECT_TRUE(prepare_file(broken, &direct).error);

  // Bytes stored under their hash by an earlier version, unreadable now: already present.
  const std::string old_text = R"({"schema": "chipgauge.measurement/0"})";
  const auto old =
      ingest_report(prepared, bench::load_report(sample_report),
                    {source_kind::chipgauge_report, history::sha256_hex(old_text), "old.json"});
  const auto d = prepare_bytes(old_text, "old.json");
  ASSERT_TRUE(d.error);
  const auto again = ingest_prepared(prepared, d, {});
  EXPECT_TRUE(again.already_present);
  EXPECT_EQ(again.run_id, old.run_id);
}

// ingest_files commits `files_per_batch` files at a time and reports a batch's files as stored
// once it is committed (another connection sees them then), a failed file as soon as its turn
// comes; files keep their order and ids whatever the jobs.
TEST_P(HistoryIngest, IngestFilesReportsEachBatchOnceCommitted) {
  auto report = nlohmann::json::parse(read_text_file(sample_report));
  std::vector<std::string> files;
  for (int i = 0; i < 5; ++i) {
    report["host"]["hostname"] = fmt::format("node{}", i);
    files.push_back(i == 2 ? dir_.write("bad.json", "[]")
                           : dir_.write(fmt::format("r{}.json", i), report.dump()));
  }
  // The workers' lookups: the store itself, none, and a store that cannot be opened (each
  // worker then parses every file; the outcome is the same).
  enum class lookups { store, none, unopenable };
  const std::pair<unsigned, lookups> runs[] = {
      {1U, lookups::store}, {3U, lookups::store}, {3U, lookups::none}, {3U, lookups::unopenable}};
  for (const auto& [jobs, lookup] : runs) {
    const std::string where =
        new_store(fmt::format("files{}-{}.db", jobs, static_cast<int>(lookup)));
    auto s = store::open(where);
    auto other = store::open(where);
    ingest_files_options o;
    o.jobs = jobs;
    o.lookup_path = lookup == lookups::store  ? where
                    : lookup == lookups::none ? std::string()
                                              : dir_.path() + "/absent/none.db";
    o.files_per_batch = 2;
    o.batch_time = std::chrono::hours(1);
    std::string events;
    history::ingest_files(
        s, files, o,
        [&](std::size_t i, const ingest_outcome& r) {
          events += fmt::format("S{}:{}:{} ", i, r.run_id, count(other, "runs"));
        },
        [&](std::size_t i, std::exception_ptr e) {
          EXPECT_THROW(std::rethrow_exception(e), spec_error);
          events += fmt::format("F{}:{} ", i, count(other, "runs"));
        });
    // Batches {0, 1}, {2, 3} and {4}: run ids in file order, visible at each commit.
    EXPECT_EQ(events, "S0:1:2 S1:2:2 F2:2 S3:3:3 S4:4:4 ")
        << jobs << " jobs, lookups " << static_cast<int>(lookup);
  }
}

test::run_result chipgauge(const std::string& args) {
  return test::run_command(std::string("'") + CHIPGAUGE_BINARY + "' --specs-dir '" +
                           test::specs_dir() + "' " + args);
}

class HistoryCliStore : public backend_test {};
INSTANTIATE_TEST_SUITE_P(, HistoryCliStore, both_backends, backend_name);

TEST_P(HistoryCliStore, IngestListShowExportPrune) {
  const std::string db = "'" + new_store() + "'";  // quoted for the shell: a URL holds '&'
  const auto bad = dir_.write("bad.json", "{\"schema\": \"chipgauge.measurement/1\"}");
  auto r = chipgauge("history ingest --history " + db + " " + sample_report + " " + bad);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.out.find(sample_report + ": ingested 3 results as run 1"), std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find(bad), std::string::npos) << r.err;
  r = chipgauge("history ingest --history " + db + " " + sample_report);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("already present (run 1, 3 results)"), std::string::npos) << r.out;

  r = chipgauge("history list --history " + db);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("2026-11-29T05:17:23Z"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 runs in"), std::string::npos) << r.out;
  r = chipgauge("history list --format json --benchmark stream_triad --history " + db);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).size(), 1U);
  r = chipgauge("history list --format json --device h100 --history " + db);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).size(), 0U);
  r = chipgauge("history list --since 2026-13-01 --history " + db);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--since '2026-13-01' is not a date"), std::string::npos) << r.err;

  r = chipgauge("history show 1 --history " + db);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("fma_fp64"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the CPU lacks AVX512_FP16"), std::string::npos) << r.out;
  r = chipgauge("history show 9 --history " + db);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("has no run 9"), std::string::npos) << r.err;

  r = chipgauge("history export --format csv --history " + db);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(parse_csv(r.out).size(), 4U);
  const std::string out = dir_.path() + "/export.json";
  r = chipgauge("history export --format json --benchmark fma_fp64 --out " + out + " --history " +
                db);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(read_text_file(out)).at("results").size(), 1U);
  r = chipgauge("history export --format xml --history " + db);
  EXPECT_EQ(r.status, 2);

  // The store named by the environment.
  r = test::run_command("CHIPGAUGE_HISTORY=" + db + " '" + CHIPGAUGE_BINARY +
                        "' history list --format json");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).size(), 1U);

  r = chipgauge("history prune --history " + db);
  EXPECT_EQ(r.status, 2);
  r = chipgauge("history prune --before 2027-01-01 --history " + db);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("pruned 1 runs (3 results)"), std::string::npos) << r.out;
}

// Files are read and parsed on worker threads and stored by one, in the order given: any --jobs
// gives the same runs, ids, output, errors and exit status as one thread.
TEST_P(HistoryCliStore, IngestOnThreadsStoresWhatOneThreadStores) {
  auto report = nlohmann::json::parse(read_text_file(sample_report));
  std::string files;
  for (int i = 0; i < 30; ++i) {
    if (i == 7)
      files += " " + dir_.write("broken.json", "{\"schema\": \"chipgauge.measurement/1\"");
    if (i == 15) files += " " + dir_.path() + "/missing.json";
    if (i == 20) files += " " + dir_.path() + "/r3.json";  // a file given twice
    report["host"]["hostname"] = fmt::format("node{:02}", i);
    files += " " + dir_.write(fmt::format("r{}.json", i), report.dump(1));
  }
  std::vector<test::run_result> runs;
  std::vector<std::string> exports;
  std::string db;
  for (const char* jobs : {"1", "4"}) {
    db = "'" + new_store(std::string("jobs") + jobs + ".db") + "'";
    runs.push_back(
        chipgauge("history ingest --jobs " + std::string(jobs) + " --history " + db + files));
    exports.push_back(chipgauge("history export --format csv --history " + db).out);
  }
  EXPECT_EQ(runs[0].status, 2) << runs[0].err;
  EXPECT_NE(runs[0].out.find("r29.json: ingested 3 results as run 30\n"), std::string::npos)
      << runs[0].out;
  EXPECT_NE(runs[0].out.find("r3.json: already present (run 4, 3 results)"), std::string::npos)
      << runs[0].out;
  EXPECT_NE(runs[0].err.find("broken.json"), std::string::npos) << runs[0].err;
  EXPECT_NE(runs[0].err.find("missing.json does not exist"), std::string::npos) << runs[0].err;
  EXPECT_LT(runs[0].err.find("broken.json"), runs[0].err.find("missing.json")) << runs[0].err;
  EXPECT_EQ(runs[1].status, runs[0].status);
  EXPECT_EQ(runs[1].out, runs[0].out);
  EXPECT_EQ(runs[1].err, runs[0].err);
  EXPECT_EQ(parse_csv(exports[0]).size(), 91U);  // the header and 30 runs of 3 results
  EXPECT_EQ(exports[1], exports[0]);
  // Again: every file is found by its hash (on the workers' own connections), nothing stored.
  const auto again = chipgauge("history ingest --jobs 4 --history " + db + files);
  EXPECT_EQ(again.status, 2) << again.err;
  EXPECT_EQ(again.out.find("ingested"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("r29.json: already present (run 30, 3 results)\n"), std::string::npos)
      << again.out;
  EXPECT_EQ(std::count(again.out.begin(), again.out.end(), '\n'), 31) << again.out;
  EXPECT_EQ(chipgauge("history ingest --jobs 0 --history x.db " + sample_report).status, 2);
}

TEST_P(HistoryCliStore, CompareTakesAHistorySelectorAsEitherSide) {
  const std::string db = "'" + new_store() + "'";
  ASSERT_EQ(chipgauge("history ingest --history " + db + " " + sample_report).status, 0);
  // The store's pooled samples against the very report they came from: nothing is slower.
  auto r =
      chipgauge("compare --history " + db + " history:last=5 " + sample_report + " --format json");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("base").get<std::string>(), "history:last=5") << r.out;
  r = chipgauge("compare --history " + db + " " + sample_report +
                " history:benchmark=no_such_benchmark");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("history:benchmark=no_such_benchmark selects no results"), std::string::npos)
      << r.err;
}

TEST(HistoryCli, StoreFromEnvironmentAndNewerSchema) {
  const test::temp_dir dir;
  const std::string db = dir.path() + "/env.db";
  auto r = test::run_command("CHIPGAUGE_HISTORY='" + db + "' '" + CHIPGAUGE_BINARY +
                             "' history ingest " + sample_report);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(db));
  {
    auto s = store::open(db);
    s.internals().db->set_schema_version(7);
  }
  r = chipgauge("history list --history " + db);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("schema version 7, newer than this chipgauge reads"), std::string::npos)
      << r.err;
  EXPECT_TRUE(r.out.empty());
  r = chipgauge("history list --history " + dir.path() + "/missing.db");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
}

TEST(HistoryCli, MeasureRecordsItsReport) {
  const test::temp_dir dir;
  const std::string db = dir.path() + "/m.db";
  const std::string out = dir.path() + "/m.json";
  // One short benchmark: whatever the machine's load makes of it (ok or suspect), it is recorded.
  auto r = chipgauge("measure --backend cpu --filter '^stream_copy$' --out " + out +
                     " --format json --history " + db);
  ASSERT_TRUE(r.status == 0 || r.status == 3) << r.err;
  EXPECT_NE(r.err.find("recorded in history"), std::string::npos) << r.err;
  // The report file is the same bytes: ingesting it is a no-op.
  r = chipgauge("history ingest --history " + db + " " + out);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("already present (run 1"), std::string::npos) << r.out;
}

TEST(HistoryCli, CertifyRecordsItsCertificatesAndFleetCollectReadsTheStore) {
  const keys k;
  const test::temp_dir dir;
  const std::string db = dir.path() + "/c.db";
  const std::string out = dir.path() + "/certs";
  auto r = chipgauge("certify --report " + sample_report + " --as-of 2026-01-20 --out " + out +
                     " --sign " + k.lab.private_path + " --history " + db + " --pubkey " +
                     k.lab.public_path);
  ASSERT_TRUE(r.status == 0 || r.status == 3 || r.status == 4) << r.err;
  EXPECT_NE(r.err.find("recorded in history"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("certificate verified"), std::string::npos) << r.err;
  // The file is the bytes recorded: ingesting it is a no-op that says what was stored.
  const std::string cert = out + "/certificate-cpu0.json";
  r = chipgauge("history ingest --history " + db + " " + cert);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("already present (run 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("certificate verified"), std::string::npos) << r.out;
  r = chipgauge("history list --format json --history " + db);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at(0).at("source_kind"), "certificate");

  // The fleet answer over the store is the answer over the directory.
  const auto fleet = [&](const std::string& what) {
    return chipgauge("fleet collect " + what + " --as-of 2026-01-20 --format json --pubkey " +
                     k.lab.public_path);
  };
  const auto from_dir = fleet(out);
  const auto from_store = fleet("history: --history " + db);
  EXPECT_EQ(from_store.status, from_dir.status) << from_store.err;
  ASSERT_FALSE(from_dir.out.empty()) << from_dir.err;
  EXPECT_EQ(nlohmann::json::parse(from_store.out), nlohmann::json::parse(from_dir.out));
  EXPECT_EQ(nlohmann::json::parse(from_store.out).at("devices_counted"), 1);
  r = chipgauge("fleet collect history:last=3 --history " + db);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("benchmark and last select results"), std::string::npos) << r.err;
  r = chipgauge("fleet collect history: --history " + dir.path() + "/missing.db");
  EXPECT_EQ(r.status, 2) << r.err;

  // Tampered after sealing: stored marked failed, exit 4, never counted by fleet collect.
  auto doc = nlohmann::json::parse(read_text_file(cert));
  doc["body"]["verdict"]["outcome"] = "pass";
  doc["body"]["tpp"]["measured"] = 99999;
  const auto tampered = dir.write("tampered.json", certificate_text(doc));
  r = chipgauge("history ingest --pubkey " + k.lab.public_path + " --history " + db + " " +
                tampered);
  EXPECT_EQ(r.status, 4) << r.err;
  EXPECT_NE(r.out.find("certificate failed (stored, its results unverified)"), std::string::npos)
      << r.out;
  r = chipgauge("fleet collect history: --format json --history " + db + " --pubkey " +
                k.lab.public_path);
  ASSERT_FALSE(r.out.empty()) << r.err;
  const auto answer = nlohmann::json::parse(r.out);
  EXPECT_EQ(answer.at("devices_counted"), 1);
  ASSERT_EQ(answer.at("unverified").size(), 1U);
  EXPECT_EQ(answer.at("unverified").at(0).at("file"), tampered);
}

}  // namespace
}  // namespace chipgauge
