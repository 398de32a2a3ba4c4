// The AVX512-FP16 loop, in its own translation unit (compute_fp16.cpp).
#pragma once

#include <cstdint>

namespace chipgauge::kernels::cpu::detail {

/// Accumulators of the FP16 loop: 16 chains x 32 lanes of IEEE binary16 bits.
inline constexpr int fp16_chains = 16;
inline constexpr int fp16_lanes = 32;

/// acc = acc * 1 + 2^-4 on every chain and lane, `iterations` times, from 0; writes the
/// fp16_chains * fp16_lanes results to `bits`. Only call it where the CPU has AVX512-FP16.
void fma_f16_chains(std::uint64_t iterations, std::uint16_t* bits);

}  // namespace chipgauge::kernels::cpu::detail
