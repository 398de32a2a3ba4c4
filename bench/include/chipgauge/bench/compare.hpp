#pragma once

// Comparison of two measurement reports, benchmark by benchmark: medians with confidence intervals,
// the rate ratio new / base with a distribution-free interval, a Mann-Whitney U test, a minimum
// effect size, and a three-way verdict after Chromium's Pinpoint (docs/compare.md). Clock-aware:
// when the two sides ran at different clocks, per-clock rates are compared as well.

#include "chipgauge/bench/report.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace chipgauge::bench {

/// Thresholds of the verdict (docs/compare.md#verdicts).
struct compare_settings {
  double alpha = 0.05;       ///< different when p <= alpha (and the effect is large enough)
  double same_p = 0.10;      ///< same when p > same_p and the observed effect is under the minimum
  double min_effect = 0.02;  ///< the smallest relative change in rate that matters (0.02 = 2 %)
  /// Per benchmark name: a minimum effect replacing min_effect (`--min-effect NAME=5%`).
  std::map<std::string, double> min_effect_by_benchmark;
  double confidence = 0.95;  ///< of the median and ratio intervals
  /// Median clocks of the two sides differing by more than this (relative) make the comparison
  /// clock-aware: per-clock rates are compared too.
  double clock_tolerance = 0.02;
  /// Power the "more samples" estimate aims for.
  double power = 0.8;
  /// Slower results that the clock explains (per-clock rate the same) do not count as regressions
  /// for comparison::regressions() (`--clock-explained-ok`). Off: a slower rate is a regression.
  bool clock_explained_ok = false;

  [[nodiscard]] double min_effect_for(const std::string& benchmark) const;
};

enum class verdict : unsigned char { same, faster, slower, unknown };
const char* to_string(verdict v) noexcept;

/// The Mann-Whitney U test of two samples (two-sided). `u` is the statistic of `b` over `a`: the
/// number of pairs (a_i, b_j) with b_j > a_i, ties counting one half.
struct mann_whitney {
  double u = 0;
  double p = 1;
  bool exact = false;  ///< exact null distribution (no ties, n_a x n_b <= exact_limit)
  static constexpr std::size_t exact_limit = 2500;
};
mann_whitney mann_whitney_u(std::span<const double> a, std::span<const double> b);

/// The smallest two-sided p-value the exact test can give with these sample sizes,
/// 2 / C(n_a + n_b, n_a): below alpha the test can never say "different".
double mann_whitney_min_p(std::size_t n_a, std::size_t n_b);

/// A distribution-free interval for the median from order statistics (binomial): [x_(k), x_(n+1-k)]
/// with the largest k whose coverage is at least `confidence`; [min, max] (coverage 1 - 2^(1-n))
/// when no k reaches it. `coverage` is the exact coverage achieved.
struct median_interval {
  double median = 0;
  double lo = 0;
  double hi = 0;
  double coverage = 0;
};
median_interval median_ci(std::span<const double> values, double confidence);

/// The Hodges-Lehmann estimate of the shift b - a (the median of all pairwise differences) and its
/// distribution-free (Moses) interval from the Mann-Whitney null distribution.
struct shift_estimate {
  double shift = 0;
  double lo = 0;
  double hi = 0;
  double coverage = 0;
};
shift_estimate hodges_lehmann(std::span<const double> a, std::span<const double> b,
                              double confidence);

/// One side of a compared benchmark.
struct side_summary {
  std::size_t n = 0;
  median_interval rate;             ///< over the sample rates (ops/s or bytes/s)
  double noise = 0;                 ///< robust relative noise (summary::noise)
  std::optional<double> clock_mhz;  ///< median of the samples' clocks, when every sample has one
  int throttled_samples = 0;
  int throttle_reason_samples = 0;
  std::vector<std::string>
      device_ids;  ///< the results pooled on this side (several for a history range)
  std::size_t pooled_results = 0;
};

/// The statistics of one pair of sample sets (rates or per-clock rates).
struct shift_test {
  double ratio = 0;     ///< median new / median base
  double ratio_lo = 0;  ///< Hodges-Lehmann interval of the ratio (on log rates)
  double ratio_hi = 0;
  double hl_ratio = 0;  ///< exp(Hodges-Lehmann shift of log rates)
  mann_whitney test;
  verdict v = verdict::unknown;
  std::string reason;
  /// For `unknown`: about how many more samples per side would likely decide it (a power estimate
  /// from the observed spread); nullopt when no estimate is possible.
  std::optional<std::size_t> more_samples;
};

