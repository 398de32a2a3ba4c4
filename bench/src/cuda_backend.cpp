// The CUDA backend: device identity, vector FMA, DRAM and host-device copies, each verified,
// timed with CUDA events behind a blocking kernel, with per-sample clock probe and NVML telemetry.
#include "chipgauge/bench/cuda_backend.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "chipgauge/kernels/cuda.hpp"
#include "nvml.hpp"

#include <cublasLt.h>
#include <dlfcn.h>
#include <cuda_runtime.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <vector>

namespace chipgauge::bench {

namespace {

namespace kc = chipgauge::kernels::cuda;

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw error(fmt::format("{}: {}: {}", what, cudaGetErrorName(e), cudaGetErrorString(e)));
}
void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw error(fmt::format("{}: cuBLAS status {}", what, static_cast<int>(s)));
}
#define CHIPGAUGE_CUDA(call) check((call), #call)
#define CHIPGAUGE_CUBLAS(call) check((call), #call)

// Noexcept twin for destructors: a failure there is reported, never thrown.
void release(cudaError_t e) noexcept { (void)e; }

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
};

// Makes `device` current; as the first base of a case it runs before any member (stream, events,
// buffers) is created, so they all belong to the case's GPU.
struct device_selector {
  explicit device_selector(int device) { CHIPGAUGE_CUDA(cudaSetDevice(device)); }
};

// What every case shares: the device, a stream, events, the blocking flag and the clock probe.
class cuda_case : private device_selector, public benchmark_case {
 public:
  cuda_case(const gpu& g, benchmark_info info, const nvml& n, std::optional<double> ops_per_clock_per_sm)
      : device_selector(g.index), g_(g), info_(std::move(info)), nvml_(n), per_sm_(ops_per_clock_per_sm),
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
    *static_cast<volatile int*>(flag_.ptr) = 1;
    CHIPGAUGE_CUDA(cudaEventSynchronize(stop_.e));
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
    const auto t = nvml_.sample(g_.pci);
    if (t.temperature_c) s.temperature_c = *t.temperature_c;
    if (t.power_w) s.power_w = *t.power_w;
    if (t.mem_clock_mhz) s.memory_clock_mhz = *t.mem_clock_mhz;
    s.throttle_reasons = t.throttle_reasons;
    return s;
  }

  // Launch queues hold a few thousand entries; beyond that queueing blocks the host.
  [[nodiscard]] std::uint64_t max_reps() const override { return 1024; }

  [[nodiscard]] std::optional<double> max_clock_mhz() const override {
    return g_.clock_khz > 0 ? std::optional<double>(g_.clock_khz / 1000.0) : std::nullopt;
  }

  [[nodiscard]] std::optional<std::pair<double, std::string>> theoretical(double clock_mhz) const override {
    if (!per_sm_ || std::isnan(clock_mhz)) return std::nullopt;
    return std::make_pair(*per_sm_ * g_.prop.multiProcessorCount * clock_mhz * 1e6,
                          fmt::format("{} ops/clock/SM x {} SMs x {:.0f} MHz (measured clock; specs/arch/cuda.json)", *per_sm_,
                                      g_.prop.multiProcessorCount, clock_mhz));
  }

 protected:
  virtual double enqueue(std::uint64_t reps) = 0;

  // SM clock from one thread spinning 2 M cycles: clock64() cycles over %globaltimer ns.
  double probe_clock_mhz() {
    kc::launch_clock_probe(2'000'000, probe_.as<std::uint64_t>(), stream_.s);
    std::uint64_t out[2] = {0, 0};
    CHIPGAUGE_CUDA(cudaMemcpyAsync(out, probe_.ptr, sizeof out, cudaMemcpyDeviceToHost, stream_.s));
    CHIPGAUGE_CUDA(cudaStreamSynchronize(stream_.s));
    return out[0] > 0 ? static_cast<double>(out[1]) / static_cast<double>(out[0]) * 1e3 : std::nan("");
  }

  int blocks(int per_sm) const { return g_.prop.multiProcessorCount * per_sm; }

  const gpu& g_;
  benchmark_info info_;
  const nvml& nvml_;
  std::optional<double> per_sm_;
  static constexpr std::uint64_t blocking_timeout_ns = 2'000'000'000ULL;

  stream_handle stream_;
  event_handle start_;
  event_handle stop_;
  pinned_buffer flag_;
  pinned_buffer timed_out_;
  volatile int* flag_dev_ = nullptr;
  int* timed_out_dev_ = nullptr;
  device_buffer probe_;
};

