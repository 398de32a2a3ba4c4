#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::classifier {

/// The static type of an expression or identifier.
enum class expr_type : unsigned char { number, boolean };

/// What an identifier in a rule expression refers to: a metric of the part (slot in the
/// variable array) or a parameter of the regime (slot in the parameter array).
struct expr_symbol {
  enum class source : unsigned char { variable, parameter } from = source::variable;
  std::uint32_t slot = 0;
  expr_type type = expr_type::number;
};

/// Resolves identifiers at compile time; returns nullopt for an unknown name.
using expr_resolver = std::function<std::optional<expr_symbol>(std::string_view name)>;

/// One comparison evaluated while testing a clause: "tpp >= tpp_a1" with both sides' values.
/// `result` is 1 (holds), 0 (fails) or NaN (unknown: a side was unknown).
struct comparison_trace {
  std::uint32_t node = 0;  ///< index into the compiled expression, for its text
  double lhs = 0;
  double rhs = 0;
  double result = 0;
};

/// Bounds on one expression, checked while it is compiled (docs/rules-format.md, "Limits").
/// Evaluation is iterative and linear in the node count, so these bound time and memory, not
/// the stack; nesting is bounded because the parser descends into parentheses.
struct expr_limits {
  std::size_t max_bytes = 64 * 1024;  ///< source text
  std::size_t max_nodes = 16 * 1024;  ///< operands and operators (`a >= 1 and b` is 5)
  int max_depth = 256;                ///< nesting of parentheses, `not` and unary `-`
};

/// A compiled rule expression over metrics and parameters.
///
/// The language has numbers (`4800`, `5.92`, `30e9`), `true`/`false`, identifiers, `+ - * /`,
/// unary `-`, comparisons `< <= > >= == !=` (not chained), `and`, `or`, `not` and parentheses;
/// nothing else (no calls, no assignment, no strings), so a rule file cannot do anything but
/// compute. Types are checked at compile time: comparisons take numbers, `and`/`or`/`not` take
/// booleans, and a clause's condition must be boolean.
///
/// Unknown values (a metric the sheet does not give, PD with no qualifying die) follow Kleene's
/// three-valued logic: a comparison with an unknown side is unknown, `false and unknown` is false,
/// `true or unknown` is true, and anything else involving unknown stays unknown. Numbers and
/// truth values are both carried as doubles: 1 true, 0 false, NaN unknown.
///
///     auto e = expr::compile("tpp >= 4800 and io_gb_s >= 600", resolver, "rule.json",
///     "$.clauses[0].when"); double v = e.evaluate(vars, params, &trace);   // 1, 0 or NaN
class expr {
 public:
  /// Parses and type-checks `text`. Throws spec_error(file, json_path, ...) naming the column
  /// and what was expected, or the unknown identifier with a suggestion.
  static expr compile(std::string_view text, const expr_resolver& resolve, const std::string& file,
                      const std::string& json_path,
                      const std::vector<std::string_view>& known_names = {},
                      const expr_limits& limits = {});

  [[nodiscard]] expr_type type() const noexcept { return type_; }
  [[nodiscard]] const std::string& text() const noexcept { return text_; }

  /// Evaluates against variable and parameter arrays. Appends every comparison evaluated (all of
  /// them: no short-circuit, so every threshold's margin is known) to `trace` when non-null.
  [[nodiscard]] double evaluate(const double* vars, const double* params,
                                std::vector<comparison_trace>* trace = nullptr) const;

  /// The source text of node `node`'s left and right operands and its operator.
  [[nodiscard]] std::string_view lhs_text(std::uint32_t node) const;
  [[nodiscard]] std::string_view rhs_text(std::uint32_t node) const;
  [[nodiscard]] std::string_view op_text(std::uint32_t node) const;

  /// True when the expression reads variable `slot`.
  [[nodiscard]] bool reads_variable(std::uint32_t slot) const;

  /// Every parameter slot the expression reads.
  [[nodiscard]] std::vector<std::uint32_t> parameters_used() const;

  /// The parameter slots the result actually rests on for these inputs: a false `and` rests on
  /// its false side only, a true `or` on its true side only; everything else on all operands.
  /// Appends to `out` (duplicates possible). Used to find the weakest evidence a verdict needs.
  /// Linear in the size of the expression: every node is evaluated once.
  void relied_parameters(const double* vars, const double* params,
                         std::vector<std::uint32_t>& out) const;

  enum class op : unsigned char {
    literal,
    variable,
    parameter,
    neg,
    not_,
    add,
    sub,
    mul,
    div,
    lt,
    le,
    gt,
    ge,
    eq,
    ne,
    and_,
    or_
  };
  struct node {
    op kind = op::literal;
    expr_type type = expr_type::number;
    std::uint32_t a = 0;
    std::uint32_t b = 0;
    std::uint32_t slot = 0;
    double value = 0;
    std::uint32_t begin = 0;  ///< source span [begin, end)
    std::uint32_t end = 0;
  };

 private:
  // Every node's value, children before parents (nodes are stored in that order).
  void eval_all(const double* vars, const double* params, std::vector<comparison_trace>* trace,
                std::vector<double>& values) const;

  std::string text_;
  std::vector<node> nodes_;
  std::uint32_t root_ = 0;
  expr_type type_ = expr_type::boolean;
};

}  // namespace chipgauge::classifier
