#include "json_fields.hpp"

#include <fmt/format.h>

namespace chipgauge::json_fields {

evidence_tag evidence(const json_node& n) {
  const auto s = n.string();
  const auto t = parse_evidence_tag(s);
  if (!t)
    n.fail(fmt::format("unknown evidence tag '{}': expected V (official text), C (arithmetic), S (secondary) or R (recollection)", s));
  return *t;
}

date day(const json_node& n) {
  const auto s = n.string();
  const auto d = date::parse(s);
  if (!d) n.fail(fmt::format("'{}' is not a date: expected YYYY-MM-DD", s));
  return *d;
}

regime_status status(const json_node& n) {
  const auto s = n.one_of({"in_force", "announced_not_enforced", "guidance", "proposed", "rescinded", "superseded"});
  if (s == "in_force") return regime_status::in_force;
  if (s == "announced_not_enforced") return regime_status::announced_not_enforced;
  if (s == "guidance") return regime_status::guidance;
  if (s == "proposed") return regime_status::proposed;
  if (s == "rescinded") return regime_status::rescinded;
  return regime_status::superseded;
}

std::string optional_string(const json_node& n, std::string_view key) {
  if (auto v = n.find(key)) return v->string();
  return {};
}

}  // namespace chipgauge::json_fields
