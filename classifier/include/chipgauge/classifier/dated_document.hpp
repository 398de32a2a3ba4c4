#pragma once

#include "chipgauge/classifier/evidence.hpp"
#include "chipgauge/core/date.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::classifier {

/// Where a regime stands on a given day (docs/rules-format.md#timeline-and-status).
enum class regime_status : unsigned char {
  not_yet,  ///< before the first dated entry of its timeline
  in_force,
  announced_not_enforced,  ///< announced (e.g. rescission announced), not enforced
  guidance,
  proposed,
  rescinded,
  superseded,
};
std::string_view to_string(regime_status s) noexcept;

struct citation {
  std::string cite;  ///< "88 FR 73458"
  std::string url;
  evidence_tag evidence = evidence_tag::V;
  std::string note;
};

/// From `from` (inclusive) until the next entry, the document has `status`.
struct timeline_entry {
  date from;
  regime_status status = regime_status::in_force;
  std::string note;
};

/// The header every dated regulatory file shares: classification regimes (`chipgauge.rule/1`,
/// `regime`) and licensing regimes (`chipgauge.licensing/1`, `licensing_regime`) derive from it.
/// Read by one reader (`json_fields::read_document_header`), so both formats check it alike.
struct dated_document {
  std::string file;  ///< the file it was read from
  std::string
      id;  ///< lowercase letters, digits, '.', '_', '-'; the file's stem in a specs directory
  std::string title;
  evidence_tag evidence =
      evidence_tag::V;              ///< the document's own tag (docs/regulation.md#evidence-tags)
  std::vector<citation> citations;  ///< at least one
  std::vector<timeline_entry> timeline;  ///< at least one; dates strictly increasing

  /// The status of the latest timeline entry on or before `day`; `not_yet` before the first.
  [[nodiscard]] regime_status status_on(date day) const;
  /// The first day it is in force, if ever.
  [[nodiscard]] std::optional<date> in_force_from() const;
};

}  // namespace chipgauge::classifier
