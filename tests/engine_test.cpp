// The rule engine against docs/regulation.md#reference-cases and each regime's boundaries.
#include "chipgauge/classifier/engine.hpp"
#include "chipgauge/classifier/report.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::classifier {
namespace {

using test::bundled_rules;
using test::exact_metrics;
using test::synthetic_ic;

date day(const char* text) { return *date::parse(text); }

const regime_verdict* verdict_of(const classification& c, std::string_view regime_id) {
  for (const auto& v : c.verdicts) {
    if (v.rule->id == regime_id) return &v;
  }
  return nullptr;
}

// The ECCN a part with exactly this TPP and PD gets on `when`.
std::string eccn_exact(double tpp, std::optional<double> pd, bool dc,
                       const char* when = "2025-06-01") {
  const auto& rules = bundled_rules();
  const evaluation_plan plan(rules, day(when));
  const classification_engine engine(rules);
  const auto spec = synthetic_ic(tpp, 0, dc);
  classification out;
  engine.classify(spec, exact_metrics(tpp, pd, dc), plan, out);
  return std::string(out.eccn);
}

std::vector<std::string> exceptions_exact(double tpp, std::optional<double> pd, bool dc,
                                          const char* when) {
  const auto& rules = bundled_rules();
  const evaluation_plan plan(rules, day(when));
  const classification_engine engine(rules);
  const auto spec = synthetic_ic(tpp, 0, dc);
  classification out;
  engine.classify(spec, exact_metrics(tpp, pd, dc), plan, out);
  std::vector<std::string> ids;
  if (const auto* v = verdict_of(out, "us-2023-11-17-3a090")) {
    for (const auto* x : v->exceptions) ids.push_back(x->id);
  }
  return ids;
}

// --- Reference cases: synthetic (TPP, PD, datacenter) table, under the 2023 rule ---

TEST(Regime2023, SyntheticVectors) {
  EXPECT_EQ(eccn_exact(1599, 10, true), "");
  EXPECT_EQ(eccn_exact(1600, 5.92, true), "3A090.a.2");
  EXPECT_EQ(eccn_exact(1600, 5.91, true), "3A090.b.2");
  EXPECT_EQ(eccn_exact(2400, 1.6, true), "3A090.b.1");
  EXPECT_EQ(eccn_exact(2399, 3.19, true), "");
  EXPECT_EQ(eccn_exact(4799, 1.59, true), "");
  EXPECT_EQ(eccn_exact(4800, 0.5, false), "3A090.a.1");
  EXPECT_EQ(eccn_exact(4799, 9, false), "");
}

TEST(Regime2023, A1IsInclusiveAt4800) {
  EXPECT_EQ(eccn_exact(4800, std::nullopt, true), "3A090.a.1");
  EXPECT_EQ(eccn_exact(4799.999, std::nullopt, true), "");
}

TEST(Regime2023, B1UpperBoundsAreStrict) {
  // TPP 4800 is a.1, not b.1; PD 5.92 with TPP 2400 is a.2, not b.1.
  EXPECT_EQ(eccn_exact(4799, 5.91, true), "3A090.b.1");
  EXPECT_EQ(eccn_exact(2400, 5.92, true), "3A090.a.2");
  EXPECT_EQ(eccn_exact(2400, 1.59, true), "");
}

TEST(Regime2023, B2BoundsInclusiveBelowStrictAbove) {
  EXPECT_EQ(eccn_exact(1600, 3.2, true), "3A090.b.2");
  EXPECT_EQ(eccn_exact(1600, 3.19, true), "");
  EXPECT_EQ(eccn_exact(2000, 5.9199, true), "3A090.b.2");
}

TEST(Regime2023, Note2ExcludesNonDatacenterPartsBelow4800) {
  EXPECT_EQ(eccn_exact(1600, 5.92, false), "");
  EXPECT_EQ(eccn_exact(2400, 1.6, false), "");
  EXPECT_EQ(eccn_exact(1600, 4.0, false), "");
}

TEST(Regime2023, UnknownPdLeavesThePdClausesUndetermined) {
  // PD undefined: a.2/b.x cannot fire; the verdict is undetermined, not controlled.
  const auto& rules = bundled_rules();
  const evaluation_plan plan(rules, day("2025-06-01"));
  const classification_engine engine(rules);
  const auto spec = synthetic_ic(2000, 0, true);
  const auto c = engine.classify(spec, plan);
  EXPECT_EQ(c.eccn, "");
  EXPECT_EQ(c.outcome, verdict_outcome::undetermined);
  // Above 4800 PD does not matter.
  EXPECT_EQ(eccn_exact(5000, std::nullopt, true), "3A090.a.1");
}

TEST(Regime2023, NacBefore2024CorrectionsAndNacAcaAfter) {
  EXPECT_EQ(exceptions_exact(4800, 0.5, false, "2024-01-10"), std::vector<std::string>{"NAC"});
  const auto after = exceptions_exact(4800, 0.5, false, "2024-04-04");
  EXPECT_EQ(after, (std::vector<std::string>{"NAC", "ACA"}));
  // 3A090.b datacenter parts are eligible; a datacenter 3A090.a part is not.
  EXPECT_EQ(exceptions_exact(2400, 1.6, true, "2024-06-01"),
            (std::vector<std::string>{"NAC", "ACA"}));
  EXPECT_TRUE(exceptions_exact(5000, 20, true, "2024-06-01").empty());
}

// --- Dated transitions ---

TEST(Regime2022, RequiresBothTppAndIo) {
  const auto& rules = bundled_rules();
  const evaluation_plan plan(rules, day("2023-01-01"));
  const classification_engine engine(rules);
  auto spec = synthetic_ic(4992, 826, true);
  spec.interconnect = interconnect_spec{{600, 600}, "NVLink", {}};
  EXPECT_EQ(engine.classify(spec, plan).eccn, "3A090.a") << "600 GB/s meets the inclusive 600 line";
  spec.interconnect = interconnect_spec{{599.9, 599.9}, "NVLink", {}};
  EXPECT_EQ(engine.classify(spec, plan).eccn, "");
  spec.interconnect.reset();
  const auto c = engine.classify(spec, plan);
  EXPECT_EQ(c.outcome, verdict_outcome::undetermined) << "unknown I/O cannot be decided";
}

TEST(Transitions, RuleChangesOn20231117) {
  const auto& rules = bundled_rules();
  const classification_engine engine(rules);
  auto a800 = synthetic_ic(4992, 826, true);
  a800.interconnect = interconnect_spec{{400, 400}, "NVLink", {}};
  EXPECT_EQ(engine.classify(a800, evaluation_plan(rules, day("2023-11-16"))).eccn, "");
  EXPECT_EQ(engine.classify(a800, evaluation_plan(rules, day("2023-11-17"))).eccn, "3A090.a.1");
  // Before the first rule nothing applies.
  const auto before = engine.classify(a800, evaluation_plan(rules, day("2022-10-06")));
  EXPECT_EQ(before.outcome, verdict_outcome::not_applicable);
  EXPECT_TRUE(before.verdicts.empty());
}

TEST(Transitions, SkippedRegimesCarryTheirStatus) {
  const evaluation_plan plan(bundled_rules(), day("2024-01-01"));
  const auto& skipped = plan.skipped();
  const auto it = std::find_if(skipped.begin(), skipped.end(),
                               [](const auto& s) { return s.rule->id == "us-2022-10-07-3a090"; });
  ASSERT_NE(it, skipped.end());
  EXPECT_EQ(it->status, regime_status::superseded);
}

// --- Reference cases: real parts from the bundled database ---

class BundledParts : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cat_ = new catalog(catalog::load(test::specs_dir())); }
  static void TearDownTestSuite() {
    delete cat_;
    cat_ = nullptr;
  }
  static classification classify(const char* id, const char* when) {
    const evaluation_plan plan(cat_->rules(), day(when));
    return classification_engine(cat_->rules()).classify(*cat_->parts().find(id), plan);
  }
  static catalog* cat_;
};
catalog* BundledParts::cat_ = nullptr;

