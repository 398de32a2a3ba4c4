// The history store at fleet scale: a synthetic store of nightly runs (one run per device per
// night, each with the same benchmarks), then the ingest rate, the trend query for one device x
// benchmark, a selection as a report, and the store's size against the raw CSV of the same data.
//
//   CHIPGAUGE_HISTORY_ROWS      result rows to ingest (default 1,000,000; a year of a 1,000-GPU
//                               fleet is about 10,000,000)
//   CHIPGAUGE_HISTORY_DEVICES   devices in the fleet (default 1,000)
//   CHIPGAUGE_HISTORY_BENCHMARKS benchmarks per run (default 27, as a CUDA quick run)
//   CHIPGAUGE_HISTORY_SAMPLES   samples per result (default 10)
//   CHIPGAUGE_HISTORY_BATCH     runs per commit (default 4,096, as `history ingest FILE...`; 1:
//                               one transaction per run)
//   CHIPGAUGE_HISTORY_DIR       where the store is built (default: a new directory under /tmp,
//                               removed at the end)
//   CHIPGAUGE_HISTORY_FILES     reports written as files for BM_HistoryIngestFiles, the rate of
//                               `history ingest FILE...` with its parsing (default 1,000)
//
// Targets (docs/history.md#scale): ingest >= 200,000 rows/s, trend < 20 ms, store <= 2 x CSV,
// the dashboard for one SKU < 1 s.
#include "chipgauge/bench/report.hpp"
#include "chipgauge/bench/statistics.hpp"
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/dashboard/site.hpp"
#include "chipgauge/history/ingest.hpp"
#include "chipgauge/history/query.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

using chipgauge::classifier::catalog;
using chipgauge::classifier::precision;

