// Benchmark comparison: Google Benchmark input from other tools, the comparison statistics and
// verdicts on synthetic samples with known outcomes, and the exports other dashboards ingest.
#include "chipgauge/bench/compare.hpp"
#include "chipgauge/bench/exports.hpp"
#include "chipgauge/bench/gbench.hpp"
#include "chipgauge/bench/report.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"
#include "test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>

using chipgauge::classifier::precision;

namespace chipgauge::bench {
namespace {

std::string data(const std::string& name) { return read_text_file(test::data_dir() + "/" + name); }

const measurement* find_result(const measurement_report& r, const std::string& name) {
  for (const auto& m : r.results)
    if (m.info.name == name) return &m;
  return nullptr;
}

// --- Google Benchmark input ----------------------------------------------------------------------

// tests/data/gbench-sample-reps3.json: real output of a small Google Benchmark 1.7.1 program run
// with
// --benchmark_repetitions=3 --benchmark_format=json (items, bytes, time only, SkipWithError).
TEST(GbenchInput, ReadsRepetitionsAsSamplesAndIgnoresAggregates) {
  const auto r = parse_gbench_json(data("gbench-sample-reps3.json"), "gbench-sample-reps3.json");
  ASSERT_EQ(r.devices.size(), 1U);
  EXPECT_EQ(r.devices[0].backend, gbench_backend);
  EXPECT_EQ(r.host.hostname, "vm");
  EXPECT_EQ(r.host.logical_cpus, 2);
  EXPECT_EQ(r.created_utc, "2026-12-02T14:01:17Z");
  ASSERT_EQ(r.results.size(), 5U);  // BM_Sum/64, BM_Sum/4096, BM_Copy, BM_Plain, BM_Fail
  const auto* sum = find_result(r, "BM_Sum/64");
  ASSERT_NE(sum, nullptr);
  ASSERT_EQ(sum->samples.size(), 3U);  // the mean/median/stddev/cv aggregates are not samples
  EXPECT_EQ(sum->info.metric, metric_kind::ops_per_s);
  EXPECT_NEAR(sum->samples[0].rate(), 3.0288033019511781e+09, 1);  // items_per_second
  EXPECT_NE(sum->info.description.find("elems=64"), std::string::npos) << sum->info.description;
  const auto* copy = find_result(r, "BM_Copy");
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->info.metric, metric_kind::bytes_per_s);
  const auto* plain = find_result(r, "BM_Plain");
  ASSERT_NE(plain, nullptr);
  ASSERT_EQ(plain->samples.size(), 3U);
  // No counter: iterations per second, 1 / real_time.
  EXPECT_NEAR(plain->samples[2].rate(), 1 / 3.247563332456472e-9, 1e3);
  const auto* fail = find_result(r, "BM_Fail");
  ASSERT_NE(fail, nullptr);
  EXPECT_EQ(fail->status, result_status::skipped);
  EXPECT_NE(fail->reason.find("broken input"), std::string::npos);
}

// tests/data/gbench-classifier-reps3.json: this repository's own bench/micro/classifier_benchmark
// run with
// --benchmark_repetitions=3 --benchmark_format=json (Google Benchmark 1.7.1, Debian 12).
TEST(GbenchInput, ReadsTheClassifierBenchmarkOutput) {
  const auto r =
      parse_gbench_json(data("gbench-classifier-reps3.json"), "gbench-classifier-reps3.json");
  ASSERT_EQ(r.results.size(), 4U);
  for (const auto& m : r.results) EXPECT_EQ(m.samples.size(), 3U) << m.info.name;
  const auto* spec = find_result(r, "BM_ClassifyParsedSpec");
  ASSERT_NE(spec, nullptr);
  EXPECT_NEAR(spec->samples[1].rate(), 1366043.1751113697, 1e-3);
  EXPECT_EQ(spec->reps_per_sample, 109122U);
  EXPECT_NE(spec->info.description.find("regimes=3"), std::string::npos) << spec->info.description;
  // No throughput counter, time in ms: iterations per second from real_time.
  const auto* all = find_result(r, "BM_LoadValidateClassifyAll");
  ASSERT_NE(all, nullptr);
  EXPECT_NEAR(all->samples[0].rate(), 1 / 63.22178149998763e-3, 1e-9);
  EXPECT_NEAR(all->samples[0].seconds, 63.22178149998763e-3, 1e-15);
  bool has_caches = false;
  for (const auto& [k, v] : r.devices[0].properties)
    has_caches |= k == "caches" && v.find("L2 Unified 1048576 B") != std::string::npos;
  EXPECT_TRUE(has_caches);
}

TEST(GbenchInput, NothingReadFromAnotherToolCountsAsVerified) {
  const auto r = parse_gbench_json(data("gbench-sample-reps3.json"), "x.json");
  for (const auto& m : r.results) {
    EXPECT_FALSE(m.verified) << m.info.name;
    EXPECT_NE(m.status, result_status::ok) << m.info.name;
    EXPECT_TRUE(is_foreign(r, m));
    if (m.status == result_status::invalid) {
      EXPECT_EQ(m.reason.rfind(foreign_reason_prefix, 0), 0U) << m.reason;
    }
  }
}

TEST(GbenchInput, RoundTripsThroughTheMeasurementReport) {
  const auto r = parse_gbench_json(data("gbench-sample-reps3.json"), "x.json");
  const auto text = to_json(r);
  const auto back = parse_report(text, "back.json");
  EXPECT_EQ(to_json(back), text);
  EXPECT_TRUE(is_foreign(back, back.results.front()));
}

TEST(GbenchInput, ConvertsTheLocalTimeToUtc) {
  const std::string doc = R"({"context": {"date": "2026-01-01T00:30:00-02:00"}, "benchmarks": []})";
  EXPECT_EQ(parse_gbench_json(doc, "d.json").created_utc, "2026-01-01T02:30:00Z");
  const std::string east = R"({"context": {"date": "2026-01-01T00:30:00+0100"}, "benchmarks": []})";
  EXPECT_EQ(parse_gbench_json(east, "d.json").created_utc, "2025-12-31T23:30:00Z");
}

TEST(GbenchInput, ErrorsNameTheFileAndJsonPath) {
  const auto expect_error = [](const std::string& doc, const std::string& what) {
    try {
      parse_gbench_json(doc, "bad.json");
      ADD_FAILURE() << "accepted: " << doc;
    } catch (const spec_error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("bad.json"), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << msg;
    }
  };
  expect_error(R"({"context": {}, "benchmarks": []})", "$.context");  // no date
  expect_error(R"({"context": {"date": "yesterday"}, "benchmarks": []})", "$.context.date");
  expect_error(
      R"({"context": {"date": "2026-01-01T00:00:00Z"}, "benchmarks": [{"name": "a", "iterations": 1, "time_unit": "ns"}]})",
      "$.benchmarks[0]");  // no real_time
  expect_error(
      R"({"context": {"date": "2026-01-01T00:00:00Z"}, "benchmarks": [{"name": "a", "iterations": 1, "real_time": 1, "time_unit": "fortnights"}]})",
      "$.benchmarks[0].time_unit");
  expect_error(
      R"({"context": {"date": "2026-01-01T00:00:00Z"}, "benchmarks": [{"name": "a", "iterations": 1, "real_time": "fast"}]})",
      "$.benchmarks[0].real_time");
  expect_error(R"({"schema": "chipgauge.measurement/1", "context": {}, "benchmarks": []})",
               "$.schema");
}

TEST(GbenchInput, DetectsTheFormatByContent) {
  EXPECT_TRUE(looks_like_gbench_json(nlohmann::json::parse(data("gbench-sample-reps3.json"))));
  EXPECT_FALSE(looks_like_gbench_json(nlohmann::json::parse(data("measurement-sample.json"))));
  EXPECT_FALSE(looks_like_gbench_json(nlohmann::json::parse("[]")));
}

// --- statistics ----------------------------------------------------------------------------------

TEST(CompareStatistics, MannWhitneyExactMatchesTheClosedForm) {
  const std::vector<double> a{1, 2, 3, 4, 5}, b{6, 7, 8, 9, 10};
  const auto t = mann_whitney_u(a, b);
  EXPECT_TRUE(t.exact);
  EXPECT_DOUBLE_EQ(t.u, 25);
  EXPECT_NEAR(t.p, 2.0 / 252, 1e-12);  // complete separation: 2 / C(10, 5)
  EXPECT_NEAR(mann_whitney_min_p(5, 5), 2.0 / 252, 1e-12);
  // One swap: U = 24, P(U >= 24) = 2 / 252, two-sided 4 / 252.
  const std::vector<double> a2{1, 2, 3, 4, 6}, b2{5, 7, 8, 9, 10};
  EXPECT_NEAR(mann_whitney_u(a2, b2).p, 4.0 / 252, 1e-12);
  // Identical samples: no evidence at all.
  EXPECT_DOUBLE_EQ(mann_whitney_u(a, a).p, 1.0);
}

TEST(CompareStatistics, MannWhitneyNormalApproximationWithTies) {
  // Ties force the normal approximation with the tie correction; it stays a probability and agrees
  // with the exact test's order of magnitude on separated samples.
  const std::vector<double> a{1, 1, 2, 2, 3, 3, 4, 4}, b{5, 5, 6, 6, 7, 7, 8, 8};
  const auto t = mann_whitney_u(a, b);
  EXPECT_FALSE(t.exact);
  EXPECT_DOUBLE_EQ(t.u, 64);
  EXPECT_GT(t.p, 0);
  EXPECT_LT(t.p, 0.002);
  const auto same = mann_whitney_u(a, a);
  EXPECT_GT(same.p, 0.9);
}

TEST(CompareStatistics, MedianIntervalFromOrderStatistics) {
  const std::vector<double> v{10, 1, 9, 2, 8, 3, 7, 4, 6, 5};
  const auto ci = median_ci(v, 0.95);
  EXPECT_DOUBLE_EQ(ci.median, 5.5);
  // n = 10: [x_(2), x_(9)] covers with 1 - 2 x 11 / 1024; [x_(3), x_(8)] would fall below 95 %.
  EXPECT_DOUBLE_EQ(ci.lo, 2);
  EXPECT_DOUBLE_EQ(ci.hi, 9);
  EXPECT_NEAR(ci.coverage, 1 - 22.0 / 1024, 1e-12);
  // Too few for 95 %: the full range, with the coverage it has.
  const std::vector<double> three{3, 1, 2};
  const auto small = median_ci(three, 0.95);
  EXPECT_DOUBLE_EQ(small.lo, 1);
  EXPECT_DOUBLE_EQ(small.hi, 3);
  EXPECT_NEAR(small.coverage, 0.75, 1e-12);
}

TEST(CompareStatistics, HodgesLehmannShiftAndInterval) {
  const std::vector<double> a{0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7};
  std::vector<double> b;
  for (double x : a) b.push_back(x + 1);
  const auto hl = hodges_lehmann(a, b, 0.95);
  EXPECT_NEAR(hl.shift, 1.0, 1e-12);
  EXPECT_LT(hl.lo, 1.0);
  EXPECT_GT(hl.hi, 1.0);
  EXPECT_GE(hl.coverage, 0.95);
}

// The shift is the median of the sorted m x n differences, and the interval a symmetric pair of
// them, d_(k) and d_(mn+1-k), whether the sizes take the exact or the normal bound, with ties.
TEST(CompareStatistics, HodgesLehmannTakesOrderStatisticsOfTheSortedDifferences) {
  std::mt19937_64 gen(5);
  for (const auto& [m, n] : std::vector<std::pair<std::size_t, std::size_t>>{
           {1, 1}, {2, 3}, {7, 8}, {10, 10}, {200, 10}, {10, 200}, {60, 45}, {1, 300}, {300, 2}}) {
    std::vector<double> a;
    std::vector<double> b;
    for (std::size_t i = 0; i < m; ++i) a.push_back(static_cast<double>(gen() % 50) / 8);
    for (std::size_t i = 0; i < n; ++i) b.push_back(static_cast<double>(gen() % 50) / 8 + 0.5);
    std::vector<double> d;
    for (double x : a)
      for (double y : b) d.push_back(y - x);
    std::sort(d.begin(), d.end());
    const std::size_t t = d.size();
    const double median = t % 2 ? d[t / 2] : 0.5 * (d[t / 2 - 1] + d[t / 2]);
    const auto hl = hodges_lehmann(a, b, 0.95);
    EXPECT_EQ(hl.shift, median) << m << " x " << n;
    bool symmetric = false;
    for (std::size_t k = 1; 2 * k <= t + 1; ++k)
      symmetric = symmetric || (d[k - 1] == hl.lo && d[t - k] == hl.hi);
    EXPECT_TRUE(symmetric) << m << " x " << n << ": [" << hl.lo << ", " << hl.hi << "]";
  }
}

// U counts the pairs with b above a, ties one half, in any order of the samples and with ties
// within and across the sides; the test's p-value is the same function of U and the tie term.
TEST(CompareStatistics, MannWhitneyCountsEveryPairOnceWithTies) {
  std::mt19937_64 gen(11);
  for (const auto& [m, n] : std::vector<std::pair<std::size_t, std::size_t>>{
           {1, 1}, {3, 2}, {10, 10}, {200, 10}, {10, 200}, {47, 51}}) {
    for (const std::uint64_t levels : {3ULL, 40ULL, 1000000ULL}) {
      std::vector<double> a;
      std::vector<double> b;
      for (std::size_t i = 0; i < m; ++i) a.push_back(static_cast<double>(gen() % levels));
      for (std::size_t i = 0; i < n; ++i) b.push_back(static_cast<double>(gen() % levels) + 0.5);
      double u = 0;
      for (double x : a)
        for (double y : b) u += y > x ? 1.0 : y == x ? 0.5 : 0.0;
      const auto t = mann_whitney_u(a, b);
      EXPECT_EQ(t.u, u) << m << " x " << n << ", " << levels << " levels";
      EXPECT_GE(t.p, 0);
      EXPECT_LE(t.p, 1);
      // Swapping the sides gives the complementary U and the same two-sided p.
      const auto swapped = mann_whitney_u(b, a);
      EXPECT_EQ(swapped.u, static_cast<double>(m * n) - u);
      EXPECT_NEAR(swapped.p, t.p, 1e-12);
    }
  }
}

// --- verdicts on synthetic samples ---------------------------------------------------------------

// Normal deviates from a fixed-seed mt19937_64 (whose output the standard fixes) by Box-Muller, so
// every platform draws the same samples.
class normal_source {
 public:
  explicit normal_source(std::uint64_t seed) : gen_(seed) {}
  double operator()() {
    const double u1 = (static_cast<double>(gen_() >> 11) + 1) / 9007199254740993.0;
    const double u2 = static_cast<double>(gen_() >> 11) / 9007199254740992.0;
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * 3.14159265358979323846 * u2);
  }

