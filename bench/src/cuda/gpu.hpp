#pragma once

// The GPUs of the process as the CUDA backend sees them: discovery, the properties a report
// lists, and the fixed (clock-independent) peaks that need NVML. Internal to bench/.

#include "../cuda_arch.hpp"
#include "../cuda_plan.hpp"
#include "../nvml.hpp"
#include "chipgauge/bench/backend.hpp"

#include <cuda_runtime.h>

#include <optional>
#include <string>
#include <vector>

namespace chipgauge::bench::cuda {

struct gpu {
  int index = 0;
  cudaDeviceProp prop{};
  std::string pci;
  int clock_khz = 0;
  int mem_clock_khz = 0;
  int bus_width = 0;
  int smem_optin = 0;          ///< bytes of shared memory one block may opt in to
  int coherent_host_link = 0;  ///< host link with native atomics (NVLink-C2C on GH200), not PCIe
  std::optional<unsigned long long> ecc_baseline;  ///< NVML uncorrectable-ECC count at start
  cuda_arch arch;           ///< specs/arch/cuda.json for this device, read once
  cuda_device_facts facts;  ///< what the catalogue and the fixed peaks depend on (cuda_plan.hpp)

  [[nodiscard]] int cc() const { return prop.major * 10 + prop.minor; }
  /// Blocks of `threads` that fit on one SM by the thread limit, at most `wanted`.
  [[nodiscard]] int fit(int wanted, int threads) const { return facts.fit(wanted, threads); }
  /// "cuda:<index>".
  [[nodiscard]] std::string id() const;
};

/// Every visible GPU with its properties, attributes, ECC baseline and specs/arch/cuda.json entry.
std::vector<gpu> discover_gpus(const std::string& specs_dir, const nvml& n);

/// The device a report lists for `g`, with its properties (identity, clocks, memory, links,
/// driver and runtime versions, peaks notes, NVML state).
device_info describe(const gpu& g, const nvml& n);
/// The device's state after its benchmarks ran (backend::state_after): current PCIe link, ECC
/// count.
std::vector<std::pair<std::string, std::string>> state_after(const gpu& g, const nvml& n);
/// The PCI "vendor:device" and "subsystem_vendor:subsystem_device" ids (lspci -n's lower-case
/// hex) of the function at `pci_bus_id`, from sysfs; empty strings where unreadable.
std::pair<std::string, std::string> pci_ids(const std::string& pci_bus_id);

/// The other GPUs of `all` and whether `g` can reach each one's memory.
std::vector<cuda_peer> peers_of(const gpu& g, const std::vector<gpu>& all);

/// PCIe peak per direction: lanes x GT/s x encoding efficiency / 8, at the link's maximum
/// generation and width (NVML); nullopt on a coherent host link or where the link is unreadable.
std::optional<fixed_peak> pcie_peak(const gpu& g, const nvml& n);

}  // namespace chipgauge::bench::cuda
