// A measurement against a sheet (classify --measured), the findings policy, and fleet lines from
// measurement reports: the library functions the CLI and the HTTP server share.
#include "chipgauge/bench/classify_measured.hpp"
#include "chipgauge/bench/fleet.hpp"
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/classifier/findings.hpp"
#include "chipgauge/core/error.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using chipgauge::classifier::catalog;
using chipgauge::classifier::chip_spec;
using chipgauge::classifier::compute_metrics;
using chipgauge::classifier::evaluation_plan;
using chipgauge::classifier::findings_policy;
using chipgauge::classifier::output_format;
using chipgauge::classifier::tpp_findings;

namespace chipgauge {
namespace {

using strings = std::vector<std::string>;

const std::string sample_report = test::data_dir() + "/measurement-sample.json";

bench::measured_tpp device(const char* name, const char* vendor) {
  bench::measured_tpp m;
  m.device_id = "dev0";
  m.device_name = name;
  m.device_vendor = vendor;
  return m;
}

findings_policy policy(double above, double below) {
  findings_policy p;
  p.understates_above = above;
  p.shortfall_below = below;
  return p;
}

TEST(ModelTokens, RunsOfLettersAndDigitsThatHoldADigit) {
  EXPECT_EQ(bench::model_tokens("NVIDIA H200"), strings{"h200"});
  EXPECT_EQ(bench::model_tokens("AMD EPYC 9654"), strings{"9654"});
  EXPECT_EQ(bench::model_tokens("Instinct MI300X, 192GB"), (strings{"mi300x", "192gb"}));
  EXPECT_EQ(bench::model_tokens("nvidia-h100-sxm5-80gb"), (strings{"h100", "sxm5", "80gb"}));
  EXPECT_TRUE(bench::model_tokens("AMD EPYC").empty());
  EXPECT_TRUE(bench::model_tokens("").empty());
}

TEST(VendorWord, CpuidStringsBecomeCompanyNames) {
  EXPECT_EQ(bench::vendor_word("AuthenticAMD"), "amd");
  EXPECT_EQ(bench::vendor_word("GenuineIntel"), "intel");
  EXPECT_EQ(bench::vendor_word("NVIDIA"), "nvidia");
  EXPECT_EQ(bench::vendor_word(""), "");
}

class Measured : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cat_ = new catalog(catalog::load(test::specs_dir())); }
  static void TearDownTestSuite() { delete cat_; }
  static const chip_spec& part(const char* id) { return *cat_->parts().find(id); }
  static catalog* cat_;
};
catalog* Measured::cat_ = nullptr;

TEST_F(Measured, SheetOfTheDeviceMatches) {
  EXPECT_EQ(
      bench::check_sheet_matches(part("nvidia-h200-sxm-141gb"), device("NVIDIA H200", "NVIDIA")),
      std::nullopt);
  EXPECT_EQ(bench::check_sheet_matches(part("amd-epyc-9654"),
                                       device("AMD EPYC 9654 96-Core Processor", "AuthenticAMD")),
            std::nullopt);
}

TEST_F(Measured, SheetOfAnotherModelIsRefused) {
  try {
    (void)bench::check_sheet_matches(part("nvidia-h100-sxm5-80gb"),
                                     device("NVIDIA H200", "NVIDIA"));
    FAIL() << "an H100 sheet for an H200 was accepted";
  } catch (const usage_error& e) {
    EXPECT_NE(
        std::string(e.what()).find("shares no model number with the measured device 'NVIDIA H200'"),
        std::string::npos)
        << e.what();
  }
}

