// Google Benchmark JSON from other tools, read as a measurement report of foreign (unverified)
// results.
#include "chipgauge/bench/gbench.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/core/json_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>

namespace chipgauge::bench {

namespace {

// Members of a benchmark entry that are not user counters.
const std::vector<std::string_view> entry_fields{"name",
                                                 "family_index",
                                                 "per_family_instance_index",
                                                 "run_name",
                                                 "run_type",
                                                 "repetitions",
                                                 "repetition_index",
                                                 "threads",
                                                 "aggregate_name",
                                                 "aggregate_unit",
                                                 "error_occurred",
                                                 "error_message",
                                                 "skipped",
                                                 "skip_message",
                                                 "iterations",
                                                 "real_time",
                                                 "cpu_time",
                                                 "time_unit",
                                                 "cpu_coefficient",
                                                 "real_coefficient",
                                                 "big_o",
                                                 "rms",
                                                 "label",
                                                 "items_per_second",
                                                 "bytes_per_second",
                                                 "allocs_per_iter",
                                                 "max_bytes_used",
                                                 "total_allocated_bytes",
                                                 "net_heap_growth"};

int digits(std::string_view s, std::size_t pos, std::size_t n) {
  int v = 0;
  const auto* first = s.data() + pos;
  const auto [ptr, ec] = std::from_chars(first, first + n, v);
  if (ec != std::errc{} || ptr != first + n) return -1;
  return v;
}

// Google Benchmark writes the local time with its offset, "2026-12-02T15:04:05+01:00" (older
// versions "+0100", or no offset at all: then the time is taken as UTC). Returns it in UTC,
// "YYYY-MM-DDTHH:MM:SSZ", or nullopt when it is not such a time.
std::optional<std::string> to_utc(std::string_view s) {
  if (s.size() < 19 || (s[10] != 'T' && s[10] != ' ') || s[4] != '-' || s[7] != '-' ||
      s[13] != ':' || s[16] != ':')
    return std::nullopt;
  const int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  const int h = digits(s, 11, 2), mi = digits(s, 14, 2), se = digits(s, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
    return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{y},
                                        std::chrono::month{static_cast<unsigned>(mo)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  std::string_view zone = s.substr(19);
  if (!zone.empty() && zone.front() == '.') {  // fractional seconds
    zone.remove_prefix(1);
    while (!zone.empty() && zone.front() >= '0' && zone.front() <= '9') zone.remove_prefix(1);
  }
  int offset_min = 0;
  if (zone == "Z" || zone.empty()) {
    offset_min = 0;
  } else if ((zone.size() == 6 && zone[3] == ':') || zone.size() == 5) {
    if (zone[0] != '+' && zone[0] != '-') return std::nullopt;
    const int oh = digits(zone, 1, 2), om = digits(zone, zone.size() == 6 ? 4 : 3, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return std::nullopt;
    offset_min = (zone[0] == '-' ? -1 : 1) * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  using namespace std::chrono;
  const auto local = sys_days{ymd} + hours{h} + minutes{mi} + seconds{se};
  const auto utc = local - minutes{offset_min};
  const auto day = floor<days>(utc);
  const year_month_day u{day};
  const hh_mm_ss<seconds> t{utc - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(u.year()),
                     static_cast<unsigned>(u.month()), static_cast<unsigned>(u.day()),
                     t.hours().count(), t.minutes().count(), t.seconds().count());
}

// A context value as device-property text.
std::string scalar_text(const json_node& n) {
  const auto& v = n.raw();
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  if (v.is_number()) return fmt::format("{}", v.get<double>());
  return v.dump();
}

// "L1 Data 48 KiB (x24, shared by 2); ..." from context.caches.
std::string caches_text(const json_node& caches) {
  std::string out;
  for (const auto& c : caches.elements()) {
    const auto type = c.find("type") ? c.at("type").string() : std::string("cache");
    const auto level = c.find("level") ? c.at("level").integer_in(0, 16) : 0;
    const auto size = c.find("size") ? c.at("size").number_in(0, 1e15, "bytes") : 0.0;
    const auto sharing = c.find("num_sharing") ? c.at("num_sharing").integer_in(0, 1 << 20) : 0;
    out += fmt::format("{}L{} {} {:.0f} B shared by {}", out.empty() ? "" : "; ", level, type, size,
                       sharing);
  }
  return out;
}

// Seconds per time unit Google Benchmark writes.
double unit_seconds(const json_node& n) {
  const auto u = n.one_of({"ns", "us", "ms", "s"});
  return u == "ns" ? 1e-9 : u == "us" ? 1e-6 : u == "ms" ? 1e-3 : 1.0;
}

// One benchmark's iteration entries as they are gathered.
struct pending {
  measurement m;
  std::string counters_text;  // user counters of the first repetition
  std::string skip_message;   // error_occurred / skipped: the first message
  bool skipped = false;
  int threads = 1;
  std::string label;
  std::string unit;
};

}  // namespace

bool looks_like_gbench_json(const nlohmann::json& doc) {
  return doc.is_object() && !doc.contains("schema") && doc.contains("context") &&
         doc["context"].is_object() && doc.contains("benchmarks") && doc["benchmarks"].is_array();
}

bool is_foreign(const measurement_report& r, const measurement& m) {
  return std::any_of(r.devices.begin(), r.devices.end(), [&](const device_info& d) {
    return d.id == m.device_id && d.backend == gbench_backend;
  });
}

measurement_report parse_gbench_json(std::string_view text, const std::string& file) {
  return parse_gbench_doc(parse_json_text(text, file), file);
}

measurement_report parse_gbench_doc(const nlohmann::json& doc, const std::string& file) {
  const json_node root(doc, file);
  if (!root.is_object())
    root.fail("expected Google Benchmark JSON: an object with 'context' and 'benchmarks'");
  if (root.find("schema"))
    root.at("schema").fail(
        "a chipgauge document, not Google Benchmark JSON (which has no 'schema' member)");
  const auto ctx = root.at("context");
  if (!ctx.is_object()) ctx.fail("expected an object (Google Benchmark's run context)");

  measurement_report r;
  device_info dev;
  dev.backend = std::string(gbench_backend);
  dev.id = "host";
  dev.name = "Google Benchmark host";
  dev.vendor = "";
  const auto date = ctx.at("date").string();
  const auto utc = to_utc(date);
  if (!utc)
    ctx.at("date").fail(fmt::format(
        "expected a time 'YYYY-MM-DDTHH:MM:SS+HH:MM' as Google Benchmark writes it, found '{}'",
        date));
  r.created_utc = *utc;
  r.mode = "full";  // neither chipgauge mode applies; the report format needs one of its two values
  r.tool_version = "google-benchmark";
  if (const auto v = ctx.find("library_version")) r.tool_version += " " + v->string();
  if (const auto v = ctx.find("host_name")) r.host.hostname = v->string();
  if (const auto v = ctx.find("executable")) r.argv.push_back(v->string());
  if (const auto v = ctx.find("num_cpus")) {
    r.host.logical_cpus = static_cast<int>(v->integer_in(0, 1 << 20));
    dev.units = r.host.logical_cpus;
  }
  for (const auto& [key, value] : ctx.members()) {
    if (key == "caches") {
      dev.properties.emplace_back("caches", caches_text(value));
    } else if (key == "load_avg") {
      std::string text;
      for (const auto& x : value.elements())
        text += (text.empty() ? "" : " ") + fmt::format("{}", x.number());
      dev.properties.emplace_back("load_avg", text);
    } else if (!value.is_object() && !value.is_array() && !value.is_null()) {
      dev.properties.emplace_back(key, scalar_text(value));
    }
  }
  dev.properties.emplace_back("source_file", file);
  std::sort(dev.properties.begin(), dev.properties.end());
  r.devices.push_back(dev);

  std::vector<pending> runs;
  std::map<std::string, std::size_t> index;  // run name -> runs[]
  for (const auto& b : root.at("benchmarks").elements()) {
    if (!b.is_object()) b.fail("expected an object (one Google Benchmark run)");
    const auto name = b.at("name").string();
    const auto run_name = b.find("run_name") ? b.at("run_name").string() : name;
    const auto type = b.find("run_type") ? b.at("run_type").one_of({"iteration", "aggregate"})
                                         : std::string("iteration");
    if (type == "aggregate") continue;  // mean, median, stddev, cv, big-O: derived, not samples
    auto [it, fresh] = index.try_emplace(run_name, runs.size());
    if (fresh) {
      runs.emplace_back();
      auto& m = runs.back().m;
      m.info.name = run_name;
      m.info.group = "gbench";
      m.device_id = dev.id;
    }
    auto& p = runs[it->second];
    const bool error = b.find("error_occurred") && b.at("error_occurred").boolean();
    const bool skipped = b.find("skipped") && b.at("skipped").boolean();
    if (error || skipped) {
      if (!p.skipped) {
        const auto key = error ? "error_message" : "skip_message";
        p.skip_message =
            fmt::format("Google Benchmark: {}{}", error ? "error: " : "skipped: ",
                        b.find(key) ? b.at(key).string() : std::string("(no message)"));
      }
      p.skipped = true;
      continue;
    }
    if (b.find("threads")) p.threads = static_cast<int>(b.at("threads").integer_in(1, 1 << 20));
    if (b.find("label")) p.label = b.at("label").string();
    const double unit = b.find("time_unit") ? unit_seconds(b.at("time_unit")) : 1e-9;
    if (p.unit.empty()) p.unit = b.find("time_unit") ? b.at("time_unit").string() : "ns";
    const double seconds = b.at("real_time").number_in(0, 1e15, "time units") * unit;
    const auto iterations = b.at("iterations").integer_in(0, 1LL << 62);
    // The rate: a throughput counter when the benchmark sets one, else iterations per second.
    const bool first = p.m.samples.empty();
    const auto items = b.find("items_per_second");
    const auto bytes = b.find("bytes_per_second");
    double rate = 0;
    if (items) {
      if (!first && p.m.info.metric != metric_kind::ops_per_s)
        items->fail("earlier repetitions of this benchmark gave bytes_per_second");
      p.m.info.metric = metric_kind::ops_per_s;
      rate = items->number_in(0, 1e30, "items/s");
    } else if (bytes) {
      if (!first && p.m.info.metric != metric_kind::bytes_per_s)
        bytes->fail("earlier repetitions of this benchmark gave items_per_second");
      p.m.info.metric = metric_kind::bytes_per_s;
      rate = bytes->number_in(0, 1e30, "bytes/s");
    } else {
      if (!(seconds > 0))
        b.at("real_time")
            .fail(
                "expected a positive time: with no items_per_second or bytes_per_second the "
                "rate is 1 / real_time");
      rate = 1.0 / seconds;
      if (!std::isfinite(rate))
        b.at("real_time").fail("too small to give a finite rate (1 / real_time)");
    }
    if (first) {
      p.m.reps_per_sample = static_cast<std::uint64_t>(iterations);
      std::string counters;
      for (const auto& [key, value] : b.members()) {
        if (std::find(entry_fields.begin(), entry_fields.end(), key) != entry_fields.end() ||
            !value.is_number())
          continue;
        counters += fmt::format("{}{}={}", counters.empty() ? "" : ", ", key, value.number());
      }
      p.counters_text = counters;
      p.m.info.description = items ? "items_per_second" : bytes ? "bytes_per_second" : "";
    }
    sample s;
    s.seconds = seconds > 0 ? seconds : 1.0;
    s.work = rate * s.seconds;
    p.m.samples.push_back(s);
  }

  for (auto& p : runs) {
    auto& m = p.m;
    const std::string rate_basis =
        m.info.description.empty() ? "iterations per second (1 / real_time)" : m.info.description;
    m.info.description = fmt::format(
        "Google Benchmark run '{}': rate from {}, {} thread{}{}{}", m.info.name, rate_basis,
        p.threads, p.threads == 1 ? "" : "s", p.label.empty() ? "" : ", label " + p.label,
        p.counters_text.empty() ? "" : "; counters of the first repetition: " + p.counters_text);
    m.verified = false;
    m.check = {
        false, 0, 0,
        "Google Benchmark does not check what the timed code computed; chipgauge did not run it"};
    if (p.skipped) {
      m.status = result_status::skipped;
      m.reason = p.skip_message;
      m.samples.clear();
    } else {
      m.status = result_status::invalid;
      m.reason =
          fmt::format("{}: read from Google Benchmark output {}", foreign_reason_prefix, file);
      if (m.samples.empty()) m.reason += "; only aggregates, no repetitions (no samples)";
    }
    std::vector<double> rates;
    rates.reserve(m.samples.size());
    for (const auto& s : m.samples) rates.push_back(s.rate());
    m.rate = summarize(rates);
    r.results.push_back(std::move(m));
  }
  return r;
}

}  // namespace chipgauge::bench
