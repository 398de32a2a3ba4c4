// The measurement harness: statistics, stopping rules, the runner on synthetic cases, the report
// round trip, ISA dispatch on this machine, and a short real measurement.
#include "chipgauge/bench/measure.hpp"
#include "chipgauge/bench/report.hpp"
#include "chipgauge/bench/runner.hpp"
#include "chipgauge/bench/statistics.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/kernels/cpu.hpp"
#include "cuda_arch.hpp"
#include "cuda_plan.hpp"
#include "test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

using chipgauge::classifier::precision;

namespace chipgauge::bench {
namespace {

// --- statistics ----------------------------------------------------------------------------------

TEST(Statistics, SummarizesOddCount) {
  const std::vector<double> v{5, 1, 4, 2, 3};
  const auto s = summarize(v);
  EXPECT_EQ(s.count, 5U);
  EXPECT_DOUBLE_EQ(s.median, 3);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 5);
  EXPECT_DOUBLE_EQ(s.q1, 2);
  EXPECT_DOUBLE_EQ(s.q3, 4);
  EXPECT_DOUBLE_EQ(s.iqr, 2);
  EXPECT_DOUBLE_EQ(s.mean, 3);
  EXPECT_NEAR(s.stddev, std::sqrt(2.5), 1e-12);
  EXPECT_NEAR(s.cv, std::sqrt(2.5) / 3, 1e-12);
  EXPECT_NEAR(s.noise, 2 / 1.349 / 3, 1e-12);
}

TEST(Statistics, InterpolatesEvenCountQuartiles) {
  const std::vector<double> v{1, 2, 3, 4};
  const auto s = summarize(v);
  EXPECT_DOUBLE_EQ(s.median, 2.5);
  EXPECT_DOUBLE_EQ(s.q1, 1.75);
  EXPECT_DOUBLE_EQ(s.q3, 3.25);
}

TEST(Statistics, EmptyAndSingle) {
  EXPECT_EQ(summarize(std::vector<double>{}).count, 0U);
  const auto one = summarize(std::vector<double>{7});
  EXPECT_DOUBLE_EQ(one.median, 7);
  EXPECT_DOUBLE_EQ(one.cv, 0);
}

TEST(Statistics, RobustNoiseIgnoresOneOutlier) {
  std::vector<double> v(20, 100.0);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] += (i % 2 == 0 ? 0.1 : -0.1);
  v[3] = 150;  // a preempted sample
  const auto s = summarize(v);
  EXPECT_GT(s.cv, 0.05);
  EXPECT_LT(s.noise, 0.002);
}

// --- stopping rules ------------------------------------------------------------------------------

run_settings settings() {
  run_settings s;
  s.min_samples = 5;
  s.min_time_s = 0.1;
  s.max_time_s = 10;
  s.max_samples = 100;
  s.target_cv = 0.01;
  s.stable_window = 5;
  s.stable_change = 0.1;
  return s;
}

TEST(StoppingRule, WaitsForMinimumSamplesAndTime) {
  const std::vector<double> four(4, 100.0);
  EXPECT_EQ(should_stop(four, 1.0, settings()), stop_reason::none);
  const std::vector<double> five(5, 100.0);
  EXPECT_EQ(should_stop(five, 0.05, settings()), stop_reason::none) << "minimum time not reached";
  EXPECT_EQ(should_stop(five, 0.2, settings()), stop_reason::noise_target);
}

TEST(StoppingRule, KeepsSamplingWhileNoisy) {
  std::vector<double> rates;
  for (int i = 0; i < 8; ++i) rates.push_back(i % 2 == 0 ? 90.0 : 110.0 + i);
  EXPECT_EQ(should_stop(rates, 1.0, settings()), stop_reason::none);
}

TEST(StoppingRule, StopsWhenNoiseEstimateIsStable) {
  // A steady +-5 % alternation: the noise never reaches 1 % but stops moving.
  std::vector<double> rates;
  for (int i = 0; i < 40; ++i) rates.push_back(i % 2 == 0 ? 95.0 : 105.0);
  const auto r = should_stop(rates, 1.0, settings());
  EXPECT_EQ(r, stop_reason::noise_stable);
}

TEST(StoppingRule, TimeCapAndSampleCap) {
  std::vector<double> rates{90, 110};
  EXPECT_EQ(should_stop(rates, 10.0, settings()), stop_reason::time_cap);
  std::vector<double> many(100, 1.0);
  many[0] = 1000;
  EXPECT_EQ(should_stop(many, 1.0, settings()), stop_reason::max_samples);
}

// --- runner on synthetic cases -------------------------------------------------------------------

// A case whose samples follow a script: rate r_i = rates[i % n] (work / seconds), clock as given.
class scripted_case : public benchmark_case {
 public:
  scripted_case(std::vector<double> rates, std::vector<double> clocks, bool verifies,
                bool throws = false, std::size_t throttle_every = 0,
                double nvml_clock = std::nan(""))
      : rates_(std::move(rates)),
        clocks_(std::move(clocks)),
        verifies_(verifies),
        throws_(throws),
        throttle_every_(throttle_every),
        nvml_clock_(nvml_clock) {
    info_.name = "scripted";
    info_.group = "compute";
    info_.prec = precision::fp32;
  }
  [[nodiscard]] const benchmark_info& info() const override { return info_; }
  sample run(std::uint64_t reps) override {
    if (throws_) throw std::runtime_error("device lost");
    const double rate = rates_[calls_ % rates_.size()];
    const double clock = clocks_.empty() ? std::nan("") : clocks_[calls_ % clocks_.size()];
    ++calls_;
    const double seconds = 0.001 * static_cast<double>(reps);  // 1 ms per rep
    sample out;
    out.seconds = seconds;
    out.work = rate * seconds;
    out.clock_mhz = clock;
    out.sm_clock_nvml_mhz = nvml_clock_;
    if (throttle_every_ > 0 && calls_ % throttle_every_ == 0)
      out.throttle_reasons = 0x4;  // SW power cap
    return out;
  }
  verification verify() override {
    return {verifies_, verifies_ ? 0 : 0.5, 0, verifies_ ? "exact" : "lane 3 off by 50 %"};
  }
  [[nodiscard]] std::optional<std::pair<double, std::string>> theoretical(
      double clock_mhz) const override {
    if (std::isnan(clock_mhz)) return std::nullopt;
    return std::make_pair(clock_mhz * 1e6 * 100, std::string("100 ops/cycle"));
  }

 private:
  benchmark_info info_;
  std::vector<double> rates_;
  std::vector<double> clocks_;
  bool verifies_;
  bool throws_;
  std::size_t throttle_every_;
  double nvml_clock_;
  std::size_t calls_ = 0;
};

TEST(Runner, SteadyVerifiedCaseIsOkWithFractionOfTheoretical) {
  scripted_case c({2e11}, {2000}, true);
  const auto m = run_case(c, "dev0", run_settings::quick());
  EXPECT_EQ(m.status, result_status::ok);
  EXPECT_TRUE(m.verified);
  EXPECT_EQ(m.stopped, stop_reason::noise_target);
  // Calibration aims 20 % above the 20 ms target: 1 ms/rep -> 24 reps; 0.2 s minimum -> 9 samples.
  EXPECT_EQ(m.reps_per_sample, 24U);
  EXPECT_EQ(m.samples.size(), 9U);
  EXPECT_DOUBLE_EQ(m.rate.median, 2e11);
  ASSERT_TRUE(m.fraction_of_theoretical.has_value());
  EXPECT_DOUBLE_EQ(*m.fraction_of_theoretical, 1.0);
  EXPECT_FALSE(m.clock_drift);
  EXPECT_EQ(m.throttled_samples, 0);
}

