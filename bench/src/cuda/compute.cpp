// Compute cases: vector FMA (DFMA, FFMA, HFMA2, IMAD), tensor cores through mma.sync and wgmma,
// and the injected faults of CHIPGAUGE_CUDA_FAULT.
#include "cases.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/kernels/cuda.hpp"
#include "chipgauge/kernels/cuda_fault.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

using chipgauge::classifier::precision;

namespace chipgauge::bench::cuda {

namespace {

class vector_case final : public cuda_case {
 public:
  vector_case(const case_context& c, benchmark_info info, std::optional<double> per_sm,
              cuda_params::vector_kind kind)
      : cuda_case(c, std::move(info), per_sm),
        kind_(kind),
        out_(static_cast<std::size_t>(blocks(blocks_per_sm) * threads) * 8) {
    poison(out_);
  }

  verification verify() override {
    const auto count = static_cast<std::size_t>(blocks(blocks_per_sm) * threads);
    verification v;
    v.tolerance = 0;
    double expected = 0;
    mismatches bad;
    if (kind_ == cuda_params::vector_kind::fp64) {
      expected = kc::fma_chains * static_cast<double>(iterations()) * fp64_add;
      bad = compare_exact(download<double>(count), expected);
    } else if (kind_ == cuda_params::vector_kind::int32) {
      expected = kc::fma_chains * 3.0 * static_cast<double>(iterations());
      bad = compare_exact(download<std::int32_t>(count), expected);
    } else {
      expected = kind_ == cuda_params::vector_kind::fp32
                     ? kc::fma_chains * static_cast<double>(iterations()) * fp32_add
                     : kc::fma_chains * 2.0 * static_cast<double>(iterations()) * 0.0625;
      bad = compare_exact(download<float>(count), expected);
    }
    v.passed = bad.count == 0;
    v.detail = fmt::format("{} threads: each sum of {} chains must be {} (exact); {}", count,
                           kc::fma_chains, expected, bad.text());
    return v;
  }

 private:
  static constexpr int blocks_per_sm = 8;
  static constexpr int threads = 256;
  static constexpr double fp64_add = 0x1p-10;
  static constexpr float fp32_add = 0x1p-8F;

  // Iterations per launch, within each type's exactness bound.
  [[nodiscard]] std::uint64_t iterations() const {
    return kind_ == cuda_params::vector_kind::fp16x2 ? 2048 : 4096;
  }

  double enqueue(std::uint64_t reps) override {
    const int b = blocks(blocks_per_sm);
    for (std::uint64_t r = 0; r < reps; ++r) {
      switch (kind_) {
        case cuda_params::vector_kind::fp64:
          kc::launch_fma_f64(b, threads, iterations(), fp64_add, out_.as<double>(), stream());
          break;
        case cuda_params::vector_kind::fp32:
          kc::launch_fma_f32(b, threads, iterations(), fp32_add, out_.as<float>(), stream());
          break;
        case cuda_params::vector_kind::fp16x2:
          kc::launch_fma_f16x2(b, threads, iterations(), out_.as<float>(), stream());
          break;
        case cuda_params::vector_kind::int32:
          kc::launch_mad_i32(b, threads, iterations(), out_.as<std::int32_t>(), stream());
          break;
      }
    }
    const double ops = kind_ == cuda_params::vector_kind::fp16x2 ? 4.0 : 2.0;
    return static_cast<double>(reps) * b * threads * kc::fma_chains *
           static_cast<double>(iterations()) * ops;
  }

