#include "nvml.hpp"

#include <dlfcn.h>

#include <string>
#include <type_traits>

namespace chipgauge::bench {

namespace {

using device_t = void*;

constexpr int clock_sm = 1;            // NVML_CLOCK_SM
constexpr int clock_mem = 2;           // NVML_CLOCK_MEM
constexpr int temp_gpu = 0;            // NVML_TEMPERATURE_GPU
constexpr int ecc_uncorrected = 1;     // NVML_MEMORY_ERROR_TYPE_UNCORRECTED
constexpr int ecc_volatile = 0;        // NVML_VOLATILE_ECC
constexpr int threshold_slowdown = 1;  // NVML_TEMPERATURE_THRESHOLD_SLOWDOWN

// nvmlProcessInfo_t of NVML API 12 (nvmlProcessInfo_v2_t), as the *_v3 process queries fill it.
struct process_info {
  unsigned pid;
  unsigned long long used_gpu_memory;
  unsigned gpu_instance_id;
  unsigned compute_instance_id;
};

}  // namespace

// The entry points, resolved once when NVML loads (the telemetry reads them every few
// milliseconds); a null pointer is an entry point this driver's NVML lacks.
struct nvml::api {
  int (*shutdown)() = nullptr;
  int (*by_pci)(const char*, device_t*) = nullptr;
  int (*clock)(device_t, int, unsigned*) = nullptr;
  int (*power)(device_t, unsigned*) = nullptr;
  int (*power_limit)(device_t, unsigned*) = nullptr;
  int (*temperature)(device_t, int, unsigned*) = nullptr;
  int (*reasons)(device_t, unsigned long long*) = nullptr;
  int (*mig)(device_t, unsigned*, unsigned*) = nullptr;
  int (*energy)(device_t, unsigned long long*) = nullptr;
  int (*ecc)(device_t, int, int, unsigned long long*) = nullptr;
  int (*driver_version)(char*, unsigned) = nullptr;
  int (*link_gen)(device_t, unsigned*) = nullptr;
  int (*link_width)(device_t, unsigned*) = nullptr;
  int (*max_link_gen)(device_t, unsigned*) = nullptr;
  int (*max_link_width)(device_t, unsigned*) = nullptr;
  int (*affinity)(device_t) = nullptr;
  int (*compute_procs)(device_t, unsigned*, process_info*) = nullptr;
  int (*serial)(device_t, char*, unsigned) = nullptr;
  int (*vbios)(device_t, char*, unsigned) = nullptr;
  int (*temperature_threshold)(device_t, int, unsigned*) = nullptr;

  explicit api(void* lib) {
    auto sym = [lib](auto& f, const char* name) {
      f = reinterpret_cast<std::remove_reference_t<decltype(f)>>(dlsym(lib, name));
    };
    sym(shutdown, "nvmlShutdown");
    sym(by_pci, "nvmlDeviceGetHandleByPciBusId_v2");
    sym(clock, "nvmlDeviceGetClockInfo");
    sym(power, "nvmlDeviceGetPowerUsage");
    sym(power_limit, "nvmlDeviceGetEnforcedPowerLimit");
    sym(temperature, "nvmlDeviceGetTemperature");
    sym(reasons, "nvmlDeviceGetCurrentClocksEventReasons");
    if (!reasons) sym(reasons, "nvmlDeviceGetCurrentClocksThrottleReasons");
    sym(mig, "nvmlDeviceGetMigMode");
    sym(energy, "nvmlDeviceGetTotalEnergyConsumption");
    sym(ecc, "nvmlDeviceGetTotalEccErrors");
    sym(driver_version, "nvmlSystemGetDriverVersion");
    sym(link_gen, "nvmlDeviceGetCurrPcieLinkGeneration");
    sym(link_width, "nvmlDeviceGetCurrPcieLinkWidth");
    sym(max_link_gen, "nvmlDeviceGetMaxPcieLinkGeneration");
    sym(max_link_width, "nvmlDeviceGetMaxPcieLinkWidth");
    sym(affinity, "nvmlDeviceSetCpuAffinity");
    sym(compute_procs, "nvmlDeviceGetComputeRunningProcesses_v3");
    sym(serial, "nvmlDeviceGetSerial");
    sym(vbios, "nvmlDeviceGetVbiosVersion");
    sym(temperature_threshold, "nvmlDeviceGetTemperatureThreshold");
  }
};

nvml::nvml() {
  lib_ = unique_handle<void*, dlclose>(dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL));
  if (!lib_) {
    why_ =
        "NVML (libnvidia-ml.so.1) not found: clocks, power and temperature come from the clock "
        "probe only";
    return;
  }
  auto init = reinterpret_cast<int (*)()>(dlsym(lib_.get(), "nvmlInit_v2"));
  const int rc = init ? init() : -1;
  if (rc != 0) {
    why_ = init ? "nvmlInit_v2 failed with NVML return code " + std::to_string(rc)
                : "nvmlInit_v2 is missing from libnvidia-ml.so.1";
    lib_.reset();
    return;
  }
  api_ = std::make_unique<api>(lib_.get());
}

