#pragma once

#include "chipgauge/classifier/report.hpp"
#include "chipgauge/core/date.hpp"

#include <CLI/CLI.hpp>

#include <exception>
#include <functional>
#include <string>

namespace chipgauge::cli {

/// Options every command shares.
struct global_options {
  std::string specs_dir;  ///< --specs-dir; empty: $CHIPGAUGE_SPECS_DIR or the built-in path
};

/// A command's action: returns the process exit code. Output is assembled in full and written
/// only on success, so a failure never leaves partial output.
using action = std::function<int()>;

void add_classify(CLI::App& app, const global_options& g, action& run);
void add_specs(CLI::App& app, const global_options& g, action& run);
void add_rules(CLI::App& app, const global_options& g, action& run);
void add_measure(CLI::App& app, const global_options& g, action& run);
void add_license(CLI::App& app, const global_options& g, action& run);
void add_ledger(CLI::App& app, const global_options& g, action& run);
void add_fleet(CLI::App& app, const global_options& g, action& run);

/// The process's argv, recorded in measurement reports.
extern std::vector<std::string> g_argv;

/// Parses --format; throws usage_error listing the choices.
output_format parse_format(const std::string& text);
/// Parses --as-of (YYYY-MM-DD, or "today"); throws usage_error.
date parse_as_of(const std::string& text);
/// Writes `text` to stdout in one piece.
void emit(const std::string& text);
/// Writes "chipgauge: error: MESSAGE" to stderr, the message through quote_input (at most 4,096
/// bytes, control characters and bytes that are not UTF-8 escaped): the one place every error
/// reaches the terminal, whatever input it quotes.
void print_error(const std::exception& e);

}  // namespace chipgauge::cli
