// Tensor-core throughput with warp-level mma.sync (sm_80 and later; FP8 e4m3 from sm_89):
// register-resident all-ones fragments, tensor_chains independent accumulators per warp, so the
// loop measures the tensor pipe alone. Every D element gains K per instruction, so each thread's
// sum is known exactly. On Hopper mma.sync stops near two thirds of the FP16/BF16/TF32/INT8 peak:
// the wgmma path (sm_90a) gives the full rate, and tcgen05 (sm_100a) after it.
//
// FP8 (e4m3) mma.sync is native on sm_89 (Ada), and on sm_100 and sm_120 (PTX ISA, mma target
// notes: e4m3/e5m2 need sm_89 or later, without an architecture-specific suffix). On sm_90 it is
// not: ptxas converts the operands to FP16 and issues the FP16 HMMA, at the FP16 rate, half the
// FP8 peak or less (CUTLASS issue 1986, maintainer's reply). The kernel is still built for sm_90a,
// but the backend skips mma_fp8 on compute capability 9.0: wgmma is Hopper's FP8 path.
//
// FP64 (DMMA): from sm_90 the m16n8k16 shape (PTX ISA, mma "Matrix shape" table: .f64 m16n8k4,
// m16n8k8, m16n8k16 require sm_90; fragments A 8, B 4, C/D 4 doubles per thread, as CUTLASS's
// SM90_16x8x16_F64F64F64F64_TN in cute/arch/mma_sm90.hpp); m8n8k4 (A 1, B 1, C/D 2) before. On
// Hopper m8n8k4 is believed to reach only half the FP64 tensor rate. shape_of must follow the
// same __CUDA_ARCH__ >= 900 switch as step().
//
// FP8 accumulation: Hopper's (and Ada's) FP8 tensor cores do not accumulate in full FP32: the
// sum keeps about 13-14 mantissa bits (DeepSeek-V3 technical report, section 3.3.2 "Increasing
// Accumulation Precision"; GitHub thu-ml/SageAttention#287). With all-ones operands the accumulator
// reaches iterations x K = 4096 x 32 = 2^17 while each step adds products of 1, which such an
// accumulator need not keep. As DeepSeek-V3 does (promotion to CUDA-core FP32 every 128 K
// elements), every fp8_promote_every = 128 steps the D fragments are added into a running sum in
// ordinary FP32/FP64 registers and zeroed, so no tensor accumulator exceeds 128 x 32 = 2^12: an
// accumulator below 2^12 plus products of 1 needs a 12-bit window, inside the 13-14 bits kept.
// The promotion adds FP32 adds and moves between steps, and removes no mma instruction.
#include "check.cuh"
#include "chipgauge/kernels/cuda.hpp"

namespace chipgauge::kernels::cuda {

namespace {

constexpr int chains = tensor_chains;

// FP64 accumulator values per thread per chain in the code compiled for this architecture:
// m16n8k16 (sm_90+) leaves 4, m8n8k4 leaves 2. The host side reads the same from shape_of.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
constexpr int fp64_values = 4;
#else
constexpr int fp64_values = 2;
#endif

// One m16n8k16 (FP16/BF16 -> FP32), m16n8k8 (TF32 -> FP32), m16n8k32 (INT8 -> INT32, FP8 -> FP32)
// or m16n8k16 / m8n8k4 (FP64, sm_90+ / before) step per chain; a, b are packed all-ones registers,
// a64, b64 the FP64 one (every element of the A and B fragments).
template <tensor_op Op>
__device__ void step(float (&d)[chains][4], int (&di)[chains][4], double (&dd)[chains][4],
                     unsigned a, unsigned b, double a64, double b64) {
#pragma unroll
  for (int c = 0; c < chains; ++c) {
    if constexpr (Op == tensor_op::fp16) {
      asm volatile(
          "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%4,%4,%4}, "
          "{%5,%5}, {%0,%1,%2,%3};"
          : "+f"(d[c][0]), "+f"(d[c][1]), "+f"(d[c][2]), "+f"(d[c][3])
          : "r"(a), "r"(b));
    } else if constexpr (Op == tensor_op::bf16) {
      asm volatile(
          "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%4,%4,%4}, "
          "{%5,%5}, {%0,%1,%2,%3};"
          : "+f"(d[c][0]), "+f"(d[c][1]), "+f"(d[c][2]), "+f"(d[c][3])
          : "r"(a), "r"(b));
    } else if constexpr (Op == tensor_op::tf32) {
      asm volatile(
          "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%4,%4,%4}, "
          "{%5,%5}, {%0,%1,%2,%3};"
          : "+f"(d[c][0]), "+f"(d[c][1]), "+f"(d[c][2]), "+f"(d[c][3])
          : "r"(a), "r"(b));
    } else if constexpr (Op == tensor_op::int8) {
      asm volatile(
          "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%4,%4,%4}, "
          "{%5,%5}, {%0,%1,%2,%3};"
          : "+r"(di[c][0]), "+r"(di[c][1]), "+r"(di[c][2]), "+r"(di[c][3])
          : "r"(a), "r"(b));
    } else if constexpr (Op == tensor_op::fp8) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
      asm volatile(
          "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 {%0,%1,%2,%3}, {%4,%4,%4,%4}, "
          "{%5,%5}, {%0,%1,%2,%3};"
          : "+f"(d[c][0]), "+f"(d[c][1]), "+f"(d[c][2]), "+f"(d[c][3])
          : "r"(a), "r"(b));
#else
      d[c][0] =
          __int_as_float(0x7fc00000);  // no FP8 tensor cores before sm_89: a NaN fails verification
#endif
    } else {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
      asm volatile(
          "mma.sync.aligned.m16n8k16.row.col.f64.f64.f64.f64 {%0,%1,%2,%3}, "
          "{%4,%4,%4,%4,%4,%4,%4,%4}, {%5,%5,%5,%5}, {%0,%1,%2,%3};"
          : "+d"(dd[c][0]), "+d"(dd[c][1]), "+d"(dd[c][2]), "+d"(dd[c][3])
          : "d"(a64), "d"(b64));
#else
      asm volatile("mma.sync.aligned.m8n8k4.row.col.f64.f64.f64.f64 {%0,%1}, {%2}, {%3}, {%0,%1};"
                   : "+d"(dd[c][0]), "+d"(dd[c][1])
                   : "d"(a64), "d"(b64));
#endif
    }
  }
}

template <tensor_op Op>
__global__ void mma_kernel(std::uint64_t iterations, unsigned a, unsigned b, double one,
                           double* out) {
  float d[chains][4] = {};
  int di[chains][4] = {};
  double dd[chains][4] = {};
  double sum = 0;
  if constexpr (Op == tensor_op::fp8) {
    // Promotion (see the top of this file): at most fp8_promote_every steps per tensor
    // accumulation, then the 16 D values (each <= 2^12, their sum <= 2^16: exact in FP32) join
    // the FP64 running sum and restart from zero. Every one of the `iterations` steps still runs.
    for (std::uint64_t k = 0; k < iterations;) {
      const std::uint64_t end =
          iterations - k < fp8_promote_every ? iterations : k + fp8_promote_every;
      for (; k < end; ++k) step<Op>(d, di, dd, a, b, one, one);
      float interval = 0;
#pragma unroll
      for (int c = 0; c < chains; ++c) {
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          interval += d[c][j];
          d[c][j] = 0;
        }
      }
      sum += interval;
    }
  } else {
    for (std::uint64_t k = 0; k < iterations; ++k) step<Op>(d, di, dd, a, b, one, one);
#pragma unroll
    for (int c = 0; c < chains; ++c) {
      if constexpr (Op == tensor_op::int8) {
        for (int j = 0; j < 4; ++j) sum += di[c][j];
      } else if constexpr (Op == tensor_op::fp64) {
        for (int j = 0; j < fp64_values; ++j) sum += dd[c][j];
      } else {
        for (int j = 0; j < 4; ++j) sum += d[c][j];
      }
    }
  }
  out[blockIdx.x * blockDim.x + threadIdx.x] = sum;
}

}  // namespace

