// DRAM bandwidth kernels: 16-byte (double2) accesses, grid-stride loops (BabelStream's kernels
// with vector loads), plus the fill, blocking and clock-probe helpers.
#include "check.cuh"
#include "chipgauge/kernels/cuda.hpp"

namespace chipgauge::kernels::cuda {

namespace {

__device__ double hashed(std::size_t i, double base) {
  unsigned long long z = i + 0x9E3779B97F4A7C15ULL;  // splitmix64, as the CPU backend
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return base + static_cast<double>(z & 0xFFFF) * 0x1p-16;
}

__global__ void fill_kernel(double* a, std::size_t n, double base) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    a[i] = hashed(i, base);
}

// `passes` sweeps over the n2 elements as one grid-stride walk over the virtual index
// j in [0, passes x n2), reading element j mod n2: every thread stays busy however small the
// footprint (a 256 KiB footprint has 16 K elements, far fewer than the grid's threads), accesses
// stay coalesced, and every element is read exactly `passes` times. __ldcg (ld.global.cg: cache in
// L2, not L1): a footprint that fits in L2 is served by L2 on every pass, never by the SM's L1
// (plain ld.global and __ldg may allocate in L1). For DRAM-sized footprints (passes = 1) this is
// the plain streaming read. __ldcg is an asm volatile in the CUDA headers (sm_32_intrinsics.hpp),
// so no load is merged or dropped.
__global__ void read_kernel(const double2* a, std::size_t n2, unsigned passes, double* block_sums) {
  const std::size_t first = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  const std::size_t total = n2 * passes;
  const std::size_t step =
      stride % n2;  // (i + stride) mod n2 = (i + step) mod n2, one wrap at most
  std::size_t i = first % n2;
  auto advance = [&] {
    i += step;
    if (i >= n2) i -= n2;
  };
  // Four independent loads in flight per thread (each sum waits only on its own load): one load
  // at a time keeps 32 KiB in flight per SM, about what HBM3e needs at full rate, so too little.
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::size_t j = first;
  for (; j + 3 * stride < total; j += 4 * stride) {
    const double2 v0 = __ldcg(a + i);
    advance();
    const double2 v1 = __ldcg(a + i);
    advance();
    const double2 v2 = __ldcg(a + i);
    advance();
    const double2 v3 = __ldcg(a + i);
    advance();
    s0 += v0.x + v0.y;
    s1 += v1.x + v1.y;
    s2 += v2.x + v2.y;
    s3 += v3.x + v3.y;
  }
  for (; j < total; j += stride) {
    const double2 v = __ldcg(a + i);
    advance();
    s0 += v.x + v.y;
  }
  double sum = (s0 + s1) + (s2 + s3);
  // Block reduction in shared memory (blockDim.x a power of two, at most 1024).
  __shared__ double partial[1024];
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) block_sums[blockIdx.x] = partial[0];
}

__global__ void write_kernel(double2* a, std::size_t n2, double value) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n2;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    a[i] = make_double2(value, value);
}

// copy and triad: two iterations' loads issued before their stores, so each thread has two (copy)
// or four (triad) 16-byte loads in flight rather than one stalled behind its own store.
__global__ void copy_kernel(const double2* a, double2* c, std::size_t n2) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  for (; i + stride < n2; i += 2 * stride) {
    const double2 v0 = a[i];
    const double2 v1 = a[i + stride];
    c[i] = v0;
    c[i + stride] = v1;
  }
  if (i < n2) c[i] = a[i];
}

__global__ void triad_kernel(double2* a, const double2* b, const double2* c, double s,
                             std::size_t n2) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  for (; i + stride < n2; i += 2 * stride) {
    const double2 b0 = b[i];
    const double2 c0 = c[i];
    const double2 b1 = b[i + stride];
    const double2 c1 = c[i + stride];
    a[i] = make_double2(fma(s, c0.x, b0.x), fma(s, c0.y, b0.y));
    a[i + stride] = make_double2(fma(s, c1.x, b1.x), fma(s, c1.y, b1.y));
  }
  if (i < n2) {
    const double2 bv = b[i];
    const double2 cv = c[i];
    a[i] = make_double2(fma(s, cv.x, bv.x), fma(s, cv.y, bv.y));
  }
}

// Shared-memory bandwidth against footprint: a dynamic tile of `words` float4 per block (words a
// multiple of 8, at least blockDim.x; blockDim.x a multiple of 32), word i = (i mod 4) in every
// lane. Thread t reads words t, t+32, t+64, ... wrapping at `words`: the 32 threads of a warp read
// 32 consecutive words per step and, since 32 and words are multiples of 8, each thread's word
// stays t mod 8 (distinct bank quads in every quarter-warp: no conflicts) and t mod 4 (its value).
// Values are small integers, so the per-thread sums are exact (4 x (t mod 4) x iterations).
__global__ void smem_read_kernel(unsigned words, std::uint64_t iterations, float* out) {
  extern __shared__ float4 tile[];
  for (unsigned i = threadIdx.x; i < words; i += blockDim.x) {
    const float v = static_cast<float>(i % 4);
    tile[i] = make_float4(v, v, v, v);
  }
  __syncthreads();
  float sum = 0;
  unsigned at = threadIdx.x;
#pragma unroll 4
  for (std::uint64_t k = 0; k < iterations; ++k) {
    const float4 v = tile[at];
    sum += (v.x + v.y) + (v.z + v.w);  // one dependent add per read: the loads stay in flight
    // (at + 32) mod words without a branch: next < 2 x words (at < words, 32 <= words), and when
    // next < words the unsigned next - words wraps above next.
    const unsigned next = at + 32;
    at = min(next, next - words);
  }
  out[blockIdx.x * blockDim.x + threadIdx.x] = sum;
}

