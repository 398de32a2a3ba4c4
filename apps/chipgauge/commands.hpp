#pragma once

#include "chipgauge/classifier/licensing.hpp"
#include "chipgauge/classifier/report.hpp"
#include "chipgauge/core/date.hpp"

#include <CLI/CLI.hpp>

#include <exception>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::bench {
struct measurement_report;
}

namespace chipgauge::cli {

/// Options every command shares.
struct global_options {
  std::string specs_dir;          ///< --specs-dir; empty: $CHIPGAUGE_SPECS_DIR or the built-in path
  std::vector<std::string> argv;  ///< the process's argv, recorded in measurement reports
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
void add_certificate(CLI::App& app, const global_options& g, action& run);
void add_compare(CLI::App& app, const global_options& g, action& run);
void add_report(CLI::App& app, const global_options& g, action& run);
void add_history(CLI::App& app, const global_options& g, action& run);
/// Adds `--history [FILE]` to a command that records as it runs (measure, certify): "also record
/// `what` in this history store", FILE optional ($CHIPGAUGE_HISTORY or the default without it).
CLI::Option* add_recording_history_option(CLI::App& cmd, std::string& path, std::string_view what);
/// Whether such a command records: `--history` was given, or CHIPGAUGE_HISTORY is set and not
/// empty. Read when the command line is parsed.
bool recording_history(const CLI::Option& history);
/// Opens (creating or migrating) the history store a command will record in, so that a store it
/// cannot use fails before the work; throws as history::store::open does.
void check_history(const std::string& explicit_path);
/// Records `report` (serialised as `report_json`, whose SHA-256 keys the run) in the history store
/// at `explicit_path` (empty: $CHIPGAUGE_HISTORY or the default), naming it `name`.
void record_in_history(const std::string& explicit_path, const std::string& report_json,
                       const bench::measurement_report& report, const std::string& name);
/// Records a sealed certificate (its file text `certificate_text`, whose SHA-256 keys the run) in
/// the history store at `explicit_path` as `history ingest` would, verified with `trusted_key`.
void record_certificate_in_history(const std::string& explicit_path,
                                   const std::string& certificate_text, const std::string& name,
                                   const std::optional<std::string>& trusted_key);
/// `certificate show`, registered on the `certificate` subcommand add_certificate made.
void add_certificate_show(CLI::App& certificate_cmd, const global_options& g, action& run);
void add_certify(CLI::App& app, const global_options& g, action& run);
void add_serve(CLI::App& app, const global_options& g, action& run);
void add_dashboard(CLI::App& app, const global_options& g, action& run);

/// The index of `value` in `choices`; throws usage_error "unknown OPTION 'VALUE': expected a, b or
/// c".
std::size_t parse_choice(std::string_view option, const std::string& value,
                         std::initializer_list<std::string_view> choices);
/// Parses --format; throws usage_error listing the choices.
classifier::output_format parse_format(const std::string& text);
/// Parses a --format that takes text or json only; throws usage_error listing the choices.
classifier::output_format parse_text_or_json(const std::string& text);
/// Parses a date option (YYYY-MM-DD, or "today" or empty for today); throws usage_error naming
/// `option` with `example`.
date parse_date_option(std::string_view option, const std::string& text, std::string_view example);
/// Parses --as-of (YYYY-MM-DD, or "today"); throws usage_error.
date parse_as_of(const std::string& text);
/// A date option of the licensing commands: also refused before the first rule the data holds.
date license_date(const std::string& text, const classifier::licensing_engine& engine,
                  std::string_view option = "--as-of");
/// Refuses a quantity above max_plausible_quantity and, with `at_least_one`, below 1 (usage_error).
void check_quantity(std::string_view option, long long value, bool at_least_one);
/// Writes `text` to stdout in one piece.
void emit(const std::string& text);
/// Writes "chipgauge: error: MESSAGE" to stderr, the message through quote_input (at most 4,096
/// bytes, control characters and bytes that are not UTF-8 escaped): the one place every error
/// reaches the terminal, whatever input it quotes.
void print_error(const std::exception& e);

}  // namespace chipgauge::cli
