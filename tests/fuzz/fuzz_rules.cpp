// Fuzz target: a rule file (`chipgauge.rule/1`) as `rules validate FILE` loads it, added to the
// bundled metric definitions; a file that loads classifies bundled parts of every kind on several
// dates (in force and what-if) and renders text and JSON.
#include "fuzz_target.hpp"

#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/classifier/engine.hpp"
#include "chipgauge/classifier/report.hpp"
#include "chipgauge/core/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

using chipgauge::classifier::catalog;
using chipgauge::classifier::chip_spec;
using chipgauge::classifier::classification;
using chipgauge::classifier::classification_engine;
using chipgauge::classifier::evaluation_plan;
using chipgauge::classifier::output_format;
using chipgauge::classifier::part_kind;
using chipgauge::classifier::render;
using chipgauge::classifier::rule_set;

namespace {

using namespace chipgauge;

struct fixture {
  rule_set definitions;
  catalog cat;
  std::vector<const chip_spec*> parts;  // one bundled part of each kind
};

const fixture& bundled() {
  static const fixture f = [] {
    fixture x{rule_set::load_definitions(fuzz::specs_dir() + "/rules"),
              catalog::load(fuzz::specs_dir()),
              {}};
    std::vector<part_kind> seen;
    for (const auto& p : x.cat.parts().parts()) {
      if (std::find(seen.begin(), seen.end(), p->kind) != seen.end()) continue;
      seen.push_back(p->kind);
      x.parts.push_back(p.get());
    }
    return x;
  }();
  return f;
}

}  // namespace

int fuzz_one(const std::uint8_t* data, std::size_t size) {
  const auto& fx = bundled();
  const auto path = fuzz::write_scratch("fuzz-rule.json", fuzz::as_text(data, size));
  rule_set rules = fx.definitions;
  try {
    rules.add_regime_file(path);
  } catch (const error& e) {
    fuzz::rejected(e);
    return 0;  // rejected: what bad input must get
  }
  const classification_engine engine(rules);
  for (const auto* day : {"2022-01-01", "2024-06-01", "2026-03-01"}) {
    const evaluation_plan plan(rules, *date::parse(day), true);
    std::vector<classification> cs;
    for (const auto* p : fx.parts) cs.push_back(engine.classify(*p, plan));
    (void)render(cs, plan, output_format::text);
    (void)render(cs, plan, output_format::csv);
    fuzz::check(nlohmann::json::accept(render(cs, plan, output_format::json)),
                "the JSON rendering is not valid JSON");
  }
  return 0;
}
