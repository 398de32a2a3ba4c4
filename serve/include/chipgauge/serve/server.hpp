#pragma once

#include "chipgauge/serve/api.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

namespace chipgauge::serve {

/// Run-time settings of `chipgauge serve` (docs/api.md#settings). Sizes in bytes, times in seconds.
struct server_options {
  std::string listen =
      "127.0.0.1:8080";    ///< ADDR:PORT ([ADDR]:PORT for IPv6); port 0: any free port
  std::string specs_dir;   ///< the data served (catalog::locate_specs_dir)
  std::string history;     ///< the history store (--history); empty: none, its routes answer 503
  std::string pubkey;      ///< --pubkey: posted certificates verified with this key; empty: none
  std::string token_file;  ///< the bearer token, one line; empty: no token
  bool token_required = false;  ///< reads need the token too
  std::size_t max_body_bytes = std::size_t{1} << 20;
  std::size_t max_header_bytes = std::size_t{64} << 10;  ///< request line and headers together
  std::size_t max_headers = 100;
  double read_timeout = 5;   ///< the longest wait for the next bytes of a request
  double write_timeout = 5;  ///< the longest wait to send the next bytes of a response
  double request_timeout =
      10;  ///< the whole request, first byte to last (slow clients are cut off)
  std::size_t keep_alive_max = 100;  ///< requests per connection
  double keep_alive_timeout = 5;     ///< idle time between requests on one connection
  std::size_t threads = 16;          ///< workers: connections served at once
  std::size_t queue_limit = 64;      ///< accepted connections waiting for a worker; beyond: 503
  double rate_limit = 0;             ///< requests per second per client address; 0: unlimited
  double rate_burst = 0;             ///< bucket size; 0: max(1, rate_limit)
  std::string access_log;            ///< file for the JSON access log; empty: stderr
};

/// Reads and checks the settings that can be wrong (a bad listen address, a token file that is
/// missing or empty, zero workers); throws usage_error naming the option.
void check_options(const server_options& o);

/// The HTTP server: cpp-httplib transport with limits, a bounded worker pool, bearer tokens,
/// metrics and an access log, over `api`. The data set is loaded once by the constructor and
/// replaced only by reload().
class server {
 public:
  /// Loads the data set (throws spec_error or error as `catalog::load` does) and the token, and
  /// opens the history store when one is given (creating it; throws as history::store::open does).
  explicit server(server_options o);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds the listening socket; returns the bound "ADDR:PORT" (the real port when 0 was asked).
  /// Throws error when the address cannot be bound.
  std::string bind();
  /// Serves until stop(); returns once every accepted connection has had its request answered.
  void serve();
  /// Stops accepting (from any thread, a signal handler excepted); serve() then drains and returns.
  void stop();
  /// Loads the specs directory again and swaps it in atomically: requests already running keep
  /// the data they started with. On failure the old data stays; returns (false, why).
  std::pair<bool, std::string> reload();
  /// Writes one JSON line to the access log (events such as reloads).
  void log_event(const std::string& json_line);

  [[nodiscard]] api& routes() noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// `chipgauge serve`: loads, binds, prints "listening on http://ADDR:PORT" on stdout, then serves
/// until SIGTERM or SIGINT (finishing the requests in flight); SIGHUP reloads the data. Returns the
/// exit code.
int run(const server_options& o);

}  // namespace chipgauge::serve
