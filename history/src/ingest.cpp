// Ingest: one report becomes one run, in one transaction (docs/history.md#ingest).
#include "chipgauge/history/ingest.hpp"

#include "chipgauge/bench/gbench.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "chipgauge/core/text.hpp"
#include "sqlite.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <map>

namespace chipgauge::history {

namespace {

using json = nlohmann::ordered_json;

// A property's value when the backend could read it.
std::string readable(const bench::device_info& d, std::string_view key) {
  for (const auto& [k, v] : d.properties) {
    if (k == key && !v.empty() && !v.starts_with("unreadable")) return v;
  }
  return {};
}

std::string device_identity(const bench::device_info& d, const std::string& host) {
  if (const auto uuid = readable(d, "uuid"); !uuid.empty()) return "uuid:" + uuid;
  if (const auto serial = readable(d, "serial"); !serial.empty()) return "serial:" + serial;
  return fmt::format("host:{}/{}/{}", host, d.id, d.name);
}

std::int64_t existing_run(store::impl& s, const std::string& sha, std::size_t& results) {
  auto& st = s.prepare("SELECT id, (SELECT count(*) FROM results WHERE run_id = runs.id) FROM runs WHERE source_sha256 = ?");
  st.bind(1, sha);
  std::int64_t id = 0;
  if (st.step()) {
    id = st.integer(0);
    results = static_cast<std::size_t>(st.integer(1));
  }
  st.reset();
  return id;
}

std::int64_t device_id(store::impl& s, const bench::device_info& d, const std::string& identity) {
  if (const auto it = s.device_ids.find(identity); it != s.device_ids.end()) return it->second;
  auto& find = s.prepare("SELECT id FROM devices WHERE identity = ?");
  find.bind(1, identity);
  std::int64_t id = 0;
  if (find.step()) {
    id = find.integer(0);
    find.reset();
  } else {
    find.reset();
    auto& ins = s.prepare("INSERT INTO devices (identity, name, vendor, backend, uuid, serial) VALUES (?, ?, ?, ?, ?, ?)");
    ins.bind(1, identity).bind(2, d.name).bind(3, d.vendor).bind(4, d.backend);
    if (const auto u = readable(d, "uuid"); !u.empty()) ins.bind(5, u);
    if (const auto sn = readable(d, "serial"); !sn.empty()) ins.bind(6, sn);
    ins.run();
    id = sqlite3_last_insert_rowid(s.db);
  }
  s.device_ids.emplace(identity, id);
  return id;
}

std::string parameters_of(const bench::benchmark_info& b) {
  json p = json::object();
  if (!b.isa.empty()) p["isa"] = b.isa;
  if (b.footprint_bytes > 0) p["footprint_bytes"] = b.footprint_bytes;
  return p.dump();
}

std::int64_t benchmark_id(store::impl& s, const bench::benchmark_info& b) {
  const std::string prec = b.prec ? std::string(to_string(*b.prec)) : std::string();
  const std::string metric = bench::to_string(b.metric);
  const std::string params = parameters_of(b);
  std::string key = b.name;
  key.append(1, '\x1f').append(prec).append(1, '\x1f').append(metric).append(1, '\x1f').append(params);
  if (const auto it = s.benchmark_ids.find(key); it != s.benchmark_ids.end()) return it->second;
  auto& find = s.prepare("SELECT id FROM benchmarks WHERE name = ? AND precision = ? AND metric = ? AND parameters = ?");
  find.bind(1, b.name).bind(2, prec).bind(3, metric).bind(4, params);
  std::int64_t id = 0;
  if (find.step()) {
    id = find.integer(0);
    find.reset();
  } else {
    find.reset();
    auto& ins = s.prepare(
        "INSERT INTO benchmarks (name, grp, precision, metric, parameters, description) VALUES (?, ?, ?, ?, ?, ?)");
    ins.bind(1, b.name).bind(2, b.group).bind(3, prec).bind(4, metric).bind(5, params).bind(6, b.description);
    ins.run();
    id = sqlite3_last_insert_rowid(s.db);
  }
  s.benchmark_ids.emplace(std::move(key), id);
  return id;
}

}  // namespace

ingest_outcome ingest_report(store& st, const bench::measurement_report& report, const ingest_source& source,
                             const row_hook& hook) {
  auto& s = st.internals();
  ingest_outcome out;
  if ((out.run_id = existing_run(s, source.sha256, out.results)) != 0) {
    out.already_present = true;
    return out;
  }
  const auto created = parse_utc(report.created_utc);
  if (!created)
    throw spec_error(source.name, "$.created_utc",
                     fmt::format("'{}' is not a time stamp: expected YYYY-MM-DDTHH:MM:SSZ", quote_input(report.created_utc)));

  std::string driver;
  std::string toolkit;
  for (const auto& d : report.devices) {
    if (driver.empty()) driver = readable(d, "driver_version");
    if (toolkit.empty()) toolkit = readable(d, "cuda_runtime");
  }
  json argv = json::array();
  for (const auto& a : report.argv) argv.push_back(a);
  const json context = {{"host",
                         {{"hostname", report.host.hostname},
                          {"cpu_model", report.host.cpu_model},
                          {"logical_cpus", report.host.logical_cpus},
                          {"memory_bytes", report.host.memory_bytes},
                          {"kernel", report.host.kernel},
                          {"os", report.host.os},
                          {"compiler", report.host.compiler}}}};

  detail::transaction tx(s);
  // Another process may have ingested the same file since the check above.
  if ((out.run_id = existing_run(s, source.sha256, out.results)) != 0) {
    out.already_present = true;
    return out;
  }
  auto& run = s.prepare(
      "INSERT INTO runs (source_kind, source_sha256, source_name, created_utc, ingested_utc, tool_version, git_sha, mode, host, "
      "kernel, driver, toolkit, argv, context) VALUES (?, ?, ?, ?, strftime('%s', 'now'), ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  run.bind(1, to_string(source.kind)).bind(2, source.sha256).bind(3, source.name).bind(4, *created);
  run.bind(5, report.tool_version).bind(6, report.git_sha).bind(7, report.mode).bind(8, report.host.hostname);
  run.bind(9, report.host.kernel).bind(10, driver).bind(11, toolkit).bind(12, argv.dump(-1, ' ', false, json::error_handler_t::replace));
  run.bind(13, context.dump(-1, ' ', false, json::error_handler_t::replace));
  run.run();
  out.run_id = sqlite3_last_insert_rowid(s.db);

  std::map<std::string, std::int64_t, std::less<>> local;  // report device id -> store device id
  std::map<std::int64_t, std::string> seen;                // store device id -> report device id
  for (std::size_t i = 0; i < report.devices.size(); ++i) {
    const auto& d = report.devices[i];
    const auto identity = device_identity(d, report.host.hostname);
    const auto id = device_id(s, d, identity);
    if (const auto it = seen.find(id); it != seen.end())
      throw spec_error(source.name, fmt::format("$.devices[{}]", i),
                       fmt::format("device '{}' has the same identity as '{}' ({}): expected distinct devices",
                                   quote_input(d.id), quote_input(it->second), quote_input(identity)));
    if (!local.emplace(d.id, id).second)
      throw spec_error(source.name, fmt::format("$.devices[{}].id", i), fmt::format("device id '{}' repeats", quote_input(d.id)));
    seen.emplace(id, d.id);
    json props = json::object();
    props["units"] = d.units;
    props["features"] = d.features;
    for (const auto& [k, v] : d.properties) props[k] = v;
    auto& rd = s.prepare("INSERT INTO run_devices (run_id, device_id, local_id, properties) VALUES (?, ?, ?, ?)");
    rd.bind(1, out.run_id).bind(2, id).bind(3, d.id).bind(4, props.dump(-1, ' ', false, json::error_handler_t::replace));
    rd.run();
  }

  std::vector<double> rates;
  std::vector<double> clocks;
  for (std::size_t i = 0; i < report.results.size(); ++i) {
    const auto& m = report.results[i];
    const auto dev = local.find(m.device_id);
    if (dev == local.end())
      throw spec_error(source.name, fmt::format("$.results[{}].device", i),
                       fmt::format("device '{}' is not among the report's devices", quote_input(m.device_id)));
    const auto bench_id = benchmark_id(s, m.info);
    json reasons = m.suspect_reasons;
    auto& r = s.prepare(
        "INSERT INTO results (run_id, device_id, benchmark_id, status, reason, verified, suspect, suspect_reasons, "
        "stop_reason, median, min, max, q1, q3, cv, sample_count, clock_mhz, throttled_samples, theoretical, fraction) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    r.bind(1, out.run_id).bind(2, dev->second).bind(3, bench_id).bind(4, bench::to_string(m.status)).bind(5, m.reason);
    r.bind(6, m.verified).bind(7, m.suspect);
    if (!m.suspect_reasons.empty()) r.bind(8, reasons.dump(-1, ' ', false, json::error_handler_t::replace));
    r.bind(9, bench::to_string(m.stopped)).bind(10, m.rate.median).bind(11, m.rate.min).bind(12, m.rate.max);
    r.bind(13, m.rate.q1).bind(14, m.rate.q3).bind(15, m.rate.cv).bind(16, static_cast<std::int64_t>(m.samples.size()));
    if (m.clock.count) r.bind(17, m.clock.median);
    r.bind(18, m.throttled_samples).bind(19, m.theoretical).bind(20, m.fraction_of_theoretical);
    r.run();
    const std::int64_t result_id = sqlite3_last_insert_rowid(s.db);
    if (!m.samples.empty()) {
      rates.clear();
      clocks.clear();
      bool any_clock = false;
      for (const auto& x : m.samples) {
        rates.push_back(x.rate());
        clocks.push_back(x.clock_mhz);
        any_clock = any_clock || !std::isnan(x.clock_mhz);
      }
      auto& sm = s.prepare("INSERT INTO samples (result_id, rates, clocks) VALUES (?, ?, ?)");
      sm.bind(1, result_id).bind_blob(2, detail::to_blob(rates));
      if (any_clock) sm.bind_blob(3, detail::to_blob(clocks));
      sm.run();
    }
    ++out.results;
    if (hook) hook(out.results);
  }
  tx.commit();
  return out;
}

ingest_outcome ingest_file(store& s, const std::string& path, const row_hook& hook) {
  return ingest_bytes(s, read_text_file(path, file_limits::report), path, hook);
}

ingest_outcome ingest_bytes(store& s, const std::string& text, const std::string& path, const row_hook& hook) {
  ingest_source source;
  source.sha256 = sha256_hex(text);
  source.name = path;
  ingest_outcome out;
  if ((out.run_id = existing_run(s.internals(), source.sha256, out.results)) != 0) {
    out.already_present = true;
    return out;
  }
  const auto doc = parse_json_text(text, path);
  const json_node root(doc, path);
  if (!root.is_object()) root.fail("expected a JSON object: a chipgauge measurement report or Google Benchmark JSON");
  if (const auto schema = root.find("schema")) {
    const auto name = schema.value().string();
    if (name == "chipgauge.measurement/1") {
      source.kind = source_kind::chipgauge_report;
      return ingest_report(s, bench::parse_report(text, path), source, hook);
    }
    if (name.starts_with("chipgauge.certificate/"))
      schema.value().fail(fmt::format("'{}': this build cannot ingest certificates yet (the certificate format is not "
                                      "part of it): expected chipgauge.measurement/1",
                                      quote_input(name)));
    schema.value().fail(fmt::format("unknown schema '{}': expected chipgauge.measurement/1", quote_input(name)));
  }
  if (bench::looks_like_gbench_json(doc)) {
    // Foreign results: stored as read, invalid and unverified (bench/gbench.hpp), never usable.
    source.kind = source_kind::gbench;
    return ingest_report(s, bench::parse_gbench_doc(doc, path), source, hook);
  }
  root.fail("neither a chipgauge measurement report (schema chipgauge.measurement/1) nor Google Benchmark JSON "
            "(context and benchmarks)");
}

}  // namespace chipgauge::history