enum class vector_kind { fp64, fp32, fp16x2, int32 };

class vector_case final : public cuda_case {
 public:
  vector_case(const gpu& g, benchmark_info info, const nvml& n, std::optional<double> per_sm, vector_kind kind)
      : cuda_case(g, std::move(info), n, per_sm), kind_(kind), out_(static_cast<std::size_t>(blocks(blocks_per_sm) * threads) * 8) {}

  verification verify() override {
    const auto count = static_cast<std::size_t>(blocks(blocks_per_sm) * threads);
    verification v;
    v.tolerance = 0;
    double expected = 0;
    std::size_t bad = 0;
    if (kind_ == vector_kind::fp64) {
      std::vector<double> h(count);
      CHIPGAUGE_CUDA(cudaMemcpy(h.data(), out_.ptr, count * sizeof(double), cudaMemcpyDeviceToHost));
      expected = kc::fma_chains * static_cast<double>(iterations()) * fp64_add;
      for (double x : h) bad += x != expected;
    } else if (kind_ == vector_kind::int32) {
      std::vector<std::int32_t> h(count);
      CHIPGAUGE_CUDA(cudaMemcpy(h.data(), out_.ptr, count * sizeof(std::int32_t), cudaMemcpyDeviceToHost));
      expected = kc::fma_chains * 3.0 * static_cast<double>(iterations());
      for (auto x : h) bad += static_cast<double>(x) != expected;
    } else {
      std::vector<float> h(count);
      CHIPGAUGE_CUDA(cudaMemcpy(h.data(), out_.ptr, count * sizeof(float), cudaMemcpyDeviceToHost));
      expected = kind_ == vector_kind::fp32 ? kc::fma_chains * static_cast<double>(iterations()) * fp32_add
                                            : kc::fma_chains * 2.0 * static_cast<double>(iterations()) * 0.0625;
      for (float x : h) bad += static_cast<double>(x) != expected;
    }
    v.passed = bad == 0;
    v.detail = fmt::format("{} threads: each sum of {} chains must be {} (exact); {} differ", count, kc::fma_chains, expected, bad);
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

  vector_kind kind_;
  device_buffer out_;
};

// Tensor cores through mma.sync: every thread's accumulator sum is known exactly.
class tensor_case final : public cuda_case {
 public:
  tensor_case(const gpu& g, benchmark_info info, const nvml& n, std::optional<double> per_sm, kc::tensor_op op, bool wgmma)
      : cuda_case(g, std::move(info), n, per_sm), op_(op), wgmma_(wgmma),
        out_(static_cast<std::size_t>(blocks(blocks_per_sm) * threads) * sizeof(double)) {}

  verification verify() override {
    const auto count = static_cast<std::size_t>(blocks(blocks_per_sm) * threads);
    std::vector<double> h(count);
    CHIPGAUGE_CUDA(cudaMemcpy(h.data(), out_.ptr, count * sizeof(double), cudaMemcpyDeviceToHost));
    const auto shape = kc::shape_of(op_);
    // mma.sync: tensor_chains x values_per_thread accumulators; wgmma: 2 x 64 (m64n128, 128 threads).
    const double accumulators = wgmma_ ? 128.0 : static_cast<double>(kc::tensor_chains) * shape.values_per_thread;
    const int k = wgmma_ ? kc::wgmma_k(op_) : shape.k;
    const double expected = accumulators * static_cast<double>(iterations) * k;
    std::size_t bad = 0;
    for (double x : h) bad += x != expected;
    verification v;
    v.passed = bad == 0;
    v.detail = fmt::format("{} threads: each sum of {} accumulators must be {} (every D element {} x K {}); {} differ", count,
                           accumulators, expected, iterations, k, bad);
    return v;
  }

 private:
  static constexpr int blocks_per_sm = 4;
  static constexpr int threads = 256;
  static constexpr std::uint64_t iterations = 4096;  // x K 32 = 2^17: exact in FP32 accumulators