TEST(Runner, PeakUsesTheClockReadDuringTheWorkWhenEverySampleHasIt) {
  // The probe (after each sample) reads 2,000 MHz; NVML read 1,800 MHz while the work ran, as a
  // power-capped GPU does: the peak is taken at 1,800 and says so; the probe stays the sample
  // clock.
  scripted_case c({1.8e11}, {2000}, true, false, 0, 1800);
  const auto m = run_case(c, "dev0", run_settings::quick());
  ASSERT_TRUE(m.theoretical.has_value());
  EXPECT_DOUBLE_EQ(*m.theoretical, 1800 * 1e6 * 100);
  EXPECT_DOUBLE_EQ(*m.fraction_of_theoretical, 1.0);
  EXPECT_NE(m.theoretical_basis.find("NVML SM clock during the work"), std::string::npos)
      << m.theoretical_basis;
  EXPECT_DOUBLE_EQ(m.clock.median, 2000);
}

TEST(Runner, VerificationFailureMakesTheResultInvalid) {
  scripted_case c({1e9}, {}, false);
  const auto m = run_case(c, "dev0", run_settings::quick());
  EXPECT_EQ(m.status, result_status::invalid);
  EXPECT_FALSE(m.verified);
  EXPECT_NE(m.reason.find("verification failed: lane 3 off by 50 %"), std::string::npos)
      << m.reason;
  EXPECT_FALSE(m.theoretical.has_value()) << "no clock, no theoretical";
}

TEST(Runner, ExceptionDuringRunMakesTheResultInvalid) {
  scripted_case c({1e9}, {}, true, true);
  const auto m = run_case(c, "dev0", run_settings::quick());
  EXPECT_EQ(m.status, result_status::invalid);
  EXPECT_NE(m.reason.find("device lost"), std::string::npos) << m.reason;
}

TEST(Runner, RateAboveTheCeilingIsInvalidNeverOk) {
  // 100 ops/cycle at 2,000 MHz is 2e11/s; a verified run reporting 1,000 x that is a counting
  // error.
  scripted_case c({2e14}, {2000}, true);
  const auto m = run_case(c, "dev0", run_settings::quick());
  EXPECT_EQ(m.status, result_status::invalid);
  EXPECT_TRUE(m.verified) << "the output verified; the rate is what is impossible";
  ASSERT_TRUE(m.ceiling.has_value());
  EXPECT_DOUBLE_EQ(*m.ceiling, 2e11);
  EXPECT_NE(m.reason.find("impossible rate: the median 2e+14/s is 1000.00 x the ceiling 2e+11/s"),
            std::string::npos)
      << m.reason;
  // Within the stated tolerance (3 %) it stands.
  scripted_case near({2.05e11}, {2000}, true);
  EXPECT_EQ(run_case(near, "dev0", run_settings::quick()).status, result_status::ok);
}

measurement_report sample_report();  // below, with the report tests

TEST(Runner, OtherProcessesOnTheDeviceMakeTheResultSuspect) {
  class shared_case : public scripted_case {
   public:
    using scripted_case::scripted_case;
    sample run(std::uint64_t reps) override {
      auto s = scripted_case::run(reps);
      s.other_device_processes = (++n_ % 3 == 0) ? 2U : 0U;
      return s;
    }

   private:
    int n_ = 0;
  };
  shared_case c({2e11}, {2000}, true);
  const auto m = run_case(c, "cuda:0", run_settings::quick());
  EXPECT_EQ(m.status, result_status::ok);
  EXPECT_TRUE(m.suspect);
  ASSERT_FALSE(m.suspect_reasons.empty());
  EXPECT_NE(m.suspect_reasons.back().find("up to 2 other compute process(es) held the device"),
            std::string::npos)
      << m.suspect_reasons.back();
  // And the report keeps it per sample.
  const auto j = nlohmann::json::parse(to_json([&] {
    measurement_report r = sample_report();
    r.results.front() = m;
    return r;
  }()));
  EXPECT_EQ(j.at("results").at(0).at("sample_values").at(2).at("other_device_processes"), 2);
}

TEST(Runner, InvertedMemoryHierarchyMakesBothEndsSuspect) {
  auto sweep = [](const std::string& name, double footprint, double rate) {
    measurement m;
    m.info.name = name;
    m.info.group = "sweep";
    m.info.footprint_bytes = footprint;
    m.device_id = "cpu0";
    m.status = result_status::ok;
    m.verified = true;
    m.rate.median = rate;
    return m;
  };
  std::vector<measurement> rs{sweep("read_l1", 32e3, 5e9), sweep("read_l2", 5e5, 60e9),
                              sweep("read_dram", 1e8, 10e9)};
  flag_inverted_hierarchy(rs, run_settings::quick());
  EXPECT_TRUE(rs[0].suspect) << "L1 at half the DRAM rate";
  ASSERT_EQ(rs[0].suspect_reasons.size(), 1U);
  EXPECT_NE(rs[0].suspect_reasons[0].find("memory hierarchy inverted: read_l1"), std::string::npos)
      << rs[0].suspect_reasons[0];
  EXPECT_FALSE(rs[1].suspect);
  EXPECT_TRUE(rs[2].suspect) << "the DRAM end of the comparison too";
  // Another device's results are compared among themselves only.
  auto other = sweep("read_l1", 32e3, 5e9);
  other.device_id = "cpu1";
  std::vector<measurement> alone{other, sweep("read_dram", 1e8, 10e9)};
  flag_inverted_hierarchy(alone, run_settings::quick());
  EXPECT_FALSE(alone[0].suspect);
}

// Spins for real: `reps` milliseconds of this thread's CPU per run.
class spinning_case final : public benchmark_case {
 public:
  spinning_case() {
    info_.name = "spin";
    info_.group = "compute";
  }
  [[nodiscard]] const benchmark_info& info() const override { return info_; }
  sample run(std::uint64_t reps) override {
    const auto t0 = std::chrono::steady_clock::now();
    const auto until = t0 + std::chrono::milliseconds(reps);
    std::uint64_t n = 0;
    while (std::chrono::steady_clock::now() < until) ++n;
    sample s;
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    s.work = static_cast<double>(n);
    return s;
  }
  verification verify() override { return {true, 0, 0, "nothing to check"}; }
  [[nodiscard]] std::optional<std::pair<double, std::string>> theoretical(double) const override {
    return std::nullopt;
  }

 private:
  benchmark_info info_;
};

TEST(Runner, HostContentionIsReadFromProcStat) {
  if (!std::ifstream("/proc/stat")) GTEST_SKIP() << "no /proc/stat on this system";
  spinning_case c;
  const auto m = run_case(c, "dev0", run_settings::quick());
  ASSERT_FALSE(std::isnan(m.host_contention));
  EXPECT_GE(m.host_contention, 0.0);
  EXPECT_LE(m.host_contention, 1.0);
  EXPECT_EQ(m.suspect, !m.suspect_reasons.empty());
  // The same limit a user reads in docs/measurement.md decides it.
  EXPECT_EQ(m.suspect, m.host_contention > run_settings::quick().contention_limit ||
                           m.host_steal > run_settings::quick().steal_limit);
}

TEST(Runner, CountsSamplesWithThrottleReasons) {
  scripted_case c({1e9}, {3000}, true, false, 3);
  const auto m = run_case(c, "dev0", run_settings::quick());
  EXPECT_GT(m.throttle_reason_samples, 0);
  EXPECT_LT(m.throttle_reason_samples, static_cast<int>(m.samples.size()));
  scripted_case quiet({1e9}, {3000}, true);
  EXPECT_EQ(run_case(quiet, "dev0", run_settings::quick()).throttle_reason_samples, 0);
}