__global__ void blocking_kernel(volatile int* flag, std::uint64_t timeout_ns, int* timed_out) {
  unsigned long long start = 0;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
  for (;;) {
    if (*flag != 0) return;
    unsigned long long now = 0;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
    if (now - start > timeout_ns) {
      *timed_out = 1;  // the host reads it after the sample and discards the sample
      __threadfence_system();
      return;
    }
  }
}

__global__ void clock_probe_kernel(std::uint64_t cycles, std::uint64_t* out) {
  unsigned long long t0 = 0;
  unsigned long long t1 = 0;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
  const long long c0 = clock64();
  while (static_cast<std::uint64_t>(clock64() - c0) < cycles) {}
  const long long c1 = clock64();
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t1));
  out[0] = t1 - t0;
  out[1] = static_cast<std::uint64_t>(c1 - c0);
}

}  // namespace

void launch_fill(int blocks, int threads, double* a, std::size_t n, double base, stream_t stream) {
  fill_kernel<<<blocks, threads, 0, stream>>>(a, n, base);
  check_launch("fill_kernel");
}

void launch_read(int blocks, int threads, const double* a, std::size_t n, unsigned passes,
                 double* block_sums, stream_t stream) {
  if (passes == 0) throw error("launch_read: passes must be at least 1");
  read_kernel<<<blocks, threads, 0, stream>>>(reinterpret_cast<const double2*>(a), n / 2, passes,
                                              block_sums);
  check_launch("read_kernel");
}

void launch_write(int blocks, int threads, double* a, std::size_t n, double value,
                  stream_t stream) {
  write_kernel<<<blocks, threads, 0, stream>>>(reinterpret_cast<double2*>(a), n / 2, value);
  check_launch("write_kernel");
}

void launch_copy(int blocks, int threads, const double* a, double* c, std::size_t n,
                 stream_t stream) {
  copy_kernel<<<blocks, threads, 0, stream>>>(reinterpret_cast<const double2*>(a),
                                              reinterpret_cast<double2*>(c), n / 2);
  check_launch("copy_kernel");
}

void launch_triad(int blocks, int threads, double* a, const double* b, const double* c, double s,
                  std::size_t n, stream_t stream) {
  triad_kernel<<<blocks, threads, 0, stream>>>(reinterpret_cast<double2*>(a),
                                               reinterpret_cast<const double2*>(b),
                                               reinterpret_cast<const double2*>(c), s, n / 2);
  check_launch("triad_kernel");
}

void launch_smem_read(int blocks, int threads, std::size_t tile_bytes, std::uint64_t iterations,
                      float* out, stream_t stream) {
  if (threads < 32 || threads > 1024 || threads % 32 != 0)
    throw error("launch_smem_read: threads must be a multiple of 32, at most 1024");
  const bool tile_ok = tile_bytes % 128 == 0 &&
                       tile_bytes >= 16 * static_cast<std::size_t>(threads) &&
                       tile_bytes <= (std::size_t{1} << 30);
  if (!tile_ok)
    throw error(
        "launch_smem_read: tile_bytes must be a multiple of 128, at least 16 x threads (and at "
        "most 1 GiB)");
  smem_read_kernel<<<blocks, threads, tile_bytes, stream>>>(static_cast<unsigned>(tile_bytes / 16),
                                                            iterations, out);
  check_launch("smem_read_kernel");
}

void prepare_smem_read(std::size_t tile_bytes) {
  constexpr std::size_t default_limit =
      48 * 1024;  // dynamic shared memory per block without opting in
  if (tile_bytes <= default_limit) return;
  if (tile_bytes > (std::size_t{1} << 30)) throw error("prepare_smem_read: tile_bytes above 1 GiB");
  // Per kernel and per device (the current one); above smem_max_tile_bytes it fails here.
  const cudaError_t e = cudaFuncSetAttribute(
      smem_read_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(tile_bytes));
  if (e != cudaSuccess) (void)cudaGetLastError();  // not left behind for the next launch check
  check(e, "cudaFuncSetAttribute(smem_read_kernel, MaxDynamicSharedMemorySize)");
}

int smem_max_tile_bytes(int device) {
  int bytes = 0;
  if (cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, device) !=
      cudaSuccess) {
    (void)cudaGetLastError();  // clear it: the next check_launch must not report it as its own
    return 0;
  }
  return bytes / 128 * 128;
}

void launch_blocking(volatile int* flag, std::uint64_t timeout_ns, int* timed_out,
                     stream_t stream) {
  blocking_kernel<<<1, 1, 0, stream>>>(flag, timeout_ns, timed_out);
  check_launch("blocking_kernel");
}

void launch_clock_probe(std::uint64_t cycles, std::uint64_t* out, stream_t stream) {
  clock_probe_kernel<<<1, 1, 0, stream>>>(cycles, out);
  check_launch("clock_probe_kernel");
}

}  // namespace chipgauge::kernels::cuda