  double enqueue(std::uint64_t reps) override {
    const int b = blocks(blocks_per_sm);
    if (wgmma_) {
      for (std::uint64_t r = 0; r < reps; ++r) kc::launch_wgmma(op_, b, iterations, out_.as<double>(), stream_.s);
      // Two warpgroups per block, two m64n128xK instructions per warpgroup per iteration.
      const double per_instruction = 2.0 * 64 * 128 * kc::wgmma_k(op_);
      return static_cast<double>(reps) * b * 2 * 2 * static_cast<double>(iterations) * per_instruction;
    }
    for (std::uint64_t r = 0; r < reps; ++r) kc::launch_mma(op_, b, threads, iterations, out_.as<double>(), stream_.s);
    const auto shape = kc::shape_of(op_);
    const double per_step = 2.0 * shape.m * shape.n * shape.k;
    return static_cast<double>(reps) * b * (threads / 32) * kc::tensor_chains * static_cast<double>(iterations) * per_step;
  }

  kc::tensor_op op_;
  bool wgmma_;
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
    int found = 0;
    const auto st = cublasLtMatmulAlgoGetHeuristic(handle_.h, op_.h, la_.h, lb_.h, ld_.h, ld_.h, pref.h, 1, &heuristic_, &found);
    if (st != CUBLAS_STATUS_SUCCESS || found == 0)
      throw error(fmt::format("cuBLASLt offers no algorithm for a {0}x{0}x{0} {1} GEMM on this device (status {2})", m_,
                              to_string(p_), static_cast<int>(st)));
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
    v.detail = fmt::format("{} sampled outputs of a {}x{}x{} product of integers in [-2, 2], exact; {} differ", samples, m_, n_,
                           k_, bad);
    return v;
  }

 private:
  static constexpr std::size_t workspace_bytes = 64U << 20;
  static constexpr std::uint64_t samples = 512;

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
    const float alpha_f = 1;
    const float beta_f = 0;
    const std::int32_t alpha_i = 1;
    const std::int32_t beta_i = 0;
    const void* alpha = p_ == precision::int8 ? static_cast<const void*>(&alpha_i) : static_cast<const void*>(&alpha_f);
    const void* beta = p_ == precision::int8 ? static_cast<const void*>(&beta_i) : static_cast<const void*>(&beta_f);
    for (std::uint64_t r = 0; r < reps; ++r) {
      CHIPGAUGE_CUBLAS(cublasLtMatmul(handle_.h, op_.h, alpha, a_->ptr, la_.h, b_->ptr, lb_.h, beta, d_->ptr, ld_.h, d_->ptr, ld_.h,
                                      &heuristic_.algo, workspace_->ptr, workspace_bytes, stream_.s));
    }
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
};

enum class dram_kind { read, write, copy, triad };

class dram_case final : public cuda_case {
 public:
  dram_case(const gpu& g, benchmark_info info, const nvml& n, dram_kind kind, std::size_t count, int blocks_per_sm = 8)
      : cuda_case(g, std::move(info), n, std::nullopt), kind_(kind), blocks_per_sm_(blocks_per_sm), n_(count & ~std::size_t{1}),
        a_(n_ * 8), b_(n_ * 8), c_(n_ * 8), sums_(static_cast<std::size_t>(blocks(blocks_per_sm_)) * sizeof(double)) {
    kc::launch_fill(blocks(blocks_per_sm_), threads, a_.as<double>(), n_, 1.0, stream_.s);
    kc::launch_fill(blocks(blocks_per_sm_), threads, b_.as<double>(), n_, 2.0, stream_.s);
    kc::launch_fill(blocks(blocks_per_sm_), threads, c_.as<double>(), n_, 3.0, stream_.s);
    CHIPGAUGE_CUDA(cudaStreamSynchronize(stream_.s));
  }

