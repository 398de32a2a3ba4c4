// A run's results in one BLOB (packed_results.hpp): the codec, the virtual table `results` that
// reads them, and the aggregate that packs them in migration 5.
#include "packed_results.hpp"

#include "chipgauge/core/error.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <memory>
#include <string>

namespace chipgauge::history::detail {

namespace {

constexpr std::array<unsigned char, 4> tag = {'C', 'G', 'R', '1'};

// record_flags: which optional fields a record holds.
enum record_flags : unsigned char {
  verified_flag = 1,
  suspect_flag = 2,
  suspect_reasons_flag = 4,
  clock_flag = 8,
  theoretical_flag = 16,
  fraction_flag = 32,
  rates_flag = 64,
  clocks_flag = 128,
};
// record_encoding: how a field is written. Clocks as u16 where every clock is a whole number of
// MHz below 65,535 or unread (NaN as to_blob writes std::nan, stored as 65,535): NVML reports
// whole MHz, so a GPU's clocks take 2 bytes a sample instead of 8.
enum record_encoding : unsigned char { clocks_u16 = 1 };

constexpr std::uint64_t unread_clock_bits = 0x7ff8000000000000ULL;  // std::nan("")
constexpr std::uint16_t unread_clock_u16 = 0xffff;

constexpr std::array<std::string_view, 3> statuses = {"ok", "skipped", "invalid"};

// Fixed part of a record after its size: ordinal, device, benchmark, status, flags, encoding,
// 6 doubles, sample_count, throttled_samples.
constexpr std::size_t fixed_bytes = 4 + 4 + 4 + 1 + 1 + 1 + 6 * 8 + 4 + 4;

// Appends `v` little-endian: its bytes as they are on a little-endian machine.
template <typename T>
void put_le(std::vector<unsigned char>& out, T v) {
  const std::size_t at = out.size();
  out.resize(at + sizeof v);
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(out.data() + at, &v, sizeof v);
  } else {
    for (std::size_t b = 0; b < sizeof v; ++b)
      out[at + b] = static_cast<unsigned char>(static_cast<std::uint64_t>(v) >> (8 * b));
  }
}
void put_u32(std::vector<unsigned char>& out, std::uint32_t v) { put_le(out, v); }
void put_u64(std::vector<unsigned char>& out, std::uint64_t v) { put_le(out, v); }
// A non-negative integer the format keeps in 32 bits; throws for one outside them.
void put_count(std::vector<unsigned char>& out, std::int64_t v, std::string_view what) {
  if (v < 0 || v > 0xffffffffLL)
    throw error(
        fmt::format("history: {} {} does not fit a packed result (0 to 2^32 - 1)", what, v));
  put_u32(out, static_cast<std::uint32_t>(v));
}
void put_f64(std::vector<unsigned char>& out, double v) {
  put_u64(out, std::bit_cast<std::uint64_t>(v));
}
void put_bytes(std::vector<unsigned char>& out, std::span<const unsigned char> bytes) {
  if (bytes.size() > 0xffffffffU)
    throw error(
        fmt::format("history: a result field of {} bytes does not fit a record", bytes.size()));
  put_u32(out, static_cast<std::uint32_t>(bytes.size()));
  out.insert(out.end(), bytes.begin(), bytes.end());
}
void put_text(std::vector<unsigned char>& out, std::string_view text) {
  put_bytes(out, {reinterpret_cast<const unsigned char*>(text.data()), text.size()});
}

template <typename T>
T get_le(const unsigned char* p) {
  T v = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&v, p, sizeof v);
  } else {
    for (std::size_t b = sizeof v; b-- > 0;) v = static_cast<T>((v << 8) | p[b]);
  }
  return v;
}
std::uint32_t get_u32(const unsigned char* p) { return get_le<std::uint32_t>(p); }
std::uint64_t get_u64(const unsigned char* p) { return get_le<std::uint64_t>(p); }
double get_f64(const unsigned char* p) { return std::bit_cast<double>(get_u64(p)); }

[[noreturn]] void malformed(std::string_view what) {
  throw error(fmt::format("history: a packed result set is malformed: {}", what));
}

}  // namespace

// ---- the codec ----

