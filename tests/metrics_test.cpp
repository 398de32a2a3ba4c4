// TPP, PD and bandwidth metrics (docs/regulation.md#metrics and #reference-cases).
#include "chipgauge/classifier/metrics.hpp"
#include "chipgauge/core/error.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

namespace chipgauge::classifier {
namespace {

using test::bundled_rules;

const metric_definitions& defs() { return bundled_rules().definitions(); }

processing_unit unit(const std::string& name,
                     std::initializer_list<std::pair<precision, double>> rates) {
  processing_unit u;
  u.name = name;
  for (const auto& [p, r] : rates) u.dense_tops[index_of(p)] = value_range{r, r};
  return u;
}

chip_spec ic_with(std::vector<processing_unit> units) {
  chip_spec s;
  s.id = "t";
  s.file = "<test>";
  s.units = std::move(units);
  return s;
}

TEST(TppMetric, BisIntegerExampleIs4800) {
  const auto m = compute_metrics(ic_with({unit("u", {{precision::int8, 600}})}), defs());
  EXPECT_DOUBLE_EQ(m.tpp, 4800);
}

TEST(TppMetric, BisFloatExampleIs4800) {
  const auto m = compute_metrics(ic_with({unit("u", {{precision::fp16, 300}})}), defs());
  EXPECT_DOUBLE_EQ(m.tpp, 4800);
}

TEST(TppMetric, TakesTheBestPrecisionOfAUnit) {
  const auto m = compute_metrics(
      ic_with({unit("u", {{precision::fp64, 60}, {precision::fp16, 100}, {precision::int8, 150}})}),
      defs());
  // fp64 60 x 64 = 3840 beats fp16 1600 and int8 1200.
  EXPECT_DOUBLE_EQ(m.tpp, 3840);
  ASSERT_TRUE(m.units[0].best.has_value());
  EXPECT_EQ(*m.units[0].best, precision::fp64);
}

TEST(TppMetric, SumsPerUnitMaxima) {
  // Unit A is best at int8 (2400), unit B at fp32 (1600): sum of maxima 4000;
  // per precision sums: int8 2400 + 0, fp32 0 + 1600 -> max of sums 2400.
  const auto m = compute_metrics(
      ic_with({unit("A", {{precision::int8, 300}}), unit("B", {{precision::fp32, 50}})}), defs());
  EXPECT_DOUBLE_EQ(m.tpp_sum_of_unit_max, 4000);
  EXPECT_DOUBLE_EQ(m.tpp_max_of_sums, 2400);
  EXPECT_DOUBLE_EQ(m.tpp, 4000) << "the default aggregation is the conservative sum of unit maxima";
  ASSERT_TRUE(m.max_of_sums_precision.has_value());
  EXPECT_EQ(*m.max_of_sums_precision, precision::int8);
}

TEST(TppMetric, AggregationsAgreeWhenUnitsShareTheirBestPrecision) {
  const auto m = compute_metrics(
      ic_with({unit("A", {{precision::int8, 300}}), unit("B", {{precision::int8, 100}})}), defs());
  EXPECT_DOUBLE_EQ(m.tpp_sum_of_unit_max, 3200);
  EXPECT_DOUBLE_EQ(m.tpp_max_of_sums, 3200);
}

TEST(TppMetric, Tf32DefaultsTo32BitsAndReports19) {
  const auto m = compute_metrics(ic_with({unit("u", {{precision::tf32, 150}})}), defs());
  EXPECT_DOUBLE_EQ(m.tpp, 4800);
  ASSERT_EQ(m.tpp_tf32_alternatives.size(), 1U);
  EXPECT_DOUBLE_EQ(m.tpp_tf32_alternatives[0].first, 19);
  EXPECT_DOUBLE_EQ(m.tpp_tf32_alternatives[0].second, 150 * 19);
}

TEST(TppMetric, Tf32AlternativeOmittedWhenAnotherPrecisionDominates) {
  const auto m = compute_metrics(
      ic_with({unit("u", {{precision::tf32, 100}, {precision::int8, 1000}})}), defs());
  EXPECT_TRUE(m.tpp_tf32_alternatives.empty());
}

TEST(TppMetric, SparseRatesNeverCount) {
  auto u = unit("u", {{precision::fp8, 100}});
  u.sparse_tops[index_of(precision::fp8)] = value_range{200, 200};
  const auto m = compute_metrics(ic_with({u}), defs());
  EXPECT_DOUBLE_EQ(m.tpp, 800);
}

TEST(PerformanceDensity, CountsOnlyNonPlanarLogicDies) {
  auto s = ic_with({unit("u", {{precision::int8, 600}})});
  s.dies.push_back({"logic", die_kind::logic, 1, value_range{400, 400}, {}, "N5", 5, true, {}});
  s.dies.push_back({"io", die_kind::io, 1, value_range{300, 300}, {}, "N6", 6, true, {}});
  s.dies.push_back(
      {"old logic", die_kind::logic, 2, value_range{100, 100}, {}, "28nm planar", 28, false, {}});
  s.dies.push_back({"hbm", die_kind::memory, 8, value_range{110, 110}, {}, "DRAM", {}, false, {}});
  const auto m = compute_metrics(s, defs());
  ASSERT_TRUE(m.applicable_die_area_mm2.has_value());
  EXPECT_DOUBLE_EQ(*m.applicable_die_area_mm2, 400);
  ASSERT_TRUE(m.pd.has_value());
  EXPECT_DOUBLE_EQ(*m.pd, 12);
}

TEST(PerformanceDensity, MultipliesDieCount) {
  auto s = ic_with({unit("u", {{precision::int8, 600}})});
  s.dies.push_back(
      {"ccd", die_kind::logic, 8, value_range{75, 75}, {}, "N5", 5, true, value_range{10e9, 10e9}});
  const auto m = compute_metrics(s, defs());
  EXPECT_DOUBLE_EQ(*m.applicable_die_area_mm2, 600);
  EXPECT_DOUBLE_EQ(*m.transistors, 80e9);
}

TEST(TransistorCount, SumsLogicAndIoDiesAndIgnoresMemoryAndPassiveDies) {
  auto s = ic_with({unit("u", {{precision::int8, 600}})});
  s.dies.push_back(
      {"ccd", die_kind::logic, 8, value_range{75, 75}, {}, "N5", 5, true, value_range{10e9, 10e9}});
  s.dies.push_back(
      {"iod", die_kind::io, 1, value_range{400, 400}, {}, "N6", 6, true, value_range{11e9, 11e9}});
  s.dies.push_back({"hbm", die_kind::memory, 8, value_range{110, 110}, {}, "DRAM", {}, false, {}});
  s.dies.push_back(
      {"capacitor wafer", die_kind::other, 1, value_range{800, 800}, {}, "", {}, false, {}});
  const auto m = compute_metrics(s, defs());
  ASSERT_TRUE(m.transistors.has_value());
  EXPECT_DOUBLE_EQ(*m.transistors, 91e9);
}

TEST(TransistorCount, ALogicDieWithoutACountMakesThePartsCountUnknownNotAPartialSum) {
  // 25 billion listed + an uncounted I/O die: a partial sum would clear a 30-billion line the part
  // may cross, so the count is unknown and a rule testing it is undetermined.
  auto s = ic_with({unit("u", {{precision::int8, 600}})});
  s.dies.push_back({"compute",
                    die_kind::logic,
                    1,
                    value_range{600, 600},
                    {},
                    "N4",
                    4,
                    true,
                    value_range{25e9, 25e9}});
  s.dies.push_back({"iod", die_kind::io, 1, value_range{300, 300}, {}, "N6", 6, true, {}});
  EXPECT_FALSE(compute_metrics(s, defs()).transistors.has_value());
}

TEST(PerformanceDensity, NullWithReasonWhenNoNonPlanarDie) {
  auto s = ic_with({unit("u", {{precision::int8, 600}})});
  s.dies.push_back(
      {"planar", die_kind::logic, 1, value_range{400, 400}, {}, "28nm", 28, false, {}});
  const auto m = compute_metrics(s, defs());
  EXPECT_FALSE(m.pd.has_value());
  EXPECT_NE(m.pd_reason.find("non-planar"), std::string::npos) << m.pd_reason;
}

TEST(PerformanceDensity, NullWithReasonWhenNoDiesListed) {
  const auto m = compute_metrics(ic_with({unit("u", {{precision::int8, 600}})}), defs());
  EXPECT_FALSE(m.pd.has_value());
  EXPECT_NE(m.pd_reason.find("no dies"), std::string::npos) << m.pd_reason;
}

TEST(RangeEnds, PickTheEndThatFavoursOrOpposesControl) {
  auto u = unit("u", {});
  u.dense_tops[index_of(precision::int8)] = value_range{500, 700};
  auto s = ic_with({u});
  s.dies.push_back({"logic", die_kind::logic, 1, value_range{400, 800}, {}, "N5", 5, true, {}});
  const auto hi = compute_metrics(s, defs(), range_end::most_control);
  const auto lo = compute_metrics(s, defs(), range_end::least_control);
  const auto mid = compute_metrics(s, defs(), range_end::nominal);
  EXPECT_DOUBLE_EQ(hi.tpp, 5600);
  EXPECT_DOUBLE_EQ(*hi.pd, 14);
  EXPECT_DOUBLE_EQ(lo.tpp, 4000);
  EXPECT_DOUBLE_EQ(*lo.pd, 5);
  EXPECT_DOUBLE_EQ(mid.tpp, 4800);
  EXPECT_DOUBLE_EQ(*mid.pd, 8);
  EXPECT_TRUE(s.has_ranges());
}

TEST(Bandwidth, HbmDensityIsStackBandwidthOverArea) {
  chip_spec s;
  s.kind = part_kind::hbm;
  s.hbm_stack = hbm_stack_spec{1200, {100, 100}, "HBM3E"};
  const auto m = compute_metrics(s, defs());
  ASSERT_TRUE(m.memory_bandwidth_density_gb_s_mm2.has_value());
  EXPECT_DOUBLE_EQ(*m.memory_bandwidth_density_gb_s_mm2, 12);
  EXPECT_TRUE(m.has_hbm);
}

TEST(Bandwidth, DramAndIoComeFromTheSheet) {
  auto s = ic_with({unit("u", {{precision::int8, 1}})});
  s.memory = memory_spec{"HBM3", 80, value_range{3350, 3350}};
  s.interconnect = interconnect_spec{{1028, 1028}, "NVLink + PCIe", {}};
  const auto m = compute_metrics(s, defs());
  EXPECT_DOUBLE_EQ(*m.dram_bandwidth_gb_s, 3350);
  EXPECT_DOUBLE_EQ(*m.io_bidirectional_gb_s, 1028);
  EXPECT_TRUE(m.has_hbm);
}

TEST(H100Equivalents, DivideByTheReferenceTpp) {
  const auto m = compute_metrics(ic_with({unit("u", {{precision::int8, 1978.9 * 2}})}), defs());
  EXPECT_NEAR(m.h100_equivalents, 2.0 * 1978.9 * 8 / 15832, 1e-12);
}

TEST(BoardMetrics, SumContainedParts) {
  auto gpu = ic_with({unit("u", {{precision::int8, 600}})});
  gpu.id = "gpu";
  gpu.memory = memory_spec{"HBM3", 80, value_range{3000, 3000}};
  gpu.dies.push_back({"logic",
                      die_kind::logic,
                      1,
                      value_range{500, 500},
                      {},
                      "N4",
                      4,
                      true,
                      value_range{80e9, 80e9}});
  chip_spec board;
  board.id = "board";
  board.kind = part_kind::board;
  component c;
  c.id = "gpu";
  c.resolved = &gpu;
  c.count = 8;
  board.contains.push_back(c);
  const auto m = compute_metrics(board, defs());
  EXPECT_DOUBLE_EQ(m.tpp, 8 * 4800);
  EXPECT_DOUBLE_EQ(*m.dram_bandwidth_gb_s, 8 * 3000);
  EXPECT_DOUBLE_EQ(*m.applicable_die_area_mm2, 8 * 500);
  EXPECT_DOUBLE_EQ(*m.transistors, 8 * 80e9);
  EXPECT_EQ(m.units.size(), 1U);
}

TEST(BoardMetrics, UnresolvedComponentIsAnError) {
  chip_spec board;
  board.kind = part_kind::board;
  board.file = "board.json";
  component c;
  c.id = "missing";
  c.json_path = "$.contains[0]";
  board.contains.push_back(c);
  EXPECT_THROW((void)compute_metrics(board, defs()), spec_error);
}

}  // namespace
}  // namespace chipgauge::classifier

