// Vector-pipe throughput: FP64, FP32, FP16x2 FMA and INT32 IMAD with fma_chains independent
// chains per thread; the sums are exact, so the host verifies every thread.
//
// Loop overhead: FFMA and HFMA2 issue at one instruction per clock per SM sub-partition, so every
// loop instruction costs an FMA slot. The trip count is 32-bit (a 64-bit counter needs a
// two-instruction add and a two-instruction compare) and the loop is unrolled 16 times:
// fma_chains x 16 = 128 FMAs per increment, compare and branch (about 2 %, against 3-5 per 32
// FMAs, 9-14 %, with a 64-bit counter unrolled 4 times). DFMA and IMAD run at half rate there,
// which hides the overhead, but they share the loop for uniformity.
#include "check.cuh"
#include "chipgauge/kernels/cuda.hpp"

#include <cuda_fp16.h>

namespace chipgauge::kernels::cuda {

namespace {

// `one` and `zero` arrive as kernel arguments: the compiler cannot know one is 1 (the FMA would
// fold into an add) nor that the chains, started at (thread + c) x zero, start equal (they would
// merge into one).
__global__ void fma_f64_kernel(unsigned iterations, double add, double one, double zero,
                               double* out) {
  double acc[fma_chains];
#pragma unroll
  for (int c = 0; c < fma_chains; ++c) acc[c] = zero * static_cast<double>(threadIdx.x + c);
#pragma unroll 16
  for (unsigned k = 0; k < iterations; ++k) {
#pragma unroll
    for (int c = 0; c < fma_chains; ++c) acc[c] = fma(acc[c], one, add);
  }
  double sum = 0;
#pragma unroll
  for (int c = 0; c < fma_chains; ++c) sum += acc[c];
  out[blockIdx.x * blockDim.x + threadIdx.x] = sum;
}

__global__ void fma_f32_kernel(unsigned iterations, float add, float one, float zero, float* out) {
  float acc[fma_chains];
#pragma unroll
  for (int c = 0; c < fma_chains; ++c) acc[c] = zero * static_cast<float>(threadIdx.x + c);
#pragma unroll 16
  for (unsigned k = 0; k < iterations; ++k) {
#pragma unroll
    for (int c = 0; c < fma_chains; ++c) acc[c] = fmaf(acc[c], one, add);
  }
  float sum = 0;
#pragma unroll
  for (int c = 0; c < fma_chains; ++c) sum += acc[c];
  out[blockIdx.x * blockDim.x + threadIdx.x] = sum;
}

__global__ void fma_f16x2_kernel(unsigned iterations, float one_in, float zero, float* out) {
  const __half2 one = __float2half2_rn(one_in);
  const __half2 add = __float2half2_rn(0.0625F);  // 2^-4: exact while acc < 2^7
  __half2 acc[fma_chains];
#pragma unroll
  for (int c = 0; c < fma_chains; ++c)
    acc[c] = __float2half2_rn(zero * static_cast<float>(threadIdx.x + c));
#pragma unroll 16
  for (unsigned k = 0; k < iterations; ++k) {
#pragma unroll
    for (int c = 0; c < fma_chains; ++c) acc[c] = __hfma2(acc[c], one, add);
  }
  float sum = 0;
#pragma unroll
  for (int c = 0; c < fma_chains; ++c) sum += __low2float(acc[c]) + __high2float(acc[c]);
  out[blockIdx.x * blockDim.x + threadIdx.x] = sum;
}

__global__ void mad_i32_kernel(unsigned iterations, int one, int zero, std::int32_t* out) {
  int acc[fma_chains];
#pragma unroll
  for (int c = 0; c < fma_chains; ++c) acc[c] = static_cast<int>(threadIdx.x + c) * zero;
#pragma unroll 16
  for (unsigned k = 0; k < iterations; ++k) {
#pragma unroll
    for (int c = 0; c < fma_chains; ++c) acc[c] = acc[c] * one + 3;
  }
  int sum = 0;
#pragma unroll
  for (int c = 0; c < fma_chains; ++c) sum += acc[c];
  out[blockIdx.x * blockDim.x + threadIdx.x] = sum;
}

// The kernels count iterations in 32 bits.
unsigned trip_count(std::uint64_t iterations) {
  if (iterations > 0xFFFFFFFFULL)
    throw error("vector FMA launchers: iterations must be below 2^32");
  return static_cast<unsigned>(iterations);
}

}  // namespace

void launch_fma_f64(int blocks, int threads, std::uint64_t iterations, double add, double* out,
                    stream_t stream) {
  fma_f64_kernel<<<blocks, threads, 0, stream>>>(trip_count(iterations), add, 1.0, 0.0, out);
  check_launch("fma_f64_kernel");
}

void launch_fma_f32(int blocks, int threads, std::uint64_t iterations, float add, float* out,
                    stream_t stream) {
  fma_f32_kernel<<<blocks, threads, 0, stream>>>(trip_count(iterations), add, 1.0F, 0.0F, out);
  check_launch("fma_f32_kernel");
}

void launch_fma_f16x2(int blocks, int threads, std::uint64_t iterations, float* out,
                      stream_t stream) {
  fma_f16x2_kernel<<<blocks, threads, 0, stream>>>(trip_count(iterations), 1.0F, 0.0F, out);
  check_launch("fma_f16x2_kernel");
}

void launch_mad_i32(int blocks, int threads, std::uint64_t iterations, std::int32_t* out,
                    stream_t stream) {
  mad_i32_kernel<<<blocks, threads, 0, stream>>>(trip_count(iterations), 1, 0, out);
  check_launch("mad_i32_kernel");
}

}  // namespace chipgauge::kernels::cuda
