#pragma once

// The measurement backend interface (BabelStream's shape: one small interface, one class per
// backend, blocking calls). A backend discovers devices, lists what it can run on each and why
// it skips the rest, prepares a benchmark case, and states theoretical peaks where it can derive
// them. The runner (runner.hpp) owns timing policy, statistics and stopping.

#include "chipgauge/classifier/precision.hpp"
#include "chipgauge/core/error.hpp"

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace chipgauge::bench {

/// What a result counts: operations per second (compute; one multiply-add is 2 operations, the
/// TPP convention) or bytes per second (memory, interconnect).
enum class metric_kind : unsigned char { ops_per_s, bytes_per_s };
const char* to_string(metric_kind m) noexcept;

/// Quick: about a minute for a whole CPU run; full: tighter noise targets, longer caps.
enum class run_mode : unsigned char { quick, full };
const char* to_string(run_mode m) noexcept;

/// A device as discovered: identity plus free-form properties for the report.
///
/// Identity properties (what `chipgauge certify` matches a sheet by and records; each present only
/// where readable): CPU: "family", "model", "stepping", "microcode", "physical_cores", "sockets"
/// (CPUID and /proc/cpuinfo; `vendor` is the CPUID vendor string). CUDA: "pci_id" and
/// "pci_subsystem_id" ("10de:2335", lspci -n's form, from sysfs), "uuid", "serial", "vbios",
/// "driver_version", "cuda_runtime", "sm_count", "memory_bytes", "power_limit_w", "ecc", "mig",
/// "pcie_link_gen", "pcie_link_width", "pcie_link_max_gen", "pcie_link_max_width",
/// "ecc_uncorrected", "temperature_slowdown_c" (NVML).
struct device_info {
  std::string backend;  ///< "cpu", "cuda"
  std::string id;       ///< "cpu0", "cuda:0"
  std::string name;
  std::string vendor;
  int units = 0;  ///< cores or SMs used
  std::vector<std::string> features;
  std::vector<std::pair<std::string, std::string>> properties;
};

struct benchmark_info {
  std::string name;   ///< "fma_fp64", "stream_triad", "read_l2_1mib"
  std::string group;  ///< "compute", "memory", "sweep"
  std::optional<classifier::precision> prec;
  metric_kind metric = metric_kind::ops_per_s;
  std::string isa;  ///< instruction path used ("avx512", "wgmma")
  std::string description;
  double footprint_bytes = 0;  ///< memory benchmarks: total bytes of the working set
};

/// One timed execution: `work` operations or bytes in `seconds`, with the telemetry read around
/// it (NaN where unreadable).
struct sample {
  double seconds = 0;
  double work = 0;
  double clock_mhz = std::numeric_limits<double>::quiet_NaN();
  double temperature_c = std::numeric_limits<double>::quiet_NaN();
  double power_w = std::numeric_limits<double>::quiet_NaN();           ///< board power (NVML)
  double memory_clock_mhz = std::numeric_limits<double>::quiet_NaN();  ///< (NVML)
  /// Mean of the NVML SM clock readings taken while the sample's work ran (NaN when none was);
  /// when every sample has it, the runner uses it for the theoretical peak instead of clock_mhz.
  double sm_clock_nvml_mhz = std::numeric_limits<double>::quiet_NaN();
  double power_limit_w = std::numeric_limits<double>::quiet_NaN();  ///< enforced power limit (NVML)
  /// Clock event (throttle) reasons bit mask as NVML reports it (nvmlClocksEventReason*); absent
  /// where unreadable. Bits other than idle (0x1), application clocks (0x2) and display clock
  /// (0x100) mean throttling.
  std::optional<std::uint64_t> throttle_reasons;
  /// Compute processes other than this one on the device when the sample ended (NVML); absent
  /// where unreadable. Any makes the result suspect.
  std::optional<unsigned> other_device_processes;

  [[nodiscard]] double rate() const { return seconds > 0 ? work / seconds : 0; }
};

/// The check of a run's output against its reference: |error| <= tolerance (relative, or exact
/// for integer and exactly representable results, tolerance 0).
struct verification {
  bool passed = false;
  double max_error = 0;
  double tolerance = 0;
  std::string detail;
};

/// A prepared benchmark on one device: buffers allocated and initialised, ready to run.
class benchmark_case {
 public:
  virtual ~benchmark_case() = default;
  [[nodiscard]] virtual const benchmark_info& info() const = 0;
  /// Runs `reps` repetitions of the kernel, blocking until done, and returns the timed sample.
  virtual sample run(std::uint64_t reps) = 0;
  /// Checks the output of the most recent run against the reference.
  virtual verification verify() = 0;
  /// Theoretical rate (ops/s or bytes/s) at `clock_mhz`, and what it rests on; nullopt when the
  /// backend cannot derive it.
  [[nodiscard]] virtual std::optional<std::pair<double, std::string>> theoretical(
      double clock_mhz) const = 0;
  /// The device's maximum clock in MHz (the datasheet boost), for the theoretical peak at it.
  [[nodiscard]] virtual std::optional<double> max_clock_mhz() const { return std::nullopt; }
  /// A rate no correct run can exceed at `clock_mhz` (ops/s or bytes/s), and what it rests on:
  /// the theoretical peak by default; a case with no tabled peak may give a looser physical bound
  /// (an issue-width ceiling). The runner uses it only where the peak at the maximum clock is
  /// unknown, and declares a result above it (beyond a stated tolerance) invalid.
  [[nodiscard]] virtual std::optional<std::pair<double, std::string>> ceiling(
      double clock_mhz) const {
    return theoretical(clock_mhz);
  }
  /// The most repetitions one run may take (for example where exact verification has a bound).
  [[nodiscard]] virtual std::uint64_t max_reps() const {
    return std::numeric_limits<std::uint64_t>::max();
  }
};

/// Thrown by prepare() when the device or its libraries cannot run the benchmark at all (cuBLASLt
/// has no algorithm for the shape): the result is recorded as `skipped` with the message.
class benchmark_unsupported : public error {
 public:
  using error::error;
};

/// Thrown by a case whose work did not finish within its deadline. The case must then not be
/// destroyed (freeing its buffers would wait on the hung work), nothing more may run on the
/// device, and the process must end without the device runtime's teardown once the report is
/// written (measure_report::hung_device).
class device_hung : public error {
 public:
  using error::error;
};

/// A benchmark a device does not run, and why.
struct skipped_benchmark {
  benchmark_info info;
  std::string reason;
};

class backend {
 public:
  virtual ~backend() = default;
  [[nodiscard]] virtual std::string name() const = 0;
  /// Devices this backend can measure; empty when none (with no error: the caller reports it).
  virtual std::vector<device_info> devices() = 0;
  /// The benchmarks for `device` in `mode`, and the ones it skips with reasons.
  virtual std::pair<std::vector<benchmark_info>, std::vector<skipped_benchmark>> benchmarks(
      const device_info& device, run_mode mode) = 0;
  /// Prepares one benchmark. Throws chipgauge::error when it cannot (the runner records it).
  virtual std::unique_ptr<benchmark_case> prepare(const device_info& device,
                                                  const benchmark_info& bench, run_mode mode) = 0;
  /// Asked after a case failed: why the device can run nothing more in this process (a sticky
  /// CUDA error such as an illegal address, which poisons the context), or nullopt.
  virtual std::optional<std::string> device_lost(const device_info& /*device*/) {
    return std::nullopt;
  }
  /// Device state read once its benchmarks have run (the PCIe link under load, which idle GPUs
  /// train down; the uncorrectable ECC counter): appended to the device's properties, each key
  /// suffixed "_after". Never called after a hang.
  virtual std::vector<std::pair<std::string, std::string>> state_after(
      const device_info& /*device*/) {
    return {};
  }
};

/// Names of the backends built into this binary ("cpu"; also "cuda" when built with CUDA).
/// measure() creates them by name.
std::vector<std::string> backend_names();

}  // namespace chipgauge::bench
