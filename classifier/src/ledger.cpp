// The shipment ledger: JSON/CSV storage with atomic writes and a lock, and quota checks.
#include "chipgauge/classifier/ledger.hpp"

#include "chipgauge/classifier/engine.hpp"
#include "chipgauge/core/version.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "chipgauge/core/text.hpp"

#include <algorithm>
#include <optional>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

namespace chipgauge::classifier {

namespace {

// Bounds both forms check (specs/schema/ledger.schema.json).
constexpr double max_tpp_each = 1e7;
constexpr long long max_quantity = 1LL << 40;

bool is_csv(const std::string& path) {
  return path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
}

// Splits one CSV line (RFC 4180 quoting).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// The CSV header this version writes; ledgers written before shipments carried the licensing
// answer have the first eight columns only, and still load.
const std::vector<std::string> csv_header{
    "date",    "part",  "tpp_each", "quantity",         "consignee",
    "country", "quota", "eccn",     "license_required", "license"};
const std::vector<std::string> csv_header_v0(csv_header.begin(), csv_header.begin() + 8);

std::optional<license_status> parse_license_status(std::string_view text) {
  for (const auto s : {license_status::not_recorded, license_status::not_required,
                       license_status::required, license_status::undetermined}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

// Splits CSV text into records: a line break inside quotes belongs to the field.
std::vector<std::string> csv_records(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (c == '\n' && !quoted) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

shipment_ledger parse_csv(const std::string& text, const std::string& path) {
  shipment_ledger l;
  // JSON ledgers are UTF-8 by the parser's rules; a CSV ledger must be too, or a name read from it
  // could be neither printed safely nor saved as JSON.
  if (std::size_t bad = 0; !valid_utf8(text, &bad))
    throw spec_error(
        path,
        fmt::format(
            "line {}",
            1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n')),
        fmt::format("byte 0x{:02x} at offset {} is not UTF-8: expected a UTF-8 text file",
                    static_cast<unsigned char>(text[bad]), bad));
  const auto records = csv_records(text);
  std::size_t next = 0;
  auto getline_csv = [&](std::string& line) {
    if (next >= records.size()) return false;
    line = records[next++];
    return true;
  };
  std::string line;
  const auto header = getline_csv(line) ? csv_fields(line) : std::vector<std::string>{};
  if (header != csv_header && header != csv_header_v0)
    throw spec_error(
        path, "line 1",
        "expected the header date,part,tpp_each,quantity,consignee,country,quota,eccn,license_re"
        "quired,license (or, from earlier versions, the first eight of these)");
  for (int n = 2; getline_csv(line); ++n) {
    if (line.empty()) continue;
    const auto f = csv_fields(line);
    const std::string where = fmt::format("line {}", n);
    if (f.size() != header.size())
      throw spec_error(path, where,
                       fmt::format("expected {} fields, found {}", header.size(), f.size()));
    shipment s;
    const auto d = date::parse(f[0]);
    if (!d)
      throw spec_error(path, where,
                       fmt::format("'{}' is not a date: expected YYYY-MM-DD", quote_input(f[0])));
    s.day = *d;
    s.part = f[1];
    // The same grammar and ranges as the JSON form: no inf, nan, hex, 1e400 or overflow.
    const auto tpp = parse_json_number(f[2]);
    if (!tpp || *tpp < 0 || *tpp > max_tpp_each)
      throw spec_error(path, where + ": tpp_each",
                       fmt::format("'{}' is not a TPP: expected a decimal number in [0, {}]",
                                   quote_input(f[2]), max_tpp_each));
    s.tpp_each = *tpp;
    const auto qty = parse_json_integer(f[3]);
    if (!qty || *qty < 1 || *qty > max_quantity)
      throw spec_error(path, where + ": quantity",
                       fmt::format("'{}' is not a quantity: expected an integer in [1, {}]",
                                   quote_input(f[3]), max_quantity));
    s.quantity = *qty;
    s.consignee = f[4];
    s.country = f[5];
    s.quota = f[6];
    s.eccn = f[7];
    if (header.size() == csv_header.size()) {
      const auto st = parse_license_status(f[8]);
      if (!st)
        throw spec_error(
            path, where + ": license_required",
            fmt::format("'{}' is not a licensing answer: expected yes, no, undetermined or empty",
                        quote_input(f[8])));
      s.license_required = *st;
      s.license = f[9];
    }
    l.shipments.push_back(std::move(s));
  }
  return l;
}

std::string year_of(const date& d) { return std::to_string(d.year()); }

}  // namespace

std::string_view to_string(license_status s) noexcept {
  switch (s) {
    case license_status::not_recorded: return "";
    case license_status::not_required: return "no";
    case license_status::required: return "yes";
    case license_status::undetermined: return "undetermined";
  }
  return "";
}

license_status license_status_of(const license_answer& a) noexcept {
  if (a.license_required) return license_status::required;
  if (!a.determined) return license_status::undetermined;
  return license_status::not_required;
}

shipment_ledger load_ledger(const std::string& path) {
  if (!std::filesystem::exists(path)) return {};
  const auto text = read_text_file(path, file_limits::ledger);
  if (is_csv(path)) return parse_csv(text, path);
  const auto doc = parse_json_text(text, path);
  const json_node root(doc, path);
  root.expect_keys({"schema", "shipments"});
  if (root.at("schema").string() != "chipgauge.ledger/1")
    root.at("schema").fail("expected \"chipgauge.ledger/1\"");
  shipment_ledger l;
  for (const auto& e : root.at("shipments").elements()) {
    e.expect_keys({"date", "part", "tpp_each", "quantity", "consignee", "country", "quota", "eccn",
                   "license_required", "license"});
    shipment s;
    const auto d = date::parse(e.at("date").string());
    if (!d) e.at("date").fail("expected YYYY-MM-DD");
    s.day = *d;
    s.part = e.at("part").string();
    s.tpp_each = e.at("tpp_each").number_in(0, max_tpp_each, "TPP");
    s.quantity = e.at("quantity").integer_in(1, max_quantity);
    s.consignee = e.at("consignee").string();
    s.country = e.at("country").string();
    s.quota = e.at("quota").string();
    s.eccn = e.at("eccn").string();
    // Absent from ledgers written before shipments carried the licensing answer.
    if (const auto lr = e.find("license_required")) {
      const auto st = parse_license_status(lr->string());
      if (!st) lr->fail("expected \"yes\", \"no\", \"undetermined\" or \"\" (not recorded)");
      s.license_required = *st;
    }
    if (const auto lic = e.find("license")) s.license = lic->string();
    l.shipments.push_back(std::move(s));
  }
  return l;
}

void save_ledger(const std::string& path, const shipment_ledger& ledger) {
  std::string text;
  if (is_csv(path)) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : ledger.shipments)
      rows.push_back({s.day.to_string(), s.part, fmt::format("{}", s.tpp_each),
                      std::to_string(s.quantity), s.consignee, s.country, s.quota, s.eccn,
                      std::string(to_string(s.license_required)), s.license});
    text = render_csv(csv_header, rows);
  } else {
    nlohmann::ordered_json j;
    j["schema"] = "chipgauge.ledger/1";
    auto arr = nlohmann::ordered_json::array();
    for (const auto& s : ledger.shipments)
      arr.push_back({{"date", s.day.to_string()},
                     {"part", s.part},
                     {"tpp_each", s.tpp_each},
                     {"quantity", s.quantity},
                     {"consignee", s.consignee},
                     {"country", s.country},
                     {"quota", s.quota},
                     {"eccn", s.eccn},
                     {"license_required", std::string(to_string(s.license_required))},
                     {"license", s.license}});
    j["shipments"] = arr;
    text = j.dump(2) + "\n";
  }
  write_file_atomically(path, text);
}

ledger_lock::ledger_lock(const std::string& ledger_path) {
  const std::string lock = resolve_write_target(ledger_path) + ".lock";
  fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw error(fmt::format("cannot open {}: {}", lock, std::strerror(errno)));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    fd_ = -1;
    throw usage_error(fmt::format(
        "{} is being written by another process (lock {} held): try again when it is done",
        ledger_path, lock));
  }
}

ledger_lock::~ledger_lock() {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
}

std::vector<quota_check> check_quotas(const shipment_ledger& ledger, const shipment& s,
                                      const chip_spec& part, const licensing_engine& engine,
                                      bool what_if) {
  std::vector<quota_check> out;
  license_query q;
  q.part = &part;
  q.to = s.country;
  q.quantity = s.quantity;
  q.as_of = s.day;
  const evaluation_plan plan(engine.rules(), s.day, false);
  const auto item = classification_engine(engine.rules()).classify(part, plan);
  const auto vars = engine.variables(q, item, transaction_kind::export_, s.country);
  for (const auto& r : engine.licensing().regimes()) {
    const auto status = r.status_on(s.day);
    // Before its compliance date a regime in force binds no shipment: its quotas are what-if only.
    const bool before_compliance =
        status == regime_status::in_force && r.compliance && s.day < r.compliance->from;
    const bool in_force = status == regime_status::in_force && !before_compliance;
    const bool hypothetical =
        what_if && (before_compliance || status == regime_status::announced_not_enforced ||
                    status == regime_status::proposed);
    if (!in_force && !hypothetical) continue;
    std::vector<double> params;
    for (const auto& p : r.parameters) params.push_back(p.value_on(s.day));
    for (const auto& quota : r.quotas) {
      if (quota.applies_when.evaluate(vars.data(), params.data()) != 1.0) continue;
      quota_check c;
      c.regime = &r;
      c.quota = &quota;
      c.what_if = !in_force;
      c.limit_tpp = *r.parameter_on(quota.limit_parameter, s.day);
      c.shipment_tpp = s.tpp();
      // An exception quota (one that other quotas exclude, such as LPP) counts the shipments
      // recorded under it; an allocation counts every shipment except those under its exclusions.
      const bool exception_quota =
          std::any_of(r.quotas.begin(), r.quotas.end(), [&](const license_quota& other) {
            return std::find(other.excludes.begin(), other.excludes.end(), quota.id) !=
                   other.excludes.end();
          });
      for (const auto& prior : ledger.shipments) {
        if (exception_quota && prior.quota != quota.id) continue;
        if (std::find(quota.excludes.begin(), quota.excludes.end(), prior.quota) !=
            quota.excludes.end())
          continue;
        // Only shipments the quota covers count: its condition, re-tested on what the ledger
        // recorded (ECCN, destination, date).
        const auto pv = engine.shipment_variables(prior.country, prior.eccn, prior.day);
        if (quota.applies_when.evaluate(pv.data(), params.data()) != 1.0) continue;
        if (quota.per == license_quota::scope::consignee_year) {
          if (prior.consignee == s.consignee && prior.day.year() == s.day.year())
            c.used_tpp += prior.tpp();
        } else {
          const bool in_period = (!quota.period_from || *quota.period_from <= prior.day) &&
                                 (!quota.period_until || prior.day <= *quota.period_until);
          if (prior.country == s.country && in_period) c.used_tpp += prior.tpp();
        }
      }
      c.scope = quota.per == license_quota::scope::consignee_year
                    ? fmt::format("consignee {}, {}", s.consignee, s.day.year())
                    : fmt::format("country {}, {}..{}", s.country,
                                  quota.period_from ? quota.period_from->to_string() : "",
                                  quota.period_until ? quota.period_until->to_string() : "");
      c.fits = c.used_tpp + c.shipment_tpp <= c.limit_tpp;
      out.push_back(c);
    }
  }
  return out;
}

std::string claimed_quota(const std::vector<quota_check>& checks) {
  for (const auto& c : checks) {
    if (c.what_if || !c.fits) continue;
    const auto& quotas = c.regime->quotas;
    const bool exception_quota =
        std::any_of(quotas.begin(), quotas.end(), [&](const license_quota& other) {
          return std::find(other.excludes.begin(), other.excludes.end(), c.quota->id) !=
                 other.excludes.end();
        });
    if (exception_quota) return c.quota->id;
  }
  return {};
}

std::string ledger_report(const shipment_ledger& ledger, double h100_tpp) {
  std::map<std::pair<std::string, std::string>, double> by_consignee;
  std::map<std::pair<std::string, std::string>, double> by_country;
  for (const auto& s : ledger.shipments) {
    by_consignee[{s.consignee, year_of(s.day)}] += s.tpp();
    by_country[{s.country, year_of(s.day)}] += s.tpp();
  }
  auto table = [&](const std::string& what,
                   const std::map<std::pair<std::string, std::string>, double>& m) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& [k, v] : m)
      rows.push_back({k.first, k.second, group_thousands(v),
                      fmt::format("{:.1f}", h100_tpp > 0 ? v / h100_tpp : 0)});
    return render_table({what, "year", "TPP", "H100-equivalents"}, rows,
                        {false, false, true, true});
  };
  return fmt::format("{} shipments\n\n", ledger.shipments.size()) +
         table("consignee", by_consignee) + "\n" + table("country", by_country);
}

