// Ingest: one report or certificate becomes one run, in one transaction (docs/history.md#ingest).
#include "chipgauge/history/ingest.hpp"

#include "chipgauge/bench/gbench.hpp"
#include "chipgauge/classifier/precision.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "chipgauge/core/signing.hpp"
#include "chipgauge/core/text.hpp"
#include "connection.hpp"
#include "packed_results.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <bit>
#include <cmath>
#include <map>

using chipgauge::classifier::parse_precision;

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
  auto& st = s.prepare(
      "SELECT id, (SELECT count(*) FROM results WHERE run_id = runs.id) FROM runs WHERE "
      "source_sha256 = ?");
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
    auto& ins = s.prepare(
        "INSERT INTO devices (identity, name, vendor, backend, uuid, serial) VALUES (?, ?, ?, "
        "?, ?, ?)");
    ins.bind(1, identity).bind(2, d.name).bind(3, d.vendor).bind(4, d.backend);
    if (const auto u = readable(d, "uuid"); !u.empty()) ins.bind(5, u);
    if (const auto sn = readable(d, "serial"); !sn.empty()) ins.bind(6, sn);
    ins.run();
    id = s.db->last_insert_id();
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

// The key of `b` in store::impl::benchmark_ids: what makes a benchmark row unique (name,
// precision, metric, parameters), length-prefixed so that no two benchmarks share a key, built
// into `key` without the JSON of parameters_of (a result row's only per-row string work).
void benchmark_key(const bench::benchmark_info& b, std::string& key) {
  key.clear();
  const auto append = [&key](std::string_view v) {
    key.append(std::to_string(v.size())).append(1, ':').append(v);
  };
  append(b.name);
  append(b.prec ? to_string(*b.prec) : std::string_view());
  append(bench::to_string(b.metric));
  append(b.isa);
  const auto bits = std::bit_cast<std::uint64_t>(b.footprint_bytes > 0 ? b.footprint_bytes : 0.0);
  key.append(reinterpret_cast<const char*>(&bits), sizeof bits);
}

std::int64_t benchmark_id(store::impl& s, const bench::benchmark_info& b, std::string& key) {
  benchmark_key(b, key);
  if (const auto it = s.benchmark_ids.find(key); it != s.benchmark_ids.end()) return it->second;
  const std::string prec = b.prec ? std::string(to_string(*b.prec)) : std::string();
  const std::string metric = bench::to_string(b.metric);
  const std::string params = parameters_of(b);
  auto& find = s.prepare(
      "SELECT id FROM benchmarks WHERE name = ? AND precision = ? AND metric = ? AND parameters "
      "= ?");
  find.bind(1, b.name).bind(2, prec).bind(3, metric).bind(4, params);
  std::int64_t id = 0;
  if (find.step()) {
    id = find.integer(0);
    find.reset();
  } else {
    find.reset();
    auto& ins = s.prepare(
        "INSERT INTO benchmarks (name, grp, precision, metric, parameters, description) VALUES "
        "(?, ?, ?, ?, ?, ?)");
    ins.bind(1, b.name)
        .bind(2, b.group)
        .bind(3, prec)
        .bind(4, metric)
        .bind(5, params)
        .bind(6, b.description);
    ins.run();
    id = s.db->last_insert_id();
  }
  s.benchmark_ids.emplace(key, id);
  return id;
}

// A stored certificate run's integrity and findings (an earlier ingest's), into `out`.
void stored_integrity(store::impl& s, ingest_outcome& out) {
  auto& st = s.prepare("SELECT integrity, findings FROM certificates WHERE run_id = ?");
  st.bind(1, out.run_id);
  if (st.step()) {
    out.integrity = st.text(0);
    const auto f = json::parse(st.text(1), nullptr, false);
    if (f.is_array())
      for (const auto& x : f)
        if (x.is_string()) out.findings.push_back(x.get<std::string>());
  }
  st.reset();
}

