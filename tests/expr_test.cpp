// The rule expression language: precedence, arithmetic, Kleene logic, traces and compile errors.
#include "chipgauge/classifier/expr.hpp"
#include "chipgauge/core/error.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::classifier {
namespace {

constexpr double unknown = std::numeric_limits<double>::quiet_NaN();

const std::string rule_file = "rule.json";
const std::string when_path = "$.clauses[0].when";

// Variables: tpp (slot 0), io (slot 1), datacenter (slot 2, truth value), pd (slot 3).
// Parameters: tpp_line (slot 0), io_line (slot 1).
std::optional<expr_symbol> resolve(std::string_view name) {
  using src = expr_symbol::source;
  if (name == "tpp") return expr_symbol{src::variable, 0, expr_type::number};
  if (name == "io") return expr_symbol{src::variable, 1, expr_type::number};
  if (name == "datacenter") return expr_symbol{src::variable, 2, expr_type::boolean};
  if (name == "pd") return expr_symbol{src::variable, 3, expr_type::number};
  if (name == "tpp_line") return expr_symbol{src::parameter, 0, expr_type::number};
  if (name == "io_line") return expr_symbol{src::parameter, 1, expr_type::number};
  return std::nullopt;
}

const std::vector<std::string_view> known_names{"tpp", "io",       "datacenter",
                                                "pd",  "tpp_line", "io_line"};

expr compile(std::string_view text) {
  return expr::compile(text, resolve, rule_file, when_path, known_names);
}

// Inputs for evaluation, with defaults that tests override.
struct inputs {
  std::array<double, 4> vars{0, 0, 1, 0};
  std::array<double, 2> params{4800, 600};

