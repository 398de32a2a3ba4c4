// The CUDA backend: device identity; vector FMA, tensor cores (mma.sync, wgmma), cuBLASLt GEMMs,
// DRAM, L2 and shared memory, host-device and peer copies, each verified; timed with CUDA events
// behind a blocking kernel, with a per-sample clock probe and NVML telemetry polled while the GPU
// works; hung work, sticky errors and ECC errors end a case with the reason.
#include "chipgauge/bench/cuda_backend.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "chipgauge/kernels/cuda.hpp"
#include "chipgauge/kernels/cuda_fault.hpp"
#include "cuda_arch.hpp"
#include "cuda_plan.hpp"
#include "nvml.hpp"

#include <cublasLt.h>
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <fmt/format.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <thread>
#include <vector>

namespace chipgauge::bench {

namespace {

namespace kc = chipgauge::kernels::cuda;

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw error(fmt::format("{}: {}: {}", what, cudaGetErrorName(e), cudaGetErrorString(e)));
}
void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw error(fmt::format("{}: {}", what, cublasLtGetStatusName(s)));
}
#define CHIPGAUGE_CUDA(call) check((call), #call)
#define CHIPGAUGE_CUBLAS(call) check((call), #call)

// For destructors and best-effort queries: the result is deliberately ignored (a destructor runs
// on paths that already report the failure that matters; a query that fails leaves its default).
void release(cudaError_t e) noexcept { (void)e; }

// How long one sample's queued work may take before the device counts as hung. 60 s by default;
// CHIPGAUGE_CUDA_DEADLINE_S overrides it (the fault-injection check uses a few seconds).
std::chrono::duration<double> work_deadline() {
  if (const char* v = std::getenv("CHIPGAUGE_CUDA_DEADLINE_S"); v && *v) {
    char* end = nullptr;
    const double s = std::strtod(v, &end);
    if (end && *end == '\0' && s > 0 && s <= 86400) return std::chrono::duration<double>(s);
    throw usage_error(fmt::format("CHIPGAUGE_CUDA_DEADLINE_S='{}': expected seconds in (0, 86400]", v));
  }
  return std::chrono::duration<double>(60.0);
}

// The fault CHIPGAUGE_CUDA_FAULT asks to inject (hang, illegal, launch), if any.
std::optional<kernels::cuda::fault_kind> injected_fault() {
  const char* v = std::getenv("CHIPGAUGE_CUDA_FAULT");
  if (!v || !*v) return std::nullopt;
  const std::string f(v);
  for (const auto k : kernels::cuda::all_faults) {
    if (f == to_string(k)) return k;
  }
  throw usage_error(fmt::format("CHIPGAUGE_CUDA_FAULT='{}': expected hang, illegal or launch", f));
}

struct device_buffer {
  void* ptr = nullptr;
  std::size_t bytes = 0;
  explicit device_buffer(std::size_t n) : bytes(n) { CHIPGAUGE_CUDA(cudaMalloc(&ptr, n)); }
  ~device_buffer() { release(cudaFree(ptr)); }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  template <typename T>
  T* as() const { return static_cast<T*>(ptr); }
};

struct pinned_buffer {
  void* ptr = nullptr;
  std::size_t bytes = 0;
  explicit pinned_buffer(std::size_t n, unsigned flags = cudaHostAllocDefault) : bytes(n) {
    CHIPGAUGE_CUDA(cudaHostAlloc(&ptr, n, flags));
  }
  ~pinned_buffer() { release(cudaFreeHost(ptr)); }
  pinned_buffer(const pinned_buffer&) = delete;
  pinned_buffer& operator=(const pinned_buffer&) = delete;
  template <typename T>
  T* as() const { return static_cast<T*>(ptr); }
};

struct stream_handle {
  cudaStream_t s = nullptr;
  stream_handle() { CHIPGAUGE_CUDA(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking)); }
  ~stream_handle() { release(cudaStreamDestroy(s)); }
  stream_handle(const stream_handle&) = delete;
  stream_handle& operator=(const stream_handle&) = delete;
};

struct event_handle {
  cudaEvent_t e = nullptr;
  event_handle() { CHIPGAUGE_CUDA(cudaEventCreate(&e)); }
  ~event_handle() { release(cudaEventDestroy(e)); }
  event_handle(const event_handle&) = delete;
  event_handle& operator=(const event_handle&) = delete;
};

double hashed(std::size_t i, double base) {
  std::uint64_t z = i + 0x9E3779B97F4A7C15ULL;  // the same splitmix64 as kernels/cuda/memory.cu
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return base + static_cast<double>(z & 0xFFFF) * 0x1p-16;
}

struct gpu {
  int index = 0;
  cudaDeviceProp prop{};
  std::string pci;
  int clock_khz = 0;
  int mem_clock_khz = 0;
  int bus_width = 0;
  int smem_optin = 0;  ///< bytes of shared memory one block may opt in to
  int coherent_host_link = 0;  ///< host link with native atomics (NVLink-C2C on GH200), not PCIe
  std::optional<unsigned long long> ecc_baseline;  ///< NVML uncorrectable-ECC count at start
  cuda_arch arch;  ///< specs/arch/cuda.json for this device, read once
  cuda_device_facts facts;  ///< what the catalogue and the fixed peaks depend on (cuda_plan.hpp)

  [[nodiscard]] int cc() const { return prop.major * 10 + prop.minor; }
  /// Blocks of `threads` that fit on one SM by the thread limit, at most `wanted`.
  [[nodiscard]] int fit(int wanted, int threads) const { return facts.fit(wanted, threads); }
};

// Makes `device` current; as the first base of a case it runs before any member (stream, events,
// buffers) is created, so they all belong to the case's GPU.
struct device_selector {
  explicit device_selector(int device) { CHIPGAUGE_CUDA(cudaSetDevice(device)); }
};

// Telemetry gathered while one sample's work runs (NVML polled every few milliseconds).
struct telemetry {
  int readings = 0;
  int clock_readings = 0;
  double sm_clock_sum = 0;
  double max_power = std::nan("");
  double max_temperature = std::nan("");
  double mem_clock = std::nan("");
  double power_limit = std::nan("");
  std::optional<std::uint64_t> reasons;

  void add(const nvml_sample& t) {
    ++readings;
    auto high = [](double& into, double v) { into = std::isnan(into) ? v : std::max(into, v); };
    if (t.sm_clock_mhz) {
      sm_clock_sum += *t.sm_clock_mhz;
      ++clock_readings;
    }
    if (t.power_w) high(max_power, *t.power_w);
    if (t.temperature_c) high(max_temperature, *t.temperature_c);
    if (t.mem_clock_mhz) mem_clock = *t.mem_clock_mhz;
    if (t.power_limit_w) power_limit = *t.power_limit_w;
    if (t.throttle_reasons) reasons = reasons.value_or(0) | *t.throttle_reasons;
  }
};

// What every case shares: the device, a stream, events, the blocking flag and the clock probe.
class cuda_case : private device_selector, public benchmark_case {
 public:
  /// `per_sm`: the clock-scaled peak (ops or bytes per clock per SM, from specs/arch/cuda.json);
  /// `fixed`: a peak independent of the SM clock (DRAM, PCIe). At most one is set.
  cuda_case(const gpu& g, benchmark_info info, const nvml& n, std::optional<double> per_sm,
            std::optional<fixed_peak> fixed = std::nullopt)
      : device_selector(g.index), g_(g), info_(std::move(info)), nvml_(n), per_sm_(per_sm), fixed_(std::move(fixed)),
        flag_(sizeof(int), cudaHostAllocMapped), timed_out_(sizeof(int), cudaHostAllocMapped), probe_(2 * sizeof(std::uint64_t)) {
    void* dev = nullptr;
    CHIPGAUGE_CUDA(cudaHostGetDevicePointer(&dev, flag_.ptr, 0));
    flag_dev_ = static_cast<volatile int*>(dev);
    CHIPGAUGE_CUDA(cudaHostGetDevicePointer(&dev, timed_out_.ptr, 0));
    timed_out_dev_ = static_cast<int*>(dev);
  }
  [[nodiscard]] const benchmark_info& info() const override { return info_; }