TEST(Runner, FlagsThrottledSamplesAndClockDrift) {
  // Warm-up consumes some calls; a repeating 10-sample clock pattern with one sample at 80 %.
  std::vector<double> clocks(10, 3000);
  clocks[4] = 2400;
  scripted_case c({1e9}, clocks, true);
  const auto m = run_case(c, "dev0", run_settings::quick());
  EXPECT_TRUE(m.clock_drift);
  EXPECT_GE(m.throttled_samples, 1);
}

// --- report --------------------------------------------------------------------------------------

measurement_report sample_report() {
  measurement_report r;
  r.tool_version = "0.1.0";
  r.git_sha = "abc";
  r.argv = {"chipgauge", "measure"};
  r.created_utc = "2026-11-29T04:00:00Z";
  r.mode = "quick";
  r.host = {"vm", "AMD EPYC", 2, 24e9, "Linux 6.1", "Debian GNU/Linux 12 (bookworm)", "g++ 12"};
  device_info d;
  d.backend = "cpu";
  d.id = "cpu0";
  d.name = "AMD EPYC";
  d.vendor = "AuthenticAMD";
  d.units = 2;
  d.features = {"avx2", "avx512f"};
  d.properties = {{"model", "2"}, {"family", "26"}};
  r.devices.push_back(d);
  scripted_case ok({2e11}, {2000}, true);
  r.results.push_back(run_case(ok, "cpu0", run_settings::quick()));
  scripted_case bad({1e9}, {}, false);
  r.results.push_back(run_case(bad, "cpu0", run_settings::quick()));
  measurement skipped;
  skipped.info = {"fma_fp16", "compute", precision::fp16, metric_kind::ops_per_s, "avx512",
                  "FP16",     0};
  skipped.device_id = "cpu0";
  skipped.reason = "the CPU lacks AVX512_FP16";
  r.results.push_back(skipped);
  return r;
}

TEST(Report, JsonRoundTripIsExact) {
  const auto r = sample_report();
  const auto text = to_json(r);
  const auto back = parse_report(text, "report.json");
  EXPECT_EQ(to_json(back), text);
  ASSERT_EQ(back.results.size(), 3U);
  EXPECT_EQ(back.results[1].status, result_status::invalid);
  EXPECT_TRUE(std::isnan(back.results[1].samples[0].clock_mhz));
}

TEST(Report, JsonCarriesTheContractFields) {
  const auto j = nlohmann::json::parse(to_json(sample_report()));
  EXPECT_EQ(j.at("schema"), "chipgauge.measurement/1");
  const auto& res = j.at("results").at(0);
  for (const char* key :
       {"benchmark", "precision", "metric", "median", "min", "max", "cv", "samples", "status",
        "verified", "stop_reason", "theoretical", "fraction_of_theoretical"})
    EXPECT_TRUE(res.contains(key)) << key;
  EXPECT_EQ(res.at("metric"), "ops_per_s");
  EXPECT_EQ(j.at("results").at(2).at("status"), "skipped");
}

std::optional<spec_error> parse_error(const std::string& text) {
  try {
    (void)parse_report(text, "r.json");
  } catch (const spec_error& e) {
    return e;
  }
  return std::nullopt;
}

TEST(Report, CorruptReportsAreRefusedWithTheirPath) {
  const auto e1 = parse_error("{\"schema\": ");
  ASSERT_TRUE(e1.has_value());
  EXPECT_NE(e1->message().find("malformed JSON"), std::string::npos);

  auto j = nlohmann::json::parse(to_json(sample_report()));
  j["results"][0]["verified"] = false;
  const auto e2 = parse_error(j.dump());
  ASSERT_TRUE(e2.has_value());
  EXPECT_EQ(e2->json_path(), "$.results[0].verified");

  j = nlohmann::json::parse(to_json(sample_report()));
  j["results"][0]["samples"] = 3;
  const auto e3 = parse_error(j.dump());
  ASSERT_TRUE(e3.has_value());
  EXPECT_EQ(e3->json_path(), "$.results[0].samples");

  j = nlohmann::json::parse(to_json(sample_report()));
  j["results"][0]["median"] = 1.0;  // hand-edited figure
  const auto e4 = parse_error(j.dump());
  ASSERT_TRUE(e4.has_value());
  EXPECT_EQ(e4->json_path(), "$.results[0].median");

  j = nlohmann::json::parse(to_json(sample_report()));
  j["schema"] = "chipgauge.measurement/2";
  EXPECT_TRUE(parse_error(j.dump()).has_value());
}

TEST(Report, ExportsAreWellFormed) {
  auto r = sample_report();
  // A busy test machine can make the scripted result suspect; exports leave suspect results out.
  r.results[0].suspect = false;
  r.results[0].suspect_reasons.clear();
  const auto g = nlohmann::json::parse(to_gbench_json(r));
  const auto n = r.results[0].samples.size();
  ASSERT_EQ(g.at("benchmarks").size(), n + 3)
      << "one entry per sample and 3 aggregates; invalid and skipped results are left out";
  EXPECT_EQ(g.at("benchmarks")[0].at("name"), "cpu0/scripted");
  EXPECT_NEAR(g.at("benchmarks")[0].at("items_per_second").get<double>() / 2e11, 1.0, 1e-9);
  EXPECT_EQ(g.at("benchmarks")[n].at("name"), "cpu0/scripted_mean");
  EXPECT_NE(g.at("context").at("chipgauge_not_exported").get<std::string>().find("invalid"),
            std::string::npos);
  const auto csv = to_csv(r);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);
  EXPECT_NE(to_markdown(r).find("| cpu0 | scripted |"), std::string::npos);
  EXPECT_NE(to_text(r).find("the CPU lacks AVX512_FP16"), std::string::npos);
}

TEST(MeasuredTpp, UsesOnlyVerifiedComputeResults) {
  const auto r = sample_report();
  const auto t = measured_from(r, "r.json", "", test::bundled_rules().definitions());
  ASSERT_TRUE(t.best.has_value());
  EXPECT_EQ(*t.best, precision::fp32);
  EXPECT_DOUBLE_EQ(t.tpp, 0.2 * 32);
  EXPECT_EQ(t.refused.size(), 1U) << "the invalid result is refused, with its reason";
}

TEST(MeasuredTpp, SuspectAndImplausibleResultsAreRefusedWithWhy) {
  auto r = sample_report();
  auto& ok = r.results.front();
  ASSERT_EQ(ok.status, result_status::ok);
  ok.suspect = true;
  ok.suspect_reasons = {
      "other processes used 40 % of the machine's CPU time during the samples (limit 10 %)"};
  const auto& defs = test::bundled_rules().definitions();
  try {
    (void)measured_from(r, "r.json", "", defs);
    FAIL() << "a suspect result gave a TPP";
  } catch (const spec_error& e) {
    EXPECT_NE(std::string(e.what()).find("scripted: suspect (other processes used 40 %"),
              std::string::npos)
        << e.what();
  }
  // An edited summary no longer matches its samples.
  auto edited = sample_report();
  edited.results.front().rate.median *= 1000;
  ASSERT_TRUE(implausible(edited.results.front(), run_settings::quick()).has_value());
  EXPECT_NE(implausible(edited.results.front(), run_settings::quick())
                ->find("disagrees with its samples"),
            std::string::npos);
  EXPECT_FALSE(implausible(sample_report().results.front(), run_settings::quick()).has_value());
}

