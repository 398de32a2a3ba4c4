// Licensing answers: one test per requirement, exception and overlay of each licensing regime,
// the dated transitions, the quotas (LPP inclusive at 26,900,000) and the fleet checks.
#include "chipgauge/classifier/licensing.hpp"
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/classifier/fleet.hpp"
#include "chipgauge/classifier/ledger.hpp"
#include "chipgauge/core/error.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <stdexcept>

namespace chipgauge::classifier {
namespace {

date day(const char* d) { return *date::parse(d); }

class Licensing : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cat_ = new catalog(catalog::load(test::specs_dir()));
    engine_ = new licensing_engine(cat_->rules(), cat_->licensing(), cat_->countries());
    quota_dir_ = new test::temp_dir();
    quota_cat_ = new catalog(catalog::load(test::specs_with_binding_diffusion(*quota_dir_)));
    quota_engine_ =
        new licensing_engine(quota_cat_->rules(), quota_cat_->licensing(), quota_cat_->countries());
  }
  static void TearDownTestSuite() {
    delete quota_engine_;
    delete quota_cat_;
    delete quota_dir_;
    delete engine_;
    delete cat_;
  }

  static license_answer ask(const chip_spec& part, const char* to, const char* when,
                            const char* hq = "", const char* from = "US", long long quantity = 1,
                            bool what_if = false) {
    license_query q;
    q.part = &part;
    q.to = to;
    q.from = from;
    q.party_hq = hq;
    q.as_of = day(when);
    q.quantity = quantity;
    q.what_if = what_if;
    return engine_->answer(q);
  }
  static license_answer ask(const char* id, const char* to, const char* when, const char* hq = "",
                            const char* from = "US", long long quantity = 1, bool what_if = false) {
    return ask(*cat_->parts().find(id), to, when, hq, from, quantity, what_if);
  }

  static license_answer ask_as(const char* exporter, const char* id, const char* to,
                               const char* when, const char* hq = "", const char* from = "US") {
    return ask_as(exporter, *cat_->parts().find(id), to, when, hq, from);
  }
  static license_answer ask_as(const char* exporter, const chip_spec& part, const char* to,
                               const char* when, const char* hq = "", const char* from = "US") {
    license_query q;
    q.part = &part;
    q.to = to;
    q.from = from;
    q.party_hq = hq;
    q.as_of = day(when);
    q.exporter = exporter;
    return engine_->answer(q);
  }

  static bool fired(const license_answer& a, const std::string& regime,
                    const std::string& requirement) {
    return std::any_of(a.requirements.begin(), a.requirements.end(),
                       [&](const fired_requirement& f) {
                         return f.regime->id == regime && f.requirement->id == requirement;
                       });
  }
  static std::vector<std::string> exception_ids(const license_answer& a) {
    std::vector<std::string> ids;
    for (const auto& e : a.exceptions) ids.push_back(e.exception->id);
    return ids;
  }
  static bool overlay(const license_answer& a, const std::string& id) {
    return std::any_of(a.overlays.begin(), a.overlays.end(),
                       [&](const applying_overlay& o) { return o.overlay->id == id; });
  }
  // A datacenter IC with exactly this TPP and DRAM bandwidth (PD 10).
  static chip_spec synthetic(double tpp, double dram_gb_s) {
    auto s = test::synthetic_ic(tpp, tpp / 10, true);
    s.memory = memory_spec{"HBM3", 96, value_range{dram_gb_s, dram_gb_s}};
    s.interconnect = interconnect_spec{{900, 900}, "NVLink", {}};
    return s;
  }

  static catalog* cat_;
  static licensing_engine* engine_;
  // The bundled data with the Diffusion framework binding from 2025-01-13 to 2025-05-12 (its
  // compliance date removed): the real one never bound a shipment, so the ledger's quota
  // mechanics are tested on this copy.
  static test::temp_dir* quota_dir_;
  static catalog* quota_cat_;
  static licensing_engine* quota_engine_;
};
catalog* Licensing::cat_ = nullptr;
licensing_engine* Licensing::engine_ = nullptr;
test::temp_dir* Licensing::quota_dir_ = nullptr;
catalog* Licensing::quota_cat_ = nullptr;
licensing_engine* Licensing::quota_engine_ = nullptr;

// --- countries and groups ------------------------------------------------------------------------

TEST_F(Licensing, CountriesResolveByCodeNameAndAlias) {
  const auto& c = cat_->countries();
  EXPECT_EQ(c.resolve("CN").alpha2, "CN");
  EXPECT_EQ(c.resolve("china").alpha2, "CN");
  EXPECT_EQ(c.resolve("CHN").alpha2, "CN");
  EXPECT_EQ(c.resolve("Macau").alpha2, "MO");
  EXPECT_EQ(c.resolve("Macao").alpha2, "MO");
  EXPECT_EQ(c.resolve("UAE").alpha2, "AE");
  try {
    (void)c.resolve("Chna");
    FAIL() << "expected usage_error";
  } catch (const usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean CN"), std::string::npos) << e.what();
  }
}

TEST_F(Licensing, GroupMembershipsAreDated) {
  const auto& c = cat_->countries();
  EXPECT_TRUE(c.member("CY", "d5", day("2024-05-29")));
  EXPECT_FALSE(c.member("CY", "d5", day("2024-05-30")));
  EXPECT_FALSE(c.member("NI", "d5", day("2024-03-14")));
  EXPECT_TRUE(c.member("NI", "d5", day("2024-03-15")));
  EXPECT_TRUE(c.member("HK", "d5", day("2023-01-01"))) << "Hong Kong is treated as China";
  EXPECT_TRUE(c.member("MO", "d1", day("2024-01-01")));
  EXPECT_FALSE(c.member("MO", "d5", day("2024-01-01")));
}

// Cambodia left D:5 when State lifted its arms embargo (2025-11-07); BIS's conforming rule
// (FR Doc 2026-02262) followed on 2026-02-03. It stays in D:1.
TEST_F(Licensing, CambodiaLeftD5In2025) {
  const auto& c = cat_->countries();
  EXPECT_TRUE(c.member("KH", "d5", day("2025-11-06")));
  EXPECT_FALSE(c.member("KH", "d5", day("2025-11-07")));
  EXPECT_TRUE(c.member("KH", "d1", day("2026-02-03")));
  EXPECT_EQ(*ask("nvidia-h100-sxm5-80gb", "KH", "2025-11-06").policy,
            review_policy::presumption_of_denial);
  EXPECT_EQ(*ask("nvidia-h100-sxm5-80gb", "KH", "2025-11-07").policy,
            review_policy::presumption_of_approval)
      << "D:1 only";
}

// The UAE moves to A:5 on 2026-07-10 (FR Doc 2026-14132, as relayed: R) for its government and
// approved commercial entities only: stated, the 2023 rule's D:1/D:4 requirement no longer reaches
// them; unstated, the stricter reading stays, and the answer says what decides it.
TEST_F(Licensing, UaeA5From20260710ForStatedEndUsersOnly) {
  const auto& c = cat_->countries();
  EXPECT_FALSE(c.member("AE", "a5", day("2026-07-10")));
  EXPECT_TRUE(c.member("AE", "a5", day("2026-07-10"), nullptr, "government"));
  EXPECT_FALSE(c.member("AE", "a5", day("2026-07-09"), nullptr, "government"));
  EXPECT_TRUE(c.member("AE", "d4", day("2026-07-10")));
  EXPECT_FALSE(c.member("AE", "d4", day("2026-07-10"), nullptr, "approved-commercial"));
  auto ask_uae = [&](const char* when, const char* end_user) {
    license_query q;
    q.part = cat_->parts().find("nvidia-h100-sxm5-80gb");
    q.to = "AE";
    q.as_of = day(when);
    q.end_user = end_user;
    return engine_->answer(q);
  };
  EXPECT_TRUE(ask_uae("2026-07-09", "government").license_required) << "before the move";
  const auto unstated = ask_uae("2026-07-10", "");
  EXPECT_TRUE(unstated.license_required) << "no end user stated: the stricter reading";
  ASSERT_FALSE(unstated.notices.empty());
  EXPECT_NE(unstated.notices[0].find("state --end-user"), std::string::npos) << unstated.notices[0];
  const auto gov = ask_uae("2026-07-10", "government");
  EXPECT_FALSE(gov.license_required);
  EXPECT_EQ(gov.weakest, evidence_tag::R) << "the answer rests on the relayed rule";
  EXPECT_TRUE(ask_uae("2026-07-10", "civil").license_required) << "a civil end user is neither";
}

// --- 2022-10-07 scope ----------------------------------------------------------------------------

