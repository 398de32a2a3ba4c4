#include "timed_case.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/kernels/cuda.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace chipgauge::bench::cuda {

std::chrono::duration<double> read_work_deadline() {
  if (const char* v = std::getenv("CHIPGAUGE_CUDA_DEADLINE_S"); v && *v) {
    char* end = nullptr;
    const double s = std::strtod(v, &end);
    if (end && *end == '\0' && s > 0 && s <= 86400) return std::chrono::duration<double>(s);
    throw usage_error(
        fmt::format("CHIPGAUGE_CUDA_DEADLINE_S='{}': expected seconds in (0, 86400]", v));
  }
  return std::chrono::duration<double>(60.0);
}

void telemetry::add(const nvml_sample& t) {
  ++readings;
  auto high = [](double& into, double v) { into = std::isnan(into) ? v : std::max(into, v); };
  if (t.sm_clock_mhz) {
    sm_clock_sum += *t.sm_clock_mhz;
    ++clock_readings;
  }
  if (t.power_w) high(max_power, *t.power_w);
  if (t.temperature_c) high(max_temperature, *t.temperature_c);
  if (t.mem_clock_mhz) mem_clock = *t.mem_clock_mhz;
  if (t.power_limit_w) power_limit = *t.power_limit_w;
  if (t.throttle_reasons) reasons = reasons.value_or(0) | *t.throttle_reasons;
}

cuda_case::cuda_case(const case_context& c, benchmark_info info, std::optional<double> per_sm,
                     std::optional<fixed_peak> fixed)
    : device_selector(c.g.index),
      g_(c.g),
      info_(std::move(info)),
      nvml_(c.n),
      start_(make_event()),
      stop_(make_event()),
      per_sm_(per_sm),
      fixed_(std::move(fixed)),
      deadline_(c.deadline),
      stream_(make_stream()),
      probe_done_(make_event()),
      flag_(sizeof(int), cudaHostAllocMapped),
      timed_out_(sizeof(int), cudaHostAllocMapped),
      probe_(2 * sizeof(std::uint64_t)) {
  void* dev = nullptr;
  CHIPGAUGE_CUDA(cudaHostGetDevicePointer(&dev, flag_.ptr, 0));
  flag_dev_ = static_cast<volatile int*>(dev);
  CHIPGAUGE_CUDA(cudaHostGetDevicePointer(&dev, timed_out_.ptr, 0));
  timed_out_dev_ = static_cast<int*>(dev);
}