TEST(MeasuredTpp, NoVerifiedComputeResultIsAnError) {
  auto r = sample_report();
  r.results.erase(r.results.begin());
  EXPECT_THROW((void)measured_from(r, "r.json", "", test::bundled_rules().definitions()),
               spec_error);
  EXPECT_THROW(
      (void)measured_from(sample_report(), "r.json", "cuda:7", test::bundled_rules().definitions()),
      spec_error);
}

// --- this machine --------------------------------------------------------------------------------

bool cpuinfo_has(const std::string& flag) {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("flags", 0) == 0)
      return (line + " ").find(" " + flag + " ") != std::string::npos;
  }
  return false;
}

TEST(IsaDispatch, FeaturesAgreeWithTheKernel) {
  const auto f = kernels::cpu::detect_features();
  EXPECT_FALSE(f.vendor.empty());
  EXPECT_EQ(f.avx2, cpuinfo_has("avx2"));
  EXPECT_EQ(f.fma, cpuinfo_has("fma"));
  EXPECT_EQ(f.avx512f, cpuinfo_has("avx512f"));
  EXPECT_EQ(f.avx512_vnni, cpuinfo_has("avx512_vnni"));
  EXPECT_EQ(f.avx512_bf16, cpuinfo_has("avx512_bf16"));
}

TEST(IsaDispatch, EveryAvailableLevelComputesExactly) {
  namespace k = kernels::cpu;
  const auto f = k::detect_features();
  std::vector<k::isa> levels{k::isa::scalar};
  if (f.avx2 && f.fma) levels.push_back(k::isa::avx2);
  if (f.avx512f) levels.push_back(k::isa::avx512);
  for (auto level : levels) {
    const auto d = k::fma_f64(level, 1000, 0.5);
    EXPECT_EQ(d.min, 500.0) << k::to_string(level);
    EXPECT_EQ(d.max, 500.0) << k::to_string(level);
    const auto s = k::fma_f32(level, 1000, 0.25F);
    EXPECT_EQ(s.min, 250.0) << k::to_string(level);
    EXPECT_EQ(s.max, 250.0) << k::to_string(level);
  }
  if (f.avx512_bf16) {
    const auto b = k::dot_bf16_avx512(4096);
    EXPECT_EQ(b.min, 4096 * std::ldexp(1.0, -13));
    EXPECT_EQ(b.max, b.min);
  }
  if (f.avx512_fp16) {
    const auto h = k::fma_f16_avx512(1024);
    EXPECT_EQ(h.min, 64.0);
    EXPECT_EQ(h.max, 64.0);
  }
  if (f.avx512_vnni) {
    EXPECT_EQ(k::dot_int8_vnni(k::isa::avx512, 1000).max, 4000.0);
  }
  if (f.avx_vnni) {
    EXPECT_EQ(k::dot_int8_vnni(k::isa::avx2, 1000).min, 4000.0);
  }
  if (levels.size() == 1) GTEST_SKIP() << "only the scalar path exists on this CPU";
}

TEST(IsaDispatch, StreamKernelsMatchScalarReference) {
  namespace k = kernels::cpu;
  const auto f = k::detect_features();
  for (auto level : {k::isa::scalar, k::isa::avx2, k::isa::avx512}) {
    if (level == k::isa::avx2 && !(f.avx2 && f.fma)) continue;
    if (level == k::isa::avx512 && !f.avx512f) continue;
    alignas(64) double a[64], b[64], c[64];
    for (int i = 0; i < 64; ++i) a[i] = i, b[i] = 2.0 * i, c[i] = 3.0 * i;
    k::stream_triad(level, a, b, c, 0.5, 61, true);  // odd length exercises the tail
    for (int i = 0; i < 61; ++i)
      EXPECT_DOUBLE_EQ(a[i], 2.0 * i + 1.5 * i) << k::to_string(level) << " " << i;
    EXPECT_DOUBLE_EQ(a[62], 62.0) << "past n untouched";
    EXPECT_DOUBLE_EQ(k::read_sum(level, b, 64, 3), 3 * 2.0 * (63 * 64 / 2));
  }
}

TEST(RealMeasurement, ShortCpuRunIsVerifiedPositiveAndPlausible) {
  measure_options o;
  o.backend = "cpu";
  o.filter = "^(fma_fp64|stream_triad|read_l1)$";
  o.specs_dir = test::specs_dir();
  const auto r = measure(o);
  ASSERT_EQ(r.results.size(), 3U);
  for (const auto& m : r.results) {
    EXPECT_EQ(m.status, result_status::ok) << m.info.name << ": " << m.reason;
    EXPECT_TRUE(m.verified) << m.info.name;
    EXPECT_GT(m.rate.median, 1e8) << m.info.name;  // above 0.1 GFLOP/s or GB/s on any machine
    if (m.fraction_of_theoretical) {
      EXPECT_LT(*m.fraction_of_theoretical, 1.05) << m.info.name << " beats its peak?";
    }
  }
  EXPECT_LT(r.results[1].rate.median, 1e12) << "STREAM above 1 TB/s on a CPU is implausible";
}

TEST(RealMeasurement, BadOptionsAreUsageErrors) {
  measure_options o;
  o.specs_dir = test::specs_dir();
  o.backend = "tpu";
  EXPECT_THROW((void)measure(o), usage_error);
  o.backend = "cpu";
  o.filter = "(";
  EXPECT_THROW((void)measure(o), usage_error);
  o.filter = "no_such_benchmark";
  EXPECT_THROW((void)measure(o), usage_error);
}

// specs/arch/cuda.json as the CUDA backend reads it (bench/src/cuda_arch.cpp): checked here, on
// machines without a GPU, since only the CUDA backend uses it.
TEST(CudaArch, HopperTableAppliesToH100AndH200) {
  for (const char* name : {"NVIDIA H100 80GB HBM3", "NVIDIA H200", "NVIDIA GH200 480GB"}) {
    const auto a = load_cuda_arch(test::specs_dir(), 9, 0, name);
    EXPECT_EQ(a.rate("tensor_bf16"), 4096.0) << name;
    EXPECT_EQ(a.rate("tensor_fp8"), 8192.0) << name;
    EXPECT_EQ(a.rate("fma_fp64"), 128.0) << name;
    EXPECT_EQ(a.rate("tensor_fp64"), 256.0) << name;
    EXPECT_EQ(a.rate("smem_read"), 128.0) << name << ": bytes per clock per SM";
    ASSERT_FALSE(a.notes.empty());
    EXPECT_NE(a.notes[0].find("compute capability 9.0"), std::string::npos) << a.notes[0];
    EXPECT_EQ(std::count_if(
                  a.notes.begin(), a.notes.end(),
                  [](const std::string& n) { return n.find("no peak for") != std::string::npos; }),
              0)
        << name << ": no exception applies";
  }
  // The table reproduces the H100 SXM's dense BF16 datasheet figure: 132 SMs x rate x 1,830 MHz =
  // 989.4 TFLOPS.
  const auto h100 = load_cuda_arch(test::specs_dir(), 9, 0, "NVIDIA H100 80GB HBM3");
  EXPECT_NEAR(132 * *h100.rate("tensor_bf16") * 1830e6 / 1e12, 989.4, 0.1);
}

