// Opening the history store (location, pragmas, schema version and migrations), time stamps,
// selectors and SHA-256.
#include "chipgauge/core/date.hpp"
#include "chipgauge/core/text.hpp"
#include "connection.hpp"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <filesystem>

namespace chipgauge::history {

namespace {

bool is_postgresql_url(std::string_view path) {
  return path.starts_with("postgresql://") || path.starts_with("postgres://");
}

}  // namespace

std::string locate_store(const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  if (const char* env = std::getenv("CHIPGAUGE_HISTORY"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_DATA_HOME");
      xdg && *xdg && std::filesystem::path(xdg).is_absolute())
    return (std::filesystem::path(xdg) / "chipgauge" / "history.db").string();
  if (const char* home = std::getenv("HOME"); home && *home)
    return (std::filesystem::path(home) / ".local" / "share" / "chipgauge" / "history.db").string();
  throw usage_error(
      "no history store: give --history FILE or set CHIPGAUGE_HISTORY (neither XDG_DATA_HOME "
      "nor HOME is set)");
}

store::store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
store::store(store&&) noexcept = default;
store& store::operator=(store&&) noexcept = default;
store::~store() = default;

const std::string& store::path() const { return impl_->path; }
sqlite3* store::handle() const { return detail::sqlite_handle(*impl_->db); }
int store::schema_version() const { return static_cast<int>(impl_->db->schema_version()); }
std::int64_t store::data_version() const { return impl_->db->data_version(); }

store store::open(const std::string& path, const open_options& options) {
  const auto& migrations = options.migrations ? *options.migrations : schema_migrations();
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1)
      throw error(fmt::format(
          "history: migration {} has version {}: expected versions 1, 2, 3 ... in order", i + 1,
          migrations[i].version));
  }
  const int newest = static_cast<int>(migrations.size());

  auto p = std::make_unique<impl>();
  if (is_postgresql_url(path)) {
    p->path = detail::redact_url(path);
    p->db = detail::open_postgresql(path, options);
  } else {
    p->path = path;
    p->db = detail::open_sqlite(path, options);
  }
  const std::string name = quote_input(p->path);
  auto version = p->db->schema_version();
  if (version > newest)
    throw usage_error(fmt::format(
        "history {} has schema version {}, newer than this chipgauge reads ({}): use a newer "
        "chipgauge, or another --history file",
        name, version, newest));

  for (const auto& m : migrations) {
    if (m.version <= version) continue;
    // SQLite: foreign keys off for the step where it asks. PRAGMA foreign_keys is a no-op inside a
    // transaction, so it is set around the step's; restored after the commit (an error there is
    // an error of the open), or, however else the step ends, by the guard.
    struct keys_guard {
      detail::connection* db = nullptr;  // set while keys are off
      keys_guard() = default;
      keys_guard(const keys_guard&) = delete;
      keys_guard& operator=(const keys_guard&) = delete;
      ~keys_guard() {
        if (!db) return;
        try {
          db->exec("PRAGMA foreign_keys = ON");
        } catch (...) {
          // Only a broken connection fails here; the error that ended the step is the one to
          // report.
        }
      }
    } keys;
    if (m.sqlite_foreign_keys_off && p->db->kind() == detail::backend_kind::sqlite) {
      p->db->exec("PRAGMA foreign_keys = OFF");
      keys.db = p->db.get();
    }
    detail::transaction tx(*p);
    // Another process may have migrated between the check above and this transaction.
    const auto now = p->db->schema_version();
    if (now >= m.version) {
      version = now;
      continue;
    }
    if (now != m.version - 1)
      throw error(fmt::format("history {}: schema version {} cannot take migration {}", name, now,
                              m.version));
    p->db->exec(p->db->migration_sql(m));
    p->db->set_schema_version(m.version);
    tx.commit();
    if (keys.db) {
      keys.db = nullptr;
      p->db->exec("PRAGMA foreign_keys = ON");
    }
    version = m.version;
  }
  p->db->ready();
  return store(std::move(p));
}

const char* to_string(source_kind k) noexcept {
  switch (k) {
    case source_kind::chipgauge_report: return "chipgauge-report";
    case source_kind::gbench: return "gbench";
    case source_kind::certificate: return "certificate";
  }
  return "?";
}

// ---- time stamps ----

