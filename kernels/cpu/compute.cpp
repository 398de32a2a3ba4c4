// Peak-throughput loops: `compute_chains` independent accumulators, one instruction each per
// iteration, operands in registers. The accumulator values are predictable, so callers verify
// every lane. Check the machine code with `objdump -d` (vfmadd132pd/ps, vdpbf16ps, vpdpbusd).
#include "chipgauge/kernels/cpu.hpp"

#include "compute_fp16.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>

namespace chipgauge::kernels::cpu {

namespace {

constexpr int chains_avx512 = 16;  // 32 vector registers: 16 accumulators + operands
constexpr int chains_avx2 = 12;    // 16 vector registers: 12 accumulators + operands, no spills
constexpr int chains_scalar = 12;

template <typename T, std::size_t N>
lane_range range_of(const T (&v)[N]) {
  lane_range r{static_cast<double>(v[0]), static_cast<double>(v[0])};
  for (const T x : v) {
    r.min = std::min(r.min, static_cast<double>(x));
    r.max = std::max(r.max, static_cast<double>(x));
  }
  return r;
}

// Values the compiler cannot see through: `one` must not be known to be 1 (the FMA would fold
// into an add), and the chains must not be known to start equal (they would merge into one).
template <typename T>
T opaque(T v) {
  __asm__ volatile("" : "+m"(v));
  return v;
}

// IEEE binary16 to float, without F16C (normal numbers and zero suffice for the FP16 loop).
float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000U) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1FU;
  const std::uint32_t mant = h & 0x3FFU;
  std::uint32_t f = sign;
  if (exp != 0) f |= ((exp + 112U) << 23) | (mant << 13);  // rebias 15 -> 127
  float out = 0;
  std::memcpy(&out, &f, sizeof out);
  return out;
}

// The chains are written out by these repetition macros rather than arrays or templates: each
// accumulator must be its own named variable for the compiler to keep it in a register across the
// loop (an array of vectors indexed in a loop is spilled at -O2). Macros are otherwise kept for
// __FILE__/__LINE__; this is the one other use, for that reason.
#define CHIPGAUGE_REPEAT12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define CHIPGAUGE_REPEAT16(X) CHIPGAUGE_REPEAT12(X) X(12) X(13) X(14) X(15)

__attribute__((target("avx512f"))) lane_range fma_f64_avx512(std::uint64_t n, double add) {
  const __m512d one = _mm512_set1_pd(opaque(1.0));
  const __m512d inc = _mm512_set1_pd(add);
#define DECL(i) __m512d a##i = _mm512_set1_pd(opaque(0.0));
  CHIPGAUGE_REPEAT16(DECL)
#undef DECL
  for (std::uint64_t k = 0; k < n; ++k) {
#define STEP(i) a##i = _mm512_fmadd_pd(a##i, one, inc);
    CHIPGAUGE_REPEAT16(STEP)
#undef STEP
  }
  double out[chains_avx512 * 8];
#define STORE(i) _mm512_storeu_pd(out + 8 * (i), a##i);
  CHIPGAUGE_REPEAT16(STORE)
#undef STORE
  return range_of(out);
}

__attribute__((target("avx2,fma"))) lane_range fma_f64_avx2(std::uint64_t n, double add) {
  const __m256d one = _mm256_set1_pd(opaque(1.0));
  const __m256d inc = _mm256_set1_pd(add);
#define DECL(i) __m256d a##i = _mm256_set1_pd(opaque(0.0));
  CHIPGAUGE_REPEAT12(DECL)
#undef DECL
  for (std::uint64_t k = 0; k < n; ++k) {
#define STEP(i) a##i = _mm256_fmadd_pd(a##i, one, inc);
    CHIPGAUGE_REPEAT12(STEP)
#undef STEP
  }
  double out[chains_avx2 * 4];
#define STORE(i) _mm256_storeu_pd(out + 4 * (i), a##i);
  CHIPGAUGE_REPEAT12(STORE)
#undef STORE
  return range_of(out);
}