TEST_F(Measured, SheetOfAnotherVendorIsRefused) {
  try {
    (void)bench::check_sheet_matches(part("nvidia-h100-sxm5-80gb"),
                                     device("AMD EPYC", "AuthenticAMD"));
    FAIL() << "an NVIDIA sheet for an AMD device was accepted";
  } catch (const usage_error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "is a NVIDIA part but the measured device 'AMD EPYC' is made by AuthenticAMD"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(Measured, DeviceWithoutModelNumberIsAFindingNotAMatch) {
  const auto f =
      bench::check_sheet_matches(part("amd-epyc-9654"), device("AMD EPYC", "AuthenticAMD"));
  ASSERT_TRUE(f.has_value());
  EXPECT_NE(f->find("carries no model number"), std::string::npos) << *f;
}

TEST_F(Measured, DeviceWithoutVendorIsAFindingEvenWhenTheModelMatches) {
  const auto f =
      bench::check_sheet_matches(part("nvidia-h200-sxm-141gb"), device("NVIDIA H200", ""));
  ASSERT_TRUE(f.has_value())
      << "a device reporting no vendor must not pass the vendor check silently";
  EXPECT_NE(f->find("reports no vendor, so the sheet's vendor (NVIDIA) cannot be confirmed"),
            std::string::npos)
      << *f;
}

TEST_F(Measured, ClassifiesTheReportAsALowerBoundBesideTheSheet) {
  const evaluation_plan plan(cat_->rules(), *date::parse("2026-11-29"));
  const auto m = bench::classify_measured(*cat_, plan, sample_report, "amd-epyc-9654", "");
  ASSERT_EQ(m.results.size(), 1U);
  EXPECT_EQ(m.results[0].spec, m.part.get());
  EXPECT_TRUE(m.results[0].metrics.tpp_lower_bound);
  EXPECT_EQ(m.part->name, "EPYC 9654 (Genoa) (measured)");
  ASSERT_TRUE(m.derived_tpp.has_value());
  EXPECT_LT(m.tpp(), *m.derived_tpp);
  // A 2-vCPU slice of an EPYC 9654, and a device name without a model number.
  ASSERT_EQ(m.findings.size(), 2U);
  EXPECT_NE(m.findings[0].find("measured TPP is only"), std::string::npos) << m.findings[0];
  EXPECT_NE(m.findings[1].find("cannot be confirmed"), std::string::npos) << m.findings[1];
  const auto text = bench::render(m, plan, output_format::text);
  EXPECT_NE(text.find("  finding: measured TPP is only"), std::string::npos) << text;
  const auto json = nlohmann::json::parse(bench::render(m, plan, output_format::json));
  EXPECT_EQ(json.at("measured").at("findings").size(), 2U);
  EXPECT_TRUE(json.at("measured").at("lower_bound").get<bool>());
}

TEST_F(Measured, WithoutASheetTheMeasurementStandsAlone) {
  const evaluation_plan plan(cat_->rules(), *date::parse("2026-11-29"));
  const auto m = bench::classify_measured(*cat_, plan, sample_report, "", "");
  EXPECT_EQ(m.part->id, "measured-cpu0");
  EXPECT_FALSE(m.declared_tpp.has_value());
  EXPECT_FALSE(m.derived_tpp.has_value());
  EXPECT_TRUE(m.findings.empty());
}

TEST_F(Measured, BoardSheetIsRefused) {
  const evaluation_plan plan(cat_->rules(), *date::parse("2026-11-29"));
  EXPECT_THROW(
      (void)bench::classify_measured(*cat_, plan, sample_report, "nvidia-hgx-h100-8gpu", ""),
      usage_error);
}

TEST(TppFindings, StrictlyBeyondEitherRatioAndOnePerReference) {
  const auto p = policy(1.02, 0.5);
  EXPECT_TRUE(tpp_findings(102, 100.0, 200.0, p).empty()) << "both ratios exactly at their bound";
  const auto over = tpp_findings(103, 100.0, std::nullopt, p);
  ASSERT_EQ(over.size(), 1U);
  EXPECT_EQ(over[0],
            "measured TPP is 1.03 x the declared figure: the declared spec understates the part");
  const auto both = tpp_findings(10, 100.0, 1000.0, p);
  ASSERT_EQ(both.size(), 2U);
  EXPECT_NE(both[0].find("only 0.10 x the declared figure"), std::string::npos) << both[0];
  EXPECT_NE(both[1].find("only 0.01 x the derived figure"), std::string::npos) << both[1];
  EXPECT_TRUE(tpp_findings(10, 0.0, std::nullopt, p).empty()) << "a reference of 0 says nothing";
  EXPECT_EQ(tpp_findings(150, 100.0, std::nullopt, policy(2, 0.5)).size(), 0U)
      << "the ratios come from the policy";
}

TEST(FindingsPolicy, BundledFileHoldsTheRatios) {
  const auto p = findings_policy::load(test::specs_dir() + "/policy/findings.json");
  EXPECT_DOUBLE_EQ(p.understates_above, 1.02);
  EXPECT_DOUBLE_EQ(p.shortfall_below, 0.5);
}

TEST(FindingsPolicy, BadFileNamesFileAndPath) {
  test::temp_dir dir;
  const auto f = dir.write("findings.json", R"({"schema": "chipgauge.findings/1", "title": "t",
    "measured_vs_sheet_tpp": {"understates_above": 0.9, "shortfall_below": 0.5}})");
  try {
    (void)findings_policy::load(f);
    FAIL() << "a ratio below 1 was accepted";
  } catch (const spec_error& e) {
    EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("$.measured_vs_sheet_tpp.understates_above"),
              std::string::npos)
        << e.what();
  }
}

