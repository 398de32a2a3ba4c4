// Fuzz target: a measurement report (`chipgauge.measurement/1`) as `classify --measured` loads
// it. A report that parses is written again, and the written report must parse and write to the
// same text (nothing lost or changed by a round trip); it is rendered in every format, and its
// measured TPP computed per device.
#include "fuzz_target.hpp"

#include "chipgauge/bench/measure.hpp"
#include "chipgauge/bench/report.hpp"
#include "chipgauge/classifier/metrics.hpp"
#include "chipgauge/core/error.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace {

using namespace chipgauge;

const metric_definitions& definitions() {
  static const auto defs = load_metric_definitions(fuzz::specs_dir() + "/rules/metrics.json");
  return defs;
}

}  // namespace

int fuzz_one(const std::uint8_t* data, std::size_t size) {
  const auto& defs = definitions();
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
  fuzz::check(bench::to_json(reread) == written, "a report changes when written, read and written again");
  fuzz::check(nlohmann::json::accept(bench::to_gbench_json(report)), "the Google Benchmark JSON is not valid JSON");
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