__attribute__((target("avx512f"))) lane_range fma_f32_avx512(std::uint64_t n, float add) {
  const __m512 one = _mm512_set1_ps(opaque(1.0F));
  const __m512 inc = _mm512_set1_ps(add);
#define DECL(i) __m512 a##i = _mm512_set1_ps(opaque(0.0F));
  CHIPGAUGE_REPEAT16(DECL)
#undef DECL
  for (std::uint64_t k = 0; k < n; ++k) {
#define STEP(i) a##i = _mm512_fmadd_ps(a##i, one, inc);
    CHIPGAUGE_REPEAT16(STEP)
#undef STEP
  }
  float out[chains_avx512 * 16];
#define STORE(i) _mm512_storeu_ps(out + 16 * (i), a##i);
  CHIPGAUGE_REPEAT16(STORE)
#undef STORE
  return range_of(out);
}

__attribute__((target("avx2,fma"))) lane_range fma_f32_avx2(std::uint64_t n, float add) {
  const __m256 one = _mm256_set1_ps(opaque(1.0F));
  const __m256 inc = _mm256_set1_ps(add);
#define DECL(i) __m256 a##i = _mm256_set1_ps(opaque(0.0F));
  CHIPGAUGE_REPEAT12(DECL)
#undef DECL
  for (std::uint64_t k = 0; k < n; ++k) {
#define STEP(i) a##i = _mm256_fmadd_ps(a##i, one, inc);
    CHIPGAUGE_REPEAT12(STEP)
#undef STEP
  }
  float out[chains_avx2 * 8];
#define STORE(i) _mm256_storeu_ps(out + 8 * (i), a##i);
  CHIPGAUGE_REPEAT12(STORE)
#undef STORE
  return range_of(out);
}

// Scalar fallback: separate chains so the loop is latency-covered too; lanes = 1.
template <typename T>
lane_range fma_scalar(std::uint64_t n, T add) {
  const T one = opaque(static_cast<T>(1));
  T a[chains_scalar];
  for (auto& x : a) x = opaque(static_cast<T>(0));
  for (std::uint64_t k = 0; k < n; ++k) {
    for (auto& x : a) x = std::fma(x, one, add);
  }
  return range_of(a);
}

// The FP16 loop itself is in compute_fp16.cpp (compiled for AVX512-FP16 as a whole file).
lane_range fma_f16_impl(std::uint64_t n) {
  std::uint16_t bits[detail::fp16_chains * detail::fp16_lanes];
  detail::fma_f16_chains(n, bits);
  float out[std::size(bits)];
  for (std::size_t i = 0; i < std::size(bits); ++i) out[i] = half_to_float(bits[i]);
  return range_of(out);
}

__attribute__((target("avx512f,avx512bf16"))) lane_range dot_bf16_impl(std::uint64_t n) {
  // bf16 1.0 is 0x3F80, 2^-14 is 0x3880 (exponent 127-14 = 113 = 0x71 -> 0x71 << 7 = 0x3880).
  const __m512bh a =
      reinterpret_cast<__m512bh>(_mm512_set1_epi16(static_cast<short>(opaque(0x3F80))));
  const __m512bh b = reinterpret_cast<__m512bh>(_mm512_set1_epi16(static_cast<short>(0x3880)));
#define DECL(i) __m512 a##i = _mm512_set1_ps(opaque(0.0F));
  CHIPGAUGE_REPEAT16(DECL)
#undef DECL
  for (std::uint64_t k = 0; k < n; ++k) {
#define STEP(i) a##i = _mm512_dpbf16_ps(a##i, a, b);
    CHIPGAUGE_REPEAT16(STEP)
#undef STEP
  }
  float out[chains_avx512 * 16];
#define STORE(i) _mm512_storeu_ps(out + 16 * (i), a##i);
  CHIPGAUGE_REPEAT16(STORE)
#undef STORE
  return range_of(out);
}

