#pragma once

// What every part of the CUDA backend shares: the CUDA error check (the kernels' own, from
// kernels/cuda/check.cuh), owners of CUDA and cuBLASLt handles (core's unique_handle), device and
// pinned buffers, the poison fill for fresh outputs and the exact comparison of results.
// Internal to bench/.

#include "check.cuh"  // kernels/cuda/: chipgauge::kernels::cuda::check, shared with the kernels
#include "chipgauge/core/unique_handle.hpp"

#include <cuda_runtime.h>
#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace chipgauge::bench::cuda {

namespace kc = chipgauge::kernels::cuda;

/// Throws chipgauge::error naming the call and the CUDA error when `call` fails.
#define CHIPGAUGE_CUDA(call) ::chipgauge::kernels::cuda::check((call), #call)

/// For destructors and best-effort queries: the result is deliberately ignored (a destructor runs
/// on paths that already report the failure that matters; a query that fails leaves its default).
inline void release(cudaError_t e) noexcept { (void)e; }

using chipgauge::unique_handle;

using stream_owner = unique_handle<cudaStream_t, cudaStreamDestroy>;
using event_owner = unique_handle<cudaEvent_t, cudaEventDestroy>;

/// A non-blocking stream of the current device.
inline stream_owner make_stream() {
  stream_owner s;
  CHIPGAUGE_CUDA(cudaStreamCreateWithFlags(s.out(), cudaStreamNonBlocking));
  return s;
}
/// An event of the current device, with timing.
inline event_owner make_event() {
  event_owner e;
  CHIPGAUGE_CUDA(cudaEventCreate(e.out()));
  return e;
}

/// Device memory of the current device.
struct device_buffer {
  void* ptr = nullptr;
  std::size_t bytes = 0;
  explicit device_buffer(std::size_t n) : bytes(n) { CHIPGAUGE_CUDA(cudaMalloc(&ptr, n)); }
  ~device_buffer() { release(cudaFree(ptr)); }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr);
  }
};

/// Page-locked host memory (`flags`: cudaHostAlloc's).
struct pinned_buffer {
  void* ptr = nullptr;
  std::size_t bytes = 0;
  explicit pinned_buffer(std::size_t n, unsigned flags = cudaHostAllocDefault) : bytes(n) {
    CHIPGAUGE_CUDA(cudaHostAlloc(&ptr, n, flags));
  }
  ~pinned_buffer() { release(cudaFreeHost(ptr)); }
  pinned_buffer(const pinned_buffer&) = delete;
  pinned_buffer& operator=(const pinned_buffer&) = delete;
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr);
  }
};

/// The value kernels/cuda/memory.cu's fill writes at index `i`: `base` plus the low 16 bits of
/// splitmix64(i) x 2^-16, so every element is a multiple of 2^-16 in [base, base + 1).
inline double hashed(std::size_t i, double base) {
  std::uint64_t z = i + 0x9E3779B97F4A7C15ULL;  // the same splitmix64 as kernels/cuda/memory.cu
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return base + static_cast<double>(z & 0xFFFF) * 0x1p-16;
}

/// Fills a fresh output buffer with a value no benchmark produces (0x7F bytes: about 3.4e38 as
/// FP32, 1.4e306 as FP64, 2,139,062,143 as INT32), so a case that never wrote it fails
/// verification instead of passing on a previous case's results left in recycled memory. The
/// memset is on the legacy stream, unordered with the case's non-blocking stream: it is waited for.
inline void poison(const device_buffer& b) {
  CHIPGAUGE_CUDA(cudaMemset(b.ptr, 0x7F, b.bytes));
  CHIPGAUGE_CUDA(cudaDeviceSynchronize());
}

/// Exact comparison of every output with its expected value: how many differ, and the first one,
/// so a failure shows what came back ("N differ (first: X)").
struct mismatches {
  std::size_t count = 0;
  double first = 0;
  [[nodiscard]] std::string text() const {
    return count == 0 ? std::string("0 differ")
                      : fmt::format("{} differ (first: {})", count, first);
  }
};
template <typename T, typename Expected>
mismatches compare_exact(const std::vector<T>& got, Expected expected_at) {
  mismatches m;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto x = static_cast<double>(got[i]);
    if (x != expected_at(i) && m.count++ == 0) m.first = x;
  }
  return m;
}
template <typename T>
mismatches compare_exact(const std::vector<T>& got, double expected) {
  return compare_exact(got, [expected](std::size_t) { return expected; });
}

/// `count` values of T copied from device memory at `from`.
template <typename T>
std::vector<T> download(const void* from, std::size_t count) {
  std::vector<T> h(count);
  CHIPGAUGE_CUDA(cudaMemcpy(h.data(), from, count * sizeof(T), cudaMemcpyDeviceToHost));
  return h;
}

}  // namespace chipgauge::bench::cuda
