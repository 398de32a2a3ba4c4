#pragma once

// NVML loaded at run time (dlopen of libnvidia-ml.so.1), so chipgauge runs where NVML is absent.
// Only the handful of entry points the telemetry needs, declared here from the NVML API
// (nvml.h of the CUDA toolkit / GPU Deployment Kit); return code 0 is NVML_SUCCESS.

#include "chipgauge/core/unique_handle.hpp"

#include <dlfcn.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace chipgauge::bench {

struct nvml_sample {
  std::optional<unsigned> sm_clock_mhz;
  std::optional<unsigned> mem_clock_mhz;
  std::optional<double> power_w;
  std::optional<double> power_limit_w;
  std::optional<unsigned> temperature_c;
  std::optional<unsigned long long> throttle_reasons;  ///< nvmlClocksEventReason bit mask
};

class nvml {
 public:
  /// Loads and initialises NVML; available() is false (with why()) when it cannot.
  nvml();
  ~nvml();
  nvml(const nvml&) = delete;
  nvml& operator=(const nvml&) = delete;

  [[nodiscard]] bool available() const noexcept { return static_cast<bool>(lib_); }
  [[nodiscard]] const std::string& why() const noexcept { return why_; }
  /// Telemetry of the device with this PCI bus id ("0000:3B:00.0"); empty fields when unreadable.
  [[nodiscard]] nvml_sample sample(const std::string& pci_bus_id) const;
  /// MIG mode: "enabled", "disabled" or "unreadable".
  [[nodiscard]] std::string mig_mode(const std::string& pci_bus_id) const;
  /// Energy used since the driver loaded, mJ (Volta and later); nullopt when unreadable.
  [[nodiscard]] std::optional<unsigned long long> energy_mj(const std::string& pci_bus_id) const;
  /// Uncorrectable ECC errors since the driver loaded (volatile counter); nullopt when unreadable
  /// (ECC off, or no NVML).
  [[nodiscard]] std::optional<unsigned long long> uncorrected_ecc(
      const std::string& pci_bus_id) const;
  /// Compute processes on the device other than this one (which holds a context while it
  /// measures): the listed count less one; nullopt when unreadable.
  [[nodiscard]] std::optional<unsigned> other_processes(const std::string& pci_bus_id) const;
  /// The kernel driver's version ("570.86.15"); empty when unreadable.
  [[nodiscard]] std::string driver_version() const;
  /// PCIe link generation and width (lanes): the current link (which idle GPUs often train down),
  /// or with `maximum` the most the device and its slot support; nullopt when unreadable.
  [[nodiscard]] std::optional<std::pair<unsigned, unsigned>> pcie_link(
      const std::string& pci_bus_id, bool maximum) const;
  /// The board serial number and the VBIOS version; empty when unreadable (consumer boards have
  /// no serial).
  [[nodiscard]] std::string serial(const std::string& pci_bus_id) const;
  [[nodiscard]] std::string vbios(const std::string& pci_bus_id) const;
  /// The temperature at which the device starts slowing its clocks (its own limit), degrees C;
  /// nullopt when unreadable.
  [[nodiscard]] std::optional<unsigned> slowdown_temperature_c(const std::string& pci_bus_id) const;
  /// Binds the calling thread to the CPUs nearest the device (its NUMA node); false when it cannot.
  bool bind_thread_near(const std::string& pci_bus_id) const;

 private:
  void* device(const std::string& pci_bus_id) const;

  struct api;
  unique_handle<void*, dlclose> lib_;  ///< libnvidia-ml.so.1, null when NVML is not available
  std::unique_ptr<api> api_;           ///< set when NVML initialised
  std::string why_;
  mutable std::map<std::string, void*> devices_;  ///< PCI bus id -> handle (null: not found)
};

}  // namespace chipgauge::bench
