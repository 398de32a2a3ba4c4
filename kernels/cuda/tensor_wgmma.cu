// Hopper tensor cores at full rate: warpgroup MMA (wgmma.mma_async, sm_90a only), SS mode, both
// operands read from shared memory through matrix descriptors, m64n128 per instruction, two
// accumulators (two groups in flight) per warpgroup and two consumer warpgroups per block.
// Operands are all ones, so every accumulator element gains K per instruction whatever the
// layout the descriptor implies: each thread's sum is exact and verified on the host.
// The instruction strings are generated (64 accumulator operands each); see the generator note
// in docs/measurement.md.
#include "chipgauge/kernels/cuda.hpp"
#include "check.cuh"

#include <cstdint>

namespace chipgauge::kernels::cuda {

namespace {

#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ == 900) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define CHIPGAUGE_WGMMA 1
#endif

constexpr int acc_regs = 64;  // m64n128 with FP32/INT32 accumulators: 64 x 128 / 128 threads

#ifdef CHIPGAUGE_WGMMA
// Matrix descriptor, no swizzle: start address >> 4, leading byte offset 128 >> 4, stride byte
// offset 256 >> 4 (PTX ISA "Matrix Descriptor Format").
__device__ std::uint64_t descriptor(const void* smem) {
  const auto addr = static_cast<std::uint64_t>(__cvta_generic_to_shared(smem));
  return ((addr & 0x3FFFF) >> 4) | ((128ULL >> 4) << 16) | ((256ULL >> 4) << 32);
}
#endif

template <typename Acc>
__device__ void wgmma_fp16(Acc (&acc)[acc_regs], std::uint64_t a, std::uint64_t b) {
#ifdef CHIPGAUGE_WGMMA
  asm volatile(
      "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
      "%64, %65, 1, 1, 1, 0, 0;"
      : "+f"(acc[0]), "+f"(acc[1]), "+f"(acc[2]), "+f"(acc[3]), "+f"(acc[4]), "+f"(acc[5]), "+f"(acc[6]), "+f"(acc[7]), "+f"(acc[8]), "+f"(acc[9]), "+f"(acc[10]), "+f"(acc[11]), "+f"(acc[12]), "+f"(acc[13]), "+f"(acc[14]), "+f"(acc[15]), "+f"(acc[16]), "+f"(acc[17]), "+f"(acc[18]), "+f"(acc[19]), "+f"(acc[20]), "+f"(acc[21]), "+f"(acc[22]), "+f"(acc[23]), "+f"(acc[24]), "+f"(acc[25]), "+f"(acc[26]), "+f"(acc[27]), "+f"(acc[28]), "+f"(acc[29]), "+f"(acc[30]), "+f"(acc[31]), "+f"(acc[32]), "+f"(acc[33]), "+f"(acc[34]), "+f"(acc[35]), "+f"(acc[36]), "+f"(acc[37]), "+f"(acc[38]), "+f"(acc[39]), "+f"(acc[40]), "+f"(acc[41]), "+f"(acc[42]), "+f"(acc[43]), "+f"(acc[44]), "+f"(acc[45]), "+f"(acc[46]), "+f"(acc[47]), "+f"(acc[48]), "+f"(acc[49]), "+f"(acc[50]), "+f"(acc[51]), "+f"(acc[52]), "+f"(acc[53]), "+f"(acc[54]), "+f"(acc[55]), "+f"(acc[56]), "+f"(acc[57]), "+f"(acc[58]), "+f"(acc[59]), "+f"(acc[60]), "+f"(acc[61]), "+f"(acc[62]), "+f"(acc[63])
      : "l"(a), "l"(b));
#else
  (void)acc;
  (void)a;
  (void)b;
#endif
}

template <typename Acc>
__device__ void wgmma_bf16(Acc (&acc)[acc_regs], std::uint64_t a, std::uint64_t b) {
#ifdef CHIPGAUGE_WGMMA
  asm volatile(
      "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
      "%64, %65, 1, 1, 1, 0, 0;"
      : "+f"(acc[0]), "+f"(acc[1]), "+f"(acc[2]), "+f"(acc[3]), "+f"(acc[4]), "+f"(acc[5]), "+f"(acc[6]), "+f"(acc[7]), "+f"(acc[8]), "+f"(acc[9]), "+f"(acc[10]), "+f"(acc[11]), "+f"(acc[12]), "+f"(acc[13]), "+f"(acc[14]), "+f"(acc[15]), "+f"(acc[16]), "+f"(acc[17]), "+f"(acc[18]), "+f"(acc[19]), "+f"(acc[20]), "+f"(acc[21]), "+f"(acc[22]), "+f"(acc[23]), "+f"(acc[24]), "+f"(acc[25]), "+f"(acc[26]), "+f"(acc[27]), "+f"(acc[28]), "+f"(acc[29]), "+f"(acc[30]), "+f"(acc[31]), "+f"(acc[32]), "+f"(acc[33]), "+f"(acc[34]), "+f"(acc[35]), "+f"(acc[36]), "+f"(acc[37]), "+f"(acc[38]), "+f"(acc[39]), "+f"(acc[40]), "+f"(acc[41]), "+f"(acc[42]), "+f"(acc[43]), "+f"(acc[44]), "+f"(acc[45]), "+f"(acc[46]), "+f"(acc[47]), "+f"(acc[48]), "+f"(acc[49]), "+f"(acc[50]), "+f"(acc[51]), "+f"(acc[52]), "+f"(acc[53]), "+f"(acc[54]), "+f"(acc[55]), "+f"(acc[56]), "+f"(acc[57]), "+f"(acc[58]), "+f"(acc[59]), "+f"(acc[60]), "+f"(acc[61]), "+f"(acc[62]), "+f"(acc[63])
      : "l"(a), "l"(b));
#else
  (void)acc;
  (void)a;
  (void)b;
#endif
}

template <typename Acc>
__device__ void wgmma_tf32(Acc (&acc)[acc_regs], std::uint64_t a, std::uint64_t b) {
#ifdef CHIPGAUGE_WGMMA
  asm volatile(
      "wgmma.mma_async.sync.aligned.m64n128k8.f32.tf32.tf32 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
      "%64, %65, 1, 1, 1;"
      : "+f"(acc[0]), "+f"(acc[1]), "+f"(acc[2]), "+f"(acc[3]), "+f"(acc[4]), "+f"(acc[5]), "+f"(acc[6]), "+f"(acc[7]), "+f"(acc[8]), "+f"(acc[9]), "+f"(acc[10]), "+f"(acc[11]), "+f"(acc[12]), "+f"(acc[13]), "+f"(acc[14]), "+f"(acc[15]), "+f"(acc[16]), "+f"(acc[17]), "+f"(acc[18]), "+f"(acc[19]), "+f"(acc[20]), "+f"(acc[21]), "+f"(acc[22]), "+f"(acc[23]), "+f"(acc[24]), "+f"(acc[25]), "+f"(acc[26]), "+f"(acc[27]), "+f"(acc[28]), "+f"(acc[29]), "+f"(acc[30]), "+f"(acc[31]), "+f"(acc[32]), "+f"(acc[33]), "+f"(acc[34]), "+f"(acc[35]), "+f"(acc[36]), "+f"(acc[37]), "+f"(acc[38]), "+f"(acc[39]), "+f"(acc[40]), "+f"(acc[41]), "+f"(acc[42]), "+f"(acc[43]), "+f"(acc[44]), "+f"(acc[45]), "+f"(acc[46]), "+f"(acc[47]), "+f"(acc[48]), "+f"(acc[49]), "+f"(acc[50]), "+f"(acc[51]), "+f"(acc[52]), "+f"(acc[53]), "+f"(acc[54]), "+f"(acc[55]), "+f"(acc[56]), "+f"(acc[57]), "+f"(acc[58]), "+f"(acc[59]), "+f"(acc[60]), "+f"(acc[61]), "+f"(acc[62]), "+f"(acc[63])
      : "l"(a), "l"(b));
#else
  (void)acc;
  (void)a;
  (void)b;
#endif
}

// scale_d = 0: D = A x B (the accumulators restart; their old contents are ignored); 1: D += A x B
// (PTX ISA wgmma.mma_async: the scale-d predicate operand).
template <typename Acc>
__device__ void wgmma_fp8(Acc (&acc)[acc_regs], std::uint64_t a, std::uint64_t b, int scale_d) {
#ifdef CHIPGAUGE_WGMMA
  asm volatile(
      "{\n"
      ".reg .pred p;\n"
      "setp.ne.b32 p, %66, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
      "%64, %65, p, 1, 1;\n"
      "}\n"
      : "+f"(acc[0]), "+f"(acc[1]), "+f"(acc[2]), "+f"(acc[3]), "+f"(acc[4]), "+f"(acc[5]), "+f"(acc[6]), "+f"(acc[7]), "+f"(acc[8]), "+f"(acc[9]), "+f"(acc[10]), "+f"(acc[11]), "+f"(acc[12]), "+f"(acc[13]), "+f"(acc[14]), "+f"(acc[15]), "+f"(acc[16]), "+f"(acc[17]), "+f"(acc[18]), "+f"(acc[19]), "+f"(acc[20]), "+f"(acc[21]), "+f"(acc[22]), "+f"(acc[23]), "+f"(acc[24]), "+f"(acc[25]), "+f"(acc[26]), "+f"(acc[27]), "+f"(acc[28]), "+f"(acc[29]), "+f"(acc[30]), "+f"(acc[31]), "+f"(acc[32]), "+f"(acc[33]), "+f"(acc[34]), "+f"(acc[35]), "+f"(acc[36]), "+f"(acc[37]), "+f"(acc[38]), "+f"(acc[39]), "+f"(acc[40]), "+f"(acc[41]), "+f"(acc[42]), "+f"(acc[43]), "+f"(acc[44]), "+f"(acc[45]), "+f"(acc[46]), "+f"(acc[47]), "+f"(acc[48]), "+f"(acc[49]), "+f"(acc[50]), "+f"(acc[51]), "+f"(acc[52]), "+f"(acc[53]), "+f"(acc[54]), "+f"(acc[55]), "+f"(acc[56]), "+f"(acc[57]), "+f"(acc[58]), "+f"(acc[59]), "+f"(acc[60]), "+f"(acc[61]), "+f"(acc[62]), "+f"(acc[63])
      : "l"(a), "l"(b), "r"(scale_d));
#else
  (void)acc;
  (void)a;
  (void)b;
  (void)scale_d;
#endif
}

template <typename Acc>
__device__ void wgmma_int8(Acc (&acc)[acc_regs], std::uint64_t a, std::uint64_t b) {
#ifdef CHIPGAUGE_WGMMA
  asm volatile(
      "wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
      "%64, %65, 1;"
      : "+r"(acc[0]), "+r"(acc[1]), "+r"(acc[2]), "+r"(acc[3]), "+r"(acc[4]), "+r"(acc[5]), "+r"(acc[6]), "+r"(acc[7]), "+r"(acc[8]), "+r"(acc[9]), "+r"(acc[10]), "+r"(acc[11]), "+r"(acc[12]), "+r"(acc[13]), "+r"(acc[14]), "+r"(acc[15]), "+r"(acc[16]), "+r"(acc[17]), "+r"(acc[18]), "+r"(acc[19]), "+r"(acc[20]), "+r"(acc[21]), "+r"(acc[22]), "+r"(acc[23]), "+r"(acc[24]), "+r"(acc[25]), "+r"(acc[26]), "+r"(acc[27]), "+r"(acc[28]), "+r"(acc[29]), "+r"(acc[30]), "+r"(acc[31]), "+r"(acc[32]), "+r"(acc[33]), "+r"(acc[34]), "+r"(acc[35]), "+r"(acc[36]), "+r"(acc[37]), "+r"(acc[38]), "+r"(acc[39]), "+r"(acc[40]), "+r"(acc[41]), "+r"(acc[42]), "+r"(acc[43]), "+r"(acc[44]), "+r"(acc[45]), "+r"(acc[46]), "+r"(acc[47]), "+r"(acc[48]), "+r"(acc[49]), "+r"(acc[50]), "+r"(acc[51]), "+r"(acc[52]), "+r"(acc[53]), "+r"(acc[54]), "+r"(acc[55]), "+r"(acc[56]), "+r"(acc[57]), "+r"(acc[58]), "+r"(acc[59]), "+r"(acc[60]), "+r"(acc[61]), "+r"(acc[62]), "+r"(acc[63])
      : "l"(a), "l"(b));
#else
  (void)acc;
  (void)a;
  (void)b;
#endif
}

// Word of four (or two, or one) all-ones elements of each type: FP16 0x3C00, BF16 0x3F80,
// TF32 0x3F800000, FP8 e4m3 0x38, INT8 0x01.
__host__ __device__ constexpr std::uint32_t ones(tensor_op op) {
  return op == tensor_op::fp16   ? 0x3C003C00U
         : op == tensor_op::bf16 ? 0x3F803F80U
         : op == tensor_op::tf32 ? 0x3F800000U
         : op == tensor_op::fp8  ? 0x38383838U
                                 : 0x01010101U;
}

template <tensor_op Op, typename Acc>
__global__ void __launch_bounds__(256, 1) wgmma_kernel(std::uint64_t iterations, double* out) {
  __shared__ __align__(1024) std::uint32_t smem_a[2048];  // 8 KiB: beyond any address the descriptor reaches
  __shared__ __align__(1024) std::uint32_t smem_b[4096];  // 16 KiB
  for (unsigned i = threadIdx.x; i < 2048; i += blockDim.x) smem_a[i] = ones(Op);
  for (unsigned i = threadIdx.x; i < 4096; i += blockDim.x) smem_b[i] = ones(Op);
  __syncthreads();
  Acc acc0[acc_regs] = {};
  Acc acc1[acc_regs] = {};
#ifdef CHIPGAUGE_WGMMA
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");  // make the stores visible to the async proxy
  const std::uint64_t da = descriptor(smem_a);
  const std::uint64_t db = descriptor(smem_b);
  if constexpr (Op == tensor_op::fp8) {
    // Promotion (FP8 accumulates in fewer than 24 bits; see tensor_mma.cu for the sources): each
    // interval of at most fp8_promote_every iterations starts with scale-d = 0, so the tensor
    // accumulators restart at A x B and never exceed 128 x 32 = 2^12; after the interval
    // wait_group 0 retires every wgmma and the 128 values (sum <= 2^19: exact in FP32) join the
    // FP64 running sum. Two wgmma per iteration, as for the other types. The wgmma.fence between
    // the two restarting wgmma: without it ptxas 13.0 injects a warpgroup.wait before the second
    // (info C7517), serializing that pair once per interval.
    double total = 0;
    for (std::uint64_t k = 0; k < iterations;) {
      const std::uint64_t end = iterations - k < fp8_promote_every ? iterations : k + fp8_promote_every;
      asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
      wgmma_fp8(acc0, da, db, 0);
      asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
      wgmma_fp8(acc1, da, db, 0);
      asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
      asm volatile("wgmma.wait_group.sync.aligned 1;" ::: "memory");
      for (++k; k < end; ++k) {
        asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
        wgmma_fp8(acc0, da, db, 1);
        wgmma_fp8(acc1, da, db, 1);
        asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
        asm volatile("wgmma.wait_group.sync.aligned 1;" ::: "memory");
      }
      asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
      // Pin the accumulators after the wait (CUTLASS's warpgroup_fence_operand): the memory
      // clobber orders memory, not registers, so without this the adds could move above it.
#pragma unroll
      for (int i = 0; i < acc_regs; ++i) asm volatile("" : "+f"(acc0[i]), "+f"(acc1[i])::"memory");
      float part[8] = {};  // eight short chains rather than one of 128 dependent adds
#pragma unroll
      for (int i = 0; i < acc_regs; ++i) part[i % 8] += acc0[i] + acc1[i];
      const float interval = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
      total += static_cast<double>(interval);
    }
    out[blockIdx.x * blockDim.x + threadIdx.x] = total;
  } else {
    for (std::uint64_t k = 0; k < iterations; ++k) {
      asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
      if constexpr (Op == tensor_op::fp16) {
        wgmma_fp16(acc0, da, db);
        wgmma_fp16(acc1, da, db);
      } else if constexpr (Op == tensor_op::bf16) {
        wgmma_bf16(acc0, da, db);
        wgmma_bf16(acc1, da, db);
      } else if constexpr (Op == tensor_op::tf32) {
        wgmma_tf32(acc0, da, db);
        wgmma_tf32(acc1, da, db);
      } else {
        wgmma_int8(acc0, da, db);
        wgmma_int8(acc1, da, db);
      }
      asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
      asm volatile("wgmma.wait_group.sync.aligned 1;" ::: "memory");
    }
    asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
    double sum = 0;
#pragma unroll
    for (int i = 0; i < acc_regs; ++i) sum += static_cast<double>(acc0[i]) + static_cast<double>(acc1[i]);
    out[blockIdx.x * blockDim.x + threadIdx.x] = sum;
  }
#else
  (void)iterations;
  (void)acc0;
  (void)acc1;
  out[blockIdx.x * blockDim.x + threadIdx.x] = __longlong_as_double(0x7ff8000000000000LL);  // not sm_90a: NaN fails verification
#endif
}

}  // namespace

int wgmma_k(tensor_op op) noexcept {
  switch (op) {
    case tensor_op::fp16:
    case tensor_op::bf16: return 16;
    case tensor_op::tf32: return 8;
    case tensor_op::fp8:
    case tensor_op::int8: return 32;
    case tensor_op::fp64: return 0;
  }
  return 0;
}

void launch_wgmma(tensor_op op, int blocks, std::uint64_t iterations, double* out, stream_t stream) {
  constexpr int threads = 256;  // two consumer warpgroups
  switch (op) {
    case tensor_op::fp16: wgmma_kernel<tensor_op::fp16, float><<<blocks, threads, 0, stream>>>(iterations, out); break;
    case tensor_op::bf16: wgmma_kernel<tensor_op::bf16, float><<<blocks, threads, 0, stream>>>(iterations, out); break;
    case tensor_op::tf32: wgmma_kernel<tensor_op::tf32, float><<<blocks, threads, 0, stream>>>(iterations, out); break;
    case tensor_op::fp8: wgmma_kernel<tensor_op::fp8, float><<<blocks, threads, 0, stream>>>(iterations, out); break;
    case tensor_op::int8: wgmma_kernel<tensor_op::int8, int><<<blocks, threads, 0, stream>>>(iterations, out); break;
    case tensor_op::fp64: throw error("wgmma has no FP64 variant: use mma.sync (DMMA)");
  }
  check_launch("wgmma_kernel");
}

int wgmma_resident_blocks(tensor_op op) {
  constexpr int threads = 256;
  int n = 0;
  cudaError_t e = cudaSuccess;
  switch (op) {
    case tensor_op::fp16: e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, wgmma_kernel<tensor_op::fp16, float>, threads, 0); break;
    case tensor_op::bf16: e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, wgmma_kernel<tensor_op::bf16, float>, threads, 0); break;
    case tensor_op::tf32: e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, wgmma_kernel<tensor_op::tf32, float>, threads, 0); break;
    case tensor_op::fp8: e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, wgmma_kernel<tensor_op::fp8, float>, threads, 0); break;
    case tensor_op::int8: e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, wgmma_kernel<tensor_op::int8, int>, threads, 0); break;
    case tensor_op::fp64: throw error("wgmma has no FP64 variant: use mma.sync (DMMA)");
  }
  check(e, "cudaOccupancyMaxActiveBlocksPerMultiprocessor(wgmma_kernel)");
  return n > 0 ? n : 1;
}

}  // namespace chipgauge::kernels::cuda
