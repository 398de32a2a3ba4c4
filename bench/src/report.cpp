// Host facts and the human and dashboard exports of a measurement report.
#include "chipgauge/bench/report.hpp"

#include "chipgauge/bench/gbench.hpp"
#include "chipgauge/core/text.hpp"

#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

namespace chipgauge::bench {

host_info collect_host_info() {
  host_info h;
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) == 0) h.hostname = name;
  utsname u{};
  if (uname(&u) == 0) h.kernel = std::string(u.sysname) + " " + u.release;
  h.logical_cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  h.memory_bytes =
      static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
  std::ifstream os("/etc/os-release");
  for (std::string line; std::getline(os, line);) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      h.os = line.substr(12);
      if (h.os.size() >= 2 && h.os.front() == '"') h.os = h.os.substr(1, h.os.size() - 2);
    }
  }
  std::ifstream cpu("/proc/cpuinfo");
  for (std::string line; std::getline(cpu, line);) {
    if (line.rfind("model name", 0) == 0) {
      h.cpu_model = line.substr(line.find(':') + 2);
      break;
    }
  }
#if defined(__clang__)
  h.compiler = fmt::format("clang {}", __clang_version__);
#elif defined(__GNUC__)
  h.compiler = fmt::format("g++ {}", __VERSION__);
#endif
  return h;
}

namespace {

// Results whose robust noise exceeds this are flagged "noisy" in tables (they stay valid).
constexpr double noisy_threshold = 0.05;

// Rates in the unit a reader expects: GFLOP/s-style for ops, GB/s (10^9) for bytes.
// Rates under 10^8 (Google Benchmark input: items or iterations per second) in M or k units, so
// that they do not read as 0.00 G.
std::string rate_text(const measurement& m, double v) {
  const bool ops = m.info.metric == metric_kind::ops_per_s;
  if (v > 0 && v < 1e8) {
    const bool mega = v >= 1e5;
    return fmt::format("{:.2f} {}", v / (mega ? 1e6 : 1e3),
                       ops ? (mega ? "M ops/s" : "k ops/s") : (mega ? "MB/s" : "kB/s"));
  }
  return fmt::format("{:.2f} {}", v / 1e9, ops ? "G ops/s" : "GB/s");
}

std::string fraction_text(const measurement& m) {
  return m.fraction_of_theoretical ? fmt::format("{:.1f} %", 100 * *m.fraction_of_theoretical)
                                   : "-";
}

std::vector<std::vector<std::string>> rows(const measurement_report& r, bool text) {
  std::vector<std::vector<std::string>> out;
  for (const auto& m : r.results) {
    const bool has = m.status != result_status::skipped;
    std::vector<std::string> notes;
    if (m.clock_drift) notes.emplace_back("clock drift");
    if (m.throttled_samples > 0) notes.push_back(fmt::format("{} throttled", m.throttled_samples));
    if (m.throttle_reason_samples > 0)
      notes.push_back(fmt::format("{} with throttle reasons", m.throttle_reason_samples));
    // Verified but noisy: the stability fallback stopped well above the noise target.
    if (m.status == result_status::ok && m.rate.noise > noisy_threshold)
      notes.push_back(fmt::format("noisy ({:.1f} %)", 100 * m.rate.noise));
    if (m.status != result_status::ok) notes.push_back(m.reason);
    for (const auto& why : m.suspect_reasons) notes.push_back("suspect: " + why);
    std::string flags;
    for (const auto& n : notes) flags += (flags.empty() ? "" : "; ") + n;
    out.push_back(
        {m.device_id, m.info.name, m.info.prec ? std::string(to_string(*m.info.prec)) : "-",
         has ? (text ? rate_text(m, m.rate.median) : fmt::format("{:.6g}", m.rate.median)) : "-",
         has ? fmt::format("{:.2f} %", 100 * m.rate.cv) : "-",
         has ? fmt::format("{:.2f} %", 100 * m.rate.noise) : "-",
         has ? std::to_string(m.samples.size()) : "-", to_string(m.status),
         has ? to_string(m.stopped) : "-",
         m.theoretical
             ? (text ? rate_text(m, *m.theoretical) : fmt::format("{:.6g}", *m.theoretical))
             : "-",
         fraction_text(m), m.clock.count ? fmt::format("{:.0f}", m.clock.median) : "-", flags});
  }
  return out;
}

const std::vector<std::string> table_header{
    "device", "benchmark", "precision",   "median",  "cv",        "noise", "samples",
    "status", "stop",      "theoretical", "of peak", "clock MHz", "notes"};

}  // namespace

std::string to_text(const measurement_report& r) {
  const bool foreign = std::any_of(r.devices.begin(), r.devices.end(), [](const device_info& d) {
    return d.backend == gbench_backend;
  });
  std::string out =
      foreign ? fmt::format("Google Benchmark output from {} (not run or verified by chipgauge)\n",
                            r.host.hostname)
              : fmt::format("chipgauge measure ({} mode) on {}\n", r.mode, r.host.hostname);
  for (const auto& d : r.devices)
    out += fmt::format("  {}: {} ({} units, {})\n", d.id, d.name, d.units, d.backend);
  out += "\n" + render_table(table_header, rows(r, true),
                             {false, false, false, true, true, true, true, false, false, true, true,
                              true, false});
  return out;
}

std::string to_markdown(const measurement_report& r) {
  return fmt::format("Measured {} UTC with chipgauge {} ({}), {} mode, on {}.\n\n", r.created_utc,
                     r.tool_version, r.git_sha, r.mode, r.host.cpu_model) +
         render_markdown_table(table_header, rows(r, true));
}

std::string to_csv(const measurement_report& r) {
  std::vector<std::string> header{"device",      "benchmark",
                                  "precision",   "metric",
                                  "median",      "min",
                                  "max",         "cv",
                                  "samples",     "status",
                                  "verified",    "stop_reason",
                                  "theoretical", "fraction_of_theoretical",
                                  "clock_mhz",   "reason"};
  std::vector<std::vector<std::string>> out;
  for (const auto& m : r.results) {
    out.push_back(
        {m.device_id, m.info.name, m.info.prec ? std::string(to_string(*m.info.prec)) : "",
         to_string(m.info.metric), fmt::format("{:.9g}", m.rate.median),
         fmt::format("{:.9g}", m.rate.min), fmt::format("{:.9g}", m.rate.max),
         fmt::format("{:.6g}", m.rate.cv), std::to_string(m.samples.size()), to_string(m.status),
         m.verified ? "true" : "false", to_string(m.stopped),
         m.theoretical ? fmt::format("{:.9g}", *m.theoretical) : "",
         m.fraction_of_theoretical ? fmt::format("{:.6g}", *m.fraction_of_theoretical) : "",
         m.clock.count ? fmt::format("{:.1f}", m.clock.median) : "", m.reason});
  }
  return render_csv(header, out);
}

}  // namespace chipgauge::bench
