// chipgauge measure [--backend cpu|cuda|auto] [--quick|--full] [--filter REGEX] [--device ID]...
// [--out FILE]
//                   [--format text|json|md|csv|gbench]
#include "chipgauge/bench/measure.hpp"
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"
#include "chipgauge/core/text.hpp"
#include "commands.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>

using chipgauge::classifier::catalog;
using chipgauge::classifier::rule_set;

namespace chipgauge::cli {

namespace {

// Fails early, before minutes of measurement, when --out cannot be written.
void check_writable(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  if (fs::is_directory(p))
    throw usage_error(fmt::format("--out {} is a directory: expected a file path", path));
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::string probe = (dir / ".chipgauge-write-test-XXXXXX").string();
  const int fd = ::mkstemp(probe.data());
  if (fd < 0)
    throw usage_error(fmt::format("cannot write --out {}: {}", path, std::strerror(errno)));
  ::close(fd);
  ::unlink(probe.c_str());
}

// The TPP lines of the text output; the bit lengths come from the rules, and a rules directory
// that does not load costs only these lines, never the measurement.
std::string tpp_lines(const bench::measurement_report& report, const std::string& specs_dir) {
  try {
    // Only the bit lengths are needed: metrics.json, not the regimes or the parts database.
    return bench::tpp_summary(
        report, rule_set::load_definitions((std::filesystem::path(specs_dir) / "rules").string())
                    .definitions());
  } catch (const error& e) {
    return fmt::format("TPP not computed: {}\n", e.what());
  }
}

}  // namespace

void add_measure(CLI::App& app, const global_options& g, action& run) {
  struct options {
    std::string backend = "auto";
    bool quick = false;
    bool full = false;
    std::string filter;
    std::vector<std::string> devices;
    std::string out;
    std::string format = "text";
    std::string history;
  };
  auto o = std::make_shared<options>();
  auto* cmd =
      app.add_subcommand("measure", "run the verified microbenchmarks on this machine's devices");
  cmd->add_option("--backend", o->backend,
                  "cpu, cuda, or auto (CUDA when a GPU is present, else CPU)");
  auto* quick = cmd->add_flag("--quick", o->quick, "quick mode (default): about a minute");
  cmd->add_flag("--full", o->full, "full mode: tighter noise target, longer runs")->excludes(quick);
  cmd->add_option("--filter", o->filter,
                  "regular expression selecting benchmarks by name (e.g. 'fma|triad')");
  cmd->add_option("--device", o->devices,
                  "measure only these devices: an id (cuda:1, cpu0) or an index; repeatable")
      ->delimiter(',');
  cmd->add_option("--out", o->out, "write the JSON report to this file (atomically)");
  cmd->add_option("--format", o->format,
                  "stdout format: text, json, md, csv or gbench (Google Benchmark JSON)");
  auto* history = add_recording_history_option(*cmd, o->history, "the report");
  cmd->callback([&run, &g, o, history] {
    const bool record = recording_history(*history);
    run = [&g, o, record] {
      parse_choice("--format", o->format, {"text", "json", "md", "csv", "gbench"});
      if (!o->out.empty()) check_writable(o->out);
      if (record) check_history(o->history);
      bench::measure_options mo;
      mo.backend = o->backend;
      mo.mode = o->full ? bench::run_mode::full : bench::run_mode::quick;
      mo.filter = o->filter;
      mo.devices = o->devices;
      mo.argv = g.argv;
      mo.specs_dir = catalog::locate_specs_dir(g.specs_dir);
      // Progress on a terminal only; never mixed into data on stdout.
      if (::isatty(STDERR_FILENO)) {
        mo.log = [](const std::string& line) {
          if (line.size() >= 9 && line.compare(line.size() - 9, 9, ": running") == 0) {
            std::cerr << "\r\033[K" << line << std::flush;
          } else {
            std::cerr << "\r\033[K" << line << "\n";
          }
        };
        mo.progress = [](const std::string& name, double f) {
          std::cerr << "\r\033[K  " << name << " " << static_cast<int>(100 * f) << " %"
                    << std::flush;
        };
      }
      mo.notice = [](const std::string& line) { std::cerr << "chipgauge: " << line << "\n"; };
      const auto report = bench::measure(mo);
      try {
        // The report first: nothing below may lose what was measured.
        if (!o->out.empty() || record) {
          const std::string report_json = bench::to_json(report);
          if (!o->out.empty()) write_file_atomically(o->out, report_json);
          if (record)
            record_in_history(o->history, report_json, report, o->out.empty() ? "measure" : o->out);
        }
        std::string text;
        if (o->format == "json") text = bench::to_json(report);
        else if (o->format == "md") text = bench::to_markdown(report);
        else if (o->format == "csv") text = bench::to_csv(report);
        else if (o->format == "gbench") text = bench::to_gbench_json(report);
        else text = bench::to_text(report) + "\n" + tpp_lines(report, mo.specs_dir);
        emit(text);
      } catch (const std::exception& e) {
        if (report.hung_device.empty()) throw;
        print_error(e);  // and still no normal exit (below)
      }
      if (!report.hung_device.empty()) {
        // The device runtime's teardown would wait forever on the hung work: the report is
        // written and printed, so end here, with the failure status.
        std::cerr << "chipgauge: " << report.hung_device
                  << " hung; the benchmarks after it were not run\n"
                  << std::flush;
        std::_Exit(static_cast<int>(exit_code::runtime_error));
      }
      const auto outcome = bench::outcome_of(report);
      if (outcome == bench::measurement_outcome::unverified)
        return static_cast<int>(exit_code::unverified);
      if (outcome == bench::measurement_outcome::nothing_measured) {
        std::cerr << "chipgauge: nothing was measured: every selected benchmark was skipped (each "
                     "reason is in the results)\n";
        return static_cast<int>(exit_code::runtime_error);
      }
      return 0;
    };
  });
}

}  // namespace chipgauge::cli