  double eval(const expr& e, std::vector<comparison_trace>* trace = nullptr) const {
    return e.evaluate(vars.data(), params.data(), trace);
  }
};

double eval(std::string_view text, double tpp = 0, double io = 0) {
  inputs in;
  in.vars[0] = tpp;
  in.vars[1] = io;
  return in.eval(compile(text));
}

// The spec_error `compile(text)` throws, or nullopt when it compiles.
std::optional<spec_error> compile_error(std::string_view text) {
  try {
    (void)compile(text);
  } catch (const spec_error& e) {
    return e;
  }
  return std::nullopt;
}

::testing::AssertionResult mentions(const std::string& text, std::string_view needle) {
  if (text.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "\"" << text << "\" does not mention \"" << needle << "\"";
}

// --- precedence and arithmetic -------------------------------------------------------------------

TEST(ExprPrecedence, MultiplicationBindsTighterThanAddition) {
  EXPECT_EQ(eval("tpp + io * 2", 4, 5), 14.0);  // (tpp + io) * 2 would be 18
  EXPECT_EQ(eval("tpp * 2 + io", 4, 5), 13.0);
  EXPECT_EQ(eval("tpp - io / 5", 4, 5), 3.0);  // (tpp - io) / 5 would be -0.2
}

TEST(ExprPrecedence, ParenthesesOverrideDefaultBinding) {
  EXPECT_EQ(eval("(tpp + io) * 2", 4, 5), 18.0);
  EXPECT_EQ(eval("tpp * (2 + io)", 4, 5), 28.0);
  EXPECT_EQ(eval("((tpp))", 4, 5), 4.0);
}

TEST(ExprPrecedence, SubtractionAndDivisionAreLeftAssociative) {
  EXPECT_EQ(eval("tpp - io - 1", 10, 3), 6.0);  // right-associative would give 8
  EXPECT_EQ(eval("tpp / io / 2", 12, 3), 2.0);  // right-associative would give 8
}

TEST(ExprPrecedence, ComparisonsBindTighterThanAndOr) {
  // tpp >= tpp_line and io >= io_line: both comparisons first, then 'and'.
  EXPECT_EQ(eval("tpp >= tpp_line and io >= io_line", 4800, 600), 1.0);
  EXPECT_EQ(eval("tpp >= tpp_line and io >= io_line", 4800, 599), 0.0);
  EXPECT_EQ(eval("tpp + 1 > 4800 or io * 2 < 10", 4800, 100), 1.0);
}

TEST(ExprPrecedence, AndBindsTighterThanOr) {
  // Left to right without precedence, (true or false) and false would be false.
  EXPECT_EQ(eval("true or false and false"), 1.0);
  EXPECT_EQ(eval("false and false or true"), 1.0);
}

TEST(ExprPrecedence, NotBindsTighterThanAnd) {
  // not (false and false) would be true.
  EXPECT_EQ(eval("not false and false"), 0.0);
  EXPECT_EQ(eval("not not true"), 1.0);
}

TEST(ExprPrecedence, NotAppliesToAWholeComparison) {
  const auto e = compile("not tpp > 3");
  EXPECT_EQ(e.type(), expr_type::boolean);
  EXPECT_EQ(eval("not tpp > 3", 4), 0.0);
  EXPECT_EQ(eval("not tpp > 3", 2), 1.0);
}

TEST(ExprArithmetic, ComputesWithLiteralsVariablesAndParameters) {
  EXPECT_EQ(eval("tpp_line / 8"), 600.0);
  EXPECT_EQ(eval("30e9"), 30e9);
  EXPECT_DOUBLE_EQ(eval("5.92 * io", 0, 100), 592.0);
  EXPECT_DOUBLE_EQ(eval(".5 + tpp", 1), 1.5);
}

TEST(ExprArithmetic, UnaryMinusNegatesItsOperand) {
  EXPECT_EQ(eval("-tpp + 3", 5), -2.0);  // (-tpp) + 3, not -(tpp + 3)
  EXPECT_EQ(eval("2 * -io", 0, 4), -8.0);
  EXPECT_EQ(eval("- -tpp", 7), 7.0);
  EXPECT_EQ(eval("-(tpp + io)", 1, 2), -3.0);
  EXPECT_EQ(eval("-tpp < 0", 1), 1.0);
}

TEST(ExprTypes, ComparisonsAndLogicAreTruthValuesArithmeticIsNumber) {
  EXPECT_EQ(compile("tpp * 2").type(), expr_type::number);
  EXPECT_EQ(compile("tpp >= 4800").type(), expr_type::boolean);
  EXPECT_EQ(compile("datacenter").type(), expr_type::boolean);
  EXPECT_EQ(compile("true").type(), expr_type::boolean);
  EXPECT_EQ(compile("tpp >= 1 and io >= 2").text(), "tpp >= 1 and io >= 2");
}

// --- three-valued logic --------------------------------------------------------------------------

TEST(ExprKleeneLogic, ComparisonWithUnknownSideIsUnknown) {
  EXPECT_TRUE(std::isnan(eval("tpp >= 4800", unknown)));
  EXPECT_TRUE(std::isnan(eval("4800 <= tpp", unknown)));
  EXPECT_TRUE(std::isnan(eval("tpp == tpp", unknown)));
  EXPECT_TRUE(std::isnan(eval("tpp != 1", unknown)));
}

TEST(ExprKleeneLogic, FalseAndUnknownIsFalse) {
  EXPECT_EQ(eval("io > 1 and tpp >= 4800", unknown, 0), 0.0);
  EXPECT_EQ(eval("tpp >= 4800 and io > 1", unknown, 0), 0.0);
}

TEST(ExprKleeneLogic, TrueAndUnknownIsUnknown) {
  EXPECT_TRUE(std::isnan(eval("io > 1 and tpp >= 4800", unknown, 5)));
  EXPECT_TRUE(std::isnan(eval("tpp >= 4800 and io > 1", unknown, 5)));
}

TEST(ExprKleeneLogic, TrueOrUnknownIsTrue) {
  EXPECT_EQ(eval("io > 1 or tpp >= 4800", unknown, 5), 1.0);
  EXPECT_EQ(eval("tpp >= 4800 or io > 1", unknown, 5), 1.0);
}

TEST(ExprKleeneLogic, FalseOrUnknownIsUnknown) {
  EXPECT_TRUE(std::isnan(eval("io > 1 or tpp >= 4800", unknown, 0)));
  EXPECT_TRUE(std::isnan(eval("tpp >= 4800 or io > 1", unknown, 0)));
}

TEST(ExprKleeneLogic, NotUnknownIsUnknown) {
  EXPECT_TRUE(std::isnan(eval("not tpp >= 4800", unknown)));
  inputs in;
  in.vars[2] = unknown;  // datacenter unknown
  EXPECT_TRUE(std::isnan(in.eval(compile("not datacenter"))));
}

TEST(ExprKleeneLogic, UnknownTruthValueVariablePropagates) {
  inputs in;
  in.vars[2] = unknown;
  EXPECT_TRUE(std::isnan(in.eval(compile("datacenter and true"))));
  EXPECT_EQ(in.eval(compile("datacenter and false")), 0.0);
  EXPECT_EQ(in.eval(compile("datacenter or true")), 1.0);
}

TEST(ExprKleeneLogic, DivisionByZeroIsUnknown) {
  EXPECT_TRUE(std::isnan(eval("tpp / io", 5, 0)));
  EXPECT_TRUE(std::isnan(eval("tpp / io >= 1", 5, 0)));
  EXPECT_TRUE(std::isnan(eval("0 / 0")));
  EXPECT_EQ(eval("tpp / io >= 1 or true", 5, 0), 1.0);
  EXPECT_EQ(eval("tpp / io", 6, 3), 2.0);
}

TEST(ExprKleeneLogic, ArithmeticWithUnknownIsUnknown) {
  EXPECT_TRUE(std::isnan(eval("tpp + 1", unknown)));
  EXPECT_TRUE(std::isnan(eval("-tpp", unknown)));
  EXPECT_TRUE(std::isnan(eval("0 * tpp", unknown)));
}

// --- traces --------------------------------------------------------------------------------------

TEST(ExprTrace, RecordsEveryComparisonWithOperandsAndResult) {
  const auto e = compile("tpp >= tpp_line and io >= io_line");
  inputs in;
  in.vars[0] = 5000;
  in.vars[1] = 500;
  std::vector<comparison_trace> trace;
  EXPECT_EQ(in.eval(e, &trace), 0.0);
  ASSERT_EQ(trace.size(), 2U);
  EXPECT_EQ(trace[0].lhs, 5000.0);
  EXPECT_EQ(trace[0].rhs, 4800.0);
  EXPECT_EQ(trace[0].result, 1.0);
  EXPECT_EQ(e.lhs_text(trace[0].node), "tpp");
  EXPECT_EQ(e.op_text(trace[0].node), ">=");
  EXPECT_EQ(e.rhs_text(trace[0].node), "tpp_line");
  EXPECT_EQ(trace[1].lhs, 500.0);
  EXPECT_EQ(trace[1].rhs, 600.0);
  EXPECT_EQ(trace[1].result, 0.0);
  EXPECT_EQ(e.lhs_text(trace[1].node), "io");
  EXPECT_EQ(e.rhs_text(trace[1].node), "io_line");
}

TEST(ExprTrace, FalseAndStillRecordsItsRightSide) {
  const auto e = compile("tpp < 1 and io > 2");
  inputs in;
  in.vars[0] = 10;
  in.vars[1] = 3;
  std::vector<comparison_trace> trace;
  EXPECT_EQ(in.eval(e, &trace), 0.0);
  ASSERT_EQ(trace.size(), 2U);
  EXPECT_EQ(trace[0].result, 0.0);
  EXPECT_EQ(e.op_text(trace[1].node), ">");
  EXPECT_EQ(trace[1].lhs, 3.0);
  EXPECT_EQ(trace[1].rhs, 2.0);
  EXPECT_EQ(trace[1].result, 1.0);
}

TEST(ExprTrace, TrueOrStillRecordsItsRightSide) {
  const auto e = compile("tpp > 1 or io <= 2");
  inputs in;
  in.vars[0] = 10;
  in.vars[1] = 3;
  std::vector<comparison_trace> trace;
  EXPECT_EQ(in.eval(e, &trace), 1.0);
  ASSERT_EQ(trace.size(), 2U);
  EXPECT_EQ(e.op_text(trace[1].node), "<=");
  EXPECT_EQ(trace[1].lhs, 3.0);
  EXPECT_EQ(trace[1].rhs, 2.0);
  EXPECT_EQ(trace[1].result, 0.0);
}

TEST(ExprTrace, UnknownComparisonIsRecordedAsNaN) {
  const auto e = compile("pd >= 5.92");
  inputs in;
  in.vars[3] = unknown;
  std::vector<comparison_trace> trace;
  EXPECT_TRUE(std::isnan(in.eval(e, &trace)));
  ASSERT_EQ(trace.size(), 1U);
  EXPECT_TRUE(std::isnan(trace[0].lhs));
  EXPECT_EQ(trace[0].rhs, 5.92);
  EXPECT_TRUE(std::isnan(trace[0].result));
}

TEST(ExprTrace, OperandTextCoversCompoundOperandsAndParentheses) {
  const auto e = compile("(tpp + io) * 2 != tpp_line / 8");
  inputs in;
  std::vector<comparison_trace> trace;
  (void)in.eval(e, &trace);
  ASSERT_EQ(trace.size(), 1U);
  EXPECT_EQ(e.lhs_text(trace[0].node), "(tpp + io) * 2");
  EXPECT_EQ(e.op_text(trace[0].node), "!=");
  EXPECT_EQ(e.rhs_text(trace[0].node), "tpp_line / 8");
}

TEST(ExprTrace, OpTextCoversEveryComparison) {
  const std::array<std::string_view, 6> ops{"<", "<=", ">", ">=", "==", "!="};
  for (auto op : ops) {
    const auto e = compile(std::string("tpp ") + std::string(op) + " 1");
    inputs in;
    std::vector<comparison_trace> trace;
    (void)in.eval(e, &trace);
    ASSERT_EQ(trace.size(), 1U) << op;
    EXPECT_EQ(e.op_text(trace[0].node), op);
  }
}

TEST(ExprTrace, NestedComparisonsAreAllRecorded) {
  const auto e = compile("datacenter and (tpp >= 1 or io >= 1) and not pd < 2");
  inputs in;
  std::vector<comparison_trace> trace;
  (void)in.eval(e, &trace);
  ASSERT_EQ(trace.size(), 3U);
  EXPECT_EQ(e.lhs_text(trace[0].node), "tpp");
  EXPECT_EQ(e.lhs_text(trace[1].node), "io");
  EXPECT_EQ(e.lhs_text(trace[2].node), "pd");
}

// --- parameters ----------------------------------------------------------------------------------

std::vector<std::uint32_t> sorted_unique(std::vector<std::uint32_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

TEST(ExprParameters, ParametersUsedListsEveryParameterRead) {
  EXPECT_EQ(sorted_unique(compile("tpp >= tpp_line and io >= io_line").parameters_used()),
            (std::vector<std::uint32_t>{0, 1}));
  EXPECT_TRUE(compile("tpp >= 4800").parameters_used().empty());
}

TEST(ExprParameters, FalseAndReliesOnlyOnItsFalseSide) {
  const auto e = compile("tpp >= tpp_line and io >= io_line");
  inputs in;
  in.vars[0] = 5000;  // holds: relies on tpp_line only if io fails
  in.vars[1] = 100;   // fails
  std::vector<std::uint32_t> out;
  e.relied_parameters(in.vars.data(), in.params.data(), out);
  EXPECT_EQ(sorted_unique(out), (std::vector<std::uint32_t>{1}));
}

TEST(ExprParameters, TrueOrReliesOnlyOnItsTrueSide) {
  const auto e = compile("tpp >= tpp_line or io >= io_line");
  inputs in;
  in.vars[0] = 5000;  // holds
  in.vars[1] = 100;   // fails
  std::vector<std::uint32_t> out;
  e.relied_parameters(in.vars.data(), in.params.data(), out);
  EXPECT_EQ(sorted_unique(out), (std::vector<std::uint32_t>{0}));
}

TEST(ExprParameters, TrueAndReliesOnBothSides) {
  const auto e = compile("tpp >= tpp_line and io >= io_line");
  inputs in;
  in.vars[0] = 5000;
  in.vars[1] = 700;
  std::vector<std::uint32_t> out;
  e.relied_parameters(in.vars.data(), in.params.data(), out);
  EXPECT_EQ(sorted_unique(out), (std::vector<std::uint32_t>{0, 1}));
}

TEST(ExprParameters, UnknownAndReliesOnBothSides) {
  const auto e = compile("tpp >= tpp_line and io >= io_line");
  inputs in;
  in.vars[0] = unknown;
  in.vars[1] = 700;
  std::vector<std::uint32_t> out;
  e.relied_parameters(in.vars.data(), in.params.data(), out);
  EXPECT_EQ(sorted_unique(out), (std::vector<std::uint32_t>{0, 1}));
}

TEST(ExprParameters, ReliedParametersAppendsToExistingOutput) {
  const auto e = compile("tpp >= tpp_line");
  inputs in;
  std::vector<std::uint32_t> out{7};
  e.relied_parameters(in.vars.data(), in.params.data(), out);
  EXPECT_EQ(out, (std::vector<std::uint32_t>{7, 0}));
}

// --- compile errors ------------------------------------------------------------------------------

TEST(ExprCompileError, SyntaxErrorNamesFilePathAndColumn) {
  const auto e = compile_error("tpp >= * 3");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->file(), rule_file);
  EXPECT_EQ(e->json_path(), when_path);
  EXPECT_TRUE(mentions(e->message(), "at column 8"));
  EXPECT_TRUE(mentions(e->message(), "expected a number, a name, 'not' or '('"));
  EXPECT_TRUE(mentions(e->message(), "\"tpp >= * 3\""));
  EXPECT_TRUE(mentions(e->what(), "rule.json: $.clauses[0].when: "));
}

TEST(ExprCompileError, UnknownIdentifierSuggestsClosestName) {
  const auto e = compile_error("tpq >= tpp_line");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), when_path);
  EXPECT_TRUE(mentions(e->message(), "at column 1"));
  EXPECT_TRUE(mentions(e->message(), "unknown metric or parameter 'tpq' (did you mean 'tpp'?)"));
}