  verification verify() override {
    verification v;
    std::size_t bad = 0;
    if (kind_ == dram_kind::read) {
      std::vector<double> sums(static_cast<std::size_t>(blocks(blocks_per_sm_)));
      CHIPGAUGE_CUDA(cudaMemcpy(sums.data(), sums_.ptr, sums.size() * sizeof(double), cudaMemcpyDeviceToHost));
      double got = 0;
      for (double s : sums) got += s;
      double expected = 0;
      for (std::size_t i = 0; i < n_; ++i) expected += hashed(i, 1.0);
      v.tolerance = 1e-12;  // summation order differs
      v.max_error = std::fabs(got - expected) / expected;
      v.passed = v.max_error <= v.tolerance;
      v.detail = fmt::format("sum of {} elements: {} against {} computed on the host", n_, got, expected);
      return v;
    }
    const device_buffer& out = kind_ == dram_kind::copy ? c_ : a_;
    std::vector<double> h(n_);
    CHIPGAUGE_CUDA(cudaMemcpy(h.data(), out.ptr, n_ * sizeof(double), cudaMemcpyDeviceToHost));
    v.tolerance = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      const double expected = kind_ == dram_kind::write  ? write_value
                              : kind_ == dram_kind::copy ? hashed(i, 1.0)
                                                         : std::fma(scalar, hashed(i, 3.0), hashed(i, 2.0));
      bad += h[i] != expected;
    }
    v.passed = bad == 0;
    v.detail = fmt::format("all {} elements against their expected values (exact); {} differ", n_, bad);
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
        case dram_kind::read: kc::launch_read(b, threads, a_.as<double>(), n_, sums_.as<double>(), stream_.s); break;
        case dram_kind::write: kc::launch_write(b, threads, a_.as<double>(), n_, write_value, stream_.s); break;
        case dram_kind::copy: kc::launch_copy(b, threads, a_.as<double>(), c_.as<double>(), n_, stream_.s); break;
        case dram_kind::triad:
          kc::launch_triad(b, threads, a_.as<double>(), b_.as<double>(), c_.as<double>(), scalar, n_, stream_.s);
          break;
      }
    }
    const double arrays = kind_ == dram_kind::triad ? 3 : kind_ == dram_kind::copy ? 2 : 1;
    return static_cast<double>(reps) * arrays * static_cast<double>(n_) * sizeof(double);
  }

  dram_kind kind_;
  int blocks_per_sm_;
  std::size_t n_;
  device_buffer a_;
  device_buffer b_;
  device_buffer c_;
  device_buffer sums_;
};

enum class copy_kind { h2d, d2h, bidirectional };

class copy_case final : public cuda_case {
 public:
  copy_case(const gpu& g, benchmark_info info, const nvml& n, copy_kind kind, std::size_t bytes)
      : cuda_case(g, std::move(info), n, std::nullopt), kind_(kind), bytes_(bytes), host_in_(bytes), host_out_(bytes),
        dev_in_(bytes), dev_out_(bytes) {
    auto* h = host_in_.as<unsigned char>();
    for (std::size_t i = 0; i < bytes_; ++i) h[i] = static_cast<unsigned char>((i * 2654435761U) >> 13);
    CHIPGAUGE_CUDA(cudaMemcpy(dev_out_.ptr, host_in_.ptr, bytes_, cudaMemcpyHostToDevice));
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
    v.detail = fmt::format("{} bytes compared byte for byte after the copies", bytes_);
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

  copy_kind kind_;
  std::size_t bytes_;
  pinned_buffer host_in_;
  pinned_buffer host_out_;
  device_buffer dev_in_;
  device_buffer dev_out_;
  stream_handle second_;
  event_handle fork_;
  event_handle join_;
};

class smem_case final : public cuda_case {
 public:
  smem_case(const gpu& g, benchmark_info info, const nvml& n)
      : cuda_case(g, std::move(info), n, std::nullopt), out_(static_cast<std::size_t>(blocks(blocks_per_sm) * threads) * sizeof(float)) {}

  verification verify() override {
    const auto count = static_cast<std::size_t>(blocks(blocks_per_sm) * threads);
    std::vector<float> h(count);
    CHIPGAUGE_CUDA(cudaMemcpy(h.data(), out_.ptr, count * sizeof(float), cudaMemcpyDeviceToHost));
    std::size_t bad = 0;
    for (std::size_t t = 0; t < count; ++t) {
      // Thread t reads words t, t+32, ... (mod 2048): word w holds 4 x (w mod 4), and w mod 4 = t mod 4.
      const double expected = 4.0 * static_cast<double>((t % threads) % 4) * static_cast<double>(iterations);
      bad += static_cast<double>(h[t]) != expected;
    }
    verification v;
    v.passed = bad == 0;
    v.detail = fmt::format("{} threads: each sum of {} reads must be exact; {} differ", count, iterations, bad);
    return v;
  }

 private:
  static constexpr int blocks_per_sm = 4;
  static constexpr int threads = 256;
  static constexpr std::uint64_t iterations = 1U << 16;  // 4 x 3 x 2^16 < 2^24: exact in FP32

