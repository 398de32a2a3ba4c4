#include "nvml.hpp"

#include <dlfcn.h>

#include <string>

namespace chipgauge::bench {

namespace {

using device_t = void*;
using init_fn = int (*)();
using shutdown_fn = int (*)();
using by_pci_fn = int (*)(const char*, device_t*);
using clock_fn = int (*)(device_t, int, unsigned*);
using power_fn = int (*)(device_t, unsigned*);
using temp_fn = int (*)(device_t, int, unsigned*);
using reasons_fn = int (*)(device_t, unsigned long long*);
using mig_fn = int (*)(device_t, unsigned*, unsigned*);
using energy_fn = int (*)(device_t, unsigned long long*);
using ecc_fn = int (*)(device_t, int, int, unsigned long long*);
using version_fn = int (*)(char*, unsigned);
using link_fn = int (*)(device_t, unsigned*);
using affinity_fn = int (*)(device_t);

constexpr int clock_sm = 1;   // NVML_CLOCK_SM
constexpr int clock_mem = 2;  // NVML_CLOCK_MEM
constexpr int temp_gpu = 0;   // NVML_TEMPERATURE_GPU
constexpr int ecc_uncorrected = 1;  // NVML_MEMORY_ERROR_TYPE_UNCORRECTED
constexpr int ecc_volatile = 0;     // NVML_VOLATILE_ECC

template <typename F>
F sym(void* lib, const char* name) {
  return reinterpret_cast<F>(dlsym(lib, name));
}

}  // namespace

nvml::nvml() {
  lib_ = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib_) {
    why_ = "NVML (libnvidia-ml.so.1) not found: clocks, power and temperature come from the clock probe only";
    return;
  }
  auto init = sym<init_fn>(lib_, "nvmlInit_v2");
  const int rc = init ? init() : -1;
  if (rc != 0) {
    why_ = init ? "nvmlInit_v2 failed with NVML return code " + std::to_string(rc) : "nvmlInit_v2 is missing from libnvidia-ml.so.1";
    dlclose(lib_);
    lib_ = nullptr;
  }
}

nvml::~nvml() {
  if (!lib_) return;
  if (auto shutdown = sym<shutdown_fn>(lib_, "nvmlShutdown")) shutdown();
  dlclose(lib_);
}

void* nvml::device(const std::string& pci_bus_id) const {
  if (!lib_) return nullptr;
  auto by_pci = sym<by_pci_fn>(lib_, "nvmlDeviceGetHandleByPciBusId_v2");
  device_t d = nullptr;
  if (!by_pci || by_pci(pci_bus_id.c_str(), &d) != 0) return nullptr;
  return d;
}

nvml_sample nvml::sample(const std::string& pci_bus_id) const {
  nvml_sample s;
  device_t d = device(pci_bus_id);
  if (!d) return s;
  unsigned v = 0;
  if (auto f = sym<clock_fn>(lib_, "nvmlDeviceGetClockInfo")) {
    if (f(d, clock_sm, &v) == 0) s.sm_clock_mhz = v;
    if (f(d, clock_mem, &v) == 0) s.mem_clock_mhz = v;
  }
  if (auto f = sym<power_fn>(lib_, "nvmlDeviceGetPowerUsage"); f && f(d, &v) == 0) s.power_w = v / 1000.0;
  if (auto f = sym<power_fn>(lib_, "nvmlDeviceGetEnforcedPowerLimit"); f && f(d, &v) == 0) s.power_limit_w = v / 1000.0;
  if (auto f = sym<temp_fn>(lib_, "nvmlDeviceGetTemperature"); f && f(d, temp_gpu, &v) == 0) s.temperature_c = v;
  unsigned long long reasons = 0;
  auto r = sym<reasons_fn>(lib_, "nvmlDeviceGetCurrentClocksEventReasons");
  if (!r) r = sym<reasons_fn>(lib_, "nvmlDeviceGetCurrentClocksThrottleReasons");
  if (r && r(d, &reasons) == 0) s.throttle_reasons = reasons;
  return s;
}

std::string nvml::mig_mode(const std::string& pci_bus_id) const {
  device_t d = device(pci_bus_id);
  auto f = d ? sym<mig_fn>(lib_, "nvmlDeviceGetMigMode") : nullptr;
  unsigned current = 0;
  unsigned pending = 0;
  if (!f || f(d, &current, &pending) != 0) return "unreadable";
  return current != 0 ? "enabled" : "disabled";
}

std::optional<unsigned long long> nvml::energy_mj(const std::string& pci_bus_id) const {
  device_t d = device(pci_bus_id);
  auto f = d ? sym<energy_fn>(lib_, "nvmlDeviceGetTotalEnergyConsumption") : nullptr;
  unsigned long long mj = 0;
  if (!f || f(d, &mj) != 0) return std::nullopt;
  return mj;
}

std::optional<unsigned long long> nvml::uncorrected_ecc(const std::string& pci_bus_id) const {
  device_t d = device(pci_bus_id);
  auto f = d ? sym<ecc_fn>(lib_, "nvmlDeviceGetTotalEccErrors") : nullptr;
  unsigned long long n = 0;
  if (!f || f(d, ecc_uncorrected, ecc_volatile, &n) != 0) return std::nullopt;
  return n;
}

std::string nvml::driver_version() const {
  auto f = lib_ ? sym<version_fn>(lib_, "nvmlSystemGetDriverVersion") : nullptr;
  char buf[96] = {};
  if (!f || f(buf, sizeof buf) != 0) return {};
  return buf;
}

std::optional<std::pair<unsigned, unsigned>> nvml::pcie_link(const std::string& pci_bus_id, bool maximum) const {
  device_t d = device(pci_bus_id);
  auto gen = d ? sym<link_fn>(lib_, maximum ? "nvmlDeviceGetMaxPcieLinkGeneration" : "nvmlDeviceGetCurrPcieLinkGeneration") : nullptr;
  auto width = d ? sym<link_fn>(lib_, maximum ? "nvmlDeviceGetMaxPcieLinkWidth" : "nvmlDeviceGetCurrPcieLinkWidth") : nullptr;
  unsigned g = 0;
  unsigned w = 0;
  if (!gen || !width || gen(d, &g) != 0 || width(d, &w) != 0 || g == 0 || w == 0) return std::nullopt;
  return std::make_pair(g, w);
}

bool nvml::bind_thread_near(const std::string& pci_bus_id) const {
  device_t d = device(pci_bus_id);
  auto f = d ? sym<affinity_fn>(lib_, "nvmlDeviceSetCpuAffinity") : nullptr;
  return f && f(d) == 0;
}

}  // namespace chipgauge::bench
