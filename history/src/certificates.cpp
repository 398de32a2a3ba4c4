// The certificates the store holds: listing and the fleet collection over them
// (docs/history.md#certificates).
#include "chipgauge/history/certificates.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/core/text.hpp"
#include "connection.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace chipgauge::history {

namespace {

// The WHERE clause over `certificates c JOIN devices d`; bind_selection binds its parameters.
std::string certificate_conditions(const selector& sel) {
  if (!sel.benchmark.empty() || sel.last)
    throw usage_error(fmt::format(
        "{}: a certificate selection takes device, since and until; benchmark and last select "
        "results",
        quote_input(sel.to_string())));
  std::string where = "1";
  if (!sel.device.empty()) {
    where +=
        " AND (instr(lower(d.name), lower(?1)) > 0 OR instr(lower(d.identity), lower(?1)) > 0)";
  }
  if (sel.since) {
    where += " AND c.end_utc >= ?2";
  }
  if (sel.until) {
    where += " AND c.end_utc < ?3";
  }
  return where;
}

void bind_selection(detail::statement& st, const selector& sel) {
  if (!sel.device.empty()) st.bind(1, sel.device);
  if (sel.since) st.bind(2, *sel.since);
  if (sel.until) st.bind(3, *sel.until);
}

}  // namespace

std::vector<certificate_row> list_certificates(store& st, const selector& sel, bool latest) {
  auto& s = st.internals();
  const std::string where = certificate_conditions(sel);
  std::string sql = fmt::format(
      "SELECT c.run_id, ru.source_name, d.id, d.identity, d.name, rd.local_id, c.node, "
      "c.verdict, c.sheet_id, c.tpp_measured, c.end_utc, c.integrity, coalesce(c.signer_key_id, "
      "''), c.findings FROM certificates c JOIN runs ru ON ru.id = c.run_id JOIN devices d ON "
      "d.id = c.device_id JOIN run_devices rd ON rd.run_id = c.run_id AND rd.device_id = "
      "c.device_id WHERE {}",
      where);
  if (latest)
    sql +=
        " AND c.run_id = (SELECT c2.run_id FROM certificates c2 WHERE c2.device_id = "
        "c.device_id ORDER BY c2.end_utc DESC, c2.run_id DESC LIMIT 1)";
  sql += " ORDER BY c.end_utc, c.run_id";
  detail::statement q(*s.db, sql);
  bind_selection(q, sel);
  std::vector<certificate_row> out;
  while (q.step()) {
    certificate_row r;
    int c = 0;
    r.run_id = q.integer(c++);
    r.source_name = q.text(c++);
    r.device_id = q.integer(c++);
    r.device_identity = q.text(c++);
    r.device_name = q.text(c++);
    r.local_device = q.text(c++);
    r.node = q.text(c++);
    r.verdict = q.text(c++);
    if (!q.is_null(c)) r.sheet_id = q.text(c);
    ++c;
    r.tpp_measured = q.optional_real(c++);
    r.end_utc = q.integer(c++);
    r.integrity = q.text(c++);
    r.signer_key_id = q.text(c++);
    r.findings = q.text(c++);
    out.push_back(std::move(r));
  }
  return out;
}

void for_each_certificate_document(
    store& st, const selector& sel,
    const std::function<void(const std::string&, const std::string&)>& fn) {
  auto& s = st.internals();
  const std::string where = certificate_conditions(sel);
  detail::statement q(
      *s.db,
      fmt::format("SELECT ru.source_name, c.document FROM certificates c JOIN runs ru ON ru.id = "
                  "c.run_id JOIN devices d ON d.id = c.device_id WHERE {} ORDER BY ru.source_name, "
                  "c.run_id",
                  where));
  bind_selection(q, sel);
  while (q.step()) fn(q.text(0), q.text(1));
}

certify::fleet_collection collect_fleet_store(store& s, const selector& sel,
                                              const certify::fleet_collect_options& options) {
  certify::fleet_collector collector(options);
  for_each_certificate_document(s, sel, [&](const std::string& name, const std::string& document) {
    // The document was a certificate when ingested; one that no longer parses is listed, as a
    // corrupt file in a directory is.
    const auto doc = nlohmann::json::parse(document, nullptr, false);
    if (doc.is_discarded())
      collector.add_unreadable(name, "the stored document does not parse as JSON");
    else collector.add(name, doc);
  });
  return std::move(collector).finish();
}

}  // namespace chipgauge::history