// What the store records of verify_certificate's answer (schema version 2, `certificates`).
std::string integrity_of(const certificate_check& c) {
  const auto v = c.verdict();
  if (v == "verified") return c.has_signature ? "verified" : "unsigned";
  if (v == "unauthenticated") return "unauthenticated";
  return "failed";
}

// An optional number of a certificate result: null (no samples) gives nullopt.
std::optional<double> opt_number(const json_node& n, std::string_view key) {
  const auto v = n.find(key);
  if (!v) return std::nullopt;
  return v->number();
}

// A NaN where the store keeps NULL (statement::bind does the same for a PostgreSQL row).
std::optional<double> unless_nan(const std::optional<double>& v) {
  return v && !std::isnan(*v) ? v : std::nullopt;
}

// Writes a run's results: on SQLite one result_sets row holding them all (schema version 5,
// packed_results.hpp), on PostgreSQL one results row each. Records are added in the run's order;
// nothing is visible until the run's transaction commits.
class result_writer {
 public:
  result_writer(store::impl& s, std::int64_t run_id)
      : s_(s), run_id_(run_id), packed_(s.db->kind() == detail::backend_kind::sqlite) {}

  // Adds `r` (its id is assigned here).
  void add(detail::result_record& r) {
    if (packed_) {
      r.id = set_.count();  // the ordinal: first_id is chosen in finish
      set_.add(r, 0);
      return;
    }
    auto& ins = s_.prepare(
        "INSERT INTO results (run_id, device_id, benchmark_id, status, reason, verified, suspect, "
        "suspect_reasons, stop_reason, median, min, max, q1, q3, cv, sample_count, clock_mhz, "
        "throttled_samples, theoretical, fraction, rates, clocks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    ins.bind(1, run_id_).bind(2, r.device_id).bind(3, r.benchmark_id).bind(4, r.status);
    ins.bind(5, r.reason).bind(6, r.verified).bind(7, r.suspect);
    if (r.suspect_reasons) ins.bind(8, *r.suspect_reasons);
    ins.bind(9, r.stop_reason).bind(10, r.median).bind(11, r.min).bind(12, r.max);
    ins.bind(13, r.q1).bind(14, r.q3).bind(15, r.cv).bind(16, r.sample_count);
    ins.bind(17, r.clock_mhz).bind(18, r.throttled_samples);
    ins.bind(19, r.theoretical).bind(20, r.fraction);
    if (r.rates) ins.bind_blob(21, *r.rates);
    if (r.clocks) ins.bind_blob(22, *r.clocks);
    ins.run();
  }

  // Writes the packed set (SQLite): its ids follow the highest id stored, as a rowid would (read
  // once per write transaction, then counted on: nothing else writes while it is open).
  void finish() {
    if (!packed_ || set_.count() == 0) return;
    if (!s_.next_result_id) {
      auto& last = s_.prepare("SELECT last_id FROM result_sets ORDER BY first_id DESC LIMIT 1");
      s_.next_result_id = last.step() ? last.integer(0) + 1 : 1;
      last.reset();
    }
    const std::int64_t first = *s_.next_result_id;
    auto& ins = s_.prepare(
        "INSERT INTO result_sets (run_id, first_id, last_id, count, results) VALUES (?, ?, ?, "
        "?, ?)");
    ins.bind(1, run_id_).bind(2, first).bind(3, first + set_.count() - 1).bind(4, set_.count());
    ins.bind_blob(5, set_.bytes());
    ins.run();
    s_.next_result_id = first + set_.count();
  }

 private:
  store::impl& s_;
  std::int64_t run_id_;
  bool packed_;
  detail::result_set_writer set_;
};

}  // namespace

