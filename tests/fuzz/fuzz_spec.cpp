// Fuzz target: a spec sheet as `specs validate` and `classify SHEET` take it. The input is
// parsed, resolved against the bundled parts that sheets use as components, validated
// (computed against declared TPP, the declared ECCN), classified on several dates (in force,
// what-if, every regime) and rendered in every output format; the JSON output must parse.
#include "fuzz_target.hpp"

#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/classifier/database.hpp"
#include "chipgauge/classifier/engine.hpp"
#include "chipgauge/classifier/report.hpp"
#include "chipgauge/core/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

using chipgauge::classifier::catalog;
using chipgauge::classifier::classification;
using chipgauge::classifier::classification_engine;
using chipgauge::classifier::classification_notes;
using chipgauge::classifier::declared_eccn_mismatch;
using chipgauge::classifier::evaluation_plan;
using chipgauge::classifier::output_format;
using chipgauge::classifier::parse_spec;
using chipgauge::classifier::render;
using chipgauge::classifier::rule_set;
using chipgauge::classifier::spec_database;
using chipgauge::classifier::verdict_reason;

namespace {

using namespace chipgauge;

struct fixture {
  rule_set rules;
  std::string components_dir;          // the bundled sheets other sheets name as components
  std::vector<evaluation_plan> plans;  // in force and what-if on two dates, every regime on a third
};

const fixture& bundled() {
  static fixture f = [] {
    namespace fs = std::filesystem;
    auto cat = catalog::load(fuzz::specs_dir());
    fixture x{cat.rules(), fuzz::scratch_dir() + "/components", {}};
    fs::create_directories(x.components_dir);
    std::vector<std::string> ids;
    for (const auto& p : cat.parts().parts()) {
      for (const auto& c : p->contains) {
        if (!c.inline_spec && std::find(ids.begin(), ids.end(), c.id) == ids.end())
          ids.push_back(c.id);
      }
    }
    for (const auto& id : ids) {
      const auto* part = cat.parts().find(id);
      fs::create_symlink(fs::absolute(part->file), fs::path(x.components_dir) / (id + ".json"));
    }
    return x;
  }();
  if (f.plans.empty()) {
    for (const auto* day : {"2023-06-01", "2025-06-01"}) {
      for (const bool what_if : {false, true})
        f.plans.emplace_back(f.rules, *date::parse(day), what_if);
    }
    f.plans.push_back(evaluation_plan::every_regime(f.rules, *date::parse("2026-03-01")));
  }
  return f;
}

void check_json(const std::string& text, const char* what) {
  fuzz::check(nlohmann::json::accept(text), std::string(what) + " is not valid JSON");
}

}  // namespace

int fuzz_one(const std::uint8_t* data, std::size_t size) {
  const auto& fx = bundled();
  const auto& defs = fx.rules.definitions();
  try {
    auto sheet = parse_spec(fuzz::as_text(data, size), "fuzz.json");
    auto db = spec_database::load(fx.components_dir, defs);
    const auto& part = db.add_external(std::move(sheet), defs);
    (void)declared_eccn_mismatch(part, fx.rules);
    const classification_engine engine(fx.rules);
    for (const auto& plan : fx.plans) {
      const std::vector<classification> cs{engine.classify(part, plan)};
      for (const auto format : {output_format::text, output_format::md, output_format::csv})
        (void)render(cs, plan, format);
      (void)render(cs, plan, output_format::text, true);
      check_json(render(cs, plan, output_format::json), "the JSON rendering");
      check_json(to_json(cs.front(), plan), "to_json");
      for (const auto& v : cs.front().verdicts) (void)verdict_reason(v);
      (void)classification_notes(cs.front());
    }
  } catch (const error& e) {
    fuzz::rejected(e);
    // Rejected with a chipgauge error: what bad input must get.
  }
  return 0;
}
