#include "chipgauge/certify/envelope.hpp"

#include "chipgauge/classifier/precision.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "chipgauge/core/text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <tuple>

using chipgauge::classifier::chip_spec;
using chipgauge::classifier::index_of;
using chipgauge::classifier::parse_precision;
using chipgauge::classifier::spec_database;

namespace chipgauge::certify {

namespace {

// A floor outside this share of the part's peak is a unit slip or a typo, never a threshold: DCGM's
// H200 memory floor of 2,333 MB/s (0.05 % of 4,800 GB/s) is the case it catches.
constexpr double min_floor_fraction = 0.10;
constexpr double max_floor_fraction = 1.10;
// A ceiling may sit above the peak (computed peaks differ from datasheet ones by a few %), not by
// 2x.
constexpr double max_ceiling_fraction = 2.0;
// The absolute figure and the fraction must say the same thing, to rounding.
constexpr double fraction_agreement = 0.01;

const std::vector<std::string_view> evidence_levels = {
    "datasheet", "vendor_tool_threshold", "published_measurement", "project_measurement",
    "engineering_judgement"};

// The peak a per-SKU check's fractions are of, from the sheet: "memory.bandwidth_gb_s" or
// "dense_tops.<precision>" (summed over processing units, the upper end of a range).
std::pair<double, bool> sheet_peak(const json_node& at, const chip_spec& sheet,
                                   std::string& basis) {
  const auto field = at.string();
  if (field == "memory.bandwidth_gb_s") {
    if (!sheet.memory || !sheet.memory->bandwidth_gb_s)
      at.fail(fmt::format("sheet {} has no memory.bandwidth_gb_s", sheet.id));
    const double gb = sheet.memory->bandwidth_gb_s->hi;
    basis = fmt::format("memory.bandwidth_gb_s of {}: {} GB/s", sheet.id, group_thousands(gb));
    return {gb * 1e9, true};
  }
  if (field == "pcie.per_direction_gb_s") {
    // The sheet's PCIe link (interconnect.links, kind "PCIe ..."): half its bidirectional rate.
    if (sheet.interconnect) {
      for (const auto& l : sheet.interconnect->links) {
        if (l.kind.rfind("PCIe", 0) != 0) continue;
        const double gb = l.bidirectional_gb_s / 2;
        basis = fmt::format("PCIe link of {} ({}): {} GB/s per direction", sheet.id, l.kind,
                            group_thousands(gb));
        return {gb * 1e9, true};
      }
    }
    at.fail(fmt::format("sheet {} lists no PCIe link in interconnect.links", sheet.id));
  }
  if (field.rfind("dense_tops.", 0) == 0) {
    const auto p = parse_precision(field.substr(11));
    if (!p)
      at.fail(fmt::format(
          "unknown precision in '{}': expected dense_tops.fp64, .fp32, .tf32, .bf16, .fp16, "
          ".fp8, .int8, ...",
          field));
    double tops = 0;
    for (const auto& u : sheet.units) {
      if (const auto& r = u.dense_tops[index_of(*p)]) tops += r->hi;
    }
    if (tops <= 0) at.fail(fmt::format("sheet {} gives no dense {} rate", sheet.id, to_string(*p)));
    basis = fmt::format("{} of {}: {} TOPS", field, sheet.id,
                        group_thousands(tops, tops < 100 ? 1 : 0));
    return {tops * 1e12, false};
  }
  at.fail(fmt::format(
      "unknown sheet field '{}': expected memory.bandwidth_gb_s, pcie.per_direction_gb_s or "
      "dense_tops.<precision>",
      field));
}

envelope_bound parse_bound(const json_node& n, envelope_scope scope, bool is_floor) {
  envelope_bound b;
  if (scope == envelope_scope::architecture) {
    n.expect_keys({"fraction"});
    b.fraction =
        n.at("fraction").number_in(0, 10, "fraction of the theoretical peak at the measured clock");
    return b;
  }
  n.expect_keys({"value", "unit", "fraction"});
  b.value = n.at("value").number_in(0, 1e18, n.find("unit") ? n.at("unit").string() : "the unit");
  b.unit = n.at("unit").string();
  const auto scale = unit_scale(b.unit);
  if (!scale)
    n.at("unit").fail(fmt::format(
        "unknown unit '{}': expected GB/s, MB/s, MiB/s, GiB/s, TB/s, GFLOP/s, TFLOP/s, GOPS or "
        "TOPS",
        b.unit));
  b.base = *b.value * scale->first;
  b.fraction = n.at("fraction").number_in(0, 10, "fraction of the sheet's peak");
  (void)is_floor;
  return b;
}

}  // namespace

std::optional<std::pair<double, bool>> unit_scale(std::string_view unit) {
  static const std::pair<std::string_view, std::pair<double, bool>> units[] = {
      {"TB/s", {1e12, true}},          {"GB/s", {1e9, true}},        {"MB/s", {1e6, true}},
      {"GiB/s", {1073741824.0, true}}, {"MiB/s", {1048576.0, true}}, {"TFLOP/s", {1e12, false}},
      {"GFLOP/s", {1e9, false}},       {"TOPS", {1e12, false}},      {"GOPS", {1e9, false}}};
  for (const auto& [name, scale] : units) {
    if (name == unit) return scale;
  }
  return std::nullopt;
}

const envelope_reference* envelope::reference(const std::string& ref_id) const {
  for (const auto& r : references) {
    if (r.id == ref_id) return &r;
  }
  return nullptr;
}

envelope parse_envelope(std::string_view text, const std::string& file, const spec_database& db) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw spec_error(file, "$", fmt::format("not valid JSON: {}", e.what()));
  }
  const json_node root(doc, file);
  root.expect_keys({"schema", "id", "scope", "part", "backend", "architecture", "description",
                    "references", "telemetry", "checks", "notes"});
  if (root.at("schema").string() != "chipgauge.envelope/1")
    root.at("schema").fail("expected \"chipgauge.envelope/1\"");
  envelope e;
  e.file = file;
  e.id = root.at("id").string();
  e.scope = root.at("scope").one_of({"sku", "architecture"}) == "sku"
                ? envelope_scope::sku
                : envelope_scope::architecture;
  e.description = root.at("description").string();
  const chip_spec* sheet = nullptr;
  if (e.scope == envelope_scope::sku) {
    if (root.find("backend") || root.find("architecture"))
      root.fail("a sku envelope names its sheet in 'part', not a backend or architecture");
    e.part = root.at("part").string();
    sheet = db.find(e.part);
    if (!sheet) root.at("part").fail(fmt::format("no sheet '{}' in the parts database", e.part));
  } else {
    if (root.find("part"))
      root.at("part").fail(
          "an architecture envelope names 'backend' and 'architecture', not a part");
    e.backend = root.at("backend").one_of({"cpu", "cuda"});
    e.architecture = root.at("architecture").string();
  }
  for (const auto& r : root.at("references").elements()) {
    r.expect_keys({"id", "url", "title"});
    envelope_reference ref{r.at("id").string(), r.at("url").string(), r.at("title").string()};
    if (ref.url.rfind("https://", 0) != 0 && ref.url.rfind("http://", 0) != 0 &&
        ref.url.rfind("docs/", 0) != 0)
      r.at("url").fail("expected an http(s) URL, or a page of this repository's docs/");
    if (e.reference(ref.id)) r.at("id").fail(fmt::format("reference '{}' given twice", ref.id));
    e.references.push_back(std::move(ref));
  }
  const auto t = root.at("telemetry");
  t.expect_keys({"throttle_reasons", "ecc_uncorrectable", "pcie_link", "temperature"});
  if (const auto v = t.find("throttle_reasons"))
    e.telemetry.throttle_idle_only = v->one_of({"idle_only"}) == "idle_only";
  if (const auto v = t.find("ecc_uncorrectable"))
    e.telemetry.ecc_unchanged = v->one_of({"unchanged"}) == "unchanged";
  if (const auto v = t.find("pcie_link"))
    e.telemetry.pcie_at_maximum = v->one_of({"at_maximum"}) == "at_maximum";
  if (const auto v = t.find("temperature"))
    e.telemetry.temperature_under_limit = v->one_of({"under_slowdown"}) == "under_slowdown";

  for (const auto& c : root.at("checks").elements()) {
    c.expect_keys(
        {"benchmark", "peak", "floor", "ceiling", "reference", "evidence", "optional", "note"});
    envelope_check k;
    k.json_path = c.path();
    k.benchmark = c.at("benchmark").string();
    for (const auto& other : e.checks) {
      if (other.benchmark == k.benchmark)
        c.at("benchmark").fail(fmt::format("benchmark '{}' has two checks", k.benchmark));
    }
    k.reference = c.at("reference").string();
    if (!e.reference(k.reference))
      c.at("reference").fail(fmt::format("no reference '{}' in $.references", k.reference));
    k.evidence = c.at("evidence").string();
    if (std::find(evidence_levels.begin(), evidence_levels.end(), k.evidence) ==
        evidence_levels.end())
      c.at("evidence")
          .fail(
              "expected datasheet, vendor_tool_threshold, published_measurement, "
              "project_measurement or engineering_judgement");
    if (const auto o = c.find("optional")) k.optional = o->boolean();
    if (const auto n = c.find("note")) k.note = n->string();
    if (const auto f = c.find("floor")) k.floor = parse_bound(*f, e.scope, true);
    if (const auto f = c.find("ceiling")) k.ceiling = parse_bound(*f, e.scope, false);
    if (!k.floor && !k.ceiling) c.fail("a check needs a floor, a ceiling or both");
    bool bytes = false;
    if (e.scope == envelope_scope::sku) {
      const auto pk = c.at("peak");
      pk.expect_keys({"sheet"});
      std::tie(k.peak, bytes) = sheet_peak(pk.at("sheet"), *sheet, k.peak_basis);
    } else if (c.find("peak")) {
      c.at("peak").fail(
          "an architecture envelope's fractions are of the theoretical peak at the measured "
          "clock: no 'peak'");
    }
    // The bounds against the peak: the check that catches a unit slip.
    for (const auto& [bound, name] :
         {std::pair{&k.floor, "floor"}, std::pair{&k.ceiling, "ceiling"}}) {
      if (!*bound) continue;
      const auto& b = **bound;
      const auto node = c.at(name);
      const double hi = std::string(name) == "floor" ? max_floor_fraction : max_ceiling_fraction;
      if (b.fraction < min_floor_fraction || b.fraction > hi)
        node.at("fraction")
            .fail(fmt::format(
                "{} fraction {:.4g} is outside [{:.2f}, {:.2f}] of the theoretical peak", name,
                b.fraction, min_floor_fraction, hi));
      if (e.scope != envelope_scope::sku) continue;
      if (unit_scale(b.unit)->second != bytes)
        node.at("unit").fail(fmt::format("unit {} does not measure what the peak does ({})", b.unit,
                                         bytes ? "bytes/s" : "operations/s"));
      const double share = b.base / k.peak;
      if (share < min_floor_fraction || share > hi)
        node.at("value").fail(fmt::format(
            "{} {} {} is {:.4g} % of the peak ({}): outside [{:.0f} %, {:.0f} %], a unit slip "
            "or a typo",
            name, group_thousands(*b.value, *b.value < 100 ? 2 : 0), b.unit, 100 * share,
            k.peak_basis, 100 * min_floor_fraction, 100 * hi));
      if (std::abs(share - b.fraction) > fraction_agreement)
        node.at("fraction")
            .fail(fmt::format(
                "fraction {:.4g} disagrees with the value: {} {} is {:.4g} of the peak ({})",
                b.fraction, group_thousands(*b.value, *b.value < 100 ? 2 : 0), b.unit, share,
                k.peak_basis));
    }
    if (k.floor && k.ceiling && k.ceiling->fraction <= k.floor->fraction)
      c.at("ceiling").at("fraction").fail("the ceiling must lie above the floor");
    e.checks.push_back(std::move(k));
  }
  return e;
}