TEST_F(BundledParts, A100Sxm) {
  const auto c22 = classify("nvidia-a100-sxm4-80gb", "2023-06-01");
  EXPECT_NEAR(c22.metrics.tpp, 4992, 0.5);
  EXPECT_NEAR(*c22.metrics.pd, 6.04, 0.005);
  EXPECT_EQ(c22.eccn, "3A090.a");
  EXPECT_EQ(classify("nvidia-a100-sxm4-80gb", "2024-06-01").eccn, "3A090.a.1");
}

// The server renders each part once and assembles a batch from the renderings: the array must be
// what to_json gives for the whole vector, byte for byte, for every bundled part.
TEST_F(BundledParts, JsonArrayOfRenderingsIsToJsonOfTheVector) {
  const evaluation_plan plan(cat_->rules(), day("2025-06-01"));
  const classification_engine engine(cat_->rules());
  std::vector<classification> cs;
  for (const auto& p : cat_->parts().parts()) cs.push_back(engine.classify(*p, plan));
  ASSERT_GT(cs.size(), 40U);
  std::vector<std::string> each;
  for (const auto& c : cs) each.push_back(to_json(c, plan));
  std::vector<std::string_view> views(each.begin(), each.end());
  EXPECT_EQ(json_array_of(views), to_json(cs, plan));
  const std::vector<classification> one(cs.begin(), cs.begin() + 1);
  EXPECT_EQ(json_array_of({each.front()}), to_json(one, plan));
  EXPECT_EQ(json_array_of({}), to_json(std::vector<classification>{}, plan));
}