 private:
  std::mt19937_64 gen_;
};

std::vector<double> draw(normal_source& g, std::size_t n, double center, double noise) {
  std::vector<double> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back(center * (1 + noise * g()));
  return v;
}

TEST(CompareVerdicts, EqualDistributionsAreRarelySlower) {
  // 1,000 seeded trials of two draws from one distribution (1 % noise, 10 samples a side): a false
  // "slower" needs p <= 0.05 and a 2 % drop; the rate must stay within the stated 5 %.
  compare_settings s;
  normal_source g(12345);
  int slower = 0, same = 0;
  for (int trial = 0; trial < 1000; ++trial) {
    const auto a = draw(g, 10, 1e9, 0.01), b = draw(g, 10, 1e9, 0.01);
    const auto t = compare_samples(a, b, s.min_effect, s);
    slower += t.v == verdict::slower;
    same += t.v == verdict::same;
  }
  EXPECT_LE(slower, 50) << "false slower rate above 5 %";
  EXPECT_GE(same, 900) << "equal distributions should mostly read 'same'";
}

TEST(CompareVerdicts, AFivePercentDropWithLowNoiseIsSlower) {
  compare_settings s;
  normal_source g(777);
  for (int trial = 0; trial < 50; ++trial) {
    const auto a = draw(g, 10, 1e9, 0.01), b = draw(g, 10, 0.95e9, 0.01);
    const auto t = compare_samples(a, b, s.min_effect, s);
    ASSERT_EQ(t.v, verdict::slower) << "trial " << trial << ": " << t.reason;
    EXPECT_NEAR(t.ratio, 0.95, 0.02);
    EXPECT_LT(t.ratio_hi, 1.0);
  }
}