envelope_set envelope_set::load(const std::string& dir, const spec_database& db) {
  namespace fs = std::filesystem;
  envelope_set set;
  if (!fs::is_directory(dir)) return set;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json")
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    const auto doc = read_json_file(f.string());
    set.add(parse_envelope(doc.dump(), f.string(), db));
  }
  return set;
}

void envelope_set::add(envelope e) {
  for (const auto& o : envelopes_) {
    const bool clash =
        e.scope == o.scope && (e.scope == envelope_scope::sku
                                   ? e.part == o.part
                                   : e.backend == o.backend && e.architecture == o.architecture);
    if (clash || e.id == o.id)
      throw spec_error(
          e.file, "$.id",
          fmt::format("envelope '{}' covers what {} already does ({})", e.id, o.file, o.id));
  }
  envelopes_.push_back(std::move(e));
}

const envelope* envelope_set::for_part(const std::string& sheet_id) const {
  for (const auto& e : envelopes_) {
    if (e.scope == envelope_scope::sku && e.part == sheet_id) return &e;
  }
  return nullptr;
}

const envelope* envelope_set::for_architecture(const std::string& backend,
                                               const std::string& architecture) const {
  for (const auto& e : envelopes_) {
    if (e.scope == envelope_scope::architecture && e.backend == backend &&
        e.architecture == architecture)
      return &e;
  }
  return nullptr;
}

}  // namespace chipgauge::certify
