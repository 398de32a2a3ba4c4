// The runner: calibration, warm-up, adaptive stopping (nvbench's noise criterion with a
// stability fallback), verification and telemetry flags.
#include "chipgauge/bench/runner.hpp"

#include "chipgauge/core/error.hpp"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <fstream>
#include <limits>
#include <string>
#include <tuple>

namespace chipgauge::bench {

run_settings run_settings::quick() { return {}; }

run_settings run_settings::full() {
  run_settings s;
  s.sample_target_s = 0.05;
  s.warmup_max_s = 2.0;
  s.min_samples = 20;
  s.max_samples = 1000;
  s.min_time_s = 2.0;
  s.max_time_s = 30.0;
  s.target_cv = 0.005;
  s.stable_window = 10;
  s.stable_change = 0.05;
  return s;
}

const char* to_string(result_status s) noexcept {
  switch (s) {
    case result_status::ok: return "ok";
    case result_status::skipped: return "skipped";
    case result_status::invalid: return "invalid";
  }
  return "?";
}

const char* to_string(stop_reason s) noexcept {
  switch (s) {
    case stop_reason::none: return "none";
    case stop_reason::noise_target: return "noise_target";
    case stop_reason::noise_stable: return "noise_stable";
    case stop_reason::time_cap: return "time_cap";
    case stop_reason::max_samples: return "max_samples";
  }
  return "?";
}

const char* to_string(metric_kind m) noexcept {
  return m == metric_kind::ops_per_s ? "ops_per_s" : "bytes_per_s";
}
const char* to_string(run_mode m) noexcept { return m == run_mode::quick ? "quick" : "full"; }

namespace {

// The machine's CPU time from /proc/stat (clock ticks) and this process's own, to tell how much
// of the machine other processes used while a benchmark ran. Linux only; elsewhere unreadable.
struct host_cpu_times {
  bool valid = false;
  double busy = 0;  // user + nice + system + irq + softirq, every CPU
  double steal = 0;
  double total = 0;  // every state, including idle, iowait and steal
  double self = 0;   // this process, all threads, in the same ticks
};

host_cpu_times read_host_cpu_times() {
  host_cpu_times t;
  std::ifstream in("/proc/stat");
  std::string label;
  if (!(in >> label) || label != "cpu") return t;
  double v[8] = {};
  for (double& x : v) {
    if (!(in >> x)) return t;
  }
  // user nice system idle iowait irq softirq steal
  t.busy = v[0] + v[1] + v[2] + v[5] + v[6];
  t.steal = v[7];
  for (double x : v) t.total += x;
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return t;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const auto secs = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
  };
  t.self = (secs(ru.ru_utime) + secs(ru.ru_stime)) * ticks;
  t.valid = ticks > 0;
  return t;
}

// Other processes' and the hypervisor's shares of the machine between two readings.
std::pair<double, double> host_shares(const host_cpu_times& a, const host_cpu_times& b) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double total = b.total - a.total;
  // Under 20 ticks (0.1 s of one CPU at the usual 100 Hz) a single tick moves the share by 5 %.
  if (!a.valid || !b.valid || total < 20) return {nan, nan};
  const double others = std::max(0.0, (b.busy - a.busy) - (b.self - a.self));
  return {std::min(1.0, others / total), std::clamp((b.steal - a.steal) / total, 0.0, 1.0)};
}

double noise_of(const std::vector<double>& v, std::size_t n) {
  return summarize(std::span<const double>(v.data(), n)).noise;
}

}  // namespace

stop_reason should_stop(const std::vector<double>& rates, double elapsed_s, const run_settings& s) {
  const auto n = rates.size();
  if (n >= static_cast<std::size_t>(s.max_samples)) return stop_reason::max_samples;
  if (elapsed_s >= s.max_time_s && n >= 1) return stop_reason::time_cap;
  if (n < static_cast<std::size_t>(s.min_samples) || elapsed_s < s.min_time_s)
    return stop_reason::none;
  const double cv = noise_of(rates, n);
  if (cv <= s.target_cv) return stop_reason::noise_target;
  // Fallback: the noise estimate itself no longer moves, so more samples will not lower it.
  const auto w = static_cast<std::size_t>(s.stable_window);
  if (n >= static_cast<std::size_t>(s.min_samples) + w) {
    double lo = cv;
    double hi = cv;
    for (std::size_t k = n - w; k < n; ++k) {
      const double c = noise_of(rates, k);
      lo = std::min(lo, c);
      hi = std::max(hi, c);
    }
    if (hi > 0 && (hi - lo) / hi <= s.stable_change) return stop_reason::noise_stable;
  }
  return stop_reason::none;
}

