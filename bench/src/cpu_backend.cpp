// The CPU backend: compute and memory microbenchmarks on every allowed core, with verification,
// a per-sample clock probe and theoretical peaks from specs/arch/cpu.json.
#include "chipgauge/bench/cpu_backend.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "chipgauge/kernels/cpu.hpp"
#include "thread_team.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>

using chipgauge::classifier::precision;

namespace chipgauge::bench {

namespace {

namespace k = chipgauge::kernels::cpu;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// --- Machine facts -----------------------------------------------------------------------------

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (in) std::getline(in, line);
  return line;
}

// The identity /proc/cpuinfo gives beyond CPUID (chipgauge certify records it): the first
// processor's stepping and microcode revision, and the machine's physical cores and sockets
// (distinct "physical id" / "core id" pairs). Fields absent from the file are left out.
std::vector<std::pair<std::string, std::string>> cpuinfo_identity() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  std::string stepping;
  std::string microcode;
  std::string physical;
  std::set<std::string> sockets;
  std::set<std::string> cores;
  auto value = [](const std::string& l) {
    const auto colon = l.find(':');
    if (colon == std::string::npos) return std::string();
    auto v = l.substr(colon + 1);
    const auto b = v.find_first_not_of(" \t");
    return b == std::string::npos ? std::string() : v.substr(b);
  };
  auto key_is = [](const std::string& l, std::string_view k) {
    return l.compare(0, k.size(), k) == 0 && l.find_first_not_of(" \t", k.size()) == l.find(':');
  };
  while (std::getline(in, line)) {
    if (key_is(line, "stepping") && stepping.empty()) stepping = value(line);
    else if (key_is(line, "microcode") && microcode.empty()) microcode = value(line);
    else if (key_is(line, "physical id")) {
      physical = value(line);
      sockets.insert(physical);
    } else if (key_is(line, "core id")) cores.insert(physical + "/" + value(line));
  }
  std::vector<std::pair<std::string, std::string>> out;
  if (!stepping.empty()) out.emplace_back("stepping", stepping);
  if (!microcode.empty()) out.emplace_back("microcode", microcode);
  if (!cores.empty()) out.emplace_back("physical_cores", std::to_string(cores.size()));
  if (!sockets.empty()) out.emplace_back("sockets", std::to_string(sockets.size()));
  return out;
}

// Size in bytes of the cache at `level` (data or unified) of cpu0, from sysfs; 0 if unknown.
double cache_bytes(int level) {
  namespace fs = std::filesystem;
  for (int i = 0; i < 8; ++i) {
    const std::string dir = fmt::format("/sys/devices/system/cpu/cpu0/cache/index{}", i);
    if (!fs::exists(dir)) break;
    if (read_first_line(dir + "/level") != std::to_string(level)) continue;
    const auto type = read_first_line(dir + "/type");
    if (type != "Data" && type != "Unified") continue;
    const auto size = read_first_line(dir + "/size");  // "48K", "1024K", "32768K"
    if (size.empty()) return 0;
    double v = std::atof(size.c_str());
    if (size.back() == 'K') v *= 1024;
    if (size.back() == 'M') v *= 1024 * 1024;
    return v;
  }
  return 0;
}

// Total last-level cache over every L3 instance the allowed CPUs share (a multi-CCD EPYC has one
// per CCD): working sets meant to exceed the caches must exceed all of them.
double total_l3_bytes() {
  std::set<std::string> instances;
  double total = 0;
  for (int cpu : allowed_cpus()) {
    for (int i = 0; i < 8; ++i) {
      const std::string dir = fmt::format("/sys/devices/system/cpu/cpu{}/cache/index{}", cpu, i);
      if (read_first_line(dir + "/level") != "3") continue;
      if (!instances.insert(read_first_line(dir + "/shared_cpu_list")).second) break;
      const auto size = read_first_line(dir + "/size");
      double v = std::atof(size.c_str());
      if (!size.empty() && size.back() == 'K') v *= 1024;
      if (!size.empty() && size.back() == 'M') v *= 1024 * 1024;
      total += v;
      break;
    }
  }
  return total > 0 ? total : cache_bytes(3);
}

// Temperature in degrees C from the first thermal zone; NaN if unreadable.
double read_temperature() {
  const auto t = read_first_line("/sys/class/thermal/thermal_zone0/temp");
  if (!t.empty()) return std::atof(t.c_str()) / 1000.0;
  return std::nan("");
}