// Strings are escaped as nlohmann's dump escapes them, wherever the byte that needs escaping sits
// (the writer skips plain text eight bytes at a time).
TEST_F(BundledParts, JsonStringsEscapeAsNlohmannDoes) {
  const evaluation_plan plan(cat_->rules(), day("2025-06-01"));
  const classification_engine engine(cat_->rules());
  auto spec = *cat_->parts().find("nvidia-h100-sxm5-80gb");
  const std::vector<std::string> names = {
      "plain ASCII name, longer than sixteen bytes", "q\"uote",
      "back\\slash in the middle of a long run", "tab\there", "ctl\x01\x1f end", "seven b\"",
      "eight by\n", "twelve bytes\\", "del \x7f kept",
      "caf\xc3\xa9 and \xe2\x89\xa5 long enough to scan", "\"", "", "0123456789abcdef\x02",
      std::string(150, 'x') + "\"" + std::string(60, 'y'), std::string(200, 'z'),
      // Longer than the writer's initial buffer: it grows mid-string.
      std::string(40000, 'w') + "\t" + std::string(9000, 'v')};
  for (const auto& name : names) {
    spec.name = name;
    const auto text = to_json(engine.classify(spec, plan), plan);
    const auto doc = nlohmann::ordered_json::parse(text);
    EXPECT_EQ(doc["part"]["name"], name);
    EXPECT_EQ(doc.dump(2) + "\n", text) << name;
  }
}

TEST_F(BundledParts, A800EscapedIn2022) {
  EXPECT_EQ(classify("nvidia-a800-sxm4-80gb", "2023-06-01").eccn, "");
  EXPECT_EQ(classify("nvidia-a800-sxm4-80gb", "2024-06-01").eccn, "3A090.a.1");
}

TEST_F(BundledParts, H100Sxm) {
  const auto c = classify("nvidia-h100-sxm5-80gb", "2026-11-29");
  EXPECT_NEAR(c.metrics.tpp, 15832, 1.0);
  EXPECT_NEAR(*c.metrics.pd, 19.4, 0.1);
  EXPECT_EQ(c.eccn, "3A090.a.1");
  const auto* v = verdict_of(c, "us-2023-11-17-3a090");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(verdict_reason(*v), "3A090.a.1: TPP 15,831 is 3.30 x the 4,800 line");
  EXPECT_EQ(v->weakest, evidence_tag::V);
}

TEST_F(BundledParts, ConsumerRtx4090IsA1ButNacEligible) {
  const auto c = classify("nvidia-geforce-rtx-4090", "2024-06-01");
  EXPECT_EQ(c.eccn, "3A090.a.1");
  EXPECT_FALSE(c.metrics.datacenter);
  const auto* v = verdict_of(c, "us-2023-11-17-3a090");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->exceptions.size(), 2U);
}

