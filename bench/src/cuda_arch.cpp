#include "cuda_arch.hpp"

#include "chipgauge/classifier/spec.hpp"
#include "chipgauge/core/json_reader.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <regex>

using chipgauge::classifier::load_spec_file;

namespace chipgauge::bench {

cuda_arch load_cuda_arch(const std::string& specs_dir, int major, int minor,
                         const std::string& device_name) {
  const auto path = (std::filesystem::path(specs_dir) / "arch" / "cuda.json").string();
  cuda_arch out;
  if (!std::filesystem::exists(path)) {
    out.notes.push_back(path + " not found: no theoretical peaks");
    return out;
  }
  const auto doc = read_json_file(path);
  const json_node root(doc, path);
  root.expect_keys({"schema", "title", "notes", "architectures", "product_exceptions",
                    "pcie_generations", "datasheets"});
  const std::string cc = fmt::format("{}.{}", major, minor);
  for (const auto& a : root.at("architectures").elements()) {
    a.expect_keys({"name", "compute_capability", "ops_per_clock_per_sm", "bytes_per_clock_per_sm",
                   "evidence", "source"});
    if (a.at("compute_capability").string() != cc) continue;
    out.notes.push_back(
        fmt::format("peaks from the {} table (compute capability {})", a.at("name").string(), cc));
    for (const auto& [k, v] : a.at("ops_per_clock_per_sm").members())
      out.per_sm[k] = v.number_in(0, 1e6, "ops/clock/SM");
    if (auto bytes = a.find("bytes_per_clock_per_sm")) {
      for (const auto& [k, v] : bytes->members())
        out.per_sm[k] = v.number_in(0, 1e6, "bytes/clock/SM");
    }
  }
  if (out.per_sm.empty())
    out.notes.push_back(
        fmt::format("no table for compute capability {}: no clock-scaled peaks", cc));
  if (auto ex = root.find("product_exceptions")) {
    for (const auto& e : ex->elements()) {
      e.expect_keys({"name_regex", "remove", "reason", "evidence", "source"});
      const auto pattern = e.at("name_regex").string();
      std::regex re;
      try {
        re = std::regex(pattern, std::regex::ECMAScript);
      } catch (const std::regex_error& err) {
        e.at("name_regex").fail(fmt::format("not a valid regular expression: {}", err.what()));
      }
      if (!std::regex_search(device_name, re)) continue;
      std::string removed;
      for (const auto& k : e.at("remove").elements()) {
        const auto key = k.string();
        if (key == "*") {
          out.per_sm.clear();
        } else {
          out.per_sm.erase(key);
        }
        removed += (removed.empty() ? "" : ", ") + key;
      }
      out.notes.push_back(
          fmt::format("no peak for {} on this product: {}", removed, e.at("reason").string()));
    }
  }
  if (auto gens = root.find("pcie_generations")) {
    for (const auto& e : gens->elements()) {
      e.expect_keys({"generation", "gt_per_s", "encoding_efficiency", "source"});
      out.pcie[static_cast<unsigned>(e.at("generation").integer_in(1, 16))] = {
          e.at("gt_per_s").number_in(0, 1e4, "GT/s"),
          e.at("encoding_efficiency").number_in(0, 1, "fraction")};
    }
  }
  if (auto sheets = root.find("datasheets")) {
    for (const auto& e : sheets->elements()) {
      e.expect_keys({"name_regex", "spec", "source"});
      std::regex re;
      try {
        re = std::regex(e.at("name_regex").string(), std::regex::ECMAScript);
      } catch (const std::regex_error& err) {
        e.at("name_regex").fail(fmt::format("not a valid regular expression: {}", err.what()));
      }
      if (!std::regex_search(device_name, re)) continue;
      const auto id = e.at("spec").string();
      const auto rel = fmt::format("specs/chips/{}.json", id);
      const auto file = (std::filesystem::path(specs_dir) / "chips" / (id + ".json")).string();
      if (id.empty() || id.find('/') != std::string::npos || !std::filesystem::exists(file))
        e.at("spec").fail(fmt::format("a spec sheet id under specs/chips ({} not found)", file));
      const auto sheet = load_spec_file(file);
      if (sheet.memory && sheet.memory->bandwidth_gb_s) {
        out.dram = dram_datasheet{sheet.memory->bandwidth_gb_s->lo * 1e9,
                                  sheet.memory->bandwidth_gb_s->hi * 1e9, rel};
        out.notes.push_back(fmt::format("DRAM datasheet figure from {}", rel));
      } else {
        out.notes.push_back(fmt::format(
            "{} quotes no DRAM bandwidth: the DRAM peak has the computed basis only", rel));
      }
      break;  // the first matching entry decides
    }
  }
  return out;
}

}  // namespace chipgauge::bench