TEST_F(Licensing, Rule2022ChinaAndMacauOnly) {
  const auto cn = ask("nvidia-h100-sxm5-80gb", "CN", "2023-01-01");
  EXPECT_TRUE(cn.license_required);
  EXPECT_TRUE(fired(cn, "us-2022-10-07-licence", "china"));
  EXPECT_TRUE(ask("nvidia-h100-sxm5-80gb", "HK", "2023-01-01").license_required)
      << "Hong Kong as China";
  EXPECT_FALSE(ask("nvidia-h100-sxm5-80gb", "VN", "2023-01-01").license_required);
  EXPECT_FALSE(ask("nvidia-a800-sxm4-80gb", "CN", "2023-01-01").license_required)
      << "A800 was not 3A090 in 2022";
}

// Macau joined the 2022 rule's license scope on 2023-01-17 (88 FR 2821), not on 2022-10-07; the
// savings clause is reported while it runs (until 2023-02-15), never assumed.
TEST_F(Licensing, MacauFrom20230117WithSavingsClause) {
  for (const char* d : {"2022-10-07", "2023-01-16"}) {
    const auto a = ask("nvidia-h100-sxm5-80gb", "MO", d);
    EXPECT_FALSE(a.license_required) << d;
  }
  const auto on = ask("nvidia-h100-sxm5-80gb", "MO", "2023-01-17");
  EXPECT_TRUE(on.license_required);
  EXPECT_TRUE(fired(on, "us-2022-10-07-licence", "macau"));
  ASSERT_EQ(on.notices.size(), 1U);
  EXPECT_NE(on.notices[0].find("savings clause"), std::string::npos);
  EXPECT_NE(to_json(on).find("\"savings_clause\": \"until 2023-02-15"), std::string::npos);
  EXPECT_EQ(ask("nvidia-h100-sxm5-80gb", "MO", "2023-02-15").notices.size(), 1U);
  const auto later = ask("nvidia-h100-sxm5-80gb", "MO", "2023-02-16");
  EXPECT_TRUE(later.license_required);
  EXPECT_TRUE(later.notices.empty()) << "the savings clause ended";
  EXPECT_TRUE(ask("nvidia-h100-sxm5-80gb", "CN", "2022-10-07").license_required)
      << "China from the start";
}

// --- 2023-11-17 scope, review policies, headquarters rule ----------------------------------------

TEST_F(Licensing, Transition20231116To20231117) {
  EXPECT_FALSE(ask("nvidia-h100-sxm5-80gb", "VN", "2023-11-16").license_required);
  const auto after = ask("nvidia-h100-sxm5-80gb", "VN", "2023-11-17");
  EXPECT_TRUE(after.license_required);
  ASSERT_TRUE(after.policy.has_value());
  EXPECT_EQ(*after.policy, review_policy::presumption_of_approval);
  EXPECT_FALSE(ask("nvidia-a800-sxm4-80gb", "CN", "2023-11-16").license_required);
  EXPECT_TRUE(ask("nvidia-a800-sxm4-80gb", "CN", "2023-11-17").license_required);
}

TEST_F(Licensing, D5AndMacauPresumptionOfDenial) {
  for (const char* to : {"CN", "MO", "RU", "IR"}) {
    const auto a = ask("nvidia-h100-sxm5-80gb", to, "2024-06-01");
    EXPECT_TRUE(a.license_required) << to;
    ASSERT_TRUE(a.policy.has_value()) << to;
    EXPECT_EQ(*a.policy, review_policy::presumption_of_denial) << to;
    EXPECT_TRUE(fired(a, "us-2023-11-17-licence", "d5-or-macau")) << to;
  }
}

TEST_F(Licensing, D1D4PresumptionOfApprovalExceptA5A6) {
  for (const char* to : {"AE", "SA", "VN"}) {
    const auto a = ask("nvidia-h100-sxm5-80gb", to, "2024-06-01");
    EXPECT_TRUE(fired(a, "us-2023-11-17-licence", "d1-or-d4")) << to;
    EXPECT_EQ(*a.policy, review_policy::presumption_of_approval) << to;
  }
  for (const char* to : {"IL", "IN", "DE", "FR"})
    EXPECT_FALSE(ask("nvidia-h100-sxm5-80gb", to, "2024-06-01").license_required) << to;
}

TEST_F(Licensing, HeadquartersRuleFromAThirdCountry) {
  const auto a = ask("nvidia-h100-sxm5-80gb", "DE", "2024-06-01", "CN");
  EXPECT_TRUE(a.license_required);
  EXPECT_TRUE(fired(a, "us-2023-11-17-licence", "headquarters-datacenter-a"));
  EXPECT_EQ(*a.policy, review_policy::presumption_of_denial);
  EXPECT_FALSE(ask("nvidia-h100-sxm5-80gb", "DE", "2024-06-01", "DE").license_required);
}

// 744.23(a)(3) reaches destinations outside the United States only: a US destination with a
// China-headquartered party is no license requirement under it (an in-country transfer in the US).
TEST_F(Licensing, HeadquartersRuleStopsAtTheUnitedStates) {
  for (const char* d : {"2023-11-17", "2024-06-01", "2026-06-01"}) {
    const auto us = ask("nvidia-h100-sxm5-80gb", "US", d, "CN");
    EXPECT_FALSE(us.license_required) << d;
    EXPECT_TRUE(us.requirements.empty()) << d;
  }
}

// The review policy for a D:5/Macau-headquartered party located elsewhere changed on 2024-04-04
// (744.23(d)): case by case before; from then denial for datacenter 3A090.a, case by case for the
// rest.
TEST_F(Licensing, HeadquartersReviewPolicyChangedOn20240404) {
  const auto before = ask("nvidia-h100-sxm5-80gb", "DE", "2024-04-03", "CN");
  EXPECT_TRUE(fired(before, "us-2023-11-17-licence", "headquarters"));
  EXPECT_EQ(*before.policy, review_policy::case_by_case);
  const auto after = ask("nvidia-h100-sxm5-80gb", "DE", "2024-04-04", "CN");
  EXPECT_TRUE(fired(after, "us-2023-11-17-licence", "headquarters-datacenter-a"));
  EXPECT_EQ(*after.policy, review_policy::presumption_of_denial);
  const auto consumer = ask("nvidia-geforce-rtx-4090", "DE", "2024-04-04", "CN");
  EXPECT_TRUE(fired(consumer, "us-2023-11-17-licence", "headquarters-other"));
  EXPECT_EQ(*consumer.policy, review_policy::case_by_case)
      << "not designed or marketed for datacenters";
  const auto vn = ask("nvidia-h100-sxm5-80gb", "VN", "2024-04-03", "MO");
  EXPECT_EQ(*vn.policy, review_policy::case_by_case)
      << "the headquarters reason wins over D:1 approval";
}

TEST_F(Licensing, NacVersusAcaByDestination) {
  // A consumer 3A090.a.1 part (TPP >= 4800, not for datacenters) is NAC/ACA-eligible.
  EXPECT_EQ(exception_ids(ask("nvidia-geforce-rtx-4090", "VN", "2024-06-01")),
            std::vector<std::string>{"ACA"});
  EXPECT_EQ(exception_ids(ask("nvidia-geforce-rtx-4090", "CN", "2024-06-01")),
            std::vector<std::string>{"NAC"});
  EXPECT_EQ(exception_ids(ask("nvidia-geforce-rtx-4090", "VN", "2024-06-01", "CN")),
            std::vector<std::string>{"NAC"});
  EXPECT_EQ(exception_ids(ask("nvidia-geforce-rtx-4090", "VN", "2024-01-10")),
            std::vector<std::string>{"NAC"})
      << "before the 2024-04-04 split NAC covered every destination";
  EXPECT_TRUE(exception_ids(ask("nvidia-h100-sxm5-80gb", "VN", "2024-06-01")).empty())
      << "datacenter 3A090.a: no NAC/ACA";
}

// From 2024-04-04 an in-country transfer within Macau or D:5 falls under ACA, not NAC (740.8(a)).
TEST_F(Licensing, InCountryTransfersWithinD5AreAca) {
  const auto within_cn = ask("nvidia-geforce-rtx-4090", "CN", "2024-04-04", "", "CN");
  EXPECT_EQ(within_cn.transaction, transaction_kind::in_country);
  EXPECT_EQ(exception_ids(within_cn), std::vector<std::string>{"ACA"});
  EXPECT_EQ(exception_ids(ask("nvidia-geforce-rtx-4090", "MO", "2024-06-01", "", "MO")),
            std::vector<std::string>{"ACA"});
  EXPECT_EQ(exception_ids(ask("nvidia-geforce-rtx-4090", "CN", "2024-04-03", "", "CN")),
            std::vector<std::string>{"NAC"})
      << "before the split one NAC covered everything";
  EXPECT_EQ(exception_ids(ask("nvidia-geforce-rtx-4090", "CN", "2024-04-04")),
            std::vector<std::string>{"NAC"})
      << "an export to China";
}