TEST(CompareVerdicts, AFivePercentGainIsFaster) {
  compare_settings s;
  normal_source g(778);
  const auto a = draw(g, 10, 1e9, 0.01), b = draw(g, 10, 1.05e9, 0.01);
  EXPECT_EQ(compare_samples(a, b, s.min_effect, s).v, verdict::faster);
}

TEST(CompareVerdicts, TooFewSamplesIsUnknownWithAnEstimate) {
  compare_settings s;
  const std::vector<double> one{1e9}, three_a{1e9, 1.01e9, 0.99e9}, three_b{0.95e9, 0.96e9, 0.94e9};
  const auto t1 = compare_samples(one, one, s.min_effect, s);
  EXPECT_EQ(t1.v, verdict::unknown);
  EXPECT_NE(t1.reason.find("too few samples"), std::string::npos) << t1.reason;
  ASSERT_TRUE(t1.more_samples.has_value());
  EXPECT_GE(*t1.more_samples, 3U);
  // Three a side: the exact test's smallest p is 0.1, so it can never say "different" at 0.05.
  const auto t3 = compare_samples(three_a, three_b, s.min_effect, s);
  EXPECT_EQ(t3.v, verdict::unknown);
  EXPECT_NE(t3.reason.find("too few samples"), std::string::npos) << t3.reason;
  ASSERT_TRUE(t3.more_samples.has_value());
  EXPECT_GE(*t3.more_samples, 1U);
}

