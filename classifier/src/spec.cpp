#include "chipgauge/classifier/spec.hpp"

#include <algorithm>
#include <cctype>

namespace chipgauge::classifier {

std::string_view to_string(part_kind k) noexcept {
  switch (k) {
    case part_kind::ic: return "ic";
    case part_kind::board: return "board";
    case part_kind::system: return "system";
    case part_kind::hbm: return "hbm";
  }
  return "?";
}

std::string_view to_string(data_evidence e) noexcept {
  switch (e) {
    case data_evidence::vendor_datasheet: return "vendor_datasheet";
    case data_evidence::vendor_whitepaper: return "vendor_whitepaper";
    case data_evidence::analyst: return "analyst";
    case data_evidence::estimate: return "estimate";
    case data_evidence::unspecified: return "unspecified";
  }
  return "?";
}

std::string_view to_string(die_kind k) noexcept {
  switch (k) {
    case die_kind::logic: return "logic";
    case die_kind::memory: return "memory";
    case die_kind::io: return "io";
    case die_kind::other: return "other";
  }
  return "?";
}

bool chip_spec::has_ranges() const noexcept {
  for (const auto& u : units) {
    for (const auto& r : u.dense_tops) {
      if (r && r->is_range()) return true;
    }
  }
  for (const auto& d : dies) {
    if ((d.area_mm2 && d.area_mm2->is_range()) || (d.transistors && d.transistors->is_range()))
      return true;
  }
  if (hbm_stack && hbm_stack->area_mm2.is_range()) return true;
  if (memory && memory->bandwidth_gb_s && memory->bandwidth_gb_s->is_range()) return true;
  if (interconnect && interconnect->bidirectional_gb_s.is_range()) return true;
  for (const auto& c : contains) {
    if (c.resolved && c.resolved->has_ranges()) return true;
  }
  return false;
}

bool chip_spec::has_hbm() const noexcept {
  if (!memory) return false;
  const auto& t = memory->type;
  return t.size() >= 3 && std::toupper(static_cast<unsigned char>(t[0])) == 'H' &&
         std::toupper(static_cast<unsigned char>(t[1])) == 'B' &&
         std::toupper(static_cast<unsigned char>(t[2])) == 'M';
}

}  // namespace chipgauge::classifier
