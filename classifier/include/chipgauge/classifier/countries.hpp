#pragma once

#include "chipgauge/classifier/evidence.hpp"
#include "chipgauge/core/date.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::classifier {

struct country {
  std::string alpha2;  ///< "CN"
  std::string alpha3;
  std::string name;
  std::vector<std::string> aliases;
};

/// An ISO 3166-2 subdivision a user may name as a destination (specs/countries/regions.json).
struct region {
  std::string code;     ///< "UA-43"
  std::string country;  ///< "UA"
  std::string name;
  std::vector<std::string> aliases;
  bool distinct = false;  ///< a licensing rule treats it apart from the rest of its country
  std::string note;
};

/// A destination as the user named it: a country, and a region of it when one was named.
struct place {
  const country* in = nullptr;
  const region* part = nullptr;  ///< null: the country as a whole
};

/// One dated membership of a country in a group (inclusive dates; `until` absent: still a member).
struct group_membership {
  std::string country;
  date from;
  std::optional<date> until;
  evidence_tag evidence = evidence_tag::S;
  std::string note;
  /// A conditional membership: it holds only when the end user stated is one of `end_users`, or
  /// only when it is not one of `unless_end_users` (an unstated end user is none of them). Empty:
  /// unconditional.
  std::vector<std::string> end_users;
  std::vector<std::string> unless_end_users;
};

struct country_group {
  std::string id;  ///< "d1", "d5", "a5", "tier1", ...
  std::string name;
  evidence_tag evidence = evidence_tag::S;
  std::string source;
  std::vector<group_membership> members;
};

/// A country the rules treat as another from a date (Hong Kong as China).
struct treated_as_rule {
  std::string country;
  std::string as;
  date from;
  evidence_tag evidence = evidence_tag::S;
  std::string note;
};

/// ISO 3166 countries and the dated EAR country groups (specs/countries/).
class country_db {
 public:
  /// Loads `dir`/countries.json, `dir`/groups.json and, when present, `dir`/regions.json; throws
  /// spec_error on any defect (unknown country codes in groups or regions, bad dates, overlapping
  /// memberships, a repeated region code).
  static country_db load(const std::string& dir);

  /// The country a user means by `text`: an alpha-2 or alpha-3 code, a name or an alias, case
  /// insensitive. Throws usage_error with a "did you mean" suggestion.
  [[nodiscard]] const country& resolve(std::string_view text) const;
  [[nodiscard]] const country* find(std::string_view alpha2) const;

  /// A country or one of its regions (`UA-43`, `Crimea`): an ISO 3166-2 code or a region's name or
  /// alias, else what resolve() accepts. Throws usage_error like resolve().
  [[nodiscard]] place resolve_place(std::string_view text) const;
  /// A region by its ISO 3166-2 code, upper case ("UA-43").
  [[nodiscard]] const region* find_region(std::string_view code) const;
  /// The regions of `alpha2` that a licensing rule treats apart (empty: the country may be named
  /// alone).
  [[nodiscard]] std::vector<const region*> distinct_regions(std::string_view alpha2) const;
  [[nodiscard]] const std::vector<region>& regions() const noexcept { return regions_; }

  /// Whether `alpha2` is in group `group_id` on `day`, following treated-as rules (Hong Kong is
  /// in China's groups from the date it is treated as China). The evidence of the membership
  /// (or of the group when not a member) is written to `evidence` when given.
  [[nodiscard]] bool member(std::string_view alpha2, std::string_view group_id, date day,
                            evidence_tag* evidence = nullptr, std::string_view end_user = {}) const;
  /// The end-user types conditional memberships name (end_users, unless_end_users).
  [[nodiscard]] std::vector<std::string> end_user_types() const;
  /// The groups `alpha2` belongs to on `day`.
  [[nodiscard]] std::vector<std::string> groups_of(std::string_view alpha2, date day) const;
  /// The country whose treatment applies to `alpha2` on `day` (itself unless a treated-as rule).
  [[nodiscard]] std::string treated_as(std::string_view alpha2, date day) const;

  [[nodiscard]] const std::vector<country>& countries() const noexcept { return countries_; }
  [[nodiscard]] const std::vector<country_group>& groups() const noexcept { return groups_; }
  [[nodiscard]] bool has_group(std::string_view id) const noexcept;

 private:
  std::vector<country> countries_;
  std::vector<region> regions_;
  std::vector<country_group> groups_;
  std::vector<treated_as_rule> treated_;
};

}  // namespace chipgauge::classifier