// --- 2024-12-02 HBM ------------------------------------------------------------------------------

TEST_F(Licensing, HbmStacksToD5AndLicenseExceptionHbm) {
  const auto before = ask("skhynix-hbm3e-8hi-24gb", "CN", "2024-12-01");
  EXPECT_FALSE(before.license_required);
  // Effective 2024-12-02, compliance 2024-12-31: the license requirement binds from the 31st;
  // License Exception HBM is listed from the effective date.
  const auto effective = ask("skhynix-hbm3e-8hi-24gb", "CN", "2024-12-30");
  EXPECT_FALSE(effective.license_required);
  EXPECT_NE(std::find(effective.not_applying.begin(), effective.not_applying.end(),
                      "us-2024-12-02-hbm-licence (in_force, compliance from 2024-12-31)"),
            effective.not_applying.end());
  EXPECT_TRUE(fired(ask("skhynix-hbm3e-8hi-24gb", "CN", "2024-12-31"), "us-2024-12-02-hbm-licence",
                    "hbm-d5-or-macau"));
  const auto hbm3e = ask("skhynix-hbm3e-8hi-24gb", "CN", "2025-01-01");
  EXPECT_TRUE(fired(hbm3e, "us-2024-12-02-hbm-licence", "hbm-d5-or-macau"));
  EXPECT_TRUE(exception_ids(hbm3e).empty()) << "density above 3.3 GB/s/mm^2";
  const auto hbm2 = ask("samsung-hbm2-aquabolt-8gb", "CN", "2025-01-01");
  EXPECT_EQ(exception_ids(hbm2), std::vector<std::string>{"HBM"});
  EXPECT_FALSE(ask("skhynix-hbm3e-8hi-24gb", "DE", "2025-01-01").license_required);
}

// --- 2025 AI Diffusion framework and its rescission ----------------------------------------------

// The framework was effective from 2025-01-13 but its compliance date was 2025-05-15 (90 FR 4544,
// DATES), and BIS stopped enforcing it on 2025-05-13: it never bound a shipment. Its tiers are
// evaluated only with --what-if, on both sides of each date. (Before this was modelled the tiers
// decided answers from 2025-01-13 to 2025-05-12: wrong by the rule's own DATES section.)
TEST_F(Licensing, DiffusionTiersOnlyWhatIfBeforeCompliance) {
  const auto tier2 = ask("nvidia-h100-sxm5-80gb", "BR", "2025-05-12", "", "US", 1000, true);
  EXPECT_FALSE(tier2.license_required) << "before the compliance date the framework binds nothing";
  ASSERT_EQ(tier2.what_if_requirements.size(), 1U);
  EXPECT_EQ(tier2.what_if_requirements[0].requirement->id, "tier2");
  EXPECT_EQ(exception_ids(tier2), (std::vector<std::string>{"ACM", "LPP"}))
      << "1000 H100 = 15.8 M TPP fits LPP";
  EXPECT_TRUE(tier2.exceptions[0].what_if);
  const auto big = ask("nvidia-h100-sxm5-80gb", "BR", "2025-05-12", "", "US", 2000, true);
  EXPECT_EQ(exception_ids(big), std::vector<std::string>{"ACM"}) << "31.7 M TPP exceeds LPP";
  const auto tier1 = ask("nvidia-h100-sxm5-80gb", "FR", "2025-05-12", "", "US", 1, true);
  ASSERT_EQ(tier1.what_if_requirements.size(), 1U);
  EXPECT_EQ(tier1.what_if_requirements[0].requirement->id, "tier1");
  EXPECT_EQ(exception_ids(tier1), (std::vector<std::string>{"AIA", "ACM"}));
  const auto tier1_cn_hq = ask("nvidia-h100-sxm5-80gb", "FR", "2025-05-12", "CN", "US", 1, true);
  EXPECT_TRUE(std::none_of(tier1_cn_hq.exceptions.begin(), tier1_cn_hq.exceptions.end(),
                           [](const eligible_exception& e) { return e.exception->id == "AIA"; }))
      << "AIA's headquarters limit";
  const auto cn = ask("nvidia-h100-sxm5-80gb", "CN", "2025-05-12", "", "US", 1, true);
  ASSERT_FALSE(cn.what_if_requirements.empty());
  EXPECT_EQ(cn.what_if_requirements[0].requirement->id, "tier3");
  EXPECT_EQ(cn.policy_from->id, "us-2023-11-17-licence") << "the 2023 rule decides China";
}

TEST_F(Licensing, DiffusionNeverBindsAShipment) {
  for (const char* d : {"2025-01-13", "2025-03-01", "2025-05-12", "2025-05-14", "2025-05-15",
                        "2025-06-01", "2026-06-01"}) {
    const auto a = ask("nvidia-h100-sxm5-80gb", "BR", d);
    EXPECT_FALSE(a.license_required) << d;
    EXPECT_TRUE(a.requirements.empty()) << d;
    EXPECT_TRUE(a.exceptions.empty()) << d << ": no exception is listed outside --what-if";
  }
  const auto before = ask("nvidia-h100-sxm5-80gb", "BR", "2025-05-12");
  EXPECT_NE(std::find(before.not_applying.begin(), before.not_applying.end(),
                      "us-2025-01-13-ai-diffusion (in_force, compliance from 2025-05-15)"),
            before.not_applying.end());
  const auto after = ask("nvidia-h100-sxm5-80gb", "BR", "2025-05-13");
  EXPECT_TRUE(after.what_if_requirements.empty());
  // The default answer is BIS's enforcement position and says what the text would require.
  EXPECT_TRUE(std::any_of(after.notices.begin(), after.notices.end(), [](const std::string& n) {
    return n.find(
               "us-2025-01-13-ai-diffusion / tier2 would require a licence under the "
               "regulation's text") != std::string::npos;
  }));
  // The one part BIS still enforces: the headquarters requirement for .a items
  // (742.6(a)(6)(iii)(A)).
  const auto hq = ask("nvidia-h100-sxm5-80gb", "BR", "2025-06-01", "CN");
  EXPECT_TRUE(hq.license_required);
  EXPECT_TRUE(fired(hq, "us-2023-11-17-licence", "headquarters-datacenter-a"));
  EXPECT_NE(std::find(after.not_applying.begin(), after.not_applying.end(),
                      "us-2025-01-13-ai-diffusion (announced_not_enforced)"),
            after.not_applying.end());
  for (const char* d : {"2025-05-14", "2025-05-15"}) {
    const auto what_if = ask("nvidia-h100-sxm5-80gb", "BR", d, "", "US", 1, true);
    EXPECT_FALSE(what_if.license_required) << "a what-if regime never decides the answer";
    ASSERT_EQ(what_if.what_if_requirements.size(), 1U) << d;
    EXPECT_EQ(what_if.what_if_requirements[0].requirement->id, "tier2");
    EXPECT_TRUE(what_if.what_if_requirements[0].what_if);
  }
}

// --- 2025-04-09 H20 letters ----------------------------------------------------------------------

TEST_F(Licensing, H20LetterOverlayByBandwidth) {
  EXPECT_FALSE(ask_as("nvidia", "nvidia-h20", "CN", "2025-04-08").license_required)
      << "the H20 is not 3A090";
  const auto a = ask_as("nvidia", "nvidia-h20", "CN", "2025-04-09");
  EXPECT_TRUE(a.license_required);
  EXPECT_TRUE(a.determined);
  EXPECT_TRUE(overlay(a, "h20-letter"));
  EXPECT_FALSE(a.policy.has_value()) << "a letter states no review policy";
  EXPECT_EQ(a.weakest, evidence_tag::S)
      << "the H20's own DRAM figure decides (S); the R 'combination' reading is not relied on";
  EXPECT_FALSE(
      overlay(ask_as("nvidia", "nvidia-geforce-rtx-4090-d", "CN", "2025-06-01"), "h20-letter"));
  EXPECT_FALSE(overlay(ask_as("nvidia", "nvidia-h20", "DE", "2025-06-01"), "h20-letter"));
  EXPECT_FALSE(overlay(ask_as("nvidia", "nvidia-h20", "CN", "2025-06-01", "", "CN"), "h20-letter"))
      << "no letter for in-country transfers";
  // Not limited to datacenter parts: the thresholds are the H20's own figures (4,000 GB/s DRAM,
  // 1,028 GB/s interconnect), so a part below both is outside whatever its market.
  EXPECT_FALSE(overlay(ask_as("nvidia", "nvidia-l20", "CN", "2025-06-01"), "h20-letter"))
      << "864 GB/s DRAM";
  EXPECT_TRUE(ask_as("amd", "amd-instinct-mi308x", "CN", "2025-06-01").license_required);
}