TEST(CompareVerdicts, NoisyInconclusiveSaysHowManyMoreSamples) {
  compare_settings s;
  normal_source g(4242);
  // A 3 % drop under 6 % noise with 6 samples a side: rarely decided; when unknown, an estimate.
  int unknown = 0;
  for (int trial = 0; trial < 20; ++trial) {
    const auto a = draw(g, 6, 1e9, 0.06), b = draw(g, 6, 0.97e9, 0.06);
    const auto t = compare_samples(a, b, s.min_effect, s);
    if (t.v != verdict::unknown) continue;
    ++unknown;
    ASSERT_TRUE(t.more_samples.has_value()) << t.reason;
    EXPECT_GT(*t.more_samples, 0U);
    EXPECT_NE(t.reason.find("more samples per side"), std::string::npos) << t.reason;
  }
  EXPECT_GT(unknown, 5);
}

TEST(CompareVerdicts, MinimumEffectPerBenchmark) {
  compare_settings s;
  s.min_effect_by_benchmark["wide"] = 0.05;
  EXPECT_DOUBLE_EQ(s.min_effect_for("wide"), 0.05);
  EXPECT_DOUBLE_EQ(s.min_effect_for("other"), 0.02);
  normal_source g(99);
  const auto a = draw(g, 20, 1e9, 0.002), b = draw(g, 20, 0.97e9, 0.002);
  EXPECT_EQ(compare_samples(a, b, s.min_effect_for("other"), s).v, verdict::slower);
  EXPECT_NE(compare_samples(a, b, s.min_effect_for("wide"), s).v, verdict::slower)
      << "a 3 % drop is under a 5 % minimum";
}

TEST(CompareVerdicts, ParsesEffects) {
  EXPECT_DOUBLE_EQ(parse_effect("--min-effect", "3%"), 0.03);
  EXPECT_DOUBLE_EQ(parse_effect("--min-effect", "0.05"), 0.05);
  EXPECT_DOUBLE_EQ(parse_effect("--min-effect", "2.5 %"), 0.025);
  EXPECT_THROW(parse_effect("--min-effect", "lots"), usage_error);
  EXPECT_THROW(parse_effect("--min-effect", "150%"), usage_error);
  EXPECT_THROW(parse_effect("--min-effect", "-1%"), usage_error);
}

// --- reports -------------------------------------------------------------------------------------

measurement synthetic_result(const std::string& name, const std::vector<double>& rates,
                             double clock_mhz = std::nan("")) {
  measurement m;
  m.info.name = name;
  m.info.group = "compute";
  m.info.prec = precision::fp32;
  m.device_id = "cpu0";
  m.status = result_status::ok;
  m.verified = true;
  m.check.passed = true;
  for (double r : rates) {
    sample s;
    s.seconds = 0.01;
    s.work = r * 0.01;
    s.clock_mhz = clock_mhz;
    m.samples.push_back(s);
  }
  m.rate = summarize(rates);
  m.reps_per_sample = 100;
  return m;
}

measurement_report synthetic_report(std::vector<measurement> results) {
  measurement_report r;
  r.tool_version = "test";
  r.created_utc = "2026-12-01T00:00:00Z";
  r.mode = "quick";
  device_info d;
  d.backend = "cpu";
  d.id = "cpu0";
  d.name = "Test CPU";
  d.units = 4;
  d.properties = {{"l1_bytes", "49152"}, {"l2_bytes", "1048576"}};
  r.devices.push_back(d);
  r.results = std::move(results);
  return r;
}

TEST(CompareReports, AClockDropWithTheSamePerClockRateIsExplainedByTheClock) {
  normal_source g(31337);
  // Per-clock rate 1e6 ops/s/MHz on both sides; the new run's clock is 5 % lower (throttled).
  auto base_rates = draw(g, 10, 2000e6, 0.005), new_rates = draw(g, 10, 1900e6, 0.005);
  auto base = synthetic_report({synthetic_result("fma", base_rates, 2000)});
  auto current = synthetic_report({synthetic_result("fma", new_rates, 1900)});
  current.results[0].throttled_samples = 10;
  const auto c = compare_reports(base, current, compare_settings{});
  ASSERT_EQ(c.rows.size(), 1U);
  const auto& row = c.rows[0];
  EXPECT_EQ(row.rate.v, verdict::slower);
  EXPECT_TRUE(row.clock.applies);
  ASSERT_TRUE(row.clock.per_clock.has_value());
  EXPECT_EQ(row.clock.per_clock->v, verdict::same) << row.clock.per_clock->reason;
  EXPECT_TRUE(row.clock.explains);
  EXPECT_NE(row.clock.note.find("the clock explains the change"), std::string::npos)
      << row.clock.note;
  EXPECT_EQ(row.current.throttled_samples, 10);
  EXPECT_NE(comparison_to_text(c).find("throttled samples: 0 base, 10 new"), std::string::npos);
  // A slower rate is still a regression unless the caller excuses clock-explained ones.
  EXPECT_EQ(c.regressions(), 1U);
  compare_settings lenient;
  lenient.clock_explained_ok = true;
  EXPECT_EQ(compare_reports(base, current, lenient).regressions(), 0U);
  // A real slowdown at the same lower clock is not explained by it.
  auto worse = synthetic_report({synthetic_result("fma", draw(g, 10, 1800e6, 0.005), 1900)});
  const auto w = compare_reports(base, worse, compare_settings{});
  EXPECT_EQ(w.rows[0].rate.v, verdict::slower);
  EXPECT_FALSE(w.rows[0].clock.explains);
  EXPECT_NE(w.rows[0].clock.note.find("not explained by the clock"), std::string::npos)
      << w.rows[0].clock.note;
}

