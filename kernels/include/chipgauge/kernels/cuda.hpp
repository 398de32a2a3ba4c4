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

/// Vector FMA loops: every thread runs `iterations` x fma_chains dependent chains of
/// acc = acc * one + add (one hidden from the compiler) and writes the sum of its chains to
/// out[thread]; each sum must equal fma_chains x iterations x add exactly (add a power of two).
/// Operations: 2 per FMA per lane (a half2 FMA is 2 lanes, 4 operations).
void launch_fma_f64(int blocks, int threads, std::uint64_t iterations, double add, double* out, stream_t stream);
void launch_fma_f32(int blocks, int threads, std::uint64_t iterations, float add, float* out, stream_t stream);
/// half2: both lanes of each chain advance; out holds the FP32 sum of all lanes of all chains.
void launch_fma_f16x2(int blocks, int threads, std::uint64_t iterations, float* out, stream_t stream);
/// INT32 multiply-add (IMAD): acc = acc * 1 + 3; out holds the sum of chains.
void launch_mad_i32(int blocks, int threads, std::uint64_t iterations, std::int32_t* out, stream_t stream);

/// Warp-level tensor-core operations (mma.sync). fp8 is e4m3 with FP32 accumulation (sm_89+);
/// int8 accumulates in INT32; fp64 is DMMA.
enum class tensor_op : unsigned char { fp16, bf16, tf32, int8, fp8, fp64 };

/// Independent accumulator chains per warp in the tensor kernels (covers mma latency).
inline constexpr int tensor_chains = 4;

/// M x N x K of one mma instruction, and the accumulator values it leaves per thread.
struct tensor_shape {
  int m = 0;
  int n = 0;
  int k = 0;
  int values_per_thread = 0;
};
tensor_shape shape_of(tensor_op op) noexcept;

/// `iterations` mma steps on each of tensor_chains chains per warp, all-ones operands: every D
/// element ends at iterations x K, so out[thread] (the FP64 sum of its tensor_chains x
/// values_per_thread accumulators) must equal tensor_chains x values_per_thread x iterations x K.
/// Operations per warp per step: 2 x M x N x K per chain. Exact for iterations x K <= 2^24 (FP32).
void launch_mma(tensor_op op, int blocks, int threads, std::uint64_t iterations, double* out, stream_t stream);

/// Hopper warpgroup MMA (sm_90a): blocks of two warpgroups (256 threads), each issuing
/// m64n128xK wgmma into two accumulators per iteration from shared-memory operands (all ones).
/// out[thread] = FP64 sum of its 128 accumulator values = 128 x iterations x K. Operations per
/// warpgroup per iteration: 2 x (2 x 64 x 128 x K). Exact for iterations x K <= 2^24. No FP64.
/// On any other architecture the kernel writes NaN (verification then fails, naming it).
void launch_wgmma(tensor_op op, int blocks, std::uint64_t iterations, double* out, stream_t stream);
/// K of the wgmma variant of `op` (16, 8 or 32); 0 for fp64.
int wgmma_k(tensor_op op) noexcept;

/// STREAM-style kernels over n doubles with 16-byte (double2) accesses and a grid-stride loop;
/// n must be even. read: out[block] = partial sums of a; write: a[i] = value; copy: c = a;
/// triad: a = b + s * c.
void launch_read(int blocks, int threads, const double* a, std::size_t n, double* block_sums, stream_t stream);
void launch_write(int blocks, int threads, double* a, std::size_t n, double value, stream_t stream);
void launch_copy(int blocks, int threads, const double* a, double* c, std::size_t n, stream_t stream);
void launch_triad(int blocks, int threads, double* a, const double* b, const double* c, double s, std::size_t n,
                  stream_t stream);
/// Shared-memory read bandwidth: each thread reads `iterations` 16-byte words of a 32 KiB tile
/// whose word i holds (i mod 4) in every lane; out[thread] = the exact FP32 sum (16 bytes per read).
void launch_smem_read(int blocks, int threads, std::uint64_t iterations, float* out, stream_t stream);
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
