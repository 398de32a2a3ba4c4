// chipgauge serve: every route, every error status, the token, the limits and abuse, reload and
// shutdown, and byte-for-byte agreement with the CLI (classify, history list|show, compare). The
// server runs in-process on an ephemeral loopback port (the signal tests run the binary); the
// client is a raw socket, so that the tests control every byte sent.
//
// With CHIPGAUGE_SERVE_RECORD=DIR, every response the tests receive is written to
// DIR/responses.json (for tools/openapi-check) and one /metrics scrape to DIR/metrics.txt (for
// promtool); tests/serve_contract.sh runs both checks.
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"
#include "chipgauge/history/store.hpp"
#include "chipgauge/serve/server.hpp"
#include "dashboard_store.hpp"
#include "test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

using chipgauge::classifier::parameter;

namespace {

using namespace chipgauge;
using namespace std::chrono_literals;
using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client.

/// A connected loopback socket, closed at destruction.
class connection {
 public:
  explicit connection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  [[nodiscard]] bool ok() const { return fd_ >= 0; }
  /// Sends everything; false once the peer has closed or reset.
  bool send(std::string_view data) {
    while (!data.empty()) {
      const auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  /// Reads what is available within `wait`; empty at end of stream or timeout.
  std::string read_some(std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return {};
    char buf[65536];
    const auto n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      eof_ = true;
      return {};
    }
    return std::string(buf, static_cast<std::size_t>(n));
  }
  [[nodiscard]] bool eof() const { return eof_; }
  /// True once the server has closed the connection (reads end), within `wait`.
  bool closed_within(std::chrono::milliseconds wait) {
    const auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      pending_ += read_some(100ms);
      if (eof_) return true;
    }
    return false;
  }
  std::string pending_;

 private:
  int fd_ = -1;
  bool eof_ = false;
};

struct reply {
  int status = 0;                              ///< 0: no complete response
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
  [[nodiscard]] std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  [[nodiscard]] json problem() const { return json::parse(body); }
};

/// Reads one response from `c` (status line, headers, Content-Length body), within `wait`.
reply read_reply(connection& c, std::chrono::milliseconds wait = 30000ms) {
  std::string buf = std::move(c.pending_);
  c.pending_.clear();
  const auto until = std::chrono::steady_clock::now() + wait;
  std::size_t head_end;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (std::chrono::steady_clock::now() > until || c.eof()) return {};
    buf += c.read_some(100ms);
  }
  reply r;
  std::istringstream head(buf.substr(0, head_end));
  std::string line;
  std::getline(head, line);
  if (line.size() < 12) return {};
  r.status = std::stoi(line.substr(9, 3));
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
  }
  const std::size_t length =
      r.headers.count("content-length") ? std::stoull(r.headers["content-length"]) : 0;
  std::string body = buf.substr(head_end + 4);
  while (body.size() < length) {
    if (std::chrono::steady_clock::now() > until || c.eof()) return {};
    body += c.read_some(100ms);
  }
  c.pending_ = body.substr(length);
  r.body = body.substr(0, length);
  return r;
}

std::string raw_request(const std::string& method, const std::string& target,
                        const std::string& body = {},
                        const std::string& content_type = "application/json",
                        const std::string& extra = {}) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!body.empty() || method == "POST") {
    if (!content_type.empty()) req += "Content-Type: " + content_type + "\r\n";
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return req + extra + "\r\n" + body;
}

// ---------------------------------------------------------------------------------------------
// Recording for the contract checks (tools/openapi-check, promtool).

struct recorded {
  std::string method, route, content_type, body;
  int status;
};
std::mutex record_mutex;
std::vector<recorded> records;

void record(const std::string& method, const std::string& route, const reply& r) {
  // Routes the tests add themselves (/v1/test-...) are not part of the contract.
  if (r.status == 0 || r.status == 204 || route.rfind("/v1/test-", 0) == 0) return;
  const std::lock_guard lock(record_mutex);
  records.push_back({method, route, r.header("content-type"), r.body, r.status});
}

class record_environment : public ::testing::Environment {
 public:
  void TearDown() override {
    const char* dir = std::getenv("CHIPGAUGE_SERVE_RECORD");
    if (!dir || !*dir) return;
    json arr = json::array();
    for (const auto& r : records)
      arr.push_back({{"method", r.method},
                     {"route", r.route},
                     {"status", r.status},
                     {"content_type", r.content_type},
                     {"body", r.body}});
    std::ofstream(std::string(dir) + "/responses.json")
        << arr.dump(1, ' ', false, json::error_handler_t::replace);
  }
};
const auto* const record_env = ::testing::AddGlobalTestEnvironment(new record_environment);

// ---------------------------------------------------------------------------------------------
// An in-process server on an ephemeral port.

serve::server_options test_options() {
  serve::server_options o;
  o.listen = "127.0.0.1:0";
  o.specs_dir = test::specs_dir();
  o.access_log = "/dev/null";
  o.threads = 4;
  o.queue_limit = 16;
  return o;
}

class running_server {
 public:
  explicit running_server(serve::server_options o = test_options(),
                          const std::function<void(serve::server&)>& before = {})
      : s_(std::move(o)) {
    if (before) before(s_);
    const auto address = s_.bind();
    port_ = std::stoi(address.substr(address.rfind(':') + 1));
    thread_ = std::thread([this] { s_.serve(); });
  }
  ~running_server() {
    s_.stop();
    thread_.join();
  }
  [[nodiscard]] int port() const { return port_; }
  serve::server& get() { return s_; }

  /// One request on a fresh connection; records it under `route`.
  reply call(const std::string& route, const std::string& method, const std::string& target,
             const std::string& body = {}, const std::string& content_type = "application/json",
             const std::string& extra = {}) {
    connection c(port_);
    EXPECT_TRUE(c.ok());
    c.send(raw_request(method, target, body, content_type, extra));
    auto r = read_reply(c);
    record(method, route, r);
    return r;
  }

 private:
  serve::server s_;
  int port_ = 0;
  std::thread thread_;
};

running_server& shared_server() {
  static running_server s;
  return s;
}

std::string cli(const std::string& args) {
  return "'" + std::string(CHIPGAUGE_BINARY) + "' --specs-dir '" + test::specs_dir() + "' " + args;
}

std::vector<std::string> part_ids() {
  std::vector<std::string> ids;
  for (const auto& p : json::parse(shared_server().call("/v1/parts", "GET", "/v1/parts").body))
    ids.push_back(p["id"]);
  return ids;
}

// ---------------------------------------------------------------------------------------------
// Routes

TEST(ServeRoutes, HealthReadyOpenapi) {
  auto& s = shared_server();
  auto r = s.call("/healthz", "GET", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["status"], "ok");
  r = s.call("/readyz", "GET", "/readyz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["status"], "ready");
  EXPECT_EQ(json::parse(r.body)["dataset_version"].get<std::string>().size(), 16U);
  r = s.call("/v1/openapi.json", "GET", "/v1/openapi.json");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, read_text_file(test::specs_dir() + "/schema/openapi.json"));
  EXPECT_EQ(json::parse(r.body)["openapi"], "3.1.0");
}

TEST(ServeRoutes, ClassifyAgreesWithTheCliByteForByteOnEveryPart) {
  auto& s = shared_server();
  const auto ids = part_ids();
  ASSERT_GT(ids.size(), 40U);
  for (const auto& id : ids) {
    const auto want =
        test::run_command(cli("classify '" + id + "' --as-of 2025-06-01 --format json"));
    ASSERT_EQ(want.status, 0) << want.err;
    const auto got =
        s.call("/v1/classify", "POST", "/v1/classify?as_of=2025-06-01", json{{"part", id}}.dump());
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(got.header("content-type"), "application/json");
    EXPECT_EQ(got.body, want.out) << id;
  }
}