__attribute__((target("avx512f,avx512vnni"))) lane_range dot_int8_avx512(std::uint64_t n) {
  const __m512i a = _mm512_set1_epi8(static_cast<char>(opaque(1)));
  const __m512i b = _mm512_set1_epi8(1);
#define DECL(i) __m512i a##i = _mm512_set1_epi32(opaque(0));
  CHIPGAUGE_REPEAT16(DECL)
#undef DECL
  for (std::uint64_t k = 0; k < n; ++k) {
#define STEP(i) a##i = _mm512_dpbusd_epi32(a##i, a, b);
    CHIPGAUGE_REPEAT16(STEP)
#undef STEP
  }
  std::int32_t out[chains_avx512 * 16];
#define STORE(i) _mm512_storeu_si512(out + 16 * (i), a##i);
  CHIPGAUGE_REPEAT16(STORE)
#undef STORE
  return range_of(out);
}

__attribute__((target("avx2,avxvnni"))) lane_range dot_int8_avx_vnni(std::uint64_t n) {
  const __m256i a = _mm256_set1_epi8(static_cast<char>(opaque(1)));
  const __m256i b = _mm256_set1_epi8(1);
#define DECL(i) __m256i a##i = _mm256_set1_epi32(opaque(0));
  CHIPGAUGE_REPEAT12(DECL)
#undef DECL
  for (std::uint64_t k = 0; k < n; ++k) {
#define STEP(i) a##i = _mm256_dpbusd_avx_epi32(a##i, a, b);
    CHIPGAUGE_REPEAT12(STEP)
#undef STEP
  }
  std::int32_t out[chains_avx2 * 8];
#define STORE(i) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8 * (i)), a##i);
  CHIPGAUGE_REPEAT12(STORE)
#undef STORE
  return range_of(out);
}

#undef CHIPGAUGE_REPEAT16
#undef CHIPGAUGE_REPEAT12

}  // namespace

int compute_chains(isa level) noexcept {
  return level == isa::avx512 ? chains_avx512 : level == isa::avx2 ? chains_avx2 : chains_scalar;
}

int lanes_f64(isa level) noexcept { return level == isa::avx512 ? 8 : level == isa::avx2 ? 4 : 1; }
int lanes_f32(isa level) noexcept { return level == isa::avx512 ? 16 : level == isa::avx2 ? 8 : 1; }

lane_range fma_f64(isa level, std::uint64_t iterations, double add) {
  switch (level) {
    case isa::avx512: return fma_f64_avx512(iterations, add);
    case isa::avx2: return fma_f64_avx2(iterations, add);
    case isa::scalar: break;
  }
  return fma_scalar<double>(iterations, add);
}

lane_range fma_f32(isa level, std::uint64_t iterations, float add) {
  switch (level) {
    case isa::avx512: return fma_f32_avx512(iterations, add);
    case isa::avx2: return fma_f32_avx2(iterations, add);
    case isa::scalar: break;
  }
  return fma_scalar<float>(iterations, add);
}

lane_range dot_bf16_avx512(std::uint64_t iterations) { return dot_bf16_impl(iterations); }

lane_range fma_f16_avx512(std::uint64_t iterations) { return fma_f16_impl(iterations); }

lane_range dot_int8_vnni(isa level, std::uint64_t iterations) {
  return level == isa::avx512 ? dot_int8_avx512(iterations) : dot_int8_avx_vnni(iterations);
}

std::uint64_t dependent_adds(std::uint64_t iterations) {
  std::uint64_t x = 0;
  std::uint64_t n = iterations;
  if (n == 0) return x;
  __asm__ volatile(
      ".p2align 4\n1:\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n"
      "\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n"
      "\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tdec %1\n"
      "\tjnz 1b\n"
      : "+r"(x), "+r"(n)
      :
      : "cc");
  return x;
}

}  // namespace chipgauge::kernels::cpu
