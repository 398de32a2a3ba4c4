// chipgauge classify FILE_OR_ID... [--as-of DATE] [--format text|json|md|csv] [--what-if]
#include "chipgauge/bench/measure.hpp"
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/core/text.hpp"
#include "chipgauge/classifier/engine.hpp"
#include "chipgauge/core/error.hpp"
#include "commands.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace chipgauge::cli {

output_format parse_format(const std::string& text) {
  if (text == "text") return output_format::text;
  if (text == "json") return output_format::json;
  if (text == "md") return output_format::md;
  if (text == "csv") return output_format::csv;
  throw usage_error(fmt::format("unknown --format '{}': expected text, json, md or csv", quote_input(text)));
}

date parse_as_of(const std::string& text) {
  if (text.empty() || text == "today") return date::today();
  const auto d = date::parse(text);
  if (!d) throw usage_error(fmt::format("--as-of '{}' is not a date: expected YYYY-MM-DD (e.g. 2024-01-31)", quote_input(text)));
  return *d;
}

void emit(const std::string& text) {
  const std::size_t written = std::fwrite(text.data(), 1, text.size(), stdout);
  if (written != text.size() || std::fflush(stdout) != 0 || std::ferror(stdout))
    throw error("cannot write the output to stdout (disk full or closed pipe?)");
}

void print_error(const std::exception& e) {
  const std::string line = "chipgauge: error: " + quote_input(e.what(), 4096) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

namespace {

// The model numbers in a device or part name: lower-case runs of letters and digits that contain a
// digit ("NVIDIA H200" -> h200; "AMD EPYC 9654" -> 9654; "MI300X" -> mi300x).
std::vector<std::string> model_tokens(std::string_view name) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (cur.find_first_of("0123456789") != std::string::npos) out.push_back(cur);
    cur.clear();
  };
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c))) cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else flush();
  }
  flush();
  return out;
}

// The vendor as a sheet writes it: CPUID vendor strings become the company's name.
std::string vendor_word(std::string_view vendor) {
  std::string v;
  for (char c : vendor) v += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "authenticamd") return "amd";
  if (v == "genuineintel") return "intel";
  return v;
}

// `--spec` names the sheet the measurement is compared with and whose dies, memory and
// interconnect complete it; a sheet of another part would make every figure meaningless. Refused
// (usage error) when the vendors differ or the device's model numbers are absent from the sheet;
// a device whose name carries no model number ("AMD EPYC" in a VM) cannot be confirmed: that is
// returned as a finding.
std::optional<std::string> check_sheet_matches(const chip_spec& sheet, const bench::measured_tpp& mt) {
  const auto device_vendor = vendor_word(mt.device_vendor);
  const auto sheet_vendor = vendor_word(sheet.vendor);
  if (!device_vendor.empty() && !sheet_vendor.empty() && sheet_vendor.find(device_vendor) == std::string::npos &&
      device_vendor.find(sheet_vendor) == std::string::npos)
    throw usage_error(fmt::format("--spec {} is a {} part but the measured device '{}' is made by {}: the comparison would "
                                  "be meaningless; give the device's own sheet, or none",
                                  sheet.id, sheet.vendor, mt.device_name, mt.device_vendor));
  const auto device = model_tokens(mt.device_name);
  if (device.empty())
    return fmt::format("the measured device's name '{}' carries no model number, so the sheet '{}' cannot be confirmed "
                       "to describe it",
                       mt.device_name, sheet.name);
  const auto sheet_tokens = model_tokens(sheet.name + " " + sheet.id);
  for (const auto& t : device) {
    if (std::find(sheet_tokens.begin(), sheet_tokens.end(), t) != sheet_tokens.end()) return std::nullopt;
  }
  throw usage_error(fmt::format("--spec {} ('{}') shares no model number with the measured device '{}': the comparison "
                                "would be meaningless; give the device's own sheet, or none",
                                sheet.id, sheet.name, mt.device_name));
}

