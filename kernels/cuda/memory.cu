// DRAM bandwidth kernels: 16-byte (double2) accesses, grid-stride loops (BabelStream's kernels
// with vector loads), plus the fill, blocking and clock-probe helpers.
#include "chipgauge/kernels/cuda.hpp"
#include "check.cuh"

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

__global__ void read_kernel(const double2* a, std::size_t n2, double* block_sums) {
  double sum = 0;
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n2;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const double2 v = a[i];
    sum += v.x + v.y;
  }
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

__global__ void copy_kernel(const double2* a, double2* c, std::size_t n2) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n2;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    c[i] = a[i];
}

__global__ void triad_kernel(double2* a, const double2* b, const double2* c, double s, std::size_t n2) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n2;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const double2 bv = b[i];
    const double2 cv = c[i];
    a[i] = make_double2(fma(s, cv.x, bv.x), fma(s, cv.y, bv.y));
  }
}

// Shared-memory bandwidth: 32 KiB of float4 per block, every thread reads 16-byte words at a
// rotating offset `iterations` times. Values are small integers, so the per-thread sums are exact.
__global__ void smem_read_kernel(std::uint64_t iterations, float* out) {
  constexpr int words = 2048;  // 2048 x 16 B = 32 KiB
  __shared__ float4 tile[words];
  for (int i = threadIdx.x; i < words; i += blockDim.x) {
    const float v = static_cast<float>(i % 4);
    tile[i] = make_float4(v, v, v, v);
  }
  __syncthreads();
  float sum = 0;
  int at = threadIdx.x;
  for (std::uint64_t k = 0; k < iterations; ++k) {
    const float4 v = tile[at];
    sum += v.x + v.y + v.z + v.w;
    at = (at + 32) & (words - 1);  // consecutive threads, consecutive words: no bank conflicts
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
  while (static_cast<std::uint64_t>(clock64() - c0) < cycles) {
  }
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

void launch_read(int blocks, int threads, const double* a, std::size_t n, double* block_sums, stream_t stream) {
  read_kernel<<<blocks, threads, 0, stream>>>(reinterpret_cast<const double2*>(a), n / 2, block_sums);
  check_launch("read_kernel");
}

void launch_write(int blocks, int threads, double* a, std::size_t n, double value, stream_t stream) {
  write_kernel<<<blocks, threads, 0, stream>>>(reinterpret_cast<double2*>(a), n / 2, value);
  check_launch("write_kernel");
}

void launch_copy(int blocks, int threads, const double* a, double* c, std::size_t n, stream_t stream) {
  copy_kernel<<<blocks, threads, 0, stream>>>(reinterpret_cast<const double2*>(a), reinterpret_cast<double2*>(c), n / 2);
  check_launch("copy_kernel");
}

void launch_triad(int blocks, int threads, double* a, const double* b, const double* c, double s, std::size_t n,
                  stream_t stream) {
  triad_kernel<<<blocks, threads, 0, stream>>>(reinterpret_cast<double2*>(a), reinterpret_cast<const double2*>(b),
                                               reinterpret_cast<const double2*>(c), s, n / 2);
  check_launch("triad_kernel");
}

void launch_smem_read(int blocks, int threads, std::uint64_t iterations, float* out, stream_t stream) {
  smem_read_kernel<<<blocks, threads, 0, stream>>>(iterations, out);
  check_launch("smem_read_kernel");
}

void launch_blocking(volatile int* flag, std::uint64_t timeout_ns, int* timed_out, stream_t stream) {
  blocking_kernel<<<1, 1, 0, stream>>>(flag, timeout_ns, timed_out);
  check_launch("blocking_kernel");
}

void launch_clock_probe(std::uint64_t cycles, std::uint64_t* out, stream_t stream) {
  clock_probe_kernel<<<1, 1, 0, stream>>>(cycles, out);
  check_launch("clock_probe_kernel");
}

}  // namespace chipgauge::kernels::cuda
