#pragma once

// Exports of a measurement report for the dashboards teams already run (docs/compare.md#exports).
// Only results a comparison would use are exported (comparable_reason() is empty): verified,
// unsuspected chipgauge results, and results read from another tool's output, which are marked as
// not verified by chipgauge. The rest are named, with why, where the format has room for it.
// to_gbench_json (report.hpp) is the Google Benchmark export.

#include "chipgauge/bench/report.hpp"

#include <optional>
#include <string>

namespace chipgauge::bench {

/// Why `m` (a result of `r`) may not be compared or exported, or nullopt when it may: skipped,
/// invalid (failed chipgauge's verification or an impossible rate), suspect, or without samples.
/// Results read from Google Benchmark output (is_foreign) are comparable though never verified.
std::optional<std::string> comparable_reason(const measurement_report& r, const measurement& m);

/// The name a result has in every export: "DEVICE_ID/BENCHMARK".
std::string export_name(const measurement& m);

/// Bencher Metric Format: {"NAME": {"throughput": {"value", "lower_value", "upper_value"}}}, the
/// value the median rate in operations/s (ops_per_s results) or bytes/s (bytes_per_s), the bounds
/// its 95 % order-statistic confidence interval.
std::string to_bencher_json(const measurement_report& r);

/// github-action-benchmark's customBiggerIsBetter input: an array of {name, unit, value, range,
/// extra}, value the median rate with unit "ops/s" or "B/s", range "± X" the larger distance from
/// the median to its 95 % interval's ends, extra the sample count, interval and verification.
std::string to_github_action_benchmark_json(const measurement_report& r);

}  // namespace chipgauge::bench