TEST(ServeRoutes, ClassifyWhatIfAndTodayAgreeWithTheCli) {
  auto& s = shared_server();
  const auto want =
      test::run_command(cli("classify nvidia-h20 --what-if --as-of 2025-01-20 --format json"));
  ASSERT_EQ(want.status, 0);
  EXPECT_EQ(s.call("/v1/classify", "POST", "/v1/classify?as_of=2025-01-20&what_if=true",
                   R"({"part":"nvidia-h20"})")
                .body,
            want.out);
  const auto today = test::run_command(cli("classify nvidia-a100-sxm4-80gb --format json"));
  EXPECT_EQ(
      s.call("/v1/classify", "POST", "/v1/classify", R"({"part":"nvidia-a100-sxm4-80gb"})").body,
      today.out);
}

TEST(ServeRoutes, BatchClassifiesEveryPartInOrderAsClassifyAll) {
  auto& s = shared_server();
  json batch = json::array();
  for (const auto& id : part_ids()) batch.push_back({{"part", id}});
  const auto want = test::run_command(cli("classify --all --as-of 2025-06-01 --format json"));
  ASSERT_EQ(want.status, 0);
  const auto got = s.call("/v1/classify", "POST", "/v1/classify?as_of=2025-06-01", batch.dump());
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body, want.out);
  // One item is still an array; an empty batch an empty array.
  const auto one =
      s.call("/v1/classify", "POST", "/v1/classify", R"([{"part":"nvidia-h100-sxm5-80gb"}])");
  EXPECT_TRUE(json::parse(one.body).is_array());
  EXPECT_EQ(s.call("/v1/classify", "POST", "/v1/classify", "[]").body, "[]\n");
}

// A part's rendering is kept per snapshot: a reload with changed data answers from the new data.
TEST(ServeRoutes, RenderCacheIsDroppedOnReload) {
  test::temp_dir dir;
  const auto specs = dir.path() + "/specs";
  std::filesystem::copy(test::specs_dir(), specs, std::filesystem::copy_options::recursive);
  auto o = test_options();
  o.specs_dir = specs;
  running_server s(o);
  const std::string body = R"({"part":"nvidia-h20"})";
  const auto first = s.call("/v1/classify", "POST", "/v1/classify?as_of=2025-06-01", body);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(s.get().routes().data()->rendered.size(), 1U);
  EXPECT_EQ(s.call("/v1/classify", "POST", "/v1/classify?as_of=2025-06-01", body).body, first.body);
  EXPECT_EQ(s.get().routes().data()->rendered.size(), 1U);
  // Another date or what-if is another entry.
  ASSERT_EQ(
      s.call("/v1/classify", "POST", "/v1/classify?as_of=2025-06-01&what_if=true", body).status,
      200);
  EXPECT_EQ(s.get().routes().data()->rendered.size(), 2U);
  // The sheet's name changes on disk: the old rendering is served until the reload, not after.
  const auto sheet = specs + "/chips/nvidia-h20.json";
  const auto old_name = json::parse(first.body)["part"]["name"].get<std::string>();
  std::string text = read_text_file(sheet);
  const auto at = text.find("\"" + old_name + "\"");
  ASSERT_NE(at, std::string::npos);
  text.replace(at + 1, old_name.size(), old_name + " (renamed)");
  std::ofstream(sheet, std::ios::trunc) << text;
  EXPECT_EQ(s.call("/v1/classify", "POST", "/v1/classify?as_of=2025-06-01", body).body, first.body);
  const auto [ok, version] = s.get().reload();
  ASSERT_TRUE(ok) << version;
  EXPECT_EQ(s.get().routes().data()->rendered.size(), 0U);
  const auto after = s.call("/v1/classify", "POST", "/v1/classify?as_of=2025-06-01", body);
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(json::parse(after.body)["part"]["name"], old_name + " (renamed)");
  // A sheet in the body is never kept.
  ASSERT_EQ(
      s.call("/v1/classify", "POST", "/v1/classify?as_of=2025-06-01", read_text_file(sheet)).status,
      200);
  EXPECT_EQ(s.get().routes().data()->rendered.size(), 1U);
}

TEST(ServeRoutes, ClassifyASheetInTheBodyAsTheCliClassifiesTheFile) {
  auto& s = shared_server();
  const auto file = test::specs_dir() + "/chips/nvidia-h100-sxm5-80gb.json";
  const auto want =
      test::run_command(cli("classify '" + file + "' --as-of 2025-06-01 --format json"));
  ASSERT_EQ(want.status, 0);
  const auto got =
      s.call("/v1/classify", "POST", "/v1/classify?as_of=2025-06-01", read_text_file(file));
  ASSERT_EQ(got.status, 200) << got.body;
  // The same document but for the part's "file": the CLI names the path, the server the body.
  auto a = json::parse(got.body);
  auto b = json::parse(want.out);
  EXPECT_EQ(a["part"]["file"], "request body");
  a["part"]["file"] = b["part"]["file"];
  EXPECT_EQ(a, b);
}

TEST(ServeRoutes, PartsListAndDetail) {
  auto& s = shared_server();
  const auto list = s.call("/v1/parts", "GET", "/v1/parts");
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(list.body, test::run_command(cli("specs list --format json")).out);
  const auto one =
      s.call("/v1/parts/{id}", "GET", "/v1/parts/nvidia-h100-sxm5-80gb?as_of=2025-06-01");
  ASSERT_EQ(one.status, 200);
  const auto j = json::parse(one.body);
  EXPECT_EQ(j["id"], "nvidia-h100-sxm5-80gb");
  EXPECT_EQ(j["sheet"],
            json::parse(read_text_file(test::specs_dir() + "/chips/nvidia-h100-sxm5-80gb.json")));
  const auto cls = json::parse(
      test::run_command(cli("classify nvidia-h100-sxm5-80gb --as-of 2025-06-01 --format json"))
          .out);
  EXPECT_EQ(j["classification"], cls);
  EXPECT_EQ(j["metrics"], cls["metrics"]);
}

TEST(ServeRoutes, RulesListAndShow) {
  auto& s = shared_server();
  const auto list = s.call("/v1/rules", "GET", "/v1/rules?as_of=2024-01-31");
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(list.body, test::run_command(cli("rules list --as-of 2024-01-31 --format json")).out);
  const auto ids = json::parse(list.body);
  ASSERT_FALSE(ids.empty());
  for (const auto& r : ids) {
    const std::string id = r["id"];
    const auto got = s.call("/v1/rules/{id}", "GET", "/v1/rules/" + id);
    EXPECT_EQ(got.status, 200);
    EXPECT_EQ(got.body, test::run_command(cli("rules show '" + id + "' --format json")).out) << id;
  }
}

TEST(ServeRoutes, LicenseAgreesWithTheCli) {
  auto& s = shared_server();
  struct question {
    json body;
    std::string args;
  };
  const std::vector<question> questions = {
      {{{"part", "nvidia-h100-sxm5-80gb"}, {"to", "CN"}, {"as_of", "2025-03-01"}},
       "nvidia-h100-sxm5-80gb --to CN --as-of 2025-03-01"},
      {{{"part", "nvidia-h20"},
        {"to", "MY"},
        {"as_of", "2025-03-01"},
        {"party_hq", "CN"},
        {"quantity", 1000}},
       "nvidia-h20 --to MY --as-of 2025-03-01 --party-hq CN --quantity 1000"},
      {{{"part", "nvidia-a100-sxm4-80gb"},
        {"to", "DE"},
        {"from", "NL"},
        {"as_of", "2024-06-01"},
        {"transaction", "reexport"}},
       "nvidia-a100-sxm4-80gb --to DE --from NL --as-of 2024-06-01 --transaction reexport"},
      {{{"part", "nvidia-h100-sxm5-80gb"},
        {"to", "AE"},
        {"as_of", "2025-06-01"},
        {"what_if", true}},
       "nvidia-h100-sxm5-80gb --to AE --as-of 2025-06-01 --what-if"},
  };
  for (const auto& q : questions) {
    const auto want = test::run_command(cli("license " + q.args + " --format json"));
    ASSERT_EQ(want.status, 0) << want.err;
    const auto got = s.call("/v1/license", "POST", "/v1/license", q.body.dump());
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(got.body, want.out) << q.args;
  }
  // A sheet instead of an id.
  const auto sheet =
      json::parse(read_text_file(test::specs_dir() + "/chips/nvidia-h100-sxm5-80gb.json"));
  const auto got = s.call("/v1/license", "POST", "/v1/license",
                          json{{"sheet", sheet}, {"to", "CN"}, {"as_of", "2025-03-01"}}.dump());
  EXPECT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(
      json::parse(got.body)["license_required"],
      json::parse(test::run_command(
                      cli("license nvidia-h100-sxm5-80gb --to CN --as-of 2025-03-01 --format json"))
                      .out)["license_required"]);
}