namespace {

bool digits(std::string_view s, int& out) {
  if (s.empty()) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

}  // namespace

std::optional<std::int64_t> parse_utc(std::string_view t) {
  if (t.size() < 20 || t[10] != 'T' || t[13] != ':' || t[16] != ':') return std::nullopt;
  const auto day = date::parse(t.substr(0, 10));
  int h = 0;
  int m = 0;
  int s = 0;
  if (!day || !digits(t.substr(11, 2), h) || !digits(t.substr(14, 2), m) ||
      !digits(t.substr(17, 2), s))
    return std::nullopt;
  if (h > 23 || m > 59 || s > 60) return std::nullopt;
  auto rest = t.substr(19);
  if (!rest.empty() && rest[0] == '.') {
    std::size_t n = 1;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
    if (n == 1) return std::nullopt;
    rest = rest.substr(n);
  }
  if (rest != "Z" && rest != "+00:00") return std::nullopt;
  const auto days = day->days().time_since_epoch().count();
  return static_cast<std::int64_t>(days) * 86400 + h * 3600 + m * 60 + s;
}

std::string format_utc(std::int64_t seconds) {
  using namespace std::chrono;
  const sys_seconds tp{std::chrono::seconds{seconds}};
  const auto day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss hms{tp - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

// ---- selectors ----

std::int64_t parse_time_bound(std::string_view option, std::string_view text, bool end_of_day) {
  if (const auto d = date::parse(text)) {
    const auto start = static_cast<std::int64_t>(d->days().time_since_epoch().count()) * 86400;
    return end_of_day ? start + 86400 : start;
  }
  if (const auto t = parse_utc(text)) return end_of_day ? *t + 1 : *t;
  throw usage_error(fmt::format(
      "{} '{}' is not a date: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (e.g. 2026-11-29)",
      option, quote_input(text)));
}

bool is_selector(std::string_view text) { return text.starts_with("history:"); }

selector parse_selector(std::string_view text) {
  if (!is_selector(text))
    throw usage_error(
        fmt::format("'{}' is not a history selector: expected history:KEY=VALUE,... (keys device, "
                    "benchmark, since, until, last)",
                    quote_input(text)));
  selector sel;
  auto rest = text.substr(8);
  std::vector<std::string> seen;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const auto item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const auto eq = item.find('=');
    const std::string key(item.substr(0, eq));
    if (eq == std::string_view::npos)
      throw usage_error(fmt::format("history selector '{}': '{}' has no value: expected KEY=VALUE",
                                    quote_input(text), quote_input(item)));
    const auto value = item.substr(eq + 1);
    for (const auto& s : seen) {
      if (s == key)
        throw usage_error(
            fmt::format("history selector '{}': key '{}' given twice", quote_input(text), key));
    }
    seen.push_back(key);
    if (value.empty())
      throw usage_error(fmt::format("history selector '{}': {} is empty: expected a value",
                                    quote_input(text), quote_input(key)));
    const std::string where = fmt::format("history selector {}", quote_input(key));
    if (key == "device") {
      sel.device = value;
    } else if (key == "benchmark") {
      sel.benchmark = value;
    } else if (key == "since") {
      sel.since = parse_time_bound(where, value, false);
    } else if (key == "until") {
      sel.until = parse_time_bound(where, value, true);
    } else if (key == "last") {
      int n = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || ptr != value.data() + value.size() || n < 1 || n > 1000000)
        throw usage_error(fmt::format(
            "history selector last '{}' is not a count: expected a whole number from 1 to "
            "1,000,000",
            quote_input(value)));
      sel.last = n;
    } else {
      throw usage_error(fmt::format(
          "history selector '{}': unknown key '{}': expected device, benchmark, since, until or "
          "last",
          quote_input(text), quote_input(key)));
    }
  }
  if (sel.since && sel.until && *sel.since >= *sel.until)
    throw usage_error(
        fmt::format("history selector '{}': since is not before until", quote_input(text)));
  return sel;
}

std::string selector::to_string() const {
  std::string out = "history:";
  auto add = [&out](std::string_view k, const std::string& v) {
    if (out.size() > 8) out += ',';
    out += fmt::format("{}={}", k, v);
  };
  if (!device.empty()) add("device", device);
  if (!benchmark.empty()) add("benchmark", benchmark);
  if (since) add("since", format_utc(*since));
  if (until) add("until", format_utc(*until - 1));
  if (last) add("last", std::to_string(*last));
  return out;
}
}  // namespace chipgauge::history
