#pragma once

// The timed-case protocol every CUDA case follows (nvbench's): a blocking kernel holds the stream
// while the repetitions are queued between two events, then is released; the host polls the stop
// event under the work deadline, reading NVML meanwhile; a clock probe follows each sample. A case
// supplies enqueue() (its repetitions, returning the work done) and verify(). Internal to bench/.

#include "../nvml.hpp"
#include "chipgauge/bench/backend.hpp"
#include "gpu.hpp"
#include "support.hpp"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace chipgauge::bench::cuda {

/// How long one sample's queued work may take before the device counts as hung: 60 s, or
/// CHIPGAUGE_CUDA_DEADLINE_S (seconds in (0, 86400]; otherwise usage_error). Read once, by the
/// backend's constructor, and handed to every case in its case_context.
std::chrono::duration<double> read_work_deadline();

/// What a case is built from besides its own parameters: its GPU, every GPU of the process (the
/// peer of a p2p case), NVML and the work deadline.
struct case_context {
  const gpu& g;
  const std::vector<gpu>& all;
  const nvml& n;
  std::chrono::duration<double> deadline;
};

/// Makes `device` current; as the first base of a case it runs before any member (stream, events,
/// buffers) is created, so they all belong to the case's GPU.
struct device_selector {
  explicit device_selector(int device) { CHIPGAUGE_CUDA(cudaSetDevice(device)); }
};

/// Telemetry gathered while one sample's work runs (NVML polled every few milliseconds).
struct telemetry {
  int readings = 0;
  int clock_readings = 0;
  double sm_clock_sum = 0;
  double max_power = std::nan("");
  double max_temperature = std::nan("");
  double mem_clock = std::nan("");
  double power_limit = std::nan("");
  std::optional<std::uint64_t> reasons;

  void add(const nvml_sample& t);
};

/// What every case shares: the device, a stream, events, the blocking flag and the clock probe.
class cuda_case : private device_selector, public benchmark_case {
 public:
  /// `per_sm`: the clock-scaled peak (ops or bytes per clock per SM, from specs/arch/cuda.json);
  /// `fixed`: a peak independent of the SM clock (DRAM, PCIe). At most one is set.
  cuda_case(const case_context& c, benchmark_info info, std::optional<double> per_sm,
            std::optional<fixed_peak> fixed = std::nullopt);
  [[nodiscard]] const benchmark_info& info() const override { return info_; }

  sample run(std::uint64_t reps) override;

  /// nvbench schedules about 32 launches behind its blocking kernel; more can fill the launch
  /// queue, block the host and outlast the blocker. Each case sizes one launch so that 32 of them
  /// make a sample.
  [[nodiscard]] std::uint64_t max_reps() const override { return 32; }

  [[nodiscard]] std::optional<double> max_clock_mhz() const override;
  [[nodiscard]] std::optional<std::pair<double, std::string>> theoretical(
      double clock_mhz) const override;

 protected:
  /// Queues `reps` repetitions on stream() and returns the operations or bytes they do.
  virtual double enqueue(std::uint64_t reps) = 0;

  /// Waits for `e` by polling, reading NVML every 5 ms into `t` meanwhile (the GPU is busy then,
  /// so the clocks, power and throttle reasons are the work's). Throws device_hung past the
  /// deadline.
  void wait(cudaEvent_t e, telemetry* t) const;

  /// Blocks for `per_sm` blocks of `threads` per SM, capped at what one SM holds (1,536 threads on
  /// compute capability 8.6/8.9, 2,048 on 8.0/9.0), so a launch is one wave, never a partial
  /// second.
  [[nodiscard]] int blocks(int per_sm, int threads = 256) const {
    return g_.prop.multiProcessorCount * g_.fit(per_sm, threads);
  }

  [[nodiscard]] cudaStream_t stream() const { return stream_.get(); }

  const gpu& g_;
  benchmark_info info_;
  const nvml& nvml_;
  event_owner start_;
  event_owner stop_;

 private:
  /// SM clock from one thread spinning 2 M cycles: clock64() cycles over %globaltimer ns.
  double probe_clock_mhz();

  static constexpr std::uint64_t blocking_timeout_ns = 2'000'000'000ULL;
  static constexpr double min_energy_window_s = 0.25;

  std::optional<double> per_sm_;
  std::optional<fixed_peak> fixed_;
  std::chrono::duration<double> deadline_;
  bool loaded_ = false;
  stream_owner stream_;
  event_owner probe_done_;
  pinned_buffer flag_;
  pinned_buffer timed_out_;
  volatile int* flag_dev_ = nullptr;
  int* timed_out_dev_ = nullptr;
  device_buffer probe_;
};

}  // namespace chipgauge::bench::cuda
