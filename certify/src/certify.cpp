#include "chipgauge/certify/certify.hpp"

#include "chipgauge/bench/classify_measured.hpp"
#include "chipgauge/bench/statistics.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/version.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>

using chipgauge::classifier::catalog;
using chipgauge::classifier::evaluation_plan;
using chipgauge::classifier::output_format;

#ifndef CHIPGAUGE_BUILD_TYPE
#define CHIPGAUGE_BUILD_TYPE ""
#endif
#ifndef CHIPGAUGE_BUILD_FLAGS
#define CHIPGAUGE_BUILD_FLAGS ""
#endif

namespace chipgauge::certify {

namespace {

using json = nlohmann::json;
using bench::measurement;
using bench::result_status;

// NVML clock event reasons that are not throttling: GPU idle (0x1), application clocks (0x2),
// display clock (0x100) (bench/backend.hpp, sample::throttle_reasons).
constexpr std::uint64_t benign_reasons = 0x1 | 0x2 | 0x100;

// The groups whose rates are gated and compared across peers (sweeps and links depend on the
// footprint and the topology more than on the part).
bool gated_group(const std::string& g) {
  return g == "compute" || g == "vector" || g == "gemm" || g == "memory";
}

const char* base_unit(bench::metric_kind k) {
  return k == bench::metric_kind::bytes_per_s ? "bytes/s" : "ops/s";
}

// RFC 8785 serialises finite numbers only: what is not finite is unknown (null).
json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
json opt(const std::optional<double>& v) { return v ? num(*v) : json(nullptr); }
json opt_string(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

std::string read_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (in) std::getline(in, line);
  return line;
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

// Why a result cannot be gated on, or nullopt: the same re-checks `classify --measured` makes.
std::optional<std::string> unusable(const measurement& m, const bench::run_settings& settings) {
  if (m.status == result_status::invalid) return "invalid: " + m.reason;
  if (m.status == result_status::skipped) return "skipped: " + m.reason;
  if (!m.verified) return std::string("its output was not verified");
  if (auto why = bench::implausible(m, settings)) return *why;
  if (m.suspect) return "suspect: " + join(m.suspect_reasons, "; ");
  return std::nullopt;
}

const measurement* find_result(const std::vector<measurement>& rs, const std::string& name) {
  for (const auto& m : rs) {
    if (m.info.name == name) return &m;
  }
  return nullptr;
}

check_outcome make(std::string kind, std::string benchmark, std::string basis) {
  check_outcome c;
  c.kind = std::move(kind);
  c.benchmark = std::move(benchmark);
  c.basis = std::move(basis);
  return c;
}

void add_reference(check_outcome& c, const envelope& e, const envelope_check& k) {
  if (const auto* r = e.reference(k.reference)) {
    c.reference_url = r->url;
    c.reference_title = r->title;
  }
  c.evidence = k.evidence;
}

// One envelope check on one device's results.
void apply_check(const envelope& e, const envelope_check& k,
                 const std::vector<measurement>& results, const bench::run_settings& settings,
                 std::vector<check_outcome>& out) {
  const std::string basis = fmt::format("envelope {} ({}), {}", e.id, e.file, k.json_path);
  const auto* m = find_result(results, k.benchmark);
  if (!m) {
    if (k.optional) return;
    auto c = make("coverage", k.benchmark, basis);
    c.result = outcome::inconclusive;
    c.detail = "the envelope requires this benchmark and it was not run";
    add_reference(c, e, k);
    out.push_back(std::move(c));
    return;
  }
  if (const auto why = unusable(*m, settings)) {
    if (m->status == result_status::skipped && k.optional) return;
    auto c = make("verification", k.benchmark, basis);
    add_reference(c, e, k);
    c.result = outcome::inconclusive;
    c.detail = "not gated: " + *why;
    out.push_back(std::move(c));
    return;
  }
  const double median = m->rate.median;
  for (const bool is_floor : {true, false}) {
    const auto& bound = is_floor ? k.floor : k.ceiling;
    if (!bound) continue;
    auto c = make(is_floor ? "floor" : "ceiling", k.benchmark, basis);
    add_reference(c, e, k);
    if (e.scope == envelope_scope::sku) {
      c.measured = median;
      c.limit = bound->base;
      c.unit = base_unit(m->info.metric);
      c.detail =
          fmt::format("median {:.4g} {} = {:.3f} of {} ({} {:.4g} {}, {:.3f} of the peak)", median,
                      c.unit, median / k.peak, k.peak_basis, is_floor ? "floor" : "ceiling",
                      *bound->value, bound->unit, bound->fraction);
    } else {
      if (!m->fraction_of_theoretical) {
        c.result = outcome::inconclusive;
        c.detail =
            "no theoretical peak at the measured clock for this result: the fraction cannot be "
            "checked";
        out.push_back(std::move(c));
        continue;
      }
      c.measured = *m->fraction_of_theoretical;
      c.limit = bound->fraction;
      c.unit = "fraction of the theoretical peak at the measured clock";
      c.detail = fmt::format("median {:.4g} {} is {:.3f} of {:.4g} ({}); {} {:.3f}", median,
                             base_unit(m->info.metric), *c.measured, m->theoretical.value_or(0),
                             m->theoretical_basis, is_floor ? "floor" : "ceiling", bound->fraction);
    }
    c.margin = *c.measured / *c.limit - 1;
    const bool ok = is_floor ? *c.measured >= *c.limit : *c.measured <= *c.limit;
    c.result = ok ? outcome::pass : outcome::fail;
    if (!ok)
      c.detail += is_floor
                      ? ": below the floor"
                      : ": above the ceiling, which no correct measurement exceeds (a timing or "
                        "counting error)";
    out.push_back(std::move(c));
  }
}

// The envelope's telemetry conditions over the gated results.
void apply_telemetry(const telemetry_conditions& t, const std::string& basis,
                     const bench::device_info& d, const std::vector<const measurement*>& gated,
                     std::vector<check_outcome>& out) {
  if (t.throttle_idle_only) {
    auto c = make("telemetry", "", basis);
    c.detail = "throttle reasons other than idle during the timed samples";
    bool readable = false;
    int throttled = 0;
    std::string which;
    for (const auto* m : gated) {
      for (const auto& s : m->samples) {
        if (!s.throttle_reasons) continue;
        readable = true;
        if ((*s.throttle_reasons & ~benign_reasons) != 0) {
          ++throttled;
          if (which.find(m->info.name) == std::string::npos)
            which += (which.empty() ? "" : ", ") + m->info.name;
        }
      }
    }
    if (!readable) {
      c.result = outcome::inconclusive;
      c.detail += ": unreadable (no NVML throttle reasons in the samples)";
    } else {
      c.measured = throttled;
      c.limit = 0;
      c.unit = "samples";
      c.result = throttled == 0 ? outcome::pass : outcome::fail;
      c.detail += throttled == 0 ? ": none"
                                 : fmt::format(": {} sample(s) throttled ({})", throttled, which);
    }
    out.push_back(std::move(c));
  }
  auto number = [&d](const std::string& key) -> std::optional<double> {
    const auto v = property(d, key);
    if (!v) return std::nullopt;
    try {
      return std::stod(*v);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  };
  if (t.ecc_unchanged) {
    auto c = make("telemetry", "", basis);
    const auto before = number("ecc_uncorrected");
    const auto after = number("ecc_uncorrected_after");
    c.detail = "uncorrectable ECC count unchanged over the run";
    if (!before || !after) {
      c.result = outcome::inconclusive;
      c.detail += ": unreadable (ECC off or no NVML)";
    } else {
      c.measured = *after - *before;
      c.limit = 0;
      c.unit = "errors";
      c.result = *after == *before ? outcome::pass : outcome::fail;
      c.detail += fmt::format(": {:.0f} before, {:.0f} after", *before, *after);
    }
    out.push_back(std::move(c));
  }
  if (t.pcie_at_maximum) {
    auto c = make("telemetry", "", basis);
    auto gen = number("pcie_link_gen_after");
    auto width = number("pcie_link_width_after");
    if (!gen || !width) {
      gen = number("pcie_link_gen");
      width = number("pcie_link_width");
    }
    const auto max_gen = number("pcie_link_max_gen");
    const auto max_width = number("pcie_link_max_width");
    // The width is gated: a link trained to fewer lanes than the slot and device allow is a fault
    // (a bad riser or seat). The generation is not: NVIDIA GPUs train the link down to a lower
    // generation when idle, and this reading is taken after the benchmarks, so a lower generation
    // here proves nothing; the pcie_* bandwidth floors gate the link's generation under load.
    c.detail = "PCIe link at its maximum width";
    if (!gen || !width || !max_gen || !max_width) {
      c.result = outcome::inconclusive;
      c.detail += ": unreadable";
    } else {
      c.measured = *width;
      c.limit = *max_width;
      c.unit = "lanes";
      c.result = *width >= *max_width ? outcome::pass : outcome::fail;
      c.detail += fmt::format(
          ": x{:.0f} of x{:.0f}; generation {:.0f} of {:.0f} after the run{}", *width, *max_width,
          *gen, *max_gen,
          *gen < *max_gen
              ? " (links train down when idle: the pcie_* bandwidth floors gate the generation "
                "under load)"
              : "");
    }
    out.push_back(std::move(c));
  }
  if (t.temperature_under_limit) {
    auto c = make("telemetry", "", basis);
    const auto limit = number("temperature_slowdown_c");
    double hottest = std::numeric_limits<double>::quiet_NaN();
    for (const auto* m : gated) {
      for (const auto& s : m->samples) {
        if (!std::isnan(s.temperature_c) && (std::isnan(hottest) || s.temperature_c > hottest))
          hottest = s.temperature_c;
      }
    }
    c.detail = "temperature under the device's slowdown limit during the timed samples";
    if (!limit || std::isnan(hottest)) {
      c.result = outcome::inconclusive;
      c.detail += ": unreadable";
    } else {
      c.measured = hottest;
      c.limit = *limit;
      c.unit = "degrees C";
      c.margin = hottest / *limit - 1;
      c.result = hottest < *limit ? outcome::pass : outcome::fail;
      c.detail += fmt::format(": hottest {:.0f} C, limit {:.0f} C", hottest, *limit);
    }
    out.push_back(std::move(c));
  }
}

json telemetry_summary(const measurement& m) {
  std::vector<double> power;
  std::vector<double> temp;
  std::optional<unsigned> other;
  for (const auto& s : m.samples) {
    if (!std::isnan(s.power_w)) power.push_back(s.power_w);
    if (!std::isnan(s.temperature_c)) temp.push_back(s.temperature_c);
    if (s.other_device_processes) other = std::max(other.value_or(0), *s.other_device_processes);
  }
  json j;
  j["clock_mhz_median"] = m.clock.count > 0 ? json(m.clock.median) : json(nullptr);
  j["clock_mhz_min"] = m.clock.count > 0 ? json(m.clock.min) : json(nullptr);
  j["clock_mhz_max"] = m.clock.count > 0 ? json(m.clock.max) : json(nullptr);
  j["power_w_median"] = power.empty() ? json(nullptr) : json(bench::summarize(power).median);
  j["power_w_max"] =
      power.empty() ? json(nullptr) : json(*std::max_element(power.begin(), power.end()));
  j["temperature_c_max"] =
      temp.empty() ? json(nullptr) : json(*std::max_element(temp.begin(), temp.end()));
  j["throttle_reason_samples"] = m.throttle_reason_samples;
  j["throttled_samples"] = m.throttled_samples;
  j["clock_drift"] = m.clock_drift;
  j["other_device_processes_max"] = other ? json(*other) : json(nullptr);
  j["host_contention"] = std::isnan(m.host_contention) ? json(nullptr) : json(m.host_contention);
  return j;
}

json result_json(const measurement& m, const bench::run_settings& settings) {
  json j;
  j["benchmark"] = m.info.name;
  j["group"] = m.info.group;
  j["precision"] = m.info.prec ? json(std::string(to_string(*m.info.prec))) : json(nullptr);
  j["unit"] = base_unit(m.info.metric);
  j["method"] = {{"description", m.info.description},
                 {"isa", m.info.isa},
                 {"footprint_bytes", num(m.info.footprint_bytes)},
                 {"reps_per_sample", m.reps_per_sample},
                 {"warmup_s", num(m.warmup_s)}};
  j["status"] = to_string(m.status);
  j["reason"] = opt_string(m.reason);
  j["verified"] = m.verified;
  j["verification"] = {{"passed", m.check.passed},
                       {"max_error", num(m.check.max_error)},
                       {"tolerance", num(m.check.tolerance)},
                       {"detail", m.check.detail}};
  j["stop_reason"] = to_string(m.stopped);
  j["samples"] = m.rate.count;
  const bool has = m.rate.count > 0;
  j["median"] = has ? num(m.rate.median) : json(nullptr);
  j["q1"] = has ? num(m.rate.q1) : json(nullptr);
  j["q3"] = has ? num(m.rate.q3) : json(nullptr);
  j["iqr"] = has ? num(m.rate.iqr) : json(nullptr);
  j["min"] = has ? num(m.rate.min) : json(nullptr);
  j["max"] = has ? num(m.rate.max) : json(nullptr);
  j["noise"] = has ? num(m.rate.noise) : json(nullptr);
  j["suspect"] = m.suspect;
  j["suspect_reasons"] = m.suspect_reasons;
  j["gate_usable"] = !unusable(m, settings).has_value();
  j["telemetry"] = telemetry_summary(m);
  j["theoretical"] = opt(m.theoretical);
  j["theoretical_basis"] = opt_string(m.theoretical_basis);
  j["fraction_of_theoretical"] = opt(m.fraction_of_theoretical);
  j["theoretical_at_max_clock"] = opt(m.theoretical_at_max_clock);
  return j;
}

json check_json(const check_outcome& c) {
  return {{"kind", c.kind},
          {"benchmark", opt_string(c.benchmark)},
          {"basis", c.basis},
          {"reference", c.reference_url.empty()
                            ? json(nullptr)
                            : json{{"url", c.reference_url}, {"title", c.reference_title}}},
          {"evidence", opt_string(c.evidence)},
          {"measured", opt(c.measured)},
          {"limit", opt(c.limit)},
          {"unit", opt_string(c.unit)},
          {"margin", opt(c.margin)},
          {"result", to_string(c.result)},
          {"detail", c.detail}};
}

}  // namespace

const char* to_string(outcome o) noexcept {
  switch (o) {
    case outcome::pass: return "pass";
    case outcome::fail: return "fail";
    case outcome::inconclusive: return "inconclusive";
  }
  return "inconclusive";
}

int node_certification::exit_status() const noexcept {
  switch (verdict) {
    case outcome::pass: return static_cast<int>(exit_code::ok);
    case outcome::fail: return static_cast<int>(exit_code::regression);
    case outcome::inconclusive: return static_cast<int>(exit_code::unverified);
  }
  return static_cast<int>(exit_code::unverified);
}

void merge_round(bench::measurement_report& base, const bench::measurement_report& round) {
  for (auto& m : base.results) {
    if (!gated_group(m.info.group)) continue;
    const measurement* r = nullptr;
    for (const auto& x : round.results) {
      if (x.device_id == m.device_id && x.info.name == m.info.name) r = &x;
    }
    if (!r) continue;
    if (r->status == result_status::invalid && m.status != result_status::invalid) {
      m.status = result_status::invalid;
      m.reason = "soak round: " + r->reason;
      m.verified = false;
    }
    if (r->suspect && !m.suspect) {
      m.suspect = true;
      for (const auto& s : r->suspect_reasons) m.suspect_reasons.push_back("soak round: " + s);
    }
    if (r->status != result_status::ok) continue;
    m.samples.insert(m.samples.end(), r->samples.begin(), r->samples.end());
    m.throttled_samples += r->throttled_samples;
    m.throttle_reason_samples += r->throttle_reason_samples;
    m.clock_drift = m.clock_drift || r->clock_drift;
    std::vector<double> rates;
    std::vector<double> clocks;
    for (const auto& s : m.samples) {
      rates.push_back(s.rate());
      if (!std::isnan(s.clock_mhz)) clocks.push_back(s.clock_mhz);
    }
    m.rate = bench::summarize(rates);
    m.clock = bench::summarize(clocks);
    if (m.theoretical && *m.theoretical > 0)
      m.fraction_of_theoretical = m.rate.median / *m.theoretical;
  }
}

node_certification certify_report(catalog& cat, const envelope_set& envelopes,
                                  const bench::measurement_report& report,
                                  const certify_context& ctx) {
  node_certification node;
  const auto settings = bench::run_settings::for_mode(
      report.mode == "full" ? bench::run_mode::full : bench::run_mode::quick);
  const evaluation_plan plan(cat.rules(), ctx.as_of);

  // Identity first, for every device, so that a contradicting --spec fails before any output.
  for (const auto& d : report.devices) {
    device_certificate dc;
    dc.device = d;
    dc.match =
        ctx.spec.empty() ? match_sheet(cat.parts(), d) : check_spec_sheet(cat.part(ctx.spec), d);
    for (const auto& m : report.results) {
      if (m.device_id == d.id) dc.results.push_back(m);
    }
    node.devices.push_back(std::move(dc));
  }

  for (auto& dc : node.devices) {
    const auto& d = dc.device;
    const auto arch = architecture_of(d);
    const envelope* sku = dc.match.sheet ? envelopes.for_part(dc.match.sheet->id) : nullptr;
    const envelope* family = envelopes.for_architecture(d.backend, arch);
    // Per benchmark: the SKU's check where it has one, else the architecture's.
    std::vector<std::pair<const envelope*, const envelope_check*>> plan_checks;
    if (sku) {
      for (const auto& k : sku->checks) plan_checks.emplace_back(sku, &k);
    }
    if (family) {
      for (const auto& k : family->checks) {
        const bool covered =
            std::any_of(plan_checks.begin(), plan_checks.end(),
                        [&](const auto& p) { return p.second->benchmark == k.benchmark; });
        if (!covered) plan_checks.emplace_back(family, &k);
      }
    }
    if (plan_checks.empty()) {
      auto c = make("coverage", "", "specs/envelopes");
      c.result = outcome::inconclusive;
      c.detail = fmt::format(
          "no envelope covers this device: none for its sheet ({}) nor for backend {} "
          "architecture '{}'",
          dc.match.sheet ? dc.match.sheet->id : "unknown part", d.backend,
          arch.empty() ? "unknown" : arch);
      dc.checks.push_back(std::move(c));
    }
    for (const auto& [e, k] : plan_checks) apply_check(*e, *k, dc.results, settings, dc.checks);

    // Every result must verify: one that did not makes the certificate unverifiable.
    for (const auto& m : dc.results) {
      if (m.status != result_status::invalid) continue;
      auto c = make("verification", m.info.name,
                    "the runner's verification and ceiling (docs/measurement.md)");
      c.result = outcome::inconclusive;
      c.detail = "unverifiable: " + m.reason;
      dc.checks.push_back(std::move(c));
    }
    // Own theoretical peak at the measured clock: no usable result may exceed it beyond the
    // tolerance.
    std::vector<const measurement*> gated;
    for (const auto& m : dc.results) {
      if (!gated_group(m.info.group) || unusable(m, settings)) continue;
      gated.push_back(&m);
      if (!m.fraction_of_theoretical) continue;
      auto c = make("theoretical", m.info.name, m.theoretical_basis);
      c.measured = *m.fraction_of_theoretical;
      c.limit = 1 + settings.ceiling_tolerance;
      c.unit = "fraction of the theoretical peak at the measured clock";
      c.margin = *c.measured / *c.limit - 1;
      c.result = *c.measured <= *c.limit ? outcome::pass : outcome::fail;
      c.detail =
          fmt::format("{:.3f} of the device's own peak (at most {:.2f})", *c.measured, *c.limit);
      dc.checks.push_back(std::move(c));
    }
    telemetry_conditions t;
    std::string basis;
    for (const auto* e : {sku, family}) {
      if (!e) continue;
      t.throttle_idle_only |= e->telemetry.throttle_idle_only;
      t.ecc_unchanged |= e->telemetry.ecc_unchanged;
      t.pcie_at_maximum |= e->telemetry.pcie_at_maximum;
      t.temperature_under_limit |= e->telemetry.temperature_under_limit;
      basis += (basis.empty() ? "envelope " : ", ") + e->id;
    }
    apply_telemetry(t, basis, d, gated, dc.checks);
  }

  // Outliers: a device more than 10 % below the median of its same-SKU peers fails.
  std::map<std::string, std::vector<device_certificate*>> skus;
  for (auto& dc : node.devices)
    skus[dc.match.sheet ? dc.match.sheet->id : "name:" + dc.device.name].push_back(&dc);
  for (auto& [key, group] : skus) {
    if (group.size() < 2) continue;
    for (auto* dc : group) {
      for (const auto& m : dc->results) {
        if (!gated_group(m.info.group) || unusable(m, settings)) continue;
        std::vector<double> peers;
        for (const auto* other : group) {
          if (other == dc) continue;
          const auto* p = find_result(other->results, m.info.name);
          if (p && !unusable(*p, settings)) peers.push_back(p->rate.median);
        }
        if (peers.empty()) continue;
        const double med = bench::summarize(peers).median;
        auto c = make("outlier", m.info.name,
                      fmt::format("median of {} same-SKU peer(s) on this node", peers.size()));
        c.measured = m.rate.median;
        c.limit = (1 - outlier_fraction) * med;
        c.unit = base_unit(m.info.metric);
        c.margin = m.rate.median / med - 1;
        c.result = m.rate.median >= *c.limit ? outcome::pass : outcome::fail;
        c.detail = fmt::format("{:.4g} against the peers' median {:.4g} ({:+.1f} %)", m.rate.median,
                               med, 100 * *c.margin);
        if (c.result == outcome::fail) c.detail += ": more than 10 % below its peers, an outlier";
        dc->checks.push_back(std::move(c));
      }
    }
  }

  // Classification, verdicts and bodies.
  for (auto& dc : node.devices) {
    const auto& d = dc.device;
    json cls;
    json tpp = {{"declared", nullptr},
                {"derived", nullptr},
                {"measured", nullptr},
                {"measured_is_lower_bound", true},
                {"theoretical_at_measured_clock", nullptr},
                {"theoretical_at_max_clock", nullptr}};
    std::vector<std::string> findings = dc.match.findings;
    const std::string spec_arg = !dc.match.sheet ? ""
                                 : dc.match.method == match_method::spec_option
                                     ? ctx.spec
                                     : dc.match.sheet->id;
    try {
      const auto mc = bench::classify_measured(cat, plan, report, ctx.source, spec_arg, d.id);
      const auto& r = mc.results.front();
      tpp["declared"] = opt(mc.declared_tpp);
      tpp["derived"] = opt(mc.derived_tpp);
      tpp["measured"] = mc.tpp();
      tpp["theoretical_at_measured_clock"] = opt(mc.measured.theoretical_tpp);
      tpp["theoretical_at_max_clock"] = opt(mc.measured.theoretical_tpp_max_clock);
      std::vector<json> regimes;
      const auto rendered = nlohmann::json::parse(bench::render(mc, plan, output_format::json));
      for (const auto& v : rendered.at("verdicts"))
        regimes.push_back({{"regime", v.at("regime")},
                           {"role", v.at("role")},
                           {"outcome", v.at("outcome")},
                           {"eccn", v.at("eccn")},
                           {"clause", v.at("clause")},
                           {"reason", v.at("reason")}});
      findings.insert(findings.end(), mc.findings.begin(), mc.findings.end());
      cls = {{"as_of", ctx.as_of.to_string()},
             {"eccn", r.eccn.empty() ? json(nullptr) : json(std::string(r.eccn))},
             {"outcome", std::string(to_string(r.outcome))},
             {"regimes", regimes},
             {"error", nullptr}};
    } catch (const error& e) {
      auto c = make("classification", "", "classify --measured");
      c.result = outcome::inconclusive;
      c.detail = std::string("not classified: ") + e.what();
      dc.checks.push_back(std::move(c));
      cls = {{"as_of", ctx.as_of.to_string()},
             {"eccn", nullptr},
             {"outcome", "undetermined"},
             {"regimes", json::array()},
             {"error", e.what()}};
    }
    cls["findings"] = findings;

    const bool any_fail = std::any_of(dc.checks.begin(), dc.checks.end(),
                                      [](const auto& c) { return c.result == outcome::fail; });
    const bool any_open = std::any_of(dc.checks.begin(), dc.checks.end(), [](const auto& c) {
      return c.result == outcome::inconclusive;
    });
    dc.verdict = any_fail ? outcome::fail : any_open ? outcome::inconclusive : outcome::pass;
    for (const auto& c : dc.checks) {
      if (c.result == outcome::pass) continue;
      dc.reasons.push_back(fmt::format(
          "{}{}{}: {}", to_string(c.result) == std::string("fail") ? "FAIL " : "INCONCLUSIVE ",
          c.kind, c.benchmark.empty() ? "" : " " + c.benchmark, c.detail));
    }
    const bool unknown = dc.match.sheet == nullptr;
    if (unknown)
      dc.reasons.insert(
          dc.reasons.begin(),
          "unknown part: certified against its derived (theoretical) peaks only; no sheet was "
          "guessed");

    json identity = json::object();
    for (const auto& [k, v] : d.properties) identity[k] = v;
    json results = json::array();
    for (const auto& m : dc.results) results.push_back(result_json(m, settings));
    json checks = json::array();
    for (const auto& c : dc.checks) checks.push_back(check_json(c));
    std::string governor = property(d, "governor").value_or("");
    if (governor.empty())
      governor = read_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");

    json& b = dc.body;
    b["kind"] = "device";
    b["verdict"] = {
        {"outcome", to_string(dc.verdict)}, {"unknown_part", unknown}, {"reasons", dc.reasons}};
    b["who"] = {{"lab", ctx.lab}, {"tester", ctx.tester}, {"location", ctx.location}};
    b["when"] = {{"start_utc", ctx.started_utc},
                 {"end_utc", ctx.ended_utc},
                 {"measured_utc", report.created_utc}};
    b["host"] = {{"hostname", report.host.hostname},
                 {"cpu_model", report.host.cpu_model},
                 {"logical_cpus", report.host.logical_cpus},
                 {"memory_bytes", num(report.host.memory_bytes)},
                 {"kernel", report.host.kernel},
                 {"os", report.host.os}};
    b["device"] = {{"id", d.id},          {"backend", d.backend},
                   {"name", d.name},      {"vendor", d.vendor},
                   {"units", d.units},    {"architecture", opt_string(architecture_of(d))},
                   {"identity", identity}};
    b["sheet"] = dc.match.sheet ? json{{"id", dc.match.sheet->id},
                                       {"name", dc.match.sheet->name},
                                       {"vendor", dc.match.sheet->vendor},
                                       {"matched_by", to_string(dc.match.method)},
                                       {"detail", dc.match.detail}}
                                : json{{"id", nullptr},
                                       {"name", nullptr},
                                       {"vendor", nullptr},
                                       {"matched_by", "none"},
                                       {"detail", dc.match.detail}};
    b["tooling"] = {{"tool_version", report.tool_version},
                    {"git_sha", report.git_sha},
                    {"build_type", CHIPGAUGE_BUILD_TYPE},
                    {"build_flags", CHIPGAUGE_BUILD_FLAGS},
                    {"compiler", report.host.compiler},
                    {"kernel", report.host.kernel},
                    {"cpu_governor", governor.empty() ? json(nullptr) : json(governor)},
                    {"cuda_driver", opt_string(property(d, "driver_version").value_or(""))},
                    {"cuda_runtime", opt_string(property(d, "cuda_runtime").value_or(""))},
                    {"mode", report.mode},
                    {"soak_s", ctx.duration_s},
                    {"soak_rounds", ctx.soak_rounds},
                    {"source", ctx.source},
                    {"argv", ctx.argv},
                    {"run_settings",
                     {{"sample_target_s", settings.sample_target_s},
                      {"min_samples", settings.min_samples},
                      {"max_samples", settings.max_samples},
                      {"max_time_s", settings.max_time_s},
                      {"target_noise", settings.target_cv},
                      {"ceiling_tolerance", settings.ceiling_tolerance}}}};
    b["results"] = results;
    b["checks"] = checks;
    b["tpp"] = tpp;
    b["classification"] = cls;
  }

  const bool any_fail = std::any_of(node.devices.begin(), node.devices.end(),
                                    [](const auto& dc) { return dc.verdict == outcome::fail; });
  const bool any_open = std::any_of(node.devices.begin(), node.devices.end(), [](const auto& dc) {
    return dc.verdict == outcome::inconclusive;
  });
  node.verdict = node.devices.empty() ? outcome::inconclusive
                 : any_fail           ? outcome::fail
                 : any_open           ? outcome::inconclusive
                                      : outcome::pass;
  return node;
}

json node_summary(const node_certification& n, const certify_context& ctx,
                  const std::vector<std::string>& certificate_files) {
  json devices = json::array();
  for (std::size_t i = 0; i < n.devices.size(); ++i) {
    const auto& dc = n.devices[i];
    devices.push_back({{"device", dc.device.id},
                       {"name", dc.device.name},
                       {"sheet", dc.match.sheet ? json(dc.match.sheet->id) : json(nullptr)},
                       {"verdict", to_string(dc.verdict)},
                       {"certificate", i < certificate_files.size() ? json(certificate_files[i])
                                                                    : json(nullptr)}});
  }
  return {{"schema", "chipgauge.certificate-summary/1"},
          {"verdict", to_string(n.verdict)},
          {"lab", ctx.lab},
          {"tester", ctx.tester},
          {"location", ctx.location},
          {"start_utc", ctx.started_utc},
          {"end_utc", ctx.ended_utc},
          {"devices", devices}};
}

std::string health_line(const node_certification& n) {
  if (n.devices.empty()) return "chipgauge certify: inconclusive: no device was measured\n";
  const device_certificate* first = nullptr;
  int others = 0;
  for (const auto& dc : n.devices) {
    if (dc.verdict == outcome::pass) continue;
    if (first == nullptr && (n.verdict != outcome::fail || dc.verdict == outcome::fail)) {
      first = &dc;
    } else {
      ++others;
    }
  }
  if (first == nullptr)
    return fmt::format("chipgauge certify: pass ({} devices)\n", n.devices.size());
  std::string reason =
      first->reasons.empty() ? std::string("no reason recorded") : first->reasons.front();
  // One line: Slurm keeps the reason as a single string.
  std::replace(reason.begin(), reason.end(), '\n', ' ');
  return fmt::format("chipgauge certify: {}: {}: {}{}\n", to_string(n.verdict), first->device.id,
                     reason, others > 0 ? fmt::format(" (+{} more)", others) : std::string());
}

}  // namespace chipgauge::certify
