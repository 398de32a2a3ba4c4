#pragma once

#include <stdexcept>
#include <string>

namespace chipgauge {

/// Base of every exception chipgauge throws for a failure outside the program (bad input,
/// missing files, devices). Internal invariants use assert instead.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The user asked for something that cannot be done as asked (exit code 2).
class usage_error : public error {
 public:
  using error::error;
};

/// A data file (spec sheet, rule file, report) is malformed or inconsistent (exit code 2).
/// Carries the file and the JSON path of the offending value; what() reads
/// "FILE: PATH: MESSAGE", e.g. "specs/chips/h100.json: $.dies[0].area_mm2: expected ...".
class spec_error : public error {
 public:
  spec_error(std::string file, std::string json_path, std::string message);

  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] const std::string& json_path() const noexcept { return json_path_; }
  [[nodiscard]] const std::string& message() const noexcept { return message_; }

 private:
  std::string file_;
  std::string json_path_;
  std::string message_;
};

/// Process exit codes, shared by every command (docs/architecture.md#exit-codes).
enum class exit_code : int {
  ok = 0,
  runtime_error = 1,
  usage_error = 2,
  unverified = 3,
  regression = 4,
};

}  // namespace chipgauge
