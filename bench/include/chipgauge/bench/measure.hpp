#pragma once

#include "chipgauge/bench/report.hpp"
#include "chipgauge/classifier/metrics.hpp"

#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace chipgauge::bench {

struct measure_options {
  std::string backend = "auto";  ///< "cpu", "cuda" or "auto" (CUDA when a GPU is present)
  run_mode mode = run_mode::quick;
  std::string filter;  ///< ECMAScript regex searched in benchmark names; empty: all
  /// Devices to measure, each a device id ("cuda:1", "cpu0") or an index into the backend's device
  /// list ("1"); empty: every device. An entry naming no device is a usage_error before any run.
  std::vector<std::string> devices;
  std::vector<std::string> argv;                ///< recorded in the report
  std::string specs_dir;                        ///< for architecture data
  progress_fn progress;                         ///< per-sample progress (terminals only)
  std::function<void(const std::string&)> log;  ///< one line per benchmark started/finished
  /// Facts the user should see whatever the terminal (auto chose the CPU because CUDA is unusable).
  std::function<void(const std::string&)> notice;
};

/// Runs every matching benchmark of the chosen backend on each of its devices and returns the
/// report (skipped benchmarks included with reasons). Throws usage_error for an unknown backend,
/// a malformed filter, a filter matching nothing or a --device naming no device; error when the
/// backend has no device.
measurement_report measure(const measure_options& options);
/// As measure(), on a backend given by the caller (`options.backend` is ignored): the device and
/// fault handling (filter across devices, --device selection, unsupported and lost devices, a
/// hung device) is tested with fake backends through this.
measurement_report measure_with(backend& be, const measure_options& options);

/// What a finished measurement amounts to (the exit status of `measure`): `unverified` when any
/// result failed verification, else `nothing_measured` when no result is ok (every selected
/// benchmark was skipped), else `ok`.
enum class measurement_outcome : unsigned char { ok, unverified, nothing_measured };
measurement_outcome outcome_of(const measurement_report& report) noexcept;

/// Dense throughput a verified measurement demonstrates, as TPP (a lower bound of the theoretical
/// TPP): the best over precisions of rate x bit length, from results that are `ok` and verified.
struct measured_tpp {
  std::string device_id;
  std::string device_name;
  std::string device_vendor;  ///< as the backend reports it ("AuthenticAMD", "NVIDIA")
  double tpp = 0;
  std::optional<classifier::precision> best;
  classifier::per_precision<double> tops;  ///< best verified rate per precision, 10^12 ops/s
  std::vector<std::string> used;           ///< "fma_fp64: 0.25 TOPS x 64 bits = 16.3"
  std::vector<std::string> refused;        ///< results not used, with why (invalid, unverified)
  std::optional<double> memory_gb_s;       ///< best verified STREAM rate, GB/s
  /// The TPP the same benchmarks' theoretical peaks give (rate x bit length, best precision), at
  /// the measured clock and at the maximum clock where the backend knows it: what the hardware
  /// should reach, beside what it did. nullopt when no verified result has a peak.
  std::optional<double> theoretical_tpp;
  std::optional<double> theoretical_tpp_max_clock;
};

/// One line per device of `report`: measured TPP (best verified rate x bit length) beside the TPP
/// of the theoretical peaks, for the text output of `measure`. Devices with no usable compute
/// result say so.
std::string tpp_summary(const measurement_report& report,
                        const classifier::metric_definitions& defs);

/// Why a stored result's rate cannot be believed, or nullopt: its summary disagrees with its own
/// samples (an edited report), it exceeds its ceiling beyond run_settings::ceiling_tolerance, or
/// it is a compute rate with no peak or ceiling to check it against.
std::optional<std::string> implausible(const measurement& m, const run_settings& settings);

/// Uses only results that are ok, verified, plausible (implausible() re-checks each, so an edited
/// report cannot smuggle a rate in) and not suspect; the rest are listed in `refused` with why.
/// Throws spec_error (naming the report) when `device_id` is absent or no compute result is usable.
measured_tpp measured_from(const measurement_report& report, const std::string& report_file,
                           const std::string& device_id,
                           const classifier::metric_definitions& defs);

}  // namespace chipgauge::bench
