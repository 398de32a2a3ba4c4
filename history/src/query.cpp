// Reading the store: selections, runs, series, trends, a selection as a report, exports, pruning
// (docs/history.md#reading).
#include "chipgauge/history/query.hpp"

#include "chipgauge/bench/statistics.hpp"
#include "chipgauge/core/text.hpp"
#include "chipgauge/core/version.hpp"
#include "connection.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <variant>

using chipgauge::classifier::parse_precision;

namespace chipgauge::history {

namespace {

using json = nlohmann::ordered_json;
using param = std::variant<std::int64_t, std::string>;

void bind_all(detail::statement& st, const std::vector<param>& params) {
  int i = 1;
  for (const auto& p : params) {
    if (const auto* n = std::get_if<std::int64_t>(&p)) st.bind(i++, *n);
    else st.bind(i++, std::get<std::string>(p));
  }
}

constexpr const char* device_match =
    "SELECT id FROM devices WHERE instr(lower(name), lower(?)) >"
    " 0 OR instr(lower(identity), lower(?)) > 0";

// The WHERE clause of a selection over `results r JOIN runs ru JOIN benchmarks b`, without `last`.
std::string conditions(const selector& sel, std::optional<std::int64_t> run_id,
                       std::vector<param>& params) {
  std::string where = "TRUE";
  if (!sel.device.empty()) {
    where += fmt::format(" AND r.device_id IN ({})", device_match);
    params.emplace_back(sel.device);
    params.emplace_back(sel.device);
  }
  if (!sel.benchmark.empty()) {
    where += " AND r.benchmark_id IN (SELECT id FROM benchmarks WHERE name = ?)";
    params.emplace_back(sel.benchmark);
  }
  if (sel.since) {
    where += " AND ru.created_utc >= ?";
    params.emplace_back(*sel.since);
  }
  if (sel.until) {
    where += " AND ru.created_utc < ?";
    params.emplace_back(*sel.until);
  }
  if (run_id) {
    where += " AND r.run_id = ?";
    params.emplace_back(*run_id);
  }
  return where;
}

// The full WHERE clause, `last` included: per device x benchmark name, the most recent runs.
std::string selection(const selector& sel, std::optional<std::int64_t> run_id,
                      std::vector<param>& params) {
  std::string where = conditions(sel, run_id, params);
  if (sel.last) {
    std::vector<param> inner;
    const std::string inner_where = conditions(sel, run_id, inner);
    where += fmt::format(
        " AND r.id IN (SELECT rid FROM (SELECT r.id AS rid, row_number() OVER (PARTITION BY "
        "r.device_id, b.name ORDER BY ru.created_utc DESC, r.run_id DESC) AS rn FROM results r "
        "JOIN runs ru ON ru.id = r.run_id JOIN benchmarks b ON b.id = r.benchmark_id WHERE {}) "
        "AS ranked WHERE rn <= ?)",
        inner_where);
    params.insert(params.end(), inner.begin(), inner.end());
    params.emplace_back(static_cast<std::int64_t>(*sel.last));
  }
  return where;
}

constexpr const char* result_columns =
    "r.id, r.run_id, ru.created_utc, ru.source_kind, ru.host, ru.tool_version, ru.git_sha, "
    "d.id, d.identity, d.name, d.vendor, d.backend, rd.local_id, b.name, b.grp, b.precision, "
    "b.metric, b.parameters, b.description, r.status, r.reason, r.verified, r.suspect, "
    "r.suspect_reasons, r.stop_reason, r.median, r.min, r.max, r.q1, r.q3, r.cv, "
    "r.sample_count, r.clock_mhz, r.throttled_samples, r.theoretical, r.fraction";

result_row read_result(const detail::statement& st, bool with_samples) {
  result_row r;
  int c = 0;
  r.id = st.integer(c++);
  r.run_id = st.integer(c++);
  r.created_utc = st.integer(c++);
  r.source_kind = st.text(c++);
  r.host = st.text(c++);
  r.tool_version = st.text(c++);
  r.git_sha = st.text(c++);
  r.device_id = st.integer(c++);
  r.device_identity = st.text(c++);
  r.device_name = st.text(c++);
  r.device_vendor = st.text(c++);
  r.device_backend = st.text(c++);
  r.local_device = st.text(c++);
  r.benchmark = st.text(c++);
  r.group = st.text(c++);
  r.precision = st.text(c++);
  r.metric = st.text(c++);
  r.parameters = st.text(c++);
  r.description = st.text(c++);
  r.status = st.text(c++);
  r.reason = st.text(c++);
  r.verified = st.integer(c++) != 0;
  r.suspect = st.integer(c++) != 0;
  r.suspect_reasons = st.is_null(c) ? "[]" : st.text(c);
  ++c;
  r.stop_reason = st.text(c++);
  r.median = st.real(c++);
  r.min = st.real(c++);
  r.max = st.real(c++);
  r.q1 = st.real(c++);
  r.q3 = st.real(c++);
  r.cv = st.real(c++);
  r.sample_count = st.integer(c++);
  r.clock_mhz = st.optional_real(c++);
  r.throttled_samples = st.integer(c++);
  r.theoretical = st.optional_real(c++);
  r.fraction = st.optional_real(c++);
  if (with_samples) {
    if (!st.is_null(c)) r.rates = st.doubles(c);
    if (!st.is_null(c + 1)) r.clocks = st.doubles(c + 1);
  }
  return r;
}

run_row read_run(const detail::statement& st) {
  run_row r;
  int c = 0;
  r.id = st.integer(c++);
  r.source_kind = st.text(c++);
  r.source_sha256 = st.text(c++);
  r.source_name = st.text(c++);
  r.created_utc = st.integer(c++);
  r.ingested_utc = st.integer(c++);
  r.tool_version = st.text(c++);
  r.git_sha = st.text(c++);
  r.mode = st.text(c++);
  r.host = st.text(c++);
  r.kernel = st.text(c++);
  r.driver = st.text(c++);
  r.toolkit = st.text(c++);
  r.argv = st.text(c++);
  r.context = st.text(c++);
  r.results = st.integer(c++);
  const auto names = st.text(c++);
  std::size_t start = 0;
  while (start < names.size()) {
    const auto nl = names.find('\n', start);
    r.devices.push_back(
        names.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return r;
}

// The device names are joined by a line break: a literal one in the SQL string, which both
// dialects read (SQLite's char(10) is a type name to PostgreSQL).
constexpr const char* run_columns =
    "runs.id, source_kind, source_sha256, source_name, created_utc, ingested_utc, tool_version, "
    "git_sha, mode, host, kernel, driver, toolkit, argv, context, (SELECT count(*) FROM results "
    "WHERE run_id = runs.id), (SELECT group_concat(name, '\n"
    "') FROM (SELECT d.name AS name FROM run_devices rd JOIN devices d ON d.id = rd.device_id "
    "WHERE rd.run_id = runs.id ORDER BY rd.local_id) AS names)";

std::string number(double v) { return fmt::format("{}", v); }
std::string optional_number(const std::optional<double>& v) {
  return v ? number(*v) : std::string();
}

json optional_json(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

// One RFC 4180 line: a field with a comma, quote or line break is quoted, quotes doubled.
std::string csv_line(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    const auto& f = fields[i];
    if (f.find_first_of(",\"\n\r") == std::string::npos) {
      out += f;
      continue;
    }
    out += '"';
    for (const char c : f) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  out += '\n';
  return out;
}

}  // namespace

void for_each_result(store& st, const selector& sel, bool with_samples,
                     const std::function<void(const result_row&)>& fn,
                     std::optional<std::int64_t> run_id) {
  auto& s = st.internals();
  std::vector<param> params;
  const std::string where = selection(sel, run_id, params);
  const std::string sql = fmt::format(
      "SELECT {}{} FROM results r JOIN runs ru ON ru.id = r.run_id JOIN devices d ON d.id = "
      "r.device_id JOIN benchmarks b ON b.id = r.benchmark_id JOIN run_devices rd ON rd.run_id "
      "= r.run_id AND rd.device_id = r.device_id WHERE {} ORDER BY ru.created_utc, r.run_id, "
      "r.id",
      result_columns, with_samples ? ", r.rates, r.clocks" : "", where);
  // Not the cached statement: fn may run other queries, and a selection's SQL varies.
  detail::statement q(*s.db, sql);
  bind_all(q, params);
  while (q.step()) fn(read_result(q, with_samples));
}

std::vector<result_row> select_results(store& s, const selector& sel, bool with_samples,
                                       std::optional<std::int64_t> run_id) {
  std::vector<result_row> out;
  for_each_result(
      s, sel, with_samples, [&out](const result_row& r) { out.push_back(r); }, run_id);
  return out;
}

std::vector<run_row> list_runs(store& st, const selector& sel) {
  auto& s = st.internals();
  std::vector<param> params;
  std::string where;
  if (!sel.device.empty() || !sel.benchmark.empty() || sel.last) {
    where = fmt::format(
        "runs.id IN (SELECT DISTINCT r.run_id FROM results r JOIN runs ru ON ru.id = r.run_id "
        "JOIN benchmarks b ON b.id = r.benchmark_id WHERE {})",
        selection(sel, std::nullopt, params));
  } else {
    where = "TRUE";
    if (sel.since) {
      where += " AND created_utc >= ?";
      params.emplace_back(*sel.since);
    }
    if (sel.until) {
      where += " AND created_utc < ?";
      params.emplace_back(*sel.until);
    }
  }
  detail::statement q(
      *s.db, fmt::format("SELECT {} FROM runs WHERE {} ORDER BY created_utc, runs.id", run_columns,
                         where));
  bind_all(q, params);
  std::vector<run_row> out;
  while (q.step()) out.push_back(read_run(q));
  return out;
}

std::optional<run_row> find_run(store& st, std::int64_t id) {
  auto& s = st.internals();
  detail::statement q(*s.db, fmt::format("SELECT {} FROM runs WHERE runs.id = ?", run_columns));
  q.bind(1, id);
  if (!q.step()) return std::nullopt;
  return read_run(q);
}

std::vector<device_row> find_devices(store& st, std::string_view substring) {
  auto& s = st.internals();
  detail::statement q(
      *s.db,
      fmt::format(
          "SELECT id, identity, name, vendor, backend FROM devices WHERE id IN ({}) ORDER BY id",
          device_match));
  q.bind(1, substring).bind(2, substring);
  std::vector<device_row> out;
  while (q.step()) out.push_back({q.integer(0), q.text(1), q.text(2), q.text(3), q.text(4)});
  return out;
}

std::vector<series_row> list_series(store& st, const selector& sel) {
  auto& s = st.internals();
  std::vector<param> params;
  const std::string where = selection(sel, std::nullopt, params);
  detail::statement q(
      *s.db,
      fmt::format(
          "SELECT d.id, d.identity, d.name, d.vendor, d.backend, b.name, b.metric, "
          "count(DISTINCT r.run_id), max(ru.created_utc) FROM results r JOIN runs ru ON ru.id = "
          "r.run_id JOIN devices d ON d.id = r.device_id JOIN benchmarks b ON b.id = "
          "r.benchmark_id WHERE {} GROUP BY d.id, b.name, b.metric ORDER BY d.name, d.identity, "
          "b.name, b.metric",
          where));
  bind_all(q, params);
  std::vector<series_row> out;
  while (q.step())
    out.push_back({{q.integer(0), q.text(1), q.text(2), q.text(3), q.text(4)},
                   q.text(5),
                   q.text(6),
                   q.integer(7),
                   q.integer(8)});
  return out;
}

std::vector<trend_point> trend(store& st, std::int64_t device_id, const std::string& benchmark) {
  auto& q = st.internals().prepare(
      "SELECT r.run_id, ru.created_utc, r.status, r.verified, r.suspect, r.median, r.q1, r.q3, "
      "r.min, r.max, r.sample_count, r.clock_mhz FROM results r JOIN runs ru ON ru.id = "
      "r.run_id WHERE r.device_id = ? AND r.benchmark_id IN (SELECT id FROM benchmarks WHERE "
      "name = ?) ORDER BY ru.created_utc, r.run_id, r.id");
  q.bind(1, device_id).bind(2, benchmark);
  std::vector<trend_point> out;
  while (q.step()) {
    trend_point p;
    p.run_id = q.integer(0);
    p.created_utc = q.integer(1);
    p.status = q.text(2);
    p.verified = q.integer(3) != 0;
    p.suspect = q.integer(4) != 0;
    p.median = q.real(5);
    p.q1 = q.real(6);
    p.q3 = q.real(7);
    p.min = q.real(8);
    p.max = q.real(9);
    p.sample_count = q.integer(10);
    p.clock_mhz = q.optional_real(11);
    out.push_back(std::move(p));
  }
  q.reset();
  return out;
}

// ---- a selection as a report ----

namespace {

bench::result_status status_of(const std::string& s) {
  return s == "ok"        ? bench::result_status::ok
         : s == "invalid" ? bench::result_status::invalid
                          : bench::result_status::skipped;
}

bench::stop_reason stop_of(const std::string& s) {
  if (s == "noise_target") return bench::stop_reason::noise_target;
  if (s == "noise_stable") return bench::stop_reason::noise_stable;
  if (s == "time_cap") return bench::stop_reason::time_cap;
  if (s == "max_samples") return bench::stop_reason::max_samples;
  return bench::stop_reason::none;
}

bench::benchmark_info info_of(const result_row& r) {
  bench::benchmark_info b;
  b.name = r.benchmark;
  b.group = r.group;
  if (!r.precision.empty()) b.prec = parse_precision(r.precision);
  b.metric =
      r.metric == "bytes_per_s" ? bench::metric_kind::bytes_per_s : bench::metric_kind::ops_per_s;
  b.description = r.description;
  const auto p = json::parse(r.parameters, nullptr, false);
  if (p.is_object()) {
    if (const auto it = p.find("isa"); it != p.end() && it->is_string())
      b.isa = it->get<std::string>();
    if (const auto it = p.find("footprint_bytes"); it != p.end() && it->is_number())
      b.footprint_bytes = it->get<double>();
  }
  return b;
}

void add_samples(bench::measurement& m, const result_row& r) {
  for (std::size_t i = 0; i < r.rates.size(); ++i) {
    bench::sample x;
    x.seconds = 1;
    x.work = r.rates[i];
    if (i < r.clocks.size()) x.clock_mhz = r.clocks[i];
    m.samples.push_back(x);
  }
}

void summarise(bench::measurement& m) {
  std::vector<double> rates;
  std::vector<double> clocks;
  for (const auto& x : m.samples) {
    rates.push_back(x.rate());
    if (!std::isnan(x.clock_mhz)) clocks.push_back(x.clock_mhz);
  }
  m.rate = bench::summarize(rates);
  m.clock = bench::summarize(clocks);
}

}  // namespace

namespace {

json run_json(const run_row& r) {
  return {{"id", r.id},
          {"created_utc", format_utc(r.created_utc)},
          {"ingested_utc", format_utc(r.ingested_utc)},
          {"source_kind", r.source_kind},
          {"source_name", r.source_name},
          {"source_sha256", r.source_sha256},
          {"tool_version", r.tool_version},
          {"git_sha", r.git_sha},
          {"mode", r.mode},
          {"host", r.host},
          {"kernel", r.kernel},
          {"driver", r.driver},
          {"toolkit", r.toolkit},
          {"devices", r.devices},
          {"results", r.results},
          {"argv", json::parse(r.argv, nullptr, false)},
          {"context", json::parse(r.context, nullptr, false)}};
}

}  // namespace

std::string runs_to_json(const std::vector<run_row>& runs) {
  json arr = json::array();
  for (const auto& r : runs) arr.push_back(run_json(r));
  return arr.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string run_to_json(store& s, const run_row& run) {
  auto j = run_json(run);
  json arr = json::array();
  for (const auto& x : select_results(s, {}, false, run.id))
    arr.push_back({{"device", x.device_identity},
                   {"device_name", x.device_name},
                   {"local_device", x.local_device},
                   {"benchmark", x.benchmark},
                   {"precision", x.precision},
                   {"metric", x.metric},
                   {"status", x.status},
                   {"verified", x.verified},
                   {"suspect", x.suspect},
                   {"median", x.median},
                   {"q1", x.q1},
                   {"q3", x.q3},
                   {"cv", x.cv},
                   {"samples", x.sample_count},
                   {"clock_mhz", x.clock_mhz ? json(*x.clock_mhz) : json(nullptr)},
                   {"reason", x.reason}});
  j["result_rows"] = arr;
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

bench::measurement_report select_as_report(store& st, const selector& sel) {
  struct group {
    std::vector<result_row> rows;
  };
  std::map<std::pair<std::int64_t, std::string>, group> groups;
  std::vector<std::pair<std::int64_t, std::string>> order;
  std::map<std::int64_t, result_row> devices;  // one row per device, for its identity
  std::set<std::string> hosts;
  std::int64_t latest = 0;
  for_each_result(st, sel, true, [&](const result_row& r) {
    const auto key = std::make_pair(r.device_id, r.benchmark);
    auto [it, fresh] = groups.try_emplace(key);
    if (fresh) order.push_back(key);
    it->second.rows.push_back(r);
    devices.try_emplace(r.device_id, r);
    hosts.insert(r.host);
    latest = std::max(latest, r.created_utc);
  });
  if (groups.empty())
    throw usage_error(fmt::format("{} selects no results in history {}",
                                  quote_input(sel.to_string()), quote_input(st.path())));

  bench::measurement_report rep;
  rep.tool_version = tool_version;
  rep.git_sha = git_sha;
  rep.argv = {sel.to_string()};
  rep.created_utc = format_utc(latest);
  {
    // The newest selected run's mode: a report is "quick" or "full", never a mixture.
    std::pair<std::int64_t, std::int64_t> newest{std::numeric_limits<std::int64_t>::min(),
                                                 0};  // created_utc, run id
    for (const auto& [k, g] : groups)
      for (const auto& r : g.rows)
        newest = std::max(newest, std::make_pair(r.created_utc, r.run_id));
    auto& q = st.internals().prepare("SELECT mode FROM runs WHERE id = ?");
    q.bind(1, newest.second);
    rep.mode = q.step() ? q.text(0) : "quick";
    q.reset();
  }
  rep.host.hostname = hosts.size() == 1 ? *hosts.begin() : fmt::format("{} hosts", hosts.size());

  // Report ids: the id in the runs where no other selected device shares it, else the identity.
  std::map<std::string, int> local_count;
  for (const auto& [id, r] : devices) ++local_count[r.local_device];
  std::map<std::int64_t, std::string> report_id;
  for (const auto& [id, r] : devices) {
    report_id[id] = local_count[r.local_device] == 1 ? r.local_device : r.device_identity;
    bench::device_info d;
    d.backend = r.device_backend;
    d.id = report_id[id];
    d.name = r.device_name;
    d.vendor = r.device_vendor;
    d.properties = {{"history_identity", r.device_identity}, {"local_id", r.local_device}};
    rep.devices.push_back(std::move(d));
  }

  for (const auto& key : order) {
    const auto& rows = groups.at(key).rows;
    std::vector<const result_row*> usable;
    for (const auto& r : rows) {
      if (r.status == "ok" && r.verified && !r.suspect && !r.rates.empty()) usable.push_back(&r);
    }
    bench::measurement m;
    m.device_id = report_id.at(key.first);
    if (!usable.empty()) {
      const auto& last = *usable.back();
      m.info = info_of(last);
      m.status = bench::result_status::ok;
      m.verified = true;
      m.check.passed = true;
      std::string runs;
      for (const auto* r : usable) {
        add_samples(m, *r);
        m.throttled_samples += static_cast<int>(r->throttled_samples);
        runs += (runs.empty() ? "" : ", ") + std::to_string(r->run_id);
      }
      m.check.detail = fmt::format("pooled from {} of {} selected runs (history runs {})",
                                   usable.size(), rows.size(), runs);
      m.stopped = stop_of(last.stop_reason);
      summarise(m);
      m.theoretical = last.theoretical;
      if (m.theoretical && *m.theoretical > 0)
        m.fraction_of_theoretical = m.rate.median / *m.theoretical;
    } else {
      const auto& last = rows.back();
      m.info = info_of(last);
      m.status = status_of(last.status);
      m.verified = last.verified;
      m.check.passed = last.verified;
      m.suspect = last.suspect;
      const auto reasons = json::parse(last.suspect_reasons, nullptr, false);
      if (reasons.is_array())
        for (const auto& x : reasons)
          if (x.is_string()) m.suspect_reasons.push_back(x.get<std::string>());
      const bool summary_only =
          last.status == "ok" && last.verified && !last.suspect && last.rates.empty();
      if (summary_only)
        // A certificate's result: its median and quartiles are stored, its samples are not, so
        // it is listed and never compared (the test needs the samples).
        m.reason = fmt::format(
            "summary statistics only ({} run {}, {}: median {:g} over {} samples, which the {} "
            "did not keep): listed, not compared",
            last.source_kind, last.run_id, format_utc(last.created_utc), last.median,
            last.sample_count, last.source_kind);
      else
        m.reason = fmt::format(
            "no result of the {} selected runs is ok, verified and not suspect; the latest "
            "(history run {}, {}) was {}{}{}",
            rows.size(), last.run_id, format_utc(last.created_utc),
            last.suspect ? "suspect" : last.status, last.reason.empty() ? "" : ": ", last.reason);
      m.stopped = stop_of(last.stop_reason);
      add_samples(m, last);
      summarise(m);
      m.throttled_samples = static_cast<int>(last.throttled_samples);
      m.theoretical = last.theoretical;
      m.fraction_of_theoretical = last.fraction;
    }
    rep.results.push_back(std::move(m));
  }
  return rep;
}

// ---- export ----

const std::vector<std::string>& export_csv_columns() {
  static const std::vector<std::string> cols = {"run_id",       "created_utc",  "source_kind",
                                                "host",         "tool_version", "git_sha",
                                                "device",       "device_name",  "vendor",
                                                "local_device", "benchmark",    "precision",
                                                "metric",       "parameters",   "status",
                                                "verified",     "suspect",      "stop_reason",
                                                "median",       "min",          "max",
                                                "q1",           "q3",           "cv",
                                                "samples",      "clock_mhz",    "throttled_samples",
                                                "theoretical",  "fraction",     "reason"};
  return cols;
}

void export_results(store& s, const selector& sel, export_format format,
                    const std::function<void(std::string_view)>& sink) {
  if (format == export_format::csv) {
    sink(csv_line(export_csv_columns()));
    for_each_result(s, sel, false, [&sink](const result_row& r) {
      sink(csv_line({std::to_string(r.run_id),
                     format_utc(r.created_utc),
                     r.source_kind,
                     r.host,
                     r.tool_version,
                     r.git_sha,
                     r.device_identity,
                     r.device_name,
                     r.device_vendor,
                     r.local_device,
                     r.benchmark,
                     r.precision,
                     r.metric,
                     r.parameters,
                     r.status,
                     r.verified ? "true" : "false",
                     r.suspect ? "true" : "false",
                     r.stop_reason,
                     number(r.median),
                     number(r.min),
                     number(r.max),
                     number(r.q1),
                     number(r.q3),
                     number(r.cv),
                     std::to_string(r.sample_count),
                     optional_number(r.clock_mhz),
                     std::to_string(r.throttled_samples),
                     optional_number(r.theoretical),
                     optional_number(r.fraction),
                     r.reason}));
    });
    return;
  }
  const json head = {{"schema", "chipgauge.history-export/1"}, {"selector", sel.to_string()}};
  std::string open = head.dump(2);
  open.resize(open.size() - 2);  // drop "\n}" to append the results array
  sink(open + ",\n  \"results\": [");
  bool first = true;
  for_each_result(s, sel, true, [&](const result_row& r) {
    json j;
    j["run"] = {{"id", r.run_id},
                {"created_utc", format_utc(r.created_utc)},
                {"source_kind", r.source_kind},
                {"host", r.host},
                {"tool_version", r.tool_version},
                {"git_sha", r.git_sha}};
    j["device"] = {{"identity", r.device_identity},
                   {"name", r.device_name},
                   {"vendor", r.device_vendor},
                   {"backend", r.device_backend},
                   {"local_id", r.local_device}};
    const auto params = json::parse(r.parameters, nullptr, false);
    j["benchmark"] = {{"name", r.benchmark},
                      {"group", r.group},
                      {"precision", r.precision.empty() ? json(nullptr) : json(r.precision)},
                      {"metric", r.metric},
                      {"parameters", params.is_object() ? params : json::object()},
                      {"description", r.description}};
    j["status"] = r.status;
    j["reason"] = r.reason;
    j["verified"] = r.verified;
    j["suspect"] = r.suspect;
    const auto reasons = json::parse(r.suspect_reasons, nullptr, false);
    j["suspect_reasons"] = reasons.is_array() ? reasons : json::array();
    j["stop_reason"] = r.stop_reason;
    j["median"] = r.median;
    j["min"] = r.min;
    j["max"] = r.max;
    j["q1"] = r.q1;
    j["q3"] = r.q3;
    j["cv"] = r.cv;
    j["sample_count"] = r.sample_count;
    j["clock_mhz"] = optional_json(r.clock_mhz);
    j["throttled_samples"] = r.throttled_samples;
    j["theoretical"] = optional_json(r.theoretical);
    j["fraction"] = optional_json(r.fraction);
    json clocks = json(nullptr);
    if (!r.clocks.empty()) {
      clocks = json::array();
      for (const double c : r.clocks) clocks.push_back(std::isnan(c) ? json(nullptr) : json(c));
    }
    j["samples"] = {{"rates", r.rates}, {"clocks", clocks}};
    sink((first ? "\n    " : ",\n    ") + j.dump(-1, ' ', false, json::error_handler_t::replace));
    first = false;
  });
  sink(first ? "]\n}\n" : "\n  ]\n}\n");
}

// ---- prune ----

prune_outcome prune(store& st, const prune_options& o) {
  if (!o.before && !o.keep_last)
    throw usage_error("history prune needs --before DATE or --keep-last N (or both)");
  if (o.keep_last && *o.keep_last < 1)
    throw usage_error(
        fmt::format("--keep-last {} is not a count: expected 1 or more", *o.keep_last));
  auto& s = st.internals();
  std::vector<param> params;
  std::string where = "TRUE";
  const std::string devices =
      o.device.empty()
          ? std::string()
          : fmt::format("SELECT run_id FROM run_devices WHERE device_id IN ({})", device_match);
  if (o.before) {
    where += " AND created_utc < ?";
    params.emplace_back(*o.before);
  }
  if (!o.device.empty()) {
    where += fmt::format(" AND id IN ({})", devices);
    params.emplace_back(o.device);
    params.emplace_back(o.device);
  }
  if (o.keep_last) {
    std::string scope;
    if (!o.device.empty()) {
      scope = fmt::format("WHERE rd.device_id IN ({})", device_match);
      params.emplace_back(o.device);
      params.emplace_back(o.device);
    }
    where += fmt::format(
        " AND id NOT IN (SELECT run_id FROM (SELECT rd.run_id, row_number() OVER (PARTITION BY "
        "rd.device_id ORDER BY ru.created_utc DESC, ru.id DESC) AS rn FROM run_devices rd JOIN "
        "runs ru ON ru.id = rd.run_id {}) AS ranked WHERE rn <= ?)",
        scope);
    params.emplace_back(static_cast<std::int64_t>(*o.keep_last));
  }
  prune_outcome out;
  detail::transaction tx(s);
  s.db->exec(
      "CREATE TEMP TABLE IF NOT EXISTS prune_runs (id INTEGER PRIMARY KEY); DELETE FROM "
      "prune_runs");
  {
    detail::statement q(*s.db,
                        fmt::format("INSERT INTO prune_runs SELECT id FROM runs WHERE {}", where));
    bind_all(q, params);
    q.run();
  }
  {
    detail::statement q(
        *s.db,
        "SELECT (SELECT count(*) FROM prune_runs), (SELECT count(*) FROM results WHERE run_id "
        "IN (SELECT id FROM prune_runs))");
    q.step();
    out.runs = q.integer(0);
    out.results = q.integer(1);
  }
  s.db->exec(
      "DELETE FROM runs WHERE id IN (SELECT id FROM prune_runs); DELETE FROM prune_runs;DELETE "
      "FROM devices WHERE id NOT IN (SELECT device_id FROM run_devices) AND id NOT IN (SELECT "
      "device_id FROM checks WHERE device_id IS NOT NULL);DELETE FROM benchmarks WHERE id NOT "
      "IN (SELECT DISTINCT benchmark_id FROM results)");
  tx.commit();
  s.device_ids.clear();
  s.benchmark_ids.clear();
  return out;
}

}  // namespace chipgauge::history
