#include "chipgauge/bench/measure.hpp"

#include "chipgauge/bench/cpu_backend.hpp"
#include "chipgauge/bench/cuda_backend.hpp"
#include "chipgauge/core/date.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/version.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

using chipgauge::classifier::all_precisions;
using chipgauge::classifier::index_of;
using chipgauge::classifier::metric_definitions;

namespace chipgauge::bench {

std::vector<std::string> backend_names() {
  return cuda_backend_built() ? std::vector<std::string>{"cpu", "cuda"}
                              : std::vector<std::string>{"cpu"};
}

namespace {

std::unique_ptr<backend> make_backend_in(const std::string& name, const std::string& specs_dir) {
  if (name == "cpu") return make_cpu_backend(specs_dir);
  if (name == "cuda") return make_cuda_backend(specs_dir);
  std::string known;
  for (const auto& n : backend_names()) known += (known.empty() ? "" : ", ") + n;
  throw usage_error(fmt::format("unknown backend '{}': expected auto, {}", name, known));
}

// The devices `wanted` names (ids or indices into `all`), in the order of `all`; every entry must
// name one, else usage_error listing what there is.
std::vector<device_info> select_devices(const std::vector<device_info>& all,
                                        const std::vector<std::string>& wanted,
                                        const std::string& backend) {
  if (wanted.empty()) return all;
  std::vector<bool> chosen(all.size(), false);
  for (const auto& w : wanted) {
    std::optional<std::size_t> hit;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (all[i].id == w) hit = i;
    }
    if (!hit && !w.empty() && w.find_first_not_of("0123456789") == std::string::npos &&
        w.size() < 10) {
      const auto index = std::stoul(w);
      if (index < all.size()) hit = index;
    }
    if (!hit) {
      std::string known;
      for (std::size_t i = 0; i < all.size(); ++i)
        known += fmt::format("{}{} = {} ({})", i ? ", " : "", i, all[i].id, all[i].name);
      throw usage_error(fmt::format("--device '{}' names no {} device; there {} {}: {}", w, backend,
                                    all.size() == 1 ? "is" : "are", all.size(), known));
    }
    chosen[*hit] = true;
  }
  std::vector<device_info> out;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (chosen[i]) out.push_back(all[i]);
  }
  return out;
}

std::regex compile_filter(const std::string& filter) {
  try {
    return std::regex(filter, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw usage_error(
        fmt::format("--filter '{}' is not a valid regular expression: {}", filter, e.what()));
  }
}

}  // namespace

measurement_report measure(const measure_options& o) {
  // auto: CUDA when a GPU is present, else the CPU (saying why, when this binary has CUDA).
  std::string name = o.backend;
  if (o.backend == "auto") {
    std::string why;
    name = cuda_device_available(&why) ? "cuda" : "cpu";
    if (name == "cpu" && cuda_backend_built() && o.notice)
      o.notice(fmt::format("CUDA not used ({}); measuring the CPU", why));
  }
  if (!o.filter.empty())
    (void)compile_filter(o.filter);  // a bad filter fails before any device is touched
  auto be = make_backend_in(name, o.specs_dir);
  return measure_with(*be, o);
}

measurement_outcome outcome_of(const measurement_report& report) noexcept {
  bool any_ok = false;
  for (const auto& m : report.results) {
    if (m.status == result_status::invalid) return measurement_outcome::unverified;
    any_ok = any_ok || m.status == result_status::ok;
  }
  return any_ok ? measurement_outcome::ok : measurement_outcome::nothing_measured;
}