TEST(ServeRoutes, MetricsCountRequestsClassificationsAndTheDataSet) {
  auto& s = shared_server();
  s.call("/v1/classify", "POST", "/v1/classify?as_of=2025-06-01",
         R"({"part":"nvidia-h100-sxm5-80gb"})");
  // A request is counted once its response is written, so the client may ask before it is.
  reply m;
  for (int i = 0; i < 100; ++i) {
    m = s.call("/metrics", "GET", "/metrics");
    if (m.body.find("route=\"/v1/classify\",method=\"POST\",status=\"200\"") != std::string::npos)
      break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(
      m.body.find(
          "chipgauge_http_requests_total{route=\"/v1/classify\",method=\"POST\",status=\"200\"}"),
      std::string::npos);
  EXPECT_NE(
      m.body.find(
          "chipgauge_http_request_duration_seconds_bucket{route=\"/v1/classify\",status=\"200\","
          "le=\"+Inf\"}"),
      std::string::npos);
  EXPECT_NE(m.body.find("chipgauge_classifications_total{eccn=\"3A090"), std::string::npos);
  EXPECT_NE(m.body.find("chipgauge_dataset_info{version=\""), std::string::npos);
  if (const char* dir = std::getenv("CHIPGAUGE_SERVE_RECORD"); dir && *dir)
    std::ofstream(std::string(dir) + "/metrics.txt") << m.body;
}

// ---------------------------------------------------------------------------------------------
// Errors: problem documents with the CLI's messages

void expect_problem(const reply& r, int status, const std::string& slug) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/problem+json") << r.body;
  if (r.body.empty()) return;
  const auto p = json::parse(r.body);
  EXPECT_EQ(p["status"], status);
  EXPECT_EQ(p["type"], "urn:chipgauge:problem:" + slug) << r.body;
  EXPECT_FALSE(p["title"].get<std::string>().empty());
  EXPECT_FALSE(p["detail"].get<std::string>().empty());
}

std::string cli_error(const std::string& args) {
  const auto r = test::run_command(cli(args));
  EXPECT_EQ(r.status, 2);
  const std::string prefix = "chipgauge: error: ";
  EXPECT_EQ(r.err.rfind(prefix, 0), 0U) << r.err;
  return r.err.substr(prefix.size(), r.err.size() - prefix.size() - 1);
}

TEST(ServeErrors, BadRequests) {
  auto& s = shared_server();
  auto r = s.call("/v1/classify", "POST", "/v1/classify", R"({"part": "nvidia-h100-sxm5-80gb")");
  expect_problem(r, 400, "malformed-json");
  EXPECT_NE(r.problem()["detail"].get<std::string>().find("malformed JSON"), std::string::npos);
  EXPECT_EQ(r.problem()["json_path"], "$");
  r = s.call("/v1/classify", "POST", "/v1/classify", "{\"part\": \"nvidia-\xff\xfe\"}");
  expect_problem(r, 400, "malformed-json");
  r = s.call("/v1/classify", "POST", "/v1/classify",
             std::string(100000, '[') + std::string(100000, ']'));
  expect_problem(r, 400, "malformed-json");
  EXPECT_NE(r.problem()["detail"].get<std::string>().find("deeper"), std::string::npos) << r.body;
  r = s.call("/v1/classify", "POST", "/v1/classify", R"({"part":"a","part":"b"})");
  expect_problem(r, 400, "malformed-json");
  r = s.call("/v1/classify", "POST", "/v1/classify?as_of=2024-13-45", R"({"part":"nvidia-h20"})");
  expect_problem(r, 400, "bad-parameter");
  EXPECT_EQ(r.problem()["parameter"], "as_of");
  EXPECT_EQ(r.problem()["detail"],
            "as_of '2024-13-45' is not a date: expected YYYY-MM-DD (e.g. 2024-01-31)");
  r = s.call("/v1/classify", "POST", "/v1/classify?asof=2024-01-01", R"({"part":"nvidia-h20"})");
  expect_problem(r, 400, "unknown-parameter");
  r = s.call("/v1/classify", "POST", "/v1/classify?what_if=maybe", R"({"part":"nvidia-h20"})");
  expect_problem(r, 400, "bad-parameter");
  r = s.call("/v1/classify", "POST", "/v1/classify", "");
  expect_problem(r, 400, "empty-body");
  // Not HTTP at all.
  connection c(s.port());
  c.send("HELLO\r\n\r\n");
  r = read_reply(c);
  record("GET", "unmatched", r);
  expect_problem(r, 400, "bad-request");
}

TEST(ServeErrors, NotFoundAndMethodNotAllowed) {
  auto& s = shared_server();
  auto r = s.call("unmatched", "GET", "/v2/nothing");
  expect_problem(r, 404, "not-found");
  r = s.call("/v1/parts/{id}", "GET", "/v1/parts/nvidia-h100-sxm5");
  expect_problem(r, 404, "unknown-part");
  EXPECT_EQ(r.problem()["detail"], cli_error("classify nvidia-h100-sxm5"));
  r = s.call("/v1/rules/{id}", "GET", "/v1/rules/us-2099");
  expect_problem(r, 404, "unknown-regime");
  EXPECT_EQ(r.problem()["detail"], cli_error("rules show us-2099"));
  r = s.call("/v1/classify", "GET", "/v1/classify");
  expect_problem(r, 405, "method-not-allowed");
  EXPECT_EQ(r.header("allow"), "POST");
  r = s.call("/v1/parts", "DELETE", "/v1/parts");
  expect_problem(r, 405, "method-not-allowed");
  EXPECT_EQ(r.header("allow"), "GET, HEAD");
  connection c(s.port());
  c.send("OPTIONS /v1/license HTTP/1.1\r\nHost: x\r\n\r\n");
  r = read_reply(c);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("allow"), "POST, OPTIONS");
}