tensor_shape shape_of(tensor_op op, int compute_capability) noexcept {
  switch (op) {
    case tensor_op::fp16:
    case tensor_op::bf16: return {16, 8, 16, 4};
    case tensor_op::tf32: return {16, 8, 8, 4};
    case tensor_op::int8:
    case tensor_op::fp8: return {16, 8, 32, 4};
    case tensor_op::fp64:
      return compute_capability >= 90 ? tensor_shape{16, 8, 16, 4} : tensor_shape{8, 8, 4, 2};
  }
  return {};
}

void launch_mma(tensor_op op, int blocks, int threads, std::uint64_t iterations, double* out,
                stream_t stream) {
  // All-ones operands, packed: FP16 1.0 = 0x3C00, BF16 1.0 = 0x3F80, TF32 1.0 = 0x3F800000,
  // INT8 1 = 0x01, FP8 e4m3 1.0 = 0x38 (bias 7).
  switch (op) {
    case tensor_op::fp16:
      mma_kernel<tensor_op::fp16>
          <<<blocks, threads, 0, stream>>>(iterations, 0x3C003C00U, 0x3C003C00U, 1.0, out);
      break;
    case tensor_op::bf16:
      mma_kernel<tensor_op::bf16>
          <<<blocks, threads, 0, stream>>>(iterations, 0x3F803F80U, 0x3F803F80U, 1.0, out);
      break;
    case tensor_op::tf32:
      mma_kernel<tensor_op::tf32>
          <<<blocks, threads, 0, stream>>>(iterations, 0x3F800000U, 0x3F800000U, 1.0, out);
      break;
    case tensor_op::int8:
      mma_kernel<tensor_op::int8>
          <<<blocks, threads, 0, stream>>>(iterations, 0x01010101U, 0x01010101U, 1.0, out);
      break;
    case tensor_op::fp8:
      mma_kernel<tensor_op::fp8>
          <<<blocks, threads, 0, stream>>>(iterations, 0x38383838U, 0x38383838U, 1.0, out);
      break;
    case tensor_op::fp64:
      mma_kernel<tensor_op::fp64><<<blocks, threads, 0, stream>>>(iterations, 0, 0, 1.0, out);
      break;
  }
  check_launch("mma_kernel");
}

int mma_resident_blocks(tensor_op op, int threads) {
  int n = 0;
  cudaError_t e = cudaSuccess;
  switch (op) {
    case tensor_op::fp16:
      e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, mma_kernel<tensor_op::fp16>, threads,
                                                        0);
      break;
    case tensor_op::bf16:
      e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, mma_kernel<tensor_op::bf16>, threads,
                                                        0);
      break;
    case tensor_op::tf32:
      e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, mma_kernel<tensor_op::tf32>, threads,
                                                        0);
      break;
    case tensor_op::int8:
      e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, mma_kernel<tensor_op::int8>, threads,
                                                        0);
      break;
    case tensor_op::fp8:
      e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, mma_kernel<tensor_op::fp8>, threads, 0);
      break;
    case tensor_op::fp64:
      e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, mma_kernel<tensor_op::fp64>, threads,
                                                        0);
      break;
  }
  check(e, "cudaOccupancyMaxActiveBlocksPerMultiprocessor(mma_kernel)");
  return n > 0 ? n : 1;
}

}  // namespace chipgauge::kernels::cuda