TEST(CompareReports, InvalidUnverifiedSkippedAndSuspectResultsAreListedNotCompared) {
  normal_source g(5);
  auto ok = synthetic_result("fma", draw(g, 10, 1e9, 0.01));
  auto invalid = synthetic_result("bad", draw(g, 10, 1e9, 0.01));
  invalid.status = result_status::invalid;
  invalid.verified = false;
  invalid.reason = "max error 1e-2 above tolerance 1e-6";
  auto suspect = synthetic_result("busy", draw(g, 10, 1e9, 0.01));
  suspect.suspect = true;
  suspect.suspect_reasons = {"other processes used 40 % of the CPU"};
  auto skipped = synthetic_result("fp16", {});
  skipped.status = result_status::skipped;
  skipped.reason = "the CPU lacks AVX512_FP16";
  const auto base = synthetic_report({ok, synthetic_result("bad", draw(g, 10, 1e9, 0.01)),
                                      synthetic_result("busy", draw(g, 10, 1e9, 0.01)),
                                      synthetic_result("fp16", draw(g, 10, 1e9, 0.01)),
                                      synthetic_result("gone", draw(g, 10, 1e9, 0.01))});
  const auto current = synthetic_report(
      {synthetic_result("fma", draw(g, 10, 1e9, 0.01)), invalid, suspect, skipped});
  const auto c = compare_reports(base, current, compare_settings{}, "a.json", "b.json");
  ASSERT_EQ(c.rows.size(), 1U);
  EXPECT_EQ(c.rows[0].benchmark, "fma");
  ASSERT_EQ(c.excluded.size(), 4U);
  const auto why = [&](const std::string& bench) {
    for (const auto& e : c.excluded)
      if (e.benchmark == bench) return e.side + ": " + e.why;
    return std::string("(not listed)");
  };
  EXPECT_NE(why("bad").find("invalid"), std::string::npos) << why("bad");
  EXPECT_NE(why("bad").find("max error"), std::string::npos) << why("bad");
  EXPECT_NE(why("busy").find("suspect: other processes"), std::string::npos) << why("busy");
  EXPECT_NE(why("fp16").find("skipped: the CPU lacks"), std::string::npos) << why("fp16");
  EXPECT_NE(why("gone").find("not in b.json"), std::string::npos) << why("gone");
  const auto text = comparison_to_text(c);
  EXPECT_NE(text.find("Not compared:"), std::string::npos);
  const auto j = nlohmann::json::parse(comparison_to_json(c));
  EXPECT_EQ(j.at("schema"), "chipgauge.comparison/1");
  EXPECT_EQ(j.at("not_compared").size(), 4U);
  EXPECT_EQ(j.at("summary").at("not_compared"), 4);
}

TEST(CompareReports, RegressionsComeFirst) {
  normal_source g(8);
  const auto base = synthetic_report({synthetic_result("a_same", draw(g, 10, 1e9, 0.005)),
                                      synthetic_result("b_faster", draw(g, 10, 1e9, 0.005)),
                                      synthetic_result("c_slower", draw(g, 10, 1e9, 0.005))});
  const auto current = synthetic_report({synthetic_result("a_same", draw(g, 10, 1e9, 0.005)),
                                         synthetic_result("b_faster", draw(g, 10, 1.1e9, 0.005)),
                                         synthetic_result("c_slower", draw(g, 10, 0.9e9, 0.005))});
  const auto c = compare_reports(base, current, compare_settings{});
  ASSERT_EQ(c.rows.size(), 3U);
  EXPECT_EQ(c.rows[0].benchmark, "c_slower");
  EXPECT_EQ(c.rows[0].rate.v, verdict::slower);
  EXPECT_EQ(c.rows[1].rate.v, verdict::faster);
  EXPECT_EQ(c.rows[2].rate.v, verdict::same);
  const auto text = comparison_to_text(c);
  EXPECT_LT(text.find("c_slower"), text.find("b_faster"));
  EXPECT_NE(text.find("1 regression (slower)"), std::string::npos) << text;
  const auto csv = comparison_to_csv(c);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);
  EXPECT_NE(comparison_to_markdown(c).find("| slower | Test CPU | c_slower |"), std::string::npos)
      << comparison_to_markdown(c);
}

TEST(CompareReports, GoogleBenchmarkInputIsComparedAndMarkedNotVerified) {
  const auto r = parse_gbench_json(data("gbench-sample-reps3.json"), "g.json");
  const auto c = compare_reports(r, r, compare_settings{});
  ASSERT_FALSE(c.rows.empty());
  for (const auto& row : c.rows) {
    EXPECT_TRUE(row.foreign);
    EXPECT_NE(row.rate.v, verdict::slower);
  }
  EXPECT_EQ(c.foreign_rows(), c.rows.size());
  EXPECT_NE(comparison_to_text(c).find("not verified by chipgauge"), std::string::npos);
  // The benchmark that failed under Google Benchmark is listed, not compared.
  ASSERT_EQ(c.excluded.size(), 1U);
  EXPECT_EQ(c.excluded[0].benchmark, "BM_Fail");
}

