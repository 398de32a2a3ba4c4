#pragma once

// Matching a measured device to its spec sheet by data (the sheets' `identity` block), never by a
// guess on its name: PCI id with subsystem > PCI id alone > driver name > CPU vendor, family and
// model (with a brand fragment where the sheet gives one).

#include "chipgauge/bench/backend.hpp"
#include "chipgauge/classifier/database.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::certify {

/// A device property (backend.hpp lists the identity keys); nullopt when absent or empty.
std::optional<std::string> property(const bench::device_info& d, std::string_view key);

/// How a sheet was chosen for a device, strongest first; `none`: an unknown part.
enum class match_method : unsigned char { spec_option, pci_subsystem, pci, name, cpu, none };
const char* to_string(match_method m) noexcept;

struct sheet_match {
  const classifier::chip_spec* sheet =
      nullptr;  ///< null: unknown part (certified against its derived peaks only)
  match_method method = match_method::none;
  std::string detail;  ///< what matched ("PCI 10de:2335 subsystem 10de:18be"), or why none did
  std::vector<std::string>
      findings;  ///< a --spec sheet that could not be confirmed, an ambiguous match
};

/// The strongest identity match in `db` for `d`. Two sheets at the same strength (possible only for
/// CPU identities, which the loader cannot keep apart) are no match: the part is unknown, with why.
sheet_match match_sheet(const classifier::spec_database& db, const bench::device_info& d);

/// A sheet given with --spec: accepted when its identity matches the device, refused (usage_error,
/// exit 2) when its identity contradicts what the device reports (another PCI id, another CPU
/// family or model) or, with no identity to compare, when the vendor or model number differs
/// (bench::check_sheet_matches, as `classify --measured --spec` does).
sheet_match check_spec_sheet(const classifier::chip_spec& sheet, const bench::device_info& d);

/// The architecture an architecture-level envelope names the device by: "x86-64" for the CPU
/// backend on x86-64, the compute capability ("9.0") for CUDA; empty when unknown.
std::string architecture_of(const bench::device_info& d);

}  // namespace chipgauge::certify
