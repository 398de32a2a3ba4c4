// The transport of `chipgauge serve`: cpp-httplib with the limits a service needs. cpp-httplib 0.11
// bounds neither a request's total time nor its header size, and runs every accepted connection
// eventually; this file adds both bounds (deadline_stream), answers 503 when the worker queue is
// full (bounded_pool), and answers 413 from the Content-Length before any body byte is read.
#include "chipgauge/serve/server.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"
#include "chipgauge/core/text.hpp"
#include "chipgauge/serve/history_routes.hpp"
#include "chipgauge/serve/problem.hpp"

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace chipgauge::serve {

namespace {

using clock_type = std::chrono::steady_clock;

/// What the transport knows of the request a worker thread is serving (one at a time per thread).
struct request_state {
  clock_type::time_point start;
  std::string route = "unmatched";
  bool overloaded = false;          ///< this connection came when the queue was full: answer 503
  bool close = false;               ///< close the connection after this response
  bool header_overflow = false;     ///< the request line and headers exceeded max_header_bytes
  bool timed_out = false;           ///< the request did not arrive within request_timeout
  bool head = false;                ///< a HEAD request: its response has no body after the head
  clock_type::time_point deadline;  ///< when request_timeout runs out
};
thread_local request_state t_request;
thread_local bool t_overloaded_worker = false;

int millis(double seconds) { return static_cast<int>(std::max(0.0, seconds * 1000.0)); }

/// A socket stream with a deadline for the whole request and a byte budget for its head: reads
/// fail (and the request with them) once either runs out, so a slow or endless client holds a
/// worker for request_timeout at most. Reads are buffered (cpp-httplib reads heads a byte at a
/// time); one stream serves every request of a connection, so bytes a client sends ahead (a
/// pipelined request) are kept for the next one.
class deadline_stream final : public httplib::Stream {
 public:
  deadline_stream(int sock, const server_options& o)
      : sock_(sock),
        read_timeout_ms_(millis(o.read_timeout)),
        write_timeout_ms_(millis(o.write_timeout)),
        request_timeout_ms_(millis(o.request_timeout)),
        header_budget_(o.max_header_bytes) {
    next_request();
  }

  /// Starts the next request's deadline and budgets.
  void next_request() {
    deadline_ = clock_type::now() + std::chrono::milliseconds(request_timeout_ms_);
    header_used_ = 0;
    tail_ = 0;
    in_body_ = false;
  }
  [[nodiscard]] clock_type::time_point deadline() const { return deadline_; }
  /// Bytes already received and not yet read.
  [[nodiscard]] bool has_buffered() const { return pos_ < len_; }

  bool is_readable() const override { return has_buffered() || wait(POLLIN, read_timeout_ms_); }
  bool is_writable() const override { return wait(POLLOUT, write_timeout_ms_); }

  ssize_t read(char* ptr, std::size_t size) override {
    if (pos_ == len_) {
      const auto got = fill();
      if (got <= 0) return got;
    }
    const std::size_t n = std::min(size, len_ - pos_);
    std::memcpy(ptr, buf_.data() + pos_, n);
    pos_ += n;
    if (!account(ptr, n)) {
      t_request.header_overflow = true;
      return -1;
    }
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, std::size_t size) override {
    // A response head followed by a body goes out with MSG_MORE, so that the kernel sends head
    // and body in the same segments (cpp-httplib writes them separately, and TCP_NODELAY would
    // otherwise send the head alone): half the packets, and the client's wake-ups, per response.
    const int flags = MSG_NOSIGNAL | (body_follows(std::string_view(ptr, size)) ? MSG_MORE : 0);
    // Sent at once while the socket buffer has room; only a send that would block waits, for
    // the write timeout at most.
    ssize_t n = transmit(ptr, size, flags | MSG_DONTWAIT);
    if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return n;
    if (!wait(POLLOUT, write_timeout_ms_)) return -1;
    return transmit(ptr, size, flags);
  }

  // cpp-httplib asks for the peer's address on every request: looked up once per connection.
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    if (!remote_known_) {
      address(false, remote_ip_, remote_port_);
      remote_known_ = true;
    }
    ip = remote_ip_;
    port = remote_port_;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override { address(true, ip, port); }
  socket_t socket() const override { return sock_; }

 private:
  // One recv into the buffer, within the deadline and the read timeout.
  ssize_t fill() {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - clock_type::now())
            .count();
    if (left <= 0) {
      t_request.timed_out = true;
      return -1;
    }
    // Bytes already there are taken without a poll; only a read that would block waits.
    ssize_t n = receive(MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait(POLLIN, static_cast<int>(std::min<long long>(left, read_timeout_ms_)))) {
        // Nothing came within the read timeout or before the deadline: either way, too slow.
        t_request.timed_out = true;
        return -1;
      }
      n = receive(0);
    }
    pos_ = 0;
    len_ = n > 0 ? static_cast<std::size_t>(n) : 0;
    return n;
  }

  ssize_t receive(int flags) {
    ssize_t n;
    do {
      n = ::recv(sock_, buf_.data(), buf_.size(), flags);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  ssize_t transmit(const char* ptr, std::size_t size, int flags) const {
    ssize_t n;
    do {
      n = ::send(sock_, ptr, size, flags);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  // Whether `data` is a whole response head that announces a body which will be written next:
  // "HTTP/1.1 ...", ending in the blank line, with a nonzero Content-Length, for a request other
  // than HEAD. Anything else (a 100 Continue, a body, a bodiless response) is sent at once.
  static bool body_follows(std::string_view data) {
    if (t_request.head || !data.starts_with("HTTP/1.") || !data.ends_with("\r\n\r\n")) return false;
    constexpr std::string_view field = "\r\nContent-Length: ";
    const auto at = data.find(field);
    if (at == std::string_view::npos) return false;
    const auto digits = data.substr(at + field.size());
    return !digits.empty() && digits.front() >= '1' && digits.front() <= '9';
  }

  bool wait(short events, int timeout_ms) const {
    pollfd p{sock_, events, 0};
    int r;
    do {
      r = ::poll(&p, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    return r > 0 && (p.revents & (events | POLLHUP | POLLERR)) != 0;
  }

  // Counts the bytes handed to the parser: head bytes until the blank line that ends the head
  // ("\r\n\r\n"), against the head budget. False once the head is over budget.
  bool account(const char* p, std::size_t n) {
    for (std::size_t i = 0; i < n && !in_body_; ++i) {
      ++header_used_;
      tail_ = (tail_ << 8) | static_cast<unsigned char>(p[i]);
      if (tail_ == 0x0d0a0d0aU) in_body_ = true;
    }
    return in_body_ || header_used_ <= header_budget_;
  }

  void address(bool local, std::string& ip, int& port) const {
    sockaddr_storage a{};
    socklen_t len = sizeof(a);
    const int r = local ? ::getsockname(sock_, reinterpret_cast<sockaddr*>(&a), &len)
                        : ::getpeername(sock_, reinterpret_cast<sockaddr*>(&a), &len);
    if (r != 0) return;
    char text[INET6_ADDRSTRLEN] = {};
    if (a.ss_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
      ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
      port = ntohs(in->sin_port);
    } else if (a.ss_family == AF_INET6) {
      const auto* in = reinterpret_cast<const sockaddr_in6*>(&a);
      ::inet_ntop(AF_INET6, &in->sin6_addr, text, sizeof(text));
      port = ntohs(in->sin6_port);
    }
    ip = text;
  }

  int sock_;
  int read_timeout_ms_;
  int write_timeout_ms_;
  int request_timeout_ms_;
  clock_type::time_point deadline_;
  std::size_t header_budget_;
  std::size_t header_used_ = 0;
  std::uint32_t tail_ = 0;
  bool in_body_ = false;
  std::array<char, 16384> buf_{};
  std::size_t pos_ = 0;
  std::size_t len_ = 0;
  mutable bool remote_known_ = false;
  mutable std::string remote_ip_;
  mutable int remote_port_ = 0;
};

/// A fixed set of workers with a bounded queue of accepted connections. A connection that finds
/// the queue full goes to a separate small pool that answers it 503 (with Retry-After) and closes
/// it; when that pool is full too, the listener waits and new connections wait in the kernel's
/// backlog.
class bounded_pool final : public httplib::TaskQueue {
 public:
  bounded_pool(std::size_t threads, std::size_t queue_limit)
      : queue_limit_(queue_limit), idle_(threads) {
    for (std::size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { work(jobs_, false); });
    for (std::size_t i = 0; i < reject_threads; ++i)
      workers_.emplace_back([this] { work(rejects_, true); });
  }
  ~bounded_pool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (jobs_.size() < idle_ + queue_limit_) {
        jobs_.push_back(std::move(fn));
        work_cv_.notify_all();
        return;
      }
      if (rejects_.size() < reject_queue) {
        rejects_.push_back(std::move(fn));
        work_cv_.notify_all();
        return;
      }
      space_cv_.wait(lock);
    }
  }

  void shutdown() override {
    {
      const std::lock_guard lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : workers_) t.join();
  }

 private:
  static constexpr std::size_t reject_threads = 2;
  static constexpr std::size_t reject_queue = 256;

  void work(std::deque<std::function<void()>>& queue, bool overloaded) {
    t_overloaded_worker = overloaded;
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mutex_);
        work_cv_.wait(lock, [&] { return stopping_ || !queue.empty(); });
        if (queue.empty()) return;  // stopping, and every accepted connection served
        fn = std::move(queue.front());
        queue.pop_front();
        if (!overloaded) --idle_;
      }
      space_cv_.notify_one();
      fn();
      if (!overloaded) {
        const std::lock_guard lock(mutex_);
        ++idle_;
      }
    }
  }

  std::size_t queue_limit_;
  std::size_t idle_;  ///< main workers not serving a connection (all of them at the start)
  bool stopping_ = false;
  std::deque<std::function<void()>> jobs_;
  std::deque<std::function<void()>> rejects_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable space_cv_;
};

/// Token buckets per client address (--rate-limit).
class rate_limiter {
 public:
  rate_limiter(double rate, double burst)
      : rate_(rate), burst_(burst > 0 ? burst : std::max(1.0, rate)) {}
  /// 0 when the request may go ahead, else the seconds to wait.
  double take(const std::string& client) {
    if (rate_ <= 0) return 0;
    const auto now = clock_type::now();
    const std::lock_guard lock(mutex_);
    if (buckets_.size() > 100000) buckets_.clear();  // bounded memory under address floods
    auto [it, fresh] = buckets_.try_emplace(client, bucket{burst_, now});
    auto& b = it->second;
    if (!fresh) {
      b.tokens =
          std::min(burst_, b.tokens + std::chrono::duration<double>(now - b.last).count() * rate_);
      b.last = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / rate_;
  }

 private:
  struct bucket {
    double tokens;
    clock_type::time_point last;
  };
  double rate_;
  double burst_;
  std::mutex mutex_;
  std::unordered_map<std::string, bucket> buckets_;
};

int parse_port(const std::string& text) {
  if (text.empty() || text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return -1;
  const int port = std::stoi(text);
  return port <= 65535 ? port : -1;
}

std::pair<std::string, int> split_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size())
    throw usage_error(
        fmt::format("--listen '{}' is not an address: expected ADDR:PORT (e.g. 127.0.0.1:8080)",
                    quote_input(listen)));
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const auto port_text = listen.substr(colon + 1);
  const auto port = parse_port(port_text);
  if (host.empty() || port < 0)
    throw usage_error(
        fmt::format("--listen '{}' is not an address: expected ADDR:PORT with a port in 0..65535",
                    quote_input(listen)));
  return {host, port};
}

/// cpp-httplib's server with its connection loop replaced (process_and_close_socket is the
/// library's extension point for it): every request is read through a deadline_stream, the
/// connection closes after a transport error, and a connection stops at shutdown after the request
/// in flight.
class http_server final : public httplib::Server {
 public:
  explicit http_server(const server_options& o) : o_(o) {}

  /// cpp-httplib 0.11 listens with a backlog of 5: many clients connecting at once overflow it,
  /// and each dropped handshake waits for TCP's retransmission (1 s, then 3 s), which made the p99
  /// of scripts/serve-load.sh (64 connections) about a second. Raises it to the kernel's limit
  /// (Linux applies a second listen() to a listening socket).
  void widen_backlog() {
    if (svr_sock_ != INVALID_SOCKET) ::listen(svr_sock_, SOMAXCONN);
  }

 private:
  bool process_and_close_socket(socket_t sock) override {
    bool ret = true;
    // Responses go out as head and body in two writes: without TCP_NODELAY the body can wait for
    // the client's delayed ACK of the head.
    const int one = 1;
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    deadline_stream strm(sock, o_);
    for (std::size_t left = std::max<std::size_t>(1, o_.keep_alive_max); left > 0; --left) {
      if (left != std::max<std::size_t>(1, o_.keep_alive_max) && !strm.has_buffered() &&
          !wait_next_request(sock))
        break;
      strm.next_request();
      t_request = request_state{};
      t_request.start = clock_type::now();
      t_request.overloaded = t_overloaded_worker;
      const bool stopping = svr_sock_ == INVALID_SOCKET;
      const bool close = left == 1 || stopping || t_overloaded_worker;
      bool closed = false;
      t_request.deadline = strm.deadline();
      ret = process_request(strm, close, closed, nullptr);
      if (!ret || closed || close || t_request.close) break;
    }
    lingering_close(sock);
    return ret;
  }

  // Waits for the next request on a kept-alive connection, keep_alive_timeout at most, and not
  // past a shutdown.
  bool wait_next_request(socket_t sock) const {
    const auto until = clock_type::now() + std::chrono::milliseconds(millis(o_.keep_alive_timeout));
    while (svr_sock_ != INVALID_SOCKET) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - clock_type::now()).count();
      if (left <= 0) return false;
      pollfd p{sock, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 100)));
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) return false;
    }
    return false;
  }

  // Closes after the response is sent without reading what the client still sends (a refused
  // body): stop sending, discard what arrives for a moment so that the response is not lost to a
  // reset, then close. Discards 256 KiB and 200 ms at most.
  static void lingering_close(socket_t sock) {
    ::shutdown(sock, SHUT_WR);
    char buf[16384];
    std::size_t discarded = 0;
    const auto until = clock_type::now() + std::chrono::milliseconds(200);
    while (discarded < (std::size_t{256} << 10)) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - clock_type::now()).count();
      if (left <= 0) break;
      pollfd p{sock, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
      const auto n = ::recv(sock, buf, sizeof(buf), 0);
      if (n <= 0) break;
      discarded += static_cast<std::size_t>(n);
    }
    ::close(sock);
  }

  const server_options& o_;
};

