// Hopper tensor cores at full rate: warpgroup MMA (wgmma.mma_async, sm_90a only), SS mode, both
// operands read from shared memory through matrix descriptors, two consumer warpgroups per block.
// Per warpgroup and iteration either two m64n128xK instructions (two accumulators, two groups in
// flight) or one m64n256xK (one accumulator of 128 values per thread): the same 64 x 256 x K
// either way. The operands' shared-memory layout is no swizzle or 128-byte swizzle (wgmma_shape).
// Operands are all ones, so every accumulator element gains K per 64 x N x K product whatever the
// layout the descriptor implies: each thread's sum is exact and verified on the host.
#include "check.cuh"
#include "chipgauge/kernels/cuda.hpp"

#include <cstdint>
#include <type_traits>

namespace chipgauge::kernels::cuda {

namespace {

#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ == 900) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define CHIPGAUGE_WGMMA 1
#endif

// Accumulator operand lists of the wgmma instructions (64 or 128 registers per thread), generated:
// CHIPGAUGE_D<n> is the register list "{%0, ..., %<n-1>}", CHIPGAUGE_OUT<n>(c, x) the matching
// output operands c(x[0]), ..., c(x[n-1]) with constraint c ("+f" or "+r").
#define CHIPGAUGE_D64                                                                \
  "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "          \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, " \
  "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, " \
  "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}"
#define CHIPGAUGE_D128                                                                           \
  "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "                      \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "             \
  "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "             \
  "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, "             \
  "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, "             \
  "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, "             \
  "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, " \
  "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, "   \
  "%127}"
#define CHIPGAUGE_OUT64(c, x)                                                                   \
  c(x[0]), c(x[1]), c(x[2]), c(x[3]), c(x[4]), c(x[5]), c(x[6]), c(x[7]), c(x[8]), c(x[9]),     \
      c(x[10]), c(x[11]), c(x[12]), c(x[13]), c(x[14]), c(x[15]), c(x[16]), c(x[17]), c(x[18]), \
      c(x[19]), c(x[20]), c(x[21]), c(x[22]), c(x[23]), c(x[24]), c(x[25]), c(x[26]), c(x[27]), \
      c(x[28]), c(x[29]), c(x[30]), c(x[31]), c(x[32]), c(x[33]), c(x[34]), c(x[35]), c(x[36]), \
      c(x[37]), c(x[38]), c(x[39]), c(x[40]), c(x[41]), c(x[42]), c(x[43]), c(x[44]), c(x[45]), \
      c(x[46]), c(x[47]), c(x[48]), c(x[49]), c(x[50]), c(x[51]), c(x[52]), c(x[53]), c(x[54]), \
      c(x[55]), c(x[56]), c(x[57]), c(x[58]), c(x[59]), c(x[60]), c(x[61]), c(x[62]), c(x[63])
#define CHIPGAUGE_OUT128(c, x)                                                                  \
  c(x[0]), c(x[1]), c(x[2]), c(x[3]), c(x[4]), c(x[5]), c(x[6]), c(x[7]), c(x[8]), c(x[9]),     \
      c(x[10]), c(x[11]), c(x[12]), c(x[13]), c(x[14]), c(x[15]), c(x[16]), c(x[17]), c(x[18]), \
      c(x[19]), c(x[20]), c(x[21]), c(x[22]), c(x[23]), c(x[24]), c(x[25]), c(x[26]), c(x[27]), \
      c(x[28]), c(x[29]), c(x[30]), c(x[31]), c(x[32]), c(x[33]), c(x[34]), c(x[35]), c(x[36]), \
      c(x[37]), c(x[38]), c(x[39]), c(x[40]), c(x[41]), c(x[42]), c(x[43]), c(x[44]), c(x[45]), \
      c(x[46]), c(x[47]), c(x[48]), c(x[49]), c(x[50]), c(x[51]), c(x[52]), c(x[53]), c(x[54]), \
      c(x[55]), c(x[56]), c(x[57]), c(x[58]), c(x[59]), c(x[60]), c(x[61]), c(x[62]), c(x[63]), \
      c(x[64]), c(x[65]), c(x[66]), c(x[67]), c(x[68]), c(x[69]), c(x[70]), c(x[71]), c(x[72]), \
      c(x[73]), c(x[74]), c(x[75]), c(x[76]), c(x[77]), c(x[78]), c(x[79]), c(x[80]), c(x[81]), \
      c(x[82]), c(x[83]), c(x[84]), c(x[85]), c(x[86]), c(x[87]), c(x[88]), c(x[89]), c(x[90]), \
      c(x[91]), c(x[92]), c(x[93]), c(x[94]), c(x[95]), c(x[96]), c(x[97]), c(x[98]), c(x[99]), \
      c(x[100]), c(x[101]), c(x[102]), c(x[103]), c(x[104]), c(x[105]), c(x[106]), c(x[107]),   \
      c(x[108]), c(x[109]), c(x[110]), c(x[111]), c(x[112]), c(x[113]), c(x[114]), c(x[115]),   \
      c(x[116]), c(x[117]), c(x[118]), c(x[119]), c(x[120]), c(x[121]), c(x[122]), c(x[123]),   \
      c(x[124]), c(x[125]), c(x[126]), c(x[127])