void result_set_writer::clear() {
  out_.assign(tag.begin(), tag.end());
  count_ = 0;
}

// The clocks' BLOB as u16 values (record_encoding), or false where a value is not a whole
// number of MHz below 65,535 nor an unread clock with std::nan's bits.
bool clocks_as_u16(std::span<const unsigned char> clocks, std::vector<std::uint16_t>& out) {
  if (clocks.size() % 8 != 0) return false;
  out.clear();
  for (std::size_t i = 0; i < clocks.size(); i += 8) {
    const std::uint64_t bits = get_u64(clocks.data() + i);
    if (bits == unread_clock_bits) {
      out.push_back(unread_clock_u16);
      continue;
    }
    const double v = std::bit_cast<double>(bits);
    if (!(v >= 0 && v < unread_clock_u16)) return false;
    const auto whole = static_cast<std::uint16_t>(v);
    if (std::bit_cast<std::uint64_t>(static_cast<double>(whole)) != bits) return false;
    out.push_back(whole);
  }
  return true;
}

void result_set_writer::add(const result_record& r, std::int64_t first_id) {
  const auto status = std::find(statuses.begin(), statuses.end(), r.status);
  if (status == statuses.end())
    throw error(
        fmt::format("history: result status '{}': expected ok, skipped or invalid", r.status));
  unsigned char flags = 0;
  if (r.verified) flags |= verified_flag;
  if (r.suspect) flags |= suspect_flag;
  if (r.suspect_reasons) flags |= suspect_reasons_flag;
  if (r.clock_mhz) flags |= clock_flag;
  if (r.theoretical) flags |= theoretical_flag;
  if (r.fraction) flags |= fraction_flag;
  if (r.rates) flags |= rates_flag;
  if (r.clocks) flags |= clocks_flag;
  unsigned char encoding = 0;
  if (r.clocks && clocks_as_u16(*r.clocks, clocks_)) encoding |= clocks_u16;

  const auto size_of = [](const auto& v) { return v ? 4 + v->size() : 0; };
  const std::size_t most = out_.size() + 4 + fixed_bytes + 3 * 8 + 8 + r.reason.size() +
                           r.stop_reason.size() + size_of(r.suspect_reasons) + size_of(r.rates) +
                           size_of(r.clocks);
  if (most > out_.capacity()) out_.reserve(std::max(most, 2 * out_.capacity()));
  const std::size_t start = out_.size();
  // A record refused part-way (a field the format cannot hold) leaves the set as it was.
  struct undo {
    std::vector<unsigned char>& out;
    std::size_t size;
    bool done = false;
    ~undo() {
      if (!done) out.resize(size);
    }
  } guard{out_, start};
  put_u32(out_, 0);  // the size, set below
  put_count(out_, r.id - first_id, "result ordinal");
  put_count(out_, r.device_id, "device id");
  put_count(out_, r.benchmark_id, "benchmark id");
  out_.push_back(static_cast<unsigned char>(status - statuses.begin()));
  out_.push_back(flags);
  out_.push_back(encoding);
  for (const double v : {r.median, r.min, r.max, r.q1, r.q3, r.cv}) put_f64(out_, v);
  put_count(out_, r.sample_count, "sample count");
  put_count(out_, r.throttled_samples, "throttled sample count");
  for (const auto& v : {r.clock_mhz, r.theoretical, r.fraction})
    if (v) put_f64(out_, *v);
  put_text(out_, r.reason);
  put_text(out_, r.stop_reason);
  if (r.suspect_reasons) put_text(out_, *r.suspect_reasons);
  if (r.rates) put_bytes(out_, *r.rates);
  if (r.clocks) {
    if (encoding & clocks_u16) {
      put_u32(out_, static_cast<std::uint32_t>(clocks_.size()));
      for (const auto c : clocks_) put_le(out_, c);
    } else {
      put_bytes(out_, *r.clocks);
    }
  }

  const std::size_t size = out_.size() - start - 4;
  if (size > 0xffffffffU) malformed("a record over 4 GiB");
  for (int b = 0; b < 4; ++b)
    out_[start + static_cast<std::size_t>(b)] = static_cast<unsigned char>(size >> (8 * b));
  guard.done = true;
  ++count_;
}

