// The CUDA backend: the GPUs of the process (gpu.cpp), the catalogue of each (cuda_plan.cpp) and
// the case its entry's parameters make (cases.hpp), timed by the protocol of timed_case.hpp;
// hung work, sticky errors and ECC errors end a case with the reason (device_lost).
#include "chipgauge/bench/cuda_backend.hpp"

#include "../cuda_plan.hpp"
#include "../nvml.hpp"
#include "cases.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/kernels/cuda_fault.hpp"
#include "gpu.hpp"
#include "support.hpp"
#include "timed_case.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <cstdlib>
#include <memory>
#include <variant>

namespace chipgauge::bench {

namespace {

using namespace chipgauge::bench::cuda;

// The fault CHIPGAUGE_CUDA_FAULT asks to inject (hang, illegal, launch), if any.
std::optional<std::string> injected_fault() {
  const char* v = std::getenv("CHIPGAUGE_CUDA_FAULT");
  if (!v || !*v) return std::nullopt;
  const std::string f(v);
  for (const auto k : kernels::cuda::all_faults) {
    if (f == to_string(k)) return f;
  }
  throw usage_error(fmt::format("CHIPGAUGE_CUDA_FAULT='{}': expected hang, illegal or launch", f));
}

class cuda_backend final : public backend {
 public:
  // A malformed CHIPGAUGE_CUDA_DEADLINE_S or CHIPGAUGE_CUDA_FAULT is a usage error before anything
  // runs.
  explicit cuda_backend(const std::string& specs_dir)
      : fault_(injected_fault()),
        deadline_(read_work_deadline()),
        gpus_(discover_gpus(specs_dir, nvml_)) {}

  [[nodiscard]] std::string name() const override { return "cuda"; }

  std::vector<device_info> devices() override {
    std::vector<device_info> out;
    for (const auto& g : gpus_) out.push_back(describe(g, nvml_));
    return out;
  }

  std::pair<std::vector<benchmark_info>, std::vector<skipped_benchmark>> benchmarks(
      const device_info& d, run_mode mode) override {
    const auto& g = gpu_of(d);
    return cuda_catalogue(g.facts, peers_of(g, gpus_), mode, fault_);
  }

  // The entry of this device's catalogue named b.name makes the case from the parameters it
  // captured; nothing is read back from the name.
  std::unique_ptr<benchmark_case> prepare(const device_info& d, const benchmark_info& b,
                                          run_mode mode) override {
    const auto& g = gpu_of(d);
    for (const auto& e : cuda_entries(g.facts, peers_of(g, gpus_), mode, fault_)) {
      if (e.info.name != b.name) continue;
      const case_context c{g, gpus_, nvml_, deadline_};
      return std::visit(
          [&](const auto& p) -> std::unique_ptr<benchmark_case> {
            if constexpr (std::is_same_v<std::decay_t<decltype(p)>, cuda_params::not_written>) {
              throw usage_error(fmt::format("the cuda backend has no case for '{}' yet", b.name));
            } else {
              return make_case(c, b, p);
            }
          },
          e.params);
    }
    throw usage_error(fmt::format("the cuda backend has no benchmark '{}'", b.name));
  }

  std::optional<std::string> device_lost(const device_info& d) override {
    const auto& g = gpu_of(d);
    const auto ecc = nvml_.uncorrected_ecc(g.pci);
    if (g.ecc_baseline && ecc && *ecc > *g.ecc_baseline)
      return fmt::format("{} uncorrectable ECC error(s) since the run began",
                         *ecc - *g.ecc_baseline);
    (void)cudaSetDevice(g.index);
    (void)cudaGetLastError();  // clears an error that does not poison the context
    cudaError_t e = cudaDeviceSynchronize();
    if (e == cudaSuccess) return std::nullopt;
    (void)cudaGetLastError();
    e = cudaDeviceSynchronize();  // a sticky error answers again: the context is gone
    if (e == cudaSuccess) return std::nullopt;
    return fmt::format("{}: {}", cudaGetErrorName(e), cudaGetErrorString(e));
  }

  std::vector<std::pair<std::string, std::string>> state_after(const device_info& d) override {
    return cuda::state_after(gpu_of(d), nvml_);
  }

 private:
  const gpu& gpu_of(const device_info& d) const {
    for (const auto& g : gpus_) {
      if (g.id() == d.id) return g;
    }
    throw usage_error(fmt::format("no CUDA device '{}'", d.id));
  }

  std::optional<std::string> fault_;
  std::chrono::duration<double> deadline_;
  nvml nvml_;
  std::vector<gpu> gpus_;
};

}  // namespace

bool cuda_backend_built() noexcept { return true; }

bool cuda_device_available(std::string* reason) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    if (reason) {
      *reason = fmt::format("{} ({})", cudaGetErrorString(e), cudaGetErrorName(e));
      // The runtime reports a missing driver as an old one; say which it is.
      if (e == cudaErrorInsufficientDriver) {
        if (void* h = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL)) {
          ::dlclose(h);
        } else {
          *reason = "no NVIDIA driver is installed (libcuda.so.1 cannot be loaded); " + *reason;
        }
      }
    }
    return false;
  }
  if (count == 0 && reason) {
    const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
    *reason = visible
                  ? fmt::format("no CUDA device is visible (CUDA_VISIBLE_DEVICES='{}')", visible)
                  : std::string("no CUDA device is visible");
  }
  return count > 0;
}

std::unique_ptr<backend> make_cuda_backend(const std::string& specs_dir) {
  return std::make_unique<cuda_backend>(specs_dir);
}

}  // namespace chipgauge::bench
