#pragma once

#include "chipgauge/bench/backend.hpp"
#include "chipgauge/bench/statistics.hpp"

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::bench {

/// Timing and stopping policy (docs/measurement.md#the-runner).
struct run_settings {
  double sample_target_s = 0.02;   ///< reps are calibrated so one sample takes at least this
  double warmup_max_s = 0.3;       ///< untimed warm-up stops when stable or after this
  double warmup_tolerance = 0.02;  ///< two consecutive warm-up rates within this count as stable
  int min_samples = 5;
  int max_samples = 200;
  double min_time_s = 0.2;  ///< of timed samples
  double max_time_s = 2.0;  ///< wall-time cap of timed samples
  double target_cv =
      0.01;               ///< stop once the robust relative noise (summary::noise) is at most this
  int stable_window = 5;  ///< noise estimate stable over this many samples ...
  double stable_change = 0.1;       ///< ... within this relative change: stop even above target
  double throttle_fraction = 0.95;  ///< a sample below this x the median clock is throttled
  double drift_limit = 0.05;        ///< (max - min) / median clock above this is drift
  /// A median rate above the ceiling (runner.hpp, measurement::ceiling) by more than this fraction
  /// is impossible: a timing or counting error, never a result (docs/measurement.md).
  double ceiling_tolerance = 0.03;
  /// Other processes' share of the machine's CPU time during the timed samples above this makes
  /// the result suspect (host contention, from /proc/stat and this process's own CPU time).
  double contention_limit = 0.10;
  /// Time stolen by the hypervisor above this share of the machine's CPU time makes it suspect.
  double steal_limit = 0.05;
  /// A cache-level read (group "sweep") slower than this fraction of the same device's
  /// largest-footprint read inverts the memory hierarchy: both results are suspect.
  double hierarchy_tolerance = 0.85;

  static run_settings quick();
  static run_settings full();
  static run_settings for_mode(run_mode m) { return m == run_mode::quick ? quick() : full(); }
};

enum class result_status : unsigned char { ok, skipped, invalid };
const char* to_string(result_status s) noexcept;

/// Why sampling stopped.
enum class stop_reason : unsigned char { none, noise_target, noise_stable, time_cap, max_samples };
const char* to_string(stop_reason s) noexcept;

/// The outcome of one benchmark on one device. `status` is `ok` only when the output verified;
/// `invalid` results keep their samples for diagnosis but never reach a classification.
struct measurement {
  benchmark_info info;
  std::string device_id;
  result_status status = result_status::skipped;
  std::string reason;  ///< for skipped and invalid
  bool verified = false;
  verification check;
  std::vector<sample> samples;
  summary rate;   ///< over samples' rates (ops/s or bytes/s)
  summary clock;  ///< over samples' clocks in MHz (count 0 when unreadable)
  stop_reason stopped = stop_reason::none;
  std::uint64_t reps_per_sample = 0;
  double warmup_s = 0;
  int throttled_samples = 0;
  bool clock_drift = false;
  std::optional<double> theoretical;  ///< at the median measured clock
  std::string theoretical_basis;
  std::optional<double> fraction_of_theoretical;
  std::optional<double> theoretical_at_max_clock;  ///< at the device's maximum (boost) clock
  int throttle_reason_samples = 0;                 ///< samples whose reasons include a throttle bit
  /// The rate no correct run can exceed: the theoretical peak at the maximum clock, or the case's
  /// ceiling at the highest clock seen (benchmark_case::ceiling). A median above it by more than
  /// run_settings::ceiling_tolerance makes the result invalid.
  std::optional<double> ceiling;
  std::string ceiling_basis;
  /// Share (0..1) of the machine's CPU time that other processes used, and that the hypervisor
  /// stole, during the timed samples; NaN where unreadable (no /proc/stat).
  double host_contention = std::numeric_limits<double>::quiet_NaN();
  double host_steal = std::numeric_limits<double>::quiet_NaN();
  /// A verified result whose conditions make its rate untrustworthy (contention, an inverted
  /// memory hierarchy): kept in the report, excluded from TPP and certification verdicts.
  bool suspect = false;
  std::vector<std::string> suspect_reasons;
};

/// Marks sweep results of each device that read slower than `settings.hierarchy_tolerance` x the
/// device's largest-footprint sweep result (an L1 read slower than DRAM): both suspect, with why.
void flag_inverted_hierarchy(std::vector<measurement>& results, const run_settings& settings);

/// The one ceiling check, shared by the runner (as it measures) and the report loader (on every
/// load): nullopt when `median` (ops/s or bytes/s) is within `ceiling` x (1 + `tolerance`), else
/// the reason the rate is impossible, naming both figures and `basis` (empty: not named).
std::optional<std::string> exceeds_ceiling(double median, double ceiling, std::string_view basis,
                                           double tolerance);

/// Progress callback: (benchmark name, fraction of its time budget used) — for terminals only.
using progress_fn = std::function<void(const std::string&, double)>;

/// Runs one prepared case to completion: calibration, untimed warm-up, adaptive sampling,
/// verification, summaries and telemetry flags. Exceptions from the case become `invalid`.
measurement run_case(benchmark_case& bc, const std::string& device_id, const run_settings& settings,
                     const progress_fn& progress = {});

/// The stopping rule alone, for a sequence of rates so far and elapsed timed seconds: what
/// run_case applies after every sample (exposed for tests).
stop_reason should_stop(const std::vector<double>& rates, double elapsed_s,
                        const run_settings& settings);

}  // namespace chipgauge::bench