void fill(httplib::Response& res, const http_response& r) {
  res.status = r.status;
  for (const auto& [k, v] : r.headers) res.set_header(k, v);
  res.set_content(r.body, r.content_type);
}

/// fill, moving the body instead of copying it (what set_content does, without the copy).
void fill(httplib::Response& res, http_response&& r) {
  res.status = r.status;
  for (const auto& [k, v] : r.headers) res.set_header(k, v);
  res.body = std::move(r.body);
  const auto [from, to] = res.headers.equal_range("Content-Type");
  res.headers.erase(from, to);
  res.set_header("Content-Type", r.content_type);
}

void fill_problem(httplib::Response& res, const problem& p, const std::string& instance) {
  http_response r;
  r.status = p.status();
  r.content_type = problem_media_type;
  r.body = p.body(instance);
  r.headers = p.headers();
  fill(res, r);
}

std::string json_line(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

/// `s` as json_line writes a string: plain printable ASCII as it is, anything else through
/// nlohmann (escapes, invalid UTF-8 replaced).
void append_json_string(std::string& out, std::string_view s) {
  const bool plain = std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f && c != '"' && c != '\\';
  });
  if (plain) {
    out += '"';
    out += s;
    out += '"';
    return;
  }
  out += nlohmann::ordered_json(std::string(s))
             .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

