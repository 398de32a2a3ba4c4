#pragma once

// Reading the store: runs, results, device x benchmark series and their trends, a selection as a
// measurement report, exports and pruning (docs/history.md#reading).

#include "chipgauge/bench/report.hpp"
#include "chipgauge/history/store.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::history {

/// One run, as `history list` shows it.
struct run_row {
  std::int64_t id = 0;
  std::string source_kind;
  std::string source_sha256;
  std::string source_name;
  std::int64_t created_utc = 0;
  std::int64_t ingested_utc = 0;
  std::string tool_version;
  std::string git_sha;
  std::string mode;
  std::string host;
  std::string kernel;
  std::string driver;   ///< empty where no device reported one
  std::string toolkit;  ///< CUDA runtime; empty where none
  std::string argv;     ///< JSON array
  std::string context;  ///< JSON object (host, per-device properties)
  std::int64_t results = 0;
  std::vector<std::string> devices;  ///< device names, in the run's order
};

/// One result row with its run, device and benchmark.
struct result_row {
  std::int64_t id = 0;
  std::int64_t run_id = 0;
  std::int64_t created_utc = 0;
  std::string source_kind;
  std::string host;
  std::string tool_version;
  std::string git_sha;
  std::int64_t device_id = 0;
  std::string device_identity;
  std::string device_name;
  std::string device_vendor;
  std::string device_backend;
  std::string local_device;  ///< the device's id in its report ("cuda:0")
  std::string benchmark;
  std::string group;
  std::string precision;   ///< empty when none
  std::string metric;      ///< "ops_per_s", "bytes_per_s"
  std::string parameters;  ///< JSON object text ("{}" when none)
  std::string description;
  std::string status;  ///< "ok", "skipped", "invalid"
  std::string reason;
  bool verified = false;
  bool suspect = false;
  std::string suspect_reasons;  ///< JSON array text
  std::string stop_reason;
  double median = 0, min = 0, max = 0, q1 = 0, q3 = 0, cv = 0;
  std::int64_t sample_count = 0;
  std::optional<double> clock_mhz;  ///< median clock
  std::int64_t throttled_samples = 0;
  std::optional<double> theoretical;
  std::optional<double> fraction;
  std::vector<double> rates;   ///< filled when samples are asked for
  std::vector<double> clocks;  ///< same length as rates when any clock was read; else empty
};

/// Runs matching `sel`, oldest first. With a device or benchmark filter or `last`, the runs
/// holding a selected result; otherwise every run in the time window.
std::vector<run_row> list_runs(store& s, const selector& sel);
/// One run, or nullopt when the store has no run `id`.
std::optional<run_row> find_run(store& s, std::int64_t id);
/// `history list --format json`: the runs as a JSON array, each run's fields as run_row names them
/// (times as format_utc; `argv` and `context` as JSON), two-space indented, ending in a newline.
std::string runs_to_json(const std::vector<run_row>& runs);
/// `history show RUN --format json`: the run as runs_to_json gives it, with its results in
/// `result_rows` (no samples).
std::string run_to_json(store& s, const run_row& run);

/// The results `sel` selects, ordered by run time, run and result id; with their samples when
/// `with_samples`. `run_id`, when given, restricts to that run.
std::vector<result_row> select_results(store& s, const selector& sel, bool with_samples,
                                       std::optional<std::int64_t> run_id = std::nullopt);
/// As select_results, one row at a time (the store may hold millions).
void for_each_result(store& s, const selector& sel, bool with_samples,
                     const std::function<void(const result_row&)>& fn,
                     std::optional<std::int64_t> run_id = std::nullopt);

/// A device the store knows.
struct device_row {
  std::int64_t id = 0;
  std::string identity;  ///< "uuid:GPU-...", "serial:...", or "host:HOST/ID/NAME"
  std::string name;
  std::string vendor;
  std::string backend;
};
/// Devices whose name or identity contains `substring` (case-insensitive; empty: all), by id.
std::vector<device_row> find_devices(store& s, std::string_view substring);

/// One device x benchmark series: what the dashboard's index and trend pages list.
struct series_row {
  device_row device;
  std::string benchmark;
  std::string metric;
  std::int64_t runs = 0;
  std::int64_t last_utc = 0;
};
std::vector<series_row> list_series(store& s, const selector& sel);

/// One point of a trend: a run's result for the device x benchmark.
struct trend_point {
  std::int64_t run_id = 0;
  std::int64_t created_utc = 0;
  std::string status;
  bool verified = false;
  bool suspect = false;
  double median = 0, q1 = 0, q3 = 0, min = 0, max = 0;
  std::int64_t sample_count = 0;
  std::optional<double> clock_mhz;
};
/// The results of `device_id` for benchmark `benchmark` in every run, oldest first (SQLite: the
/// device's packed result sets, that benchmark's records decoded; PostgreSQL: `results_trend`).
std::vector<trend_point> trend(store& s, std::int64_t device_id, const std::string& benchmark);

/// The selection as one measurement report, so `compare` treats it like a report: per device x
/// benchmark one measurement whose samples pool those of the selected runs' results that are
/// ok, verified and not suspect. Where no selected result is usable, the measurement is the most
/// recent selected one's status (skipped, invalid or suspect) with no samples, and the reason
/// says so. Devices get their id in the runs (`cuda:0`) where that is unique in the selection,
/// else their store identity. Throws usage_error when the selection is empty.
bench::measurement_report select_as_report(store& s, const selector& sel);

/// Export formats of `history export`.
enum class export_format : unsigned char { csv, json };
/// Writes the selected results, in pieces, to `sink`: CSV (RFC 4180, one row per result, no
/// samples) or JSON (`chipgauge.history-export/1`, each result with its samples). Numbers are the
/// shortest text that reads back to the same double.
void export_results(store& s, const selector& sel, export_format format,
                    const std::function<void(std::string_view)>& sink);
/// The CSV header of export_results (the columns, in order).
const std::vector<std::string>& export_csv_columns();

/// What to prune: runs created before `before`, and/or all but each device's `keep_last` most
/// recent runs (a run stays when it is among the most recent of any of its devices). With
/// `device`, only runs holding a device whose name or identity contains it are considered.
struct prune_options {
  std::optional<std::int64_t> before;
  std::optional<int> keep_last;
  std::string device;
};
struct prune_outcome {
  std::int64_t runs = 0;
  std::int64_t results = 0;
};
/// Deletes the runs (with their results and samples) and the devices and benchmarks no run
/// references any more, in one transaction. Throws usage_error when neither bound is given.
prune_outcome prune(store& s, const prune_options& options);

}  // namespace chipgauge::history