// The mean clock of the team's cores, from timed chains of dependent adds (1 cycle each). Each
// core times 4 short chunks and keeps the fastest: preemption can only slow a chunk down, so the
// maximum rejects a descheduled chunk instead of reporting a false low clock.
double probe_clock_mhz(thread_team& team) {
  constexpr std::uint64_t iterations = 1U << 13;  // ~0.13 M cycles: ~30 us at 4 GHz, x 4 chunks
  std::vector<double> mhz(static_cast<std::size_t>(team.size()));
  team.run([&](int i) {
    double best = 0;
    for (int chunk = 0; chunk < 4; ++chunk) {
      const auto t0 = clock_type::now();
      volatile std::uint64_t sink = k::dependent_adds(iterations);
      (void)sink;
      const double s = seconds_since(t0);
      best = std::max(best,
                      static_cast<double>(iterations * k::dependent_adds_per_iteration) / s / 1e6);
    }
    mhz[static_cast<std::size_t>(i)] = best;
  });
  double sum = 0;
  for (double m : mhz) sum += m;
  return sum / static_cast<double>(mhz.size());
}

struct aligned_array {
  double* data = nullptr;
  std::size_t n = 0;
  explicit aligned_array(std::size_t count) : n(count) {
    const std::size_t bytes = ((count * sizeof(double) + 63) / 64) * 64;
    data = static_cast<double*>(std::aligned_alloc(64, bytes));
    if (!data)
      throw error(fmt::format("cannot allocate {:.0f} MiB for a benchmark array",
                              static_cast<double>(bytes) / 1048576));
  }
  ~aligned_array() { std::free(data); }
  aligned_array(const aligned_array&) = delete;
  aligned_array& operator=(const aligned_array&) = delete;
};

// --- Architecture table (specs/arch/cpu.json) ----------------------------------------------------

struct arch_entry {
  std::string name;
  std::map<std::string, double> ipc;
};

// The file's matching architecture, and its issue ceiling (vector instructions per cycle per core
// that no tabled core exceeds), the bound for rates on a CPU the table does not know.
struct cpu_arch_table {
  std::optional<arch_entry> arch;
  std::optional<double> issue_ceiling;
};

std::optional<arch_entry> find_arch(const json_node& root, const k::cpu_features& f);

cpu_arch_table load_cpu_arch(const std::string& path, const k::cpu_features& f) {
  cpu_arch_table t;
  if (!std::filesystem::exists(path)) return t;
  const auto doc = read_json_file(path);
  const json_node root(doc, path);
  root.expect_keys({"schema", "title", "notes", "issue_ceiling", "architectures"});
  if (root.at("schema").string() != "chipgauge.cpu-arch/1")
    root.at("schema").fail("expected \"chipgauge.cpu-arch/1\"");
  if (auto c = root.find("issue_ceiling")) {
    c->expect_keys({"instructions_per_cycle", "note", "sources"});
    t.issue_ceiling = c->at("instructions_per_cycle").number_in(1, 64, "instructions/cycle");
  }
  t.arch = find_arch(root, f);
  return t;
}

std::optional<arch_entry> find_arch(const json_node& root, const k::cpu_features& f) {
  for (const auto& a : root.at("architectures").elements()) {
    a.expect_keys({"name", "vendor", "family", "models", "instructions_per_cycle", "evidence",
                   "sources", "note"});
    if (a.at("vendor").string() != f.vendor) continue;
    if (a.at("family").integer_in(0, 4096) != static_cast<long long>(f.family)) continue;
    bool model_ok = false;
    for (const auto& r : a.at("models").elements()) {
      const auto lo = r.at(0).integer_in(0, 4096);
      const auto hi = r.at(1).integer_in(0, 4096);
      model_ok = model_ok ||
                 (static_cast<long long>(f.model) >= lo && static_cast<long long>(f.model) <= hi);
    }
    if (!model_ok) continue;
    arch_entry e;
    e.name = a.at("name").string();
    for (const auto& [key, v] : a.at("instructions_per_cycle").members())
      e.ipc[key] = v.number_in(0, 64, "instructions/cycle");
    return e;
  }
  return std::nullopt;
}

// --- Compute -------------------------------------------------------------------------------------

