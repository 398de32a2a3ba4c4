// Exports for other dashboards: Google Benchmark JSON (as Bencher's cpp_google adapter and Google
// Benchmark's compare.py read it), Bencher Metric Format, github-action-benchmark's
// customBiggerIsBetter (docs/compare.md#exports).
#include "chipgauge/bench/exports.hpp"

#include "chipgauge/bench/compare.hpp"
#include "chipgauge/bench/gbench.hpp"
#include "chipgauge/core/json_reader.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace chipgauge::bench {

namespace {

using json = nlohmann::ordered_json;

constexpr double export_confidence = 0.95;

std::vector<double> rates_of(const measurement& m) {
  std::vector<double> v;
  for (const auto& s : m.samples)
    if (s.rate() > 0 && std::isfinite(s.rate())) v.push_back(s.rate());
  return v;
}

std::string unit_of(const measurement& m) {
  return m.info.metric == metric_kind::ops_per_s ? "ops/s" : "B/s";
}

std::string verification_text(const measurement_report& r, const measurement& m) {
  return is_foreign(r, m)
             ? std::string(foreign_reason_prefix) + " (read from Google Benchmark output)"
             : "verified by chipgauge";
}

// What the exports leave out, and why: "NAME: why; ...".
std::string left_out(const measurement_report& r) {
  std::string out;
  for (const auto& m : r.results)
    if (const auto why = comparable_reason(r, m))
      out += fmt::format("{}{}: {}", out.empty() ? "" : "; ", export_name(m), *why);
  return out;
}

}  // namespace

std::optional<std::string> comparable_reason(const measurement_report& r, const measurement& m) {
  const bool foreign = is_foreign(r, m);
  if (m.status == result_status::skipped) return "skipped: " + m.reason;
  if (m.status == result_status::invalid && !foreign)
    return "invalid (failed chipgauge's verification or an impossible rate): " + m.reason;
  if (m.status == result_status::ok && !m.verified) return std::string("not verified");
  if (m.suspect) {
    std::string why;
    for (const auto& w : m.suspect_reasons) why += (why.empty() ? "" : "; ") + w;
    return "suspect: " + why;
  }
  // A foreign result's reason, or one saying why a result holds summary statistics only (a
  // certificate's, from the history store), is kept beside it.
  if (rates_of(m).empty())
    return foreign || !m.reason.empty() ? "no samples: " + m.reason : std::string("no samples");
  return std::nullopt;
}

std::string export_name(const measurement& m) { return m.device_id + "/" + m.info.name; }