/// A double as json_line writes it (nlohmann's shortest round trip; null when not finite).
void append_json_number(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  std::array<char, 64> buf{};
  const char* end = nlohmann::detail::to_chars(buf.data(), buf.data() + buf.size(), d);
  out.append(buf.data(), static_cast<std::size_t>(end - buf.data()));
}

double now_epoch() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

void check_options(const server_options& o) {
  (void)split_listen(o.listen);
  if (o.threads == 0) throw usage_error("--threads 0: expected at least 1 worker");
  if (o.max_body_bytes == 0) throw usage_error("--max-body 0: expected at least 1 byte");
  if (o.max_header_bytes < 1024)
    throw usage_error("--max-header-bytes below 1024 would refuse ordinary requests");
  if (o.read_timeout <= 0 || o.write_timeout <= 0 || o.request_timeout <= 0 ||
      o.keep_alive_timeout <= 0)
    throw usage_error("timeouts must be positive numbers of seconds");
  if (o.rate_limit < 0 || o.rate_burst < 0)
    throw usage_error("--rate-limit and --rate-burst must not be negative");
  if (o.token_required && o.token_file.empty())
    throw usage_error("--token-required needs --token-file");
}

struct server::impl {
  server_options o;
  metrics_registry metrics;
  mutable std::mutex data_mutex;
  std::shared_ptr<const dataset> data;
  std::unique_ptr<api> routes;
  http_server http;
  rate_limiter limiter;
  std::mutex log_mutex;
  std::FILE* log = stderr;
  bool own_log = false;

