// Renderings of a comparison: a text table for CI logs (regressions first), Markdown, CSV and
// `chipgauge.comparison/1` JSON (specs/schema/comparison.schema.json).
#include "chipgauge/bench/compare.hpp"

#include "chipgauge/core/text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>

namespace chipgauge::bench {

namespace {

using json = nlohmann::ordered_json;

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
json opt_num(const std::optional<double>& v) { return v ? num(*v) : json(nullptr); }

// A rate with an SI prefix: "1.23 G ops/s", "456 MB/s".
std::string rate_text(double v, metric_kind m) {
  static constexpr const char* prefixes[] = {"", "k", "M", "G", "T", "P", "E"};
  int i = 0;
  double x = v;
  while (std::abs(x) >= 1000 && i < 6) {
    x /= 1000;
    ++i;
  }
  return m == metric_kind::ops_per_s ? fmt::format("{:.3g} {}ops/s", x, prefixes[i])
                                     : fmt::format("{:.3g} {}B/s", x, prefixes[i]);
}

std::string change_text(double ratio) {
  return std::isfinite(ratio) && ratio > 0 ? fmt::format("{:+.2f} %", 100 * (ratio - 1)) : "-";
}

std::string interval_text(const shift_test& t) {
  if (!(t.ratio_lo > 0)) return "-";
  return fmt::format("[{:+.2f}, {:+.2f}] %", 100 * (t.ratio_lo - 1), 100 * (t.ratio_hi - 1));
}

std::string notes(const comparison& c, const compared& r, bool with_reason) {
  std::vector<std::string> n;
  if (r.foreign) n.emplace_back("not verified by chipgauge (Google Benchmark input)");
  if (!r.clock.note.empty()) n.push_back(r.clock.note);
  if (r.base.throttled_samples || r.current.throttled_samples)
    n.push_back(fmt::format("throttled samples: {} base, {} new", r.base.throttled_samples,
                            r.current.throttled_samples));
  if (r.base.pooled_results > 1 || r.current.pooled_results > 1)
    n.push_back(fmt::format("pooled results: {} base, {} new", r.base.pooled_results,
                            r.current.pooled_results));
  if (r.rate.v == verdict::slower && !r.regression(c.settings))
    n.emplace_back("not counted as a regression (--clock-explained-ok)");
  if (with_reason || r.rate.v == verdict::unknown) n.push_back(r.rate.reason);
  std::string out;
  for (const auto& x : n) out += (out.empty() ? "" : "; ") + x;
  return out;
}

std::vector<std::vector<std::string>> compared_rows(const comparison& c, bool with_reason) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : c.rows) {
    rows.push_back({to_string(r.rate.v), r.device, r.benchmark,
                    r.precision.empty() ? "-" : r.precision,
                    r.base.n ? rate_text(r.base.rate.median, r.metric) : "-",
                    r.current.n ? rate_text(r.current.rate.median, r.metric) : "-",
                    change_text(r.rate.ratio), interval_text(r.rate),
                    r.base.n >= 2 && r.current.n >= 2 ? fmt::format("{:.3g}", r.rate.test.p) : "-",
                    fmt::format("{}/{}", r.base.n, r.current.n),
                    fmt::format("{:.1f} %", 100 * r.min_effect), notes(c, r, with_reason)});
  }
  return rows;
}

const std::vector<std::string> header{"verdict",     "device",     "benchmark",  "precision",
                                      "base median", "new median", "change",     "95 % interval",
                                      "p",           "n base/new", "min effect", "notes"};

std::vector<std::vector<std::string>> excluded_rows(const comparison& c) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : c.excluded)
    rows.push_back({e.device, e.benchmark, e.precision.empty() ? "-" : e.precision, e.side, e.why});
  return rows;
}

const std::vector<std::string> excluded_header{"device", "benchmark", "precision", "side",
                                               "why not compared"};