// The letters also reach parties headquartered in China, Hong Kong, Macau or D:5 wherever the
// item goes, and bind only their recipients: without --exporter the answer is undetermined.
TEST_F(Licensing, H20LetterHeadquartersAndWhoIsBound) {
  const auto de = ask_as("nvidia", "nvidia-h20", "DE", "2025-06-01", "CN");
  EXPECT_TRUE(de.license_required);
  EXPECT_TRUE(overlay(de, "h20-letter"));
  EXPECT_TRUE(overlay(ask_as("nvidia", "nvidia-h20", "SG", "2025-06-01", "HK"), "h20-letter"))
      << "Hong Kong as China";
  const auto other = ask_as("other", "nvidia-h20", "CN", "2025-06-01");
  EXPECT_FALSE(other.license_required)
      << "a distributor that received no letter is not bound by it";
  EXPECT_TRUE(other.determined);
  const auto unknown_exporter = ask("nvidia-h20", "CN", "2025-06-01");
  EXPECT_FALSE(unknown_exporter.license_required);
  EXPECT_FALSE(unknown_exporter.determined)
      << "never 'no licence required' when the exporter decides it";
  ASSERT_FALSE(unknown_exporter.undetermined_because.empty());
  EXPECT_NE(unknown_exporter.undetermined_because[0].find("--exporter"), std::string::npos);
  EXPECT_NE(to_text(unknown_exporter).find("licence required: undetermined"), std::string::npos);
  // Beside a license already required (an H100 to China) the letter's open question is a notice.
  const auto h100 = ask("nvidia-h100-sxm5-80gb", "CN", "2025-06-01");
  EXPECT_TRUE(h100.determined);
  EXPECT_TRUE(std::any_of(h100.notices.begin(), h100.notices.end(), [](const std::string& n) {
    return n.find("h20-letter") != std::string::npos;
  }));
  const auto bound = ask_as("nvidia", "nvidia-h20", "CN", "2025-06-01");
  ASSERT_EQ(bound.overlays.size(), 1U);
  EXPECT_EQ(bound.overlays[0].overlay->binds.front(), "NVIDIA");
  EXPECT_THROW((void)ask_as("nvida", "nvidia-h20", "CN", "2025-06-01"), usage_error)
      << "a misspelt exporter is refused";
}

// --- 2026-01-15 China zone, tariff bands; 2026-05-31 guidance ------------------------------------

TEST_F(Licensing, ChinaZoneTransitionAndExportOnly) {
  EXPECT_EQ(*ask("nvidia-h200-sxm-141gb", "CN", "2026-01-14").policy,
            review_policy::presumption_of_denial);
  const auto zone = ask("nvidia-h200-sxm-141gb", "CN", "2026-01-15");
  EXPECT_EQ(*zone.policy, review_policy::case_by_case);
  EXPECT_TRUE(zone.policy_determined);
  EXPECT_EQ(zone.policy_from->id, "us-2026-01-15-china-zone");
  EXPECT_TRUE(fired(zone, "us-2026-01-15-china-zone", "case-by-case-zone"));
  const auto reexport = ask("nvidia-h200-sxm-141gb", "CN", "2026-02-01", "", "SG");
  EXPECT_EQ(reexport.transaction, transaction_kind::reexport);
  EXPECT_EQ(*reexport.policy, review_policy::presumption_of_denial);
  const auto in_country = ask("nvidia-h200-sxm-141gb", "CN", "2026-02-01", "", "CN");
  EXPECT_EQ(*in_country.policy, review_policy::presumption_of_denial);
  EXPECT_EQ(*ask("nvidia-b200", "CN", "2026-02-01").policy, review_policy::presumption_of_denial)
      << "TPP 36,000";
  // The MI325X is below both lines, but its sheet does not say it was commercially available in the
  // US at publication: the review policy is undetermined and the stricter one is given, never
  // case by case on an unstated fact.
  const auto mi325x = ask("amd-instinct-mi325x", "CN", "2026-02-01");
  EXPECT_TRUE(mi325x.license_required);
  EXPECT_TRUE(mi325x.determined) << "a licence is required either way";
  EXPECT_FALSE(mi325x.policy_determined);
  EXPECT_EQ(*mi325x.policy, review_policy::presumption_of_denial);
  ASSERT_FALSE(mi325x.undetermined_because.empty());
  EXPECT_NE(mi325x.undetermined_because[0].find("us_commercial_availability"), std::string::npos);
  EXPECT_NE(to_text(mi325x).find("review policy undetermined"), std::string::npos);
}

TEST_F(Licensing, ChinaZoneBoundaries) {
  auto available = [](chip_spec s) {
    s.us_commercial_availability = us_availability_claim{true, day("2026-01-15"), "test"};
    return s;
  };
  const auto in = available(synthetic(20999, 6499));
  const auto tpp_out = available(synthetic(21000, 6000));
  const auto bw_out = available(synthetic(15000, 6500));
  EXPECT_EQ(*ask(in, "CN", "2026-02-01").policy, review_policy::case_by_case);
  EXPECT_EQ(*ask(tpp_out, "CN", "2026-02-01").policy, review_policy::presumption_of_denial);
  EXPECT_EQ(*ask(bw_out, "CN", "2026-02-01").policy, review_policy::presumption_of_denial);
  auto unavailable = in;
  unavailable.us_commercial_availability->value = false;
  const auto a = ask(unavailable, "CN", "2026-02-01");
  EXPECT_EQ(*a.policy, review_policy::presumption_of_denial)
      << "not commercially available in the US";
  EXPECT_TRUE(a.policy_determined);
}

// The zone tests the chip (TPP of one IC, its own DRAM bandwidth), also inside a board: an 8 x H200
// board (TPP 126,650 and 38,400 GB/s summed) is in the zone like the bare H200.
TEST_F(Licensing, ChinaZoneTestsTheChipInsideABoard) {
  const auto& h200 = *cat_->parts().find("nvidia-h200-sxm-141gb");
  chip_spec board;
  board.id = "hgx-h200-8gpu";
  board.name = "8 x H200 board";
  board.vendor = "NVIDIA";
  board.kind = part_kind::board;
  component c;
  c.id = h200.id;
  c.resolved = &h200;
  c.count = 8;
  board.contains.push_back(c);
  for (const char* d : {"2026-01-14", "2026-01-15"}) {
    const auto bare = ask(h200, "CN", d);
    const auto on_board = ask(board, "CN", d);
    EXPECT_EQ(on_board.item.eccn, "4A090.a") << d;
    EXPECT_EQ(*on_board.policy, *bare.policy) << d;
  }
  const auto a = ask(board, "CN", "2026-02-01");
  EXPECT_EQ(*a.policy, review_policy::case_by_case);
  EXPECT_TRUE(fired(a, "us-2026-01-15-china-zone", "case-by-case-zone"));
  EXPECT_GT(a.item.metrics.tpp, 21000) << "the board's own TPP is above the line; the IC's is not";
}

TEST_F(Licensing, TariffBandsAndHeadquartersGuidance) {
  // The tariff is on imports into the United States of servers and boards (8471/8473) holding an IC
  // in a band; the bare H200 enters under 8542 and is outside it (the earlier data taxed the bare
  // IC).
  const auto bare = ask("nvidia-h200-sxm-141gb", "US", "2026-02-01", "", "TW");
  EXPECT_EQ(bare.transaction, transaction_kind::import_);
  EXPECT_FALSE(overlay(bare, "import-tariff-bands"))
      << "a bare IC (HTS 8542) is outside 9903.79.01";
  EXPECT_FALSE(bare.license_required);
  EXPECT_FALSE(overlay(ask("nvidia-h100-sxm5-80gb", "DE", "2026-05-30", "CN"), "hq-guidance"));
  EXPECT_TRUE(overlay(ask("nvidia-h100-sxm5-80gb", "DE", "2026-05-31", "CN"), "hq-guidance"));
  // The guidance covers 3A090.a/.b and 4A090.a/.b only (not 3A090.c), outside the United States.
  EXPECT_FALSE(overlay(ask("skhynix-hbm3e-8hi-24gb", "DE", "2026-06-01", "CN"), "hq-guidance"))
      << "3A090.c";
  EXPECT_FALSE(overlay(ask("nvidia-h100-sxm5-80gb", "US", "2026-06-01", "CN"), "hq-guidance"))
      << "a US destination";
  EXPECT_TRUE(overlay(ask("nvidia-hgx-h100-8gpu", "DE", "2026-06-01", "MO"), "hq-guidance"))
      << "4A090.a";
}