TEST(ServeErrors, MediaTypeLengthAndUnprocessable) {
  auto& s = shared_server();
  auto r = s.call("/v1/classify", "POST", "/v1/classify", R"({"part":"nvidia-h20"})", "text/plain");
  expect_problem(r, 415, "unsupported-media-type");
  r = s.call("/v1/classify", "POST", "/v1/classify", R"({"part":"nvidia-h20"})",
             "application/json; charset=utf-8");
  EXPECT_EQ(r.status, 200);
  {
    connection c(s.port());
    c.send(
        "POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n5\r\n[1,2]\r\n0\r\n\r\n");
    r = read_reply(c);
    record("POST", "/v1/classify", r);
    expect_problem(r, 411, "length-required");
  }
  {
    connection c(s.port());
    c.send("POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\r\n");
    r = read_reply(c);
    record("POST", "/v1/classify", r);
    expect_problem(r, 411, "length-required");
  }
  r = s.call("/v1/classify", "POST", "/v1/classify", R"({"part":"nvidia-h100-sxm5"})");
  expect_problem(r, 422, "unknown-part");
  EXPECT_EQ(r.problem()["json_path"], "$.part");
  EXPECT_EQ(r.problem()["detail"], cli_error("classify nvidia-h100-sxm5"));
  r = s.call("/v1/classify", "POST", "/v1/classify", R"([{"part":"nvidia-h20"},{"part":7}])");
  expect_problem(r, 422, "invalid-reference");
  EXPECT_EQ(r.problem()["json_path"], "$[1].part");
  // A sheet with a defect: the path of the field, in the batch.
  auto sheet = json::parse(read_text_file(test::specs_dir() + "/chips/nvidia-h100-sxm5-80gb.json"));
  sheet["dies"][0]["area_mm2"] = -5;
  r = s.call("/v1/classify", "POST", "/v1/classify",
             json::array({json{{"part", "nvidia-h20"}}, sheet}).dump());
  expect_problem(r, 422, "invalid-sheet");
  EXPECT_EQ(r.problem()["json_path"].get<std::string>().rfind("$[1].dies[0]", 0), 0U) << r.body;
  r = s.call("/v1/classify", "POST", "/v1/classify", "42");
  expect_problem(r, 422, "invalid-body");
  r = s.call("/v1/license", "POST", "/v1/license",
             R"({"part":"nvidia-h20","to":"Atlantis","as_of":"2025-03-01"})");
  expect_problem(r, 422, "invalid-field");
  EXPECT_EQ(r.problem()["json_path"], "$.to");
  EXPECT_EQ(r.problem()["detail"],
            cli_error("license nvidia-h20 --to Atlantis --as-of 2025-03-01"));
  r = s.call("/v1/license", "POST", "/v1/license",
             R"({"part":"nvidia-h20","to":"CN","as_of":"2020-01-01"})");
  expect_problem(r, 422, "invalid-field");
  EXPECT_EQ(r.problem()["json_path"], "$.as_of");
  r = s.call("/v1/license", "POST", "/v1/license",
             R"({"part":"nvidia-h20","to":"CN","quantitty":3})");
  expect_problem(r, 422, "invalid-field");
  EXPECT_EQ(r.problem()["json_path"], "$.quantitty");
  EXPECT_NE(r.problem()["detail"].get<std::string>().find("quantity"), std::string::npos) << r.body;
  r = s.call("/v1/license", "POST", "/v1/license", R"({"to":"CN"})");
  expect_problem(r, 422, "invalid-body");
}

// ---------------------------------------------------------------------------------------------
// Tokens

TEST(ServeToken, WriteRoutesNeedTheTokenAndReadsWithTokenRequired) {
  test::temp_dir dir;
  auto o = test_options();
  o.token_file = dir.write("token", "s3cret-token\n");
  const auto write_route = [](serve::server& s) {
    s.routes().add_route({"POST", "/v1/test-write", true,
                          [](const serve::api&, const serve::http_request&, const serve::dataset&,
                             const std::vector<std::string>&) {
                            serve::http_response r;
                            r.body = "{}\n";
                            return r;
                          }});
  };
  {
    running_server s(o, write_route);
    expect_problem(s.call("/v1/test-write", "POST", "/v1/test-write", "{}"), 401, "unauthorized");
    const auto wrong = s.call("/v1/test-write", "POST", "/v1/test-write", "{}", "application/json",
                              "Authorization: Bearer s3cret-tokeN\r\n");
    expect_problem(wrong, 401, "unauthorized");
    EXPECT_NE(wrong.header("www-authenticate").find("Bearer"), std::string::npos);
    EXPECT_EQ(s.call("/v1/test-write", "POST", "/v1/test-write", "{}", "application/json",
                     "Authorization: Bearer s3cret-token\r\n")
                  .status,
              200);
    // Reads stay open.
    EXPECT_EQ(s.call("/healthz", "GET", "/healthz").status, 200);
  }
  o.token_required = true;
  {
    running_server s(o);
    expect_problem(s.call("/v1/parts", "GET", "/v1/parts"), 401, "unauthorized");
    EXPECT_EQ(
        s.call("/v1/parts", "GET", "/v1/parts", "", "", "Authorization: Bearer s3cret-token\r\n")
            .status,
        200);
  }
  // Without a token file, write routes are closed.
  running_server open(test_options(), write_route);
  expect_problem(open.call("/v1/test-write", "POST", "/v1/test-write", "{}", "application/json",
                           "Authorization: Bearer x\r\n"),
                 401, "unauthorized");
  EXPECT_TRUE(serve::constant_time_equal("abc", "abc"));
  EXPECT_FALSE(serve::constant_time_equal("abc", "abd"));
  EXPECT_FALSE(serve::constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(serve::constant_time_equal("", "a"));
}

TEST(ServeToken, BadOptionsAreUsageErrors) {
  auto o = test_options();
  o.token_required = true;
  EXPECT_THROW(serve::server{o}, usage_error);
  o = test_options();
  o.listen = "127.0.0.1:99999";
  EXPECT_THROW(serve::server{o}, usage_error);
  o = test_options();
  o.token_file = "/nonexistent/token";
  EXPECT_THROW(serve::server{o}, usage_error);
}

// ---------------------------------------------------------------------------------------------
// Limits

TEST(ServeLimits, OversizedBodyIsRefusedFromItsLengthWithoutReadingIt) {
  auto o = test_options();
  o.max_body_bytes = 1024;
  running_server s(o);
  connection c(s.port());
  // Announce 100 MB; send only the head. The answer comes without the body.
  c.send(
      "POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 104857600\r\n\r\n");
  const auto r = read_reply(c);
  record("POST", "/v1/classify", r);
  expect_problem(r, 413, "body-too-large");
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.closed_within(5000ms));
  // A body just over the limit sent whole is refused too; one at the limit is read.
  EXPECT_EQ(s.call("/v1/classify", "POST", "/v1/classify", std::string(1025, ' ')).status, 413);
  const std::string small = R"({"part":"nvidia-h20"})";
  EXPECT_EQ(
      s.call("/v1/classify", "POST", "/v1/classify", small + std::string(1024 - small.size(), ' '))
          .status,
      200);
  // Expect: 100-continue gets the refusal instead of the go-ahead.
  connection e(s.port());
  e.send(
      "POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(read_reply(e).status, 413);
}

TEST(ServeLimits, SlowClientIsCutOffAtTheRequestTimeout) {
  auto o = test_options();
  o.request_timeout = 1;
  o.read_timeout = 1;
  running_server s(o);
  connection c(s.port());
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\n"));
  // One byte every 200 ms keeps every read within --read-timeout; the whole request is not.
  reply r;
  for (int i = 0; i < 50 && r.status == 0; ++i) {
    if (!c.send("X")) break;
    c.pending_ += c.read_some(200ms);
    if (c.pending_.find("\r\n\r\n") != std::string::npos) r = read_reply(c);
  }
  record("GET", "/healthz", r);
  expect_problem(r, 408, "request-timeout");
  EXPECT_TRUE(c.closed_within(3000ms));
  // An idle connection that sends nothing is closed too.
  connection idle(s.port());
  EXPECT_TRUE(idle.closed_within(5000ms));
}

TEST(ServeLimits, FullQueueGets503WithRetryAfter) {
  auto o = test_options();
  o.threads = 1;
  o.queue_limit = 0;
  o.request_timeout = 5;
  running_server s(o);
  // Hold the only worker with a request that has not finished arriving.
  connection hold(s.port());
  hold.send("GET /healthz HTTP/1.1\r\nHost: x\r\n");
  std::this_thread::sleep_for(300ms);
  connection c(s.port());
  c.send(raw_request("GET", "/v1/parts"));
  const auto r = read_reply(c);
  record("GET", "/v1/parts", r);
  expect_problem(r, 503, "overloaded");
  EXPECT_EQ(r.header("retry-after"), "1");
  // Once the worker is free (the held request completes and its connection closes), requests are
  // served again.
  hold.send("Connection: close\r\n\r\n");
  EXPECT_EQ(read_reply(hold).status, 200);
  EXPECT_TRUE(hold.closed_within(5000ms));
  int status = 0;
  for (int i = 0; i < 50 && status != 200; ++i) {
    connection again(s.port());
    again.send(raw_request("GET", "/healthz"));
    status = read_reply(again).status;
    if (status != 200) std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(status, 200);
}

TEST(ServeLimits, RateLimitGets429) {
  auto o = test_options();
  o.rate_limit = 1;
  o.rate_burst = 2;
  running_server s(o);
  int limited = 0;
  for (int i = 0; i < 5; ++i) {
    const auto r = s.call("/healthz", "GET", "/healthz");
    if (r.status == 429) {
      ++limited;
      expect_problem(r, 429, "rate-limited");
      EXPECT_FALSE(r.header("retry-after").empty());
    }
  }
  EXPECT_GE(limited, 2);
}

TEST(ServeLimits, HeaderFloodsGet431) {
  auto& s = shared_server();
  std::string many;
  for (int i = 0; i < 200; ++i) many += "X-Flood-" + std::to_string(i) + ": 1\r\n";
  expect_problem(s.call("/healthz", "GET", "/healthz", "", "", many), 431, "too-many-headers");
  // A head larger than --max-header-bytes, sent as one endless header stream.
  connection c(s.port());
  c.send("GET /healthz HTTP/1.1\r\n");
  reply r;
  for (int i = 0; i < 4000 && r.status == 0; ++i) {
    if (!c.send("X-Endless: " + std::string(100, 'a') + "\r\n")) break;
    if (i % 100 == 99) {
      c.pending_ += c.read_some(1ms);
      if (c.pending_.find("\r\n\r\n") != std::string::npos) r = read_reply(c);
    }
  }
  if (r.status == 0) r = read_reply(c, 5000ms);
  record("GET", "/healthz", r);
  expect_problem(r, 431, "head-too-large");
}

TEST(ServeLimits, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto& s = shared_server();
  connection c(s.port());
  for (int i = 0; i < 3; ++i) {
    c.send(raw_request("GET", "/healthz"));
    EXPECT_EQ(read_reply(c).status, 200);
  }
}

// ---------------------------------------------------------------------------------------------
// History: ingest, runs, trend, compare and the dashboard over a store

/// A server with a history store holding the dashboard's synthetic nights
/// (tests/dashboard_store.hpp: gemm_fp16 on GPU-dash-0001, night 8 slower) and a token for the
/// ingest routes.
struct history_fixture {
  test::temp_dir dir;
  std::string db;
  std::vector<std::int64_t> nights;
  std::unique_ptr<running_server> server;
  static constexpr const char* auth = "Authorization: Bearer ingest-token\r\n";

  history_fixture() {
    db = dir.path() + "/history.db";
    {
      auto st = history::store::open(db);
      nights = test::fill_dashboard_store(st);
    }
    auto o = test_options();
    o.history = db;
    o.token_file = dir.write("token", "ingest-token\n");
    server = std::make_unique<running_server>(o);
  }
  running_server& s() { return *server; }
  /// The CLI's answer for the same store.
  [[nodiscard]] test::run_result cli_history(const std::string& args) const {
    return test::run_command(cli(args + " --history '" + db + "'"));
  }
};

history_fixture& history_server() {
  static history_fixture f;
  return f;
}

/// `text` percent-encoded for a query value (cpp-httplib splits a query pair at every '=').
std::string url_encode(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') out += c;
    else out += fmt::format("%{:02X}", u);
  }
  return out;
}

/// The JSON a dashboard page embeds (<script type="application/json" id="chipgauge-data">).
json embedded_data(const std::string& html) {
  const std::string open = "id=\"chipgauge-data\">";
  const auto from = html.find(open);
  if (from == std::string::npos) return nullptr;
  const auto start = from + open.size();
  return json::parse(html.substr(start, html.find("</script>", start) - start));
}

TEST(ServeHistory, RunsListAndShowAgreeWithTheCliByteForByte) {
  auto& h = history_server();
  auto r = h.s().call("/v1/history/runs", "GET", "/v1/history/runs");
  ASSERT_EQ(r.status, 200) << r.body;
  auto want = h.cli_history("history list --format json");
  ASSERT_EQ(want.status, 0) << want.err;
  EXPECT_EQ(r.body, want.out);
  EXPECT_GE(json::parse(r.body).size(), static_cast<std::size_t>(test::dashboard_nights));
  // The CLI's filters, under the same names.
  r = h.s().call(
      "/v1/history/runs", "GET",
      "/v1/history/runs?device=GPU-dash&benchmark=gemm_fp16&since=2026-11-03&until=2026-11-05&la"
      "st=2");
  ASSERT_EQ(r.status, 200) << r.body;
  want = h.cli_history(
      "history list --device GPU-dash --benchmark gemm_fp16 --since 2026-11-03 --until "
      "2026-11-05 --last 2 --format json");
  EXPECT_EQ(r.body, want.out);
  EXPECT_EQ(json::parse(r.body).size(), 2U);
  const auto id = std::to_string(h.nights.at(2));
  r = h.s().call("/v1/history/runs/{id}", "GET", "/v1/history/runs/" + id);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, h.cli_history("history show " + id + " --format json").out);
  EXPECT_EQ(json::parse(r.body)["result_rows"].size(), 2U);
}

