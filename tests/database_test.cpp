// The bundled parts database: loads, validates, and agrees with vendor attestations.
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/classifier/engine.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace chipgauge {
namespace {

class Database : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cat_ = new catalog(catalog::load(test::specs_dir())); }
  static void TearDownTestSuite() {
    delete cat_;
    cat_ = nullptr;
  }
  static catalog* cat_;
};
catalog* Database::cat_ = nullptr;

TEST_F(Database, HoldsTheSixFoundationParts) {
  for (const char* id : {"nvidia-a100-sxm4-80gb", "nvidia-a800-sxm4-80gb", "nvidia-h100-sxm5-80gb", "nvidia-h20",
                         "nvidia-geforce-rtx-4090", "nvidia-l4"}) {
    EXPECT_NE(cat_->parts().find(id), nullptr) << id;
  }
}

TEST_F(Database, EverySheetHasSourcesAndAnEvidenceLevel) {
  for (const auto& p : cat_->parts().parts()) {
    EXPECT_FALSE(p->sources.empty()) << p->file << ": every number must be traceable to a source";
    EXPECT_NE(p->evidence, data_evidence::unspecified) << p->file;
  }
}

TEST_F(Database, ComputedTppMatchesEveryDeclaredFigure) {
  // Vendor-attested TPP may differ from rounded datasheet arithmetic; 2 % is the tolerance
  // `specs validate` warns at.
  for (const auto& p : cat_->parts().parts()) {
    if (!p->declared || !p->declared->tpp) continue;
    const auto m = compute_metrics(*p, cat_->rules().definitions());
    EXPECT_NEAR(m.tpp, *p->declared->tpp, 0.02 * *p->declared->tpp) << p->file;
  }
  for (const auto& w : cat_->parts().warnings()) EXPECT_NE(w.json_path, "$.declared.tpp") << w.file << ": " << w.message;
}

TEST_F(Database, ComputedEccnFallsUnderEveryDeclaredEccn) {
  // A vendor's published ECCN, on the day it speaks for, must cover what the rules compute.
  int checked = 0;
  for (const auto& p : cat_->parts().parts()) {
    if (!p->declared || p->declared->eccn.empty()) continue;
    ++checked;
    const auto m = declared_eccn_mismatch(*p, cat_->rules());
    EXPECT_FALSE(m) << p->file << ": " << m.value_or("");
  }
  EXPECT_GT(checked, 0) << "the database carries published ECCNs (NVIDIA's 8-K of 2023-10-17)";
}

TEST(DeclaredEccn, MismatchNamesBothEccnsAndNeedsTheDate) {
  const auto rules = rule_set::load(test::specs_dir() + "/rules");
  auto spec = load_spec_file(test::specs_dir() + "/chips/nvidia-l4.json");
  spec.declared = declared_spec{};
  spec.declared->eccn = "3A090";
  spec.declared->as_of = date::parse("2023-11-17");
  // L4 on 2023-11-17: TPP 1,940 (FP8 242.5 x 8) and PD 6.59 >= 5.92: 3A090.a.2, under "3A090".
  EXPECT_FALSE(declared_eccn_mismatch(spec, rules));
  spec.declared->eccn = "3A090.a";
  EXPECT_FALSE(declared_eccn_mismatch(spec, rules));
  spec.declared->eccn = "3A090.b";
  EXPECT_TRUE(declared_eccn_mismatch(spec, rules)) << "a sibling paragraph does not cover 3A090.a.2";
  spec.declared->eccn = "3A09";
  EXPECT_TRUE(declared_eccn_mismatch(spec, rules)) << "a prefix that is not a paragraph does not cover";
  // Without its die area the L4's PD is unknown, and at TPP 1,940 the verdict rests on PD: the
  // declared ECCN cannot be checked, and the message says why rather than claiming agreement.
  auto no_area = spec;
  for (auto& d : no_area.dies) d.area_mm2.reset();
  no_area.declared->eccn = "3A090";
  const auto unknown = declared_eccn_mismatch(no_area, rules);
  ASSERT_TRUE(unknown);
  EXPECT_NE(unknown->find("cannot be checked: the computed classification is undetermined"), std::string::npos) << *unknown;
  spec.declared->eccn = "5A992.c";
  const auto wrong = declared_eccn_mismatch(spec, rules);
  ASSERT_TRUE(wrong);
  EXPECT_NE(wrong->find("declared ECCN 5A992.c (as of 2023-11-17) disagrees with the computed"), std::string::npos) << *wrong;
  spec.declared->as_of = date::parse("2022-01-01");  // before any regime: nothing controlled
  spec.declared->eccn = "EAR99";
  EXPECT_FALSE(declared_eccn_mismatch(spec, rules)) << "EAR99 agrees with no ECCN of these regimes";
  spec.declared->eccn = "3A090.a";
  EXPECT_TRUE(declared_eccn_mismatch(spec, rules));
}

TEST_F(Database, EveryPartClassifiesOnEveryRuleDate) {
  const classifier engine(cat_->rules());
  std::set<date> dates;
  for (const auto& r : cat_->rules().regimes()) {
    for (const auto& t : r.timeline) dates.insert(t.from);
  }
  for (const auto& d : dates) {
    const evaluation_plan plan(cat_->rules(), d);
    for (const auto& p : cat_->parts().parts()) {
      const auto c = engine.classify(*p, plan);
      EXPECT_TRUE(std::isfinite(c.metrics.tpp)) << p->id;
      EXPECT_EQ(c.verdicts.size(), plan.entries().size());
    }
  }
}

}  // namespace
}  // namespace chipgauge