TEST(ExprCompileError, UnknownIdentifierFarFromAnyNameHasNoSuggestion) {
  const auto e = compile_error("tpp >= frobnicator");
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(mentions(e->message(), "at column 8"));
  EXPECT_TRUE(mentions(e->message(), "unknown metric or parameter 'frobnicator'"));
  EXPECT_FALSE(mentions(e->message(), "did you mean"));
}

TEST(ExprCompileError, NumberWhereTruthValueExpected) {
  const auto e = compile_error("tpp and io > 3");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), when_path);
  EXPECT_TRUE(mentions(e->message(), "at column 1"));
  EXPECT_TRUE(
      mentions(e->message(), "each side of 'and' must be a truth value, but \"tpp\" is a number"));
}

TEST(ExprCompileError, NumberAsOperandOfNot) {
  const auto e = compile_error("not tpp");
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(mentions(e->message(), "at column 5"));
  EXPECT_TRUE(mentions(e->message(), "the operand of 'not' must be a truth value"));
}

TEST(ExprCompileError, NumberAsSideOfOr) {
  const auto e = compile_error("datacenter or tpp_line");
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(mentions(e->message(), "at column 15"));
  EXPECT_TRUE(mentions(e->message(),
                       "each side of 'or' must be a truth value, but \"tpp_line\" is a number"));
}