  sample run(std::uint64_t reps) override {
    CHIPGAUGE_CUDA(cudaSetDevice(g_.index));
    // CUDA loads kernels lazily, and loading may synchronise the context, which would deadlock
    // against the blocking kernel: one untimed, unblocked repetition loads everything first.
    if (!loaded_) {
      (void)enqueue(1);
      CHIPGAUGE_CUDA(cudaEventRecord(stop_.e, stream_.s));
      wait(stop_.e, nullptr);
      loaded_ = true;
    }
    const auto ecc_before = nvml_.uncorrected_ecc(g_.pci);
    *static_cast<volatile int*>(flag_.ptr) = 0;
    *static_cast<volatile int*>(timed_out_.ptr) = 0;
    // Releases the blocking kernel on every path out of here, exceptions included.
    struct release_flag {
      volatile int* flag;
      ~release_flag() { *flag = 1; }
    } guard{static_cast<volatile int*>(flag_.ptr)};
    kc::launch_blocking(flag_dev_, blocking_timeout_ns, timed_out_dev_, stream_.s);  // holds the stream while we queue
    CHIPGAUGE_CUDA(cudaEventRecord(start_.e, stream_.s));
    const double work = enqueue(reps);
    CHIPGAUGE_CUDA(cudaEventRecord(stop_.e, stream_.s));
    const auto energy_before = nvml_.energy_mj(g_.pci);
    const auto released = std::chrono::steady_clock::now();
    *static_cast<volatile int*>(flag_.ptr) = 1;
    telemetry during;
    wait(stop_.e, &during);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - released).count();
    const auto energy_after = nvml_.energy_mj(g_.pci);
    // If queueing outlasted the blocking kernel, the launches were timed as the host issued them.
    if (*static_cast<volatile int*>(timed_out_.ptr) != 0)
      throw error(fmt::format("queueing {} launches outlasted the blocking kernel ({} s): the sample would time the host",
                              reps, blocking_timeout_ns / 1e9));
    float ms = 0;
    CHIPGAUGE_CUDA(cudaEventElapsedTime(&ms, start_.e, stop_.e));
    sample s;
    s.seconds = ms / 1e3;
    s.work = work;
    s.clock_mhz = probe_clock_mhz();
    const bool idle_reading = during.readings == 0;
    if (idle_reading) during.add(nvml_.sample(g_.pci));  // work shorter than one poll: after it
    s.temperature_c = during.max_temperature;
    s.memory_clock_mhz = during.mem_clock;
    // Only readings taken while the work ran: the clock the theoretical peak should use.
    if (during.clock_readings > 0 && !idle_reading) s.sm_clock_nvml_mhz = during.sm_clock_sum / during.clock_readings;
    s.power_limit_w = during.power_limit;
    s.throttle_reasons = during.reasons;
    s.other_device_processes = nvml_.other_processes(g_.pci);
    // Board power: the energy counter over the sample when the sample is long enough to average
    // its steps (it advances every 10 ms or more), else the highest power reading taken during the
    // work (NVML's reading is itself an average over up to a second on recent GPUs).
    s.power_w = energy_before && energy_after && *energy_after > *energy_before && wall >= min_energy_window_s
                    ? static_cast<double>(*energy_after - *energy_before) / 1e3 / wall
                    : during.max_power;
    const auto ecc_after = nvml_.uncorrected_ecc(g_.pci);
    if (ecc_before && ecc_after && *ecc_after > *ecc_before)
      throw error(fmt::format("uncorrectable ECC errors rose by {} during the sample (NVML volatile count {} -> {}): "
                              "no later benchmark runs on this device",
                              *ecc_after - *ecc_before, *ecc_before, *ecc_after));
    return s;
  }

  // nvbench schedules about 32 launches behind its blocking kernel; more can fill the launch
  // queue, block the host and outlast the blocker. Each case sizes one launch so that 32 of them
  // make a sample.
  [[nodiscard]] std::uint64_t max_reps() const override { return 32; }

  [[nodiscard]] std::optional<double> max_clock_mhz() const override {
    return g_.clock_khz > 0 ? std::optional<double>(g_.clock_khz / 1000.0) : std::nullopt;
  }

  [[nodiscard]] std::optional<std::pair<double, std::string>> theoretical(double clock_mhz) const override {
    if (fixed_) return std::make_pair(fixed_->rate, fixed_->basis);
    if (!per_sm_ || std::isnan(clock_mhz)) return std::nullopt;
    const char* unit = info_.metric == metric_kind::bytes_per_s ? "bytes" : "ops";
    return std::make_pair(*per_sm_ * g_.prop.multiProcessorCount * clock_mhz * 1e6,
                          fmt::format("{} {}/clock/SM x {} SMs x {:.0f} MHz (specs/arch/cuda.json)", *per_sm_, unit,
                                      g_.prop.multiProcessorCount, clock_mhz));
  }

 protected:
  virtual double enqueue(std::uint64_t reps) = 0;

  // Waits for `e` by polling, reading NVML every 5 ms meanwhile (the GPU is busy then, so the
  // clocks, power and throttle reasons are the work's). Throws device_hung past the deadline.
  void wait(cudaEvent_t e, telemetry* t) const {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    const auto deadline = work_deadline();
    auto next_reading = start;
    for (;;) {
      const cudaError_t q = cudaEventQuery(e);
      if (q == cudaSuccess) return;
      if (q != cudaErrorNotReady) check(q, "waiting for the queued work");
      const auto now = clock::now();
      if (now - start > deadline)
        throw device_hung(fmt::format("the work queued for one sample of {} on cuda:{} did not finish within {:.0f} s "
                                      "(a hung kernel; set CHIPGAUGE_CUDA_DEADLINE_S if it is merely slow)",
                                      info_.name, g_.index, deadline.count()));
      if (t && now >= next_reading) {
        t->add(nvml_.sample(g_.pci));
        next_reading = now + std::chrono::milliseconds(5);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  // SM clock from one thread spinning 2 M cycles: clock64() cycles over %globaltimer ns.
  double probe_clock_mhz() {
    kc::launch_clock_probe(2'000'000, probe_.as<std::uint64_t>(), stream_.s);
    std::uint64_t out[2] = {0, 0};
    CHIPGAUGE_CUDA(cudaMemcpyAsync(out, probe_.ptr, sizeof out, cudaMemcpyDeviceToHost, stream_.s));
    CHIPGAUGE_CUDA(cudaEventRecord(probe_done_.e, stream_.s));
    wait(probe_done_.e, nullptr);
    return out[0] > 0 ? static_cast<double>(out[1]) / static_cast<double>(out[0]) * 1e3 : std::nan("");
  }

  // Blocks for `per_sm` blocks of `threads` per SM, capped at what one SM holds (1,536 threads on
  // compute capability 8.6/8.9, 2,048 on 8.0/9.0), so a launch is one wave, never a partial second.
  [[nodiscard]] int blocks(int per_sm, int threads = 256) const { return g_.prop.multiProcessorCount * g_.fit(per_sm, threads); }

  const gpu& g_;
  benchmark_info info_;
  const nvml& nvml_;
  std::optional<double> per_sm_;
  std::optional<fixed_peak> fixed_;
  bool loaded_ = false;
  static constexpr std::uint64_t blocking_timeout_ns = 2'000'000'000ULL;
  static constexpr double min_energy_window_s = 0.25;

  stream_handle stream_;
  event_handle start_;
  event_handle stop_;
  event_handle probe_done_;
  pinned_buffer flag_;
  pinned_buffer timed_out_;
  volatile int* flag_dev_ = nullptr;
  int* timed_out_dev_ = nullptr;
  device_buffer probe_;
};

// Fills a fresh output buffer with a value no benchmark produces (0x7F bytes: about 3.4e38 as
// FP32, 1.4e306 as FP64, 2,139,062,143 as INT32), so a case that never wrote it fails verification
// instead of passing on a previous case's results left in recycled memory.
// The memset is on the legacy stream, unordered with the case's non-blocking stream: it is waited for.
void poison(const device_buffer& b) {
  CHIPGAUGE_CUDA(cudaMemset(b.ptr, 0x7F, b.bytes));
  CHIPGAUGE_CUDA(cudaDeviceSynchronize());
}

// Exact comparison of every output with its expected value: how many differ, and the first one,
// so a failure shows what came back ("N differ (first: X)").
struct mismatches {
  std::size_t count = 0;
  double first = 0;
  [[nodiscard]] std::string text() const {
    return count == 0 ? std::string("0 differ") : fmt::format("{} differ (first: {})", count, first);
  }
};
template <typename T, typename Expected>
mismatches compare_exact(const std::vector<T>& got, Expected expected_at) {
  mismatches m;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto x = static_cast<double>(got[i]);
    if (x != expected_at(i) && m.count++ == 0) m.first = x;
  }
  return m;
}
template <typename T>
mismatches compare_exact(const std::vector<T>& got, double expected) {
  return compare_exact(got, [expected](std::size_t) { return expected; });
}

enum class vector_kind { fp64, fp32, fp16x2, int32 };

class vector_case final : public cuda_case {
 public:
  vector_case(const gpu& g, benchmark_info info, const nvml& n, std::optional<double> per_sm, vector_kind kind)
      : cuda_case(g, std::move(info), n, per_sm), kind_(kind), out_(static_cast<std::size_t>(blocks(blocks_per_sm) * threads) * 8) {
    poison(out_);
  }

  verification verify() override {
    const auto count = static_cast<std::size_t>(blocks(blocks_per_sm) * threads);
    verification v;
    v.tolerance = 0;
    double expected = 0;
    mismatches bad;
    if (kind_ == vector_kind::fp64) {
      expected = kc::fma_chains * static_cast<double>(iterations()) * fp64_add;
      bad = compare_exact(download<double>(count), expected);
    } else if (kind_ == vector_kind::int32) {
      expected = kc::fma_chains * 3.0 * static_cast<double>(iterations());
      bad = compare_exact(download<std::int32_t>(count), expected);
    } else {
      expected = kind_ == vector_kind::fp32 ? kc::fma_chains * static_cast<double>(iterations()) * fp32_add
                                            : kc::fma_chains * 2.0 * static_cast<double>(iterations()) * 0.0625;
      bad = compare_exact(download<float>(count), expected);
    }
    v.passed = bad.count == 0;
    v.detail = fmt::format("{} threads: each sum of {} chains must be {} (exact); {}", count, kc::fma_chains, expected, bad.text());
    return v;
  }

 private:
  static constexpr int blocks_per_sm = 8;
  static constexpr int threads = 256;
  static constexpr double fp64_add = 0x1p-10;
  static constexpr float fp32_add = 0x1p-8F;

  // Iterations per launch, within each type's exactness bound.
  [[nodiscard]] std::uint64_t iterations() const { return kind_ == vector_kind::fp16x2 ? 2048 : 4096; }

  double enqueue(std::uint64_t reps) override {
    const int b = blocks(blocks_per_sm);
    for (std::uint64_t r = 0; r < reps; ++r) {
      switch (kind_) {
        case vector_kind::fp64: kc::launch_fma_f64(b, threads, iterations(), fp64_add, out_.as<double>(), stream_.s); break;
        case vector_kind::fp32: kc::launch_fma_f32(b, threads, iterations(), fp32_add, out_.as<float>(), stream_.s); break;
        case vector_kind::fp16x2: kc::launch_fma_f16x2(b, threads, iterations(), out_.as<float>(), stream_.s); break;
        case vector_kind::int32: kc::launch_mad_i32(b, threads, iterations(), out_.as<std::int32_t>(), stream_.s); break;
      }
    }
    const double ops = kind_ == vector_kind::fp16x2 ? 4.0 : 2.0;
    return static_cast<double>(reps) * b * threads * kc::fma_chains * static_cast<double>(iterations()) * ops;
  }

  template <typename T>
  std::vector<T> download(std::size_t count) const {
    std::vector<T> h(count);
    CHIPGAUGE_CUDA(cudaMemcpy(h.data(), out_.ptr, count * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
  }

  vector_kind kind_;
  device_buffer out_;
};

// Tensor cores through mma.sync or wgmma: every thread's accumulator sum is known exactly.
class tensor_case final : public cuda_case {
 public:
  /// `shape`: the wgmma variant (N, operand layout) when `wgmma`.
  tensor_case(const gpu& g, benchmark_info info, const nvml& n, std::optional<double> per_sm, kc::tensor_op op, bool wgmma,
              kc::wgmma_shape shape = {})
      : cuda_case(g, std::move(info), n, per_sm), op_(op), wgmma_(wgmma), shape_(shape),
        // As many blocks per SM as stay resident (registers decide: wgmma kernels hold 154
        // registers per thread, one block per SM), at most 4: the grid is one wave.
        blocks_per_sm_(std::min(4, wgmma ? kc::wgmma_resident_blocks(op, shape) : kc::mma_resident_blocks(op, threads))),
        out_(static_cast<std::size_t>(blocks(blocks_per_sm_) * threads) * sizeof(double)) {
    poison(out_);
  }

  verification verify() override {
    const auto count = static_cast<std::size_t>(blocks(blocks_per_sm_) * threads);
    std::vector<double> h(count);
    CHIPGAUGE_CUDA(cudaMemcpy(h.data(), out_.ptr, count * sizeof(double), cudaMemcpyDeviceToHost));
    const auto shape = kc::shape_of(op_, g_.cc());
    // mma.sync: tensor_chains x values_per_thread accumulators; wgmma: 128 (2 x 64 for m64n128,
    // 1 x 128 for m64n256; 128 threads per warpgroup).
    const double accumulators = wgmma_ ? 128.0 : static_cast<double>(kc::tensor_chains) * shape.values_per_thread;
    const int k = wgmma_ ? kc::wgmma_k(op_) : shape.k;
    const double expected = accumulators * static_cast<double>(iterations) * k;
    const auto bad = compare_exact(h, expected);
    verification v;
    v.passed = bad.count == 0;
    v.detail = fmt::format("{} threads: each sum of {} accumulators must be {} (every D element {} x K {}, exact); {}", count,
                           accumulators, expected, iterations, k, bad.text());
    return v;
  }

 private:
  static constexpr int threads = 256;
  // x K 32 = 2^17 per D element: exact in FP32 accumulators; FP8 accumulators, which keep fewer
  // bits, are promoted to FP32 every 128 iterations in the kernels (kernels/cuda/*.cu).
  static constexpr std::uint64_t iterations = 4096;

  double enqueue(std::uint64_t reps) override {
    const int b = blocks(blocks_per_sm_);
    if (wgmma_) {
      for (std::uint64_t r = 0; r < reps; ++r) kc::launch_wgmma(op_, shape_, b, iterations, out_.as<double>(), stream_.s);
      // Two warpgroups per block, 64 x 256 x K per warpgroup per iteration (two m64n128xK or one
      // m64n256xK instruction).
      const double per_warpgroup_iteration = 2.0 * 64 * 256 * kc::wgmma_k(op_);
      return static_cast<double>(reps) * b * 2 * static_cast<double>(iterations) * per_warpgroup_iteration;
    }
    for (std::uint64_t r = 0; r < reps; ++r) kc::launch_mma(op_, b, threads, iterations, out_.as<double>(), stream_.s);
    const auto shape = kc::shape_of(op_, g_.cc());
    const double per_step = 2.0 * shape.m * shape.n * shape.k;
    return static_cast<double>(reps) * b * (threads / 32) * kc::tensor_chains * static_cast<double>(iterations) * per_step;
  }

  kc::tensor_op op_;
  bool wgmma_;
  kc::wgmma_shape shape_;
  int blocks_per_sm_;
  device_buffer out_;
};

// Owners of cuBLASLt objects: members of gemm_case, so a constructor that throws part-way still
// releases what it created.
template <typename T, cublasStatus_t (*Destroy)(T)>
struct lt_object {
  T h = nullptr;
  lt_object() = default;
  ~lt_object() {
    if (h) (void)Destroy(h);
  }
  lt_object(const lt_object&) = delete;
  lt_object& operator=(const lt_object&) = delete;
};

// What applications get: a cuBLASLt GEMM (TN, column-major) with small-integer operands, so the
// products and sums are exact in FP32/INT32 and sampled outputs are checked exactly on the host.
class gemm_case final : public cuda_case {
 public:
  gemm_case(const gpu& g, benchmark_info info, const nvml& n, std::optional<double> per_sm, precision p, int size)
      : cuda_case(g, std::move(info), n, per_sm), p_(p), m_(static_cast<std::uint64_t>(size)), n_(m_), k_(m_) {
    CHIPGAUGE_CUBLAS(cublasLtCreate(&handle_.h));
    const std::size_t elems_a = k_ * m_;
    const std::size_t elems_b = k_ * n_;
    host_a_ = values(elems_a, 0);
    host_b_ = values(elems_b, 1);
    a_ = std::make_unique<device_buffer>(elems_a * in_bytes());
    b_ = std::make_unique<device_buffer>(elems_b * in_bytes());
    d_ = std::make_unique<device_buffer>(m_ * n_ * 4);
    poison(*d_);
    workspace_ = std::make_unique<device_buffer>(workspace_bytes);
    upload(host_a_, *a_);
    upload(host_b_, *b_);

    cudaDataType_t in = CUDA_R_16BF;
    cudaDataType_t out = CUDA_R_32F;
    cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
    cudaDataType_t scale = CUDA_R_32F;
    switch (p_) {
      case precision::bf16: in = CUDA_R_16BF; break;
      case precision::fp16: in = CUDA_R_16F; break;
      case precision::tf32: in = CUDA_R_32F; compute = CUBLAS_COMPUTE_32F_FAST_TF32; break;
      case precision::fp8: in = CUDA_R_8F_E4M3; break;
      case precision::int8: in = CUDA_R_8I; out = CUDA_R_32I; compute = CUBLAS_COMPUTE_32I; scale = CUDA_R_32I; break;
      default: throw usage_error(fmt::format("no cuBLASLt GEMM for {}", to_string(p_)));
    }
    CHIPGAUGE_CUBLAS(cublasLtMatmulDescCreate(&op_.h, compute, scale));
    const cublasOperation_t t = CUBLAS_OP_T;
    const cublasOperation_t nt = CUBLAS_OP_N;
    CHIPGAUGE_CUBLAS(cublasLtMatmulDescSetAttribute(op_.h, CUBLASLT_MATMUL_DESC_TRANSA, &t, sizeof t));
    CHIPGAUGE_CUBLAS(cublasLtMatmulDescSetAttribute(op_.h, CUBLASLT_MATMUL_DESC_TRANSB, &nt, sizeof nt));
    // Column-major: A is stored K x M and transposed (TN), B K x N, D M x N.
    const auto ld = [](std::uint64_t v) { return static_cast<std::int64_t>(v); };
    CHIPGAUGE_CUBLAS(cublasLtMatrixLayoutCreate(&la_.h, in, k_, m_, ld(k_)));
    CHIPGAUGE_CUBLAS(cublasLtMatrixLayoutCreate(&lb_.h, in, k_, n_, ld(k_)));
    CHIPGAUGE_CUBLAS(cublasLtMatrixLayoutCreate(&ld_.h, out, m_, n_, ld(m_)));
    lt_object<cublasLtMatmulPreference_t, cublasLtMatmulPreferenceDestroy> pref;
    CHIPGAUGE_CUBLAS(cublasLtMatmulPreferenceCreate(&pref.h));
    const std::size_t ws = workspace_bytes;
    CHIPGAUGE_CUBLAS(cublasLtMatmulPreferenceSetAttribute(pref.h, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
    // Several heuristic candidates, each timed briefly; the fastest is kept (as cuBLAS's own
    // benchmarks and mamf-finder do): the first heuristic is not always the fastest for a shape.
    std::vector<cublasLtMatmulHeuristicResult_t> candidates(heuristic_candidates);
    int found = 0;
    const auto st = cublasLtMatmulAlgoGetHeuristic(handle_.h, op_.h, la_.h, lb_.h, ld_.h, ld_.h, pref.h, heuristic_candidates,
                                                   candidates.data(), &found);
    candidates.resize(static_cast<std::size_t>(st == CUBLAS_STATUS_SUCCESS ? std::max(found, 0) : 0));
    // No algorithm is a fact about this device and library, not a failure: the result is skipped.
    const auto usable = std::count_if(candidates.begin(), candidates.end(),
                                      [](const auto& c) { return c.state == CUBLAS_STATUS_SUCCESS; });
    if (usable == 0)
      throw benchmark_unsupported(fmt::format("cuBLASLt offers no algorithm for a {0}x{0}x{0} {1} GEMM (TN) on this device ({2})",
                                              m_, to_string(p_),
                                              st != CUBLAS_STATUS_SUCCESS ? cublasLtGetStatusName(st)
                                              : candidates.empty()       ? "no heuristic result"
                                                                         : cublasLtGetStatusName(candidates[0].state)));
    choose_fastest(candidates);
  }


  verification verify() override {
    // 512 sampled outputs against exact host dot products.
    std::vector<unsigned char> d(m_ * n_ * 4);
    CHIPGAUGE_CUDA(cudaMemcpy(d.data(), d_->ptr, d.size(), cudaMemcpyDeviceToHost));
    std::size_t bad = 0;
    double worst = 0;
    for (std::uint64_t s = 0; s < samples; ++s) {
      const std::uint64_t i = (s * 2654435761ULL) % m_;
      const std::uint64_t j = (s * 40503ULL + 17) % n_;
      double expected = 0;
      for (std::uint64_t k = 0; k < k_; ++k) expected += host_a_[k + i * k_] * host_b_[k + j * k_];  // exact integers
      double got = 0;
      const std::uint64_t at = (i + j * m_) * 4;
      if (p_ == precision::int8) {
        std::int32_t v = 0;
        std::memcpy(&v, d.data() + at, 4);
        got = v;
      } else {
        float v = 0;
        std::memcpy(&v, d.data() + at, 4);
        got = v;
      }
      worst = std::max(worst, std::fabs(got - expected));
      bad += got != expected;
    }
    verification v;
    v.passed = bad == 0;
    v.max_error = worst;
    v.detail = fmt::format("{} sampled outputs of a {}x{}x{} product of integers in [-2, 2], exact; {} differ (largest error {})",
                           samples, m_, n_, k_, bad, worst);
    return v;
  }

 private:
  static constexpr std::size_t workspace_bytes = 64U << 20;
  static constexpr std::uint64_t samples = 512;
  static constexpr int heuristic_candidates = 8;  ///< asked of cuBLASLt's heuristic
  static constexpr int trial_runs = 3;            ///< timed GEMMs per candidate, after one untimed

  const void* alpha() const { return p_ == precision::int8 ? static_cast<const void*>(&alpha_i_) : static_cast<const void*>(&alpha_f_); }
  const void* beta() const { return p_ == precision::int8 ? static_cast<const void*>(&beta_i_) : static_cast<const void*>(&beta_f_); }
  cublasStatus_t matmul(const cublasLtMatmulAlgo_t& algo) const {
    return cublasLtMatmul(handle_.h, op_.h, alpha(), a_->ptr, la_.h, b_->ptr, lb_.h, beta(), d_->ptr, ld_.h, d_->ptr, ld_.h, &algo,
                          workspace_->ptr, workspace_bytes, stream_.s);
  }

  // Times each usable candidate (one untimed GEMM, then trial_runs between events, under the
  // work deadline), keeps the fastest in heuristic_ and says in the description which it is.
  // The output buffer is poisoned again afterwards, so verification sees only the chosen one's.
  void choose_fastest(const std::vector<cublasLtMatmulHeuristicResult_t>& candidates) {
    int best = -1;
    float best_ms = 0;
    int timed = 0;
    std::string refused;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      if (candidates[i].state != CUBLAS_STATUS_SUCCESS) continue;
      cublasStatus_t st = matmul(candidates[i].algo);
      CHIPGAUGE_CUDA(cudaEventRecord(start_.e, stream_.s));
      for (int r = 0; r < trial_runs && st == CUBLAS_STATUS_SUCCESS; ++r) st = matmul(candidates[i].algo);
      CHIPGAUGE_CUDA(cudaEventRecord(stop_.e, stream_.s));
      wait(stop_.e, nullptr);
      if (st != CUBLAS_STATUS_SUCCESS) {
        refused += fmt::format("{}{} ({})", refused.empty() ? "" : ", ", i, cublasLtGetStatusName(st));
        continue;
      }
      float ms = 0;
      CHIPGAUGE_CUDA(cudaEventElapsedTime(&ms, start_.e, stop_.e));
      ++timed;
      if (best < 0 || ms < best_ms) {
        best = static_cast<int>(i);
        best_ms = ms;
      }
    }
    if (best < 0)
      throw benchmark_unsupported(fmt::format("cuBLASLt refused every algorithm its heuristic offered for a {0}x{0}x{0} {1} GEMM "
                                              "(TN): {2}",
                                              m_, to_string(p_), refused));
    heuristic_ = candidates[static_cast<std::size_t>(best)];
    const auto config = [this](cublasLtMatmulAlgoConfigAttributes_t a) {
      std::uint32_t v = 0;  // CONFIG_ID is int32, the others uint32: the same 4 bytes
      std::size_t written = 0;
      return cublasLtMatmulAlgoConfigGetAttribute(&heuristic_.algo, a, &v, sizeof v, &written) == CUBLAS_STATUS_SUCCESS
                 ? std::to_string(v)
                 : std::string("?");
    };
    info_.description += fmt::format(
        "; algorithm: heuristic index {} of {} offered, the fastest of {} timed ({:.3f} ms per GEMM), id {}, tile {}, stages {}, "
        "split-K {}; workspace {} bytes of the {} MiB offered{}",
        best, candidates.size(), timed, best_ms / trial_runs, config(CUBLASLT_ALGO_CONFIG_ID), config(CUBLASLT_ALGO_CONFIG_TILE_ID),
        config(CUBLASLT_ALGO_CONFIG_STAGES_ID), config(CUBLASLT_ALGO_CONFIG_SPLITK_NUM), heuristic_.workspaceSize,
        workspace_bytes >> 20, refused.empty() ? "" : "; refused at run time: " + refused);
    poison(*d_);
  }

  [[nodiscard]] std::size_t in_bytes() const {
    return p_ == precision::tf32 ? 4 : (p_ == precision::fp8 || p_ == precision::int8) ? 1 : 2;
  }

  // Integers in [-2, 2] from a hash: exact in every input type, sums exact in FP32 up to K = 2^22.
  static std::vector<std::int8_t> values(std::size_t count, std::uint64_t salt) {
    std::vector<std::int8_t> v(count);
    for (std::size_t i = 0; i < count; ++i) {
      std::uint64_t z = i * 0x9E3779B97F4A7C15ULL + salt * 0xD1B54A32D192ED03ULL;
      z ^= z >> 29;
      z *= 0xBF58476D1CE4E5B9ULL;
      z ^= z >> 32;
      v[i] = static_cast<std::int8_t>(static_cast<int>(z % 5) - 2);
    }
    return v;
  }

  // Encodes -2..2 in the input type and uploads.
  void upload(const std::vector<std::int8_t>& v, const device_buffer& dst) const {
    std::vector<unsigned char> bytes(v.size() * in_bytes());
    for (std::size_t i = 0; i < v.size(); ++i) {
      const int x = v[i];
      unsigned char* at = bytes.data() + i * in_bytes();
      switch (p_) {
        case precision::bf16: {
          const std::uint16_t code[] = {0xC000, 0xBF80, 0x0000, 0x3F80, 0x4000};
          std::memcpy(at, &code[x + 2], 2);
          break;
        }
        case precision::fp16: {
          const std::uint16_t code[] = {0xC000, 0xBC00, 0x0000, 0x3C00, 0x4000};
          std::memcpy(at, &code[x + 2], 2);
          break;
        }
        case precision::tf32: {
          const float f = static_cast<float>(x);
          std::memcpy(at, &f, 4);
          break;
        }
        case precision::fp8: {
          const unsigned char code[] = {0xC0, 0xB8, 0x00, 0x38, 0x40};  // e4m3: bias 7
          *at = code[x + 2];
          break;
        }
        default: {
          const auto c = static_cast<signed char>(x);
          std::memcpy(at, &c, 1);
          break;
        }
      }
    }
    CHIPGAUGE_CUDA(cudaMemcpy(dst.ptr, bytes.data(), bytes.size(), cudaMemcpyHostToDevice));
  }

  double enqueue(std::uint64_t reps) override {
    for (std::uint64_t r = 0; r < reps; ++r) CHIPGAUGE_CUBLAS(matmul(heuristic_.algo));
    return static_cast<double>(reps) * 2.0 * static_cast<double>(m_) * static_cast<double>(n_) * static_cast<double>(k_);
  }

  precision p_;
  std::uint64_t m_;
  std::uint64_t n_;
  std::uint64_t k_;
  std::vector<std::int8_t> host_a_;  // the integer operands, kept for the host reference
  std::vector<std::int8_t> host_b_;
  std::unique_ptr<device_buffer> a_;
  std::unique_ptr<device_buffer> b_;
  std::unique_ptr<device_buffer> d_;
  std::unique_ptr<device_buffer> workspace_;
  lt_object<cublasLtHandle_t, cublasLtDestroy> handle_;
  lt_object<cublasLtMatmulDesc_t, cublasLtMatmulDescDestroy> op_;
  lt_object<cublasLtMatrixLayout_t, cublasLtMatrixLayoutDestroy> la_;
  lt_object<cublasLtMatrixLayout_t, cublasLtMatrixLayoutDestroy> lb_;
  lt_object<cublasLtMatrixLayout_t, cublasLtMatrixLayoutDestroy> ld_;
  cublasLtMatmulHeuristicResult_t heuristic_{};
  float alpha_f_ = 1;
  float beta_f_ = 0;
  std::int32_t alpha_i_ = 1;
  std::int32_t beta_i_ = 0;
};

enum class dram_kind { read, write, copy, triad };

class dram_case final : public cuda_case {
 public:
  /// `count` doubles per array; a read makes `passes` passes over its array per launch (L2-resident
  /// footprints need many to outlast launch gaps). Every array starts with values no kernel writes,
  /// so a kernel that did nothing fails verification.
  dram_case(const gpu& g, benchmark_info info, const nvml& n, dram_kind kind, std::size_t count, int blocks_per_sm,
            unsigned passes, std::optional<fixed_peak> peak)
      : cuda_case(g, std::move(info), n, std::nullopt, std::move(peak)), kind_(kind), blocks_per_sm_(blocks_per_sm),
        passes_(passes), n_(count & ~std::size_t{1}), a_(n_ * 8), b_(kind == dram_kind::triad ? n_ * 8 : 16),
        c_(kind == dram_kind::triad || kind == dram_kind::copy ? n_ * 8 : 16),
        sums_(static_cast<std::size_t>(blocks(blocks_per_sm_)) * sizeof(double)) {
    kc::launch_fill(blocks(blocks_per_sm_), threads, a_.as<double>(), n_, 1.0, stream_.s);
    if (kind == dram_kind::triad) kc::launch_fill(blocks(blocks_per_sm_), threads, b_.as<double>(), n_, 2.0, stream_.s);
    if (kind != dram_kind::read && kind != dram_kind::write)
      kc::launch_fill(blocks(blocks_per_sm_), threads, c_.as<double>(), n_, 3.0, stream_.s);
    poison(sums_);
    CHIPGAUGE_CUDA(cudaStreamSynchronize(stream_.s));
  }

  verification verify() override {
    verification v;
    if (kind_ == dram_kind::read) {
      std::vector<double> sums(static_cast<std::size_t>(blocks(blocks_per_sm_)));
      CHIPGAUGE_CUDA(cudaMemcpy(sums.data(), sums_.ptr, sums.size() * sizeof(double), cudaMemcpyDeviceToHost));
      double got = 0;
      for (double s : sums) got += s;
      double one_pass = 0;
      for (std::size_t i = 0; i < n_; ++i) one_pass += hashed(i, 1.0);
      const double expected = one_pass * passes_;
      // Every element is a multiple of 2^-16 below 2 and every partial sum stays below 2^37, so
      // each sum is exact in FP64 whatever the order: the comparison is exact.
      v.tolerance = 0;
      v.max_error = std::fabs(got - expected) / expected;
      v.passed = got == expected;
      v.detail = fmt::format("sum of {} elements x {} passes: {} against {} computed on the host (exact)", n_, passes_, got,
                             expected);
      return v;
    }
    const device_buffer& out = kind_ == dram_kind::copy ? c_ : a_;
    std::vector<double> h(n_);
    CHIPGAUGE_CUDA(cudaMemcpy(h.data(), out.ptr, n_ * sizeof(double), cudaMemcpyDeviceToHost));
    v.tolerance = 0;
    const auto bad = compare_exact(h, [this](std::size_t i) {
      return kind_ == dram_kind::write  ? write_value
             : kind_ == dram_kind::copy ? hashed(i, 1.0)
                                        : std::fma(scalar, hashed(i, 3.0), hashed(i, 2.0));
    });
    v.passed = bad.count == 0;
    v.detail = fmt::format("all {} elements against their expected values (exact); {}", n_, bad.text());
    return v;
  }

 private:
  static constexpr int threads = 256;
  static constexpr double scalar = 0.4;
  static constexpr double write_value = 0.5;

  double enqueue(std::uint64_t reps) override {
    const int b = blocks(blocks_per_sm_);
    for (std::uint64_t r = 0; r < reps; ++r) {
      switch (kind_) {
        case dram_kind::read: kc::launch_read(b, threads, a_.as<double>(), n_, passes_, sums_.as<double>(), stream_.s); break;
        case dram_kind::write: kc::launch_write(b, threads, a_.as<double>(), n_, write_value, stream_.s); break;
        case dram_kind::copy: kc::launch_copy(b, threads, a_.as<double>(), c_.as<double>(), n_, stream_.s); break;
        case dram_kind::triad:
          kc::launch_triad(b, threads, a_.as<double>(), b_.as<double>(), c_.as<double>(), scalar, n_, stream_.s);
          break;
      }
    }
    const double arrays = kind_ == dram_kind::triad ? 3 : kind_ == dram_kind::copy ? 2 : kind_ == dram_kind::read ? passes_ : 1;
    return static_cast<double>(reps) * arrays * static_cast<double>(n_) * sizeof(double);
  }

  dram_kind kind_;
  int blocks_per_sm_;
  unsigned passes_;
  std::size_t n_;
  device_buffer a_;
  device_buffer b_;
  device_buffer c_;
  device_buffer sums_;
};

enum class copy_kind { h2d, d2h, bidirectional };

class copy_case final : public cuda_case {
 public:
  copy_case(const gpu& g, benchmark_info info, const nvml& n, copy_kind kind, std::size_t bytes, std::optional<fixed_peak> peak)
      : cuda_case(g, std::move(info), n, std::nullopt, std::move(peak)), kind_(kind), bytes_(bytes), near_(n, g.pci),
        host_in_(bytes), host_out_(bytes), dev_in_(bytes), dev_out_(bytes) {
    near_.restore();  // the pinned buffers now live on the GPU's NUMA node
    auto* h = host_in_.as<unsigned char>();
    for (std::size_t i = 0; i < bytes_; ++i) h[i] = static_cast<unsigned char>((i * 2654435761U) >> 13);
    CHIPGAUGE_CUDA(cudaMemcpy(dev_out_.ptr, host_in_.ptr, bytes_, cudaMemcpyHostToDevice));
    CHIPGAUGE_CUDA(cudaMemset(dev_in_.ptr, 0, bytes_));  // not the pattern: a copy that never ran fails
    std::memset(host_out_.ptr, 0, bytes_);
    CHIPGAUGE_CUDA(cudaDeviceSynchronize());
  }

  verification verify() override {
    // H2D landed in dev_in_, D2H landed in host_out_: both must equal the pattern.
    std::vector<unsigned char> back(bytes_);
    std::size_t bad = 0;
    if (kind_ != copy_kind::d2h) {
      CHIPGAUGE_CUDA(cudaMemcpy(back.data(), dev_in_.ptr, bytes_, cudaMemcpyDeviceToHost));
      bad += std::memcmp(back.data(), host_in_.ptr, bytes_) != 0;
    }
    if (kind_ != copy_kind::h2d) bad += std::memcmp(host_out_.ptr, host_in_.ptr, bytes_) != 0;
    verification v;
    v.passed = bad == 0;
    v.detail = fmt::format("{} bytes per direction compared byte for byte after the copies; {} direction(s) differ", bytes_, bad);
    return v;
  }

 private:
  double enqueue(std::uint64_t reps) override {
    for (std::uint64_t r = 0; r < reps; ++r) {
      // The reverse direction runs on a second stream forked before the forward copy, so the two
      // overlap; it joins back before the stop event.
      if (kind_ == copy_kind::bidirectional) {
        CHIPGAUGE_CUDA(cudaEventRecord(fork_.e, stream_.s));
        CHIPGAUGE_CUDA(cudaStreamWaitEvent(second_.s, fork_.e, 0));
      }
      if (kind_ != copy_kind::d2h)
        CHIPGAUGE_CUDA(cudaMemcpyAsync(dev_in_.ptr, host_in_.ptr, bytes_, cudaMemcpyHostToDevice, stream_.s));
      if (kind_ == copy_kind::bidirectional) {
        CHIPGAUGE_CUDA(cudaMemcpyAsync(host_out_.ptr, dev_out_.ptr, bytes_, cudaMemcpyDeviceToHost, second_.s));
        CHIPGAUGE_CUDA(cudaEventRecord(join_.e, second_.s));
        CHIPGAUGE_CUDA(cudaStreamWaitEvent(stream_.s, join_.e, 0));
      } else if (kind_ == copy_kind::d2h) {
        CHIPGAUGE_CUDA(cudaMemcpyAsync(host_out_.ptr, dev_out_.ptr, bytes_, cudaMemcpyDeviceToHost, stream_.s));
      }
    }
    return static_cast<double>(reps) * static_cast<double>(bytes_) * (kind_ == copy_kind::bidirectional ? 2 : 1);
  }

  // Binds the constructing thread near the GPU while the pinned buffers are allocated (so their
  // pages land on its NUMA node on multi-socket hosts), then restores the thread's CPU set.
  struct near_device {
    cpu_set_t saved{};
    bool bound = false;
    near_device(const nvml& n, const std::string& pci) {
      if (sched_getaffinity(0, sizeof saved, &saved) == 0) bound = n.bind_thread_near(pci);
    }
    void restore() noexcept {
      if (bound) (void)sched_setaffinity(0, sizeof saved, &saved);
      bound = false;
    }
    ~near_device() { restore(); }
    near_device(const near_device&) = delete;
    near_device& operator=(const near_device&) = delete;
  };

  copy_kind kind_;
  std::size_t bytes_;
  near_device near_;
  pinned_buffer host_in_;
  pinned_buffer host_out_;
  device_buffer dev_in_;
  device_buffer dev_out_;
  stream_handle second_;
  event_handle fork_;
  event_handle join_;
};

// Shared-memory read bandwidth for one tile size per block (the footprint): blocks per SM as many
// as the SM's shared memory holds, at most 4.
class smem_case final : public cuda_case {
 public:
  smem_case(const gpu& g, benchmark_info info, const nvml& n, std::optional<double> per_sm, std::size_t tile_bytes)
      : cuda_case(g, std::move(info), n, per_sm), tile_(tile_bytes), per_sm_blocks_(cuda_smem_resident(g.facts, tile_bytes, threads)),
        out_(static_cast<std::size_t>(blocks(per_sm_blocks_) * threads) * sizeof(float)) {
    // The opt-in above 48 KiB, once here rather than on every launch inside the blocked window.
    kc::prepare_smem_read(tile_);
    poison(out_);
  }

  verification verify() override {
    const auto count = static_cast<std::size_t>(blocks(per_sm_blocks_) * threads);
    std::vector<float> h(count);
    CHIPGAUGE_CUDA(cudaMemcpy(h.data(), out_.ptr, count * sizeof(float), cudaMemcpyDeviceToHost));
    // Word w of the tile holds 4 lanes of (w mod 4), and every word thread t reads is = t mod 4.
    const auto bad = compare_exact(h, [](std::size_t t) {
      return 4.0 * static_cast<double>((t % threads) % 4) * static_cast<double>(iterations);
    });
    verification v;
    v.passed = bad.count == 0;
    v.detail = fmt::format("{} threads over a {} KiB tile: each sum of {} reads must be 4 x (thread mod 4) x {} (exact); {}",
                           count, tile_ / 1024, iterations, iterations, bad.text());
    return v;
  }

 private:
  static constexpr int threads = 256;
  static constexpr std::uint64_t iterations = 1U << 16;  // 4 x 3 x 2^16 < 2^24: exact in FP32

  double enqueue(std::uint64_t reps) override {
    const int b = blocks(per_sm_blocks_);
    for (std::uint64_t r = 0; r < reps; ++r) kc::launch_smem_read(b, threads, tile_, iterations, out_.as<float>(), stream_.s);
    return static_cast<double>(reps) * b * threads * static_cast<double>(iterations) * 16.0;
  }

  std::size_t tile_;
  int per_sm_blocks_;
  device_buffer out_;
};

// Injected faults (CHIPGAUGE_CUDA_FAULT): each repetition enqueues the fault; never verifies.
class fault_case final : public cuda_case {
 public:
  fault_case(const gpu& g, benchmark_info info, const nvml& n, kc::fault_kind kind)
      : cuda_case(g, std::move(info), n, std::nullopt), kind_(kind) {}
  verification verify() override { return {false, 0, 0, "an injected fault has no result"}; }

 private:
  double enqueue(std::uint64_t reps) override {
    for (std::uint64_t r = 0; r < reps; ++r) kc::launch_fault(kind_, 600'000'000'000ULL, stream_.s);
    return static_cast<double>(reps);
  }
  kc::fault_kind kind_;
};

// Peer-to-peer copies between two GPUs (NVLink or PCIe), one way or both ways at once.
class p2p_case final : public cuda_case {
 public:
  p2p_case(const gpu& from, const gpu& to, benchmark_info info, const nvml& n, bool both, std::size_t bytes)
      : cuda_case(from, std::move(info), n, std::nullopt), to_(to), both_(both), bytes_(bytes), src_(bytes), back_(bytes) {
    CHIPGAUGE_CUDA(cudaSetDevice(to_.index));
    dst_buf_ = std::make_unique<device_buffer>(bytes_);  // on the peer (owned: freed on any exit)
    dst_src_buf_ = std::make_unique<device_buffer>(bytes_);
    dst_ = dst_buf_->ptr;
    dst_src_ = dst_src_buf_->ptr;
    enable_peer(g_.index);
    CHIPGAUGE_CUDA(cudaMemset(dst_src_, 0x5A, bytes_));
    CHIPGAUGE_CUDA(cudaMemset(dst_, 0, bytes_));  // neither pattern: a copy that never ran fails
    CHIPGAUGE_CUDA(cudaDeviceSynchronize());      // the peer's memsets, before any case stream uses them
    CHIPGAUGE_CUDA(cudaSetDevice(g_.index));
    enable_peer(to_.index);
    CHIPGAUGE_CUDA(cudaMemset(src_.ptr, 0xA5, bytes_));
    CHIPGAUGE_CUDA(cudaMemset(back_.ptr, 0, bytes_));
    CHIPGAUGE_CUDA(cudaDeviceSynchronize());
  }
  // Peer access from the current device to `peer`; "already enabled" is fine, anything else is
  // an error (a silent fallback would time staged copies as peer-to-peer).
  static void enable_peer(int peer) {
    const cudaError_t e = cudaDeviceEnablePeerAccess(peer, 0);
    if (e == cudaErrorPeerAccessAlreadyEnabled) {
      (void)cudaGetLastError();
      return;
    }
    CHIPGAUGE_CUDA(e);
  }

  verification verify() override {
    std::vector<unsigned char> h(bytes_);
    CHIPGAUGE_CUDA(cudaMemcpy(h.data(), dst_, bytes_, cudaMemcpyDeviceToHost));
    std::size_t bad = 0;
    for (auto c : h) bad += c != 0xA5;
    if (both_) {
      CHIPGAUGE_CUDA(cudaMemcpy(h.data(), back_.ptr, bytes_, cudaMemcpyDeviceToHost));
      for (auto c : h) bad += c != 0x5A;
    }
    verification v;
    v.passed = bad == 0;
    v.detail = fmt::format("{} bytes per direction compared after the copies; {} differ", bytes_, bad);
    return v;
  }

 private:
  double enqueue(std::uint64_t reps) override {
    for (std::uint64_t r = 0; r < reps; ++r) {
      if (both_) {
        CHIPGAUGE_CUDA(cudaEventRecord(fork_.e, stream_.s));
        CHIPGAUGE_CUDA(cudaStreamWaitEvent(second_.s, fork_.e, 0));
      }
      CHIPGAUGE_CUDA(cudaMemcpyPeerAsync(dst_, to_.index, src_.ptr, g_.index, bytes_, stream_.s));
      if (both_) {
        CHIPGAUGE_CUDA(cudaMemcpyPeerAsync(back_.ptr, g_.index, dst_src_, to_.index, bytes_, second_.s));
        CHIPGAUGE_CUDA(cudaEventRecord(join_.e, second_.s));
        CHIPGAUGE_CUDA(cudaStreamWaitEvent(stream_.s, join_.e, 0));
      }
    }
    return static_cast<double>(reps) * static_cast<double>(bytes_) * (both_ ? 2 : 1);
  }

  const gpu& to_;
  bool both_;
  std::size_t bytes_;
  device_buffer src_;
  device_buffer back_;
  std::unique_ptr<device_buffer> dst_buf_;
  std::unique_ptr<device_buffer> dst_src_buf_;
  void* dst_ = nullptr;
  void* dst_src_ = nullptr;
  stream_handle second_;
  event_handle fork_;
  event_handle join_;
};

class cuda_backend final : public backend {
 public:
  explicit cuda_backend(std::string specs_dir) : specs_dir_(std::move(specs_dir)), fault_(injected_fault()) {
    (void)work_deadline();  // a malformed CHIPGAUGE_CUDA_DEADLINE_S is a usage error before anything runs
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) count = 0;
    for (int i = 0; i < count; ++i) {
      gpu g;
      g.index = i;
      CHIPGAUGE_CUDA(cudaGetDeviceProperties(&g.prop, i));
      char pci[32] = {};
      CHIPGAUGE_CUDA(cudaDeviceGetPCIBusId(pci, sizeof pci, i));
      g.pci = pci;
      release(cudaDeviceGetAttribute(&g.clock_khz, cudaDevAttrClockRate, i));
      release(cudaDeviceGetAttribute(&g.mem_clock_khz, cudaDevAttrMemoryClockRate, i));
      release(cudaDeviceGetAttribute(&g.bus_width, cudaDevAttrGlobalMemoryBusWidth, i));
      release(cudaDeviceGetAttribute(&g.smem_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, i));
      release(cudaDeviceGetAttribute(&g.coherent_host_link, cudaDevAttrHostNativeAtomicSupported, i));
      g.ecc_baseline = nvml_.uncorrected_ecc(g.pci);
      g.arch = load_cuda_arch(specs_dir_, g.prop.major, g.prop.minor, g.prop.name);
      auto& f = g.facts;
      f.index = i;
      f.name = g.prop.name;
      f.major = g.prop.major;
      f.minor = g.prop.minor;
      f.sm_count = g.prop.multiProcessorCount;
      f.max_threads_per_sm = g.prop.maxThreadsPerMultiProcessor;
      f.l2_bytes = g.prop.l2CacheSize;
      f.memory_bytes = static_cast<double>(g.prop.totalGlobalMem);
      f.smem_per_sm = g.prop.sharedMemPerMultiprocessor;
      f.smem_reserved_per_block = g.prop.reservedSharedMemPerBlock;
      f.smem_optin = g.smem_optin;
      f.mem_clock_khz = g.mem_clock_khz;
      f.bus_width = g.bus_width;
      gpus_.push_back(g);
    }
  }

  [[nodiscard]] std::string name() const override { return "cuda"; }

  std::vector<device_info> devices() override {
    std::vector<device_info> out;
    int driver = 0;
    int runtime = 0;
    release(cudaDriverGetVersion(&driver));
    release(cudaRuntimeGetVersion(&runtime));
    const auto version = [](int v) { return fmt::format("{}.{}", v / 1000, (v % 1000) / 10); };
    const auto kernel_driver = nvml_.driver_version();
    for (const auto& g : gpus_) {
      device_info d;
      d.backend = "cuda";
      d.id = fmt::format("cuda:{}", g.index);
      d.name = g.prop.name;
      d.vendor = "NVIDIA";
      d.units = g.prop.multiProcessorCount;
      std::string uuid = "GPU-";
      for (int b = 0; b < 16; ++b) {
        uuid += fmt::format("{:02x}", static_cast<unsigned char>(g.prop.uuid.bytes[b]));
        if (b == 3 || b == 5 || b == 7 || b == 9) uuid += '-';
      }
      const auto link = nvml_.pcie_link(g.pci, false);
      const auto max_link = nvml_.pcie_link(g.pci, true);
      std::string peaks;
      for (const auto& n : g.arch.notes) peaks += (peaks.empty() ? "" : "; ") + n;
      d.properties = {{"uuid", uuid},
                      {"pci_bus_id", g.pci},
                      {"compute_capability", fmt::format("{}.{}", g.prop.major, g.prop.minor)},
                      {"sm_count", std::to_string(g.prop.multiProcessorCount)},
                      {"max_sm_clock_mhz", std::to_string(g.clock_khz / 1000)},
                      {"memory_clock_mhz", std::to_string(g.mem_clock_khz / 1000)},
                      {"memory_bus_bits", std::to_string(g.bus_width)},
                      {"memory_bytes", std::to_string(g.prop.totalGlobalMem)},
                      {"l2_bytes", std::to_string(g.prop.l2CacheSize)},
                      {"shared_memory_per_sm_bytes", std::to_string(g.prop.sharedMemPerMultiprocessor)},
                      {"ecc", g.prop.ECCEnabled ? "enabled" : "disabled"},
                      {"mig", nvml_.mig_mode(g.pci)},
                      {"pcie_link", link ? fmt::format("gen {} x{} now, gen {} x{} at most", link->first, link->second,
                                                       max_link ? max_link->first : 0U, max_link ? max_link->second : 0U)
                                         : "unreadable"},
                      {"host_link", g.coherent_host_link ? "coherent (NVLink-C2C)" : "PCIe"},
                      {"driver_version", kernel_driver.empty() ? "unreadable (no NVML)" : kernel_driver},
                      {"cuda_driver_api", version(driver)},
                      {"cuda_runtime", version(runtime)},
                      {"peaks", peaks},
                      {"nvml", nvml_.available() ? "loaded" : nvml_.why()}};
      out.push_back(std::move(d));
    }
    return out;
  }

  std::pair<std::vector<benchmark_info>, std::vector<skipped_benchmark>> benchmarks(const device_info& d, run_mode mode) override {
    const auto& g = gpu_of(d);
    std::vector<cuda_peer> peers;
    for (const auto& other : gpus_) {
      if (other.index == g.index) continue;
      int can = 0;
      release(cudaDeviceCanAccessPeer(&can, g.index, other.index));
      peers.push_back({other.index, can != 0});
    }
    return cuda_catalogue(g.facts, peers, mode, fault_ ? std::optional<std::string>(to_string(*fault_)) : std::nullopt);
  }

  std::unique_ptr<benchmark_case> prepare(const device_info& d, const benchmark_info& b, run_mode) override {
    const auto& g = gpu_of(d);
    auto rate = [&](const std::string& key) { return g.arch.rate(key); };
    if (b.name.rfind("fault_", 0) == 0 && fault_) return std::make_unique<fault_case>(g, b, nvml_, *fault_);
    const std::pair<const char*, kc::tensor_op> tensor[] = {{"fp16", kc::tensor_op::fp16}, {"bf16", kc::tensor_op::bf16},
                                                            {"tf32", kc::tensor_op::tf32}, {"int8", kc::tensor_op::int8},
                                                            {"fp8", kc::tensor_op::fp8},   {"fp64", kc::tensor_op::fp64}};
    for (const auto& [prec, op] : tensor) {
      if (b.name == std::string("mma_") + prec) return std::make_unique<tensor_case>(g, b, nvml_, rate(std::string("tensor_") + prec), op, false);
      for (const auto& v : wgmma_variants) {
        if (b.name == std::string("wgmma_") + prec + v.suffix)
          return std::make_unique<tensor_case>(g, b, nvml_, rate(std::string("tensor_") + prec), op, true,
                                               kc::wgmma_shape{v.n, v.swizzle128});
      }
    }
    if (b.name.rfind("gemm_", 0) == 0) {
      const auto prec = b.name.substr(5, b.name.find('_', 5) - 5);
      const int size = std::stoi(b.name.substr(b.name.rfind('_') + 1));
      return std::make_unique<gemm_case>(g, b, nvml_, rate("tensor_" + prec), *parse_precision(prec), size);
    }
    if (b.name == "fma_fp64") return std::make_unique<vector_case>(g, b, nvml_, rate("fma_fp64"), vector_kind::fp64);
    if (b.name == "fma_fp32") return std::make_unique<vector_case>(g, b, nvml_, rate("fma_fp32"), vector_kind::fp32);
    if (b.name == "fma_fp16x2") return std::make_unique<vector_case>(g, b, nvml_, rate("fma_fp16x2"), vector_kind::fp16x2);
    if (b.name == "mad_int32") return std::make_unique<vector_case>(g, b, nvml_, rate("mad_int32"), vector_kind::int32);
    const auto n = static_cast<std::size_t>(cuda_dram_array_bytes(g.facts) / sizeof(double));
    const auto dram = [&](dram_kind k, int per_sm) {
      return std::make_unique<dram_case>(g, b, nvml_, k, n, per_sm, 1, cuda_dram_peak(g.facts, g.arch.dram));
    };
    if (b.name == "dram_read") return dram(dram_kind::read, 8);
    if (b.name == "dram_write") return dram(dram_kind::write, 8);
    if (b.name == "dram_copy") return dram(dram_kind::copy, 8);
    if (b.name == "dram_triad") return dram(dram_kind::triad, 8);
    if (b.name.rfind("dram_triad_occ", 0) == 0) return dram(dram_kind::triad, std::stoi(b.name.substr(14)));
    if (b.name.rfind("l2_read_", 0) == 0) {
      // From 4 x L2 up the footprint streams from DRAM, so the DRAM peak applies; below, no single
      // peak does (cuda_l2_no_peak_reason; the description says why).
      const auto peak = cuda_l2_no_peak_reason(b.footprint_bytes, g.facts.l2_bytes) ? std::nullopt
                                                                                    : cuda_dram_peak(g.facts, g.arch.dram);
      return std::make_unique<dram_case>(g, b, nvml_, dram_kind::read, static_cast<std::size_t>(b.footprint_bytes / sizeof(double)),
                                         8, cuda_l2_passes(b.footprint_bytes), peak);
    }
    if (b.name.rfind("smem_read_", 0) == 0)
      return std::make_unique<smem_case>(g, b, nvml_, rate("smem_read"), static_cast<std::size_t>(b.footprint_bytes));
    if (b.name.rfind("p2p_", 0) == 0) {
      const int to = std::stoi(b.name.substr(b.name.find("_to_") + 4));
      for (const auto& other : gpus_) {
        if (other.index == to)
          return std::make_unique<p2p_case>(g, other, b, nvml_, b.name.size() > 3 && b.name.substr(b.name.size() - 3) == "_bi", 256U << 20);
      }
    }
    const std::size_t bytes = 256U << 20;
    const auto link = pcie_peak(g);
    if (b.name == "pcie_h2d") return std::make_unique<copy_case>(g, b, nvml_, copy_kind::h2d, bytes, link);
    if (b.name == "pcie_d2h") return std::make_unique<copy_case>(g, b, nvml_, copy_kind::d2h, bytes, link);
    if (b.name == "pcie_bidirectional") {
      auto both = link;
      if (both) {
        both->rate *= 2;
        both->basis = "2 directions x " + both->basis;
      }
      return std::make_unique<copy_case>(g, b, nvml_, copy_kind::bidirectional, bytes, both);
    }
    throw usage_error(fmt::format("the cuda backend has no benchmark '{}'", b.name));
  }

  std::optional<std::string> device_lost(const device_info& d) override {
    const auto& g = gpu_of(d);
    const auto ecc = nvml_.uncorrected_ecc(g.pci);
    if (g.ecc_baseline && ecc && *ecc > *g.ecc_baseline)
      return fmt::format("{} uncorrectable ECC error(s) since the run began", *ecc - *g.ecc_baseline);
    (void)cudaSetDevice(g.index);
    (void)cudaGetLastError();  // clears an error that does not poison the context
    cudaError_t e = cudaDeviceSynchronize();
    if (e == cudaSuccess) return std::nullopt;
    (void)cudaGetLastError();
    e = cudaDeviceSynchronize();  // a sticky error answers again: the context is gone
    if (e == cudaSuccess) return std::nullopt;
    return fmt::format("{}: {}", cudaGetErrorName(e), cudaGetErrorString(e));
  }

 private:
  const gpu& gpu_of(const device_info& d) const {
    for (const auto& g : gpus_) {
      if (fmt::format("cuda:{}", g.index) == d.id) return g;
    }
    throw usage_error(fmt::format("no CUDA device '{}'", d.id));
  }

  // PCIe peak per direction: lanes x GT/s x encoding efficiency / 8, at the link's current
  // generation and width (NVML); the protocol's packet overheads keep real copies below it.
  std::optional<fixed_peak> pcie_peak(const gpu& g) const {
    const auto& arch = g.arch;
    if (g.coherent_host_link) return std::nullopt;  // NVLink-C2C (GH200): the copies do not cross PCIe
    const auto link = nvml_.pcie_link(g.pci, true);
    if (!link) return std::nullopt;
    const auto rate = arch.pcie_bytes_per_s(link->first, link->second);
    if (!rate) return std::nullopt;
    const auto& [gt, efficiency] = arch.pcie.at(link->first);
    return fixed_peak{*rate, fmt::format("PCIe gen {} x{} (the link's maximum): {} GT/s x {} lanes x {:.4g} encoding / 8 (specs/arch/cuda.json, NVML)",
                                         link->first, link->second, gt, link->second, efficiency)};
  }

  std::string specs_dir_;
  std::optional<kc::fault_kind> fault_;
  nvml nvml_;
  std::vector<gpu> gpus_;
};

}  // namespace

bool cuda_backend_built() noexcept { return true; }

bool cuda_device_available(std::string* reason) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    if (reason) {
      *reason = fmt::format("{} ({})", cudaGetErrorString(e), cudaGetErrorName(e));
      // The runtime reports a missing driver as an old one; say which it is.
      if (e == cudaErrorInsufficientDriver) {
        if (void* h = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL)) {
          ::dlclose(h);
        } else {
          *reason = "no NVIDIA driver is installed (libcuda.so.1 cannot be loaded); " + *reason;
        }
      }
    }
    return false;
  }
  if (count == 0 && reason) {
    const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
    *reason = visible ? fmt::format("no CUDA device is visible (CUDA_VISIBLE_DEVICES='{}')", visible)
                      : std::string("no CUDA device is visible");
  }
  return count > 0;
}

std::unique_ptr<backend> make_cuda_backend(const std::string& specs_dir) { return std::make_unique<cuda_backend>(specs_dir); }

}  // namespace chipgauge::bench
