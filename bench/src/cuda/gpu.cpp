#include "gpu.hpp"

#include "support.hpp"

#include <fmt/format.h>

#include <cctype>
#include <fstream>

namespace chipgauge::bench::cuda {

std::string gpu::id() const { return fmt::format("cuda:{}", index); }

std::vector<gpu> discover_gpus(const std::string& specs_dir, const nvml& n) {
  std::vector<gpu> out;
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) count = 0;
  for (int i = 0; i < count; ++i) {
    gpu g;
    g.index = i;
    CHIPGAUGE_CUDA(cudaGetDeviceProperties(&g.prop, i));
    char pci[32] = {};
    CHIPGAUGE_CUDA(cudaDeviceGetPCIBusId(pci, sizeof pci, i));
    g.pci = pci;
    release(cudaDeviceGetAttribute(&g.clock_khz, cudaDevAttrClockRate, i));
    release(cudaDeviceGetAttribute(&g.mem_clock_khz, cudaDevAttrMemoryClockRate, i));
    release(cudaDeviceGetAttribute(&g.bus_width, cudaDevAttrGlobalMemoryBusWidth, i));
    release(cudaDeviceGetAttribute(&g.smem_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, i));
    release(cudaDeviceGetAttribute(&g.coherent_host_link, cudaDevAttrHostNativeAtomicSupported, i));
    g.ecc_baseline = n.uncorrected_ecc(g.pci);
    g.arch = load_cuda_arch(specs_dir, g.prop.major, g.prop.minor, g.prop.name);
    auto& f = g.facts;
    f.index = i;
    f.name = g.prop.name;
    f.major = g.prop.major;
    f.minor = g.prop.minor;
    f.sm_count = g.prop.multiProcessorCount;
    f.max_threads_per_sm = g.prop.maxThreadsPerMultiProcessor;
    f.l2_bytes = g.prop.l2CacheSize;
    f.memory_bytes = static_cast<double>(g.prop.totalGlobalMem);
    f.smem_per_sm = g.prop.sharedMemPerMultiprocessor;
    f.smem_reserved_per_block = g.prop.reservedSharedMemPerBlock;
    f.smem_optin = g.smem_optin;
    f.mem_clock_khz = g.mem_clock_khz;
    f.bus_width = g.bus_width;
    out.push_back(std::move(g));
  }
  return out;
}

device_info describe(const gpu& g, const nvml& n) {
  int driver = 0;
  int runtime = 0;
  release(cudaDriverGetVersion(&driver));
  release(cudaRuntimeGetVersion(&runtime));
  const auto version = [](int v) { return fmt::format("{}.{}", v / 1000, (v % 1000) / 10); };
  const auto kernel_driver = n.driver_version();
  device_info d;
  d.backend = "cuda";
  d.id = g.id();
  d.name = g.prop.name;
  d.vendor = "NVIDIA";
  d.units = g.prop.multiProcessorCount;
  std::string uuid = "GPU-";
  for (int b = 0; b < 16; ++b) {
    uuid += fmt::format("{:02x}", static_cast<unsigned char>(g.prop.uuid.bytes[b]));
    if (b == 3 || b == 5 || b == 7 || b == 9) uuid += '-';
  }
  const auto link = n.pcie_link(g.pci, false);
  const auto max_link = n.pcie_link(g.pci, true);
  std::string peaks;
  for (const auto& note : g.arch.notes) peaks += (peaks.empty() ? "" : "; ") + note;
  d.properties = {
      {"uuid", uuid},
      {"pci_bus_id", g.pci},
      {"compute_capability", fmt::format("{}.{}", g.prop.major, g.prop.minor)},
      {"sm_count", std::to_string(g.prop.multiProcessorCount)},
      {"max_sm_clock_mhz", std::to_string(g.clock_khz / 1000)},
      {"memory_clock_mhz", std::to_string(g.mem_clock_khz / 1000)},
      {"memory_bus_bits", std::to_string(g.bus_width)},
      {"memory_bytes", std::to_string(g.prop.totalGlobalMem)},
      {"l2_bytes", std::to_string(g.prop.l2CacheSize)},
      {"shared_memory_per_sm_bytes", std::to_string(g.prop.sharedMemPerMultiprocessor)},
      {"ecc", g.prop.ECCEnabled ? "enabled" : "disabled"},
      {"mig", n.mig_mode(g.pci)},
      {"pcie_link",
       link ? fmt::format("gen {} x{} now, gen {} x{} at most", link->first, link->second,
                          max_link ? max_link->first : 0U, max_link ? max_link->second : 0U)
            : "unreadable"},
      {"host_link", g.coherent_host_link ? "coherent (NVLink-C2C)" : "PCIe"},
      {"driver_version", kernel_driver.empty() ? "unreadable (no NVML)" : kernel_driver},
      {"cuda_driver_api", version(driver)},
      {"cuda_runtime", version(runtime)},
      {"peaks", peaks},
      {"nvml", n.available() ? "loaded" : n.why()}};
  // Identity and conditions chipgauge certify matches and checks, each only where readable.
  auto add = [&d](const char* key, std::string value) {
    if (!value.empty()) d.properties.emplace_back(key, std::move(value));
  };
  const auto ids = pci_ids(g.pci);
  add("pci_id", ids.first);
  add("pci_subsystem_id", ids.second);
  add("serial", n.serial(g.pci));
  add("vbios", n.vbios(g.pci));
  const auto s = n.sample(g.pci);
  if (s.power_limit_w) add("power_limit_w", fmt::format("{:.0f}", *s.power_limit_w));
  if (link) {
    add("pcie_link_gen", std::to_string(link->first));
    add("pcie_link_width", std::to_string(link->second));
  }
  if (max_link) {
    add("pcie_link_max_gen", std::to_string(max_link->first));
    add("pcie_link_max_width", std::to_string(max_link->second));
  }
  if (g.ecc_baseline) add("ecc_uncorrected", std::to_string(*g.ecc_baseline));
  if (const auto t = n.slowdown_temperature_c(g.pci))
    add("temperature_slowdown_c", std::to_string(*t));
  return d;
}

