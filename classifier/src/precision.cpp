#include "chipgauge/classifier/precision.hpp"

namespace chipgauge::classifier {

namespace {
constexpr std::array<std::string_view, precision_count> names{
    "fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "fp6", "fp4", "int8", "int4"};
}  // namespace

std::string_view to_string(precision p) noexcept { return names[index_of(p)]; }

std::optional<precision> parse_precision(std::string_view text) noexcept {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == text) return all_precisions[i];
  }
  return std::nullopt;
}

const std::array<std::string_view, precision_count>& precision_names() noexcept { return names; }

}  // namespace chipgauge::classifier
