// Certificate integrity cost: RFC 8785 canonicalisation, SHA-256 and an Ed25519 signature over a
// certificate body of about 100 KB (several hundred benchmark results), as `certify --sign` pays
// once per device, and the matching verification.
//   build/bench/micro/signing_benchmark --benchmark_min_time=1
#include "chipgauge/core/signing.hpp"

#include <benchmark/benchmark.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

using namespace chipgauge;

// A body shaped like a certificate's: identity, then results with numbers and strings.
nlohmann::json body_of_about(std::size_t bytes) {
  nlohmann::json body = {
      {"device", {{"name", "NVIDIA H200"}, {"uuid", "GPU-8c1f2d3e-0000-4a5b-9c6d-7e8f90a1b2c3"}}},
      {"results", nlohmann::json::array()}};
  for (int i = 0; canonical_json(body).size() < bytes; ++i) {
    for (int k = 0; k < 10; ++k, ++i) {
      body["results"].push_back(
          {{"benchmark", "fma_fp64_" + std::to_string(i)},
           {"median", 1.979e15 + i * 1.5e9},
           {"iqr", 0.0125 + i * 1e-6},
           {"min", 1.96e15},
           {"max", 1.99e15},
           {"samples", 12 + i},
           {"verified", i % 7 != 0},
           {"stop", "confidence interval within 1 %"},
           {"telemetry", {{"clock_mhz", 1980}, {"power_w", 699.5}, {"temperature_c", 61}}}});
    }
  }
  return body;
}

// A key pair in a temporary directory, removed at exit.
struct bench_key {
  std::string dir;
  key_pair pair;
  bench_key() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "chipgauge-bench-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) std::abort();
    dir = tmpl;
    pair = generate_ed25519_key(dir + "/k.key", dir + "/k.pub");
  }
  ~bench_key() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  bench_key(const bench_key&) = delete;
  bench_key& operator=(const bench_key&) = delete;
};

const bench_key& key() {
  static const bench_key k;
  return k;
}

void BM_CanonicalJson100KB(benchmark::State& state) {
  const auto body = body_of_about(100 * 1024);
  std::size_t n = 0;
  for (auto _ : state) {
    const auto c = canonical_json(body);
    n = c.size();
    benchmark::DoNotOptimize(c.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(n));
  state.counters["canonical_bytes"] = static_cast<double>(n);
}
BENCHMARK(BM_CanonicalJson100KB)->Unit(benchmark::kMicrosecond);

// Canonicalise + SHA-256 + Ed25519 sign (key file read and parsed each time, as seal does).
void BM_SealSigned100KB(benchmark::State& state) {
  const auto body = body_of_about(100 * 1024);
  const auto& k = key();
  for (auto _ : state) {
    auto cert = seal_certificate(body, k.pair.private_path);
    benchmark::DoNotOptimize(cert);
  }
  state.counters["canonical_bytes"] = static_cast<double>(canonical_json(body).size());
}
BENCHMARK(BM_SealSigned100KB)->Unit(benchmark::kMicrosecond);

// Hash and signature checks of the sealed certificate against the trusted public key.
void BM_Verify100KB(benchmark::State& state) {
  const auto& k = key();
  const auto cert = seal_certificate(body_of_about(100 * 1024), k.pair.private_path);
  for (auto _ : state) {
    const auto check = verify_certificate(cert, k.pair.public_path);
    if (check.status() != exit_code::ok) state.SkipWithError("did not verify");
    benchmark::DoNotOptimize(check.hash_ok);
  }
}
BENCHMARK(BM_Verify100KB)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
