// Dated regimes (`chipgauge.rule/1`): the bundled rule set, timelines, dated parameters and the
// rejection of defective rule files.
#include "chipgauge/classifier/rules.hpp"
#include "chipgauge/classifier/listing.hpp"
#include "chipgauge/core/date.hpp"
#include "chipgauge/core/error.hpp"
#include "test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::classifier {
namespace {

using nlohmann::json;
using test::bundled_rules;
using test::specs_dir;
using test::temp_dir;

std::string rules_dir() { return specs_dir() + "/rules"; }

date day(std::string_view text) {
  const auto d = date::parse(text);
  if (!d) throw std::invalid_argument(std::string(text));
  return *d;
}

// A small valid regime: one clause on TPP, one undated parameter.
json base_regime(const std::string& id = "test-regime") {
  return json{
      {"schema", "chipgauge.rule/1"},
      {"id", id},
      {"title", "Test regime"},
      {"evidence", "V"},
      {"citations", json::array({json{{"cite", "1 FR 1"}, {"evidence", "V"}}})},
      {"timeline", json::array({json{{"from", "2024-01-01"}, {"status", "in_force"}}})},
      {"parameters", json{{"tpp_line", json{{"value", 4800}, {"unit", "TPP"}, {"evidence", "V"}}}}},
      {"clauses", json::array({json{{"eccn", "3A090.a"},
                                    {"applies_to", json::array({"ic"})},
                                    {"when", "tpp >= tpp_line"},
                                    {"evidence", "V"}}})},
  };
}

std::optional<spec_error> error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const spec_error& e) {
    return e;
  }
  return std::nullopt;
}

// Writes `regime` to a temporary file and adds it to a rule set holding the bundled definitions
// only. Returns the error, if any; `path` receives the file written.
std::optional<spec_error> add_error(const json& regime, std::string& path) {
  const temp_dir dir;
  path = dir.write("regime.json", regime.dump(2));
  auto rs = rule_set::load_definitions(rules_dir());
  return error_of([&] { rs.add_regime_file(path); });
}