TEST(CudaArch, ExportVariantsLoseThePeaksTheirCapabilityTableWouldOverstate) {
  const auto h800 = load_cuda_arch(test::specs_dir(), 9, 0, "NVIDIA H800");
  EXPECT_FALSE(h800.rate("fma_fp64")) << "H800 FP64 is cut to about 1 TFLOPS";
  EXPECT_FALSE(h800.rate("tensor_fp64"));
  EXPECT_EQ(h800.rate("tensor_bf16"), 4096.0) << "its low-precision rates are the H100's";
  ASSERT_EQ(h800.notes.size(), 2U);
  EXPECT_NE(h800.notes[1].find("no peak for fma_fp64, tensor_fp64 on this product"),
            std::string::npos)
      << h800.notes[1];
  const auto h20 = load_cuda_arch(test::specs_dir(), 9, 0, "NVIDIA H20");
  EXPECT_FALSE(h20.rate("tensor_bf16"));
  EXPECT_FALSE(h20.rate("tensor_fp8"));
  EXPECT_EQ(h20.rate("fma_fp32"), 256.0) << "vector FP32 is not among the limited rates";
}

TEST(CudaArch, UntabledCapabilityHasNoPeaksAndSaysSo) {
  const auto b200 = load_cuda_arch(test::specs_dir(), 10, 0, "NVIDIA B200");
  EXPECT_TRUE(b200.per_sm.empty());
  ASSERT_FALSE(b200.notes.empty());
  EXPECT_NE(b200.notes[0].find("no table for compute capability 10.0"), std::string::npos)
      << b200.notes[0];
  const auto ada = load_cuda_arch(test::specs_dir(), 8, 9, "NVIDIA L40S");
  EXPECT_EQ(ada.rate("fma_fp32"), 256.0);
  EXPECT_FALSE(ada.rate("tensor_fp8")) << "GeForce and professional Ada parts differ: not tabled";
}

TEST(CudaArch, PcieGenerationsGiveTheLinkPeak) {
  const auto a = load_cuda_arch(test::specs_dir(), 9, 0, "NVIDIA H200");
  // Gen 5 x16: 32 GT/s x 16 x 128/130 / 8 = 63.0 GB/s per direction; gen 4 x16 31.5.
  EXPECT_NEAR(*a.pcie_bytes_per_s(5, 16) / 1e9, 63.015, 0.01);
  EXPECT_NEAR(*a.pcie_bytes_per_s(4, 16) / 1e9, 31.508, 0.01);
  EXPECT_FALSE(a.pcie_bytes_per_s(9, 16));
}

TEST(CudaArch, MalformedFileNamesFileAndPath) {
  test::temp_dir dir;
  std::filesystem::create_directories(dir.path() + "/arch");
  {
    std::ofstream f(dir.path() + "/arch/cuda.json");
    f << R"({"schema": "chipgauge.cuda-arch/1", "title": "t", "architectures": [],
             "product_exceptions": [{"name_regex": "(", "remove": ["*"], "reason": "r", "evidence": "estimate", "source": "s"}]})";
  }
  try {
    (void)load_cuda_arch(dir.path(), 9, 0, "NVIDIA H100");
    FAIL() << "expected a spec_error";
  } catch (const spec_error& e) {
    EXPECT_EQ(e.json_path(), "$.product_exceptions[0].name_regex");
    EXPECT_NE(std::string(e.what()).find("not a valid regular expression"), std::string::npos)
        << e.what();
  }
  const auto none = load_cuda_arch(dir.path() + "/nowhere", 9, 0, "NVIDIA H100");
  EXPECT_TRUE(none.per_sm.empty());
  EXPECT_NE(none.notes.at(0).find("not found: no theoretical peaks"), std::string::npos);
}

TEST(CudaArch, DatasheetsMapDeviceNamesToTheirSheetsDramFigure) {
  const auto h200 = load_cuda_arch(test::specs_dir(), 9, 0, "NVIDIA H200");
  ASSERT_TRUE(h200.dram);
  EXPECT_EQ(h200.dram->lo, 4800e9);
  EXPECT_EQ(h200.dram->sheet, "specs/chips/nvidia-h200-sxm-141gb.json");
  EXPECT_FALSE(load_cuda_arch(test::specs_dir(), 9, 0, "NVIDIA H200 NVL").dram)
      << "anchored: the NVL has no sheet here";
  const auto b200 = load_cuda_arch(test::specs_dir(), 10, 0, "NVIDIA B200");
  ASSERT_TRUE(b200.dram);
  EXPECT_LT(b200.dram->lo, b200.dram->hi) << "the sheet quotes a range";
  // A mapping to a sheet that is not there names the file, the path and what was expected.
  test::temp_dir dir;
  std::filesystem::create_directories(dir.path() + "/arch");
  {
    std::ofstream f(dir.path() + "/arch/cuda.json");
    f << R"({"schema": "chipgauge.cuda-arch/1", "title": "t", "architectures": [],
             "datasheets": [{"name_regex": "^NVIDIA H200$", "spec": "no-such-sheet", "source": "s"}]})";
  }
  try {
    (void)load_cuda_arch(dir.path(), 9, 0, "NVIDIA H200");
    FAIL() << "expected a spec_error";
  } catch (const spec_error& e) {
    EXPECT_EQ(e.json_path(), "$.datasheets[0].spec");
    EXPECT_NE(std::string(e.what()).find("no-such-sheet.json not found"), std::string::npos)
        << e.what();
  }
}

// The CUDA backend's device-independent decisions (bench/src/cuda_plan.cpp), for an H200 as CUDA
// describes it: 132 SMs, 50 MiB L2, 3,201 MHz x 6,144-bit HBM3e, 227 KiB shared memory per block.
cuda_device_facts h200_facts() {
  cuda_device_facts f;
  f.name = "NVIDIA H200";
  f.major = 9;
  f.minor = 0;
  f.sm_count = 132;
  f.max_threads_per_sm = 2048;
  f.l2_bytes = 50.0 * 1048576;
  f.memory_bytes = 143771.0 * 1048576;
  f.smem_per_sm = 233472;
  f.smem_reserved_per_block = 1024;
  f.smem_optin = 232448;
  f.mem_clock_khz = 3201000;
  f.bus_width = 6144;
  return f;
}

TEST(CudaPlan, DramPeakStatesBothBasesAndUsesTheComputedOne) {
  const auto g = h200_facts();
  const auto arch = load_cuda_arch(test::specs_dir(), 9, 0, g.name);
  const auto peak = cuda_dram_peak(g, arch.dram);
  ASSERT_TRUE(peak);
  EXPECT_DOUBLE_EQ(peak->rate, 2.0 * 3201e6 * 6144 / 8)
      << "4.917 TB/s: the computed figure is the fraction's";
  EXPECT_NE(peak->basis.find("computed: 2 x 3201 MHz memory clock x 6144 bit bus / 8 = 4917 GB/s"),
            std::string::npos)
      << peak->basis;
  EXPECT_NE(peak->basis.find("the fraction uses it"), std::string::npos) << peak->basis;
  EXPECT_NE(
      peak->basis.find(
          "datasheet: 4800 GB/s (specs/chips/nvidia-h200-sxm-141gb.json), computed / datasheet "
          "= 1.024"),
      std::string::npos)
      << peak->basis;
  const auto unmapped = cuda_dram_peak(g, std::nullopt);
  ASSERT_TRUE(unmapped);
  EXPECT_NE(unmapped->basis.find("datasheet: none"), std::string::npos) << unmapped->basis;
  // Without the CUDA attributes the sheet's figure is all there is; without either, no peak.
  auto blind = g;
  blind.mem_clock_khz = 0;
  const auto sheet_only = cuda_dram_peak(blind, arch.dram);
  ASSERT_TRUE(sheet_only);
  EXPECT_EQ(sheet_only->rate, 4800e9);
  EXPECT_NE(sheet_only->basis.find("no computed figure"), std::string::npos) << sheet_only->basis;
  EXPECT_FALSE(cuda_dram_peak(blind, std::nullopt));
}

