#include "chipgauge/core/error.hpp"

#include <utility>

namespace chipgauge {

spec_error::spec_error(std::string file, std::string json_path, std::string message)
    : error(file + ": " + json_path + ": " + message),
      file_(std::move(file)),
      json_path_(std::move(json_path)),
      message_(std::move(message)) {}

}  // namespace chipgauge
