// fleet collect at fleet scale: 10,000 synthetic certificates (1,250 nodes x 8 GPUs, three SKUs,
// 1 % of the devices injected at 85 %) written to a directory, then collect_fleet_dir over it,
// as `chipgauge fleet collect DIR` runs. BM_FleetCollectDir: unsealed-by-key certificates (the hash
// of every body checked); BM_FleetCollectDirSigned: every certificate signed by a lab key and
// collected with that key trusted (`fleet collect --pubkey`), so every signature is verified too.
// The second argument is fleet_collect_options::jobs (`fleet collect --jobs`): 1 thread, or 0 for
// one per hardware thread. Counters: certificates, jobs (the threads used), outliers found,
// whether they are exactly the injected ones, the collection's CPU time over all threads
// (getrusage; the benchmark's own CPU column counts only the calling thread) and the process's
// peak resident set (ru_maxrss). Only the collection is timed; writing the fixture (unsynced
// writes to a temporary directory) is not. Each benchmark runs one iteration (Iterations(1)), so
// no flag is needed; measure one configuration per process for a clean peak RSS:
//   /usr/bin/time -v build/bench/micro/fleet_benchmark
//   --benchmark_filter='BM_FleetCollectDirSigned/10000/0'
#include "chipgauge/certify/fleet.hpp"
#include "chipgauge/core/files.hpp"
#include "fleet_synthetic.hpp"

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <thread>

namespace {

using chipgauge::testing::synthetic_fleet;

double process_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return s(u.ru_utime) + s(u.ru_stime);
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// The fixture's files: a plain write, as a temporary directory needs no fsync per file.
void write_fixture_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

void collect_fleet(benchmark::State& state, bool signed_by_lab) {
  synthetic_fleet f;
  f.nodes = static_cast<int>(state.range(0)) / f.gpus;
  f.degrade_every(100, 37);
  char tmpl[] = "/tmp/chipgauge-fleet-bench.XXXXXX";
  const char* dir = mkdtemp(tmpl);
  if (dir == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  chipgauge::certify::fleet_collect_options options;
  options.jobs = static_cast<unsigned>(state.range(1));
  std::optional<std::string> lab_key;
  if (signed_by_lab) {
    const auto keys = chipgauge::generate_ed25519_key(std::string(dir) + "/lab.key",
                                                      std::string(dir) + "/lab.pub");
    lab_key = keys.private_path;
    options.trusted_key = keys.public_path;
  }
  for (int n = 0; n < f.nodes; ++n) {
    const auto node_dir = std::filesystem::path(dir) / synthetic_fleet::node_name(n);
    std::filesystem::create_directories(node_dir);
    for (int g = 0; g < f.gpus; ++g) {
      auto cert = f.certificate(n, g);
      if (lab_key) cert = chipgauge::seal_certificate(std::move(cert.at("body")), lab_key);
      write_fixture_file(node_dir / fmt::format("certificate-cuda-{}.json", g),
                         chipgauge::certificate_text(cert));
    }
  }
  const double rss_before = peak_rss_mib();
  std::size_t outliers = 0;
  bool exact = false;
  const double cpu_before = process_cpu_s();
  for (auto _ : state) {
    const auto c = chipgauge::certify::collect_fleet_dir(dir, options);
    std::set<std::pair<std::string, std::string>> found, expected;
    for (const auto& o : c.outliers) found.insert({o.node, o.device});
    for (const auto& [n, g] : f.degraded)
      expected.insert({synthetic_fleet::node_name(n), synthetic_fleet::device_id(g)});
    outliers = found.size();
    exact = found == expected && c.devices.size() == static_cast<std::size_t>(f.nodes * f.gpus) &&
            c.unverified.empty();
    benchmark::DoNotOptimize(c);
  }
  const double cpu = process_cpu_s() - cpu_before;
  std::filesystem::remove_all(dir);
  state.counters["jobs"] = static_cast<double>(
      options.jobs != 0 ? options.jobs : std::max(1U, std::thread::hardware_concurrency()));
  state.counters["collect_cpu_s"] = cpu;
  state.counters["certificates"] = static_cast<double>(f.nodes * f.gpus);
  state.counters["injected"] = static_cast<double>(f.degraded.size());
  state.counters["outlier_devices"] = static_cast<double>(outliers);
  state.counters["exact"] = exact ? 1 : 0;
  state.counters["peak_rss_MiB"] = peak_rss_mib();
  state.counters["rss_before_MiB"] = rss_before;
}

void BM_FleetCollectDir(benchmark::State& state) { collect_fleet(state, false); }
void BM_FleetCollectDirSigned(benchmark::State& state) { collect_fleet(state, true); }
BENCHMARK(BM_FleetCollectDir)
    ->ArgNames({"certificates", "jobs"})
    ->Args({10000, 1})
    ->Args({10000, 0})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK(BM_FleetCollectDirSigned)
    ->ArgNames({"certificates", "jobs"})
    ->Args({10000, 1})
    ->Args({10000, 0})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