::testing::AssertionResult mentions(const std::string& text, std::string_view needle) {
  if (text.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "\"" << text << "\" does not mention \"" << needle << "\"";
}

const parameter* find_parameter(const regime& r, std::string_view name) {
  for (const auto& p : r.parameters) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

constexpr std::size_t slot(metric_var v) { return static_cast<std::size_t>(v); }

// --- the bundled rule set ------------------------------------------------------------------------

TEST(RulesBundled, LoadsFourRegimesInDateOrder) {
  const auto& rs = bundled_rules();
  ASSERT_EQ(rs.regimes().size(), 4U);
  EXPECT_EQ(rs.regimes()[0].id, "us-2022-10-07-3a090");
  EXPECT_EQ(rs.regimes()[1].id, "us-2023-11-17-3a090");
  EXPECT_EQ(rs.regimes()[2].id, "us-2024-12-02-3a090c-hbm");
  EXPECT_EQ(rs.regimes()[3].id, "us-2025-01-15-foundry-presumption");
  EXPECT_EQ(rs.regimes()[3].role, regime_role::presumption);
  EXPECT_EQ(rs.regimes()[0].role, regime_role::classification);
  EXPECT_EQ(rs.find("us-2023-11-17-3a090"), &rs.regimes()[1]);
  EXPECT_EQ(rs.find("us-1999-01-01"), nullptr);
}

TEST(RulesBundled, LoadsMetricDefinitions) {
  const auto& defs = bundled_rules().definitions();
  EXPECT_EQ(std::filesystem::path(defs.file).filename(), "metrics.json");
  EXPECT_EQ(defs.bit_length[index_of(precision::int8)].value, 8.0);
  EXPECT_EQ(defs.bit_length[index_of(precision::fp64)].value, 64.0);
  EXPECT_EQ(defs.bit_length[index_of(precision::fp8)].value, 8.0);
  EXPECT_EQ(defs.bit_length[index_of(precision::tf32)].value, 32.0);
  EXPECT_EQ(defs.tf32_alternative_bit_lengths, std::vector<double>{19});
  EXPECT_EQ(defs.aggregation, tpp_aggregation::sum_of_unit_max);
  EXPECT_EQ(defs.h100_equivalent_tpp.value, 15832.0);
  EXPECT_EQ(defs.h100_equivalent_tpp.evidence, evidence_tag::S);
}

TEST(RulesBundled, ClausesAndExceptionsAreRead) {
  const auto* r = bundled_rules().find("us-2023-11-17-3a090");
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->clauses.size(), 7U) << "4A090 (.b reserved) until 2024-04-03, then 4A090.b";
  EXPECT_EQ(r->clauses[0].eccn, "3A090.a.1");
  EXPECT_EQ(r->clauses[0].applies_to, std::vector<part_kind>{part_kind::ic});
  EXPECT_EQ(r->clauses[4].eccn, "4A090.a");
  EXPECT_EQ(r->clauses[4].applies_to,
            (std::vector<part_kind>{part_kind::board, part_kind::system}));
  EXPECT_EQ(r->clauses[4].evidence, evidence_tag::R);
  ASSERT_EQ(r->exceptions.size(), 6U);
  EXPECT_EQ(r->exceptions[0].id, "NAC");
  EXPECT_EQ(r->exceptions[0].clauses, (std::vector<std::string>{"3A090.a.1", "4A090.a"}));
  ASSERT_TRUE(r->exceptions[0].until.has_value());
  EXPECT_EQ(*r->exceptions[0].until, day("2024-04-03"));
  ASSERT_TRUE(r->exceptions[0].when.has_value());
  EXPECT_EQ(r->exceptions[0].when->text(), "not datacenter");
  EXPECT_TRUE(r->applies_to(part_kind::board));
  EXPECT_FALSE(r->applies_to(part_kind::hbm));
  const auto* hbm = bundled_rules().find("us-2024-12-02-3a090c-hbm");
  ASSERT_NE(hbm, nullptr);
  EXPECT_TRUE(hbm->applies_to(part_kind::hbm));
  EXPECT_FALSE(hbm->applies_to(part_kind::ic));
}

TEST(RulesBundled, ContainsFlagsFollowTheMetrics) {
  const auto& rs = bundled_rules();
  EXPECT_EQ(rs.contains_flags(),
            (std::vector<std::string>{"contains_3a090_a", "contains_3a090_b"}));
  EXPECT_EQ(rs.variable_count(), metric_var_count + 2);
}

TEST(RulesBundled, ClauseEvaluatesAgainstMetricSlots) {
  const auto* r = bundled_rules().find("us-2022-10-07-3a090");
  ASSERT_NE(r, nullptr);
  const auto& c = r->clauses.at(0);
  ASSERT_EQ(c.eccn, "3A090.a");
  std::vector<double> params;
  for (const auto& p : r->parameters) params.push_back(p.value_on(day("2023-01-01")));
  std::vector<double> vars(bundled_rules().variable_count(), std::nan(""));
  vars[slot(metric_var::tpp)] = 4800;
  vars[slot(metric_var::io_bidirectional_gb_s)] = 600;
  EXPECT_EQ(c.when.evaluate(vars.data(), params.data()), 1.0);
  vars[slot(metric_var::io_bidirectional_gb_s)] = 599.9;  // the A800/H800 escape
  EXPECT_EQ(c.when.evaluate(vars.data(), params.data()), 0.0);
  vars[slot(metric_var::io_bidirectional_gb_s)] = std::nan("");
  EXPECT_TRUE(std::isnan(c.when.evaluate(vars.data(), params.data())));
}

TEST(RegimeStatus, FollowsTheTimeline) {
  const auto* r = bundled_rules().find("us-2022-10-07-3a090");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->status_on(day("2022-10-06")), regime_status::not_yet);
  EXPECT_EQ(r->status_on(day("2022-10-07")), regime_status::in_force);
  EXPECT_EQ(r->status_on(day("2023-11-16")), regime_status::in_force);
  EXPECT_EQ(r->status_on(day("2023-11-17")), regime_status::superseded);
  EXPECT_EQ(r->status_on(day("2030-01-01")), regime_status::superseded);
  ASSERT_TRUE(r->in_force_from().has_value());
  EXPECT_EQ(*r->in_force_from(), day("2022-10-07"));
  EXPECT_EQ(to_string(r->status_on(day("2023-11-17"))), "superseded");
}

TEST(RegimeStatus, SuccessorComesIntoForceTheDayTheOldRuleIsSuperseded) {
  const auto* r = bundled_rules().find("us-2023-11-17-3a090");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->status_on(day("2023-11-16")), regime_status::not_yet);
  EXPECT_EQ(r->status_on(day("2023-11-17")), regime_status::in_force);
}