TEST(CompareReports, PoolsSeveralResultsOfOneBenchmark) {
  normal_source g(11);
  const auto base = synthetic_report({synthetic_result("fma", draw(g, 5, 1e9, 0.01)),
                                      synthetic_result("fma", draw(g, 5, 1e9, 0.01))});
  const auto current = synthetic_report({synthetic_result("fma", draw(g, 10, 1e9, 0.01))});
  const auto c = compare_reports(base, current, compare_settings{});
  ASSERT_EQ(c.rows.size(), 1U);
  EXPECT_EQ(c.rows[0].base.n, 10U);
  EXPECT_EQ(c.rows[0].base.pooled_results, 2U);
}

// --- exports, read back as their consumers read them ---------------------------------------------

measurement_report export_sample() {
  normal_source g(2024);
  auto bad = synthetic_result("bad", draw(g, 5, 1e9, 0.01));
  bad.status = result_status::invalid;
  bad.verified = false;
  bad.reason = "failed verification";
  auto r = synthetic_report({synthetic_result("fma", draw(g, 12, 2e11, 0.01)), bad});
  auto mem = synthetic_result("triad", draw(g, 9, 5e10, 0.02));
  mem.info.metric = metric_kind::bytes_per_s;
  mem.info.prec.reset();
  r.results.push_back(mem);
  return r;
}

// Bencher Metric Format as its published JSON Schema states it: an object of benchmarks, each an
// object of measures, each with a number `value` and optional number `lower_value`/`upper_value`.
TEST(Exports, BencherMetricFormatReadsBack) {
  const auto r = export_sample();
  const auto j = nlohmann::json::parse(to_bencher_json(r));
  ASSERT_TRUE(j.is_object());
  ASSERT_EQ(j.size(), 2U) << "the invalid result is not exported";
  for (const auto& [name, measures] : j.items()) {
    ASSERT_FALSE(name.empty());
    ASSERT_TRUE(measures.is_object());
    for (const auto& [measure, metric] : measures.items()) {
      EXPECT_EQ(measure, "throughput");
      ASSERT_TRUE(metric.at("value").is_number());
      ASSERT_TRUE(metric.at("lower_value").is_number());
      ASSERT_TRUE(metric.at("upper_value").is_number());
      EXPECT_LE(metric.at("lower_value").get<double>(), metric.at("value").get<double>());
      EXPECT_GE(metric.at("upper_value").get<double>(), metric.at("value").get<double>());
    }
  }
  const auto& fma = r.results[0];
  std::vector<double> rates;
  for (const auto& s : fma.samples) rates.push_back(s.rate());
  EXPECT_DOUBLE_EQ(j.at("cpu0/fma").at("throughput").at("value").get<double>(),
                   summarize(rates).median);
}

// Google Benchmark JSON read three ways: as Bencher's cpp_google adapter reads it (context.caches
// an array; every benchmark a non-empty name, a numeric real_time and a known time_unit), as
// compare.py partitions it (repetitions sharing a name, with real_time, cpu_time and time_unit;
// aggregates named NAME_mean/_median/_stddev with run_type "aggregate"), and back through
// chipgauge's own reader.
TEST(Exports, GoogleBenchmarkJsonReadsBackAsBencherAndComparePyReadIt) {
  const auto r = export_sample();
  const auto text = to_gbench_json(r);
  const auto j = nlohmann::json::parse(text);
  ASSERT_TRUE(j.at("context").at("caches").is_array());
  EXPECT_EQ(j.at("context").at("caches").size(), 2U);
  EXPECT_NE(
      j.at("context").at("chipgauge_not_exported").get<std::string>().find("cpu0/bad: invalid"),
      std::string::npos);
  std::map<std::string, int> repetitions;
  std::map<std::string, std::vector<std::string>> aggregates;
  for (const auto& b : j.at("benchmarks")) {
    ASSERT_FALSE(b.at("name").get<std::string>().empty());
    ASSERT_TRUE(b.at("real_time").is_number());
    ASSERT_TRUE(b.at("cpu_time").is_number());
    const auto unit = b.at("time_unit").get<std::string>();
    EXPECT_TRUE(unit == "ns" || unit == "us" || unit == "ms" || unit == "s") << unit;
    if (b.value("run_type", "") == "aggregate") {
      const auto agg = b.at("aggregate_name").get<std::string>();
      EXPECT_EQ(b.at("name").get<std::string>(), b.at("run_name").get<std::string>() + "_" + agg);
      aggregates[b.at("run_name").get<std::string>()].push_back(agg);
    } else {
      ++repetitions[b.at("name").get<std::string>()];
      EXPECT_TRUE(b.contains("items_per_second") || b.contains("bytes_per_second"));
    }
  }
  EXPECT_EQ(repetitions["cpu0/fma"], 12) << "one entry per sample";
  EXPECT_EQ(repetitions["cpu0/triad"], 9);
  EXPECT_EQ(repetitions.count("cpu0/bad"), 0U);
  EXPECT_EQ(aggregates["cpu0/fma"], (std::vector<std::string>{"mean", "median", "stddev"}));
  // Back through chipgauge's reader: the same sample rates, marked as foreign.
  const auto back = parse_gbench_json(text, "export.json");
  const auto* fma = find_result(back, "cpu0/fma");
  ASSERT_NE(fma, nullptr);
  ASSERT_EQ(fma->samples.size(), r.results[0].samples.size());
  for (std::size_t i = 0; i < fma->samples.size(); ++i)
    EXPECT_NEAR(fma->samples[i].rate() / r.results[0].samples[i].rate(), 1.0, 1e-9);
  EXPECT_EQ(find_result(back, "cpu0/triad")->info.metric, metric_kind::bytes_per_s);
  // And compared with the original: the same numbers.
  const auto c = compare_reports(r, back, compare_settings{});
  EXPECT_TRUE(c.rows.empty()) << "different device names: nothing matches silently";
}

