#include "chipgauge/bench/classify_measured.hpp"

#include "chipgauge/classifier/findings.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

using chipgauge::classifier::all_precisions;
using chipgauge::classifier::catalog;
using chipgauge::classifier::chip_spec;
using chipgauge::classifier::classification_engine;
using chipgauge::classifier::compute_metrics;
using chipgauge::classifier::evaluation_plan;
using chipgauge::classifier::index_of;
using chipgauge::classifier::output_format;
using chipgauge::classifier::part_kind;
using chipgauge::classifier::processing_unit;
using chipgauge::classifier::tpp_findings;
using chipgauge::classifier::value_range;

namespace chipgauge::bench {

std::vector<std::string> model_tokens(std::string_view name) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (cur.find_first_of("0123456789") != std::string::npos) out.push_back(cur);
    cur.clear();
  };
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)))
      cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else flush();
  }
  flush();
  return out;
}

std::string vendor_word(std::string_view vendor) {
  std::string v;
  for (char c : vendor) v += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "authenticamd") return "amd";
  if (v == "genuineintel") return "intel";
  return v;
}

// A sheet of another part would make every figure meaningless: refused (usage error) when the
// vendors differ or the device's model numbers are absent from the sheet; a device whose name
// carries no model number ("AMD EPYC" in a VM) cannot be confirmed, which is a finding.
std::optional<std::string> check_sheet_matches(const chip_spec& sheet, const measured_tpp& mt) {
  const auto device_vendor = vendor_word(mt.device_vendor);
  const auto sheet_vendor = vendor_word(sheet.vendor);
  if (!device_vendor.empty() && !sheet_vendor.empty() &&
      sheet_vendor.find(device_vendor) == std::string::npos &&
      device_vendor.find(sheet_vendor) == std::string::npos)
    throw usage_error(fmt::format(
        "--spec {} is a {} part but the measured device '{}' is made by {}: the comparison "
        "would be meaningless; give the device's own sheet, or none",
        sheet.id, sheet.vendor, mt.device_name, mt.device_vendor));
  // A device that reports no vendor cannot be checked against the sheet's: kept as a finding.
  const std::optional<std::string> vendor_unconfirmed =
      device_vendor.empty()
          ? std::optional<std::string>(fmt::format(
                "the measured device '{}' reports no vendor, so the sheet's vendor ({}) cannot "
                "be confirmed",
                mt.device_name, sheet.vendor))
          : std::nullopt;
  const auto device = model_tokens(mt.device_name);
  if (device.empty())
    return fmt::format(
        "the measured device's name '{}' carries no model number, so the sheet '{}' cannot be "
        "confirmed to describe it{}",
        mt.device_name, sheet.name,
        vendor_unconfirmed ? "; " + *vendor_unconfirmed : std::string());
  const auto sheet_tokens = model_tokens(sheet.name + " " + sheet.id);
  for (const auto& t : device) {
    if (std::find(sheet_tokens.begin(), sheet_tokens.end(), t) != sheet_tokens.end())
      return vendor_unconfirmed;
  }
  throw usage_error(fmt::format(
      "--spec {} ('{}') shares no model number with the measured device '{}': the comparison "
      "would be meaningless; give the device's own sheet, or none",
      sheet.id, sheet.name, mt.device_name));
}

measured_classification classify_measured(catalog& cat, const evaluation_plan& plan,
                                          const std::string& report_file, const std::string& spec,
                                          const std::string& device_id) {
  return classify_measured(cat, plan, load_report(report_file), report_file, spec, device_id);
}