TEST(ServeHistory, CompareAgreesWithTheCliByteForByteAndIs200WhenSlower) {
  auto& h = history_server();
  struct sides {
    std::string base, current;
    int cli_status;
  };
  const std::vector<sides> cases = {
      // Night 8 against the seven before it: gemm_fp16 slower (the CLI exits 4), stream_triad same.
      {"history:device=GPU-dash,until=2026-11-07",
       "history:device=GPU-dash,since=2026-11-08,until=2026-11-08", 4},
      {"history:device=GPU-dash,until=2026-11-04",
       "history:device=GPU-dash,since=2026-11-05,until=2026-11-07", 0},
  };
  for (const auto& c : cases) {
    const auto want = h.cli_history("compare '" + c.base + "' '" + c.current + "' --format json");
    ASSERT_EQ(want.status, c.cli_status) << want.err;
    const auto got =
        h.s().call("/v1/compare", "GET",
                   "/v1/compare?base=" + url_encode(c.base) + "&new=" + url_encode(c.current));
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(got.body, want.out) << c.base << " vs " << c.current;
  }
  const auto slower = json::parse(h.s()
                                      .call("/v1/compare", "GET",
                                            "/v1/compare?base=" + url_encode(cases[0].base) +
                                                "&new=" + url_encode(cases[0].current))
                                      .body);
  EXPECT_NE(slower.dump().find("\"slower\""), std::string::npos);
}

TEST(ServeHistory, CompareTakesTheCliOptionsAsQueryParameters) {
  auto& h = history_server();
  const std::string base = "history:device=GPU-dash,until=2026-11-07";
  const std::string current = "history:device=GPU-dash,since=2026-11-08,until=2026-11-08";
  const auto target = "/v1/compare?base=" + url_encode(base) + "&new=" + url_encode(current);
  const auto plain = h.s().call("/v1/compare", "GET", target);
  ASSERT_EQ(plain.status, 200) << plain.body;
  const auto want =
      h.cli_history("compare '" + base + "' '" + current +
                    "' --format json --min-effect 4% --min-effect gemm_fp16=50% --alpha 0.01 "
                    "--clock-tolerance 5% --clock-explained-ok");
  ASSERT_TRUE(want.status == 0 || want.status == 4)
      << want.err;  // 4: a regression, still a comparison
  const auto got =
      h.s().call("/v1/compare", "GET",
                 target + "&min_effect=4%25&min_effect=" + url_encode("gemm_fp16=50%") +
                     "&alpha=0.01&clock_tolerance=5%25&clock_explained_ok");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.body, want.out);
  EXPECT_NE(got.body, plain.body);
  const auto settings = json::parse(got.body)["settings"];
  EXPECT_DOUBLE_EQ(settings["alpha"].get<double>(), 0.01);
  EXPECT_DOUBLE_EQ(settings["min_effect"].get<double>(), 0.04);
  // Bad values: 400, naming the parameter, with the CLI's message under the parameter's name.
  struct bad {
    std::string query, parameter, detail;
  };
  const std::vector<bad> cases = {
      {"&min_effect=lots", "min_effect",
       "min_effect 'lots': expected a relative effect such as 3% or 0.03"},
      {"&min_effect=150%25", "min_effect", "min_effect '150%': expected a relative effect"},
      {"&min_effect=" + url_encode("=5%"), "min_effect",
       "min_effect '=5%': expected NAME=P% with a benchmark name"},
      {"&min_effect=" + url_encode("gemm_fp16=x"), "min_effect",
       "min_effect 'x': expected a relative effect"},
      {"&alpha=0.7", "alpha", "alpha 0.7: expected a level in (0, 0.5)"},
      {"&alpha=small", "alpha", "alpha 'small': expected a level in (0, 0.5)"},
      {"&clock_tolerance=-1%25", "clock_tolerance",
       "clock_tolerance '-1%': expected a relative effect"},
      {"&clock_explained_ok=maybe", "clock_explained_ok",
       "clock_explained_ok 'maybe' is not a flag"},
  };
  for (const auto& c : cases) {
    const auto r = h.s().call("/v1/compare", "GET", target + c.query);
    expect_problem(r, 400, "bad-parameter");
    EXPECT_EQ(r.problem()["parameter"], c.parameter) << c.query;
    EXPECT_NE(r.problem()["detail"].get<std::string>().find(c.detail), std::string::npos) << r.body;
  }
  // Only min_effect repeats, as --min-effect does.
  const auto twice = h.s().call("/v1/compare", "GET", target + "&alpha=0.01&alpha=0.02");
  expect_problem(twice, 400, "repeated-parameter");
  EXPECT_EQ(twice.problem()["parameter"], "alpha");
}

