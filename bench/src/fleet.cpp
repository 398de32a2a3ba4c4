#include "chipgauge/bench/fleet.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"
#include "chipgauge/core/json_reader.hpp"

#include <algorithm>
#include <filesystem>

using chipgauge::classifier::catalog;
using chipgauge::classifier::fleet_item;

namespace chipgauge::bench {

bool is_measurement_report(const std::string& path) {
  const auto text = read_text_file(path, file_limits::report);
  nlohmann::json doc;
  try {
    doc = parse_json_text(text, path);
  } catch (const spec_error&) {
    return false;
  }
  if (!doc.is_object()) return false;
  const auto it = doc.find("schema");
  return it != doc.end() && it->is_string() &&
         it->get_ref<const std::string&>() == "chipgauge.measurement/1";
}

fleet_item fleet_item_of(const measured_tpp& m, const std::string& report_file,
                         long long quantity) {
  fleet_item it;
  it.quantity = quantity;
  it.label = report_file + " (" + m.device_name + ")";
  it.tpp_each = m.tpp;
  double best = 0;
  for (const auto& t : m.tops) {
    if (t) best = std::max(best, *t * 1e12);
  }
  it.peak_ops_each = best;
  it.basis = "measured (lower bound)";
  return it;
}

fleet_item fleet_item_for(catalog& cat, const std::string& name, long long quantity) {
  const auto& defs = cat.rules().definitions();
  const bool json_file = std::filesystem::exists(name) && name.size() > 5 &&
                         name.compare(name.size() - 5, 5, ".json") == 0;
  if (json_file && is_measurement_report(name))
    return fleet_item_of(measured_from(load_report(name), name, "", defs), name, quantity);
  return fleet_item_of(cat.part(name), defs, quantity);
}

}  // namespace chipgauge::bench
