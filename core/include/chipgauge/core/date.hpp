#pragma once

#include <chrono>
#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace chipgauge {

/// A calendar day (proleptic Gregorian, no time zone), written YYYY-MM-DD.
class date {
 public:
  constexpr date() = default;
  constexpr explicit date(std::chrono::year_month_day ymd) : ymd_(ymd) {}

  /// Parses exactly "YYYY-MM-DD" naming a real day; nullopt otherwise (2023-02-30 is rejected).
  static std::optional<date> parse(std::string_view text);
  /// Today in UTC.
  static date today();

  [[nodiscard]] std::string to_string() const;
  [[nodiscard]] int year() const { return static_cast<int>(ymd_.year()); }
  [[nodiscard]] std::chrono::sys_days days() const { return std::chrono::sys_days{ymd_}; }

  friend constexpr bool operator==(const date&, const date&) = default;
  friend constexpr auto operator<=>(const date& a, const date& b) { return a.ymd_ <=> b.ymd_; }

 private:
  std::chrono::year_month_day ymd_{std::chrono::year{1970}, std::chrono::January,
                                   std::chrono::day{1}};
};

/// The current time in UTC to the second, ISO 8601 with "Z": "2026-12-02T15:04:05Z" (the time
/// stamps of reports and certificates).
std::string utc_now();

}  // namespace chipgauge