#ifdef CHIPGAUGE_WGMMA
// Matrix descriptor (PTX ISA, "Asynchronous Warpgroup Level Matrix Shared Memory Layout", matrix
// descriptor format; CUTLASS cute/arch/mma_sm90_desc.hpp, GmmaDescriptor): bits 0-13 start
// address >> 4, 16-29 leading dimension byte offset (LBO) >> 4, 32-45 stride dimension byte offset
// (SBO) >> 4, 49-51 base offset, 62-63 swizzle mode (0 none, 1 128-byte, 2 64-byte, 3 32-byte).
// Both operands are K-major, and every instruction's K slice is 32 bytes per row (16 FP16/BF16, 8
// TF32, 32 FP8/INT8 elements). The layouts, as CUTLASS's make_gmma_desc<Major::K> canonical forms
// (cute/atom/mma_traits_sm90_gmma.hpp) state them in 16-byte units:
//   no swizzle ((8,m),2):((1,SBO),LBO): core matrices of 8 rows x 16 bytes (128 bytes); LBO = 128
//     bytes between the two core matrices along K, SBO = 256 bytes between 8-row groups along M/N.
//     A (64 rows) spans 2 KiB, B N/8 x 256 bytes (4 or 8 KiB).
//   128-byte swizzle ((8,m),2):((8,SBO),1): rows of 128 bytes, 16-byte chunks XOR-permuted by the
//     row within each 8-row, 1,024-byte group; SBO = 1,024 bytes between 8-row groups, LBO unused
//     for swizzled K-major layouts (CUTLASS writes 1), base offset 0 because the arrays start on
//     1,024-byte boundaries (the pattern's period). A spans 8 KiB, B N x 128 bytes (16 or 32 KiB).
template <bool Swizzle128>
__device__ std::uint64_t descriptor(const void* smem) {
  const auto start = (static_cast<std::uint64_t>(__cvta_generic_to_shared(smem)) & 0x3FFFF) >> 4;
  if constexpr (Swizzle128) return start | (1ULL << 16) | ((1024ULL >> 4) << 32) | (1ULL << 62);
  return start | ((128ULL >> 4) << 16) | ((256ULL >> 4) << 32);
}
#endif

