// chipgauge: the command line. Every command is parsed here and run by its cmd_*.cpp; exit codes
// are chipgauge::exit_code (0 ok, 1 runtime error, 2 usage or bad input, 3 unverified,
// 4 regression; docs/architecture.md#exit-codes).
#include "commands.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/core/version.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  using chipgauge::exit_code;
  CLI::App app{"chipgauge: measure accelerators and place them against US export-control regimes",
               "chipgauge"};
  app.set_version_flag(
      "--version", fmt::format("chipgauge {} ({})", chipgauge::tool_version, chipgauge::git_sha));
  app.require_subcommand(1);
  chipgauge::cli::global_options g;
  g.argv.assign(argv, argv + argc);
  app.add_option(
      "--specs-dir", g.specs_dir,
      "data directory with rules/ and chips/ (default: $CHIPGAUGE_SPECS_DIR or the bundled "
      "specs/)");

  chipgauge::cli::action run;
  chipgauge::cli::add_classify(app, g, run);
  chipgauge::cli::add_specs(app, g, run);
  chipgauge::cli::add_rules(app, g, run);
  chipgauge::cli::add_measure(app, g, run);
  chipgauge::cli::add_license(app, g, run);
  chipgauge::cli::add_ledger(app, g, run);
  chipgauge::cli::add_fleet(app, g, run);
  chipgauge::cli::add_certificate(app, g, run);
  chipgauge::cli::add_compare(app, g, run);
  chipgauge::cli::add_report(app, g, run);
  chipgauge::cli::add_history(app, g, run);
  chipgauge::cli::add_certificate_show(*app.get_subcommand("certificate"), g, run);
  chipgauge::cli::add_certify(app, g, run);
  chipgauge::cli::add_serve(app, g, run);
  chipgauge::cli::add_dashboard(app, g, run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return static_cast<int>(exit_code::usage_error);
  }

  try {
    return run ? run() : static_cast<int>(exit_code::usage_error);
  } catch (const chipgauge::spec_error& e) {
    chipgauge::cli::print_error(e);
    return static_cast<int>(exit_code::usage_error);
  } catch (const chipgauge::usage_error& e) {
    chipgauge::cli::print_error(e);
    return static_cast<int>(exit_code::usage_error);
  } catch (const std::exception& e) {
    chipgauge::cli::print_error(e);
    return static_cast<int>(exit_code::runtime_error);
  }
}