TEST(ExprCompileError, TruthValueWhereNumberExpected) {
  const auto e = compile_error("datacenter + 1 > 0");
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(mentions(e->message(), "at column 1"));
  EXPECT_TRUE(
      mentions(e->message(),
               "each side of '+' or '-' must be a number, but \"datacenter\" is a truth value"));
}

TEST(ExprCompileError, TruthValueInComparison) {
  const auto e = compile_error("tpp >= (io > 1)");
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(mentions(e->message(), "at column 8"));
  EXPECT_TRUE(
      mentions(e->message(),
               "each side of a comparison must be a number, but \"(io > 1)\" is a truth value"));
}

TEST(ExprCompileError, TruthValueUnderUnaryMinus) {
  const auto e = compile_error("-datacenter");
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(mentions(e->message(), "the operand of unary '-' must be a number"));
}

TEST(ExprCompileError, ChainedComparisonRejected) {
  const auto e = compile_error("1 < tpp < 5");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), when_path);
  EXPECT_TRUE(mentions(e->message(), "at column 9"));
  EXPECT_TRUE(mentions(e->message(), "comparisons do not chain: write 'a <= x and x < b'"));
}

TEST(ExprCompileError, DoubleAmpersandRejectedWithHint) {
  const auto e = compile_error("tpp > 1 && io > 1");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), when_path);
  EXPECT_TRUE(mentions(e->message(), "at column 9"));
  EXPECT_TRUE(mentions(e->message(), "unsupported operator '&': use 'and', 'or', 'not'"));
}