measurement run_case(benchmark_case& bc, const std::string& device_id, const run_settings& settings,
                     const progress_fn& progress) {
  using clock = std::chrono::steady_clock;
  measurement m;
  m.info = bc.info();
  m.device_id = device_id;
  try {
    // Calibrate: double the repetitions until one run takes the target sample time.
    std::uint64_t reps = 1;
    sample s = bc.run(reps);
    while (s.seconds < settings.sample_target_s && reps < bc.max_reps()) {
      const double scale =
          s.seconds > 0 ? std::clamp(settings.sample_target_s / s.seconds * 1.2, 2.0, 64.0) : 64.0;
      reps = std::min(bc.max_reps(),
                      static_cast<std::uint64_t>(std::ceil(static_cast<double>(reps) * scale)));
      s = bc.run(reps);
    }
    m.reps_per_sample = reps;

    // Untimed warm-up: until two consecutive runs agree in rate and in clock (where readable), at
    // least one more run, time-capped.
    const auto warm_start = clock::now();
    double previous = s.rate();
    double previous_clock = s.clock_mhz;
    auto close = [&](double a, double b) {
      return b > 0 && std::fabs(a - b) / b <= settings.warmup_tolerance;
    };
    for (;;) {
      const sample w = bc.run(reps);
      const bool clock_settled = std::isnan(w.clock_mhz) || close(w.clock_mhz, previous_clock);
      const bool stable = close(w.rate(), previous) && clock_settled;
      previous = w.rate();
      previous_clock = w.clock_mhz;
      if (stable ||
          std::chrono::duration<double>(clock::now() - warm_start).count() >= settings.warmup_max_s)
        break;
    }
    m.warmup_s = std::chrono::duration<double>(clock::now() - warm_start).count();

    // Timed samples with adaptive stopping.
    std::vector<double> rates;
    double elapsed = 0;
    const auto load_before = read_host_cpu_times();
    for (;;) {
      const sample t = bc.run(reps);
      m.samples.push_back(t);
      rates.push_back(t.rate());
      elapsed += t.seconds;
      if (progress) progress(m.info.name, std::min(1.0, elapsed / settings.max_time_s));
      m.stopped = should_stop(rates, elapsed, settings);
      if (m.stopped != stop_reason::none) break;
    }
    std::tie(m.host_contention, m.host_steal) = host_shares(load_before, read_host_cpu_times());
    m.check = bc.verify();
    m.verified = m.check.passed;
  } catch (const device_hung&) {
    throw;  // the caller must stop using the device
  } catch (const std::exception& e) {
    m.status = result_status::invalid;
    m.reason = std::string("run failed: ") + e.what();
    // Samples taken before the failure stay, summarised, for diagnosis (never as a result).
    std::vector<double> partial;
    for (const auto& s : m.samples) partial.push_back(s.rate());
    m.rate = summarize(partial);
    return m;
  }

  std::vector<double> rates;
  std::vector<double> clocks;
  for (const auto& s : m.samples) {
    rates.push_back(s.rate());
    if (!std::isnan(s.clock_mhz)) clocks.push_back(s.clock_mhz);
  }
  m.rate = summarize(rates);
  m.clock = summarize(clocks);
  if (!clocks.empty() && m.clock.median > 0) {
    for (double c : clocks) {
      if (c < settings.throttle_fraction * m.clock.median) ++m.throttled_samples;
    }
    m.clock_drift = (m.clock.max - m.clock.min) / m.clock.median > settings.drift_limit;
  }
  // NVML clock-event reasons: any bit but GPU idle (0x1), application clocks setting (0x2) and
  // display clock setting (0x100), which are settings, not slowdowns.
  for (const auto& s : m.samples) {
    if (s.throttle_reasons && (*s.throttle_reasons & ~std::uint64_t{0x103}) != 0)
      ++m.throttle_reason_samples;
  }
  if (const auto maxc = bc.max_clock_mhz()) {
    if (auto t = bc.theoretical(*maxc)) m.theoretical_at_max_clock = t->first;
  }
  // The clock for the peak: NVML's SM clock read while the work ran, when every sample has it
  // (GPUs: the clock probe runs after the sample, under a light load that a power-capped GPU may
  // clock higher); otherwise the probe's.
  std::vector<double> during;
  for (const auto& s : m.samples) {
    if (!std::isnan(s.sm_clock_nvml_mhz)) during.push_back(s.sm_clock_nvml_mhz);
  }
  const bool nvml_clock = !during.empty() && during.size() == m.samples.size();
  const double peak_clock =
      nvml_clock ? summarize(during).median : (m.clock.count ? m.clock.median : std::nan(""));
  if (auto t = bc.theoretical(peak_clock)) {
    m.theoretical = t->first;
    m.theoretical_basis =
        t->second +
        (nvml_clock ? "; clock: NVML SM clock during the work, median over samples" : "");
    if (t->first > 0) m.fraction_of_theoretical = m.rate.median / t->first;
  }
  // The ceiling: the peak at the maximum clock, else the case's own bound at the highest clock
  // seen.
  if (m.theoretical_at_max_clock) {
    m.ceiling = m.theoretical_at_max_clock;
    m.ceiling_basis = "theoretical peak at the maximum clock";
  } else {
    double top = std::nan("");
    for (const auto& s : m.samples) {
      const double c = std::isnan(s.sm_clock_nvml_mhz) ? s.clock_mhz
                                                       : std::max(s.clock_mhz, s.sm_clock_nvml_mhz);
      if (!std::isnan(c) && !(c <= top)) top = c;
    }
    if (auto c = bc.ceiling(top)) {
      m.ceiling = c->first;
      m.ceiling_basis = c->second + fmt::format(" (highest clock seen, {:.0f} MHz)", top);
    }
  }
  if (!m.verified) {
    m.status = result_status::invalid;
    m.reason = "verification failed: " + m.check.detail;
  } else if (auto why = m.ceiling ? exceeds_ceiling(m.rate.median, *m.ceiling, m.ceiling_basis,
                                                    settings.ceiling_tolerance)
                                  : std::nullopt) {
    m.status = result_status::invalid;
    m.reason = *why;
  } else {
    m.status = result_status::ok;
  }
  if (m.host_contention > settings.contention_limit)
    m.suspect_reasons.push_back(fmt::format(
        "other processes used {:.0f} % of the machine's CPU time during the samples (limit "
        "{:.0f} %)",
        100 * m.host_contention, 100 * settings.contention_limit));
  if (m.host_steal > settings.steal_limit)
    m.suspect_reasons.push_back(fmt::format(
        "the hypervisor stole {:.0f} % of the machine's CPU time during the samples (limit "
        "{:.0f} %)",
        100 * m.host_steal, 100 * settings.steal_limit));
  int shared = 0;
  unsigned most = 0;
  for (const auto& s : m.samples) {
    if (s.other_device_processes && *s.other_device_processes > 0) {
      ++shared;
      most = std::max(most, *s.other_device_processes);
    }
  }
  if (shared > 0)
    m.suspect_reasons.push_back(
        fmt::format("up to {} other compute process(es) held the device during {} of {} samples",
                    most, shared, m.samples.size()));
  m.suspect = !m.suspect_reasons.empty();
  return m;
}

