// chipgauge compare BASE NEW [--format text|json|md|csv] [--min-effect P%|NAME=P%]... [--alpha A]
//                   [--clock-tolerance P%] [--clock-explained-ok]
// chipgauge report FILE [--format text|json|md|csv|gbench|bencher|github-action-benchmark]
#include "chipgauge/bench/compare.hpp"
#include "chipgauge/bench/exports.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/text.hpp"
#include "chipgauge/history/query.hpp"
#include "chipgauge/history/store.hpp"
#include "commands.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

namespace chipgauge::cli {

namespace {

// One side of a comparison: a chipgauge measurement report or Google Benchmark JSON, told apart by
// content, or a history selector (`history:device=...,last=20`) resolved against the store at
// `history_path` (empty: $CHIPGAUGE_HISTORY or the default), which must exist: a comparison never
// creates one.
bench::measurement_report resolve_side(const std::string& spec, const std::string& history_path) {
  if (history::is_selector(spec)) {
    const auto sel = history::parse_selector(spec);
    history::open_options o;
    o.create = false;
    auto store = history::store::open(history::locate_store(history_path), o);
    auto report = history::select_as_report(store, sel);
    if (report.results.empty())
      throw usage_error(
          fmt::format("'{}' selects no verified result in the history store", quote_input(spec)));
    return report;
  }
  return bench::load_any_report(spec);
}

}  // namespace

void add_compare(CLI::App& app, const global_options& /*g*/, action& run) {
  struct options {
    std::string base;
    std::string current;
    std::string format = "text";
    std::vector<std::string> min_effect;
    double alpha = 0.05;
    std::string clock_tolerance = "2%";
    bool clock_explained_ok = false;
    std::string history;
  };
  auto o = std::make_shared<options>();
  auto* cmd = app.add_subcommand(
      "compare",
      "compare two measurements benchmark by benchmark: same, faster, slower or unknown");
  cmd->add_option(
         "BASE", o->base,
         "the baseline: a measurement report, Google Benchmark JSON, or a history selector "
         "(history:device=SUBSTR,benchmark=NAME,since=DATE,until=DATE,last=N)")
      ->required();
  cmd->add_option(
         "NEW", o->current,
         "the run to judge: a measurement report, Google Benchmark JSON or a history selector")
      ->required();
  cmd->add_option("--history", o->history,
                  "the history store for history: selectors (default: $CHIPGAUGE_HISTORY, else "
                  "$XDG_DATA_HOME/chipgauge/history.db)");
  cmd->add_option("--format", o->format, "text (default), json, md or csv");
  cmd->add_option(
      "--min-effect", o->min_effect,
      "smallest change that matters: P% for all benchmarks (default 2%), NAME=P% for one; "
      "repeatable");
  cmd->add_option("--alpha", o->alpha, "significance level of 'faster'/'slower' (default 0.05)");
  cmd->add_option(
      "--clock-tolerance", o->clock_tolerance,
      "median clocks differing by more than this compare per-clock rates too (default 2%)");
  cmd->add_flag(
      "--clock-explained-ok", o->clock_explained_ok,
      "a slowdown the clock explains (per-clock rate the same) does not fail the comparison");
  cmd->callback([&run, o] {
    run = [o] {
      parse_choice("--format", o->format, {"text", "json", "md", "csv"});
      bench::compare_settings s;
      bench::set_alpha(s, "--alpha", o->alpha);
      bench::set_clock_tolerance(s, "--clock-tolerance", o->clock_tolerance);
      s.clock_explained_ok = o->clock_explained_ok;
      for (const auto& m : o->min_effect) bench::set_min_effect(s, "--min-effect", m);
      const auto base = resolve_side(o->base, o->history);
      const auto current = resolve_side(o->current, o->history);
      const auto c = bench::compare_reports(base, current, s, o->base, o->current);
      std::string text;
      if (o->format == "json") text = bench::comparison_to_json(c);
      else if (o->format == "md") text = bench::comparison_to_markdown(c);
      else if (o->format == "csv") text = bench::comparison_to_csv(c);
      else text = bench::comparison_to_text(c);
      emit(text);
      return c.regressions() > 0 ? static_cast<int>(exit_code::regression) : 0;
    };
  });
}

void add_report(CLI::App& app, const global_options& /*g*/, action& run) {
  struct options {
    std::string file;
    std::string format = "text";
  };
  auto o = std::make_shared<options>();
  auto* cmd = app.add_subcommand(
      "report", "render a measurement report (or Google Benchmark JSON) in another format");
  cmd->add_option("FILE", o->file, "a measurement report or Google Benchmark JSON")->required();
  cmd->add_option("--format", o->format,
                  "text (default), json, md, csv, gbench, bencher or github-action-benchmark");
  cmd->callback([&run, o] {
    run = [o] {
      parse_choice("--format", o->format,
                   {"text", "json", "md", "csv", "gbench", "bencher", "github-action-benchmark"});
      const auto r = bench::load_any_report(o->file);
      std::string text;
      if (o->format == "json") text = bench::to_json(r);
      else if (o->format == "md") text = bench::to_markdown(r);
      else if (o->format == "csv") text = bench::to_csv(r);
      else if (o->format == "gbench") text = bench::to_gbench_json(r);
      else if (o->format == "bencher") text = bench::to_bencher_json(r);
      else if (o->format == "github-action-benchmark")
        text = bench::to_github_action_benchmark_json(r);
      else text = bench::to_text(r);
      emit(text);
      return 0;
    };
  });
}

}  // namespace chipgauge::cli