TEST(RegimeParameter, DatedValuesTakeTheLatestOnOrBeforeTheDay) {
  const auto* r = bundled_rules().find("us-2025-01-15-foundry-presumption");
  ASSERT_NE(r, nullptr);
  const auto* p = find_parameter(*r, "no_hbm_transistor_limit");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->evidence, evidence_tag::S);
  ASSERT_EQ(p->values.size(), 4U);
  EXPECT_EQ(p->value_on(day("2026-12-31")), 30e9);
  EXPECT_EQ(p->value_on(day("2027-01-01")), 35e9);
  EXPECT_EQ(p->value_on(day("2028-06-01")), 30e9) << "no raised limit for 2028 in the text";
  EXPECT_EQ(p->value_on(day("2029-06-01")), 40e9);
  // Before the first entry: the earliest value.
  EXPECT_EQ(p->value_on(day("2020-01-01")), 30e9);
}

TEST(RegimeParameter, UndatedValueHoldsEveryDay) {
  const auto* r = bundled_rules().find("us-2023-11-17-3a090");
  ASSERT_NE(r, nullptr);
  const auto* p = find_parameter(*r, "pd_a2");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->unit, "TPP/mm^2");
  EXPECT_EQ(p->value_on(day("1990-01-01")), 5.92);
  EXPECT_EQ(p->value_on(day("2099-12-31")), 5.92);
}

// --- a valid file added one by one ---------------------------------------------------------------

TEST(RulesAddFile, ValidRegimeIsAdded) {
  const temp_dir dir;
  auto j = base_regime();
  j["role"] = "presumption";
  j["timeline"].push_back(json{{"from", "2025-01-01"}, {"status", "rescinded"}});
  const auto path = dir.write("regime.json", j.dump());
  auto rs = rule_set::load_definitions(rules_dir());
  EXPECT_TRUE(rs.regimes().empty());
  rs.add_regime_file(path);
  ASSERT_EQ(rs.regimes().size(), 1U);
  const auto& r = rs.regimes()[0];
  EXPECT_EQ(r.file, path);
  EXPECT_EQ(r.id, "test-regime");
  EXPECT_EQ(r.role, regime_role::presumption);
  EXPECT_EQ(r.status_on(day("2024-06-01")), regime_status::in_force);
  EXPECT_EQ(r.status_on(day("2025-01-01")), regime_status::rescinded);
  ASSERT_EQ(r.clauses.size(), 1U);
  EXPECT_EQ(r.clauses[0].when.type(), expr_type::boolean);
}

TEST(RulesAddFile, ContainsIdentifiersGetSlotsAfterTheMetrics) {
  const temp_dir dir;
  auto j = base_regime();
  j["clauses"] = json::array({json{{"eccn", "4A090.a"},
                                   {"applies_to", json::array({"board"})},
                                   {"when", "contains_3a090_a"},
                                   {"evidence", "R"}},
                              json{{"eccn", "4A090.x"},
                                   {"applies_to", json::array({"board", "system"})},
                                   {"when", "contains_3a090_b or contains_3a090_a"},
                                   {"evidence", "R"}}});
  const auto path = dir.write("regime.json", j.dump());
  auto rs = rule_set::load_definitions(rules_dir());
  rs.add_regime_file(path);
  EXPECT_EQ(rs.contains_flags(),
            (std::vector<std::string>{"contains_3a090_a", "contains_3a090_b"}));
  EXPECT_EQ(rs.variable_count(), metric_var_count + 2);
  const auto& clauses = rs.regimes().at(0).clauses;
  ASSERT_EQ(clauses.size(), 2U);
  const std::vector<double> params{4800};
  std::vector<double> vars(rs.variable_count(), 0.0);
  EXPECT_EQ(clauses[1].when.evaluate(vars.data(), params.data()), 0.0);
  vars[metric_var_count + 1] = 1;  // contains_3a090_b
  EXPECT_EQ(clauses[0].when.evaluate(vars.data(), params.data()), 0.0);
  EXPECT_EQ(clauses[1].when.evaluate(vars.data(), params.data()), 1.0);
  vars[metric_var_count + 1] = 0;
  vars[metric_var_count] = 1;  // contains_3a090_a
  EXPECT_EQ(clauses[0].when.evaluate(vars.data(), params.data()), 1.0);
  EXPECT_EQ(clauses[1].when.evaluate(vars.data(), params.data()), 1.0);
}

