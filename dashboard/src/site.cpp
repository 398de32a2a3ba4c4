// The dashboard generator (docs/history.md#dashboard).
#include "chipgauge/dashboard/site.hpp"

#include "assets.hpp"
#include "chipgauge/certify/fleet.hpp"
#include "chipgauge/classifier/engine.hpp"
#include "chipgauge/classifier/fleet.hpp"
#include "chipgauge/classifier/licensing.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"
#include "chipgauge/core/text.hpp"
#include "chipgauge/history/certificates.hpp"
#include "chipgauge/history/query.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <system_error>

using chipgauge::classifier::catalog;
using chipgauge::classifier::chip_spec;
using chipgauge::classifier::classification_engine;
using chipgauge::classifier::evaluate_fleet;
using chipgauge::classifier::evaluation_plan;
using chipgauge::classifier::licensing_engine;
using chipgauge::classifier::output_format;
using chipgauge::classifier::render_fleet;

namespace chipgauge::dashboard {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

/// JSON safe inside <script>: '<', '>' and '&' only occur inside JSON strings, where \u escapes
/// read back as the same characters.
std::string embed_json(const json& j) {
  const std::string text = j.dump();
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else out += c;
  }
  return out;
}

/// A file-name-safe form of `s` ([A-Za-z0-9._-], others as '_').
std::string slug(std::string_view s) {
  std::string out;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_';
    out += ok ? c : '_';
  }
  if (out.empty() || out[0] == '.') out.insert(out.begin(), '_');
  return out;
}

std::string page(std::string_view title, std::string_view root, std::string_view body,
                 const json& data) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>{0}</title>\n<link rel=\"icon\" href=\"data:,\">\n"
      "<link rel=\"stylesheet\" href=\"{1}assets/style.css\">\n</head>\n<body>\n"
      "<nav><a href=\"{1}index.html\">chipgauge dashboard</a> &middot; "
      "<a href=\"{1}plane.html\">TPP-PD plane</a> &middot; <a href=\"{1}fleet.html\">fleet</a>"
      "</nav>\n<h1>{0}</h1>\n{2}\n<script type=\"application/json\" id=\"chipgauge-data\">{3}"
      "</script>\n<script src=\"{1}assets/chart.min.js\"></script>\n"
      "<script src=\"{1}assets/dashboard.js\"></script>\n</body>\n</html>\n",
      html_escape(title), root, body, embed_json(data));
}