  explicit impl(server_options opts)
      : o(std::move(opts)), http(o), limiter(o.rate_limit, o.rate_burst) {}

  std::shared_ptr<const dataset> current() const {
    const std::lock_guard lock(data_mutex);
    return data;
  }

  void write_log(const std::string& line) {
    const std::lock_guard lock(log_mutex);
    std::fwrite(line.data(), 1, line.size(), log);
    std::fflush(log);
  }

  // Checks made once the head is read, before the body: overload, rate, header count, body framing
  // and size, then the route's own (path, method, token, media type).
  bool refuse_early(const httplib::Request& req, httplib::Response& res) {
    t_request.route = routes->route_label(req.path);
    t_request.head = req.method == "HEAD";
    try {
      if (t_request.overloaded) {
        t_request.close = true;
        throw problem(503, "overloaded",
                      "every worker is busy and the queue is full: retry shortly")
            .header("Retry-After", "1");
      }
      if (const double wait = limiter.take(req.remote_addr); wait > 0) {
        t_request.close =
            req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0";
        throw problem(
            429, "rate-limited",
            fmt::format("more than {} requests per second from {}", o.rate_limit, req.remote_addr))
            .header("Retry-After", std::to_string(static_cast<long long>(std::ceil(wait))));
      }
      // cpp-httplib adds REMOTE_ADDR, REMOTE_PORT, LOCAL_ADDR and LOCAL_PORT to the headers.
      if (req.headers.size() > o.max_headers + 4) {
        t_request.close = true;
        throw problem(431, "too-many-headers",
                      fmt::format("{} header fields: expected at most {}", req.headers.size() - 4,
                                  o.max_headers));
      }
      if (req.has_header("Transfer-Encoding")) {
        t_request.close = true;
        throw problem(
            411, "length-required",
            "chunked or encoded bodies are not accepted: send the body with a Content-Length");
      }
      const bool has_length = req.has_header("Content-Length");
      if (has_length) {
        const auto text = req.get_header_value("Content-Length");
        const bool digits =
            !text.empty() && text.size() <= 19 &&
            std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits) {
          t_request.close = true;
          throw problem(400, "bad-content-length",
                        fmt::format("Content-Length '{}' is not a byte count", quote_input(text)));
        }
        const auto length = std::stoull(text);
        if (length > o.max_body_bytes) {
          t_request.close = true;
          throw problem(413, "body-too-large",
                        fmt::format("the body is {} bytes: expected at most {} (--max-body)",
                                    length, o.max_body_bytes));
        }
      } else if (req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
        t_request.close = true;
        throw problem(411, "length-required", "a request with a body needs a Content-Length");
      }
      if (auto early = routes->precheck(req.method, req.path, req.get_header_value("Content-Type"),
                                        req.get_header_value("Authorization"))) {
        fill(res, *early);
        if (has_length && req.get_header_value("Content-Length") != "0") {
          t_request.close = true;
          res.set_header("Connection", "close");
        }
        return true;
      }
      return false;
    } catch (const problem& p) {
      fill_problem(res, p, req.path);
      if (t_request.close) res.set_header("Connection", "close");
      return true;
    }
  }

  void answer(const httplib::Request& req, httplib::Response& res) {
    http_request r;
    r.method = req.method;
    r.path = req.path;
    for (const auto& [k, v] : req.params) r.query.emplace_back(k, v);
    r.content_type = req.get_header_value("Content-Type");
    r.authorization = req.get_header_value("Authorization");
    r.body = req.body;
    auto out = routes->handle(r);
    t_request.route = out.route;
    fill(res, std::move(out));
  }

  // Called after every response cpp-httplib writes: metrics and the access log.
  void record(const httplib::Request& req, const httplib::Response& res) {
    const double seconds =
        std::chrono::duration<double>(clock_type::now() - t_request.start).count();
    metrics.observe_request(t_request.route, req.method.empty() ? "-" : req.method, res.status,
                            seconds);
    // The line json_line gives for {"ts", "remote", "method", "path", "route", "status", "bytes",
    // "duration_ms"}, written directly: building the json value cost more than the rest of a
    // cached classify.
    std::string line;
    line.reserve(192 + req.path.size());
    line += "{\"ts\":";
    append_json_number(line, now_epoch());
    line += ",\"remote\":";
    append_json_string(line, req.remote_addr);
    line += ",\"method\":";
    append_json_string(line, req.method);
    line += ",\"path\":";
    append_json_string(line, req.path);
    line += ",\"route\":";
    append_json_string(line, t_request.route);
    line +=
        fmt::format(",\"status\":{},\"bytes\":{},\"duration_ms\":", res.status, res.body.size());
    append_json_number(line, seconds * 1000.0);
    line += "}\n";
    write_log(line);
  }

  void configure() {
    http.new_task_queue = [this] { return new bounded_pool(o.threads, o.queue_limit); };
    http.set_payload_max_length(o.max_body_bytes);
    http.set_keep_alive_max_count(o.keep_alive_max);
    http.set_keep_alive_timeout(static_cast<time_t>(std::ceil(o.keep_alive_timeout)));
    http.set_read_timeout(std::chrono::milliseconds(millis(o.read_timeout)));
    http.set_write_timeout(std::chrono::milliseconds(millis(o.write_timeout)));
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      return refuse_early(req, res) ? httplib::Server::HandlerResponse::Handled
                                    : httplib::Server::HandlerResponse::Unhandled;
    });
    // A client that waits for "100 Continue" before its body gets the refusal instead.
    http.set_expect_100_continue_handler(
        [this](const httplib::Request& req, httplib::Response& res) {
          return refuse_early(req, res) ? res.status : 100;
        });
    const auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      answer(req, res);
    };
    http.Get(".*", handler);
    http.Post(".*", handler);
    http.Put(".*", handler);
    http.Patch(".*", handler);
    http.Delete(".*", handler);
    http.Options(".*", handler);
    // Errors cpp-httplib answers itself (an unreadable request line or head, a timeout) get a
    // problem document too; a read cut off by the deadline is a 408, an oversized head a 431.
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          t_request.close = true;
          int status = res.status;
          std::string slug = "bad-request";
          std::string detail = "the request could not be read as HTTP/1.1";
          if (t_request.timed_out ||
              (!t_request.header_overflow && clock_type::now() >= t_request.deadline)) {
            status = 408;
            slug = "request-timeout";
            detail = "the request did not arrive in time (--request-timeout, --read-timeout)";
          } else if (t_request.header_overflow) {
            status = 431;
            slug = "head-too-large";
            detail = "the request line and headers are too long (--max-header-bytes)";
          } else if (status == 414) {
            slug = "uri-too-long";
            detail = "the request target is too long";
          } else if (status == 413) {
            slug = "body-too-large";
            detail = "the body is too large (--max-body)";
          }
          fill_problem(res, problem(status, slug, detail), req.path);
          res.set_header("Connection", "close");
          return httplib::Server::HandlerResponse::Handled;
        }));
    http.set_exception_handler(
        [](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
          fill_problem(res, problem(500, "internal", "internal error"), req.path);
        });
    http.set_logger(
        [this](const httplib::Request& req, const httplib::Response& res) { record(req, res); });
  }
};