void check_ledger_name(std::string_view field, const std::string& value) {
  std::size_t bad = 0;
  if (!valid_utf8(value, &bad))
    throw usage_error(
        fmt::format("{} is not valid UTF-8 (byte 0x{:02x} at offset {}): expected a name in UTF-8",
                    field, static_cast<unsigned char>(value[bad]), bad));
  for (const char ch : value) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
      throw usage_error(fmt::format(
          "{} holds a control character (a line break?): expected a plain name", field));
  }
  if (value.find_first_not_of(" ") == std::string::npos)
    throw usage_error(fmt::format("{} is empty: expected a name", field));
}

shipment_assessment assess_shipment(const shipment_ledger& ledger, shipment s,
                                    const chip_spec& part, const licensing_engine& engine,
                                    bool what_if) {
  const auto& rules = engine.rules();
  shipment_assessment a;
  s.part = part.id;
  s.tpp_each = compute_metrics(part, rules.definitions()).tpp;
  s.eccn =
      std::string(classification_engine(rules).classify(part, evaluation_plan(rules, s.day)).eccn);
  // The licensing answer for this part, destination, quantity and date: what `license` says.
  license_query q;
  q.part = &part;
  q.to = s.country;
  q.quantity = s.quantity;
  q.as_of = s.day;
  a.answer = engine.answer(q);
  s.license_required = license_status_of(a.answer);
  a.checks = check_quotas(ledger, s, part, engine, what_if);
  s.quota = claimed_quota(a.checks);
  a.h100_tpp = rules.definitions().h100_equivalent_tpp.value;
  for (const auto& c : a.checks) {
    if (!c.what_if && !c.fits)
      a.failures.push_back(fmt::format("exceeds {} {} ({})", c.regime->id, c.quota->id, c.scope));
  }
  if (s.license.empty() && s.license_required == license_status::required)
    a.failures.emplace_back("needs a licence and none is recorded (--license)");
  if (s.license.empty() && s.license_required == license_status::undetermined)
    a.failures.emplace_back("may need a licence (undetermined) and none is recorded (--license)");
  a.s = std::move(s);
  return a;
}