json opt_number(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

std::string fmt_num(double v) { return fmt::format("{:.6g}", v); }

// As compare_reports: invalid, skipped or suspect results are never compared; foreign (Google
// Benchmark) results are compared although chipgauge never verified them.
bool comparable(const history::result_row& r) {
  return r.status == "ok" && !r.suspect && (r.verified || r.source_kind == "gbench");
}

// The samples compare reads: positive finite rates (a sample of no time and no work reads as
// NaN, and is left out as compare leaves it out).
std::vector<double> readable_rates(const history::result_row& r) {
  std::vector<double> out;
  out.reserve(r.rates.size());
  for (const double v : r.rates)
    if (v > 0 && std::isfinite(v)) out.push_back(v);
  return out;
}

struct series_page {
  std::string file;
  json index_entry;
  std::size_t regressions = 0;
};

/// A device's results with their samples, oldest first (as history::for_each_result orders them),
/// by benchmark name: each trend page of the device reads its series from one query.
using rows_by_benchmark = std::map<std::string, std::vector<history::result_row>, std::less<>>;

rows_by_benchmark device_results(history::store& st, const history::device_row& d) {
  history::selector sel;
  sel.device = d.identity;
  rows_by_benchmark out;
  history::for_each_result(st, sel, true, [&](const history::result_row& r) {
    if (r.device_id == d.id) out[r.benchmark].push_back(r);
  });
  return out;
}

/// The data of one trend page: the series and one point per run, oldest first, each usable run
/// compared with the pooled samples of the previous `baseline_runs` usable runs. `rows`: the
/// series' results, oldest first.
json trend_data(const std::vector<history::result_row>& rows, const history::series_row& sr,
                const options& o, std::size_t& regressions) {
  const double min_effect = o.settings.min_effect_for(sr.benchmark);
  json points = json::array();
  std::vector<std::size_t> usable_rows;  // indices into rows, oldest first
  // The rates of the last baseline_runs usable runs, sorted, kept as the window slides: one run's
  // samples leave and the next run's enter, instead of sorting the pooled baseline per run.
  std::vector<double> window_sorted;
  std::vector<double> current_sorted;
  const auto window_runs = static_cast<std::size_t>(o.baseline_runs);
  regressions = 0;
  std::vector<std::vector<double>> rates(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (comparable(rows[i])) rates[i] = readable_rates(rows[i]);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    json p{{"run_id", r.run_id},
           {"time", history::format_utc(r.created_utc)},
           {"median", r.median},
           {"q1", r.q1},
           {"q3", r.q3},
           {"min", r.min},
           {"max", r.max},
           {"samples", r.sample_count},
           {"status", r.status},
           {"verified", r.verified},
           {"suspect", r.suspect},
           {"clock_mhz", opt_number(r.clock_mhz)},
           {"baseline_runs", 0},
           {"verdict", nullptr},
           {"p", nullptr},
           {"ratio", nullptr},
           {"why", ""}};
    if (!comparable(r) || rates[i].empty()) {
      p["why"] = r.status != "ok"  ? fmt::format("{}: not compared", r.status)
                 : r.suspect       ? std::string("suspect: not compared")
                 : !comparable(r)  ? std::string("not verified: not compared")
                 : r.rates.empty() ? std::string("no samples: not compared")
                                   : std::string("no readable samples: not compared");
    } else {
      std::vector<double> base;
      const std::size_t n =
          std::min<std::size_t>(usable_rows.size(), static_cast<std::size_t>(o.baseline_runs));
      for (std::size_t k = usable_rows.size() - n; k < usable_rows.size(); ++k) {
        const auto& b = rates[usable_rows[k]];
        base.insert(base.end(), b.begin(), b.end());
      }
      p["baseline_runs"] = n;
      if (n == 0) {
        p["why"] = "first usable run: no baseline";
      } else {
        current_sorted.assign(rates[i].begin(), rates[i].end());
        std::sort(current_sorted.begin(), current_sorted.end());
        const auto t = bench::compare_samples(base, rates[i], window_sorted, current_sorted,
                                              min_effect, o.settings);
        p["verdict"] = bench::to_string(t.v);
        p["p"] = t.test.p;
        p["ratio"] = t.ratio;
        p["why"] = t.reason;
        if (t.v == bench::verdict::slower) ++regressions;
      }
      // Every rate in the window is finite, so each leaving one is found where it was inserted.
      usable_rows.push_back(i);
      for (double v : rates[i])
        window_sorted.insert(std::upper_bound(window_sorted.begin(), window_sorted.end(), v), v);
      if (usable_rows.size() > window_runs) {
        for (double v : rates[usable_rows[usable_rows.size() - 1 - window_runs]])
          window_sorted.erase(std::lower_bound(window_sorted.begin(), window_sorted.end(), v));
      }
    }
    points.push_back(std::move(p));
  }
  return json{{"page", "trend"},
              {"device",
               {{"id", sr.device.id}, {"identity", sr.device.identity}, {"name", sr.device.name}}},
              {"benchmark", sr.benchmark},
              {"metric", sr.metric},
              {"unit", sr.metric == "bytes_per_s" ? "bytes/s" : "operations/s"},
              {"interval", "q1-q3"},
              {"baseline_runs", o.baseline_runs},
              {"min_effect", min_effect},
              {"alpha", o.settings.alpha},
              {"points", std::move(points)}};
}

series_page build_trend(const std::vector<history::result_row>& rows, const history::series_row& sr,
                        const options& o, const std::string& file, std::string& html) {
  std::size_t regressions = 0;
  const json data = trend_data(rows, sr, o, regressions);
  const auto& points = data["points"];
  std::string table;
  for (const auto& p : points) {
    const bool slower = p["verdict"].is_string() && p["verdict"] == "slower";
    const auto run_id = p["run_id"].get<std::int64_t>();
    table += fmt::format(
        "<tr class=\"{}\" data-run-id=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{} - {}</td>"
        "<td>{}</td><td>{}</td><td>{}</td></tr>\n",
        slower ? "regression" : "run", run_id, run_id, html_escape(p["time"].get<std::string>()),
        fmt_num(p["median"].get<double>()), fmt_num(p["q1"].get<double>()),
        fmt_num(p["q3"].get<double>()), p["samples"].get<std::int64_t>(),
        p["verdict"].is_string() ? p["verdict"].get<std::string>() : std::string("-"),
        html_escape(p["why"].get<std::string>()));
  }
  const std::string unit = data["unit"].get<std::string>();
  const double min_effect = data["min_effect"].get<double>();
  const std::string title = fmt::format("{} on {}", sr.benchmark, sr.device.name);
  std::string body = fmt::format(
      "<p>Device <code>{}</code>. Each point is one run's median rate ({}); the shaded band is "
      "the run's interquartile range (q1-q3 of its samples). A red triangle marks a run that "
      "<code>compare</code> finds <em>slower</em> than the pooled samples of the previous {} "
      "usable runs (minimum effect {} %, alpha {}). Invalid, skipped, suspect and unverified "
      "runs are shown but never compared.</p>\n<canvas id=\"trend-chart\" width=\"960\" "
      "height=\"420\"></canvas>\n<table id=\"runs\"><tr><th>run</th><th>time (UTC)</th><th>"
      "median</th><th>q1 - q3</th><th>samples</th><th>verdict</th><th>why</th></tr>\n"
      "{}</table>\n",
      html_escape(sr.device.identity), unit, o.baseline_runs, fmt_num(min_effect * 100),
      fmt_num(o.settings.alpha), table);
  html = page(title, "../", body, data);
  series_page sp;
  sp.file = file;
  sp.regressions = regressions;
  const auto& last = points.empty() ? json(nullptr) : points.back();
  sp.index_entry = json{{"device", sr.device.name},
                        {"identity", sr.device.identity},
                        {"benchmark", sr.benchmark},
                        {"runs", points.size()},
                        {"last", history::format_utc(sr.last_utc)},
                        {"last_verdict", last.is_null() ? json(nullptr) : last["verdict"]},
                        {"regressions", regressions},
                        {"page", file}};
  return sp;
}

/// Certificates the store holds for a part: those naming its sheet, and those of an unknown part
/// whose device name equals the part's name (case-insensitive), oldest first.
json certificates_for(const std::vector<history::certificate_row>& certificates,
                      const chip_spec& part) {
  json out = json::array();
  const auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  for (const auto& c : certificates) {
    if (c.sheet_id ? *c.sheet_id != part.id : lower(c.device_name) != lower(part.name)) continue;
    out.push_back(json{{"run_id", c.run_id},
                       {"file", c.source_name},
                       {"device", c.device_name},
                       {"identity", c.device_identity},
                       {"node", c.node},
                       {"local_device", c.local_device},
                       {"date", history::format_utc(c.end_utc)},
                       {"verdict", c.verdict},
                       {"tpp_measured", opt_number(c.tpp_measured)},
                       {"integrity", c.integrity},
                       // Only a certificate signed by the key given at ingest is verified.
                       {"verified", c.integrity == "verified"}});
  }
  return out;
}

std::string integrity_text(const std::string& integrity) {
  if (integrity == "verified") return "verified";
  if (integrity == "unsigned") return "not verified (unsigned)";
  if (integrity == "unauthenticated") return "not verified (signer not trusted at ingest)";
  return "not verified (failed verification)";
}

/// The fleet page: `fleet collect` over the store's certificates (the collector keeps each
/// device's latest), its JSON answer embedded as the page data.
std::string build_fleet(history::store& st, catalog& cat, const options& o) {
  certify::fleet_collect_options fo;
  fo.trusted_key = o.trusted_key;
  const auto c = history::collect_fleet_store(st, history::selector{}, fo);
  const auto items = certify::fleet_items(c, cat);
  const licensing_engine engine(cat.rules(), cat.licensing(), cat.countries());
  const auto totals = evaluate_fleet(items, engine, o.as_of);
  json data =
      json::parse(certify::render_fleet_collection(c, items, totals, o.as_of, output_format::json));
  data["page"] = "fleet";
  std::string nodes;
  for (const auto& n : c.nodes)
    nodes += fmt::format(
        "<tr class=\"{0}\" data-node=\"{1}\"><td>{1}</td><td>{0}</td><td>{2}</td><td>{3}</td>"
        "<td>{4}</td><td>{5}</td></tr>\n",
        html_escape(n.verdict), html_escape(n.node), n.devices, n.passed, n.failed, n.inconclusive);
  std::string devices;
  for (const auto& d : c.devices) {
    if (d.verdict == "pass") continue;
    devices += fmt::format(
        "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        html_escape(d.verdict), html_escape(d.node), html_escape(d.device), html_escape(d.sku),
        html_escape(d.verdict),
        d.reasons.empty() ? std::string("(no reason recorded)") : html_escape(d.reasons.front()));
  }
  std::string outliers;
  for (const auto& x : c.outliers)
    outliers += fmt::format(
        "<tr data-node=\"{0}\" data-device=\"{1}\" data-benchmark=\"{3}\"><td>{2}</td><td>{0}"
        "</td><td>{1}</td><td>{3}</td><td>{4}</td><td>{5}</td><td>{6:.1f}</td><td>{7}</td></tr>"
        "\n",
        html_escape(x.node), html_escape(x.device), html_escape(x.sku), html_escape(x.benchmark),
        fmt_num(x.value), fmt_num(x.median), x.z, x.peers);
  std::string unverified;
  for (const auto& u : c.unverified)
    unverified += fmt::format("<li>{}: {}</li>\n", html_escape(u.file), html_escape(u.reason));
  std::string skus;
  for (const auto& [k, v] : c.sku_mix)
    skus += fmt::format("<tr><td>{}</td><td>{}</td></tr>\n", html_escape(k), v);
  double tpp = 0;
  for (const auto& d : c.devices) tpp += d.tpp;
  const auto inconclusive =
      static_cast<long long>(c.devices.size()) - c.count("pass") - c.count("fail");
  std::string body = fmt::format(
      "<p><code>fleet collect</code> over the certificates in the history store <code>{}</code>"
      ": each device's latest certificate, verified again {}. Unverified certificates are "
      "listed and never counted.</p>\n<p id=\"fleet-totals\">{} device(s) on {} node(s): "
      "<span class=\"pass\">{} pass</span>, <span class=\"fail\">{} fail</span>"
      ", {} inconclusive; {} certificate(s) read, {} superseded, {} unverified. Measured TPP "
      "summed over the counted devices (lower bounds): {}.</p>\n<h2>Nodes</h2>\n"
      "<table id=\"fleet-nodes\"><tr><th>node</th><th>verdict</th><th>devices</th><th>pass</th>"
      "<th>fail</th><th>inconclusive</th></tr>\n{}</table>\n<h2>Devices not passing</h2>\n"
      "<table id=\"fleet-failing\"><tr><th>node</th><th>device</th><th>SKU</th><th>verdict</th>"
      "<th>first reason</th></tr>\n{}</table>\n<h2>Outliers per SKU (modified z-score below "
      "-{:g})</h2>\n<table id=\"fleet-outliers\"><tr><th>SKU</th><th>node</th><th>device</th>"
      "<th>benchmark</th><th>median</th><th>SKU median</th><th>z</th><th>devices</th></tr>\n"
      "{}</table>\n<h2>SKU mix</h2>\n<table id=\"fleet-skus\"><tr><th>SKU</th><th>devices</th>"
      "</tr>\n{}</table>\n<h2>Unverified certificates</h2>\n<ul id=\"fleet-unverified\">\n"
      "{}</ul>\n<h2>Totals against the quotas and the reporting threshold (verified "
      "certificates only)</h2>\n<pre id=\"fleet-quota\">{}</pre>\n",
      html_escape(st.path()),
      o.trusted_key ? "against the dashboard's --pubkey"
                    : "without a trusted key (signed ones are not counted)",
      c.devices.size(), c.nodes.size(), c.count("pass"), c.count("fail"), inconclusive,
      c.certificates_read, c.superseded, c.unverified.size(), fmt_num(tpp), nodes, devices,
      c.z_threshold, outliers, skus, unverified,
      html_escape(render_fleet(items, totals, o.as_of, output_format::text)));
  return page("Fleet", "", body, data);
}

}  // namespace