TEST_F(BundledParts, HbmStacksAre3A090cOnlyFrom20241202) {
  const auto before = classify("skhynix-hbm3e-8hi-24gb", "2024-12-01");
  EXPECT_EQ(before.eccn, "");
  EXPECT_EQ(before.outcome, verdict_outcome::not_applicable);
  EXPECT_EQ(classify("skhynix-hbm3e-8hi-24gb", "2024-12-02").eccn, "3A090.c");
}

// --- HBM density: strictly greater than 2; License Exception HBM below 3.3 ---

TEST(Regime2024Hbm, DensityLineIsStrictAndExceptionBelow33) {
  const auto& rules = bundled_rules();
  const evaluation_plan plan(rules, day("2025-01-01"));
  const classification_engine engine(rules);
  chip_spec stack;
  stack.id = "stack";
  stack.kind = part_kind::hbm;
  auto classify_density = [&](double density) {
    stack.hbm_stack = hbm_stack_spec{density * 100, {100, 100}, "HBM"};
    return engine.classify(stack, plan);
  };
  EXPECT_EQ(classify_density(2.0).eccn, "");
  const auto low = classify_density(2.5);
  EXPECT_EQ(low.eccn, "3A090.c");
  const auto* v = verdict_of(low, "us-2024-12-02-3a090c-hbm");
  ASSERT_NE(v, nullptr);
  ASSERT_EQ(v->exceptions.size(), 1U);
  EXPECT_EQ(v->exceptions[0]->id, "HBM");
  const auto high = classify_density(3.3);
  EXPECT_TRUE(verdict_of(high, "us-2024-12-02-3a090c-hbm")->exceptions.empty());
}

// --- Foundry presumption by transistor count and date ---

TEST(Foundry2025, PresumesByTransistorCountWithDatedLimits) {
  const auto& rules = bundled_rules();
  const classification_engine engine(rules);
  auto spec = synthetic_ic(1000, 300, true);
  spec.dies[0].node_nm = 5;
  auto presumed = [&](double transistors, bool hbm, const char* when) {
    spec.dies[0].transistors = value_range{transistors, transistors};
    spec.memory = hbm ? std::optional<memory_spec>(memory_spec{"HBM3", 80, value_range{3000, 3000}})
                      : std::nullopt;
    const auto c = engine.classify(spec, evaluation_plan(rules, day(when)));
    const auto* v = verdict_of(c, "us-2025-01-15-foundry-presumption");
    return v && v->outcome == verdict_outcome::controlled;
  };
  EXPECT_FALSE(presumed(29.9e9, true, "2025-06-01"));
  EXPECT_TRUE(presumed(30e9, true, "2025-06-01"));
  EXPECT_TRUE(presumed(33e9, false, "2026-06-01"));
  EXPECT_FALSE(presumed(33e9, false, "2027-06-01")) << "no HBM and under 35 billion in 2027";
  EXPECT_TRUE(presumed(33e9, true, "2027-06-01"));
  EXPECT_TRUE(presumed(38e9, false, "2028-06-01"));
  // 2028 has no raised limit in the text: 30 billion applies that year, 35 billion only in 2027.
  EXPECT_FALSE(presumed(34e9, false, "2027-12-31"));
  EXPECT_TRUE(presumed(34e9, false, "2028-01-01")) << "no raised limit for 2028";
  EXPECT_TRUE(presumed(31e9, false, "2028-06-01"));
  EXPECT_FALSE(presumed(39e9, false, "2029-01-01"));
  EXPECT_TRUE(presumed(34e9, false, "2026-12-31"));
  EXPECT_FALSE(presumed(38e9, false, "2029-06-01"));
  // Effective 2025-01-16 (FR Doc 2025-00711, DATES), not on its release date 2025-01-15.
  const auto c = engine.classify(spec, evaluation_plan(rules, day("2025-01-15")));
  EXPECT_EQ(verdict_of(c, "us-2025-01-15-foundry-presumption"), nullptr);
  EXPECT_TRUE(presumed(50e9, true, "2025-01-16"));
}

