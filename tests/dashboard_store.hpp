#pragma once

// A synthetic history store with one known regression, shared by the dashboard's GoogleTest tests
// and its browser test (through dashboard_fixture): device H100 (uuid GPU-dash-0001) runs
// "gemm_fp16" on 12 nights and "stream_triad" on the same nights; night 8's gemm_fp16 is 10 %
// slower with 0.1 % noise (a regression against any baseline), every other night is at the same
// level. Night 10's stream_triad failed verification (invalid: shown, never compared).

#include "chipgauge/bench/report.hpp"
#include "chipgauge/history/ingest.hpp"
#include "chipgauge/history/store.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

namespace chipgauge::test {

inline constexpr int dashboard_nights = 12;
inline constexpr int dashboard_regression_night = 8;  ///< 1-based

inline bench::measurement dashboard_result(const std::string& name, bench::metric_kind metric, double rate, bool valid) {
  bench::measurement m;
  m.info.name = name;
  m.info.group = metric == bench::metric_kind::ops_per_s ? "compute" : "memory";
  m.info.prec = precision::fp16;
  m.info.metric = metric;
  m.info.description = "synthetic";
  m.device_id = "cuda:0";
  m.status = valid ? bench::result_status::ok : bench::result_status::invalid;
  m.verified = valid;
  m.check.passed = valid;
  if (!valid) m.reason = "verification failed";
  std::vector<double> rates;
  std::vector<double> clocks;
  for (int i = 0; i < 10; ++i) {
    bench::sample s;
    s.seconds = 0.5;
    s.work = 0.5 * rate * (1 + 0.001 * (((i * 7) % 11) - 5) / 5.0);
    s.clock_mhz = 1755;
    m.samples.push_back(s);
    rates.push_back(s.rate());
    clocks.push_back(s.clock_mhz);
  }
  m.rate = bench::summarize(rates);
  m.clock = bench::summarize(clocks);
  m.stopped = bench::stop_reason::noise_target;
  return m;
}

/// Fills `s` with the nights described above; returns the run ids, night 1 first.
inline std::vector<std::int64_t> fill_dashboard_store(history::store& s) {
  std::vector<std::int64_t> ids;
  for (int night = 1; night <= dashboard_nights; ++night) {
    bench::device_info d;
    d.backend = "cuda";
    d.id = "cuda:0";
    d.name = "NVIDIA H100 80GB HBM3";
    d.vendor = "NVIDIA";
    d.units = 132;
    d.properties = {{"uuid", "GPU-dash-0001"}, {"driver_version", "550.54.15"}, {"cuda_runtime", "12.4"}};
    bench::measurement_report r;
    r.tool_version = "0.1.0";
    r.git_sha = "abc123";
    r.argv = {"chipgauge", "measure"};
    r.created_utc = fmt::format("2026-11-{:02}T02:00:00Z", night);
    r.mode = "quick";
    r.host.hostname = "node1";
    r.host.kernel = "Linux 6.1";
    r.devices = {d};
    const double gemm = night == dashboard_regression_night ? 0.9e15 : 1.0e15;
    r.results = {dashboard_result("gemm_fp16", bench::metric_kind::ops_per_s, gemm, true),
                 dashboard_result("stream_triad", bench::metric_kind::bytes_per_s, 3.0e12, night != 10)};
    const std::string key = fmt::format("dashboard-night-{}", night);
    ids.push_back(history::ingest_report(s, r, {history::source_kind::chipgauge_report, history::sha256_hex(key), key + ".json"}).run_id);
  }
  return ids;
}

}  // namespace chipgauge::test
