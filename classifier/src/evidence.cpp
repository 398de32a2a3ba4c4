#include "chipgauge/classifier/evidence.hpp"

namespace chipgauge::classifier {

std::string_view to_string(evidence_tag t) noexcept {
  switch (t) {
    case evidence_tag::V: return "V";
    case evidence_tag::C: return "C";
    case evidence_tag::S: return "S";
    case evidence_tag::R: return "R";
  }
  return "?";
}

std::optional<evidence_tag> parse_evidence_tag(std::string_view text) noexcept {
  if (text == "V") return evidence_tag::V;
  if (text == "C") return evidence_tag::C;
  if (text == "S") return evidence_tag::S;
  if (text == "R") return evidence_tag::R;
  return std::nullopt;
}

std::string_view describe(evidence_tag t) noexcept {
  switch (t) {
    case evidence_tag::V: return "official text";
    case evidence_tag::C: return "arithmetic from given numbers";
    case evidence_tag::S: return "secondary source";
    case evidence_tag::R: return "recollection, not found in text";
  }
  return "?";
}

}  // namespace chipgauge::classifier
