#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace chipgauge::classifier {

/// The operand precisions a spec sheet may quote rates for. Their bit lengths are data
/// (specs/rules/metrics.json), not code.
enum class precision : unsigned char { fp64, fp32, tf32, bf16, fp16, fp8, fp6, fp4, int8, int4 };

inline constexpr std::size_t precision_count = 10;

inline constexpr std::array<precision, precision_count> all_precisions{
    precision::fp64, precision::fp32, precision::tf32, precision::bf16, precision::fp16,
    precision::fp8,  precision::fp6,  precision::fp4,  precision::int8, precision::int4};

/// The spelling used in JSON keys and output: "fp64", "tf32", "int8", ...
std::string_view to_string(precision p) noexcept;
std::optional<precision> parse_precision(std::string_view text) noexcept;
/// Every precision name, in enum order (for error messages and suggestions).
const std::array<std::string_view, precision_count>& precision_names() noexcept;

constexpr std::size_t index_of(precision p) noexcept { return static_cast<std::size_t>(p); }

/// One value per precision; absent where the part has no such rate.
template <typename T>
using per_precision = std::array<std::optional<T>, precision_count>;

}  // namespace chipgauge::classifier