TEST(IsMeasurementReport, ReadsTheSchemaMember) {
  test::temp_dir dir;
  EXPECT_TRUE(bench::is_measurement_report(sample_report));
  // A sheet that merely mentions the report schema is not a report.
  EXPECT_FALSE(
      bench::is_measurement_report(dir.write("sheet.json", R"({"schema": "chipgauge.spec/1",
    "notes": ["compare with a \"chipgauge.measurement/1\" report"]})")));
  EXPECT_FALSE(bench::is_measurement_report(
      dir.write("nested.json", R"({"x": {"schema": "chipgauge.measurement/1"}})")));
  EXPECT_FALSE(
      bench::is_measurement_report(dir.write("array.json", R"(["chipgauge.measurement/1"])")));
  EXPECT_FALSE(bench::is_measurement_report(
      dir.write("broken.json", R"({"schema": "chipgauge.measurement/1",)")));
}

TEST_F(Measured, FleetItemFromAReportOrAPart) {
  const auto r = bench::fleet_item_for(*cat_, sample_report, 3);
  EXPECT_EQ(r.label, sample_report + " (AMD EPYC)");
  EXPECT_EQ(r.basis, "measured (lower bound)");
  EXPECT_EQ(r.quantity, 3);
  EXPECT_GT(r.tpp_each, 0);
  const auto p = bench::fleet_item_for(*cat_, "nvidia-h100-sxm5-80gb", 2);
  EXPECT_EQ(p.label, "nvidia-h100-sxm5-80gb");
  EXPECT_EQ(p.basis, "sheet");
  EXPECT_DOUBLE_EQ(p.tpp_each,
                   compute_metrics(part("nvidia-h100-sxm5-80gb"), cat_->rules().definitions()).tpp);
}

TEST(MeasurementOutcome, UnverifiedBeforeNothingMeasured) {
  bench::measurement_report r;
  EXPECT_EQ(bench::outcome_of(r), bench::measurement_outcome::nothing_measured);
  r.results.emplace_back().status = bench::result_status::skipped;
  EXPECT_EQ(bench::outcome_of(r), bench::measurement_outcome::nothing_measured);
  r.results.emplace_back().status = bench::result_status::ok;
  EXPECT_EQ(bench::outcome_of(r), bench::measurement_outcome::ok);
  r.results.emplace_back().status = bench::result_status::invalid;
  EXPECT_EQ(bench::outcome_of(r), bench::measurement_outcome::unverified);
}

}  // namespace
}  // namespace chipgauge
