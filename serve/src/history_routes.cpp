// The history routes of `chipgauge serve` (docs/api.md#history): request checks around the calls
// `history ingest|list|show`, `compare` and `dashboard` make (apps/chipgauge/cmd_history.cpp,
// cmd_compare.cpp, cmd_dashboard.cpp). No history logic lives here.
#include "chipgauge/serve/history_routes.hpp"

#include "chipgauge/bench/compare.hpp"
#include "chipgauge/core/signing.hpp"
#include "chipgauge/dashboard/site.hpp"
#include "chipgauge/history/ingest.hpp"
#include "chipgauge/history/query.hpp"
#include "chipgauge/history/store.hpp"
#include "chipgauge/serve/dataset.hpp"
#include "request.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

using chipgauge::classifier::catalog;

namespace chipgauge::serve {

namespace {

using ojson = nlohmann::ordered_json;

/// The dashboard as served: every file of the site by its relative path.
struct dashboard_files {
  std::map<std::string, std::string, std::less<>> files;
  /// Why Chart.js is not among `files` (not installed); empty when it is.
  std::string chartjs_error;
};

/// The store the routes read and write, and the dashboard built from it. Each request opens a
/// connection of its own (a store connection is not thread-safe; SQLite's WAL mode lets readers
/// and one writer work at once). The dashboard is built in memory and kept until the store
/// changes (store::data_version on a connection kept for that alone, under the mutex), the data
/// set is reloaded or the day changes; requests in between share it.
class history_source {
 public:
  history_source(std::string path, std::optional<std::string> trusted_key)
      : path_(std::move(path)), trusted_key_(std::move(trusted_key)) {
    // A key that is not an Ed25519 public key stops the server at start, not each ingest later.
    if (trusted_key_) (void)load_ed25519_public_key(*trusted_key_);
    if (path_.empty()) return;
    history::open_options o;
    o.create = true;
    watcher_.emplace(history::store::open(path_, o));
  }

  /// How certificates are checked on ingest: against --pubkey's key when one was given.
  [[nodiscard]] history::ingest_options ingest_options() const {
    history::ingest_options o;
    o.trusted_key = trusted_key_;
    return o;
  }

  /// A connection for one request. 503 when no store is configured or it cannot be opened now.
  [[nodiscard]] history::store open() const {
    if (path_.empty())
      throw problem(503, "no-history-store",
                    "no history store configured: start chipgauge serve with --history FILE or "
                    "CHIPGAUGE_HISTORY set");
    try {
      history::open_options o;
      o.create = false;
      return history::store::open(path_, o);
    } catch (const std::exception& e) {
      throw problem(503, "history-unavailable",
                    fmt::format("the history store cannot be opened: {}", e.what()))
          .header("Retry-After", "1");
    }
  }

  /// The site `chipgauge dashboard` would write now, for data set `d` and today.
  std::shared_ptr<const dashboard_files> dashboard(const dataset& d) {
    auto st = open();  // 503 before anything is cached when there is no store
    const std::lock_guard lock(mutex_);
    // Read before building: a commit during the build changes it, and the next request rebuilds.
    const auto key =
        fmt::format("{}/{}/{}", d.version, date::today().to_string(), watcher_->data_version());
    if (files_ && key == key_) return files_;
    dashboard::options o;
    o.as_of = date::today();
    o.trusted_key = trusted_key_;
    // The fleet page's totals load sheets and licensing data on demand, and the shared data set
    // is never written: the build reads the same specs directory into a catalog of its own (once
    // per change of the store or the data set, as `chipgauge dashboard` does per run).
    auto cat = catalog::load(d.specs_dir);
    auto site = dashboard::build_site(&st, cat, o);
    auto out = std::make_shared<dashboard_files>();
    for (auto& [rel, content] : site.files) {
      if (rel != dashboard::marker_file) out->files.emplace(rel, std::move(content));
    }
    try {
      for (auto& [rel, content] : dashboard::chartjs_files(o))
        out->files.emplace(rel, std::move(content));
    } catch (const error& e) {
      out->chartjs_error = e.what();
    }
    key_ = key;
    files_ = std::move(out);
    return files_;
  }

