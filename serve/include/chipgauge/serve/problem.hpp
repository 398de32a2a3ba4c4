#pragma once

#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace chipgauge::serve {

/// An error answered as an RFC 9457 problem (application/problem+json): what the client did wrong,
/// or why the server cannot answer now. `detail` carries the message the CLI gives for the same
/// input; `json_path` the offending field of the request body ("$.dies[0].area_mm2"), or
/// `parameter` the offending query parameter.
class problem : public std::exception {
 public:
  problem(int status, std::string slug, std::string detail);

  problem& at(std::string json_path) {
    json_path_ = std::move(json_path);
    return *this;
  }
  problem& parameter(std::string name) {
    parameter_ = std::move(name);
    return *this;
  }
  problem& header(std::string name, std::string value) {
    headers_.emplace_back(std::move(name), std::move(value));
    return *this;
  }

  [[nodiscard]] const char* what() const noexcept override { return detail_.c_str(); }
  [[nodiscard]] int status() const noexcept { return status_; }
  [[nodiscard]] const std::string& slug() const noexcept { return slug_; }
  [[nodiscard]] const std::string& detail() const noexcept { return detail_; }
  [[nodiscard]] const std::string& json_path() const noexcept { return json_path_; }
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& headers() const noexcept {
    return headers_;
  }

  /// The problem document: {"type", "title", "status", "detail", "instance", "json_path" or
  /// "parameter" when known}, one line, ending in a newline.
  [[nodiscard]] std::string body(const std::string& instance) const;

 private:
  int status_;
  std::string slug_;
  std::string detail_;
  std::string json_path_;
  std::string parameter_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

/// The reason phrase of an HTTP status ("Unprocessable Content").
const char* status_title(int status) noexcept;

/// Media type of problem documents.
inline constexpr const char* problem_media_type = "application/problem+json";

}  // namespace chipgauge::serve