TEST(Foundry2025, PresumptionDoesNotSetTheEccn) {
  const auto& rules = bundled_rules();
  auto spec = synthetic_ic(1000, 300, true);
  spec.dies[0].transistors = value_range{50e9, 50e9};
  const auto c =
      classification_engine(rules).classify(spec, evaluation_plan(rules, day("2025-06-01")));
  EXPECT_EQ(c.eccn, "") << "TPP 1000 is outside 3A090 whatever a foundry presumes";
}

TEST(Foundry2025, EvidenceOfUnusedDatedLimitDoesNotWeakenHbmVerdict) {
  const auto& rules = bundled_rules();
  auto spec = synthetic_ic(1000, 300, true);
  spec.dies[0].transistors = value_range{50e9, 50e9};
  spec.memory = memory_spec{"HBM3", 80, value_range{3000, 3000}};
  const auto c =
      classification_engine(rules).classify(spec, evaluation_plan(rules, day("2025-06-01")));
  const auto* v = verdict_of(c, "us-2025-01-15-foundry-presumption");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->weakest, evidence_tag::V) << "with HBM the S-tagged no-HBM limit is not relied on";
  spec.memory.reset();
  const auto c2 =
      classification_engine(rules).classify(spec, evaluation_plan(rules, day("2025-06-01")));
  EXPECT_EQ(verdict_of(c2, "us-2025-01-15-foundry-presumption")->weakest, evidence_tag::S)
      << "without HBM the S-tagged dated limit is relied on";
}

// --- 4A090: boards and systems containing 3A090 ICs ---

TEST(Boards, ContainingA3A090aIcIs4A090a) {
  const auto& rules = bundled_rules();
  const classification_engine engine(rules);
  const auto gpu = synthetic_ic(15000, 800, true);
  chip_spec board;
  board.id = "board";
  board.kind = part_kind::board;
  component c;
  c.id = gpu.id;
  c.resolved = &gpu;
  c.count = 8;
  board.contains.push_back(c);
  EXPECT_EQ(engine.classify(board, evaluation_plan(rules, day("2024-06-01"))).eccn, "4A090.a");
  // 2022: the IC also needs I/O >= 600 GB/s; without it neither IC nor board is caught.
  EXPECT_EQ(engine.classify(board, evaluation_plan(rules, day("2023-01-01"))).eccn, "");
  const auto small = synthetic_ic(2400, 1000, true);  // PD 2.4: 3A090.b.1
  board.contains[0].resolved = &small;
  EXPECT_EQ(engine.classify(board, evaluation_plan(rules, day("2024-06-01"))).eccn, "4A090.b");
  // 4A090.b exists from the 2024-04-04 corrections (89 FR 23876); from 2023-11-17 such a board was
  // controlled under the 4A090 heading with .b reserved.
  EXPECT_EQ(engine.classify(board, evaluation_plan(rules, day("2024-04-04"))).eccn, "4A090.b");
  EXPECT_EQ(engine.classify(board, evaluation_plan(rules, day("2024-04-03"))).eccn, "4A090");
  EXPECT_EQ(engine.classify(board, evaluation_plan(rules, day("2023-11-17"))).eccn, "4A090");
  const auto tiny = synthetic_ic(100, 1000, true);
  board.contains[0].resolved = &tiny;
  EXPECT_EQ(engine.classify(board, evaluation_plan(rules, day("2024-06-01"))).eccn, "");
}

// --- Alternative readings of open points ---

TEST(Alternatives, AggregationThatChangesTheEccnIsFlagged) {
  const auto& rules = bundled_rules();
  chip_spec s = synthetic_ic(3000, 0, true);  // int8 375
  processing_unit vec;
  vec.name = "vector";
  vec.dense_tops[index_of(precision::fp32)] = value_range{60, 60};  // 1920
  s.units.push_back(vec);
  s.dies.push_back({"logic", die_kind::logic, 1, value_range{10000, 10000}, {}, "N5", 5, true, {}});
  const auto c =
      classification_engine(rules).classify(s, evaluation_plan(rules, day("2025-06-01")));
  EXPECT_DOUBLE_EQ(c.metrics.tpp, 4920);
  EXPECT_EQ(c.eccn, "3A090.a.1");
  EXPECT_TRUE(c.alternatives_differ);
  ASSERT_FALSE(c.alternatives.empty());
  EXPECT_EQ(c.alternatives[0].label, "aggregation max_of_sums");
  EXPECT_EQ(c.alternatives[0].eccn, "");
}