 private:
  std::string path_;
  std::mutex mutex_;
  std::optional<std::string> trusted_key_;  ///< --pubkey: the key certificates are verified with
  std::optional<history::store> watcher_;   ///< asks data_version only, under mutex_
  std::string key_;                         ///< data set version / day / data_version of files_
  std::shared_ptr<const dashboard_files> files_;
};

using source_ptr = std::shared_ptr<history_source>;

/// A whole number in `text` (digits only), or nullopt.
std::optional<std::int64_t> whole_number(std::string_view text) {
  std::int64_t n = 0;
  if (text.empty() || text.size() > 18 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

/// The filters of `history list` from query parameters named as its options: device, benchmark,
/// since, until, last.
history::selector selector_of(const query_params& q) {
  history::selector sel;
  if (const auto* v = q.find("device")) sel.device = *v;
  if (const auto* v = q.find("benchmark")) sel.benchmark = *v;
  const auto bound = [&q](const char* name, bool end_of_day) -> std::optional<std::int64_t> {
    const auto* v = q.find(name);
    if (!v || v->empty()) return std::nullopt;
    try {
      return history::parse_time_bound(name, *v, end_of_day);
    } catch (const usage_error& e) {
      throw problem(400, "bad-parameter", e.what()).parameter(name);
    }
  };
  sel.since = bound("since", false);
  sel.until = bound("until", true);
  if (sel.since && sel.until && *sel.since >= *sel.until)
    throw problem(400, "bad-parameter", "since is not before until").parameter("since");
  if (const auto* v = q.find("last"); v && !v->empty()) {
    const auto n = whole_number(*v);
    if (!n || *n < 1 || *n > 1000000)
      throw problem(
          400, "bad-parameter",
          fmt::format("last '{}' is not a count: expected a whole number from 1 to 1,000,000",
                      quote_input(*v)))
          .parameter("last");
    sel.last = static_cast<int>(*n);
  }
  return sel;
}

/// A parameter the route cannot do without.
const std::string& required(const query_params& q, const char* name, std::string_view what) {
  const auto* v = q.find(name);
  if (!v || v->empty())
    throw problem(400, "bad-parameter", fmt::format("{} is required: {}", name, what))
        .parameter(name);
  return *v;
}

// POST /v1/reports, POST /v1/certificates: the body ingested as `history ingest` ingests a file.
// `kind` is the route's: "report" (measurement reports, Google Benchmark JSON) or "certificate".
http_response ingest_route(history_source& h, std::string_view kind, const api& a,
                           const http_request& r) {
  const auto refused = [&a, kind] { a.metrics().count_ingest(kind, "refused"); };
  try {
    const query_params none(r, {});
    const auto doc = parse_body(r);
    // Which route takes which kind: the kind is told by "schema", as ingest_file tells it.
    const auto* schema = doc.is_object() && doc.contains("schema") && doc["schema"].is_string()
                             ? &doc["schema"]
                             : nullptr;
    const bool certificate =
        schema && schema->get<std::string>().starts_with("chipgauge.certificate/");
    if (kind == "certificate" && !certificate)
      throw problem(
          422, "wrong-kind",
          "expected a certificate (\"schema\": \"chipgauge.certificate/...\"): POST measurement "
          "reports and Google Benchmark JSON to /v1/reports")
          .at(schema ? "$.schema" : "$");
    if (kind == "report" && certificate)
      throw problem(422, "wrong-kind", "a certificate: POST it to /v1/certificates").at("$.schema");
    auto st = h.open();
    const auto out = history::ingest_bytes(st, r.body, body_name, h.ingest_options());
    a.metrics().count_ingest(kind, out.already_present ? "already_present" : "ingested");
    ojson j;
    j["run_id"] = out.run_id;
    j["already_present"] = out.already_present;
    j["results"] = out.results;
    j["source_sha256"] = history::sha256_hex(r.body);
    if (!out.integrity.empty()) j["integrity"] = out.integrity;
    if (!out.findings.empty()) j["findings"] = out.findings;
    auto res = json_response(j.dump() + "\n", out.already_present ? 200 : 201);
    res.headers.emplace_back("Location", fmt::format("/v1/history/runs/{}", out.run_id));
    return res;
  } catch (const problem& p) {
    if (p.status() < 500) refused();
    else a.metrics().count_ingest(kind, "unavailable");
    throw;
  } catch (const spec_error& e) {
    refused();
    throw problem(422, kind == "certificate" ? "invalid-certificate" : "invalid-report", e.what())
        .at(e.json_path());
  } catch (const usage_error& e) {
    refused();
    throw problem(422, "invalid-input", e.what());
  }
}

// GET /v1/history/runs: `history list --format json` with the same filters.
http_response runs_route(const history_source& h, const http_request& r) {
  const query_params q(r, {"device", "benchmark", "since", "until", "last"});
  const auto sel = selector_of(q);
  auto st = h.open();
  return json_response(history::runs_to_json(history::list_runs(st, sel)));
}

// GET /v1/history/runs/{id}: `history show ID --format json`.
http_response run_route(const history_source& h, const http_request& r, const std::string& id) {
  const query_params none(r, {});
  const auto n = whole_number(id);
  auto st = h.open();
  const auto run = n ? history::find_run(st, *n) : std::nullopt;
  if (!run)
    throw problem(
        404, "unknown-run",
        fmt::format("the history store has no run '{}': see /v1/history/runs", quote_input(id)));
  return json_response(history::run_to_json(st, *run));
}

// GET /v1/history/trend?device=&benchmark=: per device x benchmark series the filters select, the
// data its dashboard trend page charts.
http_response trend_route(const history_source& h, const http_request& r) {
  const query_params q(r, {"device", "benchmark"});
  history::selector sel;
  sel.device =
      required(q, "device", "a device's name or identity, or a part of it (see /v1/history/runs)");
  sel.benchmark = required(q, "benchmark", "a benchmark's exact name (see /v1/history/runs/{id})");
  auto st = h.open();
  const dashboard::options o;
  ojson out;
  out["device"] = sel.device;
  out["benchmark"] = sel.benchmark;
  out["series"] = ojson::array();
  for (const auto& s : history::list_series(st, sel))
    out["series"].push_back(ojson::parse(dashboard::trend_json(st, s, o)));
  return json_response(out.dump(-1, ' ', false, ojson::error_handler_t::replace) + "\n");
}

/// The comparison settings from /v1/compare's query parameters, which are the CLI's options under
/// snake_case names (min_effect repeatable as --min-effect is), checked by the same library calls.
bench::compare_settings compare_settings_from(const query_params& q) {
  bench::compare_settings s;
  const auto parameter = [](const char* name, const auto& apply) {
    try {
      apply();
    } catch (const usage_error& e) {
      throw problem(400, "bad-parameter", e.what()).parameter(name);
    }
  };
  if (const auto* v = q.find("alpha"))
    parameter("alpha", [&] { bench::set_alpha(s, "alpha", *v); });
  if (const auto* v = q.find("clock_tolerance"))
    parameter("clock_tolerance", [&] { bench::set_clock_tolerance(s, "clock_tolerance", *v); });
  s.clock_explained_ok = q.flag("clock_explained_ok");
  for (const auto& m : q.all("min_effect"))
    parameter("min_effect", [&] { bench::set_min_effect(s, "min_effect", m); });
  return s;
}

// GET /v1/compare?base=&new=[&min_effect=...][&alpha=][&clock_tolerance=][&clock_explained_ok]:
// `compare BASE NEW --format json` with history selectors on both sides and the CLI's options.
// 200 whatever the verdicts: they are in the body.
http_response compare_route(const history_source& h, const http_request& r) {
  const query_params q(
      r, {"base", "new", "min_effect", "alpha", "clock_tolerance", "clock_explained_ok"},
      {"min_effect"});
  constexpr std::string_view what =
      "a history selector (history:device=SUBSTR,benchmark=NAME,since=DATE,until=DATE,last=N)";
  const auto& base_text = required(q, "base", what);
  const auto& new_text = required(q, "new", what);
  const auto parse = [](const std::string& text, const char* name) {
    try {
      return history::parse_selector(text);
    } catch (const usage_error& e) {
      throw problem(400, "bad-parameter", e.what()).parameter(name);
    }
  };
  const auto base_sel = parse(base_text, "base");
  const auto new_sel = parse(new_text, "new");
  const auto settings = compare_settings_from(q);
  auto st = h.open();
  const auto side = [&st](const history::selector& sel, const char* name) {
    try {
      return history::select_as_report(st, sel);
    } catch (const usage_error& e) {
      throw problem(422, "empty-selection", e.what()).parameter(name);
    }
  };
  const auto base = side(base_sel, "base");
  const auto current = side(new_sel, "new");
  const auto c = bench::compare_reports(base, current, settings, base_text, new_text);
  return json_response(bench::comparison_to_json(c));
}

/// The media type of a dashboard file, by its extension.
std::string dashboard_media_type(std::string_view file) {
  if (file.ends_with(".html")) return "text/html; charset=utf-8";
  if (file.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (file.ends_with(".css")) return "text/css; charset=utf-8";
  return "text/plain; charset=utf-8";
}

// GET /dashboard/{path}: a file of the dashboard built from the store as it is now.
http_response dashboard_route(history_source& h, const http_request& r, const dataset& d,
                              const std::string& path) {
  const query_params none(r, {});
  const auto site = h.dashboard(d);
  const std::string file = path.empty() || path.ends_with("/") ? path + "index.html" : path;
  const auto it = site->files.find(file);
  if (it == site->files.end()) {
    if (!site->chartjs_error.empty() && file.starts_with("assets/chart"))
      throw problem(503, "dashboard-unavailable", site->chartjs_error);
    throw problem(404, "not-found",
                  fmt::format("no dashboard page '{}': see /dashboard/", quote_input(file)));
  }
  http_response res;
  res.content_type = dashboard_media_type(file);
  res.body = it->second;
  res.headers.emplace_back("Cache-Control", "no-cache");
  return res;
}

}  // namespace

void add_history_routes(api& a, const std::string& path,
                        const std::optional<std::string>& trusted_key) {
  const auto h = std::make_shared<history_source>(path, trusted_key);
  using params = std::vector<std::string>;
  a.add_route({"POST", "/v1/reports", true,
               [h](const api& x, const http_request& r, const dataset&, const params&) {
                 return ingest_route(*h, "report", x, r);
               }});
  a.add_route({"POST", "/v1/certificates", true,
               [h](const api& x, const http_request& r, const dataset&, const params&) {
                 return ingest_route(*h, "certificate", x, r);
               }});
  a.add_route({"GET", "/v1/history/runs", false,
               [h](const api&, const http_request& r, const dataset&, const params&) {
                 return runs_route(*h, r);
               }});
  a.add_route({"GET", "/v1/history/runs/{id}", false,
               [h](const api&, const http_request& r, const dataset&, const params& p) {
                 return run_route(*h, r, p.at(0));
               }});
  a.add_route({"GET", "/v1/history/trend", false,
               [h](const api&, const http_request& r, const dataset&, const params&) {
                 return trend_route(*h, r);
               }});
  a.add_route({"GET", "/v1/compare", false,
               [h](const api&, const http_request& r, const dataset&, const params&) {
                 return compare_route(*h, r);
               }});
  // The pages link to each other relatively: the site's root needs its trailing slash.
  a.add_route({"GET", "/dashboard", false,
               [](const api&, const http_request& r, const dataset&, const params&) {
                 const query_params none(r, {});
                 http_response res;
                 res.status = 301;
                 res.content_type = "text/plain; charset=utf-8";
                 res.body = "moved to /dashboard/\n";
                 res.headers.emplace_back("Location", "/dashboard/");
                 return res;
               }});
  a.add_route({"GET", "/dashboard/{path}", false,
               [h](const api&, const http_request& r, const dataset& d, const params& p) {
                 return dashboard_route(*h, r, d, p.at(0));
               },
               true});
}

}  // namespace chipgauge::serve
