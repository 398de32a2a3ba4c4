// Comparison statistics and verdicts (docs/compare.md): order-statistic median intervals, the
// Mann-Whitney U test (exact null distribution without ties, normal approximation with tie and
// continuity corrections otherwise), the Hodges-Lehmann shift of log rates with its Moses interval,
// Pinpoint's three-way verdict with a minimum effect, and per-clock rates.
#include "chipgauge/bench/compare.hpp"

#include "chipgauge/bench/exports.hpp"
#include "chipgauge/bench/gbench.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/json_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numbers>
#include <numeric>
#include <utility>
#include <vector>

using chipgauge::classifier::precision;

namespace chipgauge::bench {

namespace {

// Standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9).
double normal_quantile(double p) {
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  if (p <= 0) return -INFINITY;
  if (p >= 1) return INFINITY;
  constexpr double low = 0.02425;
  if (p < low) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normal_quantile(1 - p);
  const double q = p - 0.5;
  const double r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

// The null distribution of U (pairs with b > a) for sample sizes m and n, as probabilities of
// U = 0 .. m n: counts of arrangements by the recurrence f(i, j, u) = f(i, j-1, u-i) + f(i-1, j, u)
// (the largest element comes from b, beating all i a's, or from a), all additions of positive
// terms.
std::vector<double> u_null_pmf_uncached(std::size_t m, std::size_t n) {
  const std::size_t total = m * n;
  // row[j][u] = f(i, j, u) for the current i.
  std::vector<std::vector<double>> prev(n + 1, std::vector<double>(total + 1, 0.0));
  for (std::size_t j = 0; j <= n; ++j) prev[j][0] = 1;  // i = 0: one arrangement, U = 0
  for (std::size_t i = 1; i <= m; ++i) {
    std::vector<std::vector<double>> cur(n + 1, std::vector<double>(total + 1, 0.0));
    cur[0][0] = 1;  // j = 0
    for (std::size_t j = 1; j <= n; ++j) {
      for (std::size_t u = 0; u <= i * j; ++u) {
        double v = prev[j][u];
        if (u >= i) v += cur[j - 1][u - i];
        cur[j][u] = v;
      }
    }
    prev = std::move(cur);
  }
  auto pmf = prev[n];
  const double sum = std::accumulate(pmf.begin(), pmf.end(), 0.0);
  for (auto& x : pmf) x /= sum;
  return pmf;
}

// The same, remembered per thread for the sizes seen (comparisons repeat the same sizes).
const std::vector<double>& u_null_pmf(std::size_t m, std::size_t n) {
  thread_local std::map<std::pair<std::size_t, std::size_t>, std::vector<double>> cache;
  auto it = cache.find({m, n});
  if (it == cache.end()) it = cache.emplace(std::make_pair(m, n), u_null_pmf_uncached(m, n)).first;
  return it->second;
}

double log_choose(std::size_t n, std::size_t k) {
  return std::lgamma(static_cast<double>(n) + 1) - std::lgamma(static_cast<double>(k) + 1) -
         std::lgamma(static_cast<double>(n - k) + 1);
}

// P(Binomial(n, 1/2) <= k).
double binomial_half_cdf(std::size_t n, std::size_t k) {
  double sum = 0;
  for (std::size_t i = 0; i <= k && i <= n; ++i)
    sum += std::exp(log_choose(n, i) - static_cast<double>(n) * std::log(2.0));
  return std::min(1.0, sum);
}

double median_sorted(std::span<const double> v) {
  const std::size_t n = v.size();
  if (n == 0) return 0;
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<double> sorted(std::span<const double> x) {
  std::vector<double> v(x.begin(), x.end());
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<double> logs(std::span<const double> x) {
  std::vector<double> v;
  v.reserve(x.size());
  for (double r : x) v.push_back(std::log(r));
  return v;
}

double pooled_sd(const std::vector<double>& a, const std::vector<double>& b) {
  const auto ss = [](const std::vector<double>& v, double& mean) {
    mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    double s = 0;
    for (double x : v) s += (x - mean) * (x - mean);
    return s;
  };
  double ma = 0, mb = 0;
  const double s = ss(a, ma) + ss(b, mb);
  const double dof = static_cast<double>(a.size() + b.size()) - 2;
  return dof > 0 ? std::sqrt(s / dof) : 0;
}

// Samples per side for the Mann-Whitney test to find a shift `delta` of log rates with spread
// `sd` at two-sided level `alpha` with `power`: the two-sample normal formula inflated by pi / 3,
// the inverse of the test's asymptotic relative efficiency against the t-test under normality.
double samples_to_detect(double delta, double sd, double alpha, double power) {
  const double z = normal_quantile(1 - alpha / 2) + normal_quantile(power);
  return 2 * z * z * sd * sd / (delta * delta) * std::numbers::pi / 3;
}

// Samples per side for the ratio interval (level `confidence`) to have half-width `half` on log
// rates.
double samples_for_width(double half, double sd, double confidence) {
  const double z = normal_quantile(1 - (1 - confidence) / 2);
  return 2 * z * z * sd * sd / (half * half) * std::numbers::pi / 3;
}

// The smallest n per side (equal sizes) at which the exact test can reach p <= alpha.
std::size_t min_n_for_alpha(double alpha) {
  std::size_t n = 2;
  while (n < 64 && mann_whitney_min_p(n, n) > alpha) ++n;
  return n;
}

std::string pct(double fraction, int decimals = 1) {
  return fmt::format("{:+.{}f} %", 100 * fraction, decimals);
}

// The Mann-Whitney test of sorted samples. U counts, for each b_j, the a's below it and half the
// a's equal to it (a merge, O(m + n)); the sum is of halves and units, so it is exact. The tie
// term walks the pooled sample in order, one group of equal values at a time.
mann_whitney mann_whitney_sorted(std::span<const double> a, std::span<const double> b) {
  mann_whitney r;
  const std::size_t m = a.size(), n = b.size();
  if (m == 0 || n == 0) return r;
  std::size_t below = 0, up_to = 0;  // a's < b_j and a's <= b_j
  double less = 0, equal = 0;
  for (double y : b) {
    while (below < m && a[below] < y) ++below;
    up_to = std::max(up_to, below);
    while (up_to < m && a[up_to] <= y) ++up_to;
    less += static_cast<double>(below);
    equal += static_cast<double>(up_to - below);
  }
  r.u = less + 0.5 * equal;
  // Ties across the pooled sample (within a side too: they change the variance).
  double tie_term = 0;
  for (std::size_t i = 0, j = 0; i < m || j < n;) {
    const double v = j == n || (i < m && a[i] <= b[j]) ? a[i] : b[j];
    std::size_t group = 0;
    for (; i < m && a[i] == v; ++i) ++group;
    for (; j < n && b[j] == v; ++j) ++group;
    const double t = static_cast<double>(group);
    tie_term += t * t * t - t;
  }
  if (tie_term == 0 && m * n <= mann_whitney::exact_limit) {
    const auto& pmf = u_null_pmf(m, n);
    const auto u = static_cast<std::size_t>(r.u);
    double le = 0, ge = 0;
    for (std::size_t k = 0; k <= u; ++k) le += pmf[k];
    for (std::size_t k = u; k < pmf.size(); ++k) ge += pmf[k];
    r.p = std::min(1.0, 2 * std::min(le, ge));
    r.exact = true;
    return r;
  }
  const double md = static_cast<double>(m), nd = static_cast<double>(n), big_n = md + nd;
  const double var = md * nd / 12 * ((big_n + 1) - tie_term / (big_n * (big_n - 1)));
  if (!(var > 0)) {
    r.p = 1;
    return r;
  }
  const double z = std::max(0.0, std::abs(r.u - md * nd / 2) - 0.5) / std::sqrt(var);
  r.p = std::min(1.0, std::erfc(z / std::numbers::sqrt2));
  return r;
}

// Order statistics of the m x n differences b_j - a_i of two sorted samples without forming them:
// one sorted row per element of the shorter sample, and a selection that narrows a window of
// candidate positions in every row around a pivot drawn from the candidates (a quickselect over
// the sorted rows: O((m + n) log(mn)) expected comparisons instead of O(mn) memory and time). Every
// value is computed as b_j - a_i, so a rank's value is the one sorting all differences would give.
class sorted_differences {
 public:
  sorted_differences(std::span<const double> a, std::span<const double> b)
      : a_(a), b_(b), rows_over_b_(b.size() <= a.size()) {}

  std::size_t rows() const { return rows_over_b_ ? b_.size() : a_.size(); }
  std::size_t columns() const { return rows_over_b_ ? a_.size() : b_.size(); }

  // Row r ascending in position p: b_r - a_(m-1-p) (rows over b) or b_p - a_r (rows over a).
  double at(std::size_t r, std::size_t p) const {
    return rows_over_b_ ? b_[r] - a_[a_.size() - 1 - p] : b_[p] - a_[r];
  }

  // Where a selection ended, per row: positions below `less` hold values under the selected one,
  // positions from `less_equal` on values above it.
  struct split {
    double value = 0;
    std::vector<std::size_t> less;
    std::vector<std::size_t> less_equal;
    std::size_t count_less = 0;
    std::size_t count_less_equal = 0;
  };

  // The value of rank `rank` (0-based, ascending) when every difference of a row below lo[r] is
  // smaller than it, every one from hi[r] on larger, and `below` differences lie below the window.
  // Each round brackets the rank's estimated place between two pivots and keeps the part of the
  // window that holds it; a round that cuts less than a quarter is followed by one around a drawn
  // pivot, which bounds the expected rounds whatever the data. A small window is finished by
  // nth_element over its elements.
  split select(std::size_t rank, std::vector<std::size_t> lo, std::vector<std::size_t> hi,
               std::size_t below) const {
    static constexpr std::size_t small_window = 256;
    static constexpr double bracket = 0.05;  // each pivot this fraction of the window from the rank
    const std::size_t nrows = rows();
    std::uint64_t state = 0x9e3779b97f4a7c15ULL ^ rank;
    std::size_t last_window = 0;  // 0: the first round
    split s1, s2;
    std::vector<double> rest;
    for (;;) {
      std::size_t window = 0;
      for (std::size_t r = 0; r < nrows; ++r) window += hi[r] - lo[r];
      const std::size_t target = rank - below;
      if (window <= small_window) {
        rest.clear();
        for (std::size_t r = 0; r < nrows; ++r)
          for (std::size_t p = lo[r]; p < hi[r]; ++p) rest.push_back(at(r, p));
        const auto nth = rest.begin() + static_cast<std::ptrdiff_t>(target);
        std::nth_element(rest.begin(), nth, rest.end());
        return split_at(*nth, lo, hi, below);
      }
      const bool fast = last_window == 0 || window * 4 <= last_window * 3;
      last_window = window;
      if (!fast) {
        split_at(drawn(state, window, lo, hi), lo, hi, below, s1);
        if (rank < s1.count_less) {
          hi = s1.less;
        } else if (rank < s1.count_less_equal) {
          return s1;
        } else {
          lo = s1.less_equal;
          below = s1.count_less_equal;
        }
        continue;
      }
      const double f = (static_cast<double>(target) + 0.5) / static_cast<double>(window);
      double p1 = estimate(f - bracket, window, lo, hi), p2 = estimate(f + bracket, window, lo, hi);
      if (p2 < p1) std::swap(p1, p2);
      split_at(p1, lo, hi, below, s1);
      if (rank < s1.count_less) {
        hi = s1.less;
        continue;
      }
      if (rank < s1.count_less_equal) return s1;
      split_at(p2, lo, hi, below, s2);
      if (rank >= s2.count_less_equal) {
        lo = s2.less_equal;
        below = s2.count_less_equal;
        continue;
      }
      if (rank >= s2.count_less) return s2;
      lo = s1.less_equal;  // strictly between the pivots
      hi = s2.less;
      below = s1.count_less_equal;
    }
  }

 private:
  // How the window splits at `value`: per row, where the differences under it end and where those
  // above it begin, and the ranks those give.
  void split_at(double value, const std::vector<std::size_t>& lo,
                const std::vector<std::size_t>& hi, std::size_t below, split& s) const {
    const std::size_t nrows = rows();
    s.value = value;
    s.less.resize(nrows);
    s.less_equal.resize(nrows);
    s.count_less = s.count_less_equal = below;
    for (std::size_t r = 0; r < nrows; ++r) {
      s.less[r] = first_not(r, lo[r], hi[r], [value](double v) { return v < value; });
      s.less_equal[r] =
          s.less[r] == hi[r] || at(r, s.less[r]) > value
              ? s.less[r]
              : first_not(r, s.less[r], hi[r], [value](double v) { return v <= value; });
      s.count_less += s.less[r] - lo[r];
      s.count_less_equal += s.less_equal[r] - lo[r];
    }
  }
  split split_at(double value, const std::vector<std::size_t>& lo,
                 const std::vector<std::size_t>& hi, std::size_t below) const {
    split s;
    split_at(value, lo, hi, below, s);
    return s;
  }

  // A pivot near the `fraction` quantile of the window: from each row the element at that fraction
  // of its window, then the weighted quantile of those (weight: the row's window).
  double estimate(double fraction, std::size_t window, const std::vector<std::size_t>& lo,
                  const std::vector<std::size_t>& hi) const {
    const double f = std::clamp(fraction, 0.0, 1.0);
    std::vector<std::pair<double, std::size_t>> candidates;
    candidates.reserve(lo.size());
    for (std::size_t r = 0; r < lo.size(); ++r) {
      const std::size_t w = hi[r] - lo[r];
      if (w == 0) continue;
      const auto p = std::min(w - 1, static_cast<std::size_t>(f * static_cast<double>(w)));
      candidates.emplace_back(at(r, lo[r] + p), w);
    }
    std::sort(candidates.begin(), candidates.end());
    const double goal = f * static_cast<double>(window);
    double seen = 0;
    for (const auto& [v, w] : candidates) {
      seen += static_cast<double>(w);
      if (seen >= goal) return v;
    }
    return candidates.back().first;
  }

  // A pivot drawn evenly from the window (xorshift: a fixed sequence, so the work repeats): the
  // fallback that bounds the expected rounds when the estimates stop shrinking the window.
  double drawn(std::uint64_t& state, std::size_t window, const std::vector<std::size_t>& lo,
               const std::vector<std::size_t>& hi) const {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    std::size_t pick = static_cast<std::size_t>(state % window);
    std::size_t r = 0;
    for (; pick >= hi[r] - lo[r]; ++r) pick -= hi[r] - lo[r];
    return at(r, lo[r] + pick);
  }

  // The first position in [lo, hi) of row r whose value fails `holds` (values ascending, so the
  // positions where it holds come first); a binary search whose steps compile to conditional moves.
  template <class Pred>
  std::size_t first_not(std::size_t r, std::size_t lo, std::size_t hi, Pred holds) const {
    if (lo == hi) return lo;
    std::size_t len = hi - lo;
    while (len > 1) {
      const std::size_t half = len / 2;
      lo = holds(at(r, lo + half)) ? lo + half : lo;
      len -= half;
    }
    return lo + (holds(at(r, lo)) ? 1 : 0);
  }

  std::span<const double> a_;
  std::span<const double> b_;
  bool rows_over_b_;
};

// The Hodges-Lehmann estimate and Moses interval of sorted samples: the median of the differences
// and the pair d_(k), d_(mn+1-k) (1-based), each the order statistic of all m x n differences.
shift_estimate hodges_lehmann_sorted(std::span<const double> a, std::span<const double> b,
                                     double confidence) {
  shift_estimate r;
  const std::size_t m = a.size(), n = b.size();
  if (m == 0 || n == 0) return r;
  const std::size_t total = m * n;
  // [d_(k), d_(mn+1-k)] (1-based) covers the shift with probability 1 - 2 P(U <= k - 1) under the
  // shift model: k is the largest with P(U <= k - 1) <= (1 - confidence) / 2, or 1 (the full range,
  // lower coverage) when no k reaches it.
  const double tail = (1 - confidence) / 2;
  std::size_t k = 1;
  if (total <= mann_whitney::exact_limit) {
    const auto& pmf = u_null_pmf(m, n);
    double below = pmf[0];
    double cdf = 0;
    for (std::size_t c = 1; 2 * c <= total + 1; ++c) {
      cdf += pmf[c - 1];
      if (cdf > tail) break;
      k = c;
      below = cdf;
    }
    r.coverage = 1 - 2 * below;
  } else {
    const double md = static_cast<double>(m), nd = static_cast<double>(n);
    const double c =
        md * nd / 2 - normal_quantile(1 - tail) * std::sqrt(md * nd * (md + nd + 1) / 12);
    k = c >= 1 ? static_cast<std::size_t>(std::floor(c)) : 1;
    r.coverage = confidence;
  }
  // The median (rank mid) first; the other ranks then lie in the part of each row below or above
  // it, or take its value when they fall among the differences equal to it.
  const sorted_differences d(a, b);
  const std::size_t rows = d.rows();
  const std::size_t mid = total / 2;
  const auto median = d.select(mid, std::vector<std::size_t>(rows, 0),
                               std::vector<std::size_t>(rows, d.columns()), 0);
  r.shift = median.value;
  if (total % 2 == 0) {
    // Rank mid - 1: the median's value when a difference equal to it has that rank, else the
    // largest difference below it.
    double lower = median.value;
    if (median.count_less == mid) {
      bool any = false;
      for (std::size_t row = 0; row < rows; ++row) {
        if (median.less[row] == 0) continue;
        const double v = d.at(row, median.less[row] - 1);
        lower = any ? std::max(lower, v) : v;
        any = true;
      }
    }
    r.shift = 0.5 * (lower + median.value);
  }
  const std::size_t lo_rank = k - 1, hi_rank = total - k;  // lo_rank <= mid <= hi_rank
  r.lo = lo_rank >= median.count_less
             ? median.value
             : d.select(lo_rank, std::vector<std::size_t>(rows, 0), median.less, 0).value;
  r.hi = hi_rank < median.count_less_equal
             ? median.value
             : d.select(hi_rank, median.less_equal, std::vector<std::size_t>(rows, d.columns()),
                        median.count_less_equal)
                   .value;
  return r;
}

}  // namespace

double compare_settings::min_effect_for(const std::string& benchmark) const {
  const auto it = min_effect_by_benchmark.find(benchmark);
  return it == min_effect_by_benchmark.end() ? min_effect : it->second;
}

const char* to_string(verdict v) noexcept {
  switch (v) {
    case verdict::same: return "same";
    case verdict::faster: return "faster";
    case verdict::slower: return "slower";
    case verdict::unknown: return "unknown";
  }
  return "unknown";
}

mann_whitney mann_whitney_u(std::span<const double> a, std::span<const double> b) {
  return mann_whitney_sorted(sorted(a), sorted(b));
}

double mann_whitney_min_p(std::size_t n_a, std::size_t n_b) {
  if (n_a == 0 || n_b == 0) return 1;
  return std::min(1.0, 2 * std::exp(-log_choose(n_a + n_b, n_a)));
}

median_interval median_ci(std::span<const double> values, double confidence) {
  median_interval r;
  const auto v = sorted(values);
  const std::size_t n = v.size();
  if (n == 0) return r;
  r.median = median_sorted(v);
  // Coverage of [x_(k), x_(n+1-k)] is 1 - 2 P(B <= k - 1), B ~ Binomial(n, 1/2).
  std::size_t k = 1;
  for (std::size_t c = 2; 2 * c <= n + 1; ++c) {
    if (1 - 2 * binomial_half_cdf(n, c - 1) < confidence) break;
    k = c;
  }
  r.lo = v[k - 1];
  r.hi = v[n - k];
  r.coverage = 1 - 2 * binomial_half_cdf(n, k - 1);
  return r;
}

shift_estimate hodges_lehmann(std::span<const double> a, std::span<const double> b,
                              double confidence) {
  return hodges_lehmann_sorted(sorted(a), sorted(b), confidence);
}

shift_test compare_samples(std::span<const double> base, std::span<const double> current,
                           double min_effect, const compare_settings& s) {
  return compare_samples(base, current, sorted(base), sorted(current), min_effect, s);
}

shift_test compare_samples(std::span<const double> base, std::span<const double> current,
                           std::span<const double> base_sorted,
                           std::span<const double> current_sorted, double min_effect,
                           const compare_settings& s) {
  shift_test t;
  const std::size_t nb = base.size(), nc = current.size();
  const std::size_t n_needed = min_n_for_alpha(s.alpha);
  if (nb < 2 || nc < 2) {
    t.v = verdict::unknown;
    t.reason = fmt::format("too few samples ({} base, {} new): the test needs at least {} per side",
                           nb, nc, n_needed);
    t.more_samples = n_needed - std::min(nb, nc);
    t.reason += fmt::format("; at least {} more per side", *t.more_samples);
    if (nb > 0 && nc > 0) t.ratio = median_sorted(current_sorted) / median_sorted(base_sorted);
    return t;
  }
  // The sorted sides give the medians, the test and (as logs) the shift.
  const auto& sb = base_sorted;
  const auto& sc = current_sorted;
  t.ratio = median_sorted(sc) / median_sorted(sb);
  const auto sorted_logs = [](std::span<const double> ascending) {
    auto v = logs(ascending);
    // log is not guaranteed monotone to the last bit: sort when it was not.
    if (!std::is_sorted(v.begin(), v.end())) std::sort(v.begin(), v.end());
    return v;
  };
  const auto hl = hodges_lehmann_sorted(sorted_logs(sb), sorted_logs(sc), s.confidence);
  t.hl_ratio = std::exp(hl.shift);
  t.ratio_lo = std::exp(hl.lo);
  t.ratio_hi = std::exp(hl.hi);
  t.test = mann_whitney_sorted(sb, sc);
  const double effect = t.ratio - 1;
  const double log_effect = std::abs(std::log(t.ratio));
  const double log_min = std::log1p(min_effect);
  const auto estimate_more = [&]() -> std::optional<std::size_t> {
    // The spread of the log rates, summed in the samples' own order.
    const double sd = pooled_sd(logs(base), logs(current));
    if (!(sd > 0)) return std::nullopt;
    double n = 0;
    if (log_effect >= log_min && log_effect > 0)
      n = samples_to_detect(log_effect, sd, s.alpha, s.power);
    else if (log_min - log_effect > 0)
      n = samples_for_width(log_min - log_effect, sd, s.confidence);
    else return std::nullopt;
    n = std::max(n, static_cast<double>(n_needed));
    const double have = static_cast<double>(std::min(nb, nc));
    const double more = std::ceil(std::min(n, 1e6) - have);
    return static_cast<std::size_t>(std::max(1.0, more));
  };
  if (mann_whitney_min_p(nb, nc) > s.alpha) {
    t.v = verdict::unknown;
    t.reason = fmt::format(
        "too few samples ({} base, {} new): the smallest p-value the test can give is {:.3g} > {}",
        nb, nc, mann_whitney_min_p(nb, nc), s.alpha);
    const auto more = estimate_more();
    t.more_samples = std::max<std::size_t>(more.value_or(0), n_needed - std::min(nb, nc));
    t.reason +=
        fmt::format("; about {} more samples per side would likely decide it", *t.more_samples);
    return t;
  }
  const bool within = t.ratio_lo >= 1 - min_effect && t.ratio_hi <= 1 + min_effect;
  const std::string p_text = fmt::format("p = {:.3g}", t.test.p);
  if (t.test.p <= s.alpha && std::abs(effect) >= min_effect) {
    t.v = effect < 0 ? verdict::slower : verdict::faster;
    t.reason = fmt::format("{} at {} (<= {}), beyond the minimum effect {}", pct(effect), p_text,
                           s.alpha, pct(min_effect, 1).substr(1));
  } else if (within) {
    t.v = verdict::same;
    t.reason = fmt::format("the ratio's interval [{:.4f}, {:.4f}] lies within +/-{:.1f} %",
                           t.ratio_lo, t.ratio_hi, 100 * min_effect);
  } else if (t.test.p > s.same_p && std::abs(effect) < min_effect) {
    t.v = verdict::same;
    t.reason = fmt::format("no significant difference ({} > {}) and {} is under the minimum effect",
                           p_text, s.same_p, pct(effect));
  } else {
    t.v = verdict::unknown;
    if (t.test.p <= s.alpha)
      t.reason = fmt::format(
          "{} is significant ({}) but under the minimum effect {:.1f} %, and the interval "
          "[{:.4f}, {:.4f}] reaches beyond it",
          pct(effect), p_text, 100 * min_effect, t.ratio_lo, t.ratio_hi);
    else if (t.test.p <= s.same_p)
      t.reason =
          fmt::format("{} with {}: between {} and {}", pct(effect), p_text, s.alpha, s.same_p);
    else
      t.reason = fmt::format("{} is not significant ({}): too noisy to tell", pct(effect), p_text);
    t.more_samples = estimate_more();
    if (t.more_samples)
      t.reason +=
          fmt::format("; about {} more samples per side would likely decide it", *t.more_samples);
  }
  return t;
}

bool compared::regression(const compare_settings& s) const {
  return rate.v == verdict::slower && !(s.clock_explained_ok && clock.explains);
}

std::size_t comparison::count(verdict v) const {
  return static_cast<std::size_t>(
      std::count_if(rows.begin(), rows.end(), [&](const compared& c) { return c.rate.v == v; }));
}

std::size_t comparison::regressions() const {
  return static_cast<std::size_t>(std::count_if(
      rows.begin(), rows.end(), [&](const compared& c) { return c.regression(settings); }));
}

std::size_t comparison::foreign_rows() const {
  return static_cast<std::size_t>(
      std::count_if(rows.begin(), rows.end(), [](const compared& c) { return c.foreign; }));
}

namespace {

struct key_entry {
  std::string device, benchmark, precision;
  metric_kind metric = metric_kind::ops_per_s;
  bool foreign = false;
  std::vector<const measurement*> usable;
  std::vector<std::string> excluded;  // why each other result of this key was not used
};

struct side_index {
  std::vector<std::string> order;
  std::map<std::string, key_entry> entries;
};

side_index index_side(const measurement_report& r) {
  side_index out;
  std::map<std::string, int> name_count;
  for (const auto& d : r.devices) ++name_count[d.name];
  for (const auto& m : r.results) {
    std::string device = m.device_id;
    for (const auto& d : r.devices) {
      if (d.id == m.device_id)
        device = name_count[d.name] > 1 || d.name.empty() ? fmt::format("{} ({})", d.name, d.id)
                                                          : d.name;
    }
    const std::string prec = m.info.prec ? std::string(to_string(*m.info.prec)) : "";
    const std::string key = device + '\x1f' + m.info.name + '\x1f' + prec;
    auto [it, fresh] = out.entries.try_emplace(key);
    if (fresh) {
      out.order.push_back(key);
      it->second.device = device;
      it->second.benchmark = m.info.name;
      it->second.precision = prec;
      it->second.metric = m.info.metric;
    }
    auto& e = it->second;
    const bool foreign = is_foreign(r, m);
    if (const auto why = comparable_reason(r, m)) {
      e.excluded.push_back(*why);
    } else if (m.info.metric != e.metric) {
      e.excluded.push_back(fmt::format("metric {} differs from an earlier result's {}",
                                       to_string(m.info.metric), to_string(e.metric)));
    } else {
      e.usable.push_back(&m);
      e.foreign = e.foreign || foreign;
    }
  }
  return out;
}

side_summary summarize_side(const key_entry& e, std::vector<double>& rates,
                            std::vector<double>& per_clock, double confidence) {
  side_summary s;
  std::vector<double> clocks;
  bool all_clocks = true;
  for (const auto* m : e.usable) {
    s.device_ids.push_back(m->device_id);
    s.throttled_samples += m->throttled_samples;
    s.throttle_reason_samples += m->throttle_reason_samples;
    for (const auto& x : m->samples) {
      if (!(x.rate() > 0) || !std::isfinite(x.rate()))
        continue;  // no usable rate (an unreadable sample)
      rates.push_back(x.rate());
      if (std::isfinite(x.clock_mhz) && x.clock_mhz > 0) {
        clocks.push_back(x.clock_mhz);
        per_clock.push_back(x.rate() / x.clock_mhz);
      } else {
        all_clocks = false;
      }
    }
  }
  std::sort(s.device_ids.begin(), s.device_ids.end());
  s.device_ids.erase(std::unique(s.device_ids.begin(), s.device_ids.end()), s.device_ids.end());
  s.pooled_results = e.usable.size();
  s.n = rates.size();
  s.rate = median_ci(rates, confidence);
  s.noise = summarize(rates).noise;
  if (all_clocks && !clocks.empty()) s.clock_mhz = median_sorted(sorted(clocks));
  else per_clock.clear();
  return s;
}

}  // namespace

comparison compare_reports(const measurement_report& base, const measurement_report& current,
                           const compare_settings& s, std::string base_label,
                           std::string new_label) {
  comparison c;
  c.base_label = std::move(base_label);
  c.new_label = std::move(new_label);
  c.settings = s;
  const auto b = index_side(base);
  const auto n = index_side(current);
  std::vector<std::string> keys = b.order;
  for (const auto& k : n.order)
    if (!b.entries.count(k)) keys.push_back(k);
  const auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : "; ") + x;
    return out;
  };
  for (const auto& key : keys) {
    const auto bi = b.entries.find(key);
    const auto ni = n.entries.find(key);
    const key_entry* be = bi == b.entries.end() ? nullptr : &bi->second;
    const key_entry* ne = ni == n.entries.end() ? nullptr : &ni->second;
    const key_entry& any = be ? *be : *ne;
    const auto exclude = [&](const std::string& side, const std::string& why) {
      c.excluded.push_back({any.device, any.benchmark, any.precision, side, why});
    };
    // Results of this key that were not used, even when others were.
    if (be && !be->excluded.empty() && !be->usable.empty())
      exclude("base", join(be->excluded) + " (the other results of this benchmark were compared)");
    if (ne && !ne->excluded.empty() && !ne->usable.empty())
      exclude("new", join(ne->excluded) + " (the other results of this benchmark were compared)");
    const bool b_ok = be && !be->usable.empty();
    const bool n_ok = ne && !ne->usable.empty();
    if (!b_ok || !n_ok) {
      const auto why = [&](const key_entry* e, const std::string& label) {
        return e ? label + ": " + join(e->excluded) : "not in " + label;
      };
      if (!b_ok && !n_ok) exclude("both", why(be, c.base_label) + " | " + why(ne, c.new_label));
      else if (!b_ok) exclude("base", why(be, c.base_label));
      else exclude("new", why(ne, c.new_label));
      continue;
    }
    if (be->metric != ne->metric) {
      exclude("both", fmt::format("the metric differs: {} in {}, {} in {}", to_string(be->metric),
                                  c.base_label, to_string(ne->metric), c.new_label));
      continue;
    }
    compared row;
    row.device = any.device;
    row.benchmark = any.benchmark;
    row.precision = any.precision;
    row.metric = any.metric;
    row.foreign = be->foreign || ne->foreign;
    row.min_effect = s.min_effect_for(any.benchmark);
    std::vector<double> br, nr, bpc, npc;
    row.base = summarize_side(*be, br, bpc, s.confidence);
    row.current = summarize_side(*ne, nr, npc, s.confidence);
    row.rate = compare_samples(br, nr, row.min_effect, s);
    if (row.base.clock_mhz && row.current.clock_mhz) {
      row.clock.clock_ratio = *row.current.clock_mhz / *row.base.clock_mhz;
      row.clock.applies = std::abs(row.clock.clock_ratio - 1) > s.clock_tolerance;
    }
    if (row.clock.applies) {
      row.clock.per_clock = compare_samples(bpc, npc, row.min_effect, s);
      const auto& pc = *row.clock.per_clock;
      const bool changed = row.rate.v == verdict::slower || row.rate.v == verdict::faster;
      row.clock.explains = changed && pc.v == verdict::same;
      std::string what =
          fmt::format("clock {:.0f} -> {:.0f} MHz ({}); per-clock rate {} ({})",
                      *row.base.clock_mhz, *row.current.clock_mhz, pct(row.clock.clock_ratio - 1),
                      to_string(pc.v), pct(pc.ratio - 1));
      if (row.clock.explains) what += ": the clock explains the change (not a code regression)";
      else if (changed && (pc.v == row.rate.v)) what += ": not explained by the clock";
      else if (changed) what += ": the clock does not settle it";
      row.clock.note = what;
    } else if (row.base.clock_mhz && row.current.clock_mhz) {
      row.clock.note =
          fmt::format("clocks {:.0f} and {:.0f} MHz agree within {:.0f} %", *row.base.clock_mhz,
                      *row.current.clock_mhz, 100 * s.clock_tolerance);
    }
    c.rows.push_back(std::move(row));
  }
  const auto rank = [](verdict v) {
    return v == verdict::slower ? 0 : v == verdict::unknown ? 1 : v == verdict::faster ? 2 : 3;
  };
  std::stable_sort(c.rows.begin(), c.rows.end(), [&](const compared& x, const compared& y) {
    if (rank(x.rate.v) != rank(y.rate.v)) return rank(x.rate.v) < rank(y.rate.v);
    return x.rate.ratio < y.rate.ratio;
  });
  return c;
}

measurement_report load_any_report(const std::string& path) {
  const auto doc = read_json_file(path);
  if (looks_like_gbench_json(doc)) return parse_gbench_doc(doc, path);
  if (doc.is_object() && doc.contains("schema")) return parse_report(doc.dump(), path);
  throw spec_error(
      path, "$",
      "expected a chipgauge measurement report (\"schema\": \"chipgauge.measurement/1\") or "
      "Google Benchmark JSON (an object with 'context' and 'benchmarks')");
}

double parse_effect(const std::string& option, const std::string& text) {
  std::string t = text;
  t.erase(std::remove(t.begin(), t.end(), ' '), t.end());
  bool percent = false;
  if (!t.empty() && t.back() == '%') {
    percent = true;
    t.pop_back();
  }
  const auto v = parse_json_number(t);
  const double value = v ? (percent ? *v / 100 : *v) : -1;
  if (!v || value < 0 || value > 1)
    throw usage_error(fmt::format(
        "{} '{}': expected a relative effect such as 3% or 0.03 (0 to 100 %)", option, text));
  return value;
}

void set_min_effect(compare_settings& s, const std::string& option, const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos) {
    s.min_effect = parse_effect(option, text);
    return;
  }
  const auto name = text.substr(0, eq);
  if (name.empty())
    throw usage_error(fmt::format("{} '{}': expected NAME=P% with a benchmark name", option, text));
  s.min_effect_by_benchmark[name] = parse_effect(option, text.substr(eq + 1));
}

void set_alpha(compare_settings& s, const std::string& option, double alpha) {
  if (!(alpha > 0 && alpha < 0.5))
    throw usage_error(fmt::format("{} {}: expected a level in (0, 0.5)", option, alpha));
  s.alpha = alpha;
  s.same_p = std::max(s.same_p, s.alpha);
}

void set_alpha(compare_settings& s, const std::string& option, const std::string& text) {
  const auto v = parse_json_number(text);
  if (!v) throw usage_error(fmt::format("{} '{}': expected a level in (0, 0.5)", option, text));
  set_alpha(s, option, *v);
}

void set_clock_tolerance(compare_settings& s, const std::string& option, const std::string& text) {
  s.clock_tolerance = parse_effect(option, text);
}

}  // namespace chipgauge::bench