namespace {

std::string quota_text(const std::vector<quota_check>& checks, double h100) {
  std::string out;
  for (const auto& c : checks) {
    out += fmt::format(
        "  {} {}{} ({}): used {} + this {} = {} of {} TPP ({:.1f} of {:.1f} H100-equivalents): "
        "{}\n",
        c.regime->id, c.quota->id, c.what_if ? " [what-if]" : "", c.scope,
        group_thousands(c.used_tpp), group_thousands(c.shipment_tpp),
        group_thousands(c.used_tpp + c.shipment_tpp), group_thousands(c.limit_tpp),
        (c.used_tpp + c.shipment_tpp) / h100, c.limit_tpp / h100, c.fits ? "fits" : "exceeds");
  }
  if (checks.empty())
    out +=
        "  no quota applies to this shipment on its date (add --what-if to test announced "
        "regimes)\n";
  return out;
}

nlohmann::ordered_json quota_json(const std::vector<quota_check>& checks, double h100) {
  auto arr = nlohmann::ordered_json::array();
  for (const auto& c : checks)
    arr.push_back({{"regime", c.regime->id},
                   {"quota", c.quota->id},
                   {"what_if", c.what_if},
                   {"scope", c.scope},
                   {"used_tpp", c.used_tpp},
                   {"shipment_tpp", c.shipment_tpp},
                   {"limit_tpp", c.limit_tpp},
                   {"total_h100_equivalents", (c.used_tpp + c.shipment_tpp) / h100},
                   {"fits", c.fits},
                   {"evidence", std::string(to_string(c.quota->evidence))}});
  return arr;
}

// The license exceptions in force the answer lists as available.
std::vector<std::string> exception_ids(const license_answer& a) {
  std::vector<std::string> out;
  for (const auto& e : a.exceptions) {
    if (!e.what_if) out.push_back(e.exception->id);
  }
  return out;
}

std::string license_text(const license_answer& a, const shipment& s) {
  std::string out;
  switch (s.license_required) {
    case license_status::required:
      out = fmt::format("  licence required: yes{}",
                        a.policy ? fmt::format(" ({}{})", to_string(*a.policy),
                                               a.policy_from ? ", " + a.policy_from->id : "")
                                 : " (by letter; no review policy stated)");
      break;
    case license_status::undetermined:
      out = "  licence required: undetermined (the data cannot decide it)";
      break;
    default: out = "  licence required: no"; break;
  }
  std::string exceptions;
  for (const auto& id : exception_ids(a)) exceptions += (exceptions.empty() ? "" : ", ") + id;
  if (s.license_required != license_status::not_required && !exceptions.empty())
    out += fmt::format("; licence exceptions that may apply (on their conditions): {}", exceptions);
  if (!s.license.empty()) {
    out += fmt::format("; licence recorded: {}\n", s.license);
  } else if (s.license_required == license_status::required ||
             s.license_required == license_status::undetermined) {
    out += "; no licence recorded (give --license with the licence, or the exception used)\n";
  } else {
    out += "\n";
  }
  for (const auto& u : a.undetermined_because) out += "    because " + u + "\n";
  return out;
}

}  // namespace

