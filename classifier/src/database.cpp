#include "chipgauge/classifier/database.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "chipgauge/core/text.hpp"
#include "spec_limits.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>

namespace chipgauge::classifier {

namespace {
/// Refuses two sheets claiming one device identity: the same PCI id (with the same subsystem pair,
/// or both without one) or the same driver-reported name. A device would match both, and certify
/// must never pick a sheet by file order. A PCI id with a subsystem beside the same id without one
/// is allowed: the more specific entry wins when matching.
void check_identities_unique(const std::vector<std::unique_ptr<chip_spec>>& parts) {
  std::map<std::string, const chip_spec*> pci_owner;
  std::map<std::string, const chip_spec*> name_owner;
  for (const auto& p : parts) {
    if (!p->identity) continue;
    for (const auto& id : p->identity->pci) {
      auto key = fmt::format("{:04x}:{:04x}", id.vendor, id.device);
      if (id.subsystem_vendor)
        key += fmt::format(" subsystem {:04x}:{:04x}", *id.subsystem_vendor, *id.subsystem_device);
      const auto [it, fresh] = pci_owner.emplace(key, p.get());
      if (!fresh && it->second != p.get())
        throw spec_error(
            p->file, id.json_path,
            fmt::format(
                "PCI id {} is also claimed by {} ({}): expected each id in one sheet; tell bins "
                "apart by their subsystem ids",
                key, it->second->id, it->second->file));
    }
    for (std::size_t i = 0; i < p->identity->names.size(); ++i) {
      auto key = p->identity->names[i];
      std::transform(key.begin(), key.end(), key.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      const auto [it, fresh] = name_owner.emplace(key, p.get());
      if (!fresh && it->second != p.get())
        throw spec_error(
            p->file, fmt::format("$.identity.names[{}]", i),
            fmt::format(
                "device name '{}' is also claimed by {} ({}): expected each name in one sheet",
                quote_input(p->identity->names[i]), it->second->id, it->second->file));
    }
  }
}

// Declared TPP may differ from rounded datasheet arithmetic by this much before we warn: a
// declared TPP within 2 % of the computed one is rounding, not a different part.
constexpr double declared_tpp_tolerance = 0.02;
constexpr int max_nesting = 4;  // system > board > module > ic
}  // namespace

namespace {

// Rates quoted per precision should agree with units x clock x ops per clock, within 2 %.
constexpr double ops_per_clock_tolerance = 0.02;
// Within one unit, a precision whose TPP (rate x bit length) exceeds the unit's median by this
// factor is suspicious: usually a sparse figure quoted as dense, or a unit slip.
constexpr double precision_tie_factor = 1.5;
// Below these a value is not a part's but a unit mix-up (TB/s written where GB/s is expected,
// cm^2 where mm^2 is).
constexpr double min_dram_bandwidth_gb_s = 10;
constexpr double min_io_bandwidth_gb_s = 1;
constexpr double min_die_area_mm2 = 1;

void check_unit_mixups(const chip_spec& spec) {
  if (spec.memory && spec.memory->bandwidth_gb_s) {
    const auto& bw = *spec.memory->bandwidth_gb_s;
    if (bw.lo > 0 && bw.lo < min_dram_bandwidth_gb_s)
      throw spec_error(
          spec.file, "$.memory.bandwidth_gb_s",
          fmt::format("{} GB/s is implausibly low for DRAM: expected GB/s (10^9 bytes/s); was TB/s "
                      "given (then write {})?",
                      bw.lo, bw.lo * 1000));
  }
  if (spec.hbm_stack && spec.hbm_stack->bandwidth_gb_s > 0 &&
      spec.hbm_stack->bandwidth_gb_s < min_dram_bandwidth_gb_s)
    throw spec_error(
        spec.file, "$.hbm_stack.bandwidth_gb_s",
        fmt::format("{} GB/s is implausibly low for an HBM stack: expected GB/s; was TB/s given?",
                    spec.hbm_stack->bandwidth_gb_s));
  if (spec.interconnect) {
    const auto& io = spec.interconnect->bidirectional_gb_s;
    if (io.lo > 0 && io.lo < min_io_bandwidth_gb_s)
      throw spec_error(
          spec.file, "$.interconnect.bidirectional_gb_s",
          fmt::format("{} GB/s is implausibly low: expected GB/s (10^9 bytes/s); was TB/s given?",
                      io.lo));
  }
  for (std::size_t i = 0; i < spec.dies.size(); ++i) {
    const auto& a = spec.dies[i].area_mm2;
    if (a && a->lo < min_die_area_mm2)
      throw spec_error(
          spec.file, fmt::format("$.dies[{}].area_mm2", i),
          fmt::format("{} mm^2 is implausibly small for a die: expected mm^2; was cm^2 given?",
                      a->lo));
  }
}

void check_rates(const chip_spec& spec, const metric_definitions& defs,
                 std::vector<spec_warning>& warnings) {
  for (std::size_t i = 0; i < spec.units.size(); ++i) {
    const auto& u = spec.units[i];
    const std::string path = fmt::format("$.processing_units[{}]", i);
    // units x clock x ops per clock against the quoted dense rate.
    if (u.count && u.clock_mhz) {
      for (auto p : all_precisions) {
        const auto& opc = u.ops_per_clock_per_unit[index_of(p)];
        const auto& rate = u.dense_tops[index_of(p)];
        if (!opc || !rate) continue;
        const double derived =
            static_cast<double>(*u.count) * u.clock_mhz->mid() * 1e6 * *opc / 1e12;
        if (std::fabs(derived - rate->mid()) > ops_per_clock_tolerance * rate->mid()) {
          warnings.push_back(
              {spec.file, path + ".dense_tops." + std::string(to_string(p)),
               fmt::format(
                   "{} x {} MHz x {} ops/clock = {:.1f} x 10^12 ops/s, but the sheet quotes {} "
                   "(more than {:.0f} % apart)",
                   *u.count, u.clock_mhz->mid(), *opc, derived, rate->mid(),
                   100 * ops_per_clock_tolerance)});
        }
      }
    }
    // Bit length x rate ties: tensor units usually give the same TPP at every precision.
    std::vector<std::pair<precision, double>> tpp;
    for (auto p : all_precisions) {
      if (const auto& rate = u.dense_tops[index_of(p)])
        tpp.emplace_back(p, rate->mid() * defs.bit_length[index_of(p)].value);
    }
    if (tpp.size() < 3) continue;
    std::vector<double> values;
    for (const auto& [p, t] : tpp) values.push_back(t);
    std::nth_element(values.begin(),
                     values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2), values.end());
    const double median = values[values.size() / 2];
    for (const auto& [p, t] : tpp) {
      if (median > 0 && t > precision_tie_factor * median) {
        warnings.push_back(
            {spec.file, path + ".dense_tops." + std::string(to_string(p)),
             fmt::format("{} x {} bits = TPP {:.0f} is {:.2f} x the unit's median over precisions "
                         "({:.0f}): a sparse figure quoted as dense?",
                         to_string(p), defs.bit_length[index_of(p)].value, t, t / median, median)});
      }
    }
  }
}

// A processing IC needs a positive dense rate: without one its TPP is unknown, and a
// classification from it would read "not controlled" for want of data.
void check_has_rate(const chip_spec& spec, std::vector<spec_warning>& findings) {
  if (spec.kind != part_kind::ic) return;
  for (const auto& u : spec.units) {
    for (const auto& r : u.dense_tops) {
      if (r && r->hi > 0) return;
    }
  }
  findings.push_back(
      {spec.file, "$.processing_units",
       spec.units.empty()
           ? "an IC lists no processing unit: expected at least one with a positive dense rate "
             "(10^12 ops/s); its TPP is unknown and its classification undetermined"
           : "no processing unit gives a positive dense rate: expected at least one rate above "
             "0 (10^12 ops/s); its TPP is unknown and its classification undetermined",
       true});
}

void check_physical(const chip_spec& spec, const physical_limits& lim,
                    std::vector<spec_warning>& warnings) {
  for (std::size_t i = 0; i < spec.dies.size(); ++i) {
    const auto& d = spec.dies[i];
    const std::string path = fmt::format("$.dies[{}]", i);
    if (d.area_mm2 && d.area_mm2->hi > lim.reticle_field_mm2)
      warnings.push_back(
          {spec.file, path + ".area_mm2",
           fmt::format(
               "{} mm^2 exceeds the {} mm^2 reticle field of one exposure: a monolithic die "
               "this large needs stitching (wafer-scale); is a multi-die package listed as one "
               "die?",
               d.area_mm2->hi, lim.reticle_field_mm2)});
    if (d.kind != die_kind::logic || !d.area_mm2 || !d.transistors || d.area_mm2->lo <= 0) continue;
    // Densest reading: most transistors on the smallest area.
    const double density = d.transistors->hi / d.area_mm2->lo / 1e6;
    if (density > lim.impossible_density_mtr_mm2)
      throw spec_error(
          spec.file, path + ".transistors",
          fmt::format(
              "{:.4g} transistors on {} mm^2 is {:.0f} million per mm^2, above the {:.0f} no "
              "logic process reaches: is the area in cm^2, or the package's transistors given "
              "for one die?",
              d.transistors->hi, d.area_mm2->lo, density, lim.impossible_density_mtr_mm2));
    if (!d.node_nm) continue;
    for (const auto& n : lim.nodes) {
      if (*d.node_nm < n.node_nm_at_least) continue;
      if (density > n.unlikely_above_mtr_mm2)
        warnings.push_back(
            {spec.file, path + ".transistors",
             fmt::format(
                 "{:.4g} transistors on {} mm^2 is {:.0f} million per mm^2, above the {:.0f} "
                 "expected at {} nm ({}): check the area and the transistor count",
                 d.transistors->hi, d.area_mm2->lo, density, n.unlikely_above_mtr_mm2, *d.node_nm,
                 n.process)});
      break;
    }
  }
  for (std::size_t i = 0; i < spec.units.size(); ++i) {
    const auto& u = spec.units[i];
    const std::string path = fmt::format("$.processing_units[{}]", i);
    if (u.clock_mhz) {
      const auto& c = *u.clock_mhz;
      if (c.lo < lim.clock_impossible_below_mhz)
        throw spec_error(
            spec.file, path + ".clock_mhz",
            fmt::format(
                "{} MHz is below the {} MHz any processing unit runs at: expected MHz; was GHz "
                "given (then write {})?",
                c.lo, lim.clock_impossible_below_mhz, c.lo * 1000));
      if (c.lo < lim.clock_unlikely_below_mhz || c.hi > lim.clock_unlikely_above_mhz)
        warnings.push_back(
            {spec.file, path + ".clock_mhz",
             fmt::format("a clock of {} MHz lies outside the usual {} to {} MHz: check the unit",
                         c.lo < lim.clock_unlikely_below_mhz ? c.lo : c.hi,
                         lim.clock_unlikely_below_mhz, lim.clock_unlikely_above_mhz)});
    }
    if (!u.count || !u.clock_mhz) continue;
    for (auto p : all_precisions) {
      const auto& opc = u.ops_per_clock_per_unit[index_of(p)];
      const auto& rate = u.dense_tops[index_of(p)];
      if (!opc || !rate || *opc <= 0) continue;
      const double derived_lo = static_cast<double>(*u.count) * u.clock_mhz->lo * 1e6 * *opc / 1e12;
      const double derived_hi = static_cast<double>(*u.count) * u.clock_mhz->hi * 1e6 * *opc / 1e12;
      const double f = lim.rate_impossible_factor;
      if (rate->lo > derived_hi * f || rate->hi * f < derived_lo)
        throw spec_error(
            spec.file, path + ".dense_tops." + std::string(to_string(p)),
            fmt::format(
                "the quoted {} x 10^12 ops/s is at least {} x away from units x clock x "
                "ops/clock = {} x {} MHz x {} = {:.4g}: the sheet contradicts itself (a sparse "
                "rate quoted as dense?)",
                rate->is_range() ? fmt::format("[{}, {}]", rate->lo, rate->hi)
                                 : fmt::format("{}", rate->lo),
                f, *u.count, u.clock_mhz->mid(), *opc, (derived_lo + derived_hi) / 2));
    }
  }
}

double positive_number(const json_node& n, std::string_view unit) {
  return n.number_in(1e-9, 1e9, unit);
}

}  // namespace

physical_limits physical_limits::load(const std::string& path) {
  const auto doc = read_json_file(path);
  const json_node root(doc, path);
  root.expect_keys({"schema", "title", "notes", "logic_transistor_density", "reticle_field_mm2",
                    "clock_mhz", "rate_vs_units_clock"});
  if (root.at("schema").string() != "chipgauge.physical/1")
    root.at("schema").fail("expected \"chipgauge.physical/1\"");
  physical_limits l;
  l.file = path;
  const auto d = root.at("logic_transistor_density");
  d.expect_keys({"impossible_above_mtr_mm2", "impossible_note", "nodes", "evidence", "sources"});
  l.impossible_density_mtr_mm2 =
      positive_number(d.at("impossible_above_mtr_mm2"), "10^6 transistors/mm^2");
  for (const auto& n : d.at("nodes").elements()) {
    n.expect_keys({"node_nm_at_least", "unlikely_above_mtr_mm2", "process"});
    physical_limits::node_density nd{
        n.at("node_nm_at_least").number_in(0, 1000, "nm"),
        positive_number(n.at("unlikely_above_mtr_mm2"), "10^6 transistors/mm^2"),
        n.at("process").string()};
    if (!l.nodes.empty() && nd.node_nm_at_least >= l.nodes.back().node_nm_at_least)
      n.at("node_nm_at_least")
          .fail("expected nodes ordered from the largest node_nm_at_least down");
    if (nd.unlikely_above_mtr_mm2 > l.impossible_density_mtr_mm2)
      n.at("unlikely_above_mtr_mm2").fail("expected at most impossible_above_mtr_mm2");
    l.nodes.push_back(std::move(nd));
  }
  if (l.nodes.empty() || l.nodes.back().node_nm_at_least != 0)
    d.at("nodes").fail("expected a last entry with node_nm_at_least 0, so every node has a bound");
  const auto r = root.at("reticle_field_mm2");
  r.expect_keys({"value", "note", "evidence", "sources"});
  l.reticle_field_mm2 = positive_number(r.at("value"), "mm^2");
  const auto c = root.at("clock_mhz");
  c.expect_keys({"impossible_below", "unlikely_below", "unlikely_above", "note"});
  l.clock_impossible_below_mhz = positive_number(c.at("impossible_below"), "MHz");
  l.clock_unlikely_below_mhz = positive_number(c.at("unlikely_below"), "MHz");
  l.clock_unlikely_above_mhz = positive_number(c.at("unlikely_above"), "MHz");
  if (!(l.clock_impossible_below_mhz <= l.clock_unlikely_below_mhz &&
        l.clock_unlikely_below_mhz < l.clock_unlikely_above_mhz))
    c.fail("expected impossible_below <= unlikely_below < unlikely_above");
  const auto f = root.at("rate_vs_units_clock");
  f.expect_keys({"impossible_factor", "note"});
  l.rate_impossible_factor = f.at("impossible_factor").number_in(1.01, 100, "factor");
  return l;
}

std::vector<spec_warning> validate_spec(const chip_spec& spec, const metric_definitions& defs,
                                        const physical_limits* physical) {
  std::vector<spec_warning> warnings;
  check_unit_mixups(spec);
  if (physical) check_physical(spec, *physical, warnings);
  check_rates(spec, defs, warnings);
  check_has_rate(spec, warnings);
  // Inline components are sheets too: the same checks apply to them.
  for (const auto& c : spec.contains) {
    if (!c.inline_spec) continue;
    auto inner = validate_spec(*c.inline_spec, defs, physical);
    warnings.insert(warnings.end(), inner.begin(), inner.end());
  }
  const auto high = compute_metrics(spec, defs, range_end::most_control);
  if (high.tpp > spec_limits::max_tpp) {
    throw spec_error(
        spec.file, "$.processing_units",
        fmt::format(
            "computed TPP {:.0f} is absurd: expected at most {:.0e}; are rates in 10^12 ops/s "
            "(TOPS/TFLOPS), dense?",
            high.tpp, spec_limits::max_tpp));
  }
  if (spec.declared && spec.declared->tpp) {
    const auto nominal = compute_metrics(spec, defs);
    const double d = *spec.declared->tpp;
    if (nominal.tpp > 0 && std::fabs(d - nominal.tpp) > declared_tpp_tolerance * nominal.tpp) {
      warnings.push_back(
          {spec.file, "$.declared.tpp",
           fmt::format(
               "declared TPP {:.0f} differs from the computed {:.0f} by {:+.1f} % (tolerance "
               "{:.0f} %)",
               d, nominal.tpp, 100 * (d - nominal.tpp) / nominal.tpp,
               100 * declared_tpp_tolerance)});
    }
  }
  return warnings;
}

spec_database spec_database::load(const std::string& dir, const metric_definitions& defs,
                                  std::shared_ptr<const physical_limits> physical) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw spec_error(dir, "$", "not a directory: expected the spec-sheet directory (specs/chips)");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  spec_database db;
  db.physical_ = std::move(physical);
  for (const auto& f : files) {
    auto spec = std::make_unique<chip_spec>(load_spec_file(f.string()));
    if (const auto* other = db.find(spec->id))
      throw spec_error(
          spec->file, "$.id",
          fmt::format("duplicate id '{}': also used by {}", quote_input(spec->id), other->file));
    if (f.stem().string() != spec->id)
      throw spec_error(
          spec->file, "$.id",
          fmt::format("id '{}' differs from the file name: expected '{}.json' or id '{}'", spec->id,
                      spec->id, f.stem().string()));
    db.parts_.push_back(std::move(spec));
  }
  check_identities_unique(db.parts_);
  for (auto& p : db.parts_) db.resolve(*p, 0);
  for (const auto& p : db.parts_) {
    auto w = validate_spec(*p, defs, db.physical_.get());
    for (const auto& f : w) {
      if (f.error) throw spec_error(f.file, f.json_path, f.message);
    }
    db.warnings_.insert(db.warnings_.end(), w.begin(), w.end());
  }
  return db;
}

