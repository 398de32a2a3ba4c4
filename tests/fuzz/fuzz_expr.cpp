// Fuzz target: the rule expression language. The input is an expression's text, compiled
// against the metric variables and the bundled rules' parameter names, then evaluated (with and
// without a trace) on unknown, zero and typical inputs, with the relied-on analysis.
#include "fuzz_target.hpp"

#include "chipgauge/classifier/expr.hpp"
#include "chipgauge/classifier/rules.hpp"
#include "chipgauge/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using chipgauge::classifier::comparison_trace;
using chipgauge::classifier::expr;
using chipgauge::classifier::expr_symbol;
using chipgauge::classifier::expr_type;
using chipgauge::classifier::metric_var_count;
using chipgauge::classifier::metric_vars;
using chipgauge::classifier::rule_set;

namespace {

using namespace chipgauge;

struct language {
  std::vector<std::string> parameters;  // slot order
  std::vector<std::string> known;       // every name, for suggestions
  std::vector<std::string_view> known_views;
  std::size_t variable_count = metric_var_count + 1;  // the metrics and one contains_ flag
};

const language& names() {
  static const language lang = [] {
    language l;
    const auto rules = rule_set::load(fuzz::specs_dir() + "/rules");
    for (const auto& r : rules.regimes()) {
      for (const auto& p : r.parameters) {
        if (std::find(l.parameters.begin(), l.parameters.end(), p.name) == l.parameters.end())
          l.parameters.push_back(p.name);
      }
    }
    for (const auto& v : metric_vars()) l.known.emplace_back(v.name);
    l.known.emplace_back("contains_3a090");
    l.known.insert(l.known.end(), l.parameters.begin(), l.parameters.end());
    for (const auto& k : l.known) l.known_views.push_back(k);
    return l;
  }();
  return lang;
}

std::optional<expr_symbol> resolve(std::string_view name) {
  const auto& vars = metric_vars();
  for (std::size_t i = 0; i < vars.size(); ++i) {
    if (vars[i].name == name)
      return expr_symbol{expr_symbol::source::variable, static_cast<std::uint32_t>(i),
                         vars[i].type};
  }
  if (name == "contains_3a090")
    return expr_symbol{expr_symbol::source::variable, static_cast<std::uint32_t>(metric_var_count),
                       expr_type::boolean};
  const auto& params = names().parameters;
  const auto it = std::find(params.begin(), params.end(), name);
  if (it != params.end())
    return expr_symbol{expr_symbol::source::parameter,
                       static_cast<std::uint32_t>(it - params.begin()), expr_type::number};
  return std::nullopt;
}

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

}  // namespace

int fuzz_one(const std::uint8_t* data, std::size_t size) {
  const auto& lang = names();
  const auto text = fuzz::as_text(data, size);
  std::optional<expr> e;
  try {
    e = expr::compile(text, resolve, "fuzz.json", "$.clauses[0].when", lang.known_views);
  } catch (const spec_error& err) {
    fuzz::rejected(err);
    fuzz::check(err.file() == "fuzz.json" && err.json_path().rfind("$.clauses[0].when", 0) == 0,
                "a compile error that does not name the file and JSON path");
    return 0;
  }
  const std::size_t nparams = lang.parameters.size();
  const double unknown = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::vector<double>> var_sets{std::vector<double>(lang.variable_count, unknown),
                                            std::vector<double>(lang.variable_count, 0.0),
                                            std::vector<double>(lang.variable_count, 1.0)};
  // Typical values: a large TPP and bandwidths, truth values true.
  for (std::size_t i = 0; i < metric_var_count; ++i)
    var_sets[2][i] =
        metric_vars()[i].type == expr_type::boolean ? 1.0 : 4800.5 * static_cast<double>(i + 1);
  std::vector<double> params(std::max<std::size_t>(nparams, 1));
  for (std::size_t i = 0; i < params.size(); ++i) params[i] = 100.0 * static_cast<double>(i + 1);

  for (const auto& vars : var_sets) {
    std::vector<comparison_trace> trace;
    const double traced = e->evaluate(vars.data(), params.data(), &trace);
    const double plain = e->evaluate(vars.data(), params.data());
    fuzz::check(same(traced, plain), "evaluate gives another value with a trace");
    if (e->type() == expr_type::boolean)
      fuzz::check(std::isnan(traced) || traced == 0.0 || traced == 1.0,
                  "a truth value other than 0, 1 or unknown");
    for (const auto& t : trace) {
      fuzz::check(std::isnan(t.result) || t.result == 0.0 || t.result == 1.0,
                  "a comparison result other than 0, 1 or unknown");
      const auto lhs = e->lhs_text(t.node);
      const auto rhs = e->rhs_text(t.node);
      const auto op = e->op_text(t.node);
      fuzz::check(!op.empty(), "a traced comparison without operator text");
      // The texts are views into the expression's own text.
      const auto& src = e->text();
      for (const auto part : {lhs, rhs}) {
        fuzz::check(part.empty() || (part.data() >= src.data() &&
                                     part.data() + part.size() <= src.data() + src.size()),
                    "an operand text outside the expression");
      }
    }
    std::vector<std::uint32_t> relied;
    e->relied_parameters(vars.data(), params.data(), relied);
    const auto used = e->parameters_used();
    for (const auto slot : relied) {
      fuzz::check(slot < nparams, "a relied-on parameter slot out of range");
      fuzz::check(std::find(used.begin(), used.end(), slot) != used.end(),
                  "a relied-on parameter the expression does not read");
    }
  }
  for (std::uint32_t slot = 0; slot < lang.variable_count; ++slot) (void)e->reads_variable(slot);
  return 0;
}
