// The routes of `chipgauge serve` (docs/api.md): request checks and JSON assembly around the same
// classifier calls the CLI makes (apps/chipgauge/cmd_classify.cpp, cmd_specs.cpp, cmd_rules.cpp,
// cmd_license.cpp).
#include "chipgauge/serve/api.hpp"

#include "chipgauge/classifier/engine.hpp"
#include "chipgauge/classifier/listing.hpp"
#include "chipgauge/classifier/report.hpp"
#include "chipgauge/classifier/spec.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "chipgauge/core/text.hpp"
#include "chipgauge/serve/problem.hpp"
#include "request.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <new>
#include <optional>
#include <string_view>
#include <utility>

using chipgauge::classifier::canonical_stated_eccn;
using chipgauge::classifier::chip_spec;
using chipgauge::classifier::classification_engine;
using chipgauge::classifier::evaluation_plan;
using chipgauge::classifier::json_array_of;
using chipgauge::classifier::license_query;
using chipgauge::classifier::max_plausible_quantity;
using chipgauge::classifier::output_format;
using chipgauge::classifier::parse_spec;
using chipgauge::classifier::render_parts_list;
using chipgauge::classifier::render_rules_list;
using chipgauge::classifier::spec_warning;
using chipgauge::classifier::transaction_kind;

namespace chipgauge::serve {

namespace {

using ojson = nlohmann::ordered_json;

/// At most this many items in one batch (input sanity; the body limit bounds it too).
constexpr std::size_t max_batch = 1000;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// The media type of a Content-Type value, lower case, without parameters.
std::string media_type(std::string_view content_type) {
  auto t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  return lower(t);
}

/// `path` with the JSON path of an item prefixed: "$.dies[0]" inside item "$[3]" is "$[3].dies[0]".
std::string within(const std::string& prefix, const std::string& path) {
  if (prefix == "$" || path.empty()) return path.empty() ? prefix : path;
  return prefix + path.substr(1);
}

/// A spec_error about a sheet inside the body, as a 422 at the field's full JSON path.
problem sheet_problem(const spec_error& e, const std::string& prefix) {
  const auto path = within(prefix, e.json_path());
  return problem(422, "invalid-sheet", fmt::format("{}: {}: {}", body_name, path, e.message()))
      .at(path);
}

/// The message `catalog::part` gives for an id not in the database.
std::string unknown_part_message(const dataset& d, std::string_view id) {
  std::string hint;
  if (auto near = d.cat.parts().suggest(id); !near.empty())
    hint = fmt::format(" (did you mean '{}'?)", near);
  return fmt::format(
      "unknown part '{}'{}: give a spec-sheet path or an id from 'chipgauge specs list'",
      quote_input(id), hint);
}

/// A part named in a body: {"part": ID} (a database id; never a path on the server) or a whole
/// chipgauge.spec/1 sheet, resolved and validated as `classify FILE` does (spec_database::
/// prepare_external). Sheets are kept in `owned`.
const chip_spec& body_part(const dataset& d, const nlohmann::json& item, const std::string& path,
                           std::vector<std::unique_ptr<chip_spec>>& owned) {
  if (item.is_object() && item.contains("part")) {
    if (item.size() != 1)
      throw problem(
          422, "invalid-reference",
          "a part reference holds \"part\" only: give an id, or a whole sheet without \"part\"")
          .at(path);
    const auto& id = item["part"];
    if (!id.is_string())
      throw problem(422, "invalid-reference", "expected a part id (a string)").at(path + ".part");
    const auto* p = d.cat.parts().find(id.get<std::string>());
    if (!p)
      throw problem(422, "unknown-part", unknown_part_message(d, id.get<std::string>()))
          .at(path + ".part");
    return *p;
  }
  try {
    auto spec = parse_spec(item.dump(), body_name);
    std::vector<spec_warning> findings;
    owned.push_back(
        d.cat.parts().prepare_external(std::move(spec), d.cat.rules().definitions(), findings));
    return *owned.back();
  } catch (const spec_error& e) {
    throw sheet_problem(e, path);
  }
}

void require_object(const nlohmann::json& doc) {
  if (!doc.is_object()) throw problem(422, "invalid-body", "expected a JSON object").at("$");
}

/// Classifications of one request's parts on one date, rendered as to_json renders one: a part of
/// the snapshot from its render cache when it is there (and kept there when not), a sheet from the
/// body afresh. The plan and engine are made at the first part the cache does not have.
class classify_job {
 public:
  classify_job(const dataset& d, date as_of, bool what_if)
      : d_(d), as_of_(as_of), what_if_(what_if) {}