// One wgmma.mma_async m64nNxK into `d` (64 x N / 128 values per thread). scale_d (FP8 only): 0
// restarts the accumulators at A x B (their old contents are ignored), 1 adds (PTX ISA
// wgmma.mma_async: the scale-d predicate operand); the other types always add (immediate 1).
// Operands after the accumulators: descriptors of A and B, scale-d, imm-scale-a and -b (1), and
// for FP16/BF16 tnsp-a and -b (0: K-major).
template <tensor_op Op, int N, typename Acc>
__device__ __forceinline__ void wgmma(Acc (&d)[N / 2], std::uint64_t a, std::uint64_t b,
                                      int scale_d) {
#ifdef CHIPGAUGE_WGMMA
  static_assert(N == 128 || N == 256, "m64n128 or m64n256");
  if constexpr (N == 128) {
    if constexpr (Op == tensor_op::fp16) {
      asm volatile("wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 " CHIPGAUGE_D64
                   ", %64, %65, 1, 1, 1, 0, 0;"
                   : CHIPGAUGE_OUT64("+f", d)
                   : "l"(a), "l"(b));
    } else if constexpr (Op == tensor_op::bf16) {
      asm volatile("wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 " CHIPGAUGE_D64
                   ", %64, %65, 1, 1, 1, 0, 0;"
                   : CHIPGAUGE_OUT64("+f", d)
                   : "l"(a), "l"(b));
    } else if constexpr (Op == tensor_op::tf32) {
      asm volatile("wgmma.mma_async.sync.aligned.m64n128k8.f32.tf32.tf32 " CHIPGAUGE_D64
                   ", %64, %65, 1, 1, 1;"
                   : CHIPGAUGE_OUT64("+f", d)
                   : "l"(a), "l"(b));
    } else if constexpr (Op == tensor_op::fp8) {
      asm volatile(
          "{\n.reg .pred p;\nsetp.ne.b32 p, %66, "
          "0;\nwgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3 " CHIPGAUGE_D64
          ", %64, %65, p, 1, 1;\n}\n"
          : CHIPGAUGE_OUT64("+f", d)
          : "l"(a), "l"(b), "r"(scale_d));
    } else {
      asm volatile("wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8 " CHIPGAUGE_D64
                   ", %64, %65, 1;"
                   : CHIPGAUGE_OUT64("+r", d)
                   : "l"(a), "l"(b));
    }
  } else {
    if constexpr (Op == tensor_op::fp16) {
      asm volatile("wgmma.mma_async.sync.aligned.m64n256k16.f32.f16.f16 " CHIPGAUGE_D128
                   ", %128, %129, 1, 1, 1, 0, 0;"
                   : CHIPGAUGE_OUT128("+f", d)
                   : "l"(a), "l"(b));
    } else if constexpr (Op == tensor_op::bf16) {
      asm volatile("wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 " CHIPGAUGE_D128
                   ", %128, %129, 1, 1, 1, 0, 0;"
                   : CHIPGAUGE_OUT128("+f", d)
                   : "l"(a), "l"(b));
    } else if constexpr (Op == tensor_op::tf32) {
      asm volatile("wgmma.mma_async.sync.aligned.m64n256k8.f32.tf32.tf32 " CHIPGAUGE_D128
                   ", %128, %129, 1, 1, 1;"
                   : CHIPGAUGE_OUT128("+f", d)
                   : "l"(a), "l"(b));
    } else if constexpr (Op == tensor_op::fp8) {
      asm volatile(
          "{\n.reg .pred p;\nsetp.ne.b32 p, %130, "
          "0;\nwgmma.mma_async.sync.aligned.m64n256k32.f32.e4m3.e4m3 " CHIPGAUGE_D128
          ", %128, %129, p, 1, 1;\n}\n"
          : CHIPGAUGE_OUT128("+f", d)
          : "l"(a), "l"(b), "r"(scale_d));
    } else {
      asm volatile("wgmma.mma_async.sync.aligned.m64n256k32.s32.s8.s8 " CHIPGAUGE_D128
                   ", %128, %129, 1;"
                   : CHIPGAUGE_OUT128("+r", d)
                   : "l"(a), "l"(b));
    }
  }
#else
  (void)d;
  (void)a;
  (void)b;
  (void)scale_d;
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

// Ties the accumulators to this point (CUTLASS's warpgroup_fence_operand): after a
// wgmma.wait_group the registers hold the results, but the asm's "memory" clobber orders memory,
// not registers, so without this the compiler could move reads of them above the wait.
template <typename Acc, int Values>
__device__ __forceinline__ void pin(Acc (&d)[Values]) {
#pragma unroll
  for (int i = 0; i < Values; ++i) {
    if constexpr (std::is_same_v<Acc, int>) asm volatile("" : "+r"(d[i])::"memory");
    else asm volatile("" : "+f"(d[i])::"memory");
  }
}

template <tensor_op Op, typename Acc, int N, bool Swizzle128>
__global__ void __launch_bounds__(256, 1) wgmma_kernel(std::uint64_t iterations, double* out) {
  constexpr int values = N / 2;          // accumulator values per thread: 64 x N / 128 threads
  constexpr int accumulators = 256 / N;  // 2 (m64n128) or 1 (m64n256): 128 values per thread
  constexpr unsigned a_words =
      64 * 128 / 4;  // 8 KiB: the 128-byte-swizzle footprint of A (more than no swizzle's)
  constexpr unsigned b_words = N * 128 / 4;  // 16 or 32 KiB: B's, likewise
  __shared__ __align__(1024) std::uint32_t smem_a[a_words];
  __shared__ __align__(1024) std::uint32_t smem_b[b_words];
  for (unsigned i = threadIdx.x; i < a_words; i += blockDim.x) smem_a[i] = ones(Op);
  for (unsigned i = threadIdx.x; i < b_words; i += blockDim.x) smem_b[i] = ones(Op);
#ifdef CHIPGAUGE_WGMMA
  // wgmma reads shared memory through the async proxy: every writer makes its generic-proxy
  // stores visible to it, then the barrier publishes them to the block (PTX ISA, memory
  // consistency model, proxies: fence.proxy.async; CUTLASS fence_view_async_shared() followed by
  // a barrier).
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
#endif
  __syncthreads();
  Acc acc[accumulators][values] = {};
#ifdef CHIPGAUGE_WGMMA
  const std::uint64_t da = descriptor<Swizzle128>(smem_a);
  const std::uint64_t db = descriptor<Swizzle128>(smem_b);
  if constexpr (Op == tensor_op::fp8) {
    // Promotion (FP8 accumulates in fewer than 24 bits; see tensor_mma.cu for the sources): each
    // interval of at most fp8_promote_every iterations starts with scale-d = 0, so the tensor
    // accumulators restart at A x B and never exceed 128 x 32 = 2^12; after the interval
    // wait_group 0 retires every wgmma and the 128 values (sum <= 2^19: exact in FP32) join the
    // FP64 running sum. The wgmma.fence between the two restarting m64n128 wgmma: without it
    // ptxas 13.0 injects a warpgroup.wait before the second (info C7517), serializing that pair
    // once per interval.
    double total = 0;
    for (std::uint64_t k = 0; k < iterations;) {
      const std::uint64_t end =
          iterations - k < fp8_promote_every ? iterations : k + fp8_promote_every;
      asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
      wgmma<Op, N>(acc[0], da, db, 0);
      if constexpr (accumulators == 2) {
        asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
        wgmma<Op, N>(acc[1], da, db, 0);
      }
      asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
      asm volatile("wgmma.wait_group.sync.aligned 1;" ::: "memory");
      for (++k; k < end; ++k) {
        asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
#pragma unroll
        for (int a = 0; a < accumulators; ++a) wgmma<Op, N>(acc[a], da, db, 1);
        asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
        asm volatile("wgmma.wait_group.sync.aligned 1;" ::: "memory");
      }
      asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
#pragma unroll
      for (int a = 0; a < accumulators; ++a) pin(acc[a]);
      float part[8] = {};  // eight short chains rather than one of 128 dependent adds
#pragma unroll
      for (int a = 0; a < accumulators; ++a) {
#pragma unroll
        for (int i = 0; i < values; ++i) part[i % 8] += acc[a][i];
      }
      const float interval =
          ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
      total += static_cast<double>(interval);
    }
    out[blockIdx.x * blockDim.x + threadIdx.x] = total;
  } else {
    // Not unrolled: nvcc unrolls the m64n256 loop 4 times with a remainder loop, whose moves
    // between the loops' accumulator registers make ptxas serialize the wgmma (info C7515).
#pragma unroll 1
    for (std::uint64_t k = 0; k < iterations; ++k) {
      asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
#pragma unroll
      for (int a = 0; a < accumulators; ++a) wgmma<Op, N>(acc[a], da, db, 1);
      asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
      asm volatile("wgmma.wait_group.sync.aligned 1;" ::: "memory");
    }
    asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
    double sum = 0;
#pragma unroll
    for (int a = 0; a < accumulators; ++a) {
      pin(acc[a]);
#pragma unroll
      for (int i = 0; i < values; ++i) sum += static_cast<double>(acc[a][i]);
    }
    out[blockIdx.x * blockDim.x + threadIdx.x] = sum;
  }
#else
  (void)iterations;
  (void)acc;
  out[blockIdx.x * blockDim.x + threadIdx.x] =
      __longlong_as_double(0x7ff8000000000000LL);  // not sm_90a: NaN fails verification
#endif
}

using kernel_fn = void (*)(std::uint64_t, double*);

template <tensor_op Op, typename Acc>
kernel_fn kernel_for(wgmma_shape s) {
  if (s.n == 128)
    return s.swizzle128 ? wgmma_kernel<Op, Acc, 128, true> : wgmma_kernel<Op, Acc, 128, false>;
  if (s.n == 256)
    return s.swizzle128 ? wgmma_kernel<Op, Acc, 256, true> : wgmma_kernel<Op, Acc, 256, false>;
  throw error("wgmma: N must be 128 or 256");
}

kernel_fn kernel_of(tensor_op op, wgmma_shape s) {
  switch (op) {
    case tensor_op::fp16: return kernel_for<tensor_op::fp16, float>(s);
    case tensor_op::bf16: return kernel_for<tensor_op::bf16, float>(s);
    case tensor_op::tf32: return kernel_for<tensor_op::tf32, float>(s);
    case tensor_op::fp8: return kernel_for<tensor_op::fp8, float>(s);
    case tensor_op::int8: return kernel_for<tensor_op::int8, int>(s);
    case tensor_op::fp64: break;
  }
  throw error("wgmma has no FP64 variant: use mma.sync (DMMA)");
}

constexpr int wgmma_threads = 256;  // two consumer warpgroups

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

void launch_wgmma(tensor_op op, wgmma_shape shape, int blocks, std::uint64_t iterations,
                  double* out, stream_t stream) {
  kernel_of(op, shape)<<<blocks, wgmma_threads, 0, stream>>>(iterations, out);
  check_launch("wgmma_kernel");
}

int wgmma_resident_blocks(tensor_op op, wgmma_shape shape) {
  int n = 0;
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernel_of(op, shape), wgmma_threads, 0),
        "cudaOccupancyMaxActiveBlocksPerMultiprocessor(wgmma_kernel)");
  return n > 0 ? n : 1;
}

}  // namespace chipgauge::kernels::cuda
