// Spec sheets (`chipgauge.spec/1`): parsing, rejection of bad input, validation and the database.
#include "chipgauge/classifier/spec.hpp"
#include "chipgauge/classifier/database.hpp"
#include "chipgauge/classifier/engine.hpp"
#include "chipgauge/classifier/metrics.hpp"
#include "chipgauge/core/error.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace chipgauge::classifier {
namespace {

using nlohmann::json;
using test::bundled_rules;
using test::temp_dir;

const std::string sheet_file = "specs/chips/test-chip.json";

// The smallest valid IC: one unit at 100 dense INT8 TOPS, so TPP = 100 x 8 = 800.
json minimal_ic(const std::string& id = "test-chip") {
  return json{{"schema", "chipgauge.spec/1"},
              {"id", id},
              {"vendor", "Acme"},
              {"name", "Test Chip"},
              {"kind", "ic"},
              {"processing_units",
               json::array({json{{"name", "tensor cores"}, {"dense_tops", {{"int8", 100}}}}})}};
}

// A board containing `count` of the part `id`.
json board_of(const std::string& board_id, const std::string& ic_id, int count) {
  return json{{"schema", "chipgauge.spec/1"},
              {"id", board_id},
              {"vendor", "Acme"},
              {"name", "Test Board"},
              {"kind", "board"},
              {"contains", json::array({json{{"id", ic_id}, {"count", count}}})}};
}

chip_spec parse(const json& j) { return parse_spec(j.dump(2), sheet_file); }

std::optional<spec_error> error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const spec_error& e) {
    return e;
  }
  return std::nullopt;
}

std::optional<spec_error> parse_error(const json& j) {
  return error_of([&] { (void)parse(j); });
}

::testing::AssertionResult mentions(const std::string& text, std::string_view needle) {
  if (text.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "\"" << text << "\" does not mention \"" << needle << "\"";
}

const metric_definitions& defs() { return bundled_rules().definitions(); }

// --- valid sheets --------------------------------------------------------------------------------

TEST(SpecParse, MinimalSheetParses) {
  const auto s = parse(minimal_ic());
  EXPECT_EQ(s.file, sheet_file);
  EXPECT_EQ(s.id, "test-chip");
  EXPECT_EQ(s.vendor, "Acme");
  EXPECT_EQ(s.name, "Test Chip");
  EXPECT_EQ(s.kind, part_kind::ic);
  EXPECT_EQ(s.evidence, data_evidence::unspecified);
  ASSERT_EQ(s.units.size(), 1U);
  EXPECT_EQ(s.units[0].name, "tensor cores");
  const auto& int8 = s.units[0].dense_tops[index_of(precision::int8)];
  ASSERT_TRUE(int8.has_value());
  EXPECT_EQ(int8->lo, 100.0);
  EXPECT_EQ(int8->hi, 100.0);
  EXPECT_FALSE(s.units[0].dense_tops[index_of(precision::fp8)].has_value());
  EXPECT_FALSE(s.units[0].count.has_value());
  EXPECT_TRUE(s.dies.empty());
  EXPECT_FALSE(s.memory.has_value());
  EXPECT_FALSE(s.interconnect.has_value());
  EXPECT_FALSE(s.declared.has_value());
  EXPECT_TRUE(s.contains.empty());
  EXPECT_FALSE(s.has_ranges());
  EXPECT_FALSE(s.has_hbm());
  EXPECT_EQ(compute_metrics(s, defs()).tpp, 800.0);
}

TEST(SpecParse, FullSheetFieldsParse) {
  auto j = minimal_ic();
  j["evidence"] = "vendor_datasheet";
  j["datacenter"] = {{"value", false}, {"evidence", "sold as a gaming card"}};
  j["processing_units"][0]["count"] = 528;
  j["processing_units"][0]["clock_mhz"] = 1830;
  j["processing_units"][0]["sparse_tops"] = {{"int8", 200}};
  j["dies"] = json::array({json{{"name", "GH100"},
                                {"kind", "logic"},
                                {"area_mm2", 814},
                                {"process", "TSMC 4N"},
                                {"node_nm", 4},
                                {"non_planar", true},
                                {"transistors", 80e9}}});
  j["memory"] = {{"type", "HBM3"}, {"capacity_gb", 80}, {"bandwidth_gb_s", 3350}};
  j["interconnect"] = {{"bidirectional_gb_s", 900}, {"kind", "NVLink 4"}};
  j["declared"] = {{"tpp", 800},
                   {"eccn", "3A090.a"},
                   {"as_of", "2024-01-02"},
                   {"by", "vendor"},
                   {"source", "https://example.com"}};
  j["sources"] = json::array({json{{"url", "https://example.com"}, {"supports", {"memory"}}}});
  j["notes"] = {"a note"};
  const auto s = parse(j);
  EXPECT_EQ(s.evidence, data_evidence::vendor_datasheet);
  EXPECT_FALSE(s.datacenter.value);
  EXPECT_FALSE(s.datacenter.defaulted);
  EXPECT_EQ(s.datacenter.evidence, "sold as a gaming card");
  EXPECT_EQ(s.units[0].count, 528);
  ASSERT_TRUE(s.units[0].clock_mhz.has_value());
  EXPECT_EQ(s.units[0].clock_mhz->lo, 1830.0);
  ASSERT_TRUE(s.units[0].sparse_tops[index_of(precision::int8)].has_value());
  EXPECT_EQ(s.units[0].sparse_tops[index_of(precision::int8)]->hi, 200.0);
  ASSERT_EQ(s.dies.size(), 1U);
  EXPECT_EQ(s.dies[0].kind, die_kind::logic);
  EXPECT_EQ(s.dies[0].area_mm2->lo, 814.0);
  EXPECT_EQ(s.dies[0].node_nm, 4.0);
  EXPECT_TRUE(s.dies[0].non_planar);
  EXPECT_EQ(s.dies[0].count, 1);
  ASSERT_TRUE(s.memory.has_value());
  EXPECT_EQ(s.memory->type, "HBM3");
  EXPECT_TRUE(s.has_hbm());
  ASSERT_TRUE(s.memory->bandwidth_gb_s.has_value());
  EXPECT_EQ(s.memory->bandwidth_gb_s->lo, 3350.0);
  ASSERT_TRUE(s.interconnect.has_value());
  EXPECT_EQ(s.interconnect->bidirectional_gb_s.lo, 900.0);
  ASSERT_TRUE(s.declared.has_value());
  EXPECT_EQ(s.declared->tpp, 800.0);
  EXPECT_EQ(s.declared->eccn, "3A090.a");
  EXPECT_EQ(s.declared->as_of, date::parse("2024-01-02"));
  ASSERT_EQ(s.sources.size(), 1U);
  EXPECT_EQ(s.sources[0].supports, std::vector<std::string>{"memory"});
  EXPECT_EQ(s.notes, std::vector<std::string>{"a note"});
}

TEST(SpecParse, DatacenterOmittedDefaultsToTrue) {
  const auto s = parse(minimal_ic());
  EXPECT_TRUE(s.datacenter.value);
  EXPECT_TRUE(s.datacenter.defaulted);
  const auto m = compute_metrics(s, defs());
  EXPECT_TRUE(m.datacenter);
  EXPECT_TRUE(m.datacenter_defaulted);
}

TEST(SpecParse, DeclaredEccnNeedsTheDayItSpeaksFor) {
  auto j = minimal_ic();
  j["declared"] = {{"eccn", "3A090.a"}, {"by", "vendor"}};
  auto e = parse_error(j);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->json_path(), "$.declared");
  EXPECT_NE(std::string(e->what()).find("'eccn' needs 'as_of'"), std::string::npos) << e->what();
  j["declared"]["as_of"] = "2024-02-30";
  e = parse_error(j);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->json_path(), "$.declared.as_of");
}