enum class compute_kind { fma_fp64, fma_fp32, fma_fp16, dot_bf16, dot_int8 };

class compute_case final : public benchmark_case {
 public:
  compute_case(thread_team& team, benchmark_info info, k::isa level, compute_kind kind,
               std::optional<double> ipc, std::string arch, std::optional<double> issue_ceiling)
      : team_(team),
        info_(std::move(info)),
        level_(level),
        kind_(kind),
        ipc_(ipc),
        arch_(std::move(arch)),
        issue_ceiling_(issue_ceiling) {}

  [[nodiscard]] const benchmark_info& info() const override { return info_; }

  sample run(std::uint64_t reps) override {
    // Calls of at most call_bound() iterations (exactness), each verified lane by lane in the
    // thread that ran it; accumulators restart at zero every call.
    const auto threads = static_cast<std::size_t>(team_.size());
    if (bad_lanes_.size() != threads) {
      bad_lanes_.assign(threads, 0);
      calls_.assign(threads, 0);
    }
    const auto t0 = clock_type::now();
    team_.run([&](int i) {
      const auto t = static_cast<std::size_t>(i);
      for (std::uint64_t done = 0; done < reps;) {
        const std::uint64_t n = std::min(call_bound(), reps - done);
        const auto lanes = kernel(n);
        const double expected = expected_lane(n);
        if (lanes.min != expected || lanes.max != expected) {
          const double err =
              std::max(std::fabs(lanes.min - expected), std::fabs(lanes.max - expected)) / expected;
          bad_lanes_[t] = std::max(bad_lanes_[t], err);
          bad_calls_ = true;
        }
        ++calls_[t];
        done += n;
      }
    });
    sample s;
    s.seconds = seconds_since(t0);
    s.work = static_cast<double>(team_.size()) * static_cast<double>(reps) *
             k::compute_chains(level_) * ops_per_instruction();
    s.clock_mhz = probe_clock_mhz(team_);
    s.temperature_c = read_temperature();
    return s;
  }

  verification verify() override {
    verification v;
    v.tolerance = 0;  // every lane holds an exactly representable value
    for (double e : bad_lanes_) v.max_error = std::max(v.max_error, e);
    std::uint64_t calls = 0;
    for (auto c : calls_) calls += c;
    v.passed = calls > 0 && !bad_calls_;
    v.detail = fmt::format(
        "{} calls on {} threads, each checked: every lane of {} chains must equal iterations x "
        "{} (exact)",
        calls, team_.size(), k::compute_chains(level_), expected_lane(1));
    if (!v.passed) v.detail += fmt::format("; relative error up to {:.3g}", v.max_error);
    return v;
  }

  [[nodiscard]] std::optional<std::pair<double, std::string>> theoretical(
      double clock_mhz) const override {
    if (!ipc_ || std::isnan(clock_mhz)) return std::nullopt;
    const double rate = *ipc_ * ops_per_instruction() * team_.size() * clock_mhz * 1e6;
    return std::make_pair(
        rate,
        fmt::format("{} instr/cycle x {} ops/instr x {} cores x {:.0f} MHz (measured clock; {})",
                    *ipc_, ops_per_instruction(), team_.size(), clock_mhz, arch_));
  }

  // Without a tabled rate, the issue ceiling: no core retires more of these instructions a cycle.
  [[nodiscard]] std::optional<std::pair<double, std::string>> ceiling(
      double clock_mhz) const override {
    if (ipc_) return theoretical(clock_mhz);
    if (!issue_ceiling_ || std::isnan(clock_mhz)) return std::nullopt;
    const double rate = *issue_ceiling_ * ops_per_instruction() * team_.size() * clock_mhz * 1e6;
    return std::make_pair(
        rate,
        fmt::format(
            "issue ceiling: {} instr/cycle x {} ops/instr x {} cores x {:.0f} MHz (no core in "
            "specs/arch/cpu.json issues more)",
            *issue_ceiling_, ops_per_instruction(), team_.size(), clock_mhz));
  }

