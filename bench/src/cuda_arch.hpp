#pragma once

// specs/arch/cuda.json read for one device: the per-SM rates of its compute capability, minus what
// a product exception removes, the PCIe signalling table, and the DRAM bandwidth of the device's
// spec sheet (specs/chips) when a `datasheets` entry maps its name to one. Plain C++ (no CUDA), so
// that it is tested on machines without a GPU. Internal to bench/.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace chipgauge::bench {

/// The DRAM bandwidth a product's spec sheet quotes (memory.bandwidth_gb_s), bytes/s; lo == hi
/// unless the sheet quotes a range.
struct dram_datasheet {
  double lo = 0;
  double hi = 0;
  std::string sheet;  ///< "specs/chips/<id>.json"
};

struct cuda_arch {
  /// Benchmark key ("fma_fp32", "tensor_bf16", "smem_read") -> ops or bytes per clock per SM.
  std::map<std::string, double> per_sm;
  /// Which table applied, which keys an exception removed and why (the device's `peaks` property).
  std::vector<std::string> notes;
  /// PCIe generation -> {GT/s per lane, line-code efficiency}.
  std::map<unsigned, std::pair<double, double>> pcie;
  /// The sheet's DRAM figure, when a `datasheets` entry matches the device name and its sheet
  /// quotes one.
  std::optional<dram_datasheet> dram;

  [[nodiscard]] std::optional<double> rate(const std::string& key) const {
    const auto it = per_sm.find(key);
    return it == per_sm.end() ? std::nullopt : std::optional<double>(it->second);
  }
  /// Peak bytes/s per direction of a PCIe link; nullopt for a generation not in the table.
  [[nodiscard]] std::optional<double> pcie_bytes_per_s(unsigned generation, unsigned lanes) const {
    const auto it = pcie.find(generation);
    if (it == pcie.end()) return std::nullopt;
    return it->second.first * 1e9 * lanes * it->second.second / 8;
  }
};

/// Reads `specs_dir`/arch/cuda.json for a device of compute capability major.minor named
/// `device_name` (as CUDA reports it: "NVIDIA H800"). A missing file gives an empty table with a
/// note; a malformed one throws spec_error naming the file and the JSON path (a `datasheets` entry
/// naming a sheet that is not there included).
cuda_arch load_cuda_arch(const std::string& specs_dir, int major, int minor,
                         const std::string& device_name);

}  // namespace chipgauge::bench
