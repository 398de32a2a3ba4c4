#pragma once

#include "chipgauge/core/error.hpp"

#include <cuda_runtime.h>

#include <string>

namespace chipgauge::kernels::cuda {

/// Throws chipgauge::error for a failed CUDA call, naming the call and the error.
inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    throw error(std::string(what) + ": " + cudaGetErrorName(e) + ": " + cudaGetErrorString(e));
}

/// Called after every launch: surfaces launch errors at once, not at the next sync.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

}  // namespace chipgauge::kernels::cuda