server::server(server_options o) : impl_(std::make_unique<impl>(std::move(o))) {
  auto& m = *impl_;
  check_options(m.o);
  access_policy access;
  access.token_required = m.o.token_required;
  if (!m.o.token_file.empty()) {
    if (!std::filesystem::exists(m.o.token_file))
      throw usage_error(fmt::format("--token-file {}: no such file", m.o.token_file));
    auto token = read_text_file(m.o.token_file, file_limit{"token file", 4096});
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
      token.pop_back();
    if (token.empty())
      throw usage_error(
          fmt::format("--token-file {} is empty: expected the token on one line", m.o.token_file));
    access.token = std::move(token);
  }
  if (!m.o.access_log.empty()) {
    m.log = std::fopen(m.o.access_log.c_str(), "ae");
    if (!m.log)
      throw error(
          fmt::format("cannot open the access log {}: {}", m.o.access_log, std::strerror(errno)));
    m.own_log = true;
  }
  m.data = dataset::load(m.o.specs_dir);
  m.routes =
      std::make_unique<api>([this] { return impl_->current(); }, m.metrics, std::move(access));
  add_history_routes(*m.routes, m.o.history,
                     m.o.pubkey.empty() ? std::nullopt : std::optional<std::string>(m.o.pubkey));
  m.configure();
}