namespace {

using namespace chipgauge;

long env_long(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtol(v, nullptr, 10) : fallback;
}

// CPU time of this process: on a shared machine, wall-clock rates measure the other processes too.
double cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct fleet_store {
  std::string dir;
  bool owned = false;
  std::unique_ptr<history::store> store;
  long rows = 0;
  long runs = 0;
  long devices = 0;
  long benchmarks = 0;
  long samples = 0;
  double ingest_s = 0;      ///< wall-clock seconds inside ingest_report
  double ingest_cpu_s = 0;  ///< this process's CPU seconds (user + system) inside ingest_report
  long batch = 1;           ///< runs per commit (history::write_batch)

  ~fleet_store() {
    store.reset();
    if (owned) std::filesystem::remove_all(dir);
  }
};

bench::measurement_report nightly(long device, long night, long benchmarks, long samples,
                                  std::mt19937_64& rng) {
  bench::measurement_report r;
  r.tool_version = "0.1.0";
  r.git_sha = "synthetic";
  r.argv = {"chipgauge", "measure", "--quick"};
  const long day = 20454 + night;  // nights from 2026-01-01
  r.created_utc = history::format_utc(day * 86400 + 7200 + device);
  r.mode = "quick";
  r.host.hostname = fmt::format("node{:04}", device / 8);
  r.host.kernel = "Linux 6.1.0";
  bench::device_info d;
  d.backend = "cuda";
  d.id = fmt::format("cuda:{}", device % 8);
  d.name = device % 2 ? "NVIDIA H100 80GB HBM3" : "NVIDIA H200";
  d.vendor = "NVIDIA";
  d.units = 132;
  d.properties = {{"uuid", fmt::format("GPU-{:08x}-0000-0000-0000-{:012x}", device, device * 7919)},
                  {"driver_version", "550.54.15"},
                  {"cuda_runtime", "12.4"}};
  r.devices.push_back(d);
  std::normal_distribution<double> noise(1.0, 0.004);
  for (long b = 0; b < benchmarks; ++b) {
    bench::measurement m;
    m.info.name = fmt::format("bench_{:02}", b);
    m.info.group = b % 3 ? "compute" : "memory";
    m.info.prec = precision::fp16;
    m.info.metric = b % 3 ? bench::metric_kind::ops_per_s : bench::metric_kind::bytes_per_s;
    m.info.isa = "wgmma";
    m.device_id = d.id;
    m.status = bench::result_status::ok;
    m.verified = true;
    m.check.passed = true;
    const double base = (b % 3 ? 5e14 : 3e12) * (1 + 0.01 * static_cast<double>(b));
    std::vector<double> rates;
    std::vector<double> clocks;
    for (long i = 0; i < samples; ++i) {
      bench::sample s;
      s.seconds = 0.02;
      s.work = base * noise(rng) * s.seconds;
      s.clock_mhz = 1755 - static_cast<double>(rng() % 30);
      m.samples.push_back(s);
      rates.push_back(s.rate());
      clocks.push_back(s.clock_mhz);
    }
    m.rate = bench::summarize(rates);
    m.clock = bench::summarize(clocks);
    m.stopped = bench::stop_reason::noise_target;
    m.theoretical = base * 1.3;
    m.fraction_of_theoretical = m.rate.median / *m.theoretical;
    r.results.push_back(std::move(m));
  }
  return r;
}

std::unique_ptr<fleet_store> build_fleet() {
  auto owner = std::make_unique<fleet_store>();
  auto& s = *owner;
  {
    s.rows = env_long("CHIPGAUGE_HISTORY_ROWS", 1000000);
    s.devices = env_long("CHIPGAUGE_HISTORY_DEVICES", 1000);
    s.benchmarks = env_long("CHIPGAUGE_HISTORY_BENCHMARKS", 27);
    s.samples = env_long("CHIPGAUGE_HISTORY_SAMPLES", 10);
    if (const char* d = std::getenv("CHIPGAUGE_HISTORY_DIR"); d && *d) {
      s.dir = d;
    } else {
      std::string tmpl =
          (std::filesystem::temp_directory_path() / "chipgauge-history-bench-XXXXXX").string();
      if (!::mkdtemp(tmpl.data())) std::abort();
      s.dir = tmpl;
      s.owned = true;
    }
    const std::string path = s.dir + "/history.db";
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    std::filesystem::remove(path + "-shm");
    s.store = std::make_unique<history::store>(history::store::open(path));
    std::mt19937_64 rng(42);
    long written = 0;
    // Runs per commit: `history ingest FILE...` commits 4,096 files at a time (or what 2 s took);
    // 1 is one transaction per run (a report recorded by `measure --history`).
    s.batch = std::max(1L, env_long("CHIPGAUGE_HISTORY_BATCH", 4096));
    std::optional<history::write_batch> batch;
    long in_batch = 0;
    // Times `fn` into the ingest totals (the synthetic reports are made outside it).
    const auto timed = [&s](auto&& fn) {
      const auto t0 = std::chrono::steady_clock::now();
      const double c0 = cpu_seconds();
      fn();
      s.ingest_cpu_s += cpu_seconds() - c0;
      s.ingest_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    for (long night = 0; written < s.rows; ++night) {
      for (long dev = 0; dev < s.devices && written < s.rows; ++dev) {
        const auto rep = nightly(dev, night, s.benchmarks, s.samples, rng);
        const history::ingest_source src{
            history::source_kind::chipgauge_report,
            history::sha256_hex(fmt::format("night {} device {}", night, dev)), "synthetic"};
        timed([&] {
          if (s.batch > 1 && !batch) batch.emplace(*s.store);
          written += static_cast<long>(history::ingest_report(*s.store, rep, src).results);
          if (batch && ++in_batch == s.batch) {
            batch->commit();
            batch.reset();
            in_batch = 0;
          }
        });
        ++s.runs;
      }
    }
    if (batch) timed([&] { batch->commit(); });
    s.rows = written;
  }
  return owner;
}

fleet_store& fleet() {
  static const std::unique_ptr<fleet_store> f = build_fleet();
  return *f;
}

// Rows of `table` in the store (SQLite), -1 when the count fails.
long count_rows(sqlite3* db, const char* table) {
  sqlite3_stmt* st = nullptr;
  long n = -1;
  if (sqlite3_prepare_v2(db, fmt::format("SELECT count(*) FROM {}", table).c_str(), -1, &st,
                         nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = static_cast<long>(sqlite3_column_int64(st, 0));
  sqlite3_finalize(st);
  return n;
}

// Ingest from files, as `history ingest FILE...` does it (history::ingest_files): the first
// CHIPGAUGE_HISTORY_FILES nights x devices (default 1,000 reports, 27,000 results) written as
// report JSON, then ingested with state.range(0) jobs (0: the default, the hardware threads) into a
// new store, then again (every file already there: hashed, not parsed). Checks that the first pass
// stored every run and result once and the second nothing.
void BM_HistoryIngestFiles(benchmark::State& state) {
  struct report_files {
    std::string dir;
    std::vector<std::string> paths;
    double bytes = 0;
    long results = 0;
    ~report_files() { std::filesystem::remove_all(dir); }
  };
  static const auto files = [] {
    auto f = std::make_unique<report_files>();
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "chipgauge-history-files-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) std::abort();
    f->dir = tmpl;
    const long n = env_long("CHIPGAUGE_HISTORY_FILES", 1000);
    const long devices = env_long("CHIPGAUGE_HISTORY_DEVICES", 1000);
    std::mt19937_64 rng(42);
    for (long i = 0; i < n; ++i) {
      const auto rep =
          nightly(i % devices, i / devices, env_long("CHIPGAUGE_HISTORY_BENCHMARKS", 27),
                  env_long("CHIPGAUGE_HISTORY_SAMPLES", 10), rng);
      const auto text = bench::to_json(rep);
      f->paths.push_back(fmt::format("{}/r{:06}.json", f->dir, i));
      std::FILE* out = std::fopen(f->paths.back().c_str(), "wb");
      if (!out || std::fwrite(text.data(), 1, text.size(), out) != text.size() ||
          std::fclose(out) != 0)
        std::abort();
      f->bytes += static_cast<double>(text.size());
      f->results += static_cast<long>(rep.results.size());
    }
    return f;
  }();
  const std::string path = files->dir + "/history.db";
  history::ingest_files_options o;
  o.jobs = static_cast<unsigned>(state.range(0));
  o.lookup_path = path;
  double first_s = 0;
  double again_s = 0;
  long stored_runs = 0;
  long stored_results = 0;
  long present = 0;
  long failed = 0;
  for (auto _ : state) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    auto store = history::store::open(path);
    stored_runs = stored_results = present = failed = 0;
    const auto t0 = std::chrono::steady_clock::now();
    history::ingest_files(
        store, files->paths, o,
        [&](std::size_t, const history::ingest_outcome& r) {
          ++stored_runs;
          stored_results += static_cast<long>(r.results);
        },
        [&](std::size_t, std::exception_ptr) { ++failed; });
    const auto t1 = std::chrono::steady_clock::now();
    history::ingest_files(
        store, files->paths, o,
        [&](std::size_t, const history::ingest_outcome& r) { present += r.already_present; },
        [&](std::size_t, std::exception_ptr) { ++failed; });
    const auto t2 = std::chrono::steady_clock::now();
    first_s = std::chrono::duration<double>(t1 - t0).count();
    again_s = std::chrono::duration<double>(t2 - t1).count();
    if (failed != 0 || stored_runs != static_cast<long>(files->paths.size()) ||
        stored_results != files->results || present != static_cast<long>(files->paths.size()) ||
        count_rows(store.handle(), "runs") != stored_runs ||
        count_rows(store.handle(), "results") != files->results) {
      state.SkipWithError("the store does not hold exactly the files' runs and results once");
      return;
    }
  }
  state.counters["files"] = static_cast<double>(files->paths.size());
  state.counters["rows"] = static_cast<double>(files->results);
  state.counters["MB"] = files->bytes / 1e6;
  state.counters["ingest_s"] = first_s;
  state.counters["rows_per_s"] = static_cast<double>(files->results) / first_s;
  state.counters["MB_per_s"] = files->bytes / 1e6 / first_s;
  state.counters["again_s"] = again_s;
}
BENCHMARK(BM_HistoryIngestFiles)->Arg(1)->Arg(0)->Iterations(1)->Unit(benchmark::kSecond);

// Ingest: the whole synthetic store, CHIPGAUGE_HISTORY_BATCH runs per commit (default 4,096, as
// `history ingest FILE...` commits; 1: a transaction per run). Then checks what was measured: the
// store holds every run and result row once, each result with its samples, and ingesting the
// first run again (same hash) is a no-op.
void BM_HistoryIngest(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(fleet().rows);
  auto& f = fleet();
  sqlite3* db = f.store->handle();
  const long expected_samples = f.samples > 0 ? f.rows : 0;
  if (count_rows(db, "runs") != f.runs || count_rows(db, "results") != f.rows ||
      count_rows(db, "results WHERE rates IS NOT NULL") != expected_samples) {
    state.SkipWithError("the store does not hold exactly the runs, results and samples ingested");
    return;
  }
  std::mt19937_64 rng(42);
  const history::ingest_source first{history::source_kind::chipgauge_report,
                                     history::sha256_hex("night 0 device 0"), "synthetic"};
  const auto again =
      history::ingest_report(*f.store, nightly(0, 0, f.benchmarks, f.samples, rng), first);
  if (!again.already_present || again.run_id != 1 ||
      static_cast<long>(again.results) != f.benchmarks || count_rows(db, "runs") != f.runs) {
    state.SkipWithError("ingesting the first run again was not a no-op");
    return;
  }
  state.counters["rows"] = static_cast<double>(f.rows);
  state.counters["runs"] = static_cast<double>(f.runs);
  state.counters["runs_per_commit"] = static_cast<double>(f.batch);
  state.counters["ingest_s"] = f.ingest_s;
  state.counters["rows_per_s"] = static_cast<double>(f.rows) / f.ingest_s;
  state.counters["ingest_cpu_s"] = f.ingest_cpu_s;
  state.counters["rows_per_cpu_s"] = static_cast<double>(f.rows) / f.ingest_cpu_s;
}
BENCHMARK(BM_HistoryIngest)->Iterations(1)->Unit(benchmark::kSecond);

// The trend of one device x benchmark over every night (a different pair each iteration).
void BM_HistoryTrend(benchmark::State& state) {
  auto& f = fleet();
  const auto devices = history::find_devices(*f.store, "");
  std::mt19937_64 rng(7);
  std::size_t points = 0;
  for (auto _ : state) {
    const auto& d = devices[rng() % devices.size()];
    const auto t = history::trend(
        *f.store, d.id,
        fmt::format("bench_{:02}", rng() % static_cast<unsigned long>(f.benchmarks)));
    points += t.size();
    benchmark::DoNotOptimize(t.data());
  }
  state.counters["points"] = static_cast<double>(points) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_HistoryTrend)->Unit(benchmark::kMillisecond);

// The rolling baseline compare asks for: one device x benchmark, last 20 runs, pooled.
void BM_HistorySelectLast20(benchmark::State& state) {
  auto& f = fleet();
  const auto devices = history::find_devices(*f.store, "");
  std::mt19937_64 rng(9);
  for (auto _ : state) {
    history::selector sel;
    sel.device = devices[rng() % devices.size()].identity.substr(5);
    sel.benchmark = fmt::format("bench_{:02}", rng() % static_cast<unsigned long>(f.benchmarks));
    sel.last = 20;
    const auto rep = history::select_as_report(*f.store, sel);
    benchmark::DoNotOptimize(rep.results.data());
  }
}
BENCHMARK(BM_HistorySelectLast20)->Unit(benchmark::kMillisecond);

// The dashboard for one SKU: every trend page of one device (each run compared with its rolling
// baseline of 20), the part pages and the plane, built in memory (dashboard::build_site; writing
// the files is not timed).
void BM_DashboardOneSku(benchmark::State& state) {
  auto& f = fleet();
  const auto devices = history::find_devices(*f.store, "");
  auto cat = catalog::load(catalog::locate_specs_dir(""));
  std::mt19937_64 rng(11);
  std::size_t pages = 0;
  for (auto _ : state) {
    dashboard::options o;
    o.device = devices[rng() % devices.size()].identity;
    const auto site = dashboard::build_site(f.store.get(), cat, o);
    pages += site.files.size();
    benchmark::DoNotOptimize(site.files.size());
  }
  state.counters["pages"] = static_cast<double>(pages) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_DashboardOneSku)->Unit(benchmark::kMillisecond);

// Size: the store file (after a checkpoint) against the same data as CSV: `history export
// --format csv` (one line per result) plus one line per sample (result id, index, rate, clock).
void BM_HistorySize(benchmark::State& state) {
  auto& f = fleet();
  double csv_bytes = 0;
  double sample_bytes = 0;
  for (auto _ : state) {
    csv_bytes = 0;
    sample_bytes = 0;
    history::export_results(
        *f.store, {}, history::export_format::csv,
        [&csv_bytes](std::string_view p) { csv_bytes += static_cast<double>(p.size()); });
    sample_bytes +=
        static_cast<double>(std::string_view("result_id,index,rate,clock_mhz\n").size());
    history::for_each_result(*f.store, {}, true, [&sample_bytes](const history::result_row& r) {
      for (std::size_t i = 0; i < r.rates.size(); ++i)
        sample_bytes += static_cast<double>(fmt::formatted_size(
            "{},{},{},{}\n", r.id, i, r.rates[i], i < r.clocks.size() ? r.clocks[i] : 0.0));
    });
  }
  sqlite3_wal_checkpoint_v2(f.store->handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                            nullptr);
  const double db = static_cast<double>(std::filesystem::file_size(f.store->path()));
  state.counters["store_MB"] = db / 1e6;
  state.counters["csv_MB"] = (csv_bytes + sample_bytes) / 1e6;
  state.counters["results_csv_MB"] = csv_bytes / 1e6;
  state.counters["store_over_csv"] = db / (csv_bytes + sample_bytes);
  state.counters["bytes_per_row"] = db / static_cast<double>(f.rows);
}
BENCHMARK(BM_HistorySize)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
