// chipgauge certify [--backend cpu|cuda|auto] [--device ID|INDEX|all] [--quick|--full] [--duration
// SECONDS]
//                   [--spec FILE_OR_ID] [--as-of DATE] [--lab NAME] [--tester NAME] [--location
//                   COUNTRY]
//                   [--out DIR] [--sign KEYFILE] [--format text|json|md|html] [--report FILE]
//                   [--exit-on-fail]
//                   [--history [FILE]] [--pubkey KEY.pub]
// chipgauge certificate show FILE [--format text|md|html|json]
#include "chipgauge/bench/measure.hpp"
#include "chipgauge/certify/certify.hpp"
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/core/date.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "chipgauge/core/signing.hpp"
#include "chipgauge/core/text.hpp"
#include "commands.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>

using chipgauge::classifier::catalog;

namespace chipgauge::cli {

namespace {

certify::render_format parse_render(const std::string& text, bool with_json) {
  if (with_json) {
    static constexpr certify::render_format f[] = {
        certify::render_format::text, certify::render_format::json, certify::render_format::md,
        certify::render_format::html};
    return f[parse_choice("--format", text, {"text", "json", "md", "html"})];
  }
  static constexpr certify::render_format f[] = {
      certify::render_format::text, certify::render_format::md, certify::render_format::html,
      certify::render_format::json};
  return f[parse_choice("--format", text, {"text", "md", "html", "json"})];
}

// "cuda:0" -> "cuda-0": a file name.
std::string file_stem(const std::string& device_id) {
  std::string s;
  for (char c : device_id)
    s += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '-';
  return "certificate-" + s;
}

}  // namespace

void add_certify(CLI::App& app, const global_options& g, action& run) {
  struct options {
    std::string backend = "auto";
    std::vector<std::string> devices;
    bool quick = false;
    bool full = false;
    double duration = 0;
    std::string spec;
    std::string as_of;
    std::string lab;
    std::string tester;
    std::string location;
    std::string out = "chipgauge-certificates";
    std::string sign;
    std::string format = "text";
    std::string report;
    bool exit_on_fail = false;
    std::string history;
    std::string pubkey;
  };
  auto o = std::make_shared<options>();
  auto* cmd = app.add_subcommand(
      "certify",
      "measure this machine's devices, check them against their envelopes and write a sealed "
      "certificate per device (exit 0 pass, 4 fail, 3 inconclusive)");
  cmd->add_option("--backend", o->backend,
                  "cpu, cuda, or auto (CUDA when a GPU is present, else CPU)");
  cmd->add_option("--device", o->devices,
                  "certify only these devices: an id (cuda:1, cpu0), an index, or all; repeatable")
      ->delimiter(',');
  auto* quick = cmd->add_flag("--quick", o->quick, "quick mode (default)");
  cmd->add_flag("--full", o->full, "full mode: every sweep, tighter noise targets")
      ->excludes(quick);
  cmd->add_option(
      "--duration", o->duration,
      "soak: repeat the compute and memory benchmarks for this many seconds, samples throughout");
  cmd->add_option(
      "--spec", o->spec,
      "the part's sheet (path or id) instead of matching by identity; refused if it contradicts "
      "the device");
  cmd->add_option(
      "--as-of", o->as_of,
      "classify under the regimes in force on this date, YYYY-MM-DD (default: the test date)");
  cmd->add_option("--lab", o->lab, "the testing laboratory, recorded in the certificate");
  cmd->add_option("--tester", o->tester,
                  "the person running the test, recorded in the certificate");
  cmd->add_option("--location", o->location,
                  "where the test runs: an ISO 3166-1 alpha-2 country code (US)");
  cmd->add_option(
      "--out", o->out,
      "directory for the certificates and the node summary (default chipgauge-certificates)");
  cmd->add_option(
      "--sign", o->sign,
      "sign each certificate with this Ed25519 private key (chipgauge certificate keygen)");
  cmd->add_option("--format", o->format, "stdout: text, json, md or html");
  cmd->add_option(
      "--report", o->report,
      "certify a stored measurement report (chipgauge measure --out) instead of measuring now");
  cmd->add_flag(
      "--exit-on-fail", o->exit_on_fail,
      "health-check mode (Slurm HealthCheckProgram, prolog, epilog): stdout is one line, "
      "'chipgauge certify: pass' or 'chipgauge certify: fail|inconclusive: DEVICE: REASON', the "
      "certificates are still written; exit 0, 4 or 3");
  auto* history =
      add_recording_history_option(*cmd, o->history, "each certificate, as it is written,");
  cmd->add_option(
      "--pubkey", o->pubkey,
      "with --history: the Ed25519 public key (PEM) the certificates are verified against as "
      "they are recorded; without it a signed certificate is recorded 'unauthenticated', an "
      "unsigned one 'unsigned'");
  cmd->callback([&run, &g, o, history] {
    const bool record = recording_history(*history);
    run = [&g, o, record] {
      const auto format = parse_render(o->format, true);
      const auto as_of = o->as_of.empty() ? date::today() : parse_as_of(o->as_of);
      if (o->duration < 0 || o->duration > 7 * 24 * 3600.0)
        throw usage_error(fmt::format(
            "--duration {} is not a soak length: expected 0 to 604800 seconds", o->duration));
      if (o->duration > 0 && !o->report.empty())
        throw usage_error("--duration measures: it does not go with --report");
      const auto specs_dir = catalog::locate_specs_dir(g.specs_dir);
      auto cat = catalog::load(specs_dir);
      std::string location;
      if (!o->location.empty()) {
        for (char c : o->location)
          location += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (!cat.countries().find(location))
          throw usage_error(
              fmt::format("--location '{}' is not an ISO 3166-1 alpha-2 country code (e.g. US)",
                          quote_input(o->location)));
      }
      // Every input is checked before minutes of measurement: envelopes, the sheet, the key, --out.
      const auto envelopes = certify::envelope_set::load(
          (std::filesystem::path(specs_dir) / "envelopes").string(), cat.parts());
      if (!o->spec.empty()) (void)cat.part(o->spec);
      std::optional<std::string> key;
      if (!o->sign.empty()) {
        (void)load_ed25519_private_key_info(o->sign);
        key = o->sign;
      }
      std::optional<std::string> trusted;
      if (!o->pubkey.empty()) {
        if (!record)
          throw usage_error(
              "--pubkey goes with --history (or CHIPGAUGE_HISTORY): it verifies the "
              "certificates recorded");
        (void)load_ed25519_public_key(o->pubkey);
        trusted = o->pubkey;
      }
      if (record) check_history(o->history);
      std::filesystem::create_directories(o->out);
      if (!std::filesystem::is_directory(o->out))
        throw usage_error(fmt::format("--out {} is not a directory", o->out));

      certify::certify_context ctx;
      ctx.lab = o->lab;
      ctx.tester = o->tester;
      ctx.location = location;
      ctx.as_of = as_of;
      ctx.spec = o->spec;
      ctx.argv = g.argv;
      ctx.duration_s = o->duration;
      ctx.started_utc = utc_now();
      bench::measurement_report report;
      if (!o->report.empty()) {
        report = bench::load_report(o->report);
        ctx.source = o->report;
      } else {
        bench::measure_options mo;
        mo.backend = o->backend;
        mo.mode = o->full ? bench::run_mode::full : bench::run_mode::quick;
        for (const auto& d : o->devices) {
          if (d != "all") mo.devices.push_back(d);
        }
        mo.argv = g.argv;
        mo.specs_dir = specs_dir;
        if (::isatty(STDERR_FILENO))
          mo.log = [](const std::string& line) { std::cerr << "\r\033[K" << line << std::flush; };
        mo.notice = [](const std::string& line) { std::cerr << "chipgauge: " << line << "\n"; };
        report = bench::measure(mo);
        ctx.source = "measured by this run";
        if (report.hung_device.empty() && o->duration > 0) {
          // The soak: the compute and memory benchmarks again until the time is up, merged sample
          // by sample.
          mo.filter = "^(fma_|mma_|wgmma_|gemm_|dot_|mad_|stream_|dram_)";
          const auto t0 = std::chrono::steady_clock::now();
          while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() <
                 o->duration) {
            const auto round = bench::measure(mo);
            certify::merge_round(report, round);
            ++ctx.soak_rounds;
            if (!round.hung_device.empty()) {
              report.hung_device = round.hung_device;
              break;
            }
          }
        }
        if (::isatty(STDERR_FILENO)) std::cerr << "\r\033[K" << std::flush;
      }
      ctx.ended_utc = utc_now();
      const auto node = certify::certify_report(cat, envelopes, report, ctx);

      // Seal every body, then write everything: the report, each certificate, the summary.
      std::vector<nlohmann::json> sealed;
      std::vector<std::string> files;
      for (const auto& dc : node.devices) {
        sealed.push_back(seal_certificate(dc.body, key));
        files.push_back(file_stem(dc.device.id) + ".json");
      }
      const std::filesystem::path dir(o->out);
      if (o->report.empty())
        write_file_atomically((dir / "measurement.json").string(), bench::to_json(report));
      for (std::size_t i = 0; i < sealed.size(); ++i) {
        write_file_atomically((dir / files[i]).string(), certificate_text(sealed[i]));
        write_file_atomically((dir / (file_stem(node.devices[i].device.id) + ".html")).string(),
                              certify::render_certificate(sealed[i], certify::render_format::html));
      }
      auto summary = certify::node_summary(node, ctx, files);
      write_file_atomically((dir / "node-summary.json").string(), summary.dump(2) + "\n");
      // Recorded as written: the file's bytes key the run, so ingesting the file later is a no-op.
      if (record)
        for (std::size_t i = 0; i < sealed.size(); ++i)
          record_certificate_in_history(o->history, certificate_text(sealed[i]),
                                        (dir / files[i]).string(), trusted);

      std::string text;
      if (format == certify::render_format::json) {
        summary["certificates"] = sealed;
        text = summary.dump(2) + "\n";
      } else if (format == certify::render_format::html && sealed.size() == 1) {
        text = certify::render_certificate(sealed.front(), format);
      } else {
        const auto f = format == certify::render_format::md ? certify::render_format::md
                                                            : certify::render_format::text;
        text = certify::render_summary(node, f);
        for (const auto& s : sealed) text += "\n" + certify::render_certificate(s, f);
        text +=
            fmt::format("\nwritten to {}: {} certificate(s) (JSON and HTML), node-summary.json\n",
                        o->out, sealed.size());
      }
      if (o->exit_on_fail) text = certify::health_line(node);
      emit(text);
      if (!report.hung_device.empty()) {
        std::cerr << "chipgauge: " << report.hung_device
                  << " hung; the benchmarks after it were not run\n"
                  << std::flush;
        std::_Exit(static_cast<int>(exit_code::runtime_error));
      }
      return node.exit_status();
    };
  });
}

