#include "chipgauge/classifier/database.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "spec_limits.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace chipgauge {

namespace {
// Declared TPP may differ from rounded datasheet arithmetic by this much before we warn
// (issue #3: "declared TPP within 2 % of the computed one").
constexpr double declared_tpp_tolerance = 0.02;
constexpr int max_nesting = 4;  // system > board > module > ic
}  // namespace

std::vector<spec_warning> validate_spec(const chip_spec& spec, const metric_definitions& defs) {
  std::vector<spec_warning> warnings;
  const auto high = compute_metrics(spec, defs, range_end::most_control);
  if (high.tpp > spec_limits::max_tpp) {
    throw spec_error(spec.file, "$.processing_units",
                     fmt::format("computed TPP {:.0f} is absurd: expected at most {:.0e}; are rates in 10^12 ops/s "
                                 "(TOPS/TFLOPS), dense?",
                                 high.tpp, spec_limits::max_tpp));
  }
  if (spec.declared && spec.declared->tpp) {
    const auto nominal = compute_metrics(spec, defs);
    const double d = *spec.declared->tpp;
    if (nominal.tpp > 0 && std::fabs(d - nominal.tpp) > declared_tpp_tolerance * nominal.tpp) {
      warnings.push_back({spec.file, "$.declared.tpp",
                          fmt::format("declared TPP {:.0f} differs from the computed {:.0f} by {:+.1f} % (tolerance "
                                      "{:.0f} %)",
                                      d, nominal.tpp, 100 * (d - nominal.tpp) / nominal.tpp,
                                      100 * declared_tpp_tolerance)});
    }
  }
  return warnings;
}

spec_database spec_database::load(const std::string& dir, const metric_definitions& defs) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw spec_error(dir, "$", "not a directory: expected the spec-sheet directory (specs/chips)");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  spec_database db;
  for (const auto& f : files) {
    auto spec = std::make_unique<chip_spec>(load_spec_file(f.string()));
    if (const auto* other = db.find(spec->id))
      throw spec_error(spec->file, "$.id", fmt::format("duplicate id '{}': also used by {}", spec->id, other->file));
    if (f.stem().string() != spec->id)
      throw spec_error(spec->file, "$.id",
                       fmt::format("id '{}' differs from the file name: expected '{}.json' or id '{}'", spec->id,
                                   spec->id, f.stem().string()));
    db.parts_.push_back(std::move(spec));
  }
  for (auto& p : db.parts_) db.resolve(*p, 0);
  for (const auto& p : db.parts_) {
    auto w = validate_spec(*p, defs);
    db.warnings_.insert(db.warnings_.end(), w.begin(), w.end());
  }
  return db;
}

const chip_spec& spec_database::add_external(chip_spec spec, const metric_definitions& defs) {
  auto p = std::make_unique<chip_spec>(std::move(spec));
  resolve(*p, 0);
  auto w = validate_spec(*p, defs);
  warnings_.insert(warnings_.end(), w.begin(), w.end());
  parts_.push_back(std::move(p));
  return *parts_.back();
}

const chip_spec* spec_database::find(std::string_view id) const noexcept {
  for (const auto& p : parts_) {
    if (p->id == id) return p.get();
  }
  return nullptr;
}

std::string spec_database::suggest(std::string_view id) const {
  std::vector<std::string_view> ids;
  for (const auto& p : parts_) ids.push_back(p->id);
  return closest_match(id, ids);
}

void spec_database::resolve(chip_spec& spec, int depth) {
  if (depth > max_nesting)
    throw spec_error(spec.file, "$.contains", fmt::format("components nest deeper than {} levels", max_nesting));
  for (auto& c : spec.contains) {
    if (c.inline_spec) {
      // Inline sheets are owned by the component; resolve their own components too.
      auto copy = std::make_shared<chip_spec>(*c.inline_spec);
      resolve(*copy, depth + 1);
      c.inline_spec = copy;
      c.resolved = copy.get();
      continue;
    }
    const chip_spec* target = find(c.id);
    if (!target) {
      std::string hint;
      if (auto near = suggest(c.id); !near.empty()) hint = fmt::format(" (did you mean '{}'?)", near);
      throw spec_error(spec.file, c.json_path + ".id",
                       fmt::format("unknown part '{}'{}: a component must name a sheet in the database", c.id, hint));
    }
    if (target == &spec) throw spec_error(spec.file, c.json_path + ".id", "a part cannot contain itself");
    c.resolved = target;
  }
  check_acyclic(spec);
}

void spec_database::check_acyclic(const chip_spec& root) const {
  // Depth-first walk over resolved components; a part met again on the current path is a cycle.
  // Components not yet resolved (later in load order) are checked when their own turn comes.
  std::vector<const chip_spec*> path;
  const auto walk = [&](const auto& self, const chip_spec& s) -> void {
    if (std::find(path.begin(), path.end(), &s) != path.end()) {
      std::string chain;
      for (const auto* p : path) chain += p->id + " > ";
      throw spec_error(root.file, "$.contains", fmt::format("components form a cycle: {}{}", chain, s.id));
    }
    if (path.size() > static_cast<std::size_t>(max_nesting))
      throw spec_error(root.file, "$.contains", fmt::format("components nest deeper than {} levels", max_nesting));
    path.push_back(&s);
    for (const auto& c : s.contains) {
      if (c.resolved) self(self, *c.resolved);
    }
    path.pop_back();
  };
  walk(walk, root);
}

}  // namespace chipgauge