// Board vs chip, both sides of each bound (strict: "greater than ... and less than"), the dates,
// and the end-use exemptions.
TEST_F(Licensing, TariffTestsTheIcInsideABoardWithStrictBounds) {
  auto board_of = [](const chip_spec& ic) {
    chip_spec b;
    b.id = "board";
    b.name = "board";
    b.vendor = "test";
    b.kind = part_kind::board;
    component c;
    c.id = ic.id;
    c.resolved = &ic;
    c.count = 8;
    b.contains.push_back(c);
    return b;
  };
  const auto& h200 =
      *cat_->parts().find("nvidia-h200-sxm-141gb");  // TPP 15,831, 4,800 GB/s: band 1
  const auto hgx = board_of(h200);
  EXPECT_TRUE(overlay(ask(hgx, "US", "2026-01-15", "", "TW"), "import-tariff-bands"));
  EXPECT_FALSE(overlay(ask(hgx, "US", "2026-01-14", "", "TW"), "import-tariff-bands"));
  EXPECT_FALSE(overlay(ask(hgx, "DE", "2026-02-01"), "import-tariff-bands"))
      << "an export pays no US import duty";
  const auto in1 = synthetic(14001, 4501);
  const auto at_low = synthetic(14000, 4800);
  const auto at_high = synthetic(17500, 4800);
  const auto mem_at = synthetic(15000, 5000);
  const auto in2 = synthetic(20801, 5801);
  const auto gap = synthetic(19000, 5500);
  const auto b_in1 = board_of(in1), b_low = board_of(at_low), b_high = board_of(at_high),
             b_mem = board_of(mem_at), b_in2 = board_of(in2), b_gap = board_of(gap);
  EXPECT_TRUE(overlay(ask(b_in1, "US", "2026-02-01", "", "TW"), "import-tariff-bands"));
  EXPECT_FALSE(overlay(ask(b_low, "US", "2026-02-01", "", "TW"), "import-tariff-bands"))
      << "14,000 is not greater than 14,000";
  EXPECT_FALSE(overlay(ask(b_high, "US", "2026-02-01", "", "TW"), "import-tariff-bands"))
      << "17,500 is not less than 17,500";
  EXPECT_FALSE(overlay(ask(b_mem, "US", "2026-02-01", "", "TW"), "import-tariff-bands"))
      << "5,000 GB/s is not less than 5,000";
  EXPECT_TRUE(overlay(ask(b_in2, "US", "2026-02-01", "", "TW"), "import-tariff-bands"));
  EXPECT_FALSE(overlay(ask(b_gap, "US", "2026-02-01", "", "TW"), "import-tariff-bands"));
  EXPECT_FALSE(overlay(ask(in1, "US", "2026-02-01", "", "TW"), "import-tariff-bands"))
      << "the bare IC";
  license_query q;
  q.part = &hgx;
  q.to = "US";
  q.from = "TW";
  q.as_of = day("2026-02-01");
  q.end_use = "us-datacenter";
  EXPECT_FALSE(overlay(engine_->answer(q), "import-tariff-bands")) << "US data centers are exempt";
  q.end_use = "consumer";
  EXPECT_FALSE(overlay(engine_->answer(q), "import-tariff-bands"));
  q.end_use = "datacentre";
  EXPECT_THROW((void)engine_->answer(q), usage_error) << "an end use no file tests";
}
// --- bad questions -------------------------------------------------------------------------------

TEST_F(Licensing, UndeterminedClassificationIsNotReportedAsLicenseFree) {
  // The TPU v5e sheet without its die bounds: TPP in the PD-dependent band and no die area, so its
  // classification is undetermined.
  auto no_area = *cat_->parts().find("google-tpu-v5e");
  no_area.dies.clear();
  const auto a = ask(no_area, "CN", "2026-02-01");
  EXPECT_FALSE(a.determined);
  ASSERT_FALSE(a.undetermined_because.empty());
  EXPECT_NE(a.undetermined_because[0].find("classification is undetermined"), std::string::npos);
  EXPECT_TRUE(ask("nvidia-h100-sxm5-80gb", "CN", "2026-02-01").determined);
}

TEST_F(Licensing, UndecidableLetterMakesTheAnswerUndetermined) {
  // Not 3A090 (PD 1), DRAM below the letter's line, interconnect unknown: only the letter could
  // require a license, and it cannot be decided.
  auto part = test::synthetic_ic(2000, 2000, true);
  part.memory = memory_spec{"HBM3", 96, value_range{1300, 1300}};
  const auto a = ask_as("nvidia", part, "CN", "2025-06-01");
  EXPECT_TRUE(a.item.eccn.empty());
  EXPECT_FALSE(a.determined);
  EXPECT_TRUE(
      std::any_of(a.undetermined_because.begin(), a.undetermined_because.end(),
                  [](const std::string& s) { return s.find("h20-letter") != std::string::npos; }));
}
TEST_F(Licensing, HbmStacksAreOutsideTheChinaZone) {
  const auto a = ask("skhynix-hbm3e-8hi-24gb", "CN", "2026-02-01");
  EXPECT_TRUE(a.determined);
  EXPECT_EQ(*a.policy, review_policy::presumption_of_denial);
}

TEST_F(Licensing, BadQuestionsAreUsageErrors) {
  EXPECT_THROW((void)ask("nvidia-h100-sxm5-80gb", "CN", "2022-10-06"), usage_error);
  EXPECT_THROW((void)ask("nvidia-h100-sxm5-80gb", "CN", "2024-06-01", "", "US", 0), usage_error);
  EXPECT_THROW((void)ask("nvidia-h100-sxm5-80gb", "CN", "2024-06-01", "", "US", -5), usage_error);
  license_query q;
  q.part = cat_->parts().find("nvidia-h100-sxm5-80gb");
  q.to = "CN";
  q.from = "DE";
  q.transaction = transaction_kind::export_;
  q.as_of = day("2024-06-01");
  EXPECT_THROW((void)engine_->answer(q), usage_error) << "an export leaves the United States";
}

// --- embargoes and comprehensive sanctions (EAR Part 746) ----------------------------------------

namespace embargo {

// A question with the embargo inputs: a region of the destination, a stated ECCN, an end-user type.
license_query query(const chip_spec& part, const char* to, const char* when,
                    const char* region = "", const char* eccn = "", const char* end_user = "") {
  license_query q;
  q.part = &part;
  q.to = to;
  q.to_region = region;
  q.as_of = day(when);
  q.stated_eccn = eccn;
  q.end_user = end_user;
  return q;
}

// The first "because" line of the text answer.
std::string first_reason_line(const license_answer& a) {
  const auto text = to_text(a);
  const auto at = text.find("\n  because ");
  if (at == std::string::npos) return {};
  return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
}

}  // namespace embargo

TEST_F(Licensing, EveryDatacenterPartToEveryEmbargoedDestinationNeedsALicense) {
  struct destination {
    const char* country;
    const char* region;
    const char* section;
  };
  const destination destinations[] = {
      {"CU", "", "746.2"}, {"IR", "", "746.7"}, {"KP", "", "746.4"},     {"SY", "", "746.9"},
      {"RU", "", "746.8"}, {"BY", "", "746.8"}, {"UA", "UA-43", "746.6"}};
  // The first answerable date, each regime's boundaries on both sides, the other rules'
  // transitions.
  const char* dates[] = {"2022-10-07", "2022-10-08", "2023-01-16", "2023-01-17", "2023-05-18",
                         "2023-05-19", "2023-11-16", "2023-11-17", "2024-06-11", "2024-06-12",
                         "2024-12-31", "2025-01-15", "2025-05-13", "2025-09-01", "2025-09-02",
                         "2026-01-15", "2026-07-10", "2027-06-30"};
  int datacenter_parts = 0;
  for (const auto& part : cat_->parts().parts()) {
    if (!part->datacenter.value) continue;
    ++datacenter_parts;
    for (const auto& d : destinations) {
      for (const char* when : dates) {
        const auto a = engine_->answer(embargo::query(*part, d.country, when, d.region));
        const auto where = part->id + " to " + (*d.region ? d.region : d.country) + " on " + when;
        EXPECT_TRUE(a.license_required) << where;
        ASSERT_FALSE(a.requirements.empty()) << where;
        EXPECT_TRUE(a.requirements.front().regime->embargo) << where;
        ASSERT_TRUE(a.policy.has_value()) << where;
        const auto line = embargo::first_reason_line(a);
        EXPECT_EQ(line.rfind("  because embargo: ", 0), 0U) << where << ": " << line;
        EXPECT_NE(line.find(d.section), std::string::npos) << where << ": " << line;
      }
    }
  }
  EXPECT_GT(datacenter_parts, 30) << "the bundled catalogue holds the datacenter parts";
}