TEST(SpecParse, RangesParseAsMinMax) {
  auto j = minimal_ic();
  j["processing_units"][0]["clock_mhz"] = {1000, 2000};
  j["processing_units"][0]["dense_tops"]["int8"] = {90, 110};
  j["dies"] = json::array(
      {json{{"name", "die"}, {"kind", "logic"}, {"area_mm2", {600, 650}}, {"non_planar", true}}});
  const auto s = parse(j);
  ASSERT_TRUE(s.units[0].clock_mhz.has_value());
  EXPECT_EQ(s.units[0].clock_mhz->lo, 1000.0);
  EXPECT_EQ(s.units[0].clock_mhz->hi, 2000.0);
  EXPECT_TRUE(s.units[0].clock_mhz->is_range());
  const auto& rate = s.units[0].dense_tops[index_of(precision::int8)];
  ASSERT_TRUE(rate.has_value());
  EXPECT_EQ(rate->lo, 90.0);
  EXPECT_EQ(rate->hi, 110.0);
  EXPECT_EQ(rate->mid(), 100.0);
  EXPECT_EQ(s.dies[0].area_mm2->lo, 600.0);
  EXPECT_EQ(s.dies[0].area_mm2->hi, 650.0);
  EXPECT_TRUE(s.has_ranges());
  EXPECT_EQ(compute_metrics(s, defs(), range_end::most_control).tpp, 880.0);
  EXPECT_EQ(compute_metrics(s, defs(), range_end::least_control).tpp, 720.0);
}

TEST(SpecParse, RangeWithMinAboveMaxRejected) {
  auto j = minimal_ic();
  j["processing_units"][0]["clock_mhz"] = {2000, 1000};
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), sheet_file);
  EXPECT_EQ(e->json_path(), "$.processing_units[0].clock_mhz");
  EXPECT_TRUE(mentions(e->message(), "expected min <= max, found [2000, 1000]"));
}

TEST(SpecParse, RangeOfThreeNumbersRejected) {
  auto j = minimal_ic();
  j["dies"] = json::array(
      {json{{"name", "die"}, {"kind", "logic"}, {"area_mm2", {1, 2, 3}}, {"non_planar", true}}});
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.dies[0].area_mm2");
  EXPECT_TRUE(mentions(e->message(), "expected 2 numbers (mm^2), found 3"));
}

TEST(SpecParse, InterconnectLinksWithinOnePercentAccepted) {
  auto j = minimal_ic();
  j["interconnect"] = {
      {"bidirectional_gb_s", 1028},
      {"links", json::array({json{{"kind", "NVLink"}, {"bidirectional_gb_s", 900}},
                             json{{"kind", "PCIe"}, {"bidirectional_gb_s", 130}}})}};
  const auto s = parse(j);
  ASSERT_TRUE(s.interconnect.has_value());
  ASSERT_EQ(s.interconnect->links.size(), 2U);
  EXPECT_EQ(s.interconnect->links[1].kind, "PCIe");
  EXPECT_EQ(s.interconnect->links[1].bidirectional_gb_s, 130.0);
}

// --- bad input -----------------------------------------------------------------------------------

TEST(SpecReject, MalformedJsonReportsLineAndColumn) {
  const std::string text =
      "{\n  \"schema\": \"chipgauge.spec/1\",\n  \"id\": \"test-chip\"\n"
      "  \"vendor\": \"Acme\"\n}\n";
  const auto e = error_of([&] { (void)parse_spec(text, sheet_file); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), sheet_file);
  EXPECT_EQ(e->json_path(), "$");
  // nlohmann reports the offending token (the string "vendor" after a missing comma) by its last
  // character.
  EXPECT_TRUE(mentions(e->message(), "malformed JSON at line 4, column 10"));
  EXPECT_TRUE(mentions(e->message(), "unexpected string literal"));
}

TEST(SpecReject, MissingRequiredField) {
  auto j = minimal_ic();
  j.erase("name");
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), sheet_file);
  EXPECT_EQ(e->json_path(), "$");
  EXPECT_EQ(e->message(), "missing required field 'name'");
}

