// The AVX512-FP16 loop of compute.cpp, alone in this file because it is compiled with
// -mavx512f -mavx512fp16 for the whole file: clang 14 declares the FP16 vector types and
// intrinsics only when AVX512-FP16 is enabled for the translation unit, not per function
// (GCC accepts both). Nothing else may live here: every function compiled in this file may use
// AVX-512, so only this one, called after the run-time ISA check, is visible outside it, and it
// uses no inline function that another file could share (which the linker might pick for
// everyone). Check the machine code with `objdump -d` (vfmadd132ph).
#include "compute_fp16.hpp"

#include <immintrin.h>

namespace chipgauge::kernels::cpu::detail {

namespace {

// A value the compiler cannot see through (as in compute.cpp, where the reasons are given).
template <typename T>
T opaque(T v) {
  __asm__ volatile("" : "+m"(v));
  return v;
}

}  // namespace

// Each accumulator is its own named variable (see compute.cpp on the repetition macros).
#define CHIPGAUGE_REPEAT16(X) \
  X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)

void fma_f16_chains(std::uint64_t iterations, std::uint16_t* bits) {
  // FP16 2^-4 is 0x2C00, 1.0 is 0x3C00; each FMA adds 2^-4 per lane.
  const __m512h one = _mm512_castsi512_ph(_mm512_set1_epi16(static_cast<short>(opaque(0x3C00))));
  const __m512h inc = _mm512_castsi512_ph(_mm512_set1_epi16(static_cast<short>(0x2C00)));
#define DECL(i) \
  __m512h a##i = _mm512_castsi512_ph(_mm512_set1_epi16(static_cast<short>(opaque(0))));
  CHIPGAUGE_REPEAT16(DECL)
#undef DECL
  for (std::uint64_t k = 0; k < iterations; ++k) {
#define STEP(i) a##i = _mm512_fmadd_ph(a##i, one, inc);
    CHIPGAUGE_REPEAT16(STEP)
#undef STEP
  }
#define STORE(i) _mm512_storeu_si512(bits + fp16_lanes * (i), _mm512_castph_si512(a##i));
  CHIPGAUGE_REPEAT16(STORE)
#undef STORE
}

#undef CHIPGAUGE_REPEAT16

}  // namespace chipgauge::kernels::cpu::detail