  template <typename T>
  std::vector<T> download(std::size_t count) const {
    std::vector<T> h(count);
    CHIPGAUGE_CUDA(cudaMemcpy(h.data(), out_.ptr, count * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
  }

  cuda_params::vector_kind kind_;
  device_buffer out_;
};

// Tensor cores through mma.sync or wgmma: every thread's accumulator sum is known exactly.
class tensor_case final : public cuda_case {
 public:
  /// `shape`: the wgmma variant (N, operand layout) when `wgmma`.
  tensor_case(const case_context& c, benchmark_info info, std::optional<double> per_sm,
              kc::tensor_op op, bool wgmma, kc::wgmma_shape shape = {})
      : cuda_case(c, std::move(info), per_sm),
        op_(op),
        wgmma_(wgmma),
        shape_(shape),
        // As many blocks per SM as stay resident (registers decide: wgmma kernels hold 154
        // registers per thread, one block per SM), at most 4: the grid is one wave.
        blocks_per_sm_(std::min(4, wgmma ? kc::wgmma_resident_blocks(op, shape)
                                         : kc::mma_resident_blocks(op, threads))),
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
    const double accumulators =
        wgmma_ ? 128.0 : static_cast<double>(kc::tensor_chains) * shape.values_per_thread;
    const int k = wgmma_ ? kc::wgmma_k(op_) : shape.k;
    const double expected = accumulators * static_cast<double>(iterations) * k;
    const auto bad = compare_exact(h, expected);
    verification v;
    v.passed = bad.count == 0;
    v.detail = fmt::format(
        "{} threads: each sum of {} accumulators must be {} (every D element {} x K {}, exact); {}",
        count, accumulators, expected, iterations, k, bad.text());
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
      for (std::uint64_t r = 0; r < reps; ++r)
        kc::launch_wgmma(op_, shape_, b, iterations, out_.as<double>(), stream());
      // Two warpgroups per block, 64 x 256 x K per warpgroup per iteration (two m64n128xK or one
      // m64n256xK instruction).
      const double per_warpgroup_iteration = 2.0 * 64 * 256 * kc::wgmma_k(op_);
      return static_cast<double>(reps) * b * 2 * static_cast<double>(iterations) *
             per_warpgroup_iteration;
    }
    for (std::uint64_t r = 0; r < reps; ++r)
      kc::launch_mma(op_, b, threads, iterations, out_.as<double>(), stream());
    const auto shape = kc::shape_of(op_, g_.cc());
    const double per_step = 2.0 * shape.m * shape.n * shape.k;
    return static_cast<double>(reps) * b * (threads / 32) * kc::tensor_chains *
           static_cast<double>(iterations) * per_step;
  }

  kc::tensor_op op_;
  bool wgmma_;
  kc::wgmma_shape shape_;
  int blocks_per_sm_;
  device_buffer out_;
};

// Injected faults (CHIPGAUGE_CUDA_FAULT): each repetition enqueues the fault; never verifies.
class fault_case final : public cuda_case {
 public:
  fault_case(const case_context& c, benchmark_info info, kc::fault_kind kind)
      : cuda_case(c, std::move(info), std::nullopt), kind_(kind) {}
  verification verify() override { return {false, 0, 0, "an injected fault has no result"}; }

 private:
  double enqueue(std::uint64_t reps) override {
    for (std::uint64_t r = 0; r < reps; ++r) kc::launch_fault(kind_, 600'000'000'000ULL, stream());
    return static_cast<double>(reps);
  }
  kc::fault_kind kind_;
};

}  // namespace

case_ptr make_case(const case_context& c, const benchmark_info& b, const cuda_params::vector& p) {
  return std::make_unique<vector_case>(c, b, c.g.arch.rate(p.rate_key), p.kind);
}

case_ptr make_case(const case_context& c, const benchmark_info& b, const cuda_params::tensor& p) {
  kc::tensor_op op{};
  switch (p.prec) {
    case precision::fp16: op = kc::tensor_op::fp16; break;
    case precision::bf16: op = kc::tensor_op::bf16; break;
    case precision::tf32: op = kc::tensor_op::tf32; break;
    case precision::int8: op = kc::tensor_op::int8; break;
    case precision::fp8: op = kc::tensor_op::fp8; break;
    case precision::fp64: op = kc::tensor_op::fp64; break;
    default:
      throw usage_error(fmt::format("the cuda backend has no tensor kernel for {} ({})",
                                    to_string(p.prec), b.name));
  }
  return std::make_unique<tensor_case>(c, b, c.g.arch.rate(p.rate_key), op, p.wgmma,
                                       kc::wgmma_shape{p.n, p.swizzle128});
}

case_ptr make_case(const case_context& c, const benchmark_info& b, const cuda_params::fault& p) {
  for (const auto k : kc::all_faults) {
    if (p.kind == to_string(k)) return std::make_unique<fault_case>(c, b, k);
  }
  throw usage_error(fmt::format("the cuda backend has no fault '{}'", p.kind));
}

}  // namespace chipgauge::bench::cuda