TEST(SpecReject, MisspelledFieldSuggestsTheKnownOne) {
  auto j = minimal_ic();
  j.erase("vendor");
  j["vendr"] = "Acme";
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.vendr");
  EXPECT_TRUE(mentions(e->message(), "unknown field 'vendr' (did you mean 'vendor'?)"));
  EXPECT_TRUE(mentions(e->message(), "expected one of: schema, id, vendor"));
}

TEST(SpecReject, ValueWithoutUnitInFieldName) {
  auto j = minimal_ic();
  j["memory"] = {{"type", "HBM3"}, {"bandwidth", 3350}};
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.memory.bandwidth");
  EXPECT_TRUE(mentions(e->message(), "field 'bandwidth' has no unit"));
  EXPECT_TRUE(mentions(e->message(), "expected 'bandwidth_gb_s'"));
}

TEST(SpecReject, NegativeBandwidth) {
  auto j = minimal_ic();
  j["memory"] = {{"type", "GDDR6"}, {"bandwidth_gb_s", -5}};
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.memory.bandwidth_gb_s");
  EXPECT_TRUE(mentions(e->message(), "-5 is out of range: expected GB/s in [0, "));
}

TEST(SpecReject, NegativeRate) {
  auto j = minimal_ic();
  j["processing_units"][0]["dense_tops"]["int8"] = -100;
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.processing_units[0].dense_tops.int8");
  EXPECT_TRUE(mentions(e->message(), "-100 is out of range: expected 10^12 ops/s in [0, "));
}

TEST(SpecReject, DieAreaAboveA300mmWaferRejected) {
  // The limit is the area of a 300 mm wafer, pi x 150^2 = 70,685.8 mm^2, rounded up to 70,686.
  auto j = minimal_ic();
  j["dies"] = json::array(
      {json{{"name", "wafer"}, {"kind", "logic"}, {"area_mm2", 70687}, {"non_planar", true}}});
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.dies[0].area_mm2");
  EXPECT_TRUE(mentions(e->message(), "70687 is out of range: expected mm^2 in [0, 70686]"));
  // The upper end of a range is checked too.
  j["dies"][0]["area_mm2"] = json::array({40000, 80000});
  const auto r = parse_error(j);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(mentions(r->message(), "80000 is out of range: expected mm^2 in [0, 70686]"));
}

TEST(SpecReject, DieAreaOfAWholeWaferAccepted) {
  auto j = minimal_ic();
  j["dies"] = json::array(
      {json{{"name", "wafer"}, {"kind", "logic"}, {"area_mm2", 70686}, {"non_planar", true}}});
  EXPECT_EQ(parse(j).dies.at(0).area_mm2->hi, 70686.0);
}

TEST(SpecReject, ZeroDieAreaRejected) {
  auto j = minimal_ic();
  j["dies"] = json::array(
      {json{{"name", "none"}, {"kind", "logic"}, {"area_mm2", 0}, {"non_planar", true}}});
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.dies[0].area_mm2");
  EXPECT_TRUE(mentions(e->message(), "is not positive: expected mm^2 > 0"));
}

TEST(SpecReject, UnknownPrecisionSuggestsClosest) {
  auto j = minimal_ic();
  j["processing_units"][0]["dense_tops"] = {{"fp9", 100}};
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.processing_units[0].dense_tops.fp9");
  EXPECT_TRUE(mentions(e->message(), "unknown precision 'fp9' (did you mean 'fp8'?)"));
  EXPECT_TRUE(mentions(e->message(),
                       "expected one of: fp64, fp32, tf32, bf16, fp16, fp8, fp6, fp4, int8, int4"));
}

TEST(SpecReject, SparseWithoutDense) {
  auto j = minimal_ic();
  j["processing_units"][0].erase("dense_tops");
  j["processing_units"][0]["sparse_tops"] = {{"int8", 200}};
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.processing_units[0].sparse_tops");
  EXPECT_TRUE(mentions(e->message(), "sparse_tops without dense_tops"));
}

TEST(SpecReject, UnitWithoutDenseRates) {
  auto j = minimal_ic();
  j["processing_units"][0].erase("dense_tops");
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.processing_units[0]");
  EXPECT_TRUE(mentions(e->message(), "missing required field 'dense_tops'"));
}

TEST(SpecReject, SparseBelowDense) {
  auto j = minimal_ic();
  j["processing_units"][0]["sparse_tops"] = {{"int8", 50}};
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.processing_units[0].sparse_tops.int8");
  EXPECT_TRUE(mentions(e->message(), "sparse rate 50 is below the dense rate 100 for int8"));
}

TEST(SpecReject, WrongSchema) {
  auto j = minimal_ic();
  j["schema"] = "chipgauge.spec/2";
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.schema");
  EXPECT_TRUE(mentions(e->message(),
                       "unsupported schema 'chipgauge.spec/2': expected \"chipgauge.spec/1\""));
}

TEST(SpecReject, BadId) {
  auto j = minimal_ic("Test Chip");
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.id");
  EXPECT_TRUE(mentions(e->message(), "invalid id 'Test Chip'"));
  EXPECT_TRUE(mentions(e->message(), "expected lowercase letters, digits"));
}

TEST(SpecReject, IdLongerThanEightyCharacters) {
  EXPECT_NO_THROW((void)parse(minimal_ic(std::string(80, 'a'))));
  const auto e = parse_error(minimal_ic(std::string(81, 'a')));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.id");
  EXPECT_TRUE(mentions(e->message(), "at most 80"));
}

TEST(SpecReject, UnknownKindSuggestsClosest) {
  auto j = minimal_ic();
  j["kind"] = "borad";
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.kind");
  EXPECT_TRUE(mentions(e->message(), "unknown value 'borad' (did you mean 'board'?)"));
}

