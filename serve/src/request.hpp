#pragma once

// Request helpers shared by the route files (api.cpp, history_routes.cpp): the body's name in
// error messages, JSON responses, query parameters and the strictly parsed body.

#include "chipgauge/core/date.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "chipgauge/core/text.hpp"
#include "chipgauge/serve/api.hpp"
#include "chipgauge/serve/problem.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::serve {

/// The name request bodies go by in error messages, where the CLI names the sheet's file.
inline constexpr const char* body_name = "request body";

inline http_response json_response(std::string body, int status = 200) {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

/// Query parameters: only those the route takes, each at most once except those in `repeatable`.
class query_params {
 public:
  query_params(const http_request& r, std::initializer_list<std::string_view> allowed,
               std::initializer_list<std::string_view> repeatable = {})
      : r_(r) {
    for (const auto& [k, v] : r.query) {
      if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
        std::string expected;
        std::size_t i = 0;
        for (const auto a : allowed)
          expected += (i++ == 0 ? "" : i == allowed.size() ? " or " : ", ") + std::string(a);
        throw problem(
            400, "unknown-parameter",
            fmt::format("unknown query parameter '{}': {}", quote_input(k),
                        allowed.size() == 0 ? "this route takes none" : "expected " + expected))
            .parameter(k);
      }
      const std::string& name = k;  // clang 14 cannot capture a structured binding
      if (std::find(repeatable.begin(), repeatable.end(), k) != repeatable.end()) continue;
      if (std::count_if(r.query.begin(), r.query.end(),
                        [&name](const auto& p) { return p.first == name; }) > 1)
        throw problem(400, "repeated-parameter",
                      fmt::format("query parameter '{}' is given more than once", quote_input(k)))
            .parameter(k);
    }
  }
  [[nodiscard]] const std::string* find(std::string_view key) const {
    for (const auto& [k, v] : r_.query) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  /// Every value of a repeatable parameter, in the order given.
  [[nodiscard]] std::vector<std::string> all(std::string_view key) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : r_.query) {
      if (k == key) out.push_back(v);
    }
    return out;
  }
  /// A flag as the CLI's flags: present without a value, true or 1; false or 0; absent is false.
  [[nodiscard]] bool flag(std::string_view key) const {
    const auto* v = find(key);
    if (!v) return false;
    if (v->empty() || *v == "true" || *v == "1") return true;
    if (*v == "false" || *v == "0") return false;
    throw problem(
        400, "bad-parameter",
        fmt::format("{} '{}' is not a flag: expected true or false", key, quote_input(*v)))
        .parameter(std::string(key));
  }
  /// as_of as the CLI's --as-of: YYYY-MM-DD, "today" or absent for today.
  [[nodiscard]] date as_of() const {
    const auto* v = find("as_of");
    if (!v || v->empty() || *v == "today") return date::today();
    const auto d = date::parse(*v);
    if (!d)
      throw problem(400, "bad-parameter",
                    fmt::format("as_of '{}' is not a date: expected YYYY-MM-DD (e.g. 2024-01-31)",
                                quote_input(*v)))
          .parameter("as_of");
    return *d;
  }
  /// what_if as the CLI's --what-if flag: present without a value, true or 1; false or 0.
  [[nodiscard]] bool what_if() const { return flag("what_if"); }

 private:
  const http_request& r_;
};

/// The request body as JSON, parsed strictly (nesting depth, repeated keys, UTF-8) by the reader
/// every data file goes through.
inline nlohmann::json parse_body(const http_request& r) {
  if (r.body.empty())
    throw problem(400, "empty-body", "the request has no body: expected a JSON document").at("$");
  try {
    return parse_json_text(r.body, body_name);
  } catch (const spec_error& e) {
    throw problem(400, "malformed-json", e.what()).at(e.json_path());
  }
}

}  // namespace chipgauge::serve
