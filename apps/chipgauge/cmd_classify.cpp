// chipgauge classify FILE_OR_ID... [--as-of DATE] [--format text|json|md|csv] [--what-if]
#include "chipgauge/bench/classify_measured.hpp"
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/classifier/engine.hpp"
#include "chipgauge/core/error.hpp"
#include "commands.hpp"

#include <memory>
#include <vector>

using chipgauge::classifier::catalog;
using chipgauge::classifier::chip_spec;
using chipgauge::classifier::classification;
using chipgauge::classifier::classification_engine;
using chipgauge::classifier::evaluation_plan;
using chipgauge::classifier::render;

namespace chipgauge::cli {

void add_classify(CLI::App& app, const global_options& g, action& run) {
  struct options {
    std::vector<std::string> parts;
    std::string as_of;
    std::string format = "text";
    bool what_if = false;
    bool all = false;
    bool brief = false;
    std::string measured;
    std::string spec;
    std::string device;
  };
  auto o = std::make_shared<options>();
  auto* cmd = app.add_subcommand("classify", "place parts against every regime in force on a date");
  cmd->add_option("parts", o->parts, "spec-sheet paths or part ids (see 'chipgauge specs list')");
  cmd->add_flag("--all", o->all, "classify every part in the database");
  cmd->add_option("--as-of", o->as_of, "date to classify on, YYYY-MM-DD (default: today)");
  cmd->add_option("--format", o->format, "output format: text, json, md or csv")
      ->default_str("text");
  cmd->add_option(
      "--measured", o->measured,
      "classify the verified dense rates of a measurement report (chipgauge measure --out)");
  cmd->add_option(
      "--spec", o->spec,
      "with --measured: the part's sheet (path or id) for dies, memory and the declared and "
      "derived TPP");
  cmd->add_option("--device", o->device,
                  "with --measured: the device id in the report (default: the first)");
  cmd->add_flag("--brief", o->brief, "text format: the table only, without each part's verdicts");
  cmd->add_flag("--what-if", o->what_if,
                "also evaluate regimes announced but not enforced, or proposed (labelled)");
  cmd->callback([&run, &g, o] {
    run = [&g, o] {
      const auto format = parse_format(o->format);
      const auto as_of = parse_as_of(o->as_of);
      if (!o->measured.empty()) {
        if (!o->parts.empty() || o->all)
          throw usage_error(
              "--measured classifies one report: give the sheet with --spec, not as a part");
        auto cat = catalog::load(catalog::locate_specs_dir(g.specs_dir));
        const evaluation_plan plan(cat.rules(), as_of, o->what_if);
        emit(bench::render(bench::classify_measured(cat, plan, o->measured, o->spec, o->device),
                           plan, format));
        return 0;
      }
      if (!o->spec.empty() || !o->device.empty())
        throw usage_error("--spec and --device go with --measured");
      if (o->parts.empty() && !o->all)
        throw usage_error("classify needs at least one part (a path or an id), or --all");
      auto cat = catalog::load(catalog::locate_specs_dir(g.specs_dir));
      std::vector<const chip_spec*> specs;
      if (o->all) {
        for (const auto& p : cat.parts().parts()) specs.push_back(p.get());
      }
      for (const auto& a : o->parts) specs.push_back(&cat.part(a));
      const evaluation_plan plan(cat.rules(), as_of, o->what_if);
      const classification_engine engine(cat.rules());
      std::vector<classification> results;
      results.reserve(specs.size());
      for (const auto* s : specs) results.push_back(engine.classify(*s, plan));
      emit(render(results, plan, format, o->brief));
      return 0;
    };
  });
}

}  // namespace chipgauge::cli