const chip_spec& spec_database::add_external(chip_spec spec, const metric_definitions& defs) {
  auto p = prepare_external(std::move(spec), defs, warnings_);
  parts_.push_back(std::move(p));
  return *parts_.back();
}

std::unique_ptr<chip_spec> spec_database::prepare_external(
    chip_spec spec, const metric_definitions& defs, std::vector<spec_warning>& findings) const {
  auto p = std::make_unique<chip_spec>(std::move(spec));
  resolve(*p, 0);
  auto w = validate_spec(*p, defs, physical_.get());
  findings.insert(findings.end(), w.begin(), w.end());
  return p;
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

void spec_database::resolve(chip_spec& spec, int depth) const {
  if (depth > max_nesting)
    throw spec_error(spec.file, "$.contains",
                     fmt::format("components nest deeper than {} levels", max_nesting));
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
      if (auto near = suggest(c.id); !near.empty())
        hint = fmt::format(" (did you mean '{}'?)", near);
      throw spec_error(
          spec.file, c.json_path + ".id",
          fmt::format("unknown part '{}'{}: a component must name a sheet in the database",
                      quote_input(c.id), hint));
    }
    if (target == &spec)
      throw spec_error(spec.file, c.json_path + ".id", "a part cannot contain itself");
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
      throw spec_error(root.file, "$.contains",
                       fmt::format("components form a cycle: {}{}", chain, s.id));
    }
    if (path.size() > static_cast<std::size_t>(max_nesting))
      throw spec_error(root.file, "$.contains",
                       fmt::format("components nest deeper than {} levels", max_nesting));
    path.push_back(&s);
    for (const auto& c : s.contains) {
      if (c.resolved) self(self, *c.resolved);
    }
    path.pop_back();
  };
  walk(walk, root);
}

}  // namespace chipgauge::classifier