/// Clock awareness (docs/compare.md#clocks).
struct clock_check {
  bool applies = false;    ///< both sides have clocks and they differ by more than the tolerance
  double clock_ratio = 0;  ///< median clock new / base
  std::optional<shift_test> per_clock;  ///< rate / clock_mhz per sample
  /// The rate changed (faster or slower) while the per-clock rate is the same: the clock explains
  /// it.
  bool explains = false;
  std::string note;
};

struct compared {
  std::string device;  ///< the device's name (its id where names repeat)
  std::string benchmark;
  std::string precision;  ///< empty when none
  metric_kind metric = metric_kind::ops_per_s;
  bool foreign = false;  ///< read from another tool's output: not verified by chipgauge
  double min_effect = 0;
  side_summary base;
  side_summary current;
  shift_test rate;
  clock_check clock;
  [[nodiscard]] verdict result() const { return rate.v; }
  /// slower, and not excused by the clock under clock_explained_ok.
  [[nodiscard]] bool regression(const compare_settings& s) const;
};

/// A benchmark that was not compared, and why (invalid, skipped, suspect, on one side only, ...).
struct not_compared {
  std::string device;
  std::string benchmark;
  std::string precision;
  std::string side;  ///< "base", "new" or "both"
  std::string why;
};

struct comparison {
  std::string base_label;
  std::string new_label;
  compare_settings settings;
  /// Regressions first (slower, by effect), then unknown, faster, same.
  std::vector<compared> rows;
  std::vector<not_compared> excluded;
  [[nodiscard]] std::size_t count(verdict v) const;
  [[nodiscard]] std::size_t regressions() const;
  [[nodiscard]] std::size_t foreign_rows() const;
};

/// The three-way verdict on two sample sets (docs/compare.md#verdicts).
shift_test compare_samples(std::span<const double> base, std::span<const double> current,
                           double min_effect, const compare_settings& s);
/// The same verdict when the caller also holds each side sorted ascending (a rolling baseline kept
/// sorted as it slides): `base_sorted` and `current_sorted` hold exactly the values of `base` and
/// `current`. The result is the one above; only the sorting is skipped.
shift_test compare_samples(std::span<const double> base, std::span<const double> current,
                           std::span<const double> base_sorted,
                           std::span<const double> current_sorted, double min_effect,
                           const compare_settings& s);

/// Matches results by device name, benchmark and precision; results of one key on one side are
/// pooled (a history range gives several). Results that are invalid (failed chipgauge's
/// verification), skipped or suspect are not compared and are listed with why; foreign results
/// (Google Benchmark output, never verified by chipgauge) are compared and marked.
comparison compare_reports(const measurement_report& base, const measurement_report& current,
                           const compare_settings& s, std::string base_label = "base",
                           std::string new_label = "new");

/// Renderings. JSON follows specs/schema/comparison.schema.json (`chipgauge.comparison/1`).
std::string comparison_to_text(const comparison& c);
std::string comparison_to_markdown(const comparison& c);
std::string comparison_to_csv(const comparison& c);
std::string comparison_to_json(const comparison& c);

/// Reads either a chipgauge measurement report or Google Benchmark JSON, told apart by content.
/// Throws spec_error naming the file when it is neither.
measurement_report load_any_report(const std::string& path);

/// Parses "3%", "0.03" or "3 %" as a relative effect (0.03); "NAME=5%" is split by the caller.
/// Throws usage_error naming `option` when it is not a number in [0, 100] %.
double parse_effect(const std::string& option, const std::string& text);

/// The options `chipgauge compare` and `GET /v1/compare` share, applied to `s`; `option` is what
/// the caller calls the option in its errors ("--min-effect" on the command line, "min_effect" as a
/// query parameter). Each throws usage_error naming `option` on a bad value.
/// min effect: "P%" (or a fraction) for every benchmark, "NAME=P%" for the benchmark NAME.
void set_min_effect(compare_settings& s, const std::string& option, const std::string& text);
/// alpha: a significance level in (0, 0.5); same_p is raised to it when below.
void set_alpha(compare_settings& s, const std::string& option, double alpha);
/// The same from text ("0.01"): a number, else usage_error.
void set_alpha(compare_settings& s, const std::string& option, const std::string& text);
/// clock tolerance: a relative effect as parse_effect reads it.
void set_clock_tolerance(compare_settings& s, const std::string& option, const std::string& text);

}  // namespace chipgauge::bench