server::~server() {
  if (impl_->own_log && impl_->log) std::fclose(impl_->log);
}

std::string server::bind() {
  const auto [host, port] = split_listen(impl_->o.listen);
  int bound = port;
  if (port == 0) {
    bound = impl_->http.bind_to_any_port(host);
    if (bound < 0) throw error(fmt::format("cannot listen on {}", impl_->o.listen));
  } else if (!impl_->http.bind_to_port(host, port)) {
    throw error(
        fmt::format("cannot listen on {} (address in use, or not an address of this machine?)",
                    impl_->o.listen));
  }
  impl_->http.widen_backlog();
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, bound)
                                             : fmt::format("{}:{}", host, bound);
}

void server::serve() { impl_->http.listen_after_bind(); }

void server::stop() {
  impl_->routes->set_ready(false);
  impl_->http.stop();
}

std::pair<bool, std::string> server::reload() {
  auto& m = *impl_;
  try {
    auto fresh = dataset::load(m.o.specs_dir);
    {
      const std::lock_guard lock(m.data_mutex);
      m.data = std::move(fresh);
    }
    m.metrics.count_reload(true);
    return {true, m.current()->version};
  } catch (const std::exception& e) {
    m.metrics.count_reload(false);
    return {false, e.what()};
  }
}

void server::log_event(const std::string& json_line) { impl_->write_log(json_line); }

