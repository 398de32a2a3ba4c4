#include "chipgauge/certify/identity.hpp"

#include "chipgauge/bench/classify_measured.hpp"
#include "chipgauge/core/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

using chipgauge::classifier::chip_spec;
using chipgauge::classifier::part_identity;
using chipgauge::classifier::part_kind;
using chipgauge::classifier::spec_database;

namespace chipgauge::certify {

namespace {

std::string lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string hex4(std::uint16_t v) { return fmt::format("{:04x}", v); }

// Strength of a sheet's identity against the device (higher is stronger, 0 none), with what
// matched.
std::pair<match_method, std::string> identity_match(const part_identity& id,
                                                    const bench::device_info& d) {
  const auto pci = property(d, "pci_id");
  const auto sub = property(d, "pci_subsystem_id");
  std::pair<match_method, std::string> best{match_method::none, ""};
  if (pci) {
    for (const auto& p : id.pci) {
      if (hex4(p.vendor) + ":" + hex4(p.device) != lower(*pci)) continue;
      if (p.subsystem_vendor && p.subsystem_device) {
        if (sub && hex4(*p.subsystem_vendor) + ":" + hex4(*p.subsystem_device) == lower(*sub))
          return {match_method::pci_subsystem,
                  fmt::format("PCI id {} with subsystem {}", *pci, *sub)};
        continue;  // that subsystem pair singles out another bin of the die
      }
      best = {match_method::pci, fmt::format("PCI id {}", *pci)};
    }
  }
  if (best.first != match_method::none) return best;
  for (const auto& n : id.names) {
    if (lower(n) == lower(d.name))
      return {match_method::name, fmt::format("driver name '{}'", d.name)};
  }
  if (id.cpu && d.backend == "cpu") {
    const auto& c = *id.cpu;
    const auto family = property(d, "family");
    const auto model = property(d, "model");
    if (c.vendor == d.vendor && family && *family == std::to_string(c.family) && model &&
        std::find(c.models.begin(), c.models.end(), std::atoi(model->c_str())) != c.models.end()) {
      if (c.brands.empty())
        return {match_method::cpu,
                fmt::format("CPU {} family {} model {}", d.vendor, *family, *model)};
      for (const auto& b : c.brands) {
        if (lower(d.name).find(lower(b)) != std::string::npos)
          return {match_method::cpu, fmt::format("CPU {} family {} model {}, brand '{}'", d.vendor,
                                                 *family, *model, b)};
      }
    }
  }
  return best;
}

}  // namespace

std::optional<std::string> property(const bench::device_info& d, std::string_view key) {
  for (const auto& [k, v] : d.properties) {
    if (k == key && !v.empty()) return v;
  }
  return std::nullopt;
}

const char* to_string(match_method m) noexcept {
  switch (m) {
    case match_method::spec_option: return "spec_option";
    case match_method::pci_subsystem: return "pci_subsystem";
    case match_method::pci: return "pci";
    case match_method::name: return "name";
    case match_method::cpu: return "cpu";
    case match_method::none: return "none";
  }
  return "none";
}

sheet_match match_sheet(const spec_database& db, const bench::device_info& d) {
  sheet_match out;
  std::vector<std::pair<const chip_spec*, std::string>> best;
  match_method best_method = match_method::none;
  for (const auto& p : db.parts()) {
    if (!p->identity || p->kind != part_kind::ic) continue;
    auto [m, detail] = identity_match(*p->identity, d);
    if (m == match_method::none) continue;
    // match_method is ordered strongest first.
    if (best_method == match_method::none || m < best_method) {
      best_method = m;
      best.clear();
    }
    if (m == best_method) best.emplace_back(p.get(), std::move(detail));
  }
  if (best.size() == 1) {
    out.sheet = best.front().first;
    out.method = best_method;
    out.detail = best.front().second;
    return out;
  }
  if (best.size() > 1) {
    std::string ids;
    for (const auto& [s, _] : best) ids += (ids.empty() ? "" : ", ") + s->id;
    out.detail =
        fmt::format("unknown part: its identity matches {} sheets equally ({}); none is chosen",
                    best.size(), ids);
    out.findings.push_back(out.detail);
    return out;
  }
  std::string what;
  if (const auto pci = property(d, "pci_id")) what = "PCI id " + *pci;
  else if (d.backend == "cpu")
    what = fmt::format("CPU {} family {} model {}", d.vendor, property(d, "family").value_or("?"),
                       property(d, "model").value_or("?"));
  else what = "name '" + d.name + "'";
  out.detail =
      fmt::format("unknown part: no sheet in the database has the identity {} ({})", what, d.name);
  return out;
}

sheet_match check_spec_sheet(const chip_spec& sheet, const bench::device_info& d) {
  if (sheet.kind != part_kind::ic)
    throw usage_error(fmt::format(
        "--spec {} is a {}: a certificate is of one device, so --spec takes an IC sheet", sheet.id,
        to_string(sheet.kind)));
  sheet_match out;
  out.sheet = &sheet;
  out.method = match_method::spec_option;
  if (sheet.identity) {
    const auto [m, detail] = identity_match(*sheet.identity, d);
    const auto pci = property(d, "pci_id");
    const bool pci_comparable = pci && !sheet.identity->pci.empty();
    // A PCI id outranks a name: a device whose PCI id the sheet does not list is another part even
    // when its driver name matches (an H200 given the H100 sheet, both named by one driver string).
    const bool pci_agrees = m == match_method::pci || m == match_method::pci_subsystem;
    if (m != match_method::none && (!pci_comparable || pci_agrees)) {
      out.detail = fmt::format("--spec {}, confirmed by its identity ({})", sheet.id, detail);
      return out;
    }
    // Comparable data that disagrees is a contradiction: the device is another part.
    const bool cpu_comparable = d.backend == "cpu" && sheet.identity->cpu.has_value();
    if (pci_comparable || cpu_comparable) {
      const std::string device_id =
          pci_comparable ? "PCI id " + *pci +
                               (property(d, "pci_subsystem_id")
                                    ? " subsystem " + *property(d, "pci_subsystem_id")
                                    : "")
                         : fmt::format("CPU {} family {} model {} ('{}')", d.vendor,
                                       property(d, "family").value_or("?"),
                                       property(d, "model").value_or("?"), d.name);
      throw usage_error(fmt::format(
          "--spec {}: its identity does not match device {} ({}): the certificate would "
          "describe another part; give the device's own sheet, or none",
          sheet.id, d.id, device_id));
    }
  }
  bench::measured_tpp mt;
  mt.device_id = d.id;
  mt.device_name = d.name;
  mt.device_vendor = d.vendor;
  if (auto unconfirmed = bench::check_sheet_matches(sheet, mt))
    out.findings.push_back(*unconfirmed);
  out.detail = fmt::format(
      "--spec {} (vendor and model number checked; the sheet has no identity this device reports)",
      sheet.id);
  return out;
}

std::string architecture_of(const bench::device_info& d) {
  if (d.backend == "cpu") {
#if defined(__x86_64__) || defined(_M_X64)
    return "x86-64";
#else
    return "";
#endif
  }
  if (d.backend == "cuda") return property(d, "compute_capability").value_or("");
  return property(d, "architecture").value_or("");
}

}  // namespace chipgauge::certify