result_set_reader::result_set_reader(std::span<const unsigned char> bytes, std::int64_t first_id)
    : p_(bytes.data()), end_(bytes.data() + bytes.size()), first_id_(first_id) {
  if (bytes.size() < tag.size() || std::memcmp(bytes.data(), tag.data(), tag.size()) != 0)
    malformed("it does not start with \"CGR1\"");
  p_ += tag.size();
}

bool result_set_reader::peek(std::int64_t& device_id, std::int64_t& benchmark_id) {
  if (p_ == end_) return false;
  if (end_ - p_ < 4 || get_u32(p_) > static_cast<std::size_t>(end_ - p_ - 4) ||
      get_u32(p_) < fixed_bytes + 8)
    malformed("a record runs past the end");
  device_id = get_u32(p_ + 8);
  benchmark_id = get_u32(p_ + 12);
  return true;
}

void result_set_reader::skip() { p_ += 4 + get_u32(p_); }

bool result_set_reader::next(result_record& r) {
  std::int64_t device = 0;
  std::int64_t benchmark = 0;
  if (!peek(device, benchmark)) return false;
  const unsigned char* end = p_ + 4 + get_u32(p_);
  const unsigned char* p = p_ + 4;
  r.id = first_id_ + get_u32(p);
  r.device_id = device;
  r.benchmark_id = benchmark;
  p += 12;
  if (*p >= statuses.size()) malformed(fmt::format("status code {}", *p));
  r.status = statuses[*p++];
  const unsigned char flags = *p++;
  const unsigned char encoding = *p++;
  r.verified = (flags & verified_flag) != 0;
  r.suspect = (flags & suspect_flag) != 0;
  r.median = get_f64(p);
  r.min = get_f64(p + 8);
  r.max = get_f64(p + 16);
  r.q1 = get_f64(p + 24);
  r.q3 = get_f64(p + 32);
  r.cv = get_f64(p + 40);
  r.sample_count = get_u32(p + 48);
  r.throttled_samples = get_u32(p + 52);
  p += 56;
  const auto optional_f64 = [&](unsigned char flag) -> std::optional<double> {
    if (!(flags & flag)) return std::nullopt;
    if (end - p < 8) malformed("a record's numbers run past its end");
    const double v = get_f64(p);
    p += 8;
    return v;
  };
  r.clock_mhz = optional_f64(clock_flag);
  r.theoretical = optional_f64(theoretical_flag);
  r.fraction = optional_f64(fraction_flag);
  // A field of `unit`-byte values: its count (bytes / unit for a BLOB) and where it starts.
  const auto field = [&](std::size_t unit) -> std::span<const unsigned char> {
    if (end - p < 4 || get_u32(p) > static_cast<std::size_t>(end - p - 4) / unit)
      malformed("a record's field runs past its end");
    const std::size_t n = get_u32(p) * unit;
    p += 4;
    const std::span<const unsigned char> out(p, n);
    p += n;
    return out;
  };
  const auto text = [&]() {
    const auto b = field(1);
    return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
  };
  r.reason = text();
  r.stop_reason = text();
  r.suspect_reasons = (flags & suspect_reasons_flag) ? std::optional(text()) : std::nullopt;
  r.rates = (flags & rates_flag) ? std::optional(field(1)) : std::nullopt;
  r.clocks.reset();
  if ((flags & clocks_flag) && (encoding & clocks_u16)) {
    const auto packed = field(2);
    clocks_.resize(packed.size() * 4);
    for (std::size_t i = 0; i < packed.size() / 2; ++i) {
      const auto c = get_le<std::uint16_t>(packed.data() + 2 * i);
      const std::uint64_t bits = c == unread_clock_u16
                                     ? unread_clock_bits
                                     : std::bit_cast<std::uint64_t>(static_cast<double>(c));
      for (std::size_t b = 0; b < 8; ++b)
        clocks_[8 * i + b] = static_cast<unsigned char>(bits >> (8 * b));
    }
    r.clocks = std::span<const unsigned char>(clocks_);
  } else if (flags & clocks_flag) {
    r.clocks = field(1);
  }
  if (p != end) malformed("a record is longer than its fields");
  p_ = end;
  return true;
}

// ---- the virtual table `results` ----