TEST(Alternatives, RangeThatStraddlesALineIsReported) {
  const auto& rules = bundled_rules();
  auto s = synthetic_ic(4000, 0, true);
  s.units[0].dense_tops[index_of(precision::int8)] = value_range{550, 650};  // TPP 4400..5200
  s.dies.push_back({"logic", die_kind::logic, 1, value_range{2000, 2000}, {}, "N5", 5, true, {}});
  const auto c =
      classification_engine(rules).classify(s, evaluation_plan(rules, day("2025-06-01")));
  EXPECT_TRUE(c.alternatives_differ);
  const auto notes = classification_notes(c);
  EXPECT_TRUE(std::any_of(notes.begin(), notes.end(), [](const std::string& n) {
    return n.find("range end") != std::string::npos;
  }));
}

// --- What-if: announced-but-not-enforced regimes are evaluated only on request ---

TEST(WhatIf, AnnouncedRegimesOnlyInWhatIfMode) {
  test::temp_dir dir;
  auto rules = rule_set::load_definitions(test::specs_dir() + "/rules");
  const auto file = dir.write("diffusion.json", R"({
    "schema": "chipgauge.rule/1", "id": "test-diffusion", "title": "t", "evidence": "S",
    "citations": [{"cite": "90 FR 4544", "evidence": "V"}],
    "timeline": [{"from": "2025-01-13", "status": "in_force"}, {"from": "2025-05-13", "status": "announced_not_enforced"}],
    "parameters": {"line": {"value": 4800, "evidence": "V"}},
    "clauses": [{"eccn": "3A090.a", "when": "tpp >= line", "evidence": "S"}]})");
  rules.add_regime_file(file);
  const auto spec = synthetic_ic(5000, 100, true);
  const classification_engine engine(rules);
  const auto in_force = engine.classify(spec, evaluation_plan(rules, day("2025-05-12")));
  EXPECT_EQ(in_force.eccn, "3A090.a");
  const auto later = engine.classify(spec, evaluation_plan(rules, day("2025-05-13")));
  EXPECT_EQ(later.eccn, "");
  EXPECT_TRUE(later.verdicts.empty());
  const evaluation_plan what_if(rules, day("2025-05-13"), true);
  const auto hypothetical = engine.classify(spec, what_if);
  ASSERT_EQ(hypothetical.verdicts.size(), 1U);
  EXPECT_TRUE(hypothetical.verdicts[0].what_if);
  EXPECT_EQ(hypothetical.verdicts[0].outcome, verdict_outcome::controlled);
  EXPECT_EQ(hypothetical.eccn, "") << "a what-if verdict never becomes the part's ECCN";
}

}  // namespace
}  // namespace chipgauge::classifier

namespace chipgauge::classifier {
namespace {

TEST(Alternatives, RangeFlipPointIsWhereTheLineIsCrossed) {
  const auto& rules = test::bundled_rules();
  auto s = test::synthetic_ic(4000, 0, true);
  s.units[0].dense_tops[index_of(precision::int8)] = value_range{550, 650};  // TPP 4400..5200
  s.dies.push_back({"logic", die_kind::logic, 1, value_range{2000, 2000}, {}, "N5", 5, true, {}});
  const auto c =
      classification_engine(rules).classify(s, evaluation_plan(rules, *date::parse("2025-06-01")));
  ASSERT_TRUE(c.flip.has_value());
  EXPECT_EQ(c.flip->eccn_before, "3A090.b.1");
  EXPECT_EQ(c.flip->eccn_after, "3A090.a.1");
  EXPECT_NEAR(c.flip->tpp, 4800, 1e-6);
  EXPECT_NEAR(c.flip->fraction, 0.5, 1e-6);
}

TEST(Alternatives, NoFlipWhenTheRangeStaysOnOneSide) {
  const auto& rules = test::bundled_rules();
  auto s = test::synthetic_ic(4000, 0, true);
  s.units[0].dense_tops[index_of(precision::int8)] = value_range{700, 900};
  s.dies.push_back({"logic", die_kind::logic, 1, value_range{500, 900}, {}, "N5", 5, true, {}});
  const auto c =
      classification_engine(rules).classify(s, evaluation_plan(rules, *date::parse("2025-06-01")));
  EXPECT_FALSE(c.flip.has_value());
  EXPECT_FALSE(c.alternatives_differ);
  const auto notes = classification_notes(c);
  EXPECT_NE(
      std::find(notes.begin(), notes.end(), "the verdict holds across every range in the sheet"),
      notes.end());
}

}  // namespace
}  // namespace chipgauge::classifier

