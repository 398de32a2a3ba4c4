// The rule expression language: a recursive-descent parser into a flat node array, a static type
// check, and a Kleene three-valued evaluator.
#include "chipgauge/classifier/expr.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "chipgauge/core/text.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace chipgauge::classifier {

namespace {

constexpr double unknown = std::numeric_limits<double>::quiet_NaN();

enum class tok : unsigned char {
  number,
  ident,
  lparen,
  rparen,
  plus,
  minus,
  star,
  slash,
  lt,
  le,
  gt,
  ge,
  eq,
  ne,
  end
};

struct token {
  tok kind = tok::end;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  double value = 0;
};

class parser {
 public:
  parser(std::string_view text, const expr_resolver& resolve, const std::string& file,
         const std::string& path, const std::vector<std::string_view>& known,
         std::vector<expr::node>& nodes, const expr_limits& limits)
      : text_(text),
        resolve_(resolve),
        file_(file),
        path_(path),
        known_(known),
        nodes_(nodes),
        limits_(limits) {
    advance();
  }

  std::uint32_t parse() {
    const auto root = parse_or();
    if (cur_.kind != tok::end)
      fail_at(cur_.begin, "expected an operator, 'and', 'or' or the end of the expression");
    return root;
  }

 private:
  [[noreturn]] void fail_at(std::uint32_t col, const std::string& what) const {
    const std::string shown = quote_input(text_, 160);
    throw spec_error(file_, path_,
                     fmt::format("in expression \"{}\" at column {}: {}", shown, col + 1, what));
  }