site build_site(history::store* st, catalog& cat, const options& o) {
  if (o.baseline_runs < 1)
    throw usage_error(
        fmt::format("--baseline: expected a whole number of runs >= 1, got {}", o.baseline_runs));
  site out;
  const auto& rules = cat.rules();

  // Parts and their classification under every regime on as_of.
  const auto plan = evaluation_plan::every_regime(rules, o.as_of);
  const classification_engine engine(rules);
  json part_index = json::array();
  json plane_parts = json::array();
  json unplotted = json::array();
  std::set<std::string> used_files;
  // The store's certificates, read once for all parts.
  std::vector<history::certificate_row> certificates;
  if (st != nullptr) certificates = history::list_certificates(*st, history::selector{});
  out.certificates = certificates.size();
  for (const auto& p : cat.parts().parts()) {
    const auto c = engine.classify(*p, plan);
    const auto& m = c.metrics;
    std::optional<double> declared = m.declared_tpp;
    if (!declared && p->declared) declared = p->declared->tpp;
    json regimes = json::array();
    std::string regime_rows;
    for (const auto& v : c.verdicts) {
      const auto* fired = v.fired_clause();
      const std::string eccn = fired != nullptr ? fired->eccn : std::string();
      regimes.push_back(json{{"id", v.rule->id},
                             {"title", v.rule->title},
                             {"role", std::string(to_string(v.rule->role))},
                             {"status", std::string(to_string(v.status))},
                             {"outcome", std::string(to_string(v.outcome))},
                             {"eccn", eccn}});
      regime_rows +=
          fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                      html_escape(v.rule->id), html_escape(to_string(v.status)),
                      html_escape(to_string(v.outcome)), eccn.empty() ? "-" : html_escape(eccn));
    }
    const json certs = certificates_for(certificates, *p);
    // Measured: the latest verified certificate's TPP (a lower bound); never an unverified one's.
    json measured = nullptr;
    std::string measured_reason =
        certs.empty()
            ? "no certificate of this part in the history store"
            : "no verified certificate of this part with a measured TPP in the history store";
    for (const auto& ce : certs) {
      if (!ce["verified"].get<bool>() || !ce["tpp_measured"].is_number()) continue;
      measured = ce["tpp_measured"];
      measured_reason = fmt::format("certificate run {} ({}, {}): a lower bound",
                                    ce["run_id"].get<std::int64_t>(),
                                    ce["device"].get<std::string>(), ce["date"].get<std::string>());
    }
    const json derived = m.tpp_known() ? json(m.tpp) : json(nullptr);
    const json data{{"page", "part"},
                    {"id", p->id},
                    {"vendor", p->vendor},
                    {"name", p->name},
                    {"kind", std::string(to_string(p->kind))},
                    {"as_of", o.as_of.to_string()},
                    {"tpp",
                     {{"declared", opt_number(declared)},
                      {"derived", derived},
                      {"derived_reason", m.tpp_reason},
                      {"measured", measured},
                      {"measured_reason", measured_reason}}},
                    {"pd", opt_number(m.pd)},
                    {"pd_reason", m.pd_reason},
                    {"eccn", std::string(c.eccn)},
                    {"regimes", regimes},
                    {"certificates", certs}};
    std::string file = "part/" + slug(p->id) + ".html";
    for (int k = 2; used_files.count(file) != 0; ++k)
      file = fmt::format("part/{}-{}.html", slug(p->id), k);
    used_files.insert(file);
    const auto show = [](const json& v) {
      return v.is_number() ? fmt_num(v.get<double>()) : std::string("unknown");
    };
    std::string cert_html =
        certs.empty()
            ? "<p>The history store holds no certificate for this part.</p>\n"
            : "<table id=\"certificates\"><tr><th>device</th><th>node</th><th>date (end, UTC)"
              "</th><th>verdict</th><th>measured TPP</th><th>integrity</th><th>file</th></tr>\n";
    for (const auto& ce : certs)
      cert_html += fmt::format(
          "<tr class=\"{} {}\" data-run-id=\"{}\"><td>{} <code>{}</code></td><td>{}</td><td>{}"
          "</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
          html_escape(ce["verdict"].get<std::string>()),
          ce["verified"].get<bool>() ? "verified" : "unverified", ce["run_id"].get<std::int64_t>(),
          html_escape(ce["device"].get<std::string>()),
          html_escape(ce["identity"].get<std::string>()),
          html_escape(ce["node"].get<std::string>()), ce["date"].get<std::string>(),
          html_escape(ce["verdict"].get<std::string>()),
          ce["tpp_measured"].is_number() ? fmt_num(ce["tpp_measured"].get<double>())
                                         : std::string("not recorded"),
          html_escape(integrity_text(ce["integrity"].get<std::string>())),
          html_escape(ce["file"].get<std::string>()));
    if (!certs.empty()) cert_html += "</table>\n";
    std::string body = fmt::format(
        "<p>{} {} ({}), sheet <code>{}</code>. ECCN in force on {}: <strong>{}</strong>"
        ". Not legal advice.</p>\n<h2>TPP</h2>\n<table id=\"tpp\"><tr><th>declared</th><td>{}"
        "</td></tr><tr><th>derived from the sheet</th><td>{}{}</td></tr><tr><th>measured</th>"
        "<td>{}</td></tr><tr><th>PD</th><td>{}{}</td></tr></table>\n"
        "<h2>ECCN under each regime</h2>\n<table id=\"regimes\"><tr><th>regime</th><th>"
        "status on {}</th><th>outcome</th><th>ECCN</th></tr>\n{}</table>\n"
        "<h2>Certificates</h2>\n{}",
        html_escape(p->vendor), html_escape(p->name), html_escape(to_string(p->kind)),
        html_escape(p->id), o.as_of.to_string(),
        c.eccn.empty() ? std::string("none fired") : html_escape(c.eccn),
        show(data["tpp"]["declared"]), show(derived),
        m.tpp_reason.empty() ? "" : " (" + html_escape(m.tpp_reason) + ")",
        measured.is_number()
            ? fmt_num(measured.get<double>()) + " (" + html_escape(measured_reason) + ")"
            : "unknown: " + html_escape(measured_reason),
        show(data["pd"]), m.pd_reason.empty() ? "" : " (" + html_escape(m.pd_reason) + ")",
        o.as_of.to_string(), regime_rows, cert_html);
    out.files[file] = page(fmt::format("{} {}", p->vendor, p->name), "../", body, data);
    part_index.push_back(json{{"id", p->id},
                              {"name", p->name},
                              {"vendor", p->vendor},
                              {"eccn", std::string(c.eccn)},
                              {"page", file}});
    if (m.tpp_known() && m.tpp > 0 && m.pd && *m.pd > 0)
      plane_parts.push_back(json{{"id", p->id},
                                 {"name", p->name},
                                 {"tpp", m.tpp},
                                 {"pd", *m.pd},
                                 {"eccn", std::string(c.eccn)}});
    else
      unplotted.push_back(json{{"id", p->id},
                               {"name", p->name},
                               {"why", !m.tpp_known() ? m.tpp_reason
                                       : !m.pd ? (m.pd_reason.empty() ? "no PD" : m.pd_reason)
                                               : "TPP or PD is 0 (log axes)"}});
  }
  out.parts = cat.parts().parts().size();

  // Threshold lines: every regime parameter in TPP (a vertical line) or TPP/mm^2 (a horizontal
  // line), at its value on as_of. Units come from the rule files, as do the values.
  json thresholds = json::array();
  for (const auto& r : rules.regimes()) {
    for (const auto& prm : r.parameters) {
      std::string axis;
      if (prm.unit == "TPP") axis = "tpp";
      else if (prm.unit == "TPP/mm^2") axis = "pd";
      else continue;
      const double v = prm.value_on(o.as_of);
      if (!(v > 0)) continue;
      thresholds.push_back(
          json{{"regime", r.id},
               {"parameter", prm.name},
               {"axis", axis},
               {"value", v},
               {"status", std::string(to_string(r.status_on(o.as_of)))},
               {"label", fmt::format("{} {} = {} {}", r.id, prm.name, fmt_num(v), prm.unit)}});
    }
  }
  double tmin = 1e300, tmax = 0, pmin = 1e300, pmax = 0;
  for (const auto& p : plane_parts) {
    tmin = std::min(tmin, p["tpp"].get<double>());
    tmax = std::max(tmax, p["tpp"].get<double>());
    pmin = std::min(pmin, p["pd"].get<double>());
    pmax = std::max(pmax, p["pd"].get<double>());
  }
  for (const auto& t : thresholds) {
    const double v = t["value"].get<double>();
    if (t["axis"] == "tpp") {
      tmin = std::min(tmin, v);
      tmax = std::max(tmax, v);
    } else {
      pmin = std::min(pmin, v);
      pmax = std::max(pmax, v);
    }
  }
  if (tmax <= 0) {
    tmin = 1;
    tmax = 10;
  }
  if (pmax <= 0) {
    pmin = 0.1;
    pmax = 1;
  }
  const json axes{
      {"tpp_min", tmin / 2}, {"tpp_max", tmax * 2}, {"pd_min", pmin / 2}, {"pd_max", pmax * 2}};
  {
    std::string rows;
    for (const auto& t : thresholds)
      rows += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                          html_escape(t["regime"].get<std::string>()),
                          html_escape(t["parameter"].get<std::string>()),
                          t["axis"] == "tpp" ? "TPP" : "PD", fmt_num(t["value"].get<double>()),
                          html_escape(t["status"].get<std::string>()));
    std::string missing;
    for (const auto& u : unplotted)
      missing += fmt::format("<li>{}: {}</li>\n", html_escape(u["name"].get<std::string>()),
                             html_escape(u["why"].get<std::string>()));
    const json data{{"page", "plane"},          {"as_of", o.as_of.to_string()},
                    {"parts", plane_parts},     {"unplotted", unplotted},
                    {"thresholds", thresholds}, {"axes", axes}};
    std::string body = fmt::format(
        "<p>Every bundled part with a known TPP and PD (derived from its sheet), on log axes, "
        "with every regime's TPP and PD thresholds (values on {}, read from the rule files' "
        "parameters). A line is a single parameter; a clause combines them (see each regime). "
        "Not legal advice.</p>\n<canvas id=\"plane-chart\" width=\"1100\" height=\"720\">"
        "</canvas>\n<h2>Threshold lines</h2>\n<table id=\"thresholds\"><tr><th>regime</th><th>"
        "parameter</th><th>axis</th><th>value</th><th>status</th></tr>\n{}</table>\n"
        "<h2>Not plotted</h2>\n<ul id=\"unplotted\">\n{}</ul>\n",
        o.as_of.to_string(), rows, missing);
    out.files["plane.html"] = page("TPP-PD plane", "", body, data);
  }

  // Trend pages.
  json series_index = json::array();
  if (st != nullptr) {
    history::selector sel;
    sel.device = o.device;
    const auto series = history::list_series(*st, sel);
    // The series come ordered by device: each device's results are read once, for all its pages.
    rows_by_benchmark rows;
    std::optional<std::int64_t> rows_device;
    const std::vector<history::result_row> none;
    for (const auto& sr : series) {
      if (rows_device != sr.device.id) {
        rows = device_results(*st, sr.device);
        rows_device = sr.device.id;
      }
      std::string file = fmt::format("trend/d{}-{}.html", sr.device.id, slug(sr.benchmark));
      for (int k = 2; used_files.count(file) != 0; ++k)
        file = fmt::format("trend/d{}-{}-{}.html", sr.device.id, slug(sr.benchmark), k);
      used_files.insert(file);
      std::string html;
      const auto it = rows.find(sr.benchmark);
      auto sp = build_trend(it != rows.end() ? it->second : none, sr, o, file, html);
      out.files[file] = std::move(html);
      out.regressions += sp.regressions;
      series_index.push_back(std::move(sp.index_entry));
    }
    out.series = series.size();
  }

  // The fleet page: always written, so the navigation never dangles.
  if (st != nullptr) out.files["fleet.html"] = build_fleet(*st, cat, o);
  else
    out.files["fleet.html"] =
        page("Fleet", "", "<p>No history store: no certificates to collect.</p>\n",
             json{{"page", "fleet"}});

  // Index.
  std::string series_rows;
  for (const auto& e : series_index)
    series_rows += fmt::format(
        "<tr class=\"{}\"><td>{}</td><td><code>{}</code></td><td><a href=\"{}\">{}</a></td><td>"
        "{}</td><td>{}</td><td>{}</td></tr>\n",
        e["regressions"].get<std::size_t>() > 0 ? "regression" : "series",
        html_escape(e["device"].get<std::string>()), html_escape(e["identity"].get<std::string>()),
        html_escape(e["page"].get<std::string>()), html_escape(e["benchmark"].get<std::string>()),
        e["runs"].get<std::size_t>(), e["last"].get<std::string>(),
        e["regressions"].get<std::size_t>());
  std::string part_rows;
  for (const auto& e : part_index)
    part_rows += fmt::format(
        "<tr><td>{}</td><td><a href=\"{}\">{}</a></td><td>{}</td></tr>\n",
        html_escape(e["vendor"].get<std::string>()), html_escape(e["page"].get<std::string>()),
        html_escape(e["name"].get<std::string>()),
        e["eccn"].get<std::string>().empty() ? "-" : html_escape(e["eccn"].get<std::string>()));
  const json data{{"page", "index"},
                  {"as_of", o.as_of.to_string()},
                  {"history", st != nullptr ? json(st->path()) : json(nullptr)},
                  {"baseline_runs", o.baseline_runs},
                  {"series", series_index},
                  {"parts", part_index}};
  std::string body = fmt::format(
      "<p>{}. Baseline: the previous {} usable runs. ECCNs as of {}.</p>\n"
      "<h2>Devices and benchmarks</h2>\n<table id=\"series\"><tr><th>device</th><th>identity"
      "</th><th>benchmark</th><th>runs</th><th>last run (UTC)</th><th>runs slower than baseline"
      "</th></tr>\n{}</table>\n<h2>Fleet</h2>\n<p><a href=\"fleet.html\">The fleet</a>"
      ": {} certificate(s) in the store, collected per node and SKU.</p>\n<h2>Parts</h2>\n"
      "<p><a href=\"plane.html\">The TPP-PD plane</a> with every regime's thresholds.</p>\n"
      "<table id=\"parts\"><tr><th>vendor</th><th>part</th><th>ECCN</th></tr>\n{}</table>\n",
      st != nullptr ? fmt::format("History store <code>{}</code>: {} device x benchmark series",
                                  html_escape(st->path()), series_index.size())
                    : std::string("No history store"),
      o.baseline_runs, o.as_of.to_string(), series_rows, out.certificates, part_rows);
  out.files["index.html"] = page("chipgauge dashboard", "", body, data);
  out.files["assets/dashboard.js"] = detail::dashboard_js;
  out.files["assets/style.css"] = detail::style_css;
  out.files[marker_file] =
      "written by chipgauge dashboard; the directory is replaced as a whole on the next run\n";
  return out;
}

namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : std::string(fallback);
}

void write_plain(const fs::path& path, std::string_view content) {
  fs::create_directories(path.parent_path());
  write_file_atomically(path.string(), content);
}

}  // namespace

std::string trend_json(history::store& st, const history::series_row& series, const options& o) {
  history::selector sel;
  sel.device = series.device.identity;
  sel.benchmark = series.benchmark;
  std::vector<history::result_row> rows;
  history::for_each_result(st, sel, true, [&](const history::result_row& r) {
    if (r.device_id == series.device.id && r.benchmark == series.benchmark) rows.push_back(r);
  });
  std::size_t regressions = 0;
  return trend_data(rows, series, o, regressions).dump();
}

std::map<std::string, std::string> chartjs_files(const options& o) {
  const std::string js_dir = o.chartjs_dir.empty()
                                 ? env_or("CHIPGAUGE_CHARTJS_DIR", "/usr/share/javascript/chart.js")
                                 : o.chartjs_dir;
  const std::string license = o.chartjs_license.empty()
                                  ? std::string("/usr/share/doc/libjs-chart.js/copyright")
                                  : o.chartjs_license;
  const fs::path chart_js = fs::path(js_dir) / "chart.min.js";
  std::error_code ec;
  if (!fs::is_regular_file(chart_js, ec))
    throw error(fmt::format(
        "Chart.js not found at {} (install Debian's libjs-chart.js, or set CHIPGAUGE_CHARTJS_DIR)",
        chart_js.string()));
  if (!fs::is_regular_file(license, ec))
    throw error(fmt::format(
        "the Chart.js licence file {} is missing (install Debian's libjs-chart.js)", license));
  return {{"assets/chart.min.js", read_text_file(chart_js.string(), file_limits::json_file)},
          {"assets/chart.js-LICENSE.txt", read_text_file(license, file_limits::json_file)}};
}

