#pragma once

#include "chipgauge/bench/backend.hpp"

#include <memory>
#include <string>

namespace chipgauge::bench {

/// True when this binary was built with the CUDA backend (CHIPGAUGE_HAVE_CUDA).
bool cuda_backend_built() noexcept;

/// The CUDA backend: every visible GPU; vector FMA (FP64, FP32, FP16x2, INT32), DRAM read, write,
/// copy and triad, pinned host-to-device, device-to-host and bidirectional copies; CUDA-event
/// timing behind a blocking kernel; per-sample SM clock from %globaltimer and clock64(); NVML
/// telemetry loaded at run time. Throws usage_error when the binary was built without CUDA.
std::unique_ptr<backend> make_cuda_backend(const std::string& specs_dir);

/// Whether a CUDA device is usable now (driver and device present); the reason when not.
bool cuda_device_available(std::string* reason = nullptr);

}  // namespace chipgauge::bench