std::string to_gbench_json(const measurement_report& r) {
  json ctx;
  ctx["date"] = r.created_utc;
  ctx["host_name"] = r.host.hostname;
  ctx["executable"] = r.argv.empty() ? "chipgauge" : r.argv.front();
  ctx["num_cpus"] = r.host.logical_cpus;
  // The CPU caches chipgauge read (Bencher's cpp_google adapter requires the member; empty when
  // no CPU device reported them).
  json caches = json::array();
  for (const auto& d : r.devices) {
    if (d.backend != "cpu") continue;
    for (int level = 1; level <= 3; ++level) {
      for (const auto& [k, v] : d.properties) {
        if (k != fmt::format("l{}_bytes", level)) continue;
        const auto size = parse_json_integer(v);
        if (!size || *size <= 0) continue;  // a property that is not a byte count is not a cache
        caches.push_back({{"type", level == 1 ? "Data" : "Unified"},
                          {"level", level},
                          {"size", *size},
                          {"num_sharing", 0}});
      }
    }
    break;
  }
  ctx["caches"] = caches;
  ctx["library_build_type"] = "release";
  ctx["json_schema_version"] = 1;
  ctx["chipgauge_version"] = r.tool_version;
  ctx["chipgauge_git_sha"] = r.git_sha;
  if (const auto out = left_out(r); !out.empty()) ctx["chipgauge_not_exported"] = out;
  json benches = json::array();
  int family = 0;
  for (const auto& m : r.results) {
    if (comparable_reason(r, m)) continue;
    // Google Benchmark's "threads": host threads running the case (the CPU backend's team, one per
    // core it uses; one host thread drives a GPU).
    int threads = 1;
    for (const auto& d : r.devices)
      if (d.id == m.device_id && d.backend == "cpu") threads = std::max(1, d.units);
    const std::string name = export_name(m);
    const std::string rate_key =
        m.info.metric == metric_kind::ops_per_s ? "items_per_second" : "bytes_per_second";
    // One repetition per sample; an iteration is one kernel repetition, so real_time is a sample's
    // wall time over its repetitions (ns), and the counter the sample's rate.
    const auto reps = static_cast<double>(std::max<std::uint64_t>(1, m.reps_per_sample));
    std::vector<double> times, rates;
    const auto base = [&](json& b) {
      b["name"] = name;
      b["family_index"] = family;
      b["per_family_instance_index"] = 0;
      b["run_name"] = name;
    };
    int index = 0;
    const int n = static_cast<int>(rates_of(m).size());
    for (const auto& s : m.samples) {
      if (!(s.rate() > 0 && std::isfinite(s.rate()))) continue;
      json b;
      base(b);
      b["run_type"] = "iteration";
      b["repetitions"] = n;
      b["repetition_index"] = index++;
      b["threads"] = threads;
      b["iterations"] = std::max<std::uint64_t>(1, m.reps_per_sample);
      const double t = s.seconds / reps * 1e9;
      times.push_back(t);
      rates.push_back(s.rate());
      b["real_time"] = t;
      b["cpu_time"] = t;
      b["time_unit"] = "ns";
      b[rate_key] = s.rate();
      b["label"] = verification_text(r, m);
      benches.push_back(b);
    }
    const auto st = summarize(times);
    const auto sr = summarize(rates);
    const std::pair<const char*, std::pair<double, double>> aggregates[] = {
        {"mean", {st.mean, sr.mean}},
        {"median", {st.median, sr.median}},
        {"stddev", {st.stddev, sr.stddev}}};
    for (const auto& [agg, values] : aggregates) {
      json b;
      base(b);
      b["name"] = name + "_" + agg;
      b["run_type"] = "aggregate";
      b["repetitions"] = n;
      b["threads"] = threads;
      b["aggregate_name"] = agg;
      b["aggregate_unit"] = "time";
      b["iterations"] = n;
      b["real_time"] = values.first;
      b["cpu_time"] = values.first;
      b["time_unit"] = "ns";
      b[rate_key] = values.second;
      benches.push_back(b);
    }
    ++family;
  }
  return json{{"context", ctx}, {"benchmarks", benches}}.dump(2) + "\n";
}

std::string to_bencher_json(const measurement_report& r) {
  json out = json::object();
  for (const auto& m : r.results) {
    if (comparable_reason(r, m)) continue;
    const auto rates = rates_of(m);
    const auto ci = median_ci(rates, export_confidence);
    out[export_name(m)] = {
        {"throughput", {{"value", ci.median}, {"lower_value", ci.lo}, {"upper_value", ci.hi}}}};
  }
  return out.dump(2) + "\n";
}

std::string to_github_action_benchmark_json(const measurement_report& r) {
  json out = json::array();
  for (const auto& m : r.results) {
    if (comparable_reason(r, m)) continue;
    const auto rates = rates_of(m);
    const auto ci = median_ci(rates, export_confidence);
    const double half = std::max(ci.median - ci.lo, ci.hi - ci.median);
    json e;
    e["name"] = export_name(m);
    e["unit"] = unit_of(m);
    e["value"] = ci.median;
    e["range"] = fmt::format("± {:.6g}", half);
    e["extra"] =
        fmt::format("{} samples; median {:.0f}% interval [{:.6g}, {:.6g}] {}; {}", rates.size(),
                    100 * ci.coverage, ci.lo, ci.hi, unit_of(m), verification_text(r, m));
    out.push_back(e);
  }
  return out.dump(2) + "\n";
}

}  // namespace chipgauge::bench