std::optional<std::string> exceeds_ceiling(double median, double ceiling, std::string_view basis,
                                           double tolerance) {
  if (!(ceiling > 0) || median <= ceiling * (1 + tolerance)) return std::nullopt;
  return fmt::format(
      "impossible rate: the median {:.4g}/s is {:.2f} x the ceiling {:.4g}/s{}, beyond the "
      "{:.0f} % tolerance: a timing or counting error",
      median, median / ceiling, ceiling,
      basis.empty() ? std::string() : fmt::format(" ({})", basis), 100 * tolerance);
}

void flag_inverted_hierarchy(std::vector<measurement>& results, const run_settings& settings) {
  const auto usable = [](const measurement& m) {
    return m.info.group == "sweep" && m.status == result_status::ok;
  };
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (!usable(results[i])) continue;
    // The same device's largest-footprint sweep result that ran.
    std::size_t largest = results.size();
    for (std::size_t j = 0; j < results.size(); ++j) {
      if (!usable(results[j]) || results[j].device_id != results[i].device_id) continue;
      if (largest == results.size() ||
          results[j].info.footprint_bytes > results[largest].info.footprint_bytes)
        largest = j;
    }
    const auto& small = results[i];
    const auto& big = results[largest];
    if (largest == i || !(small.info.footprint_bytes < big.info.footprint_bytes)) continue;
    if (!(small.rate.median < settings.hierarchy_tolerance * big.rate.median)) continue;
    const auto reason = fmt::format(
        "memory hierarchy inverted: {} ({:.4g} B of footprint) read {:.4g} B/s, below {:.0f} % "
        "of {} ({:.4g} B, {:.4g} B/s)",
        small.info.name, small.info.footprint_bytes, small.rate.median,
        100 * settings.hierarchy_tolerance, big.info.name, big.info.footprint_bytes,
        big.rate.median);
    for (auto k : {i, largest}) {
      auto& m = results[k];
      if (std::find(m.suspect_reasons.begin(), m.suspect_reasons.end(), reason) ==
          m.suspect_reasons.end())
        m.suspect_reasons.push_back(reason);
      m.suspect = true;
    }
  }
}

}  // namespace chipgauge::bench