TEST(ExprCompileError, DoubleBarAndBangRejectedWithHint) {
  const auto bar = compile_error("tpp > 1 || io > 1");
  ASSERT_TRUE(bar.has_value());
  EXPECT_TRUE(mentions(bar->message(), "unsupported operator '|': use 'and', 'or', 'not'"));
  const auto bang = compile_error("!datacenter");
  ASSERT_TRUE(bang.has_value());
  EXPECT_TRUE(mentions(bang->message(), "at column 1"));
  EXPECT_TRUE(mentions(bang->message(), "unsupported operator '!'"));
}

TEST(ExprCompileError, NumberRunningIntoNameRejected) {
  const auto e = compile_error("tpp >= 4800tpp");
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(mentions(e->message(), "at column 12"));
  EXPECT_TRUE(mentions(e->message(), "a number must not run into a name"));
}

TEST(ExprCompileError, MissingCloseParenthesis) {
  const auto e = compile_error("(tpp > 1");
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(mentions(e->message(), "at column 9"));
  EXPECT_TRUE(mentions(e->message(), "expected ')'"));
}

TEST(ExprCompileError, ExtraCloseParenthesis) {
  const auto e = compile_error("tpp > 1)");
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(mentions(e->message(), "at column 8"));
  EXPECT_TRUE(
      mentions(e->message(), "expected an operator, 'and', 'or' or the end of the expression"));
}

