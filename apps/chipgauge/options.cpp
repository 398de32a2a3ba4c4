// The option checks and output helpers every command shares.
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/text.hpp"
#include "commands.hpp"

#include <fmt/format.h>

#include <cstdio>

using chipgauge::classifier::licensing_engine;
using chipgauge::classifier::max_plausible_quantity;
using chipgauge::classifier::output_format;

namespace chipgauge::cli {

std::size_t parse_choice(std::string_view option, const std::string& value,
                         std::initializer_list<std::string_view> choices) {
  std::size_t i = 0;
  for (const auto c : choices) {
    if (value == c) return i;
    ++i;
  }
  std::string expected;
  i = 0;
  for (const auto c : choices) {
    expected += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + std::string(c);
    ++i;
  }
  throw usage_error(
      fmt::format("unknown {} '{}': expected {}", option, quote_input(value), expected));
}

output_format parse_format(const std::string& text) {
  static constexpr output_format formats[] = {output_format::text, output_format::json,
                                              output_format::md, output_format::csv};
  return formats[parse_choice("--format", text, {"text", "json", "md", "csv"})];
}

output_format parse_text_or_json(const std::string& text) {
  return parse_choice("--format", text, {"text", "json"}) == 0 ? output_format::text
                                                               : output_format::json;
}

date parse_date_option(std::string_view option, const std::string& text, std::string_view example) {
  if (text.empty() || text == "today") return date::today();
  const auto d = date::parse(text);
  if (!d)
    throw usage_error(fmt::format("{} '{}' is not a date: expected YYYY-MM-DD (e.g. {})", option,
                                  quote_input(text), example));
  return *d;
}

date parse_as_of(const std::string& text) {
  return parse_date_option("--as-of", text, "2024-01-31");
}

date license_date(const std::string& text, const licensing_engine& engine,
                  std::string_view option) {
  const auto d = parse_date_option(option, text, "2025-03-01");
  if (d < engine.first_date())
    throw usage_error(fmt::format(
        "{} {} is before the first advanced-computing rule ({}): expected that date or later",
        option, d.to_string(), engine.first_date().to_string()));
  return d;
}

void check_quantity(std::string_view option, long long value, bool at_least_one) {
  if (at_least_one && value < 1)
    throw usage_error(
        fmt::format("{} {} is not a quantity: expected 1 or more units", option, value));
  if (value > max_plausible_quantity)
    throw usage_error(fmt::format("{} {} is implausible: expected at most {} units", option, value,
                                  max_plausible_quantity));
}

void emit(const std::string& text) {
  const std::size_t written = std::fwrite(text.data(), 1, text.size(), stdout);
  if (written != text.size() || std::fflush(stdout) != 0 || std::ferror(stdout))
    throw error("cannot write the output to stdout (disk full or closed pipe?)");
}

void print_error(const std::exception& e) {
  const std::string line = "chipgauge: error: " + quote_input(e.what(), 4096) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace chipgauge::cli
