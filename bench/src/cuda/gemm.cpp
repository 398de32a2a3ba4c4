// What applications get: cuBLASLt GEMMs. The only file that includes cublasLt.h.
#include "cases.hpp"

#include "chipgauge/core/error.hpp"

#include <cublasLt.h>

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

void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw error(fmt::format("{}: {}", what, cublasLtGetStatusName(s)));
}
#define CHIPGAUGE_CUBLAS(call) check((call), #call)

// What applications get: a cuBLASLt GEMM (TN, column-major) with small-integer operands, so the
// products and sums are exact in FP32/INT32 and sampled outputs are checked exactly on the host.
class gemm_case final : public cuda_case {
 public:
  gemm_case(const case_context& c, benchmark_info info, std::optional<double> per_sm, precision p,
            int size)
      : cuda_case(c, std::move(info), per_sm),
        p_(p),
        m_(static_cast<std::uint64_t>(size)),
        n_(m_),
        k_(m_) {
    CHIPGAUGE_CUBLAS(cublasLtCreate(handle_.out()));
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
      case precision::tf32:
        in = CUDA_R_32F;
        compute = CUBLAS_COMPUTE_32F_FAST_TF32;
        break;
      case precision::fp8: in = CUDA_R_8F_E4M3; break;
      case precision::int8:
        in = CUDA_R_8I;
        out = CUDA_R_32I;
        compute = CUBLAS_COMPUTE_32I;
        scale = CUDA_R_32I;
        break;
      default: throw usage_error(fmt::format("no cuBLASLt GEMM for {}", to_string(p_)));
    }
    CHIPGAUGE_CUBLAS(cublasLtMatmulDescCreate(op_.out(), compute, scale));
    const cublasOperation_t t = CUBLAS_OP_T;
    const cublasOperation_t nt = CUBLAS_OP_N;
    CHIPGAUGE_CUBLAS(
        cublasLtMatmulDescSetAttribute(op_.get(), CUBLASLT_MATMUL_DESC_TRANSA, &t, sizeof t));
    CHIPGAUGE_CUBLAS(
        cublasLtMatmulDescSetAttribute(op_.get(), CUBLASLT_MATMUL_DESC_TRANSB, &nt, sizeof nt));
    // Column-major: A is stored K x M and transposed (TN), B K x N, D M x N.
    const auto ld = [](std::uint64_t v) { return static_cast<std::int64_t>(v); };
    CHIPGAUGE_CUBLAS(cublasLtMatrixLayoutCreate(la_.out(), in, k_, m_, ld(k_)));
    CHIPGAUGE_CUBLAS(cublasLtMatrixLayoutCreate(lb_.out(), in, k_, n_, ld(k_)));
    CHIPGAUGE_CUBLAS(cublasLtMatrixLayoutCreate(ld_.out(), out, m_, n_, ld(m_)));
    unique_handle<cublasLtMatmulPreference_t, cublasLtMatmulPreferenceDestroy> pref;
    CHIPGAUGE_CUBLAS(cublasLtMatmulPreferenceCreate(pref.out()));
    const std::size_t ws = workspace_bytes;
    CHIPGAUGE_CUBLAS(cublasLtMatmulPreferenceSetAttribute(
        pref.get(), CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
    // Several heuristic candidates, each timed briefly; the fastest is kept (as cuBLAS's own
    // benchmarks and mamf-finder do): the first heuristic is not always the fastest for a shape.
    std::vector<cublasLtMatmulHeuristicResult_t> candidates(heuristic_candidates);
    int found = 0;
    const auto st = cublasLtMatmulAlgoGetHeuristic(handle_.get(), op_.get(), la_.get(), lb_.get(),
                                                   ld_.get(), ld_.get(), pref.get(),
                                                   heuristic_candidates, candidates.data(), &found);
    candidates.resize(
        static_cast<std::size_t>(st == CUBLAS_STATUS_SUCCESS ? std::max(found, 0) : 0));
    // No algorithm is a fact about this device and library, not a failure: the result is skipped.
    const auto usable = std::count_if(candidates.begin(), candidates.end(), [](const auto& h) {
      return h.state == CUBLAS_STATUS_SUCCESS;
    });
    if (usable == 0)
      throw benchmark_unsupported(fmt::format(
          "cuBLASLt offers no algorithm for a {0}x{0}x{0} {1} GEMM (TN) on this device ({2})", m_,
          to_string(p_),
          st != CUBLAS_STATUS_SUCCESS ? cublasLtGetStatusName(st)
          : candidates.empty()        ? "no heuristic result"
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
      for (std::uint64_t k = 0; k < k_; ++k)
        expected += host_a_[k + i * k_] * host_b_[k + j * k_];  // exact integers
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
    v.detail = fmt::format(
        "{} sampled outputs of a {}x{}x{} product of integers in [-2, 2], exact; {} differ "
        "(largest error {})",
        samples, m_, n_, k_, bad, worst);
    return v;
  }

 private:
  static constexpr std::size_t workspace_bytes = 64U << 20;
  static constexpr std::uint64_t samples = 512;
  static constexpr int heuristic_candidates = 8;  ///< asked of cuBLASLt's heuristic
  static constexpr int trial_runs = 3;            ///< timed GEMMs per candidate, after one untimed

  const void* alpha() const {
    return p_ == precision::int8 ? static_cast<const void*>(&alpha_i_)
                                 : static_cast<const void*>(&alpha_f_);
  }
  const void* beta() const {
    return p_ == precision::int8 ? static_cast<const void*>(&beta_i_)
                                 : static_cast<const void*>(&beta_f_);
  }
  cublasStatus_t matmul(const cublasLtMatmulAlgo_t& algo) const {
    return cublasLtMatmul(handle_.get(), op_.get(), alpha(), a_->ptr, la_.get(), b_->ptr, lb_.get(),
                          beta(), d_->ptr, ld_.get(), d_->ptr, ld_.get(), &algo, workspace_->ptr,
                          workspace_bytes, stream());
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
      CHIPGAUGE_CUDA(cudaEventRecord(start_.get(), stream()));
      for (int r = 0; r < trial_runs && st == CUBLAS_STATUS_SUCCESS; ++r)
        st = matmul(candidates[i].algo);
      CHIPGAUGE_CUDA(cudaEventRecord(stop_.get(), stream()));
      wait(stop_.get(), nullptr);
      if (st != CUBLAS_STATUS_SUCCESS) {
        refused +=
            fmt::format("{}{} ({})", refused.empty() ? "" : ", ", i, cublasLtGetStatusName(st));
        continue;
      }
      float ms = 0;
      CHIPGAUGE_CUDA(cudaEventElapsedTime(&ms, start_.get(), stop_.get()));
      ++timed;
      if (best < 0 || ms < best_ms) {
        best = static_cast<int>(i);
        best_ms = ms;
      }
    }
    if (best < 0)
      throw benchmark_unsupported(fmt::format(
          "cuBLASLt refused every algorithm its heuristic offered for a {0}x{0}x{0} {1} GEMM "
          "(TN): {2}",
          m_, to_string(p_), refused));
    heuristic_ = candidates[static_cast<std::size_t>(best)];
    const auto config = [this](cublasLtMatmulAlgoConfigAttributes_t a) {
      std::uint32_t v = 0;  // CONFIG_ID is int32, the others uint32: the same 4 bytes
      std::size_t written = 0;
      return cublasLtMatmulAlgoConfigGetAttribute(&heuristic_.algo, a, &v, sizeof v, &written) ==
                     CUBLAS_STATUS_SUCCESS
                 ? std::to_string(v)
                 : std::string("?");
    };
    info_.description += fmt::format(
        "; algorithm: heuristic index {} of {} offered, the fastest of {} timed ({:.3f} ms per "
        "GEMM), id {}, tile {}, stages {}, split-K {}; workspace {} bytes of the {} MiB "
        "offered{}",
        best, candidates.size(), timed, best_ms / trial_runs, config(CUBLASLT_ALGO_CONFIG_ID),
        config(CUBLASLT_ALGO_CONFIG_TILE_ID), config(CUBLASLT_ALGO_CONFIG_STAGES_ID),
        config(CUBLASLT_ALGO_CONFIG_SPLITK_NUM), heuristic_.workspaceSize, workspace_bytes >> 20,
        refused.empty() ? "" : "; refused at run time: " + refused);
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
    return static_cast<double>(reps) * 2.0 * static_cast<double>(m_) * static_cast<double>(n_) *
           static_cast<double>(k_);
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
  unique_handle<cublasLtHandle_t, cublasLtDestroy> handle_;
  unique_handle<cublasLtMatmulDesc_t, cublasLtMatmulDescDestroy> op_;
  unique_handle<cublasLtMatrixLayout_t, cublasLtMatrixLayoutDestroy> la_;
  unique_handle<cublasLtMatrixLayout_t, cublasLtMatrixLayoutDestroy> lb_;
  unique_handle<cublasLtMatrixLayout_t, cublasLtMatrixLayoutDestroy> ld_;
  cublasLtMatmulHeuristicResult_t heuristic_{};
  float alpha_f_ = 1;
  float beta_f_ = 0;
  std::int32_t alpha_i_ = 1;
  std::int32_t beta_i_ = 0;
};

}  // namespace

case_ptr make_case(const case_context& c, const benchmark_info& b, const cuda_params::gemm& p) {
  return std::make_unique<gemm_case>(c, b, c.g.arch.rate(p.rate_key), p.prec, p.size);
}

}  // namespace chipgauge::bench::cuda