  [[nodiscard]] std::uint64_t call_bound() const {
    switch (kind_) {
      case compute_kind::fma_fp64: return 1ULL << 40;
      case compute_kind::fma_fp32: return 1ULL << 22;  // 2^22 x 2^-8 = 2^14: exact in 24 bits
      case compute_kind::fma_fp16: return 1ULL << 11;  // 2^11 x 2^-4 = 2^7: exact in 11 bits
      case compute_kind::dot_bf16:
        return 1ULL << 22;  // each 2^-14 product must stay >= half an ulp: acc < 2^10
      case compute_kind::dot_int8: return 1ULL << 28;  // 4 x 2^28 < 2^31
    }
    return 1;
  }

 private:
  // Operations per instruction: lanes x 2 per multiply-add; dots fuse 2 (bf16) or 4 (int8) MACs a
  // lane.
  [[nodiscard]] double ops_per_instruction() const {
    switch (kind_) {
      case compute_kind::fma_fp64: return k::lanes_f64(level_) * 2.0;
      case compute_kind::fma_fp32: return k::lanes_f32(level_) * 2.0;
      case compute_kind::fma_fp16:
        return k::lanes_f32(level_) * 2.0 * 2.0;  // 32 FP16 lanes in 512 bits
      case compute_kind::dot_bf16: return k::lanes_f32(level_) * 2.0 * 2.0;
      case compute_kind::dot_int8: return k::lanes_f32(level_) * 4.0 * 2.0;
    }
    return 0;
  }

  [[nodiscard]] double expected_lane(std::uint64_t reps) const {
    const auto n = static_cast<double>(reps);
    switch (kind_) {
      case compute_kind::fma_fp64: return n * fp64_add;
      case compute_kind::fma_fp32: return n * static_cast<double>(fp32_add);
      case compute_kind::fma_fp16: return n * 0x1p-4;
      case compute_kind::dot_bf16: return n * std::ldexp(1.0, -13);
      case compute_kind::dot_int8: return n * 4.0;
    }
    return 0;
  }

  k::lane_range kernel(std::uint64_t reps) const {
    switch (kind_) {
      case compute_kind::fma_fp64: return k::fma_f64(level_, reps, fp64_add);
      case compute_kind::fma_fp32: return k::fma_f32(level_, reps, fp32_add);
      case compute_kind::fma_fp16: return k::fma_f16_avx512(reps);
      case compute_kind::dot_bf16: return k::dot_bf16_avx512(reps);
      case compute_kind::dot_int8: return k::dot_int8_vnni(level_, reps);
    }
    return {};
  }

  static constexpr double fp64_add = 0x1p-10;
  static constexpr float fp32_add = 0x1p-8F;

  thread_team& team_;
  benchmark_info info_;
  k::isa level_;
  compute_kind kind_;
  std::optional<double> ipc_;
  std::string arch_;
  std::optional<double> issue_ceiling_;
  std::vector<double> bad_lanes_;  // worst relative error per thread (0: all exact)
  std::vector<std::uint64_t> calls_;
  std::atomic<bool> bad_calls_{false};  // sticky: any mismatch in any sample fails verification
};

// --- STREAM --------------------------------------------------------------------------------------

enum class stream_kind { copy, scale, add, triad };

// Initial values: base + a per-element fraction from a hash of the index, exact in a double. Arrays
// of one repeated value are a trap under a hypervisor: same-page merging (KSM) maps identical
// pages to one physical page, reads then hit in cache and "DRAM" bandwidth doubles (seen here on
// a VM). Distinct page contents keep every byte coming from memory.
double init_value(std::size_t i, double base) {
  std::uint64_t z = i + 0x9E3779B97F4A7C15ULL;  // splitmix64
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return base + static_cast<double>(z & 0xFFFF) * 0x1p-16;
}
constexpr double base_a = 1.0;
constexpr double base_b = 2.0;
constexpr double base_c = 3.0;
constexpr double scalar = 0.4;

class stream_case final : public benchmark_case {
 public:
  stream_case(thread_team& team, benchmark_info info, k::isa level, stream_kind kind, std::size_t n)
      : team_(team), info_(std::move(info)), level_(level), kind_(kind), a_(n), b_(n), c_(n) {
    // Chunks of whole cache lines, first touched by the thread that uses them.
    const std::size_t per = ((n / static_cast<std::size_t>(team.size())) / 8) * 8;
    for (int t = 0; t < team.size(); ++t) {
      const std::size_t begin = per * static_cast<std::size_t>(t);
      chunks_.emplace_back(begin, t + 1 == team.size() ? n - begin : per);
    }
    team_.run([&](int t) {
      const auto [begin, len] = chunks_[static_cast<std::size_t>(t)];
      for (std::size_t i = begin; i < begin + len; ++i) {
        a_.data[i] = init_value(i, base_a);
        b_.data[i] = init_value(i, base_b);
        c_.data[i] = init_value(i, base_c);
      }
    });
  }