// github-action-benchmark's custom tools read an array of {name, value, unit, range?, extra?}.
TEST(Exports, GithubActionBenchmarkReadsBack) {
  const auto r = export_sample();
  const auto j = nlohmann::json::parse(to_github_action_benchmark_json(r));
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2U);
  for (const auto& e : j) {
    ASSERT_TRUE(e.at("name").is_string());
    ASSERT_TRUE(e.at("value").is_number());
    ASSERT_TRUE(e.at("unit").is_string());
    if (e.contains("range")) {
      ASSERT_TRUE(e.at("range").is_string());
    }
    if (e.contains("extra")) {
      ASSERT_TRUE(e.at("extra").is_string());
    }
  }
  EXPECT_EQ(j[0].at("unit"), "ops/s");
  EXPECT_EQ(j[1].at("unit"), "B/s");
  EXPECT_NE(j[0].at("extra").get<std::string>().find("verified by chipgauge"), std::string::npos);
}

// --- the command line ----------------------------------------------------------------------------

const std::string source_dir = std::filesystem::path(CHIPGAUGE_SOURCE_SPECS).parent_path().string();

test::run_result chipgauge(const std::string& args) {
  return test::run_command("cd '" + source_dir + "' && '" + CHIPGAUGE_BINARY + "' " + args);
}

bool updating() {
  const char* update = std::getenv("CHIPGAUGE_UPDATE_GOLDEN");
  return update && std::string(update) == "1";
}

void expect_file(const std::string& relative, const std::string& actual) {
  const std::string path = source_dir + "/" + relative;
  if (updating()) {
    write_file_atomically(path, actual);
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(path))
      << "missing " << path << " (run with CHIPGAUGE_UPDATE_GOLDEN=1)";
  EXPECT_EQ(actual, read_text_file(path)) << "differs from " << path;
}

// tests/data/compare-{base,new}-measurement.json: two synthetic CPU reports with known outcomes.
// fma_fp32 drops 5 % (slower), fma_fp64 is unchanged (same), stream_triad runs 6 % slower at a 6 %
// lower clock (slower, explained by the clock), dot_fp32 has 3 samples a side (unknown), and the
// new report's fma_bf16 failed verification and its fma_fp16 was skipped (not compared).
std::pair<measurement_report, measurement_report> compare_data() {
  normal_source g(20261202);
  const auto with_clock = [](measurement m, double mhz, int throttled) {
    for (auto& s : m.samples) s.clock_mhz = mhz;
    std::vector<double> clocks(m.samples.size(), mhz);
    m.clock = summarize(clocks);
    m.throttled_samples = throttled;
    return m;
  };
  const auto named = [](measurement m, precision p) {
    m.info.prec = p;
    return m;
  };
  auto triad_base = synthetic_result("stream_triad", draw(g, 10, 4.0e10, 0.005));
  auto triad_new = synthetic_result("stream_triad", draw(g, 10, 4.0e10 * 0.94, 0.005));
  triad_base.info.metric = triad_new.info.metric = metric_kind::bytes_per_s;
  triad_base.info.group = triad_new.info.group = "memory";
  triad_base.info.prec.reset();
  triad_new.info.prec.reset();
  auto base = synthetic_report(
      {synthetic_result("fma_fp32", draw(g, 10, 2.0e11, 0.01)),
       named(synthetic_result("fma_fp64", draw(g, 10, 1.0e11, 0.01)), precision::fp64),
       with_clock(triad_base, 3000, 0), synthetic_result("dot_fp32", draw(g, 3, 5.0e10, 0.02)),
       named(synthetic_result("fma_bf16", draw(g, 10, 4.0e11, 0.01)), precision::bf16),
       named(synthetic_result("fma_fp16", draw(g, 10, 4.0e11, 0.01)), precision::fp16)});
  auto bad = named(synthetic_result("fma_bf16", draw(g, 10, 4.0e11, 0.01)), precision::bf16);
  bad.status = result_status::invalid;
  bad.reason = "max relative error 3.1e-02 above tolerance 7.8e-03";
  auto skipped = named(synthetic_result("fma_fp16", {}), precision::fp16);
  skipped.status = result_status::skipped;
  skipped.verified = false;
  skipped.check.passed = false;
  skipped.reason = "the CPU lacks AVX512_FP16";
  bad.verified = false;
  bad.check.passed = false;
  auto current = synthetic_report(
      {synthetic_result("fma_fp32", draw(g, 10, 2.0e11 * 0.95, 0.01)),
       named(synthetic_result("fma_fp64", draw(g, 10, 1.0e11, 0.01)), precision::fp64),
       with_clock(triad_new, 2820, 10),
       synthetic_result("dot_fp32", draw(g, 3, 5.0e10 * 0.97, 0.02)), bad, skipped});
  base.created_utc = "2026-12-01T02:00:00Z";
  current.created_utc = "2026-12-02T02:00:00Z";
  return {base, current};
}