TEST(ExprCompileError, EmptyExpression) {
  const auto e = compile_error("");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->json_path(), when_path);
  EXPECT_TRUE(mentions(e->message(), "at column 1"));
  EXPECT_TRUE(mentions(e->message(), "unexpected end of expression: expected a value"));
  const auto blank = compile_error("   ");
  ASSERT_TRUE(blank.has_value());
  EXPECT_TRUE(mentions(blank->message(), "unexpected end of expression"));
}

TEST(ExprCompileError, TrailingOperatorIsUnexpectedEnd) {
  const auto e = compile_error("tpp >=");
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(mentions(e->message(), "at column 7"));
  EXPECT_TRUE(mentions(e->message(), "unexpected end of expression: expected a value"));
}

TEST(ExprCompileError, KeywordWhereValueExpected) {
  const auto e = compile_error("and tpp > 1");
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(mentions(e->message(), "at column 1"));
  EXPECT_TRUE(mentions(e->message(), "expected a value before 'and'"));
}

TEST(ExprCompileError, TwoValuesWithoutOperator) {
  const auto e = compile_error("tpp 4800");
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(mentions(e->message(), "at column 5"));
  EXPECT_TRUE(mentions(e->message(), "expected an operator"));
}

TEST(ExprCompileError, UnexpectedCharacter) {
  const auto e = compile_error("tpp >= \"4800\"");
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(mentions(e->message(), "at column 8"));
  EXPECT_TRUE(mentions(e->message(), "unexpected character '\"'"));
}