measurement_report measure_with(backend& backend_ref, const measure_options& o) {
  std::optional<std::regex> filter;
  if (!o.filter.empty()) filter = compile_filter(o.filter);
  auto* be = &backend_ref;
  const std::string name = be->name();

  measurement_report r;
  r.tool_version = tool_version;
  r.git_sha = git_sha;
  r.argv = o.argv;
  r.created_utc = utc_now();
  r.mode = to_string(o.mode);
  r.host = collect_host_info();
  r.devices = be->devices();
  if (r.devices.empty()) {
    std::string why;
    if (name == "cuda") (void)cuda_device_available(&why);
    throw error(
        fmt::format("the {} backend found no device{}", name, why.empty() ? "" : ": " + why));
  }
  r.devices = select_devices(r.devices, o.devices, name);

  const auto settings = run_settings::for_mode(o.mode);
  auto matches = [&](const benchmark_info& b) {
    return !filter || std::regex_search(b.name, *filter);
  };
  // Every device's list first, so that a filter matching nothing fails before anything runs.
  std::vector<std::pair<std::vector<benchmark_info>, std::vector<skipped_benchmark>>> lists;
  std::size_t matched = 0;
  std::string available;
  for (const auto& d : r.devices) {
    lists.push_back(be->benchmarks(d, o.mode));
    for (const auto& b : lists.back().first) {
      matched += matches(b);
      if (available.find(b.name) == std::string::npos)
        available += (available.empty() ? "" : ", ") + b.name;
    }
    for (const auto& sk : lists.back().second) matched += matches(sk.info);
  }
  if (filter && matched == 0)
    throw usage_error(
        fmt::format("--filter '{}' matches no benchmark; available: {}", o.filter, available));

  for (std::size_t di = 0; di < r.devices.size(); ++di) {
    const auto& d = r.devices[di];
    const auto& [runnable, skipped] = lists[di];
    for (const auto& sk : skipped) {
      if (!matches(sk.info)) continue;
      measurement m;
      m.info = sk.info;
      m.device_id = d.id;
      m.status = result_status::skipped;
      m.reason = sk.reason;
      r.results.push_back(std::move(m));
    }
    // Once the device is lost (sticky error) or hung, the rest of its benchmarks are recorded as
    // not run, with the reason, instead of failing one by one with misleading errors. After a hang
    // nothing runs on any device: their cases may touch the hung one (peer copies; freeing its
    // memory waits on it) and would block before the process can end.
    std::string lost =
        r.hung_device.empty()
            ? std::string()
            : fmt::format("not run: {} hung earlier (the process must exit to recover it)",
                          r.hung_device);
    for (const auto& b : runnable) {
      if (!matches(b)) continue;
      measurement m;
      m.info = b;
      m.device_id = d.id;
      if (!lost.empty()) {
        m.status = result_status::skipped;
        m.reason = lost;
        r.results.push_back(std::move(m));
        continue;
      }
      if (o.log) o.log(fmt::format("{} {}: running", d.id, b.name));
      std::unique_ptr<benchmark_case> bc;
      try {
        bc = be->prepare(d, b, o.mode);
        m = run_case(*bc, d.id, settings, o.progress);
      } catch (const benchmark_unsupported& e) {
        m.status = result_status::skipped;
        m.reason = e.what();
      } catch (const device_hung& e) {
        m.status = result_status::invalid;
        m.reason = e.what();
        (void)bc.release();  // its buffers cannot be freed while the hung work holds the device
        r.hung_device = d.id;
        lost = fmt::format("not run: {} hung during {} (the process must exit to recover it)", d.id,
                           b.name);
      } catch (const std::exception& e) {
        m.status = result_status::invalid;
        m.reason = std::string(bc ? "failed: " : "could not prepare: ") + e.what();
      }
      if (m.status == result_status::invalid && lost.empty()) {
        bc.reset();
        if (auto why = be->device_lost(d))
          lost =
              fmt::format("not run: {} can run nothing more in this process after {} failed ({})",
                          d.id, b.name, *why);
      }
      if (o.log) o.log(fmt::format("{} {}: {}", d.id, b.name, to_string(m.status)));
      r.results.push_back(std::move(m));
    }
    if (r.hung_device.empty()) {
      for (auto& [key, value] : be->state_after(d))
        r.devices[di].properties.emplace_back(key + "_after", std::move(value));
    }
  }
  flag_inverted_hierarchy(r.results, settings);
  return r;
}

std::optional<std::string> implausible(const measurement& m, const run_settings& settings) {
  // The summary must be the samples' own: recomputed from work / seconds.
  std::vector<double> rates;
  rates.reserve(m.samples.size());
  for (const auto& s : m.samples) rates.push_back(s.rate());
  if (rates.empty()) return "no samples behind the rate";
  const auto recomputed = summarize(rates);
  if (!(std::fabs(recomputed.median - m.rate.median) <=
        1e-9 * std::max(std::fabs(recomputed.median), 1.0)))
    return fmt::format(
        "the median {:.6g} disagrees with its samples' median {:.6g}: the report was edited",
        m.rate.median, recomputed.median);
  // The ceiling: the recorded one, else (older reports) the peak at the maximum clock, else the
  // peak at the measured clock. A compute rate with none of them cannot be checked.
  const std::optional<double> ceiling = m.ceiling                    ? m.ceiling
                                        : m.theoretical_at_max_clock ? m.theoretical_at_max_clock
                                                                     : m.theoretical;
  const std::string basis = m.ceiling                    ? m.ceiling_basis
                            : m.theoretical_at_max_clock ? "theoretical peak at the maximum clock"
                                                         : "theoretical peak at the measured clock";
  if (!ceiling) {
    if (m.info.metric == metric_kind::ops_per_s)
      return std::string("no theoretical peak or ceiling to check the rate against");
    return std::nullopt;
  }
  if (auto why = exceeds_ceiling(m.rate.median, *ceiling, basis, settings.ceiling_tolerance))
    return why;
  if (m.theoretical && m.theoretical_at_max_clock &&
      *m.theoretical > *m.theoretical_at_max_clock * (1 + settings.ceiling_tolerance))
    return fmt::format(
        "the peak at the measured clock ({:.4g}/s) exceeds the peak at the maximum clock "
        "({:.4g}/s)",
        *m.theoretical, *m.theoretical_at_max_clock);
  return std::nullopt;
}