sample cuda_case::run(std::uint64_t reps) {
  CHIPGAUGE_CUDA(cudaSetDevice(g_.index));
  // CUDA loads kernels lazily, and loading may synchronise the context, which would deadlock
  // against the blocking kernel: one untimed, unblocked repetition loads everything first.
  if (!loaded_) {
    (void)enqueue(1);
    CHIPGAUGE_CUDA(cudaEventRecord(stop_.get(), stream()));
    wait(stop_.get(), nullptr);
    loaded_ = true;
  }
  const auto ecc_before = nvml_.uncorrected_ecc(g_.pci);
  *static_cast<volatile int*>(flag_.ptr) = 0;
  *static_cast<volatile int*>(timed_out_.ptr) = 0;
  // Releases the blocking kernel on every path out of here, exceptions included.
  struct release_flag {
    volatile int* flag;
    ~release_flag() { *flag = 1; }
  } guard{static_cast<volatile int*>(flag_.ptr)};
  kc::launch_blocking(flag_dev_, blocking_timeout_ns, timed_out_dev_,
                      stream());  // holds the stream while we queue
  CHIPGAUGE_CUDA(cudaEventRecord(start_.get(), stream()));
  const double work = enqueue(reps);
  CHIPGAUGE_CUDA(cudaEventRecord(stop_.get(), stream()));
  const auto energy_before = nvml_.energy_mj(g_.pci);
  const auto released = std::chrono::steady_clock::now();
  *static_cast<volatile int*>(flag_.ptr) = 1;
  telemetry during;
  wait(stop_.get(), &during);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - released).count();
  const auto energy_after = nvml_.energy_mj(g_.pci);
  // If queueing outlasted the blocking kernel, the launches were timed as the host issued them.
  if (*static_cast<volatile int*>(timed_out_.ptr) != 0)
    throw error(fmt::format(
        "queueing {} launches outlasted the blocking kernel ({} s): the sample would time the host",
        reps, blocking_timeout_ns / 1e9));
  float ms = 0;
  CHIPGAUGE_CUDA(cudaEventElapsedTime(&ms, start_.get(), stop_.get()));
  sample s;
  s.seconds = ms / 1e3;
  s.work = work;
  s.clock_mhz = probe_clock_mhz();
  const bool idle_reading = during.readings == 0;
  if (idle_reading) during.add(nvml_.sample(g_.pci));  // work shorter than one poll: after it
  s.temperature_c = during.max_temperature;
  s.memory_clock_mhz = during.mem_clock;
  // Only readings taken while the work ran: the clock the theoretical peak should use.
  if (during.clock_readings > 0 && !idle_reading)
    s.sm_clock_nvml_mhz = during.sm_clock_sum / during.clock_readings;
  s.power_limit_w = during.power_limit;
  s.throttle_reasons = during.reasons;
  s.other_device_processes = nvml_.other_processes(g_.pci);
  // Board power: the energy counter over the sample when the sample is long enough to average
  // its steps (it advances every 10 ms or more), else the highest power reading taken during the
  // work (NVML's reading is itself an average over up to a second on recent GPUs).
  s.power_w =
      energy_before && energy_after && *energy_after > *energy_before && wall >= min_energy_window_s
          ? static_cast<double>(*energy_after - *energy_before) / 1e3 / wall
          : during.max_power;
  const auto ecc_after = nvml_.uncorrected_ecc(g_.pci);
  if (ecc_before && ecc_after && *ecc_after > *ecc_before)
    throw error(fmt::format(
        "uncorrectable ECC errors rose by {} during the sample (NVML volatile count {} ->"
        " {}): no later benchmark runs on this device",
        *ecc_after - *ecc_before, *ecc_before, *ecc_after));
  return s;
}

std::optional<double> cuda_case::max_clock_mhz() const {
  return g_.clock_khz > 0 ? std::optional<double>(g_.clock_khz / 1000.0) : std::nullopt;
}

std::optional<std::pair<double, std::string>> cuda_case::theoretical(double clock_mhz) const {
  if (fixed_) return std::make_pair(fixed_->rate, fixed_->basis);
  if (!per_sm_ || std::isnan(clock_mhz)) return std::nullopt;
  const char* unit = info_.metric == metric_kind::bytes_per_s ? "bytes" : "ops";
  return std::make_pair(*per_sm_ * g_.prop.multiProcessorCount * clock_mhz * 1e6,
                        fmt::format("{} {}/clock/SM x {} SMs x {:.0f} MHz (specs/arch/cuda.json)",
                                    *per_sm_, unit, g_.prop.multiProcessorCount, clock_mhz));
}

void cuda_case::wait(cudaEvent_t e, telemetry* t) const {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  auto next_reading = start;
  for (;;) {
    const cudaError_t q = cudaEventQuery(e);
    if (q == cudaSuccess) return;
    if (q != cudaErrorNotReady) kc::check(q, "waiting for the queued work");
    const auto now = clock::now();
    if (now - start > deadline_)
      throw device_hung(fmt::format(
          "the work queued for one sample of {} on cuda:{} did not finish within {:.0f} s (a "
          "hung kernel; set CHIPGAUGE_CUDA_DEADLINE_S if it is merely slow)",
          info_.name, g_.index, deadline_.count()));
    if (t && now >= next_reading) {
      t->add(nvml_.sample(g_.pci));
      next_reading = now + std::chrono::milliseconds(5);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

double cuda_case::probe_clock_mhz() {
  kc::launch_clock_probe(2'000'000, probe_.as<std::uint64_t>(), stream());
  std::uint64_t out[2] = {0, 0};
  CHIPGAUGE_CUDA(cudaMemcpyAsync(out, probe_.ptr, sizeof out, cudaMemcpyDeviceToHost, stream()));
  CHIPGAUGE_CUDA(cudaEventRecord(probe_done_.get(), stream()));
  wait(probe_done_.get(), nullptr);
  return out[0] > 0 ? static_cast<double>(out[1]) / static_cast<double>(out[0]) * 1e3
                    : std::nan("");
}

}  // namespace chipgauge::bench::cuda
