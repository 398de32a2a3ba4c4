#pragma once

#include "chipgauge/bench/runner.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace chipgauge::bench {

/// The machine a measurement ran on.
struct host_info {
  std::string hostname;
  std::string cpu_model;
  int logical_cpus = 0;
  double memory_bytes = 0;
  std::string kernel;    ///< uname -sr
  std::string os;        ///< PRETTY_NAME of /etc/os-release
  std::string compiler;  ///< the compiler that built chipgauge
};
host_info collect_host_info();

/// A measurement report, `chipgauge.measurement/1` (specs/schema/measurement.schema.json): what
/// ran, where, with every sample, summary, verification and stop reason.
struct measurement_report {
  std::string tool_version;
  std::string git_sha;
  std::vector<std::string> argv;
  std::string created_utc;  ///< ISO 8601, seconds, "Z"
  std::string mode;         ///< "quick" or "full"
  host_info host;
  std::vector<device_info> devices;
  std::vector<measurement> results;
  /// Set (to the device id) when a case hung: the caller writes the report, then ends the process
  /// with std::_Exit, since the device runtime's teardown would wait on the hung work. Not
  /// serialised (the results say what happened).
  std::string hung_device;
};

/// Serialises a report (2-space indented JSON, trailing newline).
std::string to_json(const measurement_report& r);
/// Parses a report; throws spec_error naming `file`, the JSON path and the expectation.
measurement_report parse_report(std::string_view text, const std::string& file);
/// parse_report over a document already parsed (parse_json_text): `history ingest` reads a
/// file's schema and its report from one parse.
measurement_report parse_report_doc(const nlohmann::json& doc, const std::string& file);
measurement_report load_report(const std::string& path);

/// The same results as Google Benchmark JSON that Bencher's cpp_google adapter and Google
/// Benchmark's compare.py read: one entry per sample (repetition) plus mean, median and stddev
/// aggregates, the rate in items_per_second or bytes_per_second (bench/src/exports.cpp,
/// docs/compare.md#exports). Other exports: exports.hpp.
std::string to_gbench_json(const measurement_report& r);
/// One row per result: device, benchmark, precision, metric, median, min, max, cv, samples,
/// status, verified, stop reason, theoretical, fraction.
std::string to_csv(const measurement_report& r);
std::string to_markdown(const measurement_report& r);
/// A readable table (GFLOP/s, GB/s) with the fraction of theoretical and flags.
std::string to_text(const measurement_report& r);

}  // namespace chipgauge::bench
