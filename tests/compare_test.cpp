// Benchmark comparison: Google Benchmark input from other tools (the comparison statistics, verdicts
// and exports follow).
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

namespace chipgauge::bench {
namespace {

std::string data(const std::string& name) { return read_text_file(test::data_dir() + "/" + name); }

const measurement* find_result(const measurement_report& r, const std::string& name) {
  for (const auto& m : r.results)
    if (m.info.name == name) return &m;
  return nullptr;
}

// --- Google Benchmark input ------------------------------------------------------------------------

// tests/data/gbench-sample-reps3.json: real output of a small Google Benchmark 1.7.1 program run with
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

// tests/data/gbench-classifier-reps3.json: this repository's own bench/micro/classifier_benchmark run with
// --benchmark_repetitions=3 --benchmark_format=json (Google Benchmark 1.7.1, Debian 12).
TEST(GbenchInput, ReadsTheClassifierBenchmarkOutput) {
  const auto r = parse_gbench_json(data("gbench-classifier-reps3.json"), "gbench-classifier-reps3.json");
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
  for (const auto& [k, v] : r.devices[0].properties) has_caches |= k == "caches" && v.find("L2 Unified 1048576 B") != std::string::npos;
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
  expect_error(R"({"context": {"date": "2026-01-01T00:00:00Z"}, "benchmarks": [{"name": "a", "iterations": 1, "time_unit": "ns"}]})",
               "$.benchmarks[0]");  // no real_time
  expect_error(R"({"context": {"date": "2026-01-01T00:00:00Z"}, "benchmarks": [{"name": "a", "iterations": 1, "real_time": 1, "time_unit": "fortnights"}]})",
               "$.benchmarks[0].time_unit");
  expect_error(R"({"context": {"date": "2026-01-01T00:00:00Z"}, "benchmarks": [{"name": "a", "iterations": 1, "real_time": "fast"}]})",
               "$.benchmarks[0].real_time");
  expect_error(R"({"schema": "chipgauge.measurement/1", "context": {}, "benchmarks": []})", "$.schema");
}

TEST(GbenchInput, DetectsTheFormatByContent) {
  EXPECT_TRUE(looks_like_gbench_json(nlohmann::json::parse(data("gbench-sample-reps3.json"))));
  EXPECT_FALSE(looks_like_gbench_json(nlohmann::json::parse(data("measurement-sample.json"))));
  EXPECT_FALSE(looks_like_gbench_json(nlohmann::json::parse("[]")));
}

}  // namespace
}  // namespace chipgauge::bench