TEST(CudaPlan, L2ReadsGetTheDramPeakOnlyFromFourTimesL2) {
  const double l2 = 50.0 * 1048576;
  EXPECT_NE(cuda_l2_no_peak_reason(l2 / 2, l2).value_or("").find("inside L2"), std::string::npos);
  EXPECT_NE(cuda_l2_no_peak_reason(1.5 * l2, l2).value_or("").find("between L2 and 4 x L2"),
            std::string::npos);
  EXPECT_NE(cuda_l2_no_peak_reason(3.99 * l2, l2).value_or("").find("between L2 and 4 x L2"),
            std::string::npos);
  EXPECT_FALSE(cuda_l2_no_peak_reason(4 * l2, l2));
  EXPECT_FALSE(cuda_l2_no_peak_reason(8 * l2, l2));
  // Both modes end on 4 x L2, so each has a footprint the DRAM peak bounds, and none beyond it.
  const auto g = h200_facts();
  for (const auto mode : {run_mode::quick, run_mode::full}) {
    const auto f = cuda_l2_footprints(g, mode);
    ASSERT_FALSE(f.empty());
    EXPECT_EQ(f.back(), 4 * l2) << to_string(mode);
    EXPECT_TRUE(std::is_sorted(f.begin(), f.end())) << to_string(mode);
  }
  // The description of each L2 read says which it is.
  const auto listed = cuda_catalogue(g, {}, run_mode::quick, std::nullopt);
  for (const auto& b : listed.first) {
    if (b.name == "l2_read_204800kib") {
      EXPECT_NE(b.description.find("peak: DRAM"), std::string::npos) << b.description;
    }
    if (b.name == "l2_read_25600kib") {
      EXPECT_NE(b.description.find("no peak: inside L2"), std::string::npos) << b.description;
    }
  }
}

TEST(CudaPlan, DramArraysAreFourGibWhereMemoryAllows) {
  auto g = h200_facts();
  EXPECT_EQ(cuda_dram_array_bytes(g), 4096.0 * 1048576);
  g.l2_bytes = 1024.0 * 1048576;  // 8 x L2 above 4 GiB wins
  EXPECT_EQ(cuda_dram_array_bytes(g), 8192.0 * 1048576);
  g.l2_bytes = 4.0 * 1048576;
  g.memory_bytes = 16.0 * 1073741824;  // a 16 GiB card: an eighth of its memory per array
  EXPECT_EQ(cuda_dram_array_bytes(g), 2048.0 * 1048576);
}

std::vector<std::string> names(const std::vector<benchmark_info>& v) {
  std::vector<std::string> out;
  for (const auto& b : v) out.push_back(b.name);
  return out;
}
std::vector<std::string> names(const std::vector<skipped_benchmark>& v) {
  std::vector<std::string> out;
  for (const auto& s : v) out.push_back(s.info.name);
  return out;
}
std::string reason_for(const std::vector<skipped_benchmark>& v, const std::string& name) {
  for (const auto& s : v) {
    if (s.info.name == name) return s.reason;
  }
  return "";
}

TEST(CudaPlan, HopperCatalogueListsEveryBenchmarkAndSkipsEmulatedFp8) {
  const auto [run, skip] = cuda_catalogue(h200_facts(), {{1, true}}, run_mode::quick, std::nullopt);
  const std::vector<std::string> expected{"fma_fp64",
                                          "fma_fp32",
                                          "fma_fp16x2",
                                          "mad_int32",
                                          "dram_read",
                                          "dram_write",
                                          "dram_copy",
                                          "dram_triad",
                                          "l2_read_6400kib",
                                          "l2_read_25600kib",
                                          "l2_read_204800kib",
                                          "smem_read_16kib",
                                          "smem_read_224kib",
                                          "p2p_0_to_1_uni",
                                          "p2p_0_to_1_bi",
                                          "pcie_h2d",
                                          "pcie_d2h",
                                          "pcie_bidirectional",
                                          "mma_fp16",
                                          "mma_bf16",
                                          "mma_tf32",
                                          "mma_int8",
                                          "mma_fp64",
                                          "wgmma_fp16",
                                          "wgmma_fp16_sw128",
                                          "wgmma_fp16_n256",
                                          "wgmma_fp16_n256_sw128",
                                          "wgmma_bf16",
                                          "wgmma_bf16_sw128",
                                          "wgmma_bf16_n256",
                                          "wgmma_bf16_n256_sw128",
                                          "wgmma_tf32",
                                          "wgmma_tf32_sw128",
                                          "wgmma_tf32_n256",
                                          "wgmma_tf32_n256_sw128",
                                          "wgmma_fp8",
                                          "wgmma_fp8_sw128",
                                          "wgmma_fp8_n256",
                                          "wgmma_fp8_n256_sw128",
                                          "wgmma_int8",
                                          "wgmma_int8_sw128",
                                          "wgmma_int8_n256",
                                          "wgmma_int8_n256_sw128",
                                          "gemm_bf16_8192",
                                          "gemm_fp16_8192",
                                          "gemm_tf32_8192",
                                          "gemm_fp8_8192",
                                          "gemm_int8_8192"};
  EXPECT_EQ(names(run), expected);
  ASSERT_EQ(names(skip), std::vector<std::string>{"mma_fp8"});
  const auto why = skip[0].reason;
  EXPECT_NE(why.find("not native"), std::string::npos) << why;
  EXPECT_NE(why.find("FP16 tensor rate"), std::string::npos) << why;
  EXPECT_NE(why.find("wgmma_fp8"), std::string::npos) << why;
  for (const auto& b : run) {
    if (b.name == "dram_triad") {
      EXPECT_NE(b.description.find("arrays of 4096 MiB"), std::string::npos) << b.description;
    }
    if (b.name == "wgmma_bf16_n256_sw128") {
      EXPECT_NE(b.description.find("m64n256 (sm_90a), bf16 dense, 128-byte-swizzle"),
                std::string::npos)
          << b.description;
    }
  }
}

TEST(CudaPlan, Fp8MmaRunsWhereItIsNativeAndWgmmaOnlyOnHopper) {
  for (const auto& [major, minor] : std::vector<std::pair<int, int>>{{8, 9}, {10, 0}, {12, 0}}) {
    auto g = h200_facts();
    g.major = major;
    g.minor = minor;
    const auto [run, skip] = cuda_catalogue(g, {}, run_mode::quick, std::nullopt);
    const auto r = names(run);
    EXPECT_NE(std::find(r.begin(), r.end(), "mma_fp8"), r.end()) << major << "." << minor;
    EXPECT_NE(reason_for(skip, "wgmma_fp16_sw128"), "") << major << "." << minor;
    EXPECT_EQ(std::find(r.begin(), r.end(), "wgmma_fp16"), r.end()) << major << "." << minor;
  }
  auto ampere = h200_facts();
  ampere.major = 8;
  ampere.minor = 0;
  const auto [run, skip] =
      cuda_catalogue(ampere, {{1, false}}, run_mode::full, std::string("hang"));
  EXPECT_EQ(run.front().name, "fault_hang");
  EXPECT_NE(reason_for(skip, "mma_fp8").find("8.9 or later"), std::string::npos);
  EXPECT_NE(reason_for(skip, "gemm_fp8_16384").find("8.9 or later"), std::string::npos);
  EXPECT_NE(reason_for(skip, "p2p_0_to_1_bi").find("no peer path"), std::string::npos);
  EXPECT_NE(reason_for(skip, "wgmma_int8_n256").find("9.0"), std::string::npos);
}

