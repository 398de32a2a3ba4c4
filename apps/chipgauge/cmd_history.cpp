// chipgauge history ingest FILE... | list | show RUN_ID | export | prune   [--history FILE]
// The benchmark history store (docs/history.md).
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"
#include "chipgauge/core/text.hpp"
#include "chipgauge/history/ingest.hpp"
#include "chipgauge/history/query.hpp"
#include "commands.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>

namespace chipgauge::cli {

namespace {

using json = nlohmann::ordered_json;

constexpr const char* history_help =
    "the history store: a SQLite file or a postgresql:// URL (default: $CHIPGAUGE_HISTORY, else "
    "$XDG_DATA_HOME/chipgauge/history.db)";

struct filters {
  std::string history;
  std::string device;
  std::string benchmark;
  std::string since;
  std::string until;
  int last = 0;
  std::string format;
  std::string out;
};

void add_filters(CLI::App* cmd, filters& f, bool with_last) {
  cmd->add_option("--device", f.device,
                  "devices whose name or identity contains this (case-insensitive)");
  cmd->add_option("--benchmark", f.benchmark, "this benchmark only (exact name)");
  cmd->add_option("--since", f.since,
                  "runs created on or after this date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)");
  cmd->add_option("--until", f.until, "runs created on or before this date (the whole day)");
  if (with_last)
    cmd->add_option("--last", f.last, "per device x benchmark, only the N most recent runs");
}

history::selector selector_of(const filters& f) {
  history::selector sel;
  sel.device = f.device;
  sel.benchmark = f.benchmark;
  if (!f.since.empty()) sel.since = history::parse_time_bound("--since", f.since, false);
  if (!f.until.empty()) sel.until = history::parse_time_bound("--until", f.until, true);
  if (sel.since && sel.until && *sel.since >= *sel.until)
    throw usage_error("--since is not before --until");
  if (f.last < 0 || f.last > 1000000)
    throw usage_error(fmt::format(
        "--last {} is not a count: expected a whole number from 1 to 1,000,000", f.last));
  if (f.last > 0) sel.last = f.last;
  return sel;
}

history::store open_store(const std::string& explicit_path, bool create) {
  history::open_options o;
  o.create = create;
  return history::store::open(history::locate_store(explicit_path), o);
}

std::string rate_text(double v, const std::string& metric) {
  return fmt::format("{:.3f} {}", v / 1e9, metric == "bytes_per_s" ? "GB/s" : "Gop/s");
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

// "; certificate verified" and the like for a certificate run; empty for other kinds.
std::string integrity_note(const history::ingest_outcome& r) {
  if (r.integrity.empty()) return {};
  std::string note = "; certificate " + r.integrity;
  if (r.integrity == "unsigned") note += " (intact, no signature: not shown as verified)";
  if (r.integrity == "unauthenticated")
    note += " (validly signed, no --pubkey: signer unknown, not shown as verified)";
  if (r.integrity == "failed") {
    note += " (stored, its results unverified)";
    for (const auto& f : r.findings) note += "; " + f;
  }
  return note;
}

int ingest(const std::string& path, const std::vector<std::string>& files,
           const std::string& pubkey, unsigned jobs) {
  auto store = open_store(path, true);
  history::ingest_files_options options;
  if (!pubkey.empty()) options.ingest.trusted_key = pubkey;
  options.jobs = jobs;
  options.lookup_path = history::locate_store(path);
  int status = 0;
  // A line per file once its batch is committed (a failed commit stored none); errors at once.
  history::ingest_files(
      store, files, options,
      [&](std::size_t i, const history::ingest_outcome& r) {
        emit(r.already_present ? fmt::format("{}: already present (run {}, {} results){}\n",
                                             files[i], r.run_id, r.results, integrity_note(r))
                               : fmt::format("{}: ingested {} results as run {}{}\n", files[i],
                                             r.results, r.run_id, integrity_note(r)));
        // A certificate that fails verification is kept (marked) but the caller is told, as
        // `certificate verify` tells it: exit 4.
        if (r.integrity == "failed" && status == 0)
          status = static_cast<int>(exit_code::regression);
      },
      [&](std::size_t, std::exception_ptr error) {
        try {
          std::rethrow_exception(std::move(error));
        } catch (const spec_error& e) {  // a malformed file
          print_error(e);
          status = static_cast<int>(exit_code::usage_error);
        } catch (const usage_error& e) {
          print_error(e);
          status = static_cast<int>(exit_code::usage_error);
        } catch (const std::exception& e) {
          print_error(e);
          if (status == 0) status = static_cast<int>(exit_code::runtime_error);
        }
      });
  return status;
}

}  // namespace

void add_history(CLI::App& app, const global_options& /*g*/, action& run) {
  auto* cmd = app.add_subcommand(
      "history", "the benchmark history store: ingest reports, list, show, export and prune runs");
  cmd->require_subcommand(1);

  auto ingest_files = std::make_shared<std::vector<std::string>>();
  auto ingest_store = std::make_shared<std::string>();
  auto ingest_key = std::make_shared<std::string>();
  auto ingest_jobs = std::make_shared<unsigned>(0);
  auto* in = cmd->add_subcommand(
      "ingest",
      "record measurement reports (chipgauge.measurement/1), certificates "
      "(chipgauge.certificate/1) and Google Benchmark JSON as runs. Each file is one "
      "transaction: a malformed file is named, exits 2 and is rolled back while the other files "
      "still apply; a file already ingested (same SHA-256) is a no-op; a certificate failing "
      "verification is stored marked 'failed' and exits 4");
  in->add_option("files", *ingest_files,
                 "reports, certificates or Google Benchmark JSON files to ingest")
      ->required();
  in->add_option("--history", *ingest_store, history_help);
  in->add_option(
      "--pubkey", *ingest_key,
      "Ed25519 public key (PEM) certificates must be signed by to be stored as verified; "
      "without it none is");
  in->add_option("--jobs", *ingest_jobs,
                 "threads reading and parsing files (default: the hardware threads, at most 16); "
                 "the store is written by one, in the order given, so the same runs for any N")
      ->check(CLI::Range(1U, 1024U));
  in->callback([&run, ingest_files, ingest_store, ingest_key, ingest_jobs] {
    run = [ingest_files, ingest_store, ingest_key, ingest_jobs] {
      return ingest(*ingest_store, *ingest_files, *ingest_key, *ingest_jobs);
    };
  });

  auto lf = std::make_shared<filters>();
  lf->format = "text";
  auto* list = cmd->add_subcommand("list", "list runs, oldest first");
  list->add_option("--history", lf->history, history_help);
  add_filters(list, *lf, true);
  list->add_option("--format", lf->format, "text or json");
  list->callback([&run, lf] {
    run = [lf] {
      const bool as_json = parse_choice("--format", lf->format, {"text", "json"}) == 1;
      const auto sel = selector_of(*lf);
      auto store = open_store(lf->history, false);
      const auto runs = history::list_runs(store, sel);
      if (as_json) {
        emit(history::runs_to_json(runs));
        return 0;
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& r : runs)
        rows.push_back({std::to_string(r.id), history::format_utc(r.created_utc), r.source_kind,
                        r.host, join(r.devices, ", "), std::to_string(r.results), r.tool_version,
                        r.git_sha, r.source_name});
      emit(render_table({"run", "created (UTC)", "kind", "host", "devices", "results", "tool",
                         "git sha", "source"},
                        rows, {true, false, false, false, false, true, false, false, false}) +
           fmt::format("{} runs in {}\n", runs.size(), store.path()));
      return 0;
    };
  });

  auto sf = std::make_shared<filters>();
  sf->format = "text";
  auto show_id = std::make_shared<long long>(0);
  auto* show = cmd->add_subcommand("show", "one run: where and when it ran, and its results");
  show->add_option("run", *show_id, "run id (from history list)")->required();
  show->add_option("--history", sf->history, history_help);
  show->add_option("--format", sf->format, "text or json");
  show->callback([&run, sf, show_id] {
    run = [sf, show_id] {
      const bool as_json = parse_choice("--format", sf->format, {"text", "json"}) == 1;
      auto store = open_store(sf->history, false);
      const auto r = history::find_run(store, *show_id);
      if (!r)
        throw usage_error(
            fmt::format("history {} has no run {}: see history list", store.path(), *show_id));
      if (as_json) {
        emit(history::run_to_json(store, *r));
        return 0;
      }
      const auto results = history::select_results(store, {}, false, r->id);
      std::string text = fmt::format("run {}: {} from {}\n", r->id, r->source_kind, r->source_name);
      text += fmt::format("  created {}  ingested {}\n", history::format_utc(r->created_utc),
                          history::format_utc(r->ingested_utc));
      text += fmt::format("  chipgauge {} ({}), mode {}, host {}, kernel {}\n", r->tool_version,
                          r->git_sha, r->mode, r->host, r->kernel);
      if (!r->driver.empty() || !r->toolkit.empty())
        text +=
            fmt::format("  driver {}, CUDA runtime {}\n", r->driver.empty() ? "unknown" : r->driver,
                        r->toolkit.empty() ? "unknown" : r->toolkit);
      text += fmt::format("  sha256 {}\n\n", r->source_sha256);
      std::vector<std::vector<std::string>> rows;
      for (const auto& x : results) {
        std::string flags = x.suspect ? "suspect" : "";
        if (x.throttled_samples > 0)
          flags += (flags.empty() ? "" : ", ") + fmt::format("{} throttled", x.throttled_samples);
        if (!x.reason.empty()) flags += (flags.empty() ? "" : "; ") + x.reason;
        const bool measured = x.sample_count > 0;
        rows.push_back(
            {x.local_device, x.benchmark, x.status, measured ? rate_text(x.median, x.metric) : "",
             measured ? fmt::format("{:.2f} %", 100 * x.cv) : "", std::to_string(x.sample_count),
             x.clock_mhz ? fmt::format("{:.0f}", *x.clock_mhz) : "", flags});
      }
      text += render_table(
          {"device", "benchmark", "status", "median", "cv", "samples", "clock MHz", "notes"}, rows,
          {false, false, false, true, true, true, true, false});
      emit(text);
      return 0;
    };
  });

  auto ef = std::make_shared<filters>();
  ef->format = "csv";
  auto* ex = cmd->add_subcommand(
      "export", "the selected results as CSV (one row per result) or JSON (with every sample)");
  ex->add_option("--history", ef->history, history_help);
  add_filters(ex, *ef, true);
  ex->add_option("--format", ef->format, "csv (default) or json");
  ex->add_option("--out", ef->out, "write to this file (atomically) instead of stdout");
  ex->callback([&run, ef] {
    run = [ef] {
      const auto format = parse_choice("--format", ef->format, {"csv", "json"}) == 0
                              ? history::export_format::csv
                              : history::export_format::json;
      const auto sel = selector_of(*ef);
      auto store = open_store(ef->history, false);
      std::string text;
      history::export_results(store, sel, format,
                              [&text](std::string_view piece) { text += piece; });
      if (!ef->out.empty()) write_file_atomically(ef->out, text);
      else emit(text);
      return 0;
    };
  });

  struct prune_args {
    std::string history;
    std::string before;
    int keep_last = 0;
    std::string device;
  };
  auto pa = std::make_shared<prune_args>();
  auto* pr = cmd->add_subcommand(
      "prune",
      "delete runs, in one transaction: those created before --before, and/or all but each "
      "device's --keep-last most recent (with both, a run must meet both to go)");
  pr->add_option("--history", pa->history, history_help);
  pr->add_option("--before", pa->before,
                 "runs created before this date (YYYY-MM-DD: before its start)");
  pr->add_option("--keep-last", pa->keep_last, "keep each device's N most recent runs");
  pr->add_option("--device", pa->device,
                 "only runs of devices whose name or identity contains this");
  pr->callback([&run, pa] {
    run = [pa] {
      history::prune_options o;
      if (!pa->before.empty()) o.before = history::parse_time_bound("--before", pa->before, false);
      if (pa->keep_last != 0) o.keep_last = pa->keep_last;
      o.device = pa->device;
      if (!o.before && !o.keep_last)
        throw usage_error("history prune needs --before DATE or --keep-last N (or both)");
      auto store = open_store(pa->history, false);
      const auto r = history::prune(store, o);
      emit(fmt::format("pruned {} runs ({} results) from {}\n", r.runs, r.results, store.path()));
      return 0;
    };
  });
}

CLI::Option* add_recording_history_option(CLI::App& cmd, std::string& path, std::string_view what) {
  return cmd
      .add_option("--history", path,
                  fmt::format("also record {} in this history store (no FILE: $CHIPGAUGE_HISTORY "
                              "or the default; recorded whenever CHIPGAUGE_HISTORY is set)",
                              what))
      ->expected(0, 1);
}

bool recording_history(const CLI::Option& history) {
  const char* env = std::getenv("CHIPGAUGE_HISTORY");
  return history.count() > 0 || (env && *env);
}

void check_history(const std::string& explicit_path) { open_store(explicit_path, true); }

void record_certificate_in_history(const std::string& explicit_path,
                                   const std::string& certificate_text, const std::string& name,
                                   const std::optional<std::string>& trusted_key) {
  auto store = open_store(explicit_path, true);
  history::ingest_source src;
  src.kind = history::source_kind::certificate;
  src.sha256 = history::sha256_hex(certificate_text);
  src.name = name;
  history::ingest_options options;
  options.trusted_key = trusted_key;
  const auto doc = nlohmann::json::parse(certificate_text);
  const auto r = history::ingest_certificate(store, certificate_text, doc, src, options);
  std::cerr << fmt::format("chipgauge: {} {} in history {} as run {}{}\n", name,
                           r.already_present ? "already" : "recorded", store.path(), r.run_id,
                           integrity_note(r));
}

void record_in_history(const std::string& explicit_path, const std::string& report_json,
                       const bench::measurement_report& report, const std::string& name) {
  auto store = open_store(explicit_path, true);
  history::ingest_source src;
  src.kind = history::source_kind::chipgauge_report;
  src.sha256 = history::sha256_hex(report_json);
  src.name = name;
  const auto r = history::ingest_report(store, report, src);
  std::cerr << fmt::format("chipgauge: {} in history {} as run {}\n",
                           r.already_present ? "already" : "recorded", store.path(), r.run_id);
}

}  // namespace chipgauge::cli
