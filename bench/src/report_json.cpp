// `chipgauge.measurement/1` JSON: writing and strict reading (round trip exact).
#include "chipgauge/bench/report.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/json_reader.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

using chipgauge::classifier::parse_precision;

namespace chipgauge::bench {

namespace {

using json = nlohmann::ordered_json;

json num_or_null(double v) { return std::isnan(v) ? json(nullptr) : json(v); }
json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json summary_json(const summary& s) {
  return {{"median", s.median}, {"min", s.min},     {"max", s.max},    {"q1", s.q1},
          {"q3", s.q3},         {"iqr", s.iqr},     {"mean", s.mean},  {"stddev", s.stddev},
          {"cv", s.cv},         {"noise", s.noise}, {"count", s.count}};
}

json result_json(const measurement& m) {
  json j;
  j["benchmark"] = m.info.name;
  j["device"] = m.device_id;
  j["group"] = m.info.group;
  j["precision"] = m.info.prec ? json(std::string(to_string(*m.info.prec))) : json(nullptr);
  j["metric"] = to_string(m.info.metric);
  j["isa"] = m.info.isa;
  j["description"] = m.info.description;
  j["footprint_bytes"] = m.info.footprint_bytes;
  j["status"] = to_string(m.status);
  j["reason"] = m.reason;
  j["verified"] = m.verified;
  j["verification"] = {{"passed", m.check.passed},
                       {"max_error", m.check.max_error},
                       {"tolerance", m.check.tolerance},
                       {"detail", m.check.detail}};
  j["median"] = m.rate.median;
  j["min"] = m.rate.min;
  j["max"] = m.rate.max;
  j["iqr"] = m.rate.iqr;
  j["cv"] = m.rate.cv;
  j["noise"] = m.rate.noise;
  j["samples"] = m.samples.size();
  j["rate_summary"] = summary_json(m.rate);
  j["stop_reason"] = to_string(m.stopped);
  j["reps_per_sample"] = m.reps_per_sample;
  j["warmup_s"] = m.warmup_s;
  j["clock_mhz"] = m.clock.count ? summary_json(m.clock) : json(nullptr);
  j["throttled_samples"] = m.throttled_samples;
  j["clock_drift"] = m.clock_drift;
  j["theoretical"] = opt(m.theoretical);
  j["theoretical_basis"] = m.theoretical_basis;
  j["fraction_of_theoretical"] = opt(m.fraction_of_theoretical);
  j["theoretical_at_max_clock"] = opt(m.theoretical_at_max_clock);
  j["throttle_reason_samples"] = m.throttle_reason_samples;
  j["ceiling"] = opt(m.ceiling);
  j["ceiling_basis"] = m.ceiling_basis;
  j["host_contention"] = num_or_null(m.host_contention);
  j["host_steal"] = num_or_null(m.host_steal);
  j["suspect"] = m.suspect;
  j["suspect_reasons"] = m.suspect_reasons;
  json samples = json::array();
  for (const auto& s : m.samples)
    samples.push_back(
        {{"seconds", s.seconds},
         {"work", s.work},
         {"clock_mhz", num_or_null(s.clock_mhz)},
         {"temperature_c", num_or_null(s.temperature_c)},
         {"power_w", num_or_null(s.power_w)},
         {"memory_clock_mhz", num_or_null(s.memory_clock_mhz)},
         {"sm_clock_nvml_mhz", num_or_null(s.sm_clock_nvml_mhz)},
         {"power_limit_w", num_or_null(s.power_limit_w)},
         {"throttle_reasons", s.throttle_reasons ? json(*s.throttle_reasons) : json(nullptr)},
         {"other_device_processes",
          s.other_device_processes ? json(*s.other_device_processes) : json(nullptr)}});
  j["sample_values"] = samples;
  return j;
}

summary read_summary(const json_node& n) {
  n.expect_keys(
      {"median", "min", "max", "q1", "q3", "iqr", "mean", "stddev", "cv", "noise", "count"});
  summary s;
  s.median = n.at("median").number();
  s.min = n.at("min").number();
  s.max = n.at("max").number();
  s.q1 = n.at("q1").number();
  s.q3 = n.at("q3").number();
  s.iqr = n.at("iqr").number();
  s.mean = n.at("mean").number();
  s.stddev = n.at("stddev").number();
  s.cv = n.at("cv").number();
  s.noise = n.at("noise").number();
  s.count = static_cast<std::size_t>(n.at("count").integer_in(0, 1LL << 40));
  return s;
}

double number_or_nan(const json_node& parent, std::string_view key) {
  const auto n = parent.at(key);
  return n.is_null() ? std::nan("") : n.number();
}

std::optional<double> optional_number(const json_node& parent, std::string_view key) {
  const auto n = parent.at(key);
  if (n.is_null()) return std::nullopt;
  return n.number();
}

measurement read_result(const json_node& n) {
  n.expect_keys({"benchmark",
                 "device",
                 "group",
                 "precision",
                 "metric",
                 "isa",
                 "description",
                 "footprint_bytes",
                 "status",
                 "reason",
                 "verified",
                 "verification",
                 "median",
                 "min",
                 "max",
                 "iqr",
                 "cv",
                 "noise",
                 "samples",
                 "rate_summary",
                 "stop_reason",
                 "reps_per_sample",
                 "warmup_s",
                 "clock_mhz",
                 "throttled_samples",
                 "clock_drift",
                 "theoretical",
                 "theoretical_basis",
                 "fraction_of_theoretical",
                 "theoretical_at_max_clock",
                 "throttle_reason_samples",
                 "ceiling",
                 "ceiling_basis",
                 "host_contention",
                 "host_steal",
                 "suspect",
                 "suspect_reasons",
                 "sample_values"});
  measurement m;
  m.info.name = n.at("benchmark").string();
  m.device_id = n.at("device").string();
  m.info.group = n.at("group").string();
  if (const auto p = n.at("precision"); !p.is_null()) {
    const auto text = p.string();
    const auto prec = parse_precision(text);
    if (!prec) p.fail(fmt::format("unknown precision '{}'", text));
    m.info.prec = prec;
  }
  m.info.metric = n.at("metric").one_of({"ops_per_s", "bytes_per_s"}) == "ops_per_s"
                      ? metric_kind::ops_per_s
                      : metric_kind::bytes_per_s;
  m.info.isa = n.at("isa").string();
  m.info.description = n.at("description").string();
  m.info.footprint_bytes = n.at("footprint_bytes").number_in(0, 1e18, "bytes");
  const auto status = n.at("status").one_of({"ok", "skipped", "invalid"});
  m.status = status == "ok"        ? result_status::ok
             : status == "skipped" ? result_status::skipped
                                   : result_status::invalid;
  m.reason = n.at("reason").string();
  m.verified = n.at("verified").boolean();
  const auto v = n.at("verification");
  v.expect_keys({"passed", "max_error", "tolerance", "detail"});
  m.check = {v.at("passed").boolean(), v.at("max_error").number(), v.at("tolerance").number(),
             v.at("detail").string()};
  if (m.verified != m.check.passed) n.at("verified").fail("disagrees with verification.passed");
  if (m.status == result_status::ok && !m.verified)
    n.at("status").fail("a result can be 'ok' only when verified");
  m.rate = read_summary(n.at("rate_summary"));
  const auto stop =
      n.at("stop_reason")
          .one_of({"none", "noise_target", "noise_stable", "time_cap", "max_samples"});
  m.stopped = stop == "noise_target"   ? stop_reason::noise_target
              : stop == "noise_stable" ? stop_reason::noise_stable
              : stop == "time_cap"     ? stop_reason::time_cap
              : stop == "max_samples"  ? stop_reason::max_samples
                                       : stop_reason::none;
  m.reps_per_sample = static_cast<std::uint64_t>(n.at("reps_per_sample").integer_in(0, 1LL << 62));
  m.warmup_s = n.at("warmup_s").number_in(0, 1e6, "s");
  if (const auto c = n.at("clock_mhz"); !c.is_null()) m.clock = read_summary(c);
  m.throttled_samples = static_cast<int>(n.at("throttled_samples").integer_in(0, 1 << 30));
  m.clock_drift = n.at("clock_drift").boolean();
  m.theoretical = optional_number(n, "theoretical");
  m.theoretical_basis = n.at("theoretical_basis").string();
  m.fraction_of_theoretical = optional_number(n, "fraction_of_theoretical");
  m.theoretical_at_max_clock = optional_number(n, "theoretical_at_max_clock");
  m.throttle_reason_samples =
      static_cast<int>(n.at("throttle_reason_samples").integer_in(0, 1 << 30));
  // Added later: a report without them has no ceiling and no contention reading (unknown).
  if (n.find("ceiling")) m.ceiling = optional_number(n, "ceiling");
  if (auto b = n.find("ceiling_basis")) m.ceiling_basis = b->string();
  if (n.find("host_contention"))
    m.host_contention = n.at("host_contention").number_in(0, 1, "share of CPU time");
  if (n.find("host_steal")) m.host_steal = n.at("host_steal").number_in(0, 1, "share of CPU time");
  if (auto x = n.find("suspect")) m.suspect = x->boolean();
  if (auto x = n.find("suspect_reasons")) {
    for (const auto& r : x->elements()) m.suspect_reasons.push_back(r.string());
  }
  if (m.suspect != !m.suspect_reasons.empty())
    n.at("suspect").fail("a suspect result needs suspect_reasons, and only it");
  for (const auto& s : n.at("sample_values").elements()) {
    s.expect_keys({"seconds", "work", "clock_mhz", "temperature_c", "power_w", "memory_clock_mhz",
                   "sm_clock_nvml_mhz", "power_limit_w", "throttle_reasons",
                   "other_device_processes"});
    sample x;
    x.seconds = s.at("seconds").number_in(0, 1e9, "s");
    x.work = s.at("work").number_in(0, 1e30, "ops or bytes");
    x.clock_mhz = number_or_nan(s, "clock_mhz");
    x.temperature_c = number_or_nan(s, "temperature_c");
    x.power_w = number_or_nan(s, "power_w");
    x.memory_clock_mhz = number_or_nan(s, "memory_clock_mhz");
    // Added after the first reports: absent reads as unreadable.
    if (s.find("sm_clock_nvml_mhz")) x.sm_clock_nvml_mhz = number_or_nan(s, "sm_clock_nvml_mhz");
    if (s.find("power_limit_w")) x.power_limit_w = number_or_nan(s, "power_limit_w");
    if (const auto r = s.at("throttle_reasons"); !r.is_null())
      x.throttle_reasons =
          static_cast<std::uint64_t>(r.integer_in(0, std::numeric_limits<long long>::max()));
    if (const auto o = s.find("other_device_processes"))
      x.other_device_processes = static_cast<unsigned>(o->integer_in(0, 1 << 20));
    m.samples.push_back(x);
  }
  const auto count = n.at("samples").integer_in(0, 1LL << 40);
  if (static_cast<std::size_t>(count) != m.samples.size())
    n.at("samples").fail(
        fmt::format("says {} samples but sample_values holds {}", count, m.samples.size()));
  // The top-level figures repeat the summary; they must agree (a hand-edited report is refused).
  const double median = n.at("median").number();
  if (median != m.rate.median) n.at("median").fail("disagrees with rate_summary.median");
  if (m.status == result_status::ok && !(m.rate.median > 0))
    n.at("median").fail("an 'ok' result needs a positive median rate");
  return m;
}

}  // namespace

std::string to_json(const measurement_report& r) {
  json j;
  j["schema"] = "chipgauge.measurement/1";
  j["tool_version"] = r.tool_version;
  j["git_sha"] = r.git_sha;
  j["argv"] = r.argv;
  j["created_utc"] = r.created_utc;
  j["mode"] = r.mode;
  j["host"] = {{"hostname", r.host.hostname},
               {"cpu_model", r.host.cpu_model},
               {"logical_cpus", r.host.logical_cpus},
               {"memory_bytes", r.host.memory_bytes},
               {"kernel", r.host.kernel},
               {"os", r.host.os},
               {"compiler", r.host.compiler}};
  json devices = json::array();
  for (const auto& d : r.devices) {
    // Properties sorted by key, as a parsed report holds them, so a round trip is exact.
    auto sorted = d.properties;
    std::sort(sorted.begin(), sorted.end());
    json props = json::object();
    for (const auto& [k, v] : sorted) props[k] = v;
    devices.push_back({{"backend", d.backend},
                       {"id", d.id},
                       {"name", d.name},
                       {"vendor", d.vendor},
                       {"units", d.units},
                       {"features", d.features},
                       {"properties", props}});
  }
  j["devices"] = devices;
  json results = json::array();
  for (const auto& m : r.results) results.push_back(result_json(m));
  j["results"] = results;
  return j.dump(2) + "\n";
}

measurement_report parse_report_doc(const nlohmann::json& doc, const std::string& file) {
  const json_node root(doc, file);
  // The schema first: a spec sheet or a classification passed by mistake is named as such.
  if (root.at("schema").string() != "chipgauge.measurement/1")
    root.at("schema").fail(fmt::format(
        "expected \"chipgauge.measurement/1\" (a chipgauge measure report), found \"{}\"",
        root.at("schema").string()));
  root.expect_keys({"schema", "tool_version", "git_sha", "argv", "created_utc", "mode", "host",
                    "devices", "results"});
  measurement_report r;
  r.tool_version = root.at("tool_version").string();
  r.git_sha = root.at("git_sha").string();
  for (const auto& a : root.at("argv").elements()) r.argv.push_back(a.string());
  r.created_utc = root.at("created_utc").string();
  r.mode = root.at("mode").one_of({"quick", "full"});
  const auto h = root.at("host");
  h.expect_keys(
      {"hostname", "cpu_model", "logical_cpus", "memory_bytes", "kernel", "os", "compiler"});
  r.host = {h.at("hostname").string(),
            h.at("cpu_model").string(),
            static_cast<int>(h.at("logical_cpus").integer_in(0, 1 << 20)),
            h.at("memory_bytes").number_in(0, 1e18, "bytes"),
            h.at("kernel").string(),
            h.at("os").string(),
            h.at("compiler").string()};
  for (const auto& d : root.at("devices").elements()) {
    d.expect_keys({"backend", "id", "name", "vendor", "units", "features", "properties"});
    device_info di;
    di.backend = d.at("backend").string();
    di.id = d.at("id").string();
    di.name = d.at("name").string();
    di.vendor = d.at("vendor").string();
    di.units = static_cast<int>(d.at("units").integer_in(0, 1 << 20));
    for (const auto& f : d.at("features").elements()) di.features.push_back(f.string());
    for (const auto& [k, v] : d.at("properties").members())
      di.properties.emplace_back(k, v.string());
    r.devices.push_back(std::move(di));
  }
  for (const auto& res : root.at("results").elements()) {
    auto m = read_result(res);
    const bool known = std::any_of(r.devices.begin(), r.devices.end(),
                                   [&](const device_info& d) { return d.id == m.device_id; });
    if (!known)
      res.at("device").fail(fmt::format("device '{}' is not among 'devices'", m.device_id));
    r.results.push_back(std::move(m));
  }
  return r;
}

measurement_report parse_report(std::string_view text, const std::string& file) {
  return parse_report_doc(parse_json_text(text, file), file);
}

measurement_report load_report(const std::string& path) {
  return parse_report_doc(read_json_file(path), path);
}

}  // namespace chipgauge::bench
