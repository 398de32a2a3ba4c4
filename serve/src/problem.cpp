#include "chipgauge/serve/problem.hpp"

#include <nlohmann/json.hpp>

namespace chipgauge::serve {

problem::problem(int status, std::string slug, std::string detail)
    : status_(status), slug_(std::move(slug)), detail_(std::move(detail)) {}

const char* status_title(int status) noexcept {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return status < 500 ? "Client Error" : "Server Error";
  }
}

std::string problem::body(const std::string& instance) const {
  nlohmann::ordered_json j;
  // A URN per kind of problem, documented in docs/api.md#problems.
  j["type"] = "urn:chipgauge:problem:" + slug_;
  j["title"] = status_title(status_);
  j["status"] = status_;
  j["detail"] = detail_;
  j["instance"] = instance;
  if (!json_path_.empty()) j["json_path"] = json_path_;
  if (!parameter_.empty()) j["parameter"] = parameter_;
  // Details quote client input, which may not be UTF-8: such bytes are replaced, never refused.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace chipgauge::serve
