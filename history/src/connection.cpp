// What both backends of the history store share (connection.hpp): binding and reading doubles,
// the BLOB encoding of samples, transactions and the statement cache.
#include "connection.hpp"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstring>

namespace chipgauge::history::detail {

statement& statement::bind(int i, double v) {
  if (std::isnan(v)) s_->bind_null(i);
  else s_->bind_real(i, v);
  return *this;
}

std::vector<double> statement::doubles(int col) const {
  const auto bytes = s_->blob(col);
  const std::size_t n = bytes.size() / 8;
  std::vector<double> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t bits = 0;
    for (int b = 7; b >= 0; --b) bits = (bits << 8) | bytes[i * 8 + static_cast<std::size_t>(b)];
    out[i] = std::bit_cast<double>(bits);
  }
  return out;
}

std::vector<unsigned char> to_blob(std::span<const double> values) {
  std::vector<unsigned char> out;
  to_blob(values, out);
  return out;
}

std::vector<unsigned char>& to_blob(std::span<const double> values,
                                    std::vector<unsigned char>& out) {
  out.resize(values.size() * 8);
  if constexpr (std::endian::native == std::endian::little) {
    if (!values.empty()) std::memcpy(out.data(), values.data(), out.size());
    return out;
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    auto bits = std::bit_cast<std::uint64_t>(values[i]);
    for (int b = 0; b < 8; ++b) {
      out[i * 8 + static_cast<std::size_t>(b)] = static_cast<unsigned char>(bits & 0xff);
      bits >>= 8;
    }
  }
  return out;
}

namespace {
// The savepoint a transaction inside a write_batch is; transactions do not nest further.
constexpr const char* savepoint = "chipgauge_ingest";

// After a rollback, the ids cached during the undone writes may name rows that no longer exist.
void forget_ids(store::impl& s) {
  s.device_ids.clear();
  s.benchmark_ids.clear();
  s.next_result_id.reset();
}

// SAVEPOINT and RELEASE, run once per file of a batch: on SQLite a cached prepared statement
// (sqlite3_exec would parse the text each time); PostgreSQL cannot prepare them.
void run_savepoint_statement(store::impl& s, const char* verb) {
  const std::string sql = fmt::format("{} {}", verb, savepoint);
  if (s.db->kind() == backend_kind::sqlite) s.prepare(sql).run();
  else s.db->exec(sql);
}
}  // namespace

transaction::transaction(store::impl& s) : s_(&s), nested_(s.batch_open) {
  if (nested_) {
    run_savepoint_statement(s, "SAVEPOINT");
  } else {
    s_->db->begin();
    s_->next_result_id.reset();  // another connection may have written since the last one
  }
}

transaction::~transaction() {
  if (done_) return;
  // Rolling back cannot fail in a way the caller could act on.
  if (nested_) {
    try {
      s_->db->exec(fmt::format("ROLLBACK TO SAVEPOINT {0}; RELEASE SAVEPOINT {0}", savepoint));
    } catch (...) {
      // The file's rows may still be in the batch: it must not commit (write_batch::commit).
      s_->batch_poisoned = true;
    }
  } else {
    s_->db->rollback();
  }
  forget_ids(*s_);
}

void transaction::commit() {
  if (nested_) run_savepoint_statement(*s_, "RELEASE SAVEPOINT");
  else s_->db->commit();
  done_ = true;
}

}  // namespace chipgauge::history::detail

namespace chipgauge::history {

write_batch::write_batch(store& st) : s_(&st.internals()) {
  if (s_->batch_open)
    throw error(fmt::format("{}: a write batch is already open on this connection", s_->path));
  s_->db->begin();
  s_->next_result_id.reset();
  s_->batch_open = true;
  s_->batch_poisoned = false;
}

write_batch::~write_batch() {
  if (!s_->batch_open) return;
  s_->batch_open = false;
  s_->db->rollback();
  detail::forget_ids(*s_);
}

void write_batch::commit() {
  if (!s_->batch_open)
    throw error(fmt::format("{}: the write batch was committed already", s_->path));
  s_->batch_open = false;  // a failed commit has rolled back: the batch is over either way
  if (s_->batch_poisoned) {
    s_->db->rollback();
    detail::forget_ids(*s_);
    throw error(fmt::format(
        "{}: a file of the batch could not be undone; the whole batch was rolled back", s_->path));
  }
  try {
    s_->db->commit();
  } catch (...) {
    s_->db->rollback();  // a COMMIT that failed may have left the transaction open
    detail::forget_ids(*s_);
    throw;
  }
}

}  // namespace chipgauge::history

namespace chipgauge::history::detail {

std::string redact_url(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const auto start = scheme + 3;
  const auto at = url.find('@', start);
  const auto slash = url.find('/', start);
  if (at == std::string_view::npos || (slash != std::string_view::npos && slash < at))
    return std::string(url);
  const auto colon = url.find(':', start);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

}  // namespace chipgauge::history::detail

namespace chipgauge::history {

store::impl::~impl() {
  // Statements before the connection they belong to.
  cache.clear();
  db.reset();
}

detail::statement& store::impl::prepare(const std::string& sql) {
  auto it = cache.find(sql);
  if (it == cache.end()) it = cache.emplace(sql, detail::statement(*db, sql, true)).first;
  return it->second.reset();
}

}  // namespace chipgauge::history