TEST(ExprCompileError, SingleEqualsIsNotComparison) {
  const auto e = compile_error("tpp = 4800");
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(mentions(e->message(), "at column 5"));
  EXPECT_TRUE(mentions(e->message(), "unexpected character '='"));
}

// An `and` chain of `terms` comparisons against the parameter tpp_line.
std::string and_chain(int terms, std::string_view term = "tpp >= tpp_line") {
  std::string t(term);
  for (int i = 1; i < terms; ++i) t += " and " + std::string(term);
  return t;
}

TEST(ExprLimits, SizeAndNestingAreBoundedAtCompile) {
  const expr_limits defaults;
  // Text beyond max_bytes.
  const std::string long_text = and_chain(4000);  // 72 KB
  ASSERT_GT(long_text.size(), defaults.max_bytes);
  try {
    (void)compile(long_text);
    ADD_FAILURE() << "a 72 KB expression compiled";
  } catch (const spec_error& e) {
    EXPECT_EQ(e.json_path(), when_path);
    EXPECT_TRUE(mentions(e.message(), "at most 65536 are allowed")) << e.message();
  }
  // Nodes beyond max_nodes, in fewer bytes.
  const auto nodes = compile_error(and_chain(5000, "tpp>=1"));
  ASSERT_TRUE(nodes.has_value());
  EXPECT_TRUE(mentions(nodes->message(), "more than 16384 operands and operators"))
      << nodes->message();
  // Within both: 3,000 terms compile and evaluate.
  EXPECT_NO_THROW((void)compile(and_chain(3000)));
  // Nesting.
  const auto deep = compile_error(std::string(300, '(') + "tpp >= 1" + std::string(300, ')'));
  ASSERT_TRUE(deep.has_value());
  EXPECT_TRUE(mentions(deep->message(), "nested deeper than 256 levels")) << deep->message();
}

TEST(ExprLimits, ChainOfTwoHundredThousandTermsEvaluatesWithoutRecursion) {
  // With the limits lifted, a chain far deeper than any stack evaluates, traces and finds what
  // it relies on (iteratively; the evaluation used to recurse once per term).
  expr_limits lifted;
  lifted.max_bytes = std::size_t{1} << 30;
  lifted.max_nodes = std::size_t{1} << 30;
  constexpr int terms = 200000;
  const auto e =
      expr::compile(and_chain(terms), resolve, rule_file, when_path, known_names, lifted);
  std::array<double, 4> vars{5000, 0, 1, 0};
  std::array<double, 2> params{4800, 0};
  std::vector<comparison_trace> trace;
  EXPECT_EQ(e.evaluate(vars.data(), params.data(), &trace), 1.0);
  EXPECT_EQ(trace.size(), static_cast<std::size_t>(terms));
  std::vector<std::uint32_t> relied;
  e.relied_parameters(vars.data(), params.data(), relied);
  EXPECT_EQ(relied.size(), static_cast<std::size_t>(terms)) << "a true 'and' rests on every term";
  // One false term: the chain is false and rests on that term alone.
  vars[0] = 100;
  relied.clear();
  EXPECT_EQ(e.evaluate(vars.data(), params.data()), 0.0);
  e.relied_parameters(vars.data(), params.data(), relied);
  EXPECT_FALSE(relied.empty());
  EXPECT_LE(relied.size(), 1U);
}

TEST(ExprLimits, TraceOrderIsLeftToRight) {
  const auto e = compile("(tpp >= tpp_line or io >= io_line) and not (pd < 3)");
  const std::array<double, 4> vars{5000, 100, 1, 4};
  const std::array<double, 2> params{4800, 600};
  std::vector<comparison_trace> trace;
  EXPECT_EQ(e.evaluate(vars.data(), params.data(), &trace), 1.0);
  ASSERT_EQ(trace.size(), 3U);
  EXPECT_EQ(e.lhs_text(trace[0].node), "tpp");
  EXPECT_EQ(e.lhs_text(trace[1].node), "io");
  EXPECT_EQ(e.lhs_text(trace[2].node), "pd");
}

}  // namespace
}  // namespace chipgauge::classifier