measured_classification classify_measured(catalog& cat, const evaluation_plan& plan,
                                          const measurement_report& report,
                                          const std::string& report_file, const std::string& spec,
                                          const std::string& device_id) {
  const auto& defs = cat.rules().definitions();
  measured_classification out;
  out.report_file = report_file;
  out.measured = measured_from(report, report_file, device_id, defs);
  const auto& mt = out.measured;
  const chip_spec* sheet = spec.empty() ? nullptr : &cat.part(spec);
  if (sheet && sheet->kind != part_kind::ic)
    throw usage_error(fmt::format(
        "--spec {} is a {}: a measurement is of one device, so --spec takes an IC sheet", sheet->id,
        to_string(sheet->kind)));
  const auto unconfirmed = sheet ? check_sheet_matches(*sheet, mt) : std::nullopt;

  out.part = std::make_unique<chip_spec>(sheet ? *sheet : chip_spec{});
  auto& measured = *out.part;
  if (!sheet) {
    measured.id = "measured-" + mt.device_id;
    measured.vendor = "";
    measured.kind = part_kind::ic;
  }
  measured.name = (sheet ? sheet->name : mt.device_name) + " (measured)";
  measured.file = report_file;
  measured.units.clear();
  processing_unit unit;
  unit.name = "verified kernels of " + mt.device_id;
  for (auto p : all_precisions) {
    if (const auto& t = mt.tops[index_of(p)]) unit.dense_tops[index_of(p)] = value_range{*t, *t};
  }
  measured.units.push_back(unit);
  measured.declared.reset();

  const classification_engine engine(cat.rules());
  out.results.resize(1);
  // Verified rates are lower bounds of what the part can do: a clause failing on them proves
  // nothing.
  auto metrics = compute_metrics(measured, defs);
  metrics.tpp_lower_bound = true;
  engine.classify(measured, std::move(metrics), plan, out.results[0]);

  // Declared, derived and measured TPP side by side: disagreement is a finding.
  out.declared_tpp = sheet && sheet->declared ? sheet->declared->tpp : std::nullopt;
  out.derived_tpp = sheet && !sheet->units.empty()
                        ? std::optional<double>(compute_metrics(*sheet, defs).tpp)
                        : std::nullopt;
  out.findings = tpp_findings(out.tpp(), out.declared_tpp, out.derived_tpp, cat.findings());
  if (unconfirmed) out.findings.push_back(*unconfirmed);
  return out;
}

std::string render(const measured_classification& m, const evaluation_plan& plan,
                   output_format format) {
  const auto& mt = m.measured;
  const double measured_tpp = m.tpp();
  if (format == output_format::json) {
    auto j = nlohmann::ordered_json::parse(chipgauge::classifier::render(m.results, plan, format));
    nlohmann::ordered_json o;
    o["report"] = m.report_file;
    o["device"] = mt.device_id;
    o["tpp"] = measured_tpp;
    o["best_precision"] = mt.best ? std::string(to_string(*mt.best)) : "";
    o["lower_bound"] = true;
    o["used"] = mt.used;
    o["refused"] = mt.refused;
    o["memory_gb_s"] =
        mt.memory_gb_s ? nlohmann::ordered_json(*mt.memory_gb_s) : nlohmann::ordered_json(nullptr);
    o["declared_tpp"] =
        m.declared_tpp ? nlohmann::ordered_json(*m.declared_tpp) : nlohmann::ordered_json(nullptr);
    o["derived_tpp"] =
        m.derived_tpp ? nlohmann::ordered_json(*m.derived_tpp) : nlohmann::ordered_json(nullptr);
    o["findings"] = m.findings;
    j["measured"] = o;
    return j.dump(2) + "\n";
  }
  std::string out = chipgauge::classifier::render(m.results, plan, format);
  if (format != output_format::text) return out;
  std::string block = fmt::format(
      "\nmeasured TPP {} from {} ({}; a lower bound of the theoretical TPP)\n",
      group_thousands(measured_tpp, measured_tpp < 100 ? 1 : 0), m.report_file, mt.device_id);
  for (const auto& u : mt.used) block += "  used: " + u + "\n";
  for (const auto& r : mt.refused) block += "  refused: " + r + "\n";
  block += fmt::format("  TPP declared {}, derived {}, measured {}\n",
                       m.declared_tpp ? group_thousands(*m.declared_tpp) : "-",
                       m.derived_tpp ? group_thousands(*m.derived_tpp) : "-",
                       group_thousands(measured_tpp, measured_tpp < 100 ? 1 : 0));
  for (const auto& f : m.findings) block += "  finding: " + f + "\n";
  if (mt.memory_gb_s)
    block += fmt::format("  best verified STREAM bandwidth {:.1f} GB/s\n", *mt.memory_gb_s);
  return block + out;
}

}  // namespace chipgauge::bench