TEST_F(Licensing, EmbargoCoversItemsOutsideThe3A090Family) {
  // The H20 and a consumer part are not 3A090/4A090: the embargo alone requires the license.
  for (const char* id : {"nvidia-h20", "nvidia-geforce-rtx-4090-d", "nvidia-t4"}) {
    const auto& part = *cat_->parts().find(id);
    for (const char* to : {"CU", "IR", "KP", "SY", "RU", "BY"}) {
      const auto a = engine_->answer(embargo::query(part, to, "2024-06-01"));
      EXPECT_TRUE(a.item.eccn.empty()) << id << " is not 3A090/4A090";
      EXPECT_TRUE(a.license_required) << id << " to " << to;
      ASSERT_FALSE(a.requirements.empty()) << id << " to " << to;
      EXPECT_TRUE(std::all_of(a.requirements.begin(), a.requirements.end(),
                              [](const fired_requirement& f) { return f.regime->embargo; }))
          << id << " to " << to << ": no 3A090 paragraph";
      EXPECT_EQ(*a.policy, review_policy::presumption_of_denial) << id << " to " << to;
      EXPECT_NE(embargo::first_reason_line(a).find("embargo: "), std::string::npos);
    }
  }
  // Outside the embargoes the same part needs no license (a 4090 D to Germany).
  EXPECT_FALSE(ask("nvidia-geforce-rtx-4090-d", "DE", "2024-06-01").license_required);
}

TEST_F(Licensing, SyriaRelaxedOn20250902WithSppForStatedEar99) {
  const auto& gpu = *cat_->parts().find("nvidia-geforce-rtx-4090-d");
  const auto before = engine_->answer(embargo::query(gpu, "SY", "2025-09-01"));
  EXPECT_TRUE(fired(before, "us-2004-05-14-syria-embargo", "all-items"));
  EXPECT_EQ(*before.policy, review_policy::presumption_of_denial);
  const auto after = engine_->answer(embargo::query(gpu, "SY", "2025-09-02"));
  EXPECT_TRUE(after.license_required) << "746.9(a) keeps the licence requirement";
  EXPECT_TRUE(fired(after, "us-2004-05-14-syria-embargo", "all-items-2025"));
  EXPECT_EQ(*after.policy, review_policy::case_by_case);
  EXPECT_TRUE(exception_ids(after).empty()) << "default: the item is taken as on the CCL";
  EXPECT_NE(to_text(after).find("you can state: --eccn EAR99"), std::string::npos);
  const auto ear99 = engine_->answer(embargo::query(gpu, "SY", "2025-09-02", "", "EAR99"));
  EXPECT_EQ(exception_ids(ear99), std::vector<std::string>{"SPP"});
  EXPECT_TRUE(
      exception_ids(engine_->answer(embargo::query(gpu, "SY", "2025-09-01", "", "EAR99"))).empty())
      << "SPP from 2025-09-02";
}

TEST_F(Licensing, RussiaBelarusEar99ByHtsAndTheMassMarketCarveOut) {
  const auto& gpu = *cat_->parts().find("nvidia-geforce-rtx-4090-d");
  for (const char* to : {"RU", "BY"}) {
    EXPECT_TRUE(fired(engine_->answer(embargo::query(gpu, to, "2024-06-01")),
                      "us-2022-02-24-russia-belarus-sanctions", "ccl-any-eccn"))
        << "default: on the CCL";
    const auto listed = engine_->answer(embargo::query(gpu, to, "2023-05-18", "", "EAR99"));
    EXPECT_TRUE(listed.license_required) << to;
    EXPECT_TRUE(fired(listed, "us-2022-02-24-russia-belarus-sanctions",
                      std::string("ear99-supplement-4-") + (to[0] == 'R' ? "russia" : "belarus")));
    EXPECT_TRUE(fired(engine_->answer(embargo::query(gpu, to, "2023-05-19", "", "EAR99")),
                      "us-2022-02-24-russia-belarus-sanctions", "ear99-hts-chapters-84-85-90"));
    EXPECT_TRUE(fired(engine_->answer(embargo::query(gpu, to, "2024-06-11", "", "EAR99")),
                      "us-2022-02-24-russia-belarus-sanctions", "ear99-hts-chapters-84-85-90"));
    EXPECT_TRUE(fired(engine_->answer(embargo::query(gpu, to, "2024-06-12", "", "EAR99")),
                      "us-2022-02-24-russia-belarus-sanctions",
                      "ear99-hts-chapters-84-85-90-746-8"));
    // Mass-market encryption items: excluded for a civil end user only when both are stated.
    EXPECT_TRUE(
        engine_->answer(embargo::query(gpu, to, "2024-06-01", "", "5A992.c")).license_required)
        << "end user unknown";
    EXPECT_TRUE(engine_->answer(embargo::query(gpu, to, "2024-06-01", "", "5A992.c", "government"))
                    .license_required);
    EXPECT_TRUE(engine_->answer(embargo::query(gpu, to, "2024-06-01", "", "5A992.c", "state-owned"))
                    .license_required);
    EXPECT_TRUE(engine_->answer(embargo::query(gpu, to, "2024-06-01", "", "3A991.a", "civil"))
                    .license_required)
        << "not mass market";
    const auto carve_out =
        engine_->answer(embargo::query(gpu, to, "2024-06-01", "", "5A992.c", "civil"));
    EXPECT_FALSE(fired(carve_out, "us-2022-02-24-russia-belarus-sanctions", "ccl-any-eccn")) << to;
  }
}

TEST_F(Licensing, RussiaAndBelarusDatesAreTheirOwnEntries) {
  // Dates before 2022-10-07 cannot be asked; the data carries them.
  const auto& regimes = cat_->licensing().regimes();
  const auto rb = std::find_if(regimes.begin(), regimes.end(), [](const licensing_regime& r) {
    return r.id == "us-2022-02-24-russia-belarus-sanctions";
  });
  ASSERT_NE(rb, regimes.end());
  auto from = [&](const char* id) {
    for (const auto& q : rb->requirements) {
      if (q.id == id) return q.from ? q.from->to_string() : std::string("open");
    }
    return std::string("missing");
  };
  EXPECT_EQ(from("ccl-russia-categories-3-9"), "2022-02-24");
  EXPECT_EQ(from("ccl-belarus-categories-3-9"), "2022-03-02");
  EXPECT_EQ(from("ccl-any-eccn"), "2022-04-08");
  EXPECT_EQ(from("ear99-hts-chapters-84-85-90"), "2023-05-19");
  EXPECT_EQ(rb->status_on(day("2022-02-23")), regime_status::not_yet);
  EXPECT_EQ(rb->status_on(day("2022-02-24")), regime_status::in_force);
}

TEST_F(Licensing, UkraineRegionsAreNamedAndPlainUkraineIsAmbiguous) {
  const auto& c = cat_->countries();
  EXPECT_EQ(c.resolve_place("UA-43").part->code, "UA-43");
  EXPECT_EQ(c.resolve_place("crimea").part->code, "UA-43");
  EXPECT_EQ(c.resolve_place("Sevastopol").part->code, "UA-40");
  EXPECT_EQ(c.resolve_place("DNR").part->code, "UA-14");
  EXPECT_EQ(c.resolve_place("Luhansk").part->code, "UA-09");
  EXPECT_EQ(c.resolve_place("Ukraine").part, nullptr);
  EXPECT_EQ(c.resolve_place("Ukraine").in->alpha2, "UA");
  const auto& gpu = *cat_->parts().find("nvidia-geforce-rtx-4090-d");
  EXPECT_THROW((void)engine_->answer(embargo::query(gpu, "UA", "2024-06-01")), usage_error);
  for (const char* region : {"UA-43", "UA-40", "UA-14", "UA-09"}) {
    const auto a = engine_->answer(embargo::query(gpu, "UA", "2024-06-01", region));
    EXPECT_TRUE(a.license_required) << region;
    EXPECT_EQ(*a.policy, review_policy::presumption_of_denial) << region;
  }
  EXPECT_FALSE(engine_->answer(embargo::query(gpu, "UA", "2024-06-01", "UA-30")).license_required)
      << "Kyiv";
  // An in-country transfer within Crimea is covered too.
  auto within = embargo::query(gpu, "UA", "2024-06-01", "UA-43");
  within.from = "UA";
  within.from_region = "UA-43";
  EXPECT_TRUE(engine_->answer(within).license_required);
}