// A measurement becomes a sheet whose one processing unit carries the verified dense rates; the
// rest (kind, dies, memory, interconnect, datacenter) comes from --spec when given.
std::string classify_measured(const global_options& g, const std::string& report_path, const std::string& spec_arg,
                              const std::string& device, date as_of, bool what_if, output_format format) {
  auto cat = catalog::load(catalog::locate_specs_dir(g.specs_dir));
  const auto& defs = cat.rules().definitions();
  const auto report = bench::load_report(report_path);
  const auto mt = bench::measured_from(report, report_path, device, defs);
  const chip_spec* sheet = spec_arg.empty() ? nullptr : &cat.part(spec_arg);
  if (sheet && sheet->kind != part_kind::ic)
    throw usage_error(fmt::format("--spec {} is a {}: a measurement is of one device, so --spec takes an IC sheet", sheet->id,
                                  to_string(sheet->kind)));
  const auto unconfirmed = sheet ? check_sheet_matches(*sheet, mt) : std::nullopt;

  chip_spec measured = sheet ? *sheet : chip_spec{};
  if (!sheet) {
    measured.id = "measured-" + mt.device_id;
    measured.vendor = "";
    measured.kind = part_kind::ic;
  }
  measured.name = (sheet ? sheet->name : mt.device_name) + " (measured)";
  measured.file = report_path;
  measured.units.clear();
  processing_unit unit;
  unit.name = "verified kernels of " + mt.device_id;
  for (auto p : all_precisions) {
    if (const auto& t = mt.tops[index_of(p)]) unit.dense_tops[index_of(p)] = value_range{*t, *t};
  }
  measured.units.push_back(unit);
  measured.declared.reset();

  const evaluation_plan plan(cat.rules(), as_of, what_if);
  const classifier engine(cat.rules());
  std::vector<classification> results(1);
  // Verified rates are lower bounds of what the part can do: a clause failing on them proves nothing.
  auto metrics = compute_metrics(measured, defs);
  metrics.tpp_lower_bound = true;
  engine.classify(measured, std::move(metrics), plan, results[0]);
  const double measured_tpp = results[0].metrics.tpp;

  // Declared, derived and measured TPP side by side (docs/architecture.md#three-tpp-figures):
  // disagreement is a finding.
  const std::optional<double> declared = sheet && sheet->declared ? sheet->declared->tpp : std::nullopt;
  const std::optional<double> derived =
      sheet && !sheet->units.empty() ? std::optional<double>(compute_metrics(*sheet, defs).tpp) : std::nullopt;
  std::vector<std::string> findings;
  for (const auto& [label, ref] : {std::pair{"declared", declared}, std::pair{"derived", derived}}) {
    if (!ref || *ref <= 0) continue;
    const double ratio = measured_tpp / *ref;
    if (ratio > 1.02)
      findings.push_back(fmt::format("measured TPP is {:.2f} x the {} figure: the {} spec understates the part", ratio, label, label));
    else if (ratio < 0.5)
      findings.push_back(fmt::format("measured TPP is only {:.2f} x the {} figure: a throttled, cut-down or faulty part, or "
                                     "kernels that do not reach the units the sheet counts",
                                     ratio, label));
  }
  if (unconfirmed) findings.push_back(*unconfirmed);
  if (format == output_format::json) {
    auto j = nlohmann::ordered_json::parse(render(results, plan, format));
    nlohmann::ordered_json m;
    m["report"] = report_path;
    m["device"] = mt.device_id;
    m["tpp"] = measured_tpp;
    m["best_precision"] = mt.best ? std::string(to_string(*mt.best)) : "";
    m["lower_bound"] = true;
    m["used"] = mt.used;
    m["refused"] = mt.refused;
    m["memory_gb_s"] = mt.memory_gb_s ? nlohmann::ordered_json(*mt.memory_gb_s) : nlohmann::ordered_json(nullptr);
    m["declared_tpp"] = declared ? nlohmann::ordered_json(*declared) : nlohmann::ordered_json(nullptr);
    m["derived_tpp"] = derived ? nlohmann::ordered_json(*derived) : nlohmann::ordered_json(nullptr);
    m["findings"] = findings;
    j["measured"] = m;
    return j.dump(2) + "\n";
  }
  std::string out = render(results, plan, format);
  if (format != output_format::text) return out;
  std::string block = fmt::format("\nmeasured TPP {} from {} ({}; a lower bound of the theoretical TPP)\n",
                                  group_thousands(measured_tpp, measured_tpp < 100 ? 1 : 0), report_path, mt.device_id);
  for (const auto& u : mt.used) block += "  used: " + u + "\n";
  for (const auto& r : mt.refused) block += "  refused: " + r + "\n";
  block += fmt::format("  TPP declared {}, derived {}, measured {}\n",
                       declared ? group_thousands(*declared) : "-", derived ? group_thousands(*derived) : "-",
                       group_thousands(measured_tpp, measured_tpp < 100 ? 1 : 0));
  for (const auto& f : findings) block += "  finding: " + f + "\n";
  if (mt.memory_gb_s) block += fmt::format("  best verified STREAM bandwidth {:.1f} GB/s\n", *mt.memory_gb_s);
  return block + out;
}

}  // namespace

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
  cmd->add_option("--format", o->format, "output format: text, json, md or csv")->default_str("text");
  cmd->add_option("--measured", o->measured, "classify the verified dense rates of a measurement report (chipgauge measure --out)");
  cmd->add_option("--spec", o->spec, "with --measured: the part's sheet (path or id) for dies, memory and the declared and derived TPP");
  cmd->add_option("--device", o->device, "with --measured: the device id in the report (default: the first)");
  cmd->add_flag("--brief", o->brief, "text format: the table only, without each part's verdicts");
  cmd->add_flag("--what-if", o->what_if, "also evaluate regimes announced but not enforced, or proposed (labelled)");
  cmd->callback([&run, &g, o] {
    run = [&g, o] {
      const auto format = parse_format(o->format);
      const auto as_of = parse_as_of(o->as_of);
      if (!o->measured.empty()) {
        if (!o->parts.empty() || o->all) throw usage_error("--measured classifies one report: give the sheet with --spec, not as a part");
        emit(classify_measured(g, o->measured, o->spec, o->device, as_of, o->what_if, format));
        return 0;
      }
      if (!o->spec.empty() || !o->device.empty()) throw usage_error("--spec and --device go with --measured");
      if (o->parts.empty() && !o->all) throw usage_error("classify needs at least one part (a path or an id), or --all");
      auto cat = catalog::load(catalog::locate_specs_dir(g.specs_dir));
      std::vector<const chip_spec*> specs;
      if (o->all) {
        for (const auto& p : cat.parts().parts()) specs.push_back(p.get());
      }
      for (const auto& a : o->parts) specs.push_back(&cat.part(a));
      const evaluation_plan plan(cat.rules(), as_of, o->what_if);
      const classifier engine(cat.rules());
      std::vector<classification> results;
      results.reserve(specs.size());
      for (const auto* s : specs) results.push_back(engine.classify(*s, plan));
      emit(render(results, plan, format, o->brief));
      return 0;
    };
  });
}

}  // namespace chipgauge::cli
