#pragma once

#include <cstddef>
#include <span>

namespace chipgauge::bench {

/// Robust and classical summaries of a sample set. Quartiles use linear interpolation between
/// order statistics (type 7, as numpy and R default). cv is stddev / mean (sample stddev, n - 1).
struct summary {
  std::size_t count = 0;
  double median = 0;
  double min = 0;
  double max = 0;
  double q1 = 0;
  double q3 = 0;
  double iqr = 0;
  double mean = 0;
  double stddev = 0;
  double cv = 0;
  /// Robust relative noise: (IQR / 1.349) / median, the normal-equivalent sigma over the median;
  /// insensitive to the odd preempted sample that inflates cv. The stopping rule uses it.
  double noise = 0;
};

/// Summarises `values` (any order). An empty span gives a zero summary with count 0.
summary summarize(std::span<const double> values);

}  // namespace chipgauge::bench