TEST(SpecReject, IcWithoutProcessingUnits) {
  auto j = minimal_ic();
  j.erase("processing_units");
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$");
  EXPECT_TRUE(mentions(e->message(), "missing required field 'processing_units'"));
}

TEST(SpecReject, BoardWithoutContains) {
  auto j = board_of("test-board", "test-chip", 1);
  j.erase("contains");
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$");
  EXPECT_TRUE(mentions(e->message(),
                       "missing required field 'contains' (a board lists the ICs it contains)"));
}

TEST(SpecReject, IcWithContains) {
  auto j = minimal_ic();
  j["contains"] = json::array({json{{"id", "other"}, {"count", 1}}});
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.contains");
  EXPECT_TRUE(mentions(e->message(), "'contains' is for boards and systems"));
}

TEST(SpecReject, InterconnectLinksNotSummingToTotal) {
  auto j = minimal_ic();
  j["interconnect"] = {
      {"bidirectional_gb_s", 1028},
      {"links", json::array({json{{"kind", "NVLink"}, {"bidirectional_gb_s", 900}},
                             json{{"kind", "PCIe"}, {"bidirectional_gb_s", 64}}})}};
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.interconnect.bidirectional_gb_s");
  EXPECT_TRUE(mentions(e->message(), "1028 GB/s disagrees with the sum of 'links', 964 GB/s"));
  EXPECT_TRUE(mentions(e->message(), "within 1 %"));
}

TEST(SpecReject, ComponentWithBothIdAndSpec) {
  auto j = board_of("test-board", "test-chip", 1);
  j["contains"][0]["spec"] = minimal_ic();
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.contains[0]");
  EXPECT_TRUE(mentions(e->message(), "not both"));
}

TEST(SpecReject, ErrorInsideInlineComponentKeepsOuterFileAndFullPath) {
  auto inner = minimal_ic("inner-chip");
  inner["processing_units"][0]["dense_tops"] = {{"fp9", 1}};
  auto j = board_of("test-board", "x", 1);
  j["contains"][0].erase("id");
  j["contains"][0]["spec"] = inner;
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), sheet_file);
  EXPECT_EQ(e->json_path(), "$.contains[0].spec.processing_units[0].dense_tops.fp9");
}

TEST(SpecReject, WrongTypeNamesWhatWasFound) {
  auto j = minimal_ic();
  j["memory"] = {{"capacity_gb", "80"}};
  const auto e = parse_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.memory.capacity_gb");
  EXPECT_EQ(e->message(), "expected a number, found a string");
}

TEST(SpecReject, LoadSpecFileNamesThePath) {
  const temp_dir dir;
  auto j = minimal_ic();
  j.erase("name");
  const auto path = dir.write("test-chip.json", j.dump());
  const auto e = error_of([&] { (void)load_spec_file(path); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), path);
  EXPECT_EQ(e->json_path(), "$");
  EXPECT_TRUE(mentions(e->what(), path + ": $: missing required field 'name'"));
}

// --- validate_spec -------------------------------------------------------------------------------

TEST(SpecValidate, ComputedTppAboveTenMillionRejected) {
  auto j = minimal_ic();
  j["processing_units"][0]["dense_tops"] = {{"fp64", 200000}};  // 200000 x 64 = 12.8 million
  const auto s = parse(j);
  const auto e = error_of([&] { (void)validate_spec(s, defs()); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), sheet_file);
  EXPECT_EQ(e->json_path(), "$.processing_units");
  EXPECT_TRUE(mentions(e->message(), "computed TPP 12800000 is absurd: expected at most 1e+07"));
}

TEST(SpecValidate, TppAboveLimitAtTheHighEndOfARangeRejected) {
  auto j = minimal_ic();
  j["processing_units"][0]["dense_tops"] = {
      {"fp64", {100000, 200000}}};  // nominal 9.6e6, high end 12.8e6
  const auto s = parse(j);
  EXPECT_THROW((void)validate_spec(s, defs()), spec_error);
}

TEST(SpecValidate, PlausibleSheetHasNoWarnings) {
  auto j = minimal_ic();
  j["declared"] = {{"tpp", 810}};  // within 2 % of 800
  EXPECT_TRUE(validate_spec(parse(j), defs()).empty());
}

TEST(SpecValidate, DeclaredTppOffByMoreThanTwoPercentWarns) {
  auto j = minimal_ic();
  j["declared"] = {{"tpp", 900}, {"by", "vendor"}};
  const auto warnings = validate_spec(parse(j), defs());
  ASSERT_EQ(warnings.size(), 1U);
  EXPECT_EQ(warnings[0].file, sheet_file);
  EXPECT_EQ(warnings[0].json_path, "$.declared.tpp");
  EXPECT_TRUE(mentions(warnings[0].message, "declared TPP 900"));
  EXPECT_TRUE(mentions(warnings[0].message, "computed 800"));
  EXPECT_TRUE(mentions(warnings[0].message, "+12.5 %"));
}

TEST(SpecValidate, DeclaredTppBelowComputedWarnsWithNegativeDifference) {
  auto j = minimal_ic();
  j["declared"] = {{"tpp", 700}};
  const auto warnings = validate_spec(parse(j), defs());
  ASSERT_EQ(warnings.size(), 1U);
  EXPECT_TRUE(
      mentions(warnings[0].message, "declared TPP 700 differs from the computed 800 by -12.5 %"));
}

// --- the database --------------------------------------------------------------------------------

std::optional<spec_error> load_error(const temp_dir& dir) {
  return error_of([&] { (void)spec_database::load(dir.path(), defs()); });
}

TEST(SpecDatabase, DuplicateIdsRejected) {
  const temp_dir dir;
  const auto first = dir.write("a.json", minimal_ic("a").dump());
  const auto second = dir.write("b.json", minimal_ic("a").dump());
  const auto e = load_error(dir);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), second);
  EXPECT_EQ(e->json_path(), "$.id");
  EXPECT_TRUE(mentions(e->message(), "duplicate id 'a': also used by " + first));
}