TEST(ServeHistory, TrendIsWhatTheDashboardCharts) {
  auto& h = history_server();
  const auto r = h.s().call("/v1/history/trend", "GET",
                            "/v1/history/trend?device=GPU-dash-0001&benchmark=gemm_fp16");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = json::parse(r.body);
  ASSERT_EQ(j["series"].size(), 1U);
  const auto& series = j["series"][0];
  EXPECT_EQ(series["benchmark"], "gemm_fp16");
  ASSERT_EQ(series["points"].size(), static_cast<std::size_t>(test::dashboard_nights));
  // Exactly the regression night is slower.
  for (std::size_t i = 0; i < series["points"].size(); ++i) {
    const auto& p = series["points"][i];
    EXPECT_EQ(p["run_id"], h.nights[i]);
    EXPECT_EQ(p["verdict"] == "slower", static_cast<int>(i) + 1 == test::dashboard_regression_night)
        << p.dump();
  }
  // The same data the dashboard's trend page embeds.
  const auto index = embedded_data(h.s().call("/dashboard/{path}", "GET", "/dashboard/").body);
  std::string page;
  for (const auto& e : index["series"])
    if (e["benchmark"] == "gemm_fp16" && e["identity"] == "uuid:GPU-dash-0001") page = e["page"];
  ASSERT_FALSE(page.empty()) << index.dump();
  const auto trend_page = h.s().call("/dashboard/{path}", "GET", "/dashboard/" + page);
  ASSERT_EQ(trend_page.status, 200);
  EXPECT_EQ(embedded_data(trend_page.body), series);
  // A filter that selects nothing: no series.
  const auto none =
      h.s().call("/v1/history/trend", "GET",
                 "/v1/history/trend?device=GPU-dash-0001&benchmark=no_such_benchmark");
  EXPECT_EQ(none.status, 200);
  EXPECT_TRUE(json::parse(none.body)["series"].empty());
}

TEST(ServeHistory, APostedReportIsVisibleInRunsAndTheDashboardAndIngestIsIdempotent) {
  auto& h = history_server();
  const auto report = read_text_file(test::data_dir() + "/measurement-sample.json");
  const auto device = json::parse(report)["devices"][0]["name"].get<std::string>();
  const auto before = h.s().call("/dashboard/{path}", "GET", "/dashboard/");
  ASSERT_EQ(before.status, 200);
  EXPECT_EQ(before.body.find(device), std::string::npos);
  auto r = h.s().call("/v1/reports", "POST", "/v1/reports", report, "application/json",
                      history_fixture::auth);
  ASSERT_EQ(r.status, 201) << r.body;
  const auto ingested = json::parse(r.body);
  const auto id = ingested["run_id"].get<std::int64_t>();
  EXPECT_FALSE(ingested["already_present"].get<bool>());
  EXPECT_GT(ingested["results"].get<int>(), 0);
  EXPECT_EQ(ingested["source_sha256"], history::sha256_hex(report));
  EXPECT_EQ(r.header("location"), "/v1/history/runs/" + std::to_string(id));
  // The same bytes again: 200, the same run, nothing written.
  r = h.s().call("/v1/reports", "POST", "/v1/reports", report, "application/json",
                 history_fixture::auth);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["run_id"], id);
  EXPECT_TRUE(json::parse(r.body)["already_present"].get<bool>());
  // Listed, shown and drawn.
  const auto runs = json::parse(h.s().call("/v1/history/runs", "GET", "/v1/history/runs").body);
  const auto it =
      std::find_if(runs.begin(), runs.end(), [id](const json& x) { return x["id"] == id; });
  ASSERT_NE(it, runs.end());
  EXPECT_EQ((*it)["source_name"], "request body");
  EXPECT_EQ((*it)["source_kind"], "chipgauge-report");
  EXPECT_EQ(
      h.s().call("/v1/history/runs/{id}", "GET", "/v1/history/runs/" + std::to_string(id)).status,
      200);
  EXPECT_EQ(h.cli_history("history show " + std::to_string(id) + " --format json").status, 0);
  const auto after = h.s().call("/dashboard/{path}", "GET", "/dashboard/");
  EXPECT_NE(after.body.find(device), std::string::npos)
      << "the dashboard was not rebuilt after the ingest";
  // Google Benchmark JSON goes to the same route.
  r = h.s().call("/v1/reports", "POST", "/v1/reports",
                 read_text_file(test::data_dir() + "/gbench-sample-reps3.json"), "application/json",
                 history_fixture::auth);
  EXPECT_EQ(r.status, 201) << r.body;
  // Counted by kind and outcome.
  reply m;
  for (int i = 0; i < 100; ++i) {
    m = h.s().call("/metrics", "GET", "/metrics");
    if (m.body.find(
            "chipgauge_history_ingests_total{kind=\"report\",outcome=\"already_present\"} 1") !=
        std::string::npos)
      break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(m.body.find("chipgauge_history_ingests_total{kind=\"report\",outcome=\"ingested\"} 2"),
            std::string::npos)
      << m.body;
  EXPECT_NE(
      m.body.find("chipgauge_history_ingests_total{kind=\"report\",outcome=\"already_present\"} 1"),
      std::string::npos);
}

TEST(ServeHistory, CertificatesGoToTheirOwnRoute) {
  auto& h = history_server();
  // A real `certify` certificate (sealed, not signed).
  const auto certificate = read_text_file(test::data_dir() + "/../golden/certificate-sample.json");
  auto r = h.s().call("/v1/certificates", "POST", "/v1/certificates", certificate,
                      "application/json", history_fixture::auth);
  // Stored as `history ingest` stores it: intact and unsigned, never shown as verified.
  ASSERT_EQ(r.status, 201) << r.body;
  const auto stored = json::parse(r.body);
  EXPECT_EQ(stored["integrity"], "unsigned") << r.body;
  EXPECT_FALSE(stored["already_present"].get<bool>());
  const auto again = h.s().call("/v1/certificates", "POST", "/v1/certificates", certificate,
                                "application/json", history_fixture::auth);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(json::parse(again.body)["run_id"], stored["run_id"]);
  // Each route takes its own kind.
  r = h.s().call("/v1/reports", "POST", "/v1/reports", certificate, "application/json",
                 history_fixture::auth);
  expect_problem(r, 422, "wrong-kind");
  EXPECT_EQ(r.problem()["json_path"], "$.schema");
  r = h.s().call("/v1/certificates", "POST", "/v1/certificates",
                 read_text_file(test::data_dir() + "/measurement-sample.json"), "application/json",
                 history_fixture::auth);
  expect_problem(r, 422, "wrong-kind");
}

