#pragma once

// Fault injection for the CUDA backend's error paths (a hung kernel, a sticky illegal-address
// error, a launch that the driver refuses). Used only when CHIPGAUGE_CUDA_FAULT names a fault
// (docs/measurement.md), so that scripts/gpu-check.sh can show on a real GPU that each fault gives
// a clear reason, a failed or skipped result, a written report and a non-zero exit.

#include <cstdint>

struct CUstream_st;

namespace chipgauge::kernels::cuda {

enum class fault_kind : unsigned char {
  hang,     ///< one thread spins for `hang_ns` of %globaltimer, ignoring every flag
  illegal,  ///< a store to an unmapped address: cudaErrorIllegalAddress, which poisons the context
  launch,   ///< a block of 2048 threads: cudaErrorInvalidConfiguration at launch, context intact
};

inline constexpr fault_kind all_faults[] = {fault_kind::hang, fault_kind::illegal,
                                            fault_kind::launch};

/// The name CHIPGAUGE_CUDA_FAULT and the benchmark (fault_<name>) use.
constexpr const char* to_string(fault_kind k) noexcept {
  switch (k) {
    case fault_kind::hang: return "hang";
    case fault_kind::illegal: return "illegal";
    case fault_kind::launch: return "launch";
  }
  return "?";
}

/// Enqueues the fault on `stream`. `launch` throws chipgauge::error at once (the launch check);
/// the others surface when the stream is waited on.
void launch_fault(fault_kind kind, std::uint64_t hang_ns, CUstream_st* stream);

}  // namespace chipgauge::kernels::cuda