  [[nodiscard]] const benchmark_info& info() const override { return info_; }

  sample run(std::uint64_t reps) override {
    const auto t0 = clock_type::now();
    team_.run([&](int t) {
      const auto [begin, len] = chunks_[static_cast<std::size_t>(t)];
      double* a = a_.data + begin;
      double* b = b_.data + begin;
      double* c = c_.data + begin;
      for (std::uint64_t r = 0; r < reps; ++r) {
        switch (kind_) {
          case stream_kind::copy: k::stream_copy(level_, a, c, len, true); break;
          case stream_kind::scale: k::stream_scale(level_, b, c, scalar, len, true); break;
          case stream_kind::add: k::stream_add(level_, a, b, c, len, true); break;
          case stream_kind::triad: k::stream_triad(level_, a, b, c, scalar, len, true); break;
        }
      }
    });
    sample s;
    s.seconds = seconds_since(t0);
    s.work = static_cast<double>(reps) * bytes_per_element() * static_cast<double>(a_.n);
    s.clock_mhz = probe_clock_mhz(team_);
    s.temperature_c = read_temperature();
    return s;
  }

  verification verify() override {
    // Each kernel rewrites one array from the others, which it leaves untouched: every element of
    // the output must equal the kernel applied to the initial values.
    const double* out = kind_ == stream_kind::copy || kind_ == stream_kind::add ? c_.data
                        : kind_ == stream_kind::scale                           ? b_.data
                                                                                : a_.data;
    verification v;
    v.tolerance = 1e-15;  // one rounding: vector FMA versus separate multiply and add
    std::size_t bad = 0;
    for (std::size_t i = 0; i < a_.n; ++i) {
      const double a = init_value(i, base_a);
      const double b = init_value(i, base_b);
      const double c = init_value(i, base_c);
      double expected = 0;
      switch (kind_) {
        case stream_kind::copy: expected = a; break;
        case stream_kind::scale: expected = scalar * c; break;
        case stream_kind::add: expected = a + b; break;
        case stream_kind::triad: expected = std::fma(scalar, c, b); break;
      }
      const double err = std::fabs(out[i] - expected) / std::fabs(expected);
      v.max_error = std::max(v.max_error, err);
      if (!(err <= v.tolerance)) ++bad;
    }
    v.passed = bad == 0;
    v.detail = fmt::format(
        "all {} elements against the kernel applied to their initial values (relative tolerance "
        "{:g}); {} outside",
        a_.n, v.tolerance, bad);
    return v;
  }

  [[nodiscard]] std::optional<std::pair<double, std::string>> theoretical(double) const override {
    return std::nullopt;
  }

 private:
  // Bytes moved per element, counted as BabelStream does (no write-allocate: stores are
  // non-temporal).
  [[nodiscard]] double bytes_per_element() const {
    return (kind_ == stream_kind::add || kind_ == stream_kind::triad ? 3.0 : 2.0) * sizeof(double);
  }

  thread_team& team_;
  benchmark_info info_;
  k::isa level_;
  stream_kind kind_;
  aligned_array a_;
  aligned_array b_;
  aligned_array c_;
  std::vector<std::pair<std::size_t, std::size_t>> chunks_;
};

// --- Read sweep ----------------------------------------------------------------------------------

class read_case final : public benchmark_case {
 public:
  read_case(thread_team& team, benchmark_info info, k::isa level, std::size_t per_thread)
      : team_(team), info_(std::move(info)), level_(level), n_(per_thread) {
    arrays_.resize(static_cast<std::size_t>(team.size()));
    sums_.assign(arrays_.size(), 0);
    base_sums_.assign(arrays_.size(), 0);
    team_.run([&](int t) {
      auto& a = arrays_[static_cast<std::size_t>(t)];
      a = std::make_unique<aligned_array>(n_);
      // Small integers (exact sums), distinct per page for the reason given at init_value.
      double sum = 0;
      for (std::size_t i = 0; i < n_; ++i) {
        a->data[i] = std::floor((init_value(i + static_cast<std::size_t>(t) * n_, 0) * 1024));
        sum += a->data[i];
      }
      base_sums_[static_cast<std::size_t>(t)] = sum;
    });
  }

