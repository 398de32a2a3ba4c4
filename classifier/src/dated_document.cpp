#include "chipgauge/classifier/dated_document.hpp"

namespace chipgauge::classifier {

std::string_view to_string(regime_status s) noexcept {
  switch (s) {
    case regime_status::not_yet: return "not_yet";
    case regime_status::in_force: return "in_force";
    case regime_status::announced_not_enforced: return "announced_not_enforced";
    case regime_status::guidance: return "guidance";
    case regime_status::proposed: return "proposed";
    case regime_status::rescinded: return "rescinded";
    case regime_status::superseded: return "superseded";
  }
  return "?";
}

regime_status dated_document::status_on(date day) const {
  regime_status s = regime_status::not_yet;
  for (const auto& t : timeline) {
    if (t.from <= day) s = t.status;
  }
  return s;
}

std::optional<date> dated_document::in_force_from() const {
  for (const auto& t : timeline) {
    if (t.status == regime_status::in_force) return t.from;
  }
  return std::nullopt;
}

}  // namespace chipgauge::classifier
