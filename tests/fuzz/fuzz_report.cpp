// Fuzz target: a measurement report (`chipgauge.measurement/1`) as `classify --measured` loads
// it. A report that parses is written again, and the written report must parse and write to the
// same text (nothing lost or changed by a round trip); it is rendered in every format and export,
// compared with itself, and its measured TPP computed per device. The same input is also read as
// Google Benchmark JSON; what parses is exported and compared the same way.
#include "fuzz_target.hpp"

#include "chipgauge/bench/compare.hpp"
#include "chipgauge/bench/exports.hpp"
#include "chipgauge/bench/gbench.hpp"
#include "chipgauge/bench/measure.hpp"
#include "chipgauge/bench/report.hpp"
#include "chipgauge/classifier/metrics.hpp"
#include "chipgauge/core/error.hpp"

#include <nlohmann/json.hpp>

#include <string>

using chipgauge::classifier::load_metric_definitions;
using chipgauge::classifier::metric_definitions;

namespace {

using namespace chipgauge;

const metric_definitions& definitions() {
  static const auto defs = load_metric_definitions(fuzz::specs_dir() + "/rules/metrics.json");
  return defs;
}

// Every export is valid JSON, and a comparison of the report with itself renders and finds nothing
// slower.
void exports_and_self_comparison(const bench::measurement_report& report) {
  fuzz::check(nlohmann::json::accept(bench::to_gbench_json(report)),
              "the Google Benchmark JSON is not valid JSON");
  fuzz::check(nlohmann::json::accept(bench::to_bencher_json(report)),
              "the Bencher Metric Format is not valid JSON");
  fuzz::check(nlohmann::json::accept(bench::to_github_action_benchmark_json(report)),
              "the github-action-benchmark JSON is not valid JSON");
  const auto c = bench::compare_reports(report, report, bench::compare_settings{});
  fuzz::check(c.count(bench::verdict::slower) == 0, "a report compared with itself is slower");
  fuzz::check(nlohmann::json::accept(bench::comparison_to_json(c)),
              "the comparison JSON is not valid JSON");
  (void)bench::comparison_to_text(c);
  (void)bench::comparison_to_csv(c);
}

}  // namespace

int fuzz_one(const std::uint8_t* data, std::size_t size) {
  const auto& defs = definitions();
  try {
    exports_and_self_comparison(
        bench::parse_gbench_json(fuzz::as_text(data, size), "fuzz-gbench.json"));
  } catch (const error& e) {
    fuzz::rejected(e);
  }
  bench::measurement_report report;
  try {
    report = bench::parse_report(fuzz::as_text(data, size), "fuzz-report.json");
  } catch (const error& e) {
    fuzz::rejected(e);
    return 0;  // rejected: what bad input must get
  }
  const auto written = bench::to_json(report);
  bench::measurement_report reread;
  try {
    reread = bench::parse_report(written, "rewritten.json");
  } catch (const error& e) {
    fuzz::check(false, std::string("a written report does not parse again: ") + e.what());
  }
  fuzz::check(bench::to_json(reread) == written,
              "a report changes when written, read and written again");
  exports_and_self_comparison(report);
  (void)bench::to_csv(report);
  (void)bench::to_markdown(report);
  (void)bench::to_text(report);
  (void)bench::tpp_summary(report, defs);
  for (const auto& d : report.devices) {
    try {
      (void)bench::measured_from(report, "fuzz-report.json", d.id, defs);
    } catch (const error&) {
      // No usable compute result for this device: refused, as it must be.
    }
  }
  return 0;
}