measured_tpp measured_from(const measurement_report& report, const std::string& report_file,
                           const std::string& device_id, const metric_definitions& defs) {
  measured_tpp t;
  const device_info* dev = nullptr;
  for (const auto& d : report.devices) {
    if (device_id.empty() || d.id == device_id) {
      dev = &d;
      break;
    }
  }
  if (!dev)
    throw spec_error(report_file, "$.devices",
                     fmt::format("no device '{}' in the report", device_id));
  t.device_id = dev->id;
  t.device_name = dev->name;
  t.device_vendor = dev->vendor;
  const auto settings =
      run_settings::for_mode(report.mode == "full" ? run_mode::full : run_mode::quick);
  for (const auto& m : report.results) {
    if (m.device_id != dev->id) continue;
    if (m.status != result_status::ok || !m.verified) {
      if (m.status == result_status::invalid)
        t.refused.push_back(fmt::format("{}: {} ({})", m.info.name, to_string(m.status), m.reason));
      continue;
    }
    // Re-checked here, so that an edited report cannot smuggle a rate in.
    if (auto why = implausible(m, settings)) {
      t.refused.push_back(fmt::format("{}: refused ({})", m.info.name, *why));
      continue;
    }
    if (m.suspect) {
      std::string why;
      for (const auto& r : m.suspect_reasons) why += (why.empty() ? "" : "; ") + r;
      t.refused.push_back(fmt::format("{}: suspect ({})", m.info.name, why));
      continue;
    }
    if (m.info.metric == metric_kind::bytes_per_s && m.info.group == "memory") {
      t.memory_gb_s = std::max(t.memory_gb_s.value_or(0), m.rate.median / 1e9);
      continue;
    }
    if (m.info.metric != metric_kind::ops_per_s || !m.info.prec) continue;
    const auto p = *m.info.prec;
    const double tops = m.rate.median / 1e12;
    auto& slot = t.tops[index_of(p)];
    if (!slot || tops > *slot) slot = tops;
    const double bits = defs.bit_length[index_of(p)].value;
    if (m.theoretical)
      t.theoretical_tpp = std::max(t.theoretical_tpp.value_or(0), *m.theoretical / 1e12 * bits);
    if (m.theoretical_at_max_clock)
      t.theoretical_tpp_max_clock = std::max(t.theoretical_tpp_max_clock.value_or(0),
                                             *m.theoretical_at_max_clock / 1e12 * bits);
    t.used.push_back(fmt::format("{}: {:.4g} TOPS x {} bits = TPP {:.4g}", m.info.name, tops, bits,
                                 tops * bits));
  }
  for (auto p : all_precisions) {
    if (const auto& tops = t.tops[index_of(p)]) {
      const double v = *tops * defs.bit_length[index_of(p)].value;
      if (v > t.tpp) {
        t.tpp = v;
        t.best = p;
      }
    }
  }
  if (!t.best) {
    std::string refused;
    for (const auto& r : t.refused) refused += "; " + r;
    throw spec_error(
        report_file, "$.results",
        fmt::format("no usable compute result for device '{}': a measured TPP needs at least one "
                    "verified, plausible, uncontended result with a precision{}",
                    dev->id, refused));
  }
  return t;
}

std::string tpp_summary(const measurement_report& report, const metric_definitions& defs) {
  std::string out;
  for (const auto& d : report.devices) {
    try {
      const auto t = measured_from(report, "", d.id, defs);
      out += fmt::format("{} TPP: measured {:.4g} ({} x {} bits, verified; a lower bound)", d.id,
                         t.tpp, to_string(*t.best), defs.bit_length[index_of(*t.best)].value);
      if (t.theoretical_tpp)
        out += fmt::format("; theoretical peaks give {:.4g} at the measured clock",
                           *t.theoretical_tpp);
      if (t.theoretical_tpp_max_clock)
        out += fmt::format(", {:.4g} at the maximum clock", *t.theoretical_tpp_max_clock);
      out += "\n";
    } catch (const error&) {
      out += fmt::format(
          "{} TPP: no usable compute result (each needs to be verified, plausible and "
          "uncontended; see the notes above)\n",
          d.id);
    }
  }
  return out;
}

}  // namespace chipgauge::bench
