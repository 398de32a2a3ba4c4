#include "test_support.hpp"

#include "chipgauge/core/files.hpp"

#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

using chipgauge::classifier::chip_spec;
using chipgauge::classifier::die;
using chipgauge::classifier::index_of;
using chipgauge::classifier::part_kind;
using chipgauge::classifier::part_metrics;
using chipgauge::classifier::precision;
using chipgauge::classifier::processing_unit;
using chipgauge::classifier::rule_set;
using chipgauge::classifier::value_range;

namespace chipgauge::test {

const rule_set& bundled_rules() {
  static const rule_set rules = rule_set::load(specs_dir() + "/rules");
  return rules;
}

chip_spec synthetic_ic(double tpp, double area_mm2, bool datacenter) {
  chip_spec s;
  s.file = "<synthetic>";
  s.id = "synthetic";
  s.vendor = "test";
  s.name = "synthetic IC";
  s.kind = part_kind::ic;
  s.datacenter = {datacenter, "test", false};
  processing_unit u;
  u.name = "matrix units";
  u.dense_tops[index_of(precision::int8)] = value_range{tpp / 8, tpp / 8};
  s.units.push_back(u);
  if (area_mm2 > 0) {
    die d;
    d.name = "logic";
    d.area_mm2 = value_range{area_mm2, area_mm2};
    d.non_planar = true;
    s.dies.push_back(d);
  }
  return s;
}

part_metrics exact_metrics(double tpp, std::optional<double> pd, bool datacenter) {
  part_metrics m;
  m.tpp = m.tpp_sum_of_unit_max = m.tpp_max_of_sums = tpp;
  m.pd = pd;
  if (pd) m.applicable_die_area_mm2 = tpp / *pd;
  m.datacenter = datacenter;
  m.datacenter_defaulted = false;
  m.non_planar = pd.has_value();
  return m;
}

temp_dir::temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "chipgauge-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string temp_dir::write(const std::string& name, const std::string& content) const {
  const auto p = (std::filesystem::path(path_) / name);
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
  return p.string();
}

std::string specs_with_binding_diffusion(const temp_dir& dir) {
  namespace fs = std::filesystem;
  const auto to = fs::path(dir.path()) / "specs";
  fs::copy(specs_dir(), to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  const auto file = to / "licensing" / "us-2025-01-13-ai-diffusion.json";
  auto doc = nlohmann::ordered_json::parse(read_text_file(file.string()));
  doc.erase("compliance");
  std::ofstream(file, std::ios::binary | std::ios::trunc) << doc.dump(2) << "\n";
  return to.string();
}

run_result run_command(const std::string& command) {
  const temp_dir tmp;
  const std::string out_file = tmp.path() + "/out";
  const std::string err_file = tmp.path() + "/err";
  const int raw =
      std::system((command + " >" + out_file + " 2>" + err_file + " </dev/null").c_str());
  run_result r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = read_text_file(out_file);
  r.err = read_text_file(err_file);
  return r;
}

}  // namespace chipgauge::test
