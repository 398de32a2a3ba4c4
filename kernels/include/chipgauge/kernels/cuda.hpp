#pragma once

// CUDA microbenchmark launchers: plain host declarations (no CUDA headers needed to include
// this), implemented in kernels/cuda/*.cu. Every launcher enqueues on `stream` and checks the
// launch (cudaGetLastError) before returning; it throws chipgauge::error on a launch failure.

#include <cstddef>
#include <cstdint>

struct CUstream_st;

namespace chipgauge::kernels::cuda {

using stream_t = CUstream_st*;  ///< a cudaStream_t

/// Independent accumulator chains per thread in the vector FMA kernels.
inline constexpr int fma_chains = 8;

/// Vector FMA loops: every thread runs `iterations` (at most 2^32 - 1: the kernels count in 32
/// bits, an error otherwise) x fma_chains dependent chains of
/// acc = acc * one + add (one hidden from the compiler) and writes the sum of its chains to
/// out[thread]; each sum must equal fma_chains x iterations x add exactly (add a power of two).
/// Operations: 2 per FMA per lane (a half2 FMA is 2 lanes, 4 operations).
void launch_fma_f64(int blocks, int threads, std::uint64_t iterations, double add, double* out,
                    stream_t stream);
void launch_fma_f32(int blocks, int threads, std::uint64_t iterations, float add, float* out,
                    stream_t stream);
/// half2: both lanes of each chain advance; out holds the FP32 sum of all lanes of all chains.
void launch_fma_f16x2(int blocks, int threads, std::uint64_t iterations, float* out,
                      stream_t stream);
/// INT32 multiply-add (IMAD): acc = acc * 1 + 3; out holds the sum of chains.
void launch_mad_i32(int blocks, int threads, std::uint64_t iterations, std::int32_t* out,
                    stream_t stream);

/// Warp-level tensor-core operations (mma.sync). fp8 is e4m3 with FP32 accumulation (sm_89+);
/// int8 accumulates in INT32; fp64 is DMMA (m16n8k16 on sm_90 and later, m8n8k4 before).
enum class tensor_op : unsigned char { fp16, bf16, tf32, int8, fp8, fp64 };

/// Independent accumulator chains per warp in the tensor kernels (covers mma latency).
inline constexpr int tensor_chains = 4;

/// Iterations between promotions of the FP8 tensor accumulators (mma.sync and wgmma) into the
/// per-thread running sum: the tensor cores restart from zero after each promotion, so no
/// accumulator exceeds fp8_promote_every x K = 128 x 32 = 2^12 (see tensor_mma.cu for why).
inline constexpr int fp8_promote_every = 128;

/// M x N x K of one mma instruction, and the accumulator values it leaves per thread.
struct tensor_shape {
  int m = 0;
  int n = 0;
  int k = 0;
  int values_per_thread = 0;
};
/// The shape launch_mma really issues for `op` on a device of `compute_capability` (major x 10 +
/// minor, e.g. 90). Only fp64 depends on it: m16n8k16 with 4 values per thread from 90 on (Hopper
/// DMMA; the kernel selects it with __CUDA_ARCH__ >= 900), m8n8k4 with 2 below. This assumes the
/// device runs code built for its own generation (every entry of CHIPGAUGE_CUDA_ARCHITECTURES has
/// SASS); a device of 90 or more that falls back to JIT-compiled compute_80/86/89 PTX would run
/// m8n8k4 and fail verification (not pass with a wrong rate).
tensor_shape shape_of(tensor_op op, int compute_capability) noexcept;

/// `iterations` mma steps on each of tensor_chains chains per warp, all-ones operands: every D
/// element ends at iterations x K, so out[thread] (the FP64 sum of its tensor_chains x
/// values_per_thread accumulators) must equal tensor_chains x values_per_thread x iterations x K,
/// with M, N, K, values_per_thread from shape_of(op, the device's capability).
/// Operations per warp per step: 2 x M x N x K per chain; every step issues tensor_chains mma
/// instructions whatever the op (FP8 promotion adds FP32 adds between steps, no mma).
/// Exact for iterations x K <= 2^24 (FP32 accumulators; fp64: 2^53; int8: 2^31); fp8 restarts its
/// accumulators every fp8_promote_every steps, so out is exact for any iterations up to 2^40.
void launch_mma(tensor_op op, int blocks, int threads, std::uint64_t iterations, double* out,
                stream_t stream);
/// Blocks of `threads` the mma kernel for `op` keeps resident on one SM of the current device
/// (registers, shared memory and threads counted; at least 1), for grids of one wave.
int mma_resident_blocks(tensor_op op, int threads);

/// The wgmma kernel's instruction width and shared-memory operand layout. Both operands K-major.
///   n: 128 (m64n128, two accumulators of 64 values per thread) or 256 (m64n256, one accumulator of
///      128 values per thread): either way a warpgroup computes 64 x 256 x K per iteration.
///   swizzle128: 128-byte-swizzle descriptors (rows of 128 bytes, 8-row groups 1,024 bytes
///      apart); else no swizzle (8 x 16-byte core matrices, 128 bytes apart along K, 256 bytes
///      apart along M/N).
struct wgmma_shape {
  int n = 128;
  bool swizzle128 = false;
};

/// Hopper warpgroup MMA (sm_90a): blocks of two warpgroups (256 threads), each issuing per
/// iteration two m64n128xK wgmma (into two accumulators) or one m64n256xK, from shared-memory
/// operands (all ones) through matrix descriptors of the layout `shape` names.
/// out[thread] = FP64 sum of everything its 128 accumulator values gathered = 128 x iterations x K.
/// Operations per warpgroup per iteration: 2 x 64 x 256 x K whatever the shape; fp8 promotion
/// (every fp8_promote_every iterations) removes no wgmma. Exact for iterations x K <= 2^24; fp8 up
/// to 2^40 iterations (promoted). No FP64; n other than 128 or 256 is an error. On any other
/// architecture the kernel writes NaN (verification then fails, naming it).
void launch_wgmma(tensor_op op, wgmma_shape shape, int blocks, std::uint64_t iterations,
                  double* out, stream_t stream);
/// Blocks the wgmma kernel for `op` and `shape` keeps resident on one SM of the current device
/// (at least 1).
int wgmma_resident_blocks(tensor_op op, wgmma_shape shape);
/// K of the wgmma variant of `op` (16, 8 or 32); 0 for fp64.
int wgmma_k(tensor_op op) noexcept;

/// STREAM-style kernels over n doubles with 16-byte (double2) accesses and a grid-stride loop;
/// n must be even. write: a[i] = value; copy: c = a; triad: a = b + s * c.
/// read: the grid reads all n doubles `passes` times (passes >= 1; error otherwise), so one launch
/// moves passes x n x 8 bytes, as one grid-stride walk over passes x n/2 16-byte words (all threads
/// busy even when the footprint is smaller than the grid), with L2-only loads
/// (ld.global.cg: a footprint that fits in L2 is served by L2, never by L1, on passes after the
/// first). block_sums[block] = the block's partial sums over all passes, so the sum over blocks is
/// passes x (sum of a). Exact when a holds the fill's values (multiples of 2^-16) and every block's
/// passes x (sum of |elements| it reads) stays below 2^37 (53 bits of 2^-16 units; e.g. base 1.0:
/// under 2^36 doubles read per block over all passes); the host sum across blocks is its own.
void launch_read(int blocks, int threads, const double* a, std::size_t n, unsigned passes,
                 double* block_sums, stream_t stream);
void launch_write(int blocks, int threads, double* a, std::size_t n, double value, stream_t stream);
void launch_copy(int blocks, int threads, const double* a, double* c, std::size_t n,
                 stream_t stream);
void launch_triad(int blocks, int threads, double* a, const double* b, const double* c, double s,
                  std::size_t n, stream_t stream);
/// Shared-memory read bandwidth against footprint: every block fills a dynamic shared tile of
/// tile_bytes (W = tile_bytes / 16 words of 16 bytes; word i holds (i mod 4) in each of its 4 FP32
/// lanes), then thread t (= threadIdx.x) reads `iterations` words t, t+32, t+64, ... (mod W): each
/// warp reads 32 consecutive words per step (no bank conflicts) and every word it reads is
/// congruent to t mod 4. out[global thread] = 4 x (t mod 4) x iterations exactly (FP32: exact
/// while 12 x iterations <= 2^24); 16 bytes per read.
/// Preconditions (error otherwise): threads a multiple of 32, at most 1024; tile_bytes a multiple
/// of 128 (so the wrap keeps word mod 8, hence no conflicts) and at least 16 x threads (every
/// thread starts on its own word); tile_bytes at most smem_max_tile_bytes(device). Above 48 KiB
/// the kernel must first be opted in on the current device with prepare_smem_read(tile_bytes),
/// once (else the launch is refused, an error).
void launch_smem_read(int blocks, int threads, std::size_t tile_bytes, std::uint64_t iterations,
                      float* out, stream_t stream);
/// Opts the shared-memory kernel in to tiles of `tile_bytes` on the current device
/// (cudaFuncSetAttribute MaxDynamicSharedMemorySize; nothing at or below 48 KiB). Call it when a
/// case is prepared, not per launch: it is a host-side driver call. An error if the device refuses.
void prepare_smem_read(std::size_t tile_bytes);
/// The largest tile_bytes launch_smem_read takes on `device`: its opt-in shared memory per block
/// (cudaDevAttrMaxSharedMemoryPerBlockOptin; the kernel has no static shared memory), rounded down
/// to a multiple of 128 (in practice already one: 227 KiB on H100/B200, 163 KiB on A100, 99 KiB on
/// sm_86/89/120). 0 on error (the error is cleared, so the next launch check does not see it).
int smem_max_tile_bytes(int device);
/// Fills a[i] = base + hash(i) fraction (distinct data per page; see the CPU backend).
void launch_fill(int blocks, int threads, double* a, std::size_t n, double base, stream_t stream);

/// Spins until *flag becomes nonzero, holding the stream so that the work queued behind it starts
/// back to back (nvbench's blocking kernel). After `timeout_ns` of %globaltimer it gives up and
/// sets *timed_out (mapped host memory), so the host can discard a sample timed while queueing.
void launch_blocking(volatile int* flag, std::uint64_t timeout_ns, int* timed_out, stream_t stream);

/// Reads %globaltimer and clock64() at start and end of a `cycles`-long spin on one thread and
/// writes {ns, cycles} to out[0..1]: the SM clock is cycles / ns.
void launch_clock_probe(std::uint64_t cycles, std::uint64_t* out, stream_t stream);

}  // namespace chipgauge::kernels::cuda