TEST(RulesAddFile, ContainsIdentifiersAreTruthValues) {
  auto j = base_regime();
  j["clauses"][0]["when"] = "contains_3a090_a >= 1";
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.clauses[0].when");
  EXPECT_TRUE(mentions(e->message(), "each side of a comparison must be a number"));
}

TEST(RulesAddFile, FailedFileLeavesNoContainsFlagsBehind) {
  // A file that fails after its contains_<eccn> flags were compiled must not leave them registered.
  auto rs = rule_set::load_definitions(rules_dir());
  const temp_dir dir;
  auto j = base_regime();
  j["clauses"][0]["when"] = "contains_3a090_z and tpp";
  const auto path = dir.write("regime.json", j.dump());
  EXPECT_THROW(rs.add_regime_file(path), spec_error);
  EXPECT_TRUE(rs.contains_flags().empty());
  EXPECT_EQ(rs.variable_count(), metric_var_count);
}

// --- defective files -----------------------------------------------------------------------------

TEST(RulesReject, SyntaxErrorInWhen) {
  auto j = base_regime();
  j["clauses"][0]["when"] = "tpp >= ";
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), path);
  EXPECT_EQ(e->json_path(), "$.clauses[0].when");
  EXPECT_TRUE(mentions(e->message(), "at column 8"));
  EXPECT_TRUE(mentions(e->message(), "unexpected end of expression: expected a value"));
}

TEST(RulesReject, SyntaxErrorInSecondClauseNamesItsPath) {
  auto j = base_regime();
  j["clauses"].push_back(
      json{{"eccn", "3A090.b"}, {"when", "tpp >= 1 && tpp < 2"}, {"evidence", "V"}});
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.clauses[1].when");
  EXPECT_TRUE(mentions(e->message(), "use 'and', 'or', 'not'"));
}

TEST(RulesReject, UnknownMetricSuggestsClosest) {
  auto j = base_regime();
  j["clauses"][0]["when"] = "tpp >= tpp_line and io_bidirectional_gb >= 600";
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), path);
  EXPECT_EQ(e->json_path(), "$.clauses[0].when");
  EXPECT_TRUE(mentions(
      e->message(),
      "unknown metric or parameter 'io_bidirectional_gb' (did you mean 'io_bidirectional_gb_s'?)"));
}

TEST(RulesReject, MisspelledParameterSuggestsIt) {
  auto j = base_regime();
  j["clauses"][0]["when"] = "tpp >= tpp_lien";
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.clauses[0].when");
  EXPECT_TRUE(mentions(e->message(), "(did you mean 'tpp_line'?)"));
}

TEST(RulesReject, ClauseThatIsANumber) {
  auto j = base_regime();
  j["clauses"][0]["when"] = "tpp * 2";
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), path);
  EXPECT_EQ(e->json_path(), "$.clauses[0].when");
  EXPECT_TRUE(mentions(e->message(), "a clause's condition must be a truth value"));
}

TEST(RulesReject, ExceptionConditionThatIsANumber) {
  auto j = base_regime();
  j["exceptions"] = json::array({json{{"id", "X"},
                                      {"clauses", json::array({"3A090.a"})},
                                      {"when", "tpp_line"},
                                      {"evidence", "V"}}});
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.exceptions[0].when");
  EXPECT_TRUE(mentions(e->message(), "an exception's condition must be a truth value"));
}

TEST(RulesReject, BadTimelineDate) {
  auto j = base_regime();
  j["timeline"][0]["from"] = "2023-02-30";
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), path);
  EXPECT_EQ(e->json_path(), "$.timeline[0].from");
  EXPECT_EQ(e->message(), "'2023-02-30' is not a date: expected YYYY-MM-DD");
}

TEST(RulesReject, BadDateFormatInDatedParameter) {
  auto j = base_regime();
  j["parameters"]["tpp_line"] = json{
      {"values", json::array({json{{"from", "2024/01/01"}, {"value", 4800}}})}, {"evidence", "V"}};
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.parameters.tpp_line.values[0].from");
  EXPECT_TRUE(mentions(e->message(), "'2024/01/01' is not a date: expected YYYY-MM-DD"));
}