std::vector<std::pair<std::string, std::string>> state_after(const gpu& g, const nvml& n) {
  std::vector<std::pair<std::string, std::string>> out;
  if (const auto link = n.pcie_link(g.pci, false)) {
    out.emplace_back("pcie_link_gen", std::to_string(link->first));
    out.emplace_back("pcie_link_width", std::to_string(link->second));
  }
  if (const auto ecc = n.uncorrected_ecc(g.pci))
    out.emplace_back("ecc_uncorrected", std::to_string(*ecc));
  return out;
}

std::pair<std::string, std::string> pci_ids(const std::string& pci_bus_id) {
  // sysfs names functions in lower case with a 4-digit domain; CUDA gives "0000:3B:00.0".
  std::string bus;
  for (char c : pci_bus_id) bus += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string dir = "/sys/bus/pci/devices/" + bus + "/";
  auto read = [&dir](const char* file) {
    std::ifstream in(dir + file);
    std::string v;
    if (in) in >> v;
    if (v.size() == 6 && v.compare(0, 2, "0x") == 0) return v.substr(2);  // "0x10de" -> "10de"
    return std::string();
  };
  const auto vendor = read("vendor");
  const auto device = read("device");
  const auto sub_vendor = read("subsystem_vendor");
  const auto sub_device = read("subsystem_device");
  return {vendor.empty() || device.empty() ? std::string() : vendor + ":" + device,
          sub_vendor.empty() || sub_device.empty() ? std::string() : sub_vendor + ":" + sub_device};
}

std::vector<cuda_peer> peers_of(const gpu& g, const std::vector<gpu>& all) {
  std::vector<cuda_peer> peers;
  for (const auto& other : all) {
    if (other.index == g.index) continue;
    int can = 0;
    release(cudaDeviceCanAccessPeer(&can, g.index, other.index));
    peers.push_back({other.index, can != 0});
  }
  return peers;
}

std::optional<fixed_peak> pcie_peak(const gpu& g, const nvml& n) {
  const auto& arch = g.arch;
  if (g.coherent_host_link)
    return std::nullopt;  // NVLink-C2C (GH200): the copies do not cross PCIe
  const auto link = n.pcie_link(g.pci, true);
  if (!link) return std::nullopt;
  const auto rate = arch.pcie_bytes_per_s(link->first, link->second);
  if (!rate) return std::nullopt;
  const auto& [gt, efficiency] = arch.pcie.at(link->first);
  return fixed_peak{
      *rate,
      fmt::format("PCIe gen {} x{} (the link's maximum): {} GT/s x {} lanes x {:.4g} encoding / 8 "
                  "(specs/arch/cuda.json, NVML)",
                  link->first, link->second, gt, link->second, efficiency)};
}

}  // namespace chipgauge::bench::cuda