  render_cache::entry run(const chip_spec& spec, bool cacheable) {
    render_cache::entry e;
    if (cacheable && d_.rendered.find(&spec, as_of_, what_if_, e)) return e;
    if (!plan_) {
      plan_.emplace(d_.cat.rules(), as_of_, what_if_);
      engine_.emplace(d_.cat.rules());
    }
    const auto c = engine_->classify(spec, *plan_);
    e.json = to_json(c, *plan_);
    e.eccn = c.eccn;
    if (cacheable) d_.rendered.insert(&spec, as_of_, what_if_, e);
    return e;
  }

 private:
  const dataset& d_;
  date as_of_;
  bool what_if_;
  std::optional<evaluation_plan> plan_;
  std::optional<classification_engine> engine_;
};

// POST /v1/classify[?as_of=&what_if=]: a sheet or {"part": ID} -> the classification object;
// an array of them -> an array of classifications, in order.
http_response classify_route(const api& a, const http_request& r, const dataset& d,
                             const std::vector<std::string>&) {
  const query_params q(r, {"as_of", "what_if"});
  const auto as_of = q.as_of();
  const bool what_if = q.what_if();
  const auto doc = parse_body(r);
  classify_job job(d, as_of, what_if);
  std::vector<std::unique_ptr<chip_spec>> owned;
  if (doc.is_array()) {
    if (doc.size() > max_batch)
      throw problem(422, "batch-too-large",
                    fmt::format("a batch of {} items: expected at most {}", doc.size(), max_batch))
          .at("$");
    // Every item is resolved (and a sheet checked) before any is classified.
    std::vector<std::pair<const chip_spec*, bool>>
        specs;  // the part, and whether it is the snapshot's
    specs.reserve(doc.size());
    for (std::size_t i = 0; i < doc.size(); ++i) {
      const auto sheets = owned.size();
      const auto& spec = body_part(d, doc[i], fmt::format("$[{}]", i), owned);
      specs.emplace_back(&spec, owned.size() == sheets);
    }
    std::vector<render_cache::entry> results;
    results.reserve(specs.size());
    for (const auto& [spec, cacheable] : specs) results.push_back(job.run(*spec, cacheable));
    std::vector<std::string_view> rendered;
    rendered.reserve(results.size());
    for (const auto& e : results) {
      a.metrics().count_classification(e.eccn);
      rendered.emplace_back(e.json);
    }
    return json_response(json_array_of(rendered));
  }
  if (!doc.is_object())
    throw problem(422, "invalid-body", "expected a spec sheet, {\"part\": ID} or an array of them")
        .at("$");
  const auto& spec = body_part(d, doc, "$", owned);
  // What `classify --format json` prints for one part.
  auto e = job.run(spec, owned.empty());
  a.metrics().count_classification(e.eccn);
  return json_response(std::move(e.json));
}

// GET /v1/parts: `specs list --format json`.
http_response parts_route(const api&, const http_request& r, const dataset& d,
                          const std::vector<std::string>&) {
  const query_params q(r, {});
  return json_response(render_parts_list(d.cat, output_format::json));
}

// GET /v1/parts/{id}[?as_of=&what_if=]: the sheet as stored, its metrics and its classification.
http_response part_route(const api& a, const http_request& r, const dataset& d,
                         const std::vector<std::string>& params) {
  const query_params q(r, {"as_of", "what_if"});
  const auto as_of = q.as_of();
  const bool what_if = q.what_if();
  const auto& id = params.at(0);
  const auto* p = d.cat.parts().find(id);
  const auto text = d.sheet_text.find(id);
  if (!p || text == d.sheet_text.end())
    throw problem(404, "unknown-part", unknown_part_message(d, id));
  const evaluation_plan plan(d.cat.rules(), as_of, what_if);
  const classification_engine engine(d.cat.rules());
  const auto c = engine.classify(*p, plan);
  a.metrics().count_classification(c.eccn);
  auto cls = ojson::parse(to_json(c, plan));
  ojson out;
  out["id"] = p->id;
  out["sheet"] = ojson::parse(text->second);
  out["metrics"] = cls["metrics"];
  out["classification"] = std::move(cls);
  return json_response(out.dump(2) + "\n");
}

// GET /v1/rules[?as_of=]: `rules list --format json`.
http_response rules_route(const api&, const http_request& r, const dataset& d,
                          const std::vector<std::string>&) {
  const query_params q(r, {"as_of"});
  return json_response(render_rules_list(d.cat.rules(), q.as_of(), output_format::json));
}

// GET /v1/rules/{id}: the regime file as stored (`rules show ID --format json`).
http_response rule_route(const api&, const http_request& r, const dataset& d,
                         const std::vector<std::string>& params) {
  const query_params q(r, {});
  const auto& id = params.at(0);
  const auto text = d.rule_text.find(id);
  if (text == d.rule_text.end()) {
    std::vector<std::string_view> ids;
    for (const auto& x : d.cat.rules().regimes()) ids.push_back(x.id);
    const auto near = closest_match(id, ids);
    throw problem(404, "unknown-regime",
                  fmt::format("unknown regime '{}'{}: see 'chipgauge rules list'", quote_input(id),
                              near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near)));
  }
  return json_response(text->second);
}

// POST /v1/license: the licensing answer of `license PART --to ... --format json`.
http_response license_route(const api&, const http_request& r, const dataset& d,
                            const std::vector<std::string>&) {
  const query_params none(r, {});
  const auto doc = parse_body(r);
  require_object(doc);
  const auto& engine = *d.licensing;
  const auto& countries = engine.countries();
  std::vector<std::unique_ptr<chip_spec>> owned;
  license_query q;
  std::string field = "$";  // the field being read, named in usage errors
  try {
    // json_node keeps a pointer to the file name it is given: a named string that outlives it, not
    // a temporary made from body_name (a dangling name was read when an unknown field was
    // reported).
    const std::string file_name = body_name;
    const json_node root(doc, file_name);
    root.expect_keys({"part", "sheet", "to", "as_of", "from", "party_hq", "transaction", "quantity",
                      "what_if", "eccn", "end_user"});
    const bool has_part = doc.contains("part");
    const bool has_sheet = doc.contains("sheet");
    if (has_part == has_sheet)
      throw problem(
          422, "invalid-body",
          "give the item as \"part\" (an id) or \"sheet\" (a chipgauge.spec/1 sheet), not both "
          "or neither")
          .at("$");
    if (has_part) {
      const auto id = root.at("part").string();
      const auto* p = d.cat.parts().find(id);
      if (!p) throw problem(422, "unknown-part", unknown_part_message(d, id)).at("$.part");
      q.part = p;
    } else {
      q.part = &body_part(d, doc["sheet"], "$.sheet", owned);
    }
    field = "$.as_of";
    const auto as_of_text = root.find("as_of") ? root.at("as_of").string() : std::string();
    if (as_of_text.empty() || as_of_text == "today") {
      q.as_of = date::today();
    } else if (const auto day = date::parse(as_of_text)) {
      q.as_of = *day;
    } else {
      throw usage_error(
          fmt::format("as_of '{}' is not a date: expected YYYY-MM-DD (e.g. 2025-03-01)",
                      quote_input(as_of_text)));
    }
    if (q.as_of < engine.first_date())
      throw usage_error(fmt::format(
          "as_of {} is before the first advanced-computing rule ({}): expected that date or later",
          q.as_of.to_string(), engine.first_date().to_string()));
    field = "$.to";
    const auto to = countries.resolve_place(root.at("to").string());
    q.to = to.in->alpha2;
    if (to.part) q.to_region = to.part->code;
    field = "$.from";
    const auto from =
        countries.resolve_place(root.find("from") ? root.at("from").string() : std::string("US"));
    q.from = from.in->alpha2;
    if (from.part) q.from_region = from.part->code;
    field = "$.eccn";
    if (root.find("eccn")) {
      const auto text = root.at("eccn").string();
      const auto eccn = canonical_stated_eccn(text);
      if (!eccn)
        throw usage_error(fmt::format(
            "eccn '{}' is not an ECCN: expected EAR99 or a number such as 5A992.c or 3A991.a",
            quote_input(text)));
      q.stated_eccn = *eccn;
    }
    field = "$.end_user";
    if (root.find("end_user")) q.end_user = root.at("end_user").string();
    field = "$.party_hq";
    if (root.find("party_hq")) q.party_hq = countries.resolve(root.at("party_hq").string()).alpha2;
    field = "$.transaction";
    if (root.find("transaction")) {
      const auto t = root.at("transaction").one_of({"export", "reexport", "in-country", "import"});
      q.transaction = t == "export"       ? transaction_kind::export_
                      : t == "reexport"   ? transaction_kind::reexport
                      : t == "in-country" ? transaction_kind::in_country
                                          : transaction_kind::import_;
    }
    field = "$.quantity";
    if (root.find("quantity"))
      q.quantity = root.at("quantity").integer_in(0, max_plausible_quantity);
    field = "$.what_if";
    if (root.find("what_if")) q.what_if = root.at("what_if").boolean();
    field = "$";
    return json_response(to_json(engine.answer(q)));
  } catch (const spec_error& e) {
    throw problem(422, "invalid-field",
                  fmt::format("{}: {}: {}", body_name, e.json_path(), e.message()))
        .at(e.json_path());
  } catch (const usage_error& e) {
    throw problem(422, "invalid-field", e.what()).at(field);
  }
}

http_response healthz_route(const api&, const http_request&, const dataset&,
                            const std::vector<std::string>&) {
  return json_response("{\"status\":\"ok\"}\n");
}

http_response openapi_route(const api&, const http_request& r, const dataset& d,
                            const std::vector<std::string>&) {
  const query_params q(r, {});
  return json_response(d.openapi);
}

http_response metrics_route(const api& a, const http_request&, const dataset& d,
                            const std::vector<std::string>&) {
  auto res = json_response(a.metrics().render(&d));
  res.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return res;
}

/// Splits "/v1/parts/x" into segments; empty segments (a doubled or trailing slash) are kept, so
/// that they match nothing.
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  path.remove_prefix(1);
  for (;;) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0U : 1U;
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

api::api(data_source data, metrics_registry& metrics, access_policy access)
    : data_(std::move(data)), metrics_(&metrics), access_(std::move(access)) {
  add_route({"GET", "/healthz", false, healthz_route});
  add_route(
      {"GET", "/readyz", false,
       [](const api& a, const http_request&, const dataset& d, const std::vector<std::string>&) {
         if (!a.ready_.load())
           throw problem(503, "draining", "the server is shutting down").header("Retry-After", "1");
         return json_response(
             fmt::format("{{\"status\":\"ready\",\"dataset_version\":\"{}\"}}\n", d.version));
       }});
  add_route({"GET", "/metrics", false, metrics_route});
  add_route({"GET", "/v1/openapi.json", false, openapi_route});
  add_route({"POST", "/v1/classify", false, classify_route});
  add_route({"GET", "/v1/parts", false, parts_route});
  add_route({"GET", "/v1/parts/{id}", false, part_route});
  add_route({"GET", "/v1/rules", false, rules_route});
  add_route({"GET", "/v1/rules/{id}", false, rule_route});
  add_route({"POST", "/v1/license", false, license_route});
}

void api::add_route(route r) {
  std::vector<std::string> pattern;
  for (const auto seg : segments(r.pattern)) pattern.emplace_back(seg);
  patterns_.push_back(std::move(pattern));
  routes_.push_back(std::move(r));
}

std::string api::route_label(std::string_view path) const {
  std::vector<std::string> params;
  std::string allow;
  for (const auto& r : routes_) {
    if (match(r.method, path, params, allow)) return r.pattern;
  }
  return "unmatched";
}

const api::route* api::match(std::string_view method, std::string_view path,
                             std::vector<std::string>& params, std::string& allow) const {
  const auto segs = segments(path);
  const std::string_view m = method == "HEAD" ? std::string_view("GET") : method;
  const route* found = nullptr;
  for (std::size_t k = 0; k < routes_.size(); ++k) {
    const auto& r = routes_[k];
    const auto& pat = patterns_[k];  // the pattern's segments, split once in add_route
    if (r.rest ? pat.empty() || segs.size() < pat.size() : pat.size() != segs.size()) continue;
    std::vector<std::string> got;
    bool ok = true;
    for (std::size_t i = 0; i < pat.size() && ok; ++i) {
      if (r.rest && i + 1 == pat.size()) {
        // The rest of the path, from this segment on: path.substr from where segs[i] starts.
        got.emplace_back(path.substr(static_cast<std::size_t>(segs[i].data() - path.data())));
      } else if (pat[i].size() > 2 && pat[i].front() == '{' && pat[i].back() == '}') {
        if (segs[i].empty()) ok = false;
        else got.emplace_back(segs[i]);
      } else if (pat[i] != segs[i]) {
        ok = false;
      }
    }
    if (!ok) continue;
    if (allow.find(r.method) == std::string::npos) allow += (allow.empty() ? "" : ", ") + r.method;
    if (!found && r.method == m) {
      found = &r;
      params = std::move(got);
    }
  }
  if (allow.find("GET") != std::string::npos && allow.find("HEAD") == std::string::npos)
    allow += ", HEAD";
  return found;
}

void api::authorize(const route& r, std::string_view authorization) const {
  if (!r.write && !access_.token_required) return;
  if (access_.token.empty())
    throw problem(401, "unauthorized",
                  "this server has no token configured (--token-file): the route is closed")
        .header("WWW-Authenticate", "Bearer realm=\"chipgauge\"");
  constexpr std::string_view scheme = "bearer ";
  if (authorization.size() < scheme.size() ||
      lower(authorization.substr(0, scheme.size())) != scheme)
    throw problem(401, "unauthorized",
                  "this route needs a bearer token: send 'Authorization: Bearer TOKEN'")
        .header("WWW-Authenticate", "Bearer realm=\"chipgauge\"");
  if (!constant_time_equal(authorization.substr(scheme.size()), access_.token))
    throw problem(401, "unauthorized", "the bearer token is not the server's")
        .header("WWW-Authenticate", "Bearer realm=\"chipgauge\", error=\"invalid_token\"");
}

std::optional<http_response> api::precheck(std::string_view method, std::string_view path,
                                           std::string_view content_type,
                                           std::string_view authorization) const {
  std::vector<std::string> params;
  std::string allow;
  http_response res;
  try {
    const auto* r = match(method, path, params, allow);
    if (!r) {
      if (method == "OPTIONS" && !allow.empty()) {
        res.status = 204;
        res.headers.emplace_back("Allow", allow + ", OPTIONS");
        return res;
      }
      if (!allow.empty())
        throw problem(405, "method-not-allowed",
                      fmt::format("{} does not take {}: expected {}", quote_input(path),
                                  quote_input(method), allow))
            .header("Allow", allow);
      throw problem(404, "not-found",
                    fmt::format("no route {}: see /v1/openapi.json", quote_input(path)));
    }
    authorize(*r, authorization);
    if (r->method == "POST" && media_type(content_type) != "application/json")
      throw problem(415, "unsupported-media-type",
                    fmt::format("Content-Type '{}' is not accepted: expected application/json",
                                quote_input(content_type.empty() ? std::string_view("(none)")
                                                                 : content_type)));
    return std::nullopt;
  } catch (const problem& p) {
    res.status = p.status();
    res.content_type = problem_media_type;
    res.body = p.body(std::string(path));
    res.headers = p.headers();
    return res;
  }
}

http_response api::handle(const http_request& req) const {
  http_response res;
  const auto answer = [&](const problem& p) {
    res.status = p.status();
    res.content_type = problem_media_type;
    res.body = p.body(req.path);
    res.headers = p.headers();
  };
  try {
    if (auto early = precheck(req.method, req.path, req.content_type, req.authorization)) {
      early->route = route_label(req.path);
      return *early;
    }
    std::vector<std::string> params;
    std::string allow;
    const auto* r = match(req.method, req.path, params, allow);
    res.route = r->pattern;
    const auto data = data_();
    if (!data)
      throw problem(503, "not-ready", "the data set is not loaded").header("Retry-After", "1");
    auto out = r->run(*this, req, *data, params);
    out.route = r->pattern;
    return out;
  } catch (const problem& p) {
    answer(p);
  } catch (const spec_error& e) {
    answer(problem(422, "invalid-input", e.what()).at(e.json_path()));
  } catch (const usage_error& e) {
    answer(problem(422, "invalid-input", e.what()));
  } catch (const std::bad_alloc&) {
    answer(problem(503, "overloaded", "the server ran out of memory answering this request")
               .header("Retry-After", "1"));
  } catch (const std::exception& e) {
    answer(problem(500, "internal", fmt::format("internal error: {}", e.what())));
  }
  return res;
}

}  // namespace chipgauge::serve