// The files hold what compare_data() generates (rates compared to 1e-12: a libm that rounds one
// logarithm differently elsewhere does not matter).
TEST(CompareCli, DataFilesMatchTheirGenerator) {
  const auto [base, current] = compare_data();
  for (const auto& [name, generated] :
       {std::pair{std::string("compare-base-measurement.json"), base},
        std::pair{std::string("compare-new-measurement.json"), current}}) {
    const auto path = source_dir + "/tests/data/" + name;
    if (updating()) {
      write_file_atomically(path, to_json(generated));
      continue;
    }
    const auto stored = load_report(path);
    ASSERT_EQ(stored.results.size(), generated.results.size()) << name;
    for (std::size_t i = 0; i < stored.results.size(); ++i) {
      const auto& a = stored.results[i];
      const auto& b = generated.results[i];
      EXPECT_EQ(a.info.name, b.info.name);
      EXPECT_EQ(a.status, b.status);
      ASSERT_EQ(a.samples.size(), b.samples.size()) << a.info.name;
      for (std::size_t k = 0; k < a.samples.size(); ++k)
        EXPECT_NEAR(a.samples[k].rate() / b.samples[k].rate(), 1.0, 1e-12);
    }
  }
}

TEST(CompareCli, KnownOutcomesGoldenAndExit4) {
  const auto r = chipgauge(
      "compare tests/data/compare-base-measurement.json tests/data/compare-new-measurement.json "
      "--format json");
  EXPECT_EQ(r.status, 4) << r.err;
  expect_file("tests/golden/compare-synthetic.json", r.out);
  const auto j = nlohmann::json::parse(r.out);
  std::map<std::string, std::string> verdicts;
  for (const auto& row : j.at("results"))
    verdicts[row.at("benchmark").get<std::string>()] = row.at("verdict").get<std::string>();
  EXPECT_EQ(verdicts["fma_fp32"], "slower");
  EXPECT_EQ(verdicts["fma_fp64"], "same");
  EXPECT_EQ(verdicts["stream_triad"], "slower");
  EXPECT_EQ(verdicts["dot_fp32"], "unknown");
  EXPECT_EQ(j.at("results")[0].at("verdict"), "slower") << "regressions first";
  EXPECT_EQ(j.at("not_compared").size(), 2U);
  const auto text = chipgauge(
      "compare tests/data/compare-base-measurement.json tests/data/compare-new-measurement.json");
  EXPECT_EQ(text.status, 4);
  expect_file("tests/golden/compare-synthetic.txt", text.out);
  EXPECT_NE(text.out.find("the clock explains the change"), std::string::npos) << text.out;
}

TEST(CompareCli, ExcusingTheClockAndWideningTheMinimumEffectExit0) {
  const auto r = chipgauge(
      "compare tests/data/compare-base-measurement.json tests/data/compare-new-measurement.json "
      "--clock-explained-ok --min-effect fma_fp32=8% --format csv");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("not_compared"), std::string::npos);
}

TEST(CompareCli, SameFileTwiceExits0) {
  const auto r =
      chipgauge("compare tests/data/gbench-sample-reps3.json tests/data/gbench-sample-reps3.json");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("not verified by chipgauge"), std::string::npos) << r.out;
  const auto md = chipgauge(
      "compare tests/data/compare-base-measurement.json "
      "tests/data/compare-base-measurement.json --format md");
  EXPECT_EQ(md.status, 0) << md.err;
  EXPECT_NE(md.out.find("| same |"), std::string::npos) << md.out;
}

TEST(CompareCli, BadInputExits2WithNothingOnStdout) {
  test::temp_dir dir;
  const auto bad =
      dir.write("bad.json",
                R"({"context": {"date": "2026-01-01T00:00:00Z"}, "benchmarks": [{"name": "x"}]})");
  const auto neither = dir.write("neither.json", R"({"hello": 1})");
  for (const auto& args :
       {"compare '" + bad + "' tests/data/gbench-sample-reps3.json",
        "compare tests/data/gbench-sample-reps3.json '" + neither + "'",
        std::string("compare tests/data/no-such-file.json tests/data/gbench-sample-reps3.json"),
        std::string("compare history:last=20 tests/data/gbench-sample-reps3.json --history "
                    "/nonexistent/chipgauge-history.db"),
        std::string("compare history:colour=red tests/data/gbench-sample-reps3.json"),
        std::string(
            "compare tests/data/gbench-sample-reps3.json tests/data/gbench-sample-reps3.json "
            "--min-effect lots"),
        std::string(
            "compare tests/data/gbench-sample-reps3.json tests/data/gbench-sample-reps3.json "
            "--format xml")}) {
    const auto r = chipgauge(args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << args;
    EXPECT_FALSE(r.err.empty()) << args;
  }
  const auto r = chipgauge("compare '" + bad + "' tests/data/gbench-sample-reps3.json");
  EXPECT_NE(r.err.find("$.benchmarks[0]"), std::string::npos) << r.err;
}

TEST(ReportCli, RendersEveryFormat) {
  for (const std::string format :
       {"text", "json", "md", "csv", "gbench", "bencher", "github-action-benchmark"}) {
    const auto r = chipgauge("report tests/data/compare-new-measurement.json --format " + format);
    EXPECT_EQ(r.status, 0) << format << ": " << r.err;
    EXPECT_FALSE(r.out.empty()) << format;
    if (format != "text" && format != "md" && format != "csv") {
      EXPECT_TRUE(nlohmann::json::accept(r.out)) << format;
    }
  }
  const auto text = chipgauge("report tests/data/gbench-classifier-reps3.json");
  EXPECT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("(not run or verified by chipgauge)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("1.37 M ops/s"), std::string::npos)
      << "rates under 10^8 are not 0.00 G: " << text.out;
  const auto g = chipgauge("report tests/data/gbench-sample-reps3.json --format bencher");
  EXPECT_EQ(g.status, 0) << g.err;
  EXPECT_NE(g.out.find("host/BM_Sum/64"), std::string::npos) << g.out;
  EXPECT_EQ(chipgauge("report tests/data/compare-new-measurement.json --format yaml").status, 2);
}

}  // namespace
}  // namespace chipgauge::bench