TEST(RulesReject, TimelineOutOfOrder) {
  auto j = base_regime();
  j["timeline"].push_back(json{{"from", "2023-06-01"}, {"status", "superseded"}});
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), path);
  EXPECT_EQ(e->json_path(), "$.timeline[1].from");
  EXPECT_TRUE(mentions(e->message(), "strictly increasing date order"));
}

TEST(RulesReject, TimelineWithRepeatedDate) {
  auto j = base_regime();
  j["timeline"].push_back(json{{"from", "2024-01-01"}, {"status", "superseded"}});
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.timeline[1].from");
}

TEST(RulesReject, DatedParameterValuesOutOfOrder) {
  auto j = base_regime();
  j["parameters"]["tpp_line"] =
      json{{"values", json::array({json{{"from", "2025-01-01"}, {"value", 1}},
                                   json{{"from", "2024-01-01"}, {"value", 2}}})},
           {"evidence", "V"}};
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.parameters.tpp_line.values[1].from");
  EXPECT_TRUE(mentions(e->message(), "strictly increasing date order"));
}

TEST(RulesReject, UnknownTimelineStatusSuggestsClosest) {
  auto j = base_regime();
  j["timeline"][0]["status"] = "in-force";
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.timeline[0].status");
  EXPECT_TRUE(mentions(e->message(), "unknown value 'in-force' (did you mean 'in_force'?)"));
}

TEST(RulesReject, UnknownEvidenceTag) {
  auto j = base_regime();
  j["evidence"] = "X";
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), path);
  EXPECT_EQ(e->json_path(), "$.evidence");
  EXPECT_TRUE(mentions(e->message(), "unknown evidence tag 'X'"));
  EXPECT_TRUE(mentions(e->message(), "V (official text)"));
}

TEST(RulesReject, UnknownEvidenceTagOnClause) {
  auto j = base_regime();
  j["clauses"][0]["evidence"] = "verified";
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.clauses[0].evidence");
  EXPECT_TRUE(mentions(e->message(), "unknown evidence tag 'verified'"));
}

TEST(RulesReject, DuplicateRegimeId) {
  const temp_dir dir;
  const auto path = dir.write("copy.json", base_regime("us-2023-11-17-3a090").dump());
  auto rs = rule_set::load(rules_dir());
  const auto e = error_of([&] { rs.add_regime_file(path); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), path);
  EXPECT_EQ(e->json_path(), "$.id");
  EXPECT_TRUE(mentions(e->message(), "duplicate regime id 'us-2023-11-17-3a090' (also in "));
  EXPECT_TRUE(mentions(e->message(), "us-2023-11-17-3a090.json)"));
  EXPECT_EQ(rs.regimes().size(), 4U);
}

TEST(RulesReject, SameFileAddedTwice) {
  const temp_dir dir;
  const auto path = dir.write("regime.json", base_regime().dump());
  auto rs = rule_set::load_definitions(rules_dir());
  rs.add_regime_file(path);
  const auto e = error_of([&] { rs.add_regime_file(path); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.id");
  EXPECT_TRUE(mentions(e->message(), "duplicate regime id 'test-regime'"));
  EXPECT_EQ(rs.regimes().size(), 1U);
}

TEST(RulesReject, ParameterShadowingMetric) {
  auto j = base_regime();
  j["parameters"]["pd"] = json{{"value", 5.92}, {"evidence", "V"}};
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), path);
  EXPECT_EQ(e->json_path(), "$.parameters.pd");
  EXPECT_EQ(e->message(), "parameter 'pd' shadows the metric of the same name");
}

TEST(RulesReject, ParameterWithBothValueAndValues) {
  auto j = base_regime();
  j["parameters"]["tpp_line"]["values"] = json::array({json{{"from", "2024-01-01"}, {"value", 1}}});
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.parameters.tpp_line");
  EXPECT_TRUE(mentions(e->message(), "not both"));
}

TEST(RulesReject, ParameterWithoutValue) {
  auto j = base_regime();
  j["parameters"]["tpp_line"].erase("value");
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.parameters.tpp_line");
  EXPECT_TRUE(mentions(e->message(), "missing 'value' (a number) or 'values' (dated numbers)"));
}

TEST(RulesReject, ParameterWithBadName) {
  auto j = base_regime();
  j["parameters"]["TPP-Line"] = json{{"value", 1}, {"evidence", "V"}};
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.parameters.TPP-Line");
  EXPECT_TRUE(mentions(e->message(), "a parameter name is lowercase letters, digits and '_'"));
}

