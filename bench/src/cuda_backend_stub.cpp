// Built when CUDA is not: the backend reports itself unavailable.
#include "chipgauge/bench/cuda_backend.hpp"
#include "chipgauge/core/error.hpp"

namespace chipgauge::bench {

bool cuda_backend_built() noexcept { return false; }

bool cuda_device_available(std::string* reason) {
  if (reason) *reason = "this chipgauge was built without CUDA (no nvcc at configure time)";
  return false;
}

std::unique_ptr<backend> make_cuda_backend(const std::string&) {
  throw usage_error(
      "the cuda backend is not built into this chipgauge (configure with nvcc present, or "
      "-DCHIPGAUGE_CUDA=ON); use --backend cpu");
}

}  // namespace chipgauge::bench