  double enqueue(std::uint64_t reps) override {
    const int b = blocks(blocks_per_sm);
    for (std::uint64_t r = 0; r < reps; ++r) kc::launch_smem_read(b, threads, iterations, out_.as<float>(), stream_.s);
    return static_cast<double>(reps) * b * threads * static_cast<double>(iterations) * 16.0;
  }

  device_buffer out_;
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
    CHIPGAUGE_CUDA(cudaSetDevice(g_.index));
    enable_peer(to_.index);
    CHIPGAUGE_CUDA(cudaMemset(src_.ptr, 0xA5, bytes_));
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

std::map<std::string, double> load_per_sm(const std::string& specs_dir, int major, int minor) {
  const auto path = (std::filesystem::path(specs_dir) / "arch" / "cuda.json").string();
  std::map<std::string, double> out;
  if (!std::filesystem::exists(path)) return out;
  const auto doc = read_json_file(path);
  const json_node root(doc, path);
  root.expect_keys({"schema", "title", "notes", "architectures"});
  const std::string cc = fmt::format("{}.{}", major, minor);
  for (const auto& a : root.at("architectures").elements()) {
    a.expect_keys({"name", "compute_capability", "ops_per_clock_per_sm", "evidence", "source"});
    if (a.at("compute_capability").string() != cc) continue;
    for (const auto& [k, v] : a.at("ops_per_clock_per_sm").members()) out[k] = v.number_in(0, 1e6, "ops/clock/SM");
  }
  return out;
}

class cuda_backend final : public backend {
 public:
  explicit cuda_backend(std::string specs_dir) : specs_dir_(std::move(specs_dir)) {
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
      d.properties = {{"uuid", uuid},
                      {"pci_bus_id", g.pci},
                      {"compute_capability", fmt::format("{}.{}", g.prop.major, g.prop.minor)},
                      {"sm_count", std::to_string(g.prop.multiProcessorCount)},
                      {"max_sm_clock_mhz", std::to_string(g.clock_khz / 1000)},
                      {"memory_clock_mhz", std::to_string(g.mem_clock_khz / 1000)},
                      {"memory_bus_bits", std::to_string(g.bus_width)},
                      {"memory_bytes", std::to_string(g.prop.totalGlobalMem)},
                      {"l2_bytes", std::to_string(g.prop.l2CacheSize)},
                      {"ecc", g.prop.ECCEnabled ? "enabled" : "disabled"},
                      {"mig", nvml_.mig_mode(g.pci)},
                      {"driver_version", std::to_string(driver)},
                      {"runtime_version", std::to_string(runtime)},
                      {"nvml", nvml_.available() ? "loaded" : nvml_.why()}};
      out.push_back(std::move(d));
    }
    return out;
  }

