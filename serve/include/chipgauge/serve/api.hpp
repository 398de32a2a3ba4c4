#pragma once

#include "chipgauge/serve/dataset.hpp"
#include "chipgauge/serve/metrics.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chipgauge::serve {

/// A request as the API sees it, independent of the transport.
struct http_request {
  std::string method;                                      ///< GET, HEAD, POST, ...
  std::string path;                                        ///< decoded, without the query
  std::vector<std::pair<std::string, std::string>> query;  ///< decoded, in order
  std::string content_type;   ///< the Content-Type header, empty when absent
  std::string authorization;  ///< the Authorization header, empty when absent
  std::string body;
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  /// The matched route pattern ("/v1/parts/{id}"), "unmatched" when none: the metrics label.
  std::string route = "unmatched";
};

/// Who may call what: read routes are open unless `token_required`; write routes (ingest) always
/// need the bearer token, and are closed when no token is configured.
struct access_policy {
  std::string token;  ///< empty: none configured
  bool token_required = false;
};

/// The routes of the API (docs/api.md) over the current data set. Every answer is computed by the
/// classifier's own functions, as the CLI computes it: no domain logic lives here.
class api {
 public:
  using data_source = std::function<std::shared_ptr<const dataset>()>;
  using handler = std::function<http_response(const api&, const http_request&, const dataset&,
                                              const std::vector<std::string>& params)>;
  struct route {
    std::string method;   ///< GET or POST
    std::string pattern;  ///< "/v1/parts/{id}": a {name} segment matches one path segment
    bool write = false;   ///< needs the bearer token whatever the policy
    handler run;
    /// The pattern's last {name} takes the rest of the path, slashes included, and may be empty
    /// ("/dashboard/{path}" matches "/dashboard/" and "/dashboard/trend/d1-x.html").
    bool rest = false;
  };

  api(data_source data, metrics_registry& metrics, access_policy access);

  /// Answers one request; never throws. Errors are RFC 9457 problems (problem.hpp).
  [[nodiscard]] http_response handle(const http_request& r) const;

  /// What can be decided from the request line and headers alone, before the body is read: an
  /// unknown path (404), a method the path does not take (405), a missing or wrong token (401),
  /// a body that is not JSON (415). Returns the problem response, or nothing when the request
  /// may proceed.
  [[nodiscard]] std::optional<http_response> precheck(std::string_view method,
                                                      std::string_view path,
                                                      std::string_view content_type,
                                                      std::string_view authorization) const;

  /// The metrics label of a path: the pattern of the first route it matches, whatever the method,
  /// "unmatched" when none.
  [[nodiscard]] std::string route_label(std::string_view path) const;

  /// Adds a route (the history routes plug in here: history_routes.hpp); later routes are matched
  /// after earlier ones.
  void add_route(route r);
  [[nodiscard]] const std::vector<route>& routes() const noexcept { return routes_; }

  /// /readyz answers 503 once this is false (set while the server drains on shutdown).
  void set_ready(bool ready) noexcept { ready_.store(ready); }
  [[nodiscard]] metrics_registry& metrics() const noexcept { return *metrics_; }
  [[nodiscard]] std::shared_ptr<const dataset> data() const { return data_(); }

 private:
  [[nodiscard]] const route* match(std::string_view method, std::string_view path,
                                   std::vector<std::string>& params, std::string& allow) const;
  void authorize(const route& r, std::string_view authorization) const;

  data_source data_;
  metrics_registry* metrics_;
  access_policy access_;
  std::vector<route> routes_;
  std::vector<std::vector<std::string>> patterns_;  ///< each route's pattern split into segments
  std::atomic<bool> ready_{true};
};

/// Compares two secrets in time that depends only on their lengths, not on where they differ.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace chipgauge::serve