TEST(SpecDatabase, IdDifferingFromFileNameRejected) {
  const temp_dir dir;
  const auto path = dir.write("chip-x.json", minimal_ic("chip-y").dump());
  const auto e = load_error(dir);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), path);
  EXPECT_EQ(e->json_path(), "$.id");
  EXPECT_TRUE(mentions(e->message(), "id 'chip-y' differs from the file name"));
  EXPECT_TRUE(mentions(e->message(), "chip-x"));
}

TEST(SpecDatabase, BoardReferringToUnknownIcRejectedWithSuggestion) {
  const temp_dir dir;
  dir.write("chip-a.json", minimal_ic("chip-a").dump());
  const auto board = dir.write("card.json", board_of("card", "chip-b", 2).dump());
  const auto e = load_error(dir);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), board);
  EXPECT_EQ(e->json_path(), "$.contains[0].id");
  EXPECT_TRUE(mentions(e->message(), "unknown part 'chip-b' (did you mean 'chip-a'?)"));
}

TEST(SpecDatabase, BoardContainingIcByIdResolvesAndMultipliesTpp) {
  const temp_dir dir;
  dir.write("chip-a.json", minimal_ic("chip-a").dump());
  dir.write("card.json", board_of("card", "chip-a", 8).dump());
  const auto db = spec_database::load(dir.path(), defs());
  EXPECT_EQ(db.parts().size(), 2U);
  EXPECT_TRUE(db.warnings().empty());
  const auto* ic = db.find("chip-a");
  const auto* board = db.find("card");
  ASSERT_NE(ic, nullptr);
  ASSERT_NE(board, nullptr);
  EXPECT_EQ(board->kind, part_kind::board);
  ASSERT_EQ(board->contains.size(), 1U);
  EXPECT_EQ(board->contains[0].resolved, ic);
  EXPECT_EQ(board->contains[0].count, 8);
  const double ic_tpp = compute_metrics(*ic, defs()).tpp;
  EXPECT_EQ(ic_tpp, 800.0);
  EXPECT_EQ(compute_metrics(*board, defs()).tpp, 8 * ic_tpp);
  EXPECT_EQ(db.suggest("chip-b"), "chip-a");
  EXPECT_EQ(db.find("chip-b"), nullptr);
}

TEST(SpecDatabase, InlineComponentResolvesAndCounts) {
  const temp_dir dir;
  auto board = board_of("card", "unused", 2);
  board["contains"][0].erase("id");
  board["contains"][0]["spec"] = minimal_ic("inline-chip");
  const auto path = dir.write("card.json", board.dump());
  const auto db = spec_database::load(dir.path(), defs());
  const auto* card = db.find("card");
  ASSERT_NE(card, nullptr);
  ASSERT_EQ(card->contains.size(), 1U);
  const auto& c = card->contains[0];
  EXPECT_EQ(c.id, "inline-chip");
  ASSERT_NE(c.inline_spec, nullptr);
  ASSERT_NE(c.resolved, nullptr);
  EXPECT_EQ(c.resolved->id, "inline-chip");
  EXPECT_EQ(c.json_path, "$.contains[0]");
  EXPECT_EQ(compute_metrics(*card, defs()).tpp, 1600.0);
  // The inline sheet is not a database entry of its own.
  EXPECT_EQ(db.find("inline-chip"), nullptr);
  EXPECT_EQ(card->file, path);
}

TEST(SpecDatabase, MutualContainmentCycleRejected) {
  const temp_dir dir;
  dir.write("board-a.json", board_of("board-a", "board-b", 1).dump());
  dir.write("board-b.json", board_of("board-b", "board-a", 1).dump());
  const auto e = load_error(dir);
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(mentions(e->message(), "cycle"));
  EXPECT_TRUE(mentions(e->json_path(), "$.contains"));
}

TEST(SpecDatabase, SelfContainmentRejected) {
  const temp_dir dir;
  const auto path = dir.write("board-a.json", board_of("board-a", "board-a", 1).dump());
  const auto e = load_error(dir);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), path);
  EXPECT_EQ(e->json_path(), "$.contains[0].id");
  EXPECT_EQ(e->message(), "a part cannot contain itself");
}

TEST(SpecDatabase, CycleThroughSecondComponentRejected) {
  // board-a contains [chip, board-b], board-b contains board-a: rejected, not a stack overflow.
  const temp_dir dir;
  dir.write("chip.json", minimal_ic("chip").dump());
  auto a = board_of("board-a", "chip", 1);
  a["contains"].push_back(json{{"id", "board-b"}, {"count", 1}});
  dir.write("board-a.json", a.dump());
  dir.write("board-b.json", board_of("board-b", "board-a", 1).dump());
  const auto e = load_error(dir);
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(mentions(e->message(), "cycle"));
}

TEST(SpecDatabase, WarningsFromSheetsAreCollected) {
  const temp_dir dir;
  auto j = minimal_ic("chip-a");
  j["declared"] = {{"tpp", 1000}};
  const auto path = dir.write("chip-a.json", j.dump());
  const auto db = spec_database::load(dir.path(), defs());
  ASSERT_EQ(db.warnings().size(), 1U);
  EXPECT_EQ(db.warnings()[0].file, path);
  EXPECT_EQ(db.warnings()[0].json_path, "$.declared.tpp");
}

TEST(SpecDatabase, NotADirectoryRejected) {
  const temp_dir dir;
  const auto missing = dir.path() + "/nowhere";
  const auto e = error_of([&] { (void)spec_database::load(missing, defs()); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), missing);
  EXPECT_TRUE(mentions(e->message(), "not a directory"));
}