TEST_F(Licensing, EmbargoStatementsAreChecked) {
  const auto& h100 = *cat_->parts().find("nvidia-h100-sxm5-80gb");
  EXPECT_THROW((void)engine_->answer(embargo::query(h100, "RU", "2024-06-01", "", "EAR99")),
               usage_error)
      << "the H100 classifies as 3A090.a.1";
  EXPECT_NO_THROW((void)engine_->answer(embargo::query(h100, "RU", "2024-06-01", "", "3A090.a.1")));
  EXPECT_THROW((void)engine_->answer(embargo::query(h100, "RU", "2024-06-01", "", "", "pirate")),
               usage_error);
  EXPECT_EQ(cat_->licensing().end_user_types().size(), 3U);
}

// --- quotas and the ledger -----------------------------------------------------------------------

TEST_F(Licensing, LppCeilingIsInclusiveAt26900000) {
  const auto part = synthetic(26900, 3000);  // 1,000 units = 26,900,000 TPP exactly
  shipment s;
  s.day = day("2025-03-01");
  s.part = "synthetic";
  s.tpp_each = 26900;
  s.quantity = 1000;
  s.consignee = "Acme";
  s.country = "BR";
  const shipment_ledger empty;
  auto checks = check_quotas(empty, s, part, *quota_engine_, false);
  const auto lpp = std::find_if(checks.begin(), checks.end(),
                                [](const quota_check& c) { return c.quota->id == "lpp"; });
  ASSERT_NE(lpp, checks.end());
  EXPECT_DOUBLE_EQ(lpp->limit_tpp, 26900000);
  EXPECT_TRUE(lpp->fits) << "exactly at the ceiling fits";
  s.quantity = 1001;
  checks = check_quotas(empty, s, part, *quota_engine_, false);
  const auto over = std::find_if(checks.begin(), checks.end(),
                                 [](const quota_check& c) { return c.quota->id == "lpp"; });
  ASSERT_NE(over, checks.end());
  EXPECT_FALSE(over->fits);
}

TEST_F(Licensing, LedgerAccumulatesPerConsigneeYearAndCountryPeriod) {
  const auto& h100 = *quota_cat_->parts().find("nvidia-h100-sxm5-80gb");
  shipment_ledger l;
  shipment prior{day("2025-02-01"), "nvidia-h100-sxm5-80gb", 15831.2, 1000, "Acme", "BR", "lpp",
                 "3A090.a.1"};
  l.shipments.push_back(prior);
  shipment next = prior;
  next.day = day("2025-03-01");
  next.quota.clear();
  next.quantity = 700;  // 15.83 M + 11.08 M > 26.9 M
  auto checks = check_quotas(l, next, h100, *quota_engine_, false);
  auto find = [&](const char* id) {
    const auto it = std::find_if(checks.begin(), checks.end(),
                                 [&](const quota_check& c) { return c.quota->id == id; });
    if (it == checks.end()) throw std::runtime_error(std::string("no quota check ") + id);
    return *it;
  };
  EXPECT_NEAR(find("lpp").used_tpp, 15831200, 1);
  EXPECT_FALSE(find("lpp").fits);
  EXPECT_DOUBLE_EQ(find("tier2_allocation").used_tpp, 0)
      << "LPP shipments do not count against the allocation";
  EXPECT_TRUE(find("tier2_allocation").fits);
  next.consignee = "Other";
  checks = check_quotas(l, next, h100, *quota_engine_, false);
  EXPECT_TRUE(find("lpp").fits) << "another consignee has its own ceiling";
  // After 2025-05-13 the framework is not enforced: quotas only in what-if mode, labelled.
  next.day = day("2025-06-01");
  EXPECT_TRUE(check_quotas(l, next, h100, *quota_engine_, false).empty());
  checks = check_quotas(l, next, h100, *quota_engine_, true);
  ASSERT_FALSE(checks.empty());
  EXPECT_TRUE(checks[0].what_if);
  // Tier 1 and Tier 3 destinations have no Tier 2 quotas.
  next.country = "FR";
  EXPECT_TRUE(check_quotas(l, next, h100, *quota_engine_, true).empty());
}

// With the bundled data the Diffusion quotas never bind (compliance 2025-05-15, not enforced from
// 2025-05-13): a ledger tests them only with --what-if, labelled.
TEST_F(Licensing, DiffusionQuotasNeverBindInTheBundledData) {
  const auto& h100 = *cat_->parts().find("nvidia-h100-sxm5-80gb");
  shipment s{day("2025-03-01"), "nvidia-h100-sxm5-80gb", 15831.2, 2000, "Acme", "BR", "",
             "3A090.a.1"};
  EXPECT_TRUE(check_quotas({}, s, h100, *engine_, false).empty());
  const auto what_if = check_quotas({}, s, h100, *engine_, true);
  ASSERT_FALSE(what_if.empty());
  EXPECT_TRUE(
      std::all_of(what_if.begin(), what_if.end(), [](const quota_check& c) { return c.what_if; }));
  const auto a = assess_shipment({}, s, h100, *engine_, false);
  EXPECT_TRUE(a.s.quota.empty());
  EXPECT_EQ(a.s.license_required, license_status::not_required)
      << "BR needs no licence under any binding rule in 2025";
}

TEST_F(Licensing, AllocationCountsOnlyShipmentsItCovers) {
  const auto& h100 = *quota_cat_->parts().find("nvidia-h100-sxm5-80gb");
  shipment_ledger l;
  l.shipments.push_back(
      {day("2025-02-01"), "nvidia-t4", 1040, 100000, "Acme", "BR", "", ""});  // not controlled
  shipment next{day("2025-03-01"), "nvidia-h100-sxm5-80gb", 15831.2, 10, "Acme", "BR", "",
                "3A090.a.1"};
  const auto checks = check_quotas(l, next, h100, *quota_engine_, false);
  const auto alloc = std::find_if(checks.begin(), checks.end(), [](const quota_check& c) {
    return c.quota->id == "tier2_allocation";
  });
  ASSERT_NE(alloc, checks.end());
  EXPECT_DOUBLE_EQ(alloc->used_tpp, 0)
      << "an uncontrolled T4 shipment does not use the 3A090.a allocation";
}

TEST_F(Licensing, LedgerFilesRoundTripAndRefuseCorruption) {
  test::temp_dir dir;
  shipment_ledger l;
  l.shipments.push_back({day("2025-02-01"), "nvidia-h100-sxm5-80gb", 15831.2, 10, "Acme,\nInc.",
                         "BR", "lpp", "3A090.a.1"});
  for (const char* name : {"l.json", "l.csv"}) {
    const auto path = dir.path() + "/" + name;
    save_ledger(path, l);
    const auto back = load_ledger(path);
    ASSERT_EQ(back.shipments.size(), 1U) << name;
    EXPECT_EQ(back.shipments[0].consignee, "Acme,\nInc.") << name << ": quoted line breaks survive";
    EXPECT_EQ(back.shipments[0].eccn, "3A090.a.1") << name;
    EXPECT_DOUBLE_EQ(back.shipments[0].tpp_each, 15831.2) << name;
  }
  EXPECT_TRUE(load_ledger(dir.path() + "/missing.json").shipments.empty());
  const auto bad = dir.write(
      "bad.json", "{\"schema\": \"chipgauge.ledger/1\", \"shipments\": [{\"date\": \"2025-13-01\"");
  EXPECT_THROW((void)load_ledger(bad), spec_error);
  const auto bad_csv = dir.write(
      "bad.csv",
      "date,part,tpp_each,quantity,consignee,country,quota,eccn\n2025-01-01,x,abc,1,a,BR,,\n");
  EXPECT_THROW((void)load_ledger(bad_csv), spec_error);
}

// Licensing files share their header reader with rule files: the same checks, the same wording.
TEST_F(Licensing, LicensingFileHeaderErrorsNameFilePathAndExpectation) {
  test::temp_dir dir;
  const nlohmann::json good = {
      {"schema", "chipgauge.licensing/1"},
      {"id", "x"},
      {"title", "X"},
      {"evidence", "V"},
      {"citations", nlohmann::json::array({{{"cite", "88 FR 73458"}, {"evidence", "V"}}})},
      {"timeline", nlohmann::json::array({{{"from", "2024-01-01"}, {"status", "in_force"}},
                                          {{"from", "2025-01-01"}, {"status", "rescinded"}}})}};
  auto load_error = [&](const nlohmann::json& j) -> std::optional<spec_error> {
    dir.write("x.json", j.dump());
    try {
      (void)licensing_set::load(dir.path(), cat_->countries());
    } catch (const spec_error& e) {
      return e;
    }
    return std::nullopt;
  };
  ASSERT_FALSE(load_error(good).has_value());
  EXPECT_EQ(licensing_set::load(dir.path(), cat_->countries())
                .regimes()
                .at(0)
                .status_on(day("2024-06-01")),
            regime_status::in_force);

  auto wrong_schema = good;
  wrong_schema["schema"] = "chipgauge.licensing/2";
  auto e = load_error(wrong_schema);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), dir.path() + "/x.json");
  EXPECT_EQ(e->json_path(), "$.schema");
  EXPECT_EQ(e->message(),
            "unsupported schema 'chipgauge.licensing/2': expected \"chipgauge.licensing/1\"");

  auto out_of_order = good;
  out_of_order["timeline"][1]["from"] = "2023-01-01";
  e = load_error(out_of_order);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.timeline[1].from");
  EXPECT_EQ(e->message(), "timeline entries must be in strictly increasing date order");
}

