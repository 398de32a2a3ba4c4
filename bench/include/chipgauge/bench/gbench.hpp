#pragma once

// Google Benchmark JSON written by other tools (`--benchmark_format=json` or `--benchmark_out`),
// read as a measurement report so that a team's own microbenchmarks can be compared and stored
// beside chipgauge's (docs/compare.md#google-benchmark-input).

#include "chipgauge/bench/report.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace chipgauge::bench {

/// The `device_info::backend` of the one device a report read from Google Benchmark JSON holds.
/// Results on such a device are *foreign*: chipgauge neither ran nor verified them.
inline constexpr std::string_view gbench_backend = "google-benchmark";

/// The start of the `reason` of every foreign result.
inline constexpr std::string_view foreign_reason_prefix = "not verified by chipgauge";

/// True when `doc` has Google Benchmark's shape: an object with a `context` object and a
/// `benchmarks` array (and no chipgauge `schema` member).
bool looks_like_gbench_json(const nlohmann::json& doc);

/// Reads Google Benchmark JSON into a measurement report:
/// - one device, backend `google-benchmark`, id `host`, name `Google Benchmark host`, whose
/// properties
///   hold the context (host name, executable, CPU count and MHz, caches, library version and build
///   type, and any global context strings);
/// - one result per benchmark run name (`run_name`, else `name`), in order of first appearance; its
///   samples are the `iteration` entries (one per repetition). `aggregate` entries (mean, median,
///   stddev, cv, big-O) are not samples and are ignored;
/// - a sample's rate is `items_per_second` (metric ops_per_s), else `bytes_per_second`
/// (bytes_per_s),
///   else iterations per second, 1 / real_time (ops_per_s, an iteration counting as one operation);
///   `seconds` is the iteration's real time and `work` = rate x seconds, so `sample::rate()` gives
///   the rate back;
/// - every result is `invalid` with `verified = false` and a reason starting with
///   foreign_reason_prefix: Google Benchmark does not check what the timed code computed, so
///   nothing read this way ever counts as verified (classify --measured and certification never use
///   it). A benchmark with `error_occurred` or `skipped` in any repetition is `skipped` with the
///   message.
/// Unknown members are tolerated (the format grows between library versions); members chipgauge
/// reads must have the right type. Throws spec_error naming `file` and the JSON path.
measurement_report parse_gbench_json(std::string_view text, const std::string& file);
/// The same from a parsed document.
measurement_report parse_gbench_doc(const nlohmann::json& doc, const std::string& file);

/// True when `m` (a result of `r`) was read from another tool's output (its device's backend is
/// gbench_backend).
bool is_foreign(const measurement_report& r, const measurement& m);

}  // namespace chipgauge::bench