// The whole catalogue, every field of every entry run or skipped, for five compute capabilities in
// both modes, on fake device properties (roughly A100, L40S, H200, B200 and RTX 5090), against a
// listing stored in tests/golden/cuda-catalogue.txt: the names, parameters, descriptions and skip
// reasons a GPU run reports must not change by accident. CHIPGAUGE_UPDATE_GOLDEN=1 rewrites it.
cuda_device_facts listing_facts(int major, int minor) {
  auto f = h200_facts();
  f.major = major;
  f.minor = minor;
  const int cc = major * 10 + minor;
  if (cc == 80) {
    f.name = "NVIDIA A100-SXM4-80GB";
    f.sm_count = 108;
    f.l2_bytes = 40.0 * 1048576;
    f.memory_bytes = 81920.0 * 1048576;
    f.smem_per_sm = 167936;
    f.smem_optin = 166912;
    f.mem_clock_khz = 1593000;
    f.bus_width = 5120;
  } else if (cc == 89 || cc == 120) {
    f.name = cc == 89 ? "NVIDIA L40S" : "NVIDIA GeForce RTX 5090";
    f.sm_count = cc == 89 ? 142 : 170;
    f.max_threads_per_sm = 1536;
    f.l2_bytes = 96.0 * 1048576;
    f.memory_bytes = (cc == 89 ? 46068.0 : 32607.0) * 1048576;
    f.smem_per_sm = 102400;
    f.smem_optin = 101376;
    f.mem_clock_khz = cc == 89 ? 9001000 : 14001000;
    f.bus_width = cc == 89 ? 384 : 512;
  } else if (cc == 100) {
    f.name = "NVIDIA B200";
    f.sm_count = 148;
    f.l2_bytes = 126.5 * 1048576;
    f.memory_bytes = 182272.0 * 1048576;
    f.mem_clock_khz = 3996000;
    f.bus_width = 8192;
  }
  return f;
}

std::string catalogue_listing() {
  std::string out;
  const auto entry = [](const benchmark_info& b) {
    return fmt::format("{} | {} | {} | {} | {} | {} | {}", b.name, b.group,
                       b.prec ? std::string(to_string(*b.prec)) : "-", to_string(b.metric), b.isa,
                       b.footprint_bytes, b.description);
  };
  for (const auto& [major, minor] :
       std::vector<std::pair<int, int>>{{8, 0}, {8, 9}, {9, 0}, {10, 0}, {12, 0}}) {
    for (const auto mode : {run_mode::quick, run_mode::full}) {
      // cuda:1 reachable by peer access, cuda:2 not; an injected fault on one configuration.
      const auto fault = major == 8 && minor == 0 && mode == run_mode::full
                             ? std::optional<std::string>("hang")
                             : std::nullopt;
      const auto [run, skip] =
          cuda_catalogue(listing_facts(major, minor), {{1, true}, {2, false}}, mode, fault);
      out += fmt::format("== compute capability {}.{}, {} mode: {} run, {} skipped\n", major, minor,
                         to_string(mode), run.size(), skip.size());
      for (const auto& b : run) out += "run  " + entry(b) + "\n";
      for (const auto& s : skip) out += "skip " + entry(s.info) + " | skipped: " + s.reason + "\n";
    }
  }
  return out;
}