api& server::routes() noexcept { return *impl_->routes; }

int run(const server_options& o) {
  // Signals go to one thread that waits for them; every other thread (started below) blocks them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  server s(o);
  const auto address = s.bind();
  const auto line = fmt::format("listening on http://{}\n", address);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
  {
    nlohmann::ordered_json j;
    j["ts"] = now_epoch();
    j["event"] = "listening";
    j["address"] = address;
    j["dataset_version"] = s.routes().data()->version;
    s.log_event(json_line(j));
  }
  std::atomic<bool> ended{false};
  std::thread listener([&] {
    s.serve();
    // The listener stopped by itself (not by a signal): wake the signal loop.
    if (!ended.exchange(true)) ::kill(::getpid(), SIGTERM);
  });
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    nlohmann::ordered_json j;
    j["ts"] = now_epoch();
    if (sig == SIGHUP) {
      const auto [ok, what] = s.reload();
      j["event"] = ok ? "reload" : "reload_failed";
      j[ok ? "dataset_version" : "reason"] = what;
      if (!ok) j["dataset_version"] = s.routes().data()->version;
      s.log_event(json_line(j));
      continue;
    }
    j["event"] = "shutdown";
    j["signal"] = sig == SIGTERM ? "SIGTERM" : "SIGINT";
    s.log_event(json_line(j));
    break;
  }
  ended.store(true);
  s.stop();
  listener.join();
  return 0;
}

}  // namespace chipgauge::serve
