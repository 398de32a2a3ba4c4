// Memory cases: DRAM streams (read, write, copy, triad), the L2 read sweep and the shared-memory
// read sweep, each verified exactly.
#include "cases.hpp"

#include "chipgauge/kernels/cuda.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace chipgauge::bench::cuda {

namespace {

class dram_case final : public cuda_case {
 public:
  /// `count` doubles per array; a read makes `passes` passes over its array per launch (L2-resident
  /// footprints need many to outlast launch gaps). Every array starts with values no kernel writes,
  /// so a kernel that did nothing fails verification.
  dram_case(const case_context& c, benchmark_info info, cuda_params::dram_kind kind,
            std::size_t count, int blocks_per_sm, unsigned passes, std::optional<fixed_peak> peak)
      : cuda_case(c, std::move(info), std::nullopt, std::move(peak)),
        kind_(kind),
        blocks_per_sm_(blocks_per_sm),
        passes_(passes),
        n_(count & ~std::size_t{1}),
        a_(n_ * 8),
        b_(kind == cuda_params::dram_kind::triad ? n_ * 8 : 16),
        c_(kind == cuda_params::dram_kind::triad || kind == cuda_params::dram_kind::copy ? n_ * 8
                                                                                         : 16),
        sums_(static_cast<std::size_t>(blocks(blocks_per_sm_)) * sizeof(double)) {
    kc::launch_fill(blocks(blocks_per_sm_), threads, a_.as<double>(), n_, 1.0, stream());
    if (kind == cuda_params::dram_kind::triad)
      kc::launch_fill(blocks(blocks_per_sm_), threads, b_.as<double>(), n_, 2.0, stream());
    if (kind != cuda_params::dram_kind::read && kind != cuda_params::dram_kind::write)
      kc::launch_fill(blocks(blocks_per_sm_), threads, c_.as<double>(), n_, 3.0, stream());
    poison(sums_);
    CHIPGAUGE_CUDA(cudaStreamSynchronize(stream()));
  }

  verification verify() override {
    verification v;
    if (kind_ == cuda_params::dram_kind::read) {
      std::vector<double> sums(static_cast<std::size_t>(blocks(blocks_per_sm_)));
      CHIPGAUGE_CUDA(
          cudaMemcpy(sums.data(), sums_.ptr, sums.size() * sizeof(double), cudaMemcpyDeviceToHost));
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
      v.detail =
          fmt::format("sum of {} elements x {} passes: {} against {} computed on the host (exact)",
                      n_, passes_, got, expected);
      return v;
    }
    const device_buffer& out = kind_ == cuda_params::dram_kind::copy ? c_ : a_;
    std::vector<double> h(n_);
    CHIPGAUGE_CUDA(cudaMemcpy(h.data(), out.ptr, n_ * sizeof(double), cudaMemcpyDeviceToHost));
    v.tolerance = 0;
    const auto bad = compare_exact(h, [this](std::size_t i) {
      return kind_ == cuda_params::dram_kind::write ? write_value
             : kind_ == cuda_params::dram_kind::copy
                 ? hashed(i, 1.0)
                 : std::fma(scalar, hashed(i, 3.0), hashed(i, 2.0));
    });
    v.passed = bad.count == 0;
    v.detail =
        fmt::format("all {} elements against their expected values (exact); {}", n_, bad.text());
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
        case cuda_params::dram_kind::read:
          kc::launch_read(b, threads, a_.as<double>(), n_, passes_, sums_.as<double>(), stream());
          break;
        case cuda_params::dram_kind::write:
          kc::launch_write(b, threads, a_.as<double>(), n_, write_value, stream());
          break;
        case cuda_params::dram_kind::copy:
          kc::launch_copy(b, threads, a_.as<double>(), c_.as<double>(), n_, stream());
          break;
        case cuda_params::dram_kind::triad:
          kc::launch_triad(b, threads, a_.as<double>(), b_.as<double>(), c_.as<double>(), scalar,
                           n_, stream());
          break;
      }
    }
    const double arrays = kind_ == cuda_params::dram_kind::triad  ? 3
                          : kind_ == cuda_params::dram_kind::copy ? 2
                          : kind_ == cuda_params::dram_kind::read ? passes_
                                                                  : 1;
    return static_cast<double>(reps) * arrays * static_cast<double>(n_) * sizeof(double);
  }

  cuda_params::dram_kind kind_;
  int blocks_per_sm_;
  unsigned passes_;
  std::size_t n_;
  device_buffer a_;
  device_buffer b_;
  device_buffer c_;
  device_buffer sums_;
};

// Shared-memory read bandwidth for one tile size per block (the footprint): blocks per SM as many
// as the SM's shared memory holds, at most 4.
class smem_case final : public cuda_case {
 public:
  smem_case(const case_context& c, benchmark_info info, std::optional<double> per_sm,
            std::size_t tile_bytes)
      : cuda_case(c, std::move(info), per_sm),
        tile_(tile_bytes),
        per_sm_blocks_(cuda_smem_resident(c.g.facts, tile_bytes, threads)),
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
    v.detail = fmt::format(
        "{} threads over a {} KiB tile: each sum of {} reads must be 4 x (thread mod 4) x {} "
        "(exact); {}",
        count, tile_ / 1024, iterations, iterations, bad.text());
    return v;
  }

 private:
  static constexpr int threads = 256;
  static constexpr std::uint64_t iterations = 1U << 16;  // 4 x 3 x 2^16 < 2^24: exact in FP32

  double enqueue(std::uint64_t reps) override {
    const int b = blocks(per_sm_blocks_);
    for (std::uint64_t r = 0; r < reps; ++r)
      kc::launch_smem_read(b, threads, tile_, iterations, out_.as<float>(), stream());
    return static_cast<double>(reps) * b * threads * static_cast<double>(iterations) * 16.0;
  }

  std::size_t tile_;
  int per_sm_blocks_;
  device_buffer out_;
};

}  // namespace

case_ptr make_case(const case_context& c, const benchmark_info& b, const cuda_params::dram& p) {
  const auto n = static_cast<std::size_t>(cuda_dram_array_bytes(c.g.facts) / sizeof(double));
  return std::make_unique<dram_case>(c, b, p.kind, n, p.blocks_per_sm, 1,
                                     cuda_dram_peak(c.g.facts, c.g.arch.dram));
}

case_ptr make_case(const case_context& c, const benchmark_info& b, const cuda_params::l2_read& p) {
  // From 4 x L2 up the footprint streams from DRAM, so the DRAM peak applies; below, no single
  // peak does (cuda_l2_no_peak_reason; the description says why).
  auto peak = p.dram_peak ? cuda_dram_peak(c.g.facts, c.g.arch.dram) : std::nullopt;
  return std::make_unique<dram_case>(c, b, cuda_params::dram_kind::read,
                                     static_cast<std::size_t>(p.footprint / sizeof(double)), 8,
                                     p.passes, std::move(peak));
}

case_ptr make_case(const case_context& c, const benchmark_info& b,
                   const cuda_params::smem_read& p) {
  return std::make_unique<smem_case>(c, b, c.g.arch.rate("smem_read"), p.tile);
}

}  // namespace chipgauge::bench::cuda