namespace chipgauge::classifier {
namespace {

TEST(Boards, SystemSeesIcsInsideItsBoards) {
  const auto& rules = test::bundled_rules();
  const auto gpu = test::synthetic_ic(15000, 800, true);
  chip_spec board;
  board.id = "board";
  board.kind = part_kind::board;
  component c;
  c.id = gpu.id;
  c.resolved = &gpu;
  c.count = 8;
  board.contains.push_back(c);
  chip_spec system;
  system.id = "system";
  system.kind = part_kind::system;
  component b;
  b.id = board.id;
  b.resolved = &board;
  system.contains.push_back(b);
  EXPECT_EQ(classification_engine(rules)
                .classify(system, evaluation_plan(rules, *date::parse("2024-06-01")))
                .eccn,
            "4A090.a");
}

TEST(Boards, UndeterminedComponentMakesTheBoardUndetermined) {
  const auto& rules = test::bundled_rules();
  const auto gpu =
      test::synthetic_ic(2000, 0, true);  // no dies: PD unknown, 2023 verdict undetermined
  chip_spec board;
  board.id = "board";
  board.kind = part_kind::board;
  component c;
  c.id = gpu.id;
  c.resolved = &gpu;
  board.contains.push_back(c);
  const auto out = classification_engine(rules).classify(
      board, evaluation_plan(rules, *date::parse("2024-06-01")));
  EXPECT_EQ(out.eccn, "");
  EXPECT_EQ(out.outcome, verdict_outcome::undetermined);
}

TEST(PdReading, NoNonPlanarLogicDieReadsAsNotMetWithEvidenceR) {
  const auto& rules = test::bundled_rules();
  auto s = test::synthetic_ic(2000, 0, true);
  s.dies.push_back(
      {"planar", die_kind::logic, 1, value_range{300, 300}, {}, "28nm", 28, false, {}});
  const auto out =
      classification_engine(rules).classify(s, evaluation_plan(rules, *date::parse("2024-06-01")));
  EXPECT_EQ(out.outcome, verdict_outcome::not_controlled);
  ASSERT_EQ(out.verdicts.size(), 1U);
  EXPECT_EQ(out.verdicts[0].weakest, evidence_tag::R);
}

}  // namespace
}  // namespace chipgauge::classifier

namespace chipgauge::classifier {
namespace {

TEST(Boards, RangeFlipInsideAComponentReachesTheBoard) {
  const auto& rules = test::bundled_rules();
  auto ic = test::synthetic_ic(4000, 0, true);
  ic.units[0].dense_tops[index_of(precision::int8)] = value_range{400, 800};  // TPP 3200..6400
  ic.dies.push_back({"logic", die_kind::logic, 1, value_range{1000, 1000}, {}, "N5", 5, true, {}});
  chip_spec board;
  board.id = "board";
  board.kind = part_kind::board;
  component c;
  c.id = ic.id;
  c.resolved = &ic;
  board.contains.push_back(c);
  const auto out = classification_engine(rules).classify(
      board, evaluation_plan(rules, *date::parse("2025-06-01")));
  ASSERT_TRUE(out.flip.has_value()) << "the component's range straddles 4800";
  EXPECT_EQ(out.flip->eccn_before, "4A090.b");
  EXPECT_EQ(out.flip->eccn_after, "4A090.a");
}

}  // namespace
}  // namespace chipgauge::classifier
