#pragma once

#include "chipgauge/classifier/licensing.hpp"

#include <string>
#include <vector>

namespace chipgauge {

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
  std::string eccn;     ///< the part's ECCN on the shipment date, as recorded (empty: not controlled)

  [[nodiscard]] double tpp() const { return tpp_each * static_cast<double>(quantity); }
};

/// A shipment ledger the user keeps: JSON (`chipgauge.ledger/1`) or CSV, chosen by extension.
struct shipment_ledger {
  std::vector<shipment> shipments;
};

/// Reads a ledger; a missing file is an empty ledger. Throws spec_error for a corrupt file.
shipment_ledger load_ledger(const std::string& path);
/// Writes the ledger atomically (temporary file and rename): readers never see a partial file.
void save_ledger(const std::string& path, const shipment_ledger& ledger);

/// An exclusive lock on a ledger for one read-modify-write (a `<path>.lock` file with flock).
/// Throws usage_error at once when another process holds it: the ledger is left as it was.
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
  const licence_quota* quota = nullptr;
  bool what_if = false;      ///< the regime is not in force on the date
  std::string scope;         ///< "consignee Acme, 2025" or "country AE, 2025-01-01..2027-12-31"
  double used_tpp = 0;       ///< already shipped in scope (excluding excluded quotas)
  double shipment_tpp = 0;
  double limit_tpp = 0;
  bool fits = false;         ///< used + shipment <= limit (the ceiling is inclusive)
};

/// Tests `s` against every quota of the licensing regimes in force on its date (and, with
/// `what_if`, announced or proposed ones), for quotas whose destination condition holds.
std::vector<quota_check> check_quotas(const shipment_ledger& ledger, const shipment& s, const chip_spec& part,
                                      const licensing_engine& engine, bool what_if);

/// The quota a shipment is recorded under: the first in-force check that fits and whose quota is
/// an exception other quotas exclude (LPP: shipments under it do not count against the country
/// allocation). Empty when none: the shipment counts against the allocations.
std::string claimed_quota(const std::vector<quota_check>& checks);

/// Totals per consignee and year and per country and year, as text or CSV rows.
std::string ledger_report(const shipment_ledger& ledger, double h100_tpp);

}  // namespace chipgauge
