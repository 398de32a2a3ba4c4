#pragma once

#include "chipgauge/classifier/licensing.hpp"
#include "chipgauge/classifier/report.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::classifier {

/// Whether a shipment needs a license, as the licensing engine answered for its part,
/// destination, quantity and date when it was recorded. Ledgers written before shipments carried
/// the answer load as `not_recorded`.
enum class license_status : unsigned char { not_recorded, not_required, required, undetermined };
/// "", "no", "yes", "undetermined": the form in ledger files.
std::string_view to_string(license_status s) noexcept;

/// The status a licensing answer gives: `required` when a requirement in force fires (even if
/// another cannot be decided), else `undetermined` when the answer is not determined, else
/// `not_required`.
license_status license_status_of(const license_answer& a) noexcept;

/// One recorded shipment. `quota` names the quota it was shipped under ("lpp"), or is empty when
/// it counts against the country allocation.
struct shipment {
  date day;
  std::string part;
  double tpp_each = 0;
  long long quantity = 1;
  std::string consignee;
  std::string country;  ///< ISO alpha-2
  std::string quota;
  std::string eccn;  ///< the part's ECCN on the shipment date, as recorded (empty: not controlled)
  license_status license_required = license_status::not_recorded;
  std::string license{};  ///< the license the user recorded the shipment under (empty: none)

  [[nodiscard]] double tpp() const { return tpp_each * static_cast<double>(quantity); }
};

/// A shipment ledger the user keeps: JSON (`chipgauge.ledger/1`) or CSV, chosen by extension.
struct shipment_ledger {
  std::vector<shipment> shipments;
};

/// Reads a ledger (at most file_limits::ledger bytes); a missing file is an empty ledger. Numbers
/// in the CSV form follow JSON's grammar and ranges. Throws spec_error for a corrupt file.
shipment_ledger load_ledger(const std::string& path);
/// Writes the ledger atomically (temporary file and rename): readers never see a partial file.
/// A symbolic link at `path` is followed: its target is written (write_file_atomically).
void save_ledger(const std::string& path, const shipment_ledger& ledger);

/// An exclusive lock on a ledger for one read-modify-write (a `<target>.lock` file with flock,
/// where `target` is the path with symbolic links resolved: every spelling of one ledger shares
/// one lock). Throws usage_error at once when another process holds it: the ledger is left as it
/// was.
class ledger_lock {
 public:
  explicit ledger_lock(const std::string& ledger_path);
  ~ledger_lock();
  ledger_lock(const ledger_lock&) = delete;
  ledger_lock& operator=(const ledger_lock&) = delete;

 private:
  int fd_ = -1;
};

/// A quota tested against a ledger: how much is used in its scope, this shipment, the limit.
struct quota_check {
  const licensing_regime* regime = nullptr;
  const license_quota* quota = nullptr;
  bool what_if = false;  ///< the regime is not in force on the date
  std::string scope;     ///< "consignee Acme, 2025" or "country AE, 2025-01-01..2027-12-31"
  double used_tpp = 0;   ///< already shipped in scope (excluding excluded quotas)
  double shipment_tpp = 0;
  double limit_tpp = 0;
  bool fits = false;  ///< used + shipment <= limit (the ceiling is inclusive)
};

/// Tests `s` against every quota of the licensing regimes in force on its date (and, with
/// `what_if`, announced or proposed ones), for quotas whose destination condition holds.
std::vector<quota_check> check_quotas(const shipment_ledger& ledger, const shipment& s,
                                      const chip_spec& part, const licensing_engine& engine,
                                      bool what_if);

/// The quota a shipment is recorded under: the first in-force check that fits and whose quota is
/// an exception other quotas exclude (LPP: shipments under it do not count against the country
/// allocation). Empty when none: the shipment counts against the allocations.
std::string claimed_quota(const std::vector<quota_check>& checks);

/// A name stored in a ledger (consignee, license): valid UTF-8, no control characters, not blank.
/// Throws usage_error naming `field` (the option or member it came from).
void check_ledger_name(std::string_view field, const std::string& value);

/// What `ledger add|check` finds for one shipment.
struct shipment_assessment {
  shipment s;             ///< completed: tpp_each, eccn, license_required, quota
  license_answer answer;  ///< what `license` says for the part, destination, quantity, date
  std::vector<quota_check> checks;
  /// What --fail-on-exceed refuses: a quota in force exceeded, or a license needed (or not shown
  /// to be unneeded) with none recorded.
  std::vector<std::string> failures;
  double h100_tpp = 0;  ///< the TPP of one H100-equivalent

  /// Whether --fail-on-exceed (`fail_on_exceed`) refuses the shipment.
  [[nodiscard]] bool refused(bool fail_on_exceed) const noexcept {
    return fail_on_exceed && !failures.empty();
  }
};

/// Assesses shipment `s` (its day, quantity, consignee, country and license set) of `part` against
/// the quotas of `ledger` (with `what_if`, also those of regimes not in force) and the licensing
/// answer. Throws as the licensing engine does.
shipment_assessment assess_shipment(const shipment_ledger& ledger, shipment s,
                                    const chip_spec& part, const licensing_engine& engine,
                                    bool what_if);

/// How an assessment is reported: the ledger as the user named it, the verb and the outcome.
struct ledger_check_view {
  std::string ledger_file;
  bool add = false;             ///< `ledger add` (else `ledger check`)
  bool recorded = false;        ///< the shipment was appended to the ledger
  bool fail_on_exceed = false;  ///< failures are refusals, not notes
};

/// `ledger add|check`'s output: json (`chipgauge.ledger-check/1`) or, for any other format, text.
std::string render_ledger_check(const shipment_assessment& a, const ledger_check_view& view,
                                output_format format);

/// Totals per consignee and year and per country and year, as text or CSV rows.
std::string ledger_report(const shipment_ledger& ledger, double h100_tpp);

}  // namespace chipgauge::classifier