  void advance() {
    std::uint32_t i = pos_;
    while (i < text_.size() && std::isspace(static_cast<unsigned char>(text_[i]))) ++i;
    cur_ = token{tok::end, i, i, 0};
    if (i >= text_.size()) {
      pos_ = i;
      return;
    }
    const char c = text_[i];
    auto single = [&](tok k, std::uint32_t len) {
      cur_.kind = k;
      cur_.end = i + len;
    };
    const char next = i + 1 < text_.size() ? text_[i + 1] : '\0';
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && std::isdigit(static_cast<unsigned char>(next)))) {
      // Decimal only: digits [. digits] [e [+-] digits]; parsed with from_chars (no locale, no
      // hex).
      auto digits = [&](std::uint32_t j) {
        while (j < text_.size() && std::isdigit(static_cast<unsigned char>(text_[j]))) ++j;
        return j;
      };
      std::uint32_t j = digits(i);
      if (j < text_.size() && text_[j] == '.') j = digits(j + 1);
      if (j < text_.size() && (text_[j] == 'e' || text_[j] == 'E')) {
        std::uint32_t k = j + 1;
        if (k < text_.size() && (text_[k] == '+' || text_[k] == '-')) ++k;
        if (k >= text_.size() || !std::isdigit(static_cast<unsigned char>(text_[k])))
          fail_at(j, "malformed exponent");
        j = digits(k);
      }
      double v = 0;
      const auto res = std::from_chars(text_.data() + i, text_.data() + j, v);
      if (res.ec != std::errc() || !std::isfinite(v)) fail_at(i, "malformed number");
      cur_.kind = tok::number;
      cur_.value = v;
      cur_.end = j;
      if (cur_.end < text_.size() &&
          (std::isalnum(static_cast<unsigned char>(text_[cur_.end])) || text_[cur_.end] == '_'))
        fail_at(
            cur_.end,
            "a number must not run into a name (units belong in identifiers, not after numbers)");
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::uint32_t j = i;
      while (j < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[j])) || text_[j] == '_'))
        ++j;
      cur_.kind = tok::ident;
      cur_.end = j;
    } else if (c == '(') {
      single(tok::lparen, 1);
    } else if (c == ')') {
      single(tok::rparen, 1);
    } else if (c == '+') {
      single(tok::plus, 1);
    } else if (c == '-') {
      single(tok::minus, 1);
    } else if (c == '*') {
      single(tok::star, 1);
    } else if (c == '/') {
      single(tok::slash, 1);
    } else if (c == '<') {
      next == '=' ? single(tok::le, 2) : single(tok::lt, 1);
    } else if (c == '>') {
      next == '=' ? single(tok::ge, 2) : single(tok::gt, 1);
    } else if (c == '=' && next == '=') {
      single(tok::eq, 2);
    } else if (c == '!' && next == '=') {
      single(tok::ne, 2);
    } else if (c == '&' || c == '|' || c == '!') {
      fail_at(i, fmt::format("unsupported operator '{}': use 'and', 'or', 'not'", c));
    } else {
      fail_at(
          i, fmt::format("unexpected character '{}'", quote_input(std::string_view(&text_[i], 1))));
    }
    pos_ = cur_.end;
  }

  [[nodiscard]] std::string_view word() const {
    return text_.substr(cur_.begin, cur_.end - cur_.begin);
  }
  [[nodiscard]] bool at_word(std::string_view w) const {
    return cur_.kind == tok::ident && word() == w;
  }

  std::uint32_t add(expr::node n) {
    if (nodes_.size() >= limits_.max_nodes)
      fail_at(n.begin,
              fmt::format("the expression has more than {} operands and operators: split the rule",
                          limits_.max_nodes));
    nodes_.push_back(n);
    return static_cast<std::uint32_t>(nodes_.size() - 1);
  }

  void expect_type(std::uint32_t n, expr_type t, std::string_view role) const {
    if (nodes_[n].type == t) return;
    fail_at(nodes_[n].begin,
            fmt::format("{} must be {}, but \"{}\" is {}", role,
                        t == expr_type::number ? "a number" : "a truth value",
                        text_.substr(nodes_[n].begin, nodes_[n].end - nodes_[n].begin),
                        nodes_[n].type == expr_type::number ? "a number" : "a truth value"));
  }

  std::uint32_t binary(expr::op op, std::uint32_t a, std::uint32_t b, expr_type t) {
    expr::node n;
    n.kind = op;
    n.type = t;
    n.a = a;
    n.b = b;
    n.begin = nodes_[a].begin;
    n.end = nodes_[b].end;
    return add(n);
  }

  std::uint32_t parse_or() {
    auto lhs = parse_and();
    while (at_word("or")) {
      advance();
      const auto rhs = parse_and();
      expect_type(lhs, expr_type::boolean, "each side of 'or'");
      expect_type(rhs, expr_type::boolean, "each side of 'or'");
      lhs = binary(expr::op::or_, lhs, rhs, expr_type::boolean);
    }
    return lhs;
  }

  std::uint32_t parse_and() {
    auto lhs = parse_not();
    while (at_word("and")) {
      advance();
      const auto rhs = parse_not();
      expect_type(lhs, expr_type::boolean, "each side of 'and'");
      expect_type(rhs, expr_type::boolean, "each side of 'and'");
      lhs = binary(expr::op::and_, lhs, rhs, expr_type::boolean);
    }
    return lhs;
  }

  struct depth_guard {
    int& d;
    explicit depth_guard(int& depth) : d(depth) { ++d; }
    ~depth_guard() { --d; }
    depth_guard(const depth_guard&) = delete;
    depth_guard& operator=(const depth_guard&) = delete;
  };

  std::uint32_t parse_not() {
    const depth_guard guard(depth_);
    if (depth_ > limits_.max_depth)
      fail_at(cur_.begin,
              fmt::format("expression nested deeper than {} levels", limits_.max_depth));
    if (at_word("not")) {
      const auto begin = cur_.begin;
      advance();
      const auto operand = parse_not();
      expect_type(operand, expr_type::boolean, "the operand of 'not'");
      expr::node n;
      n.kind = expr::op::not_;
      n.type = expr_type::boolean;
      n.a = operand;
      n.begin = begin;
      n.end = nodes_[operand].end;
      return add(n);
    }
    return parse_cmp();
  }

  std::uint32_t parse_cmp() {
    const auto lhs = parse_sum();
    expr::op op{};
    switch (cur_.kind) {
      case tok::lt: op = expr::op::lt; break;
      case tok::le: op = expr::op::le; break;
      case tok::gt: op = expr::op::gt; break;
      case tok::ge: op = expr::op::ge; break;
      case tok::eq: op = expr::op::eq; break;
      case tok::ne: op = expr::op::ne; break;
      default: return lhs;
    }
    advance();
    const auto rhs = parse_sum();
    expect_type(lhs, expr_type::number, "each side of a comparison");
    expect_type(rhs, expr_type::number, "each side of a comparison");
    switch (cur_.kind) {
      case tok::lt:
      case tok::le:
      case tok::gt:
      case tok::ge:
      case tok::eq:
      case tok::ne: fail_at(cur_.begin, "comparisons do not chain: write 'a <= x and x < b'");
      default: break;
    }
    return binary(op, lhs, rhs, expr_type::boolean);
  }

  std::uint32_t parse_sum() {
    auto lhs = parse_prod();
    while (cur_.kind == tok::plus || cur_.kind == tok::minus) {
      const auto op = cur_.kind == tok::plus ? expr::op::add : expr::op::sub;
      advance();
      const auto rhs = parse_prod();
      expect_type(lhs, expr_type::number, "each side of '+' or '-'");
      expect_type(rhs, expr_type::number, "each side of '+' or '-'");
      lhs = binary(op, lhs, rhs, expr_type::number);
    }
    return lhs;
  }

  std::uint32_t parse_prod() {
    auto lhs = parse_unary();
    while (cur_.kind == tok::star || cur_.kind == tok::slash) {
      const auto op = cur_.kind == tok::star ? expr::op::mul : expr::op::div;
      advance();
      const auto rhs = parse_unary();
      expect_type(lhs, expr_type::number, "each side of '*' or '/'");
      expect_type(rhs, expr_type::number, "each side of '*' or '/'");
      lhs = binary(op, lhs, rhs, expr_type::number);
    }
    return lhs;
  }

  std::uint32_t parse_unary() {
    const depth_guard guard(depth_);
    if (depth_ > limits_.max_depth)
      fail_at(cur_.begin,
              fmt::format("expression nested deeper than {} levels", limits_.max_depth));
    if (cur_.kind == tok::minus) {
      const auto begin = cur_.begin;
      advance();
      const auto operand = parse_unary();
      expect_type(operand, expr_type::number, "the operand of unary '-'");
      expr::node n;
      n.kind = expr::op::neg;
      n.a = operand;
      n.begin = begin;
      n.end = nodes_[operand].end;
      return add(n);
    }
    return parse_primary();
  }

  std::uint32_t parse_primary() {
    expr::node n;
    n.begin = cur_.begin;
    n.end = cur_.end;
    switch (cur_.kind) {
      case tok::number:
        n.value = cur_.value;
        advance();
        return add(n);
      case tok::lparen: {
        advance();
        const auto inner = parse_or();
        if (cur_.kind != tok::rparen) fail_at(cur_.begin, "expected ')'");
        nodes_[inner].begin = n.begin;
        nodes_[inner].end = cur_.end;
        advance();
        return inner;
      }
      case tok::ident: {
        const auto name = word();
        if (name == "true" || name == "false") {
          n.type = expr_type::boolean;
          n.value = name == "true" ? 1.0 : 0.0;
          advance();
          return add(n);
        }
        if (name == "and" || name == "or" || name == "not")
          fail_at(cur_.begin, fmt::format("expected a value before '{}'", name));
        const auto sym = resolve_(name);
        if (!sym) {
          std::string hint;
          if (auto near = closest_match(name, known_); !near.empty())
            hint = fmt::format(" (did you mean '{}'?)", near);
          fail_at(cur_.begin,
                  fmt::format("unknown metric or parameter '{}'{}", quote_input(name), hint));
        }
        n.kind =
            sym->from == expr_symbol::source::variable ? expr::op::variable : expr::op::parameter;
        n.slot = sym->slot;
        n.type = sym->type;
        advance();
        return add(n);
      }
      case tok::end: fail_at(cur_.begin, "unexpected end of expression: expected a value");
      default: fail_at(cur_.begin, "expected a number, a name, 'not' or '('");
    }
  }

  std::string_view text_;
  const expr_resolver& resolve_;
  const std::string& file_;
  const std::string& path_;
  const std::vector<std::string_view>& known_;
  std::vector<expr::node>& nodes_;
  const expr_limits& limits_;
  std::uint32_t pos_ = 0;
  int depth_ = 0;
  token cur_;
};

}  // namespace