void add_certificate_show(CLI::App& certificate_cmd, const global_options& /*g*/, action& run) {
  struct options {
    std::string file;
    std::string format = "text";
  };
  auto o = std::make_shared<options>();
  auto* show = certificate_cmd.add_subcommand(
      "show", "render a certificate: the verdict, the part, its TPPs and ECCN, then the evidence");
  show->add_option("file", o->file, "certificate file (chipgauge.certificate/1)")->required();
  show->add_option("--format", o->format,
                   "text, md, html (one self-contained printable page) or json");
  show->callback([&run, o] {
    run = [o] {
      const auto f = parse_render(o->format, false);
      const auto doc = read_json_file(o->file);
      if (!doc.is_object() || !doc.contains("schema") ||
          doc.at("schema") != std::string(certificate_schema) || !doc.contains("body"))
        throw spec_error(o->file, "$.schema", "expected a chipgauge.certificate/1 certificate");
      std::string text;
      try {
        text = certify::render_certificate(doc, f);
      } catch (const nlohmann::json::exception& e) {
        throw spec_error(o->file, "$.body",
                         fmt::format("not a certificate body chipgauge can render: {}", e.what()));
      }
      // Rendering is not verification: say so where the reader looks first.
      if (f == certify::render_format::text)
        text +=
            "\n(rendering only: run 'chipgauge certificate verify' to check the hash and "
            "signature)\n";
      emit(text);
      return 0;
    };
  });
}

}  // namespace chipgauge::cli