TEST(ServeHistory, ErrorStatuses) {
  auto& h = history_server();
  auto& s = h.s();
  const std::string report = read_text_file(test::data_dir() + "/compare-base-measurement.json");
  // The token: missing, wrong.
  auto r = s.call("/v1/reports", "POST", "/v1/reports", report);
  expect_problem(r, 401, "unauthorized");
  r = s.call("/v1/reports", "POST", "/v1/reports", report, "application/json",
             "Authorization: Bearer nope\r\n");
  expect_problem(r, 401, "unauthorized");
  r = s.call("/v1/certificates", "POST", "/v1/certificates", "{}");
  expect_problem(r, 401, "unauthorized");
  // Methods.
  r = s.call("/v1/reports", "GET", "/v1/reports");
  expect_problem(r, 405, "method-not-allowed");
  EXPECT_EQ(r.header("allow"), "POST");
  r = s.call("/v1/history/runs", "POST", "/v1/history/runs", "{}");
  expect_problem(r, 405, "method-not-allowed");
  EXPECT_EQ(r.header("allow"), "GET, HEAD");
  r = s.call("/v1/compare", "DELETE", "/v1/compare");
  expect_problem(r, 405, "method-not-allowed");
  r = s.call("/dashboard/{path}", "POST", "/dashboard/index.html", "{}");
  expect_problem(r, 405, "method-not-allowed");
  // Malformed and unprocessable bodies: the library's messages, with the field.
  r = s.call("/v1/reports", "POST", "/v1/reports", R"({"schema": "chipgauge.measurement/1")",
             "application/json", history_fixture::auth);
  expect_problem(r, 400, "malformed-json");
  r = s.call("/v1/reports", "POST", "/v1/reports", "[1, 2]", "application/json",
             history_fixture::auth);
  expect_problem(r, 422, "invalid-report");
  EXPECT_EQ(r.problem()["json_path"], "$");
  r = s.call("/v1/reports", "POST", "/v1/reports", R"({"schema": "chipgauge.measurement/9"})",
             "application/json", history_fixture::auth);
  expect_problem(r, 422, "invalid-report");
  EXPECT_EQ(r.problem()["json_path"], "$.schema");
  auto broken = json::parse(report);
  broken["created_utc"] = "yesterday";
  r = s.call("/v1/reports", "POST", "/v1/reports", broken.dump(), "application/json",
             history_fixture::auth);
  expect_problem(r, 422, "invalid-report");
  EXPECT_NE(r.problem()["detail"].get<std::string>().find("request body"), std::string::npos)
      << r.body;
  r = s.call("/v1/reports", "POST", "/v1/reports", report, "text/plain", history_fixture::auth);
  expect_problem(r, 415, "unsupported-media-type");
  // Query parameters: bad selector (naming the key), bad dates and counts, missing and unknown
  // ones.
  r = s.call(
      "/v1/compare", "GET",
      "/v1/compare?base=" + url_encode("history:colour=red") + "&new=" + url_encode("history:"));
  expect_problem(r, 400, "bad-parameter");
  EXPECT_EQ(r.problem()["parameter"], "base");
  EXPECT_NE(r.problem()["detail"].get<std::string>().find("unknown key 'colour'"),
            std::string::npos)
      << r.body;
  r = s.call("/v1/compare", "GET",
             "/v1/compare?base=" + url_encode("history:") + "&new=" + url_encode("history:last=0"));
  expect_problem(r, 400, "bad-parameter");
  EXPECT_EQ(r.problem()["parameter"], "new");
  EXPECT_NE(r.problem()["detail"].get<std::string>().find("last"), std::string::npos) << r.body;
  r = s.call("/v1/compare", "GET", "/v1/compare?base=report.json&new=" + url_encode("history:"));
  expect_problem(r, 400, "bad-parameter");
  EXPECT_NE(r.problem()["detail"].get<std::string>().find("is not a history selector"),
            std::string::npos)
      << r.body;
  r = s.call("/v1/compare", "GET", "/v1/compare?base=" + url_encode("history:"));
  expect_problem(r, 400, "bad-parameter");
  EXPECT_EQ(r.problem()["parameter"], "new");
  r = s.call("/v1/compare", "GET",
             "/v1/compare?base=" + url_encode("history:device=no-such-device") +
                 "&new=" + url_encode("history:"));
  expect_problem(r, 422, "empty-selection");
  EXPECT_EQ(r.problem()["parameter"], "base");
  r = s.call("/v1/history/runs", "GET", "/v1/history/runs?since=yesterday");
  expect_problem(r, 400, "bad-parameter");
  EXPECT_EQ(r.problem()["parameter"], "since");
  r = s.call("/v1/history/runs", "GET", "/v1/history/runs?since=2026-11-05&until=2026-11-01");
  expect_problem(r, 400, "bad-parameter");
  r = s.call("/v1/history/runs", "GET", "/v1/history/runs?last=0");
  expect_problem(r, 400, "bad-parameter");
  EXPECT_EQ(r.problem()["parameter"], "last");
  r = s.call("/v1/history/runs", "GET", "/v1/history/runs?colour=red");
  expect_problem(r, 400, "unknown-parameter");
  r = s.call("/v1/history/trend", "GET", "/v1/history/trend?device=GPU-dash-0001");
  expect_problem(r, 400, "bad-parameter");
  EXPECT_EQ(r.problem()["parameter"], "benchmark");
  // Unknown run and page.
  r = s.call("/v1/history/runs/{id}", "GET", "/v1/history/runs/999999");
  expect_problem(r, 404, "unknown-run");
  r = s.call("/v1/history/runs/{id}", "GET", "/v1/history/runs/abc");
  expect_problem(r, 404, "unknown-run");
  r = s.call("/dashboard/{path}", "GET", "/dashboard/no/such/page.html");
  expect_problem(r, 404, "not-found");
  r = s.call("/dashboard/{path}", "GET", "/dashboard/.chipgauge-dashboard");
  expect_problem(r, 404, "not-found");
}

TEST(ServeHistory, DashboardIsServedLive) {
  auto& h = history_server();
  auto r = h.s().call("/dashboard", "GET", "/dashboard");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.header("location"), "/dashboard/");
  r = h.s().call("/dashboard/{path}", "GET", "/dashboard/");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(embedded_data(r.body)["page"], "index");
  EXPECT_EQ(embedded_data(r.body)["history"], h.db);
  r = h.s().call("/dashboard/{path}", "GET", "/dashboard/plane.html");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(embedded_data(r.body)["page"], "plane");
  r = h.s().call("/dashboard/{path}", "GET", "/dashboard/part/nvidia-h100-sxm5-80gb.html");
  EXPECT_EQ(r.status, 200);
  r = h.s().call("/dashboard/{path}", "GET", "/dashboard/assets/style.css");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/css; charset=utf-8");
  r = h.s().call("/dashboard/{path}", "GET", "/dashboard/assets/dashboard.js");
  EXPECT_EQ(r.header("content-type"), "text/javascript; charset=utf-8");
  // Chart.js is the packaged copy, as `chipgauge dashboard` writes it (503 where it is missing).
  const char* env = std::getenv("CHIPGAUGE_CHARTJS_DIR");
  const std::string chart =
      std::string(env && *env ? env : "/usr/share/javascript/chart.js") + "/chart.min.js";
  r = h.s().call("/dashboard/{path}", "GET", "/dashboard/assets/chart.min.js");
  if (std::filesystem::exists(chart)) {
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, read_text_file(chart, file_limits::json_file));
  } else {
    expect_problem(r, 503, "dashboard-unavailable");
  }
}

TEST(ServeHistory, WithoutAStoreTheRoutesAnswer503) {
  auto& s = shared_server();
  for (const auto& [route, target] : std::vector<std::pair<std::string, std::string>>{
           {"/v1/history/runs", "/v1/history/runs"},
           {"/v1/history/runs/{id}", "/v1/history/runs/1"},
           {"/v1/history/trend", "/v1/history/trend?device=x&benchmark=y"},
           {"/v1/compare",
            "/v1/compare?base=" + url_encode("history:") + "&new=" + url_encode("history:")},
           {"/dashboard/{path}", "/dashboard/"}}) {
    const auto r = s.call(route, "GET", target);
    expect_problem(r, 503, "no-history-store");
    EXPECT_NE(r.problem()["detail"].get<std::string>().find("no history store configured"),
              std::string::npos)
        << r.body;
  }
  // Write routes are closed without a token file before the store is even asked for.
  expect_problem(s.call("/v1/reports", "POST", "/v1/reports", "{}", "application/json",
                        "Authorization: Bearer x\r\n"),
                 401, "unauthorized");
}