namespace {

// The columns of `results`, in the order of the table it replaces (schema version 4).
enum column : int {
  col_id,
  col_run_id,
  col_device_id,
  col_benchmark_id,
  col_status,
  col_reason,
  col_verified,
  col_suspect,
  col_suspect_reasons,
  col_stop_reason,
  col_median,
  col_min,
  col_max,
  col_q1,
  col_q3,
  col_cv,
  col_sample_count,
  col_clock_mhz,
  col_throttled_samples,
  col_theoretical,
  col_fraction,
  col_rates,
  col_clocks,
};

constexpr const char* declaration =
    "CREATE TABLE x (id INTEGER, run_id INTEGER, device_id INTEGER, benchmark_id INTEGER, status "
    "TEXT, reason TEXT, verified INTEGER, suspect INTEGER, suspect_reasons TEXT, stop_reason TEXT, "
    "median REAL, min REAL, max REAL, q1 REAL, q3 REAL, cv REAL, sample_count INTEGER, clock_mhz "
    "REAL, throttled_samples INTEGER, theoretical REAL, fraction REAL, rates BLOB, clocks BLOB)";

// How a scan finds its result sets: every one, the run's, the one holding an id, or the runs of a
// device (run_devices_by_device). Each query returns run_id, first_id, results.
enum plan : int { plan_all, plan_run, plan_id, plan_device, plan_count };
constexpr int benchmark_filter = 8;  // idxNum bit: argv holds a benchmark id after the key

constexpr std::array<const char*, plan_count> plan_sql = {
    "SELECT run_id, first_id, results FROM main.result_sets ORDER BY run_id",
    "SELECT run_id, first_id, results FROM main.result_sets WHERE run_id = ?1",
    "SELECT run_id, first_id, results FROM main.result_sets WHERE first_id <= ?1 ORDER BY "
    "first_id DESC LIMIT 1",
    "SELECT rs.run_id, rs.first_id, rs.results FROM main.run_devices rd JOIN main.result_sets rs "
    "ON rs.run_id = rd.run_id WHERE rd.device_id = ?1 ORDER BY rd.run_id",
};

struct results_table : sqlite3_vtab {
  sqlite3* db = nullptr;
  // Prepared plan statements not in use, reset: a cursor takes one and gives it back.
  std::array<std::vector<sqlite3_stmt*>, plan_count> idle;

  ~results_table() {
    for (auto& list : idle)
      for (auto* st : list) sqlite3_finalize(st);
  }
};

struct results_cursor : sqlite3_vtab_cursor {
  sqlite3_stmt* stmt = nullptr;
  int plan = plan_all;
  std::optional<result_set_reader> reader;
  result_record row;
  std::int64_t run_id = 0;
  std::optional<std::int64_t> want_id, want_device, want_benchmark;
  bool eof = true;