  std::pair<std::vector<benchmark_info>, std::vector<skipped_benchmark>> benchmarks(const device_info& d, run_mode mode) override {
    std::vector<benchmark_info> run;
    std::vector<skipped_benchmark> skip;
    run.push_back({"fma_fp64", "vector", precision::fp64, metric_kind::ops_per_s, "sass", "FP64 vector FMA (DFMA)", 0});
    run.push_back({"fma_fp32", "vector", precision::fp32, metric_kind::ops_per_s, "sass", "FP32 vector FMA (FFMA)", 0});
    run.push_back({"fma_fp16x2", "vector", precision::fp16, metric_kind::ops_per_s, "sass", "FP16x2 vector FMA (HFMA2)", 0});
    run.push_back({"mad_int32", "vector", std::nullopt, metric_kind::ops_per_s, "sass", "INT32 multiply-add (IMAD)", 0});
    const auto& g = gpu_of(d);
    const double bytes = dram_array_bytes(g);
    for (const char* k : {"read", "write", "copy", "triad"})
      run.push_back({std::string("dram_") + k, "memory", std::nullopt, metric_kind::bytes_per_s, "sass",
                     fmt::format("DRAM {} with 16-byte accesses over arrays of {:.0f} MiB (hashed data)", k, bytes / 1048576.0),
                     bytes * (std::string(k) == "triad" ? 3 : std::string(k) == "copy" ? 2 : 1)});
    // L2 and shared memory: a read sweep over footprints inside L2, and the shared-memory tile.
    for (const int div : {8, 4, 2}) {
      const double fb = static_cast<double>(g.prop.l2CacheSize) / div;
      run.push_back({fmt::format("l2_read_{}kib", static_cast<long long>(fb / 1024)), "sweep", std::nullopt, metric_kind::bytes_per_s,
                     "sass", fmt::format("read of {:.0f} KiB (1/{} of L2), repeated", fb / 1024, div), fb});
    }
    run.push_back({"smem_read", "sweep", std::nullopt, metric_kind::bytes_per_s, "sass", "shared-memory read, 16-byte words, 32 KiB tile per block", 0});
    if (mode == run_mode::full) {
      for (const int occ : {1, 2, 4, 16})
        run.push_back({fmt::format("dram_triad_occ{}", occ), "memory", std::nullopt, metric_kind::bytes_per_s, "sass",
                       fmt::format("DRAM triad with {} blocks of 256 threads per SM (occupancy sweep)", occ), 3 * bytes});
    }
    for (const auto& other : gpus_) {
      if (other.index == g.index) continue;
      int can = 0;
      release(cudaDeviceCanAccessPeer(&can, g.index, other.index));
      for (const char* way : {"uni", "bi"}) {
        benchmark_info t{fmt::format("p2p_{}_to_{}_{}", g.index, other.index, way), "interconnect", std::nullopt,
                         metric_kind::bytes_per_s, "copy engine",
                         fmt::format("peer-to-peer copies of 256 MiB, cuda:{} to cuda:{}, {}directional", g.index, other.index, way), 0};
        if (can) run.push_back(t);
        else skip.push_back({t, "these two GPUs cannot access each other's memory (no peer path)"});
      }
    }
    for (const char* k : {"h2d", "d2h", "bidirectional"})
      run.push_back({std::string("pcie_") + k, "interconnect", std::nullopt, metric_kind::bytes_per_s, "copy engine",
                     fmt::format("pinned host-device copy, {} of 256 MiB", k), 256.0 * 1048576});
    const int cc = g.prop.major * 10 + g.prop.minor;
    for (const char* p : {"fp16", "bf16", "tf32", "int8", "fp8", "fp64"}) {
      benchmark_info t{std::string("mma_") + p, "compute", parse_precision(p), metric_kind::ops_per_s, "mma.sync",
                       fmt::format("tensor cores, warp-level mma.sync, {} dense", p), 0};
      if (cc < 80) skip.push_back({t, "mma.sync tensor kernels need compute capability 8.0 or later"});
      else if (std::string(p) == "fp8" && cc < 89) skip.push_back({t, "FP8 (e4m3) tensor cores need compute capability 8.9 or later"});
      else run.push_back(t);
    }
    for (const char* p : {"fp16", "bf16", "tf32", "fp8", "int8"}) {
      benchmark_info t{std::string("wgmma_") + p, "compute", parse_precision(p), metric_kind::ops_per_s, "wgmma",
                       fmt::format("tensor cores, warpgroup wgmma m64n128 (sm_90a), {} dense", p), 0};
      if (cc == 90) run.push_back(t);
      else skip.push_back({t, "wgmma needs compute capability 9.0 (sm_90a)"});
    }
    // The application view: cuBLASLt GEMMs, one shape in quick mode, a sweep in full mode.
    const std::vector<int> sizes = mode == run_mode::quick ? std::vector<int>{8192} : std::vector<int>{4096, 8192, 16384};
    for (const char* p : {"bf16", "fp16", "tf32", "fp8", "int8"}) {
      for (int size : sizes) {
        benchmark_info t{fmt::format("gemm_{}_{}", p, size), "gemm", parse_precision(p), metric_kind::ops_per_s, "cuBLASLt",
                         fmt::format("cuBLASLt {0} GEMM {1}x{1}x{1} (TN)", p, size), 0};
        if (std::string(p) == "fp8" && cc < 89) skip.push_back({t, "FP8 GEMMs need compute capability 8.9 or later"});
        else run.push_back(t);
      }
    }
    return {run, skip};
  }