void write_site(const site& s, const std::string& out_dir, const options& o) {
  if (out_dir.empty()) throw usage_error("--out: expected a directory to write the site into");
  const fs::path out = fs::absolute(fs::path(out_dir)).lexically_normal();
  const fs::path target = out.has_filename() ? out : out.parent_path();
  const fs::path parent = target.parent_path();
  std::error_code ec;
  if (!fs::is_directory(parent, ec))
    throw usage_error(
        fmt::format("--out {}: its parent directory {} does not exist", out_dir, parent.string()));
  if (fs::exists(fs::symlink_status(target, ec))) {
    if (!fs::is_directory(fs::symlink_status(target, ec)))
      throw usage_error(fmt::format("--out {}: exists and is not a directory", out_dir));
    if (!fs::is_empty(target, ec) && !fs::exists(target / marker_file, ec))
      throw usage_error(fmt::format(
          "--out {}: a non-empty directory that chipgauge dashboard did not write (no {}); give "
          "a new or empty directory",
          out_dir, marker_file));
  }
  const auto chartjs = chartjs_files(o);

  const fs::path tmp =
      parent / fmt::format(".{}.tmp-{}", target.filename().string(), static_cast<long>(::getpid()));
  fs::remove_all(tmp, ec);
  try {
    fs::create_directories(tmp);
    for (const auto& [rel, content] : s.files) write_plain(tmp / rel, content);
    for (const auto& [rel, content] : chartjs) write_plain(tmp / rel, content);
    // Swap: the old site (if any) moves aside, the new one into place, the old one is removed.
    const fs::path old = parent / fmt::format(".{}.old-{}", target.filename().string(),
                                              static_cast<long>(::getpid()));
    fs::remove_all(old, ec);
    const bool had = fs::exists(target);
    if (had) fs::rename(target, old);
    try {
      fs::rename(tmp, target);
    } catch (...) {
      if (had) fs::rename(old, target, ec);
      throw;
    }
    if (had) fs::remove_all(old, ec);
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(tmp, ec);
    throw error(fmt::format("--out {}: {}", out_dir, e.what()));
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace chipgauge::dashboard