ingest_outcome ingest_report(store& st, const bench::measurement_report& report,
                             const ingest_source& source, const row_hook& hook) {
  auto& s = st.internals();
  ingest_outcome out;
  // Outside a write_batch, a file already stored takes no write lock; inside one, the lock is
  // held and the check in the transaction below is the only one needed.
  if (!s.batch_open && (out.run_id = existing_run(s, source.sha256, out.results)) != 0) {
    out.already_present = true;
    return out;
  }
  const auto created = parse_utc(report.created_utc);
  if (!created)
    throw spec_error(source.name, "$.created_utc",
                     fmt::format("'{}' is not a time stamp: expected YYYY-MM-DDTHH:MM:SSZ",
                                 quote_input(report.created_utc)));

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
  // Another process may have ingested the same file since the check above (inside a write_batch
  // that check was skipped). A separate SELECT rather than an INSERT ... ON CONFLICT DO NOTHING
  // RETURNING id: SQLite runs RETURNING through a temporary table, which costs more than the
  // lookup (about 10 % fewer results a second, alternating runs of history_benchmark).
  if ((out.run_id = existing_run(s, source.sha256, out.results)) != 0) {
    out.already_present = true;
    return out;
  }
  auto& run = s.prepare(
      "INSERT INTO runs (source_kind, source_sha256, source_name, created_utc, ingested_utc, "
      "tool_version, git_sha, mode, host, kernel, driver, toolkit, argv, context) VALUES (?, ?, "
      "?, ?, strftime('%s', 'now'), ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  run.bind(1, to_string(source.kind)).bind(2, source.sha256).bind(3, source.name).bind(4, *created);
  run.bind(5, report.tool_version)
      .bind(6, report.git_sha)
      .bind(7, report.mode)
      .bind(8, report.host.hostname);
  run.bind(9, report.host.kernel)
      .bind(10, driver)
      .bind(11, toolkit)
      .bind(12, argv.dump(-1, ' ', false, json::error_handler_t::replace));
  run.bind(13, context.dump(-1, ' ', false, json::error_handler_t::replace));
  run.run();
  out.run_id = s.db->last_insert_id();

  std::map<std::string, std::int64_t, std::less<>> local;  // report device id -> store device id
  std::map<std::int64_t, std::string> seen;                // store device id -> report device id
  for (std::size_t i = 0; i < report.devices.size(); ++i) {
    const auto& d = report.devices[i];
    const auto identity = device_identity(d, report.host.hostname);
    const auto id = device_id(s, d, identity);
    if (const auto it = seen.find(id); it != seen.end())
      throw spec_error(
          source.name, fmt::format("$.devices[{}]", i),
          fmt::format("device '{}' has the same identity as '{}' ({}): expected distinct devices",
                      quote_input(d.id), quote_input(it->second), quote_input(identity)));
    if (!local.emplace(d.id, id).second)
      throw spec_error(source.name, fmt::format("$.devices[{}].id", i),
                       fmt::format("device id '{}' repeats", quote_input(d.id)));
    seen.emplace(id, d.id);
    json props = json::object();
    props["units"] = d.units;
    props["features"] = d.features;
    for (const auto& [k, v] : d.properties) props[k] = v;
    auto& rd = s.prepare(
        "INSERT INTO run_devices (run_id, device_id, local_id, properties) VALUES (?, ?, ?, ?)");
    rd.bind(1, out.run_id)
        .bind(2, id)
        .bind(3, d.id)
        .bind(4, props.dump(-1, ' ', false, json::error_handler_t::replace));
    rd.run();
  }

  std::string key;  // benchmark_key's buffer, reused across rows
  std::string reasons;
  std::vector<double> values;
  std::vector<unsigned char> rates;
  std::vector<unsigned char> clocks;
  result_writer results(s, out.run_id);
  for (std::size_t i = 0; i < report.results.size(); ++i) {
    const auto& m = report.results[i];
    const auto dev = local.find(m.device_id);
    if (dev == local.end())
      throw spec_error(
          source.name, fmt::format("$.results[{}].device", i),
          fmt::format("device '{}' is not among the report's devices", quote_input(m.device_id)));
    detail::result_record r;
    r.device_id = dev->second;
    r.benchmark_id = benchmark_id(s, m.info, key);
    r.status = bench::to_string(m.status);
    r.reason = m.reason;
    r.verified = m.verified;
    r.suspect = m.suspect;
    if (!m.suspect_reasons.empty()) {
      reasons = json(m.suspect_reasons).dump(-1, ' ', false, json::error_handler_t::replace);
      r.suspect_reasons = reasons;
    }
    r.stop_reason = bench::to_string(m.stopped);
    r.median = m.rate.median;
    r.min = m.rate.min;
    r.max = m.rate.max;
    r.q1 = m.rate.q1;
    r.q3 = m.rate.q3;
    r.cv = m.rate.cv;
    r.sample_count = static_cast<std::int64_t>(m.samples.size());
    if (m.clock.count) r.clock_mhz = unless_nan(m.clock.median);
    r.throttled_samples = m.throttled_samples;
    r.theoretical = unless_nan(m.theoretical);
    r.fraction = unless_nan(m.fraction_of_theoretical);
    if (!m.samples.empty()) {
      values.clear();
      bool any_clock = false;
      for (const auto& x : m.samples) values.push_back(x.rate());
      r.rates = std::span<const unsigned char>(detail::to_blob(values, rates));
      values.clear();
      for (const auto& x : m.samples) {
        values.push_back(x.clock_mhz);
        any_clock = any_clock || !std::isnan(x.clock_mhz);
      }
      if (any_clock) r.clocks = std::span<const unsigned char>(detail::to_blob(values, clocks));
    }
    results.add(r);
    ++out.results;
    if (hook) hook(out.results);
  }
  results.finish();
  tx.commit();
  return out;
}

ingest_outcome ingest_certificate(store& st, std::string_view text, const nlohmann::json& doc,
                                  const ingest_source& source, const ingest_options& options,
                                  const row_hook& hook) {
  auto& s = st.internals();
  ingest_outcome out;
  if ((out.run_id = existing_run(s, source.sha256, out.results)) != 0) {
    out.already_present = true;
    stored_integrity(s, out);
    return out;
  }
  // Integrity first: a malformed envelope (wrong schema, bad hex or base64) throws spec_error.
  const auto check = verify_certificate(doc, options.trusted_key, source.name);
  out.integrity = integrity_of(check);
  out.findings = check.findings;
  const bool intact = out.integrity != "failed";

  // The body, read strictly enough that every field the store keeps is named on error.
  const json_node root(doc, source.name);
  const auto body = root.at("body");
  (void)body.at("kind").one_of({"device"});
  const auto when = body.at("when");
  const auto end_text = when.at("end_utc").string();
  const auto end = parse_utc(end_text);
  if (!end)
    when.at("end_utc").fail(fmt::format("'{}' is not a time stamp: expected YYYY-MM-DDTHH:MM:SSZ",
                                        quote_input(end_text)));
  const auto host = body.at("host");
  const auto dev = body.at("device");
  const auto tooling = body.at("tooling");
  const auto opt_text = [](const json_node& n, std::string_view key) {
    const auto v = n.find(key);
    return v ? v->string() : std::string();
  };

  bench::device_info d;
  d.id = dev.at("id").string();
  d.backend = dev.at("backend").string();
  d.name = dev.at("name").string();
  d.vendor = dev.at("vendor").string();
  d.units = static_cast<int>(dev.at("units").integer_in(0, 1'000'000));
  json props = json::object();
  props["units"] = d.units;
  if (const auto a = dev.find("architecture")) props["architecture"] = a->string();
  for (const auto& [k, v] : dev.at("identity").members()) {
    if (!v.is_string()) continue;  // identity values are strings; anything else is not an identity
    d.properties.emplace_back(k, v.string());
    props[k] = v.string();
  }
  const auto hostname = host.at("hostname").string();
  const auto verdict = body.at("verdict").at("outcome").one_of({"pass", "fail", "inconclusive"});
  std::optional<std::string> sheet_id;
  if (const auto id = body.at("sheet").find("id")) sheet_id = id->string();
  const auto tpp = opt_number(body.at("tpp"), "measured");

  json argv = json::array();
  if (const auto a = tooling.find("argv"))
    for (const auto& x : a->elements()) argv.push_back(x.string());
  json context = {{"host",
                   {{"hostname", hostname},
                    {"cpu_model", opt_text(host, "cpu_model")},
                    {"kernel", opt_text(host, "kernel")},
                    {"os", opt_text(host, "os")}}},
                  {"certificate",
                   {{"verdict", verdict},
                    {"integrity", out.integrity},
                    {"start_utc", opt_text(when, "start_utc")},
                    {"end_utc", end_text},
                    {"measured_utc", opt_text(when, "measured_utc")},
                    {"source", opt_text(tooling, "source")}}}};
  if (const auto who = body.find("who")) context["certificate"]["who"] = who->raw();
  const auto dump = [](const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
  };

  detail::transaction tx(s);
  if ((out.run_id = existing_run(s, source.sha256, out.results)) != 0) {
    out.already_present = true;
    stored_integrity(s, out);
    return out;
  }
  auto& run = s.prepare(
      "INSERT INTO runs (source_kind, source_sha256, source_name, created_utc, ingested_utc, "
      "tool_version, git_sha, mode, host, kernel, driver, toolkit, argv, context) VALUES (?, ?, "
      "?, ?, strftime('%s', 'now'), ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  run.bind(1, to_string(source_kind::certificate))
      .bind(2, source.sha256)
      .bind(3, source.name)
      .bind(4, *end);
  run.bind(5, tooling.at("tool_version").string())
      .bind(6, tooling.at("git_sha").string())
      .bind(7, tooling.at("mode").string());
  run.bind(8, hostname)
      .bind(9, opt_text(tooling, "kernel"))
      .bind(10, opt_text(tooling, "cuda_driver"));
  run.bind(11, opt_text(tooling, "cuda_runtime")).bind(12, dump(argv)).bind(13, dump(context));
  run.run();
  out.run_id = s.db->last_insert_id();

  const auto device = device_id(s, d, device_identity(d, hostname));
  auto& rd = s.prepare(
      "INSERT INTO run_devices (run_id, device_id, local_id, properties) VALUES (?, ?, ?, ?)");
  rd.bind(1, out.run_id).bind(2, device).bind(3, d.id).bind(4, dump(props));
  rd.run();

  result_writer results(s, out.run_id);
  for (const auto& r : body.at("results").elements()) {
    bench::benchmark_info b;
    b.name = r.at("benchmark").string();
    b.group = r.at("group").string();
    if (const auto p = r.find("precision")) {
      b.prec = parse_precision(p->string());
      if (!b.prec) p->fail(fmt::format("unknown precision '{}'", quote_input(p->string())));
    }
    b.metric = r.at("unit").one_of({"ops/s", "bytes/s"}) == "bytes/s"
                   ? bench::metric_kind::bytes_per_s
                   : bench::metric_kind::ops_per_s;
    const auto method = r.at("method");
    b.description = method.at("description").string();
    b.isa = opt_text(method, "isa");
    b.footprint_bytes = opt_number(method, "footprint_bytes").value_or(0);
    std::string key;
    const auto bench_id = benchmark_id(s, b, key);
    const auto status = r.at("status").one_of({"ok", "skipped", "invalid"});
    std::string reason = opt_text(r, "reason");
    // A certificate that failed verification vouches for nothing: its results are stored
    // unverified.
    if (!intact)
      reason = "certificate failed verification" + (reason.empty() ? std::string() : ": " + reason);
    const auto reasons = r.at("suspect_reasons");
    const auto telemetry = r.at("telemetry");
    detail::result_record rec;
    rec.device_id = device;
    rec.benchmark_id = bench_id;
    rec.status = status;
    rec.reason = reason;
    rec.verified = intact && r.at("verified").boolean();
    rec.suspect = r.at("suspect").boolean();
    std::string reasons_text;
    if (!reasons.elements().empty()) {
      reasons_text = dump(reasons.raw());
      rec.suspect_reasons = reasons_text;
    }
    const std::string stop_reason = r.at("stop_reason").string();
    rec.stop_reason = stop_reason;
    // Summary statistics only (null where nothing was measured: stored as 0, as a report's
    // skipped result is); a certificate records no CV, so cv is 0 (docs/history.md#certificates).
    rec.median = opt_number(r, "median").value_or(0);
    rec.min = opt_number(r, "min").value_or(0);
    rec.max = opt_number(r, "max").value_or(0);
    rec.q1 = opt_number(r, "q1").value_or(0);
    rec.q3 = opt_number(r, "q3").value_or(0);
    rec.cv = 0;
    rec.sample_count = r.at("samples").integer_in(0, 1'000'000'000);
    rec.clock_mhz = unless_nan(opt_number(telemetry, "clock_mhz_median"));
    const auto throttled = telemetry.find("throttled_samples");
    rec.throttled_samples = throttled ? throttled->integer_in(0, 1'000'000'000) : 0;
    rec.theoretical = unless_nan(opt_number(r, "theoretical"));
    rec.fraction = unless_nan(opt_number(r, "fraction_of_theoretical"));
    results.add(rec);
    ++out.results;
    if (hook) hook(out.results);
  }

  results.finish();

  for (const auto& c : body.at("checks").elements()) {
    const auto result = c.at("result").one_of({"pass", "fail", "inconclusive"});
    std::string name = c.at("kind").string();
    if (const auto bm = c.find("benchmark")) name += " " + bm->string();
    auto& ins = s.prepare(
        "INSERT INTO checks (run_id, device_id, name, outcome, detail) VALUES (?, ?, ?, ?, ?)");
    ins.bind(1, out.run_id)
        .bind(2, device)
        .bind(3, name)
        .bind(4, result == "inconclusive" ? "undetermined" : result);
    ins.bind(5, c.at("detail").string());
    ins.run();
  }

  json findings = check.findings;
  auto& cert = s.prepare(
      "INSERT INTO certificates (run_id, device_id, node, verdict, sheet_id, tpp_measured, "
      "end_utc, integrity, signer_key_id, trusted_key_id, findings, document) VALUES (?, ?, ?, "
      "?, ?, ?, ?, ?, ?, ?, ?, ?)");
  cert.bind(1, out.run_id).bind(2, device).bind(3, hostname).bind(4, verdict);
  if (sheet_id) cert.bind(5, *sheet_id);
  cert.bind(6, tpp).bind(7, *end).bind(8, out.integrity);
  if (!check.signer_key_id.empty()) cert.bind(9, check.signer_key_id);
  if (check.trusted_key_id) cert.bind(10, *check.trusted_key_id);
  cert.bind(11, dump(findings)).bind(12, text);
  cert.run();
  tx.commit();
  return out;
}

namespace {

// Recognises what `text` is and parses it into `d` (whose source names it and holds its hash);
// throws spec_error naming the file for what no supported kind reads.
void parse_into(prepared_document& d, std::string_view text) {
  const std::string& path = d.source.name;
  auto doc = parse_json_text(text, path);
  const json_node root(doc, path);
  if (!root.is_object())
    root.fail(
        "expected a JSON object: a chipgauge measurement report, a certificate or Google "
        "Benchmark JSON");
  if (const auto schema = root.find("schema")) {
    const auto name = schema.value().string();
    if (name == "chipgauge.measurement/1") {
      d.source.kind = source_kind::chipgauge_report;
      d.report = bench::parse_report_doc(doc, path);
      return;
    }
    if (name == certificate_schema) {
      d.source.kind = source_kind::certificate;
      d.text = std::string(text);
      d.doc = std::move(doc);
      return;
    }
    schema.value().fail(fmt::format("unknown schema '{}': expected chipgauge.measurement/1 or {}",
                                    quote_input(name), certificate_schema));
  }
  if (bench::looks_like_gbench_json(doc)) {
    // Foreign results: stored as read, invalid and unverified (bench/gbench.hpp), never usable.
    d.source.kind = source_kind::gbench;
    d.report = bench::parse_gbench_doc(doc, path);
    return;
  }
  root.fail(
      "neither a chipgauge measurement report (schema chipgauge.measurement/1), a certificate "
      "(chipgauge.certificate/1) nor Google Benchmark JSON (context and benchmarks)");
}

prepared_document prepare_hashed(std::string_view text, const std::string& path, std::string sha256,
                                 store* lookup) {
  prepared_document d;
  d.source.sha256 = std::move(sha256);
  d.source.name = path;
  if (lookup) {
    std::size_t results = 0;
    try {
      d.parse_skipped = existing_run(lookup->internals(), d.source.sha256, results) != 0;
    } catch (const std::exception&) {
      // Only a shortcut: bytes the lookup cannot place are parsed, and the store decides.
    }
    if (d.parse_skipped) {
      d.text = std::string(text);
      return d;
    }
  }
  try {
    parse_into(d, text);
  } catch (...) {
    d.error = std::current_exception();
  }
  return d;
}

// The run stored under `sha256`, as an outcome, or nullopt.
std::optional<ingest_outcome> already_stored(store& s, const std::string& sha256) {
  ingest_outcome out;
  if ((out.run_id = existing_run(s.internals(), sha256, out.results)) == 0) return std::nullopt;
  out.already_present = true;
  stored_integrity(s.internals(), out);
  return out;
}

}  // namespace

prepared_document prepare_bytes(std::string_view text, const std::string& path, store* lookup) {
  return prepare_hashed(text, path, sha256_hex(text), lookup);
}

prepared_document prepare_file(const std::string& path, store* lookup) {
  std::string text;
  try {
    text = read_text_file(path, file_limits::report);
  } catch (...) {
    prepared_document d;
    d.source.name = path;
    d.error = std::current_exception();
    return d;
  }
  return prepare_bytes(text, path, lookup);
}

ingest_outcome ingest_prepared(store& s, const prepared_document& d, const ingest_options& options,
                               const row_hook& hook) {
  if (d.error || d.parse_skipped) {
    if (!d.source.sha256.empty()) {
      if (auto out = already_stored(s, d.source.sha256)) return *out;
    }
    if (d.error) std::rethrow_exception(d.error);
    // Stored when prepared, gone now (pruned meanwhile): parsed and stored after all.
    return ingest_prepared(s, prepare_hashed(d.text, d.source.name, d.source.sha256, nullptr),
                           options, hook);
  }
  if (d.source.kind == source_kind::certificate)
    return ingest_certificate(s, d.text, d.doc, d.source, options, hook);
  return ingest_report(s, d.report, d.source, hook);
}

ingest_outcome ingest_file(store& s, const std::string& path, const ingest_options& options,
                           const row_hook& hook) {
  return ingest_bytes(s, read_text_file(path, file_limits::report), path, options, hook);
}

ingest_outcome ingest_bytes(store& s, const std::string& text, const std::string& path,
                            const ingest_options& options, const row_hook& hook) {
  // Bytes stored before are found before they are parsed.
  auto sha256 = sha256_hex(text);
  if (auto out = already_stored(s, sha256)) return *out;
  return ingest_prepared(s, prepare_hashed(text, path, std::move(sha256), nullptr), options, hook);
}

ingest_outcome ingest_file(store& s, const std::string& path, const row_hook& hook) {
  return ingest_file(s, path, {}, hook);
}

ingest_outcome ingest_bytes(store& s, const std::string& text, const std::string& path,
                            const row_hook& hook) {
  return ingest_bytes(s, text, path, {}, hook);
}

}  // namespace chipgauge::history