expr expr::compile(std::string_view text, const expr_resolver& resolve, const std::string& file,
                   const std::string& json_path, const std::vector<std::string_view>& known_names,
                   const expr_limits& limits) {
  if (text.size() > limits.max_bytes)
    throw spec_error(
        file, json_path,
        fmt::format("the expression is {} bytes: at most {} are allowed (split the rule)",
                    text.size(), limits.max_bytes));
  if (text.size() > std::numeric_limits<std::uint32_t>::max() / 2)
    throw spec_error(file, json_path, "the expression is too long");
  expr e;
  e.text_ = std::string(text);
  parser p(e.text_, resolve, file, json_path, known_names, e.nodes_, limits);
  e.root_ = p.parse();
  e.type_ = e.nodes_[e.root_].type;
  return e;
}

double expr::evaluate(const double* vars, const double* params,
                      std::vector<comparison_trace>* trace) const {
  std::vector<double> values;
  eval_all(vars, params, trace, values);
  return values[root_];
}

// Nodes are created children first (a parent's operands have lower indices, the left operand's
// whole subtree before the right one's), so one forward pass evaluates every node after its
// operands, and comparisons are traced in the order a left-to-right recursive walk meets them.
// The root is the last node.
void expr::eval_all(const double* vars, const double* params, std::vector<comparison_trace>* trace,
                    std::vector<double>& values) const {
  values.assign(nodes_.size(), unknown);
  for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
    const node& n = nodes_[i];
    double r = unknown;
    switch (n.kind) {
      case op::literal: r = n.value; break;
      case op::variable: r = vars[n.slot]; break;
      case op::parameter: r = params[n.slot]; break;
      case op::neg: r = -values[n.a]; break;
      case op::not_: r = std::isnan(values[n.a]) ? unknown : 1.0 - values[n.a]; break;
      case op::add: r = values[n.a] + values[n.b]; break;
      case op::sub: r = values[n.a] - values[n.b]; break;
      case op::mul: r = values[n.a] * values[n.b]; break;
      case op::div: r = values[n.b] == 0 ? unknown : values[n.a] / values[n.b]; break;
      case op::lt:
      case op::le:
      case op::gt:
      case op::ge:
      case op::eq:
      case op::ne: {
        const double a = values[n.a];
        const double b = values[n.b];
        if (!std::isnan(a) && !std::isnan(b)) {
          bool holds = false;
          switch (n.kind) {
            case op::lt: holds = a < b; break;
            case op::le: holds = a <= b; break;
            case op::gt: holds = a > b; break;
            case op::ge: holds = a >= b; break;
            case op::eq: holds = a == b; break;
            default: holds = a != b; break;
          }
          r = holds ? 1.0 : 0.0;
        }
        if (trace) trace->push_back({i, a, b, r});
        break;
      }
      case op::and_: {
        const double a = values[n.a];
        const double b = values[n.b];
        r = (a == 0 || b == 0) ? 0.0 : (a == 1 && b == 1) ? 1.0 : unknown;
        break;
      }
      case op::or_: {
        const double a = values[n.a];
        const double b = values[n.b];
        r = (a == 1 || b == 1) ? 1.0 : (a == 0 && b == 0) ? 0.0 : unknown;
        break;
      }
    }
    values[i] = r;
  }
}

