#include "chipgauge/classifier/catalog.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/core/text.hpp"
#include "chipgauge/core/version.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>

namespace chipgauge::classifier {

namespace {

/// The installed data next to the running binary: <directory of /proc/self/exe>/
/// installed_specs_dir_from_bin, if that is a directory; empty otherwise (a build-tree binary,
/// or a system without /proc).
std::string installed_specs_dir() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec || exe.empty()) return {};
  const fs::path dir = (exe.parent_path() / installed_specs_dir_from_bin).lexically_normal();
  if (!fs::is_directory(dir, ec)) return {};
  return dir.string();
}

}  // namespace

catalog catalog::load(const std::string& specs_dir) {
  namespace fs = std::filesystem;
  catalog c;
  c.dir_ = specs_dir;
  c.rules_ = rule_set::load((fs::path(specs_dir) / "rules").string());
  c.parts_ = spec_database::load((fs::path(specs_dir) / "chips").string(), c.rules_.definitions(),
                                 std::make_shared<const physical_limits>(physical_limits::load(
                                     (fs::path(specs_dir) / "arch" / "physical.json").string())));
  return c;
}

const country_db& catalog::countries() {
  if (!countries_)
    countries_ = std::make_shared<country_db>(
        country_db::load((std::filesystem::path(dir_) / "countries").string()));
  return *countries_;
}

const licensing_set& catalog::licensing() {
  if (!licensing_) {
    const auto& c = countries();
    licensing_ = std::make_shared<licensing_set>(
        licensing_set::load((std::filesystem::path(dir_) / "licensing").string(), c));
  }
  return *licensing_;
}

const findings_policy& catalog::findings() {
  if (!findings_)
    findings_ = std::make_shared<findings_policy>(
        findings_policy::load((std::filesystem::path(dir_) / "policy" / "findings.json").string()));
  return *findings_;
}

std::string catalog::locate_specs_dir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("CHIPGAUGE_SPECS_DIR"); env && *env) return env;
  if (auto installed = installed_specs_dir(); !installed.empty()) return installed;
  return default_specs_dir;
}

const chip_spec& catalog::part(std::string_view file_or_id) {
  const std::string arg(file_or_id);
  const bool is_path = arg.find('/') != std::string::npos ||
                       (arg.size() > 5 && arg.compare(arg.size() - 5, 5, ".json") == 0);
  if (is_path) {
    if (!std::filesystem::exists(arg))
      throw usage_error(fmt::format("no such spec sheet file: {}", quote_input(arg)));
    auto spec = load_spec_file(arg);
    return parts_.add_external(std::move(spec), rules_.definitions());
  }
  if (const auto* p = parts_.find(arg)) return *p;
  std::string hint;
  if (auto near = parts_.suggest(arg); !near.empty())
    hint = fmt::format(" (did you mean '{}'?)", near);
  throw usage_error(fmt::format(
      "unknown part '{}'{}: give a spec-sheet path or an id from 'chipgauge specs list'",
      quote_input(arg), hint));
}

}  // namespace chipgauge::classifier