namespace chipgauge::classifier {
namespace {

TEST(PerformanceDensity, UnknownWhenANonPlanarLogicDieHasNoArea) {
  chip_spec s;
  s.id = "t";
  processing_unit u;
  u.name = "u";
  u.dense_tops[index_of(precision::int8)] = value_range{600, 600};
  s.units.push_back(u);
  s.dies.push_back({"known", die_kind::logic, 1, value_range{400, 400}, {}, "N5", 5, true, {}});
  s.dies.push_back({"unpublished", die_kind::logic, 1, std::nullopt, {}, "N5", 5, true, {}});
  const auto m = compute_metrics(s, test::bundled_rules().definitions());
  EXPECT_FALSE(m.pd.has_value()) << "a partial area would overstate PD";
  EXPECT_FALSE(m.applicable_die_area_mm2.has_value());
  EXPECT_NE(m.pd_reason.find("'unpublished'"), std::string::npos) << m.pd_reason;
}

}  // namespace
}  // namespace chipgauge::classifier

namespace chipgauge::classifier {
namespace {

TEST(BoardMetrics, MaxOfSumsAggregatesPerPrecisionAcrossComponents) {
  const auto& defs = test::bundled_rules().definitions();
  chip_spec fp8;
  fp8.id = "fp8";
  processing_unit u8;
  u8.name = "u";
  u8.dense_tops[index_of(precision::fp8)] = value_range{100, 100};  // TPP 800
  fp8.units.push_back(u8);
  chip_spec int8 = fp8;
  int8.id = "int8";
  int8.units[0].dense_tops = {};
  int8.units[0].dense_tops[index_of(precision::int8)] = value_range{100, 100};  // TPP 800
  chip_spec board;
  board.kind = part_kind::board;
  component a;
  a.id = "fp8";
  a.resolved = &fp8;
  component b;
  b.id = "int8";
  b.resolved = &int8;
  board.contains = {a, b};
  const auto m = compute_metrics(board, defs);
  EXPECT_DOUBLE_EQ(m.tpp_sum_of_unit_max, 1600);
  EXPECT_DOUBLE_EQ(m.tpp_max_of_sums, 800) << "fp8 and int8 sums are 800 each";
}

TEST(BoardMetrics, ComponentWithUnknownAreaLeavesBoardPdUnknown) {
  const auto& defs = test::bundled_rules().definitions();
  auto known = test::synthetic_ic(4000, 500, true);
  known.id = "known";
  auto no_dies = test::synthetic_ic(4000, 0, true);
  no_dies.id = "nodies";
  chip_spec board;
  board.kind = part_kind::board;
  component a;
  a.id = "known";
  a.resolved = &known;
  component b;
  b.id = "nodies";
  b.resolved = &no_dies;
  board.contains = {a, b};
  const auto m = compute_metrics(board, defs);
  EXPECT_FALSE(m.pd.has_value()) << "a partial area would overstate PD";
  EXPECT_FALSE(m.pd_not_met_by_reading) << "unknown, not 'not met'";
}

}  // namespace
}  // namespace chipgauge::classifier