  [[nodiscard]] const benchmark_info& info() const override { return info_; }

  sample run(std::uint64_t reps) override {
    const auto t0 = clock_type::now();
    team_.run([&](int t) {
      sums_[static_cast<std::size_t>(t)] = k::read_sum(
          level_, arrays_[static_cast<std::size_t>(t)]->data, n_, static_cast<int>(reps));
    });
    sample s;
    s.seconds = seconds_since(t0);
    s.work = static_cast<double>(reps) * static_cast<double>(n_) * sizeof(double) * team_.size();
    s.clock_mhz = probe_clock_mhz(team_);
    s.temperature_c = read_temperature();
    last_reps_ = reps;
    return s;
  }

  verification verify() override {
    verification v;
    v.passed = true;
    for (std::size_t t = 0; t < sums_.size(); ++t) {
      const double expected = base_sums_[t] * static_cast<double>(last_reps_);
      v.max_error = std::max(v.max_error, std::fabs(sums_[t] - expected) / expected);
      if (sums_[t] != expected) v.passed = false;
    }
    v.detail = fmt::format(
        "each thread's sum of its {} integers x {} passes must equal its one-pass sum x {} (exact)",
        n_, last_reps_, last_reps_);
    return v;
  }

  [[nodiscard]] std::optional<std::pair<double, std::string>> theoretical(double) const override {
    return std::nullopt;
  }
  // Sums stay exact below 2^53: n x 1023 x reps.
  [[nodiscard]] std::uint64_t max_reps() const override {
    return std::min<std::uint64_t>(1U << 30,
                                   (1ULL << 53) / (static_cast<std::uint64_t>(n_) * 1024));
  }

 private:
  thread_team& team_;
  benchmark_info info_;
  k::isa level_;
  std::size_t n_;
  std::vector<std::unique_ptr<aligned_array>> arrays_;
  std::vector<double> sums_;
  std::vector<double> base_sums_;  // one pass over each thread's array
  std::uint64_t last_reps_ = 0;
};

// --- The backend ---------------------------------------------------------------------------------

std::string human_bytes(double b) {
  if (b >= 1024.0 * 1024 * 1024) return fmt::format("{:.0f}GiB", b / (1024.0 * 1024 * 1024));
  if (b >= 1024.0 * 1024) return fmt::format("{:.0f}MiB", b / (1024.0 * 1024));
  return fmt::format("{:.0f}KiB", b / 1024.0);
}

class cpu_backend final : public backend {
 public:
  explicit cpu_backend(std::string specs_dir) : specs_dir_(std::move(specs_dir)) {}

  [[nodiscard]] std::string name() const override { return "cpu"; }

  std::vector<device_info> devices() override {
    const auto cpus = one_cpu_per_core();
    device_info d;
    d.backend = "cpu";
    d.id = "cpu0";
    d.name = features_.brand.empty() ? "unknown CPU" : features_.brand;
    d.vendor = features_.vendor;
    d.units = static_cast<int>(cpus.size());
    d.features = features_.names();
    d.properties.emplace_back("family", std::to_string(features_.family));
    d.properties.emplace_back("model", std::to_string(features_.model));
    for (auto& p : cpuinfo_identity()) d.properties.push_back(std::move(p));
    d.properties.emplace_back("isa", k::to_string(level()));
    std::string list;
    for (int c : cpus) list += (list.empty() ? "" : ",") + std::to_string(c);
    d.properties.emplace_back("cpus", list);
    d.properties.emplace_back("architecture",
                              arch() ? arch()->name : "unknown (no entry in specs/arch/cpu.json)");
    for (int level = 1; level <= 3; ++level) {
      if (const double b = cache_bytes(level); b > 0)
        d.properties.emplace_back(fmt::format("l{}_bytes", level), fmt::format("{:.0f}", b));
    }
    const auto gov = read_first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
    d.properties.emplace_back("governor", gov.empty() ? "unreadable" : gov);
    return {d};
  }