std::string render_ledger_check(const shipment_assessment& a, const ledger_check_view& view,
                                output_format format) {
  const auto& s = a.s;
  const auto& answer = a.answer;
  const double h100 = a.h100_tpp;
  if (format == output_format::json) {
    nlohmann::ordered_json j;
    j["schema"] = "chipgauge.ledger-check/1";
    j["tool_version"] = tool_version;
    j["ledger"] = view.ledger_file;
    j["recorded"] = view.recorded;
    j["shipment"] = {{"date", s.day.to_string()},
                     {"part", s.part},
                     {"tpp_each", s.tpp_each},
                     {"quantity", s.quantity},
                     {"tpp", s.tpp()},
                     {"h100_equivalents", s.tpp() / h100},
                     {"consignee", s.consignee},
                     {"country", s.country},
                     {"quota", s.quota},
                     {"eccn", s.eccn},
                     {"license_required", std::string(to_string(s.license_required))},
                     {"license", s.license}};
    j["licensing"] = {{"license_required", answer.license_required},
                      {"determined", answer.determined},
                      {"undetermined_because", answer.undetermined_because},
                      {"exceptions", exception_ids(answer)},
                      {"review_policy", answer.policy ? nlohmann::ordered_json(
                                                            std::string(to_string(*answer.policy)))
                                                      : nlohmann::ordered_json(nullptr)}};
    j["quotas"] = quota_json(a.checks, h100);
    j["fail_on_exceed"] = a.failures;
    j["disclaimer"] = std::string(disclaimer());
    // The ledger path is the user's and need not be UTF-8.
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::string text =
      fmt::format("{} {} x {} ({} TPP, {:.1f} H100-equivalents) to {} for {} on {}{}\n",
                  view.add ? (view.recorded ? "recorded" : "not recorded") : "checked", s.quantity,
                  s.part, group_thousands(s.tpp()), s.tpp() / h100, s.country, s.consignee,
                  s.day.to_string(), s.quota.empty() ? "" : " under " + s.quota) +
      license_text(answer, s) + quota_text(a.checks, h100);
  for (const auto& f : a.failures)
    text += fmt::format("  {}: {}\n", view.fail_on_exceed ? "refused" : "note", f);
  return text + std::string(disclaimer()) + "\n";
}

}  // namespace chipgauge::classifier