std::string summary_line(const comparison& c) {
  return fmt::format(
      "{} compared: {} slower, {} unknown, {} faster, {} same; {} not compared. Minimum effect "
      "{:.1f} %, alpha {}, same above p {}.",
      c.rows.size(), c.count(verdict::slower), c.count(verdict::unknown), c.count(verdict::faster),
      c.count(verdict::same), c.excluded.size(), 100 * c.settings.min_effect, c.settings.alpha,
      c.settings.same_p);
}

json test_json(const shift_test& t) {
  json j;
  j["verdict"] = to_string(t.v);
  j["ratio"] = num(t.ratio);
  j["change"] = t.ratio > 0 ? num(t.ratio - 1) : json(nullptr);
  j["ratio_interval"] =
      t.ratio_lo > 0 ? json::array({num(t.ratio_lo), num(t.ratio_hi)}) : json(nullptr);
  j["hodges_lehmann_ratio"] = t.hl_ratio > 0 ? num(t.hl_ratio) : json(nullptr);
  j["p_value"] = t.ratio_lo > 0 ? num(t.test.p) : json(nullptr);
  j["test"] = t.ratio_lo > 0 ? json(t.test.exact ? "mann-whitney-exact" : "mann-whitney-normal")
                             : json(nullptr);
  j["reason"] = t.reason;
  j["more_samples"] = t.more_samples ? json(*t.more_samples) : json(nullptr);
  return j;
}

json side_json(const side_summary& s) {
  return {{"n", s.n},
          {"median", s.n ? num(s.rate.median) : json(nullptr)},
          {"median_interval", s.n ? json::array({num(s.rate.lo), num(s.rate.hi)}) : json(nullptr)},
          {"interval_coverage", num(s.rate.coverage)},
          {"noise", num(s.noise)},
          {"clock_mhz", opt_num(s.clock_mhz)},
          {"throttled_samples", s.throttled_samples},
          {"throttle_reason_samples", s.throttle_reason_samples},
          {"pooled_results", s.pooled_results},
          {"devices", s.device_ids}};
}

}  // namespace

std::string comparison_to_text(const comparison& c) {
  std::string out =
      fmt::format("chipgauge compare: {} -> {}\n{}\n", c.base_label, c.new_label, summary_line(c));
  if (!c.rows.empty())
    out += "\n" + render_table(header, compared_rows(c, false),
                               {false, false, false, false, true, true, true, true, true, true,
                                true, false});
  if (!c.excluded.empty())
    out += "\nNot compared:\n" + render_table(excluded_header, excluded_rows(c));
  if (c.foreign_rows())
    out +=
        "\nRows marked \"not verified by chipgauge\" come from Google Benchmark output: their "
        "timing is compared, their results were never checked.\n";
  const auto reg = c.regressions();
  out += reg ? fmt::format("\n{} regression{} (slower).\n", reg, reg == 1 ? "" : "s")
             : "\nNo regression.\n";
  return out;
}

std::string comparison_to_markdown(const comparison& c) {
  std::string out = fmt::format("Comparison of `{}` (base) with `{}` (new). {}\n\n", c.base_label,
                                c.new_label, summary_line(c));
  if (!c.rows.empty()) out += render_markdown_table(header, compared_rows(c, true));
  if (!c.excluded.empty())
    out += "\nNot compared:\n\n" + render_markdown_table(excluded_header, excluded_rows(c));
  return out;
}