TEST(RulesReject, ExceptionNamingEccnNotAmongClauses) {
  auto j = base_regime();
  j["exceptions"] = json::array(
      {json{{"id", "NAC"}, {"clauses", json::array({"3A090.a", "3A090.z"})}, {"evidence", "V"}}});
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), path);
  EXPECT_EQ(e->json_path(), "$.exceptions[0].clauses[1]");
  EXPECT_EQ(e->message(), "'3A090.z' is not an ECCN of this regime's clauses");
}

TEST(RulesReject, MissingCitations) {
  auto j = base_regime();
  j.erase("citations");
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), path);
  EXPECT_EQ(e->json_path(), "$");
  EXPECT_EQ(e->message(), "missing required field 'citations'");
}

TEST(RulesReject, EmptyCitations) {
  auto j = base_regime();
  j["citations"] = json::array();
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.citations");
  EXPECT_EQ(e->message(), "a regime needs at least one citation");
}

TEST(RulesReject, EmptyTimeline) {
  auto j = base_regime();
  j["timeline"] = json::array();
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.timeline");
  EXPECT_EQ(e->message(), "a regime needs at least one dated status");
}

TEST(RulesReject, NoClauses) {
  auto j = base_regime();
  j["clauses"] = json::array();
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.clauses");
  EXPECT_EQ(e->message(), "a regime needs at least one clause");
}

TEST(RulesReject, WrongSchema) {
  auto j = base_regime();
  j["schema"] = "chipgauge.rule/2";
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), path);
  EXPECT_EQ(e->json_path(), "$.schema");
  EXPECT_EQ(e->message(), "unsupported schema 'chipgauge.rule/2': expected \"chipgauge.rule/1\"");
}

TEST(RulesReject, BadRegimeId) {
  auto j = base_regime("US 2023");
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.id");
  EXPECT_TRUE(mentions(e->message(), "invalid id"));
}

TEST(RulesReject, MisspelledClauseFieldSuggestsIt) {
  auto j = base_regime();
  j["clauses"][0]["evidnce"] = "V";
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.clauses[0].evidnce");
  EXPECT_TRUE(mentions(e->message(), "unknown field 'evidnce' (did you mean 'evidence'?)"));
}

TEST(RulesReject, EmptyAppliesTo) {
  auto j = base_regime();
  j["clauses"][0]["applies_to"] = json::array();
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.clauses[0].applies_to");
  EXPECT_TRUE(mentions(e->message(), "expected at least one kind"));
}

TEST(RulesReject, BareContainsPrefixIsUnknown) {
  auto j = base_regime();
  j["clauses"][0]["when"] = "contains_";
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.clauses[0].when");
  EXPECT_TRUE(mentions(e->message(), "unknown metric or parameter 'contains_'"));
}

TEST(RulesReject, MalformedJsonInRuleFile) {
  const temp_dir dir;
  const auto path = dir.write("regime.json", "{\"schema\": \"chipgauge.rule/1\",}");
  auto rs = rule_set::load_definitions(rules_dir());
  const auto e = error_of([&] { rs.add_regime_file(path); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), path);
  EXPECT_EQ(e->json_path(), "$");
  EXPECT_TRUE(mentions(e->message(), "malformed JSON at line 1"));
}

// --- loading a directory -------------------------------------------------------------------------