void expr::relied_parameters(const double* vars, const double* params,
                             std::vector<std::uint32_t>& out) const {
  // One evaluation of every node, then one walk from the root over the operands the result
  // rests on (an explicit stack: no recursion, whatever the shape of the tree).
  std::vector<double> values;
  eval_all(vars, params, nullptr, values);
  std::vector<std::uint32_t> stack{root_};
  while (!stack.empty()) {
    const node& n = nodes_[stack.back()];
    stack.pop_back();
    switch (n.kind) {
      case op::literal:
      case op::variable: break;
      case op::parameter: out.push_back(n.slot); break;
      case op::neg:
      case op::not_: stack.push_back(n.a); break;
      case op::and_:
      case op::or_: {
        // The side that decides alone: false for 'and', true for 'or'.
        const double decisive = n.kind == op::and_ ? 0.0 : 1.0;
        if (values[n.a] == decisive) {
          stack.push_back(n.a);
        } else if (values[n.b] == decisive) {
          stack.push_back(n.b);
        } else {
          stack.push_back(n.b);
          stack.push_back(n.a);
        }
        break;
      }
      default:
        stack.push_back(n.b);
        stack.push_back(n.a);
        break;
    }
  }
}

std::string_view expr::lhs_text(std::uint32_t i) const {
  const node& a = nodes_[nodes_[i].a];
  return std::string_view(text_).substr(a.begin, a.end - a.begin);
}

std::string_view expr::rhs_text(std::uint32_t i) const {
  const node& b = nodes_[nodes_[i].b];
  return std::string_view(text_).substr(b.begin, b.end - b.begin);
}

std::string_view expr::op_text(std::uint32_t i) const {
  switch (nodes_[i].kind) {
    case op::lt: return "<";
    case op::le: return "<=";
    case op::gt: return ">";
    case op::ge: return ">=";
    case op::eq: return "==";
    case op::ne: return "!=";
    default: return "?";
  }
}

bool expr::reads_variable(std::uint32_t slot) const {
  for (const auto& n : nodes_) {
    if (n.kind == op::variable && n.slot == slot) return true;
  }
  return false;
}

std::vector<std::uint32_t> expr::parameters_used() const {
  std::vector<std::uint32_t> out;
  for (const auto& n : nodes_) {
    if (n.kind == op::parameter) out.push_back(n.slot);
  }
  return out;
}

}  // namespace chipgauge::classifier
