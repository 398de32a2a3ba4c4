// Fault-injection kernels (kernels/include/chipgauge/kernels/cuda_fault.hpp).
#include "check.cuh"
#include "chipgauge/kernels/cuda_fault.hpp"

namespace chipgauge::kernels::cuda {

namespace {

__device__ std::uint64_t global_ns() {
  std::uint64_t t;
  asm volatile("mov.u64 %0, %globaltimer;" : "=l"(t));
  return t;
}

__global__ void hang_kernel(std::uint64_t ns) {
  const std::uint64_t start = global_ns();
  while (global_ns() - start < ns) {}
}

__global__ void illegal_kernel(int* p) {
  // Address 0 lies in no allocation (CUDA never maps the null page): the store faults.
  p[threadIdx.x] = 1;
}

__global__ void noop_kernel() {}

}  // namespace

void launch_fault(fault_kind kind, std::uint64_t hang_ns, CUstream_st* stream) {
  switch (kind) {
    case fault_kind::hang:
      hang_kernel<<<1, 1, 0, stream>>>(hang_ns);
      check_launch("hang_kernel");
      break;
    case fault_kind::illegal:
      illegal_kernel<<<1, 32, 0, stream>>>(nullptr);
      check_launch("illegal_kernel");
      break;
    case fault_kind::launch:
      noop_kernel<<<1, 2048, 0, stream>>>();  // 2048 > 1024 threads per block: refused
      check_launch("noop_kernel (2048 threads per block)");
      break;
  }
}

}  // namespace chipgauge::kernels::cuda