TEST(RulesLoad, DirectoryWithoutMetricsFails) {
  const temp_dir dir;
  dir.write("regime.json", base_regime().dump());
  const auto e = error_of([&] { (void)rule_set::load(dir.path()); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(std::filesystem::path(e->file()), std::filesystem::path(dir.path()) / "metrics.json");
  EXPECT_EQ(e->json_path(), "$");
  EXPECT_EQ(e->message(), "missing: the rules directory needs metrics.json");
}

TEST(RulesLoad, RegimeIdMustMatchItsFileName) {
  const temp_dir dir;
  std::filesystem::copy_file(rules_dir() + "/metrics.json", dir.path() + "/metrics.json");
  const auto path = dir.write("other-name.json", base_regime("good").dump());
  const auto e = error_of([&] { (void)rule_set::load(dir.path()); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), path);
  EXPECT_EQ(e->json_path(), "$.id");
  EXPECT_TRUE(mentions(e->message(), "differs from the file name"));
}

TEST(RulesReject, ReservedWordsAsParameterNames) {
  for (const char* word : {"and", "not", "true", "contains_x"}) {
    auto j = base_regime();
    j["parameters"][word] = {{"value", 1}, {"evidence", "V"}};
    std::string path;
    const auto e = add_error(j, path);
    ASSERT_TRUE(e.has_value()) << word;
    EXPECT_EQ(e->json_path(), std::string("$.parameters.") + word);
  }
}

TEST(RulesReject, EmptyEccn) {
  auto j = base_regime();
  j["clauses"][0]["eccn"] = "";
  std::string path;
  const auto e = add_error(j, path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), "$.clauses[0].eccn");
}

TEST(RulesLoad, MissingDirectoryFails) {
  const temp_dir dir;
  const auto missing = dir.path() + "/no-such-rules";
  const auto e = error_of([&] { (void)rule_set::load(missing); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), missing);
  EXPECT_TRUE(mentions(e->message(), "not a directory"));
}

TEST(RulesLoad, BadRegimeInDirectoryNamesItsFile) {
  const temp_dir dir;
  std::filesystem::copy_file(rules_dir() + "/metrics.json", dir.path() + "/metrics.json");
  dir.write("good.json", base_regime("good").dump());
  auto bad = base_regime("bad");
  bad["clauses"][0]["when"] = "tpp >= nowhere_line";
  const auto bad_path = dir.write("bad.json", bad.dump());
  const auto e = error_of([&] { (void)rule_set::load(dir.path()); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), bad_path);
  EXPECT_EQ(e->json_path(), "$.clauses[0].when");
}

TEST(RulesLoad, DirectoryOfCopiesLoadsLikeTheBundledOne) {
  const temp_dir dir;
  for (const auto& e : std::filesystem::directory_iterator(rules_dir()))
    std::filesystem::copy_file(e.path(), std::filesystem::path(dir.path()) / e.path().filename());
  dir.write("notes.txt", "not a rule file");
  const auto rs = rule_set::load(dir.path());
  EXPECT_EQ(rs.regimes().size(), 4U);
  EXPECT_EQ(rs.contains_flags(), bundled_rules().contains_flags());
}

TEST(Listings, RulesListHasOneRowPerRegimeInEveryFormat) {
  const auto& rules = test::bundled_rules();
  const auto as_of = *date::parse("2025-06-01");
  const auto j = nlohmann::json::parse(render_rules_list(rules, as_of, output_format::json));
  ASSERT_EQ(j.size(), rules.regimes().size());
  EXPECT_EQ(j.at(0).at("id"), rules.regimes().front().id);
  EXPECT_EQ(j.at(0).at("status"), std::string(to_string(rules.regimes().front().status_on(as_of))));
  const auto csv = render_rules_list(rules, as_of, output_format::csv);
  EXPECT_EQ(csv.rfind("id,role,status,in_force_from,evidence,title\n", 0), 0U) << csv;
  const auto text = render_rules_list(rules, as_of, output_format::text);
  EXPECT_EQ(
      text.rfind(fmt::format("regimes as of 2025-06-01 ({} files)\n", rules.regimes().size()), 0),
      0U)
      << text;
}

TEST(Listings, RegimeShowsTimelineAndClauses) {
  const auto& r = test::bundled_rules().regimes().front();
  const auto text = render_regime(r, *date::parse("2025-06-01"));
  EXPECT_EQ(text.rfind(r.id + "\n" + r.title + "\nfile: " + r.file + "\n", 0), 0U) << text;
  EXPECT_NE(text.find("timeline:\n"), std::string::npos) << text;
  EXPECT_NE(text.find("clauses (tested in order):\n"), std::string::npos) << text;
}

TEST(Listings, PartsListCountsTheDatabase) {
  const auto cat = catalog::load(test::specs_dir());
  const auto j = nlohmann::json::parse(render_parts_list(cat, output_format::json));
  ASSERT_EQ(j.size(), cat.parts().parts().size());
  EXPECT_EQ(j.at(0).at("file"), cat.parts().parts().front()->file);
  const auto text = render_parts_list(cat, output_format::text);
  EXPECT_NE(
      text.find(fmt::format("{} parts in {}/chips\n", cat.parts().parts().size(), cat.specs_dir())),
      std::string::npos);
}

}  // namespace
}  // namespace chipgauge::classifier