// nvmlShutdown before the library is closed: members (lib_ last) go after the body.
nvml::~nvml() {
  if (api_ && api_->shutdown) api_->shutdown();
}

void* nvml::device(const std::string& pci_bus_id) const {
  if (!api_ || !api_->by_pci) return nullptr;
  if (const auto it = devices_.find(pci_bus_id); it != devices_.end()) return it->second;
  device_t d = nullptr;
  if (api_->by_pci(pci_bus_id.c_str(), &d) != 0) d = nullptr;
  devices_[pci_bus_id] = d;  // handles stay valid until nvmlShutdown
  return d;
}

nvml_sample nvml::sample(const std::string& pci_bus_id) const {
  nvml_sample s;
  device_t d = device(pci_bus_id);
  if (!d) return s;
  const auto& f = *api_;
  unsigned v = 0;
  if (f.clock && f.clock(d, clock_sm, &v) == 0) s.sm_clock_mhz = v;
  if (f.clock && f.clock(d, clock_mem, &v) == 0) s.mem_clock_mhz = v;
  if (f.power && f.power(d, &v) == 0) s.power_w = v / 1000.0;
  if (f.power_limit && f.power_limit(d, &v) == 0) s.power_limit_w = v / 1000.0;
  if (f.temperature && f.temperature(d, temp_gpu, &v) == 0) s.temperature_c = v;
  unsigned long long reasons = 0;
  if (f.reasons && f.reasons(d, &reasons) == 0) s.throttle_reasons = reasons;
  return s;
}

std::string nvml::mig_mode(const std::string& pci_bus_id) const {
  device_t d = device(pci_bus_id);
  unsigned current = 0;
  unsigned pending = 0;
  if (!d || !api_->mig || api_->mig(d, &current, &pending) != 0) return "unreadable";
  return current != 0 ? "enabled" : "disabled";
}

std::optional<unsigned long long> nvml::energy_mj(const std::string& pci_bus_id) const {
  device_t d = device(pci_bus_id);
  unsigned long long mj = 0;
  if (!d || !api_->energy || api_->energy(d, &mj) != 0) return std::nullopt;
  return mj;
}

std::optional<unsigned long long> nvml::uncorrected_ecc(const std::string& pci_bus_id) const {
  device_t d = device(pci_bus_id);
  unsigned long long n = 0;
  if (!d || !api_->ecc || api_->ecc(d, ecc_uncorrected, ecc_volatile, &n) != 0) return std::nullopt;
  return n;
}

std::optional<unsigned> nvml::other_processes(const std::string& pci_bus_id) const {
  device_t d = device(pci_bus_id);
  if (!d || !api_->compute_procs) return std::nullopt;
  // NVML_ERROR_INSUFFICIENT_SIZE (7) sets the count to the number of processes.
  constexpr int insufficient_size = 7;
  process_info infos[64] = {};
  unsigned n = 64;
  const int rc = api_->compute_procs(d, &n, infos);
  if (rc != 0 && rc != insufficient_size) return std::nullopt;
  // This process holds a context on the device while it measures; inside a container NVML may
  // list it under the host's pid, so it is counted by number, not matched by pid.
  return n > 0 ? n - 1 : 0;
}

std::string nvml::driver_version() const {
  char buf[96] = {};
  if (!api_ || !api_->driver_version || api_->driver_version(buf, sizeof buf) != 0) return {};
  return buf;
}

std::string nvml::serial(const std::string& pci_bus_id) const {
  device_t d = device(pci_bus_id);
  char buf[64] = {};  // NVML_DEVICE_SERIAL_BUFFER_SIZE is 30
  if (!d || !api_->serial || api_->serial(d, buf, sizeof buf) != 0) return {};
  return buf;
}

std::string nvml::vbios(const std::string& pci_bus_id) const {
  device_t d = device(pci_bus_id);
  char buf[64] = {};  // NVML_DEVICE_VBIOS_VERSION_BUFFER_SIZE is 32
  if (!d || !api_->vbios || api_->vbios(d, buf, sizeof buf) != 0) return {};
  return buf;
}

std::optional<unsigned> nvml::slowdown_temperature_c(const std::string& pci_bus_id) const {
  device_t d = device(pci_bus_id);
  unsigned t = 0;
  if (!d || !api_->temperature_threshold ||
      api_->temperature_threshold(d, threshold_slowdown, &t) != 0 || t == 0)
    return std::nullopt;
  return t;
}

std::optional<std::pair<unsigned, unsigned>> nvml::pcie_link(const std::string& pci_bus_id,
                                                             bool maximum) const {
  device_t d = device(pci_bus_id);
  if (!d) return std::nullopt;
  auto gen = maximum ? api_->max_link_gen : api_->link_gen;
  auto width = maximum ? api_->max_link_width : api_->link_width;
  unsigned g = 0;
  unsigned w = 0;
  if (!gen || !width || gen(d, &g) != 0 || width(d, &w) != 0 || g == 0 || w == 0)
    return std::nullopt;
  return std::make_pair(g, w);
}

bool nvml::bind_thread_near(const std::string& pci_bus_id) const {
  device_t d = device(pci_bus_id);
  return d && api_->affinity && api_->affinity(d) == 0;
}

}  // namespace chipgauge::bench