TEST(SpecDatabase, AddExternalResolvesAgainstTheDatabase) {
  const temp_dir dir;
  dir.write("chip-a.json", minimal_ic("chip-a").dump());
  auto db = spec_database::load(dir.path(), defs());
  const auto& added = db.add_external(parse(board_of("my-card", "chip-a", 4)), defs());
  ASSERT_EQ(added.contains.size(), 1U);
  EXPECT_EQ(added.contains[0].resolved, db.find("chip-a"));
  EXPECT_EQ(compute_metrics(added, defs()).tpp, 3200.0);
  const auto e =
      error_of([&] { (void)db.add_external(parse(board_of("bad-card", "chip-z", 1)), defs()); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.contains[0].id");
  EXPECT_TRUE(mentions(e->message(), "unknown part 'chip-z'"));
}

TEST(SpecDatabase, BundledSheetsLoad) {
  const auto db = spec_database::load(test::specs_dir() + "/chips", defs());
  EXPECT_GE(db.parts().size(), 30U);
  const auto* h100 = db.find("nvidia-h100-sxm5-80gb");
  ASSERT_NE(h100, nullptr);
  EXPECT_NEAR(compute_metrics(*h100, defs()).tpp, 15831.2, 0.1);
}

// --- validate_spec cross-checks and unit mix-ups ------------------------------------------------

std::optional<spec_error> validate_error(const json& j) {
  return error_of([&] { (void)validate_spec(parse(j), defs()); });
}

TEST(SpecValidate, DramBandwidthInTbPerSecondIsRejected) {
  auto j = minimal_ic();
  j["memory"] = {{"type", "HBM3"}, {"capacity_gb", 80}, {"bandwidth_gb_s", 3.35}};
  const auto e = validate_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.memory.bandwidth_gb_s");
  EXPECT_TRUE(mentions(e->message(), "was TB/s given"));
  EXPECT_TRUE(mentions(e->message(), "3350"));
}

TEST(SpecValidate, InterconnectInTbPerSecondIsRejected) {
  auto j = minimal_ic();
  j["interconnect"] = {{"bidirectional_gb_s", 0.9}};
  const auto e = validate_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.interconnect.bidirectional_gb_s");
}

TEST(SpecValidate, DieAreaInSquareCentimetresIsRejected) {
  auto j = minimal_ic();
  j["dies"] = json::array(
      {json{{"name", "d"}, {"kind", "logic"}, {"area_mm2", 8.14}, {"non_planar", true}}});
  EXPECT_FALSE(validate_error(j).has_value()) << "8.14 mm^2 is small but possible";
  j["dies"][0]["area_mm2"] = 0.5;
  const auto e = validate_error(j);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.dies[0].area_mm2");
  EXPECT_TRUE(mentions(e->message(), "cm^2"));
}

TEST(SpecValidate, RateDisagreeingWithUnitsTimesClockIsWarned) {
  auto j = minimal_ic();
  auto& u = j["processing_units"][0];
  u["count"] = 100;
  u["clock_mhz"] = 1000;
  u["ops_per_clock_per_unit"] = {{"int8", 1000}};  // 100 x 1e9 x 1000 = 100 x 10^12: agrees
  EXPECT_TRUE(validate_spec(parse(j), defs()).empty());
  u["ops_per_clock_per_unit"] = {{"int8", 1100}};
  const auto w = validate_spec(parse(j), defs());
  ASSERT_EQ(w.size(), 1U);
  EXPECT_EQ(w[0].json_path, "$.processing_units[0].dense_tops.int8");
  EXPECT_TRUE(mentions(w[0].message, "110.0"));
}

TEST(SpecValidate, PrecisionFarAboveItsSiblingsIsWarned) {
  auto j = minimal_ic();
  j["processing_units"][0]["dense_tops"] = {
      {"int8", 100}, {"fp16", 50}, {"bf16", 50}, {"fp8", 200}};
  const auto w = validate_spec(parse(j), defs());
  ASSERT_EQ(w.size(), 1U);
  EXPECT_EQ(w[0].json_path, "$.processing_units[0].dense_tops.fp8");
  EXPECT_TRUE(mentions(w[0].message, "sparse figure quoted as dense"));
  j["processing_units"][0]["dense_tops"]["fp8"] = 100;
  EXPECT_TRUE(validate_spec(parse(j), defs()).empty());
}

// --- fail closed: no rate, physical plausibility -------------------------------------------------

const physical_limits& physical() {
  static const auto l = physical_limits::load(test::specs_dir() + "/arch/physical.json");
  return l;
}

// An H100-like die: 80 billion transistors on 814 mm^2 at 4 nm (98 million per mm^2).
json ic_with_die(double area_mm2, double transistors, double node_nm = 4) {
  auto j = minimal_ic();
  j["dies"] = json::array({json{{"name", "GPU"},
                                {"kind", "logic"},
                                {"area_mm2", area_mm2},
                                {"process", "TSMC 4N"},
                                {"node_nm", node_nm},
                                {"non_planar", true},
                                {"transistors", transistors}}});
  return j;
}

TEST(SpecFailClosed, IcWithoutAPositiveRateIsAnErrorFindingAndItsTppUnknown) {
  auto empty = minimal_ic();
  empty["processing_units"] = json::array();
  auto zeros = minimal_ic();
  zeros["processing_units"][0]["dense_tops"] = {{"int8", 0}, {"fp16", 0}};
  for (const auto& j : {empty, zeros}) {
    const auto spec = parse(j);
    const auto w = validate_spec(spec, defs(), &physical());
    ASSERT_EQ(w.size(), 1U) << j.dump();
    EXPECT_TRUE(w[0].error);
    EXPECT_EQ(w[0].json_path, "$.processing_units");
    EXPECT_TRUE(mentions(w[0].message, "classification undetermined"));
    const auto m = compute_metrics(spec, defs());
    EXPECT_FALSE(m.tpp_known());
    EXPECT_FALSE(m.pd.has_value()) << "PD from an unknown TPP is unknown, not 0";
  }
}

TEST(SpecFailClosed, BundledDatabaseRefusesASheetWithoutRates) {
  temp_dir dir;
  auto j = minimal_ic();
  j["processing_units"] = json::array();
  dir.write("test-chip.json", j.dump(2));
  const auto e = error_of([&] { (void)spec_database::load(dir.path(), defs()); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.processing_units");
}

TEST(SpecFailClosed, BoardHoldingAnIcWithoutRatesIsUndeterminedNotUncontrolled) {
  temp_dir dir;
  dir.write("test-chip.json", minimal_ic().dump(2));
  auto db = spec_database::load(dir.path(), defs());
  auto bare = minimal_ic("bare");
  bare["processing_units"][0]["dense_tops"] = {{"int8", 0}};
  auto board = board_of("board", "unused", 8);
  board["contains"] = json::array({json{{"spec", bare}, {"count", 8}}});
  const auto& b = db.add_external(parse(board), defs());
  ASSERT_FALSE(db.warnings().empty());
  EXPECT_TRUE(db.warnings().back().error) << "kept as an error finding, not thrown";
  const auto m = compute_metrics(b, defs());
  EXPECT_FALSE(m.tpp_known());
  EXPECT_TRUE(
      mentions(m.tpp_reason, "component bare: no processing unit gives a positive dense rate"));
  const evaluation_plan plan(bundled_rules(), *date::parse("2026-02-01"));
  const auto c = classification_engine(bundled_rules()).classify(b, plan);
  EXPECT_EQ(c.outcome, verdict_outcome::undetermined);
  EXPECT_FALSE(c.controlled());
  const auto ic = classification_engine(bundled_rules()).classify(*b.contains[0].resolved, plan);
  EXPECT_EQ(ic.outcome, verdict_outcome::undetermined)
      << "an IC with only zero rates is never 'not controlled'";
}

TEST(SpecPlausibility, TransistorDensityBeyondAnyProcessIsAnError) {
  // 8.14 mm^2 for 814: a cm^2 slip gives about 9,800 million per mm^2.
  const auto e =
      error_of([&] { (void)validate_spec(parse(ic_with_die(8.14, 80e9)), defs(), &physical()); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.dies[0].transistors");
  EXPECT_TRUE(mentions(e->what(), "is 9828 million per mm^2, above the 1000"));
  EXPECT_TRUE(validate_spec(parse(ic_with_die(814, 80e9)), defs(), &physical()).empty());
}

TEST(SpecPlausibility, DensityAboveItsNodeIsAWarningNamingBothFigures) {
  // 80 billion on 400 mm^2 is 200 million per mm^2: possible at 3 nm, not at 7 nm.
  const auto w = validate_spec(parse(ic_with_die(400, 80e9, 7)), defs(), &physical());
  ASSERT_EQ(w.size(), 1U);
  EXPECT_FALSE(w[0].error);
  EXPECT_TRUE(mentions(w[0].message, "200 million per mm^2, above the 125 expected at 7 nm"));
  EXPECT_TRUE(validate_spec(parse(ic_with_die(400, 80e9, 3)), defs(), &physical()).empty());
}

TEST(SpecPlausibility, DieBeyondTheReticleIsWarned) {
  const auto w = validate_spec(parse(ic_with_die(1200, 80e9)), defs(), &physical());
  ASSERT_EQ(w.size(), 1U);
  EXPECT_EQ(w[0].json_path, "$.dies[0].area_mm2");
  EXPECT_TRUE(mentions(w[0].message, "1200 mm^2 exceeds the 858 mm^2 reticle field"));
}

TEST(SpecPlausibility, WaferScaleDieParsesAndIsStillWarnedAboutTheReticle) {
  // Cerebras WSE-3: 46,225 mm^2, 4 trillion transistors on TSMC 5 nm (87 million per mm^2:
  // plausible at 5 nm).
  const auto w = validate_spec(parse(ic_with_die(46225, 4e12, 5)), defs(), &physical());
  ASSERT_EQ(w.size(), 1U);
  EXPECT_FALSE(w[0].error);
  EXPECT_EQ(w[0].json_path, "$.dies[0].area_mm2");
  EXPECT_TRUE(mentions(w[0].message, "46225 mm^2 exceeds the 858 mm^2 reticle field"));
}

TEST(SpecPlausibility, ClockInGhzWrittenAsMhzIsAnError) {
  auto j = minimal_ic();
  j["processing_units"][0]["clock_mhz"] = 1.6;
  const auto e = error_of([&] { (void)validate_spec(parse(j), defs(), &physical()); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.processing_units[0].clock_mhz");
  EXPECT_TRUE(mentions(e->what(), "write 1600"));
  j["processing_units"][0]["clock_mhz"] = 120;  // possible, but not for an accelerator
  const auto w = validate_spec(parse(j), defs(), &physical());
  ASSERT_EQ(w.size(), 1U);
  EXPECT_TRUE(mentions(w[0].message, "120 MHz lies outside the usual 300 to 6500 MHz"));
}

TEST(SpecPlausibility, RateTwiceUnitsTimesClockIsAnError) {
  auto j = minimal_ic();
  auto& u = j["processing_units"][0];
  u["count"] = 100;
  u["clock_mhz"] = 1000;
  u["ops_per_clock_per_unit"] = {{"int8", 500}};  // 50 x 10^12, but 100 quoted: a sparse figure?
  const auto e = error_of([&] { (void)validate_spec(parse(j), defs(), &physical()); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.processing_units[0].dense_tops.int8");
  EXPECT_TRUE(mentions(e->what(), "at least 1.9 x away"));
}

TEST(SpecPlausibility, BundledPhysicalDataLoadsAndEveryBundledSheetPasses) {
  EXPECT_EQ(physical().reticle_field_mm2, 858);
  EXPECT_EQ(physical().nodes.back().node_nm_at_least, 0);
  const auto db = spec_database::load(test::specs_dir() + "/chips", defs(),
                                      std::make_shared<const physical_limits>(physical()));
  EXPECT_GT(db.parts().size(), 50U);
}

// ---- identity block (device matching for certify) ----

json with_identity(json sheet, const json& identity) {
  sheet["identity"] = identity;
  sheet["sources"] = json::array({json{{"url", "https://pci-ids.ucw.cz/"},
                                       {"title", "PCI ID Repository"},
                                       {"supports", {"identity"}}}});
  return sheet;
}

TEST(SpecIdentity, ParsesPciNamesAndCpu) {
  const auto s = parse(with_identity(
      minimal_ic(), json{{"pci", json::array({json{{"vendor", "10de"}, {"device", "2330"}},
                                              json{{"vendor", "10de"},
                                                   {"device", "2324"},
                                                   {"subsystem_vendor", "10de"},
                                                   {"subsystem_device", "17a6"}}})},
                         {"names", {"NVIDIA H100 80GB HBM3"}},
                         {"cpu",
                          {{"vendor", "AuthenticAMD"},
                           {"family", 25},
                           {"models", {17}},
                           {"brands", {"EPYC 9654"}}}}}));
  ASSERT_TRUE(s.identity.has_value());
  ASSERT_EQ(s.identity->pci.size(), 2U);
  EXPECT_EQ(s.identity->pci[0].vendor, 0x10de);
  EXPECT_EQ(s.identity->pci[0].device, 0x2330);
  EXPECT_FALSE(s.identity->pci[0].subsystem_device.has_value());
  EXPECT_EQ(s.identity->pci[1].subsystem_device, 0x17a6);
  EXPECT_EQ(s.identity->names.at(0), "NVIDIA H100 80GB HBM3");
  ASSERT_TRUE(s.identity->cpu.has_value());
  EXPECT_EQ(s.identity->cpu->family, 25);
  EXPECT_EQ(s.identity->cpu->models, std::vector<int>{17});
}

TEST(SpecIdentity, MalformedEntriesNameTheFieldAndExpectation) {
  struct bad_case {
    json identity;
    std::string path;
    std::string expect;
  };
  const std::vector<bad_case> cases = {
      {json{{"pci", json::array({json{{"vendor", "10DE"}, {"device", "2330"}}})}},
       "$.identity.pci[0].vendor", "4 lowercase hexadecimal"},
      {json{{"pci", json::array({json{{"vendor", "10de"}, {"device", "233"}}})}},
       "$.identity.pci[0].device", "4 lowercase hexadecimal"},
      {json{{"pci", json::array({json{
                        {"vendor", "10de"}, {"device", "2330"}, {"subsystem_vendor", "10de"}}})}},
       "$.identity.pci[0]", "go together"},
      {json{{"names", {" H100"}}}, "$.identity.names[0]", "without leading or trailing spaces"},
      {json{{"cpu", {{"vendor", "GenuineIntel"}, {"family", 6}, {"models", json::array()}}}},
       "$.identity.cpu.models", "at least one model"},
      {json{{"cpu",
             {{"vendor", "GenuineIntel"}, {"family", 6}, {"models", {143}}, {"brands", {"8"}}}}},
       "$.identity.cpu.brands[0]", "at least 3 characters"},
      {json::object(), "$.identity", "an empty identity matches nothing"},
      {json{{"serial", "x"}}, "$.identity.serial", "serial"},
  };
  for (const auto& c : cases) {
    const auto e = parse_error(with_identity(minimal_ic(), c.identity));
    ASSERT_TRUE(e.has_value()) << c.identity.dump();
    EXPECT_EQ(e->json_path(), c.path) << c.identity.dump() << ": " << e->what();
    EXPECT_TRUE(mentions(e->what(), c.expect)) << e->what();
  }
}

TEST(SpecIdentity, NeedsASourceAndAPartADeviceReports) {
  auto unsourced = minimal_ic();
  unsourced["identity"] = json{{"names", {"Test Chip"}}};
  const auto e = parse_error(unsourced);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.identity");
  EXPECT_TRUE(mentions(e->what(), "no source backs the identity")) << e->what();

  auto system = with_identity(board_of("sys", "test-chip", 8), json{{"names", {"Test System"}}});
  system["kind"] = "system";
  const auto s = parse_error(system);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->json_path(), "$.identity");
}

TEST(SpecIdentity, DatabaseRefusesOneDeviceIdentityInTwoSheets) {
  const json id = json{{"pci", json::array({json{{"vendor", "10de"}, {"device", "2330"}}})}};
  {
    temp_dir dir;
    dir.write("a-chip.json", with_identity(minimal_ic("a-chip"), id).dump(2));
    dir.write("b-chip.json", with_identity(minimal_ic("b-chip"), id).dump(2));
    const auto e = error_of([&] { (void)spec_database::load(dir.path(), defs()); });
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->json_path(), "$.identity.pci[0]");
    EXPECT_TRUE(mentions(e->what(), "PCI id 10de:2330 is also claimed by a-chip")) << e->what();
  }
  {
    temp_dir dir;
    dir.write("a-chip.json",
              with_identity(minimal_ic("a-chip"), json{{"names", {"Acme X1"}}}).dump(2));
    dir.write("b-chip.json",
              with_identity(minimal_ic("b-chip"), json{{"names", {"ACME x1"}}}).dump(2));
    const auto e = error_of([&] { (void)spec_database::load(dir.path(), defs()); });
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->json_path(), "$.identity.names[0]");
    EXPECT_TRUE(mentions(e->what(), "also claimed by a-chip")) << e->what();
  }
  {
    // A bin told apart by its subsystem ids sits beside the general entry.
    temp_dir dir;
    dir.write("a-chip.json", with_identity(minimal_ic("a-chip"), id).dump(2));
    auto bin = id;
    bin["pci"][0]["subsystem_vendor"] = "10de";
    bin["pci"][0]["subsystem_device"] = "1234";
    dir.write("b-chip.json", with_identity(minimal_ic("b-chip"), bin).dump(2));
    EXPECT_NO_THROW((void)spec_database::load(dir.path(), defs()));
  }
}

}  // namespace
}  // namespace chipgauge::classifier