  results_table& table() const { return *static_cast<results_table*>(pVtab); }
  void release() {
    reader.reset();
    if (!stmt) return;
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    table().idle[static_cast<std::size_t>(plan)].push_back(stmt);
    stmt = nullptr;
  }
  ~results_cursor() { release(); }
};

int fail(sqlite3_vtab* tab, const std::string& message) {
  sqlite3_free(tab->zErrMsg);
  tab->zErrMsg = sqlite3_mprintf("%s", message.c_str());
  return SQLITE_ERROR;
}

// The integer an equality constraint's value compares equal to, if any (a column here holds only
// integers: text that reads as a number counts, as SQLite's INTEGER affinity makes it).
std::optional<std::int64_t> integral(sqlite3_value* v) {
  switch (sqlite3_value_numeric_type(v)) {
    case SQLITE_INTEGER: return sqlite3_value_int64(v);
    case SQLITE_FLOAT: {
      const double d = sqlite3_value_double(v);
      if (d >= -9.2e18 && d <= 9.2e18 && d == static_cast<double>(static_cast<std::int64_t>(d)))
        return static_cast<std::int64_t>(d);
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

int connect(sqlite3* db, void*, int, const char* const*, sqlite3_vtab** out, char** error_text) {
  if (const int rc = sqlite3_declare_vtab(db, declaration); rc != SQLITE_OK) {
    *error_text = sqlite3_mprintf("%s", sqlite3_errmsg(db));
    return rc;
  }
  auto* t = new (std::nothrow) results_table;
  if (!t) return SQLITE_NOMEM;
  t->db = db;
  *out = t;
  return SQLITE_OK;
}

int disconnect(sqlite3_vtab* tab) {
  delete static_cast<results_table*>(tab);
  return SQLITE_OK;
}

// Plans by the most selective equality on id (or rowid), run_id or device_id; an equality on
// benchmark_id is checked as records are read, without decoding the others. The costs only rank
// the plans for SQLite's planner: a run holds tens of results, a device hundreds of runs.
int best_index(sqlite3_vtab*, sqlite3_index_info* info) {
  int key = -1;
  int key_plan = plan_all;
  int bench = -1;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (!c.usable || c.op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    const int col = c.iColumn < 0 ? col_id : c.iColumn;
    const int p = col == col_id          ? plan_id
                  : col == col_run_id    ? plan_run
                  : col == col_device_id ? plan_device
                                         : plan_all;
    if (col == col_benchmark_id && bench < 0) bench = i;
    // plan_id before plan_run before plan_device.
    const auto rank = [](int q) { return q == plan_id ? 3 : q == plan_run ? 2 : q == plan_device; };
    if (p != plan_all && rank(p) > rank(key_plan)) {
      key = i;
      key_plan = p;
    }
  }
  int arg = 0;
  if (key >= 0) {
    info->aConstraintUsage[key].argvIndex = ++arg;
    info->aConstraintUsage[key].omit = 1;
  }
  if (bench >= 0) {
    info->aConstraintUsage[bench].argvIndex = ++arg;
    info->aConstraintUsage[bench].omit = 1;
  }
  double rows = key_plan == plan_id       ? 1
                : key_plan == plan_run    ? 30
                : key_plan == plan_device ? 1e4
                                          : 1e7;
  double cost = key_plan == plan_id       ? 10
                : key_plan == plan_run    ? 60
                : key_plan == plan_device ? 2e4
                                          : 2e7;
  if (bench >= 0 && key_plan != plan_id) {
    rows = std::max(1.0, rows / 30);
    cost *= 0.9;
  }
  info->idxNum = key_plan | (bench >= 0 ? benchmark_filter : 0);
  info->estimatedRows = static_cast<sqlite3_int64>(rows);
  info->estimatedCost = cost;
  if (key_plan == plan_id) info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
  return SQLITE_OK;
}

int open_cursor(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  auto* c = new (std::nothrow) results_cursor;
  if (!c) return SQLITE_NOMEM;
  *out = c;
  return SQLITE_OK;
}

int close_cursor(sqlite3_vtab_cursor* cur) {
  delete static_cast<results_cursor*>(cur);
  return SQLITE_OK;
}

// Moves to the next record the scan selects, stepping to the next result set as one runs out.
int advance(results_cursor& c) {
  try {
    for (;;) {
      if (c.reader) {
        std::int64_t device = 0;
        std::int64_t benchmark = 0;
        while (c.reader->peek(device, benchmark)) {
          if ((c.want_device && device != *c.want_device) ||
              (c.want_benchmark && benchmark != *c.want_benchmark)) {
            c.reader->skip();
            continue;
          }
          c.reader->next(c.row);
          if (c.want_id && c.row.id != *c.want_id) continue;
          return SQLITE_OK;
        }
        c.reader.reset();
      }
      const int rc = sqlite3_step(c.stmt);
      if (rc == SQLITE_DONE) {
        c.eof = true;
        return SQLITE_OK;
      }
      if (rc != SQLITE_ROW)
        return fail(c.pVtab, fmt::format("reading result_sets: {}", sqlite3_errmsg(c.table().db)));
      c.run_id = sqlite3_column_int64(c.stmt, 0);
      const auto* bytes = static_cast<const unsigned char*>(sqlite3_column_blob(c.stmt, 2));
      const auto size = static_cast<std::size_t>(sqlite3_column_bytes(c.stmt, 2));
      c.reader.emplace(std::span<const unsigned char>(bytes, size),
                       sqlite3_column_int64(c.stmt, 1));
    }
  } catch (const std::exception& e) {
    return fail(c.pVtab, fmt::format("run {}: {}", c.run_id, e.what()));
  }
}

int filter(sqlite3_vtab_cursor* cur, int idx, const char*, int argc, sqlite3_value** argv) {
  auto& c = *static_cast<results_cursor*>(cur);
  c.release();
  c.want_id.reset();
  c.want_device.reset();
  c.want_benchmark.reset();
  c.eof = false;
  c.plan = idx & ~benchmark_filter;
  int arg = 0;
  std::optional<std::int64_t> key;
  if (c.plan != plan_all) {
    if (arg >= argc || !(key = integral(argv[arg++]))) {
      c.eof = true;  // compares equal to no integer: no row
      return SQLITE_OK;
    }
  }
  if (idx & benchmark_filter) {
    if (arg >= argc || !(c.want_benchmark = integral(argv[arg++]))) {
      c.eof = true;
      return SQLITE_OK;
    }
  }
  if (c.plan == plan_id) c.want_id = key;
  if (c.plan == plan_device) c.want_device = key;

  auto& idle = c.table().idle[static_cast<std::size_t>(c.plan)];
  if (!idle.empty()) {
    c.stmt = idle.back();
    idle.pop_back();
  } else if (sqlite3_prepare_v3(c.table().db, plan_sql[static_cast<std::size_t>(c.plan)], -1,
                                SQLITE_PREPARE_PERSISTENT, &c.stmt, nullptr) != SQLITE_OK) {
    c.stmt = nullptr;
    return fail(cur->pVtab,
                fmt::format("cannot read result_sets: {}", sqlite3_errmsg(c.table().db)));
  }
  if (key) sqlite3_bind_int64(c.stmt, 1, *key);
  return advance(c);
}

int next(sqlite3_vtab_cursor* cur) { return advance(*static_cast<results_cursor*>(cur)); }

int eof(sqlite3_vtab_cursor* cur) { return static_cast<results_cursor*>(cur)->eof ? 1 : 0; }

void result_text(sqlite3_context* ctx, std::string_view v) {
  sqlite3_result_text64(ctx, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}
void result_real(sqlite3_context* ctx, const std::optional<double>& v) {
  if (v) sqlite3_result_double(ctx, *v);
  else sqlite3_result_null(ctx);
}
void result_blob(sqlite3_context* ctx, const std::optional<std::span<const unsigned char>>& v) {
  if (v) sqlite3_result_blob64(ctx, v->data(), v->size(), SQLITE_TRANSIENT);
  else sqlite3_result_null(ctx);
}

int column(sqlite3_vtab_cursor* cur, sqlite3_context* ctx, int col) {
  const auto& c = *static_cast<results_cursor*>(cur);
  const auto& r = c.row;
  switch (col) {
    case col_id: sqlite3_result_int64(ctx, r.id); break;
    case col_run_id: sqlite3_result_int64(ctx, c.run_id); break;
    case col_device_id: sqlite3_result_int64(ctx, r.device_id); break;
    case col_benchmark_id: sqlite3_result_int64(ctx, r.benchmark_id); break;
    case col_status: result_text(ctx, r.status); break;
    case col_reason: result_text(ctx, r.reason); break;
    case col_verified: sqlite3_result_int(ctx, r.verified ? 1 : 0); break;
    case col_suspect: sqlite3_result_int(ctx, r.suspect ? 1 : 0); break;
    case col_suspect_reasons:
      if (r.suspect_reasons) result_text(ctx, *r.suspect_reasons);
      else sqlite3_result_null(ctx);
      break;
    case col_stop_reason: result_text(ctx, r.stop_reason); break;
    case col_median: sqlite3_result_double(ctx, r.median); break;
    case col_min: sqlite3_result_double(ctx, r.min); break;
    case col_max: sqlite3_result_double(ctx, r.max); break;
    case col_q1: sqlite3_result_double(ctx, r.q1); break;
    case col_q3: sqlite3_result_double(ctx, r.q3); break;
    case col_cv: sqlite3_result_double(ctx, r.cv); break;
    case col_sample_count: sqlite3_result_int64(ctx, r.sample_count); break;
    case col_clock_mhz: result_real(ctx, r.clock_mhz); break;
    case col_throttled_samples: sqlite3_result_int64(ctx, r.throttled_samples); break;
    case col_theoretical: result_real(ctx, r.theoretical); break;
    case col_fraction: result_real(ctx, r.fraction); break;
    case col_rates: result_blob(ctx, r.rates); break;
    case col_clocks: result_blob(ctx, r.clocks); break;
    default: sqlite3_result_null(ctx);
  }
  return SQLITE_OK;
}

int rowid(sqlite3_vtab_cursor* cur, sqlite3_int64* out) {
  *out = static_cast<results_cursor*>(cur)->row.id;
  return SQLITE_OK;
}

// Read-only: ingest writes result_sets itself.
const sqlite3_module results_module = {
    /* iVersion */ 0,
    /* xCreate */ connect,
    /* xConnect */ connect,
    /* xBestIndex */ best_index,
    /* xDisconnect */ disconnect,
    /* xDestroy */ disconnect,
    /* xOpen */ open_cursor,
    /* xClose */ close_cursor,
    /* xFilter */ filter,
    /* xNext */ next,
    /* xEof */ eof,
    /* xColumn */ column,
    /* xRowid */ rowid,
    /* xUpdate */ nullptr,
    /* xBegin */ nullptr,
    /* xSync */ nullptr,
    /* xCommit */ nullptr,
    /* xRollback */ nullptr,
    /* xFindFunction */ nullptr,
    /* xRename */ nullptr,
    /* xSavepoint */ nullptr,
    /* xRelease */ nullptr,
    /* xRollbackTo */ nullptr,
    /* xShadowName */ nullptr,
};

// ---- the aggregate chipgauge_pack_results (migration 5) ----

// One result row of a schema-4 store, its text and BLOBs copied.
struct stored_row {
  std::int64_t id = 0, device_id = 0, benchmark_id = 0;
  std::string status, reason, stop_reason;
  std::optional<std::string> suspect_reasons;
  bool verified = false, suspect = false;
  double median = 0, min = 0, max = 0, q1 = 0, q3 = 0, cv = 0;
  std::int64_t sample_count = 0, throttled_samples = 0;
  std::optional<double> clock_mhz, theoretical, fraction;
  std::optional<std::vector<unsigned char>> rates, clocks;
};

std::string text_of(sqlite3_value* v) {
  const auto* p = sqlite3_value_text(v);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_value_bytes(v)))
           : std::string();
}
std::optional<double> real_of(sqlite3_value* v) {
  if (sqlite3_value_type(v) == SQLITE_NULL) return std::nullopt;
  return sqlite3_value_double(v);
}
std::optional<std::vector<unsigned char>> blob_of(sqlite3_value* v) {
  if (sqlite3_value_type(v) == SQLITE_NULL) return std::nullopt;
  const auto* p = static_cast<const unsigned char*>(sqlite3_value_blob(v));
  return p ? std::vector<unsigned char>(p, p + sqlite3_value_bytes(v))
           : std::vector<unsigned char>();
}

constexpr int pack_arguments = 22;

std::vector<stored_row>*& pack_state(sqlite3_context* ctx, bool create) {
  static std::vector<stored_row>* none = nullptr;
  auto** p = static_cast<std::vector<stored_row>**>(
      sqlite3_aggregate_context(ctx, create ? static_cast<int>(sizeof(void*)) : 0));
  return p ? *p : none;
}

void pack_step(sqlite3_context* ctx, int argc, sqlite3_value** v) {
  if (argc != pack_arguments) {
    sqlite3_result_error(ctx, "chipgauge_pack_results takes 22 arguments", -1);
    return;
  }
  auto*& rows = pack_state(ctx, true);
  try {
    if (!rows) rows = new std::vector<stored_row>;
    stored_row r;
    r.id = sqlite3_value_int64(v[0]);
    r.device_id = sqlite3_value_int64(v[1]);
    r.benchmark_id = sqlite3_value_int64(v[2]);
    r.status = text_of(v[3]);
    r.reason = text_of(v[4]);
    r.verified = sqlite3_value_int64(v[5]) != 0;
    r.suspect = sqlite3_value_int64(v[6]) != 0;
    if (sqlite3_value_type(v[7]) != SQLITE_NULL) r.suspect_reasons = text_of(v[7]);
    r.stop_reason = text_of(v[8]);
    r.median = sqlite3_value_double(v[9]);
    r.min = sqlite3_value_double(v[10]);
    r.max = sqlite3_value_double(v[11]);
    r.q1 = sqlite3_value_double(v[12]);
    r.q3 = sqlite3_value_double(v[13]);
    r.cv = sqlite3_value_double(v[14]);
    r.sample_count = sqlite3_value_int64(v[15]);
    r.clock_mhz = real_of(v[16]);
    r.throttled_samples = sqlite3_value_int64(v[17]);
    r.theoretical = real_of(v[18]);
    r.fraction = real_of(v[19]);
    r.rates = blob_of(v[20]);
    r.clocks = blob_of(v[21]);
    rows->push_back(std::move(r));
  } catch (const std::exception& e) {
    sqlite3_result_error(ctx, e.what(), -1);
  }
}

void pack_final(sqlite3_context* ctx) {
  std::unique_ptr<std::vector<stored_row>> rows(pack_state(ctx, false));
  if (!rows || rows->empty()) {
    sqlite3_result_null(ctx);
    return;
  }
  try {
    std::sort(rows->begin(), rows->end(),
              [](const stored_row& a, const stored_row& b) { return a.id < b.id; });
    const std::int64_t first = rows->front().id;
    result_set_writer w;
    for (const auto& s : *rows) {
      result_record r;
      r.id = s.id;
      r.device_id = s.device_id;
      r.benchmark_id = s.benchmark_id;
      r.status = s.status;
      r.reason = s.reason;
      r.verified = s.verified;
      r.suspect = s.suspect;
      if (s.suspect_reasons) r.suspect_reasons = *s.suspect_reasons;
      r.stop_reason = s.stop_reason;
      r.median = s.median;
      r.min = s.min;
      r.max = s.max;
      r.q1 = s.q1;
      r.q3 = s.q3;
      r.cv = s.cv;
      r.sample_count = s.sample_count;
      r.clock_mhz = s.clock_mhz;
      r.throttled_samples = s.throttled_samples;
      r.theoretical = s.theoretical;
      r.fraction = s.fraction;
      if (s.rates) r.rates = std::span<const unsigned char>(*s.rates);
      if (s.clocks) r.clocks = std::span<const unsigned char>(*s.clocks);
      w.add(r, first);
    }
    sqlite3_result_blob64(ctx, w.bytes().data(), w.bytes().size(), SQLITE_TRANSIENT);
  } catch (const std::exception& e) {
    sqlite3_result_error(ctx, e.what(), -1);
  }
}

}  // namespace

int register_result_sets(sqlite3* db) {
  if (const int rc =
          sqlite3_create_module_v2(db, "chipgauge_results", &results_module, nullptr, nullptr);
      rc != SQLITE_OK)
    return rc;
  return sqlite3_create_function_v2(db, "chipgauge_pack_results", pack_arguments, SQLITE_UTF8,
                                    nullptr, nullptr, pack_step, pack_final, nullptr);
}

void attach_results_table(sqlite3* db, const std::string& file) {
  sqlite3_stmt* st = nullptr;
  int sets = 0;
  int results = 0;
  // A schema that cannot be read is an error here, not a store without `results`.
  if (sqlite3_prepare_v2(db,
                         "SELECT count(*) FILTER (WHERE name = 'result_sets'), count(*) FILTER "
                         "(WHERE name = 'results') FROM main.sqlite_schema WHERE type = 'table'",
                         -1, &st, nullptr) != SQLITE_OK ||
      sqlite3_step(st) != SQLITE_ROW) {
    const std::string text = sqlite3_errmsg(db);
    sqlite3_finalize(st);
    throw error(fmt::format("history {}: cannot read the schema: {}", file, text));
  }
  sets = sqlite3_column_int(st, 0);
  results = sqlite3_column_int(st, 1);
  sqlite3_finalize(st);
  if (sets == 0 || results != 0) return;
  char* message = nullptr;
  if (sqlite3_exec(db, "CREATE VIRTUAL TABLE IF NOT EXISTS temp.results USING chipgauge_results",
                   nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string text = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    throw error(fmt::format("history {}: cannot create the table results: {}", file, text));
  }
}

}  // namespace chipgauge::history::detail