std::string comparison_to_csv(const comparison& c) {
  const std::vector<std::string> h{
      "verdict",         "device",         "benchmark", "precision",  "metric",
      "base_median",     "new_median",     "ratio",     "ratio_lo",   "ratio_hi",
      "p_value",         "base_n",         "new_n",     "min_effect", "clock_ratio",
      "per_clock_ratio", "clock_explains", "foreign",   "regression", "more_samples",
      "reason"};
  const auto g = [](double v) {
    return std::isfinite(v) && v != 0 ? fmt::format("{:.9g}", v) : std::string();
  };
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : c.rows) {
    rows.push_back({to_string(r.rate.v),
                    r.device,
                    r.benchmark,
                    r.precision,
                    to_string(r.metric),
                    r.base.n ? fmt::format("{:.9g}", r.base.rate.median) : "",
                    r.current.n ? fmt::format("{:.9g}", r.current.rate.median) : "",
                    g(r.rate.ratio),
                    g(r.rate.ratio_lo),
                    g(r.rate.ratio_hi),
                    r.rate.ratio_lo > 0 ? fmt::format("{:.6g}", r.rate.test.p) : "",
                    std::to_string(r.base.n),
                    std::to_string(r.current.n),
                    fmt::format("{:.6g}", r.min_effect),
                    r.clock.applies ? g(r.clock.clock_ratio) : "",
                    r.clock.per_clock ? g(r.clock.per_clock->ratio) : "",
                    r.clock.explains ? "true" : "false",
                    r.foreign ? "true" : "false",
                    r.regression(c.settings) ? "true" : "false",
                    r.rate.more_samples ? std::to_string(*r.rate.more_samples) : "",
                    r.rate.reason});
  }
  for (const auto& e : c.excluded)
    rows.push_back({"not_compared",
                    e.device,
                    e.benchmark,
                    e.precision,
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "false",
                    "",
                    e.side + ": " + e.why});
  return render_csv(h, rows);
}

std::string comparison_to_json(const comparison& c) {
  json j;
  j["schema"] = "chipgauge.comparison/1";
  j["base"] = c.base_label;
  j["new"] = c.new_label;
  json per = json::object();
  for (const auto& [k, v] : c.settings.min_effect_by_benchmark) per[k] = v;
  j["settings"] = {
      {"alpha", c.settings.alpha},           {"same_p", c.settings.same_p},
      {"min_effect", c.settings.min_effect}, {"min_effect_by_benchmark", per},
      {"confidence", c.settings.confidence}, {"clock_tolerance", c.settings.clock_tolerance},
      {"power", c.settings.power},           {"clock_explained_ok", c.settings.clock_explained_ok}};
  j["summary"] = {{"compared", c.rows.size()},
                  {"slower", c.count(verdict::slower)},
                  {"unknown", c.count(verdict::unknown)},
                  {"faster", c.count(verdict::faster)},
                  {"same", c.count(verdict::same)},
                  {"not_compared", c.excluded.size()},
                  {"regressions", c.regressions()},
                  {"foreign", c.foreign_rows()}};
  json rows = json::array();
  for (const auto& r : c.rows) {
    json x;
    x["device"] = r.device;
    x["benchmark"] = r.benchmark;
    x["precision"] = r.precision.empty() ? json(nullptr) : json(r.precision);
    x["metric"] = to_string(r.metric);
    x["verdict"] = to_string(r.rate.v);
    x["regression"] = r.regression(c.settings);
    x["foreign"] = r.foreign;
    x["min_effect"] = r.min_effect;
    x["base"] = side_json(r.base);
    x["new"] = side_json(r.current);
    x["rate"] = test_json(r.rate);
    json clock;
    clock["applies"] = r.clock.applies;
    clock["clock_ratio"] = r.clock.clock_ratio > 0 ? num(r.clock.clock_ratio) : json(nullptr);
    clock["per_clock"] = r.clock.per_clock ? test_json(*r.clock.per_clock) : json(nullptr);
    clock["explains"] = r.clock.explains;
    clock["note"] = r.clock.note;
    x["clock"] = clock;
    rows.push_back(x);
  }
  j["results"] = rows;
  json ex = json::array();
  for (const auto& e : c.excluded)
    ex.push_back({{"device", e.device},
                  {"benchmark", e.benchmark},
                  {"precision", e.precision.empty() ? json(nullptr) : json(e.precision)},
                  {"side", e.side},
                  {"why", e.why}});
  j["not_compared"] = ex;
  return j.dump(2) + "\n";
}

}  // namespace chipgauge::bench