TEST_F(Licensing, LedgerLockRefusesASecondWriter) {
  test::temp_dir dir;
  const auto path = dir.path() + "/l.json";
  const ledger_lock first(path);
  EXPECT_THROW(ledger_lock second(path), usage_error);
}

// --- fleets --------------------------------------------------------------------------------------

TEST_F(Licensing, FleetTotalsAgainstLppAndClusterReporting) {
  const auto& h100 = *cat_->parts().find("nvidia-h100-sxm5-80gb");
  const auto& defs = cat_->rules().definitions();
  fleet_item item{"h100", compute_metrics(h100, defs).tpp, dense_peak_ops(h100, defs), 1699,
                  "sheet"};
  auto r = evaluate_fleet({item}, *engine_, day("2025-03-01"));
  EXPECT_NEAR(r.tpp, 26.9e6, 0.01 * 26.9e6) << "1,699 H100 is about the LPP ceiling";
  auto check = [&](const char* id) {
    const auto it = std::find_if(r.checks.begin(), r.checks.end(),
                                 [&](const fleet_check_result& c) { return c.check->id == id; });
    if (it == r.checks.end()) throw std::runtime_error(std::string("no fleet check ") + id);
    return *it;
  };
  EXPECT_TRUE(check("lpp-ceiling").holds);
  EXPECT_FALSE(check("cluster-reporting").holds);
  EXPECT_EQ(check("cluster-reporting").status, regime_status::proposed);
  item.quantity = 60000;  // 60,000 x 1,978.9 TFLOPS = 1.19e20 OP/s
  r = evaluate_fleet({item}, *engine_, day("2025-03-01"));
  EXPECT_TRUE(check("cluster-reporting").holds);
  EXPECT_FALSE(check("lpp-ceiling").holds);
}

TEST(StatedEccn, CanonicalSpellingOrNothing) {
  EXPECT_EQ(canonical_stated_eccn(""), "");
  EXPECT_EQ(canonical_stated_eccn("ear99"), "EAR99");
  EXPECT_EQ(canonical_stated_eccn("5a992.C"), "5A992.c");
  EXPECT_EQ(canonical_stated_eccn("3A991.a.1"), "3A991.a.1");
  EXPECT_EQ(canonical_stated_eccn("5F992"), std::nullopt) << "category letters are A-E";
  EXPECT_EQ(canonical_stated_eccn("5A99"), std::nullopt);
  EXPECT_EQ(canonical_stated_eccn("EAR99 "), std::nullopt);
}

TEST(LedgerName, PlainUtf8NamesOnly) {
  EXPECT_NO_THROW(check_ledger_name("--consignee", "Acme Ltda. \xc3\xa9"));
  auto message = [](const std::string& value) {
    try {
      check_ledger_name("--consignee", value);
    } catch (const usage_error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message("  "), "--consignee is empty: expected a name");
  EXPECT_EQ(message("a\nb"),
            "--consignee holds a control character (a line break?): expected a plain name");
  EXPECT_EQ(message("a\xff"),
            "--consignee is not valid UTF-8 (byte 0xff at offset 1): expected a name in UTF-8");
}

TEST_F(Licensing, AssessedShipmentNamesWhatFailOnExceedRefuses) {
  const auto& h100 = *quota_cat_->parts().find("nvidia-h100-sxm5-80gb");
  shipment_ledger l;
  l.shipments.push_back({day("2025-02-01"), "nvidia-h100-sxm5-80gb", 15831.2, 1000, "Acme", "BR",
                         "lpp", "3A090.a.1"});
  shipment s;
  s.day = day("2025-03-01");
  s.quantity = 700;
  s.consignee = "Acme";
  s.country = "BR";
  const auto a = assess_shipment(l, s, h100, *quota_engine_, false);
  EXPECT_EQ(a.s.part, "nvidia-h100-sxm5-80gb");
  EXPECT_NEAR(a.s.tpp_each, 15831.2, 0.1);
  EXPECT_EQ(a.s.eccn, "3A090.a.1");
  EXPECT_EQ(a.s.license_required, license_status::required);
  EXPECT_TRUE(a.s.quota.empty()) << "over the LPP ceiling: counts against the allocation";
  ASSERT_EQ(a.failures.size(), 2U);
  EXPECT_EQ(a.failures[0].rfind("exceeds ", 0), 0U) << a.failures[0];
  EXPECT_NE(a.failures[0].find("lpp (consignee Acme"), std::string::npos) << a.failures[0];
  EXPECT_EQ(a.failures[1], "needs a licence and none is recorded (--license)");
  EXPECT_TRUE(a.refused(true));
  EXPECT_FALSE(a.refused(false));
  s.license = "D123456";
  s.quantity = 1;
  const auto licensed = assess_shipment(l, s, h100, *quota_engine_, false);
  EXPECT_TRUE(licensed.failures.empty());
  EXPECT_EQ(licensed.s.quota, "lpp");
  EXPECT_FALSE(licensed.refused(true));
}

TEST_F(Licensing, LedgerCheckRendersTextAndJson) {
  const auto& h100 = *quota_cat_->parts().find("nvidia-h100-sxm5-80gb");
  shipment s;
  s.day = day("2025-03-01");
  s.quantity = 10;
  s.consignee = "Acme";
  s.country = "BR";
  const auto a = assess_shipment({}, s, h100, *quota_engine_, false);
  const auto check = render_ledger_check(a, {"l.json", false, false, false}, output_format::text);
  EXPECT_EQ(check.rfind(
                "checked 10 x nvidia-h100-sxm5-80gb (158,312 TPP, 10.0 H100-equivalents) to BR for "
                "Acme on 2025-03-01 under lpp\n  licence required: yes",
                0),
            0U)
      << check;
  EXPECT_NE(check.find("  note: needs a licence"), std::string::npos) << check;
  const auto refused = render_ledger_check(a, {"l.json", true, false, true}, output_format::text);
  EXPECT_EQ(refused.rfind("not recorded 10 x", 0), 0U) << refused;
  EXPECT_NE(refused.find("  refused: needs a licence"), std::string::npos) << refused;
  const auto j = nlohmann::json::parse(
      render_ledger_check(a, {"l.json", true, true, false}, output_format::json));
  EXPECT_EQ(j.at("schema"), "chipgauge.ledger-check/1");
  EXPECT_EQ(j.at("ledger"), "l.json");
  EXPECT_TRUE(j.at("recorded").get<bool>());
  EXPECT_EQ(j.at("shipment").at("quota"), "lpp");
  EXPECT_EQ(j.at("shipment").at("license_required"), "yes");
  EXPECT_EQ(j.at("fail_on_exceed").size(), 1U);
}

TEST_F(Licensing, FleetRendersTextAndJson) {
  const auto& defs = cat_->rules().definitions();
  const auto item = fleet_item_of(*cat_->parts().find("nvidia-h100-sxm5-80gb"), defs, 2);
  EXPECT_EQ(item.label, "nvidia-h100-sxm5-80gb");
  EXPECT_EQ(item.basis, "sheet");
  const auto r = evaluate_fleet({item}, *engine_, day("2025-03-01"));
  const auto text = render_fleet({item}, r, day("2025-03-01"), output_format::text);
  EXPECT_NE(text.find("fleet: TPP 31,662, 2.00 H100-equivalents"), std::string::npos) << text;
  EXPECT_NE(text.find("(as of 2025-03-01)"), std::string::npos) << text;
  const auto j =
      nlohmann::json::parse(render_fleet({item}, r, day("2025-03-01"), output_format::json));
  EXPECT_EQ(j.at("schema"), "chipgauge.fleet/1");
  EXPECT_EQ(j.at("items").at(0).at("quantity"), 2);
  EXPECT_EQ(j.at("checks").size(), r.checks.size());
}

}  // namespace
}  // namespace chipgauge::classifier