  std::pair<std::vector<benchmark_info>, std::vector<skipped_benchmark>> benchmarks(
      const device_info&, run_mode mode) override {
    std::vector<benchmark_info> run;
    std::vector<skipped_benchmark> skip;
    for (auto& e : catalogue(mode)) {
      if (e.skip_reason) skip.push_back({std::move(e.info), std::move(*e.skip_reason)});
      else run.push_back(std::move(e.info));
    }
    return {run, skip};
  }

  // The entry of the catalogue named b.name makes the case from the parameters it captured;
  // nothing is read back from the name.
  std::unique_ptr<benchmark_case> prepare(const device_info&, const benchmark_info& b,
                                          run_mode mode) override {
    for (auto& e : catalogue(mode)) {
      if (e.info.name != b.name) continue;
      if (e.skip_reason)
        throw usage_error(
            fmt::format("the cpu backend cannot run '{}': {}", b.name, *e.skip_reason));
      return e.make(b);
    }
    throw usage_error(fmt::format("the cpu backend has no benchmark '{}'", b.name));
  }

 private:
  // One catalogue entry: what a report lists, why it is skipped on this CPU (if it is), and the
  // factory that makes its case with the parameters captured here. Adding a CPU benchmark is one
  // entry below and, for a new kind of work, one case class above.
  struct entry {
    benchmark_info info;
    std::optional<std::string> skip_reason;
    std::function<std::unique_ptr<benchmark_case>(const benchmark_info&)> make;
  };

  std::vector<entry> catalogue(run_mode mode) {
    std::vector<entry> out;
    const auto lv = level();
    const std::string isa_name = k::to_string(lv);
    const std::string arch_name = arch() ? arch()->name : "";
    const auto ceil = arch_table().issue_ceiling;
    // The measured instructions per clock of `key` in specs/arch/cpu.json for this architecture.
    auto ipc_for = [this](const std::string& key) -> std::optional<double> {
      if (!arch()) return std::nullopt;
      const auto it = arch()->ipc.find(key);
      return it == arch()->ipc.end() ? std::nullopt : std::optional<double>(it->second);
    };
    auto compute = [&](benchmark_info info, k::isa il, compute_kind kind,
                       std::optional<std::string> skip) {
      const auto ipc = ipc_for(info.name + "." + info.isa);
      out.push_back({std::move(info), std::move(skip),
                     [this, il, kind, ipc, arch_name, ceil](const benchmark_info& b) {
                       return std::make_unique<compute_case>(team(), b, il, kind, ipc, arch_name,
                                                             ceil);
                     }});
    };
    compute({"fma_fp64", "compute", precision::fp64, metric_kind::ops_per_s, isa_name,
             "FP64 fused multiply-add", 0},
            lv, compute_kind::fma_fp64, std::nullopt);
    compute({"fma_fp32", "compute", precision::fp32, metric_kind::ops_per_s, isa_name,
             "FP32 fused multiply-add", 0},
            lv, compute_kind::fma_fp32, std::nullopt);
    compute({"dot_bf16", "compute", precision::bf16, metric_kind::ops_per_s, "avx512",
             "BF16 pair dot product into FP32 (VDPBF16PS)", 0},
            k::isa::avx512, compute_kind::dot_bf16,
            features_.avx512_bf16 ? std::nullopt
                                  : std::optional<std::string>("the CPU lacks AVX512_BF16"));
    compute({"dot_int8", "compute", precision::int8, metric_kind::ops_per_s,
             features_.avx512_vnni ? "avx512" : "avx2",
             "INT8 quad dot product into INT32 (VPDPBUSD)", 0},
            features_.avx512_vnni ? k::isa::avx512 : k::isa::avx2, compute_kind::dot_int8,
            features_.avx512_vnni || features_.avx_vnni
                ? std::nullopt
                : std::optional<std::string>("the CPU lacks AVX512_VNNI and AVX_VNNI"));
    compute({"fma_fp16", "compute", precision::fp16, metric_kind::ops_per_s, "avx512",
             "FP16 fused multiply-add (VFMADD132PH)", 0},
            k::isa::avx512, compute_kind::fma_fp16,
            features_.avx512_fp16 ? std::nullopt
                                  : std::optional<std::string>("the CPU lacks AVX512_FP16"));
    if (features_.amx_bf16 || features_.amx_int8)
      out.push_back({{"amx_bf16", "compute", precision::bf16, metric_kind::ops_per_s, "amx",
                      "AMX tile multiply", 0},
                     "AMX is present but chipgauge has no AMX kernel yet",
                     {}});

    const double per_array = stream_array_bytes(mode);
    const auto n = static_cast<std::size_t>(per_array / sizeof(double));
    for (const auto& [kname, kind] :
         {std::pair{"copy", stream_kind::copy}, std::pair{"scale", stream_kind::scale},
          std::pair{"add", stream_kind::add}, std::pair{"triad", stream_kind::triad}}) {
      const bool three = kind == stream_kind::add || kind == stream_kind::triad;
      out.push_back(
          {{std::string("stream_") + kname, "memory", std::nullopt, metric_kind::bytes_per_s,
            isa_name,
            fmt::format(
                "STREAM {} over 3 arrays of {} (non-temporal stores; {} arrays moved; hashed "
                "data, distinct per page)",
                kname, human_bytes(per_array), three ? 3 : 2),
            3 * per_array},
           std::nullopt,
           [this, lv, k = kind, n](const benchmark_info& b) {
             return std::make_unique<stream_case>(team(), b, lv, k, n);
           }});
    }
    for (const auto& [label, bytes] : sweep_points(mode)) {
      const auto per_thread =
          std::max<std::size_t>(static_cast<std::size_t>(bytes / sizeof(double)), 64);
      out.push_back(
          {{"read_" + label, "sweep", std::nullopt, metric_kind::bytes_per_s, isa_name,
            fmt::format("read bandwidth, {} per thread (hashed integers, distinct per page)",
                        human_bytes(bytes)),
            bytes * team().size()},
           std::nullopt,
           [this, lv, per_thread](const benchmark_info& b) {
             return std::make_unique<read_case>(team(), b, lv, per_thread);
           }});
    }
    return out;
  }