// ---------------------------------------------------------------------------------------------
// Abuse while a normal client is served

TEST(ServeAbuse, NormalRequestsSucceedWhileAbuseRuns) {
  auto o = test_options();
  o.threads = 8;
  o.request_timeout = 3;
  running_server s(o);
  std::atomic<bool> stop{false};
  std::atomic<long long> big_body_sent{0};
  std::atomic<int> big_body_status{0};
  std::vector<std::thread> abusers;
  // Slowloris: heads that never end.
  for (int i = 0; i < 2; ++i)
    abusers.emplace_back([&] {
      while (!stop) {
        connection c(s.port());
        c.send("GET /healthz HTTP/1.1\r\n");
        while (!stop && c.send("X")) std::this_thread::sleep_for(100ms);
      }
    });
  // Header floods.
  abusers.emplace_back([&] {
    while (!stop) {
      connection c(s.port());
      c.send("GET /healthz HTTP/1.1\r\n");
      for (int i = 0; i < 5000 && !stop; ++i)
        if (!c.send("X-Flood: " + std::string(200, 'f') + "\r\n")) break;
    }
  });
  // A 100 MB body, sent whole.
  abusers.emplace_back([&] {
    connection c(s.port());
    c.send(
        "POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 104857600\r\n\r\n");
    const std::string chunk(65536, '[');
    long long sent = 0;
    while (sent < 104857600 && c.send(chunk)) sent += static_cast<long long>(chunk.size());
    big_body_sent = sent;
    big_body_status = read_reply(c, 2000ms).status;
  });
  // Malformed, invalid UTF-8 and deeply nested bodies.
  abusers.emplace_back([&] {
    const std::vector<std::string> bodies = {"{\"part\":", "{\"part\":\"\xc3\x28\"}",
                                             std::string(100000, '[') + std::string(100000, ']'),
                                             std::string(100000, '{')};
    while (!stop) {
      for (const auto& b : bodies) {
        connection c(s.port());
        c.send(raw_request("POST", "/v1/classify", b));
        const auto r = read_reply(c, 5000ms);
        if (r.status != 0) {
          EXPECT_EQ(r.status, 400) << r.body.substr(0, 200);
        }
      }
    }
  });
  int ok = 0;
  for (int i = 0; i < 20; ++i) {
    const auto h = s.call("/healthz", "GET", "/healthz");
    const auto c = s.call("/v1/classify", "POST", "/v1/classify?as_of=2025-06-01",
                          R"({"part":"nvidia-h100-sxm5-80gb"})");
    if (h.status == 200 && c.status == 200) ++ok;
    std::this_thread::sleep_for(50ms);
  }
  stop = true;
  for (auto& t : abusers) t.join();
  EXPECT_EQ(ok, 20);
  // The 100 MB body was refused before most of it was read.
  EXPECT_LT(big_body_sent.load(), 104857600LL);
  if (big_body_status != 0) {
    EXPECT_EQ(big_body_status.load(), 413);
  }
}

// ---------------------------------------------------------------------------------------------
// The binary: SIGHUP reload (good and bad) and SIGTERM graceful shutdown

class child_server {
 public:
  child_server(const std::string& specs, const std::string& log) {
    int out[2];
    EXPECT_EQ(::pipe(out), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::execl(CHIPGAUGE_BINARY, CHIPGAUGE_BINARY, "--specs-dir", specs.c_str(), "serve", "--listen",
              "127.0.0.1:0", "--access-log", log.c_str(), "--request-timeout", "10",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char ch;
    while (::read(out[0], &ch, 1) == 1 && ch != '\n') line += ch;
    ::close(out[0]);
    const std::string prefix = "listening on http://127.0.0.1:";
    EXPECT_EQ(line.rfind(prefix, 0), 0U) << line;
    if (line.rfind(prefix, 0) == 0) port_ = std::stoi(line.substr(prefix.size()));
  }
  ~child_server() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  [[nodiscard]] int port() const { return port_; }
  void signal(int sig) const { ::kill(pid_, sig); }
  /// The exit status, waiting up to `wait`; -1 if it has not exited.
  int wait_exit(std::chrono::milliseconds wait) {
    const auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(50ms);
    }
    return -1;
  }
  reply get(const std::string& target) {
    connection c(port_);
    c.send(raw_request("GET", target));
    return read_reply(c);
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  bool reaped_ = false;
};

std::string dataset_version(child_server& s) {
  const auto r = s.get("/readyz");
  return r.status == 200 ? json::parse(r.body)["dataset_version"].get<std::string>()
                         : std::string();
}

TEST(ServeSignals, SighupReloadsAndAFailedReloadKeepsTheOldData) {
  test::temp_dir dir;
  const auto specs = dir.path() + "/specs";
  std::filesystem::copy(test::specs_dir(), specs, std::filesystem::copy_options::recursive);
  const auto log = dir.path() + "/access.log";
  child_server s(specs, log);
  ASSERT_GT(s.port(), 0);
  const auto v1 = dataset_version(s);
  ASSERT_FALSE(v1.empty());
  // A change to the data: SIGHUP loads it.
  const auto sheet = specs + "/chips/nvidia-h20.json";
  const auto original = read_text_file(sheet);
  std::ofstream(sheet, std::ios::app) << "\n";
  s.signal(SIGHUP);
  std::string v2 = v1;
  for (int i = 0; i < 100 && v2 == v1; ++i) {
    std::this_thread::sleep_for(50ms);
    v2 = dataset_version(s);
  }
  EXPECT_NE(v2, v1);
  // A broken sheet: the reload fails, says why, and the old data keeps serving.
  std::ofstream(sheet, std::ios::trunc) << "{ \"schema\": ";
  s.signal(SIGHUP);
  bool logged = false;
  for (int i = 0; i < 100 && !logged; ++i) {
    std::this_thread::sleep_for(50ms);
    logged = read_text_file(log).find("\"event\":\"reload_failed\"") != std::string::npos;
  }
  EXPECT_TRUE(logged);
  EXPECT_NE(read_text_file(log).find("nvidia-h20.json"), std::string::npos);
  EXPECT_EQ(dataset_version(s), v2);
  connection c(s.port());
  c.send(raw_request("POST", "/v1/classify", R"({"part":"nvidia-h20"})"));
  EXPECT_EQ(read_reply(c).status, 200);
  s.signal(SIGTERM);
  EXPECT_EQ(s.wait_exit(10000ms), 0);
  // Access log (complete once the server has exited): one JSON object per line.
  std::istringstream lines(read_text_file(log));
  std::string line;
  int requests = 0;
  while (std::getline(lines, line)) {
    const auto j = json::parse(line);
    if (j.contains("status")) ++requests;
  }
  EXPECT_GE(requests, 4);
  EXPECT_NE(read_text_file(log).find("\"event\":\"shutdown\""), std::string::npos);
}

TEST(ServeSignals, SigtermFinishesTheRequestInFlight) {
  test::temp_dir dir;
  child_server s(test::specs_dir(), dir.path() + "/access.log");
  ASSERT_GT(s.port(), 0);
  const std::string body = R"({"part":"nvidia-h100-sxm5-80gb"})";
  connection c(s.port());
  c.send(
      "POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 10));
  std::this_thread::sleep_for(300ms);
  s.signal(SIGTERM);
  std::this_thread::sleep_for(300ms);
  // Still running: it waits for the request in flight.
  EXPECT_EQ(s.wait_exit(100ms), -1);
  c.send(body.substr(10));
  const auto r = read_reply(c);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["part"]["id"], "nvidia-h100-sxm5-80gb");
  EXPECT_EQ(s.wait_exit(10000ms), 0);
  // New connections are refused once it has stopped listening.
  connection late(s.port());
  EXPECT_FALSE(late.ok());
}

}  // namespace