  std::unique_ptr<benchmark_case> prepare(const device_info& d, const benchmark_info& b, run_mode) override {
    const auto& g = gpu_of(d);
    const auto per_sm = load_per_sm(specs_dir_, g.prop.major, g.prop.minor);
    auto rate = [&](const char* key) -> std::optional<double> {
      const auto it = per_sm.find(key);
      return it == per_sm.end() ? std::nullopt : std::optional<double>(it->second);
    };
    const std::pair<const char*, kc::tensor_op> tensor[] = {{"mma_fp16", kc::tensor_op::fp16}, {"mma_bf16", kc::tensor_op::bf16},
                                                            {"mma_tf32", kc::tensor_op::tf32}, {"mma_int8", kc::tensor_op::int8},
                                                            {"mma_fp8", kc::tensor_op::fp8},   {"mma_fp64", kc::tensor_op::fp64}};
    for (const auto& [name, op] : tensor) {
      const std::string prec = std::string(name).substr(4);
      if (b.name == name) return std::make_unique<tensor_case>(g, b, nvml_, rate(("tensor_" + prec).c_str()), op, false);
      if (b.name == "wgmma_" + prec) return std::make_unique<tensor_case>(g, b, nvml_, rate(("tensor_" + prec).c_str()), op, true);
    }
    if (b.name.rfind("gemm_", 0) == 0) {
      const auto prec = b.name.substr(5, b.name.find('_', 5) - 5);
      const int size = std::stoi(b.name.substr(b.name.rfind('_') + 1));
      return std::make_unique<gemm_case>(g, b, nvml_, rate(("tensor_" + prec).c_str()), *parse_precision(prec), size);
    }
    if (b.name == "fma_fp64") return std::make_unique<vector_case>(g, b, nvml_, rate("fma_fp64"), vector_kind::fp64);
    if (b.name == "fma_fp32") return std::make_unique<vector_case>(g, b, nvml_, rate("fma_fp32"), vector_kind::fp32);
    if (b.name == "fma_fp16x2") return std::make_unique<vector_case>(g, b, nvml_, rate("fma_fp16x2"), vector_kind::fp16x2);
    if (b.name == "mad_int32") return std::make_unique<vector_case>(g, b, nvml_, rate("mad_int32"), vector_kind::int32);
    const auto n = static_cast<std::size_t>(dram_array_bytes(g) / sizeof(double));
    if (b.name == "dram_read") return std::make_unique<dram_case>(g, b, nvml_, dram_kind::read, n);
    if (b.name == "dram_write") return std::make_unique<dram_case>(g, b, nvml_, dram_kind::write, n);
    if (b.name == "dram_copy") return std::make_unique<dram_case>(g, b, nvml_, dram_kind::copy, n);
    if (b.name == "dram_triad") return std::make_unique<dram_case>(g, b, nvml_, dram_kind::triad, n);
    if (b.name.rfind("l2_read_", 0) == 0)
      return std::make_unique<dram_case>(g, b, nvml_, dram_kind::read, static_cast<std::size_t>(b.footprint_bytes / sizeof(double)));
    if (b.name == "smem_read") return std::make_unique<smem_case>(g, b, nvml_);
    if (b.name.rfind("dram_triad_occ", 0) == 0)
      return std::make_unique<dram_case>(g, b, nvml_, dram_kind::triad, n, std::stoi(b.name.substr(14)));
    if (b.name.rfind("p2p_", 0) == 0) {
      const int to = std::stoi(b.name.substr(b.name.find("_to_") + 4));
      for (const auto& other : gpus_) {
        if (other.index == to)
          return std::make_unique<p2p_case>(g, other, b, nvml_, b.name.size() > 3 && b.name.substr(b.name.size() - 3) == "_bi", 256U << 20);
      }
    }
    const std::size_t bytes = 256U << 20;
    if (b.name == "pcie_h2d") return std::make_unique<copy_case>(g, b, nvml_, copy_kind::h2d, bytes);
    if (b.name == "pcie_d2h") return std::make_unique<copy_case>(g, b, nvml_, copy_kind::d2h, bytes);
    if (b.name == "pcie_bidirectional") return std::make_unique<copy_case>(g, b, nvml_, copy_kind::bidirectional, bytes);
    throw usage_error(fmt::format("the cuda backend has no benchmark '{}'", b.name));
  }

 private:
  const gpu& gpu_of(const device_info& d) const {
    for (const auto& g : gpus_) {
      if (fmt::format("cuda:{}", g.index) == d.id) return g;
    }
    throw usage_error(fmt::format("no CUDA device '{}'", d.id));
  }

  // Each DRAM array: 8 x L2 and at least 1 GiB, so the working set never fits in L2.
  static double dram_array_bytes(const gpu& g) { return std::max(8.0 * g.prop.l2CacheSize, 1024.0 * 1048576); }

  std::string specs_dir_;
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