  [[nodiscard]] k::isa level() const {
    if (features_.avx512f) return k::isa::avx512;
    if (features_.avx2 && features_.fma) return k::isa::avx2;
    return k::isa::scalar;
  }

  thread_team& team() {
    if (!team_) team_ = std::make_unique<thread_team>(one_cpu_per_core());
    return *team_;
  }

  const cpu_arch_table& arch_table() {
    if (!arch_loaded_) {
      arch_ = load_cpu_arch((std::filesystem::path(specs_dir_) / "arch" / "cpu.json").string(),
                            features_);
      arch_loaded_ = true;
    }
    return arch_;
  }
  const std::optional<arch_entry>& arch() { return arch_table().arch; }

  // Each STREAM array: at least 4 x the last-level cache (all instances), and at least 64 MiB
  // (full: twice that).
  static double stream_array_bytes(run_mode mode) {
    const double llc = std::max(total_l3_bytes(), cache_bytes(2));
    const double base = std::max(4 * llc, 64.0 * 1024 * 1024);
    return mode == run_mode::full ? 2 * base : base;
  }

  // Footprints per thread: half of L1d and of L2, a share of half of one L3 instance, and 4 x the
  // total L3 for DRAM.
  // Full mode adds every power of two in between.
  std::vector<std::pair<std::string, double>> sweep_points(run_mode mode) {
    const double l1 = cache_bytes(1) > 0 ? cache_bytes(1) : 32 * 1024.0;
    const double l2 = cache_bytes(2) > 0 ? cache_bytes(2) : 1024 * 1024.0;
    const double l3 = cache_bytes(3) > 0 ? cache_bytes(3) : 8 * 1024 * 1024.0;
    const double threads = team().size();
    std::vector<std::pair<std::string, double>> pts{
        {"l1", l1 / 2},
        {"l2", l2 / 2},
        {"l3", l3 / 2 / threads},
        {"dram", std::max(4 * total_l3_bytes(), 64.0 * 1024 * 1024) / threads}};
    if (mode == run_mode::full) {
      for (double b = 4096; b <= 4 * l3 / threads; b *= 2) pts.emplace_back(human_bytes(b), b);
    }
    return pts;
  }

  std::string specs_dir_;
  k::cpu_features features_ = k::detect_features();
  std::unique_ptr<thread_team> team_;
  cpu_arch_table arch_;
  bool arch_loaded_ = false;
};

}  // namespace

std::unique_ptr<backend> make_cpu_backend(const std::string& specs_dir) {
  return std::make_unique<cpu_backend>(specs_dir);
}

}  // namespace chipgauge::bench
