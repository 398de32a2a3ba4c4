#pragma once

// A synthetic history store with one known regression, shared by the dashboard's GoogleTest tests
// and its browser test (through dashboard_fixture): device H100 (uuid GPU-dash-0001) runs
// "gemm_fp16" on 12 nights and "stream_triad" on the same nights; night 8's gemm_fp16 is 10 %
// slower with 0.1 % noise (a regression against any baseline), every other night is at the same
// level. Night 10's stream_triad failed verification (invalid: shown, never compared).
// fill_dashboard_certificates adds a fleet's certificates (tests/fleet_synthetic.hpp): three nodes
// of four GPUs, one per SKU, node 0's cuda:1 degraded (it fails and is an outlier on every
// benchmark); node 3's cuda:0 (an H100) signed and ingested with its key (verified); node 4's
// cuda:0 (an H200) edited after sealing (stored failed).

#include "chipgauge/bench/report.hpp"
#include "chipgauge/core/signing.hpp"
#include "chipgauge/history/ingest.hpp"
#include "chipgauge/history/store.hpp"
#include "fleet_synthetic.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

namespace chipgauge::test {

inline constexpr int dashboard_nights = 12;
inline constexpr int dashboard_regression_night = 8;  ///< 1-based

inline bench::measurement dashboard_result(const std::string& name, bench::metric_kind metric,
                                           double rate, bool valid) {
  bench::measurement m;
  m.info.name = name;
  m.info.group = metric == bench::metric_kind::ops_per_s ? "compute" : "memory";
  m.info.prec = classifier::precision::fp16;
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
    d.properties = {
        {"uuid", "GPU-dash-0001"}, {"driver_version", "550.54.15"}, {"cuda_runtime", "12.4"}};
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
    r.results = {
        dashboard_result("gemm_fp16", bench::metric_kind::ops_per_s, gemm, true),
        dashboard_result("stream_triad", bench::metric_kind::bytes_per_s, 3.0e12, night != 10)};
    const std::string key = fmt::format("dashboard-night-{}", night);
    ids.push_back(
        history::ingest_report(
            s, r, {history::source_kind::chipgauge_report, history::sha256_hex(key), key + ".json"})
            .run_id);
  }
  return ids;
}

/// What fill_dashboard_certificates stored, for the tests to check the pages against.
struct dashboard_certificates {
  std::vector<std::int64_t> h100_runs;  ///< certificate runs of the H100 part, ingest order
  std::int64_t verified_run = 0;        ///< the one signed and ingested with its key
  std::int64_t failed_run = 0;          ///< the one edited after sealing
  testing::synthetic_fleet fleet;
};

/// Adds the certificates described above; the signing key pair is written into `key_dir`.
inline dashboard_certificates fill_dashboard_certificates(history::store& s,
                                                          const std::string& key_dir) {
  dashboard_certificates out;
  auto& f = out.fleet;
  f.nodes = 3;
  f.gpus = 4;
  f.benchmarks = 2;
  f.degraded = {{0, 1}};
  const auto ingest = [&](const nlohmann::json& cert, const std::string& name,
                          const history::ingest_options& o) {
    const auto text = certificate_text(cert);
    return history::ingest_certificate(
               s, text, cert, {history::source_kind::certificate, history::sha256_hex(text), name},
               o)
        .run_id;
  };
  for (int n = 0; n < f.nodes; ++n) {
    for (int g = 0; g < f.gpus; ++g) {
      const auto id =
          ingest(f.certificate(n, g),
                 fmt::format("fleet/{}/{}.json", testing::synthetic_fleet::node_name(n), g), {});
      if (n % 3 == 0) out.h100_runs.push_back(id);
    }
  }
  const auto key = generate_ed25519_key(key_dir + "/lab.key", key_dir + "/lab.pub");
  history::ingest_options trusted;
  trusted.trusted_key = key.public_path;
  auto signed_body = f.certificate(3, 0).at("body");
  signed_body["tpp"]["measured"] = 11111.5;
  out.verified_run =
      ingest(seal_certificate(signed_body, key.private_path), "fleet/signed/3-0.json", trusted);
  out.h100_runs.push_back(out.verified_run);
  auto tampered = f.certificate(4, 0);
  tampered["body"]["tpp"]["measured"] = 1e9;
  out.failed_run = ingest(tampered, "fleet/tampered/4-0.json", trusted);
  return out;
}

}  // namespace chipgauge::test
