#pragma once

// CPU microbenchmark loops: plain host functions, each a tight loop of one instruction kind,
// written with intrinsics under per-function target attributes so one binary carries every ISA
// level and dispatches at run time. Callers verify every result (see bench/src/cpu_backend.cpp).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace chipgauge::kernels::cpu {

/// Instruction-set features of this CPU, from CPUID, with OS support of the wide registers
/// (XGETBV).
struct cpu_features {
  std::string vendor;  ///< "GenuineIntel", "AuthenticAMD"
  std::string brand;   ///< CPUID brand string
  unsigned family = 0;
  unsigned model = 0;
  bool fma = false;
  bool avx2 = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512_vnni = false;
  bool avx512_bf16 = false;
  bool avx512_fp16 = false;
  bool avx_vnni = false;
  bool amx_bf16 = false;
  bool amx_int8 = false;

  /// The feature names present, lower case ("avx2", "avx512f", ...), for reports.
  [[nodiscard]] std::vector<std::string> names() const;
};

/// Detects the features of the CPU this runs on.
cpu_features detect_features();

/// Vector width a loop uses.
enum class isa : unsigned char { scalar, avx2, avx512 };
const char* to_string(isa i) noexcept;

/// Lane values of the accumulators after a compute loop: every lane of every chain must hold the
/// same, predictable value, so min == max == expected verifies the whole loop.
struct lane_range {
  double min = 0;
  double max = 0;
};

/// Independent accumulator chains per loop at `level`: enough to cover latency x issue width on
/// current cores (FMA 4 cycles x 2 pipes = 8; VDPBF16PS needs 12 on Zen 5): 16 with AVX-512's 32
/// registers, 12 with AVX2's 16 (no spills).
int compute_chains(isa level) noexcept;

/// acc = acc * one + add, `iterations` times on every chain and lane, with one = 1 hidden from
/// the compiler; starting from 0 each lane ends at iterations * add exactly (for add a power of two
/// and iterations * add within the mantissa). Operations: iterations x chains x lanes x 2.
lane_range fma_f64(isa level, std::uint64_t iterations, double add);
lane_range fma_f32(isa level, std::uint64_t iterations, float add);
/// Lanes per vector of `level` for 64-bit and 32-bit elements.
int lanes_f64(isa level) noexcept;
int lanes_f32(isa level) noexcept;

/// VFMADD132PH (AVX512_FP16): acc = acc * 1 + 2^-4 in FP16 on 32 lanes. Exact while the
/// accumulator stays below 2^7 (11-bit significand), i.e. for iterations <= 2^11.
lane_range fma_f16_avx512(std::uint64_t iterations);

/// VDPBF16PS (AVX512_BF16): acc_f32 += a0*b0 + a1*b1 per lane with a = 1.0 and b = 2^-14 in bf16;
/// each instruction adds 2^-13 per lane (two 2^-14 products, each rounded in). Exact while the
/// accumulator stays below 2^10, i.e. for iterations <= 2^23. 16 lanes x 2 MACs.
lane_range dot_bf16_avx512(std::uint64_t iterations);
/// VPDPBUSD (AVX512_VNNI, or AVX_VNNI on 256-bit): acc_i32 += sum of 4 u8*s8 products per lane,
/// with every byte 1: each instruction adds 4 per lane. 16 (or 8) lanes x 4 MACs.
lane_range dot_int8_vnni(isa level, std::uint64_t iterations);

/// STREAM kernels over n doubles (BabelStream naming): copy c = a; scale b = s*c; add c = a + b;
/// triad a = b + s*c. `nontemporal` uses streaming stores (needs 64-byte aligned arrays and n a
/// multiple of 8). Each call covers [0, n) of the pointers given (callers split among threads).
void stream_copy(isa level, const double* a, double* c, std::size_t n, bool nontemporal);
void stream_scale(isa level, double* b, const double* c, double s, std::size_t n, bool nontemporal);
void stream_add(isa level, const double* a, const double* b, double* c, std::size_t n,
                bool nontemporal);
void stream_triad(isa level, double* a, const double* b, const double* c, double s, std::size_t n,
                  bool nontemporal);
/// Sum of a[0..n) read `repeats` times (the bandwidth-versus-footprint sweep).
double read_sum(isa level, const double* a, std::size_t n, int repeats);

/// `iterations` x 16 dependent integer adds (one cycle each on every current x86 core): time it
/// to measure the running clock. Returns the final value so the loop cannot be removed.
std::uint64_t dependent_adds(std::uint64_t iterations);
inline constexpr int dependent_adds_per_iteration = 16;

}  // namespace chipgauge::kernels::cpu