TEST(CudaPlan, CatalogueListingMatchesTheStoredListing) {
  const std::string path = std::filesystem::path(CHIPGAUGE_SOURCE_SPECS).parent_path().string() +
                           "/tests/golden/cuda-catalogue.txt";
  const auto listing = catalogue_listing();
  if (const char* update = std::getenv("CHIPGAUGE_UPDATE_GOLDEN");
      update && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << listing;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "missing " << path << " (run with CHIPGAUGE_UPDATE_GOLDEN=1)";
  const std::string stored((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Line by line, so a difference names the entry.
  std::istringstream a(listing);
  std::istringstream b(stored);
  std::string la;
  std::string lb;
  int line = 0;
  while (true) {
    const bool ga = static_cast<bool>(std::getline(a, la));
    const bool gb = static_cast<bool>(std::getline(b, lb));
    ++line;
    if (!ga && !gb) break;
    ASSERT_EQ(ga ? la : "<end>", gb ? lb : "<end>") << "line " << line << " of " << path;
  }
}

// Each entry carries the parameters its case is made from (nothing is parsed back from names).
TEST(CudaPlan, EntriesCarryTheirCasesParameters) {
  auto ampere = listing_facts(8, 0);
  const auto entries =
      cuda_entries(ampere, {{1, true}, {2, false}}, run_mode::full, std::string("hang"));
  const auto find = [&entries](const std::string& name) -> const cuda_entry& {
    for (const auto& e : entries) {
      if (e.info.name == name) return e;
    }
    throw std::runtime_error("no entry " + name);
  };
  EXPECT_EQ(std::get<cuda_params::fault>(find("fault_hang").params).kind, "hang");
  EXPECT_EQ(std::get<cuda_params::dram>(find("dram_triad_occ4").params).blocks_per_sm, 4);
  EXPECT_EQ(std::get<cuda_params::dram>(find("dram_copy").params).kind,
            cuda_params::dram_kind::copy);
  const auto gemm = std::get<cuda_params::gemm>(find("gemm_tf32_16384").params);
  EXPECT_EQ(gemm.size, 16384);
  EXPECT_EQ(gemm.prec, precision::tf32);
  EXPECT_EQ(gemm.rate_key, "tensor_tf32");
  const auto p2p = std::get<cuda_params::p2p>(find("p2p_0_to_2_bi").params);
  EXPECT_EQ(p2p.to, 2);
  EXPECT_TRUE(p2p.both);
  EXPECT_TRUE(find("p2p_0_to_2_bi").skipped);
  EXPECT_FALSE(find("p2p_0_to_1_uni").skipped);
  EXPECT_EQ(std::get<cuda_params::smem_read>(find("smem_read_160kib").params).tile, 160U * 1024);
  const auto l2 = std::get<cuda_params::l2_read>(find("l2_read_163840kib").params);
  EXPECT_TRUE(l2.dram_peak);
  EXPECT_EQ(l2.footprint, 4 * ampere.l2_bytes);
  EXPECT_FALSE(std::get<cuda_params::l2_read>(find("l2_read_256kib").params).dram_peak);
  EXPECT_EQ(std::get<cuda_params::host_copy>(find("pcie_bidirectional").params).kind,
            cuda_params::copy_kind::bidirectional);
  const auto wgmma = std::get<cuda_params::tensor>(find("wgmma_int8_n256_sw128").params);
  EXPECT_TRUE(wgmma.wgmma);
  EXPECT_EQ(wgmma.n, 256);
  EXPECT_TRUE(wgmma.swizzle128);
  EXPECT_EQ(std::get<cuda_params::vector>(find("fma_fp16x2").params).kind,
            cuda_params::vector_kind::fp16x2);
  // Blackwell's unwritten paths are listed with no case.
  const auto b200 = cuda_entries(listing_facts(10, 0), {}, run_mode::quick, std::nullopt);
  for (const auto& e : b200) {
    if (e.info.name.rfind("tcgen05_", 0) == 0) {
      EXPECT_TRUE(std::holds_alternative<cuda_params::not_written>(e.params)) << e.info.name;
      EXPECT_TRUE(e.skipped) << e.info.name;
    }
  }
}

// The device and fault handling of measure(), with a fake backend: each benchmark's behaviour is
// named in it ("ok", "unsupported", "invalid", "sticky", "hang").
class fake_backend final : public backend {
 public:
  explicit fake_backend(int devices) : count_(devices) {}
  [[nodiscard]] std::string name() const override { return "fake"; }
  std::vector<device_info> devices() override {
    std::vector<device_info> out;
    for (int i = 0; i < count_; ++i)
      out.push_back({"fake", fmt::format("fake:{}", i), "Fake", "test", 1, {}, {}});
    return out;
  }
  std::pair<std::vector<benchmark_info>, std::vector<skipped_benchmark>> benchmarks(
      const device_info& d, run_mode) override {
    std::vector<benchmark_info> run;
    for (const auto& n : plan)
      run.push_back({n, "compute", precision::fp32, metric_kind::ops_per_s, "fake", n, 0});
    if (d.id == "fake:1")
      run.push_back(
          {"only_on_1", "compute", precision::fp32, metric_kind::ops_per_s, "fake", "", 0});
    return {run,
            {{{"never", "compute", precision::fp32, metric_kind::ops_per_s, "fake", "", 0},
              "not on fakes"}}};
  }
  std::unique_ptr<benchmark_case> prepare(const device_info& d, const benchmark_info& b,
                                          run_mode) override {
    prepared.push_back(d.id + " " + b.name);
    if (b.name == "unsupported") throw benchmark_unsupported("no algorithm for this shape");
    return std::make_unique<fake_case>(b, this);
  }
  std::optional<std::string> device_lost(const device_info& d) override {
    if (sticky_on == d.id) return std::string("poisoned context");
    return std::nullopt;
  }

  std::vector<std::string> plan;
  std::vector<std::string> prepared;
  std::string sticky_on;
  int alive = 0;  ///< cases not destroyed

 private:
  class fake_case final : public benchmark_case {
   public:
    fake_case(benchmark_info info, fake_backend* be) : info_(std::move(info)), be_(be) {
      ++be_->alive;
    }
    ~fake_case() override { --be_->alive; }
    fake_case(const fake_case&) = delete;
    fake_case& operator=(const fake_case&) = delete;
    [[nodiscard]] const benchmark_info& info() const override { return info_; }
    sample run(std::uint64_t reps) override {
      if (info_.name == "hang") throw device_hung("did not finish within 60 s");
      if (info_.name == "sticky") throw error("cudaErrorIllegalAddress");
      sample s;
      s.seconds = 0.02;
      s.work = 1e9 * static_cast<double>(reps);
      return s;
    }
    verification verify() override { return {info_.name != "invalid", 0, 0, info_.name}; }
    [[nodiscard]] std::optional<std::pair<double, std::string>> theoretical(double) const override {
      return std::nullopt;
    }

   private:
    benchmark_info info_;
    fake_backend* be_;
  };
  int count_;
};

measure_options fake_options(const std::string& filter = "") {
  measure_options o;
  o.filter = filter;
  return o;
}

const measurement* result_of(const measurement_report& r, const std::string& device,
                             const std::string& name) {
  for (const auto& m : r.results) {
    if (m.device_id == device && m.info.name == name) return &m;
  }
  return nullptr;
}

TEST(MeasureFaults, UnsupportedIsSkippedAndInvalidDoesNotStopTheDevice) {
  fake_backend be(1);
  be.plan = {"unsupported", "invalid", "ok"};
  const auto r = measure_with(be, fake_options());
  EXPECT_EQ(result_of(r, "fake:0", "unsupported")->status, result_status::skipped);
  EXPECT_EQ(result_of(r, "fake:0", "unsupported")->reason, "no algorithm for this shape");
  EXPECT_EQ(result_of(r, "fake:0", "invalid")->status, result_status::invalid);
  EXPECT_EQ(result_of(r, "fake:0", "ok")->status, result_status::ok) << "the device was not lost";
  EXPECT_EQ(result_of(r, "fake:0", "never")->status, result_status::skipped);
  EXPECT_TRUE(r.hung_device.empty());
  EXPECT_EQ(be.alive, 0) << "every case destroyed";
}

TEST(MeasureFaults, StickyErrorSkipsTheRestOfThatDeviceOnly) {
  fake_backend be(2);
  be.plan = {"sticky", "ok"};
  be.sticky_on = "fake:0";
  const auto r = measure_with(be, fake_options());
  const auto* failed = result_of(r, "fake:0", "sticky");
  EXPECT_EQ(failed->status, result_status::invalid);
  EXPECT_NE(failed->reason.find("cudaErrorIllegalAddress"), std::string::npos) << failed->reason;
  const auto* after = result_of(r, "fake:0", "ok");
  EXPECT_EQ(after->status, result_status::skipped);
  EXPECT_EQ(after->reason,
            "not run: fake:0 can run nothing more in this process after sticky failed (poisoned "
            "context)");
  EXPECT_EQ(result_of(r, "fake:1", "sticky")->status, result_status::invalid)
      << "fake:1 fails it too, but is not lost";
  EXPECT_EQ(result_of(r, "fake:1", "ok")->status, result_status::ok);
  EXPECT_EQ(std::count(be.prepared.begin(), be.prepared.end(), "fake:0 ok"), 0)
      << "nothing prepared on a lost device";
}

TEST(MeasureFaults, HangStopsEveryDeviceAndLeaksTheCase) {
  fake_backend be(2);
  be.plan = {"hang", "ok"};
  const auto r = measure_with(be, fake_options());
  EXPECT_EQ(r.hung_device, "fake:0");
  EXPECT_EQ(result_of(r, "fake:0", "hang")->status, result_status::invalid);
  EXPECT_NE(result_of(r, "fake:0", "hang")->reason.find("did not finish within 60 s"),
            std::string::npos);
  EXPECT_EQ(result_of(r, "fake:0", "ok")->reason,
            "not run: fake:0 hung during hang (the process must exit to recover it)");
  for (const char* n : {"hang", "ok", "only_on_1"}) {
    const auto* m = result_of(r, "fake:1", n);
    ASSERT_NE(m, nullptr) << n;
    EXPECT_EQ(m->status, result_status::skipped) << n;
    EXPECT_EQ(m->reason, "not run: fake:0 hung earlier (the process must exit to recover it)") << n;
  }
  EXPECT_EQ(be.prepared.size(), 1U) << "only the hung case was ever prepared";
  EXPECT_EQ(be.alive, 1)
      << "the hung case is leaked, never destroyed (its buffers cannot be freed)";
}

TEST(MeasureFaults, FilterAndDeviceSelectionAcrossDevices) {
  fake_backend be(2);
  be.plan = {"ok"};
  // A benchmark only fake:1 has: matching one device is enough.
  auto r = measure_with(be, fake_options("^only_on_1$"));
  ASSERT_EQ(r.results.size(), 1U);
  EXPECT_EQ(r.results[0].device_id, "fake:1");
  EXPECT_THROW((void)measure_with(be, fake_options("^nothing$")), usage_error);
  auto o = fake_options("^ok$");
  o.devices = {"fake:1"};
  r = measure_with(be, o);
  ASSERT_EQ(r.devices.size(), 1U);
  EXPECT_EQ(r.devices[0].id, "fake:1");
  o.devices = {"1", "0"};
  r = measure_with(be, o);
  ASSERT_EQ(r.devices.size(), 2U);
  EXPECT_EQ(r.devices[0].id, "fake:0") << "in the backend's order";
  o.devices = {"2"};
  try {
    (void)measure_with(be, o);
    FAIL() << "expected a usage_error";
  } catch (const usage_error& e) {
    EXPECT_STREQ(
        e.what(),
        "--device '2' names no fake device; there are 2: 0 = fake:0 (Fake), 1 = fake:1 (Fake)");
  }
}

}  // namespace
}  // namespace chipgauge::bench
