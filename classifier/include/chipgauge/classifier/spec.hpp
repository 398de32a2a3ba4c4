#pragma once

#include "chipgauge/core/date.hpp"

#include "chipgauge/classifier/precision.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::classifier {

/// A quoted value or an uncertainty range [lo, hi] (lo <= hi). A single value has lo == hi.
struct value_range {
  double lo = 0;
  double hi = 0;

  [[nodiscard]] bool is_range() const noexcept { return lo != hi; }
  [[nodiscard]] double mid() const noexcept { return (lo + hi) / 2; }
};

/// Where in every range a computation takes its values: t = 0 is the end against control (low
/// rates and bandwidths, large areas, few transistors), t = 1 the end favouring control, 0.5 the
/// midpoints. Single values ignore it.
struct range_end {
  double t = 0.5;

  static const range_end nominal;
  static const range_end most_control;
  static const range_end least_control;

  friend constexpr bool operator==(const range_end&, const range_end&) = default;
};
inline constexpr range_end range_end::nominal{0.5};
inline constexpr range_end range_end::most_control{1.0};
inline constexpr range_end range_end::least_control{0.0};

/// How the part is integrated: an IC (3A090), a board or system containing ICs (4A090), or an
/// HBM stack (3A090.c).
enum class part_kind : unsigned char { ic, board, system, hbm };
std::string_view to_string(part_kind k) noexcept;

/// The quality of a spec sheet's data, strongest first.
enum class data_evidence : unsigned char {
  vendor_datasheet,
  vendor_whitepaper,
  analyst,
  estimate,
  unspecified
};
std::string_view to_string(data_evidence e) noexcept;

enum class die_kind : unsigned char { logic, memory, io, other };
std::string_view to_string(die_kind k) noexcept;

struct processing_unit {
  std::string name;
  std::optional<long long> count;
  std::optional<value_range> clock_mhz;
  per_precision<value_range> dense_tops;   ///< 10^12 dense operations per second
  per_precision<value_range> sparse_tops;  ///< informative only; never used for TPP
  per_precision<double> ops_per_clock_per_unit;
  std::string note;
};

struct die {
  std::string name;
  die_kind kind = die_kind::logic;
  long long count = 1;
  std::optional<value_range> area_mm2;  ///< one die; absent when unpublished (PD is then unknown)
  std::optional<data_evidence> area_evidence;
  std::string process;
  std::optional<double> node_nm;
  bool non_planar = false;
  std::optional<value_range> transistors;  ///< one die
};

struct memory_spec {
  std::string type;
  std::optional<double> capacity_gb;
  std::optional<value_range> bandwidth_gb_s;  ///< total DRAM interface bandwidth, 10^9 bytes/s
};

struct io_link {
  std::string kind;
  double bidirectional_gb_s = 0;
};

struct interconnect_spec {
  value_range bidirectional_gb_s;  ///< aggregate over all I/O to non-memory ICs, 10^9 bytes/s
  std::string kind;
  std::vector<io_link> links;
};

struct hbm_stack_spec {
  double bandwidth_gb_s = 0;
  value_range area_mm2;
  std::string standard;
};

/// A published attestation about the part (vendor filing, government list, analyst table).
struct declared_spec {
  std::optional<double> tpp;
  std::string eccn;           ///< as published: an entry ("3A090") or a paragraph ("3A090.a")
  std::optional<date> as_of;  ///< the day whose rules `eccn` speaks for; required with `eccn`
  std::string by;
  std::string source;
};

struct source_ref {
  std::string url;
  std::string title;
  std::vector<std::string> supports;
};

/// "Designed or marketed for use in datacenters" (Note 2 to 3A090). When a sheet omits it the
/// part is treated as a datacenter part (conservative) and `defaulted` records that.
struct datacenter_claim {
  bool value = true;
  std::string evidence;
  bool defaulted = true;
};

/// A PCI function id as `lspci -n` and NVML report it. The subsystem pair is given where it
/// tells bins of one device id apart (two SKUs on one die); matching then requires it.
struct pci_id {
  std::uint16_t vendor = 0;
  std::uint16_t device = 0;
  std::optional<std::uint16_t> subsystem_vendor;
  std::optional<std::uint16_t> subsystem_device;
  std::string json_path;  ///< for errors about this entry
};

/// A CPU as CPUID reports it: the vendor string, the display family and models, and brand-string
/// fragments that single out this SKU among the models' other SKUs.
struct cpu_identity {
  std::string vendor;       ///< "GenuineIntel", "AuthenticAMD", "ARM" (MIDR implementer name)
  int family = 0;           ///< display family (base + extended), as /proc/cpuinfo "cpu family"
  std::vector<int> models;  ///< display models, as /proc/cpuinfo "model"
  std::vector<std::string>
      brands;  ///< substrings of the brand string ("EPYC 9654"), matched case-insensitively
};

/// How a device reports itself, so a measured device can be matched to this sheet by data
/// (`chipgauge certify`): PCI ids, the names drivers report, or the CPU's CPUID identity.
struct part_identity {
  std::vector<pci_id> pci;
  std::vector<std::string> names;  ///< device names as the driver reports them (NVML, CUDA, ROCm),
                                   ///< exact, case-insensitive
  std::optional<cpu_identity> cpu;
};

/// Whether the part was commercially available in the United States on a date, with the evidence
/// (the 2026 China zone's condition, 91 FR 1684). Absent from a sheet: unknown.
struct us_availability_claim {
  bool value = false;
  date as_of;
  std::string evidence;
};

struct chip_spec;

/// A component of a board or system: a reference to a database id, or an inline sheet.
struct component {
  std::string id;  ///< the referenced id, or the inline sheet's id
  std::shared_ptr<const chip_spec> inline_spec;
  const chip_spec* resolved = nullptr;  ///< set by spec_database::resolve
  long long count = 1;
  std::string json_path;  ///< for errors about this reference
};

/// One part as described by a `chipgauge.spec/1` sheet (docs/spec-format.md).
struct chip_spec {
  std::string file;  ///< where it was read from (an inline component keeps its outer sheet's file)
  std::string id;
  std::string vendor;
  std::string name;
  part_kind kind = part_kind::ic;
  data_evidence evidence = data_evidence::unspecified;
  datacenter_claim datacenter;
  std::optional<part_identity> identity;
  std::optional<us_availability_claim> us_commercial_availability;
  std::vector<processing_unit> units;
  std::vector<die> dies;
  std::optional<memory_spec> memory;
  std::optional<interconnect_spec> interconnect;
  std::optional<hbm_stack_spec> hbm_stack;
  std::vector<component> contains;
  std::optional<declared_spec> declared;
  std::vector<source_ref> sources;
  std::vector<std::string> notes;

  /// True when any quoted value is a range (classification then checks both ends).
  [[nodiscard]] bool has_ranges() const noexcept;
  /// True when the memory type names HBM ("HBM2e", "HBM3", ...).
  [[nodiscard]] bool has_hbm() const noexcept;
};

/// Parses a spec sheet from JSON text. Throws spec_error naming `file`, the JSON path and the
/// expectation. Structure only: cross-checks that need the metric definitions (computed TPP
/// limits) happen in validate_spec.
chip_spec parse_spec(std::string_view json_text, const std::string& file);
/// Reads and parses a spec sheet file.
chip_spec load_spec_file(const std::string& path);

}  // namespace chipgauge::classifier
